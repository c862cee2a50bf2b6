#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <qb/qblog.h>

#include <clusterd/result.h>

#include "agents/fence.h"
#include "core/change.h"
#include "clusterd/coordinator_int.h"
#include "clusterd/events.h"
#include "clusterd/membership.h"
#include "core/props.h"
#include "clusterd/replica.h"
#include "clusterd/stats.h"
#include "clusterd/timing.h"
#include "clusterd/volmgr.h"
#include "lib/util.h"

/* Failover: a node left with VMs; are they surely stopped? */

static struct {
	uint32_t dead_inflight; /* node whose node.dead is on its way */
	uint32_t warned;	/* node we said we cannot confirm */
	uint32_t fencing;	/* node being fenced */
	uint64_t fence_retry_at;
} fo;

static bool runs_vms(const struct cd_state *s, uint32_t id)
{
	size_t i;

	/* Its own VMs, and those moving to it: a move's target that is gone ends the move. */
	for (i = 0; i < s->n_vms; i++)
		if (s->vms[i]->node == id ||
		    (s->vms[i]->state == CD_VM_MIGRATING && s->vms[i]->move.target == id))
			return true;
	return false;
}

static void dead_done(void *ctx, int rc, const char *err)
{
	if (rc < 0)
		qb_log(LOG_WARNING, "recording a node's death failed: %s", err);
	fo.dead_inflight = 0;
}

static void declare_dead(uint32_t id, const char *how)
{
	struct json_object *c = json_object_new_object();

	json_object_object_add(c, "op",
			       json_object_new_string(cd_change_name(CD_CHANGE_NODE_DEAD)));
	json_object_object_add(c, "node", json_object_new_int64(id));
	json_object_object_add(c, "how", json_object_new_string(how));
	if (cd_replica_submit(c, dead_done, NULL) == 0)
		fo.dead_inflight = id;
	json_object_put(c);
}

struct fence_call {
	uint32_t node;
	char how[16];
	uint64_t begun_ms; /* monotonic: the metrics' duration */
};

static void fence_done(void *ctx, const struct cd_fence_result *r)
{
	struct fence_call *f = ctx;
	const struct cd_node *n = cd_state_node_by_id(cd_replica_state(), f->node);
	const char *name = n ? n->info.name : "?";

	fo.fencing = 0;
	cd_stats_fence(r->rc == 0, cd_now_ms() - f->begun_ms);
	if (r->rc == 0) {
		cd_event("node", name, "fenced (%s, %d attempt%s)", f->how, r->attempts,
			 r->attempts == 1 ? "" : "s");
		if (n && !n->member && !n->dead &&
		    cd_replica_coordinator() == cd_membership_local_nodeid())
			declare_dead(f->node, f->how);
	} else {
		cd_event("node", name,
			 "fencing with %s FAILED (%s): nothing of it is started; "
			 "retrying in %d s",
			 f->how, cd_strerror(r->rc), CD_FENCE_RETRY_MS / 1000);
		fo.fence_retry_at = cd_now_ms() + CD_FENCE_RETRY_MS;
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
		f->begun_ms = cd_now_ms();
		rc = cd_fence_run(&dev, "off", plug, CD_FENCE_TIMEOUT_MS, CD_FENCE_RETRIES,
				  fence_done, f);
		if (rc < 0) {
			cd_stats_fence_not_run();
			cd_event("node", n->info.name, "cannot run fence device %s: %s", d->name,
				 cd_strerror(rc));
			free(f);
			continue;
		}
		cd_event("node", n->info.name, "fencing with %s (plug %s)", d->name, plug);
		fo.fencing = n->info.id;
		return 1;
	}
	return 0;
}

/*
 * The safety rule: a lost node's VMs are started elsewhere only once the
 * node is known dead. Its csvfs host lease, watched continuously, tells:
 * expired (it stopped renewing, which it does only after killing its VMs or
 * with nothing left to run) or released (it said so). Without a volume, or
 * on a volume it never joined (where nothing of it was ever powered off for
 * a lapse: deadrule.h), a fence device or an admin's confirm-dead is the
 * only way.
 */
void cd_failover_check(void)
{
	const struct cd_state *s = cd_replica_state();
	uint64_t grace = cd_props_get(s, CD_PROPS_FAILOVER_GRACE_MS);
	uint64_t confirm = cd_props_get(s, CD_PROPS_FAILOVER_CONFIRM);
	bool use_lease = confirm & CD_CONFIRM_LEASE;
	bool use_fence = confirm & CD_CONFIRM_FENCE;
	size_t i;

	if (cd_replica_coordinator() != cd_membership_local_nodeid() || fo.dead_inflight)
		return;
	for (i = 0; i < s->n_nodes; i++) {
		const struct cd_node *n = &s->nodes[i];
		int dead;

		/*
		 * A node corosync still lists is not lost, unless the sync
		 * round left it out: then it has left for the others.
		 */
		if (n->member || n->dead ||
		    (cd_membership_is_member(n->info.id) &&
		     !cd_replica_node_left_out(n->info.id)) ||
		    !runs_vms(s, n->info.id))
			continue;
		/* A short blip must not move VMs: wait out the grace period first. */
		if (grace && cd_wall_ms() < n->left_ms + grace)
			continue;
		dead = use_lease ? cd_volmgr_host_dead(n->info.id) : -1;
		if (dead > 0) {
			qb_log(LOG_NOTICE,
			       "node %s is dead (its host lease expired or was released): "
			       "its VMs may run elsewhere",
			       n->info.name);
			declare_dead(n->info.id, "lease");
			return;
		}
		if (use_fence && !fo.fencing && cd_now_ms() >= fo.fence_retry_at && fence(s, n))
			return;
		if (dead < 0 && !fo.fencing && fo.warned != n->info.id) {
			cd_event(
				"node", n->info.name,
				"lost with VMs, and neither a shared volume nor a fence device can "
				"tell it is dead: its VMs stay down until it returns or an admin runs "
				"'clusterctl node confirm-dead %s'",
				n->info.name);
			fo.warned = n->info.id;
		}
	}
}
