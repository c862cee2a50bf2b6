# The simulated disk, scheduler and cluster of the csvfs unit tests: test
# code, built by make check only, and linked only by those tests (the
# daemon and the csvfs tool link libcsvfs, which does not contain them).
check_LTLIBRARIES += tests/sim/libcsvfssim.la
tests_sim_libcsvfssim_la_SOURCES = \
	tests/sim/simsched.c tests/sim/simsched.h \
	tests/sim/simdisk.c tests/sim/simdisk.h \
	tests/sim/simcluster.c tests/sim/simcluster.h
