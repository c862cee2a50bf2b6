noinst_LTLIBRARIES += lib/libcdcommon.la lib/libclusterd-client.la lib/libcdchild.la

# Code shared by every program: result codes, files, hashing, names, times,
# typed reads of JSON members, the metrics' histograms.
lib_libcdcommon_la_SOURCES = lib/result.c lib/util.c lib/util.h lib/jsonget.c lib/jsonget.h \
	lib/fsm.c lib/fsm.h lib/corosync_conf.c lib/corosync_conf.h lib/cc_edit.c lib/cc_edit.h \
	lib/pki.c lib/pki.h lib/histogram.c lib/histogram.h
lib_libcdcommon_la_CFLAGS = $(AM_CFLAGS) $(OPENSSL_CFLAGS) $(JSONC_CFLAGS)
lib_libcdcommon_la_LIBADD = $(OPENSSL_LIBS) $(JSONC_LIBS)

check_PROGRAMS += tests/unit/check_libcommon
TESTS += tests/unit/check_libcommon
tests_unit_check_libcommon_SOURCES = tests/unit/check_libcommon.c
tests_unit_check_libcommon_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS) $(JSONC_CFLAGS) \
	-I$(top_srcdir)/tests/unit
tests_unit_check_libcommon_LDADD = lib/libcdcommon.la $(CHECK_LIBS) $(JSONC_LIBS)

# The metrics' histograms: buckets at their bounds, sum and count, JSON.
check_PROGRAMS += tests/unit/check_histogram
TESTS += tests/unit/check_histogram
tests_unit_check_histogram_SOURCES = tests/unit/check_histogram.c
tests_unit_check_histogram_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS) $(JSONC_CFLAGS) \
	-I$(top_srcdir)/tests/unit
tests_unit_check_histogram_LDADD = lib/libcdcommon.la $(CHECK_LIBS) $(JSONC_LIBS)

# Child processes run from a qb loop (the fence runner's agents), and the
# loop's timers (lib/looptimer.h). Not in
# libcdcommon: that one has no libqb, and the programs without a loop
# (csvfs, the policy tools, the benches) need none.
lib_libcdchild_la_SOURCES = lib/child.c lib/child.h lib/looptimer.c lib/looptimer.h
lib_libcdchild_la_CFLAGS = $(AM_CFLAGS) $(QB_CFLAGS)
lib_libcdchild_la_LIBADD = $(QB_LIBS)

check_PROGRAMS += tests/unit/check_child
TESTS += tests/unit/check_child
tests_unit_check_child_SOURCES = tests/unit/check_child.c
tests_unit_check_child_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS) $(QB_CFLAGS) -I$(top_srcdir)/tests/unit
tests_unit_check_child_LDADD = lib/libcdchild.la lib/libcdcommon.la $(CHECK_LIBS) $(QB_LIBS)

# Timers on a qb loop that let it sleep between them.
check_PROGRAMS += tests/unit/check_looptimer
TESTS += tests/unit/check_looptimer
tests_unit_check_looptimer_SOURCES = tests/unit/check_looptimer.c
tests_unit_check_looptimer_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS) $(QB_CFLAGS) -I$(top_srcdir)/tests/unit
tests_unit_check_looptimer_LDADD = lib/libcdchild.la lib/libcdcommon.la $(CHECK_LIBS) $(QB_LIBS) \
	-lpthread

# What clusterctl and other clients link to talk to the local clusterd.
lib_libclusterd_client_la_SOURCES = lib/client.c lib/ipcpeer.c lib/ipcpeer.h
lib_libclusterd_client_la_CFLAGS = $(AM_CFLAGS) $(QB_CFLAGS) $(JSONC_CFLAGS)
lib_libclusterd_client_la_LIBADD = lib/libcdcommon.la $(QB_LIBS) $(JSONC_LIBS)

# Who serves an IPC name: the client's trust check and clusterd's probe.
check_PROGRAMS += tests/unit/check_ipcpeer
TESTS += tests/unit/check_ipcpeer
tests_unit_check_ipcpeer_SOURCES = tests/unit/check_ipcpeer.c
tests_unit_check_ipcpeer_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS) $(QB_CFLAGS) $(JSONC_CFLAGS) \
	-I$(top_srcdir)/tests/unit
tests_unit_check_ipcpeer_LDADD = lib/libclusterd-client.la lib/libcdcommon.la $(CHECK_LIBS) \
	$(QB_LIBS) $(JSONC_LIBS)

# corosync.conf rendered and read back; the cluster's CA, node certificates
# and authkey.
check_PROGRAMS += tests/unit/check_corosync_conf tests/unit/check_pki
TESTS += tests/unit/check_corosync_conf tests/unit/check_pki
tests_unit_check_corosync_conf_SOURCES = tests/unit/check_corosync_conf.c
tests_unit_check_corosync_conf_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS) -I$(top_srcdir)/tests/unit
tests_unit_check_corosync_conf_LDADD = lib/libcdcommon.la $(CHECK_LIBS)
tests_unit_check_pki_SOURCES = tests/unit/check_pki.c
tests_unit_check_pki_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS) $(OPENSSL_CFLAGS) \
	-I$(top_srcdir)/tests/unit
tests_unit_check_pki_LDADD = lib/libcdcommon.la $(CHECK_LIBS) $(OPENSSL_LIBS)

# A live cluster's corosync.conf with a node added or removed, the rest of
# the file kept.
check_PROGRAMS += tests/unit/check_cc_edit
TESTS += tests/unit/check_cc_edit
tests_unit_check_cc_edit_SOURCES = tests/unit/check_cc_edit.c
tests_unit_check_cc_edit_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS) -I$(top_srcdir)/tests/unit
tests_unit_check_cc_edit_LDADD = lib/libcdcommon.la $(CHECK_LIBS)
