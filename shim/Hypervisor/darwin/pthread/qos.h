/*
 * shim/Hypervisor/darwin/pthread/qos.h — NOT Apple's SDK: declarations written by us
 * from Apple's documentation, only what the HVF files of our QEMU series use
 * (see shim/README.md and shim/Hypervisor/Hypervisor.h).
 */
#ifndef EGPU_SHIM_PTHREAD_QOS_H
#define EGPU_SHIM_PTHREAD_QOS_H

#include <sys/qos.h>

/*
 * Sets the calling thread's QoS class; relative_priority is 0 or a
 * negative offset within the class. Returns 0 or an errno value (EPERM once
 * the thread's policy was set with pthread_setschedparam()).
 */
int pthread_set_qos_class_self_np(qos_class_t qos_class,
                                  int relative_priority);

#endif
