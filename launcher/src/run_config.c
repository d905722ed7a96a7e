// SPDX-License-Identifier: (GPL-2.0 OR MIT)
/*
 * run_config.c - `egpu-vm run`'s settings: defaults per target, one setting
 * by name (shared by the config file and the command line), and the
 * key=value config file.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "run.h"
#include "util.h"
#include "verbs.h"

void run_defaults(struct run_opts *o, enum run_target target)
{
	memset(o, 0, sizeof(*o));
	o->target = target;
	o->name = "egpu0";
	o->serial = "mon:stdio";
	o->net = "user";
	if (target == RUN_MAC) {
		o->memory = 8ull << 30;
		o->cpus = 4;
		o->device = "auto";
	} else {
		o->memory = 1ull << 30;
		o->cpus = 2;
		o->managed = "gpu";
	}
}

static bool one_of(const char *v, const char *a, const char *b, const char *c)
{
	return !strcmp(v, a) || !strcmp(v, b) || (c && !strcmp(v, c));
}

/* a name QEMU ids and socket files can carry */
static bool good_name(const char *v)
{
	return *v && strlen(v) < 64 &&
	       strspn(v, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
			 "0123456789-_.") == strlen(v) && *v != '.';
}

static int add_list(const char **list, int *n, bool *replaced, bool from_cli,
		    const char *val, const char **why)
{
	if (from_cli && !*replaced) {
		*n = 0;		/* the command line's list wins whole */
		*replaced = true;
	}
	if (*n >= RUN_MAX_LIST) {
		*why = "too many (at most 16)";
		return -1;
	}
	list[(*n)++] = val;
	return 0;
}

int run_set(struct run_opts *o, const char *key, const char *val,
	    bool from_cli, const char **why)
{
	static bool cli_disks, cli_dirs;
	uint64_t v;

	*why = NULL;
	if (!*val && strcmp(key, "append")) {
		*why = "empty value";
		return -1;
	}
	if (!strcmp(key, "name")) {
		if (!good_name(val))
			*why = "a name is letters, digits, '-', '_', '.' (< 64)";
		o->name = val;
	} else if (!strcmp(key, "qemu")) {
		o->qemu = val;
	} else if (!strcmp(key, "memory")) {
		if (!eg_parse_size(val, &v) || v < (64ull << 20))
			*why = "not a size of at least 64M (e.g. 8G, 1024M)";
		else
			o->memory = v;
	} else if (!strcmp(key, "cpus")) {
		if (!eg_parse_u64(val, &v) || !v || v > 256)
			*why = "not a CPU count (1..256)";
		else
			o->cpus = (unsigned int)v;
	} else if (!strcmp(key, "accel")) {
		if (!one_of(val, "hvf", "kvm", "tcg"))
			*why = "not one of hvf, kvm, tcg";
		o->accel = val;
	} else if (!strcmp(key, "device")) {
		if (strchr(val, ','))
			*why = "a device selector has no ','";
		o->device = val;
	} else if (!strcmp(key, "managed")) {
		if (!one_of(val, "gpu", "nvme", NULL))
			*why = "not one of gpu, nvme";
		o->managed = val;
	} else if (!strcmp(key, "bios")) {
		o->bios = val;
	} else if (!strcmp(key, "kernel")) {
		o->kernel = val;
	} else if (!strcmp(key, "initrd")) {
		o->initrd = val;
	} else if (!strcmp(key, "append")) {
		o->append = val;
	} else if (!strcmp(key, "serial")) {
		o->serial = val;
	} else if (!strcmp(key, "net")) {
		if (!one_of(val, "user", "none", NULL))
			*why = "not one of user, none";
		o->net = val;
	} else if (!strcmp(key, "disk")) {
		if (strchr(val, ','))
			*why = "a disk path with ',' is not supported";
		else
			return add_list(o->disks, &o->ndisks, &cli_disks,
					from_cli, val, why);
	} else if (!strcmp(key, "data-dir")) {
		return add_list(o->data_dirs, &o->ndata_dirs, &cli_dirs,
				from_cli, val, why);
	} else {
		*why = "unknown setting";
	}
	return *why ? -1 : 0;
}

int run_load_config(struct run_opts *o, const char *path)
{
	char *text = eg_read_file(path, NULL), *line, *save = NULL;
	int lineno = 0;

	if (!text) {
		eg_err("run", "cannot read config file %s: %s", path,
		       strerror(errno));
		return errno == ENOENT ? EGPU_EXIT_NOTFOUND : EGPU_EXIT_FAIL;
	}
	/* text stays allocated: the settings point into it */
	for (line = text; line; line = save) {
		char *eq, *key, *val, *end;
		const char *why;

		save = strchr(line, '\n');
		if (save)
			*save++ = '\0';
		lineno++;
		while (*line == ' ' || *line == '\t')
			line++;
		if (!*line || *line == '#')
			continue;
		eq = strchr(line, '=');
		if (!eq) {
			eg_err("run", "%s:%d: not key=value: '%s'", path,
			       lineno, line);
			return EGPU_EXIT_USAGE;
		}
		key = line;
		val = eq + 1;
		for (end = eq; end > key && (end[-1] == ' ' || end[-1] == '\t');)
			end--;
		*end = '\0';
		while (*val == ' ' || *val == '\t')
			val++;
		end = val + strlen(val);
		while (end > val && (end[-1] == ' ' || end[-1] == '\t' ||
				     end[-1] == '\r'))
			end--;
		*end = '\0';
		if (!strcmp(key, "target") || !strcmp(key, "config") ||
		    !strcmp(key, "dry-run")) {
			eg_err("run", "%s:%d: '%s' is a command-line option only",
			       path, lineno, key);
			return EGPU_EXIT_USAGE;
		}
		if (run_set(o, key, val, false, &why)) {
			eg_err("run", "%s:%d: %s '%s': %s", path, lineno, key,
			       val, why);
			return EGPU_EXIT_USAGE;
		}
	}
	return EGPU_EXIT_OK;
}
