// SPDX-License-Identifier: GPL-2.0
/*
 * blkbench.c - block I/O figures for the VM benchmarks (tests/vm/bench.py),
 * run in the guest on one disk or, interleaved, on two: the disk behind
 * apple_dma and one without it get the same I/O under the same conditions
 * (a busy host slows both alike; one pass after the other would not).
 *
 *   blkbench lat N RANGE_MIB SEED DEV [DEV2]
 *       N random 4 KiB O_DIRECT reads at queue depth 1 on each disk (one
 *       pread at a time, alternating between the disks, 4 KiB-aligned
 *       offsets in the first RANGE_MIB MiB), after 32 untimed ones: what
 *       fio's "--rw=randread --bs=4k --iodepth=1 --direct=1" measures.
 *       Prints mean, p50 and p99 in microseconds, per disk.
 *   blkbench seq MIB THREADS DEV [DEV2]
 *       sequential 1 MiB O_DIRECT writes, then reads, of MIB MiB per disk,
 *       split in THREADS disjoint regions, one thread each, alternating
 *       between the disks per I/O ("--rw=write/read --bs=1m --direct=1
 *       --numjobs=THREADS"). A disk's MiB/s is the sum over threads of
 *       bytes / time spent in that disk's I/Os (and its fdatasync).
 *
 * Output: one "@@RESULT disk=a|b name=blkbench kind=lat|seq ..." line per
 * disk (a: DEV, b: DEV2). Exit 0 when every I/O completed in full, 1
 * otherwise, 2 on bad arguments.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define KiB		((uint64_t)1024)
#define MiB		(1024 * KiB)
#define LAT_BS		(4 * KiB)
#define LAT_WARM	32
#define SEQ_BS		MiB
#define MAX_THREADS	16

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static uint64_t rnd(uint64_t *s)	/* xorshift64* */
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 0x2545F4914F6CDD1Dull;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static uint64_t parse(const char *s, const char *what)
{
	char *end;
	uint64_t v = strtoull(s, &end, 0);

	if (*s == '\0' || *end != '\0' || v == 0) {
		fprintf(stderr, "blkbench: bad %s '%s'\n", what, s);
		exit(2);
	}
	return v;
}

static int lat(uint64_t n, uint64_t range_mib, uint64_t seed,
	       const char *const *dev, unsigned int ndev)
{
	uint64_t *t[2] = { calloc(n, sizeof(uint64_t)), calloc(n, sizeof(uint64_t)) };
	uint64_t blocks = range_mib * MiB / LAT_BS, s = seed | 1, errs = 0;
	int fd[2] = { -1, -1 };
	void *buf;

	if (!t[0] || !t[1] || posix_memalign(&buf, 4096, LAT_BS))
		return 1;
	for (unsigned int d = 0; d < ndev; d++) {
		fd[d] = open(dev[d], O_RDONLY | O_DIRECT);
		if (fd[d] < 0) {
			printf("@@RESULT disk=%c name=blkbench kind=lat phase=error dev=%s err=%d\n",
			       'a' + d, dev[d], errno);
			return 1;
		}
	}
	for (uint64_t i = 0; i < n + LAT_WARM; i++) {
		off_t off = (off_t)(rnd(&s) % blocks * LAT_BS);

		for (unsigned int d = 0; d < ndev; d++) {
			uint64_t t0 = now_ns();

			if (pread(fd[d], buf, LAT_BS, off) != (ssize_t)LAT_BS)
				errs++;
			if (i >= LAT_WARM)
				t[d][i - LAT_WARM] = now_ns() - t0;
		}
	}
	for (unsigned int d = 0; d < ndev; d++) {
		uint64_t sum = 0;

		close(fd[d]);
		for (uint64_t i = 0; i < n; i++)
			sum += t[d][i];
		qsort(t[d], n, sizeof(uint64_t), cmp_u64);
		printf("@@RESULT disk=%c name=blkbench kind=lat phase=total dev=%s n=%" PRIu64
		       " mean_us=%.2f p50_us=%.2f p99_us=%.2f errors=%" PRIu64 "\n",
		       'a' + d, dev[d], n, sum / 1e3 / n, t[d][n / 2] / 1e3,
		       t[d][n * 99 / 100] / 1e3, errs);
	}
	free(t[0]);
	free(t[1]);
	free(buf);
	return errs != 0;
}

struct job {
	pthread_t tid;
	const char *const *dev;
	unsigned int ndev;
	int write;
	uint64_t start, bytes, errs;
	uint64_t ns[2];		/* time in each disk's I/Os */
};

/* One I/O (or the closing fdatasync, len 0) on fd, timed into *ns. */
static int timed_io(struct job *j, int fd, void *buf, uint64_t len, uint64_t off,
		    uint64_t *ns)
{
	uint64_t t0 = now_ns();
	int bad;

	if (!len)
		bad = fdatasync(fd) != 0;
	else if (j->write)
		bad = pwrite(fd, buf, len, (off_t)off) != (ssize_t)len;
	else
		bad = pread(fd, buf, len, (off_t)off) != (ssize_t)len;
	*ns += now_ns() - t0;
	return bad;
}

static void *seq_job(void *arg)
{
	struct job *j = arg;
	int fd[2] = { -1, -1 };
	void *buf;

	if (posix_memalign(&buf, 4096, SEQ_BS)) {
		j->errs++;
		return NULL;
	}
	memset(buf, 0x5a ^ (int)(j->start / MiB), SEQ_BS);
	for (unsigned int d = 0; d < j->ndev; d++) {
		fd[d] = open(j->dev[d], (j->write ? O_WRONLY : O_RDONLY) | O_DIRECT);
		if (fd[d] < 0)
			j->errs++;
	}
	for (uint64_t o = 0; o < j->bytes && !j->errs; o += SEQ_BS)
		for (unsigned int d = 0; d < j->ndev; d++)
			j->errs += timed_io(j, fd[d], buf, SEQ_BS, j->start + o, &j->ns[d]);
	for (unsigned int d = 0; d < j->ndev; d++) {
		if (j->write && fd[d] >= 0)
			j->errs += timed_io(j, fd[d], buf, 0, 0, &j->ns[d]);
		if (fd[d] >= 0)
			close(fd[d]);
	}
	free(buf);
	return NULL;
}

/* One pass (write or read) by every job: MiB/s per disk into rate[]. */
static void seq_pass(struct job *jobs, unsigned int n, int write, uint64_t *errs,
		     double *rate)
{
	rate[0] = rate[1] = 0;
	for (unsigned int i = 0; i < n; i++) {
		jobs[i].write = write;
		jobs[i].ns[0] = jobs[i].ns[1] = 0;
		if (pthread_create(&jobs[i].tid, NULL, seq_job, &jobs[i])) {
			(*errs)++;
			return;
		}
	}
	for (unsigned int i = 0; i < n; i++) {
		pthread_join(jobs[i].tid, NULL);
		*errs += jobs[i].errs;
		jobs[i].errs = 0;
		for (unsigned int d = 0; d < jobs[i].ndev; d++)
			if (jobs[i].ns[d])
				rate[d] += jobs[i].bytes / (double)MiB / (jobs[i].ns[d] / 1e9);
	}
}

static int seq(uint64_t mib, uint64_t threads, const char *const *dev, unsigned int ndev)
{
	struct job jobs[MAX_THREADS] = { 0 };
	uint64_t errs = 0, per = threads ? mib / threads * MiB : 0;
	double w[2], r[2];

	if (threads > MAX_THREADS || per == 0) {
		fprintf(stderr, "blkbench: want 1..%d threads and >= 1 MiB each\n", MAX_THREADS);
		return 2;
	}
	for (unsigned int i = 0; i < threads; i++)
		jobs[i] = (struct job){ .dev = dev, .ndev = ndev, .start = i * per, .bytes = per };
	seq_pass(jobs, (unsigned int)threads, 1, &errs, w);
	seq_pass(jobs, (unsigned int)threads, 0, &errs, r);
	for (unsigned int d = 0; d < ndev; d++)
		printf("@@RESULT disk=%c name=blkbench kind=seq phase=total dev=%s mib=%" PRIu64
		       " threads=%" PRIu64 " write_mib_s=%.1f read_mib_s=%.1f errors=%" PRIu64 "\n",
		       'a' + d, dev[d], per * threads / MiB, threads, w[d], r[d], errs);
	return errs != 0;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if ((argc == 6 || argc == 7) && !strcmp(argv[1], "lat"))
		return lat(parse(argv[2], "N"), parse(argv[3], "RANGE_MIB"),
			   parse(argv[4], "SEED"), (const char *const *)argv + 5,
			   (unsigned int)argc - 5);
	if ((argc == 5 || argc == 6) && !strcmp(argv[1], "seq"))
		return seq(parse(argv[2], "MIB"), parse(argv[3], "THREADS"),
			   (const char *const *)argv + 4, (unsigned int)argc - 4);
	fprintf(stderr, "usage: blkbench lat N RANGE_MIB SEED DEV [DEV2]\n"
			"       blkbench seq MIB THREADS DEV [DEV2]\n");
	return 2;
}
