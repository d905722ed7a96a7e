/*
 * shim/CommonCrypto/CommonDigest.h - NOT Apple's SDK.
 *
 * Declarations of exactly the CommonCrypto calls launcher/src/sha256.c
 * makes on macOS (the incremental SHA-256 interface), written by us from
 * Apple's CommonCrypto documentation, so that file's __APPLE__ branch can
 * be compiled for arm64-apple-macos13 on Linux (scripts/darwin.d/
 * 40-launcher.sh, syntax-only). Nothing here is linked or run; only a Mac
 * shows that the digest it computes is SHA-256.
 */
#ifndef EGPU_SHIM_COMMONDIGEST_H
#define EGPU_SHIM_COMMONDIGEST_H

#include <stdint.h>

typedef uint32_t CC_LONG;	/* 32 bits: longer inputs go in slices */

#define CC_SHA256_DIGEST_LENGTH 32
#define CC_SHA256_BLOCK_BYTES 64

/* The running state; its fields are the framework's business. */
typedef struct CC_SHA256state_st {
	CC_LONG count[2];
	CC_LONG hash[8];
	CC_LONG wbuf[16];
} CC_SHA256_CTX;

/* Each returns 1 (they report no errors). */
extern int CC_SHA256_Init(CC_SHA256_CTX *c);
extern int CC_SHA256_Update(CC_SHA256_CTX *c, const void *data, CC_LONG len);
extern int CC_SHA256_Final(unsigned char *md, CC_SHA256_CTX *c);

#endif /* EGPU_SHIM_COMMONDIGEST_H */
