/* SPDX-License-Identifier: (GPL-2.0 OR MIT) */
/*
 * simgpu_engine.c - simgpu's BAR0 registers and its command engine.
 *
 * Every access the engine makes to system memory is translated by the
 * function's DART one 16 KiB page at a time, exactly when it is made, as a
 * device's DMA is: a transfer that crosses into an unmapped page faults
 * there, after the pages before it were moved. A fault (or any other
 * error) stops the engine with the ring head on the failing command until
 * the driver writes CONTROL_RESET. Runs with env.lock held throughout.
 */
#include "simgpu_int.h"

#define CMD_SIZE	((uint64_t)sizeof(struct simgpu_cmd))
#define RING_MAX	65536u
#define PAGE		DARTSIM_PAGE_SIZE

void sg_engine_reset(struct simgpu *g)
{
	g->enabled = false;
	g->error = SIMGPU_ERR_NONE;
	g->fault = 0;
	g->scratch = 0;
	g->ring_base = 0;
	g->ring_size = 0;
	g->head = 0;
	g->tail = 0;
	g->fence = 0;
	g->irq_status = 0;
	g->irq_mask = 0;
	g->done = 0;
	g->faults = 0;
}

static bool ring_valid(const struct simgpu *g)
{
	uint32_t n = g->ring_size;

	return n >= 2 && n <= RING_MAX && !(n & (n - 1)) &&
	       !(g->ring_base & (CMD_SIZE - 1)) &&
	       g->ring_base + n * CMD_SIZE > g->ring_base &&
	       g->head < n && g->tail < n;
}

static bool runnable(const struct simgpu *g)
{
	return g->enabled && g->error == SIMGPU_ERR_NONE && g->head != g->tail;
}

/* ---- errors -------------------------------------------------------------- */

static unsigned int append(char *buf, unsigned int n, unsigned int cap,
			   const char *s)
{
	while (*s && n + 1 < cap)
		buf[n++] = *s++;
	return n;
}

static unsigned int append_hex(char *buf, unsigned int n, unsigned int cap,
			       uint64_t v)
{
	int shift = 60;

	n = append(buf, n, cap, "0x");
	while (shift > 0 && !(v >> shift))
		shift -= 4;
	for (; shift >= 0 && n + 1 < cap; shift -= 4)
		buf[n++] = "0123456789abcdef"[(v >> shift) & 0xf];
	return n;
}

/* Stop the engine (the first error stays), raise ERROR on vector 0, log. */
static void stop(struct simgpu *g, uint32_t err, uint64_t fault,
		 const char *what)
{
	char line[96];
	unsigned int n;

	if (g->error != SIMGPU_ERR_NONE)
		return;
	g->error = err;
	g->fault = fault;
	g->irq_status |= SIMGPU_IRQ_ERROR;
	g->st.errors++;
	sg_irq_raise(g, 0);
	if (!g->env.log)
		return;
	n = append(line, 0, sizeof(line), "simgpu: ");
	n = append(line, n, sizeof(line), what);
	n = append(line, n, sizeof(line), " ");
	n = append_hex(line, n, sizeof(line), fault);
	line[n] = 0;
	g->env.log(g->env.opaque, line);
}

/* ---- registers ----------------------------------------------------------- */

uint32_t sg_reg_read(struct simgpu *g, uint32_t off)
{
	switch (off) {
	case SIMGPU_REG_ID:
		return SIMGPU_ID_VALUE;
	case SIMGPU_REG_VERSION:
		return SIMGPU_VERSION_VALUE;
	case SIMGPU_REG_VRAM_LO:
		return (uint32_t)g->cfg.vram_size;
	case SIMGPU_REG_VRAM_HI:
		return (uint32_t)(g->cfg.vram_size >> 32);
	case SIMGPU_REG_MSIX_VECS:
		return g->cfg.msix_vectors;
	case SIMGPU_REG_STATUS:
		return (g->enabled ? SIMGPU_STATUS_ENABLED : 0) |
		       (g->head != g->tail ? SIMGPU_STATUS_BUSY : 0) |
		       (g->error ? SIMGPU_STATUS_ERROR : 0);
	case SIMGPU_REG_ERROR:
		return g->error;
	case SIMGPU_REG_FAULT_LO:
		return (uint32_t)g->fault;
	case SIMGPU_REG_FAULT_HI:
		return (uint32_t)(g->fault >> 32);
	case SIMGPU_REG_SCRATCH:
		return g->scratch;
	case SIMGPU_REG_RING_LO:
		return (uint32_t)g->ring_base;
	case SIMGPU_REG_RING_HI:
		return (uint32_t)(g->ring_base >> 32);
	case SIMGPU_REG_RING_SIZE:
		return g->ring_size;
	case SIMGPU_REG_RING_HEAD:
		return g->head;
	case SIMGPU_REG_FENCE_LO:
		return (uint32_t)g->fence;
	case SIMGPU_REG_FENCE_HI:
		return (uint32_t)(g->fence >> 32);
	case SIMGPU_REG_IRQ_STATUS:
		return g->irq_status;
	case SIMGPU_REG_IRQ_MASK:
		return g->irq_mask;
	case SIMGPU_REG_DONE:
		return g->done;
	case SIMGPU_REG_FAULTS:
		return g->faults;
	default:
		return 0;	/* write-only and unassigned offsets */
	}
}

bool sg_reg_write(struct simgpu *g, uint32_t off, uint32_t val)
{
	const uint32_t irqs = SIMGPU_IRQ_FENCE | SIMGPU_IRQ_ERROR;

	switch (off) {
	case SIMGPU_REG_SCRATCH:
		g->scratch = val;
		break;
	case SIMGPU_REG_RING_LO:
		g->ring_base = (g->ring_base & ~0xffffffffull) | val;
		break;
	case SIMGPU_REG_RING_HI:
		g->ring_base = (g->ring_base & 0xffffffffull) |
			       (uint64_t)val << 32;
		break;
	case SIMGPU_REG_RING_SIZE:
		g->ring_size = val;
		break;
	case SIMGPU_REG_RING_TAIL:
		g->st.doorbells++;
		if (val >= g->ring_size || !ring_valid(g)) {
			stop(g, SIMGPU_ERR_BAD_RING, g->ring_base,
			     "bad ring at doorbell, base");
			return false;
		}
		g->tail = val;
		return true;
	case SIMGPU_REG_CONTROL:
		if (val & SIMGPU_CONTROL_RESET) {
			g->enabled = false;
			g->head = 0;
			g->tail = 0;
			g->error = SIMGPU_ERR_NONE;
			g->fault = 0;
		}
		if (val & SIMGPU_CONTROL_ENABLE) {
			g->enabled = true;
			return runnable(g);
		}
		break;
	case SIMGPU_REG_IRQ_STATUS:
		g->irq_status &= ~val;	/* RW1C; INTx drops in sg_unlock() */
		break;
	case SIMGPU_REG_IRQ_MASK:
		g->irq_mask = val & irqs;
		break;
	default:
		break;		/* read-only and unassigned: ignored */
	}
	return false;
}

/* ---- DMA through the DART ------------------------------------------------ */

static int dart_fault(struct simgpu *g, uint64_t iova, unsigned int acc)
{
	g->faults++;
	g->st.dart_faults++;
	stop(g, SIMGPU_ERR_DART_FAULT, iova,
	     acc == DARTSIM_ACC_READ ? "DART fault reading IOVA"
				     : "DART fault writing IOVA");
	return -1;
}

/*
 * Move len bytes between buf and system memory at iova (acc READ: into
 * buf), page by page. A translation the DART refuses, or an address it
 * gives that the embedder says is not memory, is a DART fault.
 */
static int sys_access(struct simgpu *g, uint64_t iova, uint8_t *buf,
		      uint64_t len, unsigned int acc)
{
	while (len) {
		uint64_t addr, avail, n;
		int bad;

		if (dartsim_translate(g->dart, iova, acc, &addr, &avail))
			return dart_fault(g, iova, acc);
		n = avail < len ? avail : len;
		if (acc == DARTSIM_ACC_READ)
			bad = g->env.dma_read(g->env.opaque, addr, buf, n);
		else
			bad = g->env.dma_write(g->env.opaque, addr, buf, n);
		if (bad)
			return dart_fault(g, iova, acc);
		iova += n;
		buf += n;
		len -= n;
	}
	return 0;
}

/* memmove within VRAM, without libc: copy in steps that never overlap. */
static void vram_move(uint8_t *vram, uint64_t dst, uint64_t src, uint64_t len)
{
	uint64_t d, n;

	if (dst == src || !len)
		return;
	d = dst > src ? dst - src : src - dst;
	if (d >= len) {
		__builtin_memcpy(vram + dst, vram + src, len);
	} else if (dst < src) {
		for (; len; dst += n, src += n, len -= n) {
			n = len < d ? len : d;
			__builtin_memcpy(vram + dst, vram + src, n);
		}
	} else {
		for (; len; len -= n) {
			n = len < d ? len : d;
			__builtin_memcpy(vram + dst + len - n, vram + src + len - n,
					 n);
		}
	}
}

/* ---- commands ------------------------------------------------------------ */

static void cmd_decode(struct simgpu_cmd *c, const uint8_t *raw)
{
	c->op = (uint32_t)sg_load_le(raw + 0, 4);
	c->flags = (uint32_t)sg_load_le(raw + 4, 4);
	c->src = sg_load_le(raw + 8, 8);
	c->dst = sg_load_le(raw + 16, 8);
	c->len = sg_load_le(raw + 24, 8);
	c->value = sg_load_le(raw + 32, 8);
	c->fence_addr = sg_load_le(raw + 40, 8);
	c->vector = (uint32_t)sg_load_le(raw + 48, 4);
	c->rsvd[0] = (uint32_t)sg_load_le(raw + 52, 4);
	c->rsvd[1] = (uint32_t)sg_load_le(raw + 56, 4);
	c->rsvd[2] = (uint32_t)sg_load_le(raw + 60, 4);
}

static bool vram_bad(const struct simgpu *g, uint64_t off, uint64_t len)
{
	return off > g->cfg.vram_size || len > g->cfg.vram_size - off;
}

/* Check one end of a COPY/FILL; 0 if it may be used. */
static int check_end(struct simgpu *g, bool vram, uint64_t a, uint64_t len,
		     uint64_t at)
{
	if (vram && vram_bad(g, a, len)) {
		stop(g, SIMGPU_ERR_VRAM_RANGE, a, "VRAM range error at offset");
		return -1;
	}
	if (!vram && a + len < a) {
		stop(g, SIMGPU_ERR_BAD_CMD, at, "IOVA range wraps, command at");
		return -1;
	}
	return 0;
}

static int do_copy(struct simgpu *g, const struct simgpu_cmd *c, uint64_t at)
{
	bool sv = c->flags & SIMGPU_CMD_SRC_VRAM, dv = c->flags & SIMGPU_CMD_DST_VRAM;
	uint64_t len = c->len, done, n;

	if (check_end(g, sv, c->src, len, at) ||
	    check_end(g, dv, c->dst, len, at))
		return -1;
	if (sv && dv) {
		vram_move(g->vram, c->dst, c->src, len);
		return 0;
	}
	if (sv) {
		if (sys_access(g, c->dst, g->vram + c->src, len,
			       DARTSIM_ACC_WRITE))
			return -1;
		g->st.bytes_out += len;
		return 0;
	}
	if (dv) {
		if (sys_access(g, c->src, g->vram + c->dst, len,
			       DARTSIM_ACC_READ))
			return -1;
		g->st.bytes_in += len;
		return 0;
	}
	for (done = 0; done < len; done += n) {
		n = len - done < PAGE ? len - done : PAGE;
		if (sys_access(g, c->src + done, g->bounce, n,
			       DARTSIM_ACC_READ) ||
		    sys_access(g, c->dst + done, g->bounce, n,
			       DARTSIM_ACC_WRITE))
			return -1;
		g->st.bytes_in += n;
		g->st.bytes_out += n;
	}
	return 0;
}

static int do_fill(struct simgpu *g, const struct simgpu_cmd *c, uint64_t at)
{
	bool dv = c->flags & SIMGPU_CMD_DST_VRAM;
	uint64_t len = c->len, done, n, i;

	if (check_end(g, dv, c->dst, len, at))
		return -1;
	/* byte i of the fill is byte i % 4 of the value; chunks are whole
	 * pages, so every chunk starts at byte 0 of the pattern */
	for (i = 0; i < PAGE; i++)
		g->bounce[i] = (uint8_t)(c->value >> (8 * (i % 4)));
	for (done = 0; done < len; done += n) {
		n = len - done < PAGE ? len - done : PAGE;
		if (dv) {
			__builtin_memcpy(g->vram + c->dst + done, g->bounce, n);
		} else {
			if (sys_access(g, c->dst + done, g->bounce, n,
				       DARTSIM_ACC_WRITE))
				return -1;
			g->st.bytes_out += n;
		}
	}
	return 0;
}

static int do_fence(struct simgpu *g, const struct simgpu_cmd *c)
{
	uint8_t v[8];
	unsigned int i;

	for (i = 0; i < 8; i++)
		v[i] = (uint8_t)(c->value >> (8 * i));
	if (sys_access(g, c->fence_addr, v, 8, DARTSIM_ACC_WRITE))
		return -1;
	g->fence = c->value;
	g->irq_status |= SIMGPU_IRQ_FENCE;
	g->st.fences++;
	if (c->flags & SIMGPU_CMD_IRQ)
		sg_irq_raise(g, c->vector);
	return 0;
}

/* The flags each op accepts. */
static uint32_t op_flags(uint32_t op)
{
	switch (op) {
	case SIMGPU_OP_NOP:
		return 0;
	case SIMGPU_OP_COPY:
		return SIMGPU_CMD_SRC_VRAM | SIMGPU_CMD_DST_VRAM;
	case SIMGPU_OP_FILL:
		return SIMGPU_CMD_DST_VRAM;
	default:
		return SIMGPU_CMD_IRQ;
	}
}

/* Execute one command read from at; 0, or -1 with the engine stopped. */
static int exec(struct simgpu *g, const struct simgpu_cmd *c, uint64_t at,
		uint64_t *cost)
{
	bool xfer = c->op == SIMGPU_OP_COPY || c->op == SIMGPU_OP_FILL;

	if (c->op > SIMGPU_OP_FENCE || (c->flags & ~op_flags(c->op)) ||
	    c->rsvd[0] || c->rsvd[1] || c->rsvd[2] ||
	    (xfer && c->len > SIMGPU_MAX_XFER) ||
	    (c->op == SIMGPU_OP_FENCE && (c->fence_addr & 7)) ||
	    (c->op == SIMGPU_OP_FENCE && (c->flags & SIMGPU_CMD_IRQ) &&
	     c->vector >= g->cfg.msix_vectors)) {
		stop(g, SIMGPU_ERR_BAD_CMD, at, "bad command at IOVA");
		return -1;
	}
	if (xfer)
		*cost += c->len;
	switch (c->op) {
	case SIMGPU_OP_COPY:
		return do_copy(g, c, at);
	case SIMGPU_OP_FILL:
		return do_fill(g, c, at);
	case SIMGPU_OP_FENCE:
		return do_fence(g, c);
	default:
		return 0;
	}
}

bool simgpu_run(struct simgpu *g, uint64_t budget)
{
	uint64_t moved = 0;
	bool more;

	sg_lock(g);
	while (!g->closed && runnable(g)) {
		uint64_t at = g->ring_base + g->head * CMD_SIZE, cost = CMD_SIZE;
		struct simgpu_cmd c;
		uint8_t raw[sizeof(struct simgpu_cmd)];

		if (!ring_valid(g)) {
			stop(g, SIMGPU_ERR_BAD_RING, g->ring_base,
			     "bad ring, base");
			break;
		}
		if (!(sg_cfg16(g, SG_CFG_COMMAND) & SG_CMD_MASTER)) {
			stop(g, SIMGPU_ERR_NO_BME, at,
			     "DMA with bus mastering off, command at");
			break;
		}
		if (sys_access(g, at, raw, CMD_SIZE, DARTSIM_ACC_READ))
			break;
		cmd_decode(&c, raw);
		if (exec(g, &c, at, &cost))
			break;
		g->head = (g->head + 1) & (g->ring_size - 1);
		g->done++;
		g->st.cmds++;
		moved += cost;
		if (budget && moved >= budget)
			break;
	}
	more = !g->closed && runnable(g);
	sg_unlock(g);
	return more;
}
