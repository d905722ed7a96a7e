/* SPDX-License-Identifier: (GPL-2.0 OR MIT) */
/*
 * coal_trace.h - the file format of a recorded DMA API trace, written by the
 * guest module (guest/trace.c, debugfs apple_dma/<dev>/trace) and replayed on
 * the host through the coalescer (bench/replay.c).
 *
 * A file is one header then nrec fixed-size records, every field
 * little-endian, no padding left to the compiler. One record is one buffer
 * mapped or unmapped; one DMA API call of n buffers (a scatterlist of n
 * entries) is n records in a row, the first carrying nbuf = n and the
 * others 0, so a replay can hand the coalescer the same batches the guest
 * did. The decoders below read bytes, so the host side does not depend on
 * its own byte order or structure layout.
 */
#ifndef COAL_TRACE_H
#define COAL_TRACE_H

#include "coal_types.h"

#define COAL_TRACE_MAGIC	"ADMATRCE"	/* 8 bytes, no NUL */
#define COAL_TRACE_VERSION	1u
#define COAL_TRACE_HDR_SIZE	64u
#define COAL_TRACE_REC_SIZE	40u

/* The header: the run's coalescer configuration and what follows. */
struct coal_trace_hdr {
	uint8_t magic[8];		/* COAL_TRACE_MAGIC */
	uint32_t version;		/* COAL_TRACE_VERSION */
	uint32_t hdr_size;		/* COAL_TRACE_HDR_SIZE */
	uint32_t rec_size;		/* COAL_TRACE_REC_SIZE */
	uint32_t page_shift;		/* the host's page */
	uint32_t cluster_shift;		/* 0: clusters were off */
	uint32_t max_batch;		/* buffers per coalescer call */
	uint64_t small_max;		/* buffers <= this shared clusters */
	uint64_t nrec;			/* records that follow */
	uint64_t dropped;		/* buffers not recorded: buffer full */
	uint64_t reserved;		/* 0 */
};

/* coal_trace_rec.op */
#define COAL_TRACE_MAP		1u
#define COAL_TRACE_UNMAP	2u

/* coal_trace_rec.flags */
#define COAL_TRACE_F_COHERENT	1u	/* dma_alloc_coherent() / _pages() */
#define COAL_TRACE_F_PRIVATE	2u	/* mapped with COAL_BUF_PRIVATE */

struct coal_trace_rec {
	uint8_t op;			/* COAL_TRACE_MAP / _UNMAP */
	uint8_t dir;			/* COAL_DIR_*; 0 on an unmap */
	uint8_t flags;			/* COAL_TRACE_F_* */
	uint8_t reserved;		/* 0 */
	uint32_t nbuf;			/* buffers of the call; 0: continues */
	uint64_t gpa;			/* map: first byte; unmap: 0 */
	uint64_t len;			/* bytes */
	uint64_t dma;			/* map: handed out; unmap: named */
	uint64_t ts_ns;			/* since recording started */
};

static inline uint32_t coal_trace_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

static inline uint64_t coal_trace_le64(const uint8_t *p)
{
	return (uint64_t)coal_trace_le32(p) |
	       (uint64_t)coal_trace_le32(p + 4) << 32;
}

static inline void coal_trace_put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

static inline void coal_trace_put64(uint8_t *p, uint64_t v)
{
	coal_trace_put32(p, (uint32_t)v);
	coal_trace_put32(p + 4, (uint32_t)(v >> 32));
}

/* Encode h into COAL_TRACE_HDR_SIZE bytes (magic and sizes filled in). */
static inline void coal_trace_hdr_encode(uint8_t *p,
					 const struct coal_trace_hdr *h)
{
	unsigned int i;

	for (i = 0; i < 8; i++)
		p[i] = (uint8_t)COAL_TRACE_MAGIC[i];
	coal_trace_put32(p + 8, COAL_TRACE_VERSION);
	coal_trace_put32(p + 12, COAL_TRACE_HDR_SIZE);
	coal_trace_put32(p + 16, COAL_TRACE_REC_SIZE);
	coal_trace_put32(p + 20, h->page_shift);
	coal_trace_put32(p + 24, h->cluster_shift);
	coal_trace_put32(p + 28, h->max_batch);
	coal_trace_put64(p + 32, h->small_max);
	coal_trace_put64(p + 40, h->nrec);
	coal_trace_put64(p + 48, h->dropped);
	coal_trace_put64(p + 56, 0);
}

/* Decode COAL_TRACE_HDR_SIZE bytes; the caller checks magic and sizes. */
static inline void coal_trace_hdr_decode(const uint8_t *p,
					 struct coal_trace_hdr *h)
{
	unsigned int i;

	for (i = 0; i < 8; i++)
		h->magic[i] = p[i];
	h->version = coal_trace_le32(p + 8);
	h->hdr_size = coal_trace_le32(p + 12);
	h->rec_size = coal_trace_le32(p + 16);
	h->page_shift = coal_trace_le32(p + 20);
	h->cluster_shift = coal_trace_le32(p + 24);
	h->max_batch = coal_trace_le32(p + 28);
	h->small_max = coal_trace_le64(p + 32);
	h->nrec = coal_trace_le64(p + 40);
	h->dropped = coal_trace_le64(p + 48);
	h->reserved = coal_trace_le64(p + 56);
}

static inline void coal_trace_rec_encode(uint8_t *p,
					 const struct coal_trace_rec *r)
{
	p[0] = r->op;
	p[1] = r->dir;
	p[2] = r->flags;
	p[3] = 0;
	coal_trace_put32(p + 4, r->nbuf);
	coal_trace_put64(p + 8, r->gpa);
	coal_trace_put64(p + 16, r->len);
	coal_trace_put64(p + 24, r->dma);
	coal_trace_put64(p + 32, r->ts_ns);
}

static inline void coal_trace_rec_decode(const uint8_t *p,
					 struct coal_trace_rec *r)
{
	r->op = p[0];
	r->dir = p[1];
	r->flags = p[2];
	r->reserved = p[3];
	r->nbuf = coal_trace_le32(p + 4);
	r->gpa = coal_trace_le64(p + 8);
	r->len = coal_trace_le64(p + 16);
	r->dma = coal_trace_le64(p + 24);
	r->ts_ns = coal_trace_le64(p + 32);
}

#endif /* COAL_TRACE_H */
