/* Shared bits of the Check unit tests. */
#ifndef CHECK_COMMON_H
#define CHECK_COMMON_H

#include <check.h>
#include <ftw.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#define add_tcase(suite, fn)                                                                       \
	do {                                                                                       \
		TCase *tc_ = tcase_create(#fn);                                                    \
		tcase_add_test(tc_, fn);                                                           \
		suite_add_tcase((suite), tc_);                                                     \
	} while (0)

/* add_tcase() for a test run once per entry of the array table (its index in _i). */
#define add_table_tcase(suite, fn, table)                                                          \
	do {                                                                                       \
		TCase *tc_ = tcase_create(#fn);                                                    \
		tcase_add_loop_test(tc_, fn, 0, (int)(sizeof(table) / sizeof((table)[0])));        \
		suite_add_tcase((suite), tc_);                                                     \
	} while (0)

/*
 * add_tcase() for a case that builds a state at its limits (16384 VMs):
 * seconds of work, minutes under the sanitizers; the time limit only
 * guards against a hang.
 */
#define add_long_tcase(suite, fn)                                                                  \
	do {                                                                                       \
		TCase *tc_ = tcase_create(#fn);                                                    \
		tcase_set_timeout(tc_, 600);                                                       \
		tcase_add_test(tc_, fn);                                                           \
		suite_add_tcase((suite), tc_);                                                     \
	} while (0)

/* add_tcase() with a checked fixture: setup and teardown run around fn in its process. */
#define add_fixture_tcase(suite, fn, setup, teardown)                                              \
	do {                                                                                       \
		TCase *tc_ = tcase_create(#fn);                                                    \
		tcase_add_checked_fixture(tc_, (setup), (teardown));                               \
		tcase_add_test(tc_, fn);                                                           \
		suite_add_tcase((suite), tc_);                                                     \
	} while (0)

/*
 * CD_TEST_TIME_SCALE (a positive integer, default 1) multiplies every time
 * limit that only guards against a hang, so that a slow or busy machine
 * raises one knob; make check also hands it to Check as
 * CK_TIMEOUT_MULTIPLIER. No verdict may rest on how fast something ran:
 * speed is measured in bench/.
 */
static inline unsigned cd_test_time_scale(void)
{
	const char *s = getenv("CD_TEST_TIME_SCALE");
	long v = s ? strtol(s, NULL, 10) : 1;

	return v >= 1 && v <= 1000 ? (unsigned)v : 1;
}

/* A hang guard of ms milliseconds, scaled. */
#define TEST_MS(ms) ((ms) * (int)cd_test_time_scale())

/*
 * A directory of the test's own: tmpdir_make() makes dir (len bytes) a new
 * one below /tmp named after the test ("check_fence" gives
 * /tmp/check_fence.XXXXXX), tmpdir_remove() removes it and all it holds.
 */
static inline void tmpdir_make(char *dir, size_t len, const char *test)
{
	snprintf(dir, len, "/tmp/%s.XXXXXX", test);
	ck_assert_ptr_nonnull(mkdtemp(dir));
}

static inline int tmpdir_remove_entry(const char *path, const struct stat *st, int flag,
				      struct FTW *ftw)
{
	return remove(path);
}

static inline void tmpdir_remove(const char *dir)
{
	nftw(dir, tmpdir_remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* Write a file name in dir, its text formatted; path (len bytes) gets its path. */
static inline void tmpdir_writef(char *path, size_t len, const char *dir, const char *name,
				 const char *fmt, ...) __attribute__((format(printf, 5, 6)));
static inline void tmpdir_writef(char *path, size_t len, const char *dir, const char *name,
				 const char *fmt, ...)
{
	va_list ap;
	FILE *fp;

	snprintf(path, len, "%s/%s", dir, name);
	fp = fopen(path, "w");
	ck_assert_ptr_nonnull(fp);
	va_start(ap, fmt);
	vfprintf(fp, fmt, ap);
	va_end(ap);
	ck_assert_int_eq(fclose(fp), 0);
}

/*
 * The last line a table's log function was given, and how many: pass
 * log_capture as the function and &logged as its context.
 */
struct log_capture {
	int prio, n;
	char line[512];
};

static struct log_capture logged __attribute__((unused));

static inline void log_capture(void *ctx, int prio, const char *line)
{
	struct log_capture *l = ctx;

	ck_assert_ptr_eq(ctx, &logged);
	l->prio = prio;
	l->n++;
	snprintf(l->line, sizeof(l->line), "%s", line);
}

static inline int run_suite(Suite *s)
{
	SRunner *sr = srunner_create(s);
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

#endif
