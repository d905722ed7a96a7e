/* SPDX-License-Identifier: (GPL-2.0 OR MIT) */
/*
 * Model-based test of host core + DART simulator: thousands of random mixed
 * batches through the doorbell, each answer checked against a reference
 * model (a plain array of live mappings), and after every batch:
 * no two live IOVA ranges overlap, byte and count accounting is exact at
 * both layers, every live mapping translates to the right guest address, and
 * every IOVA freed since the last check faults unless a live mapping
 * covers it again.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "fake_guest.h"

#define PG	((uint64_t)ADMA_PAGE_SIZE)
#define MiB	(1ull << 20)
#define HI	(1ull << 32)
#define CMD	0x1000ull
#define REQS	0x2000ull
#define RESPS	0x10000ull
#define MAXB	32		/* requests per batch in this test */
#define MAXM	300		/* live mappings allowed */
#define MAXBYTES (24 * MiB)
#define APERTURE (32 * MiB)

struct live {
	uint64_t handle, gpa, len, iova;
	unsigned int dir;
};

static struct live model[MAXM + 1];
static unsigned int nlive;
static struct adma_seg freed[MAXB];
static unsigned int nfreed;
static uint64_t spent;	/* bytes this doorbell's maps handed the backend */
static unsigned int budget_refusals;
static uint64_t rng = 88172645463325252ull;

static uint64_t rnd(uint64_t n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return n ? rng % n : rng;
}

static uint64_t pages(uint64_t gpa, uint64_t len)
{
	return (((gpa + len + PG - 1) & ~(PG - 1)) - (gpa & ~(PG - 1))) / PG;
}

static uint64_t live_bytes(void)
{
	uint64_t sum = 0;
	unsigned int i;

	for (i = 0; i < nlive; i++)
		sum += pages(model[i].gpa, model[i].len) * PG;
	return sum;
}

static int in_ram(uint64_t gpa, uint64_t len)
{
	return (gpa + len <= 64 * MiB) ||
	       (gpa >= HI && gpa + len <= HI + 16 * MiB);
}

static struct adma_req random_req(void)
{
	struct adma_req q = { .op = ADMA_OP_MAP };
	uint64_t r = rnd(100);

	if (r < 40 && nlive) {
		q.op = ADMA_OP_UNMAP;
		q.handle = model[rnd(nlive)].handle;
		return q;
	}
	if (r < 43) {		/* a stale or made-up handle */
		q.op = ADMA_OP_UNMAP;
		q.handle = rnd(0);
		return q;
	}
	q.flags = 1 + (uint8_t)rnd(3);
	q.len = rnd(10) < 8 ? 1 + rnd(8192) : 1 + rnd(2 * MiB);
	q.gpa = rnd(2) ? rnd(64 * MiB) : HI + rnd(16 * MiB);
	if (rnd(50) == 0)
		q.gpa = 80 * MiB + rnd(MiB);	/* the hole */
	if (rnd(100) == 0)
		q.len = 0;
	return q;
}

static int find(uint64_t handle)
{
	unsigned int i;

	for (i = 0; i < nlive; i++)
		if (model[i].handle == handle)
			return (int)i;
	return -1;
}

/* Check one answer against the model and update it. */
static void apply(const struct adma_req *q, const struct adma_resp *a)
{
	int i;

	if (q->op == ADMA_OP_UNMAP) {
		i = find(q->handle);
		if (i < 0) {
			assert_int_equal(a->status, ADMA_S_BAD_HANDLE);
			return;
		}
		assert_int_equal(a->status, ADMA_S_OK);
		freed[nfreed].iova = model[i].iova;
		freed[nfreed++].len = model[i].len;
		model[i] = model[--nlive];
		return;
	}
	if (!q->len) {
		assert_int_equal(a->status, ADMA_S_INVALID);
		return;
	}
	if (!in_ram(q->gpa, q->len)) {
		assert_int_equal(a->status, ADMA_S_RANGE);
		return;
	}
	if (nlive == MAXM ||
	    live_bytes() + pages(q->gpa, q->len) * PG > MAXBYTES) {
		assert_int_equal(a->status, ADMA_S_NO_SPACE);
		return;
	}
	/* a doorbell's maps may hand the backend max_bytes in all */
	if (spent + pages(q->gpa, q->len) * PG > MAXBYTES) {
		assert_int_equal(a->status, ADMA_S_NO_SPACE);
		budget_refusals++;
		return;
	}
	spent += pages(q->gpa, q->len) * PG;
	if (a->status == ADMA_S_FRAGMENTED) {
		/* only when the pages exist, just not in one run */
		assert_true(APERTURE - live_bytes() >=
			    pages(q->gpa, q->len) * PG);
		return;
	}
	if (a->status == ADMA_S_IO_ERROR)	/* injected */
		return;
	assert_int_equal(a->status, ADMA_S_OK);
	assert_int_equal(a->nsegs, 1);
	assert_int_equal(a->seg[0].len, q->len);
	assert_int_equal(a->seg[0].iova % PG, q->gpa % PG);
	assert_int_equal(find(a->handle), -1);	/* unique among live */
	model[nlive++] = (struct live){ a->handle, q->gpa, q->len,
					a->seg[0].iova, q->flags };
}

static int cmp_iova(const void *a, const void *b)
{
	const struct live *x = a, *y = b;

	return x->iova < y->iova ? -1 : x->iova > y->iova;
}

static int covered(uint64_t iova)
{
	unsigned int i;

	for (i = 0; i < nlive; i++) {
		uint64_t b = model[i].iova & ~(PG - 1);

		if (iova >= b && iova < b + pages(model[i].iova, model[i].len) * PG)
			return 1;
	}
	return 0;
}

static void check_invariants(struct rig *r)
{
	const struct adma_core_stats *cs = adma_core_stats(r->c);
	const struct dartsim_stats *ds = dartsim_stats(r->d);
	struct live sorted[MAXM];
	uint64_t addr, avail, off;
	unsigned int i;

	assert_int_equal(cs->live_maps, nlive);
	assert_int_equal(ds->live_maps, nlive);
	assert_int_equal(cs->live_bytes, live_bytes());
	assert_int_equal(ds->live_bytes, live_bytes());

	memcpy(sorted, model, nlive * sizeof(model[0]));
	qsort(sorted, nlive, sizeof(sorted[0]), cmp_iova);
	for (i = 1; i < nlive; i++) {
		uint64_t prev_end = (sorted[i - 1].iova & ~(PG - 1)) +
			pages(sorted[i - 1].iova, sorted[i - 1].len) * PG;

		assert_true(prev_end <= (sorted[i].iova & ~(PG - 1)));
	}
	for (i = 0; i < nlive; i++) {
		const struct live *m = &model[i];
		unsigned int acc = m->dir & ADMA_DIR_TO_DEVICE ?
				   DARTSIM_ACC_READ : DARTSIM_ACC_WRITE;

		off = rnd(m->len);
		assert_int_equal(dartsim_translate(r->d, m->iova + off, acc,
						   &addr, &avail), 0);
		assert_int_equal(addr, m->gpa + off);
		assert_int_equal(dartsim_translate(r->d, m->iova + m->len - 1,
						   acc, &addr, &avail), 0);
		assert_int_equal(addr, m->gpa + m->len - 1);
		if (m->dir != ADMA_DIR_BIDIRECTIONAL)
			assert_int_equal(dartsim_translate(r->d, m->iova,
				acc ^ ADMA_DIR_BIDIRECTIONAL, &addr, &avail), -1);
	}
	for (i = 0; i < nfreed; i++) {
		off = rnd(freed[i].len);
		if (!covered(freed[i].iova + off))
			assert_int_equal(dartsim_translate(r->d,
				freed[i].iova + off, DARTSIM_ACC_READ, &addr,
				&avail), -1);
	}
	nfreed = 0;
}

static void run_model(uint64_t seed, bool randomize, uint32_t fail_ppm)
{
	struct dartsim_config dc = { .max_maps = MAXM, .max_bytes = MAXBYTES,
				     .aperture_size = APERTURE,
				     .randomize = randomize, .seed = seed,
				     .fail_ppm = fail_ppm };
	struct adma_core_config cc = { .max_batch = MAXB };
	struct rig r;
	struct adma_req q[MAXB];
	struct adma_cmd *cmd;
	struct adma_resp *resp;
	unsigned int b, i, n, ok = 0, frag = 0, nospace = 0;

	rng = seed * 2654435761u + 1;
	nlive = nfreed = 0;
	assert_int_equal(rig_init(&r, 64 * MiB, 16 * MiB, &cc, &dc), 0);
	cmd = fake_guest_ptr(&r.g, CMD, sizeof(*cmd));
	resp = fake_guest_ptr(&r.g, RESPS, MAXB * sizeof(*resp));
	for (b = 0; b < 4000; b++) {
		n = 1 + (unsigned int)rnd(MAXB);
		for (i = 0; i < n; i++)
			q[i] = random_req();
		*cmd = (struct adma_cmd){ .magic = ADMA_CMD_MAGIC,
					  .version = ADMA_VERSION_MAJOR,
					  .count = n, .req_gpa = REQS,
					  .resp_gpa = RESPS };
		memcpy(fake_guest_ptr(&r.g, REQS, n * sizeof(q[0])), q,
		       n * sizeof(q[0]));
		memset(resp, 0, MAXB * sizeof(*resp));
		spent = 0;
		assert_int_equal(adma_core_doorbell(r.c, CMD), ADMA_S_OK);
		assert_int_equal(cmd->status, ADMA_S_OK);
		assert_int_equal(cmd->done, n);
		for (i = 0; i < n; i++) {
			apply(&q[i], &resp[i]);
			ok += resp[i].status == ADMA_S_OK;
			frag += resp[i].status == ADMA_S_FRAGMENTED;
			nospace += resp[i].status == ADMA_S_NO_SPACE;
		}
		check_invariants(&r);
	}
	/* the run must have exercised the interesting outcomes */
	assert_true(ok > 10000);
	assert_true(nospace > 0);
	print_message("seed %llu: %u ok, %u no_space (%u per doorbell), "
		      "%u fragmented, %llu injected\n",
		      (unsigned long long)seed, ok, nospace, budget_refusals,
		      frag, (unsigned long long)dartsim_stats(r.d)->injected);
	adma_core_reset(r.c);
	nlive = 0;
	check_invariants(&r);
	rig_fini(&r);
}

static void test_model_nextfit(void **state)
{
	(void)state;
	run_model(1, false, 0);
}

static void test_model_random_placement(void **state)
{
	(void)state;
	run_model(2, true, 0);
}

static void test_model_with_faults(void **state)
{
	(void)state;
	run_model(3, true, 20000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_model_nextfit),
		cmocka_unit_test(test_model_random_placement),
		cmocka_unit_test(test_model_with_faults),
	};

	return cmocka_run_group_tests_name("model", tests, NULL, NULL);
}
