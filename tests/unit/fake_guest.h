/* SPDX-License-Identifier: (GPL-2.0 OR MIT) */
/*
 * fake_guest.h - guest RAM for userspace tests, fuzzing and benchmarks:
 * up to eight RAM regions at chosen guest-physical bases with holes between
 * them, and the adma_env callbacks over them (GPA in, GPA out, as QEMU's
 * dartsim embedding does).
 */
#ifndef FAKE_GUEST_H
#define FAKE_GUEST_H

#include <stdint.h>
#include <stddef.h>

#include "adma_core.h"
#include "dartsim.h"

#define FAKE_MAX_REGIONS 8

struct fake_guest {
	unsigned int nregions;
	struct {
		uint64_t base;
		uint64_t size;
		uint8_t *mem;
	} region[FAKE_MAX_REGIONS];
	long writes_left;	/* writes fail once this reaches 0; <0: never */
	/*
	 * Once writes fail: how many fail before writes work again (0: all
	 * from then on), and how many bytes of each failing write land anyway
	 * (a write that ran into a hole partway, as a DMA into guest RAM the
	 * guest has just remapped does).
	 */
	long fails_left;
	size_t partial;
	uint64_t reads, writes, failed_writes;
};

/* Adds a zeroed RAM region; returns its index, or -1. */
int fake_guest_add(struct fake_guest *g, uint64_t base, uint64_t size);
void fake_guest_free(struct fake_guest *g);
/* Host pointer for [gpa, gpa + len) if wholly in one region, else NULL. */
void *fake_guest_ptr(struct fake_guest *g, uint64_t gpa, uint64_t len);
/* The env for adma_core_init; opaque is g. */
struct adma_env fake_guest_env(struct fake_guest *g);

/* A core over a dartsim over a fake guest: what tests, fuzzer and bench use. */
struct rig {
	struct fake_guest g;
	struct dartsim *d;
	struct adma_core *c;
	void *dmem, *cmem;
};

/*
 * RAM at [0, ram) and, if ram_hi, at [4 GiB, 4 GiB + ram_hi); limits and
 * knobs from the two configs (core limits default to the simulator's).
 * Returns 0, or -1 when a config is refused.
 */
int rig_init(struct rig *r, uint64_t ram, uint64_t ram_hi,
	     const struct adma_core_config *cc, const struct dartsim_config *dc);
void rig_fini(struct rig *r);

#endif
