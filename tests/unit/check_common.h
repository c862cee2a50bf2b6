/* Shared bits of the Check unit tests. */
#ifndef CHECK_COMMON_H
#define CHECK_COMMON_H

#include <check.h>
#include <stdlib.h>

#define add_tcase(suite, fn)                                                               \
	do {                                                                               \
		TCase *tc_ = tcase_create(#fn);                                            \
		tcase_add_test(tc_, fn);                                                   \
		suite_add_tcase((suite), tc_);                                             \
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
