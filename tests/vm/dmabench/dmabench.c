// SPDX-License-Identifier: GPL-2.0
/*
 * dmabench.c - the cost of one dma_map + dma_unmap pair on a PCI device,
 * for the VM benchmarks (tests/vm/bench.py). Tests only.
 *
 * Debian's kernels lack DMA_MAP_BENCHMARK, so this module does the same
 * job: for a device named by its PCI address it times N pairs of one shape
 * through whatever DMA ops the device has - apple_dma's on the managed
 * device, dma-direct on any other - so one boot measures both side by side.
 * The device may be bound to its own driver: the buffers are ours, and no
 * DMA is ever started, only mapped and unmapped.
 *
 * Shapes: a single buffer of 4 KiB, 64 KiB or 1 MiB (dma_map_page), or a
 * scatterlist of 64 entries of 4 KiB each from a different 1 MiB chunk of
 * the pool (dma_map_sg). Modes:
 *   cached  the same buffer (or list) every time, after one pair untimed:
 *           its host mapping can stay in apple_dma's idle cache;
 *   miss    a new window every time: buffer i starts window_kb (apple_dma's
 *           cluster) or its own size, if larger, after buffer i - 1, round
 *           the whole pool, so a cache smaller than the pool never holds
 *           the next one.
 *
 * The pool is pool_mib MiB in chunks of one window (at least 1 MiB),
 * allocated at load: a chunk is naturally aligned, so one window each.
 * Interface:
 *   echo "PCI SHAPE MODE N" > /sys/kernel/debug/dmabench/run
 *     (SHAPE 4k, 64k, 1m or sg; MODE cached or miss; N pairs)
 *   cat /sys/kernel/debug/dmabench/result
 *     shape=S mode=M pairs=N ns_per_pair=X best_ns_per_pair=B total_ns=T
 *     errors=E
 *   (B: the fastest batch of DB_BATCH pairs: a vCPU the host deschedules
 *   mid-run, common under emulation, stretches the mean, not the best)
 * The write fails (-EIO) when a mapping failed; the result says how many.
 */
#include <linux/debugfs.h>
#include <linux/dma-mapping.h>
#include <linux/fs.h>
#include <linux/gfp.h>
#include <linux/kernel.h>
#include <linux/ktime.h>
#include <linux/log2.h>
#include <linux/math64.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/pci.h>
#include <linux/scatterlist.h>
#include <linux/sched.h>
#include <linux/sizes.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/uaccess.h>

#define DB_SG_ENTS	64
#define DB_SG_LEN	SZ_4K
#define DB_MAX_PAIRS	1000000u
#define DB_BATCH	64u

static unsigned int pool_mib = 128;
module_param(pool_mib, uint, 0444);
MODULE_PARM_DESC(pool_mib,
		 "Pool of 1 MiB chunks the buffers come from, in MiB (default 128; benchguest.sh loads it with twice apple_dma's idle cache, for the miss mode)");

static unsigned int window_kb = 1024;
module_param(window_kb, uint, 0444);
MODULE_PARM_DESC(window_kb,
		 "Stride of the miss mode in KiB: apple_dma's cluster, a power of two >= 4 (default 1024)");

static DEFINE_MUTEX(db_lock);	/* one run at a time, and its result */
static struct page **db_pool;
static unsigned int db_chunks;
static unsigned int db_chunk_order;	/* a chunk: max(1 MiB, a window) */
static u64 db_chunk;			/* its bytes */
static u64 db_window;
static struct dentry *db_dir;
static char db_result[192];

/* The page and offset of byte off of the pool (off < pool bytes). */
static struct page *db_at(u64 off, unsigned int *in_page)
{
	unsigned int chunk = div64_u64(off, db_chunk);
	u64 rest = off - chunk * db_chunk;

	*in_page = rest % PAGE_SIZE;
	return db_pool[chunk] + rest / PAGE_SIZE;
}

/* Start of buffer i of len bytes in mode miss (i = 0 in mode cached). */
static u64 db_offset(u64 i, size_t len)
{
	u64 step = max_t(u64, len, db_window);
	u64 per = max_t(u64, div64_u64(db_chunk, step), 1);	/* in a chunk */
	u64 slot = do_div(i, (u32)(db_chunks * per));

	return div64_u64(slot, per) * db_chunk + (slot % per) * step;
}

static int db_pair_single(struct device *dev, u64 i, size_t len)
{
	unsigned int in_page;
	struct page *pg = db_at(db_offset(i, len), &in_page);
	dma_addr_t addr;

	addr = dma_map_page(dev, pg, in_page, len, DMA_BIDIRECTIONAL);
	if (dma_mapping_error(dev, addr))
		return -ENOMEM;
	dma_unmap_page(dev, addr, len, DMA_BIDIRECTIONAL);
	return 0;
}

/*
 * Entry j of list i: in mode cached (i = 0) chunk j; in mode miss the
 * (i * 64 + j)th window of the pool, so no two entries share a window.
 */
static int db_pair_sg(struct device *dev, struct sg_table *sgt, u64 i)
{
	struct scatterlist *sg;
	unsigned int j, in_page;
	int n;

	for_each_sg(sgt->sgl, sg, DB_SG_ENTS, j) {
		u64 off;

		if (i == 0 && j < db_chunks)
			off = (u64)j * db_chunk;
		else
			off = db_offset(i * DB_SG_ENTS + j, DB_SG_LEN);
		sg_set_page(sg, db_at(off, &in_page), DB_SG_LEN, in_page);
	}
	n = dma_map_sg(dev, sgt->sgl, DB_SG_ENTS, DMA_BIDIRECTIONAL);
	if (n <= 0)
		return -ENOMEM;
	dma_unmap_sg(dev, sgt->sgl, DB_SG_ENTS, DMA_BIDIRECTIONAL);
	return 0;
}

struct db_run {
	struct device *dev;
	size_t len;		/* single buffer bytes; 0: the sg shape */
	bool miss;
	unsigned int pairs;
	struct sg_table sgt;
};

static int db_pair(struct db_run *r, u64 i)
{
	if (!r->miss)
		i = 0;
	return r->len ? db_pair_single(r->dev, i, r->len) :
			db_pair_sg(r->dev, &r->sgt, i);
}

/*
 * Times r->pairs pairs: *ns in all, *best the fastest whole batch of
 * DB_BATCH per pair (the mean if there is none); returns the errors (a
 * failed pair stops the run).
 */
static unsigned int db_time(struct db_run *r, u64 *ns, u64 *best)
{
	unsigned int k, errors = 0;
	u64 t0, tb, now;

	if (db_pair(r, 0))	/* warm: in mode cached this one maps */
		errors++;
	*best = U64_MAX;
	t0 = ktime_get_ns();
	tb = t0;
	for (k = 0; k < r->pairs && !errors; k++) {
		if (db_pair(r, k + 1))
			errors++;
		if (k % DB_BATCH == DB_BATCH - 1) {
			now = ktime_get_ns();
			*best = min(*best, div_u64(now - tb, DB_BATCH));
			cond_resched();
			tb = ktime_get_ns();
		}
	}
	*ns = ktime_get_ns() - t0;
	if (*best == U64_MAX)
		*best = div_u64(*ns, r->pairs);
	return errors;
}

static int db_parse(char *buf, struct pci_dev **pdev, struct db_run *r,
		    char *shape, char *mode)
{
	unsigned int dom, bus, slot, fn;
	char pci[32];

	if (sscanf(buf, "%31s %7s %7s %u", pci, shape, mode, &r->pairs) != 4 ||
	    sscanf(pci, "%x:%x:%x.%x", &dom, &bus, &slot, &fn) != 4)
		return -EINVAL;
	if (!r->pairs || r->pairs > DB_MAX_PAIRS)
		return -EINVAL;
	if (!strcmp(shape, "4k"))
		r->len = SZ_4K;
	else if (!strcmp(shape, "64k"))
		r->len = SZ_64K;
	else if (!strcmp(shape, "1m"))
		r->len = SZ_1M;
	else if (!strcmp(shape, "sg"))
		r->len = 0;
	else
		return -EINVAL;
	if (!strcmp(mode, "miss"))
		r->miss = true;
	else if (strcmp(mode, "cached"))
		return -EINVAL;
	*pdev = pci_get_domain_bus_and_slot(dom, bus, PCI_DEVFN(slot, fn));
	return *pdev ? 0 : -ENODEV;
}

static ssize_t db_run_write(struct file *file, const char __user *ubuf,
			    size_t len, loff_t *ppos)
{
	struct db_run r = {};
	struct pci_dev *pdev;
	char buf[96], shape[8], mode[8];
	unsigned int errors;
	u64 ns = 0, best = 0;
	int ret;

	if (len >= sizeof(buf))
		return -EINVAL;
	if (copy_from_user(buf, ubuf, len))
		return -EFAULT;
	buf[len] = '\0';
	ret = db_parse(buf, &pdev, &r, shape, mode);
	if (ret)
		return ret;
	r.dev = &pdev->dev;
	if (!r.len && sg_alloc_table(&r.sgt, DB_SG_ENTS, GFP_KERNEL)) {
		pci_dev_put(pdev);
		return -ENOMEM;
	}
	mutex_lock(&db_lock);
	errors = db_time(&r, &ns, &best);
	scnprintf(db_result, sizeof(db_result),
		  "shape=%s mode=%s pairs=%u ns_per_pair=%llu best_ns_per_pair=%llu total_ns=%llu errors=%u\n",
		  shape, mode, r.pairs, div_u64(ns, r.pairs), best, ns, errors);
	mutex_unlock(&db_lock);
	if (!r.len)
		sg_free_table(&r.sgt);
	pci_dev_put(pdev);
	return errors ? -EIO : len;
}

static ssize_t db_result_read(struct file *file, char __user *ubuf,
			      size_t len, loff_t *ppos)
{
	char buf[sizeof(db_result)];

	mutex_lock(&db_lock);
	strscpy(buf, db_result, sizeof(buf));
	mutex_unlock(&db_lock);
	return simple_read_from_buffer(ubuf, len, ppos, buf, strlen(buf));
}

static const struct file_operations db_run_fops = {
	.owner = THIS_MODULE,
	.write = db_run_write,
	.llseek = default_llseek,
};

static const struct file_operations db_result_fops = {
	.owner = THIS_MODULE,
	.read = db_result_read,
	.llseek = default_llseek,
};

static void db_pool_free(void)
{
	unsigned int i;

	for (i = 0; i < db_chunks; i++)
		__free_pages(db_pool[i], db_chunk_order);
	kfree(db_pool);
	db_pool = NULL;
	db_chunks = 0;
}

static int __init db_init(void)
{
	unsigned int i;

	unsigned int n;

	if (!pool_mib || pool_mib > 4096) {
		pr_err("dmabench: pool_mib=%u: want 1..4096\n", pool_mib);
		return -EINVAL;
	}
	if (!is_power_of_2(window_kb) || window_kb < 4 ||
	    window_kb > pool_mib * 1024 || window_kb > 65536) {
		pr_err("dmabench: window_kb=%u: want a power of two, 4..min(65536, pool)\n",
		       window_kb);
		return -EINVAL;
	}
	db_window = (u64)window_kb << 10;
	db_chunk = max_t(u64, SZ_1M, db_window);
	db_chunk_order = ilog2(db_chunk) - PAGE_SHIFT;
	n = div64_u64((u64)pool_mib << 20, db_chunk);
	db_pool = kcalloc(n, sizeof(*db_pool), GFP_KERNEL);
	if (!db_pool)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		db_pool[i] = alloc_pages(GFP_KERNEL | __GFP_NOWARN,
					 db_chunk_order);
		if (!db_pool[i]) {
			pr_err("dmabench: no chunk %u of %u (%llu KiB)\n", i,
			       n, db_chunk >> 10);
			db_pool_free();
			return -ENOMEM;
		}
		db_chunks = i + 1;
	}
	strscpy(db_result, "none\n", sizeof(db_result));
	db_dir = debugfs_create_dir("dmabench", NULL);
	debugfs_create_file("run", 0200, db_dir, NULL, &db_run_fops);
	debugfs_create_file("result", 0400, db_dir, NULL, &db_result_fops);
	return 0;
}

static void __exit db_exit(void)
{
	debugfs_remove_recursive(db_dir);
	db_pool_free();
}

module_init(db_init);
module_exit(db_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("Times dma_map/dma_unmap pairs on a PCI device (egpu-vm VM benchmarks)");
