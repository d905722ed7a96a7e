/*
 * shim/IOKit/darwin/dispatch/dispatch.h - NOT Apple's SDK: the libdispatch
 * calls host/hostdev_iokit.c makes (a serial queue for IOKit notifications),
 * written by us from Apple's documentation (see shim/IOKit/README.md). Plain
 * C, no blocks: the *_f variants. dispatch_object_t is the transparent union
 * Apple's headers use in C without Objective-C.
 */
#ifndef EGPU_SHIM_DISPATCH_H
#define EGPU_SHIM_DISPATCH_H

#ifdef __cplusplus
extern "C" {
#endif

typedef struct dispatch_queue_s *dispatch_queue_t;
typedef struct dispatch_queue_attr_s *dispatch_queue_attr_t;
typedef void (*dispatch_function_t)(void *context);

#ifdef __cplusplus
typedef void *dispatch_object_t;
#else
typedef union {
	struct dispatch_object_s *_do;
	struct dispatch_queue_s *_dq;
} dispatch_object_t __attribute__((__transparent_union__));
#endif

#define DISPATCH_QUEUE_SERIAL	((dispatch_queue_attr_t)0)

dispatch_queue_t dispatch_queue_create(const char *label,
				       dispatch_queue_attr_t attr);
/* Run work on queue and wait for it: also waits for what was queued before. */
void dispatch_sync_f(dispatch_queue_t queue, void *context,
		     dispatch_function_t work);
void dispatch_release(dispatch_object_t object);

#ifdef __cplusplus
}
#endif

#endif /* EGPU_SHIM_DISPATCH_H */
