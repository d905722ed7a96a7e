// SPDX-License-Identifier: GPL-2.0
/*
 * main.c - adma_hostile: finds apple-dma-pci (and an lsi53c895a, for the
 * bql test), enables them without binding a driver, and runs one test per
 * write to debugfs:
 *
 *   echo "race ms=3000 maps=32 [lossy=1]" > /sys/kernel/debug/adma_hostile/run
 *   echo "bql rounds=16 blocks=4 bigmaps=256" > .../adma_hostile/run
 *   echo "leave maps=32" > .../adma_hostile/run   (maps, never unmaps)
 *   cat /sys/kernel/debug/adma_hostile/result      (one key=value line)
 *
 * The write returns when the test is over (-EIO if it failed). race.c and
 * bql.c say what each test does. apple_dma must not be loaded.
 */
#include <linux/debugfs.h>
#include <linux/io.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/uaccess.h>

#include "hostile.h"

#define HST_LSI_VENDOR		0x1000	/* LSI Logic */
#define HST_LSI_DEVICE		0x0012	/* 53C895A */
#define HST_PARAMS_MAX		256

static struct hst_ctx hst;
static struct dentry *hst_dbg;
static DEFINE_MUTEX(hst_lock);		/* one test at a time */

/* "NAME k=v ..." -> the test to run; unknown keys are an error */
static int hst_parse(char *line, struct hst_params *p, char **name)
{
	static const char * const keys[] = { "ms", "maps", "rounds", "bigmaps",
					     "blocks", "windows", "lossy" };
	u32 *vals[] = { &p->ms, &p->maps, &p->rounds, &p->bigmaps, &p->blocks,
			&p->windows, &p->lossy };
	char *word, *eq;
	size_t i;

	*p = (struct hst_params){ .ms = 3000, .maps = 32, .rounds = 16,
				  .bigmaps = 256, .blocks = 4, .windows = 8 };
	*name = strsep(&line, " \t\n");
	while ((word = strsep(&line, " \t\n"))) {
		if (!*word)
			continue;
		eq = strchr(word, '=');
		if (!eq)
			return -EINVAL;
		*eq = 0;
		for (i = 0; i < ARRAY_SIZE(keys); i++)
			if (!strcmp(word, keys[i]))
				break;
		if (i == ARRAY_SIZE(keys) || kstrtou32(eq + 1, 0, vals[i]))
			return -EINVAL;
	}
	if (!p->ms || !p->maps || !p->rounds || !p->bigmaps || !p->blocks ||
	    p->maps > ADMA_MAX_BATCH || p->bigmaps > ADMA_MAX_BATCH)
		return -EINVAL;
	return 0;
}

static ssize_t hst_run_write(struct file *f, const char __user *ubuf,
			     size_t len, loff_t *off)
{
	char buf[HST_PARAMS_MAX], *name;
	u32 max_batch;
	int err;

	if (len >= sizeof(buf))
		return -EINVAL;
	if (copy_from_user(buf, ubuf, len))
		return -EFAULT;
	buf[len] = 0;
	mutex_lock(&hst_lock);
	err = hst_parse(buf, &hst.p, &name);
	max_batch = readl(hst.regs + ADMA_REG_MAX_BATCH);
	if (!err && (hst.p.maps > max_batch || hst.p.bigmaps > max_batch))
		err = -E2BIG;
	if (err) {
		snprintf(hst.result, sizeof(hst.result),
			 "status=fail why=bad_params max_batch=%u", max_batch);
	} else if (!strcmp(name, "race")) {
		err = hst_run_race(&hst);
	} else if (!strcmp(name, "bql")) {
		err = hst_run_bql(&hst);
	} else if (!strcmp(name, "leave")) {
		err = hst_run_leave(&hst);
	} else {
		snprintf(hst.result, sizeof(hst.result),
			 "status=fail why=unknown_test");
		err = -EINVAL;
	}
	mutex_unlock(&hst_lock);
	return err ? err : len;
}

static ssize_t hst_result_read(struct file *f, char __user *ubuf,
			       size_t len, loff_t *off)
{
	char line[HST_RESULT_MAX + 1];
	size_t n;

	mutex_lock(&hst_lock);
	n = scnprintf(line, sizeof(line), "%s\n", hst.result);
	mutex_unlock(&hst_lock);
	return simple_read_from_buffer(ubuf, len, off, line, n);
}

static const struct file_operations hst_run_fops = {
	.owner = THIS_MODULE,
	.write = hst_run_write,
};

static const struct file_operations hst_result_fops = {
	.owner = THIS_MODULE,
	.read = hst_result_read,
};

/* enable memory decoding and bus mastering; map BAR @bar */
static void __iomem *hst_take(struct pci_dev *pdev, int bar)
{
	void __iomem *regs;

	if (pci_enable_device_mem(pdev))
		return NULL;
	pci_set_master(pdev);
	regs = pci_iomap(pdev, bar, 0);
	if (!regs)
		pci_disable_device(pdev);
	return regs;
}

static void hst_give_back(struct pci_dev *pdev, void __iomem *regs)
{
	if (!pdev)
		return;
	if (regs) {
		pci_iounmap(pdev, regs);
		pci_clear_master(pdev);
		pci_disable_device(pdev);
	}
	pci_dev_put(pdev);
}

static int __init hst_init(void)
{
	hst.adma = pci_get_device(ADMA_PCI_VENDOR_ID, ADMA_PCI_DEVICE_ID, NULL);
	if (!hst.adma) {
		pr_err(HST_NAME ": no apple-dma-pci\n");
		return -ENODEV;
	}
	if (hst.adma->driver) {
		pr_err(HST_NAME ": apple-dma-pci is bound to %s: unload it\n",
		       hst.adma->driver->name);
		pci_dev_put(hst.adma);
		return -EBUSY;
	}
	hst.regs = hst_take(hst.adma, 0);
	if (!hst.regs ||
	    readl(hst.regs + ADMA_REG_MAGIC) != ADMA_MAGIC_VALUE) {
		pr_err(HST_NAME ": apple-dma-pci BAR0 unusable\n");
		hst_give_back(hst.adma, hst.regs);
		return -EIO;
	}
	hst.doorbell = pci_resource_start(hst.adma, 0) + ADMA_REG_DOORBELL;
	hst.lsi = pci_get_device(HST_LSI_VENDOR, HST_LSI_DEVICE, NULL);
	if (hst.lsi && !hst.lsi->driver)
		hst.lsi_regs = hst_take(hst.lsi, 1);
	snprintf(hst.result, sizeof(hst.result), "status=none");
	hst_dbg = debugfs_create_dir(HST_NAME, NULL);
	debugfs_create_file("run", 0200, hst_dbg, NULL, &hst_run_fops);
	debugfs_create_file("result", 0444, hst_dbg, NULL, &hst_result_fops);
	pr_info(HST_NAME ": apple-dma-pci %s, lsi53c895a %s\n",
		pci_name(hst.adma), hst.lsi_regs ? pci_name(hst.lsi) : "none");
	return 0;
}

static void __exit hst_exit(void)
{
	debugfs_remove_recursive(hst_dbg);
	hst_give_back(hst.lsi, hst.lsi_regs);
	hst_give_back(hst.adma, hst.regs);
}

module_init(hst_init);
module_exit(hst_exit);

MODULE_DESCRIPTION("Hostile guest of apple-dma-pci: concurrent doorbells, doorbells from another device's DMA (tests only)");
MODULE_AUTHOR("egpu-vm");
MODULE_LICENSE("GPL");
