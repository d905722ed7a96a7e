// SPDX-License-Identifier: (GPL-2.0 OR MIT)
/*
 * doctor.c - `egpu-vm doctor`: the verb, and the Linux checks (what the
 * demo and `egpu-vm run` need here). The macOS checks are doctor_mac.c.
 */
#define _POSIX_C_SOURCE 200809L
#include "doctor.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "util.h"
#include "verbs.h"

static const char *const status_names[] = { "ok", "missing", "note" };

void dr_add(struct doctor *d, enum dr_status st, const char *name,
	    const char *detail, const char *fix)
{
	struct json_object *c = json_object_new_object();

	json_object_object_add(c, "name", json_object_new_string(name));
	json_object_object_add(c, "status",
			       json_object_new_string(status_names[st]));
	json_object_object_add(c, "detail", detail ?
			       json_object_new_string(detail) : NULL);
	json_object_object_add(c, "fix", fix && st != DR_OK ?
			       json_object_new_string(fix) : NULL);
	json_object_array_add(d->checks, c);
	if (st == DR_MISSING)
		d->missing++;
}

char *dr_output(const char *const argv[])
{
	char *out, *nl;

	if (eg_run_capture((char *const *)argv, &out)) {
		free(out);
		return NULL;
	}
	nl = strchr(out, '\n');
	if (nl)
		*nl = '\0';
	return out;
}

static char *find_tool(const char *name)
{
	static const char *const sbin[] = { "/usr/sbin/", "/sbin/" };
	char *p = eg_which(name);

	for (size_t i = 0; !p && i < 2; i++) {
		p = eg_xasprintf("%s%s", sbin[i], name);
		if (!eg_is_exec(p)) {
			free(p);
			p = NULL;
		}
	}
	return p;
}

static void check_packages(struct doctor *d)
{
	const char *bb[] = { "sh", "-c",
		"readelf -l /bin/busybox 2>/dev/null | grep -q 'program interpreter'", NULL };
	const char *libc[] = { "gcc", "-print-file-name=libc.a", NULL };
	char *p, *s;

	p = eg_which("python3");
	dr_add(d, p ? DR_OK : DR_MISSING, "python3", p,
	       "apt-get install python3 (or scripts/deps.sh vm)");
	free(p);
	if (eg_is_exec("/bin/busybox") && eg_run_quiet((char *const *)bb))
		dr_add(d, DR_OK, "static busybox", "/bin/busybox", NULL);
	else
		dr_add(d, DR_MISSING, "static busybox", NULL,
		       "apt-get install busybox-static (scripts/deps.sh vm)");
	s = dr_output(libc);
	dr_add(d, s && s[0] == '/' && eg_is_file(s) ? DR_OK : DR_MISSING,
	       "gcc with a static libc", s,
	       "apt-get install gcc libc6-dev (scripts/deps.sh vm)");
	free(s);
	p = find_tool("depmod");
	dr_add(d, p ? DR_OK : DR_MISSING, "depmod/modinfo", p,
	       "apt-get install kmod (scripts/deps.sh vm)");
	free(p);
	if (eg_is_file("/usr/share/seabios/bios-256k.bin") &&
	    eg_is_file("/usr/share/qemu/linuxboot_dma.bin"))
		dr_add(d, DR_OK, "firmware", "seabios, qemu-system-data", NULL);
	else
		dr_add(d, DR_MISSING, "firmware",
		       "/usr/share/seabios/bios-256k.bin, /usr/share/qemu/linuxboot_dma.bin",
		       "scripts/deps.sh vm (seabios, qemu-system-data from bookworm-backports)");
}

/* our QEMU: EGPU_QEMU, else the tree's build/qemu */
static void check_qemu(struct doctor *d)
{
	const char *env = getenv("EGPU_QEMU");
	char *q = NULL, *devs;

	if (env && *env)
		q = eg_xstrdup(env);
	else if (egpu_g.repo)
		q = eg_xasprintf("%s/build/qemu/qemu-system-x86_64", egpu_g.repo);
	if (!q || !eg_is_exec(q)) {
		dr_add(d, DR_MISSING, "QEMU with apple-dma-pci", q,
		       "qemu/build.sh (or 'make qemu'), or set EGPU_QEMU");
		free(q);
		return;
	}
	{
		char *argv[] = { q, "-device", "help", NULL };

		eg_run_capture(argv, &devs);
	}
	if (strstr(devs, "\"apple-dma-pci\"") && strstr(devs, "\"egpu-pci\""))
		dr_add(d, DR_OK, "QEMU with apple-dma-pci", q, NULL);
	else
		dr_add(d, DR_MISSING, "QEMU with apple-dma-pci", q,
		       "this QEMU lacks apple-dma-pci/egpu-pci: rebuild with qemu/build.sh");
	free(devs);
	free(q);
}

static void check_guest(struct doctor *d)
{
	char *ks, *kver, *stamp, *vmlinuz, *ko, *magic, *dt;

	if (!egpu_g.repo) {
		dr_add(d, DR_NOTE, "guest kernel and apple_dma.ko",
		       "not run from the source tree: not checked",
		       "run the tree's build/launcher/egpu-vm, or set EGPU_REPO");
		return;
	}
	ks = eg_path_join(egpu_g.repo, "tests/vm/kernel.sh");
	{
		const char *argv[] = { ks, "--print-version", "amd64", NULL };

		kver = dr_output(argv);
	}
	free(ks);
	if (!kver || !*kver) {
		dr_add(d, DR_MISSING, "guest kernel", "apt knows no linux-image-amd64 and none is cached",
		       "apt-get update; then tests/vm/kernel.sh amd64");
		free(kver);
		return;
	}
	dt = eg_xasprintf("%s/kernels/%s", egpu_g.cache_dir, kver);
	stamp = eg_path_join(dt, "stamp");
	vmlinuz = eg_xasprintf("%s/root/boot/vmlinuz-%s", dt, kver);
	if (eg_is_file(stamp) && eg_is_file(vmlinuz))
		dr_add(d, DR_OK, "guest kernel", dt, NULL);
	else
		dr_add(d, DR_MISSING, "guest kernel", kver,
		       "tests/vm/kernel.sh amd64 fetches it (egpu-vm demo does too)");
	ko = eg_xasprintf("%s/build/guest/%s-amd64/apple_dma.ko", egpu_g.repo, kver);
	{
		const char *argv[] = { "modinfo", "-F", "vermagic", ko, NULL };

		magic = eg_is_file(ko) ? dr_output(argv) : NULL;
	}
	if (!magic)
		dr_add(d, DR_MISSING, "apple_dma.ko", ko,
		       "guest/build.sh stable-amd64 (or 'make module')");
	else if (strncmp(magic, kver, strlen(kver)) || (magic[strlen(kver)] && magic[strlen(kver)] != ' '))
		dr_add(d, DR_MISSING, "apple_dma.ko", magic,
		       "built for another kernel: guest/build.sh stable-amd64");
	else
		dr_add(d, DR_OK, "apple_dma.ko", ko, NULL);
	free(magic);
	free(ko);
	free(stamp);
	free(vmlinuz);
	free(dt);
	free(kver);
}

void doctor_linux(struct doctor *d)
{
	const char *accel = getenv("EGPU_ACCEL");
	char *sock;

	check_packages(d);
	check_qemu(d);
	check_guest(d);
	if (accel && (!strcmp(accel, "tcg") || !strcmp(accel, "kvm")))
		dr_add(d, DR_NOTE, "accelerator", accel, NULL);
	else if (access("/dev/kvm", F_OK))
		dr_add(d, DR_NOTE, "accelerator", "no /dev/kvm: TCG (slower, fully functional)", NULL);
	else if (access("/dev/kvm", R_OK | W_OK))
		dr_add(d, DR_NOTE, "accelerator", "/dev/kvm is not read-writable for this user: TCG",
		       "add yourself to group kvm");
	else
		dr_add(d, DR_NOTE, "accelerator", "KVM (/dev/kvm; the demo probes that it boots a stock guest)", NULL);
	sock = eg_xasprintf("%s/egpu0.qmp", egpu_g.run_dir);
	if (eg_is_socket(sock))
		dr_add(d, DR_NOTE, "running VM", sock, NULL);
	free(sock);
}

static void usage(void)
{
	printf(
"usage: egpu-vm doctor [--json]\n\n"
"What is present and usable here, one line a check, with the fix for each\n"
"missing piece. Linux: what the demo and 'egpu-vm run' need (packages,\n"
"firmware, QEMU with apple-dma-pci, the guest kernel, apple_dma.ko, KVM or\n"
"TCG). macOS: the macOS version, HVF, QEMU, the dext's state and approval,\n"
"SIP and signing, and whether the dext sees a Thunderbolt GPU.\n"
"Exit 0 when everything needed is there, 4 when something is missing.\n"
"  --json   {\"host\": ..., \"ok\": bool, \"checks\": [{name, status, detail, fix}]}\n");
}

int cmd_doctor(int argc, char **argv)
{
	struct doctor d = { .checks = json_object_new_array() };
	struct json_object *root;
	struct utsname u;
	char host[300];

	if (eg_wants_help(argc, argv)) {
		usage();
		return EGPU_EXIT_OK;
	}
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--json"))
			return eg_usage("doctor", "unknown argument '%s'", argv[i]);
		egpu_g.json = true;
	}
	if (uname(&u))
		strcpy(u.sysname, "?");
	snprintf(host, sizeof(host), "%s %s", u.sysname, u.machine);
#ifdef __APPLE__
	doctor_mac(&d);
#else
	doctor_linux(&d);
#endif
	if (egpu_g.json) {
		root = json_object_new_object();
		json_object_object_add(root, "host", json_object_new_string(host));
		json_object_object_add(root, "ok", json_object_new_boolean(!d.missing));
		json_object_object_add(root, "checks", json_object_get(d.checks));
		printf("%s\n", json_object_to_json_string_ext(root,
			JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED));
		json_object_put(root);
	} else {
		size_t n = json_object_array_length(d.checks);

		printf("egpu-vm doctor (%s)\n", host);
		for (size_t i = 0; i < n; i++) {
			struct json_object *c = json_object_array_get_idx(d.checks, i), *v;
			const char *st, *detail = NULL, *fix = NULL;

			json_object_object_get_ex(c, "status", &v);
			st = json_object_get_string(v);
			if (json_object_object_get_ex(c, "detail", &v) && v)
				detail = json_object_get_string(v);
			if (json_object_object_get_ex(c, "fix", &v) && v)
				fix = json_object_get_string(v);
			json_object_object_get_ex(c, "name", &v);
			printf("  %-8s %s%s%s\n", !strcmp(st, "missing") ? "MISSING" : st,
			       json_object_get_string(v), detail ? ": " : "",
			       detail ? detail : "");
			if (fix)
				printf("           fix: %s\n", fix);
		}
		if (d.missing)
			printf("doctor: %d missing (fixes above)\n", d.missing);
		else
			printf("doctor: all set\n");
	}
	json_object_put(d.checks);
	return d.missing ? EGPU_EXIT_MISSING : EGPU_EXIT_OK;
}
