/* SPDX-License-Identifier: (GPL-2.0 OR MIT) */
/*
 * The IOKit backend (host/hostdev_iokit.c) driven as QEMU drives it, over
 * the IOKit test double, the dext core and the simulated function: open and
 * selection, config and BARs, DMA mappings (multi-segment too), interrupts,
 * reset, and cleanup when the client closes or crashes.
 */
#define _POSIX_C_SOURCE 200809L
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "dext_rig.h"

#define PG	DARTSIM_PAGE_SIZE

static struct iokit_shim_counts counts(void)
{
	struct iokit_shim_counts c;

	iokit_shim_counts(&c);
	return c;
}

/* ---- open, selection, identity */

static void test_open_info(void **state)
{
	struct iokit_shim_config cfg = rig_config();
	struct dext_rig *r = rig_open(&cfg);
	const struct hostdev_info *i = &r->h->info;
	uint32_t v = 0;

	(void)state;
	assert_string_equal(i->name, "dext 0000:05:00.0");
	assert_int_equal(i->cfg_size, 4096);
	assert_int_equal(i->resets, HOSTDEV_RESET_FLR | HOSTDEV_RESET_BUS);
	assert_int_equal(i->dma_addr, HOSTDEV_DMA_HVA);
	/* the dext's limits, as its INFO reports them (here its defaults) */
	assert_int_equal(i->max_maps, DEXT_CORE_DEFAULT_MAX_MAPS);
	assert_int_equal(i->max_bytes, DEXT_CORE_DEFAULT_MAX_BYTES);
	assert_int_equal(i->bar[SIMGPU_BAR_REGS].size, SIMGPU_REGS_SIZE);
	assert_null(i->bar[SIMGPU_BAR_REGS].ptr);	/* trapped */
	assert_int_equal(i->bar[SIMGPU_BAR_VRAM].size, 1u << 20);
	assert_int_equal(i->bar[SIMGPU_BAR_VRAM].flags,
			 HOSTDEV_BAR_64 | HOSTDEV_BAR_PREFETCH);
	/* VRAM is mapped into this process: a write shows in a BAR read */
	assert_non_null(i->bar[SIMGPU_BAR_VRAM].ptr);
	memcpy((uint8_t *)i->bar[SIMGPU_BAR_VRAM].ptr + 64, "\x5a\xa5", 2);
	assert_int_equal(r->h->ops->bar_read(r->h->dev, SIMGPU_BAR_VRAM, 64, 2,
					     &(uint64_t){ 0 }), HOSTDEV_OK);
	assert_int_equal(r->h->ops->config_read(r->h->dev, 0, 4, &v),
			 HOSTDEV_OK);
	assert_int_equal(v, SIMGPU_PCI_VENDOR_ID | SIMGPU_PCI_DEVICE_ID << 16);
	assert_int_equal(rig_reg(r, SIMGPU_REG_ID), SIMGPU_ID_VALUE);
	rig_wreg(r, SIMGPU_REG_SCRATCH, 0x12345678);
	assert_int_equal(rig_reg(r, SIMGPU_REG_SCRATCH), 0x12345678);
	rig_close(r);
}

static void open_expect(const char *sel, int want, const char *msg)
{
	struct hostdev *h = NULL;
	char err[200];
	int e = hostdev_iokit_open(sel, &h, err, sizeof(err));

	assert_int_equal(e, want);
	if (e == HOSTDEV_OK) {
		h->ops->close(h->dev);
	} else {
		assert_null(h);
		assert_non_null(strstr(err, msg));
	}
}

static void test_selectors(void **state)
{
	struct iokit_shim_config cfg = rig_config();
	char id[32];

	(void)state;
	assert_true(iokit_shim_setup(&cfg));
	snprintf(id, sizeof(id), "0x%llx",
		 (unsigned long long)iokit_shim_registry_id());
	open_expect(NULL, HOSTDEV_OK, "");
	open_expect("auto", HOSTDEV_OK, "");
	open_expect(id, HOSTDEV_OK, "");
	open_expect("0000:05:00.0", HOSTDEV_OK, "");
	open_expect("05:00.0", HOSTDEV_OK, "");
	open_expect("0000:06:00.0", HOSTDEV_E_GONE, "no EgpuPCIDriver");
	open_expect("0x1234", HOSTDEV_E_GONE, "no EgpuPCIDriver");
	open_expect("05:00", HOSTDEV_E_INVAL, "not a selector");
	open_expect("05:20.0", HOSTDEV_E_INVAL, "not a selector");
	open_expect("0xzz", HOSTDEV_E_INVAL, "not a selector");
	/* every open above was closed: nothing is left behind */
	assert_int_equal(counts().regions, 0);
	assert_int_equal(counts().completions, 0);
	iokit_shim_teardown();
}

static void test_second_client_refused(void **state)
{
	struct iokit_shim_config cfg = rig_config();
	struct dext_rig *r = rig_open(&cfg);
	io_connect_t c;

	(void)state;
	open_expect("auto", HOSTDEV_E_IO, "in use by another process");
	open_expect("05:00.0", HOSTDEV_E_IO, "in use by another process");
	c = raw_open();
	assert_int_equal(raw_hello(c, DEXT_ABI_VERSION),
			 DEXT_IORETURN(DEXT_S_BUSY));
	IOServiceClose(c);
	/* the owner is untouched */
	assert_int_equal(rig_reg(r, SIMGPU_REG_ID), SIMGPU_ID_VALUE);
	rig_close(r);
}

/* ---- DMA */

static void test_map_unmap(void **state)
{
	struct iokit_shim_config cfg = rig_config();
	struct dext_rig *r = rig_open(&cfg);
	struct adma_seg seg[ADMA_MAX_SEGS];
	unsigned int n = 0;
	uint64_t addr = 0, ck = 0;

	(void)state;
	assert_int_equal(rig_map(r, 3 * PG + 100, 2 * PG, ADMA_DIR_TO_DEVICE,
				 seg, &n, &ck), ADMA_S_OK);
	assert_int_equal(n, 1);
	assert_int_equal(seg[0].len, 2 * PG);
	assert_int_equal(seg[0].iova % PG, 100);	/* offset kept */
	assert_true(rig_dart_hit(seg[0].iova, &addr));
	assert_ptr_equal((void *)(uintptr_t)addr, r->ram + 3 * PG + 100);
	assert_int_equal(rig_dart_live(), 1);
	assert_int_equal(counts().mappings, 1);

	rig_unmap(r, seg, n, ck);
	assert_int_equal(rig_dart_live(), 0);
	assert_int_equal(counts().mappings, 0);
	assert_false(rig_dart_hit(seg[0].iova, &addr));

	/* outside every registered region: not ours to map */
	assert_int_equal(r->h->dma_ops->map(r->h->dma_be,
					    (uint64_t)(uintptr_t)r->ram +
					    RIG_RAM_SIZE - PG, 2 * PG,
					    ADMA_DIR_TO_DEVICE, seg,
					    ADMA_MAX_SEGS, &n, &ck),
			 ADMA_S_RANGE);
	assert_int_equal(n, 0);
	rig_close(r);
}

/*
 * The dext unmaps by handle, and the handle is the mapping's cookie: the
 * backend needs nothing else (no table from IOVAs back to handles).
 */
static void test_unmap_by_cookie(void **state)
{
	struct iokit_shim_config cfg = rig_config();
	struct dext_rig *r = rig_open(&cfg);
	struct adma_seg a[ADMA_MAX_SEGS], b[ADMA_MAX_SEGS];
	const struct adma_seg elsewhere = { 0x7000000000ull, PG };
	struct dext_stats ds;
	unsigned int na = 0, nb = 0;
	uint64_t ca = 0, cb = 0, addr;

	(void)state;
	assert_int_equal(rig_map(r, 0, PG, 1, a, &na, &ca), ADMA_S_OK);
	assert_int_equal(rig_map(r, 2 * PG, PG, 1, b, &nb, &cb), ADMA_S_OK);
	assert_true(ca && cb && ca != cb);
	/* the segments handed back say nothing: the cookie names it */
	rig_unmap(r, &elsewhere, 1, ca);
	assert_int_equal(rig_dart_live(), 1);
	assert_false(rig_dart_hit(a[0].iova, &addr));
	assert_true(rig_dart_hit(b[0].iova, &addr));
	/* a stale cookie: the dext refuses it, the other mapping stays */
	rig_unmap(r, a, na, ca);
	assert_int_equal(hostdev_iokit_stats(r->h, &ds), HOSTDEV_OK);
	assert_int_equal(ds.refusals, 1);
	assert_int_equal(ds.live_maps, 1);
	assert_true(rig_dart_hit(b[0].iova, &addr));
	/* no cookie: nothing of ours, nothing sent */
	rig_unmap(r, b, nb, 0);
	assert_int_equal(rig_dart_live(), 1);
	rig_unmap(r, b, nb, cb);
	assert_int_equal(rig_dart_live(), 0);
	rig_close(r);
}

static void test_multiseg(void **state)
{
	struct iokit_shim_config cfg = rig_config();
	struct dext_rig *r;
	struct adma_seg seg[ADMA_MAX_SEGS];
	struct dext_stats ds;
	unsigned int n = 0, i;
	uint64_t addr, sum = 0;

	(void)state;
	cfg.gpu.dart.seg_pages = 1;	/* the DART answers page by page */
	r = rig_open(&cfg);
	assert_int_equal(rig_map(r, 5 * PG, 3 * PG, ADMA_DIR_BIDIRECTIONAL,
				 seg, &n, NULL), ADMA_S_OK);
	assert_int_equal(n, 3);
	for (i = 0; i < n; i++) {
		assert_true(rig_dart_hit(seg[i].iova, &addr));
		assert_ptr_equal((void *)(uintptr_t)addr, r->ram + (5 + i) * PG);
		sum += seg[i].len;
	}
	assert_int_equal(sum, 3 * PG);
	/* 5 segments: the dext answers them, apple_dma cannot carry them */
	assert_int_equal(rig_map(r, 16 * PG, 5 * PG, ADMA_DIR_TO_DEVICE, seg,
				 &n, NULL), ADMA_S_FRAGMENTED);
	assert_int_equal(rig_dart_live(), 1);	/* undone: only the first */
	assert_int_equal(hostdev_iokit_stats(r->h, &ds), HOSTDEV_OK);
	assert_int_equal(ds.multiseg, 2);
	assert_int_equal(ds.maps, 2);
	assert_int_equal(ds.unmaps, 1);
	assert_int_equal(ds.live_maps, 1);
	rig_close(r);
}

static void test_limits(void **state)
{
	struct iokit_shim_config cfg = rig_config();
	struct adma_seg seg[8][ADMA_MAX_SEGS];
	struct dext_rig *r;
	unsigned int n, i;
	uint64_t ck[4];

	(void)state;
	cfg.dext.max_maps = 4;
	cfg.dext.max_bytes = 8 * PG;
	r = rig_open(&cfg);
	/* what apple-dma-pci's core takes as its limits */
	assert_int_equal(r->h->info.max_maps, 4);
	assert_int_equal(r->h->info.max_bytes, 8 * PG);
	for (i = 0; i < 4; i++)
		assert_int_equal(rig_map(r, i * 4 * PG, PG, ADMA_DIR_TO_DEVICE,
					 seg[i], &n, &ck[i]), ADMA_S_OK);
	assert_int_equal(rig_map(r, 64 * PG, PG, ADMA_DIR_TO_DEVICE, seg[4], &n,
				 NULL), ADMA_S_NO_SPACE);
	rig_unmap(r, seg[0], 1, ck[0]);
	/* bytes: 3 pages live, 6 more do not fit in 8 (one byte over a page
	 * boundary counts two pages) */
	assert_int_equal(rig_map(r, 64 * PG + 1, 5 * PG, ADMA_DIR_TO_DEVICE,
				 seg[4], &n, NULL), ADMA_S_NO_SPACE);
	assert_int_equal(rig_map(r, 64 * PG, 5 * PG, ADMA_DIR_TO_DEVICE,
				 seg[4], &n, NULL), ADMA_S_OK);
	assert_int_equal(rig_dart_live(), 4);
	rig_close(r);

	/* the DART's own limit, below the dext's */
	cfg = rig_config();
	cfg.gpu.dart.max_maps = 2;
	r = rig_open(&cfg);
	assert_int_equal(rig_map(r, 0, PG, 1, seg[0], &n, NULL), ADMA_S_OK);
	assert_int_equal(rig_map(r, PG, PG, 1, seg[1], &n, NULL), ADMA_S_OK);
	assert_int_equal(rig_map(r, 2 * PG, PG, 1, seg[2], &n, NULL),
			 ADMA_S_NO_SPACE);
	rig_close(r);
}

static void test_regions(void **state)
{
	struct iokit_shim_config cfg = rig_config();
	struct dext_rig *r;
	struct adma_seg seg[ADMA_MAX_SEGS];
	uint8_t *more = aligned_alloc(PG, 4 * PG);
	unsigned int n;
	uint64_t ck = 0;

	(void)state;
	cfg.dext.max_regions = 2;
	r = rig_open(&cfg);
	assert_non_null(more);
	/* overlapping the rig's RAM, unaligned: refused */
	assert_int_equal(hostdev_iokit_add_region(r->h, r->ram + PG, PG),
			 HOSTDEV_E_INVAL);
	assert_int_equal(hostdev_iokit_add_region(r->h, more + 1, PG),
			 HOSTDEV_E_INVAL);
	assert_int_equal(hostdev_iokit_add_region(r->h, more, 4 * PG),
			 HOSTDEV_OK);
	assert_int_equal(hostdev_iokit_add_region(r->h, more + 8 * PG, PG),
			 HOSTDEV_E_IO);		/* max_regions */
	assert_int_equal(counts().regions, 2);
	assert_int_equal(r->h->dma_ops->map(r->h->dma_be,
					    (uint64_t)(uintptr_t)more, PG, 1,
					    seg, ADMA_MAX_SEGS, &n, &ck),
			 ADMA_S_OK);
	/* a region with a live mapping stays */
	assert_int_equal(hostdev_iokit_remove_region(r->h, more, 4 * PG),
			 HOSTDEV_E_INVAL);
	rig_unmap(r, seg, n, ck);
	assert_int_equal(hostdev_iokit_remove_region(r->h, more, 4 * PG),
			 HOSTDEV_OK);
	assert_int_equal(counts().regions, 1);
	rig_close(r);
	free(more);
}

/* ---- interrupts */

static void ring_up(struct dext_rig *r, uint64_t *ring_iova)
{
	struct adma_seg seg[ADMA_MAX_SEGS];
	unsigned int n;

	assert_int_equal(rig_map(r, 0, 4 * PG, ADMA_DIR_BIDIRECTIONAL, seg, &n,
				 NULL),
			 ADMA_S_OK);
	*ring_iova = seg[0].iova;
	assert_int_equal(r->h->ops->config_write(r->h->dev, 0x04, 2, 0x6),
			 HOSTDEV_OK);
	rig_wreg(r, SIMGPU_REG_RING_LO, (uint32_t)*ring_iova);
	rig_wreg(r, SIMGPU_REG_RING_HI, (uint32_t)(*ring_iova >> 32));
	rig_wreg(r, SIMGPU_REG_RING_SIZE, 16);
	rig_wreg(r, SIMGPU_REG_CONTROL,
		 SIMGPU_CONTROL_RESET | SIMGPU_CONTROL_ENABLE);
}

/* FENCE with an interrupt at ring slot `slot`; fence value lands at 2 * PG */
static void fence(struct dext_rig *r, uint64_t ring, uint32_t slot,
		  uint64_t value, uint32_t vector)
{
	struct simgpu_cmd c = { .op = SIMGPU_OP_FENCE, .flags = SIMGPU_CMD_IRQ,
				.value = value, .fence_addr = ring + 2 * PG,
				.vector = vector };

	memcpy(r->ram + slot * 64ull, &c, sizeof(c));
	rig_wreg(r, SIMGPU_REG_RING_TAIL, slot + 1);
}

static void test_irq_msix(void **state)
{
	struct iokit_shim_config cfg = rig_config();
	struct dext_rig *r = rig_open(&cfg);
	struct dext_stats ds;
	uint64_t ring, got;
	uint32_t i;

	(void)state;
	ring_up(r, &ring);
	assert_int_equal(r->h->ops->irq_set(r->h->dev, HOSTDEV_IRQ_MSIX, 16),
			 HOSTDEV_OK);
	fence(r, ring, 0, 0xfeed, 5);
	assert_true(rig_wait_irq(r, 1, 2000));
	assert_int_equal(r->irq[0].kind, HOSTDEV_IRQ_MSIX);
	assert_int_equal(r->irq[0].vector, 5);
	memcpy(&got, r->ram + 2 * PG, 8);
	assert_int_equal(got, 0xfeed);

	/* a burst: every vector arrives, however the wakeups coalesce */
	for (i = 1; i < 9; i++)
		fence(r, ring, i, i, 15 - i);
	assert_true(rig_wait_irq(r, 9, 2000));
	iokit_shim_gpu_idle();
	for (i = 1; i < 9; i++) {
		unsigned int j;
		bool seen = false;

		for (j = 1; j < 9; j++)
			seen |= r->irq[j].vector == 15 - i;
		assert_true(seen);
	}
	assert_int_equal(hostdev_iokit_stats(r->h, &ds), HOSTDEV_OK);
	assert_int_equal(ds.irqs, 9);
	assert_true(ds.wakeups >= 1 && ds.wakeups <= 9);

	/* switched off: the fence lands, no interrupt does */
	assert_int_equal(r->h->ops->irq_set(r->h->dev, HOSTDEV_IRQ_NONE, 0),
			 HOSTDEV_OK);
	fence(r, ring, 9, 0xbeef, 1);
	iokit_shim_gpu_idle();
	memcpy(&got, r->ram + 2 * PG, 8);
	assert_int_equal(got, 0xbeef);
	assert_false(rig_wait_irq(r, 10, 100));
	/* more vectors than the function has */
	assert_int_equal(r->h->ops->irq_set(r->h->dev, HOSTDEV_IRQ_MSIX, 17),
			 HOSTDEV_E_INVAL);
	rig_close(r);
}

static void test_irq_msi_intx(void **state)
{
	struct iokit_shim_config cfg = rig_config();
	struct dext_rig *r;
	uint64_t ring;

	(void)state;
	r = rig_open(&cfg);
	/* no INTx pin on this function */
	assert_int_equal(r->h->ops->irq_set(r->h->dev, HOSTDEV_IRQ_INTX, 1),
			 HOSTDEV_E_NOTSUP);
	ring_up(r, &ring);
	assert_int_equal(r->h->ops->irq_set(r->h->dev, HOSTDEV_IRQ_MSI, 1),
			 HOSTDEV_OK);
	fence(r, ring, 0, 1, 7);	/* MSI: always vector 0 */
	assert_true(rig_wait_irq(r, 1, 2000));
	assert_int_equal(r->irq[0].kind, HOSTDEV_IRQ_MSI);
	assert_int_equal(r->irq[0].vector, 0);
	rig_close(r);

	cfg.gpu.intx = true;
	r = rig_open(&cfg);
	ring_up(r, &ring);
	assert_int_equal(r->h->ops->irq_set(r->h->dev, HOSTDEV_IRQ_INTX, 1),
			 HOSTDEV_OK);
	fence(r, ring, 0, 1, 0);
	assert_true(rig_wait_irq(r, 1, 2000));
	assert_int_equal(r->irq[0].kind, HOSTDEV_IRQ_INTX);
	assert_int_equal(r->irq[0].level, 1);
	/* the driver acknowledges: the line drops */
	rig_wreg(r, SIMGPU_REG_IRQ_STATUS, SIMGPU_IRQ_FENCE);
	assert_true(rig_wait_irq(r, 2, 2000));
	assert_int_equal(r->irq[1].kind, HOSTDEV_IRQ_INTX);
	assert_int_equal(r->irq[1].level, 0);
	rig_close(r);
}

/* ---- reset */

static void test_reset(void **state)
{
	struct iokit_shim_config cfg = rig_config();
	struct adma_seg seg[ADMA_MAX_SEGS];
	struct dext_rig *r = rig_open(&cfg);
	uint32_t done = 0;
	unsigned int n;

	(void)state;
	assert_int_equal(rig_map(r, 0, PG, 1, seg, &n, NULL), ADMA_S_OK);
	rig_wreg(r, SIMGPU_REG_SCRATCH, 7);
	assert_int_equal(r->h->ops->reset(r->h->dev, HOSTDEV_RESET_FLR |
					  HOSTDEV_RESET_BUS, &done), HOSTDEV_OK);
	assert_int_equal(done, HOSTDEV_RESET_FLR);
	assert_int_equal(rig_reg(r, SIMGPU_REG_SCRATCH), 0);
	assert_int_equal(rig_dart_live(), 1);	/* mappings stay */
	assert_int_equal(r->h->ops->reset(r->h->dev, HOSTDEV_RESET_BUS, &done),
			 HOSTDEV_OK);
	assert_int_equal(done, HOSTDEV_RESET_BUS);
	assert_int_equal(r->h->ops->reset(r->h->dev, 4, &done),
			 HOSTDEV_E_INVAL);
	rig_close(r);

	/* FLR fails (or is missing): the hot reset runs instead */
	cfg.fail_flr = true;
	r = rig_open(&cfg);
	assert_int_equal(r->h->ops->reset(r->h->dev, HOSTDEV_RESET_FLR |
					  HOSTDEV_RESET_BUS, &done), HOSTDEV_OK);
	assert_int_equal(done, HOSTDEV_RESET_BUS);
	assert_int_not_equal(r->h->ops->reset(r->h->dev, HOSTDEV_RESET_FLR,
					      &done), HOSTDEV_OK);
	rig_close(r);
	cfg = rig_config();
	cfg.no_flr = true;
	r = rig_open(&cfg);
	assert_int_equal(r->h->info.resets, HOSTDEV_RESET_BUS);
	assert_int_equal(r->h->ops->reset(r->h->dev, HOSTDEV_RESET_FLR, &done),
			 HOSTDEV_E_NOTSUP);
	rig_close(r);
}

/* ---- cleanup: close and crash */

static void check_released(uint64_t flrs)
{
	struct iokit_shim_counts c = counts();
	uint32_t cmd = 0;

	assert_int_equal(rig_dart_live(), 0);
	assert_int_equal(c.mappings, 0);
	assert_int_equal(c.regions, 0);
	assert_int_equal(c.completions, 0);
	assert_int_equal(c.resets_flr, flrs);
	assert_int_equal(simgpu_stats(iokit_shim_gpu())->flrs, flrs);
	/* the reset left the function quiet: no bus mastering */
	simgpu_hostdev(iokit_shim_gpu())->ops->config_read(
		simgpu_hostdev(iokit_shim_gpu())->dev, 4, 2, &cmd);
	assert_int_equal(cmd & 0x4, 0);
}

static void map_some(struct dext_rig *r, unsigned int k)
{
	struct adma_seg seg[ADMA_MAX_SEGS];
	unsigned int i, n;
	uint64_t ring;

	ring_up(r, &ring);	/* bus mastering on, one mapping */
	assert_int_equal(r->h->ops->irq_set(r->h->dev, HOSTDEV_IRQ_MSIX, 4),
			 HOSTDEV_OK);
	for (i = 0; i < k; i++)
		assert_int_equal(rig_map(r, (8 + i) * PG, PG, 1, seg, &n, NULL),
				 ADMA_S_OK);
	assert_int_equal(rig_dart_live(), k + 1);
}

static void test_close_releases(void **state)
{
	struct iokit_shim_config cfg = rig_config();
	struct dext_rig *r = rig_open(&cfg);
	io_connect_t c;

	(void)state;
	map_some(r, 10);
	r->h->ops->close(r->h->dev);
	r->h = NULL;
	check_released(1);
	/* the function is free again */
	c = raw_open();
	assert_int_equal(raw_hello(c, DEXT_ABI_VERSION), 0);
	IOServiceClose(c);
	rig_close(r);
}

static void test_crash_releases(void **state)
{
	struct iokit_shim_config cfg = rig_config();
	struct dext_rig *r = rig_open(&cfg);
	struct adma_seg seg[ADMA_MAX_SEGS];
	unsigned int n;
	io_connect_t c;

	(void)state;
	map_some(r, 10);
	iokit_shim_crash(hostdev_iokit_connection(r->h));
	check_released(1);
	/* the dead client's calls fail as "gone" */
	assert_int_equal(rig_map(r, 0, PG, 1, seg, &n, NULL), ADMA_S_IO_ERROR);
	assert_int_equal(r->h->ops->config_read(r->h->dev, 0, 4, &(uint32_t){ 0 }),
			 HOSTDEV_E_GONE);
	c = raw_open();
	assert_int_equal(raw_hello(c, DEXT_ABI_VERSION), 0);
	IOServiceClose(c);
	rig_close(r);	/* closing a dead connection is harmless */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_open_info),
		cmocka_unit_test(test_selectors),
		cmocka_unit_test(test_second_client_refused),
		cmocka_unit_test(test_map_unmap),
		cmocka_unit_test(test_unmap_by_cookie),
		cmocka_unit_test(test_multiseg),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_regions),
		cmocka_unit_test(test_irq_msix),
		cmocka_unit_test(test_irq_msi_intx),
		cmocka_unit_test(test_reset),
		cmocka_unit_test(test_close_releases),
		cmocka_unit_test(test_crash_releases),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
