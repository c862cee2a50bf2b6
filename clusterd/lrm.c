#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <qb/qblog.h>

#include <clusterd/result.h>

#include "agents/vm_agent.h"
#include "clusterd/events.h"
#include "clusterd/lrm.h"
#include "clusterd/membership.h"
#include "clusterd/replica.h"
#include "clusterd/vmdisks.h"
#include "clusterd/volmgr.h"
#include "lib/util.h"

#define vm_log(prio, name, fmt, ...) qb_log(prio, "vm %s: " fmt, name, ##__VA_ARGS__)
#define UNEXPECTED_SCAN_MS 5000
/*
 * A start held back because this node lacks a host lease is reported failed
 * after this long, so that the cluster may start the VM elsewhere; shorter
 * waits (a node rejoining its volumes) just delay it.
 */
#define LEASE_GATE_FAIL_MS 30000

/* What this node remembers of a VM; nothing here is replicated. */
struct lvm {
	char name[64];
	uint64_t done_action; /* the last action carried out: never run twice */
	bool busy;	      /* a libvirt call is under way */
	bool reporting;	      /* a report is on its way through the cluster */
	uint64_t stop_deadline;
	uint64_t stop_action;
	uint64_t next_check; /* monotonic ms of the next monitor check */
	int misses;	     /* checks in a row that found it not running */
	bool seen;	     /* still in the state (for pruning) */
	int gated;	     /* why its start was last held back (logged once per reason) */
	uint64_t gated_since; /* monotonic ms since when, for that reason */
	/*
	 * A start begun here has not returned (disk leases being taken, or the
	 * libvirt call under way): the domain may yet come up. start_cancel:
	 * the leases were voided meanwhile: carry it no further.
	 */
	bool start_pending;
	bool start_cancel;
	struct cd_vm_disk held[CD_VM_DISKS_MAX]; /* disk leases this node holds for it */
	size_t n_held;
};

static struct {
	qb_loop_t *loop;
	struct cd_lrm_config cfg;
	struct lvm *vms;
	size_t n_vms;
	qb_loop_timer_handle tick;
	uint64_t next_scan;
	bool scanning;
	bool up;
	/*
	 * The one gate on starts: set when this node begins to self-fence or
	 * stop; no start begins while it is set, and one whose disk leases
	 * arrive after it is not carried out.
	 */
	bool no_starts;
} l;

enum gate { GATE_OPEN, GATE_STOPPING, GATE_QUORUM, GATE_LEASE };

/* Whether a start may begin here now; logs why not (once per reason). */
static enum gate may_start(struct lvm *v, const char *name)
{
	char vol[64] = "";
	enum gate g = l.no_starts	       ? GATE_STOPPING
		      : !cd_replica_quorate() ? GATE_QUORUM
		      : !cd_volmgr_leases_held(vol, sizeof(vol)) ? GATE_LEASE
							     : GATE_OPEN;

	if (g != GATE_OPEN && g != (enum gate)v->gated) {
		v->gated_since = cd_now_ms();
		if (g == GATE_LEASE)
			vm_log(LOG_WARNING, name,
			       "not started yet: this node does not hold its host lease on volume "
			       "%s (failed after %d s if it still does not)",
			       vol, LEASE_GATE_FAIL_MS / 1000);
		else
			vm_log(LOG_WARNING, name, "not started: %s",
			       g == GATE_STOPPING ? "this node is powering off its VMs"
						  : "this node has no quorum");
	}
	v->gated = (int)g;
	return g;
}

static struct lvm *lvm_find(const char *name)
{
	size_t i;

	for (i = 0; i < l.n_vms; i++)
		if (strcmp(l.vms[i].name, name) == 0)
			return &l.vms[i];
	return NULL;
}

static struct lvm *lvm_get(const char *name)
{
	struct lvm *n = lvm_find(name);

	if (n)
		return n;
	n = realloc(l.vms, (l.n_vms + 1) * sizeof(*n));
	if (!n)
		return NULL;
	l.vms = n;
	memset(&n[l.n_vms], 0, sizeof(*n));
	cd_strlcpy(n[l.n_vms].name, name, sizeof(n->name));
	return &n[l.n_vms++];
}

/* VMs powered off together, and who waits for all of them to be off. */
struct group {
	int pending;
	bool ok;
	void (*off)(void *ctx, bool ok);
	void *ctx;
};

/* Every call's context: which VM, which action. */
struct call {
	char name[64];
	uint64_t action;
	enum cd_agent_op op;
	struct group *group;
};

static void group_put(struct group *g, bool ok)
{
	if (!g)
		return;
	g->ok = g->ok && ok;
	if (--g->pending > 0)
		return;
	if (g->off)
		g->off(g->ctx, g->ok);
	free(g);
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

static void report_done(void *ctx, int rc, const char *err)
{
	struct lvm *v = lvm_get((const char *)ctx);

	if (v)
		v->reporting = false;
	if (rc < 0)
		vm_log(rc == CD_ERR_INVALID ? LOG_INFO : LOG_WARNING, (const char *)ctx,
		       "report not recorded: %s", err);
	free(ctx);
	cd_lrm_state_changed();
}

/* Send vm.report: what became of action (0: what the monitor found). */
static void report(const char *name, uint64_t action, const char *result, const char *err)
{
	struct json_object *c = json_object_new_object();
	struct lvm *v = lvm_get(name);
	char *ctx = strdup(name);
	int rc;

	json_object_object_add(c, "op", json_object_new_string("vm.report"));
	json_object_object_add(c, "name", json_object_new_string(name));
	json_object_object_add(c, "node", json_object_new_int64(cd_membership_local_nodeid()));
	json_object_object_add(c, "action_id", json_object_new_int64((int64_t)action));
	json_object_object_add(c, "result", json_object_new_string(result));
	json_object_object_add(c, "wall_ms", json_object_new_int64((int64_t)cd_wall_ms()));
	if (err && *err)
		json_object_object_add(c, "error", json_object_new_string(err));
	rc = ctx ? cd_replica_submit(c, report_done, ctx) : -ENOMEM;
	json_object_put(c);
	if (rc < 0) {
		/* No quorum or a sync: the state will bring us back here. */
		vm_log(LOG_NOTICE, name, "cannot report %s now: %s", result, cd_strerror(rc));
		free(ctx);
		return;
	}
	if (v)
		v->reporting = true;
	vm_log(LOG_INFO, name, "reported %s (action %" PRIu64 ")", result, action);
}

/* A libvirt call for v; one of group g's power-offs if g is not NULL. */
static int call_agent_in(struct lvm *v, enum cd_agent_op op, const char *xml, uint64_t action,
			 cd_agent_done_fn done, struct group *g)
{
	struct call *c = new_call(v->name, action, op);
	int rc;

	if (!c)
		return -ENOMEM;
	c->group = g;
	rc = cd_vm_agent_call(op, v->name, xml, l.cfg.call_timeout_ms, done, c);
	if (rc < 0) {
		free(c);
		return rc;
	}
	if (g)
		g->pending++;
	v->busy = true;
	return 0;
}

static int call_agent(struct lvm *v, enum cd_agent_op op, const char *xml, uint64_t action,
		      cd_agent_done_fn done)
{
	return call_agent_in(v, op, xml, action, done, NULL);
}

/* --- disk leases: taken before a start, given back before a report --- */

/* One VM's leases acquired or released together, then "then" runs. */
struct batch {
	char name[64];
	uint64_t action;
	bool acquire;
	int pending;
	int rc;
	char err[256];
	struct cd_vm_disk disks[CD_VM_DISKS_MAX];
	size_t n;
	/* After a release: the report to send. */
	char result[16];
	char report_err[256];
	void (*then)(struct batch *b);
};

static void batch_put(struct batch *b)
{
	if (--b->pending > 0)
		return;
	b->then(b);
	free(b);
}

static void lease_done(void *ctx, int rc, const char *err)
{
	struct batch *b = ctx;

	if (rc < 0 && b->rc == 0) {
		b->rc = rc;
		snprintf(b->err, sizeof(b->err), "%s", err ? err : cd_strerror(rc));
	}
	batch_put(b);
}

/* Start b's lease calls; then(b) runs once all have answered. */
static void batch_run(struct batch *b)
{
	size_t i;
	int rc;

	b->pending = 1;
	for (i = 0; i < b->n; i++) {
		rc = cd_volmgr_lease(b->disks[i].vol, b->disks[i].file, b->acquire, false,
				     lease_done, b);
		if (rc == 0) {
			b->pending++;
		} else if (b->rc == 0) {
			b->rc = rc;
			snprintf(b->err, sizeof(b->err), "volume %s: %s", b->disks[i].vol,
				 rc == CD_ERR_NOT_FOUND ? "not a volume of this cluster"
							: cd_strerror(rc));
		}
	}
	batch_put(b);
}

static void released(struct batch *b)
{
	struct lvm *v = lvm_get(b->name);

	if (v)
		v->busy = false;
	if (b->rc < 0)
		vm_log(LOG_WARNING, b->name, "disk lease not released: %s", b->err);
	if (b->result[0])
		report(b->name, b->action, b->result, b->report_err[0] ? b->report_err : NULL);
	cd_lrm_state_changed();
}

/*
 * Give back v's disk leases, then report result (if not NULL): the next
 * node must find them free when the report makes the cluster start the VM
 * there.
 */
static void release_then_report(struct lvm *v, uint64_t action, const char *result,
				const char *err)
{
	struct batch *b = calloc(1, sizeof(*b));

	if (!b || v->n_held == 0) {
		free(b);
		v->n_held = 0;
		if (result)
			report(v->name, action, result, err);
		return;
	}
	cd_strlcpy(b->name, v->name, sizeof(b->name));
	b->action = action;
	b->n = v->n_held;
	memcpy(b->disks, v->held, v->n_held * sizeof(v->held[0]));
	v->n_held = 0;
	if (result)
		cd_strlcpy(b->result, result, sizeof(b->result));
	if (err)
		cd_strlcpy(b->report_err, err, sizeof(b->report_err));
	b->then = released;
	v->busy = true;
	batch_run(b);
}

/* The VM as the state has it now (the state may have moved on meanwhile). */
static const struct cd_vm *state_vm(const char *name)
{
	return cd_state_vm(cd_replica_state(), name);
}

static bool mine(const struct cd_vm *vm)
{
	return vm && vm->node == cd_membership_local_nodeid();
}

static void start_done(void *ctx, const struct cd_agent_result *r);

/* A start of name begun here has not returned: the domain may yet come up. */
static bool start_under_way(const struct lvm *v, const char *name)
{
	return (v && v->start_pending) || cd_vm_agent_starting(name);
}

static void acquired(struct batch *b)
{
	struct lvm *v = lvm_get(b->name);
	const struct cd_vm *vm = state_vm(b->name);

	if (!v)
		return;
	v->busy = false;
	/* Whatever came of it, these are to be given back if the VM does not run. */
	memcpy(v->held, b->disks, b->n * sizeof(b->disks[0]));
	v->n_held = b->n;
	if (v->start_cancel) {
		/* The storage path powers it off and reports it: no start. */
		vm_log(LOG_WARNING, b->name, "start called off: the disk leases were voided");
		v->start_pending = v->start_cancel = false;
		release_then_report(v, 0, NULL, NULL);
		return;
	}
	if (b->rc < 0) {
		v->start_pending = false;
		vm_log(LOG_ERR, b->name, "cannot start: disk lease: %s", b->err);
		release_then_report(v, b->action, "failed", b->err);
		return;
	}
	if (!mine(vm) || vm->state != CD_VM_STARTING || vm->action_id != b->action) {
		v->start_pending = false;
		vm_log(LOG_NOTICE, b->name, "no longer to start here: giving the disk leases back");
		release_then_report(v, 0, NULL, NULL);
		return;
	}
	if (may_start(v, b->name) != GATE_OPEN) {
		/* Not now: the start is tried again if this node may start later. */
		v->start_pending = false;
		v->done_action = 0;
		release_then_report(v, 0, NULL, NULL);
		return;
	}
	vm_log(LOG_INFO, b->name, "holds the disk leases of its %zu shared disk(s)", b->n);
	if (call_agent(v, CD_AGENT_START, vm->xml, vm->action_id, start_done) < 0) {
		v->start_pending = false;
		vm_log(LOG_ERR, vm->name, "cannot start a libvirt call");
	}
}

/* Start vm: its shared disks' leases first, if it has any. */
static void begin_start(struct lvm *v, const struct cd_vm *vm)
{
	struct batch *b;
	int n;

	b = calloc(1, sizeof(*b));
	if (!b) {
		vm_log(LOG_ERR, vm->name, "cannot start: out of memory");
		return;
	}
	n = cd_vm_disks(vm->xml, l.cfg.csvfs_run_dir, b->disks, b->err, sizeof(b->err));
	if (n < 0)
		report(vm->name, vm->action_id, "failed", b->err);
	if (n <= 0) {
		free(b);
		if (n < 0)
			return;
		if (call_agent(v, CD_AGENT_START, vm->xml, vm->action_id, start_done) < 0)
			vm_log(LOG_ERR, vm->name, "cannot start a libvirt call");
		else
			v->start_pending = true;
		return;
	}
	cd_strlcpy(b->name, vm->name, sizeof(b->name));
	b->action = vm->action_id;
	b->acquire = true;
	b->n = (size_t)n;
	b->then = acquired;
	v->busy = true;
	v->start_pending = true;
	batch_run(b);
}

static void start_done(void *ctx, const struct cd_agent_result *r)
{
	struct call *c = ctx;
	struct lvm *v = lvm_get(c->name);

	if (v)
		v->busy = v->start_pending = false;
	if (v && v->start_cancel) {
		/* Its leases were voided meanwhile: the storage path powers it off. */
		v->start_cancel = false;
		vm_log(LOG_WARNING, c->name, "start returned after its disk leases were voided: "
					     "left to the power-off");
	} else if (r->rc == 0 && r->status == CD_DOMAIN_RUNNING) {
		vm_log(LOG_NOTICE, c->name, "started (action %" PRIu64 ")", c->action);
		report(c->name, c->action, "running", NULL);
	} else if (r->rc == CD_ERR_TIMEOUT || r->status == CD_DOMAIN_UNKNOWN) {
		/*
		 * It may or may not run: saying "failed" could get it started
		 * elsewhere as well. The monitor finds out what is true.
		 */
		vm_log(LOG_ERR, c->name, "start outcome unknown: %s", r->err);
	} else {
		vm_log(LOG_ERR, c->name, "start failed: %s", r->err);
		if (v)
			release_then_report(v, c->action, "failed", r->err);
		else
			report(c->name, c->action, "failed", r->err);
	}
	free(c);
	cd_lrm_state_changed();
}

static void stop_done(void *ctx, const struct cd_agent_result *r)
{
	struct call *c = ctx;
	struct lvm *v = lvm_get(c->name);

	if (v)
		v->busy = false;
	/*
	 * Only a domain libvirt confirms gone is stopped. A failed destroy or
	 * a failed look (libvirtd broken or busy) leaves the VM running as far
	 * as the cluster knows: reporting it stopped or failed would free it
	 * to start elsewhere. The destroy is tried again at the next tick;
	 * otherwise it is still on its way down and the next tick looks again.
	 */
	if (r->status == CD_DOMAIN_STOPPED && start_under_way(v, c->name)) {
		/* A start still under way may yet run it: destroy again later. */
		vm_log(LOG_WARNING, c->name, "off, but its start has not returned: not stopped yet");
		if (v)
			v->stop_deadline = 0;
	} else if (r->status == CD_DOMAIN_STOPPED &&
		   (r->rc == 0 || c->op == CD_AGENT_DESTROY)) {
		vm_log(LOG_NOTICE, c->name, "stopped (%s)", cd_agent_op_to_str(c->op));
		if (v)
			release_then_report(v, c->action, "stopped", NULL);
		else
			report(c->name, c->action, "stopped", NULL);
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

	if (v->busy || v->reporting)
		return;
	if (v->stop_action != vm->action_id) {
		v->stop_action = vm->action_id;
		v->done_action = vm->action_id;
		if (vm->force_stop) {
			vm_log(LOG_NOTICE, vm->name, "forced stop: destroying");
			rc = call_agent(v, CD_AGENT_DESTROY, NULL, vm->action_id, stop_done);
		} else {
			vm_log(LOG_NOTICE, vm->name, "shutting down (destroy after %d ms)",
			       l.cfg.stop_timeout_ms);
			v->stop_deadline = now + (uint64_t)l.cfg.stop_timeout_ms;
			rc = call_agent(v, CD_AGENT_SHUTDOWN, NULL, vm->action_id, stop_done);
		}
	} else if (now >= v->stop_deadline) {
		vm_log(LOG_WARNING, vm->name, "did not shut down in %d ms: destroying",
		       l.cfg.stop_timeout_ms);
		v->stop_deadline = UINT64_MAX;
		rc = call_agent(v, CD_AGENT_DESTROY, NULL, vm->action_id, stop_done);
	} else {
		rc = call_agent(v, CD_AGENT_STATUS, NULL, vm->action_id, stop_done);
	}
	if (rc < 0)
		vm_log(LOG_ERR, vm->name, "cannot run the stop: %s", cd_strerror(rc));
}

static void monitor_done(void *ctx, const struct cd_agent_result *r)
{
	struct call *c = ctx;
	struct lvm *v = lvm_get(c->name);
	const struct cd_vm *vm = state_vm(c->name);

	if (v)
		v->busy = false;
	if (!vm || !mine(vm) || (vm->state != CD_VM_RUNNING && vm->state != CD_VM_STARTING)) {
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
	    start_under_way(v, c->name)) {
		/*
		 * Its start has not returned (it may have timed out): it may yet
		 * run. Reporting a failure now would release its leases and let
		 * it start elsewhere as well. Wait for the call.
		 */
		vm_log(LOG_WARNING, c->name, "not running, but its start has not returned: waiting");
		if (v)
			v->misses = 0;
		free(c);
		return;
	}
	switch (r->status) {
	case CD_DOMAIN_RUNNING:
		if (vm->state == CD_VM_STARTING)
			/* A start whose outcome was unknown: it runs after all. */
			report(c->name, vm->action_id, "running", NULL);
		break;
	case CD_DOMAIN_FAILED:
	case CD_DOMAIN_STOPPED:
		vm_log(LOG_ERR, c->name, "found %s: reporting a failure",
		       r->status == CD_DOMAIN_FAILED ? "crashed (QEMU gone)" : "not running");
		if (v)
			v->misses = 0;
		if (r->status == CD_DOMAIN_FAILED && v) {
			/* Clear libvirt's record first, so a restart starts clean. */
			call_agent(v, CD_AGENT_DESTROY, NULL, 0, monitor_done);
		} else if (v) {
			release_then_report(v, 0, "failed",
					    c->op == CD_AGENT_DESTROY ? "the QEMU process died"
								      : "the domain stopped unexpectedly");
		} else {
			report(c->name, 0, "failed", "the domain stopped unexpectedly");
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
	char *name;

	vm_log(LOG_CRIT, vm->name,
	       "runs on this node but the cluster has it %s on node %u: powering off the copy "
	       "here",
	       cd_vm_state_to_str(vm->state), vm->node);
	cd_event("vm", vm->name, "a second copy ran on this node: powered off");
	name = strdup(vm->name);
	if (!name || cd_vm_agent_call(CD_AGENT_DESTROY, name, NULL, l.cfg.call_timeout_ms,
				      rogue_done, name) < 0) {
		vm_log(LOG_CRIT, vm->name, "cannot power off the copy here");
		free(name);
	}
}

static void scan_done(void *ctx, const struct cd_agent_result *r)
{
	const struct cd_state *s = cd_replica_state();
	const char *p = r->names;

	l.scanning = false;
	if (r->rc < 0 || !p)
		return;
	/* Only a synchronised, quorate node's record is the cluster's. */
	if (!l.up || !cd_replica_quorate())
		return;
	while (*p) {
		char name[64];
		size_t n = strcspn(p, "\n");
		const struct cd_vm *vm;

		snprintf(name, sizeof(name), "%.*s", (int)(n < 63 ? n : 63), p);
		p += n + (p[n] == '\n');
		vm = cd_state_vm(s, name);
		if (vm && !mine(vm) && vm->node &&
		    (vm->state == CD_VM_RUNNING || vm->state == CD_VM_STARTING ||
		     vm->state == CD_VM_STOPPING) &&
		    !start_under_way(lvm_find(name), name))
			power_off_rogue(vm);
		else if (vm && !mine(vm))
			vm_log(LOG_ERR, name,
			       "runs on this node but the cluster has it %s on node %u: "
			       "left alone, a person should look",
			       cd_vm_state_to_str(vm->state), vm->node);
	}
}

/*
 * Whether vm, to start here, may begin now. A start that this node's lack
 * of a host lease has held back for LEASE_GATE_FAIL_MS is reported failed.
 */
static bool gate_passed(struct lvm *v, const struct cd_vm *vm)
{
	char err[160];

	switch (may_start(v, vm->name)) {
	case GATE_OPEN:
		return true;
	case GATE_LEASE:
		if (cd_now_ms() - v->gated_since < LEASE_GATE_FAIL_MS)
			return false;
		snprintf(err, sizeof(err),
			 "not started: this node has lacked a host lease for %d s",
			 LEASE_GATE_FAIL_MS / 1000);
		v->gated = GATE_OPEN; /* counted afresh if placed here again */
		v->done_action = vm->action_id;
		report(vm->name, vm->action_id, "failed", err);
		return false;
	case GATE_STOPPING:
	case GATE_QUORUM:
		break;
	}
	return false;
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
	if (!l.up || !cd_replica_quorate())
		return;
	for (i = 0; i < l.n_vms; i++)
		l.vms[i].seen = false;
	for (i = 0; i < s->n_vms; i++) {
		const struct cd_vm *vm = &s->vms[i];
		struct lvm *v;

		if (!mine(vm))
			continue;
		v = lvm_get(vm->name);
		if (!v)
			continue;
		v->seen = true;
		if (v->busy || v->reporting)
			continue;
		switch (vm->state) {
		case CD_VM_STARTING:
			if (v->done_action != vm->action_id) {
				if (!gate_passed(v, vm))
					break;
				v->done_action = vm->action_id;
				vm_log(LOG_NOTICE, vm->name, "starting (action %" PRIu64 ")",
				       vm->action_id);
				begin_start(v, vm);
			} else if (now >= v->next_check) {
				v->next_check = now + (uint64_t)l.cfg.monitor_interval_ms;
				call_agent(v, CD_AGENT_STATUS, NULL, vm->action_id, monitor_done);
			}
			break;
		case CD_VM_STOPPING:
			stop_step(v, vm);
			break;
		case CD_VM_RUNNING:
		case CD_VM_MIGRATING:
			if (now >= v->next_check) {
				v->next_check = now + (uint64_t)l.cfg.monitor_interval_ms;
				call_agent(v, CD_AGENT_STATUS, NULL, 0, monitor_done);
			}
			break;
		case CD_VM_STOPPED:
		case CD_VM_FAILED:
			break;
		}
	}
	/* Forget VMs that are no longer ours and have nothing under way. */
	for (i = 0; i < l.n_vms;) {
		if (!l.vms[i].seen && !l.vms[i].busy && !l.vms[i].reporting) {
			l.vms[i] = l.vms[--l.n_vms];
			continue;
		}
		i++;
	}
	if (!l.scanning && now >= l.next_scan) {
		l.next_scan = now + UNEXPECTED_SCAN_MS;
		if (cd_vm_agent_call(CD_AGENT_LIST, "-", NULL, l.cfg.call_timeout_ms, scan_done,
				     NULL) == 0)
			l.scanning = true;
	}
}

static void fenced_done(void *ctx, const struct cd_agent_result *r);

/* A power-off after a lapse, done again once the start under way has returned. */
struct refence {
	char name[64];
	struct group *group;
	qb_loop_timer_handle timer;
};

static void refence(void *data)
{
	struct refence *f = data;
	struct lvm *v = lvm_get(f->name);

	if (v && start_under_way(v, f->name)) {
		qb_loop_timer_add(l.loop, QB_LOOP_HIGH, 100 * 1000000ull, f, refence, &f->timer);
		return;
	}
	if (!v || call_agent_in(v, CD_AGENT_DESTROY, NULL, 0, fenced_done, f->group) < 0) {
		vm_log(LOG_CRIT, f->name, "cannot power off");
		group_put(f->group, false);
	} else {
		group_put(f->group, true); /* the new call holds the group now */
	}
	free(f);
}

static void fenced_done(void *ctx, const struct cd_agent_result *r)
{
	struct call *c = ctx;
	struct lvm *v = lvm_get(c->name);
	struct refence *f;

	if (v) {
		v->busy = false;
		v->n_held = 0; /* void with the host lease */
	}
	if (r->rc == 0 && r->status == CD_DOMAIN_STOPPED && start_under_way(v, c->name)) {
		/*
		 * Off now, but a start begun before the lapse has not returned
		 * and may yet bring it up: reporting it failed would let it
		 * start elsewhere as well. Power off again once it has returned.
		 */
		f = calloc(1, sizeof(*f));
		if (!f) {
			vm_log(LOG_CRIT, c->name, "cannot power off again: out of memory");
			group_put(c->group, false);
			free(c);
			return;
		}
		vm_log(LOG_WARNING, c->name, "off, but its start has not returned: powering off "
					     "again once it has");
		cd_strlcpy(f->name, c->name, sizeof(f->name));
		f->group = c->group;
		if (f->group)
			f->group->pending++;
		qb_loop_timer_add(l.loop, QB_LOOP_HIGH, 100 * 1000000ull, f, refence, &f->timer);
		group_put(c->group, true);
		free(c);
		return;
	}
	if (r->rc == 0 && r->status == CD_DOMAIN_STOPPED)
		report(c->name, 0, "failed", "powered off: its storage lease was lost");
	else
		vm_log(LOG_CRIT, c->name, "could not be powered off after its storage lease was "
					  "lost: %s",
		       r->err);
	group_put(c->group, r->rc == 0 && r->status == CD_DOMAIN_STOPPED);
	free(c);
}

/* --- self-fencing and freezing: one operation on every domain here --- */

struct sweep {
	enum cd_agent_op op;
	const char *why;	  /* logged for each domain */
	void (*done[2])(bool ok); /* a shutdown may come during a self-fence */
	int pending;
	bool ok;
	bool running;
	qb_loop_timer_handle timer;
};

static struct sweep fence_sweep = {.op = CD_AGENT_DESTROY, .why = "no quorum: powering off"};
static struct sweep freeze_sweep = {.op = CD_AGENT_SUSPEND, .why = "no quorum: pausing (freeze)"};

/* The domains the freeze paused: only those are resumed. */
static char (*frozen)[64];
static size_t n_frozen;
static bool thaw_after_freeze; /* quorum came back while the freeze ran */

static void frozen_add(const char *name)
{
	char (*n)[64] = realloc(frozen, (n_frozen + 1) * sizeof(*n));

	if (!n)
		return;
	frozen = n;
	cd_strlcpy(frozen[n_frozen++], name, sizeof(*frozen));
}

static void sweep_list(struct sweep *sw);

static void resweep(void *data)
{
	sweep_list(data);
}

static void sweep_finish(struct sweep *sw)
{
	void (*done[2])(bool ok) = {sw->done[0], sw->done[1]};

	if (sw->pending > 0 || !sw->running)
		return;
	if (sw->op == CD_AGENT_DESTROY && cd_vm_agent_starting(NULL)) {
		/*
		 * A start that was under way when the domains were listed may
		 * yet create one: list and power off again once it has returned.
		 */
		vm_log(LOG_WARNING, "*", "self-fence: a start is still under way: sweeping again");
		qb_loop_timer_add(l.loop, QB_LOOP_HIGH, 100 * 1000000ull, sw, resweep, &sw->timer);
		return;
	}
	sw->running = false;
	if (sw->op == CD_AGENT_DESTROY)
		vm_log(sw->ok ? LOG_WARNING : LOG_CRIT, "*", "self-fence %s",
		       sw->ok ? "complete: no domain runs here"
			      : "INCOMPLETE: a domain may still run");
	else
		vm_log(sw->ok ? LOG_WARNING : LOG_ERR, "*", "freeze %s",
		       sw->ok ? "complete: every domain here is paused" : "incomplete");
	if (done[0])
		done[0](sw->ok);
	if (done[1])
		done[1](sw->ok);
	if (sw == &freeze_sweep && thaw_after_freeze) {
		thaw_after_freeze = false;
		cd_lrm_thaw();
	}
}

struct sweep_call {
	struct sweep *sw;
	char name[64];
};

static void sweep_one_done(void *ctx, const struct cd_agent_result *r)
{
	struct sweep_call *c = ctx;
	struct sweep *sw = c->sw;
	bool ok = sw->op == CD_AGENT_DESTROY ? r->rc == 0 && r->status == CD_DOMAIN_STOPPED
					     : r->rc == 0;

	if (ok && sw->op == CD_AGENT_SUSPEND)
		frozen_add(c->name);
	if (!ok) {
		vm_log(LOG_CRIT, c->name, "could not %s: %s",
		       sw->op == CD_AGENT_DESTROY ? "be powered off" : "be paused", r->err);
		sw->ok = false;
	}
	free(c);
	sw->pending--;
	sweep_finish(sw);
}

static void sweep_listed(void *ctx, const struct cd_agent_result *r)
{
	struct sweep *sw = ctx;
	const char *p = r->names;

	sw->pending--;
	if (r->rc < 0 || !p) {
		vm_log(LOG_CRIT, "*", "%s: cannot list domains: %s", sw->why, r->err);
		sw->ok = false;
		sweep_finish(sw);
		return;
	}
	while (*p) {
		size_t n = strcspn(p, "\n");
		struct sweep_call *c = calloc(1, sizeof(*c));

		if (c) {
			c->sw = sw;
			snprintf(c->name, sizeof(c->name), "%.*s", (int)(n < 63 ? n : 63), p);
			vm_log(LOG_WARNING, c->name, "%s", sw->why);
			if (cd_vm_agent_call(sw->op, c->name, NULL, l.cfg.call_timeout_ms,
					     sweep_one_done, c) == 0)
				sw->pending++;
			else {
				free(c);
				sw->ok = false;
			}
		} else {
			sw->ok = false;
		}
		p += n + (p[n] == '\n');
	}
	sweep_finish(sw);
}

static void sweep(struct sweep *sw, void (*done)(bool ok))
{
	if (sw->running) {
		if (sw->done[0] != done)
			sw->done[1] = done;
		return;
	}
	sw->running = true;
	sw->done[0] = done;
	sw->done[1] = NULL;
	sw->ok = true;
	sweep_list(sw);
}

/* List the active domains, then act on each (sweep_listed). */
static void sweep_list(struct sweep *sw)
{
	sw->pending = 1;
	if (cd_vm_agent_call(CD_AGENT_LIST, "-", NULL, l.cfg.call_timeout_ms, sweep_listed, sw) <
	    0) {
		sw->pending = 0;
		sw->ok = false;
		sweep_finish(sw);
	}
}

void cd_lrm_self_fence(void (*done)(bool ok))
{
	l.no_starts = true;
	n_frozen = 0; /* nothing is to be resumed any more */
	thaw_after_freeze = false;
	sweep(&fence_sweep, done);
}

void cd_lrm_freeze(void (*done)(bool ok))
{
	sweep(&freeze_sweep, done);
}

static void thawed(void *ctx, const struct cd_agent_result *r)
{
	char *name = ctx;

	if (r->rc < 0)
		vm_log(LOG_ERR, name, "could not be resumed: %s", r->err);
	else
		vm_log(LOG_NOTICE, name, "resumed: quorum is back");
	free(name);
}

void cd_lrm_thaw(void)
{
	size_t i;

	if (freeze_sweep.running) {
		thaw_after_freeze = true;
		return;
	}
	for (i = 0; i < n_frozen; i++) {
		char *name = strdup(frozen[i]);

		if (name && cd_vm_agent_call(CD_AGENT_RESUME, name, NULL, l.cfg.call_timeout_ms,
					     thawed, name) < 0) {
			vm_log(LOG_ERR, name, "cannot resume");
			free(name);
		}
	}
	n_frozen = 0;
}

void cd_lrm_storage_lost(const char *vol, const char *dir, void (*off)(void *ctx, bool ok),
			 void *ctx)
{
	const struct cd_state *s = cd_replica_state();
	struct group *g = calloc(1, sizeof(*g));
	size_t i;

	if (!g) {
		if (off)
			off(ctx, false);
		off = NULL;
	} else {
		/* One reference held until every call is under way. */
		g->pending = 1;
		g->ok = true;
		g->off = off;
		g->ctx = ctx;
	}

	for (i = 0; i < s->n_vms; i++) {
		const struct cd_vm *vm = &s->vms[i];
		struct lvm *v;

		/*
		 * Every VM of the node, not only those on this volume: the
		 * others call this node dead only when every volume shows its
		 * lease gone (deadrule.h), and a lapse anywhere must mean that
		 * nothing of it runs any more.
		 */
		if (!mine(vm))
			continue;
		v = lvm_get(vm->name);
		if (!v)
			continue;
		vm_log(LOG_CRIT, vm->name,
		       "this node's host lease on volume %s lapsed: powering off (%s)", vol,
		       vm->xml && strstr(vm->xml, dir) ? "it uses the volume"
							: "a lapse on any volume stops every VM");
		/* A start under way is carried no further (acquired, start_done). */
		if (v->start_pending)
			v->start_cancel = true;
		/* Not behind a busy call: this must not wait. */
		if (call_agent_in(v, CD_AGENT_DESTROY, NULL, 0, fenced_done, g) < 0) {
			vm_log(LOG_CRIT, vm->name, "cannot power off");
			if (g)
				g->ok = false;
		}
	}
	group_put(g, true);
}

void cd_lrm_allow_starts(void)
{
	if (l.no_starts)
		vm_log(LOG_NOTICE, "*", "starts allowed again");
	l.no_starts = false;
}

void cd_lrm_state_changed(void)
{
	reconcile();
}

static void tick(void *data)
{
	reconcile();
	qb_loop_timer_add(l.loop, QB_LOOP_LOW, 250 * 1000000ull, NULL, tick, &l.tick);
}

/* A lifecycle event: check that VM at the next reconcile. */
static void on_event(const char *name, enum cd_domain_status st)
{
	size_t i;

	for (i = 0; i < l.n_vms; i++)
		if (strcmp(l.vms[i].name, name) == 0)
			l.vms[i].next_check = 0;
	vm_log(LOG_INFO, name, "libvirt event: %s", cd_domain_status_to_str(st));
	reconcile();
}

int cd_lrm_init(qb_loop_t *loop, const struct cd_lrm_config *cfg)
{
	int rc;

	l.loop = loop;
	l.cfg = *cfg;
	rc = cd_vm_agent_init(loop, cfg->libvirt_uri, cfg->qemu_pid_dir, on_event);
	if (rc < 0)
		return rc;
	l.up = true;
	qb_loop_timer_add(l.loop, QB_LOOP_LOW, 250 * 1000000ull, NULL, tick, &l.tick);
	return 0;
}

void cd_lrm_fini(void)
{
	l.up = false;
	cd_vm_agent_fini();
	free(frozen);
	frozen = NULL;
	n_frozen = 0;
	free(l.vms);
	l.vms = NULL;
	l.n_vms = 0;
}
