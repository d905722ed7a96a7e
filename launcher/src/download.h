/* SPDX-License-Identifier: (GPL-2.0 OR MIT) */
/*
 * download.h - HTTP(S) transfers of `egpu-vm pull`, over libcurl: a whole
 * image into a partial file, continued with a Range request when the file
 * already holds a prefix, hashed (SHA-256) as the bytes arrive.
 */
#ifndef EGPU_DOWNLOAD_H
#define EGPU_DOWNLOAD_H

#include <curl/curl.h>
#include <stdbool.h>
#include <stddef.h>

#include "sha256.h"

struct eg_download {
	/* set by the caller */
	const char *url;
	const char *expect;	/* the SHA-256 it must have, or "" */
	bool progress;		/* show progress on stderr */
	/* the outcome */
	long long offset;	/* bytes kept from an earlier pull (resumed) */
	long long got;		/* bytes received by this pull */
	bool restarted;		/* the server ignored Range: began again at 0 */
	/* private */
	CURL *curl;
	int fd;
	struct eg_sha256 *hash;	/* of every byte in the file so far */
	long long stop_after;	/* test hook: -1, or stop the file at this size */
	bool checked;		/* the status of the answer was looked at */
	bool stopped;		/* the test hook ended the transfer */
	int write_errno;
	bool tty;
	int last_step;		/* progress already shown, in 1/4s or 1/40s */
};

/*
 * Fetch d->url into the open file @fd (path @part, for messages),
 * continuing the bytes it holds, and put the whole file's SHA-256 in
 * @hex. @fd is flock'd so that two pulls of one image cannot write into
 * each other; the lock lasts until the caller closes it. Returns an
 * enum egpu_exit, having reported any failure on stderr.
 *
 * EGPU_PULL_TEST_STOP_AFTER=N in the environment (for tests only) ends
 * the transfer once the file holds N bytes, as a dropped link would.
 */
int eg_download(struct eg_download *d, int fd, const char *part,
		char hex[EG_SHA256_HEX_LEN + 1]);
void eg_download_free(struct eg_download *d);

/*
 * GET a small text file (at most @cap - 1 bytes) into @buf, NUL-ended.
 * The curl result; *code gets the HTTP status.
 */
CURLcode eg_fetch_small(const char *url, char *buf, size_t cap, long *code);

/* Options every request of ours uses (http/https only, redirects, ...). */
void eg_curl_options(CURL *c, const char *url);

/* "1.5 GiB" */
void eg_show_size(char *buf, size_t len, double n);

#endif /* EGPU_DOWNLOAD_H */
