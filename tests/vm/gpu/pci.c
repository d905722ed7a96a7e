// SPDX-License-Identifier: GPL-2.0
/*
 * pci.c - simgpu_test: binding the simgpu function, its interrupts, its
 * reset, and the debugfs files that start a run and report it:
 *
 *   echo "mib=256 seed=7 flr_at=128" > /sys/kernel/debug/simgpu_test/run
 *   cat /sys/kernel/debug/simgpu_test/result     (one key=value line)
 *
 * The write returns when the run is over (-EIO if it failed). run.c says
 * what a run does. One simgpu function is driven at a time.
 *
 * The engine's DMA addresses must be host (DART) mappings, so by default
 * the driver refuses a function without per-device DMA ops: on a Mac, the
 * engine's first access through a direct-mapped address would be a DART
 * fault, which panics the host. Load apple_dma first.
 */
#include <linux/debugfs.h>
#include <linux/delay.h>
#include <linux/dma-map-ops.h>
#include <linux/interrupt.h>
#include <linux/io.h>
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/uaccess.h>

#include "simgpu_test.h"

#define SGT_PARAMS_MAX	512
#define SGT_SCRATCH	0x5eed0f1bu

static bool need_dma_ops = true;
module_param(need_dma_ops, bool, 0444);
MODULE_PARM_DESC(need_dma_ops,
		 "Refuse a function without per-device DMA ops, i.e. not managed by apple_dma (default: yes)");

static atomic_t sgt_bound = ATOMIC_INIT(0);

static irqreturn_t sgt_irq(int irq, void *data)
{
	struct sgt_vec *v = data;
	struct sgt_dev *g = v->g;
	u32 st;

	atomic64_inc(&g->irqs[v->idx]);
	if (v->idx) {			/* a fence vector */
		complete(&g->done);
		return IRQ_HANDLED;
	}
	/* vector 0: errors, and fences when it is the only vector */
	st = readl(g->regs + SIMGPU_REG_IRQ_STATUS);
	writel(st, g->regs + SIMGPU_REG_IRQ_STATUS);
	if (st & SIMGPU_IRQ_ERROR)
		atomic_set(&g->engine_error, 1);
	if ((st & SIMGPU_IRQ_ERROR) || (g->nvec == 1 && (st & SIMGPU_IRQ_FENCE)))
		complete(&g->done);
	return IRQ_HANDLED;
}

/*
 * Function-level reset in the middle of a run, as a GPU driver recovers a
 * hung engine: the PCI core saves and restores config space (BARs, MSI-X,
 * bus mastering); the engine forgets its ring, so it is programmed again.
 * A trylock: remove() may hold the device lock while it waits for this run.
 */
int sgt_flr(struct sgt_dev *g)
{
	struct device *dev = &g->pdev->dev;
	int ret = -EAGAIN, tries;
	u32 scratch;

	writel(SGT_SCRATCH, g->regs + SIMGPU_REG_SCRATCH);
	for (tries = 0; tries < 50 && ret == -EAGAIN; tries++) {
		ret = pci_try_reset_function(g->pdev);
		if (ret == -EAGAIN)
			msleep(20);
	}
	if (ret) {
		dev_err(dev, "pci_try_reset_function: %d\n", ret);
		return ret;
	}
	scratch = readl(g->regs + SIMGPU_REG_SCRATCH);
	if (scratch) {
		dev_err(dev, "SCRATCH reads %#x after the reset: the function was not reset\n",
			scratch);
		return -EIO;
	}
	g->cnt.flrs++;
	ret = sgt_engine_start(g);
	if (ret)
		return ret;
	dev_info(dev, "function reset; engine programmed again\n");
	return 0;
}

static ssize_t sgt_run_write(struct file *file, const char __user *ubuf,
			     size_t len, loff_t *ppos)
{
	struct sgt_dev *g = file->private_data;
	char *buf;
	int ret;

	if (len >= SGT_PARAMS_MAX)
		return -EINVAL;
	buf = memdup_user_nul(ubuf, len);
	if (IS_ERR(buf))
		return PTR_ERR(buf);
	mutex_lock(&g->lock);
	ret = sgt_run(g, buf);
	if (ret)
		dev_err(&g->pdev->dev, "run failed: %s", g->result);
	mutex_unlock(&g->lock);
	kfree(buf);
	return ret ? ret : len;
}

static ssize_t sgt_result_read(struct file *file, char __user *ubuf,
			       size_t len, loff_t *ppos)
{
	struct sgt_dev *g = file->private_data;
	ssize_t ret;

	mutex_lock(&g->lock);
	ret = simple_read_from_buffer(ubuf, len, ppos, g->result,
				      strlen(g->result));
	mutex_unlock(&g->lock);
	return ret;
}

static const struct file_operations sgt_run_fops = {
	.owner = THIS_MODULE,
	.open = simple_open,
	.write = sgt_run_write,
};

static const struct file_operations sgt_result_fops = {
	.owner = THIS_MODULE,
	.open = simple_open,
	.read = sgt_result_read,
	.llseek = default_llseek,
};

/* Undo whatever probe did, in reverse; safe on a partial probe. */
static void sgt_release(struct sgt_dev *g)
{
	struct pci_dev *pdev = g->pdev;
	int i;

	if (g->fence)
		dma_free_coherent(&pdev->dev, PAGE_SIZE, g->fence,
				  g->fence_dma);
	if (g->ring)
		dma_free_coherent(&pdev->dev,
				  SGT_RING_ENTRIES * sizeof(*g->ring),
				  g->ring, g->ring_dma);
	for (i = 0; i < g->nvec; i++)
		if (g->vec[i].g)
			free_irq(pci_irq_vector(pdev, i), &g->vec[i]);
	if (g->nvec > 0)
		pci_free_irq_vectors(pdev);
	if (g->vram)
		pci_iounmap(pdev, g->vram);
	if (g->regs)
		pci_iounmap(pdev, g->regs);
	kfree(g);
}

static int sgt_map_bars(struct sgt_dev *g)
{
	struct pci_dev *pdev = g->pdev;
	struct device *dev = &pdev->dev;
	u64 vram;

	if (!(pci_resource_flags(pdev, SIMGPU_BAR_REGS) & IORESOURCE_MEM) ||
	    pci_resource_len(pdev, SIMGPU_BAR_REGS) < SIMGPU_REGS_SIZE ||
	    !(pci_resource_flags(pdev, SIMGPU_BAR_VRAM) & IORESOURCE_MEM)) {
		dev_err(dev, "BAR0 (registers) or BAR2 (VRAM) missing or too small\n");
		return -ENODEV;
	}
	g->regs = pci_iomap(pdev, SIMGPU_BAR_REGS, SIMGPU_REGS_SIZE);
	g->vram = pci_iomap_wc(pdev, SIMGPU_BAR_VRAM, 0);
	if (!g->regs || !g->vram)
		return -ENOMEM;
	if (readl(g->regs + SIMGPU_REG_ID) != SIMGPU_ID_VALUE) {
		dev_err(dev, "ID register reads %#x, not simgpu's %#x\n",
			readl(g->regs + SIMGPU_REG_ID), SIMGPU_ID_VALUE);
		return -ENODEV;
	}
	g->version = readl(g->regs + SIMGPU_REG_VERSION);
	if (g->version >> 16 != SIMGPU_VERSION_VALUE >> 16) {
		dev_err(dev, "simgpu version %#x, this driver knows %#x\n",
			g->version, SIMGPU_VERSION_VALUE);
		return -ENODEV;
	}
	vram = readl(g->regs + SIMGPU_REG_VRAM_LO) |
	       (u64)readl(g->regs + SIMGPU_REG_VRAM_HI) << 32;
	g->vram_size = min_t(u64, vram, pci_resource_len(pdev, SIMGPU_BAR_VRAM));
	if (g->vram_size < SZ_64K) {
		dev_err(dev, "VRAM of %llu bytes (BAR2 %llu): too small\n",
			vram, (u64)pci_resource_len(pdev, SIMGPU_BAR_VRAM));
		return -ENODEV;
	}
	return 0;
}

static int sgt_setup_irqs(struct sgt_dev *g)
{
	struct pci_dev *pdev = g->pdev;
	u32 hw = readl(g->regs + SIMGPU_REG_MSIX_VECS);
	int i, ret;

	g->nvec = pci_alloc_irq_vectors(pdev, 1,
					clamp_t(u32, hw, 1, SGT_MAX_VECS),
					PCI_IRQ_MSIX);
	if (g->nvec < 0) {
		ret = g->nvec;
		g->nvec = 0;
		dev_err(&pdev->dev, "no MSI-X (%u vectors offered): %d\n",
			hw, ret);
		return ret;
	}
	for (i = 0; i < g->nvec; i++) {
		snprintf(g->vec[i].name, sizeof(g->vec[i].name), "%s-v%d",
			 SGT_DRV_NAME, i);
		g->vec[i].idx = i;
		ret = request_irq(pci_irq_vector(pdev, i), sgt_irq, 0,
				  g->vec[i].name, &g->vec[i]);
		if (ret)
			return ret;
		g->vec[i].g = g;	/* marks it for free_irq */
	}
	return 0;
}

static int sgt_probe(struct pci_dev *pdev, const struct pci_device_id *id)
{
	struct device *dev = &pdev->dev;
	struct sgt_dev *g;
	int ret;

	if (need_dma_ops && !get_dma_ops(dev)) {
		dev_err(dev, "no per-device DMA ops: load apple_dma first (the engine's addresses must be host mappings), or need_dma_ops=0\n");
		return -ENODEV;
	}
	if (atomic_xchg(&sgt_bound, 1)) {
		dev_err(dev, "already driving a simgpu function: one at a time\n");
		return -EBUSY;
	}
	g = kzalloc(sizeof(*g), GFP_KERNEL);
	if (!g) {
		ret = -ENOMEM;
		goto unbound;
	}
	g->pdev = pdev;
	mutex_init(&g->lock);
	init_completion(&g->done);
	g->timeout_ms = 20000;
	strscpy(g->result, "status=none\n", sizeof(g->result));

	ret = pci_enable_device(pdev);
	if (ret)
		goto free;
	ret = pci_request_regions(pdev, SGT_DRV_NAME);
	if (ret)
		goto disable;
	ret = sgt_map_bars(g);
	if (ret)
		goto release;
	ret = dma_set_mask_and_coherent(dev, DMA_BIT_MASK(64));
	if (ret) {
		dev_err(dev, "64-bit DMA refused: %d\n", ret);
		goto release;
	}
	pci_set_master(pdev);
	ret = sgt_setup_irqs(g);
	if (ret)
		goto release;
	g->ring = dma_alloc_coherent(dev, SGT_RING_ENTRIES * sizeof(*g->ring),
				     &g->ring_dma, GFP_KERNEL);
	g->fence = dma_alloc_coherent(dev, PAGE_SIZE, &g->fence_dma,
				      GFP_KERNEL);
	if (!g->ring || !g->fence) {
		ret = -ENOMEM;
		goto release;
	}
	if (g->ring_dma & 63) {
		dev_err(dev, "ring at %pad: not 64-byte aligned\n",
			&g->ring_dma);
		ret = -EINVAL;
		goto release;
	}
	ret = sgt_engine_start(g);
	if (ret)
		goto release;
	pci_set_drvdata(pdev, g);
	g->dbg = debugfs_create_dir(SGT_DRV_NAME, NULL);
	debugfs_create_file("run", 0200, g->dbg, g, &sgt_run_fops);
	debugfs_create_file("result", 0444, g->dbg, g, &sgt_result_fops);
	dev_info(dev, "simgpu %u.%u: VRAM %llu MiB, %d MSI-X vectors, ring of %u at %pad, fence at %pad\n",
		 g->version >> 16, g->version & 0xffff, g->vram_size >> 20,
		 g->nvec, SGT_RING_ENTRIES, &g->ring_dma, &g->fence_dma);
	return 0;

release:
	/* the engine may have been enabled: it forgets the ring first */
	if (g->regs)
		sgt_engine_stop(g);
	pci_clear_master(pdev);
	sgt_release(g);
	pci_release_regions(pdev);
	pci_disable_device(pdev);
	goto unbound;
disable:
	pci_disable_device(pdev);
free:
	kfree(g);
unbound:
	atomic_set(&sgt_bound, 0);
	return ret;
}

static void sgt_remove(struct pci_dev *pdev)
{
	struct sgt_dev *g = pci_get_drvdata(pdev);

	/* waits for a run in progress (its reset only trylocks the device) */
	debugfs_remove_recursive(g->dbg);
	mutex_lock(&g->lock);
	sgt_engine_stop(g);
	mutex_unlock(&g->lock);
	pci_clear_master(pdev);
	sgt_release(g);
	pci_release_regions(pdev);
	pci_disable_device(pdev);
	atomic_set(&sgt_bound, 0);
}

static const struct pci_device_id sgt_ids[] = {
	{ PCI_DEVICE(SIMGPU_PCI_VENDOR_ID, SIMGPU_PCI_DEVICE_ID) },
	{ }
};
MODULE_DEVICE_TABLE(pci, sgt_ids);

static struct pci_driver sgt_driver = {
	.name = SGT_DRV_NAME,
	.id_table = sgt_ids,
	.probe = sgt_probe,
	.remove = sgt_remove,
};
module_pci_driver(sgt_driver);

MODULE_DESCRIPTION("Test driver of simgpu: DMA through apple_dma, MSI-X, FLR, VRAM");
MODULE_AUTHOR("egpu-vm");
MODULE_LICENSE("GPL");
