/* SPDX-License-Identifier: GPL-2.0 */
/*
 * uvm_standin.h - the one function of NVIDIA's driver the stand-in exports,
 * with the argument layout of NVIDIA's open kernel modules (see
 * uvm_standin.c); names are ours.
 */
#ifndef UVM_STANDIN_H
#define UVM_STANDIN_H

#include <linux/types.h>

/* the layout of NVIDIA's UvmGpuAllocInfo */
struct standin_alloc_info {
	u64 phys_offset;
	u64 page_size;		/* what apple_dma's quirk forces to 0 */
	u64 alignment;
	u8 contiguous;
	u8 grows_down;
	u8 persistent;
	u32 phys_handle;
	u8 unprotected;
};

u32 nvUvmInterfaceMemoryAllocSys(void *va_space, u64 length, u64 *gpu_va,
				 struct standin_alloc_info *info);

#endif /* UVM_STANDIN_H */
