/* SPDX-License-Identifier: (GPL-2.0 OR MIT) */
/*
 * hostdev.c - config-space helpers over any hostdev backend.
 *
 * Both walks read through ops->config_read only, so they work on whatever
 * the backend shows, and both stop on a loop or a pointer out of range: a
 * broken function's config space must not hang its embedder.
 */
#include "hostdev.h"

#define PCI_STATUS		0x06
#define PCI_STATUS_CAP_LIST	0x10
#define PCI_CAP_PTR		0x34
#define PCI_STD_HEADER_END	0x40	/* capabilities live above the header */
#define PCI_STD_CFG_SIZE	0x100
#define PCI_EXT_CAP_START	0x100
/* Most capabilities that fit: each takes at least 4 bytes. */
#define PCI_MAX_CAPS		((PCI_STD_CFG_SIZE - PCI_STD_HEADER_END) / 4)
#define PCI_MAX_EXT_CAPS	((HOSTDEV_CFG_SIZE - PCI_EXT_CAP_START) / 4)

static int cfg_read(const struct hostdev *h, uint32_t off, unsigned int len,
		    uint32_t *val)
{
	return h->ops->config_read(h->dev, off, len, val);
}

uint32_t hostdev_find_cap(const struct hostdev *h, uint8_t id)
{
	uint32_t v, pos;
	unsigned int n;

	if (cfg_read(h, PCI_STATUS, 2, &v) || !(v & PCI_STATUS_CAP_LIST))
		return 0;
	if (cfg_read(h, PCI_CAP_PTR, 1, &pos))
		return 0;
	for (n = 0; n < PCI_MAX_CAPS; n++) {
		pos &= ~3u;	/* the low two bits are reserved */
		if (pos < PCI_STD_HEADER_END || pos >= PCI_STD_CFG_SIZE)
			return 0;
		if (cfg_read(h, pos, 2, &v))
			return 0;
		if ((v & 0xff) == id)
			return pos;
		pos = v >> 8;
	}
	return 0;
}

uint32_t hostdev_find_ext_cap(const struct hostdev *h, uint16_t id)
{
	uint32_t hdr, pos = PCI_EXT_CAP_START;
	unsigned int n;

	if (h->info.cfg_size <= PCI_EXT_CAP_START)
		return 0;
	for (n = 0; n < PCI_MAX_EXT_CAPS; n++) {
		if (pos < PCI_EXT_CAP_START || pos + 4 > h->info.cfg_size ||
		    cfg_read(h, pos, 4, &hdr))
			return 0;
		/* 0: an empty list; all-ones: nothing answered */
		if (hdr == 0 || hdr == 0xffffffffu)
			return 0;
		if ((hdr & 0xffff) == id)
			return pos;
		pos = (hdr >> 20) & ~3u;
	}
	return 0;
}
