# Golden tests of the placement policy: tests/golden/cases/NAME.in is a
# cluster state in the policy text format, NAME.out the actions (and
# explanations) decide must give for it. check_policy covers the text
# parser's errors and the API around decide, check_policy_fit the check of
# one VM against one node (policy/fit.h).
GOLDEN_LIBS = policy/libcdpolicy.la lib/libcdcommon.la

golden_tests = tests/golden/run_golden tests/golden/check_policy tests/golden/check_policy_fit
check_PROGRAMS += $(golden_tests)
TESTS += $(golden_tests)
EXTRA_DIST += tests/golden/cases tests/golden/README.md

tests_golden_run_golden_SOURCES = tests/golden/run_golden.c
tests_golden_run_golden_LDADD = $(GOLDEN_LIBS)
tests_golden_check_policy_SOURCES = tests/golden/check_policy.c
tests_golden_check_policy_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS) -I$(top_srcdir)/tests/unit
tests_golden_check_policy_LDADD = $(GOLDEN_LIBS) $(CHECK_LIBS)
tests_golden_check_policy_fit_SOURCES = tests/golden/check_policy_fit.c
tests_golden_check_policy_fit_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS) -I$(top_srcdir)/tests/unit
tests_golden_check_policy_fit_LDADD = $(GOLDEN_LIBS) $(CHECK_LIBS)
