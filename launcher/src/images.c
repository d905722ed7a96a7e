/* SPDX-License-Identifier: (GPL-2.0 OR MIT) */
/*
 * images.c - `egpu-vm images` (what the image cache holds) and
 * `egpu-vm prune` (remove what is no longer wanted). Layout in cache.h.
 *
 * prune works under the cache lock, the one a pull takes to store an
 * image and name it, so an image cannot be stored and pruned at once; a
 * partial file that a running pull holds (flock) is left alone.
 */
#define _DEFAULT_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cache.h"
#include "download.h"
#include "util.h"
#include "verbs.h"

/* A file in the cache: an image (named or not) or a partial download. */
struct entry {
	char *file;	/* full path */
	char *label;	/* the name, the sha256, or the .part file name */
	const char *kind;	/* "name", "image", "partial" */
	char sha256[EG_SHA256_HEX_LEN + 1];
	long long size;	/* -1: the image file is missing */
};

struct entries {
	struct entry *v;
	size_t n, cap;
};

static struct entry *add(struct entries *e, const char *kind, char *file,
			 const char *label, const char *hex)
{
	struct entry *x;
	struct stat st;

	if (e->n == e->cap) {
		size_t cap = e->cap ? 2 * e->cap : 16;
		struct entry *v = eg_xmalloc(cap * sizeof(*v));

		if (e->n)
			memcpy(v, e->v, e->n * sizeof(*v));
		free(e->v);
		e->v = v;
		e->cap = cap;
	}
	x = &e->v[e->n++];
	x->kind = kind;
	x->file = file;
	x->label = eg_xstrdup(label);
	snprintf(x->sha256, sizeof(x->sha256), "%s", hex ? hex : "");
	x->size = file && stat(file, &st) == 0 ? (long long)st.st_size : -1;
	return x;
}

static void entries_free(struct entries *e)
{
	size_t i;

	for (i = 0; i < e->n; i++) {
		free(e->v[i].file);
		free(e->v[i].label);
	}
	free(e->v);
	memset(e, 0, sizeof(*e));
}

/* Image files nobody in @l names (partials: every *.part file). */
static int scan_dir(const char *dir, bool partial,
		    const struct eg_image_list *l, struct entries *out)
{
	DIR *d = opendir(dir);
	struct dirent *de;

	if (!d)
		return errno == ENOENT ? 0 : -1;
	while ((de = readdir(d))) {
		const char *n = de->d_name;
		size_t len = strlen(n);

		if (partial && len > 5 && !strcmp(n + len - 5, ".part"))
			add(out, "partial", eg_path_join(dir, n), n, NULL);
		else if (!partial && eg_sha256_hex_valid(n) &&
			 !eg_images_uses(l, n))
			add(out, "image", eg_path_join(dir, n), n, n);
	}
	closedir(d);
	return 0;
}

static int open_cache(const char *verb, struct eg_cache *c,
		      struct eg_image_list *l, bool lock)
{
	const char *err = "";

	if (eg_cache_open(c, egpu_g.cache_dir) < 0 ||
	    (lock && eg_cache_lock(c) < 0)) {
		eg_err(verb, "cannot open the cache %s: %s", c->root,
		       strerror(errno));
		return EGPU_EXIT_FAIL;
	}
	if (eg_cache_load(c, l, &err) < 0) {
		eg_err(verb, "%s: %s", c->index, *err ? err : strerror(errno));
		return EGPU_EXIT_FAIL;
	}
	return EGPU_EXIT_OK;
}

static const char images_usage[] =
	"usage: egpu-vm images [--json]\n"
	"The guest images in the cache (<cache>/images): name, size, when it\n"
	"was pulled, SHA-256; then images no name refers to, and partial\n"
	"downloads (a pull of the same image resumes them; prune removes them).\n";

static void when(char *buf, size_t len, long long t)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (!gmtime_r(&tt, &tm) ||
	    !strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm))
		snprintf(buf, len, "?");
}

static struct json_object *entry_json(const struct entry *x)
{
	struct json_object *j = json_object_new_object();

	if (x->file)
		json_object_object_add(j, "file",
				       json_object_new_string(x->file));
	if (x->sha256[0])
		json_object_object_add(j, "sha256",
				       json_object_new_string(x->sha256));
	json_object_object_add(j, "size", x->size < 0 ? NULL :
			       json_object_new_int64(x->size));
	return j;
}

static void images_json(const struct eg_cache *c, struct eg_image_list *l,
			const struct entries *named, const struct entries *loose)
{
	struct json_object *j = json_object_new_object();
	struct json_object *a = json_object_new_array(), *u, *p;
	char t[32];
	size_t i;

	for (i = 0; i < l->n; i++) {
		struct json_object *o = entry_json(&named->v[i]);

		when(t, sizeof(t), l->v[i].added);
		json_object_object_add(o, "name",
				       json_object_new_string(l->v[i].name));
		json_object_object_add(o, "added", json_object_new_string(t));
		json_object_object_add(o, "url",
				       json_object_new_string(l->v[i].url));
		json_object_array_add(a, o);
	}
	u = json_object_new_array();
	p = json_object_new_array();
	for (i = 0; i < loose->n; i++)
		json_object_array_add(strcmp(loose->v[i].kind, "partial") ? u : p,
				      entry_json(&loose->v[i]));
	json_object_object_add(j, "cache", json_object_new_string(c->root));
	json_object_object_add(j, "images", a);
	json_object_object_add(j, "unnamed", u);
	json_object_object_add(j, "partial", p);
	puts(json_object_to_json_string_ext(j, JSON_C_TO_STRING_PRETTY |
					    JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(j);
}

int cmd_images(int argc, char **argv)
{
	struct entries named = { 0 }, loose = { 0 };
	struct eg_image_list l = { 0 };
	struct eg_cache c;
	bool json = egpu_g.json;
	char size[24], t[32];
	size_t i;
	int ret;

	if (eg_wants_help(argc, argv)) {
		fputs(images_usage, stdout);
		return EGPU_EXIT_OK;
	}
	for (i = 1; i < (size_t)argc; i++) {
		if (strcmp(argv[i], "--json"))
			return eg_usage("images", "unexpected '%s'", argv[i]);
		json = true;
	}
	ret = open_cache("images", &c, &l, false);
	if (ret)
		goto out;
	for (i = 0; i < l.n; i++)
		add(&named, "name", eg_cache_blob_path(&c, l.v[i].sha256),
		    l.v[i].name, l.v[i].sha256);
	if (scan_dir(c.blobs, false, &l, &loose) < 0 ||
	    scan_dir(c.partial, true, &l, &loose) < 0) {
		eg_err("images", "cannot list %s: %s", c.root, strerror(errno));
		ret = EGPU_EXIT_FAIL;
		goto out;
	}
	if (json) {
		images_json(&c, &l, &named, &loose);
		goto out;
	}
	if (!l.n && !loose.n) {
		printf("no images in %s (get one with 'egpu-vm pull NAME|URL')\n",
		       c.root);
		goto out;
	}
	printf("%-24s %10s  %-20s  %s\n", "NAME", "SIZE", "ADDED", "SHA256");
	for (i = 0; i < named.n + loose.n; i++) {
		const struct entry *x = i < named.n ? &named.v[i] :
						      &loose.v[i - named.n];

		if (x->size < 0)
			snprintf(size, sizeof(size), "missing");
		else
			eg_show_size(size, sizeof(size), (double)x->size);
		if (i < named.n)
			when(t, sizeof(t), l.v[i].added);
		else
			snprintf(t, sizeof(t), "-");
		printf("%-24s %10s  %-20s  %s\n",
		       i < named.n ? x->label : !strcmp(x->kind, "image") ?
		       "(unnamed)" : "(partial download)", size, t,
		       x->sha256[0] ? x->sha256 : x->label);
	}
out:
	entries_free(&named);
	entries_free(&loose);
	eg_images_free(&l);
	eg_cache_close(&c);
	return ret;
}

static const char prune_usage[] =
	"usage: egpu-vm prune [--all | --keep NAME...] [--dry-run] [--json]\n"
	"Remove from the image cache what nothing needs: partial downloads\n"
	"(except one a running pull is writing), images no name refers to,\n"
	"and names whose image file is gone. Each removal is listed.\n"
	"  --keep NAME...  also drop every other name (and its image)\n"
	"  --all           remove every image, name and partial download\n"
	"  --dry-run       only say what would be removed\n";

struct prune_opts {
	bool all, dry_run, json;
	char **keep;	/* NULL-ended, or NULL without --keep */
	int nkeep;
};

static int prune_args(int argc, char **argv, struct prune_opts *o)
{
	int i;

	memset(o, 0, sizeof(*o));
	o->json = egpu_g.json;
	for (i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (!strcmp(a, "--all")) {
			o->all = true;
		} else if (!strcmp(a, "--dry-run") || !strcmp(a, "-n")) {
			o->dry_run = true;
		} else if (!strcmp(a, "--json")) {
			o->json = true;
		} else if (!strcmp(a, "--keep")) {
			if (o->keep)
				return eg_usage("prune", "one --keep, followed by every name to keep");
			o->keep = &argv[i + 1];
			while (i + 1 < argc && argv[i + 1][0] != '-') {
				i++;
				o->nkeep++;
			}
		} else {
			return eg_usage("prune", "unexpected '%s'", a);
		}
	}
	if (o->keep && !o->nkeep)
		return eg_usage("prune", "--keep needs at least one NAME");
	if (o->keep && o->all)
		return eg_usage("prune", "--all and --keep contradict each other");
	return EGPU_EXIT_OK;
}

static bool kept(const struct prune_opts *o, const char *name)
{
	int i;

	for (i = 0; i < o->nkeep; i++)
		if (!strcmp(o->keep[i], name))
			return true;
	return false;
}

/* A running pull holds its partial file locked: leave that one. */
static bool partial_in_use(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	bool busy;

	if (fd < 0)
		return false;
	busy = flock(fd, LOCK_EX | LOCK_NB) < 0 && errno == EWOULDBLOCK;
	close(fd);
	return busy;
}

/* Decide (under the lock) what goes: names first, then what they held. */
static int plan(const struct prune_opts *o, const struct eg_cache *c,
		struct eg_image_list *l, struct entries *gone)
{
	struct entries files = { 0 };
	size_t i;
	int j;

	for (j = 0; j < o->nkeep; j++)
		if (!eg_images_find(l, o->keep[j])) {
			eg_err("prune", "no image named '%s' to keep (see 'egpu-vm images'); nothing removed",
			       o->keep[j]);
			return EGPU_EXIT_NOTFOUND;
		}
	for (i = 0; i < l->n;) {
		char *blob = eg_cache_blob_path(c, l->v[i].sha256);
		bool stale = !eg_is_file(blob);

		if (o->all || (o->keep && !kept(o, l->v[i].name)) || stale) {
			add(gone, "name", stale ? NULL : blob, l->v[i].name,
			    l->v[i].sha256);
			if (stale)
				free(blob);
			eg_images_remove(l, i);
		} else {
			free(blob);
			i++;
		}
	}
	if (scan_dir(c->blobs, false, l, &files) < 0 ||
	    scan_dir(c->partial, true, l, &files) < 0) {
		eg_err("prune", "cannot list %s: %s", c->root, strerror(errno));
		entries_free(&files);
		return EGPU_EXIT_FAIL;
	}
	for (i = 0; i < files.n; i++) {
		struct entry *x = &files.v[i];

		if (!strcmp(x->kind, "partial") && partial_in_use(x->file)) {
			if (!o->json)
				printf("kept %s: a pull is downloading it\n",
				       x->label);
			continue;
		}
		add(gone, x->kind, eg_xstrdup(x->file), x->label, x->sha256);
	}
	entries_free(&files);
	return EGPU_EXIT_OK;
}

int cmd_prune(int argc, char **argv)
{
	struct json_object *arr = json_object_new_array();
	struct entries gone = { 0 };
	struct eg_image_list l = { 0 };
	struct prune_opts o;
	struct eg_cache c = { .lock_fd = -1 };
	long long freed = 0;
	char size[24];
	size_t i;
	int ret;

	if (eg_wants_help(argc, argv)) {
		fputs(prune_usage, stdout);
		ret = EGPU_EXIT_OK;
		goto out;
	}
	ret = prune_args(argc, argv, &o);
	if (!ret)
		ret = open_cache("prune", &c, &l, true);
	if (!ret)
		ret = plan(&o, &c, &l, &gone);
	if (!ret && !o.dry_run && eg_cache_save(&c, &l) < 0) {
		eg_err("prune", "cannot write %s: %s", c.index, strerror(errno));
		ret = EGPU_EXIT_FAIL;
	}
	for (i = 0; !ret && i < gone.n; i++) {
		struct entry *x = &gone.v[i];
		bool is_file = strcmp(x->kind, "name");

		if (is_file && !o.dry_run && unlink(x->file) < 0) {
			eg_err("prune", "cannot remove %s: %s", x->file,
			       strerror(errno));
			ret = EGPU_EXIT_FAIL;
			break;
		}
		if (is_file && x->size > 0)
			freed += x->size;
		if (o.json) {
			struct json_object *j = entry_json(x);

			json_object_object_add(j, "kind",
					       json_object_new_string(x->kind));
			if (!is_file)
				json_object_object_add(j, "name",
						       json_object_new_string(x->label));
			json_object_array_add(arr, j);
			continue;
		}
		eg_show_size(size, sizeof(size), (double)(x->size > 0 ? x->size : 0));
		if (!is_file)
			printf("%s name %s (sha256 %s)%s\n",
			       o.dry_run ? "would remove" : "removed", x->label,
			       x->sha256, x->file ? "" : ", its image was missing");
		else
			printf("%s %s %s (%s)\n",
			       o.dry_run ? "would remove" : "removed",
			       !strcmp(x->kind, "image") ? "image" :
			       "partial download", x->label, size);
	}
	if (ret)
		goto out;
	eg_show_size(size, sizeof(size), (double)freed);
	if (o.json) {
		struct json_object *j = json_object_new_object();

		json_object_object_add(j, "dry_run",
				       json_object_new_boolean(o.dry_run));
		json_object_object_add(j, "removed", json_object_get(arr));
		json_object_object_add(j, "freed", json_object_new_int64(freed));
		puts(json_object_to_json_string_ext(j, JSON_C_TO_STRING_PRETTY |
						    JSON_C_TO_STRING_NOSLASHESCAPE));
		json_object_put(j);
	} else if (!gone.n) {
		printf("nothing to prune\n");
	} else {
		printf("%s %s\n", o.dry_run ? "would free" : "freed", size);
	}
out:
	json_object_put(arr);
	entries_free(&gone);
	eg_images_free(&l);
	eg_cache_close(&c);
	return ret;
}
