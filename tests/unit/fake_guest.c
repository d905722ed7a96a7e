/* SPDX-License-Identifier: (GPL-2.0 OR MIT) */
#include <stdlib.h>
#include <string.h>

#include "fake_guest.h"

int fake_guest_add(struct fake_guest *g, uint64_t base, uint64_t size)
{
	unsigned int i = g->nregions;

	if (i >= FAKE_MAX_REGIONS || !size || base + size < base)
		return -1;
	g->region[i].mem = calloc(1, size);
	if (!g->region[i].mem)
		return -1;
	g->region[i].base = base;
	g->region[i].size = size;
	g->nregions++;
	if (i == 0)
		g->writes_left = -1;
	return (int)i;
}

void fake_guest_free(struct fake_guest *g)
{
	unsigned int i;

	for (i = 0; i < g->nregions; i++)
		free(g->region[i].mem);
	memset(g, 0, sizeof(*g));
}

void *fake_guest_ptr(struct fake_guest *g, uint64_t gpa, uint64_t len)
{
	unsigned int i;

	if (gpa + len < gpa)
		return NULL;
	for (i = 0; i < g->nregions; i++) {
		uint64_t b = g->region[i].base, s = g->region[i].size;

		if (gpa >= b && gpa - b <= s && len <= s - (gpa - b))
			return g->region[i].mem + (gpa - b);
	}
	return NULL;
}

static int fg_read(void *opaque, uint64_t gpa, void *buf, size_t len)
{
	struct fake_guest *g = opaque;
	void *p = fake_guest_ptr(g, gpa, len);

	if (!p)
		return -1;
	g->reads++;
	memcpy(buf, p, len);
	return 0;
}

static int fg_write(void *opaque, uint64_t gpa, const void *buf, size_t len)
{
	struct fake_guest *g = opaque;
	void *p = fake_guest_ptr(g, gpa, len);

	if (!p)
		return -1;
	if (g->writes_left == 0) {
		memcpy(p, buf, len < g->partial ? len : g->partial);
		if (g->fails_left > 0 && --g->fails_left == 0)
			g->writes_left = -1;
		g->failed_writes++;
		return -1;
	}
	if (g->writes_left > 0)
		g->writes_left--;
	g->writes++;
	memcpy(p, buf, len);
	return 0;
}

static int fg_resolve(void *opaque, uint64_t gpa, uint64_t len, uint64_t *addr)
{
	if (!len || !fake_guest_ptr(opaque, gpa, len))
		return ADMA_S_RANGE;
	*addr = gpa;
	return ADMA_S_OK;
}

struct adma_env fake_guest_env(struct fake_guest *g)
{
	struct adma_env env = {
		.opaque = g,
		.read = fg_read,
		.write = fg_write,
		.resolve = fg_resolve,
	};
	return env;
}

int rig_init(struct rig *r, uint64_t ram, uint64_t ram_hi,
	     const struct adma_core_config *cc, const struct dartsim_config *dc)
{
	struct adma_core_config ccfg = cc ? *cc : (struct adma_core_config){0};
	struct dartsim_config dcfg = dc ? *dc : (struct dartsim_config){0};
	struct adma_env env;

	memset(r, 0, sizeof(*r));
	if (fake_guest_add(&r->g, 0, ram) < 0 ||
	    (ram_hi && fake_guest_add(&r->g, 1ull << 32, ram_hi) < 0))
		goto fail;
	if (!ccfg.max_bytes)
		ccfg.max_bytes = dcfg.max_bytes;
	if (!ccfg.max_maps)
		ccfg.max_maps = dcfg.max_maps;
	r->dmem = aligned_alloc(64, (dartsim_size(&dcfg) + 63) & ~(size_t)63);
	r->cmem = aligned_alloc(64, (adma_core_size(&ccfg) + 63) & ~(size_t)63);
	if (!r->dmem || !r->cmem)
		goto fail;
	r->d = dartsim_init(r->dmem, &dcfg);
	env = fake_guest_env(&r->g);
	r->c = r->d ? adma_core_init(r->cmem, &ccfg, &env, &dartsim_backend_ops,
				     r->d) : NULL;
	if (!r->c)
		goto fail;
	return 0;
fail:
	rig_fini(r);
	return -1;
}

void rig_fini(struct rig *r)
{
	fake_guest_free(&r->g);
	free(r->dmem);
	free(r->cmem);
	memset(r, 0, sizeof(*r));
}
