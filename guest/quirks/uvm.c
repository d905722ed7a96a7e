// SPDX-License-Identifier: GPL-2.0
/*
 * quirks/uvm.c - NVIDIA UVM asks for big pages in system memory.
 *
 * nvidia-uvm allocates system memory through
 *   NV_STATUS nvUvmInterfaceMemoryAllocSys(uvmGpuAddressSpaceHandle vaSpace,
 *                                          NvLength length,
 *                                          UvmGpuPointer *gpuPointer,
 *                                          UvmGpuAllocInfo *allocInfo);
 * with allocInfo->pageSize at 64 KiB or 2 MiB for large sizes, and the GPU
 * driver then insists that the DMA address be aligned to that page size.
 * The host picks DMA addresses aligned to 16 KiB only, so the allocation
 * fails (NV_ERR_INVALID_OFFSET, which UVM does not retry). A kprobe on the
 * function's entry forces pageSize to UVM_PAGE_SIZE_DEFAULT (0).
 *
 * UvmGpuAllocInfo begins { NvU64 gpuPhysOffset; NvU64 pageSize; ... } in
 * NVIDIA's open-gpu-kernel-modules (older releases: NvU32 pageSize at the
 * same offset, followed by padding to an 8-byte field, so writing 8 bytes
 * there is still safe). uvm_page_size_offset overrides the offset.
 *
 * The function lives in the "nvidia" module, which loads after apple_dma:
 * a module notifier arms the probe when that module goes live and disarms it
 * when it goes away.
 */
#include <linux/kprobes.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/uaccess.h>

#include "adma_drv.h"

#define ADMA_UVM_SYMBOL		"nvUvmInterfaceMemoryAllocSys"
#define UVM_PAGE_SIZE_DEFAULT	0ull

static bool uvm_quirk = true;
module_param(uvm_quirk, bool, 0444);
MODULE_PARM_DESC(uvm_quirk,
		 "Force NVIDIA UVM system-memory allocations to the default page size (default: on)");

static unsigned int uvm_page_size_offset = 8;
module_param(uvm_page_size_offset, uint, 0444);
MODULE_PARM_DESC(uvm_page_size_offset,
		 "Byte offset of pageSize in UvmGpuAllocInfo (default 8)");

static char *uvm_module = "nvidia";
module_param(uvm_module, charp, 0444);
MODULE_PARM_DESC(uvm_module,
		 "Module that defines " ADMA_UVM_SYMBOL " (default nvidia)");

static DEFINE_MUTEX(adma_uvm_lock);	/* registration state below */
static struct kprobe adma_uvm_kp;
static bool adma_uvm_armed;
static bool adma_uvm_watching;
static atomic64_t adma_uvm_count;

u64 adma_uvm_forced(void)
{
	return atomic64_read(&adma_uvm_count);
}

static int __kprobes adma_uvm_pre(struct kprobe *p, struct pt_regs *regs)
{
	unsigned long info = regs_get_kernel_argument(regs, 3);
	u64 *page_size, old;

	if (!info)
		return 0;
	page_size = (u64 *)(info + uvm_page_size_offset);
	if (copy_from_kernel_nofault(&old, page_size, sizeof(old)))
		return 0;
	if (old != UVM_PAGE_SIZE_DEFAULT) {
		*page_size = UVM_PAGE_SIZE_DEFAULT;
		atomic64_inc(&adma_uvm_count);
	}
	return 0;
}

/* Arm the probe if the symbol is there; under adma_uvm_lock. */
static void adma_uvm_arm(bool quiet)
{
	int ret;

	if (adma_uvm_armed)
		return;
	memset(&adma_uvm_kp, 0, sizeof(adma_uvm_kp));
	adma_uvm_kp.symbol_name = ADMA_UVM_SYMBOL;
	adma_uvm_kp.pre_handler = adma_uvm_pre;
	ret = register_kprobe(&adma_uvm_kp);
	if (!ret) {
		adma_uvm_armed = true;
		pr_info(ADMA_DRV_NAME ": UVM quirk armed on " ADMA_UVM_SYMBOL "\n");
	} else if (ret == -ENOENT || ret == -EINVAL) {
		if (!quiet)
			pr_info(ADMA_DRV_NAME ": " ADMA_UVM_SYMBOL
				" not present; the UVM quirk waits for module %s\n",
				uvm_module);
	} else {
		pr_warn(ADMA_DRV_NAME ": UVM quirk: register_kprobe: %d\n", ret);
	}
}

static void adma_uvm_disarm(const char *why)
{
	if (!adma_uvm_armed)
		return;
	unregister_kprobe(&adma_uvm_kp);
	adma_uvm_armed = false;
	pr_info(ADMA_DRV_NAME ": UVM quirk disarmed (%s; %llu allocations forced so far)\n",
		why, adma_uvm_forced());
}

static int adma_uvm_module_cb(struct notifier_block *nb, unsigned long action,
			      void *data)
{
	struct module *mod = data;

	if (strcmp(mod->name, uvm_module))
		return NOTIFY_DONE;
	mutex_lock(&adma_uvm_lock);
	if (action == MODULE_STATE_LIVE)
		adma_uvm_arm(false);
	else if (action == MODULE_STATE_GOING)
		adma_uvm_disarm("module going");
	mutex_unlock(&adma_uvm_lock);
	return NOTIFY_OK;
}

static struct notifier_block adma_uvm_nb = {
	.notifier_call = adma_uvm_module_cb,
};

void adma_uvm_init(void)
{
	if (!uvm_quirk)
		return;
	if (uvm_page_size_offset % 8 || uvm_page_size_offset > 256) {
		pr_err(ADMA_DRV_NAME ": uvm_page_size_offset=%u: not a plausible offset; UVM quirk off\n",
		       uvm_page_size_offset);
		return;
	}
	mutex_lock(&adma_uvm_lock);
	if (!register_module_notifier(&adma_uvm_nb))
		adma_uvm_watching = true;
	adma_uvm_arm(false);
	mutex_unlock(&adma_uvm_lock);
}

void adma_uvm_fini(void)
{
	if (adma_uvm_watching)
		unregister_module_notifier(&adma_uvm_nb);
	adma_uvm_watching = false;
	mutex_lock(&adma_uvm_lock);
	adma_uvm_disarm("apple_dma stopping");
	mutex_unlock(&adma_uvm_lock);
}
