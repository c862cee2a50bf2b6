/*
 * clusterctl cluster create --ssh: the nodes' files copied as root with the
 * system's ssh and scp, run directly (fork and exec, never through a local
 * shell). What the node runs are fixed commands of this file: no name or
 * address given on the command line is ever part of them.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <clusterd/result.h>

#include "cli/bootstrap.h"
#include "lib/util.h"

#define FAIL CD_FAIL

/* The longest command line built here: scp, its options, three files and the target. */
#define MAX_ARGV 20

/*
 * What a node is checked with before anything is copied to any node: its
 * exit status says what is missing (ssh itself exits 255). It changes
 * nothing on the node.
 */
#define CHECK_COMMAND                                                                              \
	"test ! -e /etc/clusterd/pki/ca.crt || exit 3; "                                           \
	"command -v corosync >/dev/null || exit 4; "                                               \
	"command -v clusterd >/dev/null || exit 5"

static const struct {
	int status;
	const char *why;
} check_refusals[] = {
	{3, "has a cluster CA already (/etc/clusterd/pki/ca.crt): it belongs to a cluster"},
	{4, "has no corosync installed (apt-get install corosync)"},
	{5, "has no clusterd installed"},
};

/* The directories the files go to, before they are copied. */
#define PREPARE_COMMAND "mkdir -p /etc/corosync && install -d -m 0700 /etc/clusterd/pki"

/*
 * Run argv, its standard input and output /dev/null, and keep the last
 * line of its standard error in last (n bytes). Returns its exit status,
 * or -errno if it could not be run (-ECHILD: killed by a signal).
 */
int bs_run(char *const argv[], char *last, size_t n)
{
	char buf[4096];
	size_t got = 0;
	int pipefd[2], status, null;
	pid_t pid;
	ssize_t k;

	last[0] = '\0';
	if (pipe2(pipefd, O_CLOEXEC) < 0)
		return -errno;
	pid = fork();
	if (pid < 0) {
		close(pipefd[0]);
		close(pipefd[1]);
		return -errno;
	}
	if (pid == 0) {
		null = open("/dev/null", O_RDWR);
		if (null < 0 || dup2(null, 0) < 0 || dup2(null, 1) < 0 || dup2(pipefd[1], 2) < 0)
			_exit(127);
		execvp(argv[0], argv);
		dprintf(2, "cannot run %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	close(pipefd[1]);
	/* Keep the end: the last line is what went wrong. */
	for (;;) {
		k = read(pipefd[0], buf + got, sizeof(buf) - 1 - got);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			break;
		got += (size_t)k;
		if (got == sizeof(buf) - 1) {
			memmove(buf, buf + got / 2, got - got / 2);
			got -= got / 2;
		}
	}
	close(pipefd[0]);
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -errno;
	while (got > 0 && (buf[got - 1] == '\n' || buf[got - 1] == '\r'))
		got--;
	buf[got] = '\0';
	cd_strlcpy(last, strrchr(buf, '\n') ? strrchr(buf, '\n') + 1 : buf, n);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -ECHILD;
}

/* The options every ssh and scp gets: no prompt, a connect timeout. */
static int common_options(const struct bs_remote *r, char *argv[], int k, char *timeout, size_t n)
{
	snprintf(timeout, n, "ConnectTimeout=%d", r->timeout_s);
	argv[k++] = (char *)"-o";
	argv[k++] = (char *)"BatchMode=yes";
	argv[k++] = (char *)"-o";
	argv[k++] = timeout;
	return k;
}

int bs_remote_run(const struct bs_remote *r, const char *addr, const char *command, char *last,
		  size_t lastlen)
{
	char *argv[MAX_ARGV], timeout[64], dest[CD_CC_ADDR_MAX + 8];
	int k = 0;

	argv[k++] = (char *)r->ssh;
	k = common_options(r, argv, k, timeout, sizeof(timeout));
	snprintf(dest, sizeof(dest), "root@%s", addr);
	argv[k++] = dest;
	argv[k++] = (char *)command;
	argv[k] = NULL;
	return bs_run(argv, last, lastlen);
}

/* Say in err why program (ssh or scp) failed for n with rc while doing what. */
static int failed(const struct cd_cc_node *n, const char *program, const char *what, int rc,
		  const char *last, char *err, size_t errlen)
{
	if (rc < 0)
		FAIL(-EHOSTUNREACH, "%s: cannot run %s: %s", n->name, program, cd_strerror(rc));
	FAIL(-EHOSTUNREACH, "%s: %s failed (%s exit %d)%s%s", n->name, what, program, rc,
	     last[0] ? ": " : "", last);
}

int bs_remote_check(const struct bs_remote *r, const struct cd_cc_node *n, char *err, size_t errlen)
{
	char last[512];
	size_t i;
	int rc = bs_remote_run(r, n->addr, CHECK_COMMAND, last, sizeof(last));

	if (rc == 0)
		return 0;
	for (i = 0; i < sizeof(check_refusals) / sizeof(check_refusals[0]); i++)
		if (check_refusals[i].status == rc)
			FAIL(CD_ERR_REFUSED, "%s %s", n->name, check_refusals[i].why);
	return failed(n, r->ssh, "logging in as root", rc, last, err, errlen);
}

/* scp of node n's files of one directory (dir) from out/NAME to it. */
static int copy_dir(const struct bs_remote *r, const char *out, const struct cd_cc_node *n,
		    const char *dir, char *err, size_t errlen)
{
	char *argv[MAX_ARGV], timeout[64], target[CD_CC_ADDR_MAX + PATH_MAX], last[512];
	char files[BS_N_FILES][PATH_MAX];
	bool v6 = strchr(n->addr, ':') != NULL;
	size_t i;
	int k = 0, rc;

	argv[k++] = (char *)r->scp;
	argv[k++] = (char *)"-p"; /* the modes */
	k = common_options(r, argv, k, timeout, sizeof(timeout));
	for (i = 0; i < BS_N_FILES; i++) {
		if (strcmp(bs_files[i].dir, dir) != 0)
			continue;
		/*
		 * "./" before a relative path: scp would take one with a ':' before
		 * its first '/' for a host's, and one that begins with '-' for an option.
		 */
		if (snprintf(files[i], PATH_MAX, "%s%s/%s%s/%s", out[0] == '/' ? "" : "./", out,
			     n->name, dir, bs_files[i].name) >= PATH_MAX)
			FAIL(-ENAMETOOLONG, "%s: a path is too long", out);
		argv[k++] = files[i];
	}
	/* An IPv6 address in brackets, or scp takes its first ':' for the path's. */
	snprintf(target, sizeof(target), "root@%s%s%s:%s/", v6 ? "[" : "", n->addr, v6 ? "]" : "",
		 dir);
	argv[k++] = target;
	argv[k] = NULL;
	rc = bs_run(argv, last, sizeof(last));
	snprintf(target, sizeof(target), "copying to %s", dir);
	return rc == 0 ? 0 : failed(n, r->scp, target, rc, last, err, errlen);
}

int bs_remote_copy(const struct bs_remote *r, const char *out, const struct cd_cc_node *n,
		   char *err, size_t errlen)
{
	char last[512];
	int rc = bs_remote_run(r, n->addr, PREPARE_COMMAND, last, sizeof(last));

	if (rc != 0)
		return failed(n, r->ssh, "making /etc/clusterd/pki", rc, last, err, errlen);
	rc = copy_dir(r, out, n, "/etc/corosync", err, errlen);
	return rc < 0 ? rc : copy_dir(r, out, n, "/etc/clusterd/pki", err, errlen);
}

/* root@ADDR:PATH in buf (n bytes), an IPv6 address in brackets. */
static void remote_path(char *buf, size_t n, const char *addr, const char *path)
{
	bool v6 = strchr(addr, ':') != NULL;

	snprintf(buf, n, "root@%s%s%s:%s", v6 ? "[" : "", addr, v6 ? "]" : "", path);
}

/* Beside the node's corosync.conf, then renamed over it. */
#define CONF_NEW "/etc/corosync/corosync.conf.clusterctl-new"
#define PUT_CONF_COMMAND "mv -f " CONF_NEW " /etc/corosync/corosync.conf"

int bs_remote_put_conf(const struct bs_remote *r, const char *out, const struct cd_cc_node *n,
		       char *err, size_t errlen)
{
	char *argv[MAX_ARGV], timeout[64], target[CD_CC_ADDR_MAX + PATH_MAX], last[512];
	char file[PATH_MAX];
	int k = 0, rc;

	if (snprintf(file, sizeof(file), "%s%s/%s/etc/corosync/corosync.conf",
		     out[0] == '/' ? "" : "./", out, n->name) >= (int)sizeof(file))
		FAIL(-ENAMETOOLONG, "%s: a path is too long", out);
	remote_path(target, sizeof(target), n->addr, CONF_NEW);
	argv[k++] = (char *)r->scp;
	argv[k++] = (char *)"-p";
	k = common_options(r, argv, k, timeout, sizeof(timeout));
	argv[k++] = file;
	argv[k++] = target;
	argv[k] = NULL;
	rc = bs_run(argv, last, sizeof(last));
	if (rc != 0)
		return failed(n, r->scp, "copying corosync.conf", rc, last, err, errlen);
	rc = bs_remote_run(r, n->addr, PUT_CONF_COMMAND, last, sizeof(last));
	return rc == 0 ? 0
		       : failed(n, r->ssh, "putting corosync.conf in place", rc, last, err, errlen);
}

int bs_remote_fetch(const struct bs_remote *r, const char *addr, const char *remote,
		    const char *local, char *err, size_t errlen)
{
	char *argv[MAX_ARGV], timeout[64], source[CD_CC_ADDR_MAX + PATH_MAX], last[512];
	char dest[PATH_MAX];
	int k = 0, rc;

	if (snprintf(dest, sizeof(dest), "%s%s", local[0] == '/' ? "" : "./", local) >=
	    (int)sizeof(dest))
		FAIL(-ENAMETOOLONG, "%s: the path is too long", local);
	remote_path(source, sizeof(source), addr, remote);
	argv[k++] = (char *)r->scp;
	argv[k++] = (char *)"-rp";
	k = common_options(r, argv, k, timeout, sizeof(timeout));
	argv[k++] = source;
	argv[k++] = dest;
	argv[k] = NULL;
	rc = bs_run(argv, last, sizeof(last));
	if (rc < 0)
		FAIL(-EHOSTUNREACH, "%s: cannot run %s: %s", addr, r->scp, cd_strerror(rc));
	if (rc > 0)
		FAIL(-EHOSTUNREACH, "%s: fetching %s failed (%s exit %d)%s%s", addr, remote, r->scp,
		     rc, last[0] ? ": " : "", last);
	return 0;
}
