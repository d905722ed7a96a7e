// SPDX-License-Identifier: (GPL-2.0 OR MIT)
/*
 * main.c - egpu-vm: global options, then one verb (verbs.h).
 */
#define _DEFAULT_SOURCE
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util.h"
#include "verbs.h"

struct egpu_globals egpu_g;

static const struct verb {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *what;
} verbs[] = {
	{ "doctor", cmd_doctor, "what is present and usable here, and how to fix the rest" },
	{ "list-devices", cmd_list_devices, "the GPUs our dext can claim (macOS)" },
	{ "run", cmd_run, "start a VM (Mac: HVF + the GPU; Linux: TCG/KVM + simulated GPU)" },
	{ "stats", cmd_stats, "a running VM's apple-dma-pci / egpu-pci counters (QMP)" },
	{ "demo", cmd_demo, "boot the test VMs and show the DMA path (make demo)" },
	{ "pull", cmd_pull, "download a guest image (resumable, SHA-256 verified)" },
	{ "images", cmd_images, "the guest images in the cache" },
	{ "prune", cmd_prune, "remove cached images nothing refers to" },
	{ "image", cmd_image, "build a Debian guest image with apple_dma (DKMS)" },
};

static void usage(FILE *f)
{
	fprintf(f,
		"usage: egpu-vm [--json] [--verbose] VERB [ARGS...]\n"
		"       egpu-vm --help | --version | VERB --help\n\n"
		"Run a Linux VM that uses a Thunderbolt GPU through Apple's DART.\n\n"
		"verbs:\n");
	for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
		fprintf(f, "  %-13s %s\n", verbs[i].name, verbs[i].what);
	fprintf(f,
		"\nglobal options:\n"
		"  --json         data verbs print JSON\n"
		"  -v, --verbose  say more\n"
		"  -h, --help     this text;  -V, --version: the version\n\n"
		"environment: EGPU_CACHE (default ~/.cache/egpu-vm), EGPU_RUN_DIR\n"
		"(default $XDG_RUNTIME_DIR/egpu-vm-UID), EGPU_REPO (the source tree),\n"
		"EGPU_QEMU, EGPU_ACCEL=tcg|kvm.\n"
		"exit codes: 0 ok, 1 failed, 2 usage, 3 unsupported here, 4 missing\n"
		"prerequisite, 5 checksum, 6 not found. See egpu-vm(1).\n");
}

/* The source tree: EGPU_REPO, else two levels above the binary if it looks
 * like ours (build/launcher/egpu-vm or launcher/egpu-vm). */
static const char *find_repo(const char *argv0)
{
	char exe[PATH_MAX], *slash, *probe;
	const char *env = getenv("EGPU_REPO");
	ssize_t n;

	if (env && *env)
		return env;
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n > 0)
		exe[n] = '\0';
	else if (!realpath(argv0, exe))
		return NULL;
	for (int up = 0; up < 3; up++) {
		slash = strrchr(exe, '/');
		if (!slash || slash == exe)
			return NULL;
		*slash = '\0';
		probe = eg_path_join(exe, "tests/vm/prepare.sh");
		if (eg_is_file(probe)) {
			free(probe);
			return eg_xstrdup(exe);
		}
		free(probe);
	}
	return NULL;
}

static void set_globals(const char *argv0)
{
	const char *home = getenv("HOME"), *s;

	s = getenv("EGPU_CACHE");
	if (s && *s)
		egpu_g.cache_dir = s;
	else
		egpu_g.cache_dir = eg_xasprintf("%s/.cache/egpu-vm",
						home ? home : "/tmp");
	s = getenv("EGPU_RUN_DIR");
	if (s && *s) {
		egpu_g.run_dir = s;
	} else {
		s = getenv("XDG_RUNTIME_DIR");
		egpu_g.run_dir = eg_xasprintf("%s/egpu-vm-%u",
					      s && *s ? s : "/tmp",
					      (unsigned int)getuid());
	}
	egpu_g.repo = find_repo(argv0);
}

int main(int argc, char **argv)
{
	int i;

	set_globals(argv[0]);
	for (i = 1; i < argc && argv[i][0] == '-'; i++) {
		const char *a = argv[i];

		if (!strcmp(a, "--json")) {
			egpu_g.json = true;
		} else if (!strcmp(a, "-v") || !strcmp(a, "--verbose")) {
			egpu_g.verbose = true;
		} else if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			usage(stdout);
			return EGPU_EXIT_OK;
		} else if (!strcmp(a, "-V") || !strcmp(a, "--version")) {
			printf("egpu-vm %s\n", EGPU_VERSION);
			return EGPU_EXIT_OK;
		} else {
			eg_err(NULL, "unknown option '%s'", a);
			usage(stderr);
			return EGPU_EXIT_USAGE;
		}
	}
	if (i == argc) {
		eg_err(NULL, "no verb given");
		usage(stderr);
		return EGPU_EXIT_USAGE;
	}
	if (!strcmp(argv[i], "help")) {
		usage(stdout);
		return EGPU_EXIT_OK;
	}
	for (size_t v = 0; v < sizeof(verbs) / sizeof(verbs[0]); v++)
		if (!strcmp(argv[i], verbs[v].name))
			return verbs[v].fn(argc - i, argv + i);
	eg_err(NULL, "unknown verb '%s'", argv[i]);
	usage(stderr);
	return EGPU_EXIT_USAGE;
}
