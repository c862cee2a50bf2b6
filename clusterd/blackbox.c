/* clusterd's blackbox ring, its files and the crash handlers (blackbox.h). */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include <qb/qblog.h>

#include "clusterd/blackbox.h"
#include "core/dump.h"
#include "lib/util.h"

static char dir[PATH_MAX];
/*
 * The node name for file names: two buffers, so that the crash handler,
 * which may run at any instant, reads a whole one (the index flips only
 * once the other buffer is written).
 */
static char node[2][CD_NAME_MAX + 1];
static volatile sig_atomic_t node_cur;
/* For the crash handler: a stack of its own, so that a stack overflow can be written too. */
static char alt_stack[64 * 1024];

static const int crash_signals[] = {SIGSEGV, SIGBUS, SIGABRT, SIGFPE, SIGILL};

void cd_blackbox_set_node(const char *name)
{
	int next = !node_cur;

	if (!name || !*name || strcmp(node[node_cur], name) == 0)
		return;
	cd_strlcpy(node[next], name, sizeof(node[next]));
	node_cur = next;
}

/*
 * A crash: write the ring, then die of the same signal (SA_RESETHAND put
 * the default action back) so that the exit status and a core dump say
 * what happened. Only async-signal-safe calls, as far as libqb's writer
 * allows (corosync's handler does the same).
 */
static void on_crash(int sig)
{
	char path[PATH_MAX + CD_BLACKBOX_NAME_LEN(CD_NAME_MAX)];
	size_t n = strlen(dir);
	struct timespec ts;

	if (n && n + 1 < sizeof(path)) {
		memcpy(path, dir, n);
		path[n++] = '/';
		clock_gettime(CLOCK_REALTIME, &ts);
		if (cd_blackbox_name(path + n, sizeof(path) - n, node[node_cur],
				     (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000,
				     "crash"))
			qb_log_blackbox_write_to_file(path);
	}
	raise(sig);
}

static void install_crash_handlers(void)
{
	stack_t ss = {.ss_sp = alt_stack, .ss_size = sizeof(alt_stack)};
	struct sigaction sa;
	size_t i;

	sigaltstack(&ss, NULL);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_crash;
	sa.sa_flags = SA_RESETHAND | SA_NODEFER | SA_ONSTACK;
	sigemptyset(&sa.sa_mask);
	for (i = 0; i < sizeof(crash_signals) / sizeof(crash_signals[0]); i++)
		sigaction(crash_signals[i], &sa, NULL);
}

/* Keep the CD_BLACKBOX_KEEP newest files of kind. */
static void prune(const char *kind)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char **names = NULL, **more, path[PATH_MAX + 256];
	bool *rm = NULL;
	size_t n = 0, i;

	if (!d)
		return;
	while ((e = readdir(d)) != NULL) {
		if (strncmp(e->d_name, CD_BLACKBOX_PREFIX, sizeof(CD_BLACKBOX_PREFIX) - 1) != 0)
			continue;
		more = realloc(names, (n + 1) * sizeof(*names));
		if (!more)
			break;
		names = more;
		names[n] = strdup(e->d_name);
		if (names[n])
			n++;
	}
	closedir(d);
	rm = calloc(n ? n : 1, sizeof(*rm));
	if (rm && cd_blackbox_prune((const char *const *)names, n, kind, CD_BLACKBOX_KEEP, rm))
		for (i = 0; i < n; i++)
			if (rm[i]) {
				snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
				if (unlink(path) < 0)
					qb_log(LOG_WARNING, "cannot remove the old blackbox %s: %s",
					       path, strerror(errno));
			}
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
	free(rm);
}

int cd_blackbox_init(const char *state_dir, size_t ring_bytes)
{
	char host[256] = "";
	int rc;

	qb_log_ctl(QB_LOG_BLACKBOX, QB_LOG_CONF_SIZE, (int32_t)ring_bytes);
	qb_log_filter_ctl(QB_LOG_BLACKBOX, QB_LOG_FILTER_ADD, QB_LOG_FILTER_FILE, "*", LOG_DEBUG);
	qb_log_ctl(QB_LOG_BLACKBOX, QB_LOG_CONF_ENABLED, QB_TRUE);
	gethostname(host, sizeof(host) - 1);
	cd_blackbox_set_node(host);
	snprintf(dir, sizeof(dir), "%s/blackbox", state_dir);
	rc = cd_mkdir_p(dir, 0700);
	if (rc < 0) {
		qb_log(LOG_ERR, "cannot create %s: %s: no blackbox files", dir, strerror(-rc));
		dir[0] = '\0';
		return rc;
	}
	prune("crash");
	prune("dump");
	prune("signal");
	install_crash_handlers();
	return 0;
}

int cd_blackbox_write(const char *kind, char *path, size_t len)
{
	size_t n;
	ssize_t w;

	if (!*dir)
		return -ENOENT;
	n = (size_t)snprintf(path, len, "%s/", dir);
	if (n >= len || !cd_blackbox_name(path + n, len - n, node[node_cur], cd_wall_ms(), kind))
		return -ENAMETOOLONG;
	w = qb_log_blackbox_write_to_file(path);
	if (w < 0)
		return (int)w;
	prune(kind);
	return 0;
}

/*
 * libqb prints a blackbox file on stdout only: stdout goes to a temporary
 * file meanwhile (clusterd writes nothing else there; its log targets are
 * the log file, syslog and stderr), which is then read back.
 */
int cd_blackbox_text(const char *path, char **text, size_t *len)
{
	char tmp[PATH_MAX];
	int fd, saved, rc = 0;
	struct stat st;
	char *buf = NULL;
	ssize_t r;
	size_t got = 0;

	snprintf(tmp, sizeof(tmp), "%s.txt.XXXXXX", path);
	fd = mkstemp(tmp);
	if (fd < 0)
		return -errno;
	unlink(tmp);
	fflush(stdout);
	saved = dup(STDOUT_FILENO);
	if (saved < 0 || dup2(fd, STDOUT_FILENO) < 0) {
		rc = -errno;
		goto close_fd;
	}
	qb_log_blackbox_print_from_file(path);
	fflush(stdout);
	dup2(saved, STDOUT_FILENO);
	if (fstat(fd, &st) < 0 || lseek(fd, 0, SEEK_SET) < 0) {
		rc = -errno;
		goto close_fd;
	}
	buf = malloc((size_t)st.st_size + 1);
	if (!buf) {
		rc = -ENOMEM;
		goto close_fd;
	}
	while (got < (size_t)st.st_size && (r = read(fd, buf + got, (size_t)st.st_size - got)) > 0)
		got += (size_t)r;
	buf[got] = '\0';
	*text = buf;
	*len = got;
close_fd:
	if (saved >= 0)
		close(saved);
	close(fd);
	return rc;
}
