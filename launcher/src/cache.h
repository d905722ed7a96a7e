/* SPDX-License-Identifier: (GPL-2.0 OR MIT) */
/*
 * cache.h - the content-addressed image cache under <cache>/images:
 *
 *   sha256/<hex>        each image once, named by its SHA-256, read-only
 *   partial/<key>.part  downloads under way (key: the expected hash, or
 *                       the hash of the URL when none is known yet)
 *   index               "name sha256 added-epoch url" lines: the names
 *   .lock               flock'd while the index is read-modified-written
 *
 * A file reaches sha256/ only after its hash was checked, by rename(2)
 * within one file system, so a blob there is always whole and correct.
 */
#ifndef EGPU_CACHE_H
#define EGPU_CACHE_H

#include <stdbool.h>
#include <stddef.h>

#include "sha256.h"

#define EG_IMAGE_NAME_MAX 64

struct eg_cache {
	char *root;	/* <cache>/images */
	char *blobs;	/* root/sha256 */
	char *partial;	/* root/partial */
	char *index;	/* root/index */
	int lock_fd;	/* -1 unless eg_cache_lock() holds it */
};

/* One name in the index. */
struct eg_image {
	char *name;
	char sha256[EG_SHA256_HEX_LEN + 1];
	long long added;	/* seconds since the epoch */
	char *url;		/* where it came from, "-" if unknown */
};

struct eg_image_list {
	struct eg_image *v;
	size_t n, cap;
};

/* Paths under @cache_dir, directories created: 0 or -1 (errno set). */
int eg_cache_open(struct eg_cache *c, const char *cache_dir);
void eg_cache_close(struct eg_cache *c);
/* Exclusive lock on the index, waiting for other launchers: 0 or -1. */
int eg_cache_lock(struct eg_cache *c);
void eg_cache_unlock(struct eg_cache *c);

char *eg_cache_blob_path(const struct eg_cache *c, const char *hex);
char *eg_cache_partial_path(const struct eg_cache *c, const char *key);

/*
 * Read the index (a missing one is empty): 0, or -1 if it is unreadable
 * or malformed (message in @err, a static string).
 */
int eg_cache_load(const struct eg_cache *c, struct eg_image_list *l,
		  const char **err);
/* Write the index whole and rename it into place: 0 or -1. */
int eg_cache_save(const struct eg_cache *c, const struct eg_image_list *l);

struct eg_image *eg_images_find(struct eg_image_list *l, const char *name);
/* Add @name, or point an existing @name at another image. */
void eg_images_set(struct eg_image_list *l, const char *name,
		   const char *hex, long long added, const char *url);
void eg_images_remove(struct eg_image_list *l, size_t i);
bool eg_images_uses(const struct eg_image_list *l, const char *hex);
void eg_images_free(struct eg_image_list *l);

/* [A-Za-z0-9._+-], not starting with '.' or '-', at most 64 chars. */
bool eg_image_name_valid(const char *name);

/*
 * For the verbs that use an image (run, ...): the cached file that NAME
 * (or a full sha256) stands for under @cache_dir, a new string, or NULL
 * (errno ENOENT: no such name or the file is gone). Blobs are read-only:
 * boot them through a copy-on-write overlay, never write into them.
 */
char *eg_cache_image_path(const char *cache_dir, const char *name);

/*
 * Move a verified download into sha256/<hex> (read-only from then on).
 * If that image is already cached, @path is just removed. 0 or -1.
 */
int eg_cache_store(const struct eg_cache *c, const char *path,
		   const char *hex);

#endif /* EGPU_CACHE_H */
