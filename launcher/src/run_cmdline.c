// SPDX-License-Identifier: (GPL-2.0 OR MIT)
/*
 * run_cmdline.c - the QEMU command line of `egpu-vm run`.
 *
 * Mac: arm64 virt under HVF; the Thunderbolt GPU is an egpu-pci function
 * over our dext (backend=dext), and apple-dma-pci manages it, so every DMA
 * mapping the guest makes goes through the GPU's DART. Linux: the same two
 * devices with the simulated GPU (backend=simgpu, its own simulated DART),
 * or an NVMe disk behind the DART simulator (managed=nvme), on q35 under
 * KVM or TCG, as tests/vm/vm.py boots them.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "run.h"
#include "util.h"
#include "verbs.h"

#define GPU_ID "gpu0"
#define ADMA_ID "adma0"

void argv_add(struct argv_buf *a, const char *s)
{
	if (a->n + 2 > a->cap) {
		int cap = a->cap ? a->cap * 2 : 32;
		char **v = realloc(a->v, sizeof(*v) * (size_t)cap);

		if (!v)
			eg_die(EGPU_EXIT_FAIL, NULL, "out of memory");
		a->v = v;
		a->cap = cap;
	}
	a->v[a->n++] = eg_xstrdup(s);
	a->v[a->n] = NULL;
}

void argv_addf(struct argv_buf *a, const char *fmt, ...)
{
	va_list ap;
	char buf[4096];

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	argv_add(a, buf);
}

/* Debian's firmware for -L (QEMU's own build has none), and qboot */
static const char *const linux_fw_dirs[] = {
	"/usr/share/seabios", "/usr/share/qemu", "/usr/lib/ipxe/qemu",
};

static void add_memory(struct argv_buf *a, uint64_t bytes)
{
	if (!(bytes & ((1ull << 30) - 1)))
		argv_addf(a, "%lluG", (unsigned long long)(bytes >> 30));
	else
		argv_addf(a, "%lluM", (unsigned long long)(bytes >> 20));
}

static const char *disk_format(const char *path)
{
	size_t n = strlen(path);

	return n > 6 && !strcmp(path + n - 6, ".qcow2") ? "qcow2" : "raw";
}

static void add_accel(struct argv_buf *a, const struct run_opts *o)
{
	const char *accel = o->accel, *env = getenv("EGPU_ACCEL");

	if (!accel && o->target == RUN_LINUX && env &&
	    (!strcmp(env, "kvm") || !strcmp(env, "tcg")))
		accel = env;
	if (!accel)
		accel = o->target == RUN_MAC ? "hvf" :
			!access("/dev/kvm", R_OK | W_OK) ? "kvm" : "tcg";
	argv_add(a, "-accel");
	if (!strcmp(accel, "tcg")) {
		argv_add(a, "tcg,thread=multi");
		argv_add(a, "-cpu");
		/* QARMA pointer authentication is slow under TCG */
		argv_add(a, o->target == RUN_MAC ? "max,pauth-impdef=on" : "max");
	} else {
		argv_add(a, accel);
		argv_add(a, "-cpu");
		argv_add(a, "host");
	}
}

static void add_firmware(struct argv_buf *a, const struct run_opts *o)
{
	char *qboot = NULL;

	if (o->ndata_dirs) {
		for (int i = 0; i < o->ndata_dirs; i++) {
			argv_add(a, "-L");
			argv_add(a, o->data_dirs[i]);
		}
	} else if (o->target == RUN_LINUX) {
		for (size_t i = 0; i < sizeof(linux_fw_dirs) / sizeof(*linux_fw_dirs); i++) {
			char *q = eg_path_join(linux_fw_dirs[i], "qboot.rom");

			if (!eg_is_dir(linux_fw_dirs[i])) {
				free(q);
				continue;
			}
			argv_add(a, "-L");
			argv_add(a, linux_fw_dirs[i]);
			if (!qboot && eg_is_file(q))
				qboot = q;
			else
				free(q);
		}
	}
	if (o->bios) {
		argv_add(a, "-bios");
		argv_add(a, o->bios);
	} else if (o->target == RUN_LINUX && o->kernel && qboot) {
		/*
		 * qboot only loads the kernel; SeaBIOS would drive the disks
		 * itself before apple_dma exists.
		 */
		argv_add(a, "-bios");
		argv_add(a, qboot);
	} else if (o->target == RUN_MAC && !o->kernel) {
		/* UEFI for a disk image: QEMU's own edk2 build, found by -L */
		argv_add(a, "-bios");
		argv_add(a, "edk2-aarch64-code.fd");
	}
	free(qboot);
}

static void add_boot(struct argv_buf *a, const struct run_opts *o)
{
	if (!o->kernel)
		return;
	argv_add(a, "-kernel");
	argv_add(a, o->kernel);
	if (o->initrd) {
		argv_add(a, "-initrd");
		argv_add(a, o->initrd);
	}
	argv_add(a, "-append");
	if (o->append)
		argv_add(a, o->append);
	else
		argv_add(a, o->target == RUN_MAC ? "console=ttyAMA0" :
			 "console=ttyS0");
}

static void add_devices(struct argv_buf *a, const struct run_opts *o)
{
	int first = 0;

	if (o->target == RUN_MAC) {
		argv_add(a, "-device");
		argv_add(a, "apple-dma-pci,id=" ADMA_ID ",managed=" GPU_ID);
		argv_add(a, "-device");
		argv_addf(a, "egpu-pci,id=" GPU_ID ",backend=dext,host=%s",
			  o->device);
	} else if (!strcmp(o->managed, "nvme")) {
		argv_add(a, "-device");
		argv_add(a, "apple-dma-pci,id=" ADMA_ID
			 ",managed=nvme0,backend=dartsim");
		if (o->ndisks) {
			argv_add(a, "-drive");
			argv_addf(a, "file=%s,if=none,id=disk0,format=%s",
				  o->disks[0], disk_format(o->disks[0]));
			argv_add(a, "-device");
			argv_add(a, "nvme,id=nvme0,serial=adma,drive=disk0");
			first = 1;
		}
	} else {
		argv_add(a, "-device");
		argv_add(a, "apple-dma-pci,id=" ADMA_ID ",managed=" GPU_ID);
		argv_add(a, "-device");
		argv_add(a, "egpu-pci,id=" GPU_ID ",backend=simgpu");
	}
	for (int i = first; i < o->ndisks; i++) {
		argv_add(a, "-drive");
		argv_addf(a, "file=%s,if=none,id=disk%d,format=%s", o->disks[i],
			  i, disk_format(o->disks[i]));
		argv_add(a, "-device");
		argv_addf(a, "virtio-blk-pci,drive=disk%d", i);
	}
	if (!strcmp(o->net, "user")) {
		argv_add(a, "-nic");
		argv_add(a, "user,model=virtio-net-pci");
	}
}

int run_cmdline(const struct run_opts *o, char **extra, int nextra,
		struct argv_buf *a)
{
	if (o->target == RUN_LINUX && !strcmp(o->managed, "nvme") &&
	    !o->ndisks) {
		eg_err("run", "--managed nvme needs a --disk for the NVMe device");
		return EGPU_EXIT_USAGE;
	}
	argv_add(a, o->qemu);
	argv_add(a, "-nodefaults");
	argv_add(a, "-M");
	argv_add(a, o->target == RUN_MAC ? "virt,highmem=on" : "q35");
	add_accel(a, o);
	argv_add(a, "-m");
	add_memory(a, o->memory);
	argv_add(a, "-smp");
	argv_addf(a, "%u", o->cpus);
	argv_add(a, "-display");
	argv_add(a, "none");
	argv_add(a, "-serial");
	argv_add(a, o->serial);
	add_firmware(a, o);
	add_boot(a, o);
	argv_add(a, "-qmp");
	argv_addf(a, "unix:%s/%s.qmp,server=on,wait=off", egpu_g.run_dir,
		  o->name);
	add_devices(a, o);
	for (int i = 0; i < nextra; i++)
		argv_add(a, extra[i]);
	return EGPU_EXIT_OK;
}
