// SPDX-License-Identifier: (GPL-2.0 OR MIT)
/*
 * run.c - `egpu-vm run`: settings from defaults, then the config file, then
 * the command line; then QEMU is exec'd (or, --dry-run, its command line
 * printed one argument per line).
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "run.h"
#include "util.h"
#include "verbs.h"

static void usage(void)
{
	printf(
"usage: egpu-vm run [OPTIONS] [-- EXTRA QEMU ARGS...]\n\n"
"Start a VM. On a Mac: arm64 under HVF with the Thunderbolt GPU passed\n"
"through our dext (egpu-pci backend=dext) and apple-dma-pci managing it.\n"
"On Linux: q35 under KVM or TCG with the simulated GPU (backend=simgpu),\n"
"or an NVMe disk behind the DART simulator (--managed nvme).\n\n"
"  --target mac|linux  whose command line (default: this host's)\n"
"  --config FILE       settings file (default: $XDG_CONFIG_HOME/egpu-vm/config\n"
"                      or ~/.config/egpu-vm/config, if present)\n"
"  --no-config         read no config file\n"
"  --dry-run           print the QEMU command line, one argument per line\n"
"  --name NAME         the VM's name; its QMP socket is RUN_DIR/NAME.qmp (egpu0)\n"
"  --qemu PATH         the QEMU binary (EGPU_QEMU; Linux: the tree's build/qemu)\n"
"  --memory SIZE       guest RAM, e.g. 8G, 1536M (mac 8G, linux 1G)\n"
"  --cpus N            virtual CPUs (mac 4, linux 2)\n"
"  --accel hvf|kvm|tcg (mac hvf; linux kvm if /dev/kvm is usable, else tcg)\n"
"  --device SEL        mac: which GPU (auto, a registry ID 0x..., or a PCI\n"
"                      location 05:00.0; see list-devices)\n"
"  --managed gpu|nvme  linux: what apple-dma-pci manages (gpu)\n"
"  --disk FILE         a disk (.qcow2 or raw; repeatable)\n"
"  --kernel FILE, --initrd FILE, --append TEXT   boot a kernel directly\n"
"  --bios FILE         firmware (mac default: QEMU's edk2-aarch64-code.fd)\n"
"  --data-dir DIR      QEMU -L directory (repeatable)\n"
"  --serial SPEC       QEMU -serial value (mon:stdio)\n"
"  --net user|none     a user-mode virtio NIC, or none (user)\n\n"
"Config file: one setting a line, key=value, keys as the options above\n"
"without '--' (disk and data-dir may repeat); '#' starts a comment. The\n"
"command line overrides the file; a list given on the command line\n"
"replaces the file's list.\n");
}

static const char *const value_opts[] = {
	"name", "qemu", "memory", "cpus", "accel", "device", "managed", "disk",
	"kernel", "initrd", "append", "bios", "data-dir", "serial", "net",
};

static bool takes_value(const char *key)
{
	for (size_t i = 0; i < sizeof(value_opts) / sizeof(*value_opts); i++)
		if (!strcmp(key, value_opts[i]))
			return true;
	return false;
}

/* "--key value" or "--key=value"; returns the index of the next argument or
 * -1 (message printed). */
static int opt_value(int argc, char **argv, int i, char **key,
		     const char **val)
{
	char *eq = strchr(argv[i], '=');

	if (eq) {
		*key = eg_xasprintf("%.*s", (int)(eq - argv[i] - 2),
				    argv[i] + 2);
		*val = eq + 1;
		return i + 1;
	}
	*key = eg_xstrdup(argv[i] + 2);
	if (i + 1 >= argc) {
		eg_usage("run", "%s needs a value", argv[i]);
		free(*key);
		return -1;
	}
	*val = argv[i + 1];
	return i + 2;
}

static char *default_config(void)
{
	const char *x = getenv("XDG_CONFIG_HOME"), *home = getenv("HOME");

	if (x && *x)
		return eg_xasprintf("%s/egpu-vm/config", x);
	return eg_xasprintf("%s/.config/egpu-vm/config", home ? home : "/");
}

/* First pass: the options that decide how the rest is read. */
static int pre_scan(int argc, char **argv, enum run_target *target,
		    const char **config, bool *no_config, int *dashdash)
{
	*dashdash = argc;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (!strcmp(a, "--")) {
			*dashdash = i;
			break;
		}
		if (!strcmp(a, "--no-config")) {
			*no_config = true;
			continue;
		}
		if (strncmp(a, "--target", 8) && strncmp(a, "--config", 8))
			continue;
		if (a[8] != '=' && a[8] != '\0')
			continue;
		const char *v = a[8] == '=' ? a + 9 : (i + 1 < argc ? argv[++i] : NULL);

		if (!v)
			return eg_usage("run", "%.8s needs a value", a);
		if (!strncmp(a, "--config", 8)) {
			*config = v;
		} else if (!strcmp(v, "mac")) {
			*target = RUN_MAC;
		} else if (!strcmp(v, "linux")) {
			*target = RUN_LINUX;
		} else {
			return eg_usage("run", "--target '%s': not mac or linux", v);
		}
	}
	return EGPU_EXIT_OK;
}

static const char *default_qemu(enum run_target t)
{
	const char *env = getenv("EGPU_QEMU");
	const char *name = t == RUN_MAC ? "qemu-system-aarch64" :
		"qemu-system-x86_64";
	char *p;

	if (env && *env)
		return env;
	if (t == RUN_LINUX && egpu_g.repo) {
		p = eg_xasprintf("%s/build/qemu/%s", egpu_g.repo, name);
		if (eg_is_exec(p))
			return p;
		free(p);
	}
	p = eg_which(name);
	return p ? p : name;
}

/* Something accepts connections at this unix socket: a VM is running. */
static bool socket_live(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd;
	bool live;

	if (!eg_is_socket(path) || strlen(path) >= sizeof(sa.sun_path))
		return false;
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	if (fd < 0)
		return false;
	live = !connect(fd, (struct sockaddr *)&sa, sizeof(sa));
	close(fd);
	return live;
}

int cmd_run(int argc, char **argv)
{
#ifdef __APPLE__
	enum run_target target = RUN_MAC;
#else
	enum run_target target = RUN_LINUX;
#endif
	const char *config = NULL, *why;
	bool no_config = false;
	struct run_opts o;
	struct argv_buf cmd = { 0 };
	int rc, dd, i;
	char *sock;

	if (eg_wants_help(argc, argv)) {
		usage();
		return EGPU_EXIT_OK;
	}
	rc = pre_scan(argc, argv, &target, &config, &no_config, &dd);
	if (rc)
		return rc;
	if (config && no_config)
		return eg_usage("run", "--config and --no-config contradict");
	run_defaults(&o, target);
	if (config) {
		rc = run_load_config(&o, config);
	} else if (!no_config) {
		char *def = default_config();

		rc = eg_is_file(def) ? run_load_config(&o, def) : EGPU_EXIT_OK;
	}
	if (rc)
		return rc;
	for (i = 1; i < dd;) {
		const char *a = argv[i], *val;
		char *key;

		if (!strcmp(a, "--dry-run")) {
			o.dry_run = true;
			i++;
			continue;
		}
		if (!strcmp(a, "--no-config")) {
			i++;
			continue;
		}
		if (!strncmp(a, "--target", 8) || !strncmp(a, "--config", 8)) {
			i += strchr(a, '=') ? 1 : 2;	/* pre_scan read it */
			continue;
		}
		if (strncmp(a, "--", 2))
			return eg_usage("run", "unexpected argument '%s' (QEMU arguments go after '--')", a);
		{
			char *k = eg_xstrdup(a + 2), *eq = strchr(k, '=');

			if (eq)
				*eq = '\0';
			if (!takes_value(k)) {
				eg_usage("run", "unknown option '--%s'", k);
				free(k);
				return EGPU_EXIT_USAGE;
			}
			free(k);
		}
		i = opt_value(dd, argv, i, &key, &val);
		if (i < 0)
			return EGPU_EXIT_USAGE;
		if (run_set(&o, key, val, true, &why)) {
			eg_usage("run", "--%s '%s': %s", key, val, why);
			free(key);
			return EGPU_EXIT_USAGE;
		}
		free(key);
	}
	if (target == RUN_LINUX && o.device && strcmp(o.device, "auto"))
		return eg_usage("run", "--device is for --target mac (Linux runs the simulated GPU)");
	if (target == RUN_MAC && o.managed)
		return eg_usage("run", "--managed is for --target linux (a Mac manages the GPU)");
	if (target == RUN_MAC && o.accel && strcmp(o.accel, "hvf") &&
	    strcmp(o.accel, "tcg"))
		return eg_usage("run", "--accel %s: a Mac has hvf or tcg", o.accel);
	if (target == RUN_LINUX && o.accel && !strcmp(o.accel, "hvf"))
		return eg_usage("run", "--accel hvf is macOS only; use kvm or tcg");
	if (o.initrd && !o.kernel)
		return eg_usage("run", "--initrd needs --kernel");
	if (!o.qemu)
		o.qemu = default_qemu(target);
	rc = run_cmdline(&o, argv + dd + (dd < argc), argc - dd - (dd < argc),
			 &cmd);
	if (rc)
		return rc;
	if (o.dry_run) {
		for (i = 0; i < cmd.n; i++)
			printf("%s\n", cmd.v[i]);
		return EGPU_EXIT_OK;
	}
#ifndef __APPLE__
	if (target == RUN_MAC) {
		eg_err("run", "a Mac's command line (HVF, the dext) cannot run here; --dry-run prints it");
		return EGPU_EXIT_UNSUPPORTED;
	}
#endif
	if (!strchr(o.qemu, '/') ? !eg_which(o.qemu) : !eg_is_exec(o.qemu)) {
		eg_err("run", "no QEMU at '%s' (build it: qemu/build.sh, or pass --qemu; 'egpu-vm doctor' says more)", o.qemu);
		return EGPU_EXIT_MISSING;
	}
	for (i = 0; i < o.ndisks; i++)
		if (access(o.disks[i], R_OK)) {
			eg_err("run", "disk %s: %s", o.disks[i], strerror(errno));
			return EGPU_EXIT_NOTFOUND;
		}
	if (eg_mkdir_p(egpu_g.run_dir, 0700)) {
		eg_err("run", "cannot create %s: %s", egpu_g.run_dir,
		       strerror(errno));
		return EGPU_EXIT_FAIL;
	}
	sock = eg_xasprintf("%s/%s.qmp", egpu_g.run_dir, o.name);
	if (socket_live(sock)) {
		eg_err("run", "a VM named '%s' is running (its QMP socket %s answers): stop it or pick another --name",
		       o.name, sock);
		return EGPU_EXIT_FAIL;
	}
	unlink(sock);	/* a stale socket of a VM that is gone */
	if (egpu_g.verbose)
		for (i = 0; i < cmd.n; i++)
			fprintf(stderr, "%s%s", cmd.v[i], i + 1 < cmd.n ? " " : "\n");
	fprintf(stderr, "egpu-vm run: starting %s (QMP: %s; 'egpu-vm stats --socket %s')\n",
		o.name, sock, sock);
	fflush(NULL);
	execvp(cmd.v[0], cmd.v);
	eg_err("run", "cannot start %s: %s", cmd.v[0], strerror(errno));
	return EGPU_EXIT_FAIL;
}
