/*
 * shim/Hypervisor/darwin/pthread.h — NOT Apple's SDK: declarations written by us
 * from Apple's documentation, only what the HVF files of our QEMU series use
 * (see shim/README.md and shim/Hypervisor/Hypervisor.h).
 *
 * The POSIX part comes from the next <pthread.h> on the include path (in
 * `make darwin`, glibc's for aarch64, standing in for Darwin's libc); this
 * adds the Darwin extensions QEMU's headers and the HVF files call.
 */
#ifndef EGPU_SHIM_PTHREAD_H
#define EGPU_SHIM_PTHREAD_H

#include_next <pthread.h>
#include <pthread/qos.h>

/* MAP_JIT pages of this thread: executable (true) or writable (false) */
void pthread_jit_write_protect_np(int enabled);

#endif
