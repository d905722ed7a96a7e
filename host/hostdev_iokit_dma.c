/* SPDX-License-Identifier: (GPL-2.0 OR MIT) */
/*
 * hostdev_iokit_dma.c - the function's DART as apple-dma-pci's DMA backend,
 * through the dext.
 *
 * A map names (region, offset, length, direction) in one of the RAM blocks
 * registered with hostdev_iokit_add_region(); the dext answers a handle and
 * the DART's segments. The handle is the mapping's cookie: adma_core keeps
 * it in its own table and hands it back to unmap, so this side keeps no
 * table of mappings, and nothing on the doorbell path can run out of room.
 *
 * batch() sends one DMA_BATCH for a whole doorbell. Its output buffer
 * holds ADMA_MAX_SEGS segments per entry plus one full answer; a batch
 * whose answers need more comes back partly done and the rest is sent
 * again. A mapping of more segments than the caller can take (apple_dma
 * answers hold ADMA_MAX_SEGS) is undone and refused as FRAGMENTED: the
 * dext never refuses a multi-segment answer, the guest's wire does.
 */
#include <stdlib.h>
#include <string.h>

#include "hostdev_iokit_int.h"

/* Answer space for n ops: each may take ADMA_MAX_SEGS, one up to the most. */
static size_t bout_bytes(uint32_t n)
{
	return sizeof(struct dext_batch_out) + n * sizeof(struct dext_result) +
	       (n * ADMA_MAX_SEGS + DEXT_MAX_SEGS) * sizeof(struct dext_seg);
}

int iokit_dma_init(struct iokit_dev *d)
{
	d->batch_max = d->info.max_batch;
	if (!d->batch_max || d->batch_max > DEXT_MAX_BATCH)
		d->batch_max = DEXT_MAX_BATCH;
	d->bin = malloc(DEXT_BATCH_IN_SIZE(d->batch_max));
	d->bout = malloc(bout_bytes(d->batch_max));
	return d->bin && d->bout ? HOSTDEV_OK : HOSTDEV_E_IO;
}

void iokit_dma_fini(struct iokit_dev *d)
{
	free(d->bin);
	free(d->bout);
}

/* ---- regions */

int hostdev_iokit_add_region(struct hostdev *h, void *hva, uint64_t size)
{
	struct iokit_dev *d = h->dev;
	uint64_t in[3] = { (uint64_t)(uintptr_t)hva, size, 0 }, id = 0;
	uint32_t n = 1, i;
	kern_return_t kr;
	int e;

	pthread_mutex_lock(&d->lock);
	for (i = 0; i < DEXT_MAX_REGIONS && d->region[i].id; i++)
		;
	if (i == DEXT_MAX_REGIONS) {
		pthread_mutex_unlock(&d->lock);
		return HOSTDEV_E_IO;
	}
	kr = IOConnectCallScalarMethod(d->conn, DEXT_SEL_REGION_ADD, in, 3,
				       &id, &n);
	e = iokit_err(kr);
	if (e == HOSTDEV_OK && (n != 1 || !id))
		e = HOSTDEV_E_IO;
	if (e == HOSTDEV_OK) {
		d->region[i].hva = in[0];
		d->region[i].size = size;
		d->region[i].id = id;
	}
	pthread_mutex_unlock(&d->lock);
	return e;
}

int hostdev_iokit_remove_region(struct hostdev *h, void *hva, uint64_t size)
{
	struct iokit_dev *d = h->dev;
	uint32_t i;
	int e = HOSTDEV_E_INVAL;

	pthread_mutex_lock(&d->lock);
	for (i = 0; i < DEXT_MAX_REGIONS; i++) {
		struct iokit_region *r = &d->region[i];

		if (!r->id || r->hva != (uint64_t)(uintptr_t)hva ||
		    r->size != size)
			continue;
		e = iokit_err(IOConnectCallScalarMethod(d->conn,
							DEXT_SEL_REGION_REMOVE,
							&r->id, 1, NULL, NULL));
		if (e == HOSTDEV_OK)
			r->id = 0;
		break;
	}
	pthread_mutex_unlock(&d->lock);
	return e;
}

static const struct iokit_region *region_of(const struct iokit_dev *d,
					    uint64_t addr, uint64_t len)
{
	uint32_t i;

	for (i = 0; i < DEXT_MAX_REGIONS; i++) {
		const struct iokit_region *r = &d->region[i];

		if (r->id && addr >= r->hva && addr - r->hva < r->size &&
		    len <= r->size - (addr - r->hva))
			return r;
	}
	return NULL;
}

/* ---- one DMA_BATCH call (lock held) */

static int adma_status(uint32_t dext_status)
{
	switch (dext_status) {
	case DEXT_S_OK:
		return ADMA_S_OK;
	case DEXT_S_NO_SPACE:
		return ADMA_S_NO_SPACE;
	case DEXT_S_BAD_REGION:
		return ADMA_S_RANGE;
	default:
		return ADMA_S_IO_ERROR;
	}
}

/*
 * Send ops[0..n) (n <= batch_max) of the dext's wire; the answers are in
 * d->bout. Returns entries done, or -1 when the call failed as a whole.
 */
static int send_batch(struct iokit_dev *d, uint32_t n)
{
	struct dext_batch_out *bo = d->bout;
	size_t out = bout_bytes(n);
	kern_return_t kr;

	d->bin->magic = DEXT_BATCH_MAGIC;
	d->bin->version = DEXT_ABI_MAJOR;
	d->bin->rsvd0 = 0;
	d->bin->count = n;
	d->bin->rsvd1 = 0;
	kr = IOConnectCallMethod(d->conn, DEXT_SEL_DMA_BATCH, NULL, 0, d->bin,
				 DEXT_BATCH_IN_SIZE(n), NULL, NULL, bo, &out);
	if (kr != KERN_SUCCESS || out < sizeof(*bo) ||
	    bo->magic != DEXT_BATCH_OUT_MAGIC || bo->done > n)
		return -1;
	return (int)bo->done;
}

/* Undo mappings the caller cannot take: a batch of UNMAPs (lock held). */
static void send_unmaps(struct iokit_dev *d, const uint64_t *handle,
			uint32_t n)
{
	struct dext_op *w = (struct dext_op *)(d->bin + 1);
	uint32_t i;

	while (n) {
		uint32_t k = n < d->batch_max ? n : d->batch_max;

		memset(w, 0, k * sizeof(*w));
		for (i = 0; i < k; i++) {
			w[i].op = DEXT_OP_UNMAP;
			w[i].handle = handle[i];
		}
		send_batch(d, k);	/* unmaps need no output space */
		handle += k;
		n -= k;
	}
}

#define ON_WIRE		0x80000000u	/* adma_be_op.rsvd: wire entry | this */

/* Put a mapping's answer into o, or queue it for undoing (lock held). */
static void take_answer(struct adma_be_op *o, const struct dext_result *res,
			const struct dext_seg *pool, uint32_t pool_n,
			uint64_t *undo, uint32_t *nundo)
{
	uint32_t j, ns = res->nsegs;

	o->status = adma_status(res->status);
	if (o->status != ADMA_S_OK)
		return;
	if (!ns || ns > o->max_segs || ns > ADMA_MAX_SEGS || !res->handle ||
	    res->first_seg > pool_n || ns > pool_n - res->first_seg) {
		if (res->handle)
			undo[(*nundo)++] = res->handle;
		o->status = ns > o->max_segs ? ADMA_S_FRAGMENTED :
					       ADMA_S_IO_ERROR;
		return;
	}
	o->cookie = res->handle;	/* what UNMAP names */
	o->nsegs = ns;
	for (j = 0; j < ns; j++) {
		o->seg[j].iova = pool[res->first_seg + j].iova;
		o->seg[j].len = pool[res->first_seg + j].len;
	}
}

/* Put op[from..) on the wire until it is full; returns where it stopped. */
static uint32_t fill_wire(struct iokit_dev *d, struct adma_be_op *op,
			  uint32_t from, uint32_t n, uint32_t *k)
{
	struct dext_op *w = (struct dext_op *)(d->bin + 1);
	uint32_t i;

	*k = 0;
	for (i = from; i < n && *k < d->batch_max; i++) {
		struct adma_be_op *o = &op[i];
		const struct iokit_region *r;

		o->rsvd = 0;
		memset(&w[*k], 0, sizeof(w[*k]));
		if (o->kind == ADMA_BE_MAP) {
			r = region_of(d, o->addr, o->len);
			if (!r) {
				o->status = ADMA_S_RANGE;
				continue;
			}
			w[*k].op = DEXT_OP_MAP;
			w[*k].dir = (uint8_t)o->dir;
			w[*k].region = (uint32_t)r->id;
			w[*k].offset = o->addr - r->hva;
			w[*k].len = o->len;
		} else {
			if (!o->cookie)
				continue;	/* nothing of ours */
			w[*k].op = DEXT_OP_UNMAP;
			w[*k].handle = o->cookie;
		}
		o->rsvd = ON_WIRE | (*k)++;
	}
	return i;
}

/* Run ops[0..n) in order, as many per call as the wire takes (lock held). */
static void run_ops(struct iokit_dev *d, struct adma_be_op *op, uint32_t n)
{
	const struct dext_batch_out *bo = d->bout;
	const struct dext_result *res = (const struct dext_result *)(bo + 1);
	uint64_t undo[DEXT_MAX_BATCH];
	uint32_t first = 0, nundo = 0;

	while (first < n) {
		uint32_t k, i, end = fill_wire(d, op, first, n, &k), resume = end;
		int done;

		if (!k) {
			first = end;
			continue;
		}
		done = send_batch(d, k);
		for (i = first; i < end; i++) {
			struct adma_be_op *o = &op[i];
			uint32_t e = o->rsvd & ~ON_WIRE;

			if (!(o->rsvd & ON_WIRE))
				continue;
			if (done < 0) {		/* the dext is gone or broken */
				if (o->kind == ADMA_BE_MAP)
					o->status = ADMA_S_IO_ERROR;
				continue;
			}
			if (e >= (uint32_t)done) {
				/* not executed (output full): again from here */
				if (resume == end)
					resume = i;
				continue;
			}
			if (o->kind == ADMA_BE_MAP)
				take_answer(o, &res[e],
					    (const struct dext_seg *)(res + k),
					    bo->nsegs, undo, &nundo);
		}
		first = resume;
		if (nundo > DEXT_MAX_BATCH - d->batch_max || first == n) {
			send_unmaps(d, undo, nundo);
			nundo = 0;
		}
	}
	if (nundo)
		send_unmaps(d, undo, nundo);
}

static void be_batch(void *be, struct adma_be_op *op, unsigned int n)
{
	struct iokit_dev *d = be;
	unsigned int i;

	for (i = 0; i < n; i++) {
		op[i].rsvd = 0;
		if (op[i].kind == ADMA_BE_MAP) {
			op[i].nsegs = 0;
			op[i].cookie = 0;
			op[i].status = ADMA_S_PENDING;
		}
	}
	pthread_mutex_lock(&d->lock);
	run_ops(d, op, n);
	pthread_mutex_unlock(&d->lock);
}

static int be_map(void *be, uint64_t addr, uint64_t len, unsigned int dir,
		  struct adma_seg *seg, unsigned int max_segs,
		  unsigned int *nsegs, uint64_t *cookie)
{
	struct adma_be_op op;
	unsigned int i;

	memset(&op, 0, sizeof(op));
	op.kind = ADMA_BE_MAP;
	op.dir = dir;
	op.addr = addr;
	op.len = len;
	op.max_segs = max_segs < ADMA_MAX_SEGS ? max_segs : ADMA_MAX_SEGS;
	be_batch(be, &op, 1);
	*nsegs = 0;
	if (op.status != ADMA_S_OK)
		return op.status;
	for (i = 0; i < op.nsegs; i++)
		seg[i] = op.seg[i];
	*nsegs = op.nsegs;
	*cookie = op.cookie;
	return ADMA_S_OK;
}

/* The dext unmaps by handle: the cookie; the segments say nothing more. */
static void be_unmap(void *be, const struct adma_seg *seg, unsigned int nsegs,
		     uint64_t cookie)
{
	struct adma_be_op op;

	(void)seg;
	(void)nsegs;
	memset(&op, 0, sizeof(op));
	op.kind = ADMA_BE_UNMAP;
	op.cookie = cookie;
	be_batch(be, &op, 1);
}

const struct adma_backend_ops iokit_dma_ops = {
	.map = be_map,
	.unmap = be_unmap,
	.batch = be_batch,
};
