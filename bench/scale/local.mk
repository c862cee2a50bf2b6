# The state benchmark: built by make, run by bench/scale/run.sh (never by
# make check: timings on a shared CI machine prove nothing).
noinst_PROGRAMS += bench/scale/statebench
bench_scale_statebench_SOURCES = bench/scale/statebench.c \
	bench/scale/domxml.c bench/scale/domxml.h bench/scale/pct.h
bench_scale_statebench_CFLAGS = $(AM_CFLAGS) $(JSONC_CFLAGS)
bench_scale_statebench_LDADD = core/libcdcore.la policy/libcdpolicy.la lib/libcdcommon.la \
	$(JSONC_LIBS)
# A change acknowledged end to end over IPC, CPG and the journal (rejoin.sh
# runs it on a lab node).
noinst_PROGRAMS += bench/scale/ackbench
bench_scale_ackbench_SOURCES = bench/scale/ackbench.c bench/scale/pct.h
bench_scale_ackbench_CFLAGS = $(AM_CFLAGS) $(QB_CFLAGS) $(JSONC_CFLAGS)
bench_scale_ackbench_LDADD = lib/libclusterd-client.la lib/libcdcommon.la $(QB_LIBS) $(JSONC_LIBS)
EXTRA_DIST += bench/scale/run.sh bench/scale/README.md bench/scale/cib.sh bench/scale/cib-report.py \
	bench/scale/rejoin.sh bench/scale/lab-report.py
