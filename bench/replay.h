/* SPDX-License-Identifier: (GPL-2.0 OR MIT) */
/*
 * replay.h - replaying a recorded DMA API trace (guest/core/coal_trace.h)
 * through the guest's coalescer over the simulated DART, one policy at a
 * time: replay_trace.c reads and checks the file, replay_run.c runs it,
 * replay.c is the command-line tool that prints the policies side by side.
 */
#ifndef REPLAY_H
#define REPLAY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "coal_trace.h"
#include "coalesce.h"

/* A trace, checked: every call is whole and every record sane. */
struct rp_trace {
	struct coal_trace_hdr hdr;
	struct coal_trace_rec *rec;	/* hdr.nrec */
	uint64_t calls;			/* DMA API calls (groups of records) */
	uint64_t maps, unmaps;		/* records of each kind */
};

/*
 * Parse a whole file held in buf. 0, or -1 with why in err (truncated, bad
 * magic, a record that makes no sense, ...); t is then empty.
 */
int rp_trace_parse(const uint8_t *buf, size_t len, struct rp_trace *t,
		   char *err, size_t errlen);
/* Read all of f into *buf (malloc'd); 0, or -1 with why in err. */
int rp_read_all(FILE *f, uint8_t **buf, size_t *len, char *err,
		size_t errlen);
void rp_trace_free(struct rp_trace *t);

/* The fake host: the simulated DART with these limits. */
struct rp_host_cfg {
	uint64_t max_bytes;		/* 0: dartsim's default (1.5 GiB) */
	uint32_t max_maps;		/* 0: dartsim's default (65536) */
};

struct rp_policy {
	const char *name;
	struct coal_config cfg;		/* max_batch: requests per doorbell */
	uint64_t lazy_ns;		/* flush timer after a deferral; 0: none */
};

struct rp_result {
	uint64_t buffers;		/* DMA API calls: buffers (un)mapped */
	uint64_t api_calls;		/* calls of the API (an sg is one) */
	uint64_t doorbells;		/* host_map + host_unmap calls */
	uint64_t map_reqs, unmap_reqs;	/* host requests */
	uint64_t peak_maps, peak_bytes;	/* live on the host, at most */
	uint64_t refusals;		/* API calls whose map failed */
	uint64_t host_refusals;		/* host answers NO_SPACE/FRAGMENTED */
	uint64_t unknown_unmaps;	/* unmaps of addresses never mapped */
	uint64_t timer_flushes;		/* flushes the modelled timer made */
	uint64_t over_batch;		/* doorbells above max_batch: a bug */
	struct coal_stats coal;		/* the coalescer's own, at the end */
};

/* The knobs of our policies; cluster_kb, small_kb -1: the trace's run's. */
struct rp_knobs {
	long cluster_kb, small_kb;
	unsigned int lazy_max, lazy_us, watermark_pct;
	uint64_t cache_kb, lazy_kb;
};

/* The module's defaults (guest/main.c). */
#define RP_KNOBS_DEFAULT { .cluster_kb = 1024, .small_kb = 512, .lazy_max = 64, \
			   .lazy_us = 1000, .cache_kb = 262144, .lazy_kb = 8192, \
			   .watermark_pct = 50 }

enum { RP_PER_BUFFER, RP_REFERENCE, RP_CLUSTERS, RP_LAZY, RP_CACHE, RP_NPOL };

/* The policies (RP_NPOL, in that order) for t under knobs k, host h. */
void rp_policies(const struct rp_trace *t, const struct rp_knobs *k,
		 const struct rp_host_cfg *h, struct rp_policy *p);

/* Replay t under p on a fresh host; 0, or -1 if p's config is refused. */
int rp_run(const struct rp_trace *t, const struct rp_policy *p,
	   const struct rp_host_cfg *h, struct rp_result *r);

/* The least any scheme of contiguous mappings could do (replay_bound.c). */
struct rp_bound {
	uint64_t budget;		/* bytes live at any moment, at most */
	uint64_t maps;			/* fewest mappings at the worst moment */
	uint64_t call;			/* that moment: after this driver call */
	uint64_t live;			/* buffers live then */
	bool over;			/* a moment's buffers alone exceed budget */
	uint64_t over_call;		/* the first such (maps: the others) */
};

/* The bound of t under budget; 0, or -1 when out of memory. */
int rp_bound(const struct rp_trace *t, uint64_t budget, struct rp_bound *b);

#endif /* REPLAY_H */
