/* SPDX-License-Identifier: GPL-2.0 */
/*
 * adma_drv.h - internals of the apple_dma guest module.
 *
 * One struct adma_dev per apple-dma-pci device. Its managed device gets the
 * one const adma_dma_ops; an op finds its instance by the device it is called
 * for (adma_from_dev(), a short table under RCU: a machine has few of these).
 */
#ifndef ADMA_DRV_H
#define ADMA_DRV_H

#include <linux/atomic.h>
#include <linux/device.h>
#include <linux/dma-map-ops.h>
#include <linux/hrtimer.h>
#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/notifier.h>
#include <linux/pci.h>
#include <linux/percpu.h>
#include <linux/irq_work.h>
#include <linux/printk.h>
#include <linux/ratelimit.h>
#include <linux/rcupdate.h>
#include <linux/sched/clock.h>
#include <linux/spinlock.h>

#include "adma_kconf.h"
#include "apple_dma.h"
#include "coalesce.h"
#include "coal_trace.h"

#if !defined(CONFIG_DMA_OPS) && !defined(CONFIG_ARCH_HAS_DMA_OPS)
#error "apple_dma needs per-device DMA ops (CONFIG_DMA_OPS / ARCH_HAS_DMA_OPS)"
#endif
#ifdef __BIG_ENDIAN
#error "apple_dma writes the little-endian wire format natively"
#endif

#define ADMA_DRV_NAME	"apple_dma"

/* Counters; all atomic64_t so they are read without the channel lock. */
struct adma_stats {
	atomic64_t doorbells;
	atomic64_t req_map;
	atomic64_t req_unmap;
	atomic64_t refusals;		/* answers other than OK */
	atomic64_t refused[ADMA_S__COUNT];	/* by the status answered */
	atomic64_t unanswered;		/* still PENDING after the doorbell */
	atomic64_t bad_blocks;		/* batches whose block was not OK */
	atomic64_t map_errors;		/* map ops that failed */
	atomic64_t unmap_errors;	/* unmaps of unknown addresses */
	atomic64_t resource_refusals;	/* map_resource/MMIO asked */
	/* answers unfit for the caller (mask, IOVA 0, boundary, alignment) */
	atomic64_t remaps;		/* remapped privately */
	atomic64_t unfit;		/* still unfit after retries: refused */
	atomic64_t late_ops;		/* ops after the device left us */
	atomic64_t unmaps_kept;		/* unmap answers not trusted: kept */
	atomic64_t unmaps_resent;	/* kept unmaps sent again */
	atomic64_t unmaps_lost;		/* kept unmaps given up on */
	atomic64_t maps_undone;		/* OK maps in a failed block, undone */
	atomic64_t release_all;		/* RELEASE_ALL written */
	atomic64_t timer_flushes;	/* flush timer runs that sent unmaps */
	atomic64_t trims;		/* idle cache emptied (unbind, debugfs) */
	atomic64_t lock_contended;	/* a->lock found taken (trylock failed) */
	atomic64_t chan_contended;	/* chan_lock found taken */
	/* queued unmaps rung under a->lock (queue full, flush_unlocked=0) */
	atomic64_t unmaps_rung_locked;
	/* fast windows (fast.c) */
	atomic64_t fast_made;		/* windows published */
	atomic64_t fast_retired;	/* ... retired (or dropped) */
};

/*
 * Counters of every DMA call, per CPU: an atomic costs a fast window's hit
 * as much as the rest of it under emulation. Summed when read.
 */
struct adma_pcpu {
	u64 dma_calls;		/* buffers mapped + unmapped (sg: each entry) */
	u64 fast_maps;		/* buffers mapped without the lock */
	u64 fast_unmaps;	/* ... unmapped without it */
};

/*
 * Fast windows (fast.c): pinned idle clusters whose buffers are mapped and
 * unmapped without a->lock. The hash chains are read under RCU and written
 * under a->lock: by_gpa by cluster index, by_dma by device address >>
 * cluster shift (a window's range covers one or two of those). ring holds
 * every window, for the clock that picks one to retire when all are taken.
 */
#define ADMA_FW_BITS		7
#define ADMA_FW_DMA_BITS	8
#define ADMA_FW_MAX		64

struct adma_fw;

struct adma_fast {
	struct hlist_head by_gpa[1 << ADMA_FW_BITS];
	struct hlist_head by_dma[1 << ADMA_FW_DMA_BITS];
	struct adma_fw *ring[ADMA_FW_MAX];
	unsigned int hand;		/* the clock's, in ring */
	unsigned int shift;		/* cluster shift */
	unsigned int max;		/* windows at most; 0: off */
	unsigned int live;		/* published now (written under lock) */
};

/*
 * Holds of a lock with interrupts off, in ns (local_clock()): each written
 * under the lock it times, read without it. Hit holds are sampled (one in
 * ADMA_HOLD_SAMPLE, lazy.c): n counts the holds timed.
 */
#define ADMA_HOLD_SAMPLE	16

struct adma_hold {
	u64 n;
	u64 sum_ns;
	u64 max_ns;
};

/*
 * Unmaps the coalescer has sent (it counts them gone), not yet rung: the
 * CPU that drops a->lock rings them, and so does any map before its own
 * requests. Full: rung at once, under a->lock.
 */
#define ADMA_OUTQ_MAX	ADMA_MAX_BATCH

struct adma_outq {
	u64 handle[ADMA_OUTQ_MAX];
	unsigned int n;
};

/*
 * Unmaps whose answer cannot be trusted (PENDING, or any answer of a block
 * that is not OK): the host may still hold the mapping. They are sent again
 * before the next batch and at remove, ADMA_PEND_TRIES times at most.
 */
#define ADMA_PEND_MAX	ADMA_MAX_BATCH	/* one whole unmap batch fits */
#define ADMA_PEND_TRIES	16

struct adma_pend {
	u64 handle[ADMA_PEND_MAX];
	u8 tries[ADMA_PEND_MAX];
	unsigned int n;
};

/* The doorbell channel: command block + arrays in guest RAM. */
struct adma_chan {
	struct adma_cmd *cmd;
	struct adma_req *req;
	struct adma_resp *resp;
	phys_addr_t cmd_pa, req_pa, resp_pa;
	size_t req_bytes, resp_bytes;
	u32 max_batch;

	/*
	 * One message from under adma_dev.chan_lock, printed by log_work
	 * once it is dropped (adma_log_locked()). log_busy: log_msg is
	 * taken.
	 */
	struct irq_work log_work;
	bool log_busy;
	unsigned int log_dropped;
	char log_msg[128];
};

struct adma_dev {
	struct pci_dev *pdev;		/* the apple-dma-pci function */
	struct pci_dev *managed;	/* referenced until remove */
	const struct dma_map_ops *old_ops;
	void __iomem *regs;

	/* read from the device at probe */
	u32 version, features, max_batch, max_segs, page_shift;
	u64 limit_bytes;
	u32 limit_maps;
	u64 iova_end;			/* one past the highest IOVA; 0: unknown */

	/*
	 * lock protects coal and sbuf/subuf: every map and unmap runs under
	 * it with interrupts off (adma_lock(), lazy.c), a map miss with its
	 * doorbell. Nothing under it sleeps; allocations are GFP_ATOMIC.
	 * held_*: the current hold, for the hold_* times.
	 */
	spinlock_t lock;
	struct adma_fast fast;		/* written under lock, read under RCU */
	struct adma_pcpu __percpu *pcpu;
	struct coal *coal;
	const struct coal_stats *cstats;	/* coal_stats(coal) */
	struct coal_buf *sbuf;		/* coal max_batch entries */
	struct coal_ubuf *subuf;
	bool held_rang;
	bool held_sampled;		/* timed even without a doorbell */
	u64 held_t0;			/* 0: not read yet (unmap holds) */
	unsigned int hold_seq;		/* holds, for the sampling */
	struct adma_hold hold_hit;	/* holds of lock without a doorbell */
	struct adma_hold hold_ring;	/* ... with one */
	struct adma_hold hold_flush;	/* holds of chan_lock ringing outq */
	struct hrtimer flush_timer;	/* sends deferred unmaps */
	u64 lazy_ns;			/* ... this long after the first */
	bool flush_unlocked;		/* outq rung after lock is dropped */

	/*
	 * chan_lock protects the channel and everything below up to
	 * unmaps_given_up; taken inside lock (map misses, a full outq) or
	 * alone (ringing outq), always with interrupts off.
	 */
	spinlock_t chan_lock;
	struct adma_chan chan;
	struct adma_outq outq;
	u64 *spending;			/* handles to unmap after a map */
	unsigned int npending;
	struct adma_pend pend;		/* unmaps to send again */
	u64 resend[ADMA_PEND_MAX];	/* scratch of adma_pend_flush() */
	u8 resend_tries[ADMA_PEND_MAX];
	/*
	 * An unmap was given up on (list full, or too many tries): the host
	 * may still hold it, so RELEASE_ALL when the mappings are let go.
	 */
	bool unmaps_given_up;

	struct adma_stats stats;
	struct dentry *dbg;
	struct notifier_block bus_nb;
	struct notifier_block pm_nb;
	struct device_link *link;	/* managed consumes us: PM, shutdown */

	/*
	 * life serialises the managed device's changes (hot-unplug, re-plug)
	 * with remove. managed, gone, managed_gone and dead are written under
	 * lock too: an op for gone, or for managed while managed_gone or dead
	 * is set, does nothing but count (late_ops), and adma_host_map()
	 * checks them again under lock, so an op that raced past adma_get()
	 * maps nothing either.
	 */
	struct mutex life;
	struct list_head grave;		/* on adma_graveyard after remove */
	struct pci_dev *gone;		/* removed from the bus, referenced */
	u32 m_domain, m_bus, m_devfn;	/* whom to adopt on re-plug */
	bool managed_gone;		/* removed from the bus under us */
	bool dead;			/* remove has begun: ops refused */
	bool noncoherent;		/* found so at bind: maps refused */
	bool bus_nb_registered;
	bool pm_nb_registered;
	bool installed;			/* our ops are (meant to be) on */

	/* trace.c: the trace being recorded (RCU), the last one (mutex) */
	struct adma_trace __rcu *trace;
	struct adma_trace *trace_kept;
};

/*
 * Devices with our ops installed, published with RCU: a slot is filled
 * before the ops go on and emptied after they are off. Ops look their
 * instance up under rcu_read_lock() (adma_get() in ops.c) and use it after:
 * so remove never frees an instance, it marks it dead and leaves it on a
 * graveyard that module exit frees (main.c), when no op can run our code.
 */
#define ADMA_MAX_DEVS	8
extern struct adma_dev __rcu *adma_devs[ADMA_MAX_DEVS];

/* The instance dev belongs to (managed now or gone); under rcu_read_lock(). */
static inline struct adma_dev *adma_from_dev(struct device *dev)
{
	unsigned int i;

	for (i = 0; i < ADMA_MAX_DEVS; i++) {
		struct adma_dev *a = rcu_dereference_check(adma_devs[i],
							    rcu_read_lock_any_held());
		struct pci_dev *m, *g;

		if (!a)
			continue;
		m = READ_ONCE(a->managed);
		g = READ_ONCE(a->gone);
		if ((m && &m->dev == dev) || (g && &g->dev == dev))
			return a;
	}
	return NULL;
}

/* May an op for dev use a (map, unmap through the host)? */
static inline bool adma_alive(struct adma_dev *a, struct device *dev)
{
	struct pci_dev *m = READ_ONCE(a->managed);

	return !READ_ONCE(a->dead) && !READ_ONCE(a->managed_gone) &&
	       m && &m->dev == dev;
}

/*
 * A message from under a->chan_lock: printk() there could enter a console driver
 * that maps DMA itself (netconsole over the managed device) with the lock
 * held and interrupts off, so it is formatted here and printed (as an
 * error) by an irq_work after the lock is dropped. Rate-limited per call site; one
 * message in flight, others counted in log_dropped.
 */
#define adma_log_locked(a, fmt, ...)					\
	do {								\
		static DEFINE_RATELIMIT_STATE(_rs,			\
					      DEFAULT_RATELIMIT_INTERVAL, \
					      DEFAULT_RATELIMIT_BURST);	\
		struct adma_dev *_a = (a);				\
									\
		if (__ratelimit(&_rs))					\
			adma_log_queue(_a, "%s %s: " fmt, ADMA_DRV_NAME,	\
				       pci_name(_a->pdev), ##__VA_ARGS__); \
	} while (0)

/* chan.c */
__printf(2, 3) void adma_log_queue(struct adma_dev *a, const char *fmt, ...);
void adma_outq_send(struct adma_dev *a);
int adma_chan_init(struct adma_dev *a);
void adma_chan_fini(struct adma_dev *a);
int adma_chan_ping(struct adma_dev *a);
void adma_control(struct adma_dev *a, u32 ctrl);
unsigned int adma_pend_flush(struct adma_dev *a);
void adma_host_map(void *ctx, struct coal_host_req *req, unsigned int n);
void adma_host_unmap(void *ctx, const u64 *handle, unsigned int n);
int adma_status_errno(u32 status);
const char *adma_status_str(u32 status);

/* lazy.c; the lock functions are inline, on every DMA op's path */
static inline void adma_lock_hold(struct adma_dev *a, unsigned long *flags,
				  bool stamp)
{
	if (!spin_trylock_irqsave(&a->lock, *flags)) {
		atomic64_inc(&a->stats.lock_contended);
		spin_lock_irqsave(&a->lock, *flags);
	}
	a->held_rang = false;
	a->held_sampled = !(++a->hold_seq % ADMA_HOLD_SAMPLE);
	a->held_t0 = stamp || a->held_sampled ? local_clock() : 0;
}

/* A hold timed from its start if it rings (a batch, the timer...). */
static inline void adma_lock(struct adma_dev *a, unsigned long *flags)
{
	adma_lock_hold(a, flags, true);
}

/*
 * A hold for one buffer: unless sampled, timed from its first host call
 * (see lazy.c), so that a hit reads no clock.
 */
static inline void adma_lock_one(struct adma_dev *a, unsigned long *flags)
{
	adma_lock_hold(a, flags, false);
}

void adma_host_map_held(void *ctx, struct coal_host_req *req, unsigned int n);
void adma_host_unmap_held(void *ctx, const u64 *handle, unsigned int n);
void adma_unlock(struct adma_dev *a, unsigned long flags);
void adma_outq_ring(struct adma_dev *a, bool locked);
void adma_lazy_init(struct adma_dev *a, unsigned int lazy_us);
void adma_lazy_flush(struct adma_dev *a);
void adma_trim(struct adma_dev *a);

/* fast.c: lock-free hits */
void adma_fast_init(struct adma_dev *a, unsigned int max);
bool adma_fast_map(struct adma_dev *a, struct coal_buf *b,
		   const struct coal_want *w);
bool adma_fast_unmap(struct adma_dev *a, u64 dma);
void adma_fast_put(struct adma_dev *a, u64 dma, u64 len);
void adma_fast_publish(struct adma_dev *a, const struct coal_buf *b,
		       unsigned int n);
void adma_fast_note(struct adma_dev *a, const struct coal_buf *b,
		    unsigned int n);
unsigned int adma_unmap_locked(struct adma_dev *a, struct coal_ubuf *u,
			       unsigned int n);
unsigned int adma_fast_retire_idle(struct adma_dev *a);
void adma_fast_count(struct adma_dev *a, unsigned int *idle, u64 *buffers);
void adma_fast_drop_all(struct adma_dev *a);

/* ops.c */
void adma_ops_quiesce(void);
extern const struct dma_map_ops adma_dma_ops;

/* ram.c: System RAM snapshot for coal_env.window_ok */
int adma_ram_get(void);
void adma_ram_put(void);
bool adma_ram_window_ok(void *ctx, u64 gpa, u64 len);

/* managed.c */
int adma_find_managed(struct adma_dev *a);
int adma_install(struct adma_dev *a);
void adma_attach(struct adma_dev *a);
bool adma_fence(struct adma_dev *a);
void adma_release_leftovers(struct adma_dev *a);
void adma_uninstall(struct adma_dev *a);
void adma_warn_siblings(struct adma_dev *a);

/* stats.c */
void adma_debugfs_init(struct adma_dev *a);
void adma_debugfs_fini(struct adma_dev *a);

/*
 * trace.c: recording of the DMA API calls (core/coal_trace.h). Each hook is
 * one load when nothing is recorded; maps are recorded after they succeed,
 * unmaps before they are done.
 */
struct scatterlist;
void adma_trace_bufs(struct adma_dev *a, unsigned int op,
		     const struct coal_buf *b, unsigned int n,
		     unsigned int flags);
void adma_trace_sgl(struct adma_dev *a, unsigned int op,
		    struct scatterlist *sgl, int nents, unsigned int dir);
void adma_trace_debugfs(struct adma_dev *a, struct dentry *dir);
void adma_trace_fini(struct adma_dev *a);

/* flags: COAL_TRACE_F_COHERENT or 0 */
static inline void adma_trace_map(struct adma_dev *a, const struct coal_buf *b,
				  unsigned int flags)
{
	if (unlikely(rcu_access_pointer(a->trace)))
		adma_trace_bufs(a, COAL_TRACE_MAP, b, 1, flags);
}

static inline void adma_trace_unmap(struct adma_dev *a, u64 dma, u64 len)
{
	struct coal_buf b = { .dma = dma, .len = len };

	if (unlikely(rcu_access_pointer(a->trace)))
		adma_trace_bufs(a, COAL_TRACE_UNMAP, &b, 1, 0);
}

/* op: COAL_TRACE_MAP (after mapping) or COAL_TRACE_UNMAP (before) */
static inline void adma_trace_sg(struct adma_dev *a, unsigned int op,
				 struct scatterlist *sgl, int nents,
				 unsigned int dir)
{
	if (unlikely(rcu_access_pointer(a->trace)))
		adma_trace_sgl(a, op, sgl, nents, dir);
}

/*
 * quirks/: module-wide probes, set up by the first device and taken down
 * with the last (main.c counts).
 */
void adma_uvm_init(void);
void adma_uvm_fini(void);
u64 adma_uvm_forced(void);
void adma_tso_init(struct adma_dev *a);
void adma_tso_fini(void);
u64 adma_tso_answers(void);
void adma_dczva_init(void);
void adma_dczva_fini(void);
u64 adma_dczva_emulated(void);

#endif /* ADMA_DRV_H */
