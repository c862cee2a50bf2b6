/*
 * The fence runner (agents/fence.c): real runs of small shell agents that
 * each test writes into a directory of its own, driven by a qb loop, and
 * the search for an agent. The fence-agents interface it uses (parameters,
 * stdin text, exit codes, masking) is tested in check_fence_proto.c.
 */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <qb/qblog.h>
#include <qb/qbloop.h>

#include <clusterd/result.h>

#include "agents/fence.h"
#include "check_common.h"
#include "check_fence_common.h"
#include "lib/util.h"
#include "lib/looptimer.h"

/* --- every log line of the test process, to look for the password in --- */

static char logbuf[1 << 20];
static size_t loglen;

static void log_to_buf(int32_t t, struct qb_log_callsite *cs, struct timespec *ts, const char *msg)
{
	size_t n = strlen(msg);

	if (loglen + n + 2 < sizeof(logbuf)) {
		memcpy(logbuf + loglen, msg, n);
		loglen += n;
		logbuf[loglen++] = '\n';
		logbuf[loglen] = '\0';
	}
	if (getenv("CHECK_FENCE_VERBOSE"))
		fprintf(stderr, "log: %s\n", msg);
}

static void setup_logging(void)
{
	int32_t t;

	qb_log_init("check_fence", LOG_USER, LOG_DEBUG);
	qb_log_ctl(QB_LOG_SYSLOG, QB_LOG_CONF_ENABLED, QB_FALSE);
	t = qb_log_custom_open(log_to_buf, NULL, NULL, NULL);
	qb_log_format_set(t, "%b");
	qb_log_filter_ctl(t, QB_LOG_FILTER_ADD, QB_LOG_FILTER_FILE, "*", LOG_TRACE);
	qb_log_ctl(t, QB_LOG_CONF_ENABLED, QB_TRUE);
}

/* --- a directory of agents per test --- */

static char dir[64];
static qb_loop_t *loop;

/* Write an agent script NAME into the test's directory; returns its path. */
static const char *agent(const char *name, const char *body)
{
	static char path[128];

	tmpdir_writef(path, sizeof(path), dir, name, "#!/bin/sh\nD=%s\n%s\n", dir, body);
	ck_assert_int_eq(chmod(path, 0755), 0);
	return path;
}

static void loop_setup(void)
{
	tmpdir_make(dir, sizeof(dir), "check_fence");
	loop = qb_loop_create();
	ck_assert_ptr_nonnull(loop);
	ck_assert_int_eq(cd_fence_init(loop), 0);
	loglen = 0;
	logbuf[0] = '\0';
}

static void loop_teardown(void)
{
	cd_fence_fini();
	cd_loop_destroy(loop);
	tmpdir_remove(dir);
}

struct outcome {
	int called;
	struct cd_fence_result r; /* out and err point at the copies below */
	char *out;
	char *err;
	uint64_t ms; /* from the run to done */
};

static uint64_t started;
static int pending;

static void on_done(void *ctx, const struct cd_fence_result *r)
{
	struct outcome *o = ctx;

	o->called++;
	o->r = *r;
	o->out = strdup(r->out);
	o->err = strdup(r->err);
	o->r.out = o->out;
	o->r.err = o->err;
	o->ms = cd_now_ms() - started;
	if (--pending == 0)
		qb_loop_stop(loop);
}

static int deadline_hit;

static void on_deadline(void *data)
{
	deadline_hit = 1;
	qb_loop_stop(loop);
}

/* Run the loop until every pending run is done, for deadline_ms at most. */
static void run_loop(int deadline_ms)
{
	qb_loop_timer_handle th;

	deadline_ms = TEST_MS(deadline_ms);
	deadline_hit = 0;
	cd_timer_add(loop, QB_LOOP_HIGH, (uint64_t)deadline_ms * 1000000ull, NULL, on_deadline,
		     &th);
	while (pending > 0 && !deadline_hit)
		qb_loop_run(loop);
	if (!deadline_hit)
		cd_timer_del(loop, th);
	ck_assert_msg(pending == 0, "%d runs not done within %d ms", pending, deadline_ms);
	/* Whatever happened, no log line may hold the password. */
	ck_assert_msg(!strstr(logbuf, PASSWORD), "the password was logged:\n%s", logbuf);
}

static struct json_object *params;

static struct cd_fence_device device(const char *path)
{
	struct cd_fence_device d = {.name = "test-dev", .agent = path};

	json_object_put(params);
	params = jparse("{\"ip\":\"192.0.2.1\",\"username\":\"admin\",\"password\":\"" PASSWORD
			"\"}");
	d.params = params;
	return d;
}

/* Start one run and wait for it. */
static void run(struct outcome *o, const char *path, const char *action, const char *plug,
		int timeout_ms, int retries, int deadline_ms)
{
	struct cd_fence_device d = device(path);

	memset(o, 0, sizeof(*o));
	started = cd_now_ms();
	pending = 1;
	ck_assert_int_eq(cd_fence_run(&d, action, plug, timeout_ms, retries, on_done, o), 0);
	/* Never from within the call. */
	ck_assert_int_eq(o->called, 0);
	run_loop(deadline_ms);
	ck_assert_int_eq(o->called, 1);
	ck_assert_ptr_null(strstr(o->out, PASSWORD));
	ck_assert_ptr_null(strstr(o->err, PASSWORD));
}

static void outcome_free(struct outcome *o)
{
	free(o->out);
	free(o->err);
}

static char *slurp(const char *name)
{
	char path[128], *data = NULL;
	size_t len;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	ck_assert_msg(cd_read_file(path, &data, &len) == 0, "cannot read %s", path);
	return data;
}

/* Whether pid is gone (or a zombie), waiting up to 3 s (scaled) for it. */
static int pid_gone(long pid)
{
	uint64_t until = cd_now_ms() + (uint64_t)TEST_MS(3000);

	do {
		char path[64], stat[512], *p;
		FILE *fp;
		size_t n;

		snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
		fp = fopen(path, "r");
		if (!fp)
			return 1;
		n = fread(stat, 1, sizeof(stat) - 1, fp);
		fclose(fp);
		stat[n] = '\0';
		p = strrchr(stat, ')');
		if (p && (p[2] == 'Z' || p[2] == 'X'))
			return 1;
		usleep(20000);
	} while (cd_now_ms() < until);
	return 0;
}

/* The child the agent left (its pid in the file "child") must be gone. */
static void assert_child_gone(void)
{
	char *child = slurp("child");
	long pid = strtol(child, NULL, 10);

	free(child);
	ck_assert_int_gt(pid, 1);
	ck_assert_msg(pid_gone(pid), "the agent's child %ld is still alive", pid);
}

/* --- real runs --- */

START_TEST(test_run_success)
{
	struct outcome o;

	run(&o, agent("ok", "cat >/dev/null; echo 'Success: Powered OFF'; echo note >&2"), "off",
	    "node2", TEST_MS(5000), 2, 5000);
	ck_assert_int_eq(o.r.rc, 0);
	ck_assert_int_eq(o.r.exit_status, 0);
	ck_assert_int_eq(o.r.signal, 0);
	ck_assert_int_eq(o.r.attempts, 1);
	ck_assert_str_eq(o.r.out, "Success: Powered OFF\n");
	ck_assert_str_eq(o.r.err, "note\n");
	ck_assert(!o.r.out_truncated);
	ck_assert_ptr_nonnull(strstr(logbuf, "fence test-dev: off node2: succeeded"));
	outcome_free(&o);
}
END_TEST

START_TEST(test_run_stdin)
{
	struct outcome o;
	char *got, *seen;

	/* It records its stdin, and whether the password is in its argv or environment. */
	run(&o,
	    agent("check-stdin", "cat >\"$D/stdin\"\n"
				 "{ tr '\\0' ' ' </proc/$$/cmdline; env; } >\"$D/seen\"\n"
				 "grep -q '" PASSWORD "' \"$D/seen\" && exit 3\n"
				 "exit 0"),
	    "reboot", "node3", TEST_MS(5000), 0, 5000);
	ck_assert_int_eq(o.r.rc, 0);
	got = slurp("stdin");
	ck_assert_str_eq(got, "ip=192.0.2.1\nusername=admin\npassword=" PASSWORD
			      "\naction=reboot\nplug=node3\n");
	seen = slurp("seen");
	ck_assert_ptr_nonnull(strstr(seen, "check-stdin"));
	free(got);
	free(seen);
	outcome_free(&o);
}
END_TEST

START_TEST(test_run_big_stdin)
{
	struct cd_fence_device d = {.name = "big", .agent = agent("count", "wc -c >\"$D/count\"")};
	struct json_object *p = json_object_new_object();
	struct outcome o = {0};
	char value[CD_FENCE_VALUE_MAX + 1], *count;
	size_t i, expect = 0;

	/* More than a socket buffer: written from the loop as the agent reads. */
	memset(value, 'x', CD_FENCE_VALUE_MAX);
	value[CD_FENCE_VALUE_MAX] = '\0';
	for (i = 0; i < CD_FENCE_PARAMS_MAX; i++) {
		char k[16];

		snprintf(k, sizeof(k), "k%02zu", i);
		json_object_object_add(p, k, json_object_new_string(value));
		expect += strlen(k) + 1 + CD_FENCE_VALUE_MAX + 1;
	}
	expect += strlen("action=status\n");
	d.params = p;
	started = cd_now_ms();
	pending = 1;
	ck_assert_int_eq(cd_fence_run(&d, "status", NULL, TEST_MS(5000), 0, on_done, &o), 0);
	run_loop(5000);
	ck_assert_int_eq(o.r.rc, 0);
	count = slurp("count");
	ck_assert_uint_eq(strtoul(count, NULL, 10), expect);
	free(count);
	outcome_free(&o);

	/* An agent that does not read it at all: no SIGPIPE for us, its exit code counts. */
	d.agent = agent("deaf", "exit 0");
	memset(&o, 0, sizeof(o));
	pending = 1;
	ck_assert_int_eq(cd_fence_run(&d, "off", "n1", TEST_MS(5000), 0, on_done, &o), 0);
	run_loop(5000);
	ck_assert_int_eq(o.r.rc, 0);
	outcome_free(&o);
	json_object_put(p);
}
END_TEST

START_TEST(test_run_fails_and_retries)
{
	struct outcome o;
	char *count;

	run(&o,
	    agent("fail",
		  "n=$(cat \"$D/n\" 2>/dev/null || echo 0); n=$((n + 1)); echo $n >\"$D/n\"\n"
		  "echo \"Failed: unable to reach the BMC (attempt $n)\" >&2\n"
		  "exit 1"),
	    "off", "node2", TEST_MS(5000), 2, 10000);
	ck_assert_int_eq(o.r.rc, -EIO);
	ck_assert_int_eq(o.r.exit_status, 1);
	ck_assert_int_eq(o.r.attempts, 3);
	ck_assert_str_eq(o.r.err, "Failed: unable to reach the BMC (attempt 3)\n");
	count = slurp("n");
	ck_assert_str_eq(count, "3\n");
	free(count);
	ck_assert_uint_ge(o.ms, 2 * CD_FENCE_RETRY_DELAY_MS);
	ck_assert_ptr_nonnull(strstr(logbuf, "attempt 1/3 failed: exit code 1: Failed: unable"));
	ck_assert_ptr_nonnull(strstr(logbuf, "failed after 3 attempts"));
	outcome_free(&o);
}
END_TEST

START_TEST(test_run_retry_then_success)
{
	struct outcome o;

	run(&o,
	    agent("flaky",
		  "n=$(cat \"$D/n\" 2>/dev/null || echo 0); n=$((n + 1)); echo $n >\"$D/n\"\n"
		  "[ $n -ge 3 ] && { echo on; exit 0; }\n"
		  "exit 1"),
	    "on", "node2", TEST_MS(5000), 5, 10000);
	ck_assert_int_eq(o.r.rc, 0);
	ck_assert_int_eq(o.r.attempts, 3);
	ck_assert_str_eq(o.r.out, "on\n");
	outcome_free(&o);
}
END_TEST

START_TEST(test_run_status)
{
	struct outcome o;
	const char *path =
		agent("status", "while IFS='=' read -r k v; do\n"
				"	[ \"$k\" = action ] && a=$v\n"
				"	[ \"$k\" = plug ] && p=$v\n"
				"done\n"
				"[ \"$a\" = status ] || exit 1\n"
				"case $p in on) exit 0 ;; off) exit 2 ;; *) exit 1 ;; esac");

	run(&o, path, "status", "off", TEST_MS(5000), 0, 5000);
	ck_assert_int_eq(o.r.rc, 0);
	ck_assert_int_eq(o.r.exit_status, 2);
	ck_assert_int_eq(o.r.power, CD_FENCE_POWER_OFF);
	outcome_free(&o);
	run(&o, path, "status", "on", TEST_MS(5000), 0, 5000);
	ck_assert_int_eq(o.r.rc, 0);
	ck_assert_int_eq(o.r.power, CD_FENCE_POWER_ON);
	outcome_free(&o);
	run(&o, path, "status", "what", TEST_MS(5000), 0, 5000);
	ck_assert_int_eq(o.r.rc, -EIO);
	ck_assert_int_eq(o.r.power, CD_FENCE_POWER_UNKNOWN);
	outcome_free(&o);
	/* 2 is an answer for status, a failure for off. */
	run(&o, path, "off", "off", TEST_MS(5000), 0, 5000);
	ck_assert_int_eq(o.r.rc, -EIO);
	outcome_free(&o);
}
END_TEST

START_TEST(test_run_timeout_kills_group)
{
	struct outcome o;

	/* It leaves a child in its process group and hangs; SIGTERM ends both. */
	run(&o,
	    agent("hang", "sleep 100 &\n"
			  "echo $! >\"$D/child\"\n"
			  "echo started\n"
			  "sleep 100"),
	    "off", "node2", 300, 1, 10000);
	ck_assert_int_eq(o.r.rc, CD_ERR_TIMEOUT);
	ck_assert_int_eq(o.r.attempts, 2);
	ck_assert_int_eq(o.r.signal, SIGTERM);
	ck_assert_int_eq(o.r.exit_status, -1);
	ck_assert_str_eq(o.r.out, "started\n");
	ck_assert_uint_ge(o.ms, 2 * 300 + CD_FENCE_RETRY_DELAY_MS);
	assert_child_gone();
	ck_assert_ptr_nonnull(strstr(logbuf, "no answer within 300 ms"));
	outcome_free(&o);
}
END_TEST

START_TEST(test_run_timeout_sigkill)
{
	struct outcome o;

	/* Both ignore SIGTERM: SIGKILL after the grace period. */
	run(&o,
	    agent("stubborn", "trap '' TERM\n"
			      "sleep 100 &\n"
			      "echo $! >\"$D/child\"\n"
			      "sleep 100"),
	    "off", NULL, 300, 0, 10000);
	ck_assert_int_eq(o.r.rc, CD_ERR_TIMEOUT);
	ck_assert_int_eq(o.r.attempts, 1);
	ck_assert_int_eq(o.r.signal, SIGKILL);
	ck_assert_uint_ge(o.ms, 300 + CD_FENCE_KILL_GRACE_MS);
	assert_child_gone();
	outcome_free(&o);
}
END_TEST

START_TEST(test_run_leftovers_killed)
{
	struct outcome o;

	/* It succeeds but leaves a child behind that holds stdout open. */
	run(&o,
	    agent("leaves", "sleep 100 &\n"
			    "echo $! >\"$D/child\"\n"
			    "echo done"),
	    "on", "node1", TEST_MS(5000), 0, 5000);
	ck_assert_int_eq(o.r.rc, 0);
	/* Had the run waited for the child to close stdout, it would have timed out. */
	ck_assert_str_eq(o.r.out, "done\n");
	assert_child_gone();
	outcome_free(&o);
}
END_TEST

START_TEST(test_run_big_output)
{
	struct outcome o;
	size_t i;

	run(&o,
	    agent("chatty", "head -c 1000000 /dev/zero | tr '\\0' x\n"
			    "head -c 300000 /dev/zero | tr '\\0' y >&2\n"
			    "echo 'password is " PASSWORD "' >&2"),
	    "list", NULL, TEST_MS(10000), 0, 10000);
	ck_assert_int_eq(o.r.rc, 0);
	ck_assert_uint_eq(strlen(o.r.out), CD_FENCE_OUTPUT_MAX);
	ck_assert_uint_eq(strlen(o.r.err), CD_FENCE_OUTPUT_MAX);
	ck_assert(o.r.out_truncated);
	ck_assert(o.r.err_truncated);
	for (i = 0; i < CD_FENCE_OUTPUT_MAX; i++)
		ck_assert_int_eq(o.r.out[i], 'x');
	outcome_free(&o);
}
END_TEST

START_TEST(test_password_never_logged)
{
	struct outcome o;

	/* An agent that echoes its whole input, on stdout and stderr, and fails. */
	run(&o,
	    agent("echo", "in=$(cat)\n"
			  "echo \"$in\"\n"
			  "echo \"bad login: $in\" >&2\n"
			  "exit 1"),
	    "off", "node2", TEST_MS(5000), 1, 10000);
	ck_assert_int_eq(o.r.rc, -EIO);
	ck_assert_ptr_nonnull(strstr(o.r.out, "password=****\n"));
	ck_assert_ptr_nonnull(strstr(o.r.out, "username=admin\n"));
	ck_assert_ptr_nonnull(strstr(logbuf, "fence test-dev: off node2"));
	ck_assert_ptr_null(strstr(logbuf, PASSWORD));
	outcome_free(&o);
}
END_TEST

START_TEST(test_run_concurrent)
{
	/*
	 * Each run waits until all four have started: run one after the other,
	 * the first would time out. This proves they run side by side whatever
	 * the machine's speed.
	 */
	struct cd_fence_device d =
		device(agent("barrier", "touch \"$D/started.$$\"\n"
					"while [ $(ls \"$D\" | grep -c '^started\\.') -lt 4 ]; do\n"
					"	sleep 0.05\n"
					"done\n"
					"echo ok"));
	struct outcome o[4];
	int i;

	memset(o, 0, sizeof(o));
	started = cd_now_ms();
	pending = 4;
	for (i = 0; i < 4; i++)
		ck_assert_int_eq(cd_fence_run(&d, "status", "n", TEST_MS(5000), 0, on_done, &o[i]),
				 0);
	run_loop(5000);
	for (i = 0; i < 4; i++) {
		ck_assert_int_eq(o[i].called, 1);
		ck_assert_int_eq(o[i].r.rc, 0);
		ck_assert_str_eq(o[i].r.out, "ok\n");
		outcome_free(&o[i]);
	}
}
END_TEST

START_TEST(test_run_bad_requests)
{
	struct cd_fence_device d = device(agent("never", "exit 0"));
	struct cd_fence_device nope = {.name = "x", .agent = "no_such_fence_agent_here"};
	char path[128];
	struct outcome o = {0};

	ck_assert_int_eq(cd_fence_run(&d, "explode", "n", 1000, 0, on_done, &o), CD_ERR_INVALID);
	ck_assert_int_eq(cd_fence_run(&d, NULL, "n", 1000, 0, on_done, &o), CD_ERR_INVALID);
	ck_assert_int_eq(cd_fence_run(&d, "off", "n\nx", 1000, 0, on_done, &o), CD_ERR_INVALID);
	ck_assert_int_eq(cd_fence_run(&d, "off", "n", 0, 0, on_done, &o), CD_ERR_INVALID);
	ck_assert_int_eq(cd_fence_run(&d, "off", "n", 1000, -1, on_done, &o), CD_ERR_INVALID);
	ck_assert_int_eq(cd_fence_run(&d, "off", "n", 1000, CD_FENCE_RETRIES_MAX + 1, on_done, &o),
			 CD_ERR_INVALID);
	ck_assert_int_eq(cd_fence_run(&nope, "off", "n", 1000, 0, on_done, &o), -ENOENT);
	/* Parameters the state would have refused: not run, the secret not logged. */
	nope.agent = d.agent;
	nope.params = jparse("{\"password\":\"" PASSWORD "\",\"action\":\"on\"}");
	ck_assert_int_eq(cd_fence_run(&nope, "off", "n", 1000, 0, on_done, &o), CD_ERR_INVALID);
	json_object_put((struct json_object *)nope.params);
	nope.params = NULL;
	nope.agent = "./never";
	ck_assert_int_eq(cd_fence_run(&nope, "off", "n", 1000, 0, on_done, &o), CD_ERR_INVALID);
	/* Not executable; a script whose interpreter is missing. */
	snprintf(path, sizeof(path), "%s/plain", dir);
	ck_assert_int_eq(cd_write_file_atomic(path, "exit 0\n", 7), 0);
	nope.agent = path;
	ck_assert_int_eq(cd_fence_run(&nope, "off", "n", 1000, 0, on_done, &o), -EACCES);
	nope.agent = agent("badinterp", "");
	ck_assert_int_eq(cd_write_file_atomic(nope.agent, "#!/nonexistent/sh\n", 18), 0);
	ck_assert_int_eq(chmod(nope.agent, 0755), 0);
	ck_assert_int_eq(cd_fence_run(&nope, "off", "n", 1000, 0, on_done, &o), -ENOENT);
	ck_assert_int_eq(o.called, 0);
	ck_assert_ptr_null(strstr(logbuf, PASSWORD));
}
END_TEST

START_TEST(test_find_agent)
{
	char path[256], want[256];
	const char *old = getenv("PATH");
	char *saved = strdup(old ? old : "/usr/bin:/bin");

	agent("fence_test", "exit 0");
	snprintf(want, sizeof(want), "%s/fence_test", dir);
	ck_assert_int_eq(cd_fence_find_agent(want, path, sizeof(path)), 0);
	ck_assert_str_eq(path, want);
	setenv("PATH", dir, 1);
	ck_assert_int_eq(cd_fence_find_agent("fence_test", path, sizeof(path)), 0);
	ck_assert_str_eq(path, want);
	ck_assert_int_eq(cd_fence_find_agent("fence_none", path, sizeof(path)), -ENOENT);
	ck_assert_int_eq(cd_fence_find_agent("sub/fence_test", path, sizeof(path)), CD_ERR_INVALID);
	ck_assert_int_eq(cd_fence_find_agent("", path, sizeof(path)), CD_ERR_INVALID);
	ck_assert_int_eq(cd_fence_find_agent(want, path, 8), -ENAMETOOLONG);
	/* Where fence-agents installs, even when PATH lacks it. */
	setenv("PATH", "/nonexistent", 1);
	if (access("/usr/sbin/ip", X_OK) == 0) {
		ck_assert_int_eq(cd_fence_find_agent("ip", path, sizeof(path)), 0);
		ck_assert_str_eq(path, "/usr/sbin/ip");
	}
	setenv("PATH", saved, 1);
	free(saved);
}
END_TEST

#define add_loop_tcase(suite, fn) add_fixture_tcase(suite, fn, loop_setup, loop_teardown)

int main(void)
{
	Suite *s = suite_create("fence");
	int rc;

	setup_logging();
	add_loop_tcase(s, test_find_agent);
	add_loop_tcase(s, test_run_success);
	add_loop_tcase(s, test_run_stdin);
	add_loop_tcase(s, test_run_big_stdin);
	add_loop_tcase(s, test_run_fails_and_retries);
	add_loop_tcase(s, test_run_retry_then_success);
	add_loop_tcase(s, test_run_status);
	add_loop_tcase(s, test_run_timeout_kills_group);
	add_loop_tcase(s, test_run_timeout_sigkill);
	add_loop_tcase(s, test_run_leftovers_killed);
	add_loop_tcase(s, test_run_big_output);
	add_loop_tcase(s, test_password_never_logged);
	add_loop_tcase(s, test_run_concurrent);
	add_loop_tcase(s, test_run_bad_requests);
	rc = run_suite(s);
	json_object_put(params);
	qb_log_fini();
	return rc;
}
