/*
 * cd_policy_decide(): placement, stops and failback (see policy.h for the
 * rules). The picture of the cluster it works on and the rules a node must
 * pass are in rules.c, which the one-node check of a move (fit.c) shares.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <clusterd/result.h>

#include "policy/policy.h"
#include "policy/rules.h"

struct ord {
	const char *name;
	int prio;
	size_t vm;
};

static int cmp_ord(const void *a, const void *b)
{
	const struct ord *x = a, *y = b;
	int r;

	if (x->prio != y->prio)
		return x->prio < y->prio ? -1 : 1;
	r = strcmp(x->name, y->name);
	if (r)
		return r;
	/* Names are unique; the index only keeps a bad input deterministic. */
	return x->vm < y->vm ? -1 : x->vm > y->vm;
}

static int sort_vms(struct cd_pctx *c)
{
	size_t i, n = c->in->n_vms;
	struct ord *o = malloc((n ? n : 1) * sizeof(*o));

	if (!o)
		return -ENOMEM;
	for (i = 0; i < n; i++)
		o[i] = (struct ord){c->in->vms[i].name, (int)c->in->vms[i].priority, i};
	qsort(o, n, sizeof(*o), cmp_ord);
	for (i = 0; i < n; i++)
		c->order[i] = o[i].vm;
	free(o);
	return 0;
}

/* Make room for n more notes. Returns 0 or -ENOMEM. */
static int reserve_notes(struct cd_pctx *c, size_t n)
{
	struct cd_policy_result *out = c->out;
	struct cd_policy_note *p;
	size_t cap = c->notes_cap * 2;

	if (out->n_notes + n <= c->notes_cap)
		return 0;
	if (cap < out->n_notes + n)
		cap = out->n_notes + n + 1024;
	p = realloc(out->notes, cap * sizeof(*p));
	if (!p)
		return -ENOMEM;
	out->notes = p;
	c->notes_cap = cap;
	return 0;
}

/* Keep the notes of nodes that were not chosen or fit but were avoided. */
static void keep_note(struct cd_pctx *c, size_t v, const struct cd_policy_note *note)
{
	struct cd_policy_vm_result *r = &c->out->vms[v];

	if (note->excl == CD_EXCL_NONE)
		return;
	if (r->n_notes == 0)
		r->notes = c->out->n_notes;
	c->out->notes[c->out->n_notes++] = *note;
	r->n_notes++;
}

static void add_action(struct cd_pctx *c, enum cd_policy_action_type t, size_t v, uint32_t from,
		       uint32_t to, enum cd_policy_unplaced u)
{
	c->out->actions[c->out->n_actions++] = (struct cd_policy_action){t, v, from, to, u};
}

static const enum cd_policy_unplaced excl_unplaced[CD_EXCL__COUNT] = {
	[CD_EXCL_NODE_STATE] = CD_UNPLACED_NO_ONLINE_NODE,
	[CD_EXCL_NOT_POSSIBLE] = CD_UNPLACED_POSSIBLE_OWNERS,
	[CD_EXCL_CPU_MODEL] = CD_UNPLACED_CPU_MODEL,
	[CD_EXCL_FAILURES] = CD_UNPLACED_FAILURES,
	[CD_EXCL_ANTI_HARD] = CD_UNPLACED_ANTI_AFFINITY,
	[CD_EXCL_FEW_CORES] = CD_UNPLACED_CAPACITY,
	[CD_EXCL_MEMORY] = CD_UNPLACED_CAPACITY,
	[CD_EXCL_CORES] = CD_UNPLACED_CAPACITY,
	[CD_EXCL_MEMORY_CORES] = CD_UNPLACED_CAPACITY,
};

static int place(struct cd_pctx *c, size_t v)
{
	struct cd_policy_vm_result *r = &c->out->vms[v];
	struct cd_policy_note notes[CD_POLICY_MAX_NODES];
	uint32_t fits, apart, cand;
	int s, best, furthest;

	if (reserve_notes(c, (size_t)c->n_slots))
		return -ENOMEM;
	fits = cd_pctx_survey(c, v, notes, &apart, &furthest);
	cand = apart ? apart : fits;
	r->soft_shared = fits && !apart;
	for (s = 0; s < c->n_slots; s++)
		if ((fits & ~cand) & (1u << s))
			notes[s].excl = CD_EXCL_ANTI_SOFT;
	for (s = 0; s < c->n_slots; s++)
		keep_note(c, v, &notes[s]);
	if (!cand) {
		r->why = CD_WHY_UNPLACED;
		r->unplaced = excl_unplaced[furthest];
		add_action(c, CD_ACT_UNPLACED, v, 0, 0, r->unplaced);
		return 0;
	}
	best = cd_pctx_choose(c, v, cand, notes, r);
	cd_pctx_occupy(c, v, best);
	r->node = c->slots[best].node->id;
	add_action(c, CD_ACT_START, v, 0, r->node, 0);
	return 0;
}

static bool in_window(int now, unsigned int start, unsigned int end)
{
	if (start <= end)
		return (unsigned int)now >= start && (unsigned int)now < end;
	return (unsigned int)now >= start || (unsigned int)now < end;
}

static enum cd_policy_fb_note failback_allowed(const struct cd_policy_vm *vm, int now)
{
	switch (vm->failback.mode) {
	case CD_PFAILBACK_NEVER:
		return CD_FB_NEVER;
	case CD_PFAILBACK_IMMEDIATELY:
		return CD_FB_NONE;
	case CD_PFAILBACK_WINDOW:
		if (now < 0)
			return CD_FB_NO_TIME;
		return in_window(now, vm->failback.start, vm->failback.end) ? CD_FB_NONE
									    : CD_FB_OUTSIDE;
	case CD_PFAILBACK__COUNT:
		break;
	}
	return CD_FB_NEVER;
}

/*
 * Move a running VM back to a more preferred owner. The source keeps the
 * VM's vCPUs and memory for the rest of this decision: until the migration
 * ends it uses both nodes, and counting it once would let another VM be
 * placed into room that is not free yet.
 */
static int failback(struct cd_pctx *c, size_t v)
{
	const struct cd_policy_vm *vm = &c->in->vms[v];
	struct cd_policy_vm_result *r = &c->out->vms[v];
	uint32_t i, rank = vm->n_preferred;

	for (i = 0; i < vm->n_preferred; i++)
		if (vm->preferred[i] == vm->node)
			rank = i;
	if (rank == 0)
		return 0;
	r->fb = failback_allowed(vm, c->in->now_minute);
	if (r->fb != CD_FB_NONE)
		return 0;
	if (reserve_notes(c, rank))
		return -ENOMEM;
	for (i = 0; i < rank; i++) {
		struct cd_policy_note note;
		int s;

		s = cd_pctx_slot_of(c, vm->preferred[i]);
		note.excl = (uint8_t)cd_pctx_check(c, v, s, &note);
		if (note.excl == CD_EXCL_NONE && cd_pctx_soft_clash(c, v, s))
			note.excl = CD_EXCL_ANTI_SOFT;
		if (note.excl != CD_EXCL_NONE) {
			keep_note(c, v, &note);
			continue;
		}
		cd_pctx_occupy(c, v, s);
		r->why = CD_WHY_FAILBACK;
		r->rank = i + 1;
		r->from = vm->node;
		r->node = c->slots[s].node->id;
		add_action(c, CD_ACT_MIGRATE, v, r->from, r->node, 0);
		return 0;
	}
	r->fb = CD_FB_NO_ROOM;
	return 0;
}

/* Pass 1: what every VM is now; stops; which VMs need a node. */
static void settle(struct cd_pctx *c, size_t v, bool *to_place)
{
	const struct cd_policy_vm *vm = &c->in->vms[v];
	struct cd_policy_vm_result *r = &c->out->vms[v];
	int on = c->facts[v].on;

	*to_place = false;
	if (on >= 0 && cd_pnode_alive(c->slots[on].node->state)) {
		cd_pctx_occupy_held(c, v, on);
		r->node = vm->node;
		if (vm->target == CD_TARGET_STOPPED && vm->state != CD_PVM_STOPPING) {
			r->why = CD_WHY_STOP;
			r->from = vm->node;
			add_action(c, CD_ACT_STOP, v, vm->node, 0, 0);
		} else {
			r->why = vm->state == CD_PVM_RUNNING ? CD_WHY_STAYS : CD_WHY_BUSY;
		}
		return;
	}
	if (on >= 0)
		r->was_on = vm->node;
	if (vm->target == CD_TARGET_STOPPED)
		r->why = CD_WHY_STOPPED;
	else if (vm->priority == CD_PPRIO_NO_AUTO_START && !vm->admin_start)
		r->why = CD_WHY_NO_AUTO_START;
	else
		*to_place = true;
}

static int run(struct cd_pctx *c)
{
	const struct cd_policy_input *in = c->in;
	size_t n = in->n_vms, i, v;
	bool *to_place = NULL;
	int rc;

	c->order = malloc((n ? n : 1) * sizeof(*c->order));
	to_place = malloc(n ? n : 1);
	c->out->vms = calloc(n ? n : 1, sizeof(*c->out->vms));
	c->out->actions = malloc((n ? n : 1) * sizeof(*c->out->actions));
	rc = -ENOMEM;
	if (!c->order || !to_place || !c->out->vms || !c->out->actions)
		goto out_free;
	rc = cd_pctx_prepare(c);
	if (rc == 0)
		rc = sort_vms(c);
	if (rc)
		goto out_free;

	/* Each VM gets at most one action, so n actions always suffice. */
	for (i = 0; i < n; i++)
		settle(c, c->order[i], &to_place[c->order[i]]);
	for (i = 0; i < n && rc == 0; i++)
		if (to_place[c->order[i]])
			rc = place(c, c->order[i]);
	for (i = 0; i < n && rc == 0; i++) {
		v = c->order[i];
		if (c->out->vms[v].why == CD_WHY_STAYS && in->vms[v].target == CD_TARGET_STARTED)
			rc = failback(c, v);
	}
out_free:
	free(to_place);
	return rc;
}

int cd_policy_decide(const struct cd_policy_input *in, struct cd_policy_result *out)
{
	struct cd_pctx c;
	int rc;

	memset(out, 0, sizeof(*out));
	memset(&c, 0, sizeof(c));
	c.in = in;
	c.out = out;
	rc = run(&c);
	cd_pctx_free(&c);
	if (rc) {
		char error[sizeof(out->error)];

		memcpy(error, out->error, sizeof(error));
		cd_policy_result_free(out);
		memcpy(out->error, error, sizeof(error));
	}
	return rc;
}

void cd_policy_result_free(struct cd_policy_result *res)
{
	if (!res)
		return;
	free(res->actions);
	free(res->vms);
	free(res->notes);
	memset(res, 0, sizeof(*res));
}

const struct cd_policy_node *cd_policy_node_by_id(const struct cd_policy_input *in, uint32_t id)
{
	size_t i;

	for (i = 0; i < in->n_nodes; i++)
		if (in->nodes[i].id == id)
			return &in->nodes[i];
	return NULL;
}

const char *cd_policy_node_name(const struct cd_policy_input *in, uint32_t id)
{
	const struct cd_policy_node *n = cd_policy_node_by_id(in, id);

	return n ? n->name : "?";
}
