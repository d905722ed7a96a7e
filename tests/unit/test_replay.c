// SPDX-License-Identifier: (GPL-2.0 OR MIT)
/*
 * test_replay.c - the trace replay (bench/replay_*.c) on tiny hand-made
 * traces whose answers are known: what each policy asks of the host, and
 * malformed files rejected with their reason.
 */
#define _POSIX_C_SOURCE 200809L	/* popen */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "replay.h"

#define KiB	1024ull
#define BASE	(1ull << 30)	/* cluster-aligned guest-physical base */
#define DMA0	0x10000000000ull

/* A trace being built: the header's config and up to 64 records. */
struct tb {
	struct coal_trace_hdr hdr;
	struct coal_trace_rec rec[64];
	unsigned int n;
	uint8_t file[COAL_TRACE_HDR_SIZE + 64 * COAL_TRACE_REC_SIZE];
};

static void tb_init(struct tb *b)
{
	memset(b, 0, sizeof(*b));
	b->hdr.page_shift = 14;
	b->hdr.cluster_shift = 18;
	b->hdr.small_max = 128 * KiB;
	b->hdr.max_batch = 64;
}

/* One call of n buffers at gpa[i] (len each), recorded dma = DMA0 + gpa. */
static void tb_call(struct tb *b, unsigned int op, unsigned int n,
		    const uint64_t *gpa, uint64_t len, uint64_t ts)
{
	unsigned int i;

	for (i = 0; i < n; i++)
		b->rec[b->n++] = (struct coal_trace_rec){
			.op = op, .dir = op == COAL_TRACE_MAP ? 3 : 0,
			.nbuf = i ? 0 : n,
			.gpa = op == COAL_TRACE_MAP ? gpa[i] : 0, .len = len,
			.dma = DMA0 + gpa[i], .ts_ns = ts,
		};
}

/* Encode; returns the file's length. */
static size_t tb_encode(struct tb *b)
{
	unsigned int i;

	b->hdr.nrec = b->n;
	coal_trace_hdr_encode(b->file, &b->hdr);
	for (i = 0; i < b->n; i++)
		coal_trace_rec_encode(b->file + COAL_TRACE_HDR_SIZE +
				      i * COAL_TRACE_REC_SIZE, &b->rec[i]);
	return COAL_TRACE_HDR_SIZE + b->n * COAL_TRACE_REC_SIZE;
}

static void parse_ok(struct tb *b, struct rp_trace *t)
{
	char err[200] = "";
	size_t len = tb_encode(b);

	if (rp_trace_parse(b->file, len, t, err, sizeof(err)))
		fail_msg("parse: %s", err);
}

/* Every policy of t with the default knobs and host. */
static void run_all(const struct rp_trace *t, struct rp_result *r)
{
	struct rp_knobs k = RP_KNOBS_DEFAULT;
	struct rp_host_cfg h = { 0 };
	struct rp_policy p[RP_NPOL];
	int i;

	/* the cluster config the hand-made traces were written for */
	k.cluster_kb = -1;
	k.small_kb = -1;

	rp_policies(t, &k, &h, p);
	for (i = 0; i < RP_NPOL; i++) {
		assert_int_equal(rp_run(t, &p[i], &h, &r[i]), 0);
		assert_int_equal(r[i].over_batch, 0);
	}
}

/* 3 buffers in one cluster, mapped in 3 calls, then unmapped in 3 calls. */
static void three_in_one_cluster(void **state)
{
	static const uint64_t gpa[3] = { BASE, BASE + 16 * KiB, BASE + 64 * KiB };
	struct rp_result r[RP_NPOL];
	struct rp_trace t;
	struct tb b;
	int i;

	(void)state;
	tb_init(&b);
	for (i = 0; i < 3; i++)
		tb_call(&b, COAL_TRACE_MAP, 1, &gpa[i], 4 * KiB, 1000 * i);
	for (i = 0; i < 3; i++)
		tb_call(&b, COAL_TRACE_UNMAP, 1, &gpa[i], 4 * KiB, 5000 + 1000 * i);
	parse_ok(&b, &t);
	assert_int_equal(t.calls, 6);
	run_all(&t, r);

	/* one mapping per buffer: 3 maps and 3 unmaps, 3 live at most */
	assert_int_equal(r[RP_PER_BUFFER].buffers, 6);
	assert_int_equal(r[RP_PER_BUFFER].map_reqs, 3);
	assert_int_equal(r[RP_PER_BUFFER].unmap_reqs, 3);
	assert_int_equal(r[RP_PER_BUFFER].doorbells, 6);
	assert_int_equal(r[RP_PER_BUFFER].peak_maps, 3);
	assert_int_equal(r[RP_PER_BUFFER].peak_bytes, 3 * 16 * KiB);
	/* one cluster: 1 map, 1 unmap (when the last buffer goes) */
	assert_int_equal(r[RP_CLUSTERS].map_reqs, 1);
	assert_int_equal(r[RP_CLUSTERS].unmap_reqs, 1);
	assert_int_equal(r[RP_CLUSTERS].doorbells, 2);
	assert_int_equal(r[RP_CLUSTERS].peak_maps, 1);
	assert_int_equal(r[RP_CLUSTERS].peak_bytes, 256 * KiB);
	assert_int_equal(r[RP_REFERENCE].map_reqs, 1);
	/* lazy: the unmap is deferred and no later call fires the timer */
	assert_int_equal(r[RP_LAZY].map_reqs, 1);
	assert_int_equal(r[RP_LAZY].unmap_reqs, 0);
	assert_int_equal(r[RP_LAZY].doorbells, 1);
	/* the cache keeps the cluster: nothing unmapped, nothing deferred */
	assert_int_equal(r[RP_CACHE].unmap_reqs, 0);
	assert_int_equal(r[RP_CACHE].coal.idle_extents, 1);
	for (i = 0; i < RP_NPOL; i++) {
		assert_int_equal(r[i].refusals, 0);
		assert_int_equal(r[i].unknown_unmaps, 0);
	}
	rp_trace_free(&t);
}

/*
 * One scatterlist of 3 buffers in 3 clusters, one unmap_sg: ours rings
 * once for the 3 maps; the reference rings once per request.
 */
static void sg_doorbells(void **state)
{
	static const uint64_t gpa[3] = { BASE, BASE + 1024 * KiB,
					 BASE + 2048 * KiB };
	struct rp_result r[RP_NPOL];
	struct rp_trace t;
	struct tb b;

	(void)state;
	tb_init(&b);
	tb_call(&b, COAL_TRACE_MAP, 3, gpa, 8 * KiB, 0);
	tb_call(&b, COAL_TRACE_UNMAP, 3, gpa, 8 * KiB, 10);
	/* a later call, 2 ms on: the lazy policies' timer fires before it */
	tb_call(&b, COAL_TRACE_MAP, 1, gpa, 8 * KiB, 2000000);
	parse_ok(&b, &t);
	assert_int_equal(t.calls, 3);
	run_all(&t, &r[0]);

	assert_int_equal(r[RP_REFERENCE].map_reqs, 4);
	assert_int_equal(r[RP_REFERENCE].unmap_reqs, 3);
	assert_int_equal(r[RP_REFERENCE].doorbells, 7);
	assert_int_equal(r[RP_CLUSTERS].map_reqs, 4);
	assert_int_equal(r[RP_CLUSTERS].unmap_reqs, 3);
	assert_int_equal(r[RP_CLUSTERS].doorbells, 3);
	/* lazy: 3 deferred, sent by the timer in one doorbell */
	assert_int_equal(r[RP_LAZY].unmap_reqs, 3);
	assert_int_equal(r[RP_LAZY].timer_flushes, 1);
	assert_int_equal(r[RP_LAZY].doorbells, 3);
	/* cache: the 4th map finds its cluster idle: no host call */
	assert_int_equal(r[RP_CACHE].map_reqs, 3);
	assert_int_equal(r[RP_CACHE].doorbells, 1);
	assert_int_equal(r[RP_CACHE].coal.idle_hits, 1);
	rp_trace_free(&t);
}

/* A host that holds one mapping: the second call is refused, and its
 * later unmap is skipped quietly; an unmap of an unknown address counted. */
static void tiny_host_and_unknown(void **state)
{
	static const uint64_t gpa[2] = { BASE, BASE + 1024 * KiB };
	struct rp_knobs k = RP_KNOBS_DEFAULT;
	struct rp_host_cfg h = { .max_maps = 1 };
	struct rp_policy p[RP_NPOL];
	static const uint64_t other = BASE + 4096 * KiB;
	struct rp_result r;
	struct rp_trace t;
	struct tb b;

	(void)state;
	k.cluster_kb = -1;	/* the trace's */
	k.small_kb = -1;
	tb_init(&b);
	tb_call(&b, COAL_TRACE_MAP, 1, &gpa[0], 4 * KiB, 0);
	tb_call(&b, COAL_TRACE_MAP, 1, &gpa[1], 4 * KiB, 1);
	tb_call(&b, COAL_TRACE_UNMAP, 1, &gpa[1], 4 * KiB, 2);
	tb_call(&b, COAL_TRACE_UNMAP, 1, &other, 4 * KiB, 3);
	parse_ok(&b, &t);
	rp_policies(&t, &k, &h, p);
	assert_int_equal(rp_run(&t, &p[RP_PER_BUFFER], &h, &r), 0);
	assert_int_equal(r.refusals, 1);
	assert_int_equal(r.host_refusals, 1);
	assert_int_equal(r.unknown_unmaps, 1);
	assert_int_equal(r.unmap_reqs, 0);
	assert_int_equal(r.peak_maps, 1);
	rp_trace_free(&t);
}

static void expect_reject(struct tb *b, size_t len, const char *why)
{
	struct rp_trace t;
	char err[200] = "";

	assert_int_equal(rp_trace_parse(b->file, len, &t, err, sizeof(err)), -1);
	if (!strstr(err, why))
		fail_msg("error '%s' does not say '%s'", err, why);
	assert_null(t.rec);
}

static void malformed(void **state)
{
	static const uint64_t gpa[3] = { BASE, BASE + 16 * KiB, BASE + 32 * KiB };
	struct tb b;
	size_t len;

	(void)state;
	tb_init(&b);
	tb_call(&b, COAL_TRACE_MAP, 3, gpa, 4 * KiB, 0);
	len = tb_encode(&b);
	expect_reject(&b, len - 1, "truncated");		/* a record cut */
	expect_reject(&b, 10, "truncated");			/* no header */
	b.file[0] = 'X';
	expect_reject(&b, len, "bad magic");
	tb_encode(&b);
	coal_trace_put32(b.file + 8, 7);			/* version */
	expect_reject(&b, len, "version");
	tb_encode(&b);
	b.file[len - COAL_TRACE_REC_SIZE + 4] = 1;		/* nbuf inside */
	expect_reject(&b, len, "starts inside");
	b.rec[0].nbuf = 4;					/* call cut short */
	len = tb_encode(&b);
	expect_reject(&b, len, "lacks 1 records");
	b.rec[0].nbuf = 1;					/* orphan records */
	len = tb_encode(&b);
	expect_reject(&b, len, "continues a call");
	b.rec[0].nbuf = 3;
	b.rec[1].op = 9;
	len = tb_encode(&b);
	expect_reject(&b, len, "op 9");
	b.rec[1].op = COAL_TRACE_MAP;
	b.rec[2].len = 0;
	len = tb_encode(&b);
	expect_reject(&b, len, "length 0");
}

/*
 * The shipped traces (tests/traces, make bench) still parse and replay
 * cleanly: every policy within max_batch per doorbell, no unmap of an
 * address the trace never mapped, clusters fewer host maps than buffers.
 * Run from the repository's top (make unit).
 */
static void shipped_traces(void **state)
{
	static const char *const files[] = { "tests/traces/nvme.trace.xz",
					     "tests/traces/simgpu.trace.xz" };
	struct rp_result r[RP_NPOL];
	struct rp_trace t;
	char cmd[128], err[200] = "";
	unsigned int f;
	uint8_t *buf;
	size_t len;
	FILE *p;

	(void)state;
	for (f = 0; f < 2; f++) {
		snprintf(cmd, sizeof(cmd), "xz -dc %s", files[f]);
		p = popen(cmd, "r");
		assert_non_null(p);
		assert_int_equal(rp_read_all(p, &buf, &len, err, sizeof(err)), 0);
		assert_int_equal(pclose(p), 0);
		if (rp_trace_parse(buf, len, &t, err, sizeof(err)))
			fail_msg("%s: %s", files[f], err);
		free(buf);
		assert_true(t.maps > 1000);
		assert_int_equal(t.hdr.dropped, 0);
		run_all(&t, r);
		assert_int_equal(r[RP_PER_BUFFER].map_reqs, t.maps);
		assert_int_equal(r[RP_PER_BUFFER].unknown_unmaps, 0);
		assert_true(r[RP_CLUSTERS].map_reqs * 4 < t.maps);
		assert_true(r[RP_REFERENCE].doorbells ==
			    r[RP_REFERENCE].map_reqs + r[RP_REFERENCE].unmap_reqs);
		rp_trace_free(&t);
	}
}

/*
 * The bound: three 4 KiB buffers in one call, at 0, 1 MiB and 100 MiB from
 * BASE: three one-page runs (16 KiB pages) with gaps of 1 MiB - 16 KiB and
 * 99 MiB - 16 KiB. Later calls hold fewer runs and must not lower it.
 */
static void bound(void **state)
{
	static const uint64_t three[3] = { BASE, BASE + 1024 * KiB,
					   BASE + 100 * 1024 * KiB };
	/* 4 KiB at 14 KiB covers two pages, touching the page at 32 KiB */
	static const uint64_t two[2] = { BASE + 14 * KiB, BASE + 32 * KiB };
	static const struct { uint64_t budget, maps; bool over; } want[] = {
		{ 32 * KiB, 0, true },			/* below the pages alone */
		{ 48 * KiB, 3, false },			/* the pages, no gap */
		{ 1056 * KiB - 16 * KiB, 3, false },	/* one page short */
		{ 1056 * KiB, 2, false },		/* bridges the 1 MiB gap */
		{ 100 * 1024 * KiB, 2, false },		/* 16 KiB short */
		{ 100 * 1024 * KiB + 16 * KiB, 1, false },
	};
	struct rp_bound b;
	struct rp_trace t;
	struct tb tr;
	unsigned int i;

	(void)state;
	tb_init(&tr);
	tb_call(&tr, COAL_TRACE_MAP, 3, three, 4 * KiB, 0);
	tb_call(&tr, COAL_TRACE_UNMAP, 3, three, 4 * KiB, 1);
	tb_call(&tr, COAL_TRACE_MAP, 2, two, 4 * KiB, 2);
	parse_ok(&tr, &t);
	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		assert_int_equal(rp_bound(&t, want[i].budget, &b), 0);
		assert_int_equal(b.maps, want[i].maps);
		assert_int_equal(b.over, want[i].over);
		/* the moment after the first call, measured before the unmaps */
		assert_int_equal(want[i].over ? b.over_call : b.call, 1);
		assert_int_equal(b.live, want[i].over ? 0 : 3);
	}
	rp_trace_free(&t);

	/* the second moment alone: two buffers over three pages, one run */
	tb_init(&tr);
	tb_call(&tr, COAL_TRACE_MAP, 2, two, 4 * KiB, 0);
	parse_ok(&tr, &t);
	assert_int_equal(rp_bound(&t, 48 * KiB, &b), 0);
	assert_int_equal(b.maps, 1);
	assert_false(b.over);
	assert_int_equal(rp_bound(&t, 32 * KiB, &b), 0);
	assert_true(b.over);
	assert_int_equal(b.over_call, 1);
	assert_int_equal(b.maps, 0);
	rp_trace_free(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(three_in_one_cluster),
		cmocka_unit_test(sg_doorbells),
		cmocka_unit_test(tiny_host_and_unknown),
		cmocka_unit_test(malformed),
		cmocka_unit_test(shipped_traces),
		cmocka_unit_test(bound),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
