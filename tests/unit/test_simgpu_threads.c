/* SPDX-License-Identifier: (GPL-2.0 OR MIT) */
/*
 * simgpu with real threads, as QEMU runs it: an engine thread woken by
 * kick() runs simgpu_run(), another thread maps and unmaps through the DMA
 * backend (apple-dma-pci's role), and the test thread plays the guest
 * driver through BAR0. env.lock is a pthread mutex. Checks that every
 * command completes with the right data and interrupt, and that nothing
 * deadlocks (kick and the irq callback take locks of their own).
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "simgpu.h"

#define PG		DARTSIM_PAGE_SIZE
#define RAM_BASE	0x80000000ull
#define RAM_SIZE	(8ull << 20)
#define RING_GPA	RAM_BASE
#define BUF_GPA		(RAM_BASE + (1ull << 20))
#define CHURN_GPA	(RAM_BASE + (4ull << 20))
#define RING_N		64u
#define ROUNDS		1500u
#define VECS		8u

struct rig {
	pthread_mutex_t lock;		/* env.lock */
	pthread_mutex_t wake_lock;	/* kicked, quit; the irq counters */
	pthread_cond_t wake;
	bool kicked, quit;
	uint64_t irqs[VECS];
	uint8_t *ram;
	struct simgpu *g;
	struct hostdev *hd;
};

static int ram_rw(struct rig *r, uint64_t addr, void *dst, const void *src,
		  size_t len)
{
	if (addr < RAM_BASE || addr - RAM_BASE > RAM_SIZE ||
	    len > RAM_SIZE - (addr - RAM_BASE))
		return -1;
	if (dst)
		memcpy(dst, r->ram + (addr - RAM_BASE), len);
	else
		memcpy(r->ram + (addr - RAM_BASE), src, len);
	return 0;
}

static int dma_read(void *o, uint64_t a, void *buf, size_t len)
{
	return ram_rw(o, a, buf, NULL, len);
}

static int dma_write(void *o, uint64_t a, const void *buf, size_t len)
{
	return ram_rw(o, a, NULL, buf, len);
}

static void lock(void *o)
{
	pthread_mutex_lock(&((struct rig *)o)->lock);
}

static void unlock(void *o)
{
	pthread_mutex_unlock(&((struct rig *)o)->lock);
}

static void kick(void *o)
{
	struct rig *r = o;

	pthread_mutex_lock(&r->wake_lock);
	r->kicked = true;
	pthread_cond_signal(&r->wake);
	pthread_mutex_unlock(&r->wake_lock);
}

static void on_irq(void *o, enum hostdev_irq_kind kind, uint32_t v, int level)
{
	struct rig *r = o;

	if (kind != HOSTDEV_IRQ_MSIX || v >= VECS || level != 1)
		abort();
	pthread_mutex_lock(&r->wake_lock);
	r->irqs[v]++;
	pthread_mutex_unlock(&r->wake_lock);
}

static void *engine(void *o)
{
	struct rig *r = o;

	pthread_mutex_lock(&r->wake_lock);
	while (!r->quit) {
		while (!r->kicked && !r->quit)
			pthread_cond_wait(&r->wake, &r->wake_lock);
		r->kicked = false;
		pthread_mutex_unlock(&r->wake_lock);
		while (simgpu_run(r->g, 64 * 1024))
			;
		pthread_mutex_lock(&r->wake_lock);
	}
	pthread_mutex_unlock(&r->wake_lock);
	return NULL;
}

/* apple-dma-pci's part: map and unmap, all the time, from its own thread */
static void *churn(void *o)
{
	struct rig *r = o;
	struct adma_seg s[ADMA_MAX_SEGS];
	unsigned int i, n;
	uint64_t ck = 0;
	bool quit = false;

	for (i = 0; !quit; i++) {
		if (r->hd->dma_ops->map(r->hd->dma_be, CHURN_GPA + (i % 64) * PG,
					1 + (i % 3) * PG, ADMA_DIR_TO_DEVICE, s,
					ADMA_MAX_SEGS, &n, &ck) == ADMA_S_OK)
			r->hd->dma_ops->unmap(r->hd->dma_be, s, n, ck);
		pthread_mutex_lock(&r->wake_lock);
		quit = r->quit;
		pthread_mutex_unlock(&r->wake_lock);
	}
	return NULL;
}

static uint64_t irqs_seen(struct rig *r, uint32_t v)
{
	uint64_t n;

	pthread_mutex_lock(&r->wake_lock);
	n = r->irqs[v];
	pthread_mutex_unlock(&r->wake_lock);
	return n;
}

static uint32_t reg(struct rig *r, uint32_t off)
{
	uint64_t v;

	assert_int_equal(r->hd->ops->bar_read(r->hd->dev, 0, off, 4, &v), 0);
	return (uint32_t)v;
}

static void set_reg(struct rig *r, uint32_t off, uint32_t v)
{
	assert_int_equal(r->hd->ops->bar_write(r->hd->dev, 0, off, 4, v), 0);
}

static uint64_t map(struct rig *r, uint64_t gpa, uint64_t len, unsigned int dir)
{
	struct adma_seg s[ADMA_MAX_SEGS];
	unsigned int n;
	uint64_t ck = 0;

	assert_int_equal(r->hd->dma_ops->map(r->hd->dma_be, gpa, len, dir, s,
					     ADMA_MAX_SEGS, &n, &ck),
			 ADMA_S_OK);
	assert_int_equal(n, 1);
	assert_int_equal(ck, 0);	/* simgpu's DART unmaps by segments */
	return s[0].iova;
}

/* Write a command into the ring; visible to the engine via the doorbell. */
static void put_cmd(struct rig *r, uint32_t slot, struct simgpu_cmd c)
{
	lock(r);	/* as a guest's store then MMIO write would order it */
	memcpy(r->ram + (RING_GPA - RAM_BASE) + slot * 64ull, &c, 64);
	unlock(r);
}

static void test_threads(void **state)
{
	struct rig *r = calloc(1, sizeof(*r));
	struct simgpu_config cfg = { .vram_size = 1 << 20, .msix_vectors = VECS,
				     .dart = { .aperture_size = 1024 * PG } };
	struct simgpu_env env = { .dma_read = dma_read, .dma_write = dma_write,
				  .kick = kick, .lock = lock, .unlock = unlock };
	pthread_t eng, ch;
	uint64_t ring, fence = 0, total = 0;
	uint32_t tail = 0, i, v;
	void *mem, *vram;

	(void)state;
	assert_non_null(r);
	pthread_mutex_init(&r->lock, NULL);
	pthread_mutex_init(&r->wake_lock, NULL);
	pthread_cond_init(&r->wake, NULL);
	r->ram = calloc(1, RAM_SIZE);
	mem = aligned_alloc(64, (simgpu_size(&cfg) + 63) & ~(size_t)63);
	vram = calloc(1, cfg.vram_size);
	env.opaque = r;
	r->g = simgpu_init(mem, &cfg, &env, vram);
	assert_non_null(r->g);
	r->hd = simgpu_hostdev(r->g);
	r->hd->irq = on_irq;
	r->hd->irq_opaque = r;
	assert_int_equal(pthread_create(&eng, NULL, engine, r), 0);
	assert_int_equal(pthread_create(&ch, NULL, churn, r), 0);

	ring = map(r, RING_GPA, RING_N * 64, ADMA_DIR_TO_DEVICE);
	assert_int_equal(r->hd->ops->config_write(r->hd->dev, 4, 2, 6), 0);
	assert_int_equal(r->hd->ops->irq_set(r->hd->dev, HOSTDEV_IRQ_MSIX,
					     VECS), 0);
	set_reg(r, SIMGPU_REG_RING_LO, (uint32_t)ring);
	set_reg(r, SIMGPU_REG_RING_HI, (uint32_t)(ring >> 32));
	set_reg(r, SIMGPU_REG_RING_SIZE, RING_N);
	set_reg(r, SIMGPU_REG_CONTROL, SIMGPU_CONTROL_ENABLE);

	for (i = 0; i < ROUNDS; i++) {
		uint64_t len = 8 + (i % 7) * 4096, gpa = BUF_GPA + (i % 5) * 24;
		uint64_t iova = map(r, gpa, len + 8, ADMA_DIR_FROM_DEVICE);
		uint8_t want[4] = { (uint8_t)i, 0x5a, (uint8_t)(i >> 8), 0xa5 };
		uint64_t k;

		put_cmd(r, tail, (struct simgpu_cmd){ .op = SIMGPU_OP_FILL,
			.dst = iova, .len = len,
			.value = (uint32_t)want[0] | want[1] << 8 |
				 want[2] << 16 | (uint32_t)want[3] << 24 });
		tail = (tail + 1) % RING_N;
		put_cmd(r, tail, (struct simgpu_cmd){ .op = SIMGPU_OP_FENCE,
			.flags = SIMGPU_CMD_IRQ, .fence_addr = iova + len,
			.value = ++fence, .vector = i % VECS });
		tail = (tail + 1) % RING_N;
		set_reg(r, SIMGPU_REG_RING_TAIL, tail);
		while (reg(r, SIMGPU_REG_FENCE_LO) != (uint32_t)fence)
			assert_int_equal(reg(r, SIMGPU_REG_ERROR), 0);
		while (irqs_seen(r, i % VECS) != i / VECS + 1)
			;	/* delivered after the lock is dropped */
		lock(r);
		for (k = 0; k < len; k++)
			if (r->ram[gpa - RAM_BASE + k] != want[k % 4])
				fail_msg("round %u byte %llu", i,
					 (unsigned long long)k);
		unlock(r);
		r->hd->dma_ops->unmap(r->hd->dma_be,
				      &(struct adma_seg){ iova, len + 8 }, 1,
				      0);
	}
	assert_int_equal(reg(r, SIMGPU_REG_DONE), 2 * ROUNDS);

	pthread_mutex_lock(&r->wake_lock);
	r->quit = true;
	pthread_cond_signal(&r->wake);
	pthread_mutex_unlock(&r->wake_lock);
	pthread_join(eng, NULL);
	pthread_join(ch, NULL);
	for (v = 0; v < VECS; v++)
		total += r->irqs[v];
	assert_int_equal(total, ROUNDS);
	assert_int_equal(simgpu_stats(r->g)->irqs, ROUNDS);
	assert_int_equal(simgpu_stats(r->g)->irqs_dropped, 0);
	assert_int_equal(dartsim_stats(simgpu_dart(r->g))->live_maps, 1);
	r->hd->ops->close(r->hd->dev);
	free(mem);
	free(vram);
	free(r->ram);
	free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_threads),
	};

	return cmocka_run_group_tests_name("simgpu_threads", tests, NULL, NULL);
}
