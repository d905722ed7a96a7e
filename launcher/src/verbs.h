/* SPDX-License-Identifier: (GPL-2.0 OR MIT) */
/*
 * verbs.h - the verbs of the egpu-vm launcher and what they return.
 *
 * main.c parses the global options and hands each verb its own argv
 * (argv[0] is the verb's name); a verb prints its errors itself, to stderr,
 * prefixed "egpu-vm VERB: ", and returns one of the exit codes below.
 */
#ifndef EGPU_VERBS_H
#define EGPU_VERBS_H

#include <stdbool.h>

enum egpu_exit {
	EGPU_EXIT_OK = 0,
	EGPU_EXIT_FAIL = 1,	/* the operation was tried and failed */
	EGPU_EXIT_USAGE = 2,	/* bad arguments: nothing was done */
	EGPU_EXIT_UNSUPPORTED = 3, /* not on this host (macOS-only verbs) */
	EGPU_EXIT_MISSING = 4,	/* a prerequisite is missing (doctor says) */
	EGPU_EXIT_VERIFY = 5,	/* downloaded data failed its checksum */
	EGPU_EXIT_NOTFOUND = 6,	/* no such image, VM, device or socket */
};

/* Options every verb sees (set by main.c before the verb runs). */
struct egpu_globals {
	bool json;		/* --json: data verbs print JSON */
	bool verbose;
	const char *cache_dir;	/* EGPU_CACHE or ~/.cache/egpu-vm */
	const char *run_dir;	/* EGPU_RUN_DIR: sockets of running VMs */
	const char *repo;	/* the source tree, if run from one, else NULL */
};

extern struct egpu_globals egpu_g;

int cmd_doctor(int argc, char **argv);
int cmd_list_devices(int argc, char **argv);
int cmd_pull(int argc, char **argv);
int cmd_images(int argc, char **argv);
int cmd_prune(int argc, char **argv);
int cmd_image(int argc, char **argv);
int cmd_run(int argc, char **argv);
int cmd_stats(int argc, char **argv);
int cmd_demo(int argc, char **argv);

#endif /* EGPU_VERBS_H */
