#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <qb/qblog.h>

#include <clusterd/result.h>

#include "agents/fence.h"
#include "lib/child.h"
#include "lib/looptimer.h"
#include "lib/util.h"

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
	bool retry_armed;	/* the timer starts the next attempt */
	struct cd_child *child; /* the running attempt, or NULL */
};

static struct {
	qb_loop_t *loop;
	struct job *jobs;
} fencer;

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

static void attempt_ended(void *ctx, const struct cd_child_result *r);

/* The log lines of the running attempt, as the child code reports it. */
static void attempt_note(void *ctx, enum cd_child_note note, int rc)
{
	struct job *j = ctx;

	switch (note) {
	case CD_CHILD_SPAWN_FAILED:
		job_log(j, LOG_ERR, "cannot run %s: %s", j->path, cd_strerror(rc));
		break;
	case CD_CHILD_NO_TIMER:
		/* Only on a loop out of memory; the run would hang, so say it loudly. */
		job_log(j, LOG_ERR, "cannot add a timer: %s", cd_strerror(rc));
		break;
	case CD_CHILD_TIMEOUT:
		job_log(j, LOG_WARNING, "attempt %d/%d: no answer within %d ms, stopping it",
			j->attempt, j->retries + 1, j->timeout_ms);
		break;
	case CD_CHILD_KILL:
		job_log(j, LOG_WARNING,
			"attempt %d/%d: still there %d ms after SIGTERM, killing it", j->attempt,
			j->retries + 1, CD_FENCE_KILL_GRACE_MS);
		break;
	}
}

static int start_attempt(struct job *j)
{
	char *argv[] = {j->path, NULL};
	const struct cd_child_spec spec = {
		.path = j->path,
		.argv = argv,
		.in = j->text,
		.in_len = j->text_len,
		.out_max = CD_FENCE_OUTPUT_MAX,
		.timeout_ms = j->timeout_ms,
		.kill_grace_ms = CD_FENCE_KILL_GRACE_MS,
		.note = attempt_note,
	};
	int rc;

	j->attempt++;
	rc = cd_child_start(fencer.loop, &spec, attempt_ended, j, &j->child);
	if (rc < 0)
		return rc;
	job_log(j, power_action(j->action) ? LOG_INFO : LOG_DEBUG,
		"attempt %d/%d: %s runs as pid %d (timeout %d ms)", j->attempt, j->retries + 1,
		j->path, (int)cd_child_pid(j->child), j->timeout_ms);
	return 0;
}

/* --- ending a run --- */

/* How an attempt that could not be started ended. */
static const struct cd_child_result not_run = {.exit_status = -1, .out = "", .err = ""};

static void job_free(struct job *j)
{
	cd_fence_wipe_free(j->text);
	cd_fence_params_free(j->secrets);
	free(j->plug);
	free(j);
}

static void unlink_job(struct job *j)
{
	struct job **p;

	for (p = &fencer.jobs; *p; p = &(*p)->next) {
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

/* A short description of how the last attempt (cr) ended, for log lines. */
static void describe(const struct job *j, const struct cd_child_result *cr, int rc, const char *err,
		     char *buf, size_t len)
{
	char line[160];

	last_line(err ? err : "", line, sizeof(line));
	if (rc == CD_ERR_TIMEOUT)
		snprintf(buf, len, "timed out after %d ms", j->timeout_ms);
	else if (cr->signal)
		snprintf(buf, len, "killed by signal %d", cr->signal);
	else if (cr->exit_status >= 0)
		snprintf(buf, len, "exit code %d", cr->exit_status);
	else
		snprintf(buf, len, "%s", cd_strerror(rc));
	if (*line) {
		size_t n = strlen(buf);

		snprintf(buf + n, len - n, ": %s", line);
	}
}

static void finish(struct job *j, int rc, enum cd_fence_power power,
		   const struct cd_child_result *cr)
{
	char *out = cd_fence_mask(cr->out, cr->out_len, cr->out_truncated, j->secrets);
	char *err = cd_fence_mask(cr->err, cr->err_len, cr->err_truncated, j->secrets);
	struct cd_fence_result r = {
		.rc = rc,
		.exit_status = cr->exit_status,
		.signal = cr->signal,
		.power = power,
		.attempts = j->attempt,
		.out = out ? out : "",
		.err = err ? err : "",
		.out_truncated = cr->out_truncated,
		.err_truncated = cr->err_truncated,
	};
	char how[256];

	if (rc == 0) {
		job_log(j, power_action(j->action) ? LOG_NOTICE : LOG_DEBUG,
			"succeeded (attempt %d%s%s)", j->attempt,
			power != CD_FENCE_POWER_UNKNOWN ? ", power " : "",
			power != CD_FENCE_POWER_UNKNOWN ? cd_fence_power_to_str(power) : "");
	} else {
		describe(j, cr, rc, r.err, how, sizeof(how));
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

static void retry_cb(void *data)
{
	struct job *j = data;
	int rc;

	j->retry_armed = false;
	rc = start_attempt(j);
	if (rc < 0)
		finish(j, rc, CD_FENCE_POWER_UNKNOWN, &not_run);
}

/* The attempt's agent has exited and been reaped (cr): retry or finish. */
static void attempt_ended(void *ctx, const struct cd_child_result *cr)
{
	struct job *j = ctx;
	enum cd_fence_power power = CD_FENCE_POWER_UNKNOWN;
	int rc;

	j->child = NULL; /* freed when this returns */
	if (cr->timed_out)
		rc = CD_ERR_TIMEOUT;
	else if (cr->wait_error)
		rc = cr->wait_error;
	else if (cr->exit_status < 0 || cr->signal)
		rc = -EIO;
	else
		rc = cd_fence_interpret(j->action, cr->exit_status, &power);

	if (rc != 0 && j->attempt <= j->retries) {
		char *err = cd_fence_mask(cr->err, cr->err_len, cr->err_truncated, j->secrets);
		char how[256];
		int trc;

		describe(j, cr, rc, err, how, sizeof(how));
		free(err);
		job_log(j, LOG_WARNING, "attempt %d/%d failed: %s; again in %d ms", j->attempt,
			j->retries + 1, how, CD_FENCE_RETRY_DELAY_MS);
		trc = cd_timer_add(fencer.loop, QB_LOOP_MED,
				   (uint64_t)CD_FENCE_RETRY_DELAY_MS * 1000000ull, j, retry_cb,
				   &j->timer);
		if (trc == 0) {
			j->retry_armed = true;
			return;
		}
		/* Only on a loop out of memory; the run would hang, so say it loudly. */
		job_log(j, LOG_ERR, "cannot add a timer: %s", cd_strerror(trc));
	}
	finish(j, rc, power, cr);
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
	struct cd_fence_params *params = NULL;
	enum cd_fence_action a;
	char err[256];
	struct job *j;
	int rc;

	if (!fencer.loop)
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
	rc = cd_fence_params_from_json(dev->params, &params, err, sizeof(err));
	if (rc == 0)
		rc = cd_fence_stdin_text(params, a, plug, &j->text, &j->text_len, err, sizeof(err));
	if (rc < 0) {
		/* Not the plug itself: it may be what is wrong (a line break). */
		qb_log(LOG_ERR, "fence %s: %s: %s", name, action, err);
		goto free_job;
	}
	j->plug = strdup(plug ? plug : "");
	j->secrets = copy_secrets(params);
	if (!j->plug || !j->secrets) {
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
	j->next = fencer.jobs;
	fencer.jobs = j;
	cd_fence_params_free(params);
	return 0;

free_job:
	job_free(j);
	cd_fence_params_free(params);
	return rc;
}

int cd_fence_init(qb_loop_t *loop)
{
	int rc = cd_child_supported();

	if (rc < 0) {
		qb_log(LOG_ERR, "fence: no pidfds in this kernel: %s", cd_strerror(rc));
		return rc;
	}
	fencer.loop = loop;
	return 0;
}

void cd_fence_fini(void)
{
	struct job *j;

	while ((j = fencer.jobs)) {
		fencer.jobs = j->next;
		if (j->child) {
			job_log(j, LOG_WARNING, "abandoned at shutdown; killing pid %d",
				(int)cd_child_pid(j->child));
			cd_child_abandon(j->child);
		}
		if (j->retry_armed)
			cd_timer_del(fencer.loop, j->timer);
		job_free(j);
	}
	fencer.loop = NULL;
}
