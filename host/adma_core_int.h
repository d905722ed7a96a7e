/* SPDX-License-Identifier: (GPL-2.0 OR MIT) */
/*
 * adma_core_int.h - inside the host core: the table both halves use
 * (adma_core.c: setup, the table, one request; adma_batch.c: a doorbell's
 * batch). Not for embedders: they use adma_core.h.
 */
#ifndef ADMA_CORE_INT_H
#define ADMA_CORE_INT_H

#include "adma_core.h"

#define PAGE_MASK	((uint64_t)ADMA_PAGE_SIZE - 1)
#define CHUNK		16	/* requests read and answered per step */
#define NO_SLOT		0xffffffffu

/* Last generation a slot is used with (a unit test build sets it small). */
#ifndef ADMA_CORE_GEN_MAX
#define ADMA_CORE_GEN_MAX	0xffffffffu
#endif

struct adma_slot {
	uint32_t gen;		/* bumped on free; part of the handle */
	uint32_t next_free;	/* free-list link, NO_SLOT at the end */
	uint64_t bytes;		/* page-rounded size, for the byte limit */
	uint64_t cookie;	/* the backend's name for it (map()'s) */
	uint16_t live;
	uint16_t nsegs;
	struct adma_seg seg[ADMA_MAX_SEGS];
};

struct adma_core {
	struct adma_core_config cfg;
	struct adma_env env;
	const struct adma_backend_ops *ops;
	void *be;
	struct adma_core_stats st;
	uint32_t free_head;
	/*
	 * Page-rounded bytes the MAPs of this doorbell may still hand to the
	 * backend (~0 outside a doorbell). Limits alone do not bound a
	 * doorbell's work: a guest can predict its next handle and unmap in
	 * the same batch what it maps, max_batch/2 times.
	 */
	uint64_t budget;
	/* cfg.batch_backend: one doorbell's requests, answers, backend ops */
	struct adma_req *b_req;
	struct adma_resp *b_resp;
	struct adma_be_op *b_op;
	uint64_t *b_bytes;		/* op j: UNMAP: the bytes it released */
	uint32_t *b_idx;		/* op j: its request, its slot (MAP) */
	struct adma_slot slot[];	/* cfg.max_maps, then the scratch */
};

/* adma_core.c, for adma_batch.c */
int adma_map_check(struct adma_core *c, const struct adma_req *req,
		   uint64_t *addr, uint64_t *bytes);
int adma_count_answer(struct adma_core *c, int st);
void adma_note_peaks(struct adma_core *c, uint64_t maps, uint64_t bytes);
int adma_map_finish(struct adma_core *c, const struct adma_req *req,
		    uint32_t idx, int st, unsigned int nsegs,
		    struct adma_resp *resp);
uint32_t adma_map_reserve(struct adma_core *c, uint64_t bytes);
uint32_t adma_lookup(const struct adma_core *c, uint64_t handle);
int adma_unmap_check(struct adma_core *c, const struct adma_req *req,
		     uint32_t *idx);
void adma_unmap_op(struct adma_core *c, uint32_t i, struct adma_be_op *o);
void adma_free_slots(struct adma_core *c, uint32_t i, uint32_t *n);

#endif /* ADMA_CORE_INT_H */
