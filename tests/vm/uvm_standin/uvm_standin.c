// SPDX-License-Identifier: GPL-2.0
/*
 * uvm_standin.c - a stand-in for the function of NVIDIA's driver that
 * apple_dma's UVM quirk (guest/quirks/uvm.c) probes. Tests only.
 *
 * It exports nvUvmInterfaceMemoryAllocSys with the argument layout of
 * NVIDIA's open kernel modules (kernel-open/common/inc/nv_uvm_interface.h
 * and nv_uvm_types.h in open-gpu-kernel-modules): (address space handle,
 * 64-bit length, pointer to the 64-bit GPU VA out, pointer to the alloc
 * info), returning a 32-bit status; the alloc info starts with three 64-bit
 * fields, physical offset, page size and alignment, then byte flags and a
 * 32-bit handle. Like the resource manager behind the real function, it
 * refuses a page size the memory's DMA address is not aligned to with
 * NV_ERR_INVALID_OFFSET (0x37): the host promises 16 KiB alignment only, so
 * every page size above 16 KiB is refused unless the quirk forced it to the
 * default (0).
 *
 * /sys/kernel/debug/uvm_standin/call: write "LENGTH PAGESIZE" to make one
 * call the way nvidia-uvm does (through the exported symbol, fields around
 * the page size set to known values); read it for the last call:
 *   calls=N status=0xS asked=P seen=P' gpu_va=0xV kept=1
 * (seen: the page size the function found; kept: the fields around it
 * arrived unchanged).
 */
#include <linux/debugfs.h>
#include <linux/fs.h>
#include <linux/kernel.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/sizes.h>
#include <linux/stddef.h>
#include <linux/uaccess.h>

#include "uvm_standin.h"

#define STANDIN_OK			0x00
#define STANDIN_ERR_INVALID_OFFSET	0x37
#define STANDIN_PAGE_DEFAULT		0ull
#define STANDIN_HOST_ALIGN		SZ_16K
#define STANDIN_PHYS_OFFSET		0x5a5a5a5a00001000ull
#define STANDIN_ALIGNMENT		0x0000000000200000ull

static_assert(offsetof(struct standin_alloc_info, page_size) == 8);
static_assert(offsetof(struct standin_alloc_info, alignment) == 16);

static DEFINE_MUTEX(standin_lock);	/* the last call's record */
static struct {
	unsigned long calls;
	u32 status;
	u64 asked, seen, gpu_va;
	bool kept;
} standin_last;
static u64 standin_seen;
static struct dentry *standin_dir;

noinline u32 nvUvmInterfaceMemoryAllocSys(void *va_space, u64 length,
					  u64 *gpu_va,
					  struct standin_alloc_info *info)
{
	standin_seen = info->page_size;
	if (info->page_size > STANDIN_HOST_ALIGN)
		return STANDIN_ERR_INVALID_OFFSET;
	*gpu_va = SZ_4G + length;
	return STANDIN_OK;
}
EXPORT_SYMBOL(nvUvmInterfaceMemoryAllocSys);

/*
 * Called as nvidia-uvm calls it, at the exported entry: through a pointer
 * read with READ_ONCE, so the compiler can neither inline nor clone it.
 */
static u32 (*standin_alloc_sys)(void *, u64, u64 *,
				struct standin_alloc_info *) =
	nvUvmInterfaceMemoryAllocSys;

static ssize_t standin_call_write(struct file *file, const char __user *ubuf,
				  size_t len, loff_t *ppos)
{
	struct standin_alloc_info info = {
		.phys_offset = STANDIN_PHYS_OFFSET,
		.alignment = STANDIN_ALIGNMENT,
		.contiguous = 1,
		.phys_handle = 0xcafe,
	};
	char buf[64];
	u64 length, page_size, gpu_va = 0;
	u32 status;

	if (len >= sizeof(buf))
		return -EINVAL;
	if (copy_from_user(buf, ubuf, len))
		return -EFAULT;
	buf[len] = '\0';
	if (sscanf(buf, "%llu %llu", &length, &page_size) != 2 || !length)
		return -EINVAL;
	info.page_size = page_size;
	mutex_lock(&standin_lock);
	status = READ_ONCE(standin_alloc_sys)(NULL, length, &gpu_va, &info);
	standin_last.calls++;
	standin_last.status = status;
	standin_last.asked = page_size;
	standin_last.seen = standin_seen;
	standin_last.gpu_va = gpu_va;
	standin_last.kept = info.phys_offset == STANDIN_PHYS_OFFSET &&
			    info.alignment == STANDIN_ALIGNMENT &&
			    info.contiguous == 1 && info.phys_handle == 0xcafe;
	mutex_unlock(&standin_lock);
	return len;
}

static ssize_t standin_call_read(struct file *file, char __user *ubuf,
				 size_t len, loff_t *ppos)
{
	char buf[160];
	int n;

	mutex_lock(&standin_lock);
	n = scnprintf(buf, sizeof(buf),
		      "calls=%lu status=%#x asked=%llu seen=%llu gpu_va=%#llx kept=%d\n",
		      standin_last.calls, standin_last.status, standin_last.asked,
		      standin_last.seen, standin_last.gpu_va, standin_last.kept);
	mutex_unlock(&standin_lock);
	return simple_read_from_buffer(ubuf, len, ppos, buf, n);
}

static const struct file_operations standin_call_fops = {
	.owner = THIS_MODULE,
	.read = standin_call_read,
	.write = standin_call_write,
	.llseek = default_llseek,
};

static int __init standin_init(void)
{
	standin_dir = debugfs_create_dir("uvm_standin", NULL);
	debugfs_create_file("call", 0600, standin_dir, NULL, &standin_call_fops);
	return 0;
}

static void __exit standin_exit(void)
{
	debugfs_remove_recursive(standin_dir);
}

module_init(standin_init);
module_exit(standin_exit);
MODULE_DESCRIPTION("Stand-in for NVIDIA's nvUvmInterfaceMemoryAllocSys (apple_dma VM tests only)");
MODULE_LICENSE("GPL");
