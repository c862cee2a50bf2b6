#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/pidfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lib/child.h"
#include "lib/looptimer.h"

/* What a callback may read from one stream before the loop runs others. */
#define READS_PER_DISPATCH 16

struct output {
	int fd;	    /* -1 once closed */
	char *data; /* max + 1 bytes */
	size_t max;
	size_t len;
	bool truncated;
};

enum timer_kind {
	TIMER_NONE,
	TIMER_TIMEOUT, /* it ran out of time: SIGTERM */
	TIMER_KILL,    /* it outlived the grace after SIGTERM: SIGKILL */
};

struct cd_child {
	qb_loop_t *loop;
	pid_t pid; /* 0 once reaped */
	int pidfd;
	int in_fd;
	bool in_polled;
	char *in; /* a copy of its stdin: may hold secrets */
	size_t in_len;
	size_t in_off;
	struct output out, err;
	int kill_grace_ms;
	qb_loop_timer_handle timer;
	enum timer_kind timer_kind;
	bool timed_out;
	cd_child_note_fn note;
	cd_child_done_fn done;
	void *ctx;
};

static void tell(struct cd_child *c, enum cd_child_note note, int rc)
{
	if (c->note)
		c->note(c->ctx, note, rc);
}

static void timer_cb(void *data);

static void arm(struct cd_child *c, enum timer_kind kind, int ms)
{
	int rc = cd_timer_add(c->loop, QB_LOOP_MED, (uint64_t)ms * 1000000ull, c, timer_cb,
			      &c->timer);

	if (rc < 0) {
		/* Only on a loop out of memory; the child could hang: the caller says so. */
		tell(c, CD_CHILD_NO_TIMER, rc);
		return;
	}
	c->timer_kind = kind;
}

static void disarm(struct cd_child *c)
{
	if (c->timer_kind != TIMER_NONE)
		cd_timer_del(c->loop, c->timer);
	c->timer_kind = TIMER_NONE;
}

static void close_fd(qb_loop_t *loop, int *fd, bool polled)
{
	if (*fd < 0)
		return;
	if (polled)
		qb_loop_poll_del(loop, *fd);
	close(*fd);
	*fd = -1;
}

static void close_stdin(struct cd_child *c)
{
	close_fd(c->loop, &c->in_fd, c->in_polled);
	c->in_polled = false;
}

/* Close every descriptor c still holds. */
static void close_all(struct cd_child *c)
{
	close_fd(c->loop, &c->pidfd, true);
	close_stdin(c);
	close_fd(c->loop, &c->out.fd, true);
	close_fd(c->loop, &c->err.fd, true);
}

static void child_free(struct cd_child *c)
{
	if (!c)
		return;
	/* The output can hold secrets as well (a child that echoes its input). */
	if (c->out.data)
		explicit_bzero(c->out.data, c->out.max + 1);
	if (c->err.data)
		explicit_bzero(c->err.data, c->err.max + 1);
	if (c->in)
		explicit_bzero(c->in, c->in_len);
	free(c->out.data);
	free(c->err.data);
	free(c->in);
	free(c);
}

/*
 * Read what o's pipe holds, keeping up to o->max bytes and dropping the
 * rest. Returns true at end of file (or an error).
 */
static bool read_output(struct output *o, int max_reads)
{
	char scratch[4096];

	while (max_reads-- > 0) {
		size_t room = o->max - o->len;
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
	struct cd_child *c = data;
	struct output *o = fd == c->out.fd ? &c->out : &c->err;

	if (read_output(o, READS_PER_DISPATCH))
		close_fd(c->loop, &o->fd, true);
	return 0;
}

static int32_t stdin_cb(int32_t fd, int32_t revents, void *data);

/* Write what is left of the child's stdin; close it once all is written. */
static void feed_stdin(struct cd_child *c)
{
	while (c->in_off < c->in_len) {
		/* A socket, so that a child that exits unread is EPIPE, not SIGPIPE. */
		ssize_t w = send(c->in_fd, c->in + c->in_off, c->in_len - c->in_off,
				 MSG_NOSIGNAL | MSG_DONTWAIT);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && errno == EAGAIN) {
			if (!c->in_polled && qb_loop_poll_add(c->loop, QB_LOOP_MED, c->in_fd,
							      POLLOUT, c, stdin_cb) == 0)
				c->in_polled = true;
			if (c->in_polled)
				return;
		}
		if (w <= 0)
			break; /* the child did not read it all: its exit code tells */
		c->in_off += (size_t)w;
	}
	close_stdin(c);
}

static int32_t stdin_cb(int32_t fd, int32_t revents, void *data)
{
	feed_stdin(data);
	return 0;
}

/* The child has exited: reap it, collect what it wrote and report. */
static int32_t pidfd_cb(int32_t fd, int32_t revents, void *data)
{
	struct cd_child *c = data;
	struct cd_child_result r = {.exit_status = -1, .timed_out = c->timed_out};
	int status = 0;
	pid_t w;

	/*
	 * The child has exited but is not reaped, so its process group id is
	 * still ours: kill whatever it left behind in the group first.
	 */
	kill(-c->pid, SIGKILL);
	w = waitpid(c->pid, &status, WNOHANG);
	if (w < 0)
		r.wait_error = -errno; /* someone else reaped it (SIGCHLD ignored?) */
	else if (w == c->pid && WIFEXITED(status))
		r.exit_status = WEXITSTATUS(status);
	else if (w == c->pid && WIFSIGNALED(status))
		r.signal = WTERMSIG(status);
	c->pid = 0;
	close_fd(c->loop, &c->pidfd, true);
	disarm(c);
	close_stdin(c);
	/* What it wrote before it exited is in the pipes; leftovers may still hold them open. */
	if (c->out.fd >= 0)
		read_output(&c->out, 64);
	if (c->err.fd >= 0)
		read_output(&c->err, 64);
	close_all(c);
	c->out.data[c->out.len] = '\0';
	c->err.data[c->err.len] = '\0';
	r.out = c->out.data;
	r.out_len = c->out.len;
	r.out_truncated = c->out.truncated;
	r.err = c->err.data;
	r.err_len = c->err.len;
	r.err_truncated = c->err.truncated;
	c->done(c->ctx, &r);
	child_free(c);
	return 0;
}

static void timer_cb(void *data)
{
	struct cd_child *c = data;
	enum timer_kind kind = c->timer_kind;

	c->timer_kind = TIMER_NONE;
	switch (kind) {
	case TIMER_NONE:
		break;
	case TIMER_TIMEOUT:
		tell(c, CD_CHILD_TIMEOUT, 0);
		c->timed_out = true;
		kill(-c->pid, SIGTERM);
		arm(c, TIMER_KILL, c->kill_grace_ms);
		break;
	case TIMER_KILL:
		tell(c, CD_CHILD_KILL, 0);
		kill(-c->pid, SIGKILL);
		break;
	}
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
 * Start spec's program with in, out and err as its stdin, stdout and
 * stderr, in a new session (so its process group is its own to kill), with
 * default signal handling and nothing else open. posix_spawn reports a
 * failed exec as its result.
 */
static int spawn(struct cd_child *c, const struct cd_child_spec *spec, int in, int out, int err)
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t at;
	sigset_t none, all;
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
		rc = posix_spawn(&c->pid, spec->path, &fa, &at, spec->argv,
				 spec->envp ? spec->envp : environ);
	posix_spawnattr_destroy(&at);
	posix_spawn_file_actions_destroy(&fa);
	if (rc)
		c->pid = 0;
	return -rc;
}

/* Kill what start() started when it cannot watch it; rare. */
static void kill_and_reap(struct cd_child *c)
{
	kill(-c->pid, SIGKILL);
	/* Quick after SIGKILL, and the only way not to leave a zombie. */
	waitpid(c->pid, NULL, 0);
	c->pid = 0;
}

/* Create the pipes, spawn the child and watch it; on failure nothing is left. */
static int start(struct cd_child *c, const struct cd_child_spec *spec)
{
	int in[2] = {-1, -1}, out[2] = {-1, -1}, err[2] = {-1, -1};
	int rc = 0;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, in) < 0 ||
	    pipe2(out, O_CLOEXEC) < 0 || pipe2(err, O_CLOEXEC) < 0) {
		rc = -errno;
		goto out_close_pipes;
	}
	if ((rc = above_stdio(&in[1])) < 0 || (rc = above_stdio(&out[1])) < 0 ||
	    (rc = above_stdio(&err[1])) < 0 || (rc = set_nonblock(in[0])) < 0 ||
	    (rc = set_nonblock(out[0])) < 0 || (rc = set_nonblock(err[0])) < 0)
		goto out_close_pipes;
	rc = spawn(c, spec, in[1], out[1], err[1]);
	if (rc < 0) {
		tell(c, CD_CHILD_SPAWN_FAILED, rc);
		goto out_close_pipes;
	}
	/* Not reaped yet, so the pid cannot have been reused. */
	c->pidfd = pidfd_open(c->pid, 0);
	if (c->pidfd < 0) {
		rc = -errno;
		kill_and_reap(c);
		goto out_close_pipes;
	}
	rc = qb_loop_poll_add(c->loop, QB_LOOP_MED, c->pidfd, POLLIN, c, pidfd_cb);
	if (rc < 0) {
		kill_and_reap(c);
		close_fd(c->loop, &c->pidfd, false);
		goto out_close_pipes;
	}
	c->in_fd = in[0];
	c->out.fd = out[0];
	c->err.fd = err[0];
	close(in[1]);
	close(out[1]);
	close(err[1]);
	/*
	 * Without these the child is still seen to end (the pidfd, the
	 * timeout): the output is lost, or a chatty child blocks and times out.
	 */
	qb_loop_poll_add(c->loop, QB_LOOP_MED, c->out.fd, POLLIN, c, output_cb);
	qb_loop_poll_add(c->loop, QB_LOOP_MED, c->err.fd, POLLIN, c, output_cb);
	if (!spec->no_timeout)
		arm(c, TIMER_TIMEOUT, spec->timeout_ms);
	feed_stdin(c);
	return 0;

out_close_pipes:
	for (int i = 0; i < 2; i++) {
		close_fd(c->loop, &in[i], false);
		close_fd(c->loop, &out[i], false);
		close_fd(c->loop, &err[i], false);
	}
	return rc;
}

int cd_child_supported(void)
{
	int fd = pidfd_open(getpid(), 0);

	if (fd < 0)
		return -errno;
	close(fd);
	return 0;
}

int cd_child_start(qb_loop_t *loop, const struct cd_child_spec *spec, cd_child_done_fn done,
		   void *ctx, struct cd_child **out)
{
	struct cd_child *c;
	int rc;

	if (!loop || !spec || !spec->path || !spec->argv || !spec->argv[0] || !done || !out ||
	    (spec->in_len && !spec->in) ||
	    (!spec->no_timeout && (spec->timeout_ms <= 0 || spec->kill_grace_ms <= 0)))
		return -EINVAL;
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->loop = loop;
	c->pidfd = c->in_fd = c->out.fd = c->err.fd = -1;
	c->kill_grace_ms = spec->kill_grace_ms;
	c->note = spec->note;
	c->done = done;
	c->ctx = ctx;
	c->out.max = c->err.max = spec->out_max;
	c->out.data = malloc(spec->out_max + 1);
	c->err.data = malloc(spec->out_max + 1);
	c->in_len = spec->in_len;
	c->in = spec->in_len ? malloc(spec->in_len) : NULL;
	if (!c->out.data || !c->err.data || (spec->in_len && !c->in)) {
		child_free(c);
		return -ENOMEM;
	}
	if (spec->in_len)
		memcpy(c->in, spec->in, spec->in_len);
	rc = start(c, spec);
	if (rc < 0) {
		child_free(c);
		return rc;
	}
	*out = c;
	return 0;
}

pid_t cd_child_pid(const struct cd_child *c)
{
	return c->pid;
}

void cd_child_abandon(struct cd_child *c)
{
	if (!c)
		return;
	if (c->pid)
		kill_and_reap(c);
	disarm(c);
	close_all(c);
	child_free(c);
}
