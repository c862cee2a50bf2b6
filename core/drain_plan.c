/*
 * A drain's plan (drain_plan.h). Pure: the state and the policy only.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <clusterd/result.h>

#include "core/drain_plan.h"
#include "core/policy_adapter.h"
#include "core/props.h"
#include "core/state.h"
#include "core/vm_internal.h"
#include "lib/fsm.h"
#include "lib/util.h"
#include "policy/policy.h"

#define FAIL CD_FAIL

static const char *const dvm_names[] = {
	[CD_DVM_WAITING] = "waiting", [CD_DVM_MOVING] = "moving", [CD_DVM_MOVED] = "moved",
	[CD_DVM_BLOCKED] = "blocked", [CD_DVM_FAILED] = "failed",
};

const char *cd_drain_vm_state_to_str(enum cd_drain_vm_state s)
{
	return cd_fsm_name(dvm_names, N_OF(dvm_names), (int)s);
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

uint32_t cd_drain_measured_mib_s(const struct cd_state *s)
{
	uint32_t *r = malloc((s->n_vms + 1) * sizeof(*r)), m;
	size_t i, n = 0;

	if (!r)
		return 0;
	for (i = 0; i < s->n_vms; i++) {
		const struct cd_vm *v = s->vms[i];
		const struct cd_vm_last_move *l = &v->last_move;

		if (l->outcome == CD_MOVE_OUT_MOVED && l->rate_mib_s)
			r[n++] = (uint32_t)l->rate_mib_s;
	}
	qsort(r, n, sizeof(*r), cmp_u32);
	m = n ? r[n / 2] : 0;
	free(r);
	return m;
}

static uint32_t max_parallel(const struct cd_state *s)
{
	return (uint32_t)cd_props_get(s, CD_PROPS_DRAIN_MAX_PARALLEL);
}

static int prio_cmp(const void *a, const void *b)
{
	const struct cd_drain_plan_vm *x = a, *y = b;

	if (x->priority != y->priority)
		return x->priority < y->priority ? -1 : 1;
	return strcmp(x->vm, y->vm);
}

/* The dirty rate the plan counts for v: its last live copy's, or assumed; at least the floor. */
static void dirty_rate(const struct cd_vm *v, struct cd_drain_plan_vm *p)
{
	const struct cd_vm_last_move *l = &v->last_move;
	uint64_t r = l->dirty_measured ? l->dirty_mib_s : CD_DRAIN_DIRTY_MIB_S;

	p->dirty_measured = l->dirty_measured;
	p->dirty_mib_s = r < CD_DRAIN_DIRTY_MIN_MIB_S ? CD_DRAIN_DIRTY_MIN_MIB_S
			 : r > UINT32_MAX	      ? UINT32_MAX
						      : (uint32_t)r;
}

/* What a VM of the node is to the drain, before targets are known. */
static void vm_view(const struct cd_drain *d, uint32_t node, const struct cd_vm *v,
		    struct cd_drain_plan_vm *p)
{
	struct cd_drain_next nx;

	cd_strlcpy(p->vm, v->name, sizeof(p->vm));
	p->priority = v->priority;
	p->vcpus = v->vcpus;
	p->memory_mb = v->memory_mb;
	dirty_rate(v, p);
	if (!cd_drain_vm_on(v, node)) {
		p->state = CD_DVM_MOVED;
		p->target = v->node;
		p->method = v->drain.rung;
		p->tries = v->drain.tries;
		return;
	}
	if (v->state == CD_VM_MIGRATING || (v->state == CD_VM_STOPPING && v->cold_to)) {
		p->state = CD_DVM_MOVING;
		p->target = v->state == CD_VM_MIGRATING ? v->move.target : v->cold_to;
		p->method = v->state == CD_VM_MIGRATING ? v->move.mode : CD_MOVE_COLD;
		p->tries = v->drain.job == d->id && d->id ? v->drain.tries : 1;
		if (v->drain.job == d->id && d->id)
			cd_strlcpy(p->why, v->drain.why, sizeof(p->why));
		else if (p->target == node)
			cd_strlcpy(p->why,
				   "moving in (begun before the drain): called off, or moved "
				   "away once it landed",
				   sizeof(p->why));
		return;
	}
	if (v->state == CD_VM_FAILED) {
		p->state = CD_DVM_FAILED;
		snprintf(p->why, sizeof(p->why), "its stop failed here: %.200s", v->last_error);
		return;
	}
	if (v->state != CD_VM_RUNNING) {
		/* Starting or stopping here: it is looked at again once it runs or stopped. */
		p->state = CD_DVM_MOVING;
		cd_strlcpy(p->why, cd_vm_state_to_str(v->state), sizeof(p->why));
		return;
	}
	cd_drain_next(d, v, &nx);
	p->method = nx.mode;
	p->tries = nx.tries;
	cd_strlcpy(p->why, nx.why, sizeof(p->why));
	p->state = nx.step == CD_DRAIN_STUCK ? CD_DVM_BLOCKED : CD_DVM_WAITING;
}

/*
 * Targets: the policy places the VMs still to move as if they ran
 * nowhere, with node taking none.
 */
static int targets(const struct cd_state *s, uint32_t node, struct cd_drain_plan *p, char *err,
		   size_t errlen)
{
	struct cd_policy_input in;
	struct cd_policy_result res;
	size_t i, k;
	int rc = cd_policy_adapter_input(s, &in);

	if (rc < 0)
		FAIL(rc, "out of memory");
	for (i = 0; i < in.n_nodes; i++)
		if (in.nodes[i].id == node)
			((struct cd_policy_node *)in.nodes)[i].state = CD_PNODE_MAINTENANCE;
	for (i = 0; i < in.n_vms; i++) {
		struct cd_policy_vm *pv = (struct cd_policy_vm *)&in.vms[i];

		for (k = 0; k < p->n_vms; k++)
			if (p->vms[k].state == CD_DVM_WAITING &&
			    strcmp(p->vms[k].vm, pv->name) == 0)
				break;
		if (k == p->n_vms)
			continue;
		pv->state = CD_PVM_STOPPED;
		pv->node = 0;
		pv->move_to = 0;
		pv->target = CD_TARGET_STARTED;
		pv->admin_start = true;
		pv->failures = 0;
		pv->failed_on = 0;
	}
	memset(&res, 0, sizeof(res));
	rc = cd_policy_decide(&in, &res);
	if (rc < 0) {
		snprintf(err, errlen, "the policy refused the state: %s", res.error);
		goto out;
	}
	for (i = 0; i < res.n_actions; i++) {
		const struct cd_policy_action *a = &res.actions[i];

		if (a->type != CD_ACT_START && a->type != CD_ACT_UNPLACED)
			continue;
		for (k = 0; k < p->n_vms; k++) {
			struct cd_drain_plan_vm *pv = &p->vms[k];

			if (pv->state != CD_DVM_WAITING || strcmp(pv->vm, in.vms[a->vm].name) != 0)
				continue;
			if (a->type == CD_ACT_START) {
				pv->target = a->to;
			} else {
				char why[CD_DRAIN_WHY_MAX + 1];

				cd_policy_explain_vm(&in, &res, a->vm, why, sizeof(why));
				snprintf(pv->why, sizeof(pv->why), "fits nowhere: %.230s", why);
				pv->state = CD_DVM_BLOCKED;
			}
		}
	}
out:
	cd_policy_result_free(&res);
	cd_policy_adapter_input_free(&in);
	return rc;
}

static uint32_t expected_s(const struct cd_drain_plan_vm *v, uint32_t share_mib_s)
{
	uint64_t copy = share_mib_s ? v->memory_mb / share_mib_s : 0;

	switch (v->method) {
	case CD_MOVE_LIVE:
		return (uint32_t)(copy + copy / 4 + 5);
	case CD_MOVE_QUICK:
		return (uint32_t)(2 * copy + 5);
	case CD_MOVE_COLD:
		break;
	}
	return CD_DRAIN_COLD_S;
}

/* Parallel lanes, each VM to the least loaded one: the whole drain's time. */
static void schedule(struct cd_drain_plan *p)
{
	uint32_t lane[64] = {0}, worst = 0;
	uint32_t share = p->bandwidth_mib_s / p->parallel;
	size_t i, k, best;

	for (i = 0; i < p->n_vms; i++) {
		struct cd_drain_plan_vm *v = &p->vms[i];

		if (v->state != CD_DVM_WAITING && v->state != CD_DVM_MOVING)
			continue;
		v->expected_s = expected_s(v, share ? share : 1);
		for (best = 0, k = 1; k < p->parallel; k++)
			if (lane[k] < lane[best])
				best = k;
		/* A move under way is half done, on average. */
		lane[best] += v->state == CD_DVM_MOVING ? v->expected_s / 2 : v->expected_s;
	}
	for (k = 0; k < p->parallel; k++)
		if (lane[k] > worst)
			worst = lane[k];
	p->eta_s = worst;
}

/* Whether v's dirty rate binds before the one best: it is larger, or as large and measured. */
static bool dirtier(const struct cd_drain_plan_vm *v, const struct cd_drain_plan_vm *best)
{
	return !best || v->dirty_mib_s > best->dirty_mib_s ||
	       (v->dirty_mib_s == best->dirty_mib_s && v->dirty_measured && !best->dirty_measured);
}

/*
 * How many moves at once (drain_plan.h): the bandwidth over the margin
 * times the largest dirty rate of the VMs still to move (waiting or
 * moving), named when some VM's rate was measured.
 */
static void pace(const struct cd_state *s, struct cd_drain_plan *p)
{
	const struct cd_drain_plan_vm *best = NULL;
	bool any_measured = false;
	uint64_t fit;
	size_t i;

	p->bandwidth_mib_s = cd_drain_measured_mib_s(s);
	p->bandwidth_measured = p->bandwidth_mib_s != 0;
	if (!p->bandwidth_measured)
		p->bandwidth_mib_s = CD_DRAIN_ASSUMED_MIB_S;
	for (i = 0; i < p->n_vms; i++) {
		const struct cd_drain_plan_vm *v = &p->vms[i];

		if (v->state != CD_DVM_WAITING && v->state != CD_DVM_MOVING)
			continue;
		any_measured |= v->dirty_measured;
		if (dirtier(v, best))
			best = v;
	}
	p->dirty_mib_s = best ? best->dirty_mib_s : CD_DRAIN_DIRTY_MIB_S;
	p->dirty_measured = best && best->dirty_measured;
	if (best && any_measured)
		cd_strlcpy(p->dirty_vm, best->vm, sizeof(p->dirty_vm));
	fit = p->bandwidth_mib_s / ((uint64_t)CD_DRAIN_MARGIN * p->dirty_mib_s);
	p->parallel = fit < 1 ? 1 : fit > max_parallel(s) ? max_parallel(s) : (uint32_t)fit;
}

int cd_drain_plan(const struct cd_state *s, uint32_t node, const struct cd_drain *d,
		  struct cd_drain_plan *out, char *err, size_t errlen)
{
	size_t i;
	int rc;

	memset(out, 0, sizeof(*out));
	out->vms = calloc(s->n_vms + 1, sizeof(*out->vms));
	if (!out->vms)
		FAIL(-ENOMEM, "out of memory");
	for (i = 0; i < s->n_vms; i++) {
		const struct cd_vm *v = s->vms[i];

		if (cd_drain_vm_on(v, node) || (d->id && v->drain.job == d->id))
			vm_view(d, node, v, &out->vms[out->n_vms++]);
	}
	qsort(out->vms, out->n_vms, sizeof(*out->vms), prio_cmp);
	rc = targets(s, node, out, err, errlen);
	if (rc < 0) {
		cd_drain_plan_free(out);
		return rc;
	}
	for (i = 0; i < out->n_vms; i++)
		if (out->vms[i].state == CD_DVM_WAITING && !out->vms[i].target) {
			out->vms[i].state = CD_DVM_BLOCKED;
			cd_strlcpy(out->vms[i].why, "the policy places it nowhere",
				   sizeof(out->vms[i].why));
		}
	pace(s, out);
	for (i = 0; i < out->n_vms; i++) {
		out->blocked |= out->vms[i].state == CD_DVM_BLOCKED;
		out->n_waiting += out->vms[i].state == CD_DVM_WAITING;
		out->n_moving += out->vms[i].state == CD_DVM_MOVING;
	}
	schedule(out);
	return 0;
}

void cd_drain_plan_free(struct cd_drain_plan *p)
{
	free(p->vms);
	memset(p, 0, sizeof(*p));
}
