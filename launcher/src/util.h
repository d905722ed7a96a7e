/* SPDX-License-Identifier: (GPL-2.0 OR MIT) */
/*
 * util.h - helpers every verb of the egpu-vm launcher shares: messages,
 * paths, directories, child processes, files. Allocation failure is fatal
 * (eg_die): a launcher that ran out of memory has nothing better to do.
 */
#ifndef EGPU_UTIL_H
#define EGPU_UTIL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define EGPU_VERSION "0.2.0"

/* "egpu-vm VERB: message\n" on stderr (VERB may be NULL: "egpu-vm: ..."). */
void eg_err(const char *verb, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* eg_err, then exit(code). */
void eg_die(int code, const char *verb, const char *fmt, ...)
	__attribute__((format(printf, 3, 4), noreturn));
/*
 * A bad argument: eg_err plus a hint to VERB's --help; returns
 * EGPU_EXIT_USAGE so a verb can `return eg_usage(...)`.
 */
int eg_usage(const char *verb, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

void *eg_xmalloc(size_t n);
char *eg_xstrdup(const char *s);
/* A new string, printf-formatted. */
char *eg_xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* a "/" b, without doubling the slash; a new string. */
char *eg_path_join(const char *a, const char *b);
/* mkdir -p: 0 or -1 with errno set. */
int eg_mkdir_p(const char *path, mode_t mode);
bool eg_is_file(const char *path);
bool eg_is_dir(const char *path);
bool eg_is_exec(const char *path);
bool eg_is_socket(const char *path);
/* The first PATH entry holding an executable NAME (a new string) or NULL. */
char *eg_which(const char *name);

/*
 * Read a whole file (NUL-terminated; *len gets the length without it,
 * len may be NULL). NULL with errno set on failure.
 */
char *eg_read_file(const char *path, size_t *len);

/*
 * Run argv[0] (looked up in PATH) and wait: its exit status, 128 + signal
 * if a signal ended it, -1 if it could not be started (errno set).
 * eg_run_quiet: stdout and stderr go to /dev/null.
 * eg_run_capture: *out gets its stdout (a new string, trailing newlines
 * removed), stderr goes to /dev/null; eg_run_output: the same, but its
 * stderr is ours (progress messages show).
 */
int eg_run(char *const argv[]);
int eg_run_quiet(char *const argv[]);
int eg_run_capture(char *const argv[], char **out);
int eg_run_output(char *const argv[], char **out);

/* Numbers from the command line: the whole string or false. */
bool eg_parse_u64(const char *s, uint64_t *out);
/* A size with an optional K/M/G/T suffix (binary), e.g. "8G". */
bool eg_parse_size(const char *s, uint64_t *out);

/* A string as one shell word ('...' quoted when it needs to be); new. */
char *eg_shell_quote(const char *s);

/* argv has "--help" or "-h" before any "--": the verb prints its usage. */
bool eg_wants_help(int argc, char **argv);

#endif /* EGPU_UTIL_H */
