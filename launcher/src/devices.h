/* SPDX-License-Identifier: (GPL-2.0 OR MIT) */
/*
 * devices.h - the GPUs a Mac's IORegistry shows, and which our dext holds.
 */
#ifndef EGPU_DEVICES_H
#define EGPU_DEVICES_H

#include <json-c/json.h>

/*
 * Parse `ioreg -r -c IOPCIDevice -l -d 2` output: a JSON array of the
 * display-class functions (PCI class 0x03), each {name, registry_id,
 * location, vendor, device, dext} where dext is true when our driver
 * (DEXT_SERVICE_CLASS) is attached, i.e. the function can be claimed.
 */
struct json_object *ioreg_gpus(const char *text);
/* Run ioreg and parse it; NULL if ioreg could not run. */
struct json_object *mac_gpus(void);

#endif /* EGPU_DEVICES_H */
