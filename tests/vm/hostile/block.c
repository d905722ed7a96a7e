// SPDX-License-Identifier: GPL-2.0
/*
 * block.c - adma_hostile: command blocks built by hand, as apple_dma.h
 * lays them out, the doorbell rung on them, and the "leave" test (maps
 * left behind for the next driver).
 */
#include <linux/gfp.h>
#include <linux/io.h>
#include <linux/slab.h>

#include "hostile.h"

int hst_block_alloc(struct hst_block *b, u32 cap)
{
	size_t req_off = ALIGN(sizeof(struct adma_cmd), 64);
	size_t resp_off = req_off + cap * sizeof(struct adma_req);
	void *p = kzalloc(resp_off + cap * sizeof(struct adma_resp), GFP_KERNEL);

	if (!p)
		return -ENOMEM;
	b->cmd = p;
	b->req = p + req_off;
	b->resp = p + resp_off;
	b->cap = cap;
	return 0;
}

void hst_block_free(struct hst_block *b)
{
	kfree(b->cmd);
	b->cmd = NULL;
}

static void hst_header(struct hst_block *b, u32 n)
{
	struct adma_cmd *cmd = b->cmd;

	cmd->magic = cpu_to_le32(ADMA_CMD_MAGIC);
	cmd->version = cpu_to_le16(ADMA_VERSION_MAJOR);
	cmd->rsvd = 0;
	cmd->count = cpu_to_le32(n);
	cmd->req_gpa = cpu_to_le64(virt_to_phys(b->req));
	cmd->resp_gpa = cpu_to_le64(virt_to_phys(b->resp));
	hst_rearm(b);
}

void hst_rearm(struct hst_block *b)
{
	b->cmd->status = 0;
	b->cmd->done = 0;
	b->cmd->failed = 0;
	memset(b->resp, 0, le32_to_cpu(b->cmd->count) * sizeof(*b->resp));
}

void hst_fill_map(struct hst_block *b, u32 n, u64 gpa, u64 len)
{
	u32 i;

	for (i = 0; i < n; i++) {
		memset(&b->req[i], 0, sizeof(b->req[i]));
		b->req[i].op = ADMA_OP_MAP;
		b->req[i].flags = ADMA_DIR_BIDIRECTIONAL;
		b->req[i].gpa = cpu_to_le64(gpa);
		b->req[i].len = cpu_to_le64(len);
	}
	hst_header(b, n);
}

u32 hst_fill_unmap_from(struct hst_block *b, const struct hst_block *maps)
{
	u32 i, n = 0, count = le32_to_cpu(maps->cmd->count);

	for (i = 0; i < count; i++) {
		if (le32_to_cpu(maps->resp[i].status) != ADMA_S_OK)
			continue;
		memset(&b->req[n], 0, sizeof(b->req[n]));
		b->req[n].op = ADMA_OP_UNMAP;
		b->req[n].handle = maps->resp[i].handle;
		n++;
	}
	hst_header(b, n);
	return n;
}

void hst_ring(struct hst_ctx *c, struct hst_block *b)
{
	/* writeq orders the block's stores before the doorbell */
	writeq(virt_to_phys(b->cmd), c->regs + ADMA_REG_DOORBELL);
}

u32 hst_status(const struct hst_block *b)
{
	return le32_to_cpu(READ_ONCE(b->cmd->status));
}

u32 hst_count_ok(const struct hst_block *b)
{
	u32 i, n = 0, count = le32_to_cpu(b->cmd->count);

	for (i = 0; i < count; i++)
		n += le32_to_cpu(READ_ONCE(b->resp[i].status)) == ADMA_S_OK;
	return n;
}

/*
 * A kernel that went away with mappings live (kexec, a crash): map
 * p.maps buffers of a page kept for good (the memory must stay the
 * guest's: the device may still reach it until the host lets go).
 */
int hst_run_leave(struct hst_ctx *c)
{
	static void *page;
	struct hst_block b;
	u32 ok;
	int err;

	page = page ? page : (void *)__get_free_page(GFP_KERNEL);
	if (!page)
		return -ENOMEM;
	err = hst_block_alloc(&b, c->p.maps);
	if (err)
		return err;
	hst_fill_map(&b, c->p.maps, virt_to_phys(page), PAGE_SIZE);
	hst_ring(c, &b);
	ok = hst_count_ok(&b);
	snprintf(c->result, sizeof(c->result),
		 "status=%s block=%u left=%u", ok == c->p.maps ? "ok" : "fail",
		 hst_status(&b), ok);
	hst_block_free(&b);
	return ok == c->p.maps ? 0 : -EIO;
}
