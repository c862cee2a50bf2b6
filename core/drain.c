/*
 * Drains in the replicated state (drain.h): the node's job, a VM's place on
 * its ladder, and the changes that drive them. Pure: no I/O.
 */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <clusterd/result.h>

#include "core/drain.h"
#include "core/node.h"
#include "core/state.h"
#include "core/vm_internal.h"
#include "lib/fsm.h"
#include "lib/jsonget.h"
#include "lib/util.h"

#define FAIL CD_FAIL

/* clang-format off */
static const char *const state_names[] = {
	[CD_DRAIN_NONE] = "none",
	[CD_DRAIN_RUNNING] = "running",
	[CD_DRAIN_DRAINED] = "drained",
	[CD_DRAIN_BLOCKED] = "blocked",
	[CD_DRAIN_CANCELLED] = "cancelled",
};
static const char *const failback_names[] = {
	[CD_RESUME_POLICY] = "policy",
	[CD_RESUME_NOW] = "now",
	[CD_RESUME_NEVER] = "never",
};
static const char *const mode_names[] = {
	[CD_MOVE_LIVE] = "live",
	[CD_MOVE_QUICK] = "quick",
	[CD_MOVE_COLD] = "cold",
};
/* clang-format on */

_Static_assert(N_OF(state_names) == CD_DRAIN_N_STATES, "a name for every drain state");

const char *cd_drain_state_to_str(enum cd_drain_state s)
{
	return cd_fsm_name(state_names, N_OF(state_names), (int)s);
}

const char *cd_resume_failback_to_str(enum cd_resume_failback f)
{
	return cd_fsm_name(failback_names, N_OF(failback_names), (int)f);
}

int cd_resume_failback_from_str(const char *s, enum cd_resume_failback *out)
{
	int i = cd_fsm_index(failback_names, N_OF(failback_names), s);

	if (i < 0)
		return -1;
	*out = (enum cd_resume_failback)i;
	return 0;
}

static struct json_object *u64_json(uint64_t v)
{
	return json_object_new_int64((int64_t)v);
}

/* A bounded text field into out (absent: ""): whether it was valid. */
static bool text_field(const struct json_object *o, const char *key, char *out, size_t len)
{
	const char *v = cd_jget_str(o, key);

	if (!v) {
		out[0] = '\0';
		return !json_object_object_get_ex(o, key, NULL);
	}
	return cd_valid_text(v, len - 1) && cd_strlcpy(out, v, len) < len;
}

struct json_object *cd_drain_to_json(const struct cd_drain *d)
{
	struct json_object *o;

	if (d->id == 0 && d->failback == CD_RESUME_POLICY)
		return NULL;
	o = json_object_new_object();
	json_object_object_add(o, "id", u64_json(d->id));
	json_object_object_add(o, "state", json_object_new_string(cd_drain_state_to_str(d->state)));
	json_object_object_add(o, "mode", json_object_new_string(cd_move_mode_to_str(d->mode)));
	json_object_object_add(o, "begun_ms", u64_json(d->begun_ms));
	json_object_object_add(o, "ended_ms", u64_json(d->ended_ms));
	json_object_object_add(o, "why", json_object_new_string(d->why));
	json_object_object_add(o, "failback",
			       json_object_new_string(cd_resume_failback_to_str(d->failback)));
	if (d->on_shutdown)
		json_object_object_add(o, "on_shutdown", json_object_new_boolean(true));
	return o;
}

int cd_drain_from_json(struct cd_drain *d, const struct json_object *o)
{
	int st, mode;

	memset(d, 0, sizeof(*d));
	if (!o)
		return 0;
	st = cd_fsm_index(state_names, N_OF(state_names), cd_jget_str(o, "state"));
	mode = cd_fsm_index(mode_names, N_OF(mode_names), cd_jget_str(o, "mode"));
	if (st < 0 || mode < 0 || cd_jget_u64(o, "id", &d->id) < 0 ||
	    cd_jget_u64(o, "begun_ms", &d->begun_ms) < 0 ||
	    cd_jget_u64(o, "ended_ms", &d->ended_ms) < 0 ||
	    !text_field(o, "why", d->why, sizeof(d->why)) ||
	    cd_resume_failback_from_str(cd_jget_str(o, "failback"), &d->failback) < 0 ||
	    cd_jget_bool(o, "on_shutdown", &d->on_shutdown) == -EINVAL)
		return -1;
	d->state = (enum cd_drain_state)st;
	d->mode = (enum cd_move_mode)mode;
	return 0;
}

struct json_object *cd_vm_drain_to_json(const struct cd_vm_drain *d)
{
	struct json_object *o;

	if (d->job == 0)
		return NULL;
	o = json_object_new_object();
	json_object_object_add(o, "job", u64_json(d->job));
	json_object_object_add(o, "rung", json_object_new_string(cd_move_mode_to_str(d->rung)));
	json_object_object_add(o, "tries", u64_json(d->tries));
	json_object_object_add(o, "action_id", u64_json(d->action_id));
	json_object_object_add(o, "why", json_object_new_string(d->why));
	return o;
}

int cd_vm_drain_from_json(struct cd_vm_drain *d, const struct json_object *o)
{
	uint64_t tries;
	int rung;

	memset(d, 0, sizeof(*d));
	if (!o)
		return 0;
	rung = cd_fsm_index(mode_names, N_OF(mode_names), cd_jget_str(o, "rung"));
	if (rung < 0 || cd_jget_u64(o, "job", &d->job) < 0 || cd_jget_u64(o, "tries", &tries) < 0 ||
	    tries > UINT32_MAX || cd_jget_u64(o, "action_id", &d->action_id) < 0 ||
	    !text_field(o, "why", d->why, sizeof(d->why)))
		return -1;
	d->rung = (enum cd_move_mode)rung;
	d->tries = (uint32_t)tries;
	return 0;
}

int cd_vm_drain_parse(const struct json_object *c, struct cd_vm_drain *d)
{
	struct json_object *o;
	uint64_t tries;

	memset(d, 0, sizeof(*d));
	if (!json_object_object_get_ex(c, "drain", &o))
		return 0;
	if (cd_jget_u64(o, "job", &d->job) < 0 || d->job == 0 ||
	    cd_jget_u64(o, "tries", &tries) < 0 || tries == 0 || tries > UINT32_MAX ||
	    !text_field(o, "why", d->why, sizeof(d->why))) {
		memset(d, 0, sizeof(*d));
		return -1;
	}
	d->tries = (uint32_t)tries;
	return 0;
}

/* --- the ladder --- */

uint32_t cd_drain_tries(enum cd_move_mode rung)
{
	return rung == CD_MOVE_LIVE ? 1 : 2;
}

bool cd_drain_vm_on(const struct cd_vm *vm, uint32_t node)
{
	if (vm->state == CD_VM_MIGRATING)
		return vm->move.source == node || vm->node == node || vm->move.target == node;
	if (vm->state == CD_VM_STOPPING && vm->cold_to == node)
		return true;
	return vm->node == node && (vm->state == CD_VM_RUNNING || vm->state == CD_VM_STARTING ||
				    vm->state == CD_VM_STOPPING || vm->state == CD_VM_FAILED);
}

/* A reason into out, cut to fit. */
static void say(char *out, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void say(char *out, size_t len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(out, len, fmt, ap);
	va_end(ap);
}

static enum cd_move_mode higher(enum cd_move_mode a, enum cd_move_mode b)
{
	return a > b ? a : b;
}

/* Its rung may not be cold: stuck, with the reason. */
static void no_cold(const struct cd_vm *vm, const char *before, struct cd_drain_next *out)
{
	out->step = CD_DRAIN_STUCK;
	say(out->why, sizeof(out->why), "%s%scold-restart=never: it may not be stopped to move",
	    before, *before ? "; " : "");
}

void cd_drain_next(const struct cd_drain *d, const struct cd_vm *vm, struct cd_drain_next *out)
{
	const struct cd_vm_drain *vd = &vm->drain;
	char last[CD_DRAIN_WHY_MAX + 1];

	memset(out, 0, sizeof(*out));
	if (vm->state != CD_VM_RUNNING) {
		out->step = CD_DRAIN_WAIT;
		return;
	}
	if (!d->id || vd->job != d->id) {
		/* Its first step: where the drain starts, or higher if its move-mode says so. */
		out->step = CD_DRAIN_MOVE;
		out->mode = higher(d->mode, vm->move_mode);
		out->tries = 1;
		if (out->mode == CD_MOVE_COLD && vm->cold_never)
			no_cold(vm, "", out);
		return;
	}
	/* It still runs here after its last drain move: that try did not move it. */
	if (vm->last_move.action_id == vd->action_id && vm->last_move.error[0])
		say(last, sizeof(last), "%s move failed: %s", cd_move_mode_to_str(vd->rung),
		    vm->last_move.error);
	else
		say(last, sizeof(last), "%s move did not move it (%s)",
		    cd_move_mode_to_str(vd->rung),
		    vm->last_move.action_id == vd->action_id
			    ? cd_move_outcome_to_str(vm->last_move.outcome)
			    : "not begun");
	out->step = CD_DRAIN_MOVE;
	cd_strlcpy(out->why, last, sizeof(out->why));
	if (vd->tries < cd_drain_tries(vd->rung)) {
		out->mode = vd->rung;
		out->tries = vd->tries + 1;
		return;
	}
	if (vd->rung == CD_MOVE_COLD) {
		out->step = CD_DRAIN_STUCK;
		say(out->why, sizeof(out->why), "every way to move it failed; last: %s", last);
		return;
	}
	out->mode = (enum cd_move_mode)(vd->rung + 1);
	out->tries = 1;
	if (out->mode == CD_MOVE_COLD && vm->cold_never)
		no_cold(vm, last, out);
}

struct json_object *cd_node_change(enum cd_change op, const char *node, uint64_t wall_ms)
{
	struct json_object *c = json_object_new_object();

	json_object_object_add(c, "op", json_object_new_string(cd_change_name(op)));
	json_object_object_add(c, "node", json_object_new_string(node));
	json_object_object_add(c, "wall_ms", json_object_new_int64((int64_t)wall_ms));
	return c;
}

struct json_object *cd_node_drain_change(const char *node, enum cd_move_mode mode, uint64_t wall_ms)
{
	struct json_object *c = cd_node_change(CD_CHANGE_NODE_DRAIN, node, wall_ms);

	json_object_object_add(c, "mode", json_object_new_string(cd_move_mode_to_str(mode)));
	return c;
}

struct json_object *cd_node_shutdown_drain_change(const char *node, enum cd_move_mode mode,
						  uint64_t wall_ms)
{
	struct json_object *c = cd_node_drain_change(node, mode, wall_ms);

	json_object_object_add(c, "on_shutdown", json_object_new_boolean(true));
	return c;
}

/* --- the changes --- */

static struct cd_node *named_node(struct cd_state *s, const struct json_object *c, char *err,
				  size_t errlen)
{
	const char *name = cd_jget_str(c, "node");
	struct cd_node *n = name ? (struct cd_node *)cd_state_node_by_name(s, name) : NULL;

	if (!name)
		snprintf(err, errlen, "missing node name");
	else if (!n)
		snprintf(err, errlen, "no node '%s' (see 'clusterctl node list')", name);
	return n;
}

/*
 * node.drain {node, mode, wall_ms, on_shutdown}: the node takes no VMs and
 * its VMs move away.
 */
int cd_node_op_drain(struct cd_state *s, const struct json_object *c, char *err, size_t errlen)
{
	struct cd_node *n = named_node(s, c, err, errlen);
	int mode;

	if (!n)
		return cd_jget_str(c, "node") ? CD_ERR_NOT_FOUND : CD_ERR_INVALID;
	mode = cd_fsm_index(mode_names, N_OF(mode_names), cd_jget_str(c, "mode"));
	if (mode < 0)
		FAIL(CD_ERR_INVALID, "a drain's mode is live, quick or cold");
	if (!n->member || n->dead)
		FAIL(CD_ERR_INVALID, "node %s is offline: its VMs fail over, nothing to drain",
		     n->info.name);
	if (n->drain.state == CD_DRAIN_RUNNING)
		FAIL(CD_ERR_EXISTS, "node %s is being drained already (drain %llu)", n->info.name,
		     (unsigned long long)n->drain.id);
	n->maintenance = true;
	n->drain.id = ++s->last_action_id;
	n->drain.state = CD_DRAIN_RUNNING;
	n->drain.mode = (enum cd_move_mode)mode;
	n->drain.begun_ms = 0;
	cd_jget_u64(c, "wall_ms", &n->drain.begun_ms);
	n->drain.ended_ms = 0;
	n->drain.why[0] = '\0';
	n->drain.on_shutdown = cd_jget_bool_or(c, "on_shutdown", false);
	return 0;
}

/* node.drain.end {node, id, state: drained|blocked, why, wall_ms}: the coordinator's verdict. */
int cd_node_op_drain_end(struct cd_state *s, const struct json_object *c, char *err, size_t errlen)
{
	struct cd_node *n = named_node(s, c, err, errlen);
	char why[CD_DRAIN_WHY_MAX + 1];
	uint64_t id = 0;
	int st;

	if (!n)
		return cd_jget_str(c, "node") ? CD_ERR_NOT_FOUND : CD_ERR_INVALID;
	st = cd_fsm_index(state_names, N_OF(state_names), cd_jget_str(c, "state"));
	if (cd_jget_u64(c, "id", &id) < 0 || (st != CD_DRAIN_DRAINED && st != CD_DRAIN_BLOCKED) ||
	    !text_field(c, "why", why, sizeof(why)))
		FAIL(CD_ERR_INVALID, "malformed end of a drain of %s", n->info.name);
	if (n->drain.id != id || n->drain.state != CD_DRAIN_RUNNING)
		FAIL(CD_ERR_INVALID, "drain %llu of %s is not running", (unsigned long long)id,
		     n->info.name);
	n->drain.state = (enum cd_drain_state)st;
	cd_strlcpy(n->drain.why, why, sizeof(n->drain.why));
	cd_jget_u64(c, "wall_ms", &n->drain.ended_ms);
	return 0;
}

/* node.drain.cancel {node, wall_ms}: no more moves start; the node stays paused. */
int cd_node_op_drain_cancel(struct cd_state *s, const struct json_object *c, char *err,
			    size_t errlen)
{
	struct cd_node *n = named_node(s, c, err, errlen);

	if (!n)
		return cd_jget_str(c, "node") ? CD_ERR_NOT_FOUND : CD_ERR_INVALID;
	if (n->drain.state != CD_DRAIN_RUNNING)
		FAIL(CD_ERR_INVALID, "node %s is not being drained", n->info.name);
	n->drain.state = CD_DRAIN_CANCELLED;
	cd_strlcpy(n->drain.why, "cancelled by an admin", sizeof(n->drain.why));
	cd_jget_u64(c, "wall_ms", &n->drain.ended_ms);
	return 0;
}

/* node.resume {node, failback}: it takes VMs again; a drain under way ends. */
int cd_node_op_resume(struct cd_state *s, const struct json_object *c, char *err, size_t errlen)
{
	struct cd_node *n = named_node(s, c, err, errlen);
	enum cd_resume_failback fb = CD_RESUME_POLICY;
	const char *f = cd_jget_str(c, "failback");

	if (!n)
		return cd_jget_str(c, "node") ? CD_ERR_NOT_FOUND : CD_ERR_INVALID;
	if (f && cd_resume_failback_from_str(f, &fb) < 0)
		FAIL(CD_ERR_INVALID, "failback must be now, policy or never");
	n->maintenance = false;
	n->drain.state = CD_DRAIN_NONE;
	n->drain.failback = fb;
	n->drain.on_shutdown = false;
	return 0;
}
