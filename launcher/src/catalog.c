/* SPDX-License-Identifier: (GPL-2.0 OR MIT) */
/*
 * catalog.c - look an image name up in the catalog files (catalog.h).
 */
#define _DEFAULT_SOURCE
#include "catalog.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"
#include "verbs.h"

#define MAX_FILES 4

static int catalog_paths(char *paths[MAX_FILES])
{
	const char *env = getenv("EGPU_CATALOG");
	int n = 0;

	if (env && *env)
		paths[n++] = eg_xstrdup(env);
	paths[n++] = eg_path_join(egpu_g.cache_dir, "catalog");
	if (egpu_g.repo)
		paths[n++] = eg_path_join(egpu_g.repo, "launcher/images.conf");
#ifdef EGPU_DATADIR
	paths[n++] = eg_path_join(EGPU_DATADIR, "images.conf");
#endif
	return n;
}

char *eg_catalog_files(void)
{
	char *paths[MAX_FILES], *out = eg_xstrdup("");
	int i, n = catalog_paths(paths);

	for (i = 0; i < n; i++) {
		char *s = eg_xasprintf("%s  %s\n", out, paths[i]);

		free(out);
		free(paths[i]);
		out = s;
	}
	return out;
}

/* 1 if @name is in @path (fills @e), 0 if not, -1 if @path is malformed. */
static int search_file(const char *verb, const char *path, const char *name,
		       struct eg_catalog_entry *e)
{
	char *text = eg_read_file(path, NULL), *line, *next;
	int lineno = 0, ret = 0;

	if (!text)
		return 0;	/* a catalog that is not there names nothing */
	for (line = text; line && ret == 0; line = next) {
		char *f[4], *s2 = NULL, *hash;
		int k = 0;

		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		hash = strchr(line, '#');
		lineno++;
		if (hash)
			*hash = '\0';
		for (f[k] = strtok_r(line, " \t\r", &s2); f[k] && k < 3;)
			f[++k] = strtok_r(NULL, " \t\r", &s2);
		if (k == 0)
			continue;
		if (k != 3 || f[3] || !eg_sha256_hex_valid(f[2]) ||
		    !strstr(f[1], "://")) {
			eg_err(verb, "%s: line %d is not 'name url sha256'",
			       path, lineno);
			ret = -1;
		} else if (!strcmp(f[0], name)) {
			int i;

			e->url = eg_xstrdup(f[1]);
			for (i = 0; i <= EG_SHA256_HEX_LEN; i++)
				e->sha256[i] = (char)tolower((unsigned char)f[2][i]);
			e->file = eg_xstrdup(path);
			ret = 1;
		}
	}
	free(text);
	return ret;
}

enum eg_catalog_result eg_catalog_lookup(const char *verb, const char *name,
					 struct eg_catalog_entry *e)
{
	char *paths[MAX_FILES];
	int i, n = catalog_paths(paths), r = 0;

	memset(e, 0, sizeof(*e));
	for (i = 0; i < n; i++) {
		if (r == 0)
			r = search_file(verb, paths[i], name, e);
		free(paths[i]);
	}
	if (r < 0)
		return EG_CATALOG_BAD;
	return r ? EG_CATALOG_FOUND : EG_CATALOG_NOTFOUND;
}

void eg_catalog_free(struct eg_catalog_entry *e)
{
	free(e->url);
	free(e->file);
	memset(e, 0, sizeof(*e));
}
