// SPDX-License-Identifier: GPL-2.0
/*
 * trace.c - records the managed device's DMA API calls for a host replay
 * (bench/replay.c), in the format of core/coal_trace.h.
 *
 * debugfs, per device:
 *   apple_dma/<dev>/trace_ctl  write "start N": record up to N buffers
 *                              (a fresh buffer; the last trace is dropped)
 *                              write "stop": stop, keep the trace for reading
 *                              read: state, records, capacity, dropped
 *   apple_dma/<dev>/trace      read: the trace file (header + records),
 *                              once stopped
 *
 * The hooks in ops.c and coherent.c cost one load of a->trace when nothing
 * is recorded (adma_drv.h). When recording, a call's records are written
 * under the trace's own spinlock with interrupts off, so any context may
 * record; a call that does not fit whole is dropped and counted. Maps are
 * recorded after they succeed and unmaps before they are done, so a device
 * address handed out again is always recorded after its unmap.
 * The trace is published with RCU: stop waits for every recorder that saw
 * it before the records are read, and teardown before they are freed.
 */
#include <linux/debugfs.h>
#include <linux/fs.h>
#include <linux/kernel.h>
#include <linux/ktime.h>
#include <linux/mutex.h>
#include <linux/scatterlist.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/uaccess.h>
#include <linux/vmalloc.h>

#include "adma_drv.h"

/* Most records one trace may hold (40 bytes each: 640 MiB). */
#define ADMA_TRACE_MAX	(16u << 20)

struct adma_trace {
	spinlock_t lock;		/* n, dropped and the records */
	u64 n;				/* records written */
	u64 dropped;			/* buffers of calls that did not fit */
	u64 cap;			/* records rec can hold */
	u64 start_ns;
	struct coal_trace_hdr hdr;	/* the coalescer's config at start */
	u8 *rec;			/* cap * COAL_TRACE_REC_SIZE, vmalloc */
};

/* a->trace_kept of every device, and starting/stopping. */
static DEFINE_MUTEX(adma_trace_mutex);

static void adma_trace_free(struct adma_trace *t)
{
	if (t) {
		vfree(t->rec);
		kfree(t);
	}
}

/*
 * Reserve n records of the trace being recorded, if any: returns it, with
 * the first record's index in *at and the call's time in *ts, inside an RCU
 * read section that the caller ends after writing the records (stop waits
 * for it before the file is read). The lock covers only the reservation.
 * NULL: not recording, or no room (the call is counted as dropped).
 */
static struct adma_trace *adma_trace_begin(struct adma_dev *a, unsigned int n,
					   u64 *at, u64 *ts)
{
	struct adma_trace *t;
	unsigned long irq;
	bool room;

	rcu_read_lock();
	t = rcu_dereference(a->trace);
	if (!t)
		return NULL;
	spin_lock_irqsave(&t->lock, irq);
	*ts = ktime_get_ns() - t->start_ns;	/* in reservation order */
	room = t->n + n <= t->cap;
	if (room) {
		*at = t->n;
		t->n += n;
	} else {
		t->dropped += n;
	}
	spin_unlock_irqrestore(&t->lock, irq);
	return room ? t : NULL;
}

static void adma_trace_put(struct adma_trace *t, u64 at,
			   const struct coal_trace_rec *r)
{
	coal_trace_rec_encode(t->rec + at * COAL_TRACE_REC_SIZE, r);
}

/* Record n buffers of one call (maps: as mapped; unmaps: dma and len). */
void adma_trace_bufs(struct adma_dev *a, unsigned int op,
		     const struct coal_buf *b, unsigned int n,
		     unsigned int flags)
{
	struct coal_trace_rec r = { .op = op };
	struct adma_trace *t;
	unsigned int i;
	u64 at;

	t = adma_trace_begin(a, n, &at, &r.ts_ns);
	for (i = 0; t && i < n; i++) {
		r.nbuf = i ? 0 : n;
		r.dir = op == COAL_TRACE_MAP ? b[i].dir : 0;
		r.flags = flags;
		if (b[i].flags & COAL_BUF_PRIVATE)
			r.flags |= COAL_TRACE_F_PRIVATE;
		r.gpa = op == COAL_TRACE_MAP ? b[i].gpa : 0;
		r.len = b[i].len;
		r.dma = b[i].dma;
		adma_trace_put(t, at + i, &r);
	}
	rcu_read_unlock();
}

/* Record a scatterlist of nents entries (dir: COAL_DIR_*, maps only). */
void adma_trace_sgl(struct adma_dev *a, unsigned int op,
		    struct scatterlist *sgl, int nents, unsigned int dir)
{
	struct coal_trace_rec r = { .op = op };
	struct scatterlist *sg;
	struct adma_trace *t;
	u64 at;
	int i;

	if (nents <= 0)
		return;
	t = adma_trace_begin(a, nents, &at, &r.ts_ns);
	if (t) {
		for_each_sg(sgl, sg, nents, i) {
			r.nbuf = i ? 0 : nents;
			r.dir = op == COAL_TRACE_MAP ? dir : 0;
			r.gpa = op == COAL_TRACE_MAP ? sg_phys(sg) : 0;
			r.len = sg_dma_len(sg);
			r.dma = sg_dma_address(sg);
			adma_trace_put(t, at + i, &r);
		}
	}
	rcu_read_unlock();
}

/* Stop recording (if it is); the trace stays in a->trace_kept. */
static void adma_trace_stop(struct adma_dev *a)
{
	lockdep_assert_held(&adma_trace_mutex);
	if (!rcu_access_pointer(a->trace))
		return;
	RCU_INIT_POINTER(a->trace, NULL);
	synchronize_rcu();	/* every recorder that saw it is done */
}

static int adma_trace_start(struct adma_dev *a, u64 cap)
{
	const struct coal_config *cfg = coal_config(a->coal);
	struct adma_trace *t;

	if (!cap || cap > ADMA_TRACE_MAX)
		return -EINVAL;
	t = kzalloc(sizeof(*t), GFP_KERNEL);
	if (!t)
		return -ENOMEM;
	t->rec = vmalloc(cap * COAL_TRACE_REC_SIZE);
	if (!t->rec) {
		kfree(t);
		return -ENOMEM;
	}
	spin_lock_init(&t->lock);
	t->cap = cap;
	t->hdr.page_shift = cfg->page_shift;
	t->hdr.cluster_shift = cfg->cluster_shift;
	t->hdr.max_batch = cfg->max_batch;
	t->hdr.small_max = cfg->small_max;

	mutex_lock(&adma_trace_mutex);
	if (rcu_access_pointer(a->trace)) {
		mutex_unlock(&adma_trace_mutex);
		adma_trace_free(t);
		return -EBUSY;
	}
	adma_trace_free(a->trace_kept);	/* stopped: no recorder sees it */
	a->trace_kept = t;
	t->start_ns = ktime_get_ns();
	rcu_assign_pointer(a->trace, t);
	mutex_unlock(&adma_trace_mutex);
	return 0;
}

static ssize_t adma_trace_ctl_write(struct file *f, const char __user *ubuf,
				    size_t len, loff_t *pos)
{
	struct adma_dev *a = f->private_data;
	char buf[32], *arg;
	u64 cap;
	int ret;

	if (len >= sizeof(buf))
		return -EINVAL;
	if (copy_from_user(buf, ubuf, len))
		return -EFAULT;
	buf[len] = 0;
	arg = strim(buf);
	if (!strcmp(arg, "stop")) {
		mutex_lock(&adma_trace_mutex);
		adma_trace_stop(a);
		mutex_unlock(&adma_trace_mutex);
		return len;
	}
	if (strncmp(arg, "start ", 6))
		return -EINVAL;
	ret = kstrtou64(skip_spaces(arg + 6), 0, &cap);
	if (!ret)
		ret = adma_trace_start(a, cap);
	return ret ? ret : len;
}

static ssize_t adma_trace_ctl_read(struct file *f, char __user *ubuf,
				   size_t len, loff_t *pos)
{
	struct adma_dev *a = f->private_data;
	u64 n = 0, cap = 0, dropped = 0;
	struct adma_trace *t;
	unsigned long irq;
	bool on;
	char buf[160];
	int k;

	mutex_lock(&adma_trace_mutex);
	on = rcu_access_pointer(a->trace);
	t = a->trace_kept;
	if (t) {
		spin_lock_irqsave(&t->lock, irq);
		n = t->n;
		dropped = t->dropped;
		spin_unlock_irqrestore(&t->lock, irq);
		cap = t->cap;
	}
	mutex_unlock(&adma_trace_mutex);
	k = scnprintf(buf, sizeof(buf),
		      "state: %s\nrecords: %llu\ncapacity: %llu\ndropped: %llu\n",
		      on ? "recording" : t ? "stopped" : "off",
		      n, cap, dropped);
	return simple_read_from_buffer(ubuf, len, pos, buf, k);
}

static const struct file_operations adma_trace_ctl_fops = {
	.owner = THIS_MODULE,
	.open = simple_open,
	.read = adma_trace_ctl_read,
	.write = adma_trace_ctl_write,
	.llseek = default_llseek,
};

/* The file: header, then the records; only once stopped. */
static ssize_t adma_trace_read(struct file *f, char __user *ubuf,
			       size_t len, loff_t *pos)
{
	struct adma_dev *a = f->private_data;
	u8 hdr[COAL_TRACE_HDR_SIZE];
	struct adma_trace *t;
	ssize_t ret = 0, k;
	loff_t p = *pos;
	u64 size;

	mutex_lock(&adma_trace_mutex);
	t = a->trace_kept;
	if (rcu_access_pointer(a->trace)) {
		ret = -EBUSY;	/* write "stop" to trace_ctl first */
		goto out;
	}
	if (!t || p < 0)
		goto out;
	t->hdr.nrec = t->n;
	t->hdr.dropped = t->dropped;
	coal_trace_hdr_encode(hdr, &t->hdr);
	size = COAL_TRACE_HDR_SIZE + t->n * COAL_TRACE_REC_SIZE;
	if (p < COAL_TRACE_HDR_SIZE) {
		ret = simple_read_from_buffer(ubuf, len, &p, hdr, sizeof(hdr));
		if (ret < 0)
			goto out;
		ubuf += ret;
		len -= ret;
	}
	if (len && p >= COAL_TRACE_HDR_SIZE && p < size) {
		loff_t rp = p - COAL_TRACE_HDR_SIZE;

		k = simple_read_from_buffer(ubuf, len, &rp, t->rec,
					    size - COAL_TRACE_HDR_SIZE);
		if (k < 0) {
			ret = ret ? ret : k;
			goto out;
		}
		ret += k;
		p = rp + COAL_TRACE_HDR_SIZE;
	}
	*pos = p;
out:
	mutex_unlock(&adma_trace_mutex);
	return ret;
}

static const struct file_operations adma_trace_fops = {
	.owner = THIS_MODULE,
	.open = simple_open,
	.read = adma_trace_read,
	.llseek = default_llseek,
};

/* Under the device's debugfs directory (stats.c). */
void adma_trace_debugfs(struct adma_dev *a, struct dentry *dir)
{
	debugfs_create_file("trace_ctl", 0600, dir, a, &adma_trace_ctl_fops);
	debugfs_create_file("trace", 0400, dir, a, &adma_trace_fops);
}

/* Stop and free; the debugfs files are gone already (stats.c). */
void adma_trace_fini(struct adma_dev *a)
{
	mutex_lock(&adma_trace_mutex);
	adma_trace_stop(a);
	adma_trace_free(a->trace_kept);
	a->trace_kept = NULL;
	mutex_unlock(&adma_trace_mutex);
}
