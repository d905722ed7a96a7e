/* SPDX-License-Identifier: (GPL-2.0 OR MIT) */
/*
 * simgpu_rig.c - a simgpu over a fake guest RAM for the unit tests: the
 * env callbacks (which also check the locking rules: DMA under env.lock,
 * kicks and interrupts outside it) and helpers that drive the function
 * through its hostdev ops as an embedder does.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "simgpu_rig.h"

uint8_t *ram_ptr(struct gpu_rig *t, uint64_t gpa, size_t len)
{
	if (gpa < RAM_BASE || gpa - RAM_BASE > RAM_SIZE ||
	    len > RAM_SIZE - (gpa - RAM_BASE))
		return NULL;
	return t->ram + (gpa - RAM_BASE);
}

static int env_read(void *opaque, uint64_t addr, void *buf, size_t len)
{
	struct gpu_rig *t = opaque;
	uint8_t *p = ram_ptr(t, addr, len);

	assert_true(t->locked);	/* the engine runs under env.lock */
	if (!p)
		return -1;
	memcpy(buf, p, len);
	return 0;
}

static int env_write(void *opaque, uint64_t addr, const void *buf, size_t len)
{
	struct gpu_rig *t = opaque;
	uint8_t *p = ram_ptr(t, addr, len);

	assert_true(t->locked);
	if (!p)
		return -1;
	memcpy(p, buf, len);
	return 0;
}

static void env_kick(void *opaque)
{
	struct gpu_rig *t = opaque;

	assert_false(t->locked);	/* kicked after the lock is dropped */
	t->kicks++;
}

static void env_lock(void *opaque)
{
	struct gpu_rig *t = opaque;

	assert_false(t->locked);	/* not recursive, like a mutex */
	t->locked = true;
}

static void env_unlock(void *opaque)
{
	struct gpu_rig *t = opaque;

	assert_true(t->locked);
	t->locked = false;
}

static void env_log(void *opaque, const char *msg)
{
	struct gpu_rig *t = opaque;

	t->nlog++;
	snprintf(t->log, sizeof(t->log), "%s", msg);
}

static void on_irq(void *opaque, enum hostdev_irq_kind kind, uint32_t vector,
		   int level)
{
	struct gpu_rig *t = opaque;

	assert_false(t->locked);	/* delivered outside env.lock */
	assert_true(t->nirq < MAX_IRQ);
	t->irq[t->nirq++] = (struct irq_ev){ kind, vector, level };
}

struct gpu_rig *setup(struct simgpu_config cfg)
{
	struct gpu_rig *t = calloc(1, sizeof(*t));
	struct simgpu_env env = {
		.dma_read = env_read, .dma_write = env_write, .kick = env_kick,
		.lock = env_lock, .unlock = env_unlock, .log = env_log,
	};
	size_t sz;

	assert_non_null(t);
	env.opaque = t;
	if (!cfg.vram_size)
		cfg.vram_size = VRAM_SIZE;
	if (!cfg.dart.aperture_size)
		cfg.dart.aperture_size = 256 * PG;
	sz = simgpu_size(&cfg);
	assert_true(sz > 0);
	t->mem = aligned_alloc(64, (sz + 63) & ~(size_t)63);
	t->vram = calloc(1, cfg.vram_size);
	t->ram = calloc(1, RAM_SIZE);
	assert_non_null(t->mem);
	assert_non_null(t->vram);
	assert_non_null(t->ram);
	t->gpu = simgpu_init(t->mem, &cfg, &env, t->vram);
	assert_non_null(t->gpu);
	t->hd = simgpu_hostdev(t->gpu);
	t->hd->irq = on_irq;
	t->hd->irq_opaque = t;
	return t;
}

void teardown(struct gpu_rig *t)
{
	t->hd->ops->close(t->hd->dev);
	free(t->mem);
	free(t->vram);
	free(t->ram);
	free(t);
}

uint32_t cfgr(struct gpu_rig *t, uint32_t off, unsigned int len)
{
	uint32_t v = 0xdeadbeef;

	assert_int_equal(t->hd->ops->config_read(t->hd->dev, off, len, &v), 0);
	return v;
}

void cfgw(struct gpu_rig *t, uint32_t off, unsigned int len, uint32_t v)
{
	assert_int_equal(t->hd->ops->config_write(t->hd->dev, off, len, v), 0);
}

uint32_t rr(struct gpu_rig *t, uint32_t off)
{
	uint64_t v = ~0ull;

	assert_int_equal(t->hd->ops->bar_read(t->hd->dev, 0, off, 4, &v), 0);
	return (uint32_t)v;
}

void rw(struct gpu_rig *t, uint32_t off, uint32_t v)
{
	assert_int_equal(t->hd->ops->bar_write(t->hd->dev, 0, off, 4, v), 0);
}

/* Map through the function's DMA backend, as apple-dma-pci's core does. */
uint64_t map(struct gpu_rig *t, uint64_t gpa, uint64_t len, unsigned int dir)
{
	struct adma_seg seg[ADMA_MAX_SEGS];
	unsigned int n = 0;
	uint64_t ck = 0;

	assert_int_equal(t->hd->dma_ops->map(t->hd->dma_be, gpa, len, dir, seg,
					     ADMA_MAX_SEGS, &n, &ck),
			 ADMA_S_OK);
	assert_int_equal(n, 1);
	assert_int_equal(ck, 0);	/* the DART unmaps by segments alone */
	return seg[0].iova;
}

/* A ring in guest RAM, mapped for reading; bus master on; enabled. */
void ring_up(struct gpu_rig *t)
{
	if (!t->ring_iova)
		t->ring_iova = map(t, RING_GPA, RING_N * 64,
				   ADMA_DIR_TO_DEVICE);
	cfgw(t, 0x04, 2, 0x0006);	/* memory + bus master */
	rw(t, SIMGPU_REG_RING_LO, (uint32_t)t->ring_iova);
	rw(t, SIMGPU_REG_RING_HI, (uint32_t)(t->ring_iova >> 32));
	rw(t, SIMGPU_REG_RING_SIZE, RING_N);
	rw(t, SIMGPU_REG_CONTROL, SIMGPU_CONTROL_RESET | SIMGPU_CONTROL_ENABLE);
	t->tail = 0;
}

/* Queue one command and ring the doorbell (little-endian host). */
void submit(struct gpu_rig *t, struct simgpu_cmd c)
{
	memcpy(ram_ptr(t, RING_GPA + t->tail * 64ull, 64), &c, 64);
	t->tail = (t->tail + 1) % RING_N;
	rw(t, SIMGPU_REG_RING_TAIL, t->tail);
}

void run_all(struct gpu_rig *t)
{
	int i;

	for (i = 0; i < 100 && simgpu_run(t->gpu, 0); i++)
		;
	assert_true(i < 100);
}

struct simgpu_cmd copy_cmd(uint32_t flags, uint64_t src, uint64_t dst,
				  uint64_t len)
{
	return (struct simgpu_cmd){ .op = SIMGPU_OP_COPY, .flags = flags,
				    .src = src, .dst = dst, .len = len };
}

struct simgpu_cmd fence_cmd(uint64_t addr, uint64_t value, bool irq,
				   uint32_t vector)
{
	return (struct simgpu_cmd){ .op = SIMGPU_OP_FENCE,
				    .flags = irq ? SIMGPU_CMD_IRQ : 0,
				    .fence_addr = addr, .value = value,
				    .vector = vector };
}

void assert_stopped(struct gpu_rig *t, uint32_t err, uint64_t fault)
{
	assert_int_equal(rr(t, SIMGPU_REG_ERROR), err);
	assert_true(rr(t, SIMGPU_REG_STATUS) & SIMGPU_STATUS_ERROR);
	assert_int_equal(rr(t, SIMGPU_REG_FAULT_LO) |
			 (uint64_t)rr(t, SIMGPU_REG_FAULT_HI) << 32, fault);
	assert_true(rr(t, SIMGPU_REG_IRQ_STATUS) & SIMGPU_IRQ_ERROR);
}

