/* SPDX-License-Identifier: (GPL-2.0 OR MIT) */
/*
 * sha256.c - a thin wrapper over the platform's SHA-256: OpenSSL's EVP
 * interface on Linux, CommonCrypto's CC_SHA256 on macOS. No hashing of
 * our own happens here; this file only adapts names and reads files.
 */
#define _DEFAULT_SOURCE
#include "sha256.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#ifdef __APPLE__
#include <CommonCrypto/CommonDigest.h>

struct eg_sha256 {
	CC_SHA256_CTX ctx;
};

static int backend_init(struct eg_sha256 *h)
{
	return CC_SHA256_Init(&h->ctx) == 1 ? 0 : -1;
}

static int backend_update(struct eg_sha256 *h, const void *data, size_t len)
{
	/* CC_LONG is 32 bits: feed large buffers in slices */
	while (len) {
		CC_LONG n = len > 0x40000000u ? 0x40000000u : (CC_LONG)len;

		if (CC_SHA256_Update(&h->ctx, data, n) != 1)
			return -1;
		data = (const unsigned char *)data + n;
		len -= n;
	}
	return 0;
}

static int backend_final(struct eg_sha256 *h, unsigned char md[32])
{
	return CC_SHA256_Final(md, &h->ctx) == 1 ? 0 : -1;
}

static void backend_free(struct eg_sha256 *h)
{
	(void)h;
}
#else
#include <openssl/evp.h>

struct eg_sha256 {
	EVP_MD_CTX *ctx;
};

static int backend_init(struct eg_sha256 *h)
{
	if (!h->ctx)
		h->ctx = EVP_MD_CTX_new();
	if (!h->ctx)
		return -1;
	return EVP_DigestInit_ex(h->ctx, EVP_sha256(), NULL) == 1 ? 0 : -1;
}

static int backend_update(struct eg_sha256 *h, const void *data, size_t len)
{
	return EVP_DigestUpdate(h->ctx, data, len) == 1 ? 0 : -1;
}

static int backend_final(struct eg_sha256 *h, unsigned char md[32])
{
	unsigned int n = 0;

	if (EVP_DigestFinal_ex(h->ctx, md, &n) != 1 || n != 32)
		return -1;
	return 0;
}

static void backend_free(struct eg_sha256 *h)
{
	EVP_MD_CTX_free(h->ctx);
}
#endif

struct eg_sha256 *eg_sha256_new(void)
{
	struct eg_sha256 *h = calloc(1, sizeof(*h));

	if (h && backend_init(h) < 0) {
		eg_sha256_free(h);
		return NULL;
	}
	return h;
}

int eg_sha256_reset(struct eg_sha256 *h)
{
	return backend_init(h);
}

int eg_sha256_update(struct eg_sha256 *h, const void *data, size_t len)
{
	return len ? backend_update(h, data, len) : 0;
}

int eg_sha256_final(struct eg_sha256 *h, char hex[EG_SHA256_HEX_LEN + 1])
{
	static const char digits[] = "0123456789abcdef";
	unsigned char md[32];
	int i;

	if (backend_final(h, md) < 0)
		return -1;
	for (i = 0; i < 32; i++) {
		hex[2 * i] = digits[md[i] >> 4];
		hex[2 * i + 1] = digits[md[i] & 15];
	}
	hex[EG_SHA256_HEX_LEN] = '\0';
	return 0;
}

void eg_sha256_free(struct eg_sha256 *h)
{
	if (!h)
		return;
	backend_free(h);
	free(h);
}

int eg_sha256_fd(struct eg_sha256 *h, int fd, long long limit)
{
	static unsigned char buf[1 << 16];
	long long done = 0;

	if (lseek(fd, 0, SEEK_SET) < 0)
		return -1;
	while (limit < 0 || done < limit) {
		size_t want = sizeof(buf);
		ssize_t n;

		if (limit >= 0 && (long long)want > limit - done)
			want = (size_t)(limit - done);
		n = read(fd, buf, want);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (n == 0)
			break;
		if (eg_sha256_update(h, buf, (size_t)n) < 0) {
			errno = EIO;
			return -1;
		}
		done += n;
	}
	if (limit >= 0 && done != limit) {
		errno = EIO;	/* the file is shorter than we were told */
		return -1;
	}
	return 0;
}

bool eg_sha256_hex_valid(const char *s)
{
	int i;

	for (i = 0; i < EG_SHA256_HEX_LEN; i++)
		if (!isxdigit((unsigned char)s[i]))
			return false;
	return s[EG_SHA256_HEX_LEN] == '\0';
}
