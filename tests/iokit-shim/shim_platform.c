/* SPDX-License-Identifier: (GPL-2.0 OR MIT) */
/*
 * shim_platform.c - TEST DOUBLE: the "kernel" side behind the fake IOKit.
 *
 * What our DriverKit shell does on a Mac with IOPCIDevice, IODMACommand,
 * IOInterruptDispatchSource and IOUserClient, this file does with the
 * simulated GPU function: it implements struct dext_platform_ops over
 * simgpu's hostdev (config, BARs, reset, interrupts) and its DART (the DMA
 * backend), and runs the GPU's engine on a thread of its own, as real
 * hardware runs beside the CPU.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shim_int.h"

_Static_assert(DEXT_IRQ_INTX == (int)HOSTDEV_IRQ_INTX &&
	       DEXT_IRQ_MSI == (int)HOSTDEV_IRQ_MSI &&
	       DEXT_IRQ_MSIX == (int)HOSTDEV_IRQ_MSIX,
	       "the platform passes interrupt kinds through");
_Static_assert(DEXT_RESET_FLR == HOSTDEV_RESET_FLR &&
	       DEXT_RESET_BUS == HOSTDEV_RESET_BUS, "reset bits");
_Static_assert(DEXT_BAR_IO == HOSTDEV_BAR_IO && DEXT_BAR_64 == HOSTDEV_BAR_64 &&
	       DEXT_BAR_PREFETCH == HOSTDEV_BAR_PREFETCH, "BAR flags");

#define REGISTRY_ID	0x1000004a2ull

struct shim_region {
	uint64_t addr, size;
};

struct shim_mapping {
	unsigned int nsegs;
	uint64_t cookie;	/* the simulated DART's (map()'s) */
	struct adma_seg seg[DEXT_MAX_SEGS];
};

struct shim_kernel {
	struct iokit_shim_config cfg;
	void *gpu_mem, *vram, *core_mem;
	struct simgpu *gpu;
	struct hostdev *hd;
	struct dext_core *core;
	struct dext_irq_page *page;
	pthread_mutex_t gpu_lock, main_lock, irq_lock;
	struct shim_mem bar_mem[HOSTDEV_NUM_BARS], irq_mem;
	/* the engine's thread */
	pthread_t thread;
	pthread_mutex_t run_lock;
	pthread_cond_t run_cond;
	bool kicked, busy, stop;
	char last_log[256];
};

static struct shim_kernel *K;
static pthread_mutex_t setup_lock = PTHREAD_MUTEX_INITIALIZER;
struct iokit_shim_counts shim_counts;
pthread_mutex_t shim_counts_lock = PTHREAD_MUTEX_INITIALIZER;

void shim_count(uint64_t *counter)
{
	pthread_mutex_lock(&shim_counts_lock);
	(*counter)++;
	pthread_mutex_unlock(&shim_counts_lock);
}

static void uncount(uint64_t *counter)
{
	pthread_mutex_lock(&shim_counts_lock);
	(*counter)--;
	pthread_mutex_unlock(&shim_counts_lock);
}

void iokit_shim_counts(struct iokit_shim_counts *out)
{
	pthread_mutex_lock(&shim_counts_lock);
	*out = shim_counts;
	pthread_mutex_unlock(&shim_counts_lock);
}

static int st_of(int hostdev_err)
{
	switch (hostdev_err) {
	case HOSTDEV_OK:
		return DEXT_S_OK;
	case HOSTDEV_E_INVAL:
		return DEXT_S_INVALID;
	case HOSTDEV_E_NOTSUP:
		return DEXT_S_NOTSUP;
	case HOSTDEV_E_GONE:
		return DEXT_S_GONE;
	default:
		return DEXT_S_IO_ERROR;
	}
}

/* ---- simgpu's environment: DMA by pointer, its lock, the engine thread */

static int env_dma_read(void *opaque, uint64_t addr, void *buf, size_t len)
{
	(void)opaque;
	memcpy(buf, (const void *)(uintptr_t)addr, len);
	return 0;
}

static int env_dma_write(void *opaque, uint64_t addr, const void *buf,
			 size_t len)
{
	(void)opaque;
	memcpy((void *)(uintptr_t)addr, buf, len);
	return 0;
}

static void env_kick(void *opaque)
{
	struct shim_kernel *k = opaque;

	pthread_mutex_lock(&k->run_lock);
	k->kicked = true;
	pthread_cond_broadcast(&k->run_cond);
	pthread_mutex_unlock(&k->run_lock);
}

static void env_lock(void *opaque)
{
	pthread_mutex_lock(&((struct shim_kernel *)opaque)->gpu_lock);
}

static void env_unlock(void *opaque)
{
	pthread_mutex_unlock(&((struct shim_kernel *)opaque)->gpu_lock);
}

static void *engine_thread(void *arg)
{
	struct shim_kernel *k = arg;

	pthread_mutex_lock(&k->run_lock);
	while (!k->stop) {
		if (!k->kicked) {
			pthread_cond_wait(&k->run_cond, &k->run_lock);
			continue;
		}
		k->kicked = false;
		k->busy = true;
		pthread_mutex_unlock(&k->run_lock);
		while (simgpu_run(k->gpu, 1u << 20))
			;
		pthread_mutex_lock(&k->run_lock);
		k->busy = false;
		pthread_cond_broadcast(&k->run_cond);
	}
	pthread_mutex_unlock(&k->run_lock);
	return NULL;
}

void iokit_shim_gpu_idle(void)
{
	pthread_mutex_lock(&K->run_lock);
	while (K->kicked || K->busy)
		pthread_cond_wait(&K->run_cond, &K->run_lock);
	pthread_mutex_unlock(&K->run_lock);
}

/* simgpu's interrupt, as the dext's IOInterruptDispatchSource handler */
static void gpu_irq(void *opaque, enum hostdev_irq_kind kind, uint32_t vector,
		    int level)
{
	struct shim_kernel *k = opaque;

	dext_core_irq(k->core, (uint32_t)kind, vector, level);
}

/* ---- struct dext_platform_ops over simgpu */

static int p_cfg_read(void *plat, uint32_t off, unsigned int len,
		      uint32_t *val)
{
	struct shim_kernel *k = plat;

	return st_of(k->hd->ops->config_read(k->hd->dev, off, len, val));
}

static int p_cfg_write(void *plat, uint32_t off, unsigned int len,
		       uint32_t val)
{
	struct shim_kernel *k = plat;

	return st_of(k->hd->ops->config_write(k->hd->dev, off, len, val));
}

static int p_bar_read(void *plat, unsigned int bar, uint64_t off,
		      unsigned int size, uint64_t *val)
{
	struct shim_kernel *k = plat;

	return st_of(k->hd->ops->bar_read(k->hd->dev, bar, off, size, val));
}

static int p_bar_write(void *plat, unsigned int bar, uint64_t off,
		       unsigned int size, uint64_t val)
{
	struct shim_kernel *k = plat;

	return st_of(k->hd->ops->bar_write(k->hd->dev, bar, off, size, val));
}

static int p_info(void *plat, struct dext_platform_info *out)
{
	struct shim_kernel *k = plat;
	const struct hostdev_info *hi = &k->hd->info;
	unsigned int i;

	memset(out, 0, sizeof(*out));
	out->domain = k->cfg.domain;
	out->bus = k->cfg.bus;
	out->devfn = k->cfg.devfn;
	out->cfg_size = hi->cfg_size;
	out->resets = hi->resets;
	if (k->cfg.no_flr)
		out->resets &= ~(uint32_t)DEXT_RESET_FLR;
	for (i = 0; i < DEXT_NUM_BARS; i++) {
		out->bar[i].size = hi->bar[i].size;
		out->bar[i].flags = hi->bar[i].flags &
				    (DEXT_BAR_IO | DEXT_BAR_64 | DEXT_BAR_PREFETCH);
		if (hi->bar[i].ptr)
			out->bar[i].flags |= DEXT_BAR_MAPPABLE;
	}
	snprintf(out->name, sizeof(out->name), "%.40s (IOKit test double)",
		 hi->name);
	return DEXT_S_OK;
}

static int p_bar_memory(void *plat, unsigned int bar, void **memory)
{
	struct shim_kernel *k = plat;

	if (bar >= HOSTDEV_NUM_BARS || !k->bar_mem[bar].ptr)
		return DEXT_S_NOTSUP;
	*memory = &k->bar_mem[bar];
	return DEXT_S_OK;
}

static int p_irq_page_memory(void *plat, void **memory)
{
	*memory = &((struct shim_kernel *)plat)->irq_mem;
	return DEXT_S_OK;
}

const struct shim_mem *shim_kernel_mem(void *token)
{
	return token;
}

static int p_region_create(void *plat, void *client, uint64_t addr,
			   uint64_t size, void **region)
{
	struct shim_region *r = malloc(sizeof(*r));

	(void)plat;
	(void)client;
	if (!r)
		return DEXT_S_IO_ERROR;
	r->addr = addr;
	r->size = size;
	*region = r;
	shim_count(&shim_counts.regions);
	return DEXT_S_OK;
}

static void p_region_destroy(void *plat, void *region)
{
	(void)plat;
	free(region);
	uncount(&shim_counts.regions);
}

/* IODMACommand::PrepareForDMA, here: the simulated DART maps the HVAs. */
static int p_dma_map(void *plat, void *region, uint64_t offset, uint64_t len,
		     uint32_t dir, struct dext_seg *seg, uint32_t max_segs,
		     uint32_t *nsegs, void **mapping)
{
	struct shim_kernel *k = plat;
	struct shim_region *r = region;
	struct shim_mapping *m = calloc(1, sizeof(*m));
	unsigned int i, n = 0;
	int st;

	if (!m)
		return DEXT_S_IO_ERROR;
	if (max_segs > DEXT_MAX_SEGS)
		max_segs = DEXT_MAX_SEGS;
	st = k->hd->dma_ops->map(k->hd->dma_be, r->addr + offset, len, dir,
				 m->seg, max_segs, &n, &m->cookie);
	if (st != ADMA_S_OK) {
		free(m);
		return st == ADMA_S_NO_SPACE || st == ADMA_S_FRAGMENTED ?
		       DEXT_S_NO_SPACE : DEXT_S_IO_ERROR;
	}
	m->nsegs = n;
	for (i = 0; i < n; i++) {
		seg[i].iova = m->seg[i].iova;
		seg[i].len = m->seg[i].len;
	}
	*nsegs = n;
	*mapping = m;
	shim_count(&shim_counts.mappings);
	return DEXT_S_OK;
}

static void p_dma_unmap(void *plat, void *mapping)
{
	struct shim_kernel *k = plat;
	struct shim_mapping *m = mapping;

	k->hd->dma_ops->unmap(k->hd->dma_be, m->seg, m->nsegs, m->cookie);
	free(m);
	uncount(&shim_counts.mappings);
}

static int p_irq_enable(void *plat, uint32_t kind, uint32_t nvec)
{
	struct shim_kernel *k = plat;

	return st_of(k->hd->ops->irq_set(k->hd->dev,
					 (enum hostdev_irq_kind)kind, nvec));
}

static int p_reset(void *plat, uint32_t method)
{
	struct shim_kernel *k = plat;
	uint32_t done = 0;
	int st;

	if (method == DEXT_RESET_FLR && k->cfg.fail_flr)
		return DEXT_S_IO_ERROR;
	st = st_of(k->hd->ops->reset(k->hd->dev, method, &done));
	if (st == DEXT_S_OK)
		shim_count(done == DEXT_RESET_FLR ? &shim_counts.resets_flr :
						   &shim_counts.resets_bus);
	return st;
}

static void p_notify(void *plat, void *client, void *completion,
		     const uint64_t *data, uint32_t n)
{
	(void)plat;
	(void)client;
	shim_completion_send(completion, data, n);
}

static void p_completion_retain(void *plat, void *completion)
{
	(void)plat;
	shim_completion_retain(completion);
	shim_count(&shim_counts.completions);
}

static void p_completion_release(void *plat, void *completion)
{
	(void)plat;
	uncount(&shim_counts.completions);
	shim_completion_release(completion);
}

static void p_lock(void *plat, int which)
{
	struct shim_kernel *k = plat;

	pthread_mutex_lock(which == DEXT_LOCK_IRQ ? &k->irq_lock : &k->main_lock);
}

static void p_unlock(void *plat, int which)
{
	struct shim_kernel *k = plat;

	pthread_mutex_unlock(which == DEXT_LOCK_IRQ ? &k->irq_lock :
			     &k->main_lock);
}

static void p_log(void *plat, const char *msg)
{
	struct shim_kernel *k = plat;

	snprintf(k->last_log, sizeof(k->last_log), "%s", msg);
	if (getenv("EGPU_SHIM_VERBOSE"))
		fprintf(stderr, "iokit-shim: dext: %s\n", msg);
}

static const struct dext_platform_ops platform_ops = {
	.cfg_read = p_cfg_read,
	.cfg_write = p_cfg_write,
	.bar_read = p_bar_read,
	.bar_write = p_bar_write,
	.info = p_info,
	.bar_memory = p_bar_memory,
	.irq_page_memory = p_irq_page_memory,
	.region_create = p_region_create,
	.region_destroy = p_region_destroy,
	.dma_map = p_dma_map,
	.dma_unmap = p_dma_unmap,
	.irq_enable = p_irq_enable,
	.reset = p_reset,
	.notify = p_notify,
	.completion_retain = p_completion_retain,
	.completion_release = p_completion_release,
	.lock = p_lock,
	.unlock = p_unlock,
	.log = p_log,
};

/* ---- setup */

static void kernel_free(struct shim_kernel *k)
{
	free(k->core_mem);
	free(k->page);
	free(k->gpu_mem);
	free(k->vram);
	free(k);
}

static bool kernel_new(const struct iokit_shim_config *cfg)
{
	struct simgpu_env env = {
		.dma_read = env_dma_read, .dma_write = env_dma_write,
		.kick = env_kick, .lock = env_lock, .unlock = env_unlock,
	};
	struct shim_kernel *k = calloc(1, sizeof(*k));
	struct simgpu_config gc;
	unsigned int i;
	size_t n;

	if (!k)
		return false;
	k->cfg = *cfg;
	if (!k->cfg.bus && !k->cfg.devfn && !k->cfg.domain)
		k->cfg.bus = 5;
	gc = cfg->gpu;
	gc.dma_addr = HOSTDEV_DMA_HVA;
	env.opaque = k;
	pthread_mutex_init(&k->gpu_lock, NULL);
	pthread_mutex_init(&k->main_lock, NULL);
	pthread_mutex_init(&k->irq_lock, NULL);
	pthread_mutex_init(&k->run_lock, NULL);
	pthread_cond_init(&k->run_cond, NULL);

	n = simgpu_size(&gc);
	k->gpu_mem = n ? aligned_alloc(64, (n + 63) & ~(size_t)63) : NULL;
	if (!gc.vram_size)
		gc.vram_size = SIMGPU_VRAM_DEFAULT;
	k->vram = aligned_alloc(DEXT_PAGE_SIZE, gc.vram_size);
	k->page = aligned_alloc(DEXT_IRQ_PAGE_SIZE, DEXT_IRQ_PAGE_SIZE);
	n = dext_core_size(&cfg->dext);
	k->core_mem = aligned_alloc(64, (n + 63) & ~(size_t)63);
	if (!k->gpu_mem || !k->vram || !k->page || !k->core_mem)
		goto fail;
	memset(k->vram, 0, gc.vram_size);
	k->gpu = simgpu_init(k->gpu_mem, &gc, &env, k->vram);
	if (!k->gpu)
		goto fail;
	k->hd = simgpu_hostdev(k->gpu);
	k->hd->irq = gpu_irq;
	k->hd->irq_opaque = k;
	for (i = 0; i < HOSTDEV_NUM_BARS; i++) {
		k->bar_mem[i].ptr = k->hd->info.bar[i].ptr;
		k->bar_mem[i].size = k->hd->info.bar[i].size;
	}
	k->irq_mem.ptr = k->page;
	k->irq_mem.size = DEXT_IRQ_PAGE_SIZE;
	K = k;		/* the core's init reads config through K's ops */
	k->core = dext_core_init(k->core_mem, &cfg->dext, &platform_ops, k,
				 k->page);
	if (!k->core)
		goto fail;
	if (pthread_create(&k->thread, NULL, engine_thread, k))
		goto fail;
	return true;
fail:
	K = NULL;
	kernel_free(k);
	return false;
}

bool iokit_shim_setup(const struct iokit_shim_config *cfg)
{
	bool ok = false;

	pthread_mutex_lock(&setup_lock);
	if (!K)
		ok = kernel_new(cfg);
	pthread_mutex_unlock(&setup_lock);
	return ok;
}

bool iokit_shim_setup_gpu(const struct simgpu_config *gpu)
{
	struct iokit_shim_config cfg;

	memset(&cfg, 0, sizeof(cfg));
	cfg.gpu = *gpu;
	return iokit_shim_setup(&cfg);
}

static uint32_t env_u32(const char *name, uint32_t dflt)
{
	const char *v = getenv(name);

	return v && *v ? (uint32_t)strtoul(v, NULL, 0) : dflt;
}

bool shim_kernel_ensure(void)
{
	struct iokit_shim_config cfg;
	bool made = false;

	pthread_mutex_lock(&setup_lock);
	if (!K) {
		memset(&cfg, 0, sizeof(cfg));
		cfg.gpu.vram_size = (uint64_t)env_u32("EGPU_SHIM_VRAM_MB", 0) << 20;
		cfg.gpu.msix_vectors = env_u32("EGPU_SHIM_MSIX", 0);
		cfg.gpu.dart.seg_pages = env_u32("EGPU_SHIM_SEG_PAGES", 0);
		made = kernel_new(&cfg);
		if (made)
			fprintf(stderr, "iokit-shim: IOKit calls go to the test "
				"double (simulated GPU + simulated DART), not a "
				"Mac\n");
	}
	pthread_mutex_unlock(&setup_lock);
	return K != NULL;
}

void iokit_shim_teardown(void)
{
	struct shim_kernel *k;

	pthread_mutex_lock(&setup_lock);
	k = K;
	if (k) {
		pthread_mutex_lock(&k->run_lock);
		k->stop = true;
		pthread_cond_broadcast(&k->run_cond);
		pthread_mutex_unlock(&k->run_lock);
		pthread_join(k->thread, NULL);
		k->hd->ops->close(k->hd->dev);
		K = NULL;
		kernel_free(k);
	}
	memset(&shim_counts, 0, sizeof(shim_counts));
	pthread_mutex_unlock(&setup_lock);
}

struct dext_core *shim_kernel_core(void)
{
	return K ? K->core : NULL;
}

struct simgpu *iokit_shim_gpu(void)
{
	return K ? K->gpu : NULL;
}

struct dext_core *iokit_shim_core(void)
{
	return shim_kernel_core();
}

void iokit_shim_lock_gpu(void)
{
	pthread_mutex_lock(&K->gpu_lock);
}

void iokit_shim_unlock_gpu(void)
{
	pthread_mutex_unlock(&K->gpu_lock);
}

uint64_t iokit_shim_registry_id(void)
{
	return REGISTRY_ID;
}

const char *iokit_shim_last_log(void)
{
	return K ? K->last_log : "";
}
