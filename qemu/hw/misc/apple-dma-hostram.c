/*
 * apple-dma-hostram: the machine's RAM by host virtual address (see
 * apple-dma-hostram.h for what may be reached and why).
 *
 * Copyright (c) egpu-vm authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/atomic.h"
#include "qemu/main-loop.h"
#include "qemu/rcu.h"
#include "qapi/error.h"
#include "hw/boards.h"
#include "apple-dma-hostram.h"

#define ADMA_HOSTRAM_NAME "apple-dma-hostram"

static struct {
    /*
     * Written once under the BQL, then read by any thread: @nram and @ram
     * are published by @ready (release/acquire), @as by @as_ready.
     */
    bool ready;
    unsigned int nram;
    MemoryRegion **ram;         /* machine RAM, referenced for good */
    bool as_ready;
    MemoryRegion root;          /* the whole 64-bit host address range */
    MemoryRegion *alias;        /* alias i maps ram[i] at its host address */
    AddressSpace as;
} hostram;

/* owners keeping discards off (finalize may run outside the BQL) */
static GSList *hostram_pinned;
G_LOCK_DEFINE_STATIC(hostram_pinned);

/* RAM a device may read and write directly: not a ROM, not a BAR. */
static bool hostram_usable(MemoryRegion *mr)
{
    return memory_region_is_ram(mr) && !memory_region_is_ram_device(mr) &&
           !mr->readonly && !mr->rom_device;
}

/*
 * The machine's RAM regions: machine->ram itself, or the NUMA nodes'
 * memdevs it is a container of. Device memory and pc-dimms are elsewhere.
 */
static bool hostram_collect(Error **errp)
{
    MachineState *ms = current_machine;
    MemoryRegion *sub;
    GPtrArray *found;
    unsigned int i;

    if (qatomic_load_acquire(&hostram.ready)) {
        return true;
    }
    if (!ms || !ms->ram) {
        error_setg(errp, "%s: this machine has no RAM backend a DMA mapping "
                   "could name", ADMA_HOSTRAM_NAME);
        return false;
    }
    found = g_ptr_array_new();
    if (hostram_usable(ms->ram)) {
        g_ptr_array_add(found, ms->ram);
    } else {
        QTAILQ_FOREACH(sub, &ms->ram->subregions, subregions_link) {
            if (hostram_usable(sub)) {
                g_ptr_array_add(found, sub);
            }
        }
    }
    if (!found->len) {
        g_ptr_array_free(found, true);
        error_setg(errp, "%s: the machine's RAM is not plain writable RAM",
                   ADMA_HOSTRAM_NAME);
        return false;
    }
    hostram.nram = found->len;
    hostram.ram = (MemoryRegion **)g_ptr_array_free(found, false);
    for (i = 0; i < hostram.nram; i++) {
        /* machine RAM outlives every mapping: keep it past any unplug */
        memory_region_ref(hostram.ram[i]);
    }
    qatomic_store_release(&hostram.ready, true);
    return true;
}

bool adma_hostram_owns(MemoryRegion *mr)
{
    unsigned int i, n;

    if (!qatomic_load_acquire(&hostram.ready)) {
        /* a RAM block notifier may ask before any device built it */
        if (!bql_locked() || !hostram_collect(NULL)) {
            return false;
        }
    }
    n = hostram.nram;
    for (i = 0; i < n; i++) {
        if (hostram.ram[i] == mr) {
            return true;
        }
    }
    return false;
}

bool adma_hostram_init(Error **errp)
{
    unsigned int i;

    assert(bql_locked());
    if (qatomic_load_acquire(&hostram.as_ready)) {
        return true;
    }
    if (!hostram_collect(errp)) {
        return false;
    }
    memory_region_init(&hostram.root, NULL, ADMA_HOSTRAM_NAME, UINT64_MAX);
    hostram.alias = g_new0(MemoryRegion, hostram.nram);
    for (i = 0; i < hostram.nram; i++) {
        MemoryRegion *mr = hostram.ram[i];
        uintptr_t hva = (uintptr_t)memory_region_get_ram_ptr(mr);

        memory_region_init_alias(&hostram.alias[i], NULL,
                                 ADMA_HOSTRAM_NAME "-alias", mr, 0,
                                 memory_region_size(mr));
        memory_region_add_subregion(&hostram.root, hva, &hostram.alias[i]);
    }
    address_space_init(&hostram.as, &hostram.root, ADMA_HOSTRAM_NAME);
    qatomic_store_release(&hostram.as_ready, true);
    return true;
}

bool adma_hostram_pin(Object *owner, Error **errp)
{
    int err;

    if (!adma_hostram_init(errp)) {
        return false;
    }
    G_LOCK(hostram_pinned);
    if (g_slist_find(hostram_pinned, owner)) {
        G_UNLOCK(hostram_pinned);
        return true;
    }
    /*
     * Uncoordinated discards (balloon, free page reporting) would free
     * machine RAM under a mapping: keep them off. virtio-mem discards only
     * its own memory, which is never mapped, so it may stay.
     */
    err = ram_block_uncoordinated_discard_disable(true);
    if (!err) {
        hostram_pinned = g_slist_prepend(hostram_pinned, owner);
    }
    G_UNLOCK(hostram_pinned);
    if (err) {
        error_setg_errno(errp, -err, "%s: cannot keep the machine's RAM from "
                         "being discarded (a device here requires RAM "
                         "discards), so DMA mappings could lose their pages",
                         object_get_typename(owner));
        return false;
    }
    return true;
}

void adma_hostram_unpin(Object *owner)
{
    G_LOCK(hostram_pinned);
    if (g_slist_find(hostram_pinned, owner)) {
        hostram_pinned = g_slist_remove(hostram_pinned, owner);
        ram_block_uncoordinated_discard_disable(false);
    }
    G_UNLOCK(hostram_pinned);
}

AddressSpace *adma_hostram_as(void)
{
    return qatomic_load_acquire(&hostram.as_ready) ? &hostram.as : NULL;
}

int adma_hostram_translate(AddressSpace *as, hwaddr addr, uint64_t len,
                           bool is_write, uint64_t *hva)
{
    uint8_t *start = NULL, *next = NULL;

    if (!len || addr + len < addr) {
        return -1;
    }
    RCU_READ_LOCK_GUARD();
    while (len) {
        hwaddr xlat, l = len;
        MemoryRegion *mr = address_space_translate(as, addr, &xlat, &l,
                                                   is_write,
                                                   MEMTXATTRS_UNSPECIFIED);
        uint8_t *p;

        if (!l || !adma_hostram_owns(mr)) {
            return -1;
        }
        p = (uint8_t *)memory_region_get_ram_ptr(mr) + xlat;
        if (next && p != next) {
            return -1;          /* two host ranges: no one address */
        }
        start = start ? start : p;
        next = p + l;
        addr += l;
        len -= l;
    }
    *hva = (uint64_t)(uintptr_t)start;
    return 0;
}

int adma_hostram_rw(uint64_t hva, void *buf, size_t len, bool is_write)
{
    AddressSpace *as = adma_hostram_as();
    uint64_t cur = hva, left = len;
    MemTxResult r;

    if (!as || !len || hva + len < hva) {
        return len ? -1 : 0;
    }
    RCU_READ_LOCK_GUARD();
    /*
     * Check first: a hole here is unassigned memory, and dispatching to it
     * would take the BQL, which our callers must not wait for.
     */
    while (left) {
        hwaddr xlat, l = left;
        MemoryRegion *mr = address_space_translate(as, cur, &xlat, &l,
                                                   is_write,
                                                   MEMTXATTRS_UNSPECIFIED);

        if (!l || !adma_hostram_owns(mr)) {
            return -1;
        }
        cur += l;
        left -= l;
    }
    /* through the address space: dirty tracking and TB invalidation */
    r = is_write ? address_space_write(as, hva, MEMTXATTRS_UNSPECIFIED, buf,
                                       len)
                 : address_space_read(as, hva, MEMTXATTRS_UNSPECIFIED, buf,
                                      len);
    return r == MEMTX_OK ? 0 : -1;
}
