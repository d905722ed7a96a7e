/*
 * shim/IOKit/darwin/mach/mach.h - NOT Apple's SDK: the few Mach types and
 * names host/hostdev_iokit.c uses, written by us from Apple's documentation
 * (see shim/IOKit/README.md). Values are the documented ones.
 */
#ifndef EGPU_SHIM_MACH_H
#define EGPU_SHIM_MACH_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef unsigned int mach_port_t;
typedef int kern_return_t;
typedef mach_port_t task_t;
typedef mach_port_t task_port_t;
typedef uint64_t mach_vm_address_t;
typedef uint64_t mach_vm_size_t;

#define MACH_PORT_NULL		((mach_port_t)0)
#define KERN_SUCCESS		0
#define MACH_SEND_INVALID_DEST	0x10000003	/* the receiver is gone */

/* the calling task's port (mach_init.h) */
extern mach_port_t mach_task_self_;
#define mach_task_self()	mach_task_self_

#ifdef __cplusplus
}
#endif

#endif /* EGPU_SHIM_MACH_H */
