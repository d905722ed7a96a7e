/* SPDX-License-Identifier: (GPL-2.0 OR MIT) */
/*
 * qmp.h - a small QMP client over a unix socket, with json-c.
 */
#ifndef EGPU_QMP_H
#define EGPU_QMP_H

#include <json-c/json.h>

struct qmp;

/* Connect, read the greeting, negotiate capabilities. NULL + *err (a new
 * string) on failure. */
struct qmp *qmp_open(const char *path, int timeout_s, char **err);
/*
 * Run one command (args may be NULL; ownership passes to the call). The
 * "return" value (a new reference) or NULL with *err (a new string: QMP's
 * error description, or what went wrong on the socket).
 */
struct json_object *qmp_cmd(struct qmp *q, const char *name,
			    struct json_object *args, char **err);
void qmp_close(struct qmp *q);

#endif /* EGPU_QMP_H */
