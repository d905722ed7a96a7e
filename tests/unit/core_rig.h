/* SPDX-License-Identifier: (GPL-2.0 OR MIT) */
/*
 * core_rig.h - the host core's tests' own helpers over fake_guest (a rig
 * with 64 MiB of guest RAM, requests, a batch placed in guest memory, its
 * answers), shared by test_core.c and test_core_hostile.c. Include after
 * cmocka.h.
 */
#ifndef CORE_RIG_H
#define CORE_RIG_H

#include "fake_guest.h"

#define PG	((uint64_t)ADMA_PAGE_SIZE)
#define MiB	(1ull << 20)
#define CMD	0x1000ull	/* command block */
#define REQS	0x2000ull	/* request array */
#define RESPS	0x20000ull	/* response array */

static inline struct rig *rig_new(const struct adma_core_config *cc,
				  const struct dartsim_config *dc)
{
	struct rig *r = calloc(1, sizeof(*r));

	assert_non_null(r);
	assert_int_equal(rig_init(r, 64 * MiB, 16 * MiB, cc, dc), 0);
	return r;
}

static inline void rig_free(struct rig *r)
{
	rig_fini(r);
	free(r);
}

static inline struct adma_req map_req(uint64_t gpa, uint64_t len)
{
	return (struct adma_req){ .op = ADMA_OP_MAP, .gpa = gpa, .len = len,
				  .flags = ADMA_DIR_BIDIRECTIONAL };
}

static inline struct adma_req unmap_req(uint64_t handle)
{
	return (struct adma_req){ .op = ADMA_OP_UNMAP, .handle = handle };
}

static inline int exec(struct rig *r, struct adma_req q, struct adma_resp *out)
{
	struct adma_resp tmp;

	return adma_core_exec(r->c, &q, out ? out : &tmp);
}

/* Write a batch into guest RAM (little-endian host: the wire layout). */
static inline void put_batch(struct rig *r, const struct adma_req *q,
			     uint32_t n)
{
	struct adma_cmd cmd = { .magic = ADMA_CMD_MAGIC,
				.version = ADMA_VERSION_MAJOR, .count = n,
				.req_gpa = REQS, .resp_gpa = RESPS };

	memcpy(fake_guest_ptr(&r->g, CMD, sizeof(cmd)), &cmd, sizeof(cmd));
	if (n)
		memcpy(fake_guest_ptr(&r->g, REQS, n * sizeof(*q)), q,
		       n * sizeof(*q));
	memset(fake_guest_ptr(&r->g, RESPS, 256 * sizeof(struct adma_resp)),
	       0, 256 * sizeof(struct adma_resp));
}

static inline struct adma_cmd *cmd_of(struct rig *r)
{
	return fake_guest_ptr(&r->g, CMD, sizeof(struct adma_cmd));
}

static inline struct adma_resp *resp_of(struct rig *r, unsigned int i)
{
	return fake_guest_ptr(&r->g, RESPS + i * sizeof(struct adma_resp),
			      sizeof(struct adma_resp));
}

#endif /* CORE_RIG_H */
