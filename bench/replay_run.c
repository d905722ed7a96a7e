// SPDX-License-Identifier: (GPL-2.0 OR MIT)
/*
 * replay_run.c - one policy over one trace: the coalescer under the
 * policy's config, over a fake host that is the simulated DART (16 KiB
 * pages, IOVAs it picks, its byte and mapping limits) and counts what a
 * real host would be asked: each host_map/host_unmap call is one doorbell.
 *
 * Calls are replayed as the guest made them (guest/ops.c): a call of n
 * buffers goes to the coalescer in chunks of max_batch, and a failed chunk
 * undoes the chunks before it. The recorded device addresses are mapped to
 * the replayed ones through a hash, so a later unmap names the right one.
 * Lazy unmap's flush timer is modelled from the timestamps: armed by the
 * first deferred unmap, it flushes at the first call lazy_ns or more later.
 */
#include <stdlib.h>
#include <string.h>

#include "dartsim.h"
#include "replay.h"

#define HASH_BITS	16
#define KIB		1024ull
#define MIB		(1024 * KIB)

/* ---- fake host */

struct hmap {
	struct adma_seg seg[COAL_MAX_SEGS];
	unsigned int nsegs;		/* 0: free slot */
};

struct fhost {
	struct dartsim *d;
	unsigned int max_batch;
	struct hmap *map;		/* by handle - 1 */
	uint64_t nmap, capmap;
	uint64_t *free;			/* free handles */
	uint64_t nfree;
	struct rp_result *r;
	bool oom;
};

static int status_errno(int st)
{
	switch (st) {
	case ADMA_S_OK:
		return 0;
	case ADMA_S_NO_SPACE:
	case ADMA_S_FRAGMENTED:
		return COAL_ENOMEM;
	case ADMA_S_INVALID:
	case ADMA_S_RANGE:
		return COAL_EINVAL;
	default:
		return COAL_EIO;
	}
}

/* A free handle slot, or 0 (out of memory). */
static uint64_t handle_new(struct fhost *h)
{
	struct hmap *m;

	if (h->nfree)
		return h->free[--h->nfree];
	if (h->nmap == h->capmap) {
		uint64_t cap = h->capmap ? 2 * h->capmap : 1024;
		uint64_t *f = realloc(h->free, cap * sizeof(*f));

		if (f)
			h->free = f;
		m = f ? realloc(h->map, cap * sizeof(*m)) : NULL;
		if (!m) {
			h->oom = true;
			return 0;
		}
		h->map = m;
		h->capmap = cap;
	}
	h->map[h->nmap].nsegs = 0;
	return ++h->nmap;
}

static void host_map(void *ctx, struct coal_host_req *req, unsigned int n)
{
	struct fhost *h = ctx;
	unsigned int i, j;

	h->r->doorbells++;
	h->r->map_reqs += n;
	if (n > h->max_batch)
		h->r->over_batch++;
	for (i = 0; i < n; i++) {
		struct coal_host_req *q = &req[i];
		uint64_t hd = handle_new(h);
		struct hmap *m;
		int st;

		if (!hd) {
			q->err = COAL_ENOMEM;
			continue;
		}
		m = &h->map[hd - 1];
		st = dartsim_map(h->d, q->gpa, q->len, q->dir, m->seg,
				 COAL_MAX_SEGS, &m->nsegs);
		q->err = status_errno(st);
		if (q->err) {
			if (q->err == COAL_ENOMEM)
				h->r->host_refusals++;
			m->nsegs = 0;
			h->free[h->nfree++] = hd;
			continue;
		}
		q->handle = hd;
		q->nsegs = m->nsegs;
		for (j = 0; j < m->nsegs; j++) {
			q->seg[j].dma = m->seg[j].iova;
			q->seg[j].len = m->seg[j].len;
		}
	}
}

static void host_unmap(void *ctx, const uint64_t *handle, unsigned int n)
{
	struct fhost *h = ctx;
	unsigned int i;

	h->r->doorbells++;
	h->r->unmap_reqs += n;
	if (n > h->max_batch)
		h->r->over_batch++;
	for (i = 0; i < n; i++) {
		uint64_t hd = handle[i];

		if (!hd || hd > h->nmap || !h->map[hd - 1].nsegs) {
			h->oom = true;	/* the coalescer lost track: a bug */
			continue;
		}
		dartsim_unmap(h->d, h->map[hd - 1].seg, h->map[hd - 1].nsegs);
		h->map[hd - 1].nsegs = 0;
		h->free[h->nfree++] = hd;
	}
}

static void *env_alloc(void *ctx, size_t size)
{
	(void)ctx;
	return malloc(size);
}

static void env_free(void *ctx, void *p)
{
	(void)ctx;
	free(p);
}

/* ---- recorded device address -> replayed one */

struct live {
	uint64_t rec_dma, len, dma;	/* dma 0: its map was refused */
	int64_t next;			/* in bucket or free list; -1: end */
};

struct addrmap {
	int64_t bucket[1 << HASH_BITS];
	struct live *e;
	int64_t n, cap, free;
};

static unsigned int hash(uint64_t dma)
{
	return (unsigned int)((dma >> 12) * 0x9e3779b97f4a7c15ull >>
			      (64 - HASH_BITS));
}

static int am_add(struct addrmap *m, uint64_t rec_dma, uint64_t len,
		  uint64_t dma)
{
	int64_t i = m->free;
	unsigned int b = hash(rec_dma);

	if (i >= 0) {
		m->free = m->e[i].next;
	} else {
		if (m->n == m->cap) {
			int64_t cap = m->cap ? 2 * m->cap : 4096;
			struct live *e = realloc(m->e, cap * sizeof(*e));

			if (!e)
				return -1;
			m->e = e;
			m->cap = cap;
		}
		i = m->n++;
	}
	m->e[i] = (struct live){ .rec_dma = rec_dma, .len = len, .dma = dma,
				 .next = m->bucket[b] };
	m->bucket[b] = i;
	return 0;
}

/*
 * Take the live buffer recorded at rec_dma (of length len if several are);
 * false if there is none.
 */
static bool am_take(struct addrmap *m, uint64_t rec_dma, uint64_t len,
		    struct live *out)
{
	int64_t *link = &m->bucket[hash(rec_dma)], *pick = NULL;

	for (; *link >= 0; link = &m->e[*link].next) {
		if (m->e[*link].rec_dma != rec_dma)
			continue;
		if (!pick || m->e[*link].len == len)
			pick = link;
		if (m->e[*link].len == len)
			break;
	}
	if (!pick)
		return false;
	*out = m->e[*pick];
	m->e[*pick].next = m->free;
	m->free = *pick;
	*pick = out->next;
	return true;
}

/* ---- the replay */

struct run {
	const struct rp_policy *p;
	void *cmem, *dmem;		/* what c and h.d live in */
	struct coal *c;
	struct fhost h;
	struct addrmap am;
	struct rp_result *r, teardown;
	struct coal_buf *buf;
	struct coal_ubuf *ubuf;
	bool armed;
	uint64_t armed_at;
};

/* Map one call of n records; on failure nothing stays mapped. */
static int replay_map(struct run *x, const struct coal_trace_rec *rec,
		      uint32_t n)
{
	unsigned int chunk = x->h.max_batch, k;
	uint32_t i, done = 0;
	int err = 0;

	for (i = 0; i < n; i++)
		x->buf[i] = (struct coal_buf){
			.gpa = rec[i].gpa, .len = rec[i].len, .dir = rec[i].dir,
			.flags = rec[i].flags & COAL_TRACE_F_PRIVATE ?
				 COAL_BUF_PRIVATE : 0,
		};
	while (done < n && !err) {
		k = n - done < chunk ? n - done : chunk;
		err = coal_map(x->c, x->buf + done, k);
		if (!err)
			done += k;
	}
	if (err) {
		x->r->refusals++;
		for (i = 0; i < done; i++)
			x->ubuf[i] = (struct coal_ubuf){ .dma = x->buf[i].dma,
							 .len = x->buf[i].len };
		for (i = 0; i < done; i += chunk)
			coal_unmap(x->c, x->ubuf + i,
				   done - i < chunk ? done - i : chunk);
	}
	for (i = 0; i < n; i++)
		if (am_add(&x->am, rec[i].dma, rec[i].len,
			   err ? 0 : x->buf[i].dma))
			return -1;
	return 0;
}

static void replay_unmap(struct run *x, const struct coal_trace_rec *rec,
			 uint32_t n)
{
	unsigned int chunk = x->h.max_batch;
	uint32_t i, k = 0;
	struct live l;

	for (i = 0; i < n; i++) {
		if (!am_take(&x->am, rec[i].dma, rec[i].len, &l)) {
			x->r->unknown_unmaps++;
			continue;
		}
		if (l.dma)	/* else its map was refused: nothing to undo */
			x->ubuf[k++] = (struct coal_ubuf){ .dma = l.dma,
							   .len = rec[i].len };
	}
	for (i = 0; i < k; i += chunk)
		coal_unmap(x->c, x->ubuf + i, k - i < chunk ? k - i : chunk);
}

/* The flush timer, as the guest's (armed by a deferral, fires once). */
static void timer_model(struct run *x, uint64_t now)
{
	if (!x->p->lazy_ns)
		return;
	if (x->armed && now >= x->armed_at + x->p->lazy_ns) {
		x->armed = false;
		if (coal_flush(x->c))
			x->r->timer_flushes++;
	}
	if (!x->armed && coal_stats(x->c)->deferred) {
		x->armed = true;
		x->armed_at = now;
	}
}

static int setup(struct run *x, const struct rp_trace *t,
		 const struct rp_host_cfg *hc)
{
	struct dartsim_config dc = {
		.max_bytes = hc->max_bytes, .max_maps = hc->max_maps,
	};
	struct coal_env env = {
		.ctx = &x->h, .host_map = host_map, .host_unmap = host_unmap,
		.alloc = env_alloc, .free = env_free,
	};
	uint64_t most = 1;
	size_t sz;
	uint64_t i;

	sz = dartsim_size(&dc);
	x->dmem = sz ? calloc(1, sz) : NULL;
	x->h.d = x->dmem ? dartsim_init(x->dmem, &dc) : NULL;
	sz = coal_size(&x->p->cfg);
	x->cmem = sz ? calloc(1, sz) : NULL;
	x->c = x->cmem ? coal_init(x->cmem, &x->p->cfg, &env) : NULL;
	if (!x->h.d || !x->c)
		return -1;
	for (i = 0; i < t->hdr.nrec; i++)
		if (t->rec[i].nbuf > most)
			most = t->rec[i].nbuf;
	x->buf = calloc(most, sizeof(*x->buf));
	x->ubuf = calloc(most, sizeof(*x->ubuf));
	memset(x->am.bucket, 0xff, sizeof(x->am.bucket));
	x->am.free = -1;
	x->h.max_batch = coal_config(x->c)->max_batch;
	return x->buf && x->ubuf ? 0 : -1;
}

int rp_run(const struct rp_trace *t, const struct rp_policy *p,
	   const struct rp_host_cfg *hc, struct rp_result *r)
{
	struct run *x = calloc(1, sizeof(*x));
	uint64_t i, now = 0;
	int ret = -1;

	memset(r, 0, sizeof(*r));
	if (!x)
		return -1;
	x->p = p;
	x->r = r;
	x->h.r = r;
	if (setup(x, t, hc))
		goto out;
	for (i = 0; i < t->hdr.nrec; i += t->rec[i].nbuf) {
		const struct coal_trace_rec *rec = &t->rec[i];

		/* recorded on several CPUs: time only runs forward */
		now = rec->ts_ns > now ? rec->ts_ns : now;
		timer_model(x, now);
		r->api_calls++;
		r->buffers += rec->nbuf;
		if (rec->op == COAL_TRACE_MAP) {
			if (replay_map(x, rec, rec->nbuf))
				goto out;
		} else {
			replay_unmap(x, rec, rec->nbuf);
		}
		timer_model(x, now);
	}
	r->peak_maps = dartsim_stats(x->h.d)->peak_maps;
	r->peak_bytes = dartsim_stats(x->h.d)->peak_bytes;
	r->coal = *coal_stats(x->c);
	ret = x->h.oom ? -1 : 0;
out:
	x->h.r = &x->teardown;	/* what the end of the trace left: not counted */
	if (x->c)
		coal_release_all(x->c);
	free(x->cmem);
	free(x->dmem);
	free(x->h.map);
	free(x->h.free);
	free(x->am.e);
	free(x->buf);
	free(x->ubuf);
	free(x);
	return ret;
}

/* ---- the policies */

static unsigned int log2u(uint64_t v)
{
	unsigned int s = 0;

	while (v > 1) {
		v >>= 1;
		s++;
	}
	return s;
}

void rp_policies(const struct rp_trace *t, const struct rp_knobs *o,
		 const struct rp_host_cfg *h, struct rp_policy *p)
{
	uint64_t maxb = h->max_bytes ? h->max_bytes : 1536 * MIB;
	uint64_t maxm = h->max_maps ? h->max_maps : 65536;
	struct coal_config ours = {
		.cluster_shift = t->hdr.cluster_shift,
		.small_max = t->hdr.small_max,
		.page_shift = t->hdr.page_shift,
		.max_batch = t->hdr.max_batch,
	};
	unsigned int lazy = o->lazy_max < ours.max_batch ? o->lazy_max :
			    ours.max_batch;

	if (o->cluster_kb >= 0) {
		ours.cluster_shift = o->cluster_kb ?
				     log2u((uint64_t)o->cluster_kb * KIB) : 0;
		ours.small_max = ours.cluster_shift ?
				 (1ull << ours.cluster_shift) / 2 : 0;
	}
	if (o->small_kb >= 0)
		ours.small_max = (uint64_t)o->small_kb * KIB;
	memset(p, 0, RP_NPOL * sizeof(*p));
	p[RP_PER_BUFFER].name = "per-buffer";
	p[RP_PER_BUFFER].cfg = ours;
	p[RP_PER_BUFFER].cfg.cluster_shift = 0;
	p[RP_PER_BUFFER].cfg.small_max = 0;
	p[RP_REFERENCE].name = "reference";
	p[RP_REFERENCE].cfg = ours;
	p[RP_REFERENCE].cfg.cluster_shift = 18;	/* 256 KiB windows */
	p[RP_REFERENCE].cfg.small_max = 0;
	p[RP_REFERENCE].cfg.max_batch = 1;
	p[RP_CLUSTERS].name = "ours-clusters";
	p[RP_CLUSTERS].cfg = ours;
	p[RP_LAZY].name = "ours+lazy";
	p[RP_LAZY].cfg = ours;
	p[RP_LAZY].cfg.lazy_max = lazy;
	p[RP_LAZY].cfg.lazy_bytes = o->lazy_kb * KIB;
	p[RP_LAZY].lazy_ns = (uint64_t)o->lazy_us * 1000;
	p[RP_CACHE] = p[RP_LAZY];
	p[RP_CACHE].name = "ours+lazy+cache";
	p[RP_CACHE].cfg.cache_bytes = o->cache_kb * KIB;
	p[RP_CACHE].cfg.watermark_bytes = maxb * o->watermark_pct / 100;
	p[RP_CACHE].cfg.watermark_maps = maxm * o->watermark_pct / 100;
}

