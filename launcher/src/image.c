// SPDX-License-Identifier: (GPL-2.0 OR MIT)
/*
 * image.c - `egpu-vm image`: build a Debian guest image with apple_dma
 * installed through DKMS. The work is the recipe launcher/image/build.sh
 * (mmdebstrap and its hooks); this verb checks the options so bad input
 * fails before anything is downloaded, and finds the recipe and the source
 * tree the DKMS package is made from.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util.h"
#include "verbs.h"

#define VERB "image"

static void usage(void)
{
	printf("usage: egpu-vm image [--arch amd64|arm64] [--suite SUITE]\n"
	       "                     [--kernel stable|bpo] [--size SIZE] [--user NAME]\n"
	       "                     [-o FILE]\n"
	       "\n"
	       "Build a Debian guest image with mmdebstrap from the mirror this\n"
	       "machine's apt sources name: the kernel and its headers, systemd,\n"
	       "DKMS and apple_dma installed through DKMS from this source tree,\n"
	       "loaded early (modules-load.d, modprobe softdeps before the GPU and\n"
	       "NVMe drivers, the initramfs), a getty on the serial console (ttyS0\n"
	       "amd64, ttyAMA0 arm64), root and USER without a password (a test\n"
	       "image: set passwords before exposing it).\n"
	       "\n"
	       "  --arch     guest architecture (default amd64; arm64 is untested)\n"
	       "  --suite    Debian suite (default: this machine's codename)\n"
	       "  --kernel   stable: the suite's kernel; bpo: -backports' (default stable)\n"
	       "  --size     root filesystem size, K/M/G suffix (default 4G, >= 1G)\n"
	       "  --user     the user to add (default egpu)\n"
	       "  -o FILE    write FILE (raw ext4 root filesystem, label egpu-root),\n"
	       "             FILE.vmlinuz and FILE.initrd; without -o the cached\n"
	       "             copies' paths are printed\n"
	       "\n"
	       "The image has no partition table or bootloader: boot it with\n"
	       "  -kernel FILE.vmlinuz -initrd FILE.initrd\n"
	       "  -append 'root=LABEL=egpu-root rw console=ttyS0'\n"
	       "Built once per content (recipe, module sources, options, kernel\n"
	       "package versions) under CACHE/built-images/. Needs root, mmdebstrap\n"
	       "and e2fsprogs, and a source tree (EGPU_REPO or run from one).\n");
}

static bool valid_suite(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > 32)
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') ||
		      *s == '-'))
			return false;
	return true;
}

static bool valid_user(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > 31 || !strcmp(s, "root"))
		return false;
	if (!((*s >= 'a' && *s <= 'z') || *s == '_'))
		return false;
	for (s++; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') ||
		      *s == '_' || *s == '-'))
			return false;
	return true;
}

struct image_opts {
	const char *arch, *suite, *kernel, *size, *user, *out;
};

/* "--name VALUE" or "--name=VALUE" at argv[*i]: the value, *i advanced. */
static const char *opt_value(int argc, char **argv, int *i, const char *name,
			     bool *bad)
{
	size_t n = strlen(name);
	const char *a = argv[*i];

	if (strncmp(a, name, n))
		return NULL;
	if (a[n] == '=') {
		(*i)++;
		return a + n + 1;
	}
	if (a[n] != '\0')
		return NULL;
	if (*i + 1 >= argc) {
		eg_usage(VERB, "%s needs a value", name);
		*bad = true;
		return NULL;
	}
	*i += 2;
	return argv[*i - 1];
}

static int parse(int argc, char **argv, struct image_opts *o)
{
	static const char *const names[] = {
		"--arch", "--suite", "--kernel", "--size", "--user", "-o",
	};
	const char **slots[] = {
		&o->arch, &o->suite, &o->kernel, &o->size, &o->user, &o->out,
	};
	uint64_t bytes;
	int i = 1;

	while (i < argc) {
		bool bad = false, hit = false;

		for (size_t k = 0; k < sizeof(names) / sizeof(names[0]); k++) {
			const char *v = opt_value(argc, argv, &i, names[k], &bad);

			if (bad)
				return EGPU_EXIT_USAGE;
			if (v) {
				*slots[k] = v;
				hit = true;
				break;
			}
		}
		if (!hit)
			return eg_usage(VERB, "unknown argument '%s'", argv[i]);
	}
	if (strcmp(o->arch, "amd64") && strcmp(o->arch, "arm64"))
		return eg_usage(VERB, "--arch: amd64 or arm64, not '%s'", o->arch);
	if (o->suite && !valid_suite(o->suite))
		return eg_usage(VERB, "--suite: '%s' is not a Debian suite name",
				o->suite);
	if (strcmp(o->kernel, "stable") && strcmp(o->kernel, "bpo"))
		return eg_usage(VERB, "--kernel: stable or bpo, not '%s'",
				o->kernel);
	if (!eg_parse_size(o->size, &bytes))
		return eg_usage(VERB, "--size: '%s' is not a size (e.g. 4G)",
				o->size);
	if (bytes < (1ULL << 30) || bytes > (1ULL << 40))
		return eg_usage(VERB, "--size: %s is outside 1G..1T", o->size);
	if (!valid_user(o->user))
		return eg_usage(VERB, "--user: '%s' is not a user name to add",
				o->user);
	if (o->out && !*o->out)
		return eg_usage(VERB, "-o: empty file name");
	return EGPU_EXIT_OK;
}

int cmd_image(int argc, char **argv)
{
	struct image_opts o = {
		.arch = "amd64", .kernel = "stable", .size = "4G",
		.user = "egpu",
	};
	char *recipe, *mmd, *args[24];
	int n = 0, rc;

	if (eg_wants_help(argc, argv)) {
		usage();
		return EGPU_EXIT_OK;
	}
	rc = parse(argc, argv, &o);
	if (rc)
		return rc;
	if (!egpu_g.repo) {
		eg_err(VERB, "needs the source tree apple_dma is built from: run from a checkout or set EGPU_REPO");
		return EGPU_EXIT_MISSING;
	}
	recipe = eg_path_join(egpu_g.repo, "launcher/image/build.sh");
	if (!eg_is_exec(recipe)) {
		eg_err(VERB, "%s is missing: EGPU_REPO=%s is not an egpu-vm tree",
		       recipe, egpu_g.repo);
		free(recipe);
		return EGPU_EXIT_MISSING;
	}
	mmd = eg_which("mmdebstrap");
	if (!mmd) {
		eg_err(VERB, "mmdebstrap is missing (apt-get install mmdebstrap)");
		free(recipe);
		return EGPU_EXIT_MISSING;
	}
	free(mmd);
	if (geteuid() != 0) {
		eg_err(VERB, "needs root (mmdebstrap installs packages into a chroot)");
		free(recipe);
		return EGPU_EXIT_MISSING;
	}
	args[n++] = recipe;
	args[n++] = "--repo";
	args[n++] = (char *)egpu_g.repo;
	args[n++] = "--cache";
	args[n++] = (char *)egpu_g.cache_dir;
	args[n++] = "--arch";
	args[n++] = (char *)o.arch;
	args[n++] = "--kernel";
	args[n++] = (char *)o.kernel;
	args[n++] = "--size";
	args[n++] = (char *)o.size;
	args[n++] = "--user";
	args[n++] = (char *)o.user;
	if (o.suite) {
		args[n++] = "--suite";
		args[n++] = (char *)o.suite;
	}
	if (o.out) {
		args[n++] = "-o";
		args[n++] = (char *)o.out;
	}
	args[n] = NULL;
	rc = eg_run(args);
	if (rc < 0) {
		eg_err(VERB, "cannot run %s: %s", args[0], strerror(errno));
		free(recipe);
		return EGPU_EXIT_FAIL;
	}
	free(recipe);
	return rc == 0 ? EGPU_EXIT_OK : EGPU_EXIT_FAIL;
}
