/* SPDX-License-Identifier: (GPL-2.0 OR MIT) */
/*
 * simgpu.c - the simulated GPU function as a PCI function: config space,
 * BAR access, interrupt delivery, reset, and its DART as the hostdev's DMA
 * backend. The registers and the engine are in simgpu_engine.c.
 *
 * Config space is a byte array plus a write mask, as hardware latches
 * bits: what the mask does not allow stays as the function set it, so BAR
 * sizing (write all-ones, read the size mask back) and read-only fields
 * behave as on a real function. The host side (this interface) sees the
 * function "physically": BAR access is not gated by Memory Space Enable
 * (the host driver enabled decoding), DMA is gated by Bus Master Enable.
 */
#include "simgpu_int.h"

static void sg_unlock_raw(struct simgpu *g)
{
	if (g->env.unlock)
		g->env.unlock(g->env.opaque);
}

/* ---- config space ------------------------------------------------------ */

static void put(struct simgpu *g, uint32_t off, unsigned int len,
		uint32_t val, uint32_t wmask)
{
	unsigned int i;

	for (i = 0; i < len; i++) {
		g->cfg_space[off + i] = (uint8_t)(val >> (8 * i));
		g->cfg_wmask[off + i] = (uint8_t)(wmask >> (8 * i));
	}
}

/* Power-on (and FLR) contents; every byte not named here reads 0, RO. */
static void cfg_build(struct simgpu *g)
{
	uint64_t vmask = g->cfg.vram_size - 1;
	uint32_t pcie = SIMGPU_CAP_PCIE, msi = SIMGPU_CAP_MSI;
	uint32_t msix = SIMGPU_CAP_MSIX;

	__builtin_memset(g->cfg_space, 0, sizeof(g->cfg_space));
	__builtin_memset(g->cfg_wmask, 0, sizeof(g->cfg_wmask));

	put(g, CFG_VENDOR, 2, SIMGPU_PCI_VENDOR_ID, 0);
	put(g, CFG_DEVICE, 2, SIMGPU_PCI_DEVICE_ID, 0);
	put(g, SG_CFG_COMMAND, 2, 0,
	    SG_CMD_MEMORY | SG_CMD_MASTER | SG_CMD_INTX_DISABLE);
	put(g, SG_CFG_STATUS, 2, SG_STATUS_CAP_LIST, 0);
	put(g, CFG_REVISION, 1, SIMGPU_PCI_REVISION, 0);
	put(g, CFG_CLASS_PROG, 3, (uint32_t)SIMGPU_PCI_CLASS << 8, 0);
	put(g, CFG_CACHE_LINE, 1, 0, 0xff);
	put(g, CFG_HEADER_TYPE, 1, 0, 0);

	/* BARs: the address bits below the size are hardwired 0 */
	put(g, CFG_BAR(SIMGPU_BAR_REGS), 4, 0,
	    (uint32_t)~(SIMGPU_REGS_SIZE - 1));
	put(g, CFG_BAR(SIMGPU_BAR_VRAM), 4, BAR_MEM_64 | BAR_MEM_PREFETCH,
	    (uint32_t)~vmask & ~0xfu);
	put(g, CFG_BAR(SIMGPU_BAR_VRAM + 1), 4, 0, (uint32_t)~(vmask >> 32));
	put(g, CFG_BAR(SIMGPU_BAR_MSIX), 4, 0,
	    (uint32_t)~(g->msix_bar_size - 1));

	put(g, CFG_SUBSYS_VENDOR, 2, SIMGPU_PCI_VENDOR_ID, 0);
	put(g, CFG_SUBSYS, 2, SIMGPU_PCI_DEVICE_ID, 0);
	put(g, CFG_CAP_PTR, 1, pcie, 0);
	put(g, CFG_INT_LINE, 1, 0, 0xff);
	put(g, CFG_INT_PIN, 1, g->cfg.intx ? 1 : 0, 0);	/* INTA */

	put(g, pcie, 2, CAP_ID_PCIE | msi << 8, 0);
	put(g, pcie + PCIE_FLAGS, 2, 0x2, 0);	/* version 2, endpoint (0) */
	put(g, pcie + PCIE_DEVCAP, 4, PCIE_DEVCAP_RBER | PCIE_DEVCAP_FLR, 0);
	put(g, pcie + PCIE_DEVCTL, 2, PCIE_DEVCTL_DEFAULT, PCIE_DEVCTL_WMASK);
	put(g, pcie + PCIE_LNKCAP, 4, PCIE_LNK_X1_2_5GT, 0);
	put(g, pcie + PCIE_LNKCTL, 2, 0, PCIE_LNKCTL_WMASK);
	put(g, pcie + PCIE_LNKSTA, 2, PCIE_LNK_X1_2_5GT, 0);
	put(g, pcie + PCIE_LNKCAP2, 4, PCIE_LNKCAP2_2_5GT, 0);
	put(g, pcie + PCIE_LNKCTL2, 2, 1, 0);	/* target speed 2.5 GT/s */

	put(g, msi, 2, CAP_ID_MSI | msix << 8, 0);
	put(g, msi + MSI_CTL, 2, MSI_CTL_64 | MSI_CTL_PVM,
	    MSI_CTL_ENABLE | MSI_CTL_MME);
	put(g, msi + MSI_ADDR_LO, 4, 0, ~3u);
	put(g, msi + MSI_ADDR_HI, 4, 0, ~0u);
	put(g, msi + MSI_DATA, 2, 0, 0xffff);
	put(g, msi + MSI_MASK, 4, 0, 1);	/* one vector, one mask bit */

	put(g, msix, 2, CAP_ID_MSIX, 0);	/* last in the list */
	put(g, msix + MSIX_CTL, 2, g->cfg.msix_vectors - 1,
	    MSIX_CTL_MASKALL | MSIX_CTL_ENABLE);
	put(g, msix + MSIX_TABLE, 4, SIMGPU_BAR_MSIX, 0);
	put(g, msix + MSIX_PBA, 4,
	    SIMGPU_MSIX_PBA_OFF(g->cfg.msix_vectors) | SIMGPU_BAR_MSIX, 0);
	/* 0x100: an empty extended capability list (header 0) */
}

/* Every vector masked, address and data 0, nothing pending: reset state. */
static void msix_reset(struct simgpu *g)
{
	uint32_t v;

	__builtin_memset(g->msix, 0, g->msix_bar_size);
	for (v = 0; v < g->cfg.msix_vectors; v++)
		g->msix[v * MSIX_ENTRY_SIZE + MSIX_ENTRY_CTRL] =
			MSIX_CTRL_MASKED;
}

static void irq_clear_pending(struct simgpu *g)
{
	__builtin_memset(g->irq_pending, 0, sizeof(g->irq_pending));
	g->irq_any = false;
}

/* What an FLR resets; the DART and its mappings are not part of it. */
static void function_reset(struct simgpu *g)
{
	g->irq_kind = HOSTDEV_IRQ_NONE;
	g->irq_nvec = 0;
	irq_clear_pending(g);
	cfg_build(g);
	msix_reset(g);
	sg_engine_reset(g);
}

static bool bad_cfg_access(uint32_t off, unsigned int len)
{
	return (len != 1 && len != 2 && len != 4) || (off & (len - 1)) ||
	       off >= HOSTDEV_CFG_SIZE || HOSTDEV_CFG_SIZE - off < len;
}

static int op_config_read(void *dev, uint32_t off, unsigned int len,
			  uint32_t *val)
{
	struct simgpu *g = dev;
	uint32_t v = 0;
	unsigned int i;

	if (bad_cfg_access(off, len) || !val)
		return HOSTDEV_E_INVAL;
	sg_lock(g);
	if (g->closed) {
		sg_unlock(g);
		return HOSTDEV_E_GONE;
	}
	/* Status.Interrupt: the INTx condition, even under INTx Disable */
	if (g->cfg.intx && sg_intx_cause(g) &&
	    g->irq_kind != HOSTDEV_IRQ_MSI && g->irq_kind != HOSTDEV_IRQ_MSIX)
		g->cfg_space[SG_CFG_STATUS] |= SG_STATUS_INTX;
	else
		g->cfg_space[SG_CFG_STATUS] &= (uint8_t)~SG_STATUS_INTX;
	for (i = 0; i < len; i++)
		v |= (uint32_t)g->cfg_space[off + i] << (8 * i);
	sg_unlock(g);
	*val = v;
	return HOSTDEV_OK;
}

static int op_config_write(void *dev, uint32_t off, unsigned int len,
			   uint32_t val)
{
	struct simgpu *g = dev;
	uint32_t devctl = SIMGPU_CAP_PCIE + PCIE_DEVCTL;
	bool flr = false;
	unsigned int i;

	if (bad_cfg_access(off, len))
		return HOSTDEV_E_INVAL;
	sg_lock(g);
	if (g->closed) {
		sg_unlock(g);
		return HOSTDEV_E_GONE;
	}
	for (i = 0; i < len; i++) {
		uint8_t b = (uint8_t)(val >> (8 * i)), m = g->cfg_wmask[off + i];

		g->cfg_space[off + i] = (g->cfg_space[off + i] & ~m) | (b & m);
		/* "Initiate FLR" is write-only: it reads 0 and resets */
		if (off + i == devctl + 1 && (b & (PCIE_DEVCTL_FLR >> 8)))
			flr = true;
	}
	if (flr) {
		function_reset(g);
		g->st.flrs++;
	}
	sg_unlock(g);	/* a change of INTx Disable is delivered here */
	return HOSTDEV_OK;
}

/* ---- BARs -------------------------------------------------------------- */

static uint64_t bar_size(const struct simgpu *g, unsigned int bar)
{
	return bar < HOSTDEV_NUM_BARS ? g->hd.info.bar[bar].size : 0;
}

static bool bad_bar_access(const struct simgpu *g, unsigned int bar,
			   uint64_t off, unsigned int size)
{
	uint64_t bs = bar_size(g, bar);

	return (size != 1 && size != 2 && size != 4 && size != 8) ||
	       (off & (size - 1)) || !bs || off >= bs || bs - off < size;
}

static void store_le(uint8_t *p, unsigned int size, uint64_t v)
{
	unsigned int i;

	for (i = 0; i < size; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t regs_read(struct simgpu *g, uint32_t off, unsigned int size)
{
	uint32_t lo = sg_reg_read(g, off & ~3u);

	if (size == 8)
		return lo | (uint64_t)sg_reg_read(g, off + 4) << 32;
	/* registers read without side effects, so a part of one is fine */
	return (lo >> (8 * (off & 3))) & (size == 4 ? ~0u : (1u << (8 * size)) - 1);
}

static int op_bar_read(void *dev, unsigned int bar, uint64_t off,
		       unsigned int size, uint64_t *val)
{
	struct simgpu *g = dev;

	if (bad_bar_access(g, bar, off, size) || !val)
		return HOSTDEV_E_INVAL;
	sg_lock(g);
	if (g->closed) {
		sg_unlock(g);
		return HOSTDEV_E_GONE;
	}
	if (bar == SIMGPU_BAR_REGS)
		*val = regs_read(g, (uint32_t)off, size);
	else if (bar == SIMGPU_BAR_VRAM)
		*val = sg_load_le(g->vram + off, size);
	else
		*val = sg_load_le(g->msix + off, size);
	sg_unlock(g);
	return HOSTDEV_OK;
}

static int op_bar_write(void *dev, unsigned int bar, uint64_t off,
			unsigned int size, uint64_t val)
{
	struct simgpu *g = dev;
	bool kick = false;

	if (bad_bar_access(g, bar, off, size))
		return HOSTDEV_E_INVAL;
	/* registers take whole dwords: a byte write to a doorbell means nothing */
	if (bar == SIMGPU_BAR_REGS && size < 4)
		return HOSTDEV_E_INVAL;
	sg_lock(g);
	if (g->closed) {
		sg_unlock(g);
		return HOSTDEV_E_GONE;
	}
	if (bar == SIMGPU_BAR_REGS) {
		kick = sg_reg_write(g, (uint32_t)off, (uint32_t)val);
		if (size == 8)
			kick |= sg_reg_write(g, (uint32_t)off + 4,
					     (uint32_t)(val >> 32));
	} else if (bar == SIMGPU_BAR_VRAM) {
		store_le(g->vram + off, size, val);
	} else if (off < SIMGPU_MSIX_PBA_OFF(g->cfg.msix_vectors)) {
		store_le(g->msix + off, size, val);
	}	/* the PBA is read-only */
	sg_unlock(g);
	if (kick && g->env.kick)
		g->env.kick(g->env.opaque);
	return HOSTDEV_OK;
}

/* ---- interrupts -------------------------------------------------------- */

bool sg_intx_cause(const struct simgpu *g)
{
	return (g->irq_status & ~g->irq_mask) != 0;
}

static bool intx_wanted(const struct simgpu *g)
{
	return g->irq_kind == HOSTDEV_IRQ_INTX &&
	       !(sg_cfg16(g, SG_CFG_COMMAND) & SG_CMD_INTX_DISABLE) &&
	       sg_intx_cause(g);
}

void sg_irq_raise(struct simgpu *g, uint32_t vector)
{
	if (g->irq_kind == HOSTDEV_IRQ_INTX)
		return;		/* the level follows IRQ_STATUS: sg_unlock() */
	if (g->irq_kind == HOSTDEV_IRQ_MSI)
		vector = 0;
	if (g->irq_kind == HOSTDEV_IRQ_NONE || vector >= g->irq_nvec) {
		g->st.irqs_dropped++;
		return;
	}
	g->irq_pending[vector / 64] |= 1ull << (vector % 64);
	g->irq_any = true;
}

static unsigned int bits_set(uint64_t w)
{
	unsigned int n = 0;

	for (; w; w &= w - 1)
		n++;
	return n;
}

void sg_unlock(struct simgpu *g)
{
	uint64_t vec[HOSTDEV_MAX_MSIX / 64];

	/* another thread is delivering: it picks up what we raised */
	if (g->irq_busy || g->closed || !g->hd.irq) {
		sg_unlock_raw(g);
		return;
	}
	g->irq_busy = true;
	for (;;) {
		bool level = intx_wanted(g), intx = level != g->intx_sent;
		enum hostdev_irq_kind kind = g->irq_kind;
		bool any = g->irq_any;
		uint32_t w, b;

		if (!intx && !any)
			break;
		g->intx_sent = level;
		g->st.irqs += intx && level;
		if (any) {
			for (w = 0; w < HOSTDEV_MAX_MSIX / 64; w++)
				g->st.irqs += bits_set(g->irq_pending[w]);
			__builtin_memcpy(vec, g->irq_pending, sizeof(vec));
			irq_clear_pending(g);
		}
		sg_unlock_raw(g);
		if (intx)
			g->hd.irq(g->hd.irq_opaque, HOSTDEV_IRQ_INTX, 0, level);
		for (w = 0; any && w < HOSTDEV_MAX_MSIX / 64; w++)
			for (b = 0; b < 64 && vec[w] >> b; b++)
				if ((vec[w] >> b) & 1)
					g->hd.irq(g->hd.irq_opaque, kind,
						  w * 64 + b, 1);
		sg_lock(g);
		if (g->closed)
			break;
	}
	g->irq_busy = false;
	sg_unlock_raw(g);
}

static int op_irq_set(void *dev, enum hostdev_irq_kind kind, uint32_t nvec)
{
	struct simgpu *g = dev;
	uint32_t msi = SIMGPU_CAP_MSI + MSI_CTL, msix = SIMGPU_CAP_MSIX + MSIX_CTL;
	uint16_t msictl, msixctl;

	if (kind == HOSTDEV_IRQ_NONE)
		nvec = 0;
	else if (kind == HOSTDEV_IRQ_INTX && !g->cfg.intx)
		return HOSTDEV_E_NOTSUP;
	else if ((kind == HOSTDEV_IRQ_INTX || kind == HOSTDEV_IRQ_MSI) &&
		 nvec != 1)
		return HOSTDEV_E_INVAL;
	else if (kind == HOSTDEV_IRQ_MSIX &&
		 (!nvec || nvec > g->cfg.msix_vectors))
		return HOSTDEV_E_INVAL;
	else if (kind != HOSTDEV_IRQ_INTX && kind != HOSTDEV_IRQ_MSI &&
		 kind != HOSTDEV_IRQ_MSIX)
		return HOSTDEV_E_INVAL;
	if (kind != HOSTDEV_IRQ_NONE && !g->hd.irq)
		return HOSTDEV_E_INVAL;	/* no callback to deliver to */
	sg_lock(g);
	if (g->closed) {
		sg_unlock(g);
		return HOSTDEV_E_GONE;
	}
	g->irq_kind = kind;
	g->irq_nvec = nvec;
	irq_clear_pending(g);
	/* as the host's driver would, enable the capability in use */
	msictl = sg_cfg16(g, msi) & (uint16_t)~MSI_CTL_ENABLE;
	msixctl = sg_cfg16(g, msix) & (uint16_t)~MSIX_CTL_ENABLE;
	if (kind == HOSTDEV_IRQ_MSI)
		msictl |= MSI_CTL_ENABLE;
	if (kind == HOSTDEV_IRQ_MSIX)
		msixctl |= MSIX_CTL_ENABLE;
	put(g, msi, 2, msictl, MSI_CTL_ENABLE | MSI_CTL_MME);
	put(g, msix, 2, msixctl, MSIX_CTL_MASKALL | MSIX_CTL_ENABLE);
	sg_unlock(g);	/* INTx already asserted is delivered now */
	return HOSTDEV_OK;
}

/* ---- reset, close ------------------------------------------------------ */

static int op_reset(void *dev, uint32_t how, uint32_t *done)
{
	struct simgpu *g = dev;
	uint32_t ran;

	if (!done || !how || (how & ~(HOSTDEV_RESET_FLR | HOSTDEV_RESET_BUS)))
		return HOSTDEV_E_INVAL;
	ran = how & HOSTDEV_RESET_FLR ? HOSTDEV_RESET_FLR : HOSTDEV_RESET_BUS;
	sg_lock(g);
	if (g->closed) {
		sg_unlock(g);
		return HOSTDEV_E_GONE;
	}
	/* one function on its bus: both reset the same state */
	function_reset(g);
	if (ran == HOSTDEV_RESET_FLR)
		g->st.flrs++;
	else
		g->st.bus_resets++;
	sg_unlock(g);
	*done = ran;
	return HOSTDEV_OK;
}

static void op_close(void *dev)
{
	struct simgpu *g = dev;

	sg_lock(g);
	g->closed = true;
	g->irq_kind = HOSTDEV_IRQ_NONE;
	irq_clear_pending(g);
	sg_unlock(g);
}

static const struct hostdev_ops simgpu_hostdev_ops = {
	.config_read = op_config_read,
	.config_write = op_config_write,
	.bar_read = op_bar_read,
	.bar_write = op_bar_write,
	.irq_set = op_irq_set,
	.reset = op_reset,
	.close = op_close,
};

/* ---- DMA backend: the DART, under env.lock ----------------------------- */

/* the DART unmaps by segments: no cookie */
static int be_map(void *be, uint64_t addr, uint64_t len, unsigned int dir,
		  struct adma_seg *seg, unsigned int max_segs,
		  unsigned int *nsegs, uint64_t *cookie)
{
	struct simgpu *g = be;
	int st;

	(void)cookie;
	sg_lock(g);
	st = dartsim_map(g->dart, addr, len, dir, seg, max_segs, nsegs);
	sg_unlock(g);
	return st;
}

static void be_unmap(void *be, const struct adma_seg *seg, unsigned int nsegs,
		     uint64_t cookie)
{
	struct simgpu *g = be;

	(void)cookie;
	sg_lock(g);
	dartsim_unmap(g->dart, seg, nsegs);
	sg_unlock(g);
}

static const struct adma_backend_ops simgpu_dma_ops = {
	.map = be_map,
	.unmap = be_unmap,
};

/* ---- setup ------------------------------------------------------------- */

static bool apply_defaults(struct simgpu_config *c)
{
	if (!c->vram_size)
		c->vram_size = SIMGPU_VRAM_DEFAULT;
	if (!c->msix_vectors)
		c->msix_vectors = SIMGPU_MSIX_DEFAULT;
	return c->vram_size >= DARTSIM_PAGE_SIZE &&
	       !(c->vram_size & (c->vram_size - 1)) &&
	       c->msix_vectors <= HOSTDEV_MAX_MSIX &&
	       (c->dma_addr == HOSTDEV_DMA_GPA ||
		c->dma_addr == HOSTDEV_DMA_HVA);
}

/* Table plus PBA, rounded up to a power of two of at least 4 KiB. */
static uint64_t msix_bar_bytes(uint32_t nvec)
{
	uint64_t end = SIMGPU_MSIX_PBA_OFF(nvec) + (nvec + 63) / 64 * 8;
	uint64_t size = 4096;

	while (size < end)
		size <<= 1;
	return size;
}

size_t simgpu_size(const struct simgpu_config *cfg)
{
	struct simgpu_config c = *cfg;

	if (!apply_defaults(&c))
		return 0;
	return sizeof(struct simgpu) + (size_t)msix_bar_bytes(c.msix_vectors) +
	       dartsim_size(&c.dart);
}

struct simgpu *simgpu_init(void *mem, const struct simgpu_config *cfg,
			   const struct simgpu_env *env, void *vram)
{
	struct simgpu *g = mem;
	struct simgpu_config c = *cfg;
	struct hostdev_info *info;

	if (!mem || ((uintptr_t)mem & 7) || !vram || !env || !env->dma_read ||
	    !env->dma_write || !apply_defaults(&c) ||
	    !!env->lock != !!env->unlock)
		return 0;
	__builtin_memset(g, 0, sizeof(*g));
	g->cfg = c;
	g->env = *env;
	g->vram = vram;
	g->msix_bar_size = msix_bar_bytes(c.msix_vectors);
	g->msix = (uint8_t *)(g + 1);
	g->dart = dartsim_init(g->msix + g->msix_bar_size, &c.dart);
	if (!g->dart)
		return 0;

	g->hd.ops = &simgpu_hostdev_ops;
	g->hd.dev = g;
	g->hd.dma_ops = &simgpu_dma_ops;
	g->hd.dma_be = g;
	info = &g->hd.info;
	info->cfg_size = HOSTDEV_CFG_SIZE;
	info->resets = HOSTDEV_RESET_FLR | HOSTDEV_RESET_BUS;
	info->dma_addr = c.dma_addr;
	/* the limits the DART enforces, its defaults filled in */
	info->max_bytes = dartsim_config(g->dart)->max_bytes;
	info->max_maps = dartsim_config(g->dart)->max_maps;
	info->bar[SIMGPU_BAR_REGS].size = SIMGPU_REGS_SIZE;
	info->bar[SIMGPU_BAR_VRAM].size = c.vram_size;
	info->bar[SIMGPU_BAR_VRAM].flags = HOSTDEV_BAR_64 |
					   HOSTDEV_BAR_PREFETCH;
	info->bar[SIMGPU_BAR_VRAM].ptr = vram;
	info->bar[SIMGPU_BAR_MSIX].size = g->msix_bar_size;
	__builtin_memcpy(info->name, "simgpu", sizeof("simgpu"));

	function_reset(g);
	return g;
}

struct hostdev *simgpu_hostdev(struct simgpu *g)
{
	return &g->hd;
}

const struct simgpu_stats *simgpu_stats(const struct simgpu *g)
{
	return &g->st;
}

struct dartsim *simgpu_dart(struct simgpu *g)
{
	return g->dart;
}
