#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <qb/qblog.h>

#include <clusterd/result.h>

#include "clusterd/conf.h"
#include "core/change.h"
#include "clusterd/coordinator.h"
#include "clusterd/coordinator_int.h"
#include "clusterd/membership.h"
#include "core/policy_adapter.h"
#include "clusterd/replica.h"
#include "clusterd/timing.h"
#include "lib/util.h"

/* A VM the policy moved lately: not moved by it again before `until`. */
struct policy_move {
	char name[64];
	uint64_t until;
};

static struct {
	/* VMs whose placement is on its way through the cluster. */
	char (*inflight)[64];
	size_t n_inflight;
	uint64_t backoff_until; /* no placements before (after a refusal) */
	struct policy_move *moves;
	size_t n_moves;
} pl;

static bool inflight(const char *name)
{
	size_t i;

	for (i = 0; i < pl.n_inflight; i++)
		if (strcmp(pl.inflight[i], name) == 0)
			return true;
	return false;
}

static void inflight_remove(const char *name)
{
	size_t i;

	for (i = 0; i < pl.n_inflight; i++)
		if (strcmp(pl.inflight[i], name) == 0) {
			memmove(&pl.inflight[i], &pl.inflight[i + 1],
				(pl.n_inflight - i - 1) * sizeof(*pl.inflight));
			pl.n_inflight--;
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
		pl.backoff_until = cd_now_ms() + CD_PLACE_BACKOFF_MS;
	}
	inflight_remove(name);
	free(name);
}

static void place(const char *vm, uint32_t node, const char *why)
{
	struct json_object *c;
	char(*n)[64];
	char *ctx;
	int rc;

	if (inflight(vm))
		return;
	n = realloc(pl.inflight, (pl.n_inflight + 1) * sizeof(*n));
	ctx = strdup(vm);
	if (!n || !ctx) {
		if (n)
			pl.inflight = n;
		free(ctx);
		return;
	}
	pl.inflight = n;
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
	cd_strlcpy(pl.inflight[pl.n_inflight++], vm, 64);
	qb_log(LOG_NOTICE, "vm %s: placing on node %u: %s", vm, node, why);
}

/* The policy's own moves: one VM at most once per CD_POLICY_MOVE_PAUSE_MS. */
static bool move_paused(const char *vm, uint64_t now)
{
	size_t i;

	for (i = 0; i < pl.n_moves;) {
		if (pl.moves[i].until <= now) {
			pl.moves[i] = pl.moves[--pl.n_moves];
			continue;
		}
		if (strcmp(pl.moves[i].name, vm) == 0)
			return true;
		i++;
	}
	return false;
}

static void move_done(void *ctx, int rc, const char *err)
{
	char *name = ctx;

	if (rc < 0)
		qb_log(LOG_WARNING, "vm %s: the policy's move refused: %s", name, err);
	free(name);
}

/* Whether a move between from and to (either way) is under way already. */
static bool pair_busy(const struct cd_state *s, uint32_t from, uint32_t to)
{
	size_t i;

	for (i = 0; i < s->n_vms; i++) {
		const struct cd_vm *v = s->vms[i];

		if (v->state == CD_VM_MIGRATING &&
		    ((v->move.source == from && v->move.target == to) ||
		     (v->move.source == to && v->move.target == from)))
			return true;
	}
	return false;
}

/*
 * The policy moves a running VM (failback to a more preferred owner): as
 * the VM's move mode says, one move at a time per pair of nodes, and the
 * same VM at most once per CD_POLICY_MOVE_PAUSE_MS, so that a move that
 * fails is not tried again in a loop.
 */
static void policy_move(const struct cd_vm *vm, uint32_t from, uint32_t to, const char *why)
{
	const struct cd_state *s = cd_replica_state();
	uint64_t now = cd_now_ms();
	struct policy_move *m;
	struct json_object *c;
	char *ctx, err[256];

	if (move_paused(vm->name, now) || pair_busy(s, from, to))
		return;
	m = realloc(pl.moves, (pl.n_moves + 1) * sizeof(*m));
	ctx = strdup(vm->name);
	if (!m || !ctx) {
		if (m)
			pl.moves = m;
		free(ctx);
		return;
	}
	pl.moves = m;
	cd_strlcpy(m[pl.n_moves].name, vm->name, sizeof(m->name));
	m[pl.n_moves++].until = now + CD_POLICY_MOVE_PAUSE_MS;
	c = cd_vm_move_change(s, vm, to, vm->move_mode, cd_config_str(CD_CFG_CSVFS_RUN_DIR),
			      cd_wall_ms(), err, sizeof(err));
	if (!c) {
		qb_log(LOG_WARNING, "vm %s: the policy cannot move it: %s", vm->name, err);
		free(ctx);
		return;
	}
	if (cd_replica_submit(c, move_done, ctx) < 0)
		free(ctx);
	else
		qb_log(LOG_NOTICE, "vm %s: moving %s from node %u to node %u: %s", vm->name,
		       cd_move_mode_to_str(vm->move_mode), from, to, why);
	json_object_put(c);
}

void cd_placement_decide(void)
{
	const struct cd_state *s = cd_replica_state();
	struct cd_policy_input in;
	struct cd_policy_result res;
	char why[512];
	size_t i;
	int rc;

	if (cd_replica_coordinator() != cd_membership_local_nodeid() || s->n_vms == 0 ||
	    cd_now_ms() < pl.backoff_until)
		return;
	if (cd_policy_adapter_input(s, &in) < 0)
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
		case CD_ACT_MIGRATE: {
			const struct cd_vm *vm = cd_state_vm(s, in.vms[a->vm].name);

			if (vm && vm->state == CD_VM_RUNNING && vm->node == a->from) {
				cd_policy_explain_vm(&in, &res, a->vm, why, sizeof(why));
				policy_move(vm, a->from, a->to, why);
			}
			break;
		}
		case CD_ACT_STOP:
		case CD_ACT_UNPLACED:
		case CD_ACT__COUNT:
			/*
			 * Stops are carried out from vm.stop itself; unplaced
			 * VMs are explained on request.
			 */
			break;
		}
	}
out:
	cd_policy_result_free(&res);
	cd_policy_adapter_input_free(&in);
}

/* After the loop stopped: no placement's done() comes any more. */
void cd_placement_fini(void)
{
	free(pl.inflight);
	pl.inflight = NULL;
	pl.n_inflight = 0;
	free(pl.moves);
	pl.moves = NULL;
	pl.n_moves = 0;
}

int cd_coordinator_explain(const char *name, bool start, char *buf, size_t len)
{
	struct cd_policy_input in;
	int rc;

	if (!cd_state_vm(cd_replica_state(), name))
		return CD_ERR_NOT_FOUND;
	rc = cd_policy_adapter_input(cd_replica_state(), &in);
	if (rc < 0)
		return rc;
	rc = start ? cd_policy_explain_start(&in, name, buf, len)
		   : cd_policy_explain(&in, name, buf, len);
	cd_policy_adapter_input_free(&in);
	return rc;
}
