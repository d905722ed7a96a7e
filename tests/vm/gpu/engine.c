// SPDX-License-Identifier: GPL-2.0
/*
 * engine.c - simgpu's command ring as its driver uses it.
 *
 * Commands are written into the coherent ring; nothing is submitted until a
 * fence: sgt_fence() appends FENCE+IRQ, writes the doorbell (RING_TAIL) once,
 * and sleeps until the fence's MSI-X interrupt. Then the engine has consumed
 * everything written so far, so at most one fence is ever outstanding, a
 * completion is enough to wait on, and the ring never holds stale entries.
 * A ring about to fill is drained with a fence of its own.
 */
#include <linux/io.h>
#include <linux/jiffies.h>
#include <linux/ktime.h>
#include <linux/string.h>

#include "simgpu_test.h"

static u64 sgt_read64(struct sgt_dev *g, unsigned int lo)
{
	return readl(g->regs + lo) | (u64)readl(g->regs + lo + 4) << 32;
}

/*
 * The engine's state after a stop: 0 if it runs cleanly, else -EIO with
 * the error and faulting address logged (the run reports them too).
 */
int sgt_engine_check(struct sgt_dev *g, const char *when)
{
	u32 st = readl(g->regs + SIMGPU_REG_STATUS);

	if (!(st & SIMGPU_STATUS_ERROR) && (st & SIMGPU_STATUS_ENABLED))
		return 0;
	g->stop_error = readl(g->regs + SIMGPU_REG_ERROR);
	g->stop_fault = sgt_read64(g, SIMGPU_REG_FAULT_LO);
	dev_err(&g->pdev->dev,
		"engine stopped %s: status %#x error %u fault %#llx head %u done %u faults %u\n",
		when, st, g->stop_error, g->stop_fault,
		readl(g->regs + SIMGPU_REG_RING_HEAD),
		readl(g->regs + SIMGPU_REG_DONE),
		readl(g->regs + SIMGPU_REG_FAULTS));
	return -EIO;
}

/* Reset the engine, program the ring (again: a reset forgets it), enable. */
int sgt_engine_start(struct sgt_dev *g)
{
	writel(SIMGPU_CONTROL_RESET, g->regs + SIMGPU_REG_CONTROL);
	memset(g->ring, 0, SGT_RING_ENTRIES * sizeof(*g->ring));
	writel(lower_32_bits(g->ring_dma), g->regs + SIMGPU_REG_RING_LO);
	writel(upper_32_bits(g->ring_dma), g->regs + SIMGPU_REG_RING_HI);
	writel(SGT_RING_ENTRIES, g->regs + SIMGPU_REG_RING_SIZE);
	writel(~0u, g->regs + SIMGPU_REG_IRQ_STATUS);
	writel(SIMGPU_CONTROL_ENABLE, g->regs + SIMGPU_REG_CONTROL);
	atomic_set(&g->engine_error, 0);
	g->tail = readl(g->regs + SIMGPU_REG_RING_HEAD);
	g->queued = 0;
	if (g->tail >= SGT_RING_ENTRIES) {
		dev_err(&g->pdev->dev, "ring head %u after reset\n", g->tail);
		return -EIO;
	}
	return sgt_engine_check(g, "at start");
}

void sgt_engine_stop(struct sgt_dev *g)
{
	writel(SIMGPU_CONTROL_RESET, g->regs + SIMGPU_REG_CONTROL);
}

u64 sgt_irqs_total(struct sgt_dev *g)
{
	u64 n = 0;
	int i;

	for (i = 0; i < g->nvec; i++)
		n += atomic64_read(&g->irqs[i]);
	return n;
}

static void sgt_write_cmd(struct sgt_dev *g, const struct simgpu_cmd *c)
{
	g->ring[g->tail] = *c;
	g->tail = (g->tail + 1) & (SGT_RING_ENTRIES - 1);
	g->queued++;
	g->cnt.cmds++;
}

int sgt_push(struct sgt_dev *g, u32 op, u32 flags, u64 src, u64 dst,
	     u64 len, u64 value)
{
	struct simgpu_cmd c = {
		.op = op, .flags = flags, .src = src, .dst = dst,
		.len = len, .value = value,
	};
	int ret;

	/* keep one entry for the fence, one free (full != empty) */
	if (g->queued >= SGT_RING_ENTRIES - 2) {
		ret = sgt_fence(g);
		if (ret)
			return ret;
	}
	sgt_write_cmd(g, &c);
	return 0;
}

int sgt_fence(struct sgt_dev *g)
{
	struct device *dev = &g->pdev->dev;
	struct simgpu_cmd c = {
		.op = SIMGPU_OP_FENCE,
		.flags = SIMGPU_CMD_IRQ,
		.value = g->seq + 1,
		.fence_addr = g->fence_dma,
	};
	unsigned long left;
	ktime_t t0;
	u64 seen;

	/* fences rotate over vectors 1..nvec-1; vector 0 if it is alone */
	if (g->nvec > 1) {
		c.vector = 1 + g->next_vec;
		g->next_vec = (g->next_vec + 1) % (g->nvec - 1);
	}
	sgt_write_cmd(g, &c);
	g->seq++;
	reinit_completion(&g->done);
	t0 = ktime_get();
	/* writel orders the ring's (coherent) writes before the doorbell */
	writel(g->tail, g->regs + SIMGPU_REG_RING_TAIL);
	left = wait_for_completion_timeout(&g->done,
					   msecs_to_jiffies(g->timeout_ms));
	g->cnt.engine_ns += ktime_to_ns(ktime_sub(ktime_get(), t0));
	g->queued = 0;
	if (atomic_read(&g->engine_error))
		return sgt_engine_check(g, "with an error interrupt") ?: -EIO;
	if (!left) {
		dev_err(dev, "fence %llu: no interrupt in %u ms (fence page %llu, register %llu)\n",
			g->seq, g->timeout_ms, READ_ONCE(*g->fence),
			sgt_read64(g, SIMGPU_REG_FENCE_LO));
		sgt_engine_check(g, "at the timeout");
		return -ETIMEDOUT;
	}
	seen = READ_ONCE(*g->fence);
	if (seen != g->seq) {
		dev_err(dev, "fence interrupt, but the fence page holds %llu, not %llu\n",
			seen, g->seq);
		return -EIO;
	}
	g->cnt.fences++;
	return 0;
}
