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
