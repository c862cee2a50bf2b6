#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/pidfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <qb/qblog.h>

#include <clusterd/result.h>

#include "agents/fence.h"
#include "lib/util.h"

/* What a callback may read from one stream before the loop runs others. */
#define READS_PER_DISPATCH 16

struct output {
	int fd; /* -1 once closed */
	char *data;
	size_t len;
	bool truncated;
};

enum timer_kind {
	TIMER_NONE,
	TIMER_TIMEOUT, /* the attempt ran out of time: SIGTERM */
	TIMER_KILL,    /* it outlived the grace after SIGTERM: SIGKILL */
	TIMER_RETRY,   /* start the next attempt */
};

struct job {
	struct job *next;
	char dev[64];
	char path[PATH_MAX];
	enum cd_fence_action action;
	char *plug; /* "" for none */
	char *text; /* the agent's stdin: holds secrets */
	size_t text_len;
	struct cd_fence_params *secrets; /* to mask the agent's output */
	int timeout_ms;
	int retries;
	cd_fence_done_fn done;
	void *ctx;
	int attempt; /* 1 for the first */
	qb_loop_timer_handle timer;
	enum timer_kind timer_kind;
	/* The running attempt; pid 0 when none runs. */
	pid_t pid;
	int pidfd;
	int in_fd;
	bool in_polled;
	size_t text_off;
	struct output out, err;
	bool timed_out;
	int exit_status;
	int signal;
};

static struct {
	qb_loop_t *loop;
	struct job *jobs;
} f;

/* Every line names the device, the action and the plug; never a parameter. */
#define job_log(j, prio, fmt, ...)                                                                 \
	qb_log(prio, "fence %s: %s%s%s: " fmt, (j)->dev, cd_fence_action_to_str((j)->action),      \
	       *(j)->plug ? " " : "", (j)->plug, ##__VA_ARGS__)

static bool power_action(enum cd_fence_action a)
{
	return a == CD_FENCE_OFF || a == CD_FENCE_ON || a == CD_FENCE_REBOOT;
}

/* --- finding the agent --- */

/* 0 for an executable regular file, else -errno. */
static int check_exec(const char *path)
{
	struct stat st;

	if (stat(path, &st) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode))
		return -EACCES;
	return access(path, X_OK) < 0 ? -errno : 0;
}

int cd_fence_find_agent(const char *agent, char *path, size_t len)
{
	const char *env = getenv("PATH");
	char dirs[4096];
	char *dir, *save = NULL;
	int rc, best = -ENOENT;

	if (agent[0] == '/') {
		if (cd_strlcpy(path, agent, len) >= len)
			return -ENAMETOOLONG;
		return check_exec(path);
	}
	/* A relative path would depend on clusterd's working directory. */
	if (!cd_valid_path_name(agent, 128))
		return CD_ERR_INVALID;
	snprintf(dirs, sizeof(dirs), "%s:/usr/sbin:/sbin", env ? env : "/usr/bin:/bin");
	for (dir = strtok_r(dirs, ":", &save); dir; dir = strtok_r(NULL, ":", &save)) {
		if (dir[0] != '/')
			continue;
		if ((size_t)snprintf(path, len, "%s/%s", dir, agent) >= len)
			continue;
		rc = check_exec(path);
		if (rc == 0)
			return 0;
		if (rc != -ENOENT && rc != -ENOTDIR)
			best = rc;
	}
	return best;
}

/* --- one attempt --- */

static void timer_cb(void *data);

static void arm(struct job *j, enum timer_kind kind, int ms)
{
	int rc = qb_loop_timer_add(f.loop, QB_LOOP_MED, (uint64_t)ms * 1000000ull, j, timer_cb,
				   &j->timer);

	if (rc < 0) {
		/* Only on a loop out of memory; the run would hang, so say it loudly. */
		job_log(j, LOG_ERR, "cannot add a timer: %s", cd_strerror(rc));
		return;
	}
	j->timer_kind = kind;
}

static void disarm(struct job *j)
{
	if (j->timer_kind != TIMER_NONE)
		qb_loop_timer_del(f.loop, j->timer);
	j->timer_kind = TIMER_NONE;
}

static void close_fd(int *fd, bool polled)
{
	if (*fd < 0)
		return;
	if (polled)
		qb_loop_poll_del(f.loop, *fd);
	close(*fd);
	*fd = -1;
}

static void close_stdin(struct job *j)
{
	close_fd(&j->in_fd, j->in_polled);
	j->in_polled = false;
}

/*
 * Read what o's pipe holds, keeping up to CD_FENCE_OUTPUT_MAX bytes and
 * dropping the rest. Returns true at end of file (or an error).
 */
static bool read_output(struct output *o, int max_reads)
{
	char scratch[4096];

	while (max_reads-- > 0) {
		size_t room = CD_FENCE_OUTPUT_MAX - o->len;
		ssize_t r = room ? read(o->fd, o->data + o->len, room)
				 : read(o->fd, scratch, sizeof(scratch));

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 && errno == EAGAIN)
			return false;
		if (r <= 0)
			return true;
		if (room)
			o->len += (size_t)r;
		else
			o->truncated = true;
	}
	return false;
}

static int32_t output_cb(int32_t fd, int32_t revents, void *data)
{
	struct job *j = data;
	struct output *o = fd == j->out.fd ? &j->out : &j->err;

	if (read_output(o, READS_PER_DISPATCH))
		close_fd(&o->fd, true);
	return 0;
}

static int32_t stdin_cb(int32_t fd, int32_t revents, void *data);

/* Write what is left of the agent's stdin; close it once all is written. */
static void feed_stdin(struct job *j)
{
	while (j->text_off < j->text_len) {
		/* A socket, so that an agent that exits unread is EPIPE, not SIGPIPE. */
		ssize_t w = send(j->in_fd, j->text + j->text_off, j->text_len - j->text_off,
				 MSG_NOSIGNAL | MSG_DONTWAIT);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && errno == EAGAIN) {
			if (!j->in_polled && qb_loop_poll_add(f.loop, QB_LOOP_MED, j->in_fd,
							      POLLOUT, j, stdin_cb) == 0)
				j->in_polled = true;
			if (j->in_polled)
				return;
		}
		if (w <= 0)
			break; /* the agent did not read it all: its exit code tells */
		j->text_off += (size_t)w;
	}
	close_stdin(j);
}

static int32_t stdin_cb(int32_t fd, int32_t revents, void *data)
{
	feed_stdin(data);
	return 0;
}

static void attempt_ended(struct job *j);

static int32_t pidfd_cb(int32_t fd, int32_t revents, void *data)
{
	attempt_ended(data);
	return 0;
}

/* Move fd above stdin, stdout and stderr so the child's dup2s cannot clash. */
static int above_stdio(int *fd)
{
	int n;

	if (*fd > STDERR_FILENO)
		return 0;
	n = fcntl(*fd, F_DUPFD_CLOEXEC, STDERR_FILENO + 1);
	if (n < 0)
		return -errno;
	close(*fd);
	*fd = n;
	return 0;
}

static int set_nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
		return -errno;
	return 0;
}

/*
 * Start the agent with in, out and err as its stdin, stdout and stderr, in
 * a new session (so its process group is its own to kill), with default
 * signal handling and nothing else open. posix_spawn reports a failed exec
 * as its result.
 */
static int spawn(struct job *j, int in, int out, int err)
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t at;
	sigset_t none, all;
	char *argv[] = {j->path, NULL};
	int rc;

	posix_spawn_file_actions_init(&fa);
	posix_spawnattr_init(&at);
	sigemptyset(&none);
	sigfillset(&all);
	rc = posix_spawn_file_actions_adddup2(&fa, in, STDIN_FILENO);
	if (!rc)
		rc = posix_spawn_file_actions_adddup2(&fa, out, STDOUT_FILENO);
	if (!rc)
		rc = posix_spawn_file_actions_adddup2(&fa, err, STDERR_FILENO);
	if (!rc)
		rc = posix_spawn_file_actions_addclosefrom_np(&fa, STDERR_FILENO + 1);
	if (!rc)
		rc = posix_spawnattr_setsigmask(&at, &none);
	if (!rc)
		rc = posix_spawnattr_setsigdefault(&at, &all);
	if (!rc)
		rc = posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSID | POSIX_SPAWN_SETSIGMASK |
						       POSIX_SPAWN_SETSIGDEF);
	if (!rc)
		rc = posix_spawn(&j->pid, j->path, &fa, &at, argv, environ);
	posix_spawnattr_destroy(&at);
	posix_spawn_file_actions_destroy(&fa);
	if (rc)
		j->pid = 0;
	return -rc;
}

/* Kill what start_attempt() started when it cannot watch it; rare. */
static void abandon(struct job *j)
{
	kill(-j->pid, SIGKILL);
	/* Quick after SIGKILL, and the only way not to leave a zombie. */
	waitpid(j->pid, NULL, 0);
	j->pid = 0;
	close_fd(&j->pidfd, false);
}

static int start_attempt(struct job *j)
{
	int in[2] = {-1, -1}, out[2] = {-1, -1}, err[2] = {-1, -1};
	int rc = 0;

	j->attempt++;
	j->timed_out = false;
	j->exit_status = -1;
	j->signal = 0;
	j->out.len = j->err.len = 0;
	j->out.truncated = j->err.truncated = false;
	j->text_off = 0;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, in) < 0 ||
	    pipe2(out, O_CLOEXEC) < 0 || pipe2(err, O_CLOEXEC) < 0) {
		rc = -errno;
		goto close_pipes;
	}
	if ((rc = above_stdio(&in[1])) < 0 || (rc = above_stdio(&out[1])) < 0 ||
	    (rc = above_stdio(&err[1])) < 0 || (rc = set_nonblock(in[0])) < 0 ||
	    (rc = set_nonblock(out[0])) < 0 || (rc = set_nonblock(err[0])) < 0)
		goto close_pipes;
	rc = spawn(j, in[1], out[1], err[1]);
	if (rc < 0) {
		job_log(j, LOG_ERR, "cannot run %s: %s", j->path, cd_strerror(rc));
		goto close_pipes;
	}
	/* Not reaped yet, so the pid cannot have been reused. */
	j->pidfd = pidfd_open(j->pid, 0);
	if (j->pidfd < 0) {
		rc = -errno;
		abandon(j);
		goto close_pipes;
	}
	rc = qb_loop_poll_add(f.loop, QB_LOOP_MED, j->pidfd, POLLIN, j, pidfd_cb);
	if (rc < 0) {
		abandon(j);
		goto close_pipes;
	}
	j->in_fd = in[0];
	j->out.fd = out[0];
	j->err.fd = err[0];
	close(in[1]);
	close(out[1]);
	close(err[1]);
	/*
	 * Without these the attempt still ends (the pidfd, the timeout): the
	 * output is lost, or a chatty agent blocks and times out.
	 */
	qb_loop_poll_add(f.loop, QB_LOOP_MED, j->out.fd, POLLIN, j, output_cb);
	qb_loop_poll_add(f.loop, QB_LOOP_MED, j->err.fd, POLLIN, j, output_cb);
	arm(j, TIMER_TIMEOUT, j->timeout_ms);
	job_log(j, power_action(j->action) ? LOG_INFO : LOG_DEBUG,
		"attempt %d/%d: %s runs as pid %d (timeout %d ms)", j->attempt, j->retries + 1,
		j->path, (int)j->pid, j->timeout_ms);
	feed_stdin(j);
	return 0;

close_pipes:
	for (int i = 0; i < 2; i++) {
		close_fd(&in[i], false);
		close_fd(&out[i], false);
		close_fd(&err[i], false);
	}
	return rc;
}

/* --- ending a run --- */

static void job_free(struct job *j)
{
	cd_fence_wipe_free(j->text);
	cd_fence_params_free(j->secrets);
	/* The output can hold secrets as well (an agent that echoes its input). */
	if (j->out.data)
		explicit_bzero(j->out.data, CD_FENCE_OUTPUT_MAX);
	if (j->err.data)
		explicit_bzero(j->err.data, CD_FENCE_OUTPUT_MAX);
	free(j->out.data);
	free(j->err.data);
	free(j->plug);
	free(j);
}

static void unlink_job(struct job *j)
{
	struct job **p;

	for (p = &f.jobs; *p; p = &(*p)->next) {
		if (*p == j) {
			*p = j->next;
			return;
		}
	}
}

/* The last non-empty line of s, in buf (for a log line). */
static void last_line(const char *s, char *buf, size_t len)
{
	const char *end = s + strlen(s), *start;

	while (end > s && (end[-1] == '\n' || end[-1] == '\r' || end[-1] == ' '))
		end--;
	for (start = end; start > s && start[-1] != '\n';)
		start--;
	snprintf(buf, len, "%.*s", (int)(end - start), start);
}

/* A short description of how the last attempt ended, for log lines. */
static void describe(const struct job *j, int rc, const char *err, char *buf, size_t len)
{
	char line[160];

	last_line(err ? err : "", line, sizeof(line));
	if (rc == CD_ERR_TIMEOUT)
		snprintf(buf, len, "timed out after %d ms", j->timeout_ms);
	else if (j->signal)
		snprintf(buf, len, "killed by signal %d", j->signal);
	else if (j->exit_status >= 0)
		snprintf(buf, len, "exit code %d", j->exit_status);
	else
		snprintf(buf, len, "%s", cd_strerror(rc));
	if (*line) {
		size_t n = strlen(buf);

		snprintf(buf + n, len - n, ": %s", line);
	}
}

static void finish(struct job *j, int rc, enum cd_fence_power power)
{
	char *out = cd_fence_mask(j->out.data, j->out.len, j->out.truncated, j->secrets);
	char *err = cd_fence_mask(j->err.data, j->err.len, j->err.truncated, j->secrets);
	struct cd_fence_result r = {
	    .rc = rc,
	    .exit_status = j->exit_status,
	    .signal = j->signal,
	    .power = power,
	    .attempts = j->attempt,
	    .out = out ? out : "",
	    .err = err ? err : "",
	    .out_truncated = j->out.truncated,
	    .err_truncated = j->err.truncated,
	};
	char how[256];

	if (rc == 0) {
		job_log(j, power_action(j->action) ? LOG_NOTICE : LOG_DEBUG,
			"succeeded (attempt %d%s%s)", j->attempt,
			power != CD_FENCE_POWER_UNKNOWN ? ", power " : "",
			power != CD_FENCE_POWER_UNKNOWN ? cd_fence_power_to_str(power) : "");
	} else {
		describe(j, rc, r.err, how, sizeof(how));
		job_log(j, power_action(j->action) ? LOG_ERR : LOG_WARNING,
			"failed after %d attempt%s: %s", j->attempt, j->attempt == 1 ? "" : "s",
			how);
	}
	unlink_job(j);
	j->done(j->ctx, &r);
	free(out);
	free(err);
	job_free(j);
}

static void attempt_ended(struct job *j)
{
	enum cd_fence_power power = CD_FENCE_POWER_UNKNOWN;
	int status = 0, rc, wait_errno;
	bool reaped;
	pid_t r;

	/*
	 * The agent has exited but is not reaped, so its process group id is
	 * still ours: kill whatever it left behind in the group first.
	 */
	kill(-j->pid, SIGKILL);
	r = waitpid(j->pid, &status, WNOHANG);
	wait_errno = errno;
	reaped = r == j->pid;
	if (reaped && WIFEXITED(status))
		j->exit_status = WEXITSTATUS(status);
	else if (reaped && WIFSIGNALED(status))
		j->signal = WTERMSIG(status);
	j->pid = 0;
	close_fd(&j->pidfd, true);
	disarm(j);
	close_stdin(j);
	/* What it wrote before it exited is in the pipes; leftovers may still hold them open. */
	if (j->out.fd >= 0)
		read_output(&j->out, 64);
	if (j->err.fd >= 0)
		read_output(&j->err, 64);
	close_fd(&j->out.fd, true);
	close_fd(&j->err.fd, true);
	j->out.data[j->out.len] = '\0';
	j->err.data[j->err.len] = '\0';

	if (j->timed_out)
		rc = CD_ERR_TIMEOUT;
	else if (r < 0)
		rc = -wait_errno; /* someone else reaped it (SIGCHLD ignored?) */
	else if (!reaped || j->signal)
		rc = -EIO;
	else
		rc = cd_fence_interpret(j->action, j->exit_status, &power);

	if (rc != 0 && j->attempt <= j->retries) {
		char *err = cd_fence_mask(j->err.data, j->err.len, j->err.truncated, j->secrets);
		char how[256];

		describe(j, rc, err, how, sizeof(how));
		free(err);
		job_log(j, LOG_WARNING, "attempt %d/%d failed: %s; again in %d ms", j->attempt,
			j->retries + 1, how, CD_FENCE_RETRY_DELAY_MS);
		arm(j, TIMER_RETRY, CD_FENCE_RETRY_DELAY_MS);
		if (j->timer_kind == TIMER_RETRY)
			return;
	}
	finish(j, rc, power);
}

static void timer_cb(void *data)
{
	struct job *j = data;
	enum timer_kind kind = j->timer_kind;
	int rc;

	j->timer_kind = TIMER_NONE;
	switch (kind) {
	case TIMER_NONE:
		break;
	case TIMER_TIMEOUT:
		job_log(j, LOG_WARNING, "attempt %d/%d: no answer within %d ms, stopping it",
			j->attempt, j->retries + 1, j->timeout_ms);
		j->timed_out = true;
		kill(-j->pid, SIGTERM);
		arm(j, TIMER_KILL, CD_FENCE_KILL_GRACE_MS);
		break;
	case TIMER_KILL:
		job_log(j, LOG_WARNING,
			"attempt %d/%d: still there %d ms after SIGTERM, killing it", j->attempt,
			j->retries + 1, CD_FENCE_KILL_GRACE_MS);
		kill(-j->pid, SIGKILL);
		break;
	case TIMER_RETRY:
		rc = start_attempt(j);
		if (rc < 0)
			finish(j, rc, CD_FENCE_POWER_UNKNOWN);
		break;
	}
}

/* --- the API --- */

/* A set with only the secret parameters of p, to mask output with. */
static struct cd_fence_params *copy_secrets(const struct cd_fence_params *p)
{
	struct cd_fence_params *s = cd_fence_params_new();
	char err[128];
	size_t i;

	for (i = 0; s && p && i < p->n; i++) {
		if (cd_fence_param_is_secret(p->v[i].key) &&
		    cd_fence_params_add(s, p->v[i].key, p->v[i].value, err, sizeof(err)) < 0) {
			cd_fence_params_free(s);
			return NULL;
		}
	}
	return s;
}

int cd_fence_run(const struct cd_fence_device *dev, const char *action, const char *plug,
		 int timeout_ms, int retries, cd_fence_done_fn done, void *ctx)
{
	const char *name = dev && dev->name ? dev->name : dev && dev->agent ? dev->agent : "?";
	enum cd_fence_action a;
	char err[256];
	struct job *j;
	int rc;

	if (!f.loop)
		return -EINVAL;
	if (!dev || !dev->agent || !done || cd_fence_action_from_str(action, &a) < 0 ||
	    timeout_ms <= 0 || retries < 0 || retries > CD_FENCE_RETRIES_MAX) {
		qb_log(LOG_ERR, "fence %s: bad request (action %s, timeout %d ms, %d retries)",
		       name, action ? action : "none", timeout_ms, retries);
		return CD_ERR_INVALID;
	}
	j = calloc(1, sizeof(*j));
	if (!j)
		return -ENOMEM;
	cd_strlcpy(j->dev, name, sizeof(j->dev));
	j->action = a;
	j->timeout_ms = timeout_ms;
	j->retries = retries;
	j->done = done;
	j->ctx = ctx;
	j->pidfd = j->in_fd = j->out.fd = j->err.fd = -1;
	rc = cd_fence_stdin_text(dev->params, a, plug, &j->text, &j->text_len, err, sizeof(err));
	if (rc < 0) {
		/* Not the plug itself: it may be what is wrong (a line break). */
		qb_log(LOG_ERR, "fence %s: %s: %s", name, action, err);
		goto free_job;
	}
	j->plug = strdup(plug ? plug : "");
	j->secrets = copy_secrets(dev->params);
	j->out.data = malloc(CD_FENCE_OUTPUT_MAX + 1);
	j->err.data = malloc(CD_FENCE_OUTPUT_MAX + 1);
	if (!j->plug || !j->secrets || !j->out.data || !j->err.data) {
		rc = -ENOMEM;
		goto free_job;
	}
	rc = cd_fence_find_agent(dev->agent, j->path, sizeof(j->path));
	if (rc < 0) {
		job_log(j, LOG_ERR, "no agent %s: %s", dev->agent, cd_strerror(rc));
		goto free_job;
	}
	rc = start_attempt(j);
	if (rc < 0)
		goto free_job;
	j->next = f.jobs;
	f.jobs = j;
	return 0;

free_job:
	job_free(j);
	return rc;
}

int cd_fence_init(qb_loop_t *loop)
{
	int fd = pidfd_open(getpid(), 0), rc = -errno;

	if (fd < 0) {
		qb_log(LOG_ERR, "fence: no pidfds in this kernel: %s", cd_strerror(rc));
		return rc;
	}
	close(fd);
	f.loop = loop;
	return 0;
}

void cd_fence_fini(void)
{
	struct job *j;

	while ((j = f.jobs)) {
		f.jobs = j->next;
		if (j->pid) {
			job_log(j, LOG_WARNING, "abandoned at shutdown; killing pid %d",
				(int)j->pid);
			kill(-j->pid, SIGKILL);
			waitpid(j->pid, NULL, 0);
		}
		disarm(j);
		close_fd(&j->pidfd, true);
		close_stdin(j);
		close_fd(&j->out.fd, true);
		close_fd(&j->err.fd, true);
		job_free(j);
	}
	f.loop = NULL;
}
