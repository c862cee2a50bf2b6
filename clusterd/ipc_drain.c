/*
 * The IPC commands of drains: node.drain (and its dry run), node.drain.status,
 * node.drain.cancel and node.resume. The plan they answer with is the one
 * the coordinator carries out (core/drain_plan.h), from this node's copy of
 * the state.
 */
#include "config.h"

#include <string.h>

#include <qb/qblog.h>

#include <clusterd/result.h>

#include "clusterd/ipc_cmd.h"
#include "clusterd/replica.h"
#include "core/drain_plan.h"
#include "core/state.h"
#include "lib/util.h"

static struct json_object *node_name_json(const struct cd_state *s, uint32_t id)
{
	const struct cd_node *n = id ? cd_state_node_by_id(s, id) : NULL;

	return n ? json_object_new_string(n->info.name) : NULL;
}

static struct json_object *plan_vm_json(const struct cd_state *s, const struct cd_drain_plan_vm *v)
{
	struct json_object *o = json_object_new_object();
	const struct cd_vm *vm = cd_state_vm(s, v->vm);
	bool moving = v->state == CD_DVM_MOVING && vm && vm->state == CD_VM_MIGRATING;

	json_object_object_add(o, "vm", json_object_new_string(v->vm));
	json_object_object_add(o, "priority",
			       json_object_new_string(cd_vm_priority_to_str(v->priority)));
	json_object_object_add(o, "vcpus", json_object_new_int64(v->vcpus));
	json_object_object_add(o, "memory_mb", json_object_new_int64((int64_t)v->memory_mb));
	json_object_object_add(o, "state",
			       json_object_new_string(cd_drain_vm_state_to_str(v->state)));
	json_object_object_add(o, "target", node_name_json(s, v->target));
	json_object_object_add(o, "method", json_object_new_string(cd_move_mode_to_str(v->method)));
	json_object_object_add(o, "tries", json_object_new_int64(v->tries));
	json_object_object_add(o, "expected_s", json_object_new_int64(v->expected_s));
	json_object_object_add(o, "phase",
			       json_object_new_string(moving ? cd_move_phase_to_str(vm->move.phase)
						      : vm && vm->cold_to ? "stopping"
									  : ""));
	/*
	 * Unknown here: the drain's record does not follow a move's progress,
	 * and asking the source's libvirt for it belongs to vm.move.status.
	 * clusterctl fills it in from vm.move.status for each moving VM.
	 */
	json_object_object_add(o, "percent", json_object_new_int(-1));
	json_object_object_add(o, "blocker",
			       v->state == CD_DVM_BLOCKED || v->state == CD_DVM_FAILED
				       ? json_object_new_string(v->why)
				       : NULL);
	json_object_object_add(o, "why", json_object_new_string(v->why));
	return o;
}

/* The plan p of drain d of node n, as the answers show it. */
static struct json_object *plan_json(const struct cd_state *s, const struct cd_node *n,
				     const struct cd_drain *d, const struct cd_drain_plan *p)
{
	struct json_object *o = json_object_new_object(), *a = json_object_new_array();
	size_t i;

	json_object_object_add(o, "node", json_object_new_string(n->info.name));
	if (d->id)
		json_object_object_add(o, "id", json_object_new_int64((int64_t)d->id));
	json_object_object_add(o, "mode", json_object_new_string(cd_move_mode_to_str(d->mode)));
	json_object_object_add(o, "parallel", json_object_new_int64(p->parallel));
	json_object_object_add(o, "bandwidth_mib_s", json_object_new_int64(p->bandwidth_mib_s));
	json_object_object_add(o, "bandwidth_measured",
			       json_object_new_boolean(p->bandwidth_measured));
	/* parallel = bandwidth / (margin x the largest dirty rate), drain_plan.h. */
	json_object_object_add(o, "margin", json_object_new_int64(CD_DRAIN_MARGIN));
	json_object_object_add(o, "dirty_mib_s", json_object_new_int64(p->dirty_mib_s));
	json_object_object_add(o, "dirty_measured", json_object_new_boolean(p->dirty_measured));
	json_object_object_add(o, "dirty_vm",
			       p->dirty_vm[0] ? json_object_new_string(p->dirty_vm) : NULL);
	json_object_object_add(o, "eta_s", json_object_new_int64(p->eta_s));
	json_object_object_add(o, "blocked", json_object_new_boolean(p->blocked));
	for (i = 0; i < p->n_vms; i++)
		json_object_array_add(a, plan_vm_json(s, &p->vms[i]));
	json_object_object_add(o, "plan", a);
	return o;
}

static const struct cd_node *named_node(struct json_object *args, struct json_object **out)
{
	const char *name = cd_ipc_arg_str(args, "node");
	const struct cd_node *n = name ? cd_state_node_by_name(cd_replica_state(), name) : NULL;

	if (!name)
		*out = cd_ipc_error_obj("missing node name");
	else if (!n)
		*out = cd_ipc_error_obj("no node '%s' (see 'clusterctl node list')", name);
	return n;
}

/* The plan of node n's drain d as an answer in *out: 0, or a negative code. */
static int answer_plan(const struct cd_node *n, const struct cd_drain *d, bool dry,
		       struct json_object **out)
{
	const struct cd_state *s = cd_replica_state();
	struct cd_drain_plan p;
	char err[256];
	int rc = cd_drain_plan(s, n->info.id, d, &p, err, sizeof(err));

	if (rc < 0) {
		*out = cd_ipc_error_obj("%s", err);
		return rc;
	}
	*out = plan_json(s, n, d, &p);
	json_object_object_add(*out, "dry_run", json_object_new_boolean(dry));
	cd_drain_plan_free(&p);
	return 0;
}

/* --- the commands --- */

/* The answers once a change is applied: about the node of args, which may be gone. */
static int drain_begun(struct json_object *args, struct json_object **out)
{
	const struct cd_node *n = named_node(args, out);

	return n ? answer_plan(n, &n->drain, false, out) : CD_ERR_NOT_FOUND;
}

static int cmd_node_drain(qb_ipcs_connection_t *c, struct json_object *args,
			  struct json_object **out)
{
	const struct cd_node *n = named_node(args, out);
	const char *mode = cd_ipc_arg_str(args, "mode");
	struct cd_drain d = {0};
	struct json_object *dry = NULL, *ch;

	if (!n)
		return cd_ipc_arg_str(args, "node") ? CD_ERR_NOT_FOUND : CD_ERR_INVALID;
	if (mode) {
		for (d.mode = CD_MOVE_LIVE; d.mode <= CD_MOVE_COLD; d.mode++)
			if (strcmp(mode, cd_move_mode_to_str(d.mode)) == 0)
				break;
		if (d.mode > CD_MOVE_COLD) {
			*out = cd_ipc_error_obj("no move mode '%s' (live, quick or cold)", mode);
			return CD_ERR_INVALID;
		}
	}
	if (!n->member || n->dead) {
		*out = cd_ipc_error_obj("node %s is offline: its VMs fail over, nothing to drain",
					n->info.name);
		return CD_ERR_INVALID;
	}
	json_object_object_get_ex(args, "dry_run", &dry);
	if (dry && json_object_get_boolean(dry))
		return answer_plan(n, &d, true, out);
	ch = cd_node_drain_change(n->info.name, d.mode, cd_wall_ms());
	return cd_ipc_submit_answer(c, ch, args, drain_begun, out);
}

static int cmd_node_drain_status(qb_ipcs_connection_t *c, struct json_object *args,
				 struct json_object **out)
{
	const struct cd_node *n = named_node(args, out);
	int rc;

	if (!n)
		return cd_ipc_arg_str(args, "node") ? CD_ERR_NOT_FOUND : CD_ERR_INVALID;
	rc = answer_plan(n, &n->drain, false, out);
	if (rc < 0)
		return rc;
	json_object_object_add(*out, "state",
			       json_object_new_string(cd_drain_state_to_str(n->drain.state)));
	json_object_object_add(*out, "begun_ms", json_object_new_int64((int64_t)n->drain.begun_ms));
	json_object_object_add(*out, "ended_ms", json_object_new_int64((int64_t)n->drain.ended_ms));
	json_object_object_add(*out, "why", json_object_new_string(n->drain.why));
	json_object_object_add(*out, "maintenance", json_object_new_boolean(n->maintenance));
	/* The list under the name the status gives it, once (not twice in the answer). */
	json_object_object_add(*out, "vms", json_object_get(json_object_object_get(*out, "plan")));
	json_object_object_del(*out, "plan");
	return 0;
}

static int drain_state_answer(struct json_object *args, struct json_object **out)
{
	const struct cd_node *n = named_node(args, out);

	if (!n)
		return CD_ERR_NOT_FOUND;
	*out = json_object_new_object();
	json_object_object_add(*out, "node", json_object_new_string(n->info.name));
	json_object_object_add(*out, "id", json_object_new_int64((int64_t)n->drain.id));
	json_object_object_add(*out, "state",
			       json_object_new_string(cd_drain_state_to_str(n->drain.state)));
	return 0;
}

/* With abort, the drain's moves under way are cancelled too (they end on their source). */
static void abort_moves(const struct cd_node *n, uint64_t job)
{
	const struct cd_state *s = cd_replica_state();
	size_t i;

	for (i = 0; i < s->n_vms; i++) {
		const struct cd_vm *v = s->vms[i];
		struct json_object *c;

		if (v->state != CD_VM_MIGRATING || v->move.source != n->info.id ||
		    v->drain.job != job)
			continue;
		c = cd_vm_move_cancel_change(v->name);
		if (cd_replica_submit(c, NULL, NULL) < 0)
			qb_log(LOG_WARNING, "drain of %s: cannot cancel the move of %s",
			       n->info.name, v->name);
		json_object_put(c);
	}
}

static int cmd_node_drain_cancel(qb_ipcs_connection_t *c, struct json_object *args,
				 struct json_object **out)
{
	const struct cd_node *n = named_node(args, out);
	struct json_object *ab = NULL, *ch;

	if (!n)
		return cd_ipc_arg_str(args, "node") ? CD_ERR_NOT_FOUND : CD_ERR_INVALID;
	if (n->drain.state != CD_DRAIN_RUNNING) {
		*out = cd_ipc_error_obj("node %s is not being drained", n->info.name);
		return CD_ERR_INVALID;
	}
	json_object_object_get_ex(args, "abort", &ab);
	ch = cd_node_change(CD_CHANGE_NODE_DRAIN_CANCEL, n->info.name, cd_wall_ms());
	if (ab && json_object_get_boolean(ab)) {
		json_object_object_add(ch, "abort", json_object_new_boolean(true));
		abort_moves(n, n->drain.id);
	}
	return cd_ipc_submit_answer(c, ch, args, drain_state_answer, out);
}

/* The VMs expected back now: their most preferred owner is n and they run elsewhere. */
static int resumed(struct json_object *args, struct json_object **out)
{
	const struct cd_state *s = cd_replica_state();
	const struct cd_node *n = named_node(args, out);
	struct json_object *a;
	size_t i;

	if (!n)
		return CD_ERR_NOT_FOUND;
	a = json_object_new_array();
	for (i = 0; i < s->n_vms; i++) {
		const struct cd_vm *v = s->vms[i];

		if (v->n_preferred && strcmp(v->preferred[0], n->info.name) == 0 &&
		    v->state == CD_VM_RUNNING && v->node != n->info.id &&
		    (n->drain.failback == CD_RESUME_NOW ||
		     (n->drain.failback == CD_RESUME_POLICY && v->failback != CD_FAILBACK_NEVER)))
			json_object_array_add(a, json_object_new_string(v->name));
	}
	*out = json_object_new_object();
	json_object_object_add(*out, "node", json_object_new_string(n->info.name));
	json_object_object_add(
		*out, "failback",
		json_object_new_string(cd_resume_failback_to_str(n->drain.failback)));
	json_object_object_add(*out, "returning", a);
	return 0;
}

static int cmd_node_resume(qb_ipcs_connection_t *c, struct json_object *args,
			   struct json_object **out)
{
	const struct cd_node *n = named_node(args, out);
	const char *fb = cd_ipc_arg_str(args, "failback");
	enum cd_resume_failback f;
	struct json_object *ch;

	if (!n)
		return cd_ipc_arg_str(args, "node") ? CD_ERR_NOT_FOUND : CD_ERR_INVALID;
	if (fb && cd_resume_failback_from_str(fb, &f) < 0) {
		*out = cd_ipc_error_obj("failback must be now, policy or never");
		return CD_ERR_INVALID;
	}
	ch = cd_node_change(CD_CHANGE_NODE_RESUME, n->info.name, cd_wall_ms());
	json_object_object_add(ch, "failback", json_object_new_string(fb ? fb : "policy"));
	return cd_ipc_submit_answer(c, ch, args, resumed, out);
}

const struct cd_ipc_cmd cd_ipc_drain_cmds[] = {
	{"node.drain", CD_IPC_SUBMITS, cmd_node_drain},
	{"node.drain.status", 0, cmd_node_drain_status},
	{"node.drain.cancel", CD_IPC_SUBMITS, cmd_node_drain_cancel},
	{"node.resume", CD_IPC_SUBMITS, cmd_node_resume},
};
const size_t cd_ipc_drain_n_cmds = sizeof(cd_ipc_drain_cmds) / sizeof(cd_ipc_drain_cmds[0]);
