# The daemon's core without a loop, threads or libvirt: the replicated state
# and the changes to it, messages, sync rounds, the state file, and the
# tables that decide (VM lifecycle, lease states, a VM's line on its node,
# who is dead, watchdog rules, the state-to-policy adapter, a move's
# preflight). clusterd links it, and so does every unit test of it; a
# program that uses the preflight links policy/libcdpolicy.la after it.
noinst_LTLIBRARIES += core/libcdcore.la
core_libcdcore_la_SOURCES = \
	core/state.c core/state.h \
	core/props.c core/props.h \
	core/change.c core/change.h \
	core/node.c core/node.h \
	core/drain.c core/drain.h \
	core/drain_plan.c core/drain_plan.h \
	core/maint.c core/maint.h core/maint_int.h core/maint_ops.c \
	core/fencedev.c core/fencedev.h \
	core/fencedev_text.c core/fencedev_text.h \
	agents/fence_proto.c agents/fence_proto.h \
	core/vm.c core/vm.h core/vm_internal.h \
	core/vm_lifecycle.c core/vm_changes.c \
	core/vm_move.c core/vm_owners.c core/vm_keys.c \
	core/vmpage.c core/vmpage.h \
	core/move_settle.c core/move_settle.h \
	core/volume.c core/volume.h \
	core/leasestate.c core/leasestate.h \
	core/lrm_phase.c core/lrm_phase.h \
	core/state_file.c core/state_file.h \
	core/state_sum.c core/state_sum.h \
	core/journal.c core/journal.h \
	core/msg.c core/msg.h \
	core/sync.c core/sync.h \
	core/syncdelta.c core/syncdelta.h \
	core/wdrule.c core/wdrule.h \
	core/vmdisks.c core/vmdisks.h \
	core/vm_import.c core/vm_import.h \
	core/vmident.c core/vmident.h \
	core/cpumodels.c core/cpumodels.h \
	core/cpubaseline.c core/cpubaseline.h \
	core/policy_adapter.c core/policy_adapter.h \
	core/move_check.c core/move_check.h core/move_report.c \
	core/move_peer.c core/move_peer.h \
	core/xmlquery.c core/xmlquery.h \
	core/quorumview.c core/quorumview.h \
	core/deadrule.c core/deadrule.h \
	core/failpath.c core/failpath.h \
	core/lostnode.c core/lostnode.h \
	core/clustercheck.c core/clustercheck.h \
	core/schedule.c core/schedule.h \
	core/ipc_admit.c core/ipc_admit.h \
	core/chunks.c core/chunks.h \
	core/dump.c core/dump.h \
	core/nodecall.c core/nodecall.h \
	core/statecheck.c core/statecheck.h \
	core/changelog.c core/changelog.h
core_libcdcore_la_CFLAGS = $(AM_CFLAGS) $(JSONC_CFLAGS) $(XML_CFLAGS) $(ZSTD_CFLAGS)
core_libcdcore_la_LIBADD = lib/libcdcommon.la $(JSONC_LIBS) $(XML_LIBS) $(ZSTD_LIBS)
