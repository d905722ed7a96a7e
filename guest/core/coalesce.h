/* SPDX-License-Identifier: (GPL-2.0 OR MIT) */
/*
 * coalesce.h - the guest's mapping coalescer, portable C.
 *
 * The host can keep only so many mappings live (about 65,536 on a real DART),
 * while GPU drivers map mostly small buffers that sit close together. The
 * coalescer lets small buffers share host mappings of fixed, aligned windows
 * of guest-physical space called *clusters*:
 *
 *   - Guest-physical space is cut into clusters of 2^cluster_shift bytes.
 *     A buffer of at most small_max bytes inside one cluster is served by a
 *     host mapping of that whole cluster window, made on the first such
 *     buffer (a miss) and shared by every later one (a hit). The device
 *     address of a byte is the window's device address + its offset.
 *
 *   - A small buffer that straddles two clusters is served by a *pair*: one
 *     host mapping of the two-cluster window [k, k + 2) that stands for both
 *     clusters k and k + 1 (both table slots point at it, so the buffer holds
 *     its reference on both clusters through it). One host mapping is what
 *     keeps the device address contiguous over the boundary: two separately
 *     mapped clusters get unrelated device addresses from the host. A pair
 *     is made only when neither cluster is mapped yet; if one of them already
 *     has its own mapping, the straddler gets a private mapping instead
 *     (counted as straddle_private). Later buffers in either cluster hit the
 *     pair.
 *
 *   - Larger buffers, buffers flagged COAL_BUF_PRIVATE, and buffers whose
 *     window the embedder refuses (see window_ok: a window must be wholly
 *     RAM for the host to map it), get a private mapping of exactly their
 *     bytes.
 *
 * Every buffer holds one reference on the mapping (*extent*) serving it; the
 * host mapping is undone when the last buffer goes. Buffers are found again
 * on unmap by device address through a hash table, extents by cluster index
 * through another: both O(1) on average.
 *
 * The host may answer a mapping with up to COAL_MAX_SEGS segments; adjacent
 * segments whose device addresses run on are merged. A buffer must fall in
 * one run to be served by an extent; a small buffer that does not fit a new
 * cluster's runs is retried as a private mapping. So is a small buffer whose
 * new cluster (or pair) the host refused for want of space (COAL_ENOMEM:
 * NO_SPACE / FRAGMENTED): its own bytes may still fit where a whole window
 * does not (counted as cluster_refused).
 *
 * When a mapping's last buffer goes, its host mapping is either kept idle
 * (cache_bytes > 0) or retired. Idle mappings sit on an LRU list within
 * cache_bytes: a cluster or pair serves the next buffer in its window again
 * without a host call (an idle hit), a private one the next buffer that
 * starts at its first byte and fits it with the access it allows. A private
 * mapping above cache_bytes / 8 is never kept (it would push out many small
 * ones), and making room for an idle mapping evicts at most lazy_max
 * (strict: max_batch) idle mappings per API call: when that is not enough,
 * the new one is retired instead, so one call never sweeps the whole cache
 * and idle bytes never exceed cache_bytes. Buffers flagged COAL_BUF_PRIVATE
 * never take an idle mapping and theirs is never kept: such a buffer wants a
 * mapping of its own, at a new device address; nor is a mapping given back
 * by coal_unmap_drop(). Idle mappings do not age: until evicted (LRU,
 * watermark, host pressure), coal_trim() or teardown when the device
 * unbinds, up to cache_bytes of memory the driver has freed stays reachable
 * by the device, to read, and to write through a FROM_DEVICE or
 * bidirectional window (cluster and pair windows are bidirectional). Strict
 * (lazy_max 0, cache_bytes 0) leaves nothing reachable after coal_unmap().
 * Retiring (or evicting an idle mapping) queues the host unmap: strict
 * (lazy_max 0) sends the queue before the API call returns, lazy sends it
 * when lazy_max are queued or they map lazy_bytes, on coal_flush() (the embedder's timer), on host
 * pressure, on coal_trim() and before a new mapping above a watermark.
 * Before new host mappings would take in use + idle + deferred above
 * watermark_bytes / watermark_maps, the least recently used idle mappings are
 * evicted, then the queue is sent. On a host refusal for space (COAL_ENOMEM)
 * while anything is idle or deferred, the call is undone, coal_trim() frees
 * that space and the call is tried once more.
 *
 * Mapping is all or nothing per call: if any buffer of a coal_map() call
 * fails, every mapping the call made is undone (and its unmap sent) and the
 * state is as before, except that idle mappings may have been evicted.
 *
 * The embedder supplies host calls, memory and the "window is RAM" test as
 * callbacks, and the state lives in memory it provides (coal_size()). Not
 * thread-safe: the embedder serialises every call on one coalescer, and may
 * call from atomic context if its callbacks can.
 */
#ifndef COALESCE_H
#define COALESCE_H

#include "coal_types.h"

/* Errors are negative Linux errno values, spelt out to need no header. */
#define COAL_EIO	(-5)
#define COAL_ENOMEM	(-12)
#define COAL_EINVAL	(-22)
#define COAL_E2BIG	(-7)

/* Direction of the device's access, as the wire protocol's request flags. */
#define COAL_DIR_TO_DEVICE	1u	/* device reads memory */
#define COAL_DIR_FROM_DEVICE	2u	/* device writes memory */
#define COAL_DIR_BIDIRECTIONAL	3u

#define COAL_MAX_SEGS		4
/*
 * Longest buffer coal_map() takes (256 TiB; longer: COAL_EINVAL), so that
 * byte counts of a batch and of what the host holds cannot wrap.
 */
#define COAL_MAX_LEN		((uint64_t)1 << 48)
#define COAL_MIN_CLUSTER_SHIFT	14	/* 16 KiB, the host's page */
#define COAL_MAX_CLUSTER_SHIFT	30

/* A device-address range. */
struct coal_seg {
	uint64_t dma;
	uint64_t len;
};

/* One host mapping to make: the embedder fills err and, on success, the rest. */
struct coal_host_req {
	uint64_t gpa;			/* in: first guest-physical byte */
	uint64_t len;			/* in: bytes, > 0 */
	unsigned int dir;		/* in: COAL_DIR_* */
	int err;			/* out: 0 or a negative errno */
	uint64_t handle;		/* out: names the mapping for unmap */
	unsigned int nsegs;		/* out: 1..COAL_MAX_SEGS */
	struct coal_seg seg[COAL_MAX_SEGS];	/* out: cover gpa..gpa+len */
};

struct coal_env {
	void *ctx;
	/*
	 * Make n (<= max_batch) host mappings, ideally in one round trip; set
	 * every req[i].err. A request whose answer is malformed (segments not
	 * covering len) is treated as failed and unmapped by the coalescer.
	 */
	void (*host_map)(void *ctx, struct coal_host_req *req, unsigned int n);
	/* Undo n (<= max_batch) mappings made by host_map. */
	void (*host_unmap)(void *ctx, const uint64_t *handle, unsigned int n);
	/* May [gpa, gpa + len) be mapped as a cluster window? NULL: always. */
	bool (*window_ok)(void *ctx, uint64_t gpa, uint64_t len);
	/* Memory for bookkeeping; alloc may fail (NULL). */
	void *(*alloc)(void *ctx, size_t size);
	void (*free)(void *ctx, void *p);
};

struct coal_config {
	unsigned int cluster_shift;	/* log2 cluster bytes; 0: no clusters */
	uint64_t small_max;		/* buffers <= this share clusters */
	unsigned int page_shift;	/* host page, for mapped_bytes */
	unsigned int max_batch;		/* most buffers per coal_map() */
	unsigned int ext_bits;		/* log2 buckets, extent table */
	unsigned int buf_bits;		/* log2 buckets, buffer table */
	/*
	 * Unmaps deferred before they go to the host in one host_unmap call
	 * (<= max_batch). 0: strict, every coal_unmap() call sends its own
	 * before returning. A deferred unmap leaves the freed buffer's bytes
	 * device-reachable until it is sent.
	 */
	unsigned int lazy_max;
	/*
	 * Lazy only: the queue is also sent once the bytes of its mappings
	 * reach this, which bounds what freed memory stays device-reachable
	 * by bytes as lazy_max bounds it by count; 0: no byte bound.
	 */
	uint64_t lazy_bytes;
	/* Bytes of idle mappings (no buffer uses them) kept, LRU; 0: off. */
	uint64_t cache_bytes;
	/*
	 * Host bytes / mappings (in use + idle + deferred) above which idle
	 * mappings are evicted before a new host mapping is made; 0: none.
	 */
	uint64_t watermark_bytes;
	uint64_t watermark_maps;
	/*
	 * Records of unmapped buffers (bookkeeping memory, no mapping) kept
	 * for the next coal_map() instead of going back to env.free, at most
	 * this many (<= COAL_MAX_KEEP_RECS); 0: none kept. Saves an alloc and
	 * a free per buffer on the hot path.
	 */
	unsigned int keep_recs;
};

#define COAL_DEFAULT_CLUSTER_SHIFT	18	/* 256 KiB */
#define COAL_DEFAULT_PAGE_SHIFT		14
#define COAL_DEFAULT_MAX_BATCH		64
#define COAL_DEFAULT_EXT_BITS		12
#define COAL_DEFAULT_BUF_BITS		14
#define COAL_MAX_KEEP_RECS		1048576u

struct coal_stats {
	uint64_t live_buffers;
	uint64_t peak_buffers;
	uint64_t buffers_mapped;	/* buffers ever mapped (successfully) */
	uint64_t live_extents;		/* live host mappings */
	uint64_t live_clusters;		/* of which cluster windows (or pairs) */
	uint64_t mapped_bytes;		/* host-page-rounded bytes of them */
	uint64_t peak_extents;
	uint64_t peak_mapped_bytes;
	uint64_t cluster_hits;		/* small buffers served by a live cluster */
	uint64_t cluster_misses;	/* small buffers that made a cluster */
	uint64_t pairs;			/* of the misses, pairs made for straddlers */
	uint64_t straddle_private;	/* straddlers mapped privately */
	uint64_t cluster_refused;	/* clusters refused for space: retried */
	uint64_t private_maps;		/* buffers given their own mapping */
	uint64_t host_maps;		/* host mappings requested */
	uint64_t host_map_errors;	/* of which refused or malformed */
	uint64_t map_errors;		/* coal_map() calls that failed */
	uint64_t unknown_unmaps;	/* unmaps of addresses not live */
	uint64_t size_mismatches;	/* unmaps that named a wrong length */
	/*
	 * live_extents, mapped_bytes and the peaks count every mapping the
	 * host holds for us, from its answer until its unmap is sent: in
	 * use, idle, deferred, or made by a call that then undid it.
	 */
	uint64_t idle_extents;		/* mappings kept idle (cache) */
	uint64_t idle_bytes;
	uint64_t deferred;		/* unmaps queued, not yet sent */
	uint64_t deferred_bytes;
	uint64_t idle_hits;		/* buffers served by an idle mapping */
	uint64_t evictions;		/* idle mappings dropped */
	uint64_t evict_watermark;	/* of which above a watermark */
	uint64_t evict_pressure;	/* of which for a host refusal */
	/*
	 * Peaks, after each host map, of the idle or deferred bytes / maps
	 * held above watermark_bytes / watermark_maps: always 0 (idle and
	 * deferred mappings go before a map would rise above a watermark).
	 */
	uint64_t wm_excess_bytes;
	uint64_t wm_excess_maps;
	uint64_t flushes;		/* host_unmap calls, lazy_max > 0 */
	uint64_t pressure_retries;	/* coal_map() calls retried after trim */
	uint64_t host_unmaps;		/* host mappings unmapped */
	uint64_t host_calls;		/* host_map + host_unmap invocations */
	uint64_t recs_kept;		/* buffer records kept (keep_recs) */
	uint64_t pins;			/* mappings pinned now (coal_pin_idle) */
};

struct coal;

/* Bytes of state for cfg (after defaults), or 0 if cfg is invalid. */
size_t coal_size(const struct coal_config *cfg);

/*
 * Initialise in mem (coal_size() bytes, 8-byte aligned). Zero fields of cfg
 * take defaults, except cluster_shift (0 disables clusters) and small_max
 * (0: half a cluster). Returns NULL on a bad config: cluster_shift outside
 * [COAL_MIN_CLUSTER_SHIFT, COAL_MAX_CLUSTER_SHIFT], small_max above one
 * cluster, lazy_max above max_batch, keep_recs above
 * COAL_MAX_KEEP_RECS, or a missing callback.
 */
struct coal *coal_init(void *mem, const struct coal_config *cfg,
		       const struct coal_env *env);

/* The configuration in force. */
const struct coal_config *coal_config(const struct coal *c);

/* coal_buf.flags */
#define COAL_BUF_PRIVATE	1u	/* never share: own host mapping */

/* A buffer to map: the coalescer fills dma. */
struct coal_buf {
	uint64_t gpa;
	uint64_t len;
	unsigned int dir;		/* COAL_DIR_* */
	unsigned int flags;		/* COAL_BUF_* */
	uint64_t dma;			/* out */
};

/*
 * Map n (<= max_batch) buffers, all or nothing. Returns 0, or the first
 * error (COAL_E2BIG if n is too large, COAL_EINVAL for a bad buffer:
 * length 0 or above COAL_MAX_LEN, an end past 2^64 once rounded up to a
 * host page, a bad dir or flag; COAL_ENOMEM, or the host's error) with
 * nothing mapped. The host's COAL_ENOMEM means "no space": with anything
 * idle or deferred the call is undone and tried again after coal_trim(),
 * once; then a cluster refused so is retried privately.
 */
int coal_map(struct coal *c, struct coal_buf *buf, unsigned int n);

/* A buffer to unmap, as coal_map() returned it. */
struct coal_ubuf {
	uint64_t dma;
	uint64_t len;
};

/*
 * Unmap n buffers (any n). An address that is not live is counted and
 * skipped; a live address with another length is unmapped (the first such
 * buffer) and counted as a size mismatch. Returns the number skipped.
 */
unsigned int coal_unmap(struct coal *c, const struct coal_ubuf *buf,
			unsigned int n);

/*
 * As coal_unmap(), but the mapping of each buffer is never kept idle: when
 * its last buffer goes (now, or later if others still use it) its unmap is
 * deferred or sent as without the cache. For a mapping the caller found
 * unusable (guest/ops.c remaps around it), so it is not handed out again.
 */
unsigned int coal_unmap_drop(struct coal *c, const struct coal_ubuf *buf,
			     unsigned int n);

/*
 * As coal_unmap() of one buffer, but an address not live is not counted
 * as unknown: false. For an embedder that mapped it elsewhere (a pin).
 */
bool coal_unmap_known(struct coal *c, const struct coal_ubuf *u);

/*
 * Unmap everything (teardown), then coal_trim(), and free the records kept
 * for reuse; returns the number of buffers released.
 */
uint64_t coal_release_all(struct coal *c);

/*
 * Free the records kept for reuse (keep_recs): the last call before the
 * embedder frees the state, after coal_release_all() (a call that failed
 * since may have kept some). Maps nothing, unmaps nothing.
 */
void coal_fini(struct coal *c);

/*
 * Pins: a reference on the cluster mapping of one window, held without a
 * buffer record, for an embedder that serves buffers from that window by
 * itself (apple_dma's lock-free hits, guest/fast.c) and counts them itself.
 * coal_pin_idle() pins the cluster of gpa's window only if it is idle (so
 * no buffer record lies in its device range when pinned) and mapped in one
 * device-contiguous run covering the whole window; the pin fills p with the
 * window and its device address. A pinned mapping counts as in use; while
 * pinned, coal_map() may still serve buffers from it (with records).
 * coal_unpin() gives it back: idle again, or retired, as when the last
 * buffer goes. coal_release_all() does not drop pins: unpin first.
 */
struct coal_pin {
	uint64_t gpa;
	uint64_t len;
	uint64_t dma;
	void *ext;			/* the coalescer's, opaque */
};

bool coal_pin_idle(struct coal *c, uint64_t gpa, struct coal_pin *p);
void coal_unpin(struct coal *c, const struct coal_pin *p);

/*
 * Would bytes / maps more host mappings take in use + idle + deferred above
 * watermark_bytes / watermark_maps? (What coal_map() makes room for.)
 */
bool coal_over_watermark(const struct coal *c, uint64_t bytes, uint64_t maps);

/* Send every deferred unmap now; returns how many were sent. */
unsigned int coal_flush(struct coal *c);

/* Evict every idle mapping, then coal_flush(): frees all the host space. */
void coal_trim(struct coal *c);

const struct coal_stats *coal_stats(const struct coal *c);

/*
 * What a caller may be handed from a mapping: every answer, a cluster hit
 * as much as a new mapping, is checked against it by the embedder.
 */
struct coal_want {
	uint64_t mask;		/* highest device address allowed */
	uint64_t boundary;	/* segment boundary mask: not to be crossed */
	uint64_t align;		/* power of two (1: any) */
	uint64_t size;		/* bytes handed out from the mapping */
};

/*
 * The device address to hand out from a mapping that starts at dma and runs
 * on for len bytes: the first address >= dma aligned to w->align from which
 * w->size bytes fit in the mapping, below w->mask, not across w->boundary
 * (unless w->size is longer than a segment); 0 if there is none. Address 0
 * itself is never handed out: drivers take it for "no address". Inline: it
 * is on every hit's path.
 */
static inline uint64_t coal_pick(const struct coal_want *w, uint64_t dma,
				 uint64_t len)
{
	uint64_t a = w->align ? w->align : 1;
	uint64_t off = (a - (dma & (a - 1))) & (a - 1);
	uint64_t use = dma + off, last = use + w->size - 1;

	if (!dma || !w->size || off > len || w->size > len - off ||
	    use < dma || last < use || last > w->mask)
		return 0;
	/* a buffer longer than a segment cannot keep to one */
	if (w->size - 1 <= w->boundary && ((use ^ last) & ~w->boundary))
		return 0;
	return use;
}

#endif /* COALESCE_H */
