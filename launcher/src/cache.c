/* SPDX-License-Identifier: (GPL-2.0 OR MIT) */
/*
 * cache.c - the image cache's directories and its name index (layout in
 * cache.h). The index is small text, rewritten whole to a temporary file
 * and renamed, so a crash leaves the old index or the new one.
 */
#define _DEFAULT_SOURCE
#include "cache.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util.h"

int eg_cache_open(struct eg_cache *c, const char *cache_dir)
{
	memset(c, 0, sizeof(*c));
	c->lock_fd = -1;
	c->root = eg_path_join(cache_dir, "images");
	c->blobs = eg_path_join(c->root, "sha256");
	c->partial = eg_path_join(c->root, "partial");
	c->index = eg_path_join(c->root, "index");
	if (eg_mkdir_p(c->blobs, 0755) < 0 || eg_mkdir_p(c->partial, 0755) < 0)
		return -1;
	return 0;
}

void eg_cache_close(struct eg_cache *c)
{
	eg_cache_unlock(c);
	free(c->root);
	free(c->blobs);
	free(c->partial);
	free(c->index);
	memset(c, 0, sizeof(*c));
	c->lock_fd = -1;
}

int eg_cache_lock(struct eg_cache *c)
{
	char *path;

	if (c->lock_fd >= 0)
		return 0;
	path = eg_path_join(c->root, ".lock");
	c->lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	free(path);
	if (c->lock_fd < 0)
		return -1;
	while (flock(c->lock_fd, LOCK_EX) < 0) {
		if (errno != EINTR) {
			close(c->lock_fd);
			c->lock_fd = -1;
			return -1;
		}
	}
	return 0;
}

void eg_cache_unlock(struct eg_cache *c)
{
	if (c->lock_fd >= 0)
		close(c->lock_fd);	/* drops the flock */
	c->lock_fd = -1;
}

char *eg_cache_blob_path(const struct eg_cache *c, const char *hex)
{
	return eg_path_join(c->blobs, hex);
}

char *eg_cache_partial_path(const struct eg_cache *c, const char *key)
{
	return eg_xasprintf("%s/%s.part", c->partial, key);
}

bool eg_image_name_valid(const char *name)
{
	size_t i, n = strlen(name);

	if (n == 0 || n > EG_IMAGE_NAME_MAX || name[0] == '.' || name[0] == '-')
		return false;
	for (i = 0; i < n; i++) {
		char ch = name[i];

		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		      (ch >= '0' && ch <= '9') || strchr("._+-", ch)))
			return false;
	}
	return true;
}

struct eg_image *eg_images_find(struct eg_image_list *l, const char *name)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		if (!strcmp(l->v[i].name, name))
			return &l->v[i];
	return NULL;
}

bool eg_images_uses(const struct eg_image_list *l, const char *hex)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		if (!strcmp(l->v[i].sha256, hex))
			return true;
	return false;
}

void eg_images_set(struct eg_image_list *l, const char *name,
		   const char *hex, long long added, const char *url)
{
	struct eg_image *im = eg_images_find(l, name);

	if (!im) {
		if (l->n == l->cap) {
			size_t cap = l->cap ? 2 * l->cap : 8;
			struct eg_image *v = eg_xmalloc(cap * sizeof(*v));

			if (l->n)
				memcpy(v, l->v, l->n * sizeof(*v));
			free(l->v);
			l->v = v;
			l->cap = cap;
		}
		im = &l->v[l->n++];
		im->name = eg_xstrdup(name);
	} else {
		free(im->url);
	}
	snprintf(im->sha256, sizeof(im->sha256), "%s", hex);
	im->added = added;
	im->url = eg_xstrdup(url && *url ? url : "-");
}

void eg_images_remove(struct eg_image_list *l, size_t i)
{
	free(l->v[i].name);
	free(l->v[i].url);
	memmove(&l->v[i], &l->v[i + 1], (l->n - i - 1) * sizeof(l->v[0]));
	l->n--;
}

void eg_images_free(struct eg_image_list *l)
{
	while (l->n)
		eg_images_remove(l, l->n - 1);
	free(l->v);
	memset(l, 0, sizeof(*l));
}

/* One "name sha256 added url" line (url has no spaces: it is a URL). */
static int parse_line(struct eg_image_list *l, char *line)
{
	char *name, *hex, *added, *url, *end, *save = NULL;
	long long t;

	name = strtok_r(line, " \t", &save);
	if (!name || name[0] == '#')
		return 0;
	hex = strtok_r(NULL, " \t", &save);
	added = strtok_r(NULL, " \t", &save);
	url = strtok_r(NULL, " \t", &save);
	if (!hex || !added || !url || strtok_r(NULL, " \t", &save))
		return -1;
	errno = 0;
	t = strtoll(added, &end, 10);
	if (errno || *end || !eg_image_name_valid(name) ||
	    !eg_sha256_hex_valid(hex) || eg_images_find(l, name))
		return -1;
	eg_images_set(l, name, hex, t, url);
	return 0;
}

int eg_cache_load(const struct eg_cache *c, struct eg_image_list *l,
		  const char **err)
{
	char *text, *line, *save = NULL;

	memset(l, 0, sizeof(*l));
	text = eg_read_file(c->index, NULL);
	if (!text) {
		if (errno == ENOENT)
			return 0;
		*err = "cannot read the index";
		return -1;
	}
	for (line = strtok_r(text, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		if (parse_line(l, line) < 0) {
			*err = "malformed line in the index";
			free(text);
			eg_images_free(l);
			return -1;
		}
	}
	free(text);
	return 0;
}

int eg_cache_save(const struct eg_cache *c, const struct eg_image_list *l)
{
	char *tmp = eg_xasprintf("%s.tmp.%ld", c->index, (long)getpid());
	FILE *f = fopen(tmp, "w");
	size_t i;
	int ok;

	if (!f) {
		free(tmp);
		return -1;
	}
	fprintf(f, "# egpu-vm image names: name sha256 added-epoch url\n");
	for (i = 0; i < l->n; i++)
		fprintf(f, "%s %s %lld %s\n", l->v[i].name, l->v[i].sha256,
			l->v[i].added, l->v[i].url);
	ok = fflush(f) == 0 && fsync(fileno(f)) == 0;
	ok = fclose(f) == 0 && ok;
	if (ok)
		ok = rename(tmp, c->index) == 0;
	if (!ok)
		unlink(tmp);
	free(tmp);
	return ok ? 0 : -1;
}

int eg_cache_store(const struct eg_cache *c, const char *path,
		   const char *hex)
{
	char *blob = eg_cache_blob_path(c, hex);
	int ret = 0;

	if (eg_is_file(blob)) {
		/* the same bytes are already here: keep the cached copy */
		unlink(path);
	} else if (chmod(path, 0444) < 0 || rename(path, blob) < 0) {
		ret = -1;
	}
	free(blob);
	return ret;
}

char *eg_cache_image_path(const char *cache_dir, const char *name)
{
	struct eg_image_list l;
	struct eg_image *im;
	struct eg_cache c;
	const char *err;
	char *path = NULL;

	if (eg_cache_open(&c, cache_dir) < 0 || eg_cache_load(&c, &l, &err) < 0) {
		eg_cache_close(&c);
		return NULL;
	}
	im = eg_images_find(&l, name);
	if (im)
		path = eg_cache_blob_path(&c, im->sha256);
	else if (eg_sha256_hex_valid(name))
		path = eg_cache_blob_path(&c, name);
	if (path && !eg_is_file(path)) {
		free(path);
		path = NULL;
	}
	eg_images_free(&l);
	eg_cache_close(&c);
	if (!path)
		errno = ENOENT;
	return path;
}
