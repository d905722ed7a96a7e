/* SPDX-License-Identifier: (GPL-2.0 OR MIT) */
/*
 * shim_int.h - inside the IOKit test double (see iokit_shim.h): what its
 * files share. Not IOKit.
 */
#ifndef IOKIT_SHIM_INT_H
#define IOKIT_SHIM_INT_H

#include <pthread.h>

#include "iokit_shim.h"

/* ---- shim_dispatch.c: serial queues, a thread each */
void shim_queue_async(dispatch_queue_t q, void *ctx, dispatch_function_t fn);

/* ---- iokit_shim.c: an armed async completion (the dext's OSAction) */
struct shim_completion;
void shim_completion_retain(struct shim_completion *c);
void shim_completion_release(struct shim_completion *c);
void shim_completion_send(struct shim_completion *c, const uint64_t *data,
			  uint32_t n);

/* ---- shim_platform.c: the "kernel" side: simgpu + dext core */
struct shim_mem {
	void *ptr;
	uint64_t size;
};

/* Set up with defaults (or the environment) if nothing is there yet. */
bool shim_kernel_ensure(void);
struct dext_core *shim_kernel_core(void);
/* The memory a token from bar_memory/irq_page_memory stands for. */
const struct shim_mem *shim_kernel_mem(void *token);
void shim_count(uint64_t *counter);
extern struct iokit_shim_counts shim_counts;
extern pthread_mutex_t shim_counts_lock;

#endif /* IOKIT_SHIM_INT_H */
