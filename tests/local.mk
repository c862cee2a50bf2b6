# Unit tests (Check): one check_<module> per pure module.
UNIT_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS) $(JSONC_CFLAGS) -I$(top_srcdir)/tests/unit
UNIT_LIBS = core/libcdcore.la lib/libcdcommon.la $(CHECK_LIBS) $(JSONC_LIBS)

unit_tests = tests/unit/check_state tests/unit/check_sync tests/unit/check_msg \
	tests/unit/check_state_file tests/unit/check_conf tests/unit/check_vm tests/unit/check_vm_move tests/unit/check_vm_quick tests/unit/check_drain \
	tests/unit/check_vm_owners tests/unit/check_vm_keys \
	tests/unit/check_maint \
	tests/unit/check_move_settle \
	tests/unit/check_wdrule tests/unit/check_vmdisks tests/unit/check_vmident \
	tests/unit/check_vm_import \
	tests/unit/check_vmpage \
	tests/unit/check_quorumview tests/unit/check_deadrule tests/unit/check_validate \
	tests/unit/check_change tests/unit/check_leasestate tests/unit/check_props \
	tests/unit/check_ipc_admit tests/unit/check_fencedev tests/unit/check_cpumodels \
	tests/unit/check_policy_adapter \
	tests/unit/check_cpubaseline \
	tests/unit/check_lrm_phase tests/unit/check_state_budget tests/unit/check_move_check \
	tests/unit/check_move_peer tests/unit/check_schedule \
	tests/unit/check_chunks tests/unit/check_changelog tests/unit/check_syncdelta tests/unit/check_journal \
	tests/unit/check_statecheck tests/unit/check_state_sum tests/unit/check_failpath \
	tests/unit/check_lostnode tests/unit/check_lost_table \
	tests/unit/check_clustercheck \
	tests/unit/check_dump tests/unit/check_nodecall
check_PROGRAMS += $(unit_tests)
TESTS += $(unit_tests)
noinst_HEADERS += tests/unit/check_common.h
# The state's set-up (a three-node state, changes from JSON text), for the
# tests of the replicated state.
FIXTURE_SOURCES = tests/unit/check_fixture.c tests/unit/check_fixture.h

tests_unit_check_state_SOURCES = tests/unit/check_state.c
tests_unit_check_state_CFLAGS = $(UNIT_CFLAGS)
tests_unit_check_state_LDADD = $(UNIT_LIBS)
tests_unit_check_sync_SOURCES = tests/unit/check_sync.c
tests_unit_check_sync_CFLAGS = $(UNIT_CFLAGS)
tests_unit_check_sync_LDADD = $(UNIT_LIBS)
tests_unit_check_msg_SOURCES = tests/unit/check_msg.c
tests_unit_check_msg_CFLAGS = $(UNIT_CFLAGS) $(ZSTD_CFLAGS)
tests_unit_check_msg_LDADD = $(UNIT_LIBS) $(ZSTD_LIBS)
tests_unit_check_state_file_SOURCES = tests/unit/check_state_file.c
tests_unit_check_state_file_CFLAGS = $(UNIT_CFLAGS)
tests_unit_check_state_file_LDADD = $(UNIT_LIBS)
tests_unit_check_state_sum_SOURCES = tests/unit/check_state_sum.c $(FIXTURE_SOURCES)
tests_unit_check_state_sum_CFLAGS = $(UNIT_CFLAGS) $(OPENSSL_CFLAGS)
tests_unit_check_state_sum_LDADD = $(UNIT_LIBS) $(OPENSSL_LIBS)
tests_unit_check_statecheck_SOURCES = tests/unit/check_statecheck.c
tests_unit_check_statecheck_CFLAGS = $(UNIT_CFLAGS)
tests_unit_check_statecheck_LDADD = $(UNIT_LIBS)
tests_unit_check_journal_SOURCES = tests/unit/check_journal.c $(FIXTURE_SOURCES)
tests_unit_check_journal_CFLAGS = $(UNIT_CFLAGS)
tests_unit_check_journal_LDADD = $(UNIT_LIBS)
tests_unit_check_vm_SOURCES = tests/unit/check_vm.c $(FIXTURE_SOURCES)
tests_unit_check_vm_CFLAGS = $(UNIT_CFLAGS)
tests_unit_check_vm_LDADD = $(UNIT_LIBS)
tests_unit_check_vm_move_SOURCES = tests/unit/check_vm_move.c $(FIXTURE_SOURCES)
tests_unit_check_vm_move_CFLAGS = $(UNIT_CFLAGS)
tests_unit_check_vm_move_LDADD = $(UNIT_LIBS)
tests_unit_check_vm_quick_SOURCES = tests/unit/check_vm_quick.c $(FIXTURE_SOURCES)
tests_unit_check_vm_quick_CFLAGS = $(UNIT_CFLAGS)
tests_unit_check_vm_quick_LDADD = $(UNIT_LIBS)
tests_unit_check_vm_owners_SOURCES = tests/unit/check_vm_owners.c $(FIXTURE_SOURCES)
tests_unit_check_vm_owners_CFLAGS = $(UNIT_CFLAGS)
tests_unit_check_vm_owners_LDADD = $(UNIT_LIBS)
tests_unit_check_vm_keys_SOURCES = tests/unit/check_vm_keys.c $(FIXTURE_SOURCES)
tests_unit_check_vm_keys_CFLAGS = $(UNIT_CFLAGS)
tests_unit_check_vm_keys_LDADD = $(UNIT_LIBS)
tests_unit_check_drain_SOURCES = tests/unit/check_drain.c $(FIXTURE_SOURCES)
tests_unit_check_drain_CFLAGS = $(UNIT_CFLAGS)
tests_unit_check_drain_LDADD = core/libcdcore.la policy/libcdpolicy.la lib/libcdcommon.la \
	$(CHECK_LIBS) $(JSONC_LIBS)
tests_unit_check_maint_SOURCES = tests/unit/check_maint.c $(FIXTURE_SOURCES)
tests_unit_check_maint_CFLAGS = $(UNIT_CFLAGS)
tests_unit_check_maint_LDADD = $(UNIT_LIBS)
tests_unit_check_move_settle_SOURCES = tests/unit/check_move_settle.c
tests_unit_check_move_settle_CFLAGS = $(UNIT_CFLAGS)
tests_unit_check_move_settle_LDADD = $(UNIT_LIBS)
tests_unit_check_wdrule_SOURCES = tests/unit/check_wdrule.c
tests_unit_check_wdrule_CFLAGS = $(UNIT_CFLAGS)
tests_unit_check_wdrule_LDADD = $(UNIT_LIBS)
tests_unit_check_vmdisks_SOURCES = tests/unit/check_vmdisks.c
tests_unit_check_vmdisks_CFLAGS = $(UNIT_CFLAGS)
tests_unit_check_vmdisks_LDADD = $(UNIT_LIBS)
tests_unit_check_vm_import_SOURCES = tests/unit/check_vm_import.c $(FIXTURE_SOURCES)
tests_unit_check_vm_import_CFLAGS = $(UNIT_CFLAGS)
tests_unit_check_vm_import_LDADD = $(UNIT_LIBS)
tests_unit_check_vmident_SOURCES = tests/unit/check_vmident.c
tests_unit_check_vmident_CFLAGS = $(UNIT_CFLAGS)
tests_unit_check_vmident_LDADD = $(UNIT_LIBS)
tests_unit_check_vmpage_SOURCES = tests/unit/check_vmpage.c $(FIXTURE_SOURCES)
tests_unit_check_vmpage_CFLAGS = $(UNIT_CFLAGS)
tests_unit_check_vmpage_LDADD = $(UNIT_LIBS)
tests_unit_check_quorumview_SOURCES = tests/unit/check_quorumview.c
tests_unit_check_quorumview_CFLAGS = $(UNIT_CFLAGS)
tests_unit_check_quorumview_LDADD = $(UNIT_LIBS)
tests_unit_check_deadrule_SOURCES = tests/unit/check_deadrule.c
tests_unit_check_deadrule_CFLAGS = $(UNIT_CFLAGS)
tests_unit_check_deadrule_LDADD = $(UNIT_LIBS)
tests_unit_check_props_SOURCES = tests/unit/check_props.c
tests_unit_check_props_CFLAGS = $(UNIT_CFLAGS)
tests_unit_check_props_LDADD = $(UNIT_LIBS)
tests_unit_check_ipc_admit_SOURCES = tests/unit/check_ipc_admit.c
tests_unit_check_ipc_admit_CFLAGS = $(UNIT_CFLAGS)
tests_unit_check_ipc_admit_LDADD = $(UNIT_LIBS)
tests_unit_check_validate_SOURCES = tests/unit/check_validate.c $(FIXTURE_SOURCES)
tests_unit_check_validate_CFLAGS = $(UNIT_CFLAGS)
tests_unit_check_validate_LDADD = $(UNIT_LIBS)
tests_unit_check_state_budget_SOURCES = tests/unit/check_state_budget.c $(FIXTURE_SOURCES)
tests_unit_check_state_budget_CFLAGS = $(UNIT_CFLAGS)
tests_unit_check_state_budget_LDADD = $(UNIT_LIBS)
tests_unit_check_cpumodels_SOURCES = tests/unit/check_cpumodels.c
tests_unit_check_cpumodels_CFLAGS = $(UNIT_CFLAGS)
tests_unit_check_cpumodels_LDADD = policy/libcdpolicy.la $(UNIT_LIBS)
tests_unit_check_policy_adapter_SOURCES = tests/unit/check_policy_adapter.c
tests_unit_check_policy_adapter_CFLAGS = $(UNIT_CFLAGS)
tests_unit_check_policy_adapter_LDADD = policy/libcdpolicy.la $(UNIT_LIBS)
tests_unit_check_cpubaseline_SOURCES = tests/unit/check_cpubaseline.c
tests_unit_check_cpubaseline_CFLAGS = $(UNIT_CFLAGS)
tests_unit_check_cpubaseline_LDADD = $(UNIT_LIBS)
tests_unit_check_change_SOURCES = tests/unit/check_change.c $(FIXTURE_SOURCES)
tests_unit_check_change_CFLAGS = $(UNIT_CFLAGS)
tests_unit_check_change_LDADD = $(UNIT_LIBS)
tests_unit_check_leasestate_SOURCES = tests/unit/check_leasestate.c
tests_unit_check_leasestate_CFLAGS = $(UNIT_CFLAGS)
tests_unit_check_leasestate_LDADD = $(UNIT_LIBS)
tests_unit_check_lrm_phase_SOURCES = tests/unit/check_lrm_phase.c
tests_unit_check_lrm_phase_CFLAGS = $(UNIT_CFLAGS)
tests_unit_check_lrm_phase_LDADD = $(UNIT_LIBS)
tests_unit_check_fencedev_SOURCES = tests/unit/check_fencedev.c $(FIXTURE_SOURCES)
tests_unit_check_fencedev_CFLAGS = $(UNIT_CFLAGS)
tests_unit_check_fencedev_LDADD = $(UNIT_LIBS)
tests_unit_check_move_check_SOURCES = tests/unit/check_move_check.c $(FIXTURE_SOURCES)
tests_unit_check_move_check_CFLAGS = $(UNIT_CFLAGS)
tests_unit_check_move_check_LDADD = core/libcdcore.la policy/libcdpolicy.la lib/libcdcommon.la \
	$(CHECK_LIBS) $(JSONC_LIBS)
tests_unit_check_move_peer_SOURCES = tests/unit/check_move_peer.c
tests_unit_check_move_peer_CFLAGS = $(UNIT_CFLAGS)
tests_unit_check_move_peer_LDADD = core/libcdcore.la policy/libcdpolicy.la lib/libcdcommon.la \
	$(CHECK_LIBS) $(JSONC_LIBS)
tests_unit_check_schedule_SOURCES = tests/unit/check_schedule.c
tests_unit_check_schedule_CFLAGS = $(UNIT_CFLAGS)
tests_unit_check_schedule_LDADD = $(UNIT_LIBS)
tests_unit_check_dump_SOURCES = tests/unit/check_dump.c
tests_unit_check_dump_CFLAGS = $(UNIT_CFLAGS)
tests_unit_check_dump_LDADD = $(UNIT_LIBS)
tests_unit_check_nodecall_SOURCES = tests/unit/check_nodecall.c
tests_unit_check_nodecall_CFLAGS = $(UNIT_CFLAGS)
tests_unit_check_nodecall_LDADD = $(UNIT_LIBS)
tests_unit_check_chunks_SOURCES = tests/unit/check_chunks.c
tests_unit_check_chunks_CFLAGS = $(UNIT_CFLAGS)
tests_unit_check_chunks_LDADD = $(UNIT_LIBS)
tests_unit_check_changelog_SOURCES = tests/unit/check_changelog.c
tests_unit_check_changelog_CFLAGS = $(UNIT_CFLAGS)
tests_unit_check_changelog_LDADD = $(UNIT_LIBS)
tests_unit_check_syncdelta_SOURCES = tests/unit/check_syncdelta.c
tests_unit_check_syncdelta_CFLAGS = $(UNIT_CFLAGS)
tests_unit_check_syncdelta_LDADD = $(UNIT_LIBS)
tests_unit_check_conf_SOURCES = tests/unit/check_conf.c clusterd/conf.c
tests_unit_check_conf_CFLAGS = $(UNIT_CFLAGS)
tests_unit_check_conf_LDADD = $(UNIT_LIBS)

# clusterd's counters for the console's metrics.
check_PROGRAMS += tests/unit/check_stats
TESTS += tests/unit/check_stats
tests_unit_check_stats_SOURCES = tests/unit/check_stats.c clusterd/stats.c clusterd/stats.h
tests_unit_check_stats_CFLAGS = $(UNIT_CFLAGS)
tests_unit_check_stats_LDADD = $(UNIT_LIBS)

# Lab tests need root, network namespaces and corosync: run by
# scripts/test.sh (the README's test command), not by make check.
EXTRA_DIST += tests/lab
tests_unit_check_failpath_SOURCES = tests/unit/check_failpath.c $(FIXTURE_SOURCES)
tests_unit_check_failpath_CFLAGS = $(UNIT_CFLAGS)
tests_unit_check_failpath_LDADD = $(UNIT_LIBS)
tests_unit_check_lostnode_SOURCES = tests/unit/check_lostnode.c $(FIXTURE_SOURCES)
tests_unit_check_lostnode_CFLAGS = $(UNIT_CFLAGS)
tests_unit_check_lostnode_LDADD = $(UNIT_LIBS)
tests_unit_check_lost_table_SOURCES = tests/unit/check_lost_table.c $(FIXTURE_SOURCES)
tests_unit_check_lost_table_CFLAGS = $(UNIT_CFLAGS)
tests_unit_check_lost_table_LDADD = $(UNIT_LIBS)
tests_unit_check_clustercheck_SOURCES = tests/unit/check_clustercheck.c $(FIXTURE_SOURCES)
tests_unit_check_clustercheck_CFLAGS = $(UNIT_CFLAGS)
tests_unit_check_clustercheck_LDADD = $(UNIT_LIBS)
