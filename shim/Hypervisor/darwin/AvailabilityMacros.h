/*
 * shim/Hypervisor/darwin/AvailabilityMacros.h — NOT Apple's SDK: written by
 * us from Apple's documentation, only what the HVF files of our QEMU series
 * use (see shim/README.md). QEMU's osdep.h includes it on Apple hosts.
 *
 * MAC_OS_X_VERSION_MIN_REQUIRED is the deployment target (from the -target
 * triple), MAC_OS_X_VERSION_MAX_ALLOWED the SDK's version. The SDK modelled
 * is macOS 15 unless EGPU_SHIM_MACOS_SDK says otherwise (140000: an SDK
 * without HV_SYS_REG_ACTLR_EL1), so both sides of a
 * "#if MAC_OS_X_VERSION_MAX_ALLOWED >= ..." can be compiled.
 */
#ifndef EGPU_SHIM_AVAILABILITYMACROS_H
#define EGPU_SHIM_AVAILABILITYMACROS_H

#ifndef EGPU_SHIM_MACOS_SDK
#define EGPU_SHIM_MACOS_SDK 150000
#endif

#define MAC_OS_X_VERSION_MIN_REQUIRED \
    __ENVIRONMENT_MAC_OS_X_VERSION_MIN_REQUIRED__
#define MAC_OS_X_VERSION_MAX_ALLOWED EGPU_SHIM_MACOS_SDK

#define MAC_OS_VERSION_13_0 130000
#define MAC_OS_VERSION_14_0 140000
#if EGPU_SHIM_MACOS_SDK >= 150000
#define MAC_OS_VERSION_15_0 150000
#endif

#endif
