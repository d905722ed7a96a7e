/* SPDX-License-Identifier: (GPL-2.0 OR MIT) */
/*
 * dispatch.c - ExternalMethod: one table of what each selector takes, then
 * a small function per selector.
 *
 * The table does what IOUserClientMethodDispatch's checks do (exact scalar
 * counts, structure sizes, completion present or not) and adds who may
 * call: most selectors are for the owner only. Everything the client sends
 * is checked here before it reaches the platform: config and BAR accesses
 * must be aligned and inside the function, and config writes that would
 * move a BAR or reprogram MSI/MSI-X behind the dext's back are refused.
 */
#include "core_priv.h"

#define PCI_VENDOR_ID		0x00
#define PCI_CLASS_REVISION	0x08
#define PCI_BAR_FIRST		0x10
#define PCI_BAR_END		0x28
#define PCI_ROM_ADDRESS		0x30
#define PCI_MSIX_CAP_LEN	12

struct sel_spec {
	uint8_t in;		/* scalars in, exact */
	uint8_t out;		/* scalars out, exact */
	bool owner;		/* owner only */
	bool async;		/* needs a completion */
	bool struct_in;		/* takes a structure */
	uint32_t struct_out;	/* structure out: at least this many bytes */
};

static const struct sel_spec spec[DEXT_SEL__COUNT] = {
	[DEXT_SEL_GET_VERSION]	 = { 0, 2, false, false, false, 0 },
	[DEXT_SEL_HELLO]	 = { 2, 1, false, false, false, 0 },
	[DEXT_SEL_INFO]		 = { 0, 0, false, false, false,
				     sizeof(struct dext_info) },
	[DEXT_SEL_CFG_READ]	 = { 2, 1, true, false, false, 0 },
	[DEXT_SEL_CFG_WRITE]	 = { 3, 0, true, false, false, 0 },
	[DEXT_SEL_BAR_READ]	 = { 3, 1, true, false, false, 0 },
	[DEXT_SEL_BAR_WRITE]	 = { 4, 0, true, false, false, 0 },
	[DEXT_SEL_REGION_ADD]	 = { 3, 1, true, false, false, 0 },
	[DEXT_SEL_REGION_REMOVE] = { 1, 0, true, false, false, 0 },
	[DEXT_SEL_DMA_BATCH]	 = { 0, 0, true, false, true,
				     sizeof(struct dext_batch_out) },
	[DEXT_SEL_IRQ_SET]	 = { 2, 0, true, false, false, 0 },
	[DEXT_SEL_IRQ_ARM]	 = { 0, 0, true, true, false, 0 },
	[DEXT_SEL_RESET]	 = { 1, 1, true, false, false, 0 },
	[DEXT_SEL_STATS]	 = { 0, 0, true, false, false,
				     sizeof(struct dext_stats) },
};

static uint32_t features(void)
{
	return DEXT_F_BATCH | DEXT_F_MULTISEG | DEXT_F_IRQ_PAGE |
	       DEXT_F_BAR_MAP | DEXT_F_CFG_FILTER;
}

/* ---- HELLO, INFO, STATS */

static int do_hello(struct dext_session *s, const uint64_t *in, uint64_t *out)
{
	struct dext_core *c = s->core;

	out[0] = DEXT_ABI_VERSION;
	if (in[0] >> 32 || DEXT_ABI_GET_MAJOR(in[0]) != DEXT_ABI_MAJOR)
		return DEXT_S_VERSION;
	if (in[1])
		return DEXT_S_INVALID;
	if (c->owner == s)
		return DEXT_S_OK;
	if (c->owner)
		return DEXT_S_BUSY;
	c->owner = s;
	__builtin_memset(&c->st, 0, sizeof(c->st));
	irq_page_reset(c);
	return DEXT_S_OK;
}

static void copy_name(char *dst, const char *src, size_t n)
{
	size_t i;

	for (i = 0; i + 1 < n && src[i]; i++)
		dst[i] = src[i];
	dst[i] = 0;
}

static void do_info(struct dext_session *s, struct dext_info *info)
{
	struct dext_core *c = s->core;
	uint32_t v = 0;

	__builtin_memset(info, 0, sizeof(*info));
	info->abi_version = DEXT_ABI_VERSION;
	info->features = features();
	c->ops->cfg_read(c->plat, PCI_VENDOR_ID, 4, &v);
	info->vendor_id = (uint16_t)v;
	info->device_id = (uint16_t)(v >> 16);
	v = 0;
	c->ops->cfg_read(c->plat, PCI_CLASS_REVISION, 4, &v);
	info->class_rev = v;
	info->domain = c->pinfo.domain;
	info->bus = c->pinfo.bus;
	info->devfn = c->pinfo.devfn;
	info->cfg_size = c->pinfo.cfg_size;
	info->resets = c->pinfo.resets & (DEXT_RESET_FLR | DEXT_RESET_BUS);
	info->msix_vectors = c->msix_vectors;
	info->msi_vectors = c->msi_vectors;
	info->intx = c->intx;
	info->owner = !c->owner ? DEXT_OWNER_NONE :
		      c->owner == s ? DEXT_OWNER_SELF : DEXT_OWNER_OTHER;
	info->page_shift = DEXT_PAGE_SHIFT;
	info->max_segs = DEXT_MAX_SEGS;
	info->max_batch = c->cfg.max_batch;
	info->max_maps = c->cfg.max_maps;
	info->max_regions = c->cfg.max_regions;
	info->max_bytes = c->cfg.max_bytes;
	__builtin_memcpy(info->bar, c->pinfo.bar, sizeof(info->bar));
	copy_name(info->name, c->pinfo.name, sizeof(info->name));
}

void core_stats(struct dext_core *c, struct dext_stats *out)
{
	uint32_t i, n = 0;

	*out = c->st;
	for (i = 0; i < DEXT_MAX_REGIONS; i++)
		n += c->region[i].live;
	out->live_regions = n;
	out->irqs = __atomic_load_n(&c->st.irqs, __ATOMIC_RELAXED);
	out->wakeups = __atomic_load_n(&c->st.wakeups, __ATOMIC_RELAXED);
}

/* ---- config space and BARs */

static bool overlaps(uint32_t off, uint32_t len, uint32_t start, uint32_t n)
{
	return n && off < start + n && start < off + len;
}

static int cfg_check(const struct dext_core *c, uint64_t off, uint64_t len)
{
	if ((len != 1 && len != 2 && len != 4) || off % len ||
	    off + len > c->pinfo.cfg_size)
		return DEXT_S_INVALID;
	return DEXT_S_OK;
}

static int do_cfg_write(struct dext_core *c, const uint64_t *in)
{
	uint32_t off = (uint32_t)in[0], len = (uint32_t)in[1];
	int st = cfg_check(c, in[0], in[1]);

	if (st != DEXT_S_OK)
		return st;
	if (len < 4 && in[2] >> (len * 8))
		return DEXT_S_INVALID;
	if (in[2] >> 32)
		return DEXT_S_INVALID;
	if (overlaps(off, len, PCI_BAR_FIRST, PCI_BAR_END - PCI_BAR_FIRST) ||
	    overlaps(off, len, PCI_ROM_ADDRESS, 4) ||
	    overlaps(off, len, c->msi_cap, c->msi_cap ? c->msi_cap_len : 0) ||
	    overlaps(off, len, c->msix_cap, c->msix_cap ? PCI_MSIX_CAP_LEN : 0))
		return DEXT_S_DENIED;
	return c->ops->cfg_write(c->plat, off, len, (uint32_t)in[2]);
}

static int bar_check(const struct dext_core *c, uint64_t bar, uint64_t off,
		     uint64_t size)
{
	const struct dext_bar_desc *b;

	if (bar >= DEXT_NUM_BARS)
		return DEXT_S_INVALID;
	b = &c->pinfo.bar[bar];
	if (!b->size)
		return DEXT_S_INVALID;
	if (b->flags & DEXT_BAR_IO)
		return DEXT_S_NOTSUP;
	if ((size != 1 && size != 2 && size != 4 && size != 8) || off % size ||
	    off >= b->size || size > b->size - off)
		return DEXT_S_INVALID;
	return DEXT_S_OK;
}

static int do_bar_write(struct dext_core *c, const uint64_t *in)
{
	int st = bar_check(c, in[0], in[1], in[2]);

	if (st != DEXT_S_OK)
		return st;
	if (in[2] < 8 && in[3] >> (in[2] * 8))
		return DEXT_S_INVALID;
	return c->ops->bar_write(c->plat, (unsigned int)in[0], in[1],
				 (unsigned int)in[2], in[3]);
}

/* ---- reset: FLR first, the hot reset if FLR is not allowed or fails */

int dev_reset(struct dext_core *c, uint32_t how, uint32_t *done)
{
	static const uint32_t order[] = { DEXT_RESET_FLR, DEXT_RESET_BUS };
	int st = DEXT_S_NOTSUP;
	unsigned int i;

	*done = 0;
	for (i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
		if (!(how & order[i]) || !(c->pinfo.resets & order[i]))
			continue;
		st = c->ops->reset(c->plat, order[i]);
		if (st == DEXT_S_OK) {
			*done = order[i];
			c->st.resets++;
			return st;
		}
	}
	return st;
}

/* ---- the dispatcher */

static int run(struct dext_session *s, struct dext_call *call)
{
	struct dext_core *c = s->core;
	const uint64_t *in = call->scalar_in;
	uint64_t *out = call->scalar_out;
	uint32_t v32 = 0, done;
	uint64_t v64 = 0;
	int st;

	switch (call->selector) {
	case DEXT_SEL_GET_VERSION:
		out[0] = DEXT_ABI_VERSION;
		out[1] = features();
		return DEXT_S_OK;
	case DEXT_SEL_HELLO:
		return do_hello(s, in, out);
	case DEXT_SEL_INFO:
		do_info(s, call->struct_out);
		call->struct_out_size = sizeof(struct dext_info);
		return DEXT_S_OK;
	case DEXT_SEL_CFG_READ:
		st = cfg_check(c, in[0], in[1]);
		if (st == DEXT_S_OK)
			st = c->ops->cfg_read(c->plat, (uint32_t)in[0],
					      (unsigned int)in[1], &v32);
		out[0] = st == DEXT_S_OK ? v32 : 0;
		return st;
	case DEXT_SEL_CFG_WRITE:
		return do_cfg_write(c, in);
	case DEXT_SEL_BAR_READ:
		st = bar_check(c, in[0], in[1], in[2]);
		if (st == DEXT_S_OK)
			st = c->ops->bar_read(c->plat, (unsigned int)in[0],
					      in[1], (unsigned int)in[2], &v64);
		out[0] = st == DEXT_S_OK ? v64 : 0;
		return st;
	case DEXT_SEL_BAR_WRITE:
		return do_bar_write(c, in);
	case DEXT_SEL_REGION_ADD:
		out[0] = 0;
		return dma_region_add(s, in[0], in[1], in[2], &out[0]);
	case DEXT_SEL_REGION_REMOVE:
		return dma_region_remove(c, in[0]);
	case DEXT_SEL_DMA_BATCH:
		return dma_batch(c, call->struct_in, call->struct_in_size,
				 call->struct_out, &call->struct_out_size);
	case DEXT_SEL_IRQ_SET:
		if (in[0] > DEXT_IRQ_MSIX || in[1] > DEXT_MAX_MSIX)
			return DEXT_S_INVALID;
		return irq_set(c, (uint32_t)in[0], (uint32_t)in[1]);
	case DEXT_SEL_IRQ_ARM:
		return irq_arm(s, call->completion);
	case DEXT_SEL_RESET:
		if (!in[0] || in[0] & ~(uint64_t)(DEXT_RESET_FLR | DEXT_RESET_BUS))
			return DEXT_S_INVALID;
		st = dev_reset(c, (uint32_t)in[0], &done);
		out[0] = done;
		return st;
	case DEXT_SEL_STATS:
		core_stats(c, call->struct_out);
		call->struct_out_size = sizeof(struct dext_stats);
		return DEXT_S_OK;
	}
	return DEXT_S_BAD_SELECTOR;
}

int dext_dispatch(struct dext_session *s, struct dext_call *call)
{
	const struct sel_spec *sp;
	struct dext_core *c;
	uint64_t out_cap;
	int st;

	if (!s || !s->open || !call)
		return DEXT_S_INVALID;
	c = s->core;
	out_cap = call->struct_out ? call->struct_out_size : 0;
	call->struct_out_size = 0;
	if (call->selector >= DEXT_SEL__COUNT)
		return DEXT_S_BAD_SELECTOR;
	sp = &spec[call->selector];
	if (call->scalar_in_count != sp->in || call->scalar_out_count != sp->out ||
	    (sp->in && !call->scalar_in) || (sp->out && !call->scalar_out) ||
	    sp->async != (call->completion != 0) ||
	    sp->struct_in != (call->struct_in_size != 0) ||
	    (sp->struct_in && !call->struct_in) ||
	    out_cap < sp->struct_out ||
	    (sp->struct_out && ((uintptr_t)call->struct_out & 7)))
		return DEXT_S_INVALID;
	call->struct_out_size = out_cap;

	core_lock(c, DEXT_LOCK_MAIN);
	if (sp->owner && c->owner != s)
		st = c->owner ? DEXT_S_BUSY : DEXT_S_NOT_OPEN;
	else
		st = run(s, call);
	core_unlock(c, DEXT_LOCK_MAIN);
	if (!sp->struct_out || (st != DEXT_S_OK &&
				call->selector != DEXT_SEL_DMA_BATCH))
		call->struct_out_size = 0;
	return st;
}
