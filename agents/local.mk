# agents: the VM agent and the fence runner are built into clusterd (see
# clusterd/local.mk), and fence_proto into clusterctl too (cli/local.mk).
# This file builds only their unit tests, each from source.

# The fence-agents interface (pure), and the fence runner (qb loop) on top of
# it, whose agents run through lib/libcdchild.la.
fence_proto_sources = agents/fence_proto.c agents/fence_proto.h
fence_sources = agents/fence.c agents/fence.h $(fence_proto_sources)
noinst_HEADERS += tests/unit/check_fence_common.h

check_PROGRAMS += tests/unit/check_fence_proto
TESTS += tests/unit/check_fence_proto
tests_unit_check_fence_proto_SOURCES = tests/unit/check_fence_proto.c $(fence_proto_sources)
tests_unit_check_fence_proto_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS) $(JSONC_CFLAGS) \
	-I$(top_srcdir)/tests/unit
tests_unit_check_fence_proto_LDADD = lib/libcdcommon.la $(CHECK_LIBS) $(JSONC_LIBS)

check_PROGRAMS += tests/unit/check_fence
TESTS += tests/unit/check_fence
tests_unit_check_fence_SOURCES = tests/unit/check_fence.c $(fence_sources)
tests_unit_check_fence_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS) $(QB_CFLAGS) $(JSONC_CFLAGS) \
	-I$(top_srcdir)/tests/unit
tests_unit_check_fence_LDADD = lib/libcdchild.la lib/libcdcommon.la $(CHECK_LIBS) $(QB_LIBS) \
	$(JSONC_LIBS)

# The lab's fence agent (tests/lab): a script, not installed.
EXTRA_DIST += agents/fence_lab

# The VM agent and its migration calls, and how their tests build.
vm_agent_sources = agents/vm_agent.c agents/vm_agent.h agents/peer_facts.c agents/peer_facts.h \
	agents/migrate.c agents/migrate.h agents/cpubaseline.c agents/cpubaseline.h \
	agents/agent_names.c agents/import.c agents/import.h agents/quick.c agents/quick.h agents/quick_save.c \
	agents/quick_restore.c $(vmstate_sources)
vm_agent_test_cflags = $(AM_CFLAGS) $(CHECK_CFLAGS) $(QB_CFLAGS) $(VIRT_CFLAGS) $(JSONC_CFLAGS) \
	$(OPENSSL_CFLAGS) -I$(top_srcdir)/tests/unit
vm_agent_test_ldadd = core/libcdcore.la lib/libcdchild.la lib/libcdcommon.la $(CHECK_LIBS) $(QB_LIBS) $(VIRT_LIBS) \
	$(JSONC_LIBS) $(OPENSSL_LIBS) -lpthread

# The VM agent against libvirt's test driver, its domain lookup wrapped so
# that a test can make it fail, and the job calls the test driver lacks so
# that a test can play them, and its restore so that it takes our flags
# (tests/unit/check_vm_agent.c).
check_PROGRAMS += tests/unit/check_vm_agent
TESTS += tests/unit/check_vm_agent
tests_unit_check_vm_agent_SOURCES = tests/unit/check_vm_agent.c $(vm_agent_sources)
tests_unit_check_vm_agent_CFLAGS = $(vm_agent_test_cflags)
tests_unit_check_vm_agent_LDFLAGS = -Wl,--wrap=virDomainLookupByName \
	-Wl,--wrap=virGetLastError -Wl,--wrap=virResetLastError -Wl,--wrap=virDomainDestroy \
	-Wl,--wrap=virDomainAbortJob -Wl,--wrap=virDomainGetJobInfo -Wl,--wrap=virDomainGetJobStats \
	-Wl,--wrap=virConnectBaselineHypervisorCPU -Wl,--wrap=virDomainRestoreFlags
tests_unit_check_vm_agent_LDADD = $(vm_agent_test_ldadd)

# Domain XML validated against libvirt's schema in its test driver
# (tests/unit/check_agent_validate.c).
check_PROGRAMS += tests/unit/check_agent_validate
TESTS += tests/unit/check_agent_validate
tests_unit_check_agent_validate_SOURCES = tests/unit/check_agent_validate.c agents/validate.c \
	$(vm_agent_sources)
tests_unit_check_agent_validate_CFLAGS = $(vm_agent_test_cflags) $(XML_CFLAGS)
tests_unit_check_agent_validate_LDADD = $(vm_agent_test_ldadd) $(XML_LIBS)

# The pure parts of quick migration's calls (tests/unit/check_quick.c).
check_PROGRAMS += tests/unit/check_quick
TESTS += tests/unit/check_quick
tests_unit_check_quick_SOURCES = tests/unit/check_quick.c $(vm_agent_sources)
tests_unit_check_quick_CFLAGS = $(vm_agent_test_cflags)
tests_unit_check_quick_LDADD = $(vm_agent_test_ldadd)

# The pure parts of the migration calls (tests/unit/check_migrate.c).
check_PROGRAMS += tests/unit/check_migrate
TESTS += tests/unit/check_migrate
tests_unit_check_migrate_SOURCES = tests/unit/check_migrate.c $(vm_agent_sources)
tests_unit_check_migrate_CFLAGS = $(vm_agent_test_cflags)
tests_unit_check_migrate_LDADD = $(vm_agent_test_ldadd)

# A VM's state file: its blocks, libvirt's header, the streaming writer and
# reader, on a regular file of the build tree (tests/unit/check_vmstate.c).
vmstate_sources = agents/vmstate.c agents/vmstate.h agents/vmstate_int.h agents/vmstate_io.c \
	agents/vmstate_write.c agents/vmstate_read.c
check_PROGRAMS += tests/unit/check_vmstate
TESTS += tests/unit/check_vmstate
tests_unit_check_vmstate_SOURCES = tests/unit/check_vmstate.c $(vmstate_sources)
tests_unit_check_vmstate_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS) $(OPENSSL_CFLAGS) \
	-I$(top_srcdir)/tests/unit
tests_unit_check_vmstate_LDADD = lib/libcdcommon.la $(CHECK_LIBS) $(OPENSSL_LIBS) -lpthread
