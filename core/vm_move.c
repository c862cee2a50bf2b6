/*
 * A VM's moves in the replicated state (vm.h: struct cd_vm_move): their
 * names, their records as JSON and the changes that drive them. The table
 * of vm_lifecycle.c says what each change does in each state.
 */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <clusterd/result.h>

#include "core/change.h"
#include "core/drain.h"
#include "core/node.h"
#include "core/props.h"
#include "core/state.h"
#include "core/vm.h"
#include "core/vm_internal.h"
#include "core/vmdisks.h"
#include "core/volume.h"
#include "lib/fsm.h"
#include "lib/jsonget.h"
#include "lib/util.h"

#define FAIL CD_FAIL

/* clang-format off */
static const char *const phase_names[] = {
	[CD_MOVE_NONE] = "none",
	[CD_MOVE_SHARING] = "sharing",
	[CD_MOVE_RECEIVING] = "receiving",
	[CD_MOVE_COPYING] = "copying",
	[CD_MOVE_ABORTING] = "aborting",
	[CD_MOVE_ORPHANED] = "orphaned",
	[CD_MOVE_SAVING] = "saving",
	[CD_MOVE_RESTORING] = "restoring",
	[CD_MOVE_RESUMING] = "resuming",
};
static const char *const outcome_names[] = {
	[CD_MOVE_OUT_NONE] = "none",
	[CD_MOVE_OUT_MOVED] = "moved",
	[CD_MOVE_OUT_STAYED] = "stayed",
	[CD_MOVE_OUT_CANCELLED] = "cancelled",
	[CD_MOVE_OUT_FAILED] = "failed",
	[CD_MOVE_OUT_SAVED] = "saved",
};
static const char *const mode_names[] = {
	[CD_MOVE_LIVE] = "live",
	[CD_MOVE_QUICK] = "quick",
	[CD_MOVE_COLD] = "cold",
};
/* clang-format on */

_Static_assert(N_OF(phase_names) == CD_MOVE_N_PHASES, "a name for every phase");
_Static_assert(N_OF(outcome_names) == CD_MOVE_N_OUTCOMES, "a name for every outcome");

const char *cd_move_phase_to_str(enum cd_move_phase p)
{
	return cd_fsm_name(phase_names, N_OF(phase_names), (int)p);
}

const char *cd_move_outcome_to_str(enum cd_move_outcome o)
{
	return cd_fsm_name(outcome_names, N_OF(outcome_names), (int)o);
}

static struct json_object *u64_json(uint64_t v)
{
	return json_object_new_int64((int64_t)v);
}

struct json_object *cd_vm_move_to_json(const struct cd_vm *vm)
{
	const struct cd_vm_move *m = &vm->move;
	struct json_object *o;

	if (m->phase == CD_MOVE_NONE)
		return NULL;
	o = json_object_new_object();
	json_object_object_add(o, "phase", json_object_new_string(cd_move_phase_to_str(m->phase)));
	json_object_object_add(o, "mode", json_object_new_string(cd_move_mode_to_str(m->mode)));
	json_object_object_add(o, "source", u64_json(m->source));
	json_object_object_add(o, "target", u64_json(m->target));
	json_object_object_add(o, "cancelled", json_object_new_boolean(m->cancelled));
	json_object_object_add(o, "target_lost", json_object_new_boolean(m->target_lost));
	json_object_object_add(o, "copy_begun", json_object_new_boolean(m->copy_begun));
	json_object_object_add(o, "begun_ms", u64_json(m->begun_ms));
	if (m->fallback)
		json_object_object_add(o, "fallback", json_object_new_boolean(true));
	if (m->mode == CD_MOVE_QUICK || m->fallback) {
		json_object_object_add(o, "state_volume", json_object_new_string(m->state_volume));
		json_object_object_add(o, "state_file", json_object_new_string(m->state_file));
	}
	return o;
}

struct json_object *cd_vm_last_move_to_json(const struct cd_vm *vm)
{
	const struct cd_vm_last_move *l = &vm->last_move;
	struct json_object *o;

	if (l->action_id == 0)
		return NULL;
	o = json_object_new_object();
	json_object_object_add(o, "action_id", u64_json(l->action_id));
	json_object_object_add(o, "outcome",
			       json_object_new_string(cd_move_outcome_to_str(l->outcome)));
	json_object_object_add(o, "mode", json_object_new_string(cd_move_mode_to_str(l->mode)));
	json_object_object_add(o, "source", u64_json(l->source));
	json_object_object_add(o, "target", u64_json(l->target));
	json_object_object_add(o, "downtime_ms", u64_json(l->downtime_ms));
	json_object_object_add(o, "total_ms", u64_json(l->total_ms));
	if (l->rate_mib_s)
		json_object_object_add(o, "rate_mib_s", u64_json(l->rate_mib_s));
	if (l->dirty_measured)
		json_object_object_add(o, "dirty_mib_s", u64_json(l->dirty_mib_s));
	json_object_object_add(o, "error", json_object_new_string(l->error));
	return o;
}

static int node_field(const struct json_object *o, const char *key, uint32_t *out)
{
	uint64_t v;

	if (cd_jget_u64(o, key, &v) < 0 || v > UINT32_MAX)
		return -1;
	*out = (uint32_t)v;
	return 0;
}

/* A name of a volume or file (non-empty, fits) into out[64]: whether it did. */
static bool name_field(const struct json_object *o, const char *key, char out[64])
{
	const char *v = cd_jget_str(o, key);

	return v && *v && cd_strlcpy(out, v, 64) < 64;
}

struct json_object *cd_vm_saved_to_json(const struct cd_vm_saved *sv)
{
	struct json_object *o;

	if (!sv->volume[0])
		return NULL;
	o = json_object_new_object();
	json_object_object_add(o, "volume", json_object_new_string(sv->volume));
	json_object_object_add(o, "file", json_object_new_string(sv->file));
	json_object_object_add(o, "action_id", u64_json(sv->action_id));
	json_object_object_add(o, "length", u64_json(sv->length));
	json_object_object_add(o, "sha256", json_object_new_string(sv->sha256));
	json_object_object_add(o, "node", u64_json(sv->node));
	json_object_object_add(o, "saved_ms", u64_json(sv->saved_ms));
	return o;
}

static bool is_sha256(const char *h)
{
	size_t i;

	for (i = 0; h && i < 64; i++)
		if (!((h[i] >= '0' && h[i] <= '9') || (h[i] >= 'a' && h[i] <= 'f')))
			return false;
	return h && h[64] == '\0';
}

int cd_vm_saved_from_json(struct cd_vm_saved *sv, const struct json_object *o)
{
	const char *h = cd_jget_str(o, "sha256");

	memset(sv, 0, sizeof(*sv));
	if (!name_field(o, "volume", sv->volume) || !name_field(o, "file", sv->file) ||
	    cd_jget_u64(o, "action_id", &sv->action_id) < 0 ||
	    cd_jget_u64(o, "length", &sv->length) < 0 || sv->length == 0 || !is_sha256(h) ||
	    node_field(o, "node", &sv->node) < 0 || cd_jget_u64(o, "saved_ms", &sv->saved_ms) < 0) {
		memset(sv, 0, sizeof(*sv));
		return -1;
	}
	memcpy(sv->sha256, h, 65);
	return 0;
}

static int named(const char *const *names, size_t n, const char *s, int *out)
{
	*out = cd_fsm_index(names, n, s);
	return *out < 0 ? -1 : 0;
}

int cd_vm_move_from_json(struct cd_vm *vm, const struct json_object *vo)
{
	struct json_object *o;
	const char *e;
	int p, m, oc;

	if (json_object_object_get_ex(vo, "move", &o) && o) {
		if (named(phase_names, N_OF(phase_names), cd_jget_str(o, "phase"), &p) < 0 ||
		    named(mode_names, N_OF(mode_names), cd_jget_str(o, "mode"), &m) < 0 ||
		    node_field(o, "source", &vm->move.source) < 0 ||
		    node_field(o, "target", &vm->move.target) < 0 ||
		    cd_jget_u64(o, "begun_ms", &vm->move.begun_ms) < 0)
			return -1;
		vm->move.phase = (enum cd_move_phase)p;
		vm->move.mode = (enum cd_move_mode)m;
		vm->move.cancelled = cd_jget_bool_or(o, "cancelled", false);
		vm->move.target_lost = cd_jget_bool_or(o, "target_lost", false);
		vm->move.copy_begun = cd_jget_bool_or(o, "copy_begun", false);
		vm->move.fallback = cd_jget_bool_or(o, "fallback", false);
		if (vm->state != CD_VM_MIGRATING && vm->move.phase != CD_MOVE_NONE)
			return -1;
		if ((vm->move.mode == CD_MOVE_QUICK || vm->move.fallback) &&
		    (!name_field(o, "state_volume", vm->move.state_volume) ||
		     !name_field(o, "state_file", vm->move.state_file)))
			return -1;
	}
	if (json_object_object_get_ex(vo, "last_move", &o) && o) {
		e = cd_jget_str(o, "error");
		if (cd_jget_u64(o, "action_id", &vm->last_move.action_id) < 0 ||
		    named(outcome_names, N_OF(outcome_names), cd_jget_str(o, "outcome"), &oc) < 0 ||
		    named(mode_names, N_OF(mode_names), cd_jget_str(o, "mode"), &m) < 0 ||
		    node_field(o, "source", &vm->last_move.source) < 0 ||
		    node_field(o, "target", &vm->last_move.target) < 0 ||
		    cd_jget_u64(o, "downtime_ms", &vm->last_move.downtime_ms) < 0 ||
		    cd_jget_u64(o, "total_ms", &vm->last_move.total_ms) < 0 || !e ||
		    cd_strlcpy(vm->last_move.error, e, sizeof(vm->last_move.error)) >=
			    sizeof(vm->last_move.error))
			return -1;
		vm->last_move.rate_mib_s = 0;
		cd_jget_u64(o, "rate_mib_s", &vm->last_move.rate_mib_s);
		vm->last_move.dirty_mib_s = 0;
		vm->last_move.dirty_measured =
			cd_jget_u64(o, "dirty_mib_s", &vm->last_move.dirty_mib_s) == 0;
		vm->last_move.outcome = (enum cd_move_outcome)oc;
		vm->last_move.mode = (enum cd_move_mode)m;
	}
	if (json_object_object_get_ex(vo, "saved", &o) && o &&
	    cd_vm_saved_from_json(&vm->saved, o) < 0)
		return -1;
	vm->stop_save = cd_jget_bool_or(vo, "stop_save", false);
	if (vm->stop_save && (!name_field(vo, "save_volume", vm->save_volume) ||
			      !name_field(vo, "save_file", vm->save_file)))
		return -1;
	return 0;
}

/*
 * vm.move {name, target (node id), mode, wall_ms}: an admin's move, after
 * the preflight said yes on the node that asks for it, or a drain's, with
 * {"drain": {"job", "tries", "why"}}. Only what every member can check
 * again is checked here.
 */
int cd_vm_op_move(struct cd_state *s, const struct json_object *c, char *err, size_t errlen)
{
	struct cd_vm_event_args a = {0};
	struct cd_vm_drain d;
	const struct cd_node *n;
	struct cd_vm *vm;
	int m, rc;

	NAMED_VM(vm);
	if (node_field(c, "target", &a.target) < 0 || !(n = cd_state_node_by_id(s, a.target)) ||
	    named(mode_names, N_OF(mode_names), cd_jget_str(c, "mode"), &m) < 0)
		FAIL(CD_ERR_INVALID, "malformed move of '%s'", vm->name);
	if (cd_vm_drain_parse(c, &d) < 0)
		FAIL(CD_ERR_INVALID, "malformed drain record in the move of '%s'", vm->name);
	if (m == CD_MOVE_QUICK) {
		a.volume = cd_jget_str(c, "state_volume");
		a.file = cd_jget_str(c, "state_file");
		if (!a.volume || !cd_state_volume(s, a.volume) || !a.file || !*a.file ||
		    strlen(a.file) >= 64)
			FAIL(CD_ERR_INVALID, "a quick move of '%s' needs a state file on a volume",
			     vm->name);
	}
	if (!n->member || n->maintenance || n->dead)
		FAIL(CD_ERR_INVALID, "node %s cannot take '%s' now", n->info.name, vm->name);
	a.mode = (enum cd_move_mode)m;
	a.node = a.target; /* what the transition's record names */
	cd_jget_u64(c, "wall_ms", &a.wall_ms);
	rc = cd_vm_transition(s, vm, CD_VM_EV_MOVE, &a, err, errlen);
	if (rc == 0 && d.job) {
		/* A drain's move: the VM's rung is this move. */
		d.rung = a.mode;
		d.action_id = vm->action_id;
		vm->drain = d;
	}
	return rc;
}

/*
 * vm.move.step {name, node, action_id, phase, ok, error}: node did its part
 * (the phase it finished), or could not (ok false, error why).
 */
int cd_vm_op_move_step(struct cd_state *s, const struct json_object *c, char *err, size_t errlen)
{
	struct cd_vm_event_args a = {.ok = cd_jget_bool_or(c, "ok", false)};
	const char *e = cd_jget_str(c, "error");
	struct cd_vm_saved sv;
	uint64_t action;
	struct cd_vm *vm;
	int p, rc;

	NAMED_VM(vm);
	if (node_field(c, "node", &a.node) < 0 || cd_jget_u64(c, "action_id", &action) < 0 ||
	    named(phase_names, N_OF(phase_names), cd_jget_str(c, "phase"), &p) < 0)
		FAIL(CD_ERR_INVALID, "malformed move step of '%s'", vm->name);
	if (vm->state != CD_VM_MIGRATING || action != vm->action_id)
		FAIL(CD_ERR_INVALID, "stale move step of '%s' from node %u", vm->name, a.node);
	a.phase = (enum cd_move_phase)p;
	a.fallback = cd_jget_str(c, "fallback") && strcmp(cd_jget_str(c, "fallback"), "quick") == 0;
	if (a.fallback) {
		a.volume = cd_jget_str(c, "state_volume");
		a.file = cd_jget_str(c, "state_file");
		if (!a.volume || !cd_state_volume(s, a.volume) || !a.file || !*a.file ||
		    strlen(a.file) >= 64)
			FAIL(CD_ERR_INVALID, "a fallback of '%s' to quick needs a state file",
			     vm->name);
	}
	if (a.phase == CD_MOVE_SAVING && a.ok) {
		struct json_object *o;

		if (!json_object_object_get_ex(c, "saved", &o) || cd_vm_saved_from_json(&sv, o) < 0)
			FAIL(CD_ERR_INVALID, "move step saving of '%s' without its image",
			     vm->name);
		a.saved = &sv;
	}
	rc = cd_vm_transition(s, vm, CD_VM_EV_MOVE_STEP, &a, err, errlen);
	if (rc == 0 && !a.ok)
		cd_strlcpy(vm->last_error, e ? e : "a move step failed", sizeof(vm->last_error));
	return rc;
}

int cd_vm_op_move_cancel(struct cd_state *s, const struct json_object *c, char *err, size_t errlen)
{
	struct cd_vm *vm;

	NAMED_VM(vm);
	if (vm->state != CD_VM_MIGRATING)
		FAIL(CD_ERR_INVALID, "VM '%s' is not moving (it is %s)", vm->name,
		     cd_vm_state_to_str(vm->state));
	return cd_vm_transition(s, vm, CD_VM_EV_MOVE_CANCEL, NULL, err, errlen);
}

/*
 * vm.restored {name, node, action_id, ok, corrupt, error}: node restored
 * the VM's saved state, paused, checked it and holds its disk leases (ok):
 * the saved state is consumed, the node may let it run. Or it could not
 * (ok false): corrupt if the image failed its checks (it is then
 * discarded), error why.
 */
int cd_vm_op_restored(struct cd_state *s, const struct json_object *c, char *err, size_t errlen)
{
	struct cd_vm_event_args a = {.ok = cd_jget_bool_or(c, "ok", false),
				     .corrupt = cd_jget_bool_or(c, "corrupt", false),
				     .error = cd_jget_str(c, "error")};
	uint64_t action;
	struct cd_vm *vm;
	int rc;

	NAMED_VM(vm);
	if (node_field(c, "node", &a.node) < 0 || cd_jget_u64(c, "action_id", &action) < 0)
		FAIL(CD_ERR_INVALID, "malformed restore report of '%s'", vm->name);
	if (action != vm->action_id || a.node != vm->node || !vm->saved.volume[0])
		FAIL(CD_ERR_INVALID, "stale restore report of '%s' from node %u", vm->name, a.node);
	rc = cd_vm_transition(s, vm, CD_VM_EV_RESTORED, &a, err, errlen);
	if (rc == 0 && !a.ok)
		cd_strlcpy(vm->last_error, a.error ? a.error : "its restore failed",
			   sizeof(vm->last_error));
	return rc;
}

int cd_vm_state_file_place(const struct cd_state *s, const struct cd_vm *vm, const char *run_dir,
			   char vol[64], char file[64], char *err, size_t errlen)
{
	const char *best = NULL, *want = cd_props_get_name(s, CD_PROPS_STATE_VOLUME);
	struct cd_vm_disk d[CD_VM_DISKS_MAX];
	char derr[256];
	size_t i;

	if (want && !cd_state_volume(s, want))
		FAIL(CD_ERR_INVALID,
		     "the cluster property state-volume names volume '%s', which the cluster does "
		     "not have: 'clusterctl volume add %s DEVICE', or 'clusterctl property set "
		     "state-volume none' (the volume of the VM's disks)",
		     want, want);
	if (want)
		best = want;
	else if (cd_vm_disks(vm->xml, run_dir, d, derr, sizeof(derr)) > 0 &&
		 cd_state_volume(s, d[0].vol))
		best = d[0].vol;
	else
		for (i = 0; i < s->n_volumes; i++)
			if (!best || strcmp(s->volumes[i].name, best) < 0)
				best = s->volumes[i].name;
	if (!best)
		FAIL(CD_ERR_NOT_FOUND,
		     "the cluster has no shared volume for its state file (see 'clusterctl volume "
		     "add')");
	cd_strlcpy(vol, best, 64);
	/* Its name, or (too long for a file name) its UUID: one file per VM. */
	if ((size_t)snprintf(file, 64, "%s.vmstate", vm->name) >= 64)
		snprintf(file, 64, "vmstate-%s", vm->uuid);
	return 0;
}

int cd_vm_save_args(const struct cd_state *s, const struct cd_vm *vm, const char *run_dir,
		    bool resume, struct json_object *args, char *err, size_t errlen)
{
	char vol[64], file[64], why[400];

	if (vm->state != CD_VM_RUNNING)
		FAIL(CD_ERR_INVALID, "VM '%s' is %s: only a running VM is saved", vm->name,
		     cd_vm_state_to_str(vm->state));
	if (cd_vm_state_file_place(s, vm, run_dir, vol, file, why, sizeof(why)) < 0)
		FAIL(CD_ERR_INVALID, "VM '%s' cannot be saved: %s", vm->name, why);
	json_object_object_add(args, "save", json_object_new_boolean(true));
	json_object_object_add(args, "state_volume", json_object_new_string(vol));
	json_object_object_add(args, "state_file", json_object_new_string(file));
	if (resume)
		json_object_object_add(args, "resume", json_object_new_boolean(true));
	return 0;
}

struct json_object *cd_vm_move_change(const struct cd_state *s, const struct cd_vm *vm,
				      uint32_t target, enum cd_move_mode mode, const char *run_dir,
				      uint64_t wall_ms, char *err, size_t errlen)
{
	struct json_object *ch;
	char vol[64], file[64], why[400];

	if (mode == CD_MOVE_QUICK &&
	    cd_vm_state_file_place(s, vm, run_dir, vol, file, why, sizeof(why)) < 0) {
		snprintf(err, errlen, "no quick move of '%s': %s", vm->name, why);
		return NULL;
	}
	ch = json_object_new_object();
	json_object_object_add(ch, "op", json_object_new_string(cd_change_name(CD_CHANGE_VM_MOVE)));
	json_object_object_add(ch, "name", json_object_new_string(vm->name));
	json_object_object_add(ch, "target", json_object_new_int64(target));
	json_object_object_add(ch, "mode", json_object_new_string(cd_move_mode_to_str(mode)));
	json_object_object_add(ch, "wall_ms", json_object_new_int64((int64_t)wall_ms));
	if (mode == CD_MOVE_QUICK) {
		json_object_object_add(ch, "state_volume", json_object_new_string(vol));
		json_object_object_add(ch, "state_file", json_object_new_string(file));
	}
	return ch;
}

struct json_object *cd_vm_move_cancel_change(const char *name)
{
	struct json_object *c = json_object_new_object();

	json_object_object_add(c, "op",
			       json_object_new_string(cd_change_name(CD_CHANGE_VM_MOVE_CANCEL)));
	json_object_object_add(c, "name", json_object_new_string(name));
	return c;
}
