/*
 * egpu-dext-double.h: what egpu-hostdev-dext.c needs of the IOKit test
 * double (tests/iokit-shim/iokit_shim.h, whose IOKit include path this
 * QEMU file does not have): set up the simulated function behind it, and
 * reach it for its counters. Built only with EGPU_IOKIT_TEST_DOUBLE.
 *
 * Copyright (c) egpu-vm authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef HW_MISC_EGPU_DEXT_DOUBLE_H
#define HW_MISC_EGPU_DEXT_DOUBLE_H

struct simgpu;
struct simgpu_config;

/* false if the simulated function exists already */
bool iokit_shim_setup_gpu(const struct simgpu_config *gpu);
struct simgpu *iokit_shim_gpu(void);
void iokit_shim_lock_gpu(void);
void iokit_shim_unlock_gpu(void);

#endif
