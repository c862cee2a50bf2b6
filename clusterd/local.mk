sbin_PROGRAMS += clusterd/clusterd

clusterd_clusterd_SOURCES = \
	clusterd/main.c \
	clusterd/conf.c clusterd/conf.h \
	clusterd/hostinfo.c clusterd/hostinfo.h \
	clusterd/membership.c clusterd/membership.h \
	clusterd/replica.c clusterd/replica.h \
	clusterd/persist.c clusterd/persist.h \
	clusterd/snapstream.c clusterd/snapstream.h \
	clusterd/statecheck.c clusterd/statecheck.h \
	clusterd/clockskew.c clusterd/clockskew.h \
	clusterd/offloop.c clusterd/offloop.h \
	clusterd/ipcs.c clusterd/ipcs.h lib/ipcpeer.c lib/ipcpeer.h \
	clusterd/ipc_cmd.c clusterd/ipc_cmd.h \
	clusterd/ipc_cluster.c clusterd/ipc_check.c clusterd/ipc_vm.c clusterd/ipc_move.c clusterd/ipc_volume.c clusterd/ipc_fence.c clusterd/ipc_drain.c \
	clusterd/ipc_maint.c clusterd/ipc_debug.c \
	clusterd/blackbox.c clusterd/blackbox.h clusterd/debugdump.c clusterd/debugdump.h \
	clusterd/nodecall.c clusterd/nodecall.h \
	clusterd/lrm.c clusterd/lrm.h \
	clusterd/lrm_leases.c clusterd/lrm_move.c clusterd/lrm_quick.c clusterd/lrm_settle.c clusterd/lrm_sweep.c clusterd/lrm_int.h \
	clusterd/quorumloss.c clusterd/quorumloss.h \
	clusterd/identity.c clusterd/identity.h \
	clusterd/coordinator.c clusterd/coordinator.h clusterd/coordinator_int.h \
	clusterd/placement.c clusterd/drain.c clusterd/maint_run.c clusterd/events_maint.c clusterd/sendonce.c clusterd/sendonce.h clusterd/failover.c \
	clusterd/volmgr.c clusterd/volmgr.h clusterd/volmgr_int.h \
	clusterd/hostlease.c clusterd/voljobs.c clusterd/volcoord.c clusterd/volfiles.c \
	clusterd/ipc_import.c clusterd/events.c clusterd/events.h clusterd/stats.c clusterd/stats.h \
	clusterd/shutdown.c clusterd/shutdown.h \
	clusterd/console.c clusterd/console.h \
	clusterd/timing.h \
	clusterd/loopdev.c clusterd/loopdev.h \
	clusterd/watchdog.c clusterd/watchdog.h \
	agents/vm_agent.c agents/vm_agent.h agents/peer_facts.c agents/peer_facts.h \
	agents/migrate.c agents/migrate.h agents/validate.c \
	agents/cpubaseline.c agents/cpubaseline.h agents/agent_names.c \
	agents/import.c agents/import.h \
	agents/quick.c agents/quick.h agents/quick_save.c agents/quick_restore.c \
	agents/vmstate.c agents/vmstate.h agents/vmstate_int.h agents/vmstate_io.c \
	agents/vmstate_write.c agents/vmstate_read.c \
	agents/fence.c agents/fence.h
clusterd_clusterd_CPPFLAGS = $(AM_CPPFLAGS) -DSBINDIR='"$(sbindir)"'
clusterd_clusterd_CFLAGS = $(AM_CFLAGS) $(QB_CFLAGS) $(CPG_CFLAGS) $(QUORUM_CFLAGS) \
	$(VOTEQUORUM_CFLAGS) $(CMAP_CFLAGS) $(JSONC_CFLAGS) $(VIRT_CFLAGS) $(OPENSSL_CFLAGS) $(XML_CFLAGS)
clusterd_clusterd_LDADD = core/libcdcore.la policy/libcdpolicy.la csvfs/libcsvfs.la \
	lib/libcdchild.la lib/libcdcommon.la $(OPENSSL_LIBS) \
	$(VIRT_LIBS) -lpthread $(QB_LIBS) $(CPG_LIBS) \
	$(QUORUM_LIBS) $(VOTEQUORUM_LIBS) $(CMAP_LIBS) $(CSCOMMON_LIBS) $(JSONC_LIBS) $(XML_LIBS)
