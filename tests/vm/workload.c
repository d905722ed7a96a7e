// SPDX-License-Identifier: GPL-2.0
/*
 * workload.c - the guest half of the VM test: push seeded pseudo-random data
 * through a block device and prove that it comes back intact.
 *
 * Each of T threads owns a disjoint region of the device and cuts it into
 * chunks whose sizes cycle through a table (4 KiB .. 4 MiB, some of them not
 * powers of two). A chunk is written with O_DIRECT from a buffer that is
 * page-aligned or only sector-aligned, or through the page cache, so the
 * DMA mappings the kernel asks for are of many shapes. After every thread
 * has written, the data is synced, the caches dropped (BLKFLSBUF and
 * /proc/sys/vm/drop_caches), and each thread reads its region back and
 * compares every chunk with the data regenerated from the seed.
 *
 * The content of byte offset o depends only on (seed, o), so nothing is
 * kept in memory between the phases and any chunk can be checked alone.
 *
 * Strict mode (default): every write must succeed. Tolerant mode (-k): a
 * failed write is reported (CHUNK lines) and only the chunks the kernel said
 * were written are verified; those must then all read back intact.
 *
 * Output is for machines: lines starting "@@RESULT " with key=value pairs.
 * Exit status 0 when the verification holds, 1 when it does not, 2 on usage
 * or setup errors.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/fs.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define KiB		((uint64_t)1024)
#define MiB		(1024 * KiB)
#define SECTOR		512u
#define BUF_ALIGN	4096u
#define MAX_THREADS	16
#define READ_RETRIES	3
#define MAX_REPORTS	8	/* per-chunk failure lines printed per thread */

/* Chunk sizes, cycled; all multiples of 4 KiB so every chunk stays aligned. */
static const uint32_t chunk_sizes[] = {
	4 * KiB, 64 * KiB, 512 * KiB, 1 * MiB, 8 * KiB, 2 * MiB, 12 * KiB,
	128 * KiB, 68 * KiB, 4 * MiB, 16 * KiB, 516 * KiB, 256 * KiB, 1 * MiB,
};
#define NCHUNK_SIZES	(sizeof(chunk_sizes) / sizeof(chunk_sizes[0]))
#define MAX_CHUNK	(4 * MiB)

enum io_mode { IO_DIRECT, IO_BUFFERED, IO_MIXED };

struct options {
	const char *dev;
	const char *name;
	uint64_t offset;	/* bytes */
	uint64_t size;		/* bytes, all threads together */
	unsigned int threads;
	uint64_t seed;
	enum io_mode wmode;
	enum io_mode rmode;
	bool tolerant;
	bool verify_only;	/* skip the write phase: check an earlier run */
	uint32_t chunk;		/* fixed chunk size in bytes; 0: cycle the table */
	uint64_t group;		/* buffered bytes between fsyncs */
};

static struct options opt = {
	.dev = "/dev/nvme0n1",
	.name = "workload",
	.size = 64 * MiB,
	.threads = 1,
	.seed = 1,
	.wmode = IO_MIXED,
	.rmode = IO_DIRECT,
	.group = 8 * MiB,
};

/* Per-thread state and results. */
struct worker {
	unsigned int id;
	uint64_t start, end;	/* byte range of the device this thread owns */
	unsigned int nchunks;
	uint8_t *written;	/* per chunk: 1 if the kernel said it was written */
	unsigned char *buf;	/* MAX_CHUNK + BUF_ALIGN, BUF_ALIGN aligned */
	unsigned char *ref;	/* expected data, same size */
	int fd_direct, fd_buffered;
	/* write phase */
	uint64_t cpus;		/* CPUs this thread issued writes from, a bit each */
	unsigned int w_ok, w_failed;
	uint64_t w_bytes_ok;
	uint64_t w_sum;
	double w_secs;
	/* read phase */
	unsigned int r_verified, r_mismatched, r_errors;
	uint64_t r_bytes;
	uint64_t r_sum;
	double r_secs;
	int reports;
};

static pthread_mutex_t out_lock = PTHREAD_MUTEX_INITIALIZER;

static void out(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void out(const char *fmt, ...)
{
	va_list ap;

	pthread_mutex_lock(&out_lock);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	fflush(stdout);
	pthread_mutex_unlock(&out_lock);
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* The 64-bit word at byte offset 8*i of the device: splitmix64 of (seed, i). */
static inline uint64_t word_at(uint64_t i)
{
	uint64_t z = opt.seed * 0xd1342543de82ef95ull + i * 0x9e3779b97f4a7c15ull;

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static void fill(unsigned char *p, uint64_t off, uint64_t len)
{
	uint64_t w = off / 8, n = len / 8;

	for (uint64_t k = 0; k < n; k++) {
		uint64_t v = word_at(w + k);

		memcpy(p + 8 * k, &v, 8);
	}
}

/* Checksum of one chunk, keyed by its offset so that sums over chunks
 * can be added in any order and still tell misplaced data apart. */
static uint64_t chunk_sum(const unsigned char *p, uint64_t off, uint64_t len)
{
	uint64_t h = 0xcbf29ce484222325ull ^ off;

	for (uint64_t k = 0; k < len / 8; k++) {
		uint64_t v;

		memcpy(&v, p + 8 * k, 8);
		h = (h ^ v) * 0x100000001b3ull;
		h ^= h >> 29;
	}
	return h;
}

static uint32_t chunk_len(const struct worker *w, unsigned int i, uint64_t off)
{
	uint64_t len = opt.chunk ? opt.chunk : chunk_sizes[(i + w->id) % NCHUNK_SIZES];

	return (uint32_t)(off + len > w->end ? w->end - off : len);
}

/* How chunk i is written: O_DIRECT or through the page cache. */
static bool chunk_direct(enum io_mode m, unsigned int i)
{
	if (m == IO_MIXED)
		return i % 3 != 2;
	return m == IO_DIRECT;
}

/* Where in the buffer the data starts: page-aligned, or only sector-aligned
 * so the DMA segments straddle page boundaries. Buffered I/O: any offset. */
static unsigned int buf_offset(bool direct, unsigned int i)
{
	if (direct)
		return (i & 1) ? SECTOR : 0;
	return (i & 1) ? 8 : 0;
}

/* Full pwrite, or -errno / -EIO for a short write. */
static int write_all(int fd, const void *p, uint64_t len, uint64_t off)
{
	ssize_t n = pwrite(fd, p, len, (off_t)off);

	if (n < 0)
		return -errno;
	return (uint64_t)n == len ? 0 : -EIO;
}

static int read_all(int fd, void *p, uint64_t len, uint64_t off)
{
	ssize_t n = pread(fd, p, len, (off_t)off);

	if (n < 0)
		return -errno;
	return (uint64_t)n == len ? 0 : -EIO;
}

static void report_chunk(struct worker *w, const char *what, uint64_t off,
			 uint64_t len, int err, long long at)
{
	if (w->reports++ >= MAX_REPORTS)
		return;
	out("@@CHUNK name=%s thread=%u what=%s off=%" PRIu64 " len=%" PRIu64
	    " err=%d first_bad=%lld\n", opt.name, w->id, what, off, len, -err,
	    at);
}

/*
 * Buffered chunks are only known to be on the device after an fsync that
 * succeeded; until then they are "pending". A failed fsync fails them all.
 */
static int settle_pending(struct worker *w, unsigned int first, unsigned int end,
			  const uint64_t *offs)
{
	int err = 0;

	if (first == end)
		return 0;
	if (fsync(w->fd_buffered) < 0)
		err = -errno;
	for (unsigned int i = first; i < end; i++) {
		uint64_t len;

		if (w->written[i] != 2)
			continue;
		len = chunk_len(w, i, offs[i]);
		if (err) {
			w->written[i] = 0;
			w->w_failed++;
			report_chunk(w, "fsync", offs[i], len, err, -1);
		} else {
			w->written[i] = 1;
			w->w_ok++;
			w->w_bytes_ok += len;
			fill(w->ref, offs[i], len);
			w->w_sum += chunk_sum(w->ref, offs[i], len);
		}
	}
	return err;
}

static void *write_phase(void *arg)
{
	struct worker *w = arg;
	uint64_t *offs = calloc(w->nchunks, sizeof(*offs));
	uint64_t pending_bytes = 0;
	unsigned int pending_from = 0;
	double t0 = now();
	uint64_t off = w->start;

	if (!offs) {
		out("@@RESULT name=%s phase=error what=oom\n", opt.name);
		exit(2);
	}
	for (unsigned int i = 0; i < w->nchunks; i++) {
		uint32_t len = chunk_len(w, i, off);
		bool direct = chunk_direct(opt.wmode, i);
		unsigned char *p = w->buf + buf_offset(direct, i);
		int err, cpu;

		offs[i] = off;
		fill(p, off, len);
		cpu = sched_getcpu();
		if (cpu >= 0 && cpu < 64)
			w->cpus |= 1ull << cpu;
		err = write_all(direct ? w->fd_direct : w->fd_buffered, p, len, off);
		if (err) {
			w->written[i] = 0;
			w->w_failed++;
			report_chunk(w, direct ? "write_direct" : "write_buffered",
				     off, len, err, -1);
		} else if (direct) {
			w->written[i] = 1;
			w->w_ok++;
			w->w_bytes_ok += len;
			w->w_sum += chunk_sum(p, off, len);
		} else {
			w->written[i] = 2;	/* pending until fsync */
			pending_bytes += len;
		}
		if (pending_bytes >= opt.group) {
			settle_pending(w, pending_from, i + 1, offs);
			pending_from = i + 1;
			pending_bytes = 0;
		}
		off += len;
	}
	settle_pending(w, pending_from, w->nchunks, offs);
	w->w_secs = now() - t0;
	free(offs);
	return NULL;
}

static void *read_phase(void *arg)
{
	struct worker *w = arg;
	double t0 = now();
	uint64_t off = w->start;

	for (unsigned int i = 0; i < w->nchunks; i++) {
		uint32_t len = chunk_len(w, i, off);
		/* read with the other alignment than the write used */
		bool direct = opt.rmode == IO_DIRECT;
		unsigned char *p = w->buf + buf_offset(direct, i + 1);
		int err = 0;

		if (!w->written[i]) {
			off += len;
			continue;
		}
		for (int tries = 0; tries < READ_RETRIES; tries++) {
			err = read_all(direct ? w->fd_direct : w->fd_buffered,
				       p, len, off);
			if (!err)
				break;
			usleep(200 * 1000);
		}
		if (err) {
			w->r_errors++;
			report_chunk(w, "read", off, len, err, -1);
		} else {
			fill(w->ref, off, len);
			w->r_sum += chunk_sum(p, off, len);
			w->r_bytes += len;
			if (memcmp(p, w->ref, len)) {
				long long at = 0;

				while (p[at] == w->ref[at])
					at++;
				w->r_mismatched++;
				report_chunk(w, "mismatch", off, len, 0, at);
			} else {
				w->r_verified++;
			}
		}
		off += len;
	}
	w->r_secs = now() - t0;
	return NULL;
}

/* -V: take every chunk as written, with the data the seed says. */
static void mark_all_written(struct worker *w)
{
	uint64_t off = w->start;

	for (unsigned int i = 0; i < w->nchunks; i++) {
		uint32_t len = chunk_len(w, i, off);

		w->written[i] = 1;
		w->w_ok++;
		w->w_bytes_ok += len;
		fill(w->ref, off, len);
		w->w_sum += chunk_sum(w->ref, off, len);
		off += len;
	}
}

static void drop_caches(int fd)
{
	int pfd;

	sync();
	if (ioctl(fd, BLKFLSBUF, 0) < 0)
		out("@@NOTE name=%s what=blkflsbuf err=%d\n", opt.name, errno);
	pfd = open("/proc/sys/vm/drop_caches", O_WRONLY);
	if (pfd < 0 || write(pfd, "3\n", 2) != 2)
		out("@@NOTE name=%s what=drop_caches err=%d\n", opt.name, errno);
	if (pfd >= 0)
		close(pfd);
}

static int run_threads(struct worker *ws, void *(*fn)(void *))
{
	pthread_t tid[MAX_THREADS];

	for (unsigned int t = 0; t < opt.threads; t++) {
		if (pthread_create(&tid[t], NULL, fn, &ws[t])) {
			out("@@RESULT name=%s phase=error what=pthread_create\n",
			    opt.name);
			return -1;
		}
	}
	for (unsigned int t = 0; t < opt.threads; t++)
		pthread_join(tid[t], NULL);
	return 0;
}

static enum io_mode parse_mode(const char *s)
{
	if (!strcmp(s, "direct"))
		return IO_DIRECT;
	if (!strcmp(s, "buffered"))
		return IO_BUFFERED;
	if (!strcmp(s, "mixed"))
		return IO_MIXED;
	fprintf(stderr, "workload: unknown mode '%s'\n", s);
	exit(2);
}

static void usage(void)
{
	fprintf(stderr,
		"usage: workload [-d DEV] [-n NAME] [-o OFFSET_MIB] [-m SIZE_MIB]\n"
		"                [-t THREADS] [-s SEED] [-w direct|buffered|mixed]\n"
		"                [-r direct|buffered] [-g GROUP_MIB] [-c CHUNK_KIB] [-k] [-V]\n"
		"  -c  every chunk this size (multiple of 4, at most 4096); default: sizes cycle\n"
		"  -k  tolerant: failed writes are reported, only written chunks verified\n"
		"  -V  verify only: check data an earlier run with the same -o/-m/-t/-s wrote\n");
	exit(2);
}

static void parse_args(int argc, char **argv)
{
	int c;

	while ((c = getopt(argc, argv, "d:n:o:m:t:s:w:r:g:c:kVh")) != -1) {
		switch (c) {
		case 'd': opt.dev = optarg; break;
		case 'n': opt.name = optarg; break;
		case 'o': opt.offset = strtoull(optarg, NULL, 0) * MiB; break;
		case 'm': opt.size = strtoull(optarg, NULL, 0) * MiB; break;
		case 't': opt.threads = (unsigned int)strtoul(optarg, NULL, 0); break;
		case 's': opt.seed = strtoull(optarg, NULL, 0); break;
		case 'w': opt.wmode = parse_mode(optarg); break;
		case 'r': opt.rmode = parse_mode(optarg); break;
		case 'g': opt.group = strtoull(optarg, NULL, 0) * MiB; break;
		case 'c': opt.chunk = (uint32_t)(strtoul(optarg, NULL, 0) * KiB); break;
		case 'k': opt.tolerant = true; break;
		case 'V': opt.verify_only = true; break;
		default: usage();
		}
	}
	if (optind != argc || !opt.size || !opt.threads ||
	    opt.threads > MAX_THREADS || opt.rmode == IO_MIXED ||
	    opt.chunk % (4 * KiB) || opt.chunk > MAX_CHUNK ||
	    opt.size % (opt.threads * MiB))
		usage();
}

int main(int argc, char **argv)
{
	struct worker ws[MAX_THREADS];
	uint64_t per, devsize = 0;
	unsigned int w_ok = 0, w_failed = 0, r_ver = 0, r_bad = 0, r_err = 0;
	uint64_t w_bytes = 0, r_bytes = 0, w_sum = 0, r_sum = 0, cpus = 0;
	double t_w, t_r, t0;
	int fd;
	bool pass;

	parse_args(argc, argv);
	fd = open(opt.dev, O_RDWR);
	if (fd >= 0 && ioctl(fd, BLKGETSIZE64, &devsize) < 0) {
		struct stat st;	/* a plain file, for trying it out on a host */

		devsize = fstat(fd, &st) == 0 && S_ISREG(st.st_mode) ? (uint64_t)st.st_size : 0;
	}
	if (fd < 0 || !devsize) {
		out("@@RESULT name=%s phase=error what=open dev=%s err=%d\n",
		    opt.name, opt.dev, errno);
		return 2;
	}
	if (opt.offset + opt.size > devsize) {
		out("@@RESULT name=%s phase=error what=too_big devsize=%" PRIu64 "\n",
		    opt.name, devsize);
		return 2;
	}

	per = opt.size / opt.threads;
	memset(ws, 0, sizeof(ws));
	for (unsigned int t = 0; t < opt.threads; t++) {
		struct worker *w = &ws[t];
		uint64_t off;

		w->id = t;
		w->start = opt.offset + t * per;
		w->end = w->start + per;
		for (off = w->start; off < w->end; w->nchunks++)
			off += chunk_len(w, w->nchunks, off);
		w->written = calloc(w->nchunks, 1);
		if (!w->written ||
		    posix_memalign((void **)&w->buf, BUF_ALIGN, MAX_CHUNK + BUF_ALIGN) ||
		    posix_memalign((void **)&w->ref, BUF_ALIGN, MAX_CHUNK + BUF_ALIGN)) {
			out("@@RESULT name=%s phase=error what=oom\n", opt.name);
			return 2;
		}
		w->fd_direct = open(opt.dev, O_RDWR | O_DIRECT);
		w->fd_buffered = open(opt.dev, O_RDWR);
		if (w->fd_direct < 0 || w->fd_buffered < 0) {
			out("@@RESULT name=%s phase=error what=open_thread err=%d\n",
			    opt.name, errno);
			return 2;
		}
	}

	out("@@RESULT name=%s phase=start dev=%s devsize=%" PRIu64 " mib=%" PRIu64
	    " offset_mib=%" PRIu64 " threads=%u seed=%" PRIu64 " tolerant=%d\n",
	    opt.name, opt.dev, devsize, opt.size / MiB, opt.offset / MiB,
	    opt.threads, opt.seed, opt.tolerant);

	t0 = now();
	if (!opt.verify_only) {
		if (run_threads(ws, write_phase))
			return 2;
	} else {
		for (unsigned int t = 0; t < opt.threads; t++)
			mark_all_written(&ws[t]);
	}
	t_w = now() - t0;
	drop_caches(fd);

	t0 = now();
	if (run_threads(ws, read_phase))
		return 2;
	t_r = now() - t0;

	for (unsigned int t = 0; t < opt.threads; t++) {
		struct worker *w = &ws[t];

		out("@@RESULT name=%s phase=thread thread=%u chunks=%u write_ok=%u"
		    " write_failed=%u verified=%u mismatched=%u read_errors=%u"
		    " cpus=%d write_s=%.2f read_s=%.2f\n", opt.name, t, w->nchunks,
		    w->w_ok, w->w_failed, w->r_verified, w->r_mismatched,
		    w->r_errors, __builtin_popcountll(w->cpus), w->w_secs, w->r_secs);
		cpus |= w->cpus;
		w_ok += w->w_ok;
		w_failed += w->w_failed;
		w_bytes += w->w_bytes_ok;
		w_sum += w->w_sum;
		r_ver += w->r_verified;
		r_bad += w->r_mismatched;
		r_err += w->r_errors;
		r_bytes += w->r_bytes;
		r_sum += w->r_sum;
		close(w->fd_direct);
		close(w->fd_buffered);
	}

	pass = r_bad == 0 && r_err == 0 && w_sum == r_sum && r_ver == w_ok &&
	       r_bytes == w_bytes && (opt.tolerant || w_failed == 0) && w_ok > 0;
	out("@@RESULT name=%s phase=total mib=%" PRIu64 " threads=%u cpus=%d"
	    " chunks_ok=%u chunks_failed=%u bytes_ok=%" PRIu64
	    " chunks_verified=%u bytes_read=%" PRIu64 " mismatched=%u"
	    " read_errors=%u write_sum=%016" PRIx64 " read_sum=%016" PRIx64
	    " write_s=%.2f read_s=%.2f write_mib_s=%.1f read_mib_s=%.1f"
	    " status=%s\n", opt.name, opt.size / MiB, opt.threads,
	    __builtin_popcountll(cpus), w_ok,
	    w_failed, w_bytes, r_ver, r_bytes, r_bad, r_err, w_sum, r_sum, t_w,
	    t_r, t_w > 0 ? w_bytes / MiB / t_w : 0.0,
	    t_r > 0 ? r_bytes / MiB / t_r : 0.0, pass ? "pass" : "fail");
	close(fd);
	return pass ? 0 : 1;
}
