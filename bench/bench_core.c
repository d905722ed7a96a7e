/* SPDX-License-Identifier: (GPL-2.0 OR MIT) */
/*
 * Host-core throughput: requests per second for MAP+UNMAP pairs through the
 * core and the DART simulator on one core, measured side by side with a
 * trivial baseline (the same core over a backend that hands out a fixed
 * IOVA and keeps nothing), so the ratio shows what the simulator's
 * allocator and page table cost. Rounds alternate; the best round counts.
 */
#define _POSIX_C_SOURCE 199309L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fake_guest.h"

#define BATCH	64		/* requests per doorbell: 32 maps, 32 unmaps */
#define ROUNDS	5
#define TARGET	5e6

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static int null_map(void *be, uint64_t addr, uint64_t len, unsigned int dir,
		    struct adma_seg *seg, unsigned int max_segs,
		    unsigned int *nsegs, uint64_t *cookie)
{
	(void)be; (void)dir; (void)max_segs; (void)cookie;
	seg[0].iova = 0x100000000ull + (addr & (ADMA_PAGE_SIZE - 1));
	seg[0].len = len;
	*nsegs = 1;
	return ADMA_S_OK;
}

static void null_unmap(void *be, const struct adma_seg *seg, unsigned int n,
		       uint64_t cookie)
{
	(void)be; (void)seg; (void)n; (void)cookie;
}

static const struct adma_backend_ops null_ops = { null_map, null_unmap };

/* MAP+UNMAP pairs through adma_core_exec; returns requests/s. */
static double run_exec(struct adma_core *c, long pairs)
{
	struct adma_req m = { .op = ADMA_OP_MAP, .flags = 3, .len = 4096 };
	struct adma_req u = { .op = ADMA_OP_UNMAP };
	struct adma_resp a, b;
	double t = now();
	long i;

	for (i = 0; i < pairs; i++) {
		m.gpa = (uint64_t)(i & 4095) * 4096;
		if (adma_core_exec(c, &m, &a) != ADMA_S_OK)
			abort();
		u.handle = a.handle;
		if (adma_core_exec(c, &u, &b) != ADMA_S_OK)
			abort();
	}
	return 2.0 * pairs / (now() - t);
}

/* Batches of 32 maps then 32 unmaps through the doorbell. */
static double run_doorbell(struct rig *r, long batches)
{
	struct adma_cmd *cmd = fake_guest_ptr(&r->g, 0x1000, sizeof(*cmd));
	struct adma_req *q = fake_guest_ptr(&r->g, 0x2000, BATCH * sizeof(*q));
	struct adma_resp *a = fake_guest_ptr(&r->g, 0x8000, BATCH * sizeof(*a));
	double t = now();
	long n;
	int i;

	for (n = 0; n < batches; n++) {
		for (i = 0; i < BATCH / 2; i++)
			q[i] = (struct adma_req){ .op = ADMA_OP_MAP, .flags = 3,
				.gpa = 0x100000 + (uint64_t)((n * 32 + i) & 4095) * 4096,
				.len = 4096 };
		*cmd = (struct adma_cmd){ .magic = ADMA_CMD_MAGIC,
			.version = ADMA_VERSION_MAJOR, .count = BATCH / 2,
			.req_gpa = 0x2000, .resp_gpa = 0x8000 };
		if (adma_core_doorbell(r->c, 0x1000) != ADMA_S_OK || cmd->failed)
			abort();
		for (i = 0; i < BATCH / 2; i++)
			q[i] = (struct adma_req){ .op = ADMA_OP_UNMAP,
						  .handle = a[i].handle };
		cmd->status = ADMA_S_PENDING;
		if (adma_core_doorbell(r->c, 0x1000) != ADMA_S_OK || cmd->failed)
			abort();
	}
	return (double)batches * BATCH / (now() - t);
}

int main(void)
{
	struct rig sim, base;
	struct adma_env env;
	void *bmem;
	double best_sim = 0, best_base = 0, best_bell = 0, v;
	int round;

	if (rig_init(&sim, 64 << 20, 0, NULL, NULL) ||
	    rig_init(&base, 64 << 20, 0, NULL, NULL))
		return 1;
	/* the baseline: same core, same guest, a backend that does nothing */
	bmem = malloc(adma_core_size(adma_core_config(base.c)));
	env = fake_guest_env(&base.g);
	base.c = adma_core_init(bmem, adma_core_config(base.c), &env,
				&null_ops, NULL);
	if (!base.c)
		return 1;

	for (round = 0; round < ROUNDS; round++) {
		v = run_exec(base.c, 2000000);
		best_base = v > best_base ? v : best_base;
		v = run_exec(sim.c, 2000000);
		best_sim = v > best_sim ? v : best_sim;
		v = run_doorbell(&sim, 60000);
		best_bell = v > best_bell ? v : best_bell;
	}
	printf("host core + dartsim, map+unmap pairs (1 core, best of %d)\n",
	       ROUNDS);
	printf("  %-38s %8.2f M req/s\n", "baseline: core + null backend",
	       best_base / 1e6);
	printf("  %-38s %8.2f M req/s  (%.2fx baseline)\n",
	       "core + dartsim, one request per call", best_sim / 1e6,
	       best_sim / best_base);
	printf("  %-38s %8.2f M req/s  (%.2fx baseline)\n",
	       "core + dartsim, doorbell batches of 32", best_bell / 1e6,
	       best_bell / best_base);
	printf("  target >= %.0f M req/s: %s\n", TARGET / 1e6,
	       best_bell >= TARGET && best_sim >= TARGET ? "met" : "NOT met");
	rig_fini(&sim);
	free(bmem);
	rig_fini(&base);
	return 0;
}
