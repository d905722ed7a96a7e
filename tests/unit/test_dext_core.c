/* SPDX-License-Identifier: (GPL-2.0 OR MIT) */
/*
 * The dext ABI (protocol/apple_dext.h) as another process would speak it:
 * raw IOKit calls through the test double into dext/core - every selector,
 * the argument checks, the version check, ownership, DMA_BATCH's entries
 * and its output-full path, memory types, and the layout asserts.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "dext_rig.h"

#define PG	DARTSIM_PAGE_SIZE
#define ERR(s)	DEXT_IORETURN(DEXT_S_##s)

struct raw {
	struct dext_rig *r;	/* not opened: only the double is set up */
	io_connect_t c;
	uint8_t *ram;
	uint64_t region;
};

static struct raw *raw_setup(const struct iokit_shim_config *cfg)
{
	struct raw *x = calloc(1, sizeof(*x));
	uint64_t in[3], out = 0;

	assert_non_null(x);
	iokit_shim_teardown();
	assert_true(iokit_shim_setup(cfg));
	x->c = raw_open();
	assert_int_equal(raw_hello(x->c, DEXT_ABI_VERSION), 0);
	x->ram = aligned_alloc(PG, 64 * PG);
	assert_non_null(x->ram);
	in[0] = (uint64_t)(uintptr_t)x->ram;
	in[1] = 64 * PG;
	in[2] = 0;
	assert_int_equal(raw_call(x->c, DEXT_SEL_REGION_ADD, in, 3, &out, 1), 0);
	assert_int_not_equal(out, 0);
	x->region = out;
	return x;
}

static void raw_teardown(struct raw *x)
{
	IOServiceClose(x->c);
	iokit_shim_teardown();
	free(x->ram);
	free(x);
}

struct batch_buf {
	struct dext_batch_hdr h;
	struct dext_op op[DEXT_MAX_BATCH];
};

struct out_buf {
	struct dext_batch_out h;
	uint8_t rest[DEXT_MAX_BATCH * (sizeof(struct dext_result) +
				       DEXT_MAX_SEGS * sizeof(struct dext_seg))];
};

static struct dext_result *res_of(struct out_buf *o)
{
	return (struct dext_result *)o->rest;
}

static struct dext_seg *segs_of(struct out_buf *o, uint32_t count)
{
	return (struct dext_seg *)(res_of(o) + count);
}

static kern_return_t send(io_connect_t c, struct batch_buf *b, uint32_t n,
			  struct out_buf *o, size_t cap)
{
	b->h.magic = DEXT_BATCH_MAGIC;
	b->h.version = DEXT_ABI_MAJOR;
	b->h.count = n;
	return IOConnectCallMethod(c, DEXT_SEL_DMA_BATCH, NULL, 0, b,
				   DEXT_BATCH_IN_SIZE(n), NULL, NULL, o, &cap);
}

static struct dext_op map_op(uint64_t region, uint64_t off, uint64_t len)
{
	return (struct dext_op){ .op = DEXT_OP_MAP, .dir = DEXT_DIR_TO_DEVICE,
				 .region = (uint32_t)region, .offset = off,
				 .len = len };
}

static struct dext_op unmap_op(uint64_t handle)
{
	return (struct dext_op){ .op = DEXT_OP_UNMAP, .handle = handle };
}

/* ---- version, ownership, selectors */

static void test_version_and_owner(void **state)
{
	struct iokit_shim_config cfg = rig_config();
	uint64_t out[2] = { 0, 0 }, in[2];
	struct dext_info info;
	size_t isz = sizeof(info);
	io_connect_t a, b;

	(void)state;
	iokit_shim_teardown();
	assert_true(iokit_shim_setup(&cfg));
	a = raw_open();
	b = raw_open();
	assert_int_equal(raw_call(a, DEXT_SEL_GET_VERSION, NULL, 0, out, 2), 0);
	assert_int_equal(out[0], DEXT_ABI_VERSION);
	assert_true(out[1] & DEXT_F_BATCH);
	assert_true(out[1] & DEXT_F_MULTISEG);
	/* nothing but GET_VERSION and INFO before HELLO */
	in[0] = 0;
	in[1] = 4;
	assert_int_equal(raw_call(a, DEXT_SEL_CFG_READ, in, 2, out, 1),
			 ERR(NOT_OPEN));
	assert_int_equal(IOConnectCallMethod(a, DEXT_SEL_INFO, NULL, 0, NULL, 0,
					     NULL, NULL, &info, &isz), 0);
	assert_int_equal(isz, sizeof(info));
	assert_int_equal(info.owner, DEXT_OWNER_NONE);
	assert_int_equal(info.vendor_id, SIMGPU_PCI_VENDOR_ID);
	assert_int_equal(info.msix_vectors, 16);
	assert_int_equal(info.msi_vectors, 1);
	assert_int_equal(info.bus, 5);
	/* another major version is refused, a newer minor is not */
	assert_int_equal(raw_hello(a, (DEXT_ABI_MAJOR + 1) << 16), ERR(VERSION));
	assert_int_equal(raw_hello(a, 1ull << 40), ERR(VERSION));
	in[0] = DEXT_ABI_VERSION;
	in[1] = 1;
	assert_int_equal(raw_call(a, DEXT_SEL_HELLO, in, 2, out, 1),
			 ERR(INVALID));
	assert_int_equal(raw_hello(a, DEXT_ABI_VERSION + 7), 0);
	assert_int_equal(raw_hello(a, DEXT_ABI_VERSION), 0);	/* again: fine */
	/* one owner */
	assert_int_equal(raw_hello(b, DEXT_ABI_VERSION), ERR(BUSY));
	in[0] = 0;
	in[1] = 4;
	assert_int_equal(raw_call(b, DEXT_SEL_CFG_READ, in, 2, out, 1),
			 ERR(BUSY));
	isz = sizeof(info);
	assert_int_equal(IOConnectCallMethod(b, DEXT_SEL_INFO, NULL, 0, NULL, 0,
					     NULL, NULL, &info, &isz), 0);
	assert_int_equal(info.owner, DEXT_OWNER_OTHER);
	/* the owner leaves: the next one may claim */
	IOServiceClose(a);
	assert_int_equal(raw_hello(b, DEXT_ABI_VERSION), 0);
	IOServiceClose(b);
	iokit_shim_teardown();
}

static void test_sessions_limit(void **state)
{
	struct iokit_shim_config cfg = rig_config();
	io_iterator_t it;
	io_service_t svc;
	io_connect_t c[3], extra = 0;
	unsigned int i;

	(void)state;
	cfg.dext.max_sessions = 3;
	iokit_shim_teardown();
	assert_true(iokit_shim_setup(&cfg));
	for (i = 0; i < 3; i++)
		c[i] = raw_open();
	assert_int_equal(IOServiceGetMatchingServices(kIOMainPortDefault,
			 IOServiceMatching(DEXT_SERVICE_CLASS), &it), 0);
	svc = IOIteratorNext(it);
	assert_int_equal(IOServiceOpen(svc, mach_task_self(), DEXT_OPEN_TYPE,
				       &extra), ERR(BUSY));
	assert_int_equal(IOServiceOpen(svc, mach_task_self(), 7, &extra),
			 kIOReturnBadArgument);
	IOObjectRelease(it);
	for (i = 0; i < 3; i++)
		IOServiceClose(c[i]);
	iokit_shim_teardown();
}

static void test_selector_arguments(void **state)
{
	struct iokit_shim_config cfg = rig_config();
	struct raw *x = raw_setup(&cfg);
	uint64_t in[DEXT_MAX_SCALARS + 1] = { 0 }, out[4] = { 0 };
	struct dext_stats st;
	size_t sz;
	io_connect_t c = x->c;

	(void)state;
	/* scalar counts are exact; IOKit itself stops at 16 */
	assert_int_equal(raw_call(c, DEXT_SEL_CFG_READ, in, 1, out, 1),
			 ERR(INVALID));
	assert_int_equal(raw_call(c, DEXT_SEL_CFG_READ, in, 2, out, 2),
			 ERR(INVALID));
	assert_int_equal(raw_call(c, DEXT_SEL_GET_VERSION, in, 0, out, 1),
			 ERR(INVALID));
	assert_int_equal(raw_call(c, DEXT_SEL_CFG_READ, in, 17, out, 1),
			 kIOReturnBadArgument);
	assert_int_equal(raw_call(c, DEXT_SEL__COUNT, NULL, 0, NULL, 0),
			 ERR(BAD_SELECTOR));
	assert_int_equal(raw_call(c, 1000, NULL, 0, NULL, 0), ERR(BAD_SELECTOR));
	/* a structure where none is taken */
	sz = 0;
	assert_int_equal(IOConnectCallMethod(c, DEXT_SEL_RESET, in, 1, in, 8,
					     out, &(uint32_t){ 1 }, NULL, &sz),
			 ERR(INVALID));
	/* too little room for STATS and INFO */
	sz = sizeof(st) - 8;
	assert_int_equal(IOConnectCallMethod(c, DEXT_SEL_STATS, NULL, 0, NULL, 0,
					     NULL, NULL, &st, &sz), ERR(INVALID));
	assert_int_equal(sz, 0);
	sz = sizeof(st);
	assert_int_equal(IOConnectCallMethod(c, DEXT_SEL_STATS, NULL, 0, NULL, 0,
					     NULL, NULL, &st, &sz), 0);
	assert_int_equal(sz, sizeof(st));
	assert_int_equal(st.live_regions, 1);

	/* IRQ_SET / IRQ_ARM / RESET */
	in[0] = 9;
	in[1] = 1;
	assert_int_equal(raw_call(c, DEXT_SEL_IRQ_SET, in, 2, NULL, 0),
			 ERR(INVALID));
	in[0] = DEXT_IRQ_NONE;
	assert_int_equal(raw_call(c, DEXT_SEL_IRQ_SET, in, 2, NULL, 0),
			 ERR(INVALID));
	in[0] = DEXT_IRQ_MSI;
	in[1] = 2;
	assert_int_equal(raw_call(c, DEXT_SEL_IRQ_SET, in, 2, NULL, 0),
			 ERR(INVALID));
	in[0] = DEXT_IRQ_MSIX;
	in[1] = 0;
	assert_int_equal(raw_call(c, DEXT_SEL_IRQ_SET, in, 2, NULL, 0),
			 ERR(INVALID));
	in[0] = DEXT_IRQ_INTX;
	in[1] = 1;
	assert_int_equal(raw_call(c, DEXT_SEL_IRQ_SET, in, 2, NULL, 0),
			 ERR(NOTSUP));
	in[0] = DEXT_IRQ_MSIX;
	in[1] = 16;
	assert_int_equal(raw_call(c, DEXT_SEL_IRQ_SET, in, 2, NULL, 0), 0);
	assert_int_equal(raw_call(c, DEXT_SEL_IRQ_ARM, NULL, 0, NULL, 0),
			 ERR(INVALID));		/* needs the async form */
	in[0] = 0;
	assert_int_equal(raw_call(c, DEXT_SEL_RESET, in, 1, out, 1),
			 ERR(INVALID));
	in[0] = 4;
	assert_int_equal(raw_call(c, DEXT_SEL_RESET, in, 1, out, 1),
			 ERR(INVALID));
	in[0] = DEXT_RESET_BUS;
	assert_int_equal(raw_call(c, DEXT_SEL_RESET, in, 1, out, 1), 0);
	assert_int_equal(out[0], DEXT_RESET_BUS);

	/* REGION_ADD / REGION_REMOVE */
	in[0] = (uint64_t)(uintptr_t)x->ram + 100;
	in[1] = PG;
	in[2] = 0;
	assert_int_equal(raw_call(c, DEXT_SEL_REGION_ADD, in, 3, out, 1),
			 ERR(INVALID));		/* unaligned */
	in[0] = 1ull << 40;
	in[1] = 0;
	assert_int_equal(raw_call(c, DEXT_SEL_REGION_ADD, in, 3, out, 1),
			 ERR(INVALID));		/* empty */
	in[0] = ~0ull & ~0xfffull;
	in[1] = 2 * PG;
	assert_int_equal(raw_call(c, DEXT_SEL_REGION_ADD, in, 3, out, 1),
			 ERR(INVALID));		/* wraps */
	in[0] = 1ull << 40;
	in[1] = PG;
	in[2] = 1;
	assert_int_equal(raw_call(c, DEXT_SEL_REGION_ADD, in, 3, out, 1),
			 ERR(INVALID));		/* flags */
	in[0] = x->region + (1 << 8);		/* another generation */
	assert_int_equal(raw_call(c, DEXT_SEL_REGION_REMOVE, in, 1, NULL, 0),
			 ERR(BAD_REGION));
	in[0] = x->region;
	assert_int_equal(raw_call(c, DEXT_SEL_REGION_REMOVE, in, 1, NULL, 0), 0);
	assert_int_equal(raw_call(c, DEXT_SEL_REGION_REMOVE, in, 1, NULL, 0),
			 ERR(BAD_REGION));
	raw_teardown(x);
}

static void test_config_and_bars(void **state)
{
	struct iokit_shim_config cfg = rig_config();
	struct raw *x = raw_setup(&cfg);
	uint64_t in[4] = { 0 }, out = 0;
	static const uint32_t denied[] = { 0x10, 0x14, 0x20, 0x24, 0x30,
					   SIMGPU_CAP_MSI + 2, SIMGPU_CAP_MSI + 4,
					   SIMGPU_CAP_MSIX + 2,
					   SIMGPU_CAP_MSIX + 8 };
	static const uint64_t bad_cfg[][2] = { { 0, 3 }, { 1, 2 }, { 2, 4 },
					       { 4096, 1 }, { 4094, 4 } };
	static const uint64_t bad_bar[][3] = {
		{ 6, 0, 4 }, { 1, 0, 4 }, { 0, 0x4000, 4 }, { 0, 0x3ffc, 8 },
		{ 0, 2, 4 }, { 0, 0, 3 }, { 2, 1ull << 20, 1 } };
	unsigned int i;
	io_connect_t c = x->c;

	(void)state;
	for (i = 0; i < sizeof(bad_cfg) / sizeof(bad_cfg[0]); i++) {
		in[0] = bad_cfg[i][0];
		in[1] = bad_cfg[i][1];
		assert_int_equal(raw_call(c, DEXT_SEL_CFG_READ, in, 2, &out, 1),
				 ERR(INVALID));
	}
	for (i = 0; i < sizeof(denied) / sizeof(denied[0]); i++) {
		in[0] = denied[i];
		in[1] = 2;
		in[2] = 0xffff;
		assert_int_equal(raw_call(c, DEXT_SEL_CFG_WRITE, in, 3, NULL, 0),
				 ERR(DENIED));
	}
	in[0] = 0x04;
	in[1] = 2;
	in[2] = 0x10006;			/* wider than 2 bytes */
	assert_int_equal(raw_call(c, DEXT_SEL_CFG_WRITE, in, 3, NULL, 0),
			 ERR(INVALID));
	in[2] = 0x0006;
	assert_int_equal(raw_call(c, DEXT_SEL_CFG_WRITE, in, 3, NULL, 0), 0);
	assert_int_equal(raw_call(c, DEXT_SEL_CFG_READ, in, 2, &out, 1), 0);
	assert_int_equal(out, 0x0006);

	for (i = 0; i < sizeof(bad_bar) / sizeof(bad_bar[0]); i++) {
		in[0] = bad_bar[i][0];
		in[1] = bad_bar[i][1];
		in[2] = bad_bar[i][2];
		assert_int_equal(raw_call(c, DEXT_SEL_BAR_READ, in, 3, &out, 1),
				 ERR(INVALID));
	}
	in[0] = SIMGPU_BAR_REGS;
	in[1] = SIMGPU_REG_SCRATCH;
	in[2] = 2;
	in[3] = 0x10000;			/* wider than 2 bytes */
	assert_int_equal(raw_call(c, DEXT_SEL_BAR_WRITE, in, 4, NULL, 0),
			 ERR(INVALID));
	in[2] = 4;
	in[3] = 0xcafef00d;
	assert_int_equal(raw_call(c, DEXT_SEL_BAR_WRITE, in, 4, NULL, 0), 0);
	assert_int_equal(raw_call(c, DEXT_SEL_BAR_READ, in, 3, &out, 1), 0);
	assert_int_equal(out, 0xcafef00d);
	in[0] = SIMGPU_BAR_VRAM;
	in[1] = 8;
	in[2] = 8;
	in[3] = 0x0123456789abcdefull;
	assert_int_equal(raw_call(c, DEXT_SEL_BAR_WRITE, in, 4, NULL, 0), 0);
	assert_int_equal(raw_call(c, DEXT_SEL_BAR_READ, in, 3, &out, 1), 0);
	assert_int_equal(out, 0x0123456789abcdefull);
	raw_teardown(x);
}

static void test_memory_types(void **state)
{
	struct iokit_shim_config cfg = rig_config();
	struct raw *x = raw_setup(&cfg);
	mach_vm_address_t a = 0;
	mach_vm_size_t sz = 0;
	struct dext_irq_page *p;
	io_connect_t other = raw_open();

	(void)state;
	assert_int_equal(IOConnectMapMemory64(x->c, DEXT_MEM_BAR(1),
			 mach_task_self(), &a, &sz, kIOMapAnywhere), ERR(INVALID));
	assert_int_equal(IOConnectMapMemory64(x->c, DEXT_MEM_BAR(0),
			 mach_task_self(), &a, &sz, kIOMapAnywhere), ERR(NOTSUP));
	assert_int_equal(IOConnectMapMemory64(x->c, 99, mach_task_self(), &a,
			 &sz, kIOMapAnywhere), ERR(INVALID));
	assert_int_equal(IOConnectMapMemory64(other, DEXT_MEM_IRQ_PAGE,
			 mach_task_self(), &a, &sz, kIOMapAnywhere), ERR(BUSY));
	assert_int_equal(IOConnectMapMemory64(x->c, DEXT_MEM_BAR(2),
			 mach_task_self(), &a, &sz, kIOMapAnywhere), 0);
	assert_int_equal(sz, 1u << 20);
	assert_int_equal(IOConnectMapMemory64(x->c, DEXT_MEM_IRQ_PAGE,
			 mach_task_self(), &a, &sz, kIOMapAnywhere), 0);
	assert_int_equal(sz, DEXT_IRQ_PAGE_SIZE);
	p = (struct dext_irq_page *)(uintptr_t)a;
	assert_int_equal(p->magic, DEXT_IRQ_PAGE_MAGIC);
	assert_int_equal(p->abi_version, DEXT_ABI_VERSION);
	IOServiceClose(other);
	raw_teardown(x);
}

/* ---- DMA_BATCH */

static void test_batch_header(void **state)
{
	struct iokit_shim_config cfg = rig_config();
	struct raw *x = raw_setup(&cfg);
	static struct batch_buf b;
	static struct out_buf o;
	size_t cap = sizeof(o);

	(void)state;
	memset(&b, 0, sizeof(b));
	b.op[0] = map_op(x->region, 0, PG);
	assert_int_equal(send(x->c, &b, 1, &o, sizeof(o)), 0);
	/* each broken header field */
	b.h.magic = 0;
	assert_int_equal(IOConnectCallMethod(x->c, DEXT_SEL_DMA_BATCH, NULL, 0,
			 &b, DEXT_BATCH_IN_SIZE(1), NULL, NULL, &o, &cap),
			 ERR(INVALID));
	b.h = (struct dext_batch_hdr){ DEXT_BATCH_MAGIC, 2, 0, 1, 0 };
	cap = sizeof(o);
	assert_int_equal(IOConnectCallMethod(x->c, DEXT_SEL_DMA_BATCH, NULL, 0,
			 &b, DEXT_BATCH_IN_SIZE(1), NULL, NULL, &o, &cap),
			 ERR(INVALID));
	b.h = (struct dext_batch_hdr){ DEXT_BATCH_MAGIC, 1, 1, 1, 0 };
	cap = sizeof(o);
	assert_int_equal(IOConnectCallMethod(x->c, DEXT_SEL_DMA_BATCH, NULL, 0,
			 &b, DEXT_BATCH_IN_SIZE(1), NULL, NULL, &o, &cap),
			 ERR(INVALID));
	/* count and size must agree; 0 and too many are refused */
	b.h = (struct dext_batch_hdr){ DEXT_BATCH_MAGIC, 1, 0, 2, 0 };
	cap = sizeof(o);
	assert_int_equal(IOConnectCallMethod(x->c, DEXT_SEL_DMA_BATCH, NULL, 0,
			 &b, DEXT_BATCH_IN_SIZE(1), NULL, NULL, &o, &cap),
			 ERR(INVALID));
	assert_int_equal(send(x->c, &b, 0, &o, sizeof(o)), ERR(INVALID));
	assert_int_equal(send(x->c, &b, DEXT_MAX_BATCH + 1 - 1, &o, 15),
			 ERR(INVALID));	/* no room for the answers */
	cap = sizeof(o);
	assert_int_equal(IOConnectCallMethod(x->c, DEXT_SEL_DMA_BATCH, NULL, 0,
			 &b, 8, NULL, NULL, &o, &cap), ERR(INVALID));
	assert_int_equal(IOConnectCallMethod(x->c, DEXT_SEL_DMA_BATCH, NULL, 0,
			 NULL, 0, NULL, NULL, &o, &cap), ERR(INVALID));
	raw_teardown(x);
}

static void test_batch_entries(void **state)
{
	struct iokit_shim_config cfg = rig_config();
	struct raw *x = raw_setup(&cfg);
	static struct batch_buf b;
	static struct out_buf o;
	struct dext_result *res = res_of(&o);
	struct dext_op bad;
	uint64_t h0, h1;
	unsigned int i = 0, n;

	(void)state;
	memset(&b, 0, sizeof(b));
	b.op[i++] = map_op(x->region, 0, PG);			/* 0 ok */
	b.op[i++] = map_op(x->region, PG + 10, PG);		/* 1 ok */
	bad = map_op(x->region, 0, PG); bad.dir = 0;
	b.op[i++] = bad;					/* 2 */
	bad.dir = 4;
	b.op[i++] = bad;					/* 3 */
	bad = map_op(x->region, 0, PG); bad.rsvd = 1;
	b.op[i++] = bad;					/* 4 */
	bad = map_op(x->region, 0, PG); bad.handle = 1;
	b.op[i++] = bad;					/* 5 */
	b.op[i++] = map_op(x->region, 0, 0);			/* 6 */
	b.op[i++] = map_op(x->region + 1, 0, PG);		/* 7 */
	b.op[i++] = map_op(x->region, 63 * PG, 2 * PG);		/* 8 */
	b.op[i++] = map_op(x->region, ~0ull - 10, 100);		/* 9 */
	b.op[i++] = (struct dext_op){ .op = 9 };		/* 10 */
	bad = unmap_op(0); bad.len = 1;
	b.op[i++] = bad;					/* 11 */
	b.op[i++] = unmap_op(12345);				/* 12 */
	n = i;
	assert_int_equal(send(x->c, &b, n, &o, sizeof(o)), 0);
	assert_int_equal(o.h.magic, DEXT_BATCH_OUT_MAGIC);
	assert_int_equal(o.h.done, n);
	assert_int_equal(o.h.failed, n - 2);
	assert_int_equal(res[0].status, DEXT_S_OK);
	assert_int_equal(res[1].status, DEXT_S_OK);
	for (i = 2; i <= 6; i++)
		assert_int_equal(res[i].status, DEXT_S_INVALID);
	for (i = 7; i <= 9; i++)
		assert_int_equal(res[i].status, DEXT_S_BAD_REGION);
	assert_int_equal(res[10].status, DEXT_S_INVALID);
	assert_int_equal(res[11].status, DEXT_S_INVALID);
	assert_int_equal(res[12].status, DEXT_S_BAD_HANDLE);
	assert_int_equal(res[1].nsegs, 1);
	assert_int_equal(segs_of(&o, n)[res[1].first_seg].len, PG);
	assert_int_equal(segs_of(&o, n)[res[1].first_seg].iova % PG, 10);
	h0 = res[0].handle;
	h1 = res[1].handle;
	assert_int_not_equal(h0, h1);

	/* unmap, then the same handle again in the same batch */
	b.op[0] = unmap_op(h0);
	b.op[1] = unmap_op(h0);
	b.op[2] = map_op(x->region, 0, PG);	/* reuses the slot */
	b.op[3] = unmap_op(h0);			/* stale: another generation */
	assert_int_equal(send(x->c, &b, 4, &o, sizeof(o)), 0);
	assert_int_equal(res[0].status, DEXT_S_OK);
	assert_int_equal(res[1].status, DEXT_S_BAD_HANDLE);
	assert_int_equal(res[2].status, DEXT_S_OK);
	assert_int_equal(res[3].status, DEXT_S_BAD_HANDLE);
	assert_int_not_equal(res[2].handle, h0);
	assert_int_equal((uint32_t)res[2].handle, (uint32_t)h0);
	assert_int_equal(rig_dart_live(), 2);
	(void)h1;
	raw_teardown(x);
}

static void test_batch_multiseg_and_full(void **state)
{
	struct iokit_shim_config cfg = rig_config();
	struct raw *x;
	static struct batch_buf b;
	static struct out_buf o;
	struct dext_result *res = res_of(&o);
	struct iokit_shim_counts before, after;
	uint64_t addr, cap;
	unsigned int i;

	(void)state;
	cfg.gpu.dart.seg_pages = 1;
	x = raw_setup(&cfg);
	memset(&b, 0, sizeof(b));
	/* 20 pages: 20 segments, all answered (IODMACommand gives up to 32) */
	b.op[0] = map_op(x->region, 0, 20 * PG);
	assert_int_equal(send(x->c, &b, 1, &o, sizeof(o)), 0);
	assert_int_equal(res[0].status, DEXT_S_OK);
	assert_int_equal(res[0].nsegs, 20);
	assert_int_equal(o.h.nsegs, 20);
	for (i = 0; i < 20; i++) {
		assert_true(rig_dart_hit(segs_of(&o, 1)[i].iova, &addr));
		assert_ptr_equal((void *)(uintptr_t)addr, x->ram + i * PG);
	}
	b.op[0] = unmap_op(res[0].handle);
	assert_int_equal(send(x->c, &b, 1, &o, sizeof(o)), 0);
	assert_int_equal(res[0].status, DEXT_S_OK);

	/* room for 5 segments: entries 0-1 fit (2 + 3), entry 2 does not */
	b.op[0] = map_op(x->region, 0, 2 * PG);
	b.op[1] = map_op(x->region, 4 * PG, 3 * PG);
	b.op[2] = map_op(x->region, 8 * PG, 2 * PG);
	b.op[3] = map_op(x->region, 12 * PG, PG);
	cap = sizeof(struct dext_batch_out) + 4 * sizeof(struct dext_result) +
	      5 * sizeof(struct dext_seg);
	assert_int_equal(send(x->c, &b, 4, &o, cap), 0);
	assert_int_equal(o.h.done, 2);
	assert_int_equal(o.h.nsegs, 5);
	assert_int_equal(res[2].status, DEXT_S_NOT_DONE);
	assert_int_equal(res[3].status, DEXT_S_NOT_DONE);
	assert_int_equal(rig_dart_live(), 2);	/* entry 2 was undone */

	/* a batch above 4096 bytes travels out of line, both ways */
	iokit_shim_counts(&before);
	for (i = 0; i < 200; i++)
		b.op[i] = map_op(x->region, 20 * PG + (i % 8) * 8, 8);
	assert_int_equal(send(x->c, &b, 200, &o, sizeof(o)), 0);
	assert_int_equal(o.h.done, 200);
	assert_int_equal(o.h.failed, 0);
	iokit_shim_counts(&after);
	assert_int_equal(after.ool_in - before.ool_in, 1);
	assert_int_equal(after.ool_out - before.ool_out, 1);
	raw_teardown(x);
}

static void test_names_and_init(void **state)
{
	static const struct dext_platform_ops none;
	struct dext_core_config cc = { .max_batch = DEXT_MAX_BATCH + 1 };
	static uint64_t mem[4096], page[512];

	(void)state;
	assert_string_equal(dext_status_name(DEXT_S_OK), "ok");
	assert_string_equal(dext_status_name(DEXT_S_NOT_DONE), "not_done");
	assert_string_equal(dext_status_name(DEXT_S__COUNT), "unknown");
	assert_string_equal(dext_status_name(-1), "unknown");
	assert_null(dext_core_init(mem, &cc, &none, NULL, page));
	cc.max_batch = 0;
	assert_null(dext_core_init(mem, &cc, &none, NULL, page));
	assert_true(DEXT_IORETURN_IS_OURS(DEXT_IORETURN(DEXT_S_BUSY)));
	assert_int_equal(DEXT_IORETURN_STATUS(DEXT_IORETURN(DEXT_S_BUSY)),
			 DEXT_S_BUSY);
	assert_false(DEXT_IORETURN_IS_OURS(kIOReturnBadArgument));
	assert_int_equal(DEXT_IORETURN(DEXT_S_OK), 0);
	assert_int_equal((uint32_t)DEXT_IORETURN(DEXT_S_INVALID),
			 (uint32_t)iokit_vendor_specific_err(DEXT_S_INVALID));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_version_and_owner),
		cmocka_unit_test(test_sessions_limit),
		cmocka_unit_test(test_selector_arguments),
		cmocka_unit_test(test_config_and_bars),
		cmocka_unit_test(test_memory_types),
		cmocka_unit_test(test_batch_header),
		cmocka_unit_test(test_batch_entries),
		cmocka_unit_test(test_batch_multiseg_and_full),
		cmocka_unit_test(test_names_and_init),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
