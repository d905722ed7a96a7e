/*
 * shim/IOKit/libc/pthread.h - NOT Apple's SDK (see stdlib.h here): the
 * mutex calls of host/hostdev_iokit*.c, with Darwin's arm64 layout of
 * pthread_mutex_t (a signature word and 56 opaque bytes), so that the
 * object's structure sizes are Darwin's.
 */
#ifndef EGPU_SHIM_PTHREAD_H
#define EGPU_SHIM_PTHREAD_H

struct _opaque_pthread_mutex_t {
	long __sig;
	char __opaque[56];
};

struct _opaque_pthread_mutexattr_t {
	long __sig;
	char __opaque[8];
};

typedef struct _opaque_pthread_mutex_t pthread_mutex_t;
typedef struct _opaque_pthread_mutexattr_t pthread_mutexattr_t;

int pthread_mutex_init(pthread_mutex_t *mutex,
		       const pthread_mutexattr_t *attr);
int pthread_mutex_destroy(pthread_mutex_t *mutex);
int pthread_mutex_lock(pthread_mutex_t *mutex);
int pthread_mutex_unlock(pthread_mutex_t *mutex);

#endif
