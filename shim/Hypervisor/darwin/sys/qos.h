/*
 * shim/Hypervisor/darwin/sys/qos.h — NOT Apple's SDK: declarations written by us
 * from Apple's documentation, only what the HVF files of our QEMU series use
 * (see shim/README.md and shim/Hypervisor/Hypervisor.h).
 */
#ifndef EGPU_SHIM_SYS_QOS_H
#define EGPU_SHIM_SYS_QOS_H

/* quality-of-service classes, highest first */
typedef unsigned int qos_class_t;
#define QOS_CLASS_USER_INTERACTIVE ((qos_class_t)0x21)
#define QOS_CLASS_USER_INITIATED   ((qos_class_t)0x19)
#define QOS_CLASS_DEFAULT          ((qos_class_t)0x15)
#define QOS_CLASS_UTILITY          ((qos_class_t)0x11)
#define QOS_CLASS_BACKGROUND       ((qos_class_t)0x09)
#define QOS_CLASS_UNSPECIFIED      ((qos_class_t)0x00)

#endif
