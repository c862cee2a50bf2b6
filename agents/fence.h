/*
 * The fence runner: runs a fence agent (fence_ipmilan, fence_lab, any
 * program with the fence-agents stdin interface) for clusterd's qb loop.
 *
 * Each attempt is a child in a session (and process group) of its own. It
 * reads the device's parameters, action= and plug= on stdin; its stdout and
 * stderr are captured up to CD_FENCE_OUTPUT_MAX bytes each (the rest is read
 * and dropped, so a chatty agent never blocks). Its exit is watched through
 * a pidfd polled in the loop: no SIGCHLD handler, nothing process-wide, and
 * the child is reaped with a waitpid(WNOHANG) that cannot block once the
 * pidfd has said it exited. When an attempt ends, whatever it left behind
 * in its process group is killed. An attempt that outlives timeout_ms gets
 * SIGTERM, and SIGKILL CD_FENCE_KILL_GRACE_MS later, to its whole group.
 * A failed attempt (the agent said so, or timed out) is retried after
 * CD_FENCE_RETRY_DELAY_MS, up to retries more times.
 *
 * Secrets (password= and the like, see cd_fence_param_is_secret()) go to the
 * agent on stdin only: never in its argv or environment, never in a log
 * line, and masked in the output reported to the caller.
 */
#ifndef CD_FENCE_H
#define CD_FENCE_H

#include <stdbool.h>

#include <qb/qbloop.h>

#include "agents/fence_proto.h"

#define CD_FENCE_OUTPUT_MAX 65536   /* bytes kept of stdout, and of stderr */
#define CD_FENCE_KILL_GRACE_MS 1000 /* from SIGTERM to SIGKILL on a timeout */
#define CD_FENCE_RETRY_DELAY_MS 500 /* between a failed attempt and the next */
#define CD_FENCE_RETRIES_MAX 10

/* A fence device. The caller owns every field; cd_fence_run() copies them. */
struct cd_fence_device {
	const char *name;		  /* for log lines, e.g. "ipmi-node2" */
	const char *agent;		  /* "fence_ipmilan" (in PATH) or an absolute path */
	const struct json_object *params; /* {"key": "value", ...}, may be NULL */
};

/*
 * How a run ended: rc 0 when the action succeeded (cd_fence_interpret() of
 * the last attempt's exit code), -EIO when the agent reported failure on
 * every attempt, CD_ERR_TIMEOUT when the last attempt timed out, another
 * negative code when the agent could not be started. The rest describes
 * the last attempt. Valid during the callback only.
 */
struct cd_fence_result {
	int rc;
	int exit_status;	   /* its exit code, -1 if killed or never started */
	int signal;		   /* the signal that ended it, or 0 */
	enum cd_fence_power power; /* status and monitor: what the device said */
	int attempts;		   /* how many were run, 1 + retries at most */
	const char *out;	   /* its stdout, secrets masked, NUL-terminated */
	const char *err;	   /* its stderr, the same way */
	bool out_truncated;	   /* more than CD_FENCE_OUTPUT_MAX was written */
	bool err_truncated;
};
typedef void (*cd_fence_done_fn)(void *ctx, const struct cd_fence_result *r);

/*
 * Use loop for every run. Returns 0, or -ENOSYS when the kernel has no
 * pidfds (Linux < 5.3).
 */
int cd_fence_init(qb_loop_t *loop);

/*
 * Kill every running agent's process group, reap it and forget the runs:
 * their done callbacks are not called. For shutdown.
 */
void cd_fence_fini(void);

/*
 * Run action ("off", "on", "reboot", "status", "monitor", "list",
 * "metadata") with plug (NULL or "" for none) on dev. Each attempt may take
 * timeout_ms; retries (0..CD_FENCE_RETRIES_MAX) more attempts follow a
 * failed one. done is called from the loop exactly once, never from within
 * this call. Returns 0, or (done not called): CD_ERR_INVALID for a bad
 * action, plug, parameter, timeout or retry count; -ENOENT or -EACCES when
 * the agent is not an executable file; another -errno when the first
 * attempt could not be started.
 */
int cd_fence_run(const struct cd_fence_device *dev, const char *action, const char *plug,
		 int timeout_ms, int retries, cd_fence_done_fn done, void *ctx);

/*
 * The executable for agent: an absolute path as it is, a bare name looked
 * up in $PATH, then /usr/sbin and /sbin (where fence-agents installs).
 * Returns 0 with path filled, CD_ERR_INVALID for a relative path or a bad
 * name, -ENOENT, -EACCES or -ENAMETOOLONG.
 */
int cd_fence_find_agent(const char *agent, char *path, size_t len);

#endif
