// SPDX-License-Identifier: GPL-2.0
/*
 * quirkcheck.c - what a guest program sees of apple_dma's CPU quirks (the
 * VM tests run it from /init, through tests/vm/quirks.sh).
 *
 *   quirkcheck tso on|off     the TSO memory-model prctl (guest/quirks/tso.c):
 *                             on: answered as a TSO kernel answers it, bad
 *                             arguments still refused; off: refused (EINVAL)
 *   quirkcheck dczva on|off   arm64, on every online CPU (guest/quirks/dczva.c):
 *                             on: DCZID_EL0.DZP reads 1 (so libcs do not use
 *                             DC ZVA), and a DC ZVA run anyway still zeroes
 *                             its block (trapped and emulated by apple_dma);
 *                             off: DZP reads 0 and DC ZVA zeroes its block
 *
 * Prints "@@RESULT name=quirk-tso|quirk-dczva phase=total status=pass|fail
 * ..." and one "@@FAIL quirkcheck: ..." line per expectation that does not
 * hold. Exit status 0 when all hold, 1 when one does not, 2 on usage errors.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

/* the prctl of Asahi kernels that tso.c shims; not in mainline headers */
#define MEM_MODEL_SET		0x4d4d444c
#define MEM_MODEL_GET		0x6d4d444c
#define MEM_MODEL_DEFAULT	0
#define MEM_MODEL_TSO		1

static int failures;

static void expect(bool cond, const char *what)
{
	if (!cond) {
		printf("@@FAIL quirkcheck: %s\n", what);
		failures++;
	}
}

/* prctl's result, or -errno */
static long pr(long op, long a, long b, long c, long d)
{
	long r = prctl(op, a, b, c, d);

	return r < 0 ? -errno : r;
}

static int check_tso(bool on)
{
	char name[16] = "";
	long get, set_tso, set_def;

	get = pr(MEM_MODEL_GET, 0, 0, 0, 0);
	set_tso = pr(MEM_MODEL_SET, MEM_MODEL_TSO, 0, 0, 0);
	set_def = pr(MEM_MODEL_SET, MEM_MODEL_DEFAULT, 0, 0, 0);
	if (on) {
		expect(get == MEM_MODEL_DEFAULT, "GET_MEM_MODEL did not answer DEFAULT");
		expect(set_tso == 0, "SET_MEM_MODEL(TSO) was refused");
		expect(set_def == 0, "SET_MEM_MODEL(DEFAULT) was refused");
	} else {
		expect(get == -EINVAL, "GET_MEM_MODEL answered without the shim");
		expect(set_tso == -EINVAL, "SET_MEM_MODEL(TSO) answered without the shim");
	}
	/* what a TSO kernel refuses stays refused either way */
	expect(pr(MEM_MODEL_SET, 2, 0, 0, 0) == -EINVAL, "SET_MEM_MODEL(2) accepted");
	expect(pr(MEM_MODEL_GET, 1, 0, 0, 0) == -EINVAL, "GET_MEM_MODEL with an argument accepted");
	expect(pr(MEM_MODEL_SET, MEM_MODEL_TSO, 0, 1, 0) == -EINVAL,
	       "SET_MEM_MODEL with a stray argument accepted");
	/* and every other prctl is the kernel's own */
	expect(pr(PR_SET_NAME, (long)"quirkcheck", 0, 0, 0) == 0 &&
	       pr(PR_GET_NAME, (long)name, 0, 0, 0) == 0 &&
	       !strcmp(name, "quirkcheck"), "PR_SET_NAME/PR_GET_NAME broken");
	/* answers: how many of the three calls got a TSO kernel's answer */
	printf("@@RESULT name=quirk-tso phase=total status=%s expect=%s get=%ld set_tso=%ld set_default=%ld answers=%d\n",
	       failures ? "fail" : "pass", on ? "on" : "off", get, set_tso,
	       set_def, (get == 0) + (set_tso == 0) + (set_def == 0));
	return failures ? 1 : 0;
}

#ifdef __aarch64__
static uint64_t dczid(void)
{
	uint64_t v;

	asm volatile("mrs %0, dczid_el0" : "=r"(v));
	return v;
}

/* In a child on CPU: DC ZVA on a block of 0xff; exit 0 if it was zeroed. */
static int zva_child(int cpu, size_t block)
{
	static unsigned char buf[4096] __attribute__((aligned(4096)));
	cpu_set_t set;
	size_t i;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set))
		return 4;
	memset(buf, 0xff, sizeof(buf));
	asm volatile("dc zva, %0" : : "r"(buf) : "memory");
	for (i = 0; i < block && i < sizeof(buf); i++)
		if (buf[i])
			return 3;
	return 0;
}

static int check_dczva(bool on)
{
	int ncpu = (int)sysconf(_SC_NPROCESSORS_CONF), cpu;
	int cpus = 0, dzp_set = 0, sigill = 0, zeroed = 0;
	size_t block = 0;
	char what[96];

	for (cpu = 0; cpu < ncpu; cpu++) {
		cpu_set_t set;
		uint64_t id;
		int st;
		pid_t pid;

		CPU_ZERO(&set);
		CPU_SET(cpu, &set);
		if (sched_setaffinity(0, sizeof(set), &set))
			continue;	/* offline */
		cpus++;
		id = dczid();
		block = (size_t)4 << (id & 0xf);
		if (id & 0x10)
			dzp_set++;
		fflush(stdout);
		pid = fork();
		if (pid == 0)
			_exit(zva_child(cpu, block));
		if (pid < 0 || waitpid(pid, &st, 0) != pid) {
			expect(false, "fork/wait failed");
			continue;
		}
		if (WIFSIGNALED(st) && WTERMSIG(st) == SIGILL)
			sigill++;
		else if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
			zeroed++;
		snprintf(what, sizeof(what), "cpu%d: DZP=%d, DC ZVA %s", cpu,
			 !!(id & 0x10), WIFSIGNALED(st) ? strsignal(WTERMSIG(st)) :
			 WEXITSTATUS(st) ? "left its block unzeroed" : "zeroed its block");
		expect(!!(id & 0x10) == on && WIFEXITED(st) && !WEXITSTATUS(st), what);
	}
	expect(cpus > 0, "no CPU could be pinned");
	printf("@@RESULT name=quirk-dczva phase=total status=%s expect=%s cpus=%d dzp_set=%d zva_sigill=%d zva_zeroed=%d block=%zu\n",
	       failures ? "fail" : "pass", on ? "on" : "off", cpus, dzp_set,
	       sigill, zeroed, block);
	return failures ? 1 : 0;
}
#else
static int check_dczva(bool on)
{
	(void)on;
	printf("@@RESULT name=quirk-dczva phase=total status=skip why=not-arm64\n");
	return 0;
}
#endif

int main(int argc, char **argv)
{
	bool on;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc != 3 || (strcmp(argv[2], "on") && strcmp(argv[2], "off"))) {
		fprintf(stderr, "usage: quirkcheck tso|dczva on|off\n");
		return 2;
	}
	on = !strcmp(argv[2], "on");
	if (!strcmp(argv[1], "tso"))
		return check_tso(on);
	if (!strcmp(argv[1], "dczva"))
		return check_dczva(on);
	fprintf(stderr, "quirkcheck: unknown check '%s' (tso or dczva)\n", argv[1]);
	return 2;
}
