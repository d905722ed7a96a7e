// SPDX-License-Identifier: (GPL-2.0 OR MIT)
/*
 * qmp.c - a QMP client: one JSON object a line each way; asynchronous
 * events between a command and its answer are skipped.
 */
#define _POSIX_C_SOURCE 200809L
#include "qmp.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "util.h"

struct qmp {
	int fd;
	char *buf;
	size_t len, cap;
};

/* The next complete line, without its newline (a new string), or NULL. */
static char *read_line(struct qmp *q, char **err)
{
	for (;;) {
		/* memchr's buffer may not be NULL, even for 0 bytes */
		char *nl = q->len ? memchr(q->buf, '\n', q->len) : NULL, *line;
		ssize_t r;

		if (nl) {
			size_t n = (size_t)(nl - q->buf);

			line = eg_xasprintf("%.*s", (int)n, q->buf);
			memmove(q->buf, nl + 1, q->len - n - 1);
			q->len -= n + 1;
			return line;
		}
		if (q->len + 4096 > q->cap) {
			size_t cap = q->cap ? q->cap * 2 : 65536;
			char *b = realloc(q->buf, cap);

			if (!b)
				eg_die(1, NULL, "out of memory");
			q->buf = b;
			q->cap = cap;
		}
		r = read(q->fd, q->buf + q->len, q->cap - q->len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			*err = eg_xasprintf("QMP connection %s",
					    r ? strerror(errno) : "closed");
			return NULL;
		}
		q->len += (size_t)r;
	}
}

/* The next message that is not an event (a new reference). */
static struct json_object *read_msg(struct qmp *q, char **err)
{
	for (;;) {
		char *line = read_line(q, err);
		struct json_object *m, *ev;

		if (!line)
			return NULL;
		if (!line[strspn(line, " \t\r")]) {
			free(line);
			continue;
		}
		m = json_tokener_parse(line);
		if (!m || !json_object_is_type(m, json_type_object)) {
			*err = eg_xasprintf("not a QMP message: %.80s", line);
			free(line);
			json_object_put(m);
			return NULL;
		}
		free(line);
		if (json_object_object_get_ex(m, "event", &ev)) {
			json_object_put(m);
			continue;
		}
		return m;
	}
}

struct json_object *qmp_cmd(struct qmp *q, const char *name,
			    struct json_object *args, char **err)
{
	struct json_object *req = json_object_new_object(), *rep, *v, *ret;
	const char *text;
	size_t n, off = 0;

	json_object_object_add(req, "execute", json_object_new_string(name));
	if (args)
		json_object_object_add(req, "arguments", args);
	text = json_object_to_json_string_ext(req, JSON_C_TO_STRING_PLAIN);
	n = strlen(text);
	while (off < n) {
		ssize_t w = write(q->fd, text + off, n - off);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0) {
			*err = eg_xasprintf("QMP write: %s", strerror(errno));
			json_object_put(req);
			return NULL;
		}
		off += (size_t)w;
	}
	json_object_put(req);
	if (write(q->fd, "\n", 1) != 1) {
		*err = eg_xasprintf("QMP write: %s", strerror(errno));
		return NULL;
	}
	rep = read_msg(q, err);
	if (!rep)
		return NULL;
	if (json_object_object_get_ex(rep, "error", &v)) {
		struct json_object *desc;

		*err = eg_xstrdup(json_object_object_get_ex(v, "desc", &desc) ?
				  json_object_get_string(desc) :
				  json_object_to_json_string(v));
		json_object_put(rep);
		return NULL;
	}
	if (!json_object_object_get_ex(rep, "return", &ret)) {
		*err = eg_xasprintf("QMP answer without 'return': %s",
				    json_object_to_json_string(rep));
		json_object_put(rep);
		return NULL;
	}
	json_object_get(ret);
	json_object_put(rep);
	return ret;
}

struct qmp *qmp_open(const char *path, int timeout_s, char **err)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct timeval tv = { .tv_sec = timeout_s };
	struct json_object *m, *v;
	struct qmp *q;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		*err = eg_xasprintf("socket path too long: %s", path);
		return NULL;
	}
	strcpy(sa.sun_path, path);
	q = eg_xmalloc(sizeof(*q));
	memset(q, 0, sizeof(*q));
	q->fd = socket(AF_UNIX, SOCK_STREAM, 0);
	if (q->fd < 0 || connect(q->fd, (struct sockaddr *)&sa, sizeof(sa))) {
		*err = eg_xasprintf("cannot connect to %s: %s", path,
				    strerror(errno));
		goto fail;
	}
	setsockopt(q->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(q->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	m = read_msg(q, err);
	if (!m)
		goto fail;
	if (!json_object_object_get_ex(m, "QMP", &v)) {
		*err = eg_xasprintf("%s does not greet like QMP", path);
		json_object_put(m);
		goto fail;
	}
	json_object_put(m);
	m = qmp_cmd(q, "qmp_capabilities", NULL, err);
	if (!m)
		goto fail;
	json_object_put(m);
	return q;
fail:
	qmp_close(q);
	return NULL;
}

void qmp_close(struct qmp *q)
{
	if (!q)
		return;
	if (q->fd >= 0)
		close(q->fd);
	free(q->buf);
	free(q);
}
