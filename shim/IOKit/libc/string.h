/*
 * shim/IOKit/libc/string.h - NOT Apple's SDK (see stdlib.h here).
 */
#ifndef EGPU_SHIM_STRING_H
#define EGPU_SHIM_STRING_H

#include <stddef.h>

void *memset(void *b, int c, size_t len);
int strcmp(const char *s1, const char *s2);
int strncmp(const char *s1, const char *s2, size_t n);
char *strchr(const char *s, int c);
size_t strlen(const char *s);

#endif
