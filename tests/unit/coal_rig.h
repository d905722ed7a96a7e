/* SPDX-License-Identifier: (GPL-2.0 OR MIT) */
/*
 * coal_rig.h - the fake host the guest coalescer is tested against (see
 * coal_rig.c), shared by test_coalesce.c (randomized runs against a model)
 * and test_coalesce_cases.c (one behaviour per test).
 */
#ifndef COAL_RIG_H
#define COAL_RIG_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "coalesce.h"

#define KiB		1024ull
#define MiB		(1024ull * KiB)
#define HPAGE		(16 * KiB)

/* Guest RAM: [RAM_BASE, RAM_END) with a hole that is not cluster-aligned. */
#define RAM_BASE	(1024 * MiB)
#define RAM_END		(RAM_BASE + 256 * MiB)
#define HOLE_START	(RAM_BASE + 100 * MiB + 48 * KiB)
#define HOLE_END	(RAM_BASE + 100 * MiB + 304 * KiB)

struct hmap {
	uint64_t handle;
	uint64_t gpa, len;
	unsigned int dir;
	unsigned int nsegs;
	struct coal_seg seg[COAL_MAX_SEGS];
};

/* one live segment, kept sorted by iova for translation */
struct hseg {
	uint64_t iova, len, gpa;
	unsigned int dir;
	size_t map;			/* index in host.maps */
};

struct host {
	struct hmap *maps;
	size_t nmaps, capmaps;
	struct hseg *segs;
	size_t nsegs, capsegs;
	uint64_t next_iova;
	uint64_t next_handle;
	uint64_t rng;
	/* behaviour */
	int split_pct;			/* % of answers split in segments */
	int split_contig_pct;		/* % of split answers kept contiguous */
	uint64_t fail_at;		/* fail the Nth map request (1-based) */
	int fail_ppm;
	bool malformed_next;		/* answer the next map with a bad length */
	uint64_t nospace_from;		/* refuse maps of >= this many bytes */
	/* a tiny host: refuse (COAL_ENOMEM) maps above these; 0: no limit */
	uint64_t limit_maps, limit_bytes;
	/* counters */
	uint64_t map_reqs, map_calls, unmaps, unmap_calls, refused;
	uint64_t max_batch_seen;
	/* allocator */
	uint64_t allocs_live, alloc_calls, alloc_fail_at;
	bool window_cb;
};

extern struct host H;

/* a live buffer as the tests remember it */
struct mbuf {
	uint64_t gpa, len, dma;
	unsigned int dir;
};

struct snapshot {
	struct coal_stats st;
	size_t host_maps;
	uint64_t allocs;
};

uint64_t rnd(void);
uint64_t rnd_below(uint64_t n);
bool in_ram(uint64_t gpa, uint64_t len);
void host_reset(uint64_t seed);
bool host_translate(uint64_t iova, uint64_t *gpa, unsigned int *dir,
		    size_t *map);
void fake_host_map(void *ctx, struct coal_host_req *req, unsigned int n);
void fake_host_unmap(void *ctx, const uint64_t *handle, unsigned int n);
bool fake_window_ok(void *ctx, uint64_t gpa, uint64_t len);
void *fake_alloc(void *ctx, size_t size);
void fake_free(void *ctx, void *p);
struct coal *coal_new(unsigned int cluster_shift, uint64_t small_max,
		      unsigned int max_batch);
struct coal *coal_new_cfg(const struct coal_config *cfg);
uint64_t host_bytes(void);
uint64_t round_bytes(uint64_t gpa, uint64_t len);
size_t check_buffer(const struct mbuf *b, unsigned char *used);
void snap(struct coal *c, struct snapshot *s);
void assert_unchanged(struct coal *c, const struct snapshot *s);
struct coal_buf mkbuf(uint64_t gpa, uint64_t len, unsigned int dir);

#endif /* COAL_RIG_H */
