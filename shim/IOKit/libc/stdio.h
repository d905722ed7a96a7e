/*
 * shim/IOKit/libc/stdio.h - NOT Apple's SDK (see stdlib.h here).
 */
#ifndef EGPU_SHIM_STDIO_H
#define EGPU_SHIM_STDIO_H

#include <stddef.h>

int snprintf(char *restrict str, size_t size, const char *restrict format, ...)
	__attribute__((__format__(__printf__, 3, 4)));

#endif
