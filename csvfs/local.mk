# csvfs: cluster shared volumes. libcsvfs is the pure core (format, leases,
# metadata); csvfs is the admin tool. The simulated disk of the unit tests
# is test code: tests/sim/.
noinst_LTLIBRARIES += csvfs/libcsvfs.la
csvfs_libcsvfs_la_SOURCES = \
	csvfs/csvfs.h \
	csvfs/env.c csvfs/env.h \
	csvfs/disk.c csvfs/disk.h \
	csvfs/codec.c csvfs/codec.h \
	csvfs/timing.c csvfs/timing.h \
	csvfs/format.c csvfs/format.h \
	csvfs/delta_lease.c csvfs/delta_lease.h \
	csvfs/paxos_lease.c csvfs/paxos_lease.h \
	csvfs/meta.c csvfs/meta.h \
	csvfs/files.c csvfs/files.h \
	csvfs/fileops.c csvfs/fileops.h \
	csvfs/check.c csvfs/check.h \
	csvfs/report.c csvfs/report.h
csvfs_libcsvfs_la_CFLAGS = $(AM_CFLAGS) $(JSONC_CFLAGS) $(OPENSSL_CFLAGS)
csvfs_libcsvfs_la_LIBADD = lib/libcdcommon.la $(JSONC_LIBS) $(OPENSSL_LIBS)

sbin_PROGRAMS += csvfs/csvfs
csvfs_csvfs_SOURCES = \
	csvfs/tool_main.c csvfs/tool.c csvfs/tool.h \
	csvfs/tool_volume.c csvfs/tool_host.c csvfs/tool_lease.c csvfs/tool_file.c
csvfs_csvfs_CFLAGS = $(AM_CFLAGS) $(JSONC_CFLAGS)
csvfs_csvfs_LDADD = csvfs/libcsvfs.la lib/libcdcommon.la $(JSONC_LIBS) $(OPENSSL_LIBS)

dist_man_MANS += man/csvfs.8 man/csvfs.5

# Unit tests: one per module, on the simulated disk (and one real file).
include $(srcdir)/tests/sim/local.mk
CSVFS_UNIT_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS) $(JSONC_CFLAGS) -I$(top_srcdir)/tests/unit
CSVFS_UNIT_LIBS = tests/sim/libcsvfssim.la csvfs/libcsvfs.la lib/libcdcommon.la \
	$(CHECK_LIBS) $(JSONC_LIBS) $(OPENSSL_LIBS)
csvfs_unit_tests = \
	tests/unit/check_csvfs_codec \
	tests/unit/check_csvfs_format \
	tests/unit/check_csvfs_delta_lease \
	tests/unit/check_csvfs_paxos_lease \
	tests/unit/check_csvfs_meta \
	tests/unit/check_csvfs_files \
	tests/unit/check_csvfs_check \
	tests/unit/check_csvfs_disk
check_PROGRAMS += $(csvfs_unit_tests)
TESTS += $(csvfs_unit_tests)

tests_unit_check_csvfs_codec_SOURCES = tests/unit/check_csvfs_codec.c
tests_unit_check_csvfs_codec_CFLAGS = $(CSVFS_UNIT_CFLAGS)
tests_unit_check_csvfs_codec_LDADD = $(CSVFS_UNIT_LIBS)
tests_unit_check_csvfs_format_SOURCES = tests/unit/check_csvfs_format.c
tests_unit_check_csvfs_format_CFLAGS = $(CSVFS_UNIT_CFLAGS)
tests_unit_check_csvfs_format_LDADD = $(CSVFS_UNIT_LIBS)
tests_unit_check_csvfs_delta_lease_SOURCES = tests/unit/check_csvfs_delta_lease.c
tests_unit_check_csvfs_delta_lease_CFLAGS = $(CSVFS_UNIT_CFLAGS)
tests_unit_check_csvfs_delta_lease_LDADD = $(CSVFS_UNIT_LIBS)
tests_unit_check_csvfs_paxos_lease_SOURCES = tests/unit/check_csvfs_paxos_lease.c
tests_unit_check_csvfs_paxos_lease_CFLAGS = $(CSVFS_UNIT_CFLAGS)
tests_unit_check_csvfs_paxos_lease_LDADD = $(CSVFS_UNIT_LIBS)
tests_unit_check_csvfs_meta_SOURCES = tests/unit/check_csvfs_meta.c
tests_unit_check_csvfs_meta_CFLAGS = $(CSVFS_UNIT_CFLAGS)
tests_unit_check_csvfs_meta_LDADD = $(CSVFS_UNIT_LIBS)
tests_unit_check_csvfs_files_SOURCES = tests/unit/check_csvfs_files.c
tests_unit_check_csvfs_files_CFLAGS = $(CSVFS_UNIT_CFLAGS)
tests_unit_check_csvfs_files_LDADD = $(CSVFS_UNIT_LIBS)
tests_unit_check_csvfs_check_SOURCES = tests/unit/check_csvfs_check.c
tests_unit_check_csvfs_check_CFLAGS = $(CSVFS_UNIT_CFLAGS)
tests_unit_check_csvfs_check_LDADD = $(CSVFS_UNIT_LIBS)
tests_unit_check_csvfs_disk_SOURCES = tests/unit/check_csvfs_disk.c
tests_unit_check_csvfs_disk_CFLAGS = $(CSVFS_UNIT_CFLAGS)
tests_unit_check_csvfs_disk_LDADD = $(CSVFS_UNIT_LIBS)
