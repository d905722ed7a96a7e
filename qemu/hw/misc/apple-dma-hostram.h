/*
 * apple-dma-hostram: the machine's RAM as a DART sees it - by host virtual
 * address, and nothing else.
 *
 * What a mapping may reach is the machine's own RAM (the memory backend of
 * -m, or the NUMA nodes' memdevs), never a device's memory (VGA vram,
 * ivshmem, nvdimm, virtio-gpu blobs, pc-dimm hot-plugged RAM are refused)
 * and never MMIO. A mapping names the host memory it was validated against,
 * not a guest-physical address: the guest may remap its physical address
 * space afterwards (PAM, SMRAM, a BAR moved) without changing what the
 * device reaches - as on the Mac, where the DART maps this process's memory.
 *
 * The "host RAM" address space holds one alias per machine RAM region,
 * placed at that region's host virtual address; anything else in it is a
 * hole. Every DMA that a mapping allows (the managed device through
 * apple-dma-iommu.c, the simulated GPU's engine) and every access of
 * apple-dma-pci to the guest's arrays goes through it, so none can reach
 * MMIO, and none takes a reference on a memory region: machine RAM lives
 * as long as the machine (its backends cannot be deleted while mapped), and
 * the regions are referenced once, here, for good.
 *
 * Locking: the set of machine RAM regions and the address space are built
 * once under the BQL and never change; lookups and accesses need only RCU,
 * not the BQL.
 *
 * Copyright (c) egpu-vm authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef HW_MISC_APPLE_DMA_HOSTRAM_H
#define HW_MISC_APPLE_DMA_HOSTRAM_H

#include "exec/memory.h"
#include "qom/object.h"

/*
 * Build the host-RAM address space (idempotent; BQL). False, with errp
 * set, if the machine has no RAM a mapping could name.
 */
bool adma_hostram_init(Error **errp);

/*
 * Like adma_hostram_init(), and keep RAM discards (virtio-balloon, free
 * page reporting) off while owner lives: a discarded page would be
 * replaced under a live mapping (BQL). Undone by adma_hostram_unpin(owner),
 * which may be called again, for an owner that never pinned, or from
 * finalize (any thread).
 */
bool adma_hostram_pin(Object *owner, Error **errp);
void adma_hostram_unpin(Object *owner);

/* The host-RAM address space; NULL before adma_hostram_init(). */
AddressSpace *adma_hostram_as(void);

/* Is mr one of the machine's RAM regions? (Any thread.) */
bool adma_hostram_owns(MemoryRegion *mr);

/*
 * Is [addr, addr + len) of as wholly machine RAM (after as's IOMMUs and
 * aliases, as of now), contiguous in host memory? Then 0, with its host
 * virtual address in *hva; else -1. Any thread; takes the RCU read lock.
 */
int adma_hostram_translate(AddressSpace *as, hwaddr addr, uint64_t len,
                           bool is_write, uint64_t *hva);

/*
 * Copy to or from machine RAM at host virtual address hva. -1, and nothing
 * copied, if any byte of the range is not machine RAM. Any thread.
 */
int adma_hostram_rw(uint64_t hva, void *buf, size_t len, bool is_write);

#endif
