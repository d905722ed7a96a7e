/* SPDX-License-Identifier: (GPL-2.0 OR MIT) */
/* Not Apple's SDK: declaration shim, see shim/DriverKit/README.md. */
#ifndef SHIM_DRIVERKIT_IOTYPES_H
#define SHIM_DRIVERKIT_IOTYPES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <DriverKit/IOReturn.h>

typedef uint32_t IOOptionBits;

#ifndef NULL
#define NULL nullptr
#endif

#endif
