/* SPDX-License-Identifier: (GPL-2.0 OR MIT) */
/*
 * download.c - one image over HTTP(S) into a partial file (download.h).
 *
 * A continued download sends "Range: bytes=N-" itself (CURLOPT_RANGE)
 * rather than asking libcurl to resume, so that a server which answers
 * 200 with the whole file is not an error: the file is truncated and the
 * hash restarted at the first byte of that answer. A 416 on a partial
 * file means it may already be whole; if its hash is the expected one it
 * is done, else it is started over once.
 */
#define _DEFAULT_SOURCE
#include "download.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util.h"
#include "verbs.h"

#define VERB "pull"

struct membuf {
	char *data;
	size_t cap;
	size_t len;
};

static size_t to_membuf(char *p, size_t size, size_t n, void *arg)
{
	struct membuf *m = arg;

	n *= size;
	if (n > m->cap - 1 - m->len)
		return 0;	/* not a checksum file: refuse to read on */
	memcpy(m->data + m->len, p, n);
	m->len += n;
	return n;
}

void eg_curl_options(CURL *c, const char *url)
{
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
	curl_easy_setopt(c, CURLOPT_MAXREDIRS, 10L);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_FAILONERROR, 1L);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 30L);
	/* a stalled server: give up after a minute below 1 byte/s */
	curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, 60L);
	curl_easy_setopt(c, CURLOPT_USERAGENT, "egpu-vm/" EGPU_VERSION);
}

CURLcode eg_fetch_small(const char *url, char *buf, size_t cap, long *code)
{
	struct membuf m = { .data = buf, .cap = cap, .len = 0 };
	CURL *c = curl_easy_init();
	CURLcode rc;

	if (!c)
		eg_die(EGPU_EXIT_FAIL, VERB, "cannot start libcurl");
	eg_curl_options(c, url);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, to_membuf);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &m);
	rc = curl_easy_perform(c);
	*code = 0;
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, code);
	curl_easy_cleanup(c);
	buf[m.len] = '\0';
	return rc;
}

void eg_show_size(char *buf, size_t len, double n)
{
	static const char *const unit[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	int u = 0;

	while (n >= 1024 && u < 4) {
		n /= 1024;
		u++;
	}
	snprintf(buf, len, u ? "%.1f %s" : "%.0f %s", n, unit[u]);
}

/* A bar on a terminal; a line per quarter elsewhere; nothing with --json. */
static int on_progress(void *arg, curl_off_t total, curl_off_t now,
		       curl_off_t ut, curl_off_t un)
{
	struct eg_download *d = arg;
	double all = (double)(d->offset + total), have = (double)(d->offset + now);
	char a[24], b[24];
	int steps = d->tty ? 40 : 4, step, i;

	(void)ut;
	(void)un;
	if (!d->progress || !d->checked || total <= 0)
		return 0;	/* no body of ours yet (an error page has one) */
	step = (int)(have * steps / all);
	if (step == d->last_step)
		return 0;
	d->last_step = step;
	eg_show_size(a, sizeof(a), have);
	eg_show_size(b, sizeof(b), all);
	if (!d->tty) {
		fprintf(stderr, "egpu-vm pull: %3d%%  %s of %s\n",
			step * 100 / steps, a, b);
		return 0;
	}
	fputs("\r[", stderr);
	for (i = 0; i < steps; i++)
		fputc(i < step ? '#' : ' ', stderr);
	fprintf(stderr, "] %3d%%  %s of %s ", step * 100 / steps, a, b);
	if (step == steps)
		fputc('\n', stderr);
	return 0;
}

/* Start the file again from byte 0 (its bytes could not be used). */
static int start_over(struct eg_download *d)
{
	if (ftruncate(d->fd, 0) < 0 || lseek(d->fd, 0, SEEK_SET) < 0 ||
	    eg_sha256_reset(d->hash) < 0)
		return -1;
	d->offset = 0;
	return 0;
}

/* The first byte of the body: did the server honour our Range? */
static int check_answer(struct eg_download *d)
{
	long code = 0;

	d->checked = true;
	curl_easy_getinfo(d->curl, CURLINFO_RESPONSE_CODE, &code);
	if (d->offset == 0 || code == 206)
		return 0;
	/*
	 * A whole file follows: drop what we had and hash from byte 0. (A
	 * 206 from elsewhere than asked would not hash right: refused later.)
	 */
	d->restarted = true;
	return start_over(d);
}

static size_t on_body(char *p, size_t size, size_t nmemb, void *arg)
{
	struct eg_download *d = arg;
	size_t n = size * nmemb, left;

	if (!d->checked && check_answer(d) < 0) {
		d->write_errno = errno;
		return 0;
	}
	if (d->stop_after >= 0 &&
	    d->offset + d->got + (long long)n > d->stop_after) {
		long long room = d->stop_after - d->offset - d->got;

		n = room > 0 ? (size_t)room : 0;
		d->stopped = true;
	}
	for (left = n; left;) {
		ssize_t w = write(d->fd, p + (n - left), left);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0) {
			d->write_errno = errno;
			return 0;
		}
		left -= (size_t)w;
	}
	if (eg_sha256_update(d->hash, p, n) < 0) {
		d->write_errno = EIO;
		return 0;
	}
	d->got += (long long)n;
	return d->stopped ? 0 : n;
}

/* Test hook: stop the file at this many bytes, as a dropped link would. */
static long long test_stop_after(void)
{
	const char *s = getenv("EGPU_PULL_TEST_STOP_AFTER");
	uint64_t v;

	if (!s || !*s || !eg_parse_u64(s, &v))
		return -1;
	return (long long)v;
}

/* One request for the rest of the file: the curl result and HTTP status. */
static CURLcode transfer(struct eg_download *d, long *code)
{
	char range[32];
	CURLcode rc;

	d->curl = curl_easy_init();
	if (!d->curl)
		eg_die(EGPU_EXIT_FAIL, VERB, "cannot start libcurl");
	eg_curl_options(d->curl, d->url);
	if (d->offset > 0) {
		/* a plain Range header: a 200 answer is then ours to handle */
		snprintf(range, sizeof(range), "%lld-", d->offset);
		curl_easy_setopt(d->curl, CURLOPT_RANGE, range);
	}
	curl_easy_setopt(d->curl, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(d->curl, CURLOPT_WRITEDATA, d);
	curl_easy_setopt(d->curl, CURLOPT_XFERINFOFUNCTION, on_progress);
	curl_easy_setopt(d->curl, CURLOPT_XFERINFODATA, d);
	curl_easy_setopt(d->curl, CURLOPT_NOPROGRESS, 0L);
	d->checked = false;
	d->got = 0;
	d->last_step = -1;
	rc = curl_easy_perform(d->curl);
	*code = 0;
	curl_easy_getinfo(d->curl, CURLINFO_RESPONSE_CODE, code);
	curl_easy_cleanup(d->curl);
	d->curl = NULL;
	if (d->tty && d->progress && d->last_step >= 0 && rc != CURLE_OK)
		fputc('\n', stderr);
	return rc;
}

int eg_download(struct eg_download *d, int fd, const char *part,
		char hex[EG_SHA256_HEX_LEN + 1])
{
	struct stat st;
	CURLcode rc = CURLE_OK;
	long code = 0;
	int tries;

	d->fd = fd;
	d->stop_after = test_stop_after();
	d->tty = isatty(STDERR_FILENO);
	d->offset = 0;
	d->restarted = false;
	d->write_errno = 0;
	d->stopped = false;
	if (flock(d->fd, LOCK_EX | LOCK_NB) < 0) {
		eg_err(VERB, "another egpu-vm pull is downloading this image (%s)",
		       part);
		return EGPU_EXIT_FAIL;
	}
	d->hash = eg_sha256_new();
	if (fstat(d->fd, &st) < 0 || !d->hash)
		eg_die(EGPU_EXIT_FAIL, VERB, "cannot start hashing %s", part);
	d->offset = st.st_size;
	if (d->offset > 0 && (eg_sha256_fd(d->hash, d->fd, d->offset) < 0 ||
			      lseek(d->fd, d->offset, SEEK_SET) < 0)) {
		eg_err(VERB, "cannot read %s: %s", part, strerror(errno));
		return EGPU_EXIT_FAIL;
	}
	for (tries = 0; tries < 2; tries++) {
		rc = transfer(d, &code);
		if (rc != CURLE_HTTP_RETURNED_ERROR || code != 416 ||
		    d->offset == 0)
			break;
		/* nothing left to send: the partial may be the whole image */
		if (eg_sha256_final(d->hash, hex) == 0 && d->expect[0] &&
		    !strcmp(hex, d->expect))
			return EGPU_EXIT_OK;
		if (d->progress)
			fprintf(stderr, "egpu-vm pull: %s holds all %lld bytes but not the expected image: starting over\n",
				part, d->offset);
		if (start_over(d) < 0) {
			d->write_errno = errno;
			break;
		}
	}
	if (d->write_errno) {
		eg_err(VERB, "cannot write %s: %s", part,
		       strerror(d->write_errno));
		return EGPU_EXIT_FAIL;
	}
	if (d->stopped) {
		eg_err(VERB, "stopped at %lld bytes (EGPU_PULL_TEST_STOP_AFTER); %s kept: pull again to resume",
		       d->offset + d->got, part);
		return EGPU_EXIT_FAIL;
	}
	if (rc != CURLE_OK) {
		if (code >= 400)
			eg_err(VERB, "%s: HTTP %ld", d->url, code);
		else if (d->offset + d->got == 0)
			eg_err(VERB, "cannot download %s: %s", d->url,
			       curl_easy_strerror(rc));
		else
			eg_err(VERB, "download of %s interrupted: %s; %lld bytes kept in %s: run the same pull again to resume",
			       d->url, curl_easy_strerror(rc),
			       d->offset + d->got, part);
		return code == 404 || code == 410 ? EGPU_EXIT_NOTFOUND :
						    EGPU_EXIT_FAIL;
	}
	if (fsync(d->fd) < 0 || eg_sha256_final(d->hash, hex) < 0) {
		eg_err(VERB, "cannot finish %s: %s", part, strerror(errno));
		return EGPU_EXIT_FAIL;
	}
	return EGPU_EXIT_OK;
}

void eg_download_free(struct eg_download *d)
{
	eg_sha256_free(d->hash);
	d->hash = NULL;
}
