/* SPDX-License-Identifier: (GPL-2.0 OR MIT) */
/*
 * Unit tests of simgpu's engine: commands through the ring, every system
 * memory access through the function's DART (mapped with its DMA backend,
 * as apple-dma-pci does), interrupts, faults, errors, budget, and FLR.
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

#define SRC_GPA		(RAM_BASE + 0x100000)
#define DST_GPA		(RAM_BASE + 0x200000)
#define FENCE_GPA	(RAM_BASE + 0x300000)
#define TO_DEV		ADMA_DIR_TO_DEVICE
#define FROM_DEV	ADMA_DIR_FROM_DEVICE

static const struct dartsim_stats *dst(struct gpu_rig *t)
{
	return dartsim_stats(simgpu_dart(t->gpu));
}

static void pattern(uint8_t *p, size_t len, unsigned int seed)
{
	size_t i;

	for (i = 0; i < len; i++)
		p[i] = (uint8_t)(i * 7 + seed + (i >> 8));
}

static void test_copy_roundtrip(void **state)
{
	struct gpu_rig *t = setup((struct simgpu_config){ 0 });
	uint64_t len = 3 * PG + 77, s_iova, d_iova, tr;
	uint8_t *src = ram_ptr(t, SRC_GPA + 0x123, len);
	uint8_t *dstp = ram_ptr(t, DST_GPA + 0x456, len);

	(void)state;
	pattern(src, len, 1);
	s_iova = map(t, SRC_GPA + 0x123, len, TO_DEV);
	d_iova = map(t, DST_GPA + 0x456, len, FROM_DEV);
	ring_up(t);
	tr = dst(t)->translations;
	submit(t, copy_cmd(SIMGPU_CMD_DST_VRAM, s_iova, 0x1000, len));
	submit(t, copy_cmd(SIMGPU_CMD_SRC_VRAM, 0x1000, d_iova, len));
	assert_int_equal(t->kicks, 2);	/* ENABLE had nothing; 2 doorbells */
	assert_int_equal(rr(t, SIMGPU_REG_STATUS),
			 SIMGPU_STATUS_ENABLED | SIMGPU_STATUS_BUSY);
	assert_false(simgpu_run(t->gpu, 0));
	assert_memory_equal(t->vram + 0x1000, src, len);
	assert_memory_equal(dstp, src, len);
	assert_int_equal(dstp[-1], 0);
	assert_int_equal(dstp[len], 0);
	/* 2 command reads + 4 pages each way: one translation per page */
	assert_int_equal(dst(t)->translations - tr, 10);
	assert_int_equal(rr(t, SIMGPU_REG_DONE), 2);
	assert_int_equal(rr(t, SIMGPU_REG_RING_HEAD), 2);
	assert_int_equal(rr(t, SIMGPU_REG_STATUS), SIMGPU_STATUS_ENABLED);
	assert_int_equal(simgpu_stats(t->gpu)->bytes_in, len);
	assert_int_equal(simgpu_stats(t->gpu)->bytes_out, len);
	assert_int_equal(simgpu_stats(t->gpu)->doorbells, 2);

	/* IOVA to IOVA, through the bounce page */
	memset(dstp, 0, len);
	submit(t, copy_cmd(0, s_iova + 1, d_iova, len - 1));
	run_all(t);
	assert_memory_equal(dstp, src + 1, len - 1);
	assert_int_equal(dstp[len - 1], 0);

	/* VRAM to VRAM, overlapping both ways: memmove semantics */
	pattern(t->vram, 300, 9);
	memcpy(t->vram + 0x2000, t->vram, 300);
	submit(t, copy_cmd(SIMGPU_CMD_SRC_VRAM | SIMGPU_CMD_DST_VRAM, 0, 10,
			   200));
	run_all(t);
	assert_memory_equal(t->vram + 10, t->vram + 0x2000, 200);
	assert_memory_equal(t->vram, t->vram + 0x2000, 10);
	memcpy(t->vram, t->vram + 0x2000, 300);
	submit(t, copy_cmd(SIMGPU_CMD_SRC_VRAM | SIMGPU_CMD_DST_VRAM, 10, 0,
			   200));
	run_all(t);
	assert_memory_equal(t->vram, t->vram + 0x2000 + 10, 200);
	assert_int_equal(rr(t, SIMGPU_REG_ERROR), 0);
	teardown(t);
}

static void test_fill(void **state)
{
	struct gpu_rig *t = setup((struct simgpu_config){ 0 });
	uint8_t *d = ram_ptr(t, DST_GPA, 2 * PG);
	uint64_t iova = map(t, DST_GPA, 2 * PG, FROM_DEV), i;
	const uint8_t v[4] = { 0x11, 0x22, 0x33, 0x44 };

	(void)state;
	ring_up(t);
	submit(t, (struct simgpu_cmd){ .op = SIMGPU_OP_FILL,
				       .flags = SIMGPU_CMD_DST_VRAM, .dst = 3,
				       .len = 10, .value = 0x44332211 });
	submit(t, (struct simgpu_cmd){ .op = SIMGPU_OP_FILL, .dst = iova + 1,
				       .len = PG + 5, .value = 0x44332211 });
	run_all(t);
	assert_int_equal(t->vram[2], 0);
	for (i = 0; i < 10; i++)
		assert_int_equal(t->vram[3 + i], v[i % 4]);
	assert_int_equal(t->vram[13], 0);
	assert_int_equal(d[0], 0);
	for (i = 0; i < PG + 5; i++)
		assert_int_equal(d[1 + i], v[i % 4]);
	assert_int_equal(d[PG + 6], 0);
	assert_int_equal(simgpu_stats(t->gpu)->bytes_out, PG + 5);
	teardown(t);
}

static uint64_t fence_mem(struct gpu_rig *t)
{
	uint64_t v;

	memcpy(&v, ram_ptr(t, FENCE_GPA, 8), 8);
	return v;
}

static void test_fences_and_vectors(void **state)
{
	struct gpu_rig *t = setup((struct simgpu_config){ 0 });
	const struct hostdev_ops *ops = t->hd->ops;
	uint64_t f;

	(void)state;
	f = map(t, FENCE_GPA, 8, FROM_DEV);
	ring_up(t);
	assert_int_equal(ops->irq_set(t->hd->dev, HOSTDEV_IRQ_MSIX, 16), 0);
	submit(t, fence_cmd(f, 0x1111, true, 3));
	submit(t, fence_cmd(f, 0x2222, false, 9));
	submit(t, fence_cmd(f, 0x123456789ull, true, 15));
	run_all(t);
	assert_int_equal(fence_mem(t), 0x123456789ull);
	assert_int_equal(rr(t, SIMGPU_REG_FENCE_LO), 0x23456789);
	assert_int_equal(rr(t, SIMGPU_REG_FENCE_HI), 1);
	assert_int_equal(rr(t, SIMGPU_REG_IRQ_STATUS), SIMGPU_IRQ_FENCE);
	assert_int_equal(t->nirq, 2);
	assert_int_equal(t->irq[0].kind, HOSTDEV_IRQ_MSIX);
	assert_int_equal(t->irq[0].vector, 3);
	assert_int_equal(t->irq[1].vector, 15);
	assert_int_equal(t->irq[1].level, 1);
	assert_int_equal(simgpu_stats(t->gpu)->fences, 3);
	assert_int_equal(simgpu_stats(t->gpu)->irqs, 2);
	rw(t, SIMGPU_REG_IRQ_STATUS, SIMGPU_IRQ_FENCE);		/* RW1C */
	assert_int_equal(rr(t, SIMGPU_REG_IRQ_STATUS), 0);

	/* fewer vectors set up than the function has: dropped, counted */
	assert_int_equal(ops->irq_set(t->hd->dev, HOSTDEV_IRQ_MSIX, 4), 0);
	submit(t, fence_cmd(f, 1, true, 8));
	run_all(t);
	assert_int_equal(t->nirq, 2);
	assert_int_equal(simgpu_stats(t->gpu)->irqs_dropped, 1);
	/* MSI: every cause on vector 0 */
	assert_int_equal(ops->irq_set(t->hd->dev, HOSTDEV_IRQ_MSI, 1), 0);
	submit(t, fence_cmd(f, 2, true, 5));
	run_all(t);
	assert_int_equal(t->nirq, 3);
	assert_int_equal(t->irq[2].kind, HOSTDEV_IRQ_MSI);
	assert_int_equal(t->irq[2].vector, 0);
	/* none set up */
	assert_int_equal(ops->irq_set(t->hd->dev, HOSTDEV_IRQ_NONE, 0), 0);
	submit(t, fence_cmd(f, 3, true, 0));
	run_all(t);
	assert_int_equal(t->nirq, 3);
	assert_int_equal(simgpu_stats(t->gpu)->irqs_dropped, 2);
	assert_int_equal(fence_mem(t), 3);
	/* a vector the function does not have is a bad command */
	submit(t, fence_cmd(f, 4, true, 16));
	run_all(t);
	assert_stopped(t, SIMGPU_ERR_BAD_CMD, t->ring_iova + 6 * 64);
	assert_int_equal(fence_mem(t), 3);
	teardown(t);
}

static void test_intx(void **state)
{
	struct gpu_rig *t = setup((struct simgpu_config){ .intx = true });
	void *dev = t->hd->dev;
	uint64_t f = map(t, FENCE_GPA, 8, FROM_DEV);

	(void)state;
	ring_up(t);
	assert_int_equal(t->hd->ops->irq_set(dev, HOSTDEV_IRQ_INTX, 1), 0);
	submit(t, fence_cmd(f, 1, true, 0));
	run_all(t);
	assert_int_equal(t->nirq, 1);
	assert_int_equal(t->irq[0].kind, HOSTDEV_IRQ_INTX);
	assert_int_equal(t->irq[0].level, 1);
	assert_true(cfgr(t, 0x06, 2) & 0x08);		/* Status.Interrupt */
	rw(t, SIMGPU_REG_IRQ_STATUS, SIMGPU_IRQ_FENCE);	/* ack: line drops */
	assert_int_equal(t->nirq, 2);
	assert_int_equal(t->irq[1].level, 0);
	assert_false(cfgr(t, 0x06, 2) & 0x08);

	rw(t, SIMGPU_REG_IRQ_MASK, SIMGPU_IRQ_FENCE);	/* masked: no level */
	submit(t, fence_cmd(f, 2, true, 0));
	run_all(t);
	assert_int_equal(t->nirq, 2);
	rw(t, SIMGPU_REG_IRQ_MASK, 0);			/* unmasked: rises */
	assert_int_equal(t->nirq, 3);
	assert_int_equal(t->irq[2].level, 1);
	cfgw(t, 0x04, 2, 0x0406);			/* INTx Disable */
	assert_int_equal(t->nirq, 4);
	assert_int_equal(t->irq[3].level, 0);
	assert_true(cfgr(t, 0x06, 2) & 0x08);		/* still pending */
	cfgw(t, 0x04, 2, 0x0006);
	assert_int_equal(t->irq[4].level, 1);
	assert_int_equal(t->hd->ops->irq_set(dev, HOSTDEV_IRQ_NONE, 0), 0);
	assert_int_equal(t->nirq, 6);			/* NONE drops it */
	assert_int_equal(t->irq[5].level, 0);
	teardown(t);
}

static void test_dart_fault_unmapped(void **state)
{
	struct gpu_rig *t = setup((struct simgpu_config){ 0 });
	uint64_t hole = DARTSIM_DEFAULT_BASE + 200 * PG, s, f, tr;
	uint8_t *src = ram_ptr(t, SRC_GPA, 2 * PG);
	struct adma_seg gap[1];
	char want[64];

	(void)state;
	pattern(src, 2 * PG, 3);
	f = map(t, FENCE_GPA, 8, FROM_DEV);
	s = map(t, SRC_GPA, PG, TO_DEV);		/* one page of two */
	/* leave the IOVA page after s unmapped (next-fit would fill it) */
	gap[0].iova = map(t, DST_GPA, PG, TO_DEV);
	gap[0].len = PG;
	assert_int_equal(gap[0].iova, s + PG);
	t->hd->dma_ops->unmap(t->hd->dma_be, gap, 1, 0);
	ring_up(t);
	assert_int_equal(t->hd->ops->irq_set(t->hd->dev, HOSTDEV_IRQ_MSIX, 4),
			 0);
	submit(t, copy_cmd(SIMGPU_CMD_SRC_VRAM, 0, hole, 64));
	submit(t, fence_cmd(f, 7, true, 1));
	assert_false(simgpu_run(t->gpu, 0));
	assert_stopped(t, SIMGPU_ERR_DART_FAULT, hole);
	assert_int_equal(rr(t, SIMGPU_REG_RING_HEAD), 0);	/* on it */
	assert_int_equal(rr(t, SIMGPU_REG_DONE), 0);
	assert_int_equal(rr(t, SIMGPU_REG_FAULTS), 1);
	assert_int_equal(fence_mem(t), 0);		/* nothing after it */
	assert_int_equal(t->nirq, 1);
	assert_int_equal(t->irq[0].vector, 0);		/* error: vector 0 */
	assert_int_equal(simgpu_stats(t->gpu)->dart_faults, 1);
	assert_int_equal(simgpu_stats(t->gpu)->errors, 1);
	assert_int_equal(t->nlog, 1);
	snprintf(want, sizeof(want), "0x%llx", (unsigned long long)hole);
	assert_non_null(strstr(t->log, "DART fault"));
	assert_non_null(strstr(t->log, want));

	/* stopped: a doorbell queues, but nothing is read or written */
	tr = dst(t)->translations + dst(t)->faults;
	submit(t, fence_cmd(f, 8, false, 0));
	assert_false(simgpu_run(t->gpu, 0));
	assert_int_equal(dst(t)->translations + dst(t)->faults, tr);
	assert_int_equal(fence_mem(t), 0);

	/* CONTROL_RESET clears the error and empties the ring */
	rw(t, SIMGPU_REG_CONTROL, SIMGPU_CONTROL_RESET);
	assert_int_equal(rr(t, SIMGPU_REG_ERROR), 0);
	assert_int_equal(rr(t, SIMGPU_REG_STATUS), 0);
	assert_int_equal(rr(t, SIMGPU_REG_RING_HEAD), 0);
	rw(t, SIMGPU_REG_CONTROL, SIMGPU_CONTROL_ENABLE);
	t->tail = 0;
	/* a transfer faults at the first page it may not touch */
	submit(t, copy_cmd(SIMGPU_CMD_DST_VRAM, s + 100, 0, PG));
	run_all(t);
	assert_stopped(t, SIMGPU_ERR_DART_FAULT, s + PG);
	assert_memory_equal(t->vram, src + 100, PG - 100);
	assert_int_equal(t->vram[PG - 100], 0);
	assert_int_equal(rr(t, SIMGPU_REG_FAULTS), 2);
	teardown(t);
}

static void test_dart_fault_direction(void **state)
{
	struct gpu_rig *t = setup((struct simgpu_config){ 0 });
	uint8_t *ro = ram_ptr(t, SRC_GPA, PG), *wo = ram_ptr(t, DST_GPA, PG);
	uint8_t before[64];
	uint64_t r, w;

	(void)state;
	pattern(ro, PG, 5);
	pattern(wo, PG, 6);
	memcpy(before, ro, 64);
	r = map(t, SRC_GPA, PG, TO_DEV);	/* the device may only read */
	w = map(t, DST_GPA, PG, FROM_DEV);	/* ... only write */
	pattern(t->vram, 64, 7);
	ring_up(t);
	submit(t, copy_cmd(SIMGPU_CMD_SRC_VRAM, 0, r, 64));
	run_all(t);
	assert_stopped(t, SIMGPU_ERR_DART_FAULT, r);
	assert_memory_equal(ro, before, 64);

	ring_up(t);
	submit(t, fence_cmd(r + 8, 1, false, 0));
	run_all(t);
	assert_stopped(t, SIMGPU_ERR_DART_FAULT, r + 8);
	assert_memory_equal(ro, before, 64);

	ring_up(t);
	memcpy(before, t->vram, 64);
	submit(t, copy_cmd(SIMGPU_CMD_DST_VRAM, w, 0, 64));
	run_all(t);
	assert_stopped(t, SIMGPU_ERR_DART_FAULT, w);
	assert_memory_equal(t->vram, before, 64);
	assert_int_equal(simgpu_stats(t->gpu)->dart_faults, 3);
	teardown(t);
}

static void test_no_bme_and_disabled(void **state)
{
	struct gpu_rig *t = setup((struct simgpu_config){ 0 });
	uint64_t tr;

	(void)state;
	ring_up(t);
	rw(t, SIMGPU_REG_CONTROL, SIMGPU_CONTROL_RESET);	/* not enabled */
	tr = dst(t)->translations + dst(t)->faults;
	submit(t, copy_cmd(SIMGPU_CMD_DST_VRAM, t->ring_iova, 0, 64));
	assert_false(simgpu_run(t->gpu, 0));
	assert_int_equal(rr(t, SIMGPU_REG_RING_HEAD), 0);
	assert_int_equal(dst(t)->translations + dst(t)->faults, tr);
	/* enabled, but bus mastering off: stops before any DMA */
	cfgw(t, 0x04, 2, 0x0002);
	rw(t, SIMGPU_REG_CONTROL, SIMGPU_CONTROL_ENABLE);
	assert_false(simgpu_run(t->gpu, 0));
	assert_stopped(t, SIMGPU_ERR_NO_BME, t->ring_iova);
	assert_int_equal(dst(t)->translations + dst(t)->faults, tr);
	assert_int_equal(t->vram[0], 0);
	teardown(t);
}

static void test_bad_commands(void **state)
{
	struct gpu_rig *t = setup((struct simgpu_config){ 0 });
	const uint32_t vv = SIMGPU_CMD_SRC_VRAM | SIMGPU_CMD_DST_VRAM;
	struct {
		struct simgpu_cmd c;
		uint32_t err;
		uint64_t fault;		/* ~0: the command's IOVA */
	} bad[] = {
		{ { .op = 9 }, SIMGPU_ERR_BAD_CMD, ~0ull },
		{ { .op = SIMGPU_OP_NOP, .flags = 1 }, SIMGPU_ERR_BAD_CMD, ~0ull },
		{ { .op = SIMGPU_OP_COPY, .flags = vv | SIMGPU_CMD_IRQ, .len = 4 },
		  SIMGPU_ERR_BAD_CMD, ~0ull },
		{ { .op = SIMGPU_OP_FILL, .flags = vv, .len = 4 },
		  SIMGPU_ERR_BAD_CMD, ~0ull },
		{ { .op = SIMGPU_OP_COPY, .flags = 8 | vv }, SIMGPU_ERR_BAD_CMD,
		  ~0ull },
		{ { .op = SIMGPU_OP_NOP, .rsvd = { 0, 1, 0 } }, SIMGPU_ERR_BAD_CMD,
		  ~0ull },
		{ { .op = SIMGPU_OP_COPY, .flags = vv,
		    .len = SIMGPU_MAX_XFER + 1 }, SIMGPU_ERR_BAD_CMD, ~0ull },
		{ { .op = SIMGPU_OP_FENCE, .fence_addr = 4 }, SIMGPU_ERR_BAD_CMD,
		  ~0ull },
		{ { .op = SIMGPU_OP_COPY, .flags = vv, .src = VRAM_SIZE - 8,
		    .len = 16 }, SIMGPU_ERR_VRAM_RANGE, VRAM_SIZE - 8 },
		{ { .op = SIMGPU_OP_FILL, .flags = SIMGPU_CMD_DST_VRAM,
		    .dst = ~0ull - 3, .len = 8 }, SIMGPU_ERR_VRAM_RANGE,
		  ~0ull - 3 },
		{ { .op = SIMGPU_OP_COPY, .dst = ~0ull - 3, .len = 8,
		    .flags = SIMGPU_CMD_SRC_VRAM }, SIMGPU_ERR_BAD_CMD, ~0ull },
	};
	unsigned int i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ring_up(t);
		submit(t, bad[i].c);
		assert_false(simgpu_run(t->gpu, 0));
		assert_stopped(t, bad[i].err, bad[i].fault == ~0ull ?
			       t->ring_iova : bad[i].fault);
		assert_int_equal(rr(t, SIMGPU_REG_DONE), 0);
	}
	/* the ring itself: checked at the doorbell */
	ring_up(t);
	rw(t, SIMGPU_REG_RING_TAIL, RING_N);		/* tail out of range */
	assert_stopped(t, SIMGPU_ERR_BAD_RING, t->ring_iova);
	ring_up(t);
	rw(t, SIMGPU_REG_RING_SIZE, 12);
	rw(t, SIMGPU_REG_RING_TAIL, 1);
	assert_stopped(t, SIMGPU_ERR_BAD_RING, t->ring_iova);
	ring_up(t);
	rw(t, SIMGPU_REG_RING_LO, (uint32_t)t->ring_iova + 32);
	rw(t, SIMGPU_REG_RING_TAIL, 1);
	assert_stopped(t, SIMGPU_ERR_BAD_RING, t->ring_iova + 32);
	assert_int_equal(t->kicks, 11);	/* only the good doorbells kick */
	teardown(t);
}

static void test_budget(void **state)
{
	struct gpu_rig *t = setup((struct simgpu_config){ 0 });
	struct simgpu_cmd fill = { .op = SIMGPU_OP_FILL, .len = 0x10000,
				   .flags = SIMGPU_CMD_DST_VRAM, .value = 1 };
	int i;

	(void)state;
	ring_up(t);
	for (i = 0; i < 4; i++) {
		fill.dst = (uint64_t)i * 0x10000;
		submit(t, fill);
	}
	assert_true(simgpu_run(t->gpu, 0x10000));
	assert_int_equal(rr(t, SIMGPU_REG_DONE), 1);
	assert_true(simgpu_run(t->gpu, 1));
	assert_int_equal(rr(t, SIMGPU_REG_DONE), 2);
	assert_false(simgpu_run(t->gpu, 0));
	assert_int_equal(rr(t, SIMGPU_REG_DONE), 4);
	assert_int_equal(t->vram[4 * 0x10000 - 4], 1);
	assert_int_equal(t->vram[4 * 0x10000], 0);
	teardown(t);
}

static void test_flr_keeps_mappings(void **state)
{
	struct gpu_rig *t = setup((struct simgpu_config){ 0 });
	const struct hostdev_ops *ops = t->hd->ops;
	uint64_t f = map(t, FENCE_GPA, 8, FROM_DEV), live;
	uint32_t done;

	(void)state;
	ring_up(t);
	assert_int_equal(ops->irq_set(t->hd->dev, HOSTDEV_IRQ_MSIX, 2), 0);
	submit(t, fence_cmd(f, 1, true, 1));
	run_all(t);
	assert_int_equal(t->nirq, 1);
	live = dst(t)->live_maps;
	assert_int_equal(ops->reset(t->hd->dev, HOSTDEV_RESET_FLR, &done), 0);
	assert_int_equal(rr(t, SIMGPU_REG_RING_SIZE), 0);
	assert_int_equal(rr(t, SIMGPU_REG_DONE), 0);
	assert_int_equal(rr(t, SIMGPU_REG_FENCE_LO), 0);
	assert_int_equal(rr(t, SIMGPU_REG_STATUS), 0);
	assert_int_equal(cfgr(t, 0x04, 2), 0);
	assert_false(cfgr(t, SIMGPU_CAP_MSIX + 2, 2) & 0x8000);
	assert_int_equal(dst(t)->live_maps, live);	/* the DART kept them */

	/* same IOVAs work after; interrupts wait for a new irq_set */
	ring_up(t);
	submit(t, fence_cmd(f, 2, true, 1));
	run_all(t);
	assert_int_equal(fence_mem(t), 2);
	assert_int_equal(t->nirq, 1);
	assert_int_equal(ops->irq_set(t->hd->dev, HOSTDEV_IRQ_MSIX, 2), 0);
	submit(t, fence_cmd(f, 3, true, 1));
	run_all(t);
	assert_int_equal(fence_mem(t), 3);
	assert_int_equal(t->nirq, 2);
	assert_int_equal(t->irq[1].vector, 1);
	teardown(t);
}

static void test_segmented_backend(void **state)
{
	struct gpu_rig *t = setup((struct simgpu_config){
		.dart = { .seg_pages = 2, .aperture_size = 256 * PG } });
	const struct adma_backend_ops *be = t->hd->dma_ops;
	struct adma_seg seg[ADMA_MAX_SEGS], more[ADMA_MAX_SEGS];
	uint8_t *src = ram_ptr(t, SRC_GPA + 0x100, 4 * PG);
	uint64_t off = 0, ck = 0;
	unsigned int n = 0, i;

	(void)state;
	pattern(src, 4 * PG, 11);
	/* 4 pages at offset 0x100 span 5: 2 + 2 + 1 pages */
	assert_int_equal(be->map(t->hd->dma_be, SRC_GPA + 0x100, 4 * PG, TO_DEV,
				 seg, ADMA_MAX_SEGS, &n, &ck), ADMA_S_OK);
	assert_int_equal(n, 3);
	assert_int_equal(seg[0].len, 2 * PG - 0x100);
	assert_int_equal(seg[1].len, 2 * PG);
	assert_int_equal(seg[2].len, 0x100);
	assert_int_equal(seg[0].iova % PG, 0x100);
	for (i = 0; i + 1 < n; i++)
		assert_true(seg[i + 1].iova != seg[i].iova + seg[i].len);
	ring_up(t);
	for (i = 0; i < n; off += seg[i].len, i++)
		submit(t, copy_cmd(SIMGPU_CMD_DST_VRAM, seg[i].iova, off,
				   seg[i].len));
	run_all(t);
	assert_int_equal(rr(t, SIMGPU_REG_ERROR), 0);
	assert_memory_equal(t->vram, src, 4 * PG);

	/* 9 pages would need 5 segments: more than a response holds */
	assert_int_equal(be->map(t->hd->dma_be, SRC_GPA, 9 * PG, TO_DEV, more,
				 ADMA_MAX_SEGS, &n, &ck), ADMA_S_FRAGMENTED);
	assert_int_equal(n, 0);
	be->unmap(t->hd->dma_be, seg, 3, ck);
	assert_int_equal(dst(t)->live_maps, 1);		/* the ring's */
	assert_int_equal(dst(t)->live_bytes, PG);
	submit(t, copy_cmd(SIMGPU_CMD_DST_VRAM, seg[1].iova, 0, 16));
	run_all(t);
	assert_stopped(t, SIMGPU_ERR_DART_FAULT, seg[1].iova);
	teardown(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_copy_roundtrip),
		cmocka_unit_test(test_fill),
		cmocka_unit_test(test_fences_and_vectors),
		cmocka_unit_test(test_intx),
		cmocka_unit_test(test_dart_fault_unmapped),
		cmocka_unit_test(test_dart_fault_direction),
		cmocka_unit_test(test_no_bme_and_disabled),
		cmocka_unit_test(test_bad_commands),
		cmocka_unit_test(test_budget),
		cmocka_unit_test(test_flr_keeps_mappings),
		cmocka_unit_test(test_segmented_backend),
	};

	return cmocka_run_group_tests_name("simgpu_engine", tests, NULL, NULL);
}
