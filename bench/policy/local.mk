# The policy benchmark: built by make, run by bench/policy/run.sh (never by
# make check: timings on a shared CI machine prove nothing).
noinst_PROGRAMS += bench/policy/bench_policy
bench_policy_bench_policy_SOURCES = bench/policy/bench_policy.c
bench_policy_bench_policy_LDADD = policy/libcdpolicy.la lib/libcdcommon.la
EXTRA_DIST += bench/policy/run.sh
