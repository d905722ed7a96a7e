/*
 * shim/IOKit/libc/stdlib.h - NOT Apple's SDK: the part of Darwin's libc
 * that host/hostdev_iokit*.c call, written by us from the C standard and
 * Apple's documentation, for `make darwin` only (scripts/darwin.d/10-host.sh;
 * see shim/IOKit/README.md). Linux builds use the system's libc.
 */
#ifndef EGPU_SHIM_STDLIB_H
#define EGPU_SHIM_STDLIB_H

#include <stddef.h>

void *malloc(size_t size);
void *calloc(size_t count, size_t size);
void free(void *ptr);
unsigned long long strtoull(const char *restrict str, char **restrict endptr,
			    int base);

#endif
