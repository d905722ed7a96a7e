// SPDX-License-Identifier: (GPL-2.0 OR MIT)
/*
 * stats.c - `egpu-vm stats`: a running VM's counters, read over QMP as the
 * QOM property "stats" of apple-dma-pci (adma0) and egpu-pci (gpu0).
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qmp.h"
#include "util.h"
#include "verbs.h"

#define MAX_IDS 8

static void usage(void)
{
	printf(
"usage: egpu-vm stats [--socket PATH | --name NAME] [--id ID]... [--json]\n\n"
"A running VM's DMA counters over QMP: the QOM property 'stats' of\n"
"/machine/peripheral/ID. Default IDs: adma0 (apple-dma-pci) and, if the VM\n"
"has it, gpu0 (egpu-pci). Default socket: RUN_DIR/NAME.qmp with NAME egpu0\n"
"(what 'egpu-vm run' and 'egpu-vm demo' create).\n"
"  --json   one JSON object: {ID: {counter: value, ...}, ...}\n");
}

static void print_table(const char *id, struct json_object *stats)
{
	int width = 0;

	printf("%s:\n", id);
	json_object_object_foreach(stats, k1, v1) {
		(void)v1;
		if ((int)strlen(k1) > width)
			width = (int)strlen(k1);
	}
	json_object_object_foreach(stats, k, v)
		printf("  %-*s %s\n", width, k, json_object_get_string(v));
}

int cmd_stats(int argc, char **argv)
{
	const char *sock = NULL, *name = NULL, *ids[MAX_IDS];
	struct json_object *all, *args, *st;
	int nids = 0, i, rc = EGPU_EXIT_OK, found = 0;
	bool explicit_ids;
	struct qmp *q;
	char *err = NULL;

	if (eg_wants_help(argc, argv)) {
		usage();
		return EGPU_EXIT_OK;
	}
	for (i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (!strcmp(a, "--json")) {
			egpu_g.json = true;
			continue;
		}
		if (strcmp(a, "--socket") && strcmp(a, "--id") &&
		    strcmp(a, "--name"))
			return eg_usage("stats", "unknown argument '%s'", a);
		if (i + 1 >= argc || !*argv[i + 1])
			return eg_usage("stats", "%s needs a value", a);
		if (!strcmp(a, "--socket")) {
			sock = argv[++i];
		} else if (!strcmp(a, "--name")) {
			name = argv[++i];
			if (strchr(name, '/'))
				return eg_usage("stats", "--name '%s': a name, not a path (use --socket)", name);
		} else {
			if (nids == MAX_IDS)
				return eg_usage("stats", "at most %d --id", MAX_IDS);
			ids[nids++] = argv[++i];
		}
	}
	if (sock && name)
		return eg_usage("stats", "--socket and --name both say which VM: give one");
	if (!sock)
		sock = eg_xasprintf("%s/%s.qmp", egpu_g.run_dir,
				    name ? name : "egpu0");
	explicit_ids = nids > 0;
	if (!nids) {
		ids[nids++] = "adma0";
		ids[nids++] = "gpu0";
	}
	if (!eg_is_socket(sock)) {
		eg_err("stats", "no VM with a QMP socket at %s (start one with 'egpu-vm run' or 'egpu-vm demo', or pass --socket)", sock);
		return EGPU_EXIT_NOTFOUND;
	}
	q = qmp_open(sock, 10, &err);
	if (!q) {
		eg_err("stats", "%s", err);
		free(err);
		return EGPU_EXIT_FAIL;
	}
	all = json_object_new_object();
	for (i = 0; i < nids; i++) {
		args = json_object_new_object();
		json_object_object_add(args, "path", json_object_new_string(
			eg_xasprintf("/machine/peripheral/%s", ids[i])));
		json_object_object_add(args, "property",
				       json_object_new_string("stats"));
		st = qmp_cmd(q, "qom-get", args, &err);
		if (!st) {
			/* the GPU is optional unless asked for */
			if (explicit_ids || i == 0) {
				eg_err("stats", "%s: %s", ids[i], err);
				rc = EGPU_EXIT_NOTFOUND;
			}
			free(err);
			err = NULL;
			continue;
		}
		if (!json_object_is_type(st, json_type_object)) {
			eg_err("stats", "%s: 'stats' is not an object: %s",
			       ids[i], json_object_to_json_string(st));
			json_object_put(st);
			rc = EGPU_EXIT_FAIL;
			continue;
		}
		json_object_object_add(all, ids[i], st);
		found++;
	}
	qmp_close(q);
	if (egpu_g.json) {
		printf("%s\n", json_object_to_json_string_ext(all,
			JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED));
	} else {
		json_object_object_foreach(all, id, s)
			print_table(id, s);
	}
	json_object_put(all);
	return found ? rc : (rc ? rc : EGPU_EXIT_NOTFOUND);
}
