/* SPDX-License-Identifier: (GPL-2.0 OR MIT) */
/*
 * irq.c - the function's interrupts, forwarded to the owner.
 *
 * A Mac cannot hand a device interrupt to a user process directly: the
 * dext's IOInterruptDispatchSource handler runs in the dext. So each
 * interrupt sets a bit in a page the owner has mapped, and a wakeup (one
 * async completion) goes out only when the owner said it is waiting
 * (page->wake), which coalesces a storm of edges into one message. The
 * page is writable by the client, so the dext reads nothing from it but
 * the wake flag; what it decides on (kind, vectors) is its own copy.
 */
#include "core_priv.h"

#define PCI_STATUS		0x06
#define PCI_STATUS_CAP_LIST	0x10
#define PCI_CAPABILITY_LIST	0x34
#define PCI_INTERRUPT_PIN	0x3d
#define PCI_CAP_ID_MSI		0x05
#define PCI_CAP_ID_MSIX		0x11
#define PCI_MSI_FLAGS_64BIT	0x0080
#define PCI_MSI_FLAGS_MASKBIT	0x0100
#define PCI_MSIX_FLAGS_QSIZE	0x07ff

static uint32_t cfg_rd(struct dext_core *c, uint32_t off, unsigned int len)
{
	uint32_t v = 0;

	if (c->ops->cfg_read(c->plat, off, len, &v) != DEXT_S_OK)
		return 0;
	return v;
}

/* Which interrupts the function has, from its capability list. */
void irq_parse_caps(struct dext_core *c)
{
	uint32_t pos, id, ctrl, n;

	c->intx = cfg_rd(c, PCI_INTERRUPT_PIN, 1) ? 1 : 0;
	if (!(cfg_rd(c, PCI_STATUS, 2) & PCI_STATUS_CAP_LIST))
		return;
	pos = cfg_rd(c, PCI_CAPABILITY_LIST, 1) & 0xfc;
	/* a list is at most 48 entries long; a loop is a broken device */
	for (n = 0; n < 48 && pos >= 0x40; n++) {
		id = cfg_rd(c, pos, 1);
		ctrl = cfg_rd(c, pos + 2, 2);
		if (id == PCI_CAP_ID_MSI && !c->msi_cap) {
			c->msi_cap = pos;
			c->msi_vectors = 1u << ((ctrl >> 1) & 7);
			if (c->msi_vectors > DEXT_MAX_MSI)
				c->msi_vectors = DEXT_MAX_MSI;
			c->msi_cap_len = 10;
			if (ctrl & PCI_MSI_FLAGS_64BIT)
				c->msi_cap_len += 4;
			if (ctrl & PCI_MSI_FLAGS_MASKBIT)
				c->msi_cap_len += 10;
		} else if (id == PCI_CAP_ID_MSIX && !c->msix_cap) {
			c->msix_cap = pos;
			c->msix_vectors = (ctrl & PCI_MSIX_FLAGS_QSIZE) + 1;
		}
		pos = cfg_rd(c, pos + 1, 1) & 0xfc;
	}
}

void irq_page_reset(struct dext_core *c)
{
	struct dext_irq_page *p = c->page;

	__builtin_memset(p, 0, sizeof(*p));
	p->magic = DEXT_IRQ_PAGE_MAGIC;
	p->abi_version = DEXT_ABI_VERSION;
	p->kind = c->irq_kind;
	p->nvec = c->irq_nvec;
}

/* IRQ_SET (MAIN held). */
int irq_set(struct dext_core *c, uint32_t kind, uint32_t nvec)
{
	uint32_t max;
	unsigned int i;
	int st;

	switch (kind) {
	case DEXT_IRQ_NONE:
		max = 0;
		break;
	case DEXT_IRQ_INTX:
		max = c->intx;
		break;
	case DEXT_IRQ_MSI:
		max = c->msi_vectors;
		break;
	case DEXT_IRQ_MSIX:
		max = c->msix_vectors;
		break;
	default:
		return DEXT_S_INVALID;
	}
	if (kind != DEXT_IRQ_NONE && !max)
		return DEXT_S_NOTSUP;
	if ((kind == DEXT_IRQ_NONE) != (nvec == 0) || nvec > max)
		return DEXT_S_INVALID;

	/* stop forwarding before the platform changes its sources */
	__atomic_store_n(&c->irq_kind, DEXT_IRQ_NONE, __ATOMIC_RELEASE);
	st = c->ops->irq_enable(c->plat, kind, nvec);
	if (st != DEXT_S_OK) {
		c->ops->irq_enable(c->plat, DEXT_IRQ_NONE, 0);
		kind = DEXT_IRQ_NONE;
		nvec = 0;
	}
	__atomic_store_n(&c->irq_nvec, nvec, __ATOMIC_RELAXED);
	c->page->kind = kind;
	c->page->nvec = nvec;
	c->page->intx_level = 0;
	for (i = 0; i < DEXT_MAX_MSIX / 64; i++)
		__atomic_store_n(&c->page->pending[i], 0, __ATOMIC_RELAXED);
	__atomic_store_n(&c->irq_kind, kind, __ATOMIC_RELEASE);
	return st;
}

/* IRQ_ARM (MAIN held): keep the client's completion for wakeups. */
int irq_arm(struct dext_session *s, void *completion)
{
	struct dext_core *c = s->core;
	void *old;

	if (!completion)
		return DEXT_S_INVALID;
	c->ops->completion_retain(c->plat, completion);
	core_lock(c, DEXT_LOCK_IRQ);
	old = c->completion;
	c->completion = completion;
	c->completion_client = s->client;
	if (old)
		c->ops->completion_release(c->plat, old);
	core_unlock(c, DEXT_LOCK_IRQ);
	return DEXT_S_OK;
}

void irq_disarm(struct dext_core *c)
{
	core_lock(c, DEXT_LOCK_IRQ);
	if (c->completion)
		c->ops->completion_release(c->plat, c->completion);
	c->completion = 0;
	c->completion_client = 0;
	core_unlock(c, DEXT_LOCK_IRQ);
}

void dext_core_irq(struct dext_core *c, uint32_t kind, uint32_t vector,
		   int level)
{
	struct dext_irq_page *p = c->page;
	uint32_t cur = __atomic_load_n(&c->irq_kind, __ATOMIC_ACQUIRE);
	uint64_t data[2];

	/* late edges of a mode just switched off, or a confused platform */
	if (kind != cur || cur == DEXT_IRQ_NONE ||
	    vector >= __atomic_load_n(&c->irq_nvec, __ATOMIC_RELAXED))
		return;
	if (kind == DEXT_IRQ_INTX)
		__atomic_store_n(&p->intx_level, level ? 1u : 0u,
				 __ATOMIC_RELAXED);
	__atomic_fetch_or(&p->pending[vector / 64], 1ull << (vector % 64),
			  __ATOMIC_RELEASE);
	data[1] = __atomic_add_fetch(&p->seq, 1, __ATOMIC_RELAXED);
	__atomic_fetch_add(&p->raised, 1, __ATOMIC_RELAXED);
	__atomic_fetch_add(&c->st.irqs, 1, __ATOMIC_RELAXED);

	if (!__atomic_exchange_n(&p->wake, 0, __ATOMIC_ACQ_REL))
		return;		/* the client is draining; it will see the bit */
	data[0] = DEXT_ASYNC_IRQ;
	core_lock(c, DEXT_LOCK_IRQ);
	if (c->completion) {
		c->ops->notify(c->plat, c->completion_client, c->completion,
			       data, 2);
		__atomic_fetch_add(&p->wakeups, 1, __ATOMIC_RELAXED);
		__atomic_fetch_add(&c->st.wakeups, 1, __ATOMIC_RELAXED);
	}
	core_unlock(c, DEXT_LOCK_IRQ);
}
