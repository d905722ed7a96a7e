/*
 * egpu-pci: the passed-through function's config space, virtualised.
 *
 * Per byte, emu_bits say which bits read from QEMU's copy (pdev->config)
 * and fwd whether writes also go to the function. The header (IDs and class
 * copied read-only, BARs, command, status, interrupt line) and the
 * capability links are QEMU's; MSI and MSI-X are emulated by msi.c and
 * msix.c at the function's offsets (the function learns the mode through
 * hostdev irq_set()); the command register is QEMU's and written through,
 * so Bus Master Enable gates the function's DMA (withheld while a managing
 * apple-dma-pci's gate is closed); everything else (the PCIe
 * capability, vendor capabilities, extended space) is the function's.
 * DevCtl "Initiate FLR" is caught: pci_device_reset() resets the emulated
 * state and, through the reset handler, the function.
 *
 * Copyright (c) egpu-vm authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/log.h"
#include "qemu/range.h"
#include "qapi/error.h"
#include "hw/pci/msi.h"
#include "hw/pci/msix.h"
#include "hw/pci/pci_bus.h"
#include "hw/pci/pcie.h"
#include "egpu-pci.h"
#include "trace.h"

#define EGPU_MAX_CAPS   48      /* (256 - 64) / 4: each takes a dword */

/* ---- accesses */

/*
 * Aligned accesses in one call; anything else byte by byte, including the
 * 3 bytes the PCI core leaves of a dword read at the end of the space.
 */
static uint32_t egpu_cfg_backend_read(EgpuPciState *s, uint32_t addr, int len)
{
    uint32_t v = 0, b;
    int i, err;

    if ((len == 1 || len == 2 || len == 4) && !(addr & (len - 1))) {
        err = s->hd->ops->config_read(s->hd->dev, addr, len, &v);
        if (!err) {
            return v;
        }
        qemu_log_mask(LOG_GUEST_ERROR, "%s: config read at 0x%x: %s\n",
                      TYPE_EGPU_PCI, addr, hostdev_strerror(err));
        return len == 4 ? UINT32_MAX : (1u << (8 * len)) - 1;
    }
    for (i = 0; i < len; i++) {
        b = egpu_cfg_backend_read(s, addr + i, 1);
        v |= b << (8 * i);
    }
    return v;
}

void egpu_cfg_backend_write(EgpuPciState *s, uint32_t addr, uint32_t val,
                            int len)
{
    while (len) {
        int n = !(addr & 3) && len >= 4 ? 4 : !(addr & 1) && len >= 2 ? 2 : 1;
        uint32_t part = n == 4 ? val : val & ((1u << (8 * n)) - 1);
        int err = s->hd->ops->config_write(s->hd->dev, addr, n, part);

        trace_egpu_pci_config_forward(addr, n, part);
        if (err) {
            qemu_log_mask(LOG_GUEST_ERROR, "%s: config write at 0x%x: %s\n",
                          TYPE_EGPU_PCI, addr, hostdev_strerror(err));
        }
        val = n == 4 ? 0 : val >> (8 * n);
        addr += n;
        len -= n;
    }
}

uint32_t egpu_config_read(PCIDevice *pdev, uint32_t addr, int len)
{
    EgpuPciState *s = EGPU_PCI(pdev);
    uint32_t emu = 0, all = len == 4 ? UINT32_MAX : (1u << (8 * len)) - 1;
    uint32_t val;
    int i;

    for (i = 0; i < len; i++) {
        emu |= (uint32_t)s->emu_bits[addr + i] << (8 * i);
    }
    val = pci_default_read_config(pdev, addr, len) & emu;
    if (emu != all) {
        val |= egpu_cfg_backend_read(s, addr, len) & ~emu;
    }
    trace_egpu_pci_config_read(addr, len, val);
    return val;
}

void egpu_config_write(PCIDevice *pdev, uint32_t addr, uint32_t val, int len)
{
    EgpuPciState *s = EGPU_PCI(pdev);
    uint32_t flr_byte = s->pcie_cap + PCI_EXP_DEVCTL + 1;
    uint32_t fval;              /* what the function is told */
    bool flr = false;
    int i, j;

    trace_egpu_pci_config_write(addr, len, val);
    if (s->has_flr && range_covers_byte(addr, len, flr_byte)) {
        uint32_t bit = (PCI_EXP_DEVCTL_BCR_FLR >> 8) << (8 * (flr_byte - addr));

        flr = val & bit;
        val &= ~bit;            /* the reset is ours to do, below */
    }
    fval = val;
    if (s->dma_held && range_covers_byte(addr, len, PCI_COMMAND)) {
        /* apple-dma-pci's gate is closed: no bus mastering yet */
        fval &= ~((uint32_t)PCI_COMMAND_MASTER << (8 * (PCI_COMMAND - addr)));
    }
    /* runs of forwarded bytes, in aligned pieces */
    for (i = 0; i < len; i = j) {
        j = i + 1;
        if (!s->fwd[addr + i]) {
            continue;
        }
        while (j < len && s->fwd[addr + j]) {
            j++;
        }
        egpu_cfg_backend_write(s, addr + i, fval >> (8 * i), j - i);
    }
    pci_default_write_config(pdev, addr, val, len);
    if (flr) {
        s->flrs_requested++;
        trace_egpu_pci_flr();
        pci_device_reset(pdev);
    }
    egpu_update_irq_mode(s);
}

/* apple-dma-pci's gate: bus mastering at the function follows it */
void egpu_pci_hold_dma(EgpuPciState *s, bool hold)
{
    uint16_t cmd = pci_get_word(PCI_DEVICE(s)->config + PCI_COMMAND);

    if (s->dma_held == hold) {
        return;
    }
    s->dma_held = hold;
    /* without Bus Master Enable from the guest there is nothing to change */
    if (s->hd && (cmd & PCI_COMMAND_MASTER)) {
        egpu_cfg_backend_write(s, PCI_COMMAND,
                               hold ? cmd & ~PCI_COMMAND_MASTER : cmd, 2);
    }
}

/* ---- capabilities */

static void egpu_emulate(EgpuPciState *s, uint32_t off, uint32_t len)
{
    memset(s->emu_bits + off, 0xff, len);
    memset(s->fwd + off, 0, len);
}

/* Bytes of an MSI capability with these flags (PCI 3.0, 6.8.1). */
static uint8_t egpu_msi_size(uint16_t flags)
{
    return 0x0a + (flags & PCI_MSI_FLAGS_64BIT ? 4 : 0) +
           (flags & PCI_MSI_FLAGS_MASKBIT ? 10 : 0);
}

/* Bytes to the next capability above pos, or to the end of the header. */
static uint8_t egpu_cap_room(const uint8_t *caps, int n, uint8_t pos)
{
    uint32_t next = PCI_CONFIG_SPACE_SIZE;
    int i;

    for (i = 0; i < n; i++) {
        if (caps[i] > pos && caps[i] < next) {
            next = caps[i];
        }
    }
    return next - pos;
}

static bool egpu_setup_msix(EgpuPciState *s, const uint8_t *cfg, uint8_t pos,
                            Error **errp)
{
    PCIDevice *pdev = PCI_DEVICE(s);
    uint16_t n = (pci_get_word(cfg + pos + PCI_MSIX_FLAGS) &
                  PCI_MSIX_FLAGS_QSIZE) + 1;
    uint32_t table = pci_get_long(cfg + pos + PCI_MSIX_TABLE);
    uint32_t pba = pci_get_long(cfg + pos + PCI_MSIX_PBA);
    uint8_t tbar = table & PCI_MSIX_FLAGS_BIRMASK;
    uint8_t pbar = pba & PCI_MSIX_FLAGS_BIRMASK;
    int i;

    if (tbar >= HOSTDEV_NUM_BARS || !s->bars[tbar].s ||
        pbar >= HOSTDEV_NUM_BARS || !s->bars[pbar].s) {
        error_setg(errp, "%s: the MSI-X table or PBA is in a BAR the "
                   "function does not have", TYPE_EGPU_PCI);
        return false;
    }
    if (msix_init(pdev, n, &s->bars[tbar].container, tbar,
                  table & ~PCI_MSIX_FLAGS_BIRMASK, &s->bars[pbar].container,
                  pbar, pba & ~PCI_MSIX_FLAGS_BIRMASK, pos, errp) < 0) {
        return false;
    }
    /* every vector may fire: the function decides, not a QEMU model */
    for (i = 0; i < n; i++) {
        msix_vector_use(pdev, i);
    }
    egpu_emulate(s, pos, MSIX_CAP_LENGTH);
    return true;
}

static bool egpu_setup_pcie(EgpuPciState *s, const uint8_t *cfg, uint8_t pos,
                            uint8_t room, Error **errp)
{
    PCIDevice *pdev = PCI_DEVICE(s);
    PCIBus *bus = pci_get_bus(pdev);
    uint8_t type = (pci_get_word(cfg + pos + PCI_EXP_FLAGS) &
                    PCI_EXP_FLAGS_TYPE) >> 4;

    if (type != PCI_EXP_TYPE_ENDPOINT && type != PCI_EXP_TYPE_LEG_END &&
        type != PCI_EXP_TYPE_RC_END) {
        error_setg(errp, "%s: %s is a PCIe port (type %u), not an endpoint",
                   TYPE_EGPU_PCI, s->hd->info.name, type);
        return false;
    }
    if (pci_add_capability(pdev, PCI_CAP_ID_EXP, pos, room, errp) < 0) {
        return false;
    }
    s->pcie_cap = pos;
    s->has_flr = pci_get_long(cfg + pos + PCI_EXP_DEVCAP) &
                 PCI_EXP_DEVCAP_FLR;
    if (s->has_flr) {
        /* "Initiate FLR" reads 0 */
        s->emu_bits[pos + PCI_EXP_DEVCTL + 1] |= PCI_EXP_DEVCTL_BCR_FLR >> 8;
        pdev->config[pos + PCI_EXP_DEVCTL + 1] &=
            ~(PCI_EXP_DEVCTL_BCR_FLR >> 8);
    }
    if (pci_bus_is_root(bus) && type == PCI_EXP_TYPE_ENDPOINT) {
        /* on the root complex an endpoint is integrated and has no link */
        s->emu_bits[pos + PCI_EXP_FLAGS] |= PCI_EXP_FLAGS_TYPE;
        pdev->config[pos + PCI_EXP_FLAGS] =
            (pdev->config[pos + PCI_EXP_FLAGS] & ~PCI_EXP_FLAGS_TYPE) |
            PCI_EXP_TYPE_RC_END << 4;
        if (room > PCI_EXP_LNKSTA + 1) {
            egpu_emulate(s, pos + PCI_EXP_LNKCAP, 8);
            memset(pdev->config + pos + PCI_EXP_LNKCAP, 0, 8);
        }
        if (room > PCI_EXP_LNKSTA2 + 1) {
            egpu_emulate(s, pos + PCI_EXP_LNKCAP2, 8);
            memset(pdev->config + pos + PCI_EXP_LNKCAP2, 0, 8);
        }
    }
    return true;
}

/*
 * Rebuild the capability list from the function's, in its order (each
 * pci_add_capability() links at the head, so from the last one back). The
 * PCIe capability is hidden on a conventional bus, as on bare metal.
 */
bool egpu_setup_caps(EgpuPciState *s, const uint8_t *cfg, Error **errp)
{
    PCIDevice *pdev = PCI_DEVICE(s);
    bool express = pci_bus_is_express(pci_get_bus(pdev));
    uint8_t caps[EGPU_MAX_CAPS], pos;
    int n = 0, i;

    pos = cfg[PCI_STATUS] & PCI_STATUS_CAP_LIST ? cfg[PCI_CAPABILITY_LIST] : 0;
    for (pos &= ~3; pos >= PCI_STD_HEADER_SIZEOF && n < EGPU_MAX_CAPS;
         pos = cfg[pos + PCI_CAP_LIST_NEXT] & ~3) {
        caps[n++] = pos;
    }
    pdev->config[PCI_CAPABILITY_LIST] = 0;
    for (i = n - 1; i >= 0; i--) {
        uint8_t id = cfg[caps[i]], room = egpu_cap_room(caps, n, caps[i]);
        uint16_t flags = pci_get_word(cfg + caps[i] + PCI_CAP_FLAGS);
        bool ok;

        pos = caps[i];
        if (id == PCI_CAP_ID_EXP && !express) {
            egpu_emulate(s, pos, room);         /* reads 0, RO */
            memset(pdev->config + pos, 0, room);
            memset(pdev->wmask + pos, 0, room);
            pdev->cap_present &= ~QEMU_PCI_CAP_EXPRESS;
            continue;
        }
        egpu_emulate(s, pos, 2);        /* the links are ours */
        switch (id) {
        case PCI_CAP_ID_MSI:
            ok = msi_init(pdev, pos,
                          1u << ((flags & PCI_MSI_FLAGS_QMASK) >> 1),
                          flags & PCI_MSI_FLAGS_64BIT,
                          flags & PCI_MSI_FLAGS_MASKBIT, errp) == 0;
            if (ok) {
                egpu_emulate(s, pos, egpu_msi_size(flags));
            }
            break;
        case PCI_CAP_ID_MSIX:
            ok = egpu_setup_msix(s, cfg, pos, errp);
            break;
        case PCI_CAP_ID_EXP:
            ok = egpu_setup_pcie(s, cfg, pos, room, errp);
            break;
        default:
            ok = pci_add_capability(pdev, id, pos, room, errp) >= 0;
            break;
        }
        if (!ok) {
            error_prepend(errp, "%s: capability 0x%x at 0x%x: ",
                          TYPE_EGPU_PCI, id, pos);
            return false;
        }
    }
    return true;
}

/* Copy the function's config space; the header becomes QEMU's. */
bool egpu_setup_config(EgpuPciState *s, uint8_t *cfg, Error **errp)
{
    PCIDevice *pdev = PCI_DEVICE(s);
    const struct hostdev_info *info = &s->hd->info;
    uint32_t off, v;
    int err;

    if (info->cfg_size != PCI_CONFIG_SPACE_SIZE &&
        info->cfg_size != PCIE_CONFIG_SPACE_SIZE) {
        error_setg(errp, "%s: %s has %u bytes of config space (256 or 4096 "
                   "expected)", TYPE_EGPU_PCI, info->name, info->cfg_size);
        return false;
    }
    for (off = 0; off < info->cfg_size; off += 4) {
        err = s->hd->ops->config_read(s->hd->dev, off, 4, &v);
        if (err) {
            error_setg(errp, "%s: %s: config space read at 0x%x: %s",
                       TYPE_EGPU_PCI, info->name, off, hostdev_strerror(err));
            return false;
        }
        pci_set_long(cfg + off, v);
    }
    v = pci_get_word(cfg + PCI_VENDOR_ID);
    if (v == 0xffff || v == 0) {
        error_setg(errp, "%s: %s: no function answers (vendor ID 0x%04x)",
                   TYPE_EGPU_PCI, info->name, v);
        return false;
    }
    if (cfg[PCI_HEADER_TYPE] & ~PCI_HEADER_TYPE_MULTI_FUNCTION) {
        error_setg(errp, "%s: %s is a bridge (header type 0x%x), not an "
                   "endpoint", TYPE_EGPU_PCI, info->name, cfg[PCI_HEADER_TYPE]);
        return false;
    }
    if (cfg[PCI_INTERRUPT_PIN] > PCI_NUM_PINS) {
        error_setg(errp, "%s: %s: interrupt pin %u", TYPE_EGPU_PCI,
                   info->name, cfg[PCI_INTERRUPT_PIN]);
        return false;
    }
    s->cfg_size = info->cfg_size;
    if (s->cfg_size == PCI_CONFIG_SPACE_SIZE) {
        pdev->cap_present &= ~QEMU_PCI_CAP_EXPRESS;
    }
    /* by default a byte is the function's: read and written through */
    memset(s->emu_bits, 0, sizeof(s->emu_bits));
    memset(s->fwd, 0, sizeof(s->fwd));
    memset(s->fwd, 1, s->cfg_size);
    memcpy(pdev->config + PCI_STD_HEADER_SIZEOF, cfg + PCI_STD_HEADER_SIZEOF,
           s->cfg_size - PCI_STD_HEADER_SIZEOF);

    /* the header: IDs and class read-only from the function; the rest ours */
    egpu_emulate(s, 0, PCI_STD_HEADER_SIZEOF);
    memcpy(pdev->config + PCI_VENDOR_ID, cfg + PCI_VENDOR_ID, 4);
    memcpy(pdev->config + PCI_REVISION_ID, cfg + PCI_REVISION_ID, 4);
    memcpy(pdev->config + PCI_SUBSYSTEM_VENDOR_ID,
           cfg + PCI_SUBSYSTEM_VENDOR_ID, 4);
    pdev->config[PCI_HEADER_TYPE] &= PCI_HEADER_TYPE_MULTI_FUNCTION;
    pdev->config[PCI_INTERRUPT_PIN] = cfg[PCI_INTERRUPT_PIN];
    /* the command register is also the function's: BME gates its DMA */
    memset(s->fwd + PCI_COMMAND, 1, 2);
    egpu_cfg_backend_write(s, PCI_COMMAND, 0, 2);
    return true;
}
