/* SPDX-License-Identifier: (GPL-2.0 OR MIT) */
/*
 * coal_types.h - the only environment the coalescer sees: fixed-width
 * integers, size_t and bool, from the kernel or from the C library.
 */
#ifndef COAL_TYPES_H
#define COAL_TYPES_H

#ifdef __KERNEL__
#include <linux/types.h>
#else
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#endif

#endif /* COAL_TYPES_H */
