// SPDX-License-Identifier: (GPL-2.0 OR MIT)
/*
 * replay_trace.c - reads a trace file and checks it whole before anything
 * is replayed: a malformed file is rejected with the reason and the record
 * it was found at, never half replayed.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "replay.h"

static int fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -1;
}

int rp_read_all(FILE *f, uint8_t **buf, size_t *len, char *err,
		size_t errlen)
{
	size_t cap = 1 << 16, n = 0, k;
	uint8_t *b = malloc(cap), *nb;

	while (b) {
		k = fread(b + n, 1, cap - n, f);
		n += k;
		if (n < cap) {
			if (ferror(f)) {
				free(b);
				return fail(err, errlen, "read error");
			}
			if (feof(f))
				break;
			continue;
		}
		nb = realloc(b, cap * 2);
		if (!nb)
			free(b);
		b = nb;
		cap *= 2;
	}
	if (!b)
		return fail(err, errlen, "out of memory");
	*buf = b;
	*len = n;
	return 0;
}

void rp_trace_free(struct rp_trace *t)
{
	free(t->rec);
	memset(t, 0, sizeof(*t));
}

static int check_hdr(const struct coal_trace_hdr *h, size_t len, char *err,
		     size_t errlen)
{
	uint64_t body;

	if (memcmp(h->magic, COAL_TRACE_MAGIC, 8))
		return fail(err, errlen, "bad magic: not an apple_dma trace");
	if (h->version != COAL_TRACE_VERSION)
		return fail(err, errlen, "version %u, this tool reads %u",
			    h->version, COAL_TRACE_VERSION);
	if (h->hdr_size != COAL_TRACE_HDR_SIZE ||
	    h->rec_size != COAL_TRACE_REC_SIZE)
		return fail(err, errlen, "header %u / record %u bytes, want %u / %u",
			    h->hdr_size, h->rec_size, COAL_TRACE_HDR_SIZE,
			    COAL_TRACE_REC_SIZE);
	if (h->page_shift < 12 || h->page_shift > 30)
		return fail(err, errlen, "host page shift %u", h->page_shift);
	if (h->cluster_shift && (h->cluster_shift < COAL_MIN_CLUSTER_SHIFT ||
				 h->cluster_shift > COAL_MAX_CLUSTER_SHIFT))
		return fail(err, errlen, "cluster shift %u", h->cluster_shift);
	if (!h->max_batch || h->max_batch > 65536)
		return fail(err, errlen, "max_batch %u", h->max_batch);
	body = len - COAL_TRACE_HDR_SIZE;
	if (h->nrec > body / COAL_TRACE_REC_SIZE)
		return fail(err, errlen,
			    "truncated: header says %llu records, file holds %llu",
			    (unsigned long long)h->nrec,
			    (unsigned long long)(body / COAL_TRACE_REC_SIZE));
	if (body != h->nrec * COAL_TRACE_REC_SIZE)
		return fail(err, errlen, "%llu bytes after the %llu records",
			    (unsigned long long)(body - h->nrec * COAL_TRACE_REC_SIZE),
			    (unsigned long long)h->nrec);
	return 0;
}

/* One record, i of the file; left: records still owed to its call. */
static int check_rec(const struct coal_trace_rec *r, uint64_t i,
		     const struct coal_trace_rec *first, uint32_t *left,
		     char *err, size_t errlen)
{
	if (r->op != COAL_TRACE_MAP && r->op != COAL_TRACE_UNMAP)
		return fail(err, errlen, "record %llu: op %u",
			    (unsigned long long)i, r->op);
	if (!r->len || r->dma + r->len < r->dma)
		return fail(err, errlen, "record %llu: length %llu at %#llx",
			    (unsigned long long)i, (unsigned long long)r->len,
			    (unsigned long long)r->dma);
	if (r->op == COAL_TRACE_MAP &&
	    (r->dir < 1 || r->dir > 3 || r->gpa + r->len < r->gpa))
		return fail(err, errlen, "record %llu: map dir %u gpa %#llx",
			    (unsigned long long)i, r->dir,
			    (unsigned long long)r->gpa);
	if (*left) {
		if (r->nbuf)
			return fail(err, errlen,
				    "record %llu: a call of %u starts inside the previous call",
				    (unsigned long long)i, r->nbuf);
		if (r->op != first->op)
			return fail(err, errlen,
				    "record %llu: map and unmap in one call",
				    (unsigned long long)i);
		(*left)--;
		return 0;
	}
	if (!r->nbuf)
		return fail(err, errlen,
			    "record %llu: continues a call that has ended",
			    (unsigned long long)i);
	*left = r->nbuf - 1;
	return 0;
}

int rp_trace_parse(const uint8_t *buf, size_t len, struct rp_trace *t,
		   char *err, size_t errlen)
{
	const struct coal_trace_rec *first = NULL;
	uint32_t left = 0;
	uint64_t i;

	memset(t, 0, sizeof(*t));
	if (len < COAL_TRACE_HDR_SIZE)
		return fail(err, errlen, "truncated: %zu bytes, a header is %u",
			    len, COAL_TRACE_HDR_SIZE);
	coal_trace_hdr_decode(buf, &t->hdr);
	if (check_hdr(&t->hdr, len, err, errlen))
		return -1;
	t->rec = calloc(t->hdr.nrec ? t->hdr.nrec : 1, sizeof(*t->rec));
	if (!t->rec)
		return fail(err, errlen, "out of memory");
	for (i = 0; i < t->hdr.nrec; i++) {
		struct coal_trace_rec *r = &t->rec[i];

		coal_trace_rec_decode(buf + COAL_TRACE_HDR_SIZE +
				      i * COAL_TRACE_REC_SIZE, r);
		if (check_rec(r, i, first, &left, err, errlen)) {
			rp_trace_free(t);
			return -1;
		}
		if (r->nbuf) {
			first = r;
			t->calls++;
		}
		if (r->op == COAL_TRACE_MAP)
			t->maps++;
		else
			t->unmaps++;
	}
	if (left) {
		rp_trace_free(t);
		return fail(err, errlen,
			    "truncated: the last call lacks %u records", left);
	}
	return 0;
}
