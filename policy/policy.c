/*
 * cd_policy_decide(): placement, stops and failback (see policy.h for the
 * rules).
 *
 * It has to stay fast at 32 nodes and 10,000 VMs, so nothing here is
 * O(VMs x VMs): per-node running totals (cores, memory) and per-class,
 * per-node VM counts answer "does it fit" in constant time, and the strings
 * VMs share (CPU models, anti-affinity classes) are turned into small
 * integers once, by sorting, instead of being compared for every node.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <clusterd/result.h>

#include "policy/policy.h"

#define NONE_ID UINT32_MAX
#define NO_SLOT (-1)

/* One node while deciding. Slots are sorted by node id for the tie-break. */
struct slot {
	const struct cd_policy_node *node;
	size_t idx; /* into in->nodes */
	uint64_t used_memory;
	uint64_t used_cores;
};

/* What decide works out about one VM before placing anything. */
struct vm_facts {
	uint32_t possible; /* slot mask */
	uint32_t cpu;	   /* slot mask of nodes that support its CPU model */
	uint32_t cls;	   /* anti-affinity class id or NONE_ID */
	int on;		   /* slot it occupies, or NO_SLOT */
	int failed;	   /* slot where it reached its failure limit, or NO_SLOT */
};

struct ctx {
	const struct cd_policy_input *in;
	struct cd_policy_result *out;
	struct slot slots[CD_POLICY_MAX_NODES];
	int n_slots;
	struct vm_facts *facts;
	uint32_t *class_count; /* [class * n_slots + slot] */
	size_t *order;	       /* VM indices: priority, then name */
	size_t notes_cap;
};

static int invalid(struct ctx *c, const char *what, const char *name)
{
	snprintf(c->out->error, sizeof(c->out->error), "%s: %s", name, what);
	return CD_ERR_INVALID;
}

static int cmp_slot(const void *a, const void *b)
{
	uint32_t x = ((const struct slot *)a)->node->id, y = ((const struct slot *)b)->node->id;

	return x < y ? -1 : x > y;
}

static int setup_slots(struct ctx *c)
{
	const struct cd_policy_input *in = c->in;
	int i;

	if (in->n_nodes > CD_POLICY_MAX_NODES)
		return invalid(c, "too many nodes", "input");
	c->n_slots = (int)in->n_nodes;
	for (i = 0; i < c->n_slots; i++) {
		c->slots[i].node = &in->nodes[i];
		c->slots[i].idx = (size_t)i;
		if (in->nodes[i].id == 0)
			return invalid(c, "node id 0 is reserved", in->nodes[i].name);
	}
	qsort(c->slots, (size_t)c->n_slots, sizeof(c->slots[0]), cmp_slot);
	for (i = 1; i < c->n_slots; i++)
		if (c->slots[i].node->id == c->slots[i - 1].node->id)
			return invalid(c, "duplicate node id", c->slots[i].node->name);
	return 0;
}

/* The slot of node id, NO_SLOT for id 0, or -2 for an unknown id. */
static int slot_of(const struct ctx *c, uint32_t id)
{
	int lo = 0, hi = c->n_slots;

	if (id == 0)
		return NO_SLOT;
	while (lo < hi) {
		int mid = (lo + hi) / 2;

		if (c->slots[mid].node->id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < c->n_slots && c->slots[lo].node->id == id ? lo : -2;
}

static int ids_to_mask(struct ctx *c, const struct cd_policy_vm *vm, const uint32_t *ids,
		       uint32_t n, uint32_t *mask)
{
	uint32_t i;
	int s;

	if (n > CD_POLICY_MAX_NODES)
		return invalid(c, "too many nodes listed", vm->name);
	*mask = 0;
	for (i = 0; i < n; i++) {
		s = slot_of(c, ids[i]);
		if (s < 0)
			return invalid(c, "lists an unknown node id", vm->name);
		*mask |= 1u << s;
	}
	return 0;
}

static bool node_alive(enum cd_policy_node_state s)
{
	switch (s) {
	case CD_PNODE_ONLINE:
	case CD_PNODE_MAINTENANCE:
	case CD_PNODE_QUARANTINED:
		return true;
	case CD_PNODE_OFFLINE:
	case CD_PNODE_FENCED:
	case CD_PNODE_LOST:
	case CD_PNODE__COUNT:
		break;
	}
	return false;
}

/* Whether a VM in state s holds cores and memory on its node. */
static bool holds_node(enum cd_policy_vm_state s)
{
	switch (s) {
	case CD_PVM_STARTING:
	case CD_PVM_RUNNING:
	case CD_PVM_STOPPING:
	case CD_PVM_MIGRATING:
		return true;
	case CD_PVM_STOPPED:
	case CD_PVM_FAILED:
	case CD_PVM__COUNT:
		break;
	}
	return false;
}

static int vm_facts(struct ctx *c, size_t v)
{
	const struct cd_policy_vm *vm = &c->in->vms[v];
	struct vm_facts *f = &c->facts[v];
	uint32_t preferred;
	int rc, failed;

	rc = ids_to_mask(c, vm, vm->possible, vm->n_possible, &f->possible);
	if (rc == 0 && vm->n_possible == 0)
		f->possible = UINT32_MAX;
	/* Only checked here: placement walks the list in order. */
	if (rc == 0)
		rc = ids_to_mask(c, vm, vm->preferred, vm->n_preferred, &preferred);
	if (rc)
		return rc;
	f->on = slot_of(c, vm->node);
	failed = slot_of(c, vm->failed_on);
	if (f->on == -2 || failed == -2)
		return invalid(c, "names an unknown node id", vm->name);
	if (vm->failback.mode == CD_PFAILBACK_WINDOW &&
	    (vm->failback.start >= 24 * 60 || vm->failback.end >= 24 * 60))
		return invalid(c, "failback window out of range", vm->name);
	f->failed = vm->failure_limit && vm->failures >= vm->failure_limit ? failed : NO_SLOT;
	/* A VM that runs nowhere does not hold a node, whatever node it names. */
	if (!holds_node(vm->state))
		f->on = NO_SLOT;
	return 0;
}

/*
 * Turning shared strings into ids: sort (string, VM) pairs and number the
 * distinct strings. ids[v] gets the id of VM v's string (NONE_ID for ""),
 * names[id] one copy of each string. Caller frees *names.
 */
struct key {
	const char *s;
	size_t vm;
};

static int cmp_key(const void *a, const void *b)
{
	const struct key *x = a, *y = b;
	int r = strcmp(x->s, y->s);

	if (r)
		return r;
	return x->vm < y->vm ? -1 : x->vm > y->vm;
}

static int intern(const struct cd_policy_input *in, size_t field, uint32_t *ids,
		  const char ***names, size_t *n_names)
{
	struct key *keys = malloc((in->n_vms ? in->n_vms : 1) * sizeof(*keys));
	size_t i, n = 0, distinct = 0;

	*names = NULL;
	if (!keys)
		return -ENOMEM;
	for (i = 0; i < in->n_vms; i++) {
		const char *s = (const char *)&in->vms[i] + field;

		ids[i] = NONE_ID;
		if (s[0])
			keys[n++] = (struct key){s, i};
	}
	qsort(keys, n, sizeof(*keys), cmp_key);
	*names = malloc((n ? n : 1) * sizeof(**names));
	if (!*names) {
		free(keys);
		return -ENOMEM;
	}
	for (i = 0; i < n; i++) {
		if (i == 0 || strcmp(keys[i].s, keys[i - 1].s) != 0)
			(*names)[distinct++] = keys[i].s;
		ids[keys[i].vm] = (uint32_t)(distinct - 1);
	}
	*n_names = distinct;
	free(keys);
	return 0;
}

static bool node_runs_model(const struct cd_policy_node *n, const char *model)
{
	uint32_t i;

	if (n->cpu_models_unknown)
		return true;
	for (i = 0; i < n->n_cpu_models && i < CD_POLICY_CPU_MODELS_MAX; i++)
		if (strcmp(n->cpu_models[i], model) == 0)
			return true;
	return false;
}

static int cpu_masks(struct ctx *c, uint32_t *ids)
{
	const char **models;
	uint32_t *mask;
	size_t n, i;
	int s, rc;

	rc = intern(c->in, offsetof(struct cd_policy_vm, cpu_model), ids, &models, &n);
	if (rc)
		return rc;
	mask = calloc(n ? n : 1, sizeof(*mask));
	if (!mask) {
		free(models);
		return -ENOMEM;
	}
	for (i = 0; i < n; i++)
		for (s = 0; s < c->n_slots; s++)
			if (node_runs_model(c->slots[s].node, models[i]))
				mask[i] |= 1u << s;
	for (i = 0; i < c->in->n_vms; i++)
		c->facts[i].cpu = ids[i] == NONE_ID ? UINT32_MAX : mask[ids[i]];
	free(mask);
	free(models);
	return 0;
}

static int classes(struct ctx *c, uint32_t *ids)
{
	const char **names;
	size_t n, i;
	int rc;

	rc = intern(c->in, offsetof(struct cd_policy_vm, anti_class), ids, &names, &n);
	if (rc)
		return rc;
	free(names);
	c->class_count = calloc(n * (size_t)c->n_slots + 1, sizeof(*c->class_count));
	if (!c->class_count)
		return -ENOMEM;
	for (i = 0; i < c->in->n_vms; i++)
		c->facts[i].cls = ids[i];
	return 0;
}

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

static int sort_vms(struct ctx *c)
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

static uint32_t *class_slot(struct ctx *c, size_t v, int s)
{
	return &c->class_count[(size_t)c->facts[v].cls * (size_t)c->n_slots + (size_t)s];
}

static void occupy(struct ctx *c, size_t v, int s)
{
	c->slots[s].used_memory += c->in->vms[v].memory_mb;
	c->slots[s].used_cores += c->in->vms[v].vcpus;
	if (c->facts[v].cls != NONE_ID)
		(*class_slot(c, v, s))++;
}

/* What is left of cap; 0, not a wrap, where running VMs overcommit a node. */
static uint64_t free_of(uint64_t cap, uint64_t used)
{
	return cap > used ? cap - used : 0;
}

/* Whether VM v may go to slot s, and if not the first check that fails. */
static enum cd_policy_excl check(struct ctx *c, size_t v, int s, struct cd_policy_note *note)
{
	const struct cd_policy_vm *vm = &c->in->vms[v];
	const struct vm_facts *f = &c->facts[v];
	const struct slot *sl = &c->slots[s];
	uint32_t bit = 1u << s;
	bool mem_short, cores_short;

	note->node = (uint16_t)sl->idx;
	note->free_memory_mb = free_of(sl->node->memory_mb, sl->used_memory);
	note->free_cores = (uint32_t)free_of(sl->node->cores, sl->used_cores);
	if (sl->node->state != CD_PNODE_ONLINE)
		return CD_EXCL_NODE_STATE;
	if (!(f->possible & bit))
		return CD_EXCL_NOT_POSSIBLE;
	if (!(f->cpu & bit))
		return CD_EXCL_CPU_MODEL;
	if (f->failed == s)
		return CD_EXCL_FAILURES;
	if (f->cls != NONE_ID && vm->anti == CD_ANTI_HARD && *class_slot(c, v, s))
		return CD_EXCL_ANTI_HARD;
	mem_short = vm->memory_mb > note->free_memory_mb;
	cores_short = vm->vcpus > note->free_cores;
	if (mem_short && cores_short)
		return CD_EXCL_MEMORY_CORES;
	if (mem_short)
		return CD_EXCL_MEMORY;
	if (cores_short)
		return CD_EXCL_CORES;
	return CD_EXCL_NONE;
}

static bool soft_clash(struct ctx *c, size_t v, int s)
{
	return c->facts[v].cls != NONE_ID && c->in->vms[v].anti == CD_ANTI_SOFT &&
	       *class_slot(c, v, s);
}

/* Make room for n more notes. Returns 0 or -ENOMEM. */
static int reserve_notes(struct ctx *c, size_t n)
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
static void keep_note(struct ctx *c, size_t v, const struct cd_policy_note *note)
{
	struct cd_policy_vm_result *r = &c->out->vms[v];

	if (note->excl == CD_EXCL_NONE)
		return;
	if (r->n_notes == 0)
		r->notes = c->out->n_notes;
	c->out->notes[c->out->n_notes++] = *note;
	r->n_notes++;
}

static void add_action(struct ctx *c, enum cd_policy_action_type t, size_t v, uint32_t from,
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
	[CD_EXCL_MEMORY] = CD_UNPLACED_CAPACITY,
	[CD_EXCL_CORES] = CD_UNPLACED_CAPACITY,
	[CD_EXCL_MEMORY_CORES] = CD_UNPLACED_CAPACITY,
};

static int place(struct ctx *c, size_t v)
{
	const struct cd_policy_vm *vm = &c->in->vms[v];
	struct cd_policy_vm_result *r = &c->out->vms[v];
	struct cd_policy_note notes[CD_POLICY_MAX_NODES];
	uint32_t fits = 0, apart = 0, cand;
	int s, best = NO_SLOT, furthest = CD_EXCL_NODE_STATE;
	uint32_t i;

	if (reserve_notes(c, (size_t)c->n_slots))
		return -ENOMEM;
	for (s = 0; s < c->n_slots; s++) {
		notes[s].excl = (uint8_t)check(c, v, s, &notes[s]);
		if (notes[s].excl != CD_EXCL_NONE) {
			if (notes[s].excl > furthest)
				furthest = notes[s].excl;
			continue;
		}
		fits |= 1u << s;
		if (!soft_clash(c, v, s))
			apart |= 1u << s;
	}
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
	if (vm->state == CD_PVM_FAILED && vm->failed_on && vm->failures > 0) {
		s = slot_of(c, vm->failed_on);
		if (s >= 0 && (cand & (1u << s))) {
			best = s;
			r->why = CD_WHY_RESTART;
		}
	}
	for (i = 0; i < vm->n_preferred && best == NO_SLOT; i++) {
		s = slot_of(c, vm->preferred[i]);
		if (cand & (1u << s)) {
			best = s;
			r->why = CD_WHY_PREFERRED;
			r->rank = i + 1;
		}
	}
	for (s = 0; s < c->n_slots && best == NO_SLOT; s++) {
		int t;

		if (!(cand & (1u << s)))
			continue;
		/* Slots run in id order, so the lowest id wins a tie. */
		for (best = s, t = s + 1; t < c->n_slots; t++)
			if ((cand & (1u << t)) &&
			    notes[t].free_memory_mb > notes[best].free_memory_mb)
				best = t;
		r->why = CD_WHY_MOST_FREE;
	}
	occupy(c, v, best);
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
 * VM's cores and memory for the rest of this decision: until the migration
 * ends it uses both nodes, and counting it once would let another VM be
 * placed into room that is not free yet.
 */
static int failback(struct ctx *c, size_t v)
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

		s = slot_of(c, vm->preferred[i]);
		note.excl = (uint8_t)check(c, v, s, &note);
		if (note.excl == CD_EXCL_NONE && soft_clash(c, v, s))
			note.excl = CD_EXCL_ANTI_SOFT;
		if (note.excl != CD_EXCL_NONE) {
			keep_note(c, v, &note);
			continue;
		}
		occupy(c, v, s);
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
static void settle(struct ctx *c, size_t v, bool *to_place)
{
	const struct cd_policy_vm *vm = &c->in->vms[v];
	struct cd_policy_vm_result *r = &c->out->vms[v];
	int on = c->facts[v].on;

	*to_place = false;
	if (on >= 0 && node_alive(c->slots[on].node->state)) {
		occupy(c, v, on);
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

static int run(struct ctx *c)
{
	const struct cd_policy_input *in = c->in;
	size_t n = in->n_vms, i, v;
	bool *to_place = NULL;
	uint32_t *ids = NULL;
	int rc;

	c->facts = calloc(n ? n : 1, sizeof(*c->facts));
	c->order = malloc((n ? n : 1) * sizeof(*c->order));
	ids = malloc((n ? n : 1) * sizeof(*ids));
	to_place = malloc(n ? n : 1);
	c->out->vms = calloc(n ? n : 1, sizeof(*c->out->vms));
	c->out->actions = malloc((n ? n : 1) * sizeof(*c->out->actions));
	rc = -ENOMEM;
	if (!c->facts || !c->order || !ids || !to_place || !c->out->vms || !c->out->actions)
		goto out_free;
	rc = setup_slots(c);
	for (i = 0; i < n && rc == 0; i++)
		rc = vm_facts(c, i);
	if (rc == 0)
		rc = cpu_masks(c, ids);
	if (rc == 0)
		rc = classes(c, ids);
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
	free(ids);
	return rc;
}

int cd_policy_decide(const struct cd_policy_input *in, struct cd_policy_result *out)
{
	struct ctx c;
	int rc;

	memset(out, 0, sizeof(*out));
	memset(&c, 0, sizeof(c));
	c.in = in;
	c.out = out;
	rc = run(&c);
	free(c.facts);
	free(c.order);
	free(c.class_count);
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
