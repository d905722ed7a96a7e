// SPDX-License-Identifier: GPL-2.0
/*
 * run.c - one test run, as written to debugfs simgpu_test/run:
 *
 *   mib=N        move at least N MiB system -> VRAM -> system (default 64)
 *   seed=N       pattern seed (default 1)
 *   flr_at=N     function-level reset once N MiB have moved (0: none)
 *   sizes=A,B..  buffer sizes, cycled (K/M suffixes; multiples of 64 bytes;
 *                default 4K,16K,64K,256K,1M,4M)
 *   depth=N      buffers mapped at once per round (default 32)
 *   timeout_ms=N how long a fence may take (default 20000)
 *
 * A round allocates up to depth source and destination buffers (of the
 * three kinds in buf.c, rotating), fills the sources with the pattern and
 * the destinations with poison, maps them (TO_DEVICE, FROM_DEVICE), copies
 * every source to its own VRAM range with one fence, checks a sample of
 * that VRAM through the BAR with the CPU, copies VRAM back into the
 * destinations with one fence, unmaps everything and compares every byte.
 * At the start and after an FLR the CPU and the engine also exchange data
 * through VRAM in both directions (and the engine FILLs VRAM for the CPU).
 * An FLR happens between mapping a round's buffers and using them, so
 * mappings made before the reset are used after it.
 */
#include <linux/io.h>
#include <linux/ktime.h>
#include <linux/math64.h>
#include <linux/sizes.h>
#include <linux/slab.h>
#include <linux/string.h>

#include "simgpu_test.h"

#define SGT_MAX_SIZES	16
#define SGT_MAX_DEPTH	256

struct sgt_params {
	u64 mib, seed, flr_at;
	size_t sizes[SGT_MAX_SIZES];
	unsigned int nsizes, depth, timeout_ms;
};

/* Why a run failed: the first failure only. */
struct sgt_fail {
	const char *why;	/* one word, for the result line */
	u64 buf, off;		/* verify: buffer id and byte offset */
	int err;
};

struct sgt_round {
	struct sgt_buf *src, *dst;
	u64 *voff;
	unsigned int n;
};

static const size_t sgt_default_sizes[] = {
	SZ_4K, SZ_16K, SZ_64K, SZ_256K, SZ_1M, SZ_4M,
};

static int sgt_parse_sizes(struct sgt_dev *g, struct sgt_params *p, char *v)
{
	char *tok, *end;
	u64 len;

	p->nsizes = 0;
	while ((tok = strsep(&v, ",")) != NULL) {
		if (!*tok)
			continue;
		len = memparse(tok, &end);
		if (*end || !len || len % 64 || len > g->vram_size / 2 ||
		    len > SZ_64M) {
			dev_err(&g->pdev->dev,
				"sizes: '%s' is not a multiple of 64 bytes up to min(64 MiB, VRAM/2)\n",
				tok);
			return -EINVAL;
		}
		if (p->nsizes == SGT_MAX_SIZES) {
			dev_err(&g->pdev->dev, "sizes: at most %d\n",
				SGT_MAX_SIZES);
			return -EINVAL;
		}
		p->sizes[p->nsizes++] = len;
	}
	return p->nsizes ? 0 : -EINVAL;
}

static int sgt_parse(struct sgt_dev *g, struct sgt_params *p, char *s)
{
	struct device *dev = &g->pdev->dev;
	char *tok, *val;
	u64 n;
	int ret;

	*p = (struct sgt_params){ .mib = 64, .seed = 1, .depth = 32,
				  .timeout_ms = 20000 };
	p->nsizes = ARRAY_SIZE(sgt_default_sizes);
	memcpy(p->sizes, sgt_default_sizes, sizeof(sgt_default_sizes));
	while ((tok = strsep(&s, " \t\n")) != NULL) {
		if (!*tok)
			continue;
		val = strchr(tok, '=');
		if (!val) {
			dev_err(dev, "run: '%s' is not key=value\n", tok);
			return -EINVAL;
		}
		*val++ = 0;
		if (!strcmp(tok, "sizes")) {
			ret = sgt_parse_sizes(g, p, val);
			if (ret)
				return ret;
			continue;
		}
		ret = kstrtou64(val, 0, &n);
		if (ret) {
			dev_err(dev, "run: %s=%s is not a number\n", tok, val);
			return ret;
		}
		if (!strcmp(tok, "mib") && n && n <= SZ_1M) {
			p->mib = n;
		} else if (!strcmp(tok, "seed")) {
			p->seed = n;
		} else if (!strcmp(tok, "flr_at") && n <= SZ_1M) {
			p->flr_at = n;
		} else if (!strcmp(tok, "depth") && n && n <= SGT_MAX_DEPTH) {
			p->depth = n;
		} else if (!strcmp(tok, "timeout_ms") && n && n <= 600000) {
			p->timeout_ms = n;
		} else {
			dev_err(dev, "run: unknown key or value out of range: %s=%s\n",
				tok, val);
			return -EINVAL;
		}
	}
	return 0;
}

static int sgt_failed(struct sgt_fail *f, const char *why, int err)
{
	if (!f->why) {
		f->why = why;
		f->err = err;
	}
	return err;
}

/* Compare VRAM [voff, voff + len) with words w0.. of pattern (seed, id). */
static int sgt_vram_verify(struct sgt_dev *g, u64 voff, size_t len, u64 seed,
			   u64 id, u64 w0, struct sgt_fail *f)
{
	u64 buf[64];
	size_t done = 0, n, k;

	while (done < len) {
		n = min(len - done, sizeof(buf));
		memcpy_fromio(buf, g->vram + voff + done, n);
		for (k = 0; k < n / 8; k++) {
			if (buf[k] != sgt_pattern(seed, id, w0 + (done + k * 8) / 8)) {
				dev_err(&g->pdev->dev,
					"VRAM %#llx: %#llx, expected word %llu of buffer %llu\n",
					voff + done + k * 8, buf[k],
					w0 + (done + k * 8) / 8, id);
				f->buf = id;
				f->off = done + k * 8;
				return sgt_failed(f, "vram", -EIO);
			}
		}
		done += n;
	}
	g->cnt.vram_cpu_bytes += len;
	return 0;
}

/*
 * CPU and engine exchange data through VRAM [0, 2 * len): the CPU writes,
 * the engine copies to system memory; the engine copies from system memory,
 * the CPU reads; the engine fills, the CPU reads.
 */
static int sgt_vram_exchange(struct sgt_dev *g, u64 seed, u64 *next_id,
			     struct sgt_fail *f)
{
	size_t len = min_t(u64, SZ_1M, g->vram_size / 2), off, bad;
	struct sgt_buf b = { .id = (*next_id)++ };
	u64 words[64], id_cpu = b.id, k;
	u32 fill = lower_32_bits(sgt_pattern(seed, b.id, 0)) | 1, got;
	int ret;

	/* CPU -> VRAM -> engine -> system memory */
	for (off = 0; off < len; off += sizeof(words)) {
		for (k = 0; k < ARRAY_SIZE(words); k++)
			words[k] = sgt_pattern(seed, id_cpu, off / 8 + k);
		memcpy_toio(g->vram + off, words, sizeof(words));
	}
	ret = sgt_buf_alloc(&b, len, SGT_KIND_PAGES);
	if (ret)
		return sgt_failed(f, "alloc", ret);
	sgt_buf_poison(&b);
	ret = sgt_buf_map(g, &b, DMA_FROM_DEVICE);
	if (ret) {
		sgt_buf_free(&b);
		return sgt_failed(f, "map", ret);
	}
	ret = sgt_buf_copy(g, &b, 0, false) ?: sgt_fence(g);
	if (ret)
		sgt_engine_stop(g);
	sgt_buf_unmap(g, &b);
	if (ret) {
		sgt_buf_free(&b);
		return sgt_failed(f, "engine", ret);
	}
	ret = sgt_buf_verify(&b, seed, &bad);
	if (ret) {
		dev_err(&g->pdev->dev, "what the CPU wrote to VRAM reached system memory changed at %zu\n",
			bad);
		f->buf = b.id;
		f->off = bad;
		sgt_buf_free(&b);
		return sgt_failed(f, "vram", ret);
	}
	g->cnt.vram_cpu_bytes += len;

	/* system memory -> engine -> VRAM -> CPU */
	b.id = (*next_id)++;
	sgt_buf_fill(&b, seed);
	ret = sgt_buf_map(g, &b, DMA_TO_DEVICE);
	if (ret) {
		sgt_buf_free(&b);
		return sgt_failed(f, "map", ret);
	}
	ret = sgt_buf_copy(g, &b, len, true) ?: sgt_fence(g);
	if (ret)
		sgt_engine_stop(g);
	sgt_buf_unmap(g, &b);
	sgt_buf_free(&b);
	if (ret)
		return sgt_failed(f, "engine", ret);
	ret = sgt_vram_verify(g, len, len, seed, b.id, 0, f);
	if (ret)
		return ret;

	/* engine FILL -> CPU */
	ret = sgt_push(g, SIMGPU_OP_FILL, SIMGPU_CMD_DST_VRAM, 0, 0, len, fill) ?:
	      sgt_fence(g);
	if (ret) {
		sgt_engine_stop(g);
		return sgt_failed(f, "engine", ret);
	}
	for (off = 0; off < len; off += 4) {
		got = readl(g->vram + off);
		if (got != fill) {
			dev_err(&g->pdev->dev, "VRAM %#zx after FILL %#x: %#x\n",
				off, fill, got);
			f->off = off;
			return sgt_failed(f, "vram", -EIO);
		}
	}
	g->cnt.vram_cpu_bytes += len;
	return 0;
}

static void sgt_round_free(struct sgt_dev *g, struct sgt_round *r)
{
	unsigned int i;

	for (i = 0; i < r->n; i++) {
		sgt_buf_unmap(g, &r->src[i]);
		sgt_buf_unmap(g, &r->dst[i]);
		sgt_buf_free(&r->src[i]);
		sgt_buf_free(&r->dst[i]);
	}
	r->n = 0;
}

/* Allocate, fill and map one round's buffers; bytes they hold in *bytes. */
static int sgt_round_build(struct sgt_dev *g, const struct sgt_params *p,
			   struct sgt_round *r, u64 want, u64 *bufno,
			   u64 *bytes, struct sgt_fail *f)
{
	struct sgt_buf *s, *d;
	u64 voff = 0;
	size_t len;
	int ret;

	*bytes = 0;
	while (r->n < p->depth && *bytes < want) {
		len = p->sizes[*bufno % p->nsizes];
		if (voff + len > g->vram_size)
			break;
		s = &r->src[r->n];
		d = &r->dst[r->n];
		ret = sgt_buf_alloc(s, len, *bufno % SGT_KIND__COUNT);
		if (ret)
			return sgt_failed(f, "alloc", ret);
		ret = sgt_buf_alloc(d, len, (*bufno + 1) % SGT_KIND__COUNT);
		if (ret) {
			sgt_buf_free(s);
			return sgt_failed(f, "alloc", ret);
		}
		r->voff[r->n] = voff;
		r->n++;		/* from here sgt_round_free() owns them */
		s->id = *bufno;
		d->id = *bufno;
		(*bufno)++;
		sgt_buf_fill(s, p->seed);
		sgt_buf_poison(d);
		ret = sgt_buf_map(g, s, DMA_TO_DEVICE);
		if (!ret)
			ret = sgt_buf_map(g, d, DMA_FROM_DEVICE);
		if (ret)
			return sgt_failed(f, "map", ret);
		voff += ALIGN(len, SZ_4K);
		*bytes += len;
	}
	return 0;
}

static int sgt_round_move(struct sgt_dev *g, const struct sgt_params *p,
			  struct sgt_round *r, struct sgt_fail *f)
{
	unsigned int i;
	size_t bad, tail;
	int ret = 0;

	for (i = 0; i < r->n && !ret; i++)
		ret = sgt_buf_copy(g, &r->src[i], r->voff[i], true);
	ret = ret ?: sgt_fence(g);
	if (ret) {
		sgt_engine_stop(g);
		return sgt_failed(f, "engine", ret);
	}
	/* the CPU sees what the engine wrote: every buffer's ends, one whole */
	for (i = 0; i < r->n; i++) {
		tail = min_t(size_t, 64, r->src[i].len);
		ret = sgt_vram_verify(g, r->voff[i], tail, p->seed,
				      r->src[i].id, 0, f) ?:
		      sgt_vram_verify(g, r->voff[i] + r->src[i].len - tail,
				      tail, p->seed, r->src[i].id,
				      (r->src[i].len - tail) / 8, f);
		if (ret)
			return ret;
	}
	i = g->cnt.rounds % r->n;
	ret = sgt_vram_verify(g, r->voff[i], r->src[i].len, p->seed,
			      r->src[i].id, 0, f);
	if (ret)
		return ret;

	for (i = 0; i < r->n && !ret; i++)
		ret = sgt_buf_copy(g, &r->dst[i], r->voff[i], false);
	ret = ret ?: sgt_fence(g);
	if (ret) {
		sgt_engine_stop(g);
		return sgt_failed(f, "engine", ret);
	}
	for (i = 0; i < r->n; i++) {
		sgt_buf_unmap(g, &r->src[i]);
		sgt_buf_unmap(g, &r->dst[i]);
	}
	for (i = 0; i < r->n; i++) {
		if (sgt_buf_verify(&r->dst[i], p->seed, &bad)) {
			g->cnt.errors++;
			dev_err(&g->pdev->dev,
				"buffer %llu (%zu bytes, %s): byte %zu differs after system -> VRAM -> system\n",
				r->dst[i].id, r->dst[i].len,
				sgt_kind_name(r->dst[i].kind), bad);
			if (!f->why) {
				f->buf = r->dst[i].id;
				f->off = bad;
			}
			sgt_failed(f, "verify", -EIO);
			continue;
		}
		g->cnt.bytes_verified += r->dst[i].len;
	}
	g->cnt.rounds++;
	return f->why ? f->err : 0;
}

/* MiB/s of bytes in ns: KiB * 10^9 / ns fits 64 bits up to ~16 TiB */
static u64 sgt_mib_s(u64 bytes, u64 ns)
{
	return ns ? div64_u64((bytes >> 10) * NSEC_PER_SEC, ns) >> 10 : 0;
}

static void sgt_report(struct sgt_dev *g, const struct sgt_params *p,
		       const struct sgt_fail *f, u64 irq0[], u64 ns)
{
	struct sgt_counts *c = &g->cnt;
	u64 moved = c->bytes_to_vram + c->bytes_from_vram, irqs = 0, n;
	size_t len;
	int i;

	len = scnprintf(g->result, sizeof(g->result),
			"status=%s why=%s err=%d bad_buf=%lld bad_off=%lld",
			f->why ? "fail" : "pass", f->why ?: "none", f->err,
			(s64)f->buf, (s64)f->off);
	len += scnprintf(g->result + len, sizeof(g->result) - len,
			 " mib=%llu seed=%llu flr_at=%llu depth=%u sizes=%u rounds=%llu buffers=%llu bytes_to_vram=%llu bytes_from_vram=%llu bytes_verified=%llu vram_cpu_bytes=%llu",
			 p->mib, p->seed, p->flr_at, p->depth, p->nsizes,
			 c->rounds, c->buffers, c->bytes_to_vram,
			 c->bytes_from_vram, c->bytes_verified,
			 c->vram_cpu_bytes);
	for (i = 0; i < g->nvec; i++) {
		n = atomic64_read(&g->irqs[i]) - irq0[i];
		irqs += n;
		len += scnprintf(g->result + len, sizeof(g->result) - len,
				 " msix_v%d=%llu", i, n);
	}
	len += scnprintf(g->result + len, sizeof(g->result) - len,
			 " vectors=%d msix=%llu fences=%llu cmds=%llu errors=%llu flrs=%llu map_sg=%llu map_page=%llu dma_segs=%llu peak_buffers=%llu peak_bytes=%llu live_buffers=%llu",
			 g->nvec, irqs, c->fences, c->cmds, c->errors, c->flrs,
			 c->map_sg, c->map_page, c->dma_segs, c->peak_buffers,
			 c->peak_bytes, c->live_buffers);
	scnprintf(g->result + len, sizeof(g->result) - len,
		  " engine_error=%u engine_fault=%#llx elapsed_ms=%llu engine_ms=%llu engine_mib_s=%llu run_mib_s=%llu\n",
		  g->stop_error, g->stop_fault,
		  div_u64(ns, NSEC_PER_MSEC), div_u64(c->engine_ns, NSEC_PER_MSEC),
		  sgt_mib_s(moved, c->engine_ns), sgt_mib_s(moved, ns));
}

int sgt_run(struct sgt_dev *g, char *params)
{
	u64 irq0[SGT_MAX_VECS], want, moved = 0, bufno = 0, bytes;
	struct sgt_fail f = { .buf = U64_MAX, .off = U64_MAX };
	struct sgt_params p;
	struct sgt_round r = { };
	bool flr_due;
	ktime_t t0;
	int i, ret;

	memset(&g->cnt, 0, sizeof(g->cnt));
	g->stop_error = 0;
	g->stop_fault = 0;
	ret = sgt_parse(g, &p, params);
	if (ret) {
		sgt_failed(&f, "params", ret);
		goto out_report;
	}
	flr_due = p.flr_at != 0;
	g->timeout_ms = p.timeout_ms;
	for (i = 0; i < SGT_MAX_VECS; i++)
		irq0[i] = atomic64_read(&g->irqs[i]);
	t0 = ktime_get();
	r.src = kvcalloc(p.depth, sizeof(*r.src), GFP_KERNEL);
	r.dst = kvcalloc(p.depth, sizeof(*r.dst), GFP_KERNEL);
	r.voff = kvcalloc(p.depth, sizeof(*r.voff), GFP_KERNEL);
	if (!r.src || !r.dst || !r.voff) {
		sgt_failed(&f, "alloc", -ENOMEM);
		goto out;
	}
	ret = sgt_engine_start(g);
	if (ret) {
		sgt_failed(&f, "engine", ret);
		goto out;
	}
	/* ids from 1: 0 would be the exchange's and the rounds' first both */
	bufno = 1;
	if (sgt_vram_exchange(g, p.seed, &bufno, &f))
		goto out;
	want = p.mib << 20;
	while (moved < want) {
		if (sgt_round_build(g, &p, &r, want - moved, &bufno, &bytes,
				    &f))
			break;
		if (flr_due && moved >= p.flr_at << 20) {
			flr_due = false;
			if (sgt_flr(g)) {
				sgt_failed(&f, "flr", -EIO);
				break;
			}
			if (sgt_vram_exchange(g, p.seed, &bufno, &f))
				break;
		}
		if (sgt_round_move(g, &p, &r, &f))
			break;
		sgt_round_free(g, &r);
		moved += bytes;
	}
	if (!f.why && flr_due)
		sgt_failed(&f, "flr_never", -EINVAL);	/* flr_at >= mib */
out:
	sgt_round_free(g, &r);
	kvfree(r.src);
	kvfree(r.dst);
	kvfree(r.voff);
	if (f.why)
		g->cnt.errors = max_t(u64, g->cnt.errors, 1);
	sgt_report(g, &p, &f, irq0, ktime_to_ns(ktime_sub(ktime_get(), t0)));
	return f.why ? -EIO : 0;
out_report:
	g->cnt.errors = 1;
	for (i = 0; i < SGT_MAX_VECS; i++)
		irq0[i] = atomic64_read(&g->irqs[i]);
	sgt_report(g, &p, &f, irq0, 0);
	return ret;
}
