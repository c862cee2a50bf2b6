/*
 * The local resource manager's part in a VM's live move (lrm_int.h; the
 * move's replicated phases are in vm.h, struct cd_vm_move).
 *
 *   source  sharing: its exclusive disk leases turn shared; copying: the
 *           peer-to-peer libvirt migration to the target's libvirtd;
 *           then it settles the move: it looks at both domains' real
 *           state and reports where the VM runs.
 *   target  receiving: takes the disk leases shared as well.
 *   either  the node the VM runs on afterwards takes its leases exclusive
 *           again once the other has given its shared hold up; a node
 *           that holds leases of a VM it does not run (the other end)
 *           makes sure its copy is off, then gives them up.
 *
 * The outcome comes from the domains, never from an error message: the VM
 * runs where a domain runs unpaused; the source is resumed only once the
 * target's copy is known gone (or its node dead); a copy found running at
 * both ends is cut down to the cluster's record, the source.
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <qb/qblog.h>

#include <clusterd/result.h>

#include "agents/vm_agent.h"
#include "clusterd/conf.h"
#include "clusterd/events.h"
#include "clusterd/lrm_int.h"
#include "clusterd/membership.h"
#include "clusterd/replica.h"
#include "clusterd/timing.h"
#include "core/change.h"
#include "core/move_settle.h"
#include "core/props.h"
#include "lib/jsonget.h"
#include "lib/util.h"

/* How long an undecided move waits before its ends are looked at again. */
#define SETTLE_AGAIN_MS 1000
/* How often a copy's progress is looked at, and after how many looks without
 * progress (and how many passes over memory) it is not converging. */
#define CD_MOVE_WATCH_MS 1000
#define STALLED_LOOKS 3
#define MIN_ITERATIONS 3

int lrm_move_timeout(void)
{
	return lrm.cfg.call_timeout_ms;
}

/* This node begins phase p of v's move once: whether it is the first time. */
static bool begin(struct lvm *v, const struct cd_vm *vm, enum cd_move_phase p)
{
	if (v->move_action != vm->action_id) {
		v->move_action = vm->action_id;
		v->move_done = 0;
		v->abort_sent = false;
		v->move_begun = cd_now_ms();
		v->next_settle = 0;
		v->move_err[0] = '\0';
		v->paused_looks = 0;
		v->next_watch = 0;
		v->min_remaining = UINT64_MAX;
		v->stalled = 0;
		v->postcopy_sent = false;
		v->stall_said = false;
		v->fallback_sent = false;
		v->fallback_refused = false;
		v->dirty_mibs = -1;
		v->dirty_seen_mibs = -1;
	}
	if (v->move_done & (1u << p))
		return false;
	v->move_done |= 1u << p;
	return true;
}

/* --- a node's step (vm.move.step) --- */

struct step {
	char name[64];
	uint64_t action;
	enum cd_move_phase phase;
};

static void step_done(void *ctx, int rc, const char *err)
{
	struct step *x = ctx;
	struct lvm *v = lvm_find(x->name);

	if (v)
		lrm_step(v, CD_LRM_EV_STEPPED, rc < 0 ? "not recorded" : NULL);
	if (rc < 0) {
		vm_log(rc == CD_ERR_INVALID ? LOG_INFO : LOG_WARNING, x->name,
		       "move step %s not recorded: %s", cd_move_phase_to_str(x->phase), err);
		/* Not for want of turn: done again (lease changes repeat harmlessly). */
		if (v && v->move_action == x->action && rc != CD_ERR_INVALID)
			v->move_done &= ~(1u << x->phase);
	}
	free(x);
	cd_lrm_state_changed();
}

void lrm_send_step(struct lvm *v, enum cd_move_phase phase, bool ok, const char *why,
		   struct json_object *extra)
{
	struct json_object *c = json_object_new_object();
	struct step *x = calloc(1, sizeof(*x));
	int rc;

	json_object_object_add(c, "op",
			       json_object_new_string(cd_change_name(CD_CHANGE_VM_MOVE_STEP)));
	json_object_object_add(c, "name", json_object_new_string(v->name));
	json_object_object_add(c, "node", json_object_new_int64(cd_membership_local_nodeid()));
	json_object_object_add(c, "action_id", json_object_new_int64((int64_t)v->move_action));
	json_object_object_add(c, "phase", json_object_new_string(cd_move_phase_to_str(phase)));
	json_object_object_add(c, "ok", json_object_new_boolean(ok));
	if (why)
		json_object_object_add(c, "error", json_object_new_string(why));
	if (extra) {
		json_object_object_foreach(extra, k, val)
			json_object_object_add(c, k, json_object_get(val));
	}
	if (x) {
		cd_strlcpy(x->name, v->name, sizeof(x->name));
		x->action = v->move_action;
		x->phase = phase;
	}
	rc = x ? cd_replica_submit(c, step_done, x) : -ENOMEM;
	json_object_put(c);
	if (rc < 0) {
		vm_log(LOG_NOTICE, v->name, "cannot send move step %s now: %s",
		       cd_move_phase_to_str(phase), cd_strerror(rc));
		v->move_done &= ~(1u << phase);
		free(x);
		return;
	}
	lrm_step(v, CD_LRM_EV_STEP, cd_move_phase_to_str(phase));
	vm_log(LOG_INFO, v->name, "move step %s %s", cd_move_phase_to_str(phase),
	       ok ? "done" : "failed");
}

/* The leases of a move's end are shared now (or could not be). */
static void shared_done(struct lvm *v, uint64_t action, enum cd_move_phase phase, int rc,
			const char *err)
{
	char why[300];

	if (v->move_action != action)
		return;
	if (rc < 0) {
		snprintf(why, sizeof(why), "%s cannot hold the disk leases shared: %s",
			 phase == CD_MOVE_SHARING ? "the source" : "the target", err);
		vm_log(LOG_ERR, v->name, "%s", why);
	}
	lrm_send_step(v, phase, rc == 0, rc < 0 ? why : NULL, NULL);
}

static void source_shared(struct lvm *v, uint64_t action, int rc, const char *err)
{
	shared_done(v, action, CD_MOVE_SHARING, rc, err);
}

static void target_shared(struct lvm *v, uint64_t action, int rc, const char *err)
{
	shared_done(v, action, CD_MOVE_RECEIVING, rc, err);
}

/* --- the copy --- */

/*
 * The libvirtd (and, if mig, the migration address) of node id: its first
 * cluster address, or its first in the cluster's migration-network.
 */
int lrm_node_uris(uint32_t id, char *uri, size_t len, char *mig, size_t mlen)
{
	const struct cd_state *s = cd_replica_state();
	const struct cd_node *n = cd_state_node_by_id(s, id);
	uint64_t net = cd_props_get(s, CD_PROPS_MIGRATION_NETWORK);
	const char *a;
	int k = 0;

	if (!n || n->info.n_addrs == 0)
		return CD_ERR_NOT_FOUND;
	if (mig && net && (k = cd_props_cidr4_pick(net, n->info.addrs, n->info.n_addrs)) < 0)
		return CD_ERR_NOT_FOUND;
	a = n->info.addrs[k];
	if (mig &&
	    (size_t)snprintf(mig, mlen, strchr(a, ':') ? "tcp://[%s]" : "tcp://%s", a) >= mlen)
		return CD_ERR_INVALID;
	return cd_config_peer_uri(n->info.addrs[0], uri, len);
}

static void abort_done(void *ctx, const struct cd_agent_result *r)
{
	char *name = ctx;

	if (r->rc < 0)
		vm_log(LOG_WARNING, name, "cannot abort the migration: %s", r->err);
	else
		vm_log(LOG_NOTICE, name, "migration abort sent");
	free(name);
}

/* Call the migration off (beside the line: the migration call is under way). */
void lrm_move_abort(struct lvm *v)
{
	v->abort_sent = true;
	vm_log(LOG_NOTICE, v->name, "aborting the migration");
	if (lrm_call_named(CD_AGENT_ABORT_JOB, v->name, abort_done) < 0)
		vm_log(LOG_ERR, v->name, "cannot abort the migration");
}

static void migrate_done(void *ctx, const struct cd_agent_result *r)
{
	char *name = ctx;
	struct lvm *v = lvm_find(name);

	if (v) {
		lrm_step(v, CD_LRM_EV_MIGRATED, r->rc < 0 ? "failed" : NULL);
		v->next_settle = 0;
		if (r->rc < 0)
			cd_strlcpy(v->move_err, r->err, sizeof(v->move_err));
	}
	if (r->rc == 0)
		vm_log(LOG_NOTICE, name, "migration call returned (%s here%s)",
		       cd_domain_status_to_str(r->status), r->paused ? ", paused" : "");
	else
		vm_log(LOG_WARNING, name, "migration call failed: %s (%s here%s)", r->err,
		       cd_domain_status_to_str(r->status), r->paused ? ", paused" : "");
	/* A call past its deadline may still copy: call it off before settling. */
	if (r->rc == CD_ERR_TIMEOUT && v)
		lrm_move_abort(v);
	free(name);
	cd_lrm_state_changed();
}

static void begin_copy(struct lvm *v, const struct cd_vm *vm)
{
	struct cd_migrate_params p = {0};
	char *name;
	int rc;

	rc = lrm_node_uris(vm->move.target, p.peer_uri, sizeof(p.peer_uri), p.migrate_uri,
			   sizeof(p.migrate_uri));
	p.max_downtime_ms = (uint32_t)cd_config_uint(CD_CFG_MIGRATION_MAX_DOWNTIME_MS);
	p.bandwidth_mib = (uint32_t)cd_config_uint(CD_CFG_MIGRATION_BANDWIDTH_MIB);
	p.parallel = (uint32_t)cd_config_uint(CD_CFG_MIGRATION_PARALLEL);
	p.auto_converge = cd_config_yes(CD_CFG_MIGRATION_AUTO_CONVERGE);
	p.tls = cd_config_yes(CD_CFG_MIGRATION_TLS);
	p.postcopy = vm->postcopy;
	name = rc == 0 ? strdup(vm->name) : NULL;
	if (!name ||
	    cd_vm_agent_migrate(vm->name, &p, (int)cd_config_uint(CD_CFG_MIGRATION_TIMEOUT_MS),
				migrate_done, name) < 0) {
		free(name);
		snprintf(v->move_err, sizeof(v->move_err), "cannot begin the migration: %s",
			 rc < 0 ? "the target has no address (in migration-network, if set)"
				: "out of memory");
		vm_log(LOG_ERR, vm->name, "%s", v->move_err);
		return;
	}
	lrm_step(v, CD_LRM_EV_MIGRATE, p.peer_uri);
	vm_log(LOG_NOTICE, vm->name,
	       "migrating live to %s (memory over %s, downtime limit %u ms, bandwidth %s, "
	       "auto-converge %s)",
	       p.peer_uri, p.migrate_uri, p.max_downtime_ms,
	       p.bandwidth_mib ? "limited" : "unlimited", p.auto_converge ? "on" : "off");
}

/* --- the strategy: pre-copy while it converges, then what the VM allows --- */

/* Looks without progress, past STALLED_LOOKS, after which a copy falls back to quick. */
#define FALLBACK_LOOKS 12

static void fallback_sent(void *ctx, int rc, const char *err)
{
	char *name = ctx;
	struct lvm *v = lvm_find(name);

	if (rc < 0) {
		vm_log(LOG_WARNING, name, "its fall back to a quick move not recorded: %s", err);
		if (v)
			v->fallback_sent = false;
	}
	free(name);
	cd_lrm_state_changed();
}

/*
 * The copy does not converge and the VM may not go post-copy: if its
 * live-fallback is quick (the default), the copy is called off and, once
 * the VM runs here alone again, it moves quick (vm.move.step "copying"
 * with fallback; beside the line, the migration call is under way).
 */
static void fall_back(struct lvm *v, const struct cd_vm *vm, uint64_t dirty, uint64_t left)
{
	struct json_object *c;
	char vol[64], file[64], why[400];
	char *name;
	int rc;

	if (v->fallback_sent || v->fallback_refused || !vm || vm->postcopy || vm->fallback_none)
		return;
	if (cd_vm_state_file_place(cd_replica_state(), vm, lrm.cfg.csvfs_run_dir, vol, file, why,
				   sizeof(why)) < 0) {
		/* No place for a state file: the copy goes on until migration_timeout_ms. */
		v->fallback_refused = true;
		cd_event("vm", v->name,
			 "move: the copy does not converge, but cannot fall back to a quick move: "
			 "%s",
			 why);
		return;
	}
	v->fallback_sent = true;
	snprintf(why, sizeof(why),
		 "pre-copy does not converge (%" PRIu64 " MiB/s dirtied, %" PRIu64 " MiB left)",
		 dirty >> 20, left >> 20);
	cd_event("vm", v->name, "move: %s: falling back to a quick move (live-fallback quick)",
		 why);
	c = json_object_new_object();
	json_object_object_add(c, "op",
			       json_object_new_string(cd_change_name(CD_CHANGE_VM_MOVE_STEP)));
	json_object_object_add(c, "name", json_object_new_string(v->name));
	json_object_object_add(c, "node", json_object_new_int64(cd_membership_local_nodeid()));
	json_object_object_add(c, "action_id", json_object_new_int64((int64_t)v->move_action));
	json_object_object_add(c, "phase",
			       json_object_new_string(cd_move_phase_to_str(CD_MOVE_COPYING)));
	json_object_object_add(c, "ok", json_object_new_boolean(false));
	json_object_object_add(c, "error", json_object_new_string(why));
	json_object_object_add(c, "fallback", json_object_new_string("quick"));
	json_object_object_add(c, "state_volume", json_object_new_string(vol));
	json_object_object_add(c, "state_file", json_object_new_string(file));
	name = strdup(v->name);
	rc = name ? cd_replica_submit(c, fallback_sent, name) : -ENOMEM;
	json_object_put(c);
	if (rc < 0) {
		free(name);
		v->fallback_sent = false;
	}
}

/* A guest dirtying this fast (MiB/s) is switched to post-copy after one pass, if allowed. */
#define EARLY_POSTCOPY_MIBS 100

static void measured(void *ctx, const struct cd_agent_result *r)
{
	char *name = ctx;
	struct lvm *v = lvm_find(name);
	const struct cd_vm *vm = lrm_state_vm(name);
	struct json_object *o = r->rc == 0 && r->xml ? json_tokener_parse(r->xml) : NULL;
	uint64_t mibs;

	if (v) {
		lrm_step(v, CD_LRM_EV_MEASURED, NULL);
		if (o && cd_jget_u64(o, "megabytes_per_second", &mibs) == 0)
			v->dirty_mibs = (int64_t)mibs;
	}
	if (v && v->dirty_mibs >= 0)
		cd_event("vm", name,
			 "move: it dirties %" PRId64 " MiB/s of memory before the copy%s",
			 v->dirty_mibs,
			 v->dirty_mibs >= EARLY_POSTCOPY_MIBS && vm && vm->postcopy
				 ? ": post-copy after the first pass"
				 : "");
	else
		vm_log(LOG_INFO, name, "its dirty rate cannot be measured (%s): the copy goes on",
		       r->err && *r->err ? r->err : "no answer");
	json_object_put(o);
	/* Still this move's turn to copy (not cancelled meanwhile): the copy. */
	if (v && lrm_line_free(v) && lrm_mine(vm) && vm->state == CD_VM_MIGRATING &&
	    vm->move.phase == CD_MOVE_COPYING && vm->action_id == v->move_action)
		begin_copy(v, vm);
	free(name);
	cd_lrm_state_changed();
}

/*
 * How fast the guest dirties its memory (QEMU's dirty-rate calculation, 1 s),
 * then the copy. Only for a VM that may go post-copy: the measurement can
 * send it there early; for the others it would only cost a second, and the
 * copy's own statistics say how fast it dirties.
 */
static void measure_then_copy(struct lvm *v, const struct cd_vm *vm)
{
	char *name = vm->postcopy ? strdup(vm->name) : NULL;

	if (!name || cd_vm_agent_dirty_rate(name, 1, lrm_move_timeout(), measured, name) < 0) {
		free(name);
		begin_copy(v, vm);
		return;
	}
	lrm_step(v, CD_LRM_EV_MEASURE, "dirty rate");
}

static void postcopy_done(void *ctx, const struct cd_agent_result *r)
{
	char *name = ctx;

	if (r->rc < 0)
		vm_log(LOG_ERR, name, "%s", r->err);
	else
		cd_event("vm", name, "move: switched to post-copy (the target runs it now)");
	free(name);
}

/* The copy is not converging: what the VM's settings allow, once. */
static void not_converging(struct lvm *v, const struct cd_vm *vm, uint64_t dirty, uint64_t left,
			   uint64_t throttle)
{
	if (vm && vm->postcopy && !v->postcopy_sent) {
		v->postcopy_sent = true;
		cd_event("vm", v->name,
			 "move: pre-copy does not converge (%" PRIu64 " MiB/s dirtied, %" PRIu64
			 " MiB left): switching to post-copy, which the VM allows",
			 dirty >> 20, left >> 20);
		lrm_call_named(CD_AGENT_POSTCOPY, v->name, postcopy_done);
		return;
	}
	if (v->stall_said)
		return;
	v->stall_said = true;
	cd_event("vm", v->name,
		 "move: pre-copy does not converge yet (%" PRIu64 " MiB/s dirtied, %" PRIu64
		 " MiB left; post-copy not allowed for it): %s (throttle %" PRIu64 "%%)",
		 dirty >> 20, left >> 20,
		 cd_config_yes(CD_CFG_MIGRATION_AUTO_CONVERGE)
			 ? "auto-converge slows the guest down until it does"
			 : "it goes on until migration_timeout_ms",
		 throttle);
}

static void watched(void *ctx, const struct cd_agent_result *r)
{
	char *name = ctx;
	struct lvm *v = lvm_find(name);
	struct json_object *o = r->rc == 0 && r->xml ? json_tokener_parse(r->xml) : NULL;
	const struct cd_vm *vm = lrm_state_vm(name);
	uint64_t left = 0, iter = 0, dirty = 0, throttle = 0;

	if (v)
		v->watching = false;
	if (v && o && v->phase == CD_LRM_MIGRATING &&
	    cd_jget_u64(o, "data_remaining", &left) == 0) {
		cd_jget_u64(o, "memory_iteration", &iter);
		cd_jget_u64(o, "dirty_bytes_per_s", &dirty);
		cd_jget_u64(o, "auto_converge_throttle", &throttle);
		/* QEMU's dirty rate means something once a pass over memory is done. */
		if (iter >= 2 && json_object_object_get_ex(o, "dirty_bytes_per_s", NULL) &&
		    (int64_t)(dirty >> 20) > v->dirty_seen_mibs)
			v->dirty_seen_mibs = (int64_t)(dirty >> 20);
		if (left < v->min_remaining - v->min_remaining / 10) {
			v->min_remaining = left;
			v->stalled = 0;
		} else {
			v->stalled++;
		}
		/* A guest measured dirtying fast goes post-copy after one pass, if it may. */
		if ((iter >= MIN_ITERATIONS && v->stalled >= STALLED_LOOKS) ||
		    (iter >= 2 && v->dirty_mibs >= EARLY_POSTCOPY_MIBS && vm && vm->postcopy))
			not_converging(v, vm, dirty, left, throttle);
		if (iter >= MIN_ITERATIONS && v->stalled >= STALLED_LOOKS + FALLBACK_LOOKS)
			fall_back(v, vm, dirty, left);
	}
	json_object_put(o);
	free(name);
}

/* While the copy runs: its progress, every CD_MOVE_WATCH_MS (beside the line). */
static void watch_copy(struct lvm *v)
{
	uint64_t now = cd_now_ms();
	char *name;

	if (v->watching || now < v->next_watch)
		return;
	v->next_watch = now + CD_MOVE_WATCH_MS;
	name = strdup(v->name);
	if (!name ||
	    cd_vm_agent_job_stats(name, NULL, false, lrm_move_timeout(), watched, name) < 0) {
		free(name);
		return;
	}
	v->watching = true;
}

/* --- what the reconcile loop calls --- */

void lrm_move_source(struct lvm *v, const struct cd_vm *vm)
{
	if (vm->move.mode == CD_MOVE_QUICK) {
		lrm_quick_move(v, vm);
		return;
	}
	begin(v, vm, CD_MOVE_NONE);
	if (vm->move.phase == CD_MOVE_ABORTING && v->phase == CD_LRM_MIGRATING && !v->abort_sent)
		lrm_move_abort(v);
	if (vm->move.phase == CD_MOVE_COPYING && v->phase == CD_LRM_MIGRATING)
		watch_copy(v);
	if (!lrm_line_free(v))
		return;
	switch (vm->move.phase) {
	case CD_MOVE_SHARING:
		if (begin(v, vm, CD_MOVE_SHARING))
			lrm_leases_mode(v, vm, true, source_shared);
		break;
	case CD_MOVE_RECEIVING:
		break;
	case CD_MOVE_COPYING:
		if (begin(v, vm, CD_MOVE_COPYING))
			measure_then_copy(v, vm);
		else
			lrm_settle(v, vm, false);
		break;
	case CD_MOVE_NONE:
	case CD_MOVE_ABORTING:
		lrm_settle(v, vm, false);
		break;
	case CD_MOVE_ORPHANED:
		lrm_settle(v, vm, true);
		break;
	case CD_MOVE_SAVING: /* quick moves' phases: lrm_quick_move() */
	case CD_MOVE_RESTORING:
	case CD_MOVE_RESUMING:
		break;
	}
}

void lrm_move_target(struct lvm *v, const struct cd_vm *vm)
{
	if (vm->move.mode == CD_MOVE_QUICK) {
		lrm_quick_follow(v, vm);
		return;
	}
	if (lrm_line_free(v) && vm->move.phase == CD_MOVE_RECEIVING &&
	    begin(v, vm, CD_MOVE_RECEIVING))
		lrm_leases_mode(v, vm, true, target_shared);
}

static void leftover_off(void *ctx, const struct cd_agent_result *r)
{
	struct call *c = ctx;
	struct lvm *v = lvm_find(c->name);

	if (v)
		lrm_step(v, CD_LRM_EV_STOP_RETURNED, NULL);
	if (v && r->status == CD_DOMAIN_STOPPED) {
		vm_log(LOG_INFO, c->name, "nothing of it runs here: giving its disk leases up");
		lrm_release_then_report(v, 0, NULL, NULL);
	} else {
		vm_log(LOG_WARNING, c->name, "the copy here is not off yet (%s): trying again",
		       r->err && *r->err ? r->err : cd_domain_status_to_str(r->status));
	}
	free(c);
	cd_lrm_state_changed();
}

void lrm_move_leftover(struct lvm *v, const struct cd_vm *vm)
{
	if (!lrm_line_free(v) || v->n_held == 0)
		return;
	vm_log(LOG_NOTICE, v->name,
	       "holds disk leases of a VM that runs %s: making sure its copy here is off",
	       vm && vm->node ? "elsewhere" : "nowhere");
	if (lrm_call_agent(v, CD_LRM_EV_STOP, CD_AGENT_DESTROY, NULL, 0, leftover_off) < 0)
		vm_log(LOG_ERR, v->name, "cannot start a libvirt call");
}

static void upgraded(struct lvm *v, uint64_t action, int rc, const char *err)
{
	if (rc == 0) {
		vm_log(LOG_NOTICE, v->name, "holds its disk leases exclusive again");
		v->lease_wait = 0;
		return;
	}
	v->next_settle = cd_now_ms() + SETTLE_AGAIN_MS;
	if (v->lease_wait++ == 0)
		vm_log(LOG_NOTICE, v->name,
		       "its disk leases stay shared until the move's other end gives them up (%s)",
		       err);
	cd_lrm_state_changed();
}

static void announced(void *ctx, const struct cd_agent_result *r)
{
	char *name = ctx;

	if (r->rc < 0)
		vm_log(LOG_WARNING, name, "cannot announce its arrival: %s", r->err);
	else
		vm_log(LOG_INFO, name, "its MAC addresses announced again from here");
	free(name);
}

/*
 * It moved here: QEMU announced the guest's MACs as it resumed; once more
 * through QMP, for switches that missed it (beside the line).
 */
static void announce_arrival(struct lvm *v, const struct cd_vm *vm)
{
	if (vm->last_move.outcome != CD_MOVE_OUT_MOVED ||
	    vm->last_move.action_id != vm->action_id || v->announced == vm->action_id)
		return;
	v->announced = vm->action_id;
	lrm_call_named(CD_AGENT_ANNOUNCE, vm->name, announced);
}

void lrm_move_upgrade(struct lvm *v, const struct cd_vm *vm)
{
	announce_arrival(v, vm);
	if (lrm_line_free(v) && v->held_shared && cd_now_ms() >= v->next_settle)
		lrm_leases_mode(v, vm, false, upgraded);
}
