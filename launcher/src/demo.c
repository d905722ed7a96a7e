// SPDX-License-Identifier: (GPL-2.0 OR MIT)
/*
 * demo.c - `egpu-vm demo`: what `make demo` shows. The set-up and the VM
 * runs stay where the tests keep them: this verb runs tests/vm/prepare.sh
 * (packages, QEMU, guest kernel, apple_dma.ko, initramfs) and then
 * tests/vm/demo.py (the runs and the table) as child processes.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>

#include "util.h"
#include "verbs.h"

static void usage(void)
{
	printf(
"usage: egpu-vm demo [--mib N] [--no-baseline] [--gpu-mib N | --no-gpu] [--verbose]\n\n"
"Boot the test VM (Linux host, TCG or KVM) with apple-dma-pci over the DART\n"
"simulator, move N MiB (64) through it and show what the guest's apple_dma\n"
"and the host's device counted; then the same without clusters (unless\n"
"--no-baseline), then the GPU path with the simulated GPU (--gpu-mib, 128,\n"
"unless --no-gpu). Runs from the source tree: it runs tests/vm/prepare.sh\n"
"(builds or fetches what is missing; the first time takes long) and then\n"
"tests/vm/demo.py as child processes. While it runs, 'egpu-vm stats'\n"
"reads the VM's counters (socket RUN_DIR/egpu0.qmp).\n");
}

/* "KEY=value" lines of prepare.sh (printf %q): value of KEY, a new string */
static char *env_value(const char *text, const char *key)
{
	size_t kl = strlen(key);
	const char *p = text;

	while (p && *p) {
		const char *end = strchr(p, '\n');
		size_t n = end ? (size_t)(end - p) : strlen(p);

		if (n > kl && !strncmp(p, key, kl) && p[kl] == '=') {
			char *v = eg_xmalloc(n), *d = v;
			const char *s = p + kl + 1, *e = p + n;

			for (; s < e; s++) {
				if (*s == '\\' && s + 1 < e)
					s++;
				else if (*s == '\'')
					continue;
				*d++ = *s;
			}
			*d = '\0';
			return v;
		}
		p = end ? end + 1 : NULL;
	}
	return NULL;
}

static bool positive(const char *s)
{
	uint64_t v;

	return eg_parse_u64(s, &v) && v > 0 && v <= 65536;
}

int cmd_demo(int argc, char **argv)
{
	char *args[32], *env = NULL, *qemu, *kernel, *initrd, *prep, *py;
	int n = 0, rc, i;
	const char *mib = "64";
	struct utsname u;

	if (eg_wants_help(argc, argv)) {
		usage();
		return EGPU_EXIT_OK;
	}
	py = eg_which("python3");
	args[n++] = py ? py : "python3";
	args[n++] = NULL;	/* demo.py, below */
	for (i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (!strcmp(a, "--verbose") || !strcmp(a, "-v") ||
		    !strcmp(a, "--no-baseline") || !strcmp(a, "--no-gpu")) {
			args[n++] = !strcmp(a, "-v") ? "--verbose" : argv[i];
		} else if (!strcmp(a, "--mib") || !strcmp(a, "--gpu-mib")) {
			if (i + 1 >= argc)
				return eg_usage("demo", "%s needs a number of MiB", a);
			if (!positive(argv[i + 1]))
				return eg_usage("demo", "%s '%s': not a number of MiB (1..65536)", a, argv[i + 1]);
			if (!strcmp(a, "--mib")) {
				mib = argv[++i];
				continue;
			}
			args[n++] = argv[i++];
			args[n++] = argv[i];
		} else {
			return eg_usage("demo", "unknown argument '%s'", a);
		}
		if (n > 20)
			return eg_usage("demo", "too many arguments");
	}
	if (uname(&u) || strcmp(u.sysname, "Linux")) {
		eg_err("demo", "the demo boots a Linux test VM under TCG/KVM and is set up for Linux hosts; on a Mac use 'egpu-vm run'");
		return EGPU_EXIT_UNSUPPORTED;
	}
	if (!egpu_g.repo) {
		eg_err("demo", "runs from the egpu-vm source tree (tests/vm): run build/launcher/egpu-vm there, or set EGPU_REPO");
		return EGPU_EXIT_MISSING;
	}
	if (!py) {
		eg_err("demo", "python3 is missing (apt-get install python3; or scripts/deps.sh vm)");
		return EGPU_EXIT_MISSING;
	}
	printf("egpu-vm demo: setting up (packages, QEMU, guest kernel, apple_dma.ko, initramfs) ...\n");
	prep = eg_path_join(egpu_g.repo, "tests/vm/prepare.sh");
	{
		char *pargv[] = { prep, NULL };

		rc = eg_run_output(pargv, &env);
	}
	if (rc) {
		eg_err("demo", "setup failed (%s exited %d; see the messages above)", prep, rc);
		return EGPU_EXIT_MISSING;
	}
	qemu = env_value(env, "QEMU");
	kernel = env_value(env, "KERNEL");
	initrd = env_value(env, "INITRD");
	if (!qemu || !kernel || !initrd) {
		eg_err("demo", "%s did not say QEMU, KERNEL and INITRD", prep);
		return EGPU_EXIT_FAIL;
	}
	if (eg_mkdir_p(egpu_g.run_dir, 0700)) {
		eg_err("demo", "cannot create %s: %s", egpu_g.run_dir, strerror(errno));
		return EGPU_EXIT_FAIL;
	}
	args[1] = eg_path_join(egpu_g.repo, "tests/vm/demo.py");
	args[n++] = "--qemu";
	args[n++] = qemu;
	args[n++] = "--kernel";
	args[n++] = kernel;
	args[n++] = "--initrd";
	args[n++] = initrd;
	args[n++] = "--mib";
	args[n++] = (char *)mib;
	args[n++] = "--qmp";
	args[n++] = eg_xasprintf("%s/egpu0.qmp", egpu_g.run_dir);
	args[n++] = "--logdir";
	args[n++] = eg_path_join(egpu_g.repo, "build/vm");
	args[n] = NULL;
	rc = eg_run(args);
	if (rc < 0) {
		eg_err("demo", "cannot run %s: %s", args[1], strerror(errno));
		return EGPU_EXIT_FAIL;
	}
	return rc ? EGPU_EXIT_FAIL : EGPU_EXIT_OK;
}
