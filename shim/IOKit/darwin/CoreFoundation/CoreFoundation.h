/*
 * shim/IOKit/darwin/CoreFoundation/CoreFoundation.h - NOT Apple's SDK: only
 * the CoreFoundation types IOKitLib's matching calls pass around, written by
 * us from Apple's documentation (see shim/IOKit/README.md). We never look
 * inside a dictionary: IOServiceMatching() makes it and
 * IOServiceGetMatchingServices() consumes it.
 */
#ifndef EGPU_SHIM_COREFOUNDATION_H
#define EGPU_SHIM_COREFOUNDATION_H

#ifdef __cplusplus
extern "C" {
#endif

typedef const struct __CFDictionary *CFDictionaryRef;
typedef struct __CFDictionary *CFMutableDictionaryRef;

#ifdef __cplusplus
}
#endif

#endif /* EGPU_SHIM_COREFOUNDATION_H */
