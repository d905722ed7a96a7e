// SPDX-License-Identifier: (GPL-2.0 OR MIT)
/*
 * replay - replay recorded DMA API traces (guest/core/coal_trace.h, from
 * debugfs apple_dma/<dev>/trace) through the guest's coalescer over the
 * simulated DART, under several policies side by side:
 *
 *   per-buffer       one host mapping per buffer (no clusters), strict
 *   reference        256 KiB windows, one request per doorbell, synchronous
 *                    unmap, no cache: the scheme of the reference design
 *   ours-clusters    the trace's cluster config, strict, no cache
 *   ours+lazy        + deferred unmaps (lazy_max, the timer from lazy_us)
 *   ours+lazy+cache  + the idle-mapping cache under the watermark
 *
 * and prints what each asks of the host: doorbells, MAP and UNMAP requests,
 * peak live host mappings and bytes, refusals, with ratios to per-buffer
 * and the targets as met / not met. The knobs default to the
 * module's defaults (guest/main.c); the host's limits are options, so tiny
 * limits can be shown. Exit status: 0, 1 for a malformed trace or a
 * failed replay, 2 for bad usage.
 *
 *   xz -dc tests/traces/nvme.trace.xz | replay -
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "replay.h"

#define KIB	1024ull
#define MIB	(1024 * KIB)

struct opts {
	struct rp_knobs k;
	struct rp_host_cfg host;
	const char *label;		/* names the trace read from stdin */
};

static void usage(FILE *f)
{
	fprintf(f,
		"usage: replay [options] TRACE...   (TRACE: a file, or - for stdin)\n"
		"  --cluster-kb N     our cluster size (default 1024, the module's)\n"
		"  --small-kb N       buffers up to N KiB share clusters (default 512)\n"
		"  --lazy-max N       unmaps deferred per doorbell (default 64)\n"
		"  --lazy-kb N        ... or until they map N KiB (default 8192)\n"
		"  --lazy-us N        flush timer, microseconds (default 1000)\n"
		"  --cache-kb N       idle-mapping cache (default 65536)\n"
		"  --watermark-pct N  of the host's limits (default 50)\n"
		"  --max-bytes N[KMG] host byte limit (default 1.5 GiB)\n"
		"  --max-maps N       host mapping limit (default 65536)\n"
		"  --label NAME       what to call the trace read from stdin\n");
}

static int num(const char *s, uint64_t *v)
{
	char *end;
	unsigned long long x;

	errno = 0;
	x = strtoull(s, &end, 0);
	if (errno || end == s || *s == '-')
		return -1;
	if (*end && strchr("KMG", *end)) {
		x <<= *end == 'K' ? 10 : *end == 'M' ? 20 : 30;
		end++;
	}
	if (*end)
		return -1;
	*v = x;
	return 0;
}

static int parse_opts(int argc, char **argv, struct opts *o, int *first)
{
	static const char *const names[] = {
		"--cluster-kb", "--small-kb", "--lazy-max", "--lazy-us",
		"--cache-kb", "--watermark-pct", "--max-bytes", "--max-maps",
		"--lazy-kb",
	};
	const int nnames = (int)(sizeof(names) / sizeof(names[0]));
	int i, k;
	uint64_t v;

	for (i = 1; i < argc && argv[i][0] == '-' && argv[i][1]; i++) {
		if (!strcmp(argv[i], "--help")) {
			usage(stdout);
			exit(0);
		}
		if (!strcmp(argv[i], "--label") && i + 1 < argc) {
			o->label = argv[++i];
			continue;
		}
		for (k = 0; k < nnames && strcmp(argv[i], names[k]); k++)
			;
		if (k == nnames || i + 1 == argc || num(argv[i + 1], &v)) {
			fprintf(stderr, "replay: bad option %s%s%s\n", argv[i],
				i + 1 < argc ? " " : "",
				i + 1 < argc ? argv[i + 1] : "");
			return -1;
		}
		i++;
		if (k == 0)
			o->k.cluster_kb = (long)v;
		else if (k == 1)
			o->k.small_kb = (long)v;
		else if (k == 2)
			o->k.lazy_max = (unsigned int)v;
		else if (k == 3)
			o->k.lazy_us = (unsigned int)v;
		else if (k == 4)
			o->k.cache_kb = v;
		else if (k == 5)
			o->k.watermark_pct = (unsigned int)v;
		else if (k == 6)
			o->host.max_bytes = v;
		else if (k == 7)
			o->host.max_maps = (uint32_t)v;
		else
			o->k.lazy_kb = v;
	}
	if (o->k.cluster_kb > 0 && (o->k.cluster_kb < 16 ||
				    (o->k.cluster_kb & (o->k.cluster_kb - 1)))) {
		fprintf(stderr, "replay: --cluster-kb %ld: 0 or a power of two >= 16\n",
			o->k.cluster_kb);
		return -1;
	}
	if (o->host.max_bytes % (16 * KIB)) {
		fprintf(stderr, "replay: --max-bytes %llu: a multiple of 16 KiB, the host's page\n",
			(unsigned long long)o->host.max_bytes);
		return -1;
	}
	if (o->k.watermark_pct > 100) {
		fprintf(stderr, "replay: --watermark-pct %u: need 0..100\n",
			o->k.watermark_pct);
		return -1;
	}
	*first = i;
	return 0;
}

static double ratio(uint64_t a, uint64_t b)
{
	return b ? (double)a / (double)b : 0.0;
}

static const char *met(int ok)
{
	return ok ? "met" : "NOT MET";
}

/*
 * Whether the two mapping targets can be met together on this trace at all:
 * the fewest mappings any scheme could hold within 2x per-buffer's bytes.
 */
static void print_bound(const struct rp_trace *t, const struct rp_result *pb)
{
	struct rp_bound b;

	if (t->hdr.dropped) {
		printf("   bound: not computed: %llu buffers were not recorded\n",
		       (unsigned long long)t->hdr.dropped);
		return;
	}
	if (rp_bound(t, 2 * pb->peak_bytes, &b)) {
		printf("   bound: not computed: out of memory\n");
		return;
	}
	if (b.over) {	/* not with per-buffer's own peak: a bug */
		printf("   bound: not computed: the buffers alone need more than %llu KiB after driver call %llu\n",
		       (unsigned long long)(b.budget / KIB),
		       (unsigned long long)b.over_call);
		return;
	}
	printf("   bound: any scheme whose mappings are each one contiguous guest-physical range, within %llu KiB (2x per-buffer's peak) at every moment, holds >= %llu after driver call %llu (%llu buffers live); 25x fewer than per-buffer is <= %llu: %s on this trace\n",
	       (unsigned long long)(b.budget / KIB),
	       (unsigned long long)b.maps, (unsigned long long)b.call,
	       (unsigned long long)b.live,
	       (unsigned long long)(pb->peak_maps / 25),
	       25 * b.maps <= pb->peak_maps ? "not ruled out" : "unreachable");
}

static void print_table(const char *name, const struct rp_trace *t,
			const struct opts *o, const struct rp_policy *p,
			const struct rp_result *r, const int *ok)
{
	const struct rp_result *pb = &r[RP_PER_BUFFER], *lz = &r[RP_LAZY];
	const struct rp_result *ca = &r[RP_CACHE];
	uint64_t wm, top;
	double dpk;
	int i;

	printf("\n== replay %s: %llu DMA API calls (buffers: %llu mapped, %llu unmapped, %llu not recorded) in %llu driver calls (a scatterlist is one)\n",
	       name, (unsigned long long)t->hdr.nrec,
	       (unsigned long long)t->maps, (unsigned long long)t->unmaps,
	       (unsigned long long)t->hdr.dropped,
	       (unsigned long long)t->calls);
	printf("   recorded with clusters %llu KiB, small <= %llu KiB, max_batch %u\n",
	       t->hdr.cluster_shift ? (1ull << t->hdr.cluster_shift) / KIB : 0,
	       (unsigned long long)(t->hdr.small_max / KIB), t->hdr.max_batch);
	printf("   replayed: ours clusters %llu KiB, small <= %llu KiB; host limits %llu MiB, %u maps; lazy_max %u, lazy_kb %llu, lazy_us %u, cache %llu KiB, watermark %u%%\n",
	       p[RP_CLUSTERS].cfg.cluster_shift ?
	       (1ull << p[RP_CLUSTERS].cfg.cluster_shift) / KIB : 0,
	       (unsigned long long)(p[RP_CLUSTERS].cfg.small_max / KIB),
	       (unsigned long long)((o->host.max_bytes ? o->host.max_bytes :
				     1536 * MIB) / MIB),
	       o->host.max_maps ? o->host.max_maps : 65536u,
	       p[RP_LAZY].cfg.lazy_max,
	       (unsigned long long)o->k.lazy_kb, o->k.lazy_us,
	       (unsigned long long)o->k.cache_kb, o->k.watermark_pct);
	printf("%-16s %8s %9s %7s %7s %7s %9s %10s %7s %7s %7s %6s %7s\n",
	       "policy", "calls", "doorbells", "/1000", "MAP", "UNMAP",
	       "peak_maps", "peak_KiB", "refused", "evicted", "x_bells",
	       "x_maps", "x_bytes");
	for (i = 0; i < RP_NPOL; i++) {
		if (!ok[i]) {
			printf("%-16s (refused: the coalescer's or the host's configuration, or out of memory)\n",
			       p[i].name);
			continue;
		}
		printf("%-16s %8llu %9llu %7.1f %7llu %7llu %9llu %10llu %7llu %7llu %7.3f %6.3f %7.3f\n",
		       p[i].name, (unsigned long long)r[i].buffers,
		       (unsigned long long)r[i].doorbells,
		       1000.0 * ratio(r[i].doorbells, r[i].buffers),
		       (unsigned long long)r[i].map_reqs,
		       (unsigned long long)r[i].unmap_reqs,
		       (unsigned long long)r[i].peak_maps,
		       (unsigned long long)(r[i].peak_bytes / KIB),
		       (unsigned long long)r[i].refusals,
		       (unsigned long long)r[i].coal.evictions,
		       ratio(r[i].doorbells, pb->doorbells),
		       ratio(r[i].peak_maps, pb->peak_maps),
		       ratio(r[i].peak_bytes, pb->peak_bytes));
	}
	printf("   calls: buffers mapped + unmapped; x_*: doorbells, peak maps, peak bytes / per-buffer's;\n"
	       "   refused: API calls whose map failed; evicted: idle mappings dropped\n");
	if (!ok[RP_PER_BUFFER] || !ok[RP_LAZY] || !ok[RP_CACHE])
		return;
	dpk = 1000.0 * ratio(ca->doorbells, ca->buffers);
	printf("   target <= 20 doorbells / 1000 calls (ours+lazy+cache): %.1f vs reference %.1f, per-buffer %.1f: %s\n",
	       dpk, 1000.0 * ratio(r[RP_REFERENCE].doorbells, r[RP_REFERENCE].buffers),
	       1000.0 * ratio(pb->doorbells, pb->buffers),
	       met(dpk <= 20.0 && !ca->refusals));
	if (pb->refusals) {
		/* per-buffer's peaks are the host's limits, not its need */
		printf("   peak mappings / bytes vs per-buffer: not comparable, per-buffer had %llu calls refused under these limits\n",
		       (unsigned long long)pb->refusals);
	} else {
		printf("   target peak live host mappings >= 25x fewer than per-buffer (ours+lazy, cache off): %llu vs %llu = %.1fx: %s\n",
		       (unsigned long long)lz->peak_maps,
		       (unsigned long long)pb->peak_maps,
		       ratio(pb->peak_maps, lz->peak_maps),
		       met(ratio(pb->peak_maps, lz->peak_maps) >= 25.0));
		printf("   target peak mapped bytes <= 2x per-buffer (ours+lazy, cache off): %.2fx: %s\n",
		       ratio(lz->peak_bytes, pb->peak_bytes),
		       met(ratio(lz->peak_bytes, pb->peak_bytes) <= 2.0));
		print_bound(t, pb);
	}
	/* idle mappings may only add bytes up to the watermark */
	wm = p[RP_CACHE].cfg.watermark_bytes;
	top = lz->peak_bytes > wm ? lz->peak_bytes : wm;
	printf("   target cache on (ours+lazy+cache): peak %llu KiB <= max(watermark %llu KiB, cache-off peak %llu KiB), refused %llu <= cache-off %llu: %s\n",
	       (unsigned long long)(ca->peak_bytes / KIB),
	       (unsigned long long)(wm / KIB),
	       (unsigned long long)(lz->peak_bytes / KIB),
	       (unsigned long long)ca->refusals,
	       (unsigned long long)lz->refusals,
	       met((!wm || ca->peak_bytes <= top) &&
		   ca->refusals <= lz->refusals));
}

static int replay_one(const char *path, const struct opts *o)
{
	const char *name = strcmp(path, "-") ? path :
			   o->label ? o->label : "stdin";
	struct rp_policy p[RP_NPOL];
	struct rp_result r[RP_NPOL];
	struct rp_trace t;
	int ok[RP_NPOL], i, ret = 0;
	char err[200];
	uint8_t *buf;
	size_t len;
	FILE *f = strcmp(path, "-") ? fopen(path, "rb") : stdin;

	if (!f) {
		fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
		return 1;
	}
	i = rp_read_all(f, &buf, &len, err, sizeof(err));
	if (f != stdin)
		fclose(f);
	if (i) {
		fprintf(stderr, "replay: %s: %s\n", name, err);
		return 1;
	}
	i = rp_trace_parse(buf, len, &t, err, sizeof(err));
	free(buf);
	if (i) {
		fprintf(stderr, "replay: %s: malformed trace: %s\n", name, err);
		return 1;
	}
	rp_policies(&t, &o->k, &o->host, p);
	for (i = 0; i < RP_NPOL; i++) {
		ok[i] = !rp_run(&t, &p[i], &o->host, &r[i]);
		if (ok[i] && r[i].over_batch) {
			fprintf(stderr, "replay: %s: %s: a doorbell above max_batch\n",
				name, p[i].name);
			ret = 1;
		}
		if (!ok[i])
			ret = 1;
	}
	print_table(name, &t, o, p, r, ok);
	if (r[RP_PER_BUFFER].unknown_unmaps)
		printf("   %llu unmaps named addresses the trace never mapped (recording started later): skipped\n",
		       (unsigned long long)r[RP_PER_BUFFER].unknown_unmaps);
	rp_trace_free(&t);
	return ret;
}

int main(int argc, char **argv)
{
	struct opts o = { .k = RP_KNOBS_DEFAULT };
	int first, i, ret = 0;

	if (parse_opts(argc, argv, &o, &first) || first == argc) {
		usage(stderr);
		return 2;
	}
	for (i = first; i < argc; i++)
		ret |= replay_one(argv[i], &o);
	return ret;
}
