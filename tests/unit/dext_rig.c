/* SPDX-License-Identifier: (GPL-2.0 OR MIT) */
#define _POSIX_C_SOURCE 200809L
/* dext_rig.c - see dext_rig.h. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "dext_rig.h"

struct iokit_shim_config rig_config(void)
{
	struct iokit_shim_config c;

	memset(&c, 0, sizeof(c));
	c.gpu.vram_size = 1ull << 20;
	c.gpu.msix_vectors = 16;
	c.gpu.dart.max_maps = 1024;
	c.gpu.dart.max_bytes = 1024 * DARTSIM_PAGE_SIZE;
	return c;
}

static void on_irq(void *opaque, enum hostdev_irq_kind kind, uint32_t vector,
		   int level)
{
	struct dext_rig *r = opaque;

	pthread_mutex_lock(&r->lock);
	if (r->nirq < RIG_MAX_IRQ)
		r->irq[r->nirq] = (struct rig_irq){ kind, vector, level };
	r->nirq++;
	pthread_cond_broadcast(&r->cond);
	pthread_mutex_unlock(&r->lock);
}

struct dext_rig *rig_open(const struct iokit_shim_config *cfg)
{
	struct dext_rig *r = calloc(1, sizeof(*r));
	char err[200];
	int e;

	assert_non_null(r);
	iokit_shim_teardown();	/* whatever a failed test left behind */
	assert_true(iokit_shim_setup(cfg));
	e = hostdev_iokit_open("auto", &r->h, err, sizeof(err));
	if (e != HOSTDEV_OK)
		fail_msg("open: %s (%s)", hostdev_strerror(e), err);
	r->ram = aligned_alloc(DARTSIM_PAGE_SIZE, RIG_RAM_SIZE);
	assert_non_null(r->ram);
	memset(r->ram, 0, RIG_RAM_SIZE);
	assert_int_equal(hostdev_iokit_add_region(r->h, r->ram, RIG_RAM_SIZE),
			 HOSTDEV_OK);
	pthread_mutex_init(&r->lock, NULL);
	pthread_cond_init(&r->cond, NULL);
	r->h->irq = on_irq;
	r->h->irq_opaque = r;
	return r;
}

void rig_close(struct dext_rig *r)
{
	if (r->h)
		r->h->ops->close(r->h->dev);
	iokit_shim_teardown();
	free(r->ram);
	pthread_mutex_destroy(&r->lock);
	pthread_cond_destroy(&r->cond);
	free(r);
}

io_connect_t raw_open(void)
{
	io_iterator_t it;
	io_service_t svc;
	io_connect_t c = 0;

	assert_int_equal(IOServiceGetMatchingServices(kIOMainPortDefault,
			 IOServiceMatching(DEXT_SERVICE_CLASS), &it), 0);
	svc = IOIteratorNext(it);
	assert_int_not_equal(svc, 0);
	assert_int_equal(IOServiceOpen(svc, mach_task_self(), DEXT_OPEN_TYPE,
				       &c), 0);
	IOObjectRelease(svc);
	IOObjectRelease(it);
	return c;
}

kern_return_t raw_call(io_connect_t c, uint32_t sel, const uint64_t *in,
		       uint32_t nin, uint64_t *out, uint32_t nout)
{
	uint32_t n = nout;

	return IOConnectCallScalarMethod(c, sel, in, nin, out, &n);
}

kern_return_t raw_hello(io_connect_t c, uint64_t version)
{
	uint64_t in[2] = { version, 0 }, out = 0;

	return raw_call(c, DEXT_SEL_HELLO, in, 2, &out, 1);
}

int rig_map(struct dext_rig *r, uint64_t off, uint64_t len, unsigned int dir,
	    struct adma_seg *seg, unsigned int *nsegs, uint64_t *ck)
{
	uint64_t cookie = 0;
	int st = r->h->dma_ops->map(r->h->dma_be,
				    (uint64_t)(uintptr_t)(r->ram + off), len,
				    dir, seg, ADMA_MAX_SEGS, nsegs, &cookie);

	if (ck)
		*ck = cookie;
	return st;
}

void rig_unmap(struct dext_rig *r, const struct adma_seg *seg,
	       unsigned int nsegs, uint64_t ck)
{
	r->h->dma_ops->unmap(r->h->dma_be, seg, nsegs, ck);
}

uint64_t rig_dart_live(void)
{
	uint64_t n;

	iokit_shim_lock_gpu();
	n = dartsim_stats(simgpu_dart(iokit_shim_gpu()))->live_maps;
	iokit_shim_unlock_gpu();
	return n;
}

bool rig_dart_hit(uint64_t iova, uint64_t *addr)
{
	uint64_t avail;
	int st;

	iokit_shim_lock_gpu();
	st = dartsim_translate(simgpu_dart(iokit_shim_gpu()), iova,
			       DARTSIM_ACC_READ, addr, &avail);
	iokit_shim_unlock_gpu();
	return st == 0;
}

bool rig_wait_irq(struct dext_rig *r, unsigned int n, int ms)
{
	struct timespec ts;
	bool ok;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += ms / 1000;
	ts.tv_nsec += (long)(ms % 1000) * 1000000;
	if (ts.tv_nsec >= 1000000000) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000;
	}
	pthread_mutex_lock(&r->lock);
	while (r->nirq < n &&
	       pthread_cond_timedwait(&r->cond, &r->lock, &ts) == 0)
		;
	ok = r->nirq >= n;
	pthread_mutex_unlock(&r->lock);
	return ok;
}

uint32_t rig_reg(struct dext_rig *r, uint32_t off)
{
	uint64_t v = 0;

	assert_int_equal(r->h->ops->bar_read(r->h->dev, SIMGPU_BAR_REGS, off, 4,
					     &v), HOSTDEV_OK);
	return (uint32_t)v;
}

void rig_wreg(struct dext_rig *r, uint32_t off, uint32_t v)
{
	assert_int_equal(r->h->ops->bar_write(r->h->dev, SIMGPU_BAR_REGS, off,
					      4, v), HOSTDEV_OK);
}
