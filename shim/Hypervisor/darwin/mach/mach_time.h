/*
 * shim/Hypervisor/darwin/mach/mach_time.h — NOT Apple's SDK: declarations written by us
 * from Apple's documentation, only what the HVF files of our QEMU series use
 * (see shim/README.md and shim/Hypervisor/Hypervisor.h).
 */
#ifndef EGPU_SHIM_MACH_MACH_TIME_H
#define EGPU_SHIM_MACH_MACH_TIME_H

#include <stdint.h>

/* ticks of the monotonic clock that does not advance during sleep */
uint64_t mach_absolute_time(void);

#endif
