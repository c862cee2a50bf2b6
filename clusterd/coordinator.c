#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <qb/qblog.h>

#include <clusterd/result.h>

#include "agents/fence.h"
#include "clusterd/change.h"
#include "clusterd/coordinator.h"
#include "clusterd/cpumodels.h"
#include "clusterd/events.h"
#include "clusterd/membership.h"
#include "clusterd/props.h"
#include "clusterd/replica.h"
#include "clusterd/timing.h"
#include "clusterd/volmgr.h"
#include "lib/util.h"

static struct {
	qb_loop_t *loop;
	qb_loop_timer_handle timer;
	/* VMs whose placement is on its way through the cluster. */
	char (*inflight)[64];
	size_t n_inflight;
	qb_loop_timer_handle failover_timer;
	uint32_t dead_inflight; /* node whose node.dead is on its way */
	uint32_t warned;	/* node we said we cannot confirm */
	uint64_t backoff_until; /* no placements before (after a refusal) */
	uint32_t fencing;	/* node being fenced */
	uint64_t fence_retry_at;
} co;

static uint32_t node_id_by_name(const struct cd_state *s, const char *name)
{
	const struct cd_node *n = cd_state_node_by_name(s, name);

	return n ? n->info.id : 0;
}

_Static_assert(CD_CPU_MODELS_MAX <= CD_POLICY_CPU_MODELS_MAX &&
		   CD_CPU_MODEL_MAX <= CD_POLICY_CPU_MAX,
	       "the policy takes every CPU model a node lists");

static void pnode_cpu_models(struct cd_policy_node *p, const struct cd_capacity *cap)
{
	uint32_t i;

	p->cpu_models_unknown = cap->n_cpu_models == 0;
	for (i = 0; i < cap->n_cpu_models; i++)
		cd_strlcpy(p->cpu_models[i], cap->cpu_models[i], sizeof(p->cpu_models[i]));
	p->n_cpu_models = cap->n_cpu_models;
}

/*
 * The model the VM needs (cpumodels.h): a domain XML that does not parse
 * here was checked by libvirt when added, so it needs nothing we can tell.
 */
static void pvm_cpu_model(struct cd_policy_vm *p, const struct cd_state *s, const struct cd_vm *v)
{
	const struct cd_node *where = NULL;
	struct cd_vm_cpu cpu;
	char err[128];

	if (!v->xml || cd_vm_cpu_read(v->xml, &cpu, err, sizeof(err)) < 0)
		return;
	if (v->node && (v->state == CD_VM_RUNNING || v->state == CD_VM_MIGRATING))
		where = cd_state_node_by_id(s, v->node);
	cd_strlcpy(p->cpu_model, cd_vm_cpu_need(&cpu, where ? &where->info.cap : NULL),
		   sizeof(p->cpu_model));
}

static enum cd_policy_node_state pnode_state(const struct cd_node *n)
{
	if (n->member && n->maintenance)
		return CD_PNODE_MAINTENANCE;
	if (n->member)
		return cd_node_quarantined(n, cd_wall_ms()) ? CD_PNODE_QUARANTINED : CD_PNODE_ONLINE;
	if (n->dead)
		return CD_PNODE_FENCED;
	/*
	 * A node that left the membership may still run its VMs: until it is
	 * known dead (fenced, or its disk lease expired) it keeps them and
	 * takes none, which is what the policy does with a quarantined node.
	 */
	return CD_PNODE_QUARANTINED;
}

static const enum cd_policy_priority prio_map[] = {
	[CD_PRIO_HIGH] = CD_PPRIO_HIGH,
	[CD_PRIO_MEDIUM] = CD_PPRIO_MEDIUM,
	[CD_PRIO_LOW] = CD_PPRIO_LOW,
	[CD_PRIO_NO_AUTO_START] = CD_PPRIO_NO_AUTO_START,
};
static const enum cd_policy_vm_state state_map[] = {
	[CD_VM_STOPPED] = CD_PVM_STOPPED,   [CD_VM_STARTING] = CD_PVM_STARTING,
	[CD_VM_RUNNING] = CD_PVM_RUNNING,   [CD_VM_STOPPING] = CD_PVM_STOPPING,
	[CD_VM_FAILED] = CD_PVM_FAILED,	    [CD_VM_MIGRATING] = CD_PVM_MIGRATING,
};
static const enum cd_policy_failback_mode fb_map[] = {
	[CD_FAILBACK_NEVER] = CD_PFAILBACK_NEVER,
	[CD_FAILBACK_IMMEDIATELY] = CD_PFAILBACK_IMMEDIATELY,
	[CD_FAILBACK_WINDOW] = CD_PFAILBACK_WINDOW,
};

int cd_coordinator_policy_input(const struct cd_state *s, struct cd_policy_input *in)
{
	struct cd_policy_node *nodes = calloc(s->n_nodes + 1, sizeof(*nodes));
	struct cd_policy_vm *vms = calloc(s->n_vms + 1, sizeof(*vms));
	time_t now = time(NULL);
	struct tm tm;
	size_t i, j;

	memset(in, 0, sizeof(*in));
	if (!nodes || !vms) {
		free(nodes);
		free(vms);
		return -ENOMEM;
	}
	for (i = 0; i < s->n_nodes; i++) {
		const struct cd_node *n = &s->nodes[i];

		nodes[i].id = n->info.id;
		cd_strlcpy(nodes[i].name, n->info.name, sizeof(nodes[i].name));
		nodes[i].state = pnode_state(n);
		nodes[i].cores = n->info.cap.cores;
		nodes[i].memory_mb = n->info.cap.memory_mb;
		pnode_cpu_models(&nodes[i], &n->info.cap);
	}
	for (i = 0; i < s->n_vms; i++) {
		const struct cd_vm *v = &s->vms[i];
		struct cd_policy_vm *p = &vms[i];

		cd_strlcpy(p->name, v->name, sizeof(p->name));
		p->vcpus = v->vcpus;
		p->memory_mb = v->memory_mb;
		pvm_cpu_model(p, s, v);
		p->priority = prio_map[v->priority];
		p->target = v->target_started ? CD_TARGET_STARTED : CD_TARGET_STOPPED;
		p->admin_start = v->target_started;
		for (j = 0; j < v->n_preferred; j++) {
			uint32_t id = node_id_by_name(s, v->preferred[j]);

			if (id)
				p->preferred[p->n_preferred++] = id;
		}
		for (j = 0; j < v->n_possible; j++) {
			uint32_t id = node_id_by_name(s, v->possible[j]);

			if (id)
				p->possible[p->n_possible++] = id;
		}
		cd_strlcpy(p->anti_class, v->anti_class, sizeof(p->anti_class));
		p->anti = v->anti_hard ? CD_ANTI_HARD : CD_ANTI_SOFT;
		p->state = state_map[v->state];
		p->node = v->state == CD_VM_FAILED ? v->failed_on : v->node;
		p->failures = v->fail_count;
		p->failure_limit = CD_VM_FAIL_LIMIT;
		p->failed_on = v->failed_on;
		p->failback.mode = fb_map[v->failback];
		p->failback.start = v->fb_start;
		p->failback.end = v->fb_end;
	}
	in->nodes = nodes;
	in->n_nodes = s->n_nodes;
	in->vms = vms;
	in->n_vms = s->n_vms;
	localtime_r(&now, &tm);
	in->now_minute = tm.tm_hour * 60 + tm.tm_min;
	return 0;
}

void cd_coordinator_policy_input_free(struct cd_policy_input *in)
{
	free((void *)in->nodes);
	free((void *)in->vms);
	memset(in, 0, sizeof(*in));
}

static bool inflight(const char *name)
{
	size_t i;

	for (i = 0; i < co.n_inflight; i++)
		if (strcmp(co.inflight[i], name) == 0)
			return true;
	return false;
}

static void inflight_remove(const char *name)
{
	size_t i;

	for (i = 0; i < co.n_inflight; i++)
		if (strcmp(co.inflight[i], name) == 0) {
			memmove(&co.inflight[i], &co.inflight[i + 1],
				(co.n_inflight - i - 1) * sizeof(*co.inflight));
			co.n_inflight--;
			return;
		}
}

static void place_done(void *ctx, int rc, const char *err)
{
	char *name = ctx;

	if (rc < 0) {
		/*
		 * Refused: the state and the policy disagree about this VM. Try
		 * again only after a pause, never in a tight loop.
		 */
		qb_log(LOG_WARNING, "placement of %s refused: %s", name, err);
		co.backoff_until = cd_now_ms() + CD_PLACE_BACKOFF_MS;
	}
	inflight_remove(name);
	free(name);
}

static void place(const char *vm, uint32_t node, const char *why)
{
	struct json_object *c;
	char (*n)[64];
	char *ctx;
	int rc;

	if (inflight(vm))
		return;
	n = realloc(co.inflight, (co.n_inflight + 1) * sizeof(*n));
	ctx = strdup(vm);
	if (!n || !ctx) {
		if (n)
			co.inflight = n;
		free(ctx);
		return;
	}
	co.inflight = n;
	c = json_object_new_object();
	json_object_object_add(c, "op", json_object_new_string(cd_change_name(CD_CHANGE_VM_PLACE)));
	json_object_object_add(c, "name", json_object_new_string(vm));
	json_object_object_add(c, "node", json_object_new_int64(node));
	rc = cd_replica_submit(c, place_done, ctx);
	json_object_put(c);
	if (rc < 0) {
		free(ctx);
		return;
	}
	cd_strlcpy(co.inflight[co.n_inflight++], vm, 64);
	qb_log(LOG_NOTICE, "vm %s: placing on node %u: %s", vm, node, why);
}

static void decide(void)
{
	const struct cd_state *s = cd_replica_state();
	struct cd_policy_input in;
	struct cd_policy_result res;
	char why[512];
	size_t i;
	int rc;

	if (cd_replica_coordinator() != cd_membership_local_nodeid() || s->n_vms == 0 ||
	    cd_now_ms() < co.backoff_until)
		return;
	if (cd_coordinator_policy_input(s, &in) < 0)
		return;
	memset(&res, 0, sizeof(res));
	rc = cd_policy_decide(&in, &res);
	if (rc < 0) {
		qb_log(LOG_ERR, "policy refused the state: %s", res.error);
		goto out;
	}
	for (i = 0; i < res.n_actions; i++) {
		const struct cd_policy_action *a = &res.actions[i];

		switch (a->type) {
		case CD_ACT_START: {
			const struct cd_vm *vm = cd_state_vm(s, in.vms[a->vm].name);

			/*
			 * A VM of an old state gets its fixed identity first
			 * (identity.c); started before, libvirt would invent one.
			 */
			if (vm && vm->ident_missing)
				break;
			cd_policy_explain_vm(&in, &res, a->vm, why, sizeof(why));
			place(in.vms[a->vm].name, a->to, why);
			break;
		}
		case CD_ACT_STOP:
		case CD_ACT_MIGRATE:
		case CD_ACT_UNPLACED:
		case CD_ACT__COUNT:
			/*
			 * Stops are carried out from vm.stop itself; failback
			 * migration comes with live migration; unplaced VMs
			 * are explained on request.
			 */
			break;
		}
	}
out:
	cd_policy_result_free(&res);
	cd_coordinator_policy_input_free(&in);
}

/* --- failover: a node left with VMs; are they surely stopped? --- */

static bool runs_vms(const struct cd_state *s, uint32_t id)
{
	size_t i;

	for (i = 0; i < s->n_vms; i++)
		if (s->vms[i].node == id)
			return true;
	return false;
}

static void dead_done(void *ctx, int rc, const char *err)
{
	if (rc < 0)
		qb_log(LOG_WARNING, "recording a node's death failed: %s", err);
	co.dead_inflight = 0;
}

static void declare_dead(uint32_t id, const char *how)
{
	struct json_object *c = json_object_new_object();

	json_object_object_add(c, "op",
			       json_object_new_string(cd_change_name(CD_CHANGE_NODE_DEAD)));
	json_object_object_add(c, "node", json_object_new_int64(id));
	json_object_object_add(c, "how", json_object_new_string(how));
	if (cd_replica_submit(c, dead_done, NULL) == 0)
		co.dead_inflight = id;
	json_object_put(c);
}

struct fence_call {
	uint32_t node;
	char how[16];
};

static void fence_done(void *ctx, const struct cd_fence_result *r)
{
	struct fence_call *f = ctx;
	const struct cd_node *n = cd_state_node_by_id(cd_replica_state(), f->node);
	const char *name = n ? n->info.name : "?";

	co.fencing = 0;
	if (r->rc == 0) {
		cd_event("node", name, "fenced (%s, %d attempt%s)", f->how, r->attempts,
			 r->attempts == 1 ? "" : "s");
		if (n && !n->member && !n->dead && cd_replica_coordinator() == cd_membership_local_nodeid())
			declare_dead(f->node, f->how);
	} else {
		cd_event("node", name, "fencing with %s FAILED (%s): nothing of it is started; "
				       "retrying in %d s",
			 f->how, cd_strerror(r->rc), CD_FENCE_RETRY_MS / 1000);
		co.fence_retry_at = cd_now_ms() + CD_FENCE_RETRY_MS;
	}
	free(f);
}

/* Fence node n with the first device that covers it. Returns 1 if started. */
static int fence(const struct cd_state *s, const struct cd_node *n)
{
	size_t i;

	for (i = 0; i < s->n_fencedevs; i++) {
		const struct cd_fencedev *d = &s->fencedevs[i];
		struct cd_fence_device dev = {
		    .name = d->name, .agent = d->agent, .params = d->params};
		struct fence_call *f;
		char plug[128];
		int rc;

		if (!cd_fencedev_plug(d, n->info.name, plug, sizeof(plug)))
			continue;
		f = calloc(1, sizeof(*f));
		if (!f)
			return 0;
		f->node = n->info.id;
		snprintf(f->how, sizeof(f->how), "fence:%.9s", d->name);
		rc = cd_fence_run(&dev, "off", plug, CD_FENCE_TIMEOUT_MS, CD_FENCE_RETRIES,
				  fence_done, f);
		if (rc < 0) {
			cd_event("node", n->info.name, "cannot run fence device %s: %s", d->name,
				 cd_strerror(rc));
			free(f);
			continue;
		}
		cd_event("node", n->info.name, "fencing with %s (plug %s)", d->name, plug);
		co.fencing = n->info.id;
		return 1;
	}
	return 0;
}

/*
 * The safety rule: a lost node's VMs are started elsewhere only once the
 * node is known dead. Its csvfs host lease, watched continuously, tells:
 * expired (it stopped renewing, which it does only after killing its VMs or
 * with nothing left to run) or released (it said so). Without a volume, an
 * admin's confirm-dead (or, later, a fence agent) is the only way.
 */
static void check_lost_nodes(void)
{
	const struct cd_state *s = cd_replica_state();
	uint64_t grace = cd_props_get(s, CD_PROPS_FAILOVER_GRACE_MS);
	uint64_t confirm = cd_props_get(s, CD_PROPS_FAILOVER_CONFIRM);
	bool use_lease = confirm & CD_CONFIRM_LEASE;
	bool use_fence = confirm & CD_CONFIRM_FENCE;
	size_t i;

	if (cd_replica_coordinator() != cd_membership_local_nodeid() || co.dead_inflight)
		return;
	for (i = 0; i < s->n_nodes; i++) {
		const struct cd_node *n = &s->nodes[i];
		int dead;

		/*
		 * A node corosync still lists is not lost, unless the sync
		 * round left it out: then it has left for the others.
		 */
		if (n->member || n->dead ||
		    (cd_membership_is_member(n->info.id) && !cd_replica_node_left_out(n->info.id)) ||
		    !runs_vms(s, n->info.id))
			continue;
		/* A short blip must not move VMs: wait out the grace period first. */
		if (grace && cd_wall_ms() < n->left_ms + grace)
			continue;
		dead = use_lease ? cd_volmgr_host_dead(n->info.id) : -1;
		if (dead > 0) {
			qb_log(LOG_NOTICE, "node %s is dead (its host lease expired or was released): "
					   "its VMs may run elsewhere",
			       n->info.name);
			declare_dead(n->info.id, "lease");
			return;
		}
		if (use_fence && !co.fencing && cd_now_ms() >= co.fence_retry_at && fence(s, n))
			return;
		if (dead < 0 && !co.fencing && co.warned != n->info.id) {
			cd_event("node", n->info.name,
				 "lost with VMs, and neither a shared volume nor a fence device can "
				 "tell it is dead: its VMs stay down until it returns or an admin runs "
				 "'clusterctl node confirm-dead %s'",
				 n->info.name);
			co.warned = n->info.id;
		}
	}
}

static void failover_tick(void *data)
{
	check_lost_nodes();
	qb_loop_timer_add(co.loop, QB_LOOP_HIGH, CD_FAILOVER_TICK_MS * 1000000ull, NULL,
			  failover_tick, &co.failover_timer);
}

void cd_coordinator_state_changed(void)
{
	check_lost_nodes();
	decide();
}

/* Time passes too: failure periods end and failback windows open. */
static void redecide(void *data)
{
	decide();
	qb_loop_timer_add(co.loop, QB_LOOP_LOW, CD_REDECIDE_MS * 1000000ull, NULL, redecide,
			  &co.timer);
}

int cd_coordinator_init(qb_loop_t *loop)
{
	co.loop = loop;
	qb_loop_timer_add(loop, QB_LOOP_HIGH, CD_FAILOVER_TICK_MS * 1000000ull, NULL, failover_tick,
			  &co.failover_timer);
	return qb_loop_timer_add(loop, QB_LOOP_LOW, CD_REDECIDE_MS * 1000000ull, NULL, redecide,
				 &co.timer);
}

int cd_coordinator_explain(const char *name, char *buf, size_t len)
{
	struct cd_policy_input in;
	int rc;

	if (!cd_state_vm(cd_replica_state(), name))
		return CD_ERR_NOT_FOUND;
	rc = cd_coordinator_policy_input(cd_replica_state(), &in);
	if (rc < 0)
		return rc;
	rc = cd_policy_explain(&in, name, buf, len);
	cd_coordinator_policy_input_free(&in);
	return rc;
}
