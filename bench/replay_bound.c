// SPDX-License-Identifier: (GPL-2.0 OR MIT)
/*
 * replay_bound.c - the least host mappings any scheme could have held over
 * a trace, whatever it knew of the future, if each mapping is one
 * contiguous guest-physical range (what a MAP request names) and the
 * mappings live at any moment may total at most a byte budget.
 *
 * At a moment, the live buffers rounded out to host pages merge into m
 * disjoint runs of L bytes with m - 1 gaps between them. Covering them with
 * k mappings bridges m - k gaps, and the cheapest are the smallest, so the
 * fewest mappings within the budget come from bridging the smallest gaps
 * while L plus them fits. A scheme's peak is at least the worst moment's
 * fewest: that is the bound, to be set beside a policy's peak (a target it
 * lies above cannot be met on that trace by any such scheme).
 */
#include <stdlib.h>
#include <string.h>

#include "replay.h"

struct span {
	uint64_t dma, len;		/* as recorded, to find the unmap */
	uint64_t lo, hi;		/* host page numbers covered: [lo, hi) */
};

static int by_lo(const void *a, const void *b)
{
	const struct span *x = a, *y = b;

	return x->lo < y->lo ? -1 : x->lo > y->lo;
}

static int by_size(const void *a, const void *b)
{
	const uint64_t *x = a, *y = b;

	return *x < *y ? -1 : *x > *y;
}

/*
 * The fewest mappings covering s[0..n) (sorted into scratch) within budget
 * pages; *over when the buffers alone need more.
 */
static uint64_t fewest(const struct span *s, size_t n, uint64_t budget,
		       struct span *sorted, uint64_t *gap, bool *over)
{
	uint64_t bytes = 0, hi = 0, runs = 0, k;
	size_t i, ngap = 0;

	if (!n)
		return 0;
	memcpy(sorted, s, n * sizeof(*s));
	qsort(sorted, n, sizeof(*sorted), by_lo);
	for (i = 0; i < n; i++) {
		if (!runs || sorted[i].lo > hi) {
			if (runs)
				gap[ngap++] = sorted[i].lo - hi;
			runs++;
			bytes += sorted[i].hi - sorted[i].lo;
			hi = sorted[i].hi;
		} else if (sorted[i].hi > hi) {
			bytes += sorted[i].hi - hi;
			hi = sorted[i].hi;
		}
	}
	if (bytes > budget) {
		*over = true;
		return runs;
	}
	qsort(gap, ngap, sizeof(*gap), by_size);
	k = runs;
	for (i = 0; i < ngap && gap[i] <= budget - bytes; i++) {
		bytes += gap[i];
		k--;
	}
	return k;
}

/* One moment: the live set right after driver call "call". */
static void measure(struct rp_bound *b, const struct span *live, size_t n,
		    uint64_t pages, struct span *sorted, uint64_t *gap,
		    uint64_t call)
{
	bool over = false;
	uint64_t k = fewest(live, n, pages, sorted, gap, &over);

	if (over) {
		if (!b->over)
			b->over_call = call;
		b->over = true;
	} else if (k > b->maps) {
		b->maps = k;
		b->call = call;
		b->live = n;
	}
}

int rp_bound(const struct rp_trace *t, uint64_t budget, struct rp_bound *b)
{
	unsigned int shift = t->hdr.page_shift;
	uint64_t pages = budget >> shift, calls = 0, grown = 0;
	struct span *live, *sorted;
	uint64_t *gap;
	size_t n = 0, i, j;
	int ret = -1;

	memset(b, 0, sizeof(*b));
	b->budget = budget;
	live = malloc((t->maps + 1) * sizeof(*live));
	sorted = malloc((t->maps + 1) * sizeof(*sorted));
	gap = malloc((t->maps + 1) * sizeof(*gap));
	if (!live || !sorted || !gap)
		goto out;
	for (i = 0; i < t->hdr.nrec; i += j) {
		const struct coal_trace_rec *r = &t->rec[i];
		uint32_t nbuf = r->nbuf;

		/*
		 * Only the moment before an unmap call can be a new worst:
		 * every earlier one since the last unmap holds a subset.
		 */
		if (r->op == COAL_TRACE_UNMAP && grown) {
			measure(b, live, n, pages, sorted, gap, grown);
			grown = 0;
		}
		for (j = 0; j < nbuf; j++) {
			const struct coal_trace_rec *q = &r[j];
			size_t x, pick = n;

			if (q->op == COAL_TRACE_MAP) {
				live[n++] = (struct span){
					.dma = q->dma, .len = q->len,
					.lo = q->gpa >> shift,
					.hi = ((q->gpa + q->len - 1) >> shift) + 1,
				};
				continue;
			}
			/* the same address and length if several are live */
			for (x = 0; x < n; x++) {
				if (live[x].dma != q->dma)
					continue;
				pick = x;
				if (live[x].len == q->len)
					break;
			}
			if (pick < n)
				live[pick] = live[--n];
		}
		calls++;
		if (r->op == COAL_TRACE_MAP)
			grown = calls;
	}
	if (grown)
		measure(b, live, n, pages, sorted, gap, grown);
	ret = 0;
out:
	free(live);
	free(sorted);
	free(gap);
	return ret;
}
