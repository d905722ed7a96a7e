// SPDX-License-Identifier: (GPL-2.0 OR MIT)
/*
 * devices.c - `egpu-vm list-devices`: on a Mac, the GPUs our dext can
 * claim. The dext's ABI (protocol/apple_dext.h) names its IOService class;
 * the functions it is attached to are the ones QEMU's backend can open
 * (egpu-pci host=REGISTRY_ID or host=LOCATION). We read the IORegistry
 * through ioreg(8) so the launcher needs no IOKit linkage of its own.
 */
#define _POSIX_C_SOURCE 200809L
#include "devices.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apple_dext.h"
#include "util.h"
#include "verbs.h"

/* "<de100000>" (little-endian bytes) -> 0x10de */
static unsigned long le_bytes(const char *v)
{
	unsigned long x = 0;
	unsigned int b;
	int shift = 0;

	if (*v++ != '<')
		return 0;
	while (shift < 32 && sscanf(v, "%2x", &b) == 1) {
		x |= (unsigned long)b << shift;
		shift += 8;
		v += 2;
	}
	return x;
}

/* the value text after `"key" = ` on a property line, or NULL */
static const char *prop(const char *line, const char *key)
{
	const char *p = strchr(line, '"');
	size_t kl = strlen(key);

	if (!p || strncmp(p + 1, key, kl) || p[kl + 1] != '"' ||
	    strncmp(p + kl + 2, " = ", 3))
		return NULL;
	return p + kl + 5;
}

/* the function's IDs and location, from one of its property lines */
static void add_property(struct json_object *cur, const char *line)
{
	static const char *const ids[] = { "vendor-id", "vendor",
					   "device-id", "device" };
	const char *v;
	char loc[32] = "";

	for (int i = 0; i < 4; i += 2) {
		v = prop(line, ids[i]);
		if (v) {
			char hex[8];

			snprintf(hex, sizeof(hex), "0x%04lx", le_bytes(v) & 0xffff);
			json_object_object_add(cur, ids[i + 1], json_object_new_string(hex));
		}
	}
	v = prop(line, "pcidebug");
	if (v && sscanf(v, "\"%31[0-9:]", loc) == 1)
		json_object_object_add(cur, "location", json_object_new_string(loc));
}

struct json_object *ioreg_gpus(const char *text)
{
	struct json_object *out = json_object_new_array(), *cur = NULL;
	char *copy = eg_xstrdup(text), *line, *save = NULL;
	int top_col = -1;
	unsigned long cls = 0;
	bool in_child = false;	/* properties below belong to a child entry */

	for (line = strtok_r(copy, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		char *o = strstr(line, "+-o ");
		const char *v;

		if (o) {
			int col = (int)(o - line);
			char name[128] = "", *id;

			sscanf(o + 4, "%127s", name);
			if (top_col < 0 || col <= top_col) {	/* a new function */
				if (cur && (cls >> 16) == 0x03)
					json_object_array_add(out, cur);
				else
					json_object_put(cur);
				top_col = col;
				cls = 0;
				in_child = false;
				cur = json_object_new_object();
				json_object_object_add(cur, "name", json_object_new_string(name));
				id = strstr(o, ", id ");
				if (id) {
					char rid[32] = "";

					sscanf(id + 5, "%31[0-9a-fx]", rid);
					json_object_object_add(cur, "registry_id", json_object_new_string(rid));
				}
				json_object_object_add(cur, "dext", json_object_new_boolean(0));
			} else if (cur) {
				in_child = true;
				if (!strcmp(name, DEXT_SERVICE_CLASS))
					json_object_object_add(cur, "dext", json_object_new_boolean(1));
			}
			continue;
		}
		if (!cur || in_child)
			continue;
		v = prop(line, "class-code");
		if (v)
			cls = le_bytes(v);
		add_property(cur, line);
	}
	if (cur && (cls >> 16) == 0x03)
		json_object_array_add(out, cur);
	else
		json_object_put(cur);
	free(copy);
	return out;
}

struct json_object *mac_gpus(void)
{
	char *argv[] = { "ioreg", "-r", "-c", "IOPCIDevice", "-l", "-d", "2", NULL };
	struct json_object *gpus;
	char *out;

	if (eg_run_capture(argv, &out)) {
		free(out);
		return NULL;
	}
	gpus = ioreg_gpus(out);
	free(out);
	return gpus;
}

static void usage(void)
{
	printf(
"usage: egpu-vm list-devices [--json]\n\n"
"macOS: the GPUs (PCI display functions) in the IORegistry, and which of\n"
"them our dext (%s) holds: those 'egpu-vm run --device ID' can pass\n"
"through. On Linux there is no dext: it says so and exits 3.\n"
"  --json   [{name, registry_id, location, vendor, device, dext}]\n",
	       DEXT_SERVICE_CLASS);
}

static int list_mac(void)
{
	struct json_object *gpus = mac_gpus();
	size_t n;

	if (!gpus) {
		eg_err("list-devices", "ioreg failed: cannot read the IORegistry");
		return EGPU_EXIT_FAIL;
	}
	n = json_object_array_length(gpus);
	if (egpu_g.json) {
		printf("%s\n", json_object_to_json_string_ext(gpus,
			JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED));
	} else if (!n) {
		printf("no GPU seen: connect the enclosure, then see 'egpu-vm doctor'\n");
	} else {
		for (size_t i = 0; i < n; i++) {
			struct json_object *g = json_object_array_get_idx(gpus, i), *v;
			const char *f[4] = { "?", "?", "?", "?" };
			const char *keys[4] = { "registry_id", "location", "vendor", "device" };

			for (int k = 0; k < 4; k++)
				if (json_object_object_get_ex(g, keys[k], &v))
					f[k] = json_object_get_string(v);
			json_object_object_get_ex(g, "dext", &v);
			printf("%-14s %-10s %s:%s  %s\n", f[0], f[1], f[2], f[3],
			       json_object_get_boolean(v) ? "claimable (our dext)" :
			       "not ours (the dext did not match it)");
		}
	}
	json_object_put(gpus);
	return n ? EGPU_EXIT_OK : EGPU_EXIT_NOTFOUND;
}

int cmd_list_devices(int argc, char **argv)
{
	if (eg_wants_help(argc, argv)) {
		usage();
		return EGPU_EXIT_OK;
	}
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--json"))
			return eg_usage("list-devices", "unknown argument '%s'", argv[i]);
		egpu_g.json = true;
	}
#ifdef __APPLE__
	return list_mac();
#else
	(void)list_mac;
	eg_err("list-devices", "macOS only: the GPUs are the ones our dext (%s) holds on a Mac; on Linux 'egpu-vm run' uses the simulated GPU", DEXT_SERVICE_CLASS);
	return EGPU_EXIT_UNSUPPORTED;
#endif
}
