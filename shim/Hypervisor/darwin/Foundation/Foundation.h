/*
 * shim/Hypervisor/darwin/Foundation/Foundation.h — NOT Apple's SDK:
 * declarations written by us from Apple's Foundation documentation, only
 * what accel/hvf/hvf-activity.m (our QEMU series) uses: NSProcessInfo's
 * activity API. Objective-C, manual retain/release as QEMU builds it.
 *
 * Unchecked here: everything Foundation does at run time (whether macOS
 * honours the activity is only visible on a Mac: `pmset -g assertions`,
 * Activity Monitor's "App Nap" column).
 */
#ifndef EGPU_SHIM_FOUNDATION_H
#define EGPU_SHIM_FOUNDATION_H

#include <stdint.h>

#ifndef __OBJC__
#error "Foundation/Foundation.h is Objective-C"
#endif

/* from <objc/objc.h>, which Foundation includes */
#ifndef nil
#define nil ((void *)0)
#endif

@class NSString;

@protocol NSObject
- (instancetype)retain;
- (oneway void)release;
- (instancetype)autorelease;
@end

__attribute__((objc_root_class))
@interface NSObject <NSObject>
+ (instancetype)alloc;
- (instancetype)init;
@end

@interface NSString : NSObject
@end

typedef uint64_t NSActivityOptions;
enum {
    NSActivityIdleDisplaySleepDisabled = (1ULL << 40),
    NSActivityIdleSystemSleepDisabled = (1ULL << 20),
    NSActivitySuddenTerminationDisabled = (1ULL << 14),
    NSActivityAutomaticTerminationDisabled = (1ULL << 15),
    NSActivityUserInitiated = (0x00FFFFFFULL | NSActivityIdleSystemSleepDisabled),
    NSActivityUserInitiatedAllowingIdleSystemSleep =
        (NSActivityUserInitiated & ~NSActivityIdleSystemSleepDisabled),
    NSActivityBackground = 0x000000FFULL,
    NSActivityLatencyCritical = 0xFF00000000ULL,
};

@interface NSProcessInfo : NSObject
+ (NSProcessInfo *)processInfo;
/* the returned token is not owned by the caller (not alloc/new/copy) */
- (id<NSObject>)beginActivityWithOptions:(NSActivityOptions)options
                                  reason:(NSString *)reason;
- (void)endActivity:(id<NSObject>)activity;
@end

#endif
