/* SPDX-License-Identifier: (GPL-2.0 OR MIT) */
/*
 * run.h - what `egpu-vm run` starts: its settings (from defaults, then the
 * config file, then the command line) and the QEMU command line built from
 * them (run_cmdline.c).
 */
#ifndef EGPU_RUN_H
#define EGPU_RUN_H

#include <stdbool.h>
#include <stdint.h>

#define RUN_MAX_LIST 16		/* disks, data dirs */

enum run_target { RUN_MAC, RUN_LINUX };

struct run_opts {
	enum run_target target;
	const char *name;	/* the VM's name: its QMP socket's */
	const char *qemu;
	uint64_t memory;	/* bytes */
	unsigned int cpus;
	const char *accel;	/* hvf | kvm | tcg; NULL: the target's choice */
	const char *device;	/* Mac: the GPU selector for egpu-pci host= */
	const char *managed;	/* Linux: gpu (simgpu) | nvme (dartsim) */
	const char *bios;
	const char *kernel, *initrd, *append;
	const char *serial;	/* a QEMU -serial value */
	const char *net;	/* user | none */
	const char *disks[RUN_MAX_LIST];
	int ndisks;
	const char *data_dirs[RUN_MAX_LIST];	/* -L */
	int ndata_dirs;
	bool dry_run;
};

/* A growing argv, NULL-terminated. */
struct argv_buf {
	char **v;
	int n, cap;
};

void argv_add(struct argv_buf *a, const char *s);
void argv_addf(struct argv_buf *a, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Defaults for TARGET (cpus, memory, accel, serial...). */
void run_defaults(struct run_opts *o, enum run_target target);
/*
 * One setting by its option name ("memory", "disk", ...) as the config file
 * and the command line spell it. from_cli: a list setting given on the
 * command line replaces the config file's list. 0, or -1 with *why set.
 */
int run_set(struct run_opts *o, const char *key, const char *val,
	    bool from_cli, const char **why);
/*
 * Read a key=value config file into o ('#' comments, blank lines). Errors
 * are printed ("FILE:LINE: ..."); returns an egpu_exit code.
 */
int run_load_config(struct run_opts *o, const char *path);
/* The QEMU command line; extra (nextra) are appended as given. */
int run_cmdline(const struct run_opts *o, char **extra, int nextra,
		struct argv_buf *out);

#endif /* EGPU_RUN_H */
