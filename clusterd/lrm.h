/*
 * The local resource manager: carries out, on this node, the actions the
 * replicated state addresses to it, each at most once, and watches the VMs
 * that run here.
 *
 * It reads the state after every batch of changes: a VM placed on this node
 * (starting, with an action id not yet carried out) is started; a VM to stop
 * here is shut down (destroyed after the stop timeout, or at once when
 * forced). Results go back as vm.report changes. A monitor checks each VM
 * that runs here (libvirt's state and its QEMU process) and reports
 * failures; libvirt's lifecycle events make it check at once. A domain found
 * running here that the cluster did not put here is reported in the log and
 * kept: it is never killed silently.
 */
#ifndef CD_LRM_H
#define CD_LRM_H

#include <stdbool.h>

#include <qb/qbloop.h>

struct cd_lrm_config {
	const char *libvirt_uri;
	const char *qemu_pid_dir;  /* libvirt's QEMU pid files */
	int call_timeout_ms;	   /* one libvirt call */
	int stop_timeout_ms;	   /* graceful shutdown before destroy */
	int monitor_interval_ms;   /* status check of each running VM */
	const char *csvfs_run_dir; /* shared-volume files: their disk leases */
	const char *run_dir;	   /* clusterd's own (the FIFOs of restores) */
};

int cd_lrm_init(qb_loop_t *loop, const struct cd_lrm_config *cfg);
void cd_lrm_fini(void);

/*
 * The leases under dir are void (its volume's host lease ended): power off
 * at once every VM here whose domain uses a path under dir, and report it
 * failed so that the cluster may start it elsewhere. off(ctx, ok), if not
 * NULL, is called once they are all off (ok false if one may still run).
 */
void cd_lrm_storage_lost(const char *vol, const char *dir, void (*off)(void *ctx, bool ok),
			 void *ctx);

/*
 * This node lost quorum: power off every domain here at once, then call
 * done(ok) (ok false if some domain may still run).
 */
void cd_lrm_self_fence(void (*done)(bool ok));

/*
 * From cd_lrm_self_fence() on, no start begins on this node (one gate, at
 * every start point, also after the disk leases were taken) until this is
 * called: quorum came back and clusterd is not stopping.
 */
void cd_lrm_allow_starts(void);

/*
 * This node lost quorum and the cluster freezes rather than stops: pause
 * every domain here, then call done(ok). cd_lrm_thaw() resumes the ones it
 * paused (quorum back); a self-fence powers them off instead.
 */
void cd_lrm_freeze(void (*done)(bool ok));
void cd_lrm_thaw(void);

/* The state changed: look for work. */
void cd_lrm_state_changed(void);

/*
 * An import of a domain that runs here (clusterctl vm import): take the
 * leases of its shared disks (those of xml) exclusively, as a start does,
 * if this node may start VMs now. done(ctx, rc, err) once all answered; on
 * a failure those taken are given back first. Then exactly one of
 * cd_lrm_import_adopted() (the cluster recorded it running here: the
 * leases are the VM's, given back when it stops here) or
 * cd_lrm_import_abandon() (refused: given back). Returns 0, or a negative
 * code with err set (done not called).
 */
typedef void cd_lrm_import_fn(void *ctx, int rc, const char *err);
int cd_lrm_import_leases(const char *name, const char *xml, cd_lrm_import_fn *done, void *ctx,
			 char *err, size_t errlen);
void cd_lrm_import_adopted(const char *name);
void cd_lrm_import_abandon(const char *name);

#endif
