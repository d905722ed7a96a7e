// SPDX-License-Identifier: (GPL-2.0 OR MIT)
/*
 * doctor_mac.c - `egpu-vm doctor` on a Mac: macOS version, HVF, QEMU, the
 * dext's activation and approval, SIP, and the GPUs it holds. Built on
 * every host (only called on macOS), so Linux CI compiles it too; it asks
 * the system through its own tools (sw_vers, sysctl, systemextensionsctl,
 * csrutil, ioreg) rather than linking frameworks.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apple_dext.h"
#include "devices.h"
#include "doctor.h"
#include "util.h"

#define DEXT_BUNDLE_ID "org.egpuvm.EgpuDext"	/* dext/Info.plist */
#define MIN_MACOS 13

static void check_os(struct doctor *d)
{
	const char *ver[] = { "sw_vers", "-productVersion", NULL };
	const char *arm[] = { "sysctl", "-n", "hw.optional.arm64", NULL };
	const char *hv[] = { "sysctl", "-n", "kern.hv_support", NULL };
	char *v = dr_output(ver), *a = dr_output(arm), *h = dr_output(hv);

	dr_add(d, v && atoi(v) >= MIN_MACOS ? DR_OK : DR_MISSING, "macOS version",
	       v ? v : "unknown",
	       "macOS 13 or later is needed (DriverKit PCI transport, HVF on arm64)");
	dr_add(d, a && !strcmp(a, "1") ? DR_OK : DR_MISSING, "Apple Silicon",
	       a && !strcmp(a, "1") ? "arm64" : "not an arm64 Mac",
	       "egpu-vm needs an Apple Silicon Mac (the DART is Apple's IOMMU)");
	dr_add(d, h && !strcmp(h, "1") ? DR_OK : DR_MISSING, "HVF (Hypervisor.framework)",
	       h ? h : "sysctl kern.hv_support failed",
	       "HVF is unavailable: inside a VM without nested virtualisation? run on the Mac itself");
	free(v);
	free(a);
	free(h);
}

static void check_qemu(struct doctor *d)
{
	const char *env = getenv("EGPU_QEMU");
	char *q = env && *env ? eg_xstrdup(env) : eg_which("qemu-system-aarch64");
	char *devs = NULL;

	if (q) {
		char *argv[] = { q, "-device", "help", NULL };

		eg_run_capture(argv, &devs);
	}
	if (q && devs && strstr(devs, "\"egpu-pci\"") && strstr(devs, "\"apple-dma-pci\""))
		dr_add(d, DR_OK, "QEMU with egpu-pci", q, NULL);
	else
		dr_add(d, DR_MISSING, "QEMU with egpu-pci", q ? q : "no qemu-system-aarch64 in PATH",
		       "build our QEMU (qemu/build.sh on the Mac) and put it in PATH, or set EGPU_QEMU");
	free(devs);
	free(q);
}

/* systemextensionsctl list: one line per extension, "[activated enabled]" */
static void check_dext(struct doctor *d)
{
	char *argv[] = { "systemextensionsctl", "list", NULL }, *out, *line;
	const char *state = NULL;

	if (eg_run_capture(argv, &out)) {
		dr_add(d, DR_MISSING, "dext", "systemextensionsctl failed", "run on macOS 13+");
		free(out);
		return;
	}
	line = strstr(out, DEXT_BUNDLE_ID);
	if (line) {
		char *end = strchr(line, '\n');

		if (end)
			*end = '\0';
		while (line > out && line[-1] != '\n')
			line--;
		state = strchr(line, '[');
	}
	if (!state)
		dr_add(d, DR_MISSING, "dext " DEXT_BUNDLE_ID, "not installed",
		       "install the host app that carries EgpuDext.dext and open it once (see dext/README.md)");
	else if (strstr(state, "activated enabled"))
		dr_add(d, DR_OK, "dext " DEXT_BUNDLE_ID, state, NULL);
	else if (strstr(state, "waiting for user"))
		dr_add(d, DR_MISSING, "dext " DEXT_BUNDLE_ID, state,
		       "approve it: System Settings > General > Login Items & Extensions > Driver Extensions");
	else
		dr_add(d, DR_MISSING, "dext " DEXT_BUNDLE_ID, state,
		       "reinstall the host app; 'systemextensionsctl list' shows the state");
	free(out);
}

static void check_sip(struct doctor *d)
{
	const char *argv[] = { "csrutil", "status", NULL };
	char *s = dr_output(argv);

	if (!s)
		dr_add(d, DR_NOTE, "SIP", "csrutil status failed", NULL);
	else if (strstr(s, "enabled"))
		dr_add(d, DR_NOTE, "SIP", s,
		       "with SIP on, the dext must be signed with the DriverKit PCI entitlements (dext/README.md)");
	else
		dr_add(d, DR_NOTE, "SIP", s,
		       "SIP off: an ad-hoc signed dext loads after 'systemextensionsctl developer on'");
	free(s);
}

static void check_gpus(struct doctor *d)
{
	struct json_object *gpus = mac_gpus();
	size_t n, ours = 0;
	char *detail;

	if (!gpus) {
		dr_add(d, DR_MISSING, "Thunderbolt GPU", "ioreg failed", "run on macOS");
		return;
	}
	n = json_object_array_length(gpus);
	for (size_t i = 0; i < n; i++) {
		struct json_object *v;

		if (json_object_object_get_ex(json_object_array_get_idx(gpus, i), "dext", &v) &&
		    json_object_get_boolean(v))
			ours++;
	}
	detail = eg_xasprintf("%zu GPU function(s) seen, %zu held by %s", n, ours,
			      DEXT_SERVICE_CLASS);
	dr_add(d, ours ? DR_OK : DR_MISSING, "Thunderbolt GPU", detail,
	       n ? "the dext did not match the GPU: check its IOPCIPrimaryMatch (dext/Info.plist) and the approval above" :
	       "connect the enclosure (and power it) and authorise the Thunderbolt device");
	free(detail);
	json_object_put(gpus);
}

void doctor_mac(struct doctor *d)
{
	check_os(d);
	check_qemu(d);
	check_dext(d);
	check_sip(d);
	check_gpus(d);
}
