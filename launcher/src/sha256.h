/* SPDX-License-Identifier: (GPL-2.0 OR MIT) */
/*
 * sha256.h - SHA-256 for the image cache, from the platform's crypto
 * library (OpenSSL's libcrypto on Linux, CommonCrypto on macOS): a
 * download is trusted on the word of a vetted implementation, not ours.
 */
#ifndef EGPU_SHA256_H
#define EGPU_SHA256_H

#include <stdbool.h>
#include <stddef.h>

#define EG_SHA256_HEX_LEN 64	/* hex digits, without the NUL */

struct eg_sha256;

/* A fresh hash state, or NULL (out of memory or no SHA-256 provider). */
struct eg_sha256 *eg_sha256_new(void);
/* Start over, as if just created: 0 or -1. */
int eg_sha256_reset(struct eg_sha256 *h);
int eg_sha256_update(struct eg_sha256 *h, const void *data, size_t len);
/* The digest as 64 lowercase hex digits + NUL; the state is then spent. */
int eg_sha256_final(struct eg_sha256 *h, char hex[EG_SHA256_HEX_LEN + 1]);
void eg_sha256_free(struct eg_sha256 *h);

/*
 * Hash the first @limit bytes of an open file (all of it if @limit is
 * negative) into @h, from offset 0: 0, or -1 with errno set.
 */
int eg_sha256_fd(struct eg_sha256 *h, int fd, long long limit);

/* @s is exactly 64 hex digits (either case). */
bool eg_sha256_hex_valid(const char *s);

#endif /* EGPU_SHA256_H */
