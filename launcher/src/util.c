// SPDX-License-Identifier: (GPL-2.0 OR MIT)
/*
 * util.c - messages, paths, child processes and files for the launcher.
 */
#define _POSIX_C_SOURCE 200809L
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "verbs.h"

static void vmsg(const char *verb, const char *fmt, va_list ap)
{
	if (verb)
		fprintf(stderr, "egpu-vm %s: ", verb);
	else
		fputs("egpu-vm: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

void eg_err(const char *verb, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmsg(verb, fmt, ap);
	va_end(ap);
}

void eg_die(int code, const char *verb, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmsg(verb, fmt, ap);
	va_end(ap);
	exit(code);
}

int eg_usage(const char *verb, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmsg(verb, fmt, ap);
	va_end(ap);
	fprintf(stderr, "(see 'egpu-vm %s --help')\n", verb ? verb : "");
	return EGPU_EXIT_USAGE;
}

void *eg_xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (!p)
		eg_die(EGPU_EXIT_FAIL, NULL, "out of memory");
	return p;
}

char *eg_xstrdup(const char *s)
{
	size_t n = strlen(s) + 1;

	return memcpy(eg_xmalloc(n), s, n);
}

char *eg_xasprintf(const char *fmt, ...)
{
	va_list ap;
	char *s;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		eg_die(EGPU_EXIT_FAIL, NULL, "bad format '%s'", fmt);
	s = eg_xmalloc((size_t)n + 1);
	va_start(ap, fmt);
	vsnprintf(s, (size_t)n + 1, fmt, ap);
	va_end(ap);
	return s;
}

char *eg_path_join(const char *a, const char *b)
{
	size_t la = strlen(a);

	while (*b == '/')
		b++;
	if (la && a[la - 1] == '/')
		return eg_xasprintf("%s%s", a, b);
	return eg_xasprintf("%s/%s", a, b);
}

int eg_mkdir_p(const char *path, mode_t mode)
{
	char *p = eg_xstrdup(path), *s;
	int rc = 0;

	for (s = p + 1; ; s++) {
		if (*s != '/' && *s)
			continue;
		char c = *s;

		*s = '\0';
		if (mkdir(p, mode) && errno != EEXIST) {
			rc = -1;
			break;
		}
		*s = c;
		if (!c)
			break;
	}
	if (!rc && !eg_is_dir(path)) {
		errno = ENOTDIR;
		rc = -1;
	}
	free(p);
	return rc;
}

static bool mode_is(const char *path, mode_t type)
{
	struct stat st;

	return !stat(path, &st) && (st.st_mode & S_IFMT) == type;
}

bool eg_is_file(const char *path)
{
	return mode_is(path, S_IFREG);
}

bool eg_is_dir(const char *path)
{
	return mode_is(path, S_IFDIR);
}

bool eg_is_socket(const char *path)
{
	return mode_is(path, S_IFSOCK);
}

bool eg_is_exec(const char *path)
{
	return eg_is_file(path) && !access(path, X_OK);
}

char *eg_which(const char *name)
{
	const char *path = getenv("PATH");
	char *dirs, *dir, *save = NULL;

	if (strchr(name, '/'))
		return eg_is_exec(name) ? eg_xstrdup(name) : NULL;
	dirs = eg_xstrdup(path ? path : "/usr/bin:/bin");
	for (dir = strtok_r(dirs, ":", &save); dir;
	     dir = strtok_r(NULL, ":", &save)) {
		char *full = eg_path_join(dir, name);

		if (eg_is_exec(full)) {
			free(dirs);
			return full;
		}
		free(full);
	}
	free(dirs);
	return NULL;
}

char *eg_read_file(const char *path, size_t *len)
{
	size_t cap = 4096, n = 0;
	char *buf;
	int fd = open(path, O_RDONLY);

	if (fd < 0)
		return NULL;
	buf = eg_xmalloc(cap);
	for (;;) {
		ssize_t r;

		if (n + 1 >= cap) {
			char *nb = realloc(buf, cap * 2);

			if (!nb)
				eg_die(EGPU_EXIT_FAIL, NULL, "out of memory");
			buf = nb;
			cap *= 2;
		}
		r = read(fd, buf + n, cap - n - 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			int e = errno;

			free(buf);
			close(fd);
			errno = e;
			return NULL;
		}
		if (!r)
			break;
		n += (size_t)r;
	}
	close(fd);
	buf[n] = '\0';
	if (len)
		*len = n;
	return buf;
}

/*
 * out_fd: where the child's stdout goes (-1: ours); quiet: stdout (if not
 * captured) and stderr to /dev/null.
 */
static int run_child(char *const argv[], int out_fd, bool quiet)
{
	pid_t pid;
	int st;

	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid < 0)
		return -1;
	if (!pid) {
		int null = open("/dev/null", O_WRONLY);

		if (out_fd >= 0)
			dup2(out_fd, STDOUT_FILENO);
		else if (quiet && null >= 0)
			dup2(null, STDOUT_FILENO);
		if (quiet && null >= 0)
			dup2(null, STDERR_FILENO);
		execvp(argv[0], argv);
		_exit(127);
	}
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return -1;
	if (WIFSIGNALED(st))
		return 128 + WTERMSIG(st);
	return WEXITSTATUS(st);
}

int eg_run(char *const argv[])
{
	return run_child(argv, -1, false);
}

int eg_run_quiet(char *const argv[])
{
	return run_child(argv, -1, true);
}

static int capture(char *const argv[], char **out, bool quiet)
{
	char tmpl[] = "/tmp/egpu-vm.out.XXXXXX";
	int fd = mkstemp(tmpl), rc;
	size_t len;

	*out = NULL;
	if (fd < 0)
		return -1;
	unlink(tmpl);
	rc = run_child(argv, fd, quiet);
	if (lseek(fd, 0, SEEK_SET) == 0) {
		char path[64];

		snprintf(path, sizeof(path), "/dev/fd/%d", fd);
		*out = eg_read_file(path, &len);
		while (*out && len && (*out)[len - 1] == '\n')
			(*out)[--len] = '\0';
	}
	close(fd);
	if (!*out)
		*out = eg_xstrdup("");
	return rc;
}

int eg_run_capture(char *const argv[], char **out)
{
	return capture(argv, out, true);
}

int eg_run_output(char *const argv[], char **out)
{
	return capture(argv, out, false);
}

bool eg_parse_u64(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;

	if (!s || !*s || *s == '-' || *s == '+')
		return false;
	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || *end)
		return false;
	*out = v;
	return true;
}

bool eg_parse_size(const char *s, uint64_t *out)
{
	static const char units[] = "KMGT";
	char *num, *u;
	uint64_t v;
	int shift = 0;
	size_t n;
	bool ok;

	if (!s || !*s)
		return false;
	num = eg_xstrdup(s);
	n = strlen(num);
	u = (num[n - 1] & ~0x20) ? strchr(units, num[n - 1] & ~0x20) : NULL;
	if (u) {
		shift = 10 * (int)(u - units + 1);
		num[n - 1] = '\0';
	}
	ok = eg_parse_u64(num, &v) && v && v <= (UINT64_MAX >> shift);
	free(num);
	if (ok)
		*out = v << shift;
	return ok;
}

char *eg_shell_quote(const char *s)
{
	size_t n = 3, i;
	char *q, *p;

	if (*s && strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
			    "0123456789-_./=:,+@%") == strlen(s))
		return eg_xstrdup(s);
	for (i = 0; s[i]; i++)
		n += s[i] == '\'' ? 4 : 1;
	q = p = eg_xmalloc(n);
	*p++ = '\'';
	for (i = 0; s[i]; i++) {
		if (s[i] == '\'') {
			memcpy(p, "'\\''", 4);
			p += 4;
		} else {
			*p++ = s[i];
		}
	}
	*p++ = '\'';
	*p = '\0';
	return q;
}

bool eg_wants_help(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--"))
			return false;
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h"))
			return true;
	}
	return false;
}
