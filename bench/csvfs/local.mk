# The csvfs benchmark against sanlock: built by make, run by
# bench/csvfs/run.sh (as root, on a lab it brings up), never by make check.
noinst_PROGRAMS += bench/csvfs/bench_csvfs bench/csvfs/bench_sanlock
bench_csvfs_bench_csvfs_SOURCES = bench/csvfs/bench_csvfs.c bench/csvfs/stats.h
bench_csvfs_bench_csvfs_CFLAGS = $(AM_CFLAGS) $(JSONC_CFLAGS) $(OPENSSL_CFLAGS)
bench_csvfs_bench_csvfs_LDADD = csvfs/libcsvfs.la lib/libcdcommon.la $(JSONC_LIBS) $(OPENSSL_LIBS)
# libsanlock is loaded with dlopen at run time: no build dependency on sanlock
bench_csvfs_bench_sanlock_SOURCES = bench/csvfs/bench_sanlock.c bench/csvfs/stats.h
bench_csvfs_bench_sanlock_LDADD = -ldl
EXTRA_DIST += bench/csvfs/run.sh
