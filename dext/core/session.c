/* SPDX-License-Identifier: (GPL-2.0 OR MIT) */
/*
 * session.c - the core's life cycle: init, one session per user client,
 * ownership of the device, and the cleanup when the owner goes away.
 *
 * Cleanup order matters on a Mac: a DMA to an address the DART no longer
 * maps is a fatal fault for the host. So the device is silenced first
 * (interrupts off, bus mastering off, reset) and only then are its
 * mappings released.
 */
#include "core_priv.h"

#define PCI_COMMAND		0x04
#define PCI_COMMAND_MASTER	0x4

static void apply_defaults(struct dext_core_config *c)
{
	if (!c->max_bytes)
		c->max_bytes = DEXT_CORE_DEFAULT_MAX_BYTES;
	if (!c->max_maps)
		c->max_maps = DEXT_CORE_DEFAULT_MAX_MAPS;
	if (!c->max_regions)
		c->max_regions = DEXT_MAX_REGIONS;
	if (!c->max_batch)
		c->max_batch = DEXT_MAX_BATCH;
	if (!c->max_sessions)
		c->max_sessions = DEXT_CORE_DEFAULT_MAX_SESSIONS;
}

size_t dext_core_size(const struct dext_core_config *cfg)
{
	struct dext_core_config c = *cfg;

	apply_defaults(&c);
	return sizeof(struct dext_core) +
	       (size_t)c.max_maps * sizeof(struct dext_map_slot);
}

static bool ops_complete(const struct dext_platform_ops *o)
{
	return o && o->cfg_read && o->cfg_write && o->bar_read &&
	       o->bar_write && o->info && o->bar_memory &&
	       o->irq_page_memory && o->region_create && o->region_destroy &&
	       o->dma_map && o->dma_unmap && o->irq_enable && o->reset &&
	       o->notify && o->completion_retain && o->completion_release &&
	       o->lock && o->unlock;
}

struct dext_core *dext_core_init(void *mem, const struct dext_core_config *cfg,
				 const struct dext_platform_ops *ops,
				 void *plat, void *irq_page)
{
	struct dext_core *c = mem;
	struct dext_core_config conf = *cfg;

	apply_defaults(&conf);
	if (!mem || !irq_page || !ops_complete(ops) ||
	    conf.max_maps >= NO_SLOT || conf.max_regions > DEXT_MAX_REGIONS ||
	    conf.max_batch > DEXT_MAX_BATCH ||
	    conf.max_sessions > DEXT_MAX_SESSIONS_LIMIT)
		return 0;

	__builtin_memset(c, 0, sizeof(*c));
	c->cfg = conf;
	c->ops = ops;
	c->plat = plat;
	c->page = irq_page;
	if (ops->info(plat, &c->pinfo) != DEXT_S_OK ||
	    (c->pinfo.cfg_size != 256 && c->pinfo.cfg_size != 4096))
		return 0;
	c->pinfo.name[sizeof(c->pinfo.name) - 1] = 0;
	irq_parse_caps(c);
	irq_page_reset(c);
	dma_init(c);
	return c;
}

void core_log(struct dext_core *c, const char *msg)
{
	if (c->ops->log)
		c->ops->log(c->plat, msg);
}

struct dext_session *dext_session_open(struct dext_core *c, void *client,
				       int *status)
{
	struct dext_session *s = 0;
	uint32_t i;

	core_lock(c, DEXT_LOCK_MAIN);
	for (i = 0; i < c->cfg.max_sessions; i++) {
		if (!c->sess[i].open) {
			s = &c->sess[i];
			s->core = c;
			s->client = client;
			s->open = true;
			break;
		}
	}
	core_unlock(c, DEXT_LOCK_MAIN);
	if (status)
		*status = s ? DEXT_S_OK : DEXT_S_BUSY;
	return s;
}

/* Silence the device, then release what the owner left. MAIN held. */
static void owner_cleanup(struct dext_core *c)
{
	uint32_t cmd, done;

	irq_disarm(c);
	if (c->irq_kind != DEXT_IRQ_NONE)
		irq_set(c, DEXT_IRQ_NONE, 0);
	if (c->ops->cfg_read(c->plat, PCI_COMMAND, 2, &cmd) == DEXT_S_OK &&
	    (cmd & PCI_COMMAND_MASTER))
		c->ops->cfg_write(c->plat, PCI_COMMAND, 2,
				  cmd & ~(uint32_t)PCI_COMMAND_MASTER);
	if (dev_reset(c, DEXT_RESET_FLR | DEXT_RESET_BUS, &done) != DEXT_S_OK)
		core_log(c, "client gone: the device could not be reset "
			    "(bus mastering is off)");
	dma_release_all(c);
	irq_page_reset(c);
	c->owner = 0;
}

void dext_session_close(struct dext_session *s)
{
	struct dext_core *c;

	if (!s || !s->open)
		return;
	c = s->core;
	core_lock(c, DEXT_LOCK_MAIN);
	if (c->owner == s)
		owner_cleanup(c);
	s->open = false;
	s->client = 0;
	core_unlock(c, DEXT_LOCK_MAIN);
}

int dext_memory_for_type(struct dext_session *s, uint64_t type,
			 uint64_t *options, void **memory)
{
	struct dext_core *c;
	int st;

	(void)options;
	if (!s || !s->open || !memory)
		return DEXT_S_INVALID;
	c = s->core;
	core_lock(c, DEXT_LOCK_MAIN);
	if (c->owner != s) {
		st = c->owner ? DEXT_S_BUSY : DEXT_S_NOT_OPEN;
	} else if (type == DEXT_MEM_IRQ_PAGE) {
		st = c->ops->irq_page_memory(c->plat, memory);
	} else if (type < DEXT_NUM_BARS) {
		const struct dext_bar_desc *b = &c->pinfo.bar[type];

		if (!b->size || (b->flags & DEXT_BAR_IO))
			st = DEXT_S_INVALID;
		else if (!(b->flags & DEXT_BAR_MAPPABLE))
			st = DEXT_S_NOTSUP;
		else
			st = c->ops->bar_memory(c->plat, (unsigned int)type,
						memory);
	} else {
		st = DEXT_S_INVALID;
	}
	core_unlock(c, DEXT_LOCK_MAIN);
	return st;
}

void dext_core_stats(struct dext_core *c, struct dext_stats *out)
{
	core_lock(c, DEXT_LOCK_MAIN);
	core_stats(c, out);
	core_unlock(c, DEXT_LOCK_MAIN);
}

const char *dext_status_name(int status)
{
	static const char *const names[] = DEXT_STATUS_NAMES;

	if (status < 0 || status >= DEXT_S__COUNT)
		return "unknown";
	return names[status];
}
