sbin_PROGRAMS += clusterd/clusterd

# The pure core (state, messages, sync rounds): what the unit tests link.
noinst_LTLIBRARIES += clusterd/libcdcore.la
clusterd_libcdcore_la_SOURCES = \
	clusterd/state.c clusterd/state.h \
	clusterd/props.c clusterd/props.h \
	clusterd/change.c clusterd/change.h \
	clusterd/node.c clusterd/node.h \
	clusterd/fencedev.c clusterd/fencedev.h \
	clusterd/fencedev_text.c clusterd/fencedev_text.h \
	agents/fence_proto.c agents/fence_proto.h \
	clusterd/vm.c clusterd/vm.h clusterd/vm_internal.h \
	clusterd/vm_lifecycle.c \
	clusterd/volume.c clusterd/volume.h \
	clusterd/leasestate.c clusterd/leasestate.h \
	clusterd/lrm_phase.c clusterd/lrm_phase.h \
	clusterd/state_file.c clusterd/state_file.h \
	clusterd/msg.c clusterd/msg.h \
	clusterd/sync.c clusterd/sync.h \
	clusterd/wdrule.c clusterd/wdrule.h \
	clusterd/vmdisks.c clusterd/vmdisks.h \
	clusterd/vmident.c clusterd/vmident.h \
	clusterd/cpumodels.c clusterd/cpumodels.h \
	clusterd/policy_adapter.c clusterd/policy_adapter.h \
	clusterd/quorumview.c clusterd/quorumview.h \
	clusterd/deadrule.c clusterd/deadrule.h \
	clusterd/ipc_admit.c clusterd/ipc_admit.h
clusterd_libcdcore_la_CFLAGS = $(AM_CFLAGS) $(JSONC_CFLAGS) $(XML_CFLAGS)
clusterd_libcdcore_la_LIBADD = lib/libcdcommon.la $(JSONC_LIBS) $(XML_LIBS)

clusterd_clusterd_SOURCES = \
	clusterd/main.c \
	clusterd/conf.c clusterd/conf.h \
	clusterd/hostinfo.c clusterd/hostinfo.h \
	clusterd/membership.c clusterd/membership.h \
	clusterd/replica.c clusterd/replica.h \
	clusterd/ipcs.c clusterd/ipcs.h lib/ipcpeer.c lib/ipcpeer.h \
	clusterd/ipc_cmd.c clusterd/ipc_cmd.h \
	clusterd/ipc_cluster.c clusterd/ipc_vm.c clusterd/ipc_volume.c clusterd/ipc_fence.c \
	clusterd/lrm.c clusterd/lrm.h \
	clusterd/lrm_leases.c clusterd/lrm_sweep.c clusterd/lrm_int.h \
	clusterd/quorumloss.c clusterd/quorumloss.h \
	clusterd/identity.c clusterd/identity.h \
	clusterd/coordinator.c clusterd/coordinator.h clusterd/coordinator_int.h \
	clusterd/placement.c clusterd/failover.c \
	clusterd/volmgr.c clusterd/volmgr.h clusterd/volmgr_int.h \
	clusterd/hostlease.c clusterd/voljobs.c clusterd/volcoord.c clusterd/volfiles.c \
	clusterd/events.c clusterd/events.h \
	clusterd/timing.h \
	clusterd/loopdev.c clusterd/loopdev.h \
	clusterd/watchdog.c clusterd/watchdog.h \
	agents/vm_agent.c agents/vm_agent.h \
	agents/fence.c agents/fence.h
clusterd_clusterd_CFLAGS = $(AM_CFLAGS) $(QB_CFLAGS) $(CPG_CFLAGS) $(QUORUM_CFLAGS) \
	$(VOTEQUORUM_CFLAGS) $(CMAP_CFLAGS) $(JSONC_CFLAGS) $(VIRT_CFLAGS)
clusterd_clusterd_LDADD = clusterd/libcdcore.la policy/libcdpolicy.la csvfs/libcsvfs.la \
	lib/libcdchild.la lib/libcdcommon.la $(OPENSSL_LIBS) \
	$(VIRT_LIBS) -lpthread $(QB_LIBS) $(CPG_LIBS) \
	$(QUORUM_LIBS) $(VOTEQUORUM_LIBS) $(CMAP_LIBS) $(CSCOMMON_LIBS) $(JSONC_LIBS)
