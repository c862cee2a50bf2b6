/*
 * The local resource manager's part in quick moves and saves (lrm_int.h;
 * the replicated phases are in vm.h, struct cd_vm_move and cd_vm_saved).
 *
 *   source  saving: makes sure the state file is there (a file request on
 *           its volume), pauses the VM and writes its memory into the file
 *           (agents/vmstate.h), powers it off once the image is complete
 *           and durable, gives its disk leases up and says so with the
 *           image's length and checksum (vm.move.step);
 *   target  meanwhile restores it paused, following the writer through
 *           the volume; restoring: checks the image against the recorded
 *           checksum, takes the disk leases, says so (vm.restored, which
 *           consumes the saved state), and only then lets it run
 *           (resuming) and reports it running.
 *
 * vm stop --save is the source's half with a report "saved"; a start of a
 * saved VM is the target's half (the leases first, as every start).
 *
 * Decisions come from the domain's real state: a save that failed but left
 * the VM running keeps it running where it was; a restored copy runs only
 * after the cluster recorded its restore, so a saved state is never
 * restored twice.
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <qb/qblog.h>

#include <clusterd/result.h>

#include "agents/vm_agent.h"
#include "agents/vmstate.h"
#include "clusterd/events.h"
#include "clusterd/lrm_int.h"
#include "clusterd/membership.h"
#include "clusterd/replica.h"
#include "clusterd/timing.h"
#include "core/change.h"
#include "core/volume.h"
#include "lib/jsonget.h"
#include "lib/util.h"

/* How long a restore waits for a writer that makes no progress. */
#define FOLLOW_TIMEOUT_MS 30000
/* Restores of one image tried on one node before it gives up there. */
#define RESTORE_TRIES 2

/* Fresh per-action fields when v meets a new action of its VM. */
static void q_begin(struct lvm *v, uint64_t action)
{
	if (v->q_action == action)
		return;
	v->q_action = action;
	v->move_action = action; /* what its move steps name */
	v->next_settle = 0;
	v->q_file_req = 0;
	v->q_saved = false;
	memset(&v->q_sv, 0, sizeof(v->q_sv));
	v->q_restore = 0;
	v->q_corrupt = false;
	v->q_tries = 0;
	v->q_sha[0] = '\0';
	v->q_len = 0;
	v->q_cancel_sent = false;
	v->q_resumed = false;
	v->q_err[0] = '\0';
	v->q_rate = -2;
	v->q_cleared = false;
}

/*
 * A guest that dirties at most this (MiB/s) has a quick move's first pass
 * made while it runs: QEMU's dirty tracking under TCG loses writes of a
 * guest that rewrites its memory during a migration (QEMU 7.2), and such a
 * guest would gain little from it anyway. Others are paused first.
 */
#define PRECOPY_MAX_MIBS 8

/* Whether v's save of vm pre-copies: a move's (not a stop's, not a live move's fallback). */
static bool precopies(const struct lvm *v, const struct cd_vm *vm, bool stop)
{
	return !stop && !vm->move.fallback && v->q_rate >= 0 && v->q_rate <= PRECOPY_MAX_MIBS;
}

/* --- the state file --- */

/*
 * What a VM's image needs: its memory, QEMU's per-page framing and device
 * state; with a first pass while it runs, its memory once more (what it
 * dirtied meanwhile).
 */
static uint64_t image_room(const struct cd_vm *vm, bool precopy)
{
	uint64_t mem = vm->memory_mb + vm->memory_mb / 32;

	return (((precopy ? 2 * mem : mem) + 64) << 20) + CD_VMSTATE_OVERHEAD;
}

static void file_path(const char *vol, const char *file, char *path, size_t len)
{
	snprintf(path, len, "%s/%s/%s", lrm.cfg.csvfs_run_dir, vol, file);
}

static void file_request_done(void *ctx, int rc, const char *err)
{
	char *name = ctx;

	if (rc < 0)
		vm_log(LOG_WARNING, name, "state file request not recorded: %s", err);
	free(name);
	cd_lrm_state_changed();
}

static int file_request(struct lvm *v, const char *vol, const char *file, const char *fop,
			uint64_t size)
{
	struct json_object *c = json_object_new_object();
	char *name = strdup(v->name);
	uint64_t id = cd_random_id();
	int rc;

	json_object_object_add(c, "op",
			       json_object_new_string(cd_change_name(CD_CHANGE_VOLUME_REQUEST)));
	json_object_object_add(c, "name", json_object_new_string(vol));
	json_object_object_add(c, "file", json_object_new_string(file));
	json_object_object_add(c, "fop", json_object_new_string(fop));
	if (size)
		json_object_object_add(c, "size", json_object_new_int64((int64_t)size));
	json_object_object_add(c, "id", json_object_new_int64((int64_t)id));
	json_object_object_add(c, "node", json_object_new_int64(cd_membership_local_nodeid()));
	rc = name ? cd_replica_submit(c, file_request_done, name) : -ENOMEM;
	json_object_put(c);
	if (rc < 0) {
		free(name);
		return rc;
	}
	vm_log(LOG_INFO, v->name, "asked for its state file %s/%s (%s, %" PRIu64 " MiB)", vol, file,
	       fop, size >> 20);
	v->q_file_req = id;
	return 0;
}

/*
 * Whether the state file vol/file is there, big enough for vm, and exposed
 * here (path set): 1; 0 while it is being made; < 0 with err if it cannot be.
 */
static int file_ready(struct lvm *v, const struct cd_vm *vm, const char *vol, const char *file,
		      bool precopy, char *path, size_t len, char *err, size_t errlen)
{
	const struct cd_volume *vo = cd_state_volume(cd_replica_state(), vol);
	const struct cd_vfile *f = vo ? cd_volume_file(vo, file) : NULL;
	const struct cd_vresult *res;
	uint64_t need = image_room(vm, precopy);
	struct stat st;
	int rc;

	if (!vo) {
		snprintf(err, errlen, "no volume %s for its state file", vol);
		return CD_ERR_NOT_FOUND;
	}
	if (v->q_file_req && (res = cd_volume_result(vo, v->q_file_req)) && res->rc < 0) {
		snprintf(err, errlen, "cannot make its state file %s/%s: %s", vol, file,
			 res->error);
		return res->rc;
	}
	if (f && f->size >= need) {
		file_path(vol, file, path, len);
		return stat(path, &st) == 0 && S_ISBLK(st.st_mode) ? 1 : 0;
	}
	if (v->q_file_req && !cd_volume_result(vo, v->q_file_req))
		return 0; /* asked, not done yet */
	rc = file_request(v, vol, file, f ? "resize" : "create", need);
	if (rc < 0 && rc != -EAGAIN) {
		snprintf(err, errlen, "cannot ask for its state file: %s", cd_strerror(rc));
		return rc;
	}
	return 0;
}

/* The state file is no longer needed: freed (best effort; a later save makes it again). */
static void file_free(struct lvm *v, const char *vol, const char *file)
{
	const struct cd_volume *vo = cd_state_volume(cd_replica_state(), vol);

	if (vo && cd_volume_file(vo, file) && file_request(v, vol, file, "remove", 0) < 0)
		vm_log(LOG_WARNING, v->name, "cannot free its state file %s/%s", vol, file);
}

/* --- the save (the source's half; vm stop --save) --- */

struct save_call {
	char name[64];
	uint64_t action;
	bool stop; /* vm stop --save, not a move */
	char vol[64], file[64];
};

static void step_saved(const char *name, uint64_t action, void *ctx)
{
	struct lvm *v = lvm_find(name);
	struct json_object *o = json_object_new_object();

	if (v && v->q_action == action) {
		json_object_object_add(o, "saved", cd_vm_saved_to_json(&v->q_sv));
		lrm_send_step(v, CD_MOVE_SAVING, true, NULL, o);
	}
	json_object_put(o);
}

/*
 * Saved, powered off here: its leases go, then the cluster hears where its
 * image is (again a second later if that was not recorded).
 */
static void hand_over(struct lvm *v, bool stop)
{
	struct lrm_times t = {.saved = v->q_sv};
	uint64_t now = cd_now_ms();

	if (now < v->next_settle)
		return;
	v->next_settle = now + 1000;
#ifdef CD_TEST_HOOKS
	/* Lab tests hold a quick move here: saved, not yet handed over. */
	if (!stop && cd_test_held(v->name, ".handover"))
		return;
#endif

	if (stop)
		lrm_release_then_report_times(v, v->q_action, "saved", NULL, &t);
	else
		lrm_release_then(v, v->q_action, step_saved, NULL);
}

static void save_done(void *ctx, const struct cd_agent_result *r)
{
	struct save_call *x = ctx;
	struct lvm *v = lvm_find(x->name);
	struct json_object *o = r->rc == 0 && r->xml ? json_tokener_parse(r->xml) : NULL;
	uint64_t len = 0, down = 0;
	const char *sha = o ? cd_jget_str(o, "sha256") : NULL;

	if (v)
		lrm_step(v, CD_LRM_EV_SAVED, r->rc < 0 ? "failed" : NULL);
	if (!v || v->q_action != x->action)
		goto out;
	if (r->rc == 0 && o && cd_jget_u64(o, "length", &len) == 0 && sha && strlen(sha) == 64) {
		cd_jget_u64(o, "downtime_ms", &down);
		v->q_saved = true;
		cd_strlcpy(v->q_sv.volume, x->vol, sizeof(v->q_sv.volume));
		cd_strlcpy(v->q_sv.file, x->file, sizeof(v->q_sv.file));
		v->q_sv.action_id = x->action;
		v->q_sv.length = len;
		memcpy(v->q_sv.sha256, sha, 65);
		v->q_sv.node = cd_membership_local_nodeid();
		/* When it paused: its outage is counted from there. */
		v->q_sv.saved_ms = cd_wall_ms() - down;
		cd_event("vm", x->name,
			 "saved into %s/%s: %" PRIu64 " MiB in %" PRIu64 " ms since it paused",
			 x->vol, x->file, len >> 20, down);
		hand_over(v, x->stop);
		goto out;
	}
	snprintf(v->q_err, sizeof(v->q_err), "its save failed: %s",
		 r->rc == 0 ? "no image in the answer" : r->err);
	vm_log(LOG_ERR, x->name, "%s (%s here%s)", v->q_err, cd_domain_status_to_str(r->status),
	       r->paused ? ", paused" : "");
	if (r->status == CD_DOMAIN_RUNNING) {
		/* It still runs here: the move is called off, or the stop --save reports it. */
		if (x->stop)
			lrm_report(x->name, x->action, "running", v->q_err);
		else
			lrm_send_step(v, CD_MOVE_SAVING, false, v->q_err, NULL);
	} else if (r->status == CD_DOMAIN_STOPPED) {
		/* Gone without an image: its memory is lost; failover starts it afresh. */
		lrm_release_then_report(v, x->action, x->stop ? "stopped" : "failed", v->q_err);
	}
	/* Unknown: the next look decides (the save is begun again, or settled). */
	else
		q_begin(v, 0);
out:
	json_object_put(o);
	free(x);
	cd_lrm_state_changed();
}

static void measured(void *ctx, const struct cd_agent_result *r)
{
	char *name = ctx;
	struct lvm *v = lvm_find(name);
	struct json_object *o = r->rc == 0 && r->xml ? json_tokener_parse(r->xml) : NULL;
	uint64_t mibs;

	if (v) {
		lrm_step(v, CD_LRM_EV_MEASURED, NULL);
		v->q_rate = o && cd_jget_u64(o, "megabytes_per_second", &mibs) == 0 ? (int64_t)mibs
										    : -1;
		if (v->q_rate >= 0)
			cd_event("vm", name, "quick move: it dirties %" PRId64 " MiB/s: %s",
				 v->q_rate,
				 v->q_rate <= PRECOPY_MAX_MIBS
					 ? "a first pass over its memory while it runs, then paused"
					 : "paused first");
		else
			vm_log(LOG_INFO, name,
			       "its dirty rate cannot be measured (%s): paused first",
			       r->err && *r->err ? r->err : "no answer");
	}
	json_object_put(o);
	free(name);
	cd_lrm_state_changed();
}

/* How fast the guest dirties its memory (QEMU's calculation, 1 s): whether it pre-copies. */
static void measure(struct lvm *v, const struct cd_vm *vm)
{
	char *name = strdup(vm->name);

	if (!name || cd_vm_agent_dirty_rate(name, 1, lrm_move_timeout(), measured, name) < 0) {
		free(name);
		v->q_rate = -1;
		return;
	}
	lrm_step(v, CD_LRM_EV_MEASURE, "dirty rate");
}

/* Save vm into vol/file, as action, once the file is there. */
static void save(struct lvm *v, const struct cd_vm *vm, const char *vol, const char *file,
		 bool stop)
{
	char path[PATH_MAX], err[300];
	struct save_call *x;
	int rc;

	q_begin(v, vm->action_id);
	if (v->q_saved) {
		hand_over(v, stop); /* its hand-over was not recorded: again */
		return;
	}
	/*
	 * The file first (sized for a first pass while it runs, if it may):
	 * the target's restore starts following it while the dirty rate is
	 * measured, then the save.
	 */
	rc = file_ready(v, vm, vol, file, !stop && !vm->move.fallback, path, sizeof(path), err,
			sizeof(err));
	if (rc == 0)
		return;
	if (rc < 0) {
		vm_log(LOG_ERR, vm->name, "%s", err);
		if (stop)
			lrm_report(vm->name, vm->action_id, "running", err);
		else
			lrm_send_step(v, CD_MOVE_SAVING, false, err, NULL);
		return;
	}
	if (!stop && !vm->move.fallback && v->q_rate == -2) {
		measure(v, vm);
		return;
	}
	x = calloc(1, sizeof(*x));
	if (!x)
		return;
	cd_strlcpy(x->name, vm->name, sizeof(x->name));
	x->action = vm->action_id;
	x->stop = stop;
	cd_strlcpy(x->vol, vol, sizeof(x->vol));
	cd_strlcpy(x->file, file, sizeof(x->file));
	if (cd_vm_agent_save(vm->name, path, vm->action_id, precopies(v, vm, stop), !stop,
			     lrm.cfg.call_timeout_ms * 10, save_done, x) < 0) {
		free(x);
		return;
	}
	lrm_step(v, CD_LRM_EV_SAVE, path);
	vm_log(LOG_NOTICE, vm->name, "saving into %s (%s)", path,
	       stop ? "vm stop --save" : "quick move");
}

void lrm_quick_stop_save(struct lvm *v, const struct cd_vm *vm)
{
	if (lrm_line_free(v))
		save(v, vm, vm->save_volume, vm->save_file, true);
}

/* --- the source's settling of a quick move called off --- */

static void settle_looked(void *ctx, const struct cd_agent_result *r)
{
	struct call *c = ctx;
	struct lvm *v = lvm_find(c->name);

	if (v)
		lrm_step(v, CD_LRM_EV_SETTLED, NULL);
	if (!v) {
		free(c);
		return;
	}
	if (r->status == CD_DOMAIN_RUNNING && r->paused) {
		vm_log(LOG_NOTICE, c->name, "paused for a save that did not finish: resuming it");
		lrm_call_agent(v, CD_LRM_EV_SETTLE, CD_AGENT_RESUME, NULL, c->action,
			       settle_looked);
	} else if (r->status == CD_DOMAIN_RUNNING) {
		lrm_report(c->name, c->action, "running", NULL);
	} else if (r->status == CD_DOMAIN_STOPPED) {
		lrm_release_then_report(v, c->action, "failed",
					v->q_err[0] ? v->q_err : "gone without a saved state");
	}
	free(c);
	cd_lrm_state_changed();
}

static void source_settle(struct lvm *v, const struct cd_vm *vm)
{
	uint64_t now = cd_now_ms();

	q_begin(v, vm->action_id);
	if (v->q_saved) {
		/* Saved after all: it runs nowhere, and is restored where it is placed. */
		hand_over(v, true);
		return;
	}
	if (now < v->next_settle)
		return;
	v->next_settle = now + 1000;
	lrm_call_agent(v, CD_LRM_EV_SETTLE, CD_AGENT_STATUS, NULL, vm->action_id, settle_looked);
}

/* --- the restore (the target's half; a start of a saved VM) --- */

struct restore_call {
	char name[64];
	uint64_t action;
	bool start;    /* a start of a saved VM, not a move */
	bool ok;       /* vm.restored: restored */
	bool verified; /* the restore read against the recorded image, not following a writer */
};

/* A copy restored here that is not to run (called off, or not the recorded image) is off. */
static void copy_dropped(void *ctx, const struct cd_agent_result *r)
{
	struct call *c = ctx;
	struct lvm *v = lvm_find(c->name);

	if (v)
		lrm_step(v, CD_LRM_EV_STOP_RETURNED, NULL);
	if (r->status == CD_DOMAIN_STOPPED)
		vm_log(LOG_NOTICE, c->name, "the copy restored here is off");
	else if (v)
		v->q_restore = 2; /* not off yet: again */
	free(c);
	cd_lrm_state_changed();
}

static void drop_copy(struct lvm *v)
{
	v->q_restore = v->q_restore == 2 ? -1 : v->q_restore;
	lrm_call_agent(v, CD_LRM_EV_STOP, CD_AGENT_DESTROY, NULL, 0, copy_dropped);
}

static void restored_sent(void *ctx, int rc, const char *err)
{
	struct restore_call *x = ctx;
	struct lvm *v = lvm_find(x->name);

	if (v)
		lrm_step(v, CD_LRM_EV_STEPPED, rc < 0 ? "not recorded" : NULL);
	if (rc < 0)
		vm_log(LOG_WARNING, x->name, "its restore not recorded: %s", err);
	if (rc == 0 && v && x->ok)
		/* Consumed: the image is of no more use (a later save makes the file again). */
		file_free(v, v->q_sv.volume, v->q_sv.file);
	/* A start lets it run as soon as the restore is recorded; a move in resuming. */
	if (rc == 0 && v && x->start && x->ok && v->q_restore == 2 && v->q_action == x->action) {
		v->q_resumed = true;
		lrm_call_agent(v, CD_LRM_EV_START, CD_AGENT_RESUME, NULL, x->action,
			       lrm_start_done);
	} else if (v && x->start && !x->ok && v->q_action == x->action) {
		lrm_release_then_report(v, x->action, "failed", v->q_err);
	}
	free(x);
	cd_lrm_state_changed();
}

/* vm.restored: the restore here, paused and checked (ok), or why not. */
static void send_restored(struct lvm *v, bool start, bool ok, const char *why)
{
	struct json_object *c = json_object_new_object();
	struct restore_call *x = calloc(1, sizeof(*x));
	int rc;

	json_object_object_add(c, "op",
			       json_object_new_string(cd_change_name(CD_CHANGE_VM_RESTORED)));
	json_object_object_add(c, "name", json_object_new_string(v->name));
	json_object_object_add(c, "node", json_object_new_int64(cd_membership_local_nodeid()));
	json_object_object_add(c, "action_id", json_object_new_int64((int64_t)v->q_action));
	json_object_object_add(c, "ok", json_object_new_boolean(ok));
	json_object_object_add(c, "corrupt", json_object_new_boolean(!ok && v->q_corrupt));
	if (why)
		json_object_object_add(c, "error", json_object_new_string(why));
	if (x) {
		cd_strlcpy(x->name, v->name, sizeof(x->name));
		x->action = v->q_action;
		x->start = start;
		x->ok = ok;
	}
	rc = x ? cd_replica_submit(c, restored_sent, x) : -ENOMEM;
	json_object_put(c);
	if (rc < 0) {
		vm_log(LOG_NOTICE, v->name, "cannot record its restore now: %s", cd_strerror(rc));
		free(x);
		return;
	}
	lrm_step(v, CD_LRM_EV_STEP, ok ? "restored" : "not restored");
}

static void restore_done(void *ctx, const struct cd_agent_result *r)
{
	struct restore_call *x = ctx;
	struct lvm *v = lvm_find(x->name);
	struct json_object *o = r->rc == 0 && r->xml ? json_tokener_parse(r->xml) : NULL;
	const char *sha = o ? cd_jget_str(o, "sha256") : NULL;
	uint64_t ms = 0;

	if (v)
		lrm_step(v, CD_LRM_EV_RESTORED, r->rc < 0 ? "failed" : NULL);
	if (!v || v->q_action != x->action)
		goto out;
	if (r->rc == 0 && sha && strlen(sha) == 64 && cd_jget_u64(o, "length", &v->q_len) == 0) {
		memcpy(v->q_sha, sha, 65);
		cd_jget_u64(o, "restore_ms", &ms);
		v->q_restore = 2;
		vm_log(LOG_NOTICE, x->name, "restored paused (%" PRIu64 " MiB in %" PRIu64 " ms)",
		       v->q_len >> 20, ms);
	} else {
		v->q_restore = -1;
		/* Only an image checked against what the cluster recorded is known corrupt. */
		v->q_corrupt = r->rc == CD_ERR_CORRUPT && x->verified;
		snprintf(v->q_err, sizeof(v->q_err), "its restore failed: %s",
			 r->rc == 0 ? "no image in the answer" : r->err);
		vm_log(LOG_ERR, x->name, "%s (%s here)", v->q_err,
		       cd_domain_status_to_str(r->status));
	}
	if (x->start) {
		const struct cd_vm *vm = lrm_state_vm(x->name);

		if (v->q_restore == 2 && vm && lrm_mine(vm) && vm->state == CD_VM_STARTING &&
		    vm->action_id == x->action && !strcmp(vm->saved.sha256, v->q_sha))
			send_restored(v, true, true, NULL);
		else if (v->q_restore == 2)
			drop_copy(v);
		else if (v->q_corrupt)
			send_restored(v, true, false, v->q_err);
		else
			lrm_release_then_report(v, x->action, "failed", v->q_err);
	}
out:
	json_object_put(o);
	free(x);
	cd_lrm_state_changed();
}

/* Restore vm here, paused; following the writer while the state does not know the image yet. */
static void restore(struct lvm *v, const struct cd_vm *vm, const char *vol, const char *file,
		    bool start)
{
	char path[PATH_MAX], fifo_dir[PATH_MAX];
	const struct cd_vm_saved *sv = vm->saved.volume[0] ? &vm->saved : NULL;
	struct restore_call *x = calloc(1, sizeof(*x));

	if (!x)
		return;
	file_path(vol, file, path, sizeof(path));
	snprintf(fifo_dir, sizeof(fifo_dir), "%s/restore", lrm.cfg.run_dir);
	cd_mkdir_p(fifo_dir, 0700);
	cd_strlcpy(x->name, vm->name, sizeof(x->name));
	x->action = vm->action_id;
	x->start = start;
	x->verified = sv != NULL;
	if (sv)
		v->q_sv = *sv;
	if (cd_vm_agent_restore(vm->name, path, fifo_dir, sv ? sv->action_id : vm->action_id,
				sv ? sv->length : 0, sv ? sv->sha256 : NULL, FOLLOW_TIMEOUT_MS,
				lrm.cfg.call_timeout_ms * 10, restore_done, x) < 0) {
		free(x);
		return;
	}
	v->q_restore = 1;
	v->q_tries++;
	v->q_restore_dropped = false;
	lrm_step(v, CD_LRM_EV_RESTORE, path);
	vm_log(LOG_NOTICE, vm->name, "restoring from %s%s", path,
	       sv ? "" : " as its source writes it");
}

static void interrupted_off(void *ctx, const struct cd_agent_result *r)
{
	struct call *c = ctx;
	struct lvm *v = lvm_find(c->name);

	if (v)
		lrm_step(v, CD_LRM_EV_STOP_RETURNED, NULL);
	if (v && r->status == CD_DOMAIN_STOPPED)
		lrm_release_then_report(v, c->action, "failed",
					"its restore here was interrupted: restored afresh");
	free(c);
	cd_lrm_state_changed();
}

void lrm_quick_start_pending(struct lvm *v, const struct cd_vm *vm)
{
	uint64_t now = cd_now_ms();

	if (!lrm_line_free(v) || now < v->next_settle)
		return;
	v->next_settle = now + 1000;
	if (v->q_action == vm->action_id && v->q_restore == 2) {
		vm_log(LOG_NOTICE, vm->name, "its restore not recorded yet: saying so again");
		send_restored(v, true, true, NULL);
	} else if (v->q_action == vm->action_id && v->q_restore == -1) {
		/* Its failure not recorded yet: said again. */
		if (v->q_corrupt)
			send_restored(v, true, false, v->q_err);
		else
			lrm_release_then_report(v, vm->action_id, "failed", v->q_err);
	} else if (v->q_action != vm->action_id) {
		vm_log(LOG_WARNING, vm->name,
		       "a restore of it here is not known to this clusterd: its copy goes");
		lrm_call_agent(v, CD_LRM_EV_STOP, CD_AGENT_DESTROY, NULL, vm->action_id,
			       interrupted_off);
	}
}

/*
 * A copy of it here that this clusterd knows nothing of (left by a restore
 * that a restart of clusterd interrupted; paused, it never ran) is off
 * before a restore begins: libvirt would not restore over it.
 */
static void cleared(void *ctx, const struct cd_agent_result *r)
{
	struct call *c = ctx;
	struct lvm *v = lvm_find(c->name);
	const struct cd_vm *vm = lrm_state_vm(c->name);

	if (v)
		lrm_step(v, CD_LRM_EV_STOP_RETURNED, NULL);
	if (v && r->status != CD_DOMAIN_STOPPED) {
		v->q_cleared = false; /* again */
	} else if (v && vm && lrm_mine(vm) && vm->action_id == c->action &&
		   vm->state == CD_VM_STARTING && vm->saved.volume[0] && v->q_action == c->action) {
		/* A start of a saved VM: its leases are held, the restore goes on. */
		restore(v, vm, vm->saved.volume, vm->saved.file, true);
	}
	free(c);
	cd_lrm_state_changed();
}

static void clear_first(struct lvm *v, uint64_t action)
{
	v->q_cleared = true;
	if (lrm_call_agent(v, CD_LRM_EV_STOP, CD_AGENT_DESTROY, NULL, action, cleared) < 0)
		v->q_cleared = false;
}

void lrm_quick_restore_start(struct lvm *v, const struct cd_vm *vm)
{
	q_begin(v, vm->action_id);
	clear_first(v, vm->action_id);
}

void lrm_quick_drop_restore(struct lvm *v)
{
#ifdef CD_TEST_HOOKS
	/*
	 * Lab tests keep the copy here, as a node does that hears of the move's
	 * end and of a new placement here at once (a busy node: seen in CI).
	 */
	if (cd_test_held(v->name, ".keepcopy"))
		return;
#endif
	if (v->phase == CD_LRM_RESTORING && !v->q_restore_dropped) {
		v->q_restore_dropped = true;
		vm_log(LOG_NOTICE, v->name, "its restore here is no longer wanted: calling it off");
		cd_vm_agent_restore_cancel(v->name);
	} else if (v->q_restore == 2 && lrm_line_free(v)) {
		vm_log(LOG_NOTICE, v->name, "the copy restored here is no longer wanted");
		drop_copy(v);
	}
}

void lrm_quick_plain_start(struct lvm *v, const struct cd_vm *vm)
{
	if (v->q_restore == 2 && v->q_action != vm->action_id)
		cd_event("vm", vm->name,
			 "the copy restored here by quick move %" PRIu64
			 " never ran: its save was not recorded before its source died; "
			 "powered off, the VM starts afresh",
			 v->q_action);
	q_begin(v, vm->action_id);
}

/* The target while the source saves (or called the move off). */
void lrm_quick_follow(struct lvm *v, const struct cd_vm *vm)
{
	char path[PATH_MAX];
	struct stat st;

	if (vm->move.phase == CD_MOVE_ABORTING)
		lrm_quick_drop_restore(v);
	if (!lrm_line_free(v))
		return;
	q_begin(v, vm->action_id);
	if (vm->move.phase == CD_MOVE_SAVING && v->q_restore == 0) {
		file_path(vm->move.state_volume, vm->move.state_file, path, sizeof(path));
		if (stat(path, &st) == 0 && S_ISBLK(st.st_mode))
			restore(v, vm, vm->move.state_volume, vm->move.state_file, false);
	} else if (vm->move.phase == CD_MOVE_ABORTING && v->q_restore == 2) {
		/* Called off: the copy restored here never ran; it goes. */
		drop_copy(v);
	}
}

static void leases_taken(struct lvm *v, uint64_t action, int rc, const char *err)
{
	if (v->q_action != action)
		return;
	if (rc == 0) {
		send_restored(v, false, true, NULL);
		return;
	}
	snprintf(v->q_err, sizeof(v->q_err), "cannot take its disk leases: %s", err);
	vm_log(LOG_ERR, v->name, "%s", v->q_err);
	v->next_settle = cd_now_ms() + 1000;
}

static void resumed(void *ctx, const struct cd_agent_result *r)
{
	struct call *c = ctx;
	struct lvm *v = lvm_find(c->name);
	const struct cd_vm *vm = lrm_state_vm(c->name);
	struct lrm_times t = {0};
	uint64_t now = cd_wall_ms();

	if (v)
		lrm_step(v, CD_LRM_EV_START_RETURNED, NULL);
	if (v && r->status == CD_DOMAIN_RUNNING && !r->paused) {
		if (vm && vm->move.begun_ms && now > vm->move.begun_ms)
			t.total_ms = now - vm->move.begun_ms;
		if (v->q_sv.saved_ms && now > v->q_sv.saved_ms)
			t.downtime_ms = now - v->q_sv.saved_ms;
		cd_event("vm", c->name, "quick move: runs here (%" PRIu64 " ms since it paused)",
			 t.downtime_ms);
		lrm_report_times(c->name, c->action, "running", NULL, &t);
	} else if (v && r->status == CD_DOMAIN_STOPPED) {
		lrm_release_then_report(v, c->action, "failed", "its restored copy is gone");
	} else if (v) {
		v->q_resumed = false; /* looked at again */
	}
	free(c);
	cd_lrm_state_changed();
}

static void give_up(const char *name, uint64_t action, void *ctx)
{
	struct lvm *v = lvm_find(name);

	if (v && v->q_action == action)
		send_restored(v, false, false, v->q_err);
}

/* The target once the VM is its own (restoring, resuming). */
static void target_move(struct lvm *v, const struct cd_vm *vm)
{
	const struct cd_vm_saved *sv = &vm->saved;

	/*
	 * Resumed, and its report: while the state still says resuming, its
	 * report was not recorded (a membership change while it was in flight,
	 * say): asked again a second later, the resume (of a VM that runs
	 * already) reports it again.
	 */
	if (vm->move.phase == CD_MOVE_RESUMING) {
		if (!v->q_resumed || cd_now_ms() >= v->next_settle) {
			if (v->q_resumed)
				vm_log(LOG_NOTICE, vm->name,
				       "its resume here not recorded yet: saying so again");
			v->q_resumed = true;
			v->next_settle = cd_now_ms() + 1000;
			lrm_call_agent(v, CD_LRM_EV_START, CD_AGENT_RESUME, NULL, vm->action_id,
				       resumed);
		}
		return;
	}
	/* Restoring: what the state recorded of the image is known now. */
	if (v->q_sv.action_id != sv->action_id)
		v->q_sv = *sv;
	if (cd_now_ms() < v->next_settle)
		return;
	if (v->q_restore == 2 && strcmp(v->q_sha, sv->sha256) != 0) {
		v->q_restore = -1;
		v->q_corrupt = true;
		snprintf(
			v->q_err, sizeof(v->q_err),
			"the image restored here is not the one recorded (SHA-256 %.12s, not %.12s)",
			v->q_sha, sv->sha256);
		vm_log(LOG_ERR, vm->name, "%s: powering the copy off", v->q_err);
		drop_copy(v);
	} else if (v->q_restore == 2) {
		lrm_leases_mode(v, vm, false, leases_taken);
	} else if (v->q_restore == 0 && !v->q_cleared) {
		clear_first(v, vm->action_id);
	} else if (v->q_restore == 0 ||
		   (v->q_restore == -1 && !v->q_corrupt && v->q_tries < RESTORE_TRIES)) {
		restore(v, vm, sv->volume, sv->file, false);
	} else {
		/* Given up here: another node restores it, or (corrupt) it starts afresh. */
		lrm_release_then(v, vm->action_id, give_up, NULL);
	}
}

/* vm's quick move, where vm->node is this node: the source (saving, aborting) or the target. */
void lrm_quick_move(struct lvm *v, const struct cd_vm *vm)
{
	q_begin(v, vm->action_id);
	switch (vm->move.phase) {
	case CD_MOVE_SAVING:
		if (lrm_line_free(v))
			save(v, vm, vm->move.state_volume, vm->move.state_file, false);
		break;
	case CD_MOVE_ABORTING:
		if (v->phase == CD_LRM_SAVING && !v->q_cancel_sent) {
			v->q_cancel_sent = true;
			vm_log(LOG_NOTICE, vm->name, "calling its save off");
			cd_vm_agent_save_cancel(vm->name);
		}
		if (lrm_line_free(v))
			source_settle(v, vm);
		break;
	case CD_MOVE_RESTORING:
	case CD_MOVE_RESUMING:
		if (lrm_line_free(v))
			target_move(v, vm);
		break;
	case CD_MOVE_NONE:
	case CD_MOVE_SHARING:
	case CD_MOVE_RECEIVING:
	case CD_MOVE_COPYING:
	case CD_MOVE_ORPHANED:
		/* Not a quick move's phases: settled as the VM stands here. */
		if (lrm_line_free(v))
			source_settle(v, vm);
		break;
	}
}
