/*
 * lib/child: real children (/bin/sh -c scripts) run from a qb loop: stdin
 * fed and stdout/stderr captured, the output bound, the timeout with its
 * SIGTERM then SIGKILL, a failed start and an abandoned child.
 */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include <qb/qbloop.h>

#include "check_common.h"
#include "lib/child.h"
#include "lib/util.h"
#include "lib/looptimer.h"

/* What one child did, copied out of its done callback. */
struct seen {
	int done;
	struct cd_child_result r; /* out and err point at the copies below */
	char *out;
	char *err;
	char notes[8]; /* one letter a note, in order: S, N, T, K */
	int note_rc;
	uint64_t ms; /* from the start to done */
};

static qb_loop_t *loop;
static uint64_t t0;

static void on_note(void *ctx, enum cd_child_note note, int rc)
{
	struct seen *s = ctx;
	size_t n = strlen(s->notes);

	if (n + 1 < sizeof(s->notes))
		s->notes[n] = "SNTK"[note];
	s->note_rc = rc;
}

static char *copy(const char *p, size_t len)
{
	char *c = malloc(len + 1);

	ck_assert_ptr_nonnull(c);
	memcpy(c, p, len + 1);
	return c;
}

static void on_done(void *ctx, const struct cd_child_result *r)
{
	struct seen *s = ctx;

	s->done++;
	s->r = *r;
	ck_assert_int_eq(r->out[r->out_len], '\0');
	ck_assert_int_eq(r->err[r->err_len], '\0');
	s->out = copy(r->out, r->out_len);
	s->err = copy(r->err, r->err_len);
	s->r.out = s->out;
	s->r.err = s->err;
	s->ms = cd_now_ms() - t0;
	qb_loop_stop(loop);
}

static void on_hang(void *data)
{
	ck_abort_msg("the child was not done in time");
}

/* A spec that runs script with /bin/sh; argv holds 4 pointers. */
static struct cd_child_spec sh(const char *script, char **argv)
{
	static char name[] = "sh", dash_c[] = "-c";
	struct cd_child_spec spec = {
		.path = "/bin/sh",
		.argv = argv,
		.out_max = 4096,
		.timeout_ms = TEST_MS(10000),
		.kill_grace_ms = 1000,
		.note = on_note,
	};

	argv[0] = name;
	argv[1] = dash_c;
	argv[2] = (char *)script;
	argv[3] = NULL;
	return spec;
}

/* Start spec's child and run the loop until its done callback. */
static void run(const struct cd_child_spec *spec, struct seen *s)
{
	struct cd_child *c = NULL;
	qb_loop_timer_handle hang;

	memset(s, 0, sizeof(*s));
	loop = qb_loop_create();
	ck_assert_ptr_nonnull(loop);
	t0 = cd_now_ms();
	ck_assert_int_eq(cd_child_start(loop, spec, on_done, s, &c), 0);
	ck_assert_ptr_nonnull(c);
	ck_assert_int_gt(cd_child_pid(c), 1);
	ck_assert_int_eq(s->done, 0);
	cd_timer_add(loop, QB_LOOP_HIGH, (uint64_t)TEST_MS(30000) * 1000000ull, NULL, on_hang,
		     &hang);
	qb_loop_run(loop);
	ck_assert_int_eq(s->done, 1);
	cd_timer_del(loop, hang);
	cd_loop_destroy(loop);
}

static void seen_free(struct seen *s)
{
	free(s->out);
	free(s->err);
}

START_TEST(test_supported)
{
	ck_assert_int_eq(cd_child_supported(), 0);
}
END_TEST

START_TEST(test_echo_stdin)
{
	char *argv[4];
	struct cd_child_spec spec = sh("cat; echo to-err >&2; exit 7", argv);
	struct seen s;

	spec.in = "line one\nline two\n";
	spec.in_len = strlen(spec.in);
	run(&spec, &s);
	ck_assert_int_eq(s.r.exit_status, 7);
	ck_assert_int_eq(s.r.signal, 0);
	ck_assert_int_eq(s.r.wait_error, 0);
	ck_assert(!s.r.timed_out);
	ck_assert_str_eq(s.r.out, "line one\nline two\n");
	ck_assert_uint_eq(s.r.out_len, 18);
	ck_assert_str_eq(s.r.err, "to-err\n");
	ck_assert(!s.r.out_truncated && !s.r.err_truncated);
	ck_assert_str_eq(s.notes, "");
	seen_free(&s);
}
END_TEST

START_TEST(test_big_stdin_and_env)
{
	static char var[] = "CHILD_TEST=yes";
	char *envp[] = {var, NULL};
	size_t len = 1 << 20;
	char *in = malloc(len), *argv[4];
	struct cd_child_spec spec =
		sh("[ \"$CHILD_TEST\" = yes ] && [ -z \"$HOME\" ] || exit 1; wc -c", argv);
	struct seen s;

	/* More than a socket buffer: written from the loop as the child reads. */
	ck_assert_ptr_nonnull(in);
	memset(in, 'i', len);
	spec.in = in;
	spec.in_len = len;
	spec.envp = envp;
	run(&spec, &s);
	free(in);
	ck_assert_int_eq(s.r.exit_status, 0);
	ck_assert_uint_eq(strtoul(s.r.out, NULL, 10), len);
	seen_free(&s);

	/* A child that reads none of it: no SIGPIPE for us, its exit code counts. */
	spec = sh("exit 3", argv);
	spec.in = "x";
	spec.in_len = 1;
	run(&spec, &s);
	ck_assert_int_eq(s.r.exit_status, 3);
	seen_free(&s);
}
END_TEST

START_TEST(test_output_bound)
{
	char *argv[4];
	struct cd_child_spec spec = sh("head -c 300000 /dev/zero | tr '\\0' o\n"
				       "head -c 5000 /dev/zero | tr '\\0' e >&2",
				       argv);
	struct seen s;
	size_t i;

	spec.out_max = 1000;
	run(&spec, &s);
	ck_assert_int_eq(s.r.exit_status, 0);
	ck_assert_uint_eq(s.r.out_len, 1000);
	ck_assert_uint_eq(s.r.err_len, 1000);
	ck_assert(s.r.out_truncated && s.r.err_truncated);
	for (i = 0; i < 1000; i++)
		ck_assert(s.r.out[i] == 'o' && s.r.err[i] == 'e');
	seen_free(&s);
}
END_TEST

START_TEST(test_timeout_sigterm)
{
	char *argv[4];
	struct cd_child_spec spec = sh("echo started; sleep 100", argv);
	struct seen s;

	spec.timeout_ms = 300;
	run(&spec, &s);
	ck_assert(s.r.timed_out);
	ck_assert_int_eq(s.r.signal, SIGTERM);
	ck_assert_int_eq(s.r.exit_status, -1);
	ck_assert_str_eq(s.r.out, "started\n");
	ck_assert_str_eq(s.notes, "T");
	ck_assert_uint_ge(s.ms, 300);
	seen_free(&s);
}
END_TEST

START_TEST(test_timeout_sigkill)
{
	char *argv[4];
	struct cd_child_spec spec = sh("trap '' TERM; sleep 100", argv);
	struct seen s;

	/* The timeout leaves the shell time to set its trap. */
	spec.timeout_ms = TEST_MS(300);
	spec.kill_grace_ms = 400;
	run(&spec, &s);
	ck_assert(s.r.timed_out);
	ck_assert_int_eq(s.r.signal, SIGKILL);
	ck_assert_str_eq(s.notes, "TK");
	ck_assert_uint_ge(s.ms, (uint64_t)spec.timeout_ms + 400);
	seen_free(&s);
}
END_TEST

START_TEST(test_bad_start)
{
	char *argv[4];
	struct cd_child_spec spec = sh("exit 0", argv);
	struct cd_child *c = NULL;
	struct seen s = {0};

	loop = qb_loop_create();
	spec.path = "/nonexistent/program";
	ck_assert_int_eq(cd_child_start(loop, &spec, on_done, &s, &c), -ENOENT);
	ck_assert_str_eq(s.notes, "S");
	ck_assert_int_eq(s.note_rc, -ENOENT);
	spec.path = "/bin/sh";
	spec.timeout_ms = 0;
	ck_assert_int_eq(cd_child_start(loop, &spec, on_done, &s, &c), -EINVAL);
	spec.timeout_ms = 1000;
	spec.in_len = 1;
	ck_assert_int_eq(cd_child_start(loop, &spec, on_done, &s, &c), -EINVAL);
	ck_assert_ptr_null(c);
	ck_assert_int_eq(s.done, 0);
	cd_loop_destroy(loop);
}
END_TEST

static void never_done(void *ctx, const struct cd_child_result *r)
{
	ck_abort_msg("done called for an abandoned child");
}

START_TEST(test_abandon)
{
	char *argv[4];
	struct cd_child_spec spec = sh("sleep 100", argv);
	struct cd_child *c;
	pid_t pid;

	spec.note = NULL;
	loop = qb_loop_create();
	ck_assert_int_eq(cd_child_start(loop, &spec, never_done, NULL, &c), 0);
	pid = cd_child_pid(c);
	cd_child_abandon(c);
	/* Killed and reaped already. */
	ck_assert_int_eq(waitpid(pid, NULL, WNOHANG), -1);
	ck_assert_int_eq(errno, ECHILD);
	cd_loop_destroy(loop);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("child");

	add_tcase(s, test_supported);
	add_tcase(s, test_echo_stdin);
	add_tcase(s, test_big_stdin_and_env);
	add_tcase(s, test_output_bound);
	add_tcase(s, test_timeout_sigterm);
	add_tcase(s, test_timeout_sigkill);
	add_tcase(s, test_bad_start);
	add_tcase(s, test_abandon);
	return run_suite(s);
}
