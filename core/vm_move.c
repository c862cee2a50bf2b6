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

#include "core/node.h"
#include "core/state.h"
#include "core/vm.h"
#include "core/vm_internal.h"
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
};
static const char *const outcome_names[] = {
	[CD_MOVE_OUT_NONE] = "none",
	[CD_MOVE_OUT_MOVED] = "moved",
	[CD_MOVE_OUT_STAYED] = "stayed",
	[CD_MOVE_OUT_CANCELLED] = "cancelled",
	[CD_MOVE_OUT_FAILED] = "failed",
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
		if (vm->state != CD_VM_MIGRATING && vm->move.phase != CD_MOVE_NONE)
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
		vm->last_move.outcome = (enum cd_move_outcome)oc;
		vm->last_move.mode = (enum cd_move_mode)m;
	}
	return 0;
}

/*
 * vm.move {name, target (node id), mode, wall_ms}: an admin's move, after
 * the preflight said yes on the node that asks for it. Only what every
 * member can check again is checked here; live moves only, so far.
 */
int cd_vm_op_move(struct cd_state *s, const struct json_object *c, char *err, size_t errlen)
{
	struct cd_vm_event_args a = {0};
	const struct cd_node *n;
	struct cd_vm *vm;
	int m;

	NAMED_VM(vm);
	if (node_field(c, "target", &a.target) < 0 || !(n = cd_state_node_by_id(s, a.target)) ||
	    named(mode_names, N_OF(mode_names), cd_jget_str(c, "mode"), &m) < 0)
		FAIL(CD_ERR_INVALID, "malformed move of '%s'", vm->name);
	if (m != CD_MOVE_LIVE)
		FAIL(CD_ERR_INVALID, "a %s move is not carried out by this version",
		     cd_move_mode_to_str((enum cd_move_mode)m));
	if (!n->member || n->maintenance || n->dead)
		FAIL(CD_ERR_INVALID, "node %s cannot take '%s' now", n->info.name, vm->name);
	a.mode = (enum cd_move_mode)m;
	a.node = a.target; /* what the transition's record names */
	cd_jget_u64(c, "wall_ms", &a.wall_ms);
	return cd_vm_transition(s, vm, CD_VM_EV_MOVE, &a, err, errlen);
}

/*
 * vm.move.step {name, node, action_id, phase, ok, error}: node did its part
 * (the phase it finished), or could not (ok false, error why).
 */
int cd_vm_op_move_step(struct cd_state *s, const struct json_object *c, char *err, size_t errlen)
{
	struct cd_vm_event_args a = {.ok = cd_jget_bool_or(c, "ok", false)};
	const char *e = cd_jget_str(c, "error");
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
