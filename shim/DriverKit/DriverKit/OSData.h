/* SPDX-License-Identifier: (GPL-2.0 OR MIT) */
/* Not Apple's SDK: declaration shim, see shim/DriverKit/README.md. */
#ifndef SHIM_DRIVERKIT_OSDATA_H
#define SHIM_DRIVERKIT_OSDATA_H

#include <DriverKit/OSObject.h>

class OSData : public OSObject {
public:
	/* A new data object holding a copy of the bytes; +1 reference. */
	static OSData *withBytes(const void *bytes, size_t numBytes);
	size_t getLength() const;
	const void *getBytesNoCopy() const;
};

#endif
