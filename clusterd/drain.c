/*
 * Drains carried out (core/drain.h, core/drain_plan.h): on the coordinator,
 * each node being drained gets its plan computed from the state, and the
 * moves it calls for are sent, as many at once as the plan says, highest
 * priority first. Each VM climbs its ladder (live, quick, cold) as its
 * moves fail; a move that outlasts its rung's time budget is cancelled,
 * which counts as a failed try. When nothing is left to move the drain is
 * ended: drained, or blocked with the reasons of what is left.
 *
 * Everything the ladder needs is in the replicated state, so a coordinator
 * that takes over mid-drain goes on where the last one was; what is kept
 * here is only what is on its way through the cluster.
 */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <qb/qblog.h>

#include <clusterd/result.h>

#include "clusterd/conf.h"
#include "clusterd/coordinator.h"
#include "clusterd/coordinator_int.h"
#include "clusterd/events.h"
#include "clusterd/membership.h"
#include "clusterd/replica.h"
#include "clusterd/sendonce.h"
#include "clusterd/volmgr.h"
#include "core/change.h"
#include "core/drain_plan.h"
#include "core/props.h"
#include "core/state.h"
#include "lib/util.h"

#define DRAIN_REFUSED_PAUSE_MS 10000 /* a refused move is not sent again before */
#define DRAIN_TARGET_WAIT_MS 120000  /* a move waits for its target's host leases at most */

/* The drains' changes on their way (a refused one is not sent again for 10 s). */
static struct cd_sendonce sent = {.what = "drain", .refused_pause_ms = 10000};

/* The drain is over: drained, or blocked with what is left and why. */
static void end(const struct cd_node *n, const struct cd_drain_plan *p)
{
	char key[80], why[CD_DRAIN_WHY_MAX + 1] = "";
	struct json_object *c;
	size_t i, len = 0;
	bool left = false;

	for (i = 0; i < p->n_vms; i++) {
		const struct cd_drain_plan_vm *v = &p->vms[i];

		if (v->state != CD_DVM_BLOCKED && v->state != CD_DVM_FAILED)
			continue;
		left = true;
		if (len < sizeof(why) - 1)
			len += (size_t)snprintf(why + len, sizeof(why) - len, "%s%s: %s",
						len ? "; " : "", v->vm, v->why);
	}
	snprintf(key, sizeof(key), "end:%s:%" PRIu64, n->info.name, n->drain.id);
	if (!cd_sendonce_may(&sent, key))
		return;
	c = cd_node_change(CD_CHANGE_NODE_DRAIN_END, n->info.name, cd_wall_ms());
	json_object_object_add(c, "id", json_object_new_int64((int64_t)n->drain.id));
	json_object_object_add(c, "state", json_object_new_string(left ? "blocked" : "drained"));
	json_object_object_add(c, "why", json_object_new_string(why));
	cd_sendonce_send(&sent, key, c);
}

static uint64_t step_budget_ms(const struct cd_state *s)
{
	return cd_props_get(s, CD_PROPS_DRAIN_STEP_TIMEOUT) * 1000;
}

/* A drain's move that outlasts its rung's budget is cancelled: a failed try. */
static void budgets(const struct cd_state *s, const struct cd_node *n)
{
	uint64_t now = cd_wall_ms(), budget = step_budget_ms(s);
	size_t i;

	for (i = 0; i < s->n_vms; i++) {
		const struct cd_vm *v = s->vms[i];
		char key[80];

		if (v->state != CD_VM_MIGRATING || v->move.source != n->info.id ||
		    v->drain.job != n->drain.id || v->move.cancelled || !v->move.begun_ms ||
		    now < v->move.begun_ms + budget)
			continue;
		snprintf(key, sizeof(key), "cancel:%s:%" PRIu64, v->name, v->action_id);
		if (!cd_sendonce_may(&sent, key))
			continue;
		qb_log(LOG_NOTICE,
		       "drain of %s: the %s move of %s outlasted %" PRIu64 " s: cancelled",
		       n->info.name, cd_move_mode_to_str(v->move.mode), v->name, budget / 1000);
		cd_sendonce_send(&sent, key, cd_vm_move_cancel_change(v->name));
	}
}

/*
 * A move into n begun before its drain is called off (once), while it
 * can be: the VM stays on its source. One past its switch-over lands, and
 * the drain moves it away again.
 */
static void incoming(const struct cd_state *s, const struct cd_node *n)
{
	size_t i;

	for (i = 0; i < s->n_vms; i++) {
		const struct cd_vm *v = s->vms[i];
		char key[80];

		if (!((v->state == CD_VM_MIGRATING && v->move.target == n->info.id &&
		       v->move.source != n->info.id && !v->move.cancelled &&
		       (v->move.phase == CD_MOVE_SHARING || v->move.phase == CD_MOVE_RECEIVING ||
			v->move.phase == CD_MOVE_COPYING || v->move.phase == CD_MOVE_SAVING))))
			continue;
		snprintf(key, sizeof(key), "incoming:%s:%" PRIu64, v->name, v->action_id);
		if (!cd_sendonce_may(&sent, key))
			continue;
		qb_log(LOG_NOTICE, "drain of %s: the %s move of %s into it is called off",
		       n->info.name, cd_move_mode_to_str(v->move.mode), v->name);
		cd_event("node", n->info.name, "drain: the %s move of %s into it is called off",
			 cd_move_mode_to_str(v->move.mode), v->name);
		cd_sendonce_send(&sent, key, cd_vm_move_cancel_change(v->name));
	}
}

/*
 * Whether a move into node id may begin: a node back from a restart takes a
 * VM's disk leases only once it holds its host leases again, so a move
 * into it before then would fail and climb the VM's ladder for nothing.
 * It waits, DRAIN_TARGET_WAIT_MS at most; after that the move is tried and
 * fails or not on its own.
 */
static bool target_ready(const struct cd_state *s, uint32_t id)
{
	static uint64_t since[CD_MAX_NODES];
	const struct cd_node *n = cd_state_node_by_id(s, id);
	size_t i = n ? (size_t)(n - s->nodes) : CD_MAX_NODES;
	uint64_t now = cd_now_ms();
	char vol[64];

	if (i >= CD_MAX_NODES || cd_volmgr_host_ready(id, vol, sizeof(vol))) {
		if (i < CD_MAX_NODES)
			since[i] = 0;
		return true;
	}
	if (!since[i]) {
		since[i] = now;
		qb_log(LOG_NOTICE,
		       "drain: moves into %s wait until it holds its host lease on volume %s",
		       n->info.name, vol);
	}
	return now >= since[i] + DRAIN_TARGET_WAIT_MS;
}

/*
 * Whether vm's quick move lacks the volume the cluster property
 * state-volume names (an admin's choice: it waits until it is fixed),
 * rather than any volume at all (the drain goes on to a cold move).
 */
static bool state_volume_missing(const struct cd_state *s, const struct cd_vm *vm)
{
	char vol[64], file[64], err[400];

	return cd_vm_state_file_place(s, vm, cd_config_str(CD_CFG_CSVFS_RUN_DIR), vol, file, err,
				      sizeof(err)) == CD_ERR_INVALID;
}

/* Say why vm's quick move waits, at most once a minute for all of them. */
static void hold_said(const struct cd_node *n, const struct cd_vm *vm, const char *why)
{
	static uint64_t said_at;
	uint64_t now = cd_now_ms();

	if (said_at && now < said_at + 60000)
		return;
	said_at = now;
	cd_event("vm", vm->name, "drain of %s: %s moves when state-volume is fixed: %s",
		 n->info.name, vm->name, why);
}

/* Start the move of plan entry pv. */
static void start_move(const struct cd_state *s, const struct cd_node *n,
		       const struct cd_drain_plan_vm *pv)
{
	const struct cd_vm *vm = cd_state_vm(s, pv->vm);
	enum cd_move_mode mode = pv->method;
	char key[80], err[256], why[CD_DRAIN_WHY_MAX + 1];
	struct json_object *c, *d;
	uint32_t tries = pv->tries;

	if (!vm)
		return;
	snprintf(key, sizeof(key), "vm:%s", vm->name);
	if (!cd_sendonce_may(&sent, key))
		return;
	cd_strlcpy(why, pv->why, sizeof(why));
	c = cd_vm_move_change(s, vm, pv->target, mode, cd_config_str(CD_CFG_CSVFS_RUN_DIR),
			      cd_wall_ms(), err, sizeof(err));
	if (!c && mode == CD_MOVE_QUICK && state_volume_missing(s, vm)) {
		/* The admin's state-volume is missing: no cold move for a typo; it waits. */
		hold_said(n, vm, err);
		return;
	}
	if (!c && mode == CD_MOVE_QUICK && !vm->cold_never) {
		/* No volume for its memory: the rung cannot be tried, the next one can. */
		snprintf(why, sizeof(why), "no quick move: %.200s", err);
		mode = CD_MOVE_COLD;
		tries = 1;
		c = cd_vm_move_change(s, vm, pv->target, mode, NULL, cd_wall_ms(), err,
				      sizeof(err));
	}
	if (!c) {
		qb_log(LOG_WARNING, "drain of %s: cannot move %s: %s", n->info.name, vm->name, err);
		return;
	}
	d = json_object_new_object();
	json_object_object_add(d, "job", json_object_new_int64((int64_t)n->drain.id));
	json_object_object_add(d, "tries", json_object_new_int64(tries));
	json_object_object_add(d, "why", json_object_new_string(why));
	json_object_object_add(c, "drain", d);
	qb_log(LOG_NOTICE, "drain of %s: moving %s %s to node %u (try %u)%s%s", n->info.name,
	       vm->name, cd_move_mode_to_str(mode), pv->target, tries, *why ? ": " : "", why);
	cd_sendonce_send(&sent, key, c);
}

static void drain_node(const struct cd_state *s, const struct cd_node *n)
{
	struct cd_drain_plan p;
	char err[256];
	size_t i, busy;

	if (cd_drain_plan(s, n->info.id, &n->drain, &p, err, sizeof(err)) < 0) {
		qb_log(LOG_WARNING, "drain of %s: no plan: %s", n->info.name, err);
		return;
	}
	if (p.n_waiting == 0 && p.n_moving == 0) {
		end(n, &p);
		goto out;
	}
	budgets(s, n);
	incoming(s, n);
	busy = p.n_moving;
	for (i = 0; i < p.n_vms && busy < p.parallel; i++) {
		char key[80];

		if (p.vms[i].state != CD_DVM_WAITING || !p.vms[i].target)
			continue;
		snprintf(key, sizeof(key), "vm:%s", p.vms[i].vm);
		if (cd_sendonce_pending(&sent, key)) {
			busy++; /* on its way */
			continue;
		}
		if (!target_ready(s, p.vms[i].target))
			continue;
		start_move(s, n, &p.vms[i]);
		busy++;
	}
out:
	cd_drain_plan_free(&p);
}

void cd_drain_decide(void)
{
	const struct cd_state *s = cd_replica_state();
	size_t i;

	if (cd_replica_coordinator() != cd_membership_local_nodeid())
		return;
	for (i = 0; i < s->n_nodes; i++)
		if (s->nodes[i].drain.state == CD_DRAIN_RUNNING)
			drain_node(s, &s->nodes[i]);
}

void cd_drain_fini(void)
{
	cd_sendonce_fini(&sent);
}
