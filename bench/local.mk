# bench: see the top Makefile.am
include $(srcdir)/bench/csvfs/local.mk
include $(srcdir)/bench/scale/local.mk
# The lab benchmarks, run by hand as root on a lab they bring up (never by
# make check); bench/lib.sh and bench/results.py are what they share.
EXTRA_DIST += bench/lib.sh bench/results.py bench/migrate/run.sh bench/quick/run.sh \
	bench/drain/run.sh bench/drain/summary.py bench/pacemaker.sh bench/failover/run.sh
