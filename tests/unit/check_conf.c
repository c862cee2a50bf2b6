#include "config.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "check_common.h"
#include "clusterd/conf.h"

static char path[] = "/tmp/check_conf.XXXXXX";

static int load(const char *text, char *err, size_t n)
{
	int fd = mkstemp(path), rc;
	FILE *f = fdopen(fd, "w");

	fputs(text, f);
	fclose(f);
	cd_config_defaults();
	rc = cd_config_load(path, 0, err, n);
	unlink(path);
	strcpy(path, "/tmp/check_conf.XXXXXX");
	return rc;
}

START_TEST(test_defaults_and_values)
{
	char err[512];

	ck_assert_int_eq(load("# comment\n\nstate_dir = /x/y  # trailing\nlog_level=debug\n", err,
			      sizeof(err)),
			 0);
	ck_assert_str_eq(cd_config_str(CD_CFG_STATE_DIR), "/x/y");
	ck_assert_str_eq(cd_config_str(CD_CFG_LOG_LEVEL), "debug");
	ck_assert_str_eq(cd_config_str(CD_CFG_ADMIN_GROUP), "haclient");
}
END_TEST

START_TEST(test_errors_name_the_line)
{
	char err[512];

	ck_assert_int_lt(load("state_dir = /a\nbogus = 1\n", err, sizeof(err)), 0);
	ck_assert_ptr_nonnull(strstr(err, ":2: unknown key 'bogus'"));
	ck_assert_int_lt(load("log_level = loud\n", err, sizeof(err)), 0);
	ck_assert_ptr_nonnull(strstr(err, ":1: log_level must be one of"));
	ck_assert_int_lt(load("state_dir = relative\n", err, sizeof(err)), 0);
	ck_assert_ptr_nonnull(strstr(err, "absolute path"));
	ck_assert_int_lt(load("just words\n", err, sizeof(err)), 0);
	ck_assert_ptr_nonnull(strstr(err, "key = value"));
}
END_TEST

START_TEST(test_missing_file)
{
	char err[512];

	cd_config_defaults();
	ck_assert_int_eq(cd_config_load("/nonexistent/clusterd.conf", 1, err, sizeof(err)), 0);
	ck_assert_int_lt(cd_config_load("/nonexistent/clusterd.conf", 0, err, sizeof(err)), 0);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("conf");

	add_tcase(s, test_defaults_and_values);
	add_tcase(s, test_errors_name_the_line);
	add_tcase(s, test_missing_file);
	return run_suite(s);
}
