/*
 * Stopping clusterd on a node (shutdown.h). shutdown-policy says what
 * comes before the power-off of what still runs on the node:
 *
 *   drain  the node is drained (live, then quick, then cold moves) for at
 *          most shutdown_drain_timeout_ms;
 *   save   the same drain, its ladder starting at quick (each VM saved to
 *          a shared volume and restored on another node); what is still
 *          here when it ends is saved in place (vm stop --save, still
 *          wanted running), to be restored where the cluster places it
 *          once a node can take it (when the whole cluster comes back);
 *   stop   nothing.
 *
 * The drain pauses the node (maintenance, set by node.drain and cleared
 * only by node.resume or node maintenance off), so the policy puts
 * nothing back on it while it stops, the VMs it saves included. The drain
 * is recorded as the shutdown's (on_shutdown), and the node's next
 * clusterd resumes it once it joined a quorate cluster.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <qb/qblog.h>

#include <clusterd/result.h>

#include "clusterd/conf.h"
#include "clusterd/events.h"
#include "clusterd/membership.h"
#include "clusterd/replica.h"
#include "clusterd/shutdown.h"
#include "core/change.h"
#include "core/drain.h"
#include "core/props.h"
#include "core/state.h"
#include "lib/jsonget.h"
#include "lib/looptimer.h"
#include "lib/util.h"

/* The saves in place get at least this long, whatever the drain left of its time. */
#define SAVE_MIN_MS 60000u
#define POLL_NS (500 * 1000000ull)

/* A VM saved in place, until it no longer runs here (saved) or its save failed. */
struct saving {
	char name[64];
	bool asked;   /* its stop is in the state */
	bool refused; /* the cluster refused its stop */
};

static struct {
	qb_loop_t *loop;
	void (*then)(void);
	enum cd_shutdown_policy policy;
	qb_loop_timer_handle timer;
	uint64_t deadline;
	bool begun; /* the node's drain is in the state */
	struct saving *saves;
	size_t n_saves;
	bool resume_decided; /* start-up: the node's last drain was looked at */
} sd;

static const struct cd_node *self(void)
{
	return cd_state_node_by_id(cd_replica_state(), cd_membership_local_nodeid());
}

static bool vms_here(void)
{
	const struct cd_state *s = cd_replica_state();
	uint32_t me = cd_membership_local_nodeid();
	size_t i;

	for (i = 0; i < s->n_vms; i++)
		if (cd_drain_vm_on(s->vms[i], me))
			return true;
	return false;
}

static void poll_again(void (*fn)(void *data))
{
	cd_timer_add(sd.loop, QB_LOOP_LOW, POLL_NS, NULL, fn, &sd.timer);
}

/* --- shutdown-policy save: what the drain left is saved in place --- */

static void save_begun(void *ctx, int rc, const char *err)
{
	struct saving *sv = ctx;

	sv->asked = rc == 0;
	sv->refused = rc < 0;
	if (rc < 0)
		qb_log(LOG_WARNING, "shutdown: the save of %s was refused: %s", sv->name, err);
}

/* vm stop --save of vm, wanted running still: 0 if asked for. */
static int save_one(const struct cd_vm *vm, struct saving *sv)
{
	struct json_object *c = json_object_new_object();
	char err[256] = "";
	int rc;

	json_object_object_add(c, "op", json_object_new_string(cd_change_name(CD_CHANGE_VM_STOP)));
	json_object_object_add(c, "name", json_object_new_string(vm->name));
	rc = cd_vm_save_args(cd_replica_state(), vm, cd_config_str(CD_CFG_CSVFS_RUN_DIR), true, c,
			     err, sizeof(err));
	if (rc == 0) {
		cd_strlcpy(sv->name, vm->name, sizeof(sv->name));
		rc = cd_replica_submit(c, save_begun, sv);
	}
	if (rc < 0)
		qb_log(LOG_WARNING, "shutdown: cannot save %s here: %s", vm->name,
		       err[0] ? err : cd_strerror(rc));
	else
		cd_event("vm", vm->name,
			 "clusterd stopping: saving VM %s into %s/%s; it is restored where the "
			 "cluster places it",
			 vm->name, cd_jget_str(c, "state_volume"), cd_jget_str(c, "state_file"));
	json_object_put(c);
	return rc;
}

/* Saved (it no longer runs here), or its save is refused or failed (it runs on). */
static bool save_over(const struct saving *sv)
{
	const struct cd_vm *vm = cd_state_vm(cd_replica_state(), sv->name);

	return sv->refused || !vm || !cd_drain_vm_on(vm, cd_membership_local_nodeid()) ||
	       (sv->asked && vm->state == CD_VM_RUNNING);
}

static void save_wait(void *data)
{
	size_t i, left = 0;

	for (i = 0; i < sd.n_saves; i++)
		if (!save_over(&sd.saves[i]))
			left++;
	if (left == 0 || !cd_replica_quorate() || cd_now_ms() >= sd.deadline) {
		qb_log(LOG_NOTICE, "shutdown save: %s",
		       left == 0	      ? "every save is over"
		       : cd_replica_quorate() ? "not over in time"
					      : "quorum lost");
		sd.then();
		return;
	}
	poll_again(save_wait);
}

/*
 * The drain is over (or time is up): what still runs here is saved in
 * place. Whether a save was asked for, and is now waited for. Without
 * quorum, a shared volume or the node paused (it could be given the VMs
 * back), they are powered off instead, as with shutdown-policy drain.
 */
static bool save_in_place(void)
{
	const struct cd_state *s = cd_replica_state();
	const struct cd_node *n = self();
	uint32_t me = cd_membership_local_nodeid();
	const char *why = NULL, *want = cd_props_get_name(s, CD_PROPS_STATE_VOLUME);
	size_t i;

	if (!vms_here())
		return false;
	if (!cd_replica_quorate())
		why = "no quorum";
	else if (s->n_volumes == 0)
		why = "no shared volume for their state files";
	else if (want && !cd_state_volume(s, want))
		why = "no volume as the cluster property state-volume names ('clusterctl property "
		      "set state-volume none', or volume add)";
	else if (!n || !n->maintenance)
		why = "the node is not paused, so it could be given them back";
	if (why) {
		qb_log(LOG_WARNING, "shutdown-policy save: %s: powering off the VMs here instead",
		       why);
		return false;
	}
	/* Never freed before cd_shutdown_fini(): each submit's callback holds its entry. */
	sd.saves = calloc(s->n_vms, sizeof(*sd.saves));
	if (!sd.saves)
		return false;
	for (i = 0; i < s->n_vms; i++)
		if (s->vms[i]->state == CD_VM_RUNNING && s->vms[i]->node == me &&
		    save_one(s->vms[i], &sd.saves[sd.n_saves]) == 0)
			sd.n_saves++;
	if (sd.n_saves == 0)
		return false;
	if (sd.deadline < cd_now_ms() + SAVE_MIN_MS)
		sd.deadline = cd_now_ms() + SAVE_MIN_MS;
	poll_again(save_wait);
	return true;
}

/* --- the node's drain --- */

/* Until the drain is over, nothing runs here, quorum is lost or time is up. */
static void drain_wait(void *data)
{
	const struct cd_node *n = self();
	bool over = sd.begun && (!n || n->drain.state != CD_DRAIN_RUNNING);

	if (over || !vms_here() || !cd_replica_quorate() || cd_now_ms() >= sd.deadline) {
		if (n && sd.begun)
			qb_log(LOG_NOTICE, "shutdown drain: %s%s%s",
			       over	    ? cd_drain_state_to_str(n->drain.state)
			       : vms_here() ? "not over in time, or quorum lost"
					    : "nothing runs here",
			       n->drain.why[0] ? ": " : "", n->drain.why);
		if (sd.policy != CD_SHUTDOWN_SAVE || !save_in_place())
			sd.then();
		return;
	}
	poll_again(drain_wait);
}

static void drain_begun(void *ctx, int rc, const char *err)
{
	if (rc < 0 && rc != CD_ERR_EXISTS) {
		qb_log(LOG_WARNING, "shutdown drain refused: %s", err);
		sd.deadline = 0;
	}
	sd.begun = true;
}

/* Not without quorum or VMs here, nor with shutdown_drain_timeout_ms 0. */
bool cd_shutdown_begin(qb_loop_t *loop, void (*then)(void))
{
	const struct cd_state *s = cd_replica_state();
	const struct cd_node *n = self();
	uint64_t timeout = cd_config_uint(CD_CFG_SHUTDOWN_DRAIN_TIMEOUT_MS);
	bool save;
	struct json_object *c;

	sd.loop = loop;
	sd.then = then;
	sd.policy = (enum cd_shutdown_policy)cd_props_get(s, CD_PROPS_SHUTDOWN_POLICY);
	save = sd.policy == CD_SHUTDOWN_SAVE;
	if (sd.policy == CD_SHUTDOWN_STOP || !n || !cd_replica_quorate() || !vms_here() ||
	    timeout == 0) {
		if (save && vms_here())
			qb_log(LOG_WARNING,
			       "shutdown-policy save: %s: powering off the VMs here instead",
			       !cd_replica_quorate() ? "no quorum"
			       : timeout == 0	     ? "shutdown_drain_timeout_ms is 0"
						     : "this node is not in the state");
		return false;
	}
	sd.deadline = cd_now_ms() + timeout;
	/* A node paused already (an admin's drain left VMs here) stays paused after the stop. */
	c = n->maintenance ? cd_node_drain_change(n->info.name, save ? CD_MOVE_QUICK : CD_MOVE_LIVE,
						  cd_wall_ms())
			   : cd_node_shutdown_drain_change(n->info.name,
							   save ? CD_MOVE_QUICK : CD_MOVE_LIVE,
							   cd_wall_ms());
	if (cd_replica_submit(c, drain_begun, NULL) < 0) {
		json_object_put(c);
		return false;
	}
	json_object_put(c);
	if (save)
		cd_event("node", "self",
			 "clusterd stopping: quick-moving the VMs of this node (at most %llu s)",
			 (unsigned long long)timeout / 1000);
	else
		cd_event("node", "self",
			 "clusterd stopping: draining this node first (at most %llu s)",
			 (unsigned long long)timeout / 1000);
	poll_again(drain_wait);
	return true;
}

/* --- start-up: the node back from its shutdown drain --- */

static void resumed(void *ctx, int rc, const char *err)
{
	if (rc < 0)
		qb_log(LOG_WARNING, "resuming this node after its shutdown drain: refused: %s",
		       err);
}

/*
 * Called after every batch of changes, the least invasive point that sees
 * both: cd_replica_quorate() holds only once a sync round finished in a
 * quorate partition, so the state is the cluster's newest by then (the one
 * loaded from disk may be stale) and lists this node as a member; no timer
 * or hook into the replica is needed. It decides once, at the first such
 * batch: a drain an admin began (on_shutdown false) is left to the admin.
 */
void cd_shutdown_state_changed(bool stopping)
{
	const struct cd_node *n;
	struct json_object *c;

	if (stopping || sd.resume_decided || !cd_replica_quorate())
		return;
	n = self();
	if (!n || !n->member)
		return;
	sd.resume_decided = true;
	if (!n->drain.on_shutdown)
		return;
	c = cd_node_change(CD_CHANGE_NODE_RESUME, n->info.name, cd_wall_ms());
	json_object_object_add(c, "failback",
			       json_object_new_string(cd_resume_failback_to_str(CD_RESUME_POLICY)));
	if (cd_replica_submit(c, resumed, NULL) < 0)
		sd.resume_decided = false; /* not sent: asked again after the next changes */
	else
		cd_event("node", "self",
			 "clusterd started: resuming this node after its shutdown drain");
	json_object_put(c);
}

void cd_shutdown_fini(void)
{
	free(sd.saves);
	sd.saves = NULL;
	sd.n_saves = 0;
}
