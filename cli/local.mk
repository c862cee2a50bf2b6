sbin_PROGRAMS += cli/clusterctl
cli_clusterctl_SOURCES = cli/clusterctl.c cli/clusterctl.h cli/parse.c \
	cli/cmd_node.c cli/cmd_cluster.c cli/cmd_vm.c cli/cmd_import.c cli/cmd_move.c cli/move_progress.c \
	cli/move_progress.h cli/text.c cli/text.h cli/cmd_drain.c cli/drain_progress.c \
	cli/drain_progress.h cli/cmd_volume.c cli/cmd_fence.c \
	cli/cmd_maint.c cli/maint_text.c cli/maint_text.h \
	cli/fence_args.c cli/fence_args.h agents/fence_proto.c agents/fence_proto.h \
	cli/cmd_create.c cli/bootstrap.c cli/bootstrap.h cli/bootstrap_ssh.c \
	cli/cmd_member.c \
	cli/cmd_debug.c cli/dump_archive.c cli/dump_archive.h
cli_clusterctl_CFLAGS = $(AM_CFLAGS) $(JSONC_CFLAGS) $(ARCHIVE_CFLAGS)
cli_clusterctl_LDADD = lib/libclusterd-client.la lib/libcdcommon.la $(QB_LIBS) $(JSONC_LIBS) \
	$(ARCHIVE_LIBS)

# debug dump's archive (written, then read back) and its --json result.
check_PROGRAMS += tests/unit/check_dump_archive
TESTS += tests/unit/check_dump_archive
tests_unit_check_dump_archive_SOURCES = tests/unit/check_dump_archive.c cli/dump_archive.c \
	cli/dump_archive.h
tests_unit_check_dump_archive_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS) $(JSONC_CFLAGS) \
	$(ARCHIVE_CFLAGS) -I$(top_srcdir)/tests/unit
tests_unit_check_dump_archive_LDADD = lib/libcdcommon.la $(CHECK_LIBS) $(JSONC_LIBS) $(ARCHIVE_LIBS)

# How fence add reads secrets (standard input, a file) and builds the
# parameter object.
check_PROGRAMS += tests/unit/check_fence_args
TESTS += tests/unit/check_fence_args
tests_unit_check_fence_args_SOURCES = tests/unit/check_fence_args.c cli/fence_args.c \
	cli/fence_args.h agents/fence_proto.c agents/fence_proto.h
tests_unit_check_fence_args_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS) $(JSONC_CFLAGS) \
	-I$(top_srcdir)/tests/unit
tests_unit_check_fence_args_LDADD = lib/libcdcommon.la $(CHECK_LIBS) $(JSONC_LIBS)

# The command line parser (options anywhere after the command's words,
# "--", the errors) and the event time format: no clusterd needed.
check_PROGRAMS += tests/unit/check_clusterctl
TESTS += tests/unit/check_clusterctl
tests_unit_check_clusterctl_SOURCES = tests/unit/check_clusterctl.c cli/parse.c cli/clusterctl.h
tests_unit_check_clusterctl_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS) $(JSONC_CFLAGS) \
	-I$(top_srcdir)/tests/unit
tests_unit_check_clusterctl_LDADD = lib/libcdcommon.la $(CHECK_LIBS)

# The lines built from clusterd's JSON that cli/text.c shares (a VM's state).
check_PROGRAMS += tests/unit/check_cli_text
TESTS += tests/unit/check_cli_text
tests_unit_check_cli_text_SOURCES = tests/unit/check_cli_text.c cli/text.c cli/text.h
tests_unit_check_cli_text_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS) $(JSONC_CFLAGS) \
	-I$(top_srcdir)/tests/unit
tests_unit_check_cli_text_LDADD = lib/libcdcommon.la $(CHECK_LIBS) $(JSONC_LIBS)

# vm move's words: the progress line, the end of a move, its exit code.
check_PROGRAMS += tests/unit/check_move_progress
TESTS += tests/unit/check_move_progress
tests_unit_check_move_progress_SOURCES = tests/unit/check_move_progress.c cli/move_progress.c \
	cli/move_progress.h cli/text.c cli/text.h
tests_unit_check_move_progress_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS) $(JSONC_CFLAGS) \
	-I$(top_srcdir)/tests/unit
tests_unit_check_move_progress_LDADD = lib/libcdcommon.la $(CHECK_LIBS) $(JSONC_LIBS)

# node drain's words: the plan table, the per-VM lines of a status, which
# VMs changed between two polls, the end of a drain and its exit code.
check_PROGRAMS += tests/unit/check_drain_progress
TESTS += tests/unit/check_drain_progress
tests_unit_check_drain_progress_SOURCES = tests/unit/check_drain_progress.c \
	cli/drain_progress.c cli/drain_progress.h cli/text.c cli/text.h
tests_unit_check_drain_progress_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS) $(JSONC_CFLAGS) \
	-I$(top_srcdir)/tests/unit
tests_unit_check_drain_progress_LDADD = lib/libcdcommon.la $(CHECK_LIBS) $(JSONC_LIBS)

# maintenance's words: the list table, a run's line and its nodes' lines,
# times and durations, --nodes as clusterd takes it.
check_PROGRAMS += tests/unit/check_maint_text
TESTS += tests/unit/check_maint_text
tests_unit_check_maint_text_SOURCES = tests/unit/check_maint_text.c \
	cli/maint_text.c cli/maint_text.h cli/text.c cli/text.h
tests_unit_check_maint_text_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS) $(JSONC_CFLAGS) \
	-I$(top_srcdir)/tests/unit
tests_unit_check_maint_text_LDADD = lib/libcdcommon.la $(CHECK_LIBS) $(JSONC_LIBS)

# cluster create's files under an output directory, and their copy to the
# nodes (with stand-ins for ssh and scp: no host is reached).
check_PROGRAMS += tests/unit/check_bootstrap
TESTS += tests/unit/check_bootstrap
tests_unit_check_bootstrap_SOURCES = tests/unit/check_bootstrap.c cli/bootstrap.c cli/bootstrap.h \
	cli/bootstrap_ssh.c
tests_unit_check_bootstrap_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS) -I$(top_srcdir)/tests/unit
tests_unit_check_bootstrap_LDADD = lib/libcdcommon.la $(CHECK_LIBS) $(OPENSSL_LIBS)
