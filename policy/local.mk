# The placement policy: a pure library (policy.c, rules.c, fit.c, explain.c
# and names.c do no I/O) plus the text format its golden tests are written in.
noinst_LTLIBRARIES += policy/libcdpolicy.la
policy_libcdpolicy_la_SOURCES = \
	policy/policy.c policy/policy.h \
	policy/rules.c policy/rules.h \
	policy/fit.c policy/fit.h \
	policy/explain.c policy/names.c \
	policy/policy_text.c policy/policy_text.h
policy_libcdpolicy_la_LIBADD = lib/libcdcommon.la

# The policy's golden tests and benchmark keep their rules next to them;
# they are pulled in from here so the policy is one include in Makefile.am.
include $(srcdir)/tests/golden/local.mk
include $(srcdir)/bench/policy/local.mk
