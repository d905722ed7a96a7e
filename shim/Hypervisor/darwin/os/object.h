/*
 * shim/Hypervisor/darwin/os/object.h — NOT Apple's SDK: declarations written by us
 * from Apple's documentation, only what the HVF files of our QEMU series use
 * (see shim/README.md and shim/Hypervisor/Hypervisor.h).
 * In C (no Objective-C object types), OS objects are released with
 * os_release().
 */
#ifndef EGPU_SHIM_OS_OBJECT_H
#define EGPU_SHIM_OS_OBJECT_H

void os_release(void *object);

#endif
