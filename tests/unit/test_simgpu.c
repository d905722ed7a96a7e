/* SPDX-License-Identifier: (GPL-2.0 OR MIT) */
/*
 * Unit tests of simgpu as a PCI function: config space, BARs, registers,
 * interrupt modes, reset and close, through the hostdev ops only.
 * The engine's tests are in test_simgpu_engine.c.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "simgpu_rig.h"

static void test_identity_and_caps(void **state)
{
	struct gpu_rig *t = setup((struct simgpu_config){ 0 });
	uint32_t pcie, msi, msix;

	(void)state;
	assert_int_equal(cfgr(t, 0x00, 2), SIMGPU_PCI_VENDOR_ID);
	assert_int_equal(cfgr(t, 0x02, 2), SIMGPU_PCI_DEVICE_ID);
	assert_int_equal(cfgr(t, 0x08, 4),
			 (uint32_t)SIMGPU_PCI_CLASS << 16 | SIMGPU_PCI_REVISION);
	assert_int_equal(cfgr(t, 0x0e, 1), 0);		/* header type 0 */
	assert_int_equal(cfgr(t, 0x06, 2) & 0x10, 0x10);	/* cap list */
	assert_int_equal(cfgr(t, 0x3d, 1), 0);		/* no INTx pin */
	assert_int_equal(t->hd->info.cfg_size, 4096);
	assert_int_equal(t->hd->info.resets,
			 HOSTDEV_RESET_FLR | HOSTDEV_RESET_BUS);

	/* the chain, in order: PCIe (0x10) -> MSI (0x05) -> MSI-X (0x11) -> end */
	pcie = cfgr(t, 0x34, 1);
	assert_int_equal(pcie, SIMGPU_CAP_PCIE);
	assert_int_equal(cfgr(t, pcie, 1), 0x10);
	msi = cfgr(t, pcie + 1, 1);
	assert_int_equal(msi, SIMGPU_CAP_MSI);
	assert_int_equal(cfgr(t, msi, 1), 0x05);
	msix = cfgr(t, msi + 1, 1);
	assert_int_equal(msix, SIMGPU_CAP_MSIX);
	assert_int_equal(cfgr(t, msix, 1), 0x11);
	assert_int_equal(cfgr(t, msix + 1, 1), 0);
	assert_int_equal(cfgr(t, 0x100, 4), 0);

	/* PCIe v2 endpoint, FLR capable */
	assert_int_equal(cfgr(t, pcie + 2, 2) & 0xff, 0x02);
	assert_true(cfgr(t, pcie + 4, 4) & (1u << 28));
	/* MSI: 64-bit, per-vector mask, one vector (MMC 0), disabled */
	assert_int_equal(cfgr(t, msi + 2, 2) & 0x18f, 0x180);
	/* MSI-X: table size - 1, table at BAR4 + 0, PBA after it */
	assert_int_equal(cfgr(t, msix + 2, 2), SIMGPU_MSIX_DEFAULT - 1);
	assert_int_equal(cfgr(t, msix + 4, 4), SIMGPU_BAR_MSIX);
	assert_int_equal(cfgr(t, msix + 8, 4),
			 SIMGPU_MSIX_PBA_OFF(SIMGPU_MSIX_DEFAULT) | 4);
	teardown(t);

	t = setup((struct simgpu_config){ .intx = true, .msix_vectors = 300 });
	assert_int_equal(cfgr(t, 0x3d, 1), 1);		/* INTA */
	assert_int_equal(cfgr(t, SIMGPU_CAP_MSIX + 2, 2), 299);
	assert_int_equal(rr(t, SIMGPU_REG_MSIX_VECS), 300);
	teardown(t);
}

/* The DART's limits, its defaults filled in: what apple-dma-pci's core takes */
static void test_dma_limits(void **state)
{
	struct gpu_rig *t = setup((struct simgpu_config){ 0 });

	(void)state;
	assert_int_equal(t->hd->info.max_maps, ADMA_CORE_DEFAULT_MAX_MAPS);
	assert_int_equal(t->hd->info.max_bytes, ADMA_CORE_DEFAULT_MAX_BYTES);
	teardown(t);
	t = setup((struct simgpu_config){
		.dart = { .max_maps = 8, .max_bytes = 5 * DARTSIM_PAGE_SIZE } });
	assert_int_equal(t->hd->info.max_maps, 8);
	assert_int_equal(t->hd->info.max_bytes, 5 * DARTSIM_PAGE_SIZE);
	teardown(t);
}

/* Write all-ones to a BAR and read the size mask back, as a BIOS does. */
static uint32_t size_bar(struct gpu_rig *t, unsigned int i)
{
	cfgw(t, 0x10 + 4 * i, 4, 0xffffffff);
	return cfgr(t, 0x10 + 4 * i, 4);
}

static void test_bars(void **state)
{
	struct gpu_rig *t = setup((struct simgpu_config){ 0 });
	const struct hostdev_info *in = &t->hd->info;

	(void)state;
	assert_int_equal(size_bar(t, 0), ~(uint32_t)(SIMGPU_REGS_SIZE - 1));
	assert_int_equal(size_bar(t, 1), 0);
	assert_int_equal(size_bar(t, 2), ~(uint32_t)(VRAM_SIZE - 1) | 0xc);
	assert_int_equal(size_bar(t, 3), 0xffffffff);
	assert_int_equal(size_bar(t, 4), ~(uint32_t)(4096 - 1));
	assert_int_equal(size_bar(t, 5), 0);
	cfgw(t, 0x30, 4, 0xffffffff);			/* no ROM */
	assert_int_equal(cfgr(t, 0x30, 4), 0);
	/* an address keeps only its bits above the size */
	cfgw(t, 0x18, 4, 0x12345678);
	assert_int_equal(cfgr(t, 0x18, 4), 0x12300000 | 0xc);
	cfgw(t, 0x10, 4, 0x80001234);
	assert_int_equal(cfgr(t, 0x10, 4), 0x80000000);

	assert_int_equal(in->bar[0].size, SIMGPU_REGS_SIZE);
	assert_null(in->bar[0].ptr);
	assert_int_equal(in->bar[2].size, VRAM_SIZE);
	assert_int_equal(in->bar[2].flags,
			 HOSTDEV_BAR_64 | HOSTDEV_BAR_PREFETCH);
	assert_ptr_equal(in->bar[2].ptr, t->vram);
	assert_int_equal(in->bar[4].size, 4096);
	assert_null(in->bar[4].ptr);
	assert_int_equal(in->bar[1].size + in->bar[3].size + in->bar[5].size, 0);
	teardown(t);

	/* 300 vectors: table 4800 B, PBA at 6144 + 40 B -> 8 KiB */
	t = setup((struct simgpu_config){ .msix_vectors = 300 });
	assert_int_equal(t->hd->info.bar[4].size, 8192);
	assert_int_equal(size_bar(t, 4), ~(uint32_t)(8192 - 1));
	teardown(t);
}

static void test_config_write_masks(void **state)
{
	struct gpu_rig *t = setup((struct simgpu_config){ 0 });
	void *dev = t->hd->dev;
	uint32_t v;

	(void)state;
	cfgw(t, 0x00, 4, 0);				/* IDs are RO */
	assert_int_equal(cfgr(t, 0x00, 2), SIMGPU_PCI_VENDOR_ID);
	cfgw(t, 0x08, 4, 0);
	assert_int_equal(cfgr(t, 0x0a, 2), SIMGPU_PCI_CLASS);
	cfgw(t, 0x04, 2, 0xffff);	/* only memory, master, INTx disable */
	assert_int_equal(cfgr(t, 0x04, 2), 0x0406);
	cfgw(t, 0x06, 2, 0xffff);			/* status: RO here */
	assert_int_equal(cfgr(t, 0x06, 2), 0x10);
	cfgw(t, 0x34, 1, 0x00);				/* cap pointer RO */
	assert_int_equal(cfgr(t, 0x34, 1), SIMGPU_CAP_PCIE);
	cfgw(t, 0x3c, 1, 0x2b);				/* interrupt line RW */
	assert_int_equal(cfgr(t, 0x3c, 1), 0x2b);
	cfgw(t, 0x3d, 1, 0x01);				/* pin RO */
	assert_int_equal(cfgr(t, 0x3d, 1), 0);
	/* MSI-X: enable and function mask RW, table size RO */
	cfgw(t, SIMGPU_CAP_MSIX + 2, 2, 0xffff);
	assert_int_equal(cfgr(t, SIMGPU_CAP_MSIX + 2, 2), 0xc000 | 15);
	/* MSI: address low bits and 64-bit/PVM bits RO */
	cfgw(t, SIMGPU_CAP_MSI + 2, 2, 0x0000);
	assert_int_equal(cfgr(t, SIMGPU_CAP_MSI + 2, 2), 0x180);
	cfgw(t, SIMGPU_CAP_MSI + 4, 4, 0xfee00003);
	assert_int_equal(cfgr(t, SIMGPU_CAP_MSI + 4, 4), 0xfee00000);
	cfgw(t, SIMGPU_CAP_MSI + 0x10, 4, 0xffffffff);	/* one mask bit */
	assert_int_equal(cfgr(t, SIMGPU_CAP_MSI + 0x10, 4), 1);
	/* PCIe DevCtl: FLR bit reads 0; DevCap RO */
	cfgw(t, SIMGPU_CAP_PCIE + 8, 2, 0x0000);
	assert_int_equal(cfgr(t, SIMGPU_CAP_PCIE + 8, 2), 0);
	cfgw(t, SIMGPU_CAP_PCIE + 4, 4, 0);
	assert_true(cfgr(t, SIMGPU_CAP_PCIE + 4, 4) & (1u << 28));
	cfgw(t, 0x100, 4, 0xffffffff);			/* ext space RO */
	assert_int_equal(cfgr(t, 0x100, 4), 0);

	/* bad accesses: size, alignment, bounds */
	assert_int_equal(t->hd->ops->config_read(dev, 4096, 1, &v),
			 HOSTDEV_E_INVAL);
	assert_int_equal(t->hd->ops->config_read(dev, 4092, 8, &v),
			 HOSTDEV_E_INVAL);
	assert_int_equal(t->hd->ops->config_read(dev, 0, 3, &v),
			 HOSTDEV_E_INVAL);
	assert_int_equal(t->hd->ops->config_read(dev, 2, 4, &v),
			 HOSTDEV_E_INVAL);
	assert_int_equal(t->hd->ops->config_write(dev, 0x1001, 1, 0),
			 HOSTDEV_E_INVAL);
	assert_int_equal(t->hd->ops->config_read(dev, 4095, 1, &v), 0);
	assert_int_equal(t->hd->ops->config_read(dev, 4092, 4, &v), 0);
	teardown(t);
}

static void test_registers_and_bars(void **state)
{
	struct gpu_rig *t = setup((struct simgpu_config){ 0 });
	const struct hostdev_ops *ops = t->hd->ops;
	void *dev = t->hd->dev;
	uint64_t v;

	(void)state;
	assert_int_equal(rr(t, SIMGPU_REG_ID), SIMGPU_ID_VALUE);
	assert_int_equal(rr(t, SIMGPU_REG_VERSION), SIMGPU_VERSION_VALUE);
	assert_int_equal(rr(t, SIMGPU_REG_VRAM_LO), VRAM_SIZE);
	assert_int_equal(rr(t, SIMGPU_REG_VRAM_HI), 0);
	assert_int_equal(rr(t, SIMGPU_REG_MSIX_VECS), SIMGPU_MSIX_DEFAULT);
	assert_int_equal(rr(t, SIMGPU_REG_STATUS), 0);
	rw(t, SIMGPU_REG_SCRATCH, 0xa5a5f00d);
	assert_int_equal(rr(t, SIMGPU_REG_SCRATCH), 0xa5a5f00d);
	rw(t, SIMGPU_REG_ID, 0);			/* RO */
	rw(t, SIMGPU_REG_DONE, 7);
	assert_int_equal(rr(t, SIMGPU_REG_ID), SIMGPU_ID_VALUE);
	assert_int_equal(rr(t, SIMGPU_REG_DONE), 0);
	rw(t, SIMGPU_REG_IRQ_MASK, 0xffffffff);
	assert_int_equal(rr(t, SIMGPU_REG_IRQ_MASK), 3);
	/* 64-bit and partial reads; a partial register write is refused */
	assert_int_equal(ops->bar_read(dev, 0, SIMGPU_REG_ID, 8, &v), 0);
	assert_int_equal(v, SIMGPU_ID_VALUE |
			 (uint64_t)SIMGPU_VERSION_VALUE << 32);
	assert_int_equal(ops->bar_read(dev, 0, SIMGPU_REG_ID + 2, 2, &v), 0);
	assert_int_equal(v, SIMGPU_ID_VALUE >> 16);
	assert_int_equal(ops->bar_write(dev, 0, SIMGPU_REG_SCRATCH, 2, 0),
			 HOSTDEV_E_INVAL);
	/* 8 bytes are two dwords: FAULT_HI (RO) then SCRATCH */
	assert_int_equal(ops->bar_write(dev, 0, SIMGPU_REG_FAULT_HI, 8,
					0x1111222233334444ull), 0);
	assert_int_equal(rr(t, SIMGPU_REG_SCRATCH), 0x11112222);
	assert_int_equal(rr(t, SIMGPU_REG_FAULT_HI), 0);
	/* bounds, alignment, BARs that do not exist */
	assert_int_equal(ops->bar_read(dev, 0, SIMGPU_REGS_SIZE, 4, &v),
			 HOSTDEV_E_INVAL);
	assert_int_equal(ops->bar_read(dev, 0, 2, 4, &v), HOSTDEV_E_INVAL);
	assert_int_equal(ops->bar_read(dev, 0, 0, 3, &v), HOSTDEV_E_INVAL);
	assert_int_equal(ops->bar_read(dev, 1, 0, 4, &v), HOSTDEV_E_INVAL);
	assert_int_equal(ops->bar_read(dev, 3, 0, 4, &v), HOSTDEV_E_INVAL);
	assert_int_equal(ops->bar_read(dev, 6, 0, 4, &v), HOSTDEV_E_INVAL);
	assert_int_equal(ops->bar_read(dev, 2, VRAM_SIZE - 4, 8, &v),
			 HOSTDEV_E_INVAL);

	/* VRAM: by pointer and by call, the same bytes */
	assert_int_equal(ops->bar_write(dev, 2, 0x100, 8, 0x0807060504030201ull),
			 0);
	assert_int_equal(t->vram[0x100], 1);
	assert_int_equal(t->vram[0x107], 8);
	t->vram[VRAM_SIZE - 1] = 0x5a;
	assert_int_equal(ops->bar_read(dev, 2, VRAM_SIZE - 1, 1, &v), 0);
	assert_int_equal(v, 0x5a);

	/* MSI-X table: vectors start masked; entries store; PBA is RO */
	assert_int_equal(ops->bar_read(dev, 4, 15 * 16 + 12, 4, &v), 0);
	assert_int_equal(v, 1);
	assert_int_equal(ops->bar_write(dev, 4, 16, 8, 0xfee01000ull), 0);
	assert_int_equal(ops->bar_write(dev, 4, 24, 4, 0x41), 0);
	assert_int_equal(ops->bar_read(dev, 4, 16, 8, &v), 0);
	assert_int_equal(v, 0xfee01000ull);
	assert_int_equal(ops->bar_read(dev, 4, 24, 4, &v), 0);
	assert_int_equal(v, 0x41);
	assert_int_equal(ops->bar_write(dev, 4, SIMGPU_MSIX_PBA_OFF(16), 8, ~0ull),
			 0);
	assert_int_equal(ops->bar_read(dev, 4, SIMGPU_MSIX_PBA_OFF(16), 8, &v),
			 0);
	assert_int_equal(v, 0);
	teardown(t);
}

static void test_irq_modes(void **state)
{
	struct gpu_rig *t = setup((struct simgpu_config){ .msix_vectors = 8 });
	const struct hostdev_ops *ops = t->hd->ops;
	void *dev = t->hd->dev;

	(void)state;
	assert_int_equal(ops->irq_set(dev, HOSTDEV_IRQ_INTX, 1),
			 HOSTDEV_E_NOTSUP);
	assert_int_equal(ops->irq_set(dev, HOSTDEV_IRQ_MSIX, 9),
			 HOSTDEV_E_INVAL);
	assert_int_equal(ops->irq_set(dev, HOSTDEV_IRQ_MSIX, 0),
			 HOSTDEV_E_INVAL);
	assert_int_equal(ops->irq_set(dev, HOSTDEV_IRQ_MSI, 2),
			 HOSTDEV_E_INVAL);
	assert_int_equal(ops->irq_set(dev, (enum hostdev_irq_kind)7, 1),
			 HOSTDEV_E_INVAL);
	/* the capability in use is enabled, as the host's driver does */
	assert_int_equal(ops->irq_set(dev, HOSTDEV_IRQ_MSIX, 8), 0);
	assert_true(cfgr(t, SIMGPU_CAP_MSIX + 2, 2) & 0x8000);
	assert_false(cfgr(t, SIMGPU_CAP_MSI + 2, 2) & 1);
	assert_int_equal(ops->irq_set(dev, HOSTDEV_IRQ_MSI, 1), 0);
	assert_false(cfgr(t, SIMGPU_CAP_MSIX + 2, 2) & 0x8000);
	assert_true(cfgr(t, SIMGPU_CAP_MSI + 2, 2) & 1);
	assert_int_equal(ops->irq_set(dev, HOSTDEV_IRQ_NONE, 0), 0);
	assert_false(cfgr(t, SIMGPU_CAP_MSI + 2, 2) & 1);
	/* no callback registered: nothing to deliver to */
	t->hd->irq = NULL;
	assert_int_equal(ops->irq_set(dev, HOSTDEV_IRQ_MSI, 1), HOSTDEV_E_INVAL);
	teardown(t);
}

static void test_reset_and_close(void **state)
{
	struct gpu_rig *t = setup((struct simgpu_config){ 0 });
	const struct hostdev_ops *ops = t->hd->ops;
	void *dev = t->hd->dev;
	uint32_t done = 0;
	uint64_t v;

	(void)state;
	assert_int_equal(ops->reset(dev, 0, &done), HOSTDEV_E_INVAL);
	assert_int_equal(ops->reset(dev, 4, &done), HOSTDEV_E_INVAL);
	assert_int_equal(ops->reset(dev, HOSTDEV_RESET_BUS, &done), 0);
	assert_int_equal(done, HOSTDEV_RESET_BUS);
	assert_int_equal(ops->reset(dev, HOSTDEV_RESET_FLR | HOSTDEV_RESET_BUS,
				    &done), 0);
	assert_int_equal(done, HOSTDEV_RESET_FLR);
	assert_int_equal(simgpu_stats(t->gpu)->flrs, 1);
	assert_int_equal(simgpu_stats(t->gpu)->bus_resets, 1);

	/* what an FLR clears: command, BARs, MSI-X state, registers */
	cfgw(t, 0x04, 2, 0x0406);
	cfgw(t, 0x10, 4, 0xe0000000);
	cfgw(t, SIMGPU_CAP_MSIX + 2, 2, 0xc000);
	cfgw(t, SIMGPU_CAP_PCIE + 8, 2, 0x0010);
	rw(t, SIMGPU_REG_SCRATCH, 1);
	rw(t, SIMGPU_REG_IRQ_MASK, 1);
	assert_int_equal(ops->bar_write(dev, 4, 12, 4, 0), 0);
	cfgw(t, SIMGPU_CAP_PCIE + 8, 2, 0x8000);	/* initiate FLR */
	assert_int_equal(simgpu_stats(t->gpu)->flrs, 2);
	assert_int_equal(cfgr(t, 0x04, 2), 0);
	assert_int_equal(cfgr(t, 0x10, 4), 0);
	assert_int_equal(cfgr(t, SIMGPU_CAP_MSIX + 2, 2), 15);
	assert_int_equal(cfgr(t, SIMGPU_CAP_PCIE + 8, 2), 0x2810);
	assert_int_equal(rr(t, SIMGPU_REG_SCRATCH), 0);
	assert_int_equal(rr(t, SIMGPU_REG_IRQ_MASK), 0);
	assert_int_equal(ops->bar_read(dev, 4, 12, 4, &v), 0);
	assert_int_equal(v, 1);

	ops->close(dev);
	assert_int_equal(ops->bar_read(dev, 0, 0, 4, &v), HOSTDEV_E_GONE);
	assert_int_equal(ops->irq_set(dev, HOSTDEV_IRQ_MSI, 1), HOSTDEV_E_GONE);
	teardown(t);	/* a second close is harmless */
}

static int no_read(void *opaque, uint64_t addr, void *buf, size_t len)
{
	(void)opaque, (void)addr, (void)buf, (void)len;
	return -1;
}

static int no_write(void *opaque, uint64_t addr, const void *buf, size_t len)
{
	(void)opaque, (void)addr, (void)buf, (void)len;
	return -1;
}

static void no_lock(void *opaque)
{
	(void)opaque;
}

static void test_bad_config(void **state)
{
	struct simgpu_env env = { .dma_read = no_read, .dma_write = no_write };
	struct simgpu_config bad[] = {
		{ .vram_size = 3 * PG },
		{ .vram_size = PG / 2 },
		{ .msix_vectors = HOSTDEV_MAX_MSIX + 1 },
		{ .dma_addr = 2 },
		{ .dart = { .aperture_base = 0x1000 } },
	};
	static uint64_t mem[(sizeof(struct hostdev) + 64 * 1024) / 8 + 4096];
	static uint8_t vram[PG];
	struct simgpu_config ok = { .vram_size = PG,
				    .dart = { .aperture_size = 4 * PG } };
	unsigned int i;

	(void)state;
	for (i = 0; i < 4; i++)
		assert_int_equal(simgpu_size(&bad[i]), 0);
	for (i = 0; i < 5; i++)
		assert_null(simgpu_init(mem, &bad[i], &env, vram));
	assert_true(simgpu_size(&ok) <= sizeof(mem));
	assert_null(simgpu_init(mem, &ok, &env, NULL));
	assert_null(simgpu_init((uint8_t *)mem + 4, &ok, &env, vram));
	env.dma_write = NULL;
	assert_null(simgpu_init(mem, &ok, &env, vram));
	env.dma_write = no_write;
	env.lock = no_lock;			/* lock without unlock */
	assert_null(simgpu_init(mem, &ok, &env, vram));
	env.lock = NULL;
	assert_non_null(simgpu_init(mem, &ok, &env, vram));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_identity_and_caps),
		cmocka_unit_test(test_dma_limits),
		cmocka_unit_test(test_bars),
		cmocka_unit_test(test_config_write_masks),
		cmocka_unit_test(test_registers_and_bars),
		cmocka_unit_test(test_irq_modes),
		cmocka_unit_test(test_reset_and_close),
		cmocka_unit_test(test_bad_config),
	};

	return cmocka_run_group_tests_name("simgpu", tests, NULL, NULL);
}
