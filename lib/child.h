/*
 * A child process run from clusterd's qb loop: what the fence runner (and
 * any other runner of an external agent) needs, without its policy.
 *
 * The child runs in a session (and process group) of its own, with default
 * signal handling, an empty signal mask and nothing open but stdin, stdout
 * and stderr. Its stdin is fed from a buffer through a socket (a child
 * that exits without reading it all is EPIPE for us, never SIGPIPE) and
 * closed once written. Its stdout and stderr are captured up to out_max
 * bytes each; the rest is read and dropped, so a chatty child never
 * blocks. Its exit is watched through a pidfd polled in the loop: no
 * SIGCHLD handler, nothing process-wide, and the child is reaped with a
 * waitpid(WNOHANG) that cannot block once the pidfd has said it exited.
 * When it has exited, whatever it left behind in its process group is
 * killed. A child that outlives timeout_ms gets SIGTERM, and SIGKILL
 * kill_grace_ms later, to its whole group; a service (no_timeout) runs
 * until it exits or is abandoned.
 *
 * The stdin bytes may hold secrets (fence passwords): they are never
 * logged, and the child's copy of them and its captured output (which can
 * echo them) are wiped with explicit_bzero() when it is freed. This code
 * logs nothing itself: the caller is told of each event (cd_child_note_fn)
 * and words its own log lines.
 */
#ifndef CD_CHILD_H
#define CD_CHILD_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include <qb/qbloop.h>

struct cd_child;

/* Events during a child's life, for the caller's log lines. */
enum cd_child_note {
	CD_CHILD_SPAWN_FAILED, /* rc: why posix_spawn() failed; cd_child_start() fails */
	CD_CHILD_NO_TIMER,     /* rc: no timer could be added; the step it guards will not come */
	CD_CHILD_TIMEOUT,      /* timeout_ms passed: SIGTERM to its group follows */
	CD_CHILD_KILL,	       /* kill_grace_ms passed after SIGTERM: SIGKILL follows */
};

/*
 * Called from within cd_child_start() or from the loop, before what the
 * note announces. It must not free the child.
 */
typedef void (*cd_child_note_fn)(void *ctx, enum cd_child_note note, int rc);

/* What to run. The caller owns every field; cd_child_start() copies what it keeps. */
struct cd_child_spec {
	const char *path;      /* the executable, an absolute path */
	char *const *argv;     /* NULL-terminated, argv[0] its name */
	char *const *envp;     /* NULL for this process's environment */
	const char *in;	       /* its stdin (may hold secrets), in_len bytes */
	size_t in_len;	       /* 0: stdin is at end of file at once */
	size_t out_max;	       /* bytes kept of stdout, and of stderr */
	int timeout_ms;	       /* > 0: from the start to SIGTERM */
	int kill_grace_ms;     /* > 0: from SIGTERM to SIGKILL */
	bool no_timeout;       /* a service, run until abandoned: the two above unused */
	cd_child_note_fn note; /* may be NULL */
};

/* How the child ended. Valid during the done callback only. */
struct cd_child_result {
	int exit_status; /* its exit code, -1 if it did not exit */
	int signal;	 /* the signal that ended it, or 0 */
	int wait_error;	 /* -errno when it could not be reaped (someone else did), else 0 */
	bool timed_out;	 /* it got SIGTERM (and maybe SIGKILL) for outliving timeout_ms */
	const char *out; /* its stdout, out_len bytes and a NUL */
	const char *err; /* its stderr, the same way */
	size_t out_len;
	size_t err_len;
	bool out_truncated; /* more than out_max was written */
	bool err_truncated;
};

/*
 * Called from the loop exactly once, once the child has exited and been
 * reaped; the child is freed when it returns.
 */
typedef void (*cd_child_done_fn)(void *ctx, const struct cd_child_result *r);

/* 0 when this kernel has pidfds, else -errno (-ENOSYS before Linux 5.3). */
int cd_child_supported(void);

/*
 * Start spec's program with loop watching it, and store the running child
 * in *out. done (with ctx, as note) is called from the loop, never from
 * within this call. Returns 0, or (done not called, nothing left running):
 * -EINVAL for a bad spec, -ENOMEM, or another -errno, posix_spawn()'s error
 * among them (-ENOENT, -EACCES for a missing or non-executable program or
 * interpreter).
 */
int cd_child_start(qb_loop_t *loop, const struct cd_child_spec *spec, cd_child_done_fn done,
		   void *ctx, struct cd_child **out);

/* The child's pid (and process group id). */
pid_t cd_child_pid(const struct cd_child *c);

/*
 * Give up on a running child (before its done callback): SIGKILL to its
 * process group, reap it and free it. done is not called. For shutdown.
 */
void cd_child_abandon(struct cd_child *c);

#endif
