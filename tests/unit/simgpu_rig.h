/* SPDX-License-Identifier: (GPL-2.0 OR MIT) */
/* simgpu_rig.h - a simgpu over fake guest RAM, for the unit tests. */
#ifndef SIMGPU_RIG_H
#define SIMGPU_RIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "simgpu.h"

#define PG	DARTSIM_PAGE_SIZE
#define RAM_BASE	0x40000000ull	/* GPA of the fake guest RAM */
#define RAM_SIZE	(4ull << 20)
#define RING_GPA	(RAM_BASE + 0x10000)
#define RING_N		16u
#define VRAM_SIZE	(1ull << 20)
#define MAX_IRQ		64

struct irq_ev {
	enum hostdev_irq_kind kind;
	uint32_t vector;
	int level;
};

struct gpu_rig {
	struct simgpu *gpu;
	struct hostdev *hd;
	void *mem;
	uint8_t *vram;
	uint8_t *ram;		/* [RAM_BASE, RAM_BASE + RAM_SIZE) */
	bool locked;
	unsigned int kicks, nlog, nirq;
	char log[160];
	struct irq_ev irq[MAX_IRQ];
	uint64_t ring_iova;
	uint32_t tail;
};

/* GPA -> host pointer into the fake RAM, or NULL outside it. */
uint8_t *ram_ptr(struct gpu_rig *t, uint64_t gpa, size_t len);
/* Zero fields: 1 MiB VRAM, a 256-page DART, the simgpu defaults. */
struct gpu_rig *setup(struct simgpu_config cfg);
void teardown(struct gpu_rig *t);
uint32_t cfgr(struct gpu_rig *t, uint32_t off, unsigned int len);
void cfgw(struct gpu_rig *t, uint32_t off, unsigned int len, uint32_t v);
uint32_t rr(struct gpu_rig *t, uint32_t off);		/* BAR0 register */
void rw(struct gpu_rig *t, uint32_t off, uint32_t v);
/* Map through the function's DMA backend (one segment expected). */
uint64_t map(struct gpu_rig *t, uint64_t gpa, uint64_t len, unsigned int dir);
/*
 * Ring of RING_N at RING_GPA, mapped on the first call (the mapping is
 * reused after a reset); bus master on; registers set; reset + enabled.
 */
void ring_up(struct gpu_rig *t);
/* Queue one command at the tail and ring the doorbell. */
void submit(struct gpu_rig *t, struct simgpu_cmd c);
/* simgpu_run() until nothing is left. */
void run_all(struct gpu_rig *t);
struct simgpu_cmd copy_cmd(uint32_t flags, uint64_t src, uint64_t dst,
			   uint64_t len);
struct simgpu_cmd fence_cmd(uint64_t addr, uint64_t value, bool irq,
			    uint32_t vector);
/* The engine stopped with err and FAULT = fault, IRQ_STATUS_ERROR set. */
void assert_stopped(struct gpu_rig *t, uint32_t err, uint64_t fault);

#endif
