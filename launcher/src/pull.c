/* SPDX-License-Identifier: (GPL-2.0 OR MIT) */
/*
 * pull.c - `egpu-vm pull`: fetch a guest image over HTTP(S) with libcurl
 * into the image cache (cache.h), resuming a partial download with a
 * Range request, and hashing as the bytes arrive so that the SHA-256 is
 * known the moment the transfer ends. Only a file whose hash matches is
 * moved into the cache; a mismatch removes the download and nothing else.
 */
#define _DEFAULT_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cache.h"
#include "catalog.h"
#include "download.h"
#include "sha256.h"
#include "util.h"
#include "verbs.h"

#define VERB "pull"
#define SUMFILE_MAX 4096	/* a URL.sha256 file is one short line */

static const char usage_text[] =
	"usage: egpu-vm pull [--json] NAME|URL [--sha256 HEX] [--name N]\n"
	"                    [--insecure-no-verify]\n"
	"Download a guest image into the cache (<cache>/images), resuming an\n"
	"interrupted download (HTTP Range), and verify its SHA-256 before it\n"
	"is cached or used. A mismatch removes the download, keeps every\n"
	"cached image, and exits 5. An image whose hash is already in the\n"
	"cache is not downloaded again (only named).\n"
	"  NAME          an image from the catalog files ('name url sha256'\n"
	"                lines: $EGPU_CATALOG, <cache>/catalog,\n"
	"                <repo>/launcher/images.conf). No guest image is\n"
	"                published yet: the shipped catalog is empty; build one\n"
	"                with 'egpu-vm image', or pull a URL you trust.\n"
	"  URL           http:// or https://; its hash is --sha256 or else\n"
	"                read from URL.sha256 (sha256sum format), which only\n"
	"                guards against corruption, not against that server\n"
	"  --sha256 HEX  the image's expected SHA-256 (64 hex digits)\n"
	"  --name N      the name to cache it under (default: NAME, or the\n"
	"                URL's file name)\n"
	"  --insecure-no-verify  accept a URL with no known hash (the image is\n"
	"                still cached under the hash it turns out to have)\n"
	"  --json        print the result as JSON, no progress\n"
	"Exit: 0 cached, 1 download failed (run again to resume), 2 usage,\n"
	"5 checksum mismatch, 6 unknown NAME or HTTP 404.\n";

struct pull_opts {
	const char *what;	/* NAME or URL as given */
	char *url;
	char sha256[EG_SHA256_HEX_LEN + 1];	/* "" when unknown */
	char *name;
	bool insecure;
	bool json;
};

static int parse_args(int argc, char **argv, struct pull_opts *o)
{
	const char *sha = NULL, *name = NULL;
	int i;

	memset(o, 0, sizeof(*o));
	o->json = egpu_g.json;
	for (i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (!strcmp(a, "--sha256") || !strcmp(a, "--name")) {
			if (i + 1 == argc)
				return eg_usage(VERB, "%s needs a value", a);
			if (a[2] == 's')
				sha = argv[++i];
			else
				name = argv[++i];
		} else if (!strncmp(a, "--sha256=", 9)) {
			sha = a + 9;
		} else if (!strncmp(a, "--name=", 7)) {
			name = a + 7;
		} else if (!strcmp(a, "--insecure-no-verify")) {
			o->insecure = true;
		} else if (!strcmp(a, "--json")) {
			o->json = true;
		} else if (a[0] == '-' && a[1]) {
			return eg_usage(VERB, "unknown option '%s'", a);
		} else if (o->what) {
			return eg_usage(VERB, "one image at a time ('%s' and '%s')",
					o->what, a);
		} else {
			o->what = a;
		}
	}
	if (!o->what)
		return eg_usage(VERB, "which image? give a NAME or a URL");
	if (sha && !eg_sha256_hex_valid(sha))
		return eg_usage(VERB, "--sha256 wants 64 hex digits, not '%s'",
				sha);
	if (name && !eg_image_name_valid(name))
		return eg_usage(VERB, "bad name '%s' (letters, digits, '._+-', at most %d)",
				name, EG_IMAGE_NAME_MAX);
	if (sha)
		for (i = 0; i <= EG_SHA256_HEX_LEN; i++)
			o->sha256[i] = (char)(sha[i] | (sha[i] ? 0x20 : 0));
	if (name)
		o->name = eg_xstrdup(name);
	return EGPU_EXIT_OK;
}

/* The last path element of @url, without query or fragment (new). */
static char *url_file_name(const char *url)
{
	const char *p = strstr(url, "://"), *slash, *end;

	p = p ? p + 3 : url;
	end = p + strcspn(p, "?#");
	slash = NULL;
	for (; p < end; p++)
		if (*p == '/')
			slash = p;
	if (!slash || slash + 1 >= end)
		return eg_xstrdup("");
	return eg_xasprintf("%.*s", (int)(end - slash - 1), slash + 1);
}

/* Resolve NAME through the catalog or take the URL: fills url/name/sha. */
static int resolve(struct pull_opts *o)
{
	struct eg_catalog_entry e;
	const char *p;
	char *files;

	if (strstr(o->what, "://")) {
		if (strncasecmp(o->what, "http://", 7) &&
		    strncasecmp(o->what, "https://", 8))
			return eg_usage(VERB, "only http:// and https:// URLs, not '%s'",
					o->what);
		for (p = o->what; *p; p++)
			if ((unsigned char)*p <= ' ' || *p == 0x7f)
				return eg_usage(VERB, "a URL has no spaces or control characters (encode them: %%20)");
		o->url = eg_xstrdup(o->what);
		if (!o->name) {
			o->name = url_file_name(o->url);
			if (!eg_image_name_valid(o->name))
				return eg_usage(VERB, "cannot name the image after '%s': give --name N",
						o->url);
		}
		return EGPU_EXIT_OK;
	}
	if (!eg_image_name_valid(o->what))
		return eg_usage(VERB, "'%s' is neither an image name nor a URL",
				o->what);
	switch (eg_catalog_lookup(VERB, o->what, &e)) {
	case EG_CATALOG_BAD:
		return EGPU_EXIT_FAIL;
	case EG_CATALOG_NOTFOUND:
		files = eg_catalog_files();
		eg_err(VERB, "no image named '%s' in the catalog; searched:\n%s"
		       "(no guest image is published yet: build one with 'egpu-vm image', or pull a URL)",
		       o->what, files);
		free(files);
		return EGPU_EXIT_NOTFOUND;
	case EG_CATALOG_FOUND:
		break;
	}
	if (o->sha256[0] && strcmp(o->sha256, e.sha256)) {
		eg_err(VERB, "--sha256 %s disagrees with %s, which says %s for '%s'",
		       o->sha256, e.file, e.sha256, o->what);
		eg_catalog_free(&e);
		return EGPU_EXIT_USAGE;
	}
	memcpy(o->sha256, e.sha256, sizeof(o->sha256));
	o->url = e.url;
	e.url = NULL;
	eg_catalog_free(&e);
	if (!o->name)
		o->name = eg_xstrdup(o->what);
	return EGPU_EXIT_OK;
}

/*
 * No hash given: take the one published beside the image, URL.sha256
 * ("HEX  file" as sha256sum writes it). With none there we refuse.
 */
static int fetch_sidecar_hash(struct pull_opts *o)
{
	char *url = eg_xasprintf("%s.sha256", o->url), text[SUMFILE_MAX];
	long code = 0;
	CURLcode rc = eg_fetch_small(url, text, sizeof(text), &code);
	int ret = EGPU_EXIT_OK;
	size_t n;

	if (rc != CURLE_OK && (code == 404 || code == 410)) {
		eg_err(VERB, "no SHA-256 for %s (%s: HTTP %ld): give --sha256 HEX, or --insecure-no-verify to take it unchecked",
		       o->url, url, code);
		ret = EGPU_EXIT_USAGE;
	} else if (rc != CURLE_OK) {
		eg_err(VERB, "cannot fetch %s: %s", url,
		       code >= 400 ? "HTTP error" : curl_easy_strerror(rc));
		ret = EGPU_EXIT_FAIL;
	} else {
		n = strspn(text, "0123456789abcdefABCDEF");
		if (n != EG_SHA256_HEX_LEN ||
		    (text[n] && !strchr(" \t\r\n", text[n]))) {
			eg_err(VERB, "%s does not start with a SHA-256 (64 hex digits)",
			       url);
			ret = EGPU_EXIT_FAIL;
		}
		for (n = 0; !ret && n <= EG_SHA256_HEX_LEN; n++)
			o->sha256[n] = n < EG_SHA256_HEX_LEN ?
				(char)(text[n] | 0x20) : '\0';
	}
	free(url);
	return ret;
}

/* Name the cached image @hex: the index is rewritten under the lock. */
static int name_image(struct eg_cache *c, const struct pull_opts *o,
		      const char *hex, const char *tmp)
{
	struct eg_image_list l;
	struct eg_image *old;
	const char *err = "";
	int ret = EGPU_EXIT_OK;

	if (eg_cache_lock(c) < 0 || eg_cache_load(c, &l, &err) < 0) {
		eg_err(VERB, "cache index %s: %s", c->index,
		       *err ? err : strerror(errno));
		return EGPU_EXIT_FAIL;
	}
	if (tmp && eg_cache_store(c, tmp, hex) < 0) {
		eg_err(VERB, "cannot move %s into %s: %s", tmp, c->blobs,
		       strerror(errno));
		ret = EGPU_EXIT_FAIL;
		goto out;
	}
	old = eg_images_find(&l, o->name);
	if (old && strcmp(old->sha256, hex) && !o->json)
		printf("%s was %s; that image stays until 'egpu-vm prune'\n",
		       o->name, old->sha256);
	eg_images_set(&l, o->name, hex, (long long)time(NULL), o->url);
	if (eg_cache_save(c, &l) < 0) {
		eg_err(VERB, "cannot write %s: %s", c->index, strerror(errno));
		ret = EGPU_EXIT_FAIL;
	}
out:
	eg_images_free(&l);
	eg_cache_unlock(c);
	return ret;
}

static void report(const struct pull_opts *o, const struct eg_cache *c,
		   const char *hex, const char *verified_by,
		   const struct eg_download *d, bool cached_before)
{
	char *path = eg_cache_blob_path(c, hex), size[24];
	struct stat st;
	long long bytes = stat(path, &st) == 0 ? (long long)st.st_size : -1;

	if (o->json) {
		struct json_object *j = json_object_new_object();

		json_object_object_add(j, "name", json_object_new_string(o->name));
		json_object_object_add(j, "sha256", json_object_new_string(hex));
		json_object_object_add(j, "size", json_object_new_int64(bytes));
		json_object_object_add(j, "path", json_object_new_string(path));
		json_object_object_add(j, "url", json_object_new_string(o->url));
		json_object_object_add(j, "verified_by",
				       json_object_new_string(verified_by));
		json_object_object_add(j, "already_cached",
				       json_object_new_boolean(cached_before));
		json_object_object_add(j, "resumed_from",
				       json_object_new_int64(d->restarted ? 0 : d->offset));
		json_object_object_add(j, "restarted",
				       json_object_new_boolean(d->restarted));
		puts(json_object_to_json_string_ext(j, JSON_C_TO_STRING_PRETTY |
						    JSON_C_TO_STRING_NOSLASHESCAPE));
		json_object_put(j);
	} else {
		eg_show_size(size, sizeof(size), (double)bytes);
		if (d->restarted)
			printf("the server ignored the Range request: downloaded from the start\n");
		else if (d->offset > 0)
			printf("resumed at byte %lld\n", d->offset);
		printf("%s: %s, sha256 %s (%s)%s\n  %s\n", o->name, size, hex,
		       verified_by, cached_before ? ", already cached" : "",
		       path);
	}
	free(path);
}

static int pull(struct pull_opts *o)
{
	struct eg_download d = { .url = o->url, .expect = o->sha256 };
	const char *verified_by = "--sha256";
	char hex[EG_SHA256_HEX_LEN + 1], *part = NULL, *blob, *key;
	struct eg_cache c;
	int fd = -1, ret;

	if (o->sha256[0] && strcmp(o->what, o->url))
		verified_by = "the catalog";
	if (!o->sha256[0] && !o->insecure) {
		ret = fetch_sidecar_hash(o);
		if (ret)
			return ret;
		verified_by = "URL.sha256";
	} else if (!o->sha256[0]) {
		verified_by = "nothing: --insecure-no-verify";
	}
	if (eg_cache_open(&c, egpu_g.cache_dir) < 0) {
		eg_err(VERB, "cannot create the cache %s: %s", c.root,
		       strerror(errno));
		eg_cache_close(&c);
		return EGPU_EXIT_FAIL;
	}
	blob = o->sha256[0] ? eg_cache_blob_path(&c, o->sha256) : NULL;
	if (blob && eg_is_file(blob)) {
		free(blob);
		ret = name_image(&c, o, o->sha256, NULL);
		if (!ret)
			report(o, &c, o->sha256, verified_by, &d, true);
		goto out;
	}
	free(blob);
	/* a download is keyed by what it must hash to, else by its URL */
	if (o->sha256[0]) {
		key = eg_xstrdup(o->sha256);
	} else {
		struct eg_sha256 *h = eg_sha256_new();

		key = eg_xmalloc(EG_SHA256_HEX_LEN + 1);
		if (!h || eg_sha256_update(h, o->url, strlen(o->url)) < 0 ||
		    eg_sha256_final(h, key) < 0)
			eg_die(EGPU_EXIT_FAIL, VERB, "SHA-256 is unavailable");
		eg_sha256_free(h);
	}
	part = eg_cache_partial_path(&c, key);
	free(key);
	fd = open(part, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0) {
		eg_err(VERB, "cannot open %s: %s", part, strerror(errno));
		ret = EGPU_EXIT_FAIL;
		goto out;
	}
	d.progress = !o->json;
	ret = eg_download(&d, fd, part, hex);
	if (ret) {
		struct stat st;

		/* a download that got nothing leaves nothing behind */
		if (fstat(fd, &st) == 0 && st.st_size == 0 && d.hash)
			unlink(part);
		goto out;
	}
	if (o->sha256[0] && strcmp(hex, o->sha256)) {
		/* only the bad download goes; the cache was never touched */
		unlink(part);
		eg_err(VERB, "checksum mismatch for %s: expected sha256 %s (%s), got %s; the download was removed, the cache is unchanged",
		       o->url, o->sha256, verified_by, hex);
		ret = EGPU_EXIT_VERIFY;
		goto out;
	}
	ret = name_image(&c, o, hex, part);
	if (!ret)
		report(o, &c, hex, verified_by, &d, false);
out:
	if (fd >= 0)
		close(fd);
	eg_download_free(&d);
	free(part);
	eg_cache_close(&c);
	return ret;
}

int cmd_pull(int argc, char **argv)
{
	struct pull_opts o;
	int ret;

	if (eg_wants_help(argc, argv)) {
		fputs(usage_text, stdout);
		return EGPU_EXIT_OK;
	}
	ret = parse_args(argc, argv, &o);
	if (!ret)
		ret = resolve(&o);
	if (!ret) {
		if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
			eg_err(VERB, "cannot initialise libcurl");
			ret = EGPU_EXIT_FAIL;
		} else {
			ret = pull(&o);
			curl_global_cleanup();
		}
	}
	free(o.url);
	free(o.name);
	return ret;
}
