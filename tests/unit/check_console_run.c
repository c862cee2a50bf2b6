/*
 * clusterd's side of the web console: not started without the node's
 * certificate or when turned off, restarted with a growing delay when it
 * dies. A shell script that counts its runs stands in for the console.
 */
#include "config.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <qb/qbloop.h>

#include "check_common.h"
#include "clusterd/console.h"
#include "lib/looptimer.h"

static char dir[] = "/tmp/check_console_run.XXXXXX";
static char prog[128], cert[128], key[128], runs[128];

static void write_file(const char *path, const char *text, mode_t mode)
{
	FILE *f = fopen(path, "w");

	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	fclose(f);
	chmod(path, mode);
}

static void setup(void)
{
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(prog, sizeof(prog), "%s/console", dir);
	snprintf(cert, sizeof(cert), "%s/node.crt", dir);
	snprintf(key, sizeof(key), "%s/node.key", dir);
	snprintf(runs, sizeof(runs), "%s/runs", dir);
	write_file(prog, "#!/bin/sh\necho \"$@\" >> \"$(dirname \"$0\")/runs\"\nexit 3\n", 0755);
}

static void teardown(void)
{
	unlink(prog);
	unlink(cert);
	unlink(key);
	unlink(runs);
	rmdir(dir);
	strcpy(dir, "/tmp/check_console_run.XXXXXX");
}

static int count_runs(void)
{
	char line[512];
	FILE *f = fopen(runs, "r");
	int n = 0;

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		n++;
	fclose(f);
	return n;
}

static void stop_loop(void *data)
{
	qb_loop_stop(data);
}

/* Run the console as cfg says for ms of a loop, then stop it. */
static void run_for(const struct cd_console_config *cfg, unsigned ms)
{
	qb_loop_t *loop = qb_loop_create();
	qb_loop_timer_handle t;

	ck_assert_ptr_nonnull(loop);
	ck_assert_int_eq(cd_console_start(loop, cfg), 0);
	cd_timer_add(loop, QB_LOOP_HIGH, (uint64_t)ms * 1000000ULL, loop, stop_loop, &t);
	qb_loop_run(loop);
	cd_console_fini();
	cd_loop_destroy(loop);
}

START_TEST(test_backoff)
{
	ck_assert_uint_eq(cd_console_backoff(0, 0), CD_CONSOLE_RESTART_MIN_MS);
	ck_assert_uint_eq(cd_console_backoff(1000, 10), 2000);
	ck_assert_uint_eq(cd_console_backoff(32000, 10), CD_CONSOLE_RESTART_MAX_MS);
	ck_assert_uint_eq(cd_console_backoff(CD_CONSOLE_RESTART_MAX_MS, 10),
			  CD_CONSOLE_RESTART_MAX_MS);
	/* It ran long enough: whatever killed it is new, start over. */
	ck_assert_uint_eq(cd_console_backoff(CD_CONSOLE_RESTART_MAX_MS, CD_CONSOLE_STABLE_MS),
			  CD_CONSOLE_RESTART_MIN_MS);
}
END_TEST

START_TEST(test_no_certificate)
{
	struct cd_console_config cfg = {true, 9440, "haclient", prog, cert, key};

	run_for(&cfg, 300);
	ck_assert_int_eq(count_runs(), 0);
	write_file(cert, "cert\n", 0644);
	run_for(&cfg, 300);
	ck_assert_int_eq(count_runs(), 0);
}
END_TEST

START_TEST(test_off)
{
	struct cd_console_config cfg = {false, 9440, "haclient", prog, cert, key};

	write_file(cert, "cert\n", 0644);
	write_file(key, "key\n", 0600);
	run_for(&cfg, 300);
	ck_assert_int_eq(count_runs(), 0);
}
END_TEST

START_TEST(test_restarts)
{
	struct cd_console_config cfg = {true, 9441, "wheel", prog, cert, key, "/etc/m.token", true};
	char want[1024], line[1024];
	FILE *f;

	write_file(cert, "cert\n", 0644);
	write_file(key, "key\n", 0600);
	/* At once, then after 1 s, then after 2 s more: two runs in 2.5 s. */
	run_for(&cfg, 2500);
	ck_assert_int_eq(count_runs(), 2);
	f = fopen(runs, "r");
	ck_assert_ptr_nonnull(f);
	ck_assert_ptr_nonnull(fgets(line, sizeof(line), f));
	fclose(f);
	snprintf(want, sizeof(want),
		 "--port 9441 --admin-group wheel --cert %s --key %s --metrics-loopback yes "
		 "--metrics-token-file /etc/m.token\n",
		 cert, key);
	ck_assert_str_eq(line, want);
}
END_TEST

/* Without a token file, the console is told of none; loopback off is passed on. */
START_TEST(test_metrics_args)
{
	struct cd_console_config cfg = {true, 9442, "", prog, cert, key, "", false};
	char want[1024], line[1024];
	FILE *f;

	write_file(cert, "cert\n", 0644);
	write_file(key, "key\n", 0600);
	run_for(&cfg, 300);
	ck_assert_int_eq(count_runs(), 1);
	f = fopen(runs, "r");
	ck_assert_ptr_nonnull(f);
	ck_assert_ptr_nonnull(fgets(line, sizeof(line), f));
	fclose(f);
	snprintf(want, sizeof(want),
		 "--port 9442 --admin-group  --cert %s --key %s --metrics-loopback no\n", cert,
		 key);
	ck_assert_str_eq(line, want);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("console_run");

	add_tcase(s, test_backoff);
	add_fixture_tcase(s, test_no_certificate, setup, teardown);
	add_fixture_tcase(s, test_off, setup, teardown);
	add_fixture_tcase(s, test_restarts, setup, teardown);
	add_fixture_tcase(s, test_metrics_args, setup, teardown);
	return run_suite(s);
}
