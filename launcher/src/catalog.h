/* SPDX-License-Identifier: (GPL-2.0 OR MIT) */
/*
 * catalog.h - the names `egpu-vm pull NAME` knows: text files of
 * "name url sha256" lines ('#' starts a comment), searched in order:
 *   $EGPU_CATALOG, <cache>/catalog, <repo>/launcher/images.conf,
 *   EGPU_DATADIR/images.conf (the installed copy).
 * The first file naming the image wins.
 */
#ifndef EGPU_CATALOG_H
#define EGPU_CATALOG_H

#include "sha256.h"

struct eg_catalog_entry {
	char *url;
	char sha256[EG_SHA256_HEX_LEN + 1];	/* lowercase */
	char *file;	/* the catalog it came from */
};

enum eg_catalog_result {
	EG_CATALOG_FOUND = 0,
	EG_CATALOG_NOTFOUND = 1,
	EG_CATALOG_BAD = -1,	/* a malformed catalog, reported on stderr */
};

/* @verb prefixes messages. On FOUND, free @e with eg_catalog_free(). */
enum eg_catalog_result eg_catalog_lookup(const char *verb, const char *name,
					 struct eg_catalog_entry *e);
void eg_catalog_free(struct eg_catalog_entry *e);
/* The files searched, one per line, for messages (a new string). */
char *eg_catalog_files(void);

#endif /* EGPU_CATALOG_H */
