/*
 * The local resource manager (lrm.h): each VM's actions, carried out once,
 * and the reconcile loop. lrm_int.h says what the other lrm_*.c files hold.
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
#include "core/change.h"
#include "clusterd/events.h"
#include "clusterd/lrm.h"
#include "clusterd/lrm_int.h"
#include "clusterd/membership.h"
#include "clusterd/replica.h"
#include "clusterd/timing.h"
#include "clusterd/volmgr.h"
#include "lib/looptimer.h"
#include "lib/util.h"

struct lrm lrm;

/* Whether a start may begin here now; logs why not (once per reason). */
enum gate lrm_may_start(struct lvm *v, const char *name)
{
	char vol[64] = "";
	enum gate g = lrm.no_starts				 ? GATE_STOPPING
		      : !cd_replica_quorate()			 ? GATE_QUORUM
		      : !cd_volmgr_leases_held(vol, sizeof(vol)) ? GATE_LEASE
								 : GATE_OPEN;

	if (g != GATE_OPEN && g != (enum gate)v->gated) {
		v->gated_since = cd_now_ms();
		if (g == GATE_LEASE)
			vm_log(LOG_WARNING, name,
			       "not started yet: this node does not hold its host lease on volume "
			       "%s (failed after %d s if it still does not)",
			       vol, CD_LEASE_GATE_FAIL_MS / 1000);
		else
			vm_log(LOG_WARNING, name, "not started: %s",
			       g == GATE_STOPPING ? "this node is powering off its VMs"
						  : "this node has no quorum");
	}
	v->gated = (int)g;
	return g;
}

struct lvm *lvm_find(const char *name)
{
	return lrm.by_name ? qb_map_get(lrm.by_name, name) : NULL;
}

struct lvm *lvm_get(const char *name)
{
	struct lvm *v = lvm_find(name), **nv;

	if (v)
		return v;
	if (!lrm.by_name && !(lrm.by_name = qb_hashtable_create(CD_MAX_VMS)))
		return NULL;
	nv = realloc(lrm.vms, (lrm.n_vms + 1) * sizeof(*nv));
	if (!nv)
		return NULL;
	lrm.vms = nv;
	v = calloc(1, sizeof(*v));
	if (!v)
		return NULL;
	cd_strlcpy(v->name, name, sizeof(v->name));
	lrm.vms[lrm.n_vms++] = v;
	qb_map_put(lrm.by_name, v->name, v);
	return v;
}

/* Forget the i-th record (the last one takes its place). */
static void lvm_forget(size_t i)
{
	struct lvm *v = lrm.vms[i];

	qb_map_rm(lrm.by_name, v->name);
	free(v);
	lrm.vms[i] = lrm.vms[--lrm.n_vms];
}

static struct call *new_call(const char *name, uint64_t action, enum cd_agent_op op)
{
	struct call *c = calloc(1, sizeof(*c));

	if (c) {
		cd_strlcpy(c->name, name, sizeof(c->name));
		c->action = action;
		c->op = op;
	}
	return c;
}

/* A report's context: whose, and whether beside the line. */
struct report {
	char name[64];
	bool beside;
};

static void report_done(void *ctx, int rc, const char *err)
{
	struct report *r = ctx;
	struct lvm *v = lvm_find(r->name);

	if (v && r->beside)
		v->beside--;
	else if (v)
		lrm_step(v, CD_LRM_EV_REPORTED, rc < 0 ? "not recorded" : NULL);
	if (rc < 0)
		vm_log(rc == CD_ERR_INVALID ? LOG_INFO : LOG_WARNING, r->name,
		       "report not recorded: %s", err);
	free(r);
	cd_lrm_state_changed();
}

static void send_report(const char *name, uint64_t action, const char *result, const char *err,
			bool beside, const struct lrm_times *t)
{
	struct json_object *c = json_object_new_object();
	struct lvm *v = lvm_get(name);
	struct report *r = calloc(1, sizeof(*r));
	int rc;

	json_object_object_add(c, "op",
			       json_object_new_string(cd_change_name(CD_CHANGE_VM_REPORT)));
	json_object_object_add(c, "name", json_object_new_string(name));
	json_object_object_add(c, "node", json_object_new_int64(cd_membership_local_nodeid()));
	json_object_object_add(c, "action_id", json_object_new_int64((int64_t)action));
	json_object_object_add(c, "result", json_object_new_string(result));
	json_object_object_add(c, "wall_ms", json_object_new_int64((int64_t)cd_wall_ms()));
	if (err && *err)
		json_object_object_add(c, "error", json_object_new_string(err));
	if (t && (t->downtime_ms || t->total_ms)) {
		json_object_object_add(c, "downtime_ms",
				       json_object_new_int64((int64_t)t->downtime_ms));
		json_object_object_add(c, "total_ms", json_object_new_int64((int64_t)t->total_ms));
	}
	if (t && t->rate_mib_s)
		json_object_object_add(c, "rate_mib_s",
				       json_object_new_int64((int64_t)t->rate_mib_s));
	if (t && t->dirty_measured)
		json_object_object_add(c, "dirty_mib_s",
				       json_object_new_int64((int64_t)t->dirty_mib_s));
	if (t && t->saved.volume[0])
		json_object_object_add(c, "saved", cd_vm_saved_to_json(&t->saved));
	if (r) {
		cd_strlcpy(r->name, name, sizeof(r->name));
		r->beside = beside;
	}
	rc = r ? cd_replica_submit(c, report_done, r) : -ENOMEM;
	json_object_put(c);
	if (rc < 0) {
		/* No quorum or a sync: the state will bring us back here. */
		vm_log(LOG_NOTICE, name, "cannot report %s now: %s", result, cd_strerror(rc));
		free(r);
		return;
	}
	if (v && beside)
		v->beside++;
	else if (v)
		lrm_step(v, CD_LRM_EV_REPORT, result);
	vm_log(LOG_INFO, name, "reported %s (action %" PRIu64 ")", result, action);
}

void lrm_report(const char *name, uint64_t action, const char *result, const char *err)
{
	send_report(name, action, result, err, false, NULL);
}

void lrm_report_times(const char *name, uint64_t action, const char *result, const char *err,
		      const struct lrm_times *t)
{
	send_report(name, action, result, err, false, t);
}

void lrm_report_beside(const char *name, uint64_t action, const char *result, const char *err)
{
	send_report(name, action, result, err, true, NULL);
}

static void log_line(void *ctx, int prio, const char *line)
{
	(void)ctx;
	qb_log(prio, "%s", line);
}

void lrm_step(struct lvm *v, enum cd_lrm_event ev, const char *why)
{
	cd_lrm_step(&v->phase, ev, v->name, why, log_line, NULL);
}

bool lrm_line_free(const struct lvm *v)
{
	return v->phase == CD_LRM_IDLE && v->beside == 0;
}

/* The host CPUs a start's CPU baseline is computed from (lrm_call_start_baseline). */
struct baseline {
	const char *const *cpus;
	size_t n;
};

/* op for v, or with b a start with the CPU baseline of b's host CPUs. */
static int call_agent(struct lvm *v, enum cd_agent_op op, const char *xml, const struct baseline *b,
		      uint64_t action, cd_agent_done_fn done, struct group *g)
{
	struct call *c = new_call(v->name, action, op);
	int rc;

	if (!c)
		return -ENOMEM;
	c->group = g;
	rc = b ? cd_vm_agent_start_baseline(v->name, xml, b->cpus, b->n, lrm.cfg.call_timeout_ms,
					    done, c)
	       : cd_vm_agent_call(op, v->name, xml, lrm.cfg.call_timeout_ms, done, c);
	if (rc < 0)
		free(c);
	return rc;
}

/* A call that is a step of v's line, begun by event ev. */
static int step_call(struct lvm *v, enum cd_lrm_event ev, enum cd_agent_op op, const char *xml,
		     const struct baseline *b, uint64_t action, cd_agent_done_fn done)
{
	int rc = call_agent(v, op, xml, b, action, done, NULL);

	if (rc == 0)
		lrm_step(v, ev, cd_agent_op_to_str(op));
	return rc;
}

int lrm_call_agent(struct lvm *v, enum cd_lrm_event ev, enum cd_agent_op op, const char *xml,
		   uint64_t action, cd_agent_done_fn done)
{
	return step_call(v, ev, op, xml, NULL, action, done);
}

int lrm_call_start_baseline(struct lvm *v, const char *xml, const char *const *cpus, size_t n,
			    uint64_t action, cd_agent_done_fn done)
{
	struct baseline b = {cpus, n};

	return step_call(v, CD_LRM_EV_START, CD_AGENT_START, xml, &b, action, done);
}

int lrm_call_named(enum cd_agent_op op, const char *name, cd_agent_done_fn done)
{
	char *ctx = strdup(name);

	if (!ctx || cd_vm_agent_call(op, ctx, NULL, lrm.cfg.call_timeout_ms, done, ctx) < 0) {
		free(ctx);
		return -ENOMEM;
	}
	return 0;
}

int lrm_call_power_off(struct lvm *v, cd_agent_done_fn done, struct group *g)
{
	int rc = call_agent(v, CD_AGENT_DESTROY, NULL, NULL, 0, done, g);

	if (rc == 0) {
		if (g)
			g->pending++;
		v->beside++;
	}
	return rc;
}

/* The VM as the state has it now (the state may have moved on meanwhile). */
const struct cd_vm *lrm_state_vm(const char *name)
{
	return cd_state_vm(cd_replica_state(), name);
}

bool lrm_mine(const struct cd_vm *vm)
{
	return vm && vm->node == cd_membership_local_nodeid();
}

/* The local record of vm if vm is to run on this node, else NULL. */
struct lvm *lrm_mine_lvm(const struct cd_vm *vm)
{
	return lrm_mine(vm) ? lvm_get(vm->name) : NULL;
}

/* A start of name begun here has not returned: the domain may yet come up. */
bool lrm_start_under_way(const struct lvm *v, const char *name)
{
	return (v && cd_lrm_phase_start_under_way(v->phase)) || cd_vm_agent_starting(name);
}

/* Some start begun here has not returned (any VM). */
bool lrm_any_start_under_way(void)
{
	size_t i;

	for (i = 0; i < lrm.n_vms; i++)
		if (cd_lrm_phase_start_under_way(lrm.vms[i]->phase))
			return true;
	return cd_vm_agent_starting(NULL);
}

void lrm_start_done(void *ctx, const struct cd_agent_result *r)
{
	struct call *c = ctx;
	struct lvm *v = lvm_get(c->name);
	bool voided = v && v->phase == CD_LRM_VOIDED;

	if (v)
		lrm_step(v, CD_LRM_EV_START_RETURNED, NULL);
	if (voided) {
		/* Its leases were voided meanwhile: the storage path powers it off. */
		vm_log(LOG_WARNING, c->name,
		       "start returned after its disk leases were voided: "
		       "left to the power-off");
	} else if (r->rc == 0 && r->status == CD_DOMAIN_RUNNING) {
		vm_log(LOG_NOTICE, c->name, "started (action %" PRIu64 ")", c->action);
		lrm_report(c->name, c->action, "running", NULL);
	} else if (r->rc == CD_ERR_TIMEOUT || r->status == CD_DOMAIN_UNKNOWN) {
		/*
		 * It may or may not run: saying "failed" could get it started
		 * elsewhere as well. The monitor finds out what is true.
		 */
		vm_log(LOG_ERR, c->name, "start outcome unknown: %s", r->err);
	} else {
		vm_log(LOG_ERR, c->name, "start failed: %s", r->err);
		if (v)
			lrm_release_then_report(v, c->action, "failed", r->err);
		else
			lrm_report(c->name, c->action, "failed", r->err);
	}
	free(c);
	cd_lrm_state_changed();
}

static void stop_done(void *ctx, const struct cd_agent_result *r)
{
	struct call *c = ctx;
	struct lvm *v = lvm_get(c->name);

	if (v)
		lrm_step(v, CD_LRM_EV_STOP_RETURNED, NULL);
	/*
	 * Only a domain libvirt confirms gone is stopped. A failed destroy or
	 * a failed look (libvirtd broken or busy) leaves the VM running as far
	 * as the cluster knows: reporting it stopped or failed would free it
	 * to start elsewhere. The destroy is tried again at the next tick;
	 * otherwise it is still on its way down and the next tick looks again.
	 */
	if (r->status == CD_DOMAIN_STOPPED && lrm_start_under_way(v, c->name)) {
		/* A start still under way may yet run it: destroy again later. */
		vm_log(LOG_WARNING, c->name,
		       "off, but its start has not returned: not stopped yet");
		if (v)
			v->stop_deadline = 0;
	} else if (r->status == CD_DOMAIN_STOPPED && (r->rc == 0 || c->op == CD_AGENT_DESTROY)) {
		vm_log(LOG_NOTICE, c->name, "stopped (%s)", cd_agent_op_to_str(c->op));
		if (v)
			lrm_release_then_report(v, c->action, "stopped", NULL);
		else
			lrm_report(c->name, c->action, "stopped", NULL);
	} else if (c->op == CD_AGENT_DESTROY) {
		vm_log(LOG_ERR, c->name, "destroy failed (%s): trying again", r->err);
		if (v)
			v->stop_deadline = 0;
	}
	free(c);
}

/* One step of a stop: shutdown once, check until the deadline, then destroy. */
static void stop_step(struct lvm *v, const struct cd_vm *vm)
{
	uint64_t now = cd_now_ms();
	int rc;

	if (!lrm_line_free(v))
		return;
	if (vm->stop_save) {
		lrm_quick_stop_save(v, vm);
		return;
	}
	if (v->stop_action != vm->action_id) {
		v->stop_action = vm->action_id;
		v->done_action = vm->action_id;
		if (vm->force_stop) {
			vm_log(LOG_NOTICE, vm->name, "forced stop: destroying");
			rc = lrm_call_agent(v, CD_LRM_EV_STOP, CD_AGENT_DESTROY, NULL,
					    vm->action_id, stop_done);
		} else {
			vm_log(LOG_NOTICE, vm->name, "shutting down (destroy after %d ms)",
			       lrm.cfg.stop_timeout_ms);
			v->stop_deadline = now + (uint64_t)lrm.cfg.stop_timeout_ms;
			rc = lrm_call_agent(v, CD_LRM_EV_STOP, CD_AGENT_SHUTDOWN, NULL,
					    vm->action_id, stop_done);
		}
	} else if (now >= v->stop_deadline) {
		vm_log(LOG_WARNING, vm->name, "did not shut down in %d ms: destroying",
		       lrm.cfg.stop_timeout_ms);
		v->stop_deadline = UINT64_MAX;
		rc = lrm_call_agent(v, CD_LRM_EV_STOP, CD_AGENT_DESTROY, NULL, vm->action_id,
				    stop_done);
	} else {
		rc = lrm_call_agent(v, CD_LRM_EV_STOP, CD_AGENT_STATUS, NULL, vm->action_id,
				    stop_done);
	}
	if (rc < 0)
		vm_log(LOG_ERR, vm->name, "cannot run the stop: %s", cd_strerror(rc));
}

static void monitor_done(void *ctx, const struct cd_agent_result *r)
{
	struct call *c = ctx;
	struct lvm *v = lvm_get(c->name);
	const struct cd_vm *vm = lrm_state_vm(c->name);

	if (v)
		lrm_step(v, CD_LRM_EV_CHECKED, NULL);
	if (!vm || !lrm_mine(vm) || (vm->state != CD_VM_RUNNING && vm->state != CD_VM_STARTING)) {
		free(c);
		return;
	}
	/*
	 * One look can be wrong (a libvirtd reconnecting to its domains): a
	 * failure is reported only when the next look, a tick later, agrees.
	 */
	if (v && (r->status == CD_DOMAIN_FAILED || r->status == CD_DOMAIN_STOPPED) &&
	    c->op == CD_AGENT_STATUS && ++v->misses < 2) {
		v->next_check = 0;
		free(c);
		return;
	}
	if (v && r->status == CD_DOMAIN_RUNNING)
		v->misses = 0;
	if ((r->status == CD_DOMAIN_FAILED || r->status == CD_DOMAIN_STOPPED) &&
	    lrm_start_under_way(v, c->name)) {
		/*
		 * Its start has not returned (it may have timed out): it may yet
		 * run. Reporting a failure now would release its leases and let
		 * it start elsewhere as well. Wait for the call.
		 */
		vm_log(LOG_WARNING, c->name,
		       "not running, but its start has not returned: waiting");
		if (v)
			v->misses = 0;
		free(c);
		return;
	}
	switch (r->status) {
	case CD_DOMAIN_RUNNING:
		/*
		 * A start whose outcome was unknown: it runs after all. Not a
		 * paused copy (a restore's, before the cluster recorded it).
		 */
		if (vm->state == CD_VM_STARTING && !r->paused && !vm->saved.volume[0])
			lrm_report(c->name, vm->action_id, "running", NULL);
		break;
	case CD_DOMAIN_FAILED:
	case CD_DOMAIN_STOPPED:
		vm_log(LOG_ERR, c->name, "found %s: reporting a failure",
		       r->status == CD_DOMAIN_FAILED ? "crashed (QEMU gone)" : "not running");
		if (v)
			v->misses = 0;
		if (r->status == CD_DOMAIN_FAILED && v) {
			/* Clear libvirt's record first, so a restart starts clean. */
			lrm_call_agent(v, CD_LRM_EV_CHECK, CD_AGENT_DESTROY, NULL, 0, monitor_done);
		} else if (v) {
			lrm_release_then_report(v, 0, "failed",
						c->op == CD_AGENT_DESTROY
							? "the QEMU process died"
							: "the domain stopped unexpectedly");
		} else {
			lrm_report(c->name, 0, "failed", "the domain stopped unexpectedly");
		}
		break;
	case CD_DOMAIN_UNKNOWN:
		vm_log(LOG_WARNING, c->name, "monitor: %s", r->err);
		break;
	}
	free(c);
}

static void rogue_done(void *ctx, const struct cd_agent_result *r)
{
	char *name = ctx;

	if (r->rc == 0 && r->status == CD_DOMAIN_STOPPED)
		vm_log(LOG_CRIT, name, "the copy that ran here is powered off");
	else
		vm_log(LOG_CRIT, name, "the copy that runs here could not be powered off: %s",
		       r->err);
	free(name);
}

/*
 * A domain runs here that the cluster has running (or starting, or
 * stopping) on another node: two copies would write one disk. The
 * cluster's record decides: the copy here is powered off.
 */
static void power_off_rogue(const struct cd_vm *vm)
{
	vm_log(LOG_CRIT, vm->name,
	       "runs on this node but the cluster has it %s on node %u: powering off the copy "
	       "here",
	       cd_vm_state_to_str(vm->state), vm->node);
	cd_event("vm", vm->name, "a second copy ran on this node: powered off");
	if (lrm_call_named(CD_AGENT_DESTROY, vm->name, rogue_done) < 0)
		vm_log(LOG_CRIT, vm->name, "cannot power off the copy here");
}

static void scan_done(void *ctx, const struct cd_agent_result *r)
{
	const struct cd_state *s = cd_replica_state();
	const char *p = r->names;

	lrm.scanning = false;
	if (r->rc < 0 || !p)
		return;
	/* Only a synchronised, quorate node's record is the cluster's. */
	if (!lrm.up || !cd_replica_quorate())
		return;
	while (*p) {
		char name[64];
		size_t n = strcspn(p, "\n");
		const struct cd_vm *vm;

		snprintf(name, sizeof(name), "%.*s", (int)(n < 63 ? n : 63), p);
		p += n + (p[n] == '\n');
		vm = cd_state_vm(s, name);
		if (vm && !lrm_mine(vm) && vm->node &&
		    (vm->state == CD_VM_RUNNING || vm->state == CD_VM_STARTING ||
		     vm->state == CD_VM_STOPPING) &&
		    !lrm_start_under_way(lvm_find(name), name))
			power_off_rogue(vm);
		else if (vm && !lrm_mine(vm) && vm->state == CD_VM_MIGRATING &&
			 vm->move.target == cd_membership_local_nodeid())
			continue; /* the move's copy arriving here */
		else if (vm && !lrm_mine(vm))
			vm_log(LOG_ERR, name,
			       "runs on this node but the cluster has it %s on node %u: "
			       "left alone, a person should look",
			       cd_vm_state_to_str(vm->state), vm->node);
	}
}

/*
 * Whether vm, to start here, may begin now. A start that this node's lack
 * of a host lease has held back for CD_LEASE_GATE_FAIL_MS is reported failed.
 */
static bool gate_passed(struct lvm *v, const struct cd_vm *vm)
{
	char err[160];

	switch (lrm_may_start(v, vm->name)) {
	case GATE_OPEN:
		return true;
	case GATE_LEASE:
		if (cd_now_ms() - v->gated_since < CD_LEASE_GATE_FAIL_MS)
			return false;
		snprintf(err, sizeof(err),
			 "not started: this node has lacked a host lease for %d s",
			 CD_LEASE_GATE_FAIL_MS / 1000);
		v->gated = GATE_OPEN; /* counted afresh if placed here again */
		v->done_action = vm->action_id;
		lrm_report(vm->name, vm->action_id, "failed", err);
		return false;
	case GATE_STOPPING:
	case GATE_QUORUM:
		break;
	}
	return false;
}

/*
 * A VM placed on another node (or none): this node may be its move's
 * target, or hold leases of it from a move that is over.
 */
static void other_node_vm(const struct cd_vm *vm)
{
	uint32_t me = cd_membership_local_nodeid();
	struct lvm *v;

	if (vm->state == CD_VM_MIGRATING && vm->move.target == me) {
		v = lvm_get(vm->name);
		if (v) {
			v->seen = true;
			lrm_move_target(v, vm);
		}
	} else if ((v = lvm_find(vm->name)) &&
		   (v->n_held || !lrm_line_free(v) || v->q_restore == 2)) {
		v->seen = true;
		lrm_quick_drop_restore(v);
		lrm_move_leftover(v, vm);
	}
}

static void reconcile(void)
{
	const struct cd_state *s = cd_replica_state();
	uint64_t now = cd_now_ms();
	size_t i;

	/*
	 * Only a node in a quorate, synchronised partition acts on the state:
	 * elsewhere the state may be stale, and reports could not be recorded.
	 */
	if (!lrm.up || !cd_replica_quorate())
		return;
	for (i = 0; i < lrm.n_vms; i++)
		lrm.vms[i]->seen = false;
	for (i = 0; i < s->n_vms; i++) {
		const struct cd_vm *vm = s->vms[i];
		struct lvm *v;

		v = lrm_mine_lvm(vm);
		if (!v) {
			other_node_vm(vm);
			continue;
		}
		v->seen = true;
		if (vm->state == CD_VM_MIGRATING) {
			lrm_move_source(v, vm);
			continue;
		}
		if (!lrm_line_free(v))
			continue;
		switch (vm->state) {
		case CD_VM_STARTING:
			if (v->done_action == vm->action_id && vm->saved.volume[0]) {
				/* A restore not recorded yet: only its own path goes on. */
				lrm_quick_start_pending(v, vm);
			} else if (v->done_action != vm->action_id) {
				if (!gate_passed(v, vm))
					break;
				v->done_action = vm->action_id;
				vm_log(LOG_NOTICE, vm->name, "starting (action %" PRIu64 ")",
				       vm->action_id);
				lrm_begin_start(v, vm);
			} else if (now >= v->next_check) {
				v->next_check = now + (uint64_t)lrm.cfg.monitor_interval_ms;
				lrm_call_agent(v, CD_LRM_EV_CHECK, CD_AGENT_STATUS, NULL,
					       vm->action_id, monitor_done);
			}
			break;
		case CD_VM_STOPPING:
			stop_step(v, vm);
			break;
		case CD_VM_RUNNING:
			lrm_move_upgrade(v, vm);
			if (lrm_line_free(v) && now >= v->next_check) {
				v->next_check = now + (uint64_t)lrm.cfg.monitor_interval_ms;
				lrm_call_agent(v, CD_LRM_EV_CHECK, CD_AGENT_STATUS, NULL, 0,
					       monitor_done);
			}
			break;
		case CD_VM_STOPPED:
		case CD_VM_FAILED:
		case CD_VM_MIGRATING:
			break;
		}
	}
	/* Forget VMs that are no longer ours and have nothing under way. */
	for (i = 0; i < lrm.n_vms;) {
		if (!lrm.vms[i]->seen && lrm_line_free(lrm.vms[i])) {
			lvm_forget(i);
			continue;
		}
		i++;
	}
	if (!lrm.scanning && now >= lrm.next_scan) {
		lrm.next_scan = now + CD_LRM_SCAN_MS;
		if (cd_vm_agent_call(CD_AGENT_LIST, "-", NULL, lrm.cfg.call_timeout_ms, scan_done,
				     NULL) == 0)
			lrm.scanning = true;
	}
}

void cd_lrm_allow_starts(void)
{
	if (lrm.no_starts)
		vm_log(LOG_NOTICE, "*", "starts allowed again");
	lrm.no_starts = false;
}

/*
 * Whether the batch just applied can matter here: not when it changed only
 * VMs that run nowhere and are not to run, none of which this node has a
 * record of (a line under way, leases held). Such a VM is none of this
 * node's business, so reconcile would do for it nothing but look, and at
 * 10,000 VMs the look at every VM is most of what a change costs. What
 * depends on time, quorum or leases rather than on the change is taken up
 * by the tick, as it always was.
 */
static bool batch_matters(void)
{
	const char(*vms)[64];
	size_t i, n;

	if (!cd_replica_batch_vms_only(&vms, &n))
		return true;
	for (i = 0; i < n; i++)
		if (lvm_find(vms[i]))
			return true;
	return false;
}

void cd_lrm_state_changed(void)
{
	if (batch_matters())
		reconcile();
}

static void tick(void *data)
{
	reconcile();
	cd_timer_add(lrm.loop, QB_LOOP_LOW, CD_LRM_TICK_MS * 1000000ull, NULL, tick, &lrm.tick);
}

/* A lifecycle event: check that VM at the next reconcile. */
static void on_event(const char *name, enum cd_domain_status st)
{
	struct lvm *v = lvm_find(name);

	if (v)
		v->next_check = 0;
	vm_log(LOG_INFO, name, "libvirt event: %s", cd_domain_status_to_str(st));
	reconcile();
}

int cd_lrm_init(qb_loop_t *loop, const struct cd_lrm_config *cfg)
{
	int rc;

	lrm.loop = loop;
	lrm.cfg = *cfg;
	rc = cd_vm_agent_init(loop, cfg->libvirt_uri, cfg->qemu_pid_dir, on_event);
	if (rc < 0)
		return rc;
	lrm.up = true;
	cd_timer_add(lrm.loop, QB_LOOP_LOW, CD_LRM_TICK_MS * 1000000ull, NULL, tick, &lrm.tick);
	return 0;
}

void cd_lrm_fini(void)
{
	lrm.up = false;
	cd_vm_agent_fini();
	lrm_sweep_fini();
	while (lrm.n_vms)
		lvm_forget(lrm.n_vms - 1);
	free(lrm.vms);
	lrm.vms = NULL;
	if (lrm.by_name)
		qb_map_destroy(lrm.by_name);
	lrm.by_name = NULL;
}
