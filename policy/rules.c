/*
 * The policy's picture of the cluster and the rules a node must pass for a
 * VM (rules.h): shared by decide (policy.c) and the one-node check of a
 * move (fit.c).
 *
 * It has to stay fast at 32 nodes and 10,000 VMs, so nothing here is
 * O(VMs x VMs): per-node running totals (vCPUs, memory) and per-class,
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
#include "policy/rules.h"

static int invalid(struct cd_pctx *c, const char *what, const char *name)
{
	snprintf(c->out->error, sizeof(c->out->error), "%s: %s", name, what);
	return CD_ERR_INVALID;
}

static int cmp_slot(const void *a, const void *b)
{
	uint32_t x = ((const struct cd_pslot *)a)->node->id,
		 y = ((const struct cd_pslot *)b)->node->id;

	return x < y ? -1 : x > y;
}

static int setup_slots(struct cd_pctx *c)
{
	const struct cd_policy_input *in = c->in;
	int i;

	if (in->n_nodes > CD_POLICY_MAX_NODES)
		return invalid(c, "too many nodes", "input");
	c->n_slots = (int)in->n_nodes;
	for (i = 0; i < c->n_slots; i++) {
		c->slots[i].node = &in->nodes[i];
		c->slots[i].idx = (size_t)i;
		c->slots[i].vcpu_cap = cd_policy_vcpu_cap(in, &in->nodes[i]);
		if (in->nodes[i].id == 0)
			return invalid(c, "node id 0 is reserved", in->nodes[i].name);
	}
	qsort(c->slots, (size_t)c->n_slots, sizeof(c->slots[0]), cmp_slot);
	for (i = 1; i < c->n_slots; i++)
		if (c->slots[i].node->id == c->slots[i - 1].node->id)
			return invalid(c, "duplicate node id", c->slots[i].node->name);
	return 0;
}

/* The slot of node id, CD_PNO_SLOT for id 0, or -2 for an unknown id. */
int cd_pctx_slot_of(const struct cd_pctx *c, uint32_t id)
{
	int lo = 0, hi = c->n_slots;

	if (id == 0)
		return CD_PNO_SLOT;
	while (lo < hi) {
		int mid = (lo + hi) / 2;

		if (c->slots[mid].node->id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < c->n_slots && c->slots[lo].node->id == id ? lo : -2;
}

static int ids_to_mask(struct cd_pctx *c, const struct cd_policy_vm *vm, const uint32_t *ids,
		       uint32_t n, uint32_t *mask)
{
	uint32_t i;
	int s;

	if (n > CD_POLICY_MAX_NODES)
		return invalid(c, "too many nodes listed", vm->name);
	*mask = 0;
	for (i = 0; i < n; i++) {
		s = cd_pctx_slot_of(c, ids[i]);
		if (s < 0)
			return invalid(c, "lists an unknown node id", vm->name);
		*mask |= 1u << s;
	}
	return 0;
}

bool cd_pnode_alive(enum cd_policy_node_state s)
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

static int vm_facts(struct cd_pctx *c, size_t v)
{
	const struct cd_policy_vm *vm = &c->in->vms[v];
	struct cd_pvm_facts *f = &c->facts[v];
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
	f->on = cd_pctx_slot_of(c, vm->node);
	failed = cd_pctx_slot_of(c, vm->failed_on);
	if (f->on == -2 || failed == -2)
		return invalid(c, "names an unknown node id", vm->name);
	if (vm->failback.mode == CD_PFAILBACK_WINDOW &&
	    (vm->failback.start >= 24 * 60 || vm->failback.end >= 24 * 60))
		return invalid(c, "failback window out of range", vm->name);
	f->failed = vm->failure_limit && vm->failures >= vm->failure_limit ? failed : CD_PNO_SLOT;
	/* A VM that runs nowhere does not hold a node, whatever node it names. */
	if (!holds_node(vm->state))
		f->on = CD_PNO_SLOT;
	return 0;
}

/*
 * Turning shared strings into ids: sort (string, VM) pairs and number the
 * distinct strings. ids[v] gets the id of VM v's string (CD_PNONE_ID for ""),
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

		ids[i] = CD_PNONE_ID;
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

static int cpu_masks(struct cd_pctx *c, uint32_t *ids)
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
		c->facts[i].cpu = ids[i] == CD_PNONE_ID ? UINT32_MAX : mask[ids[i]];
	free(mask);
	free(models);
	return 0;
}

static int classes(struct cd_pctx *c, uint32_t *ids)
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

static uint32_t *class_slot(struct cd_pctx *c, size_t v, int s)
{
	return &c->class_count[(size_t)c->facts[v].cls * (size_t)c->n_slots + (size_t)s];
}

void cd_pctx_occupy(struct cd_pctx *c, size_t v, int s)
{
	c->slots[s].used_memory += c->in->vms[v].memory_mb;
	c->slots[s].used_vcpus += c->in->vms[v].vcpus;
	if (c->facts[v].cls != CD_PNONE_ID)
		(*class_slot(c, v, s))++;
}

void cd_pctx_occupy_held(struct cd_pctx *c, size_t v, int s)
{
	const struct cd_policy_vm *vm = &c->in->vms[v];
	int t = vm->state == CD_PVM_MIGRATING && vm->move_to ? cd_pctx_slot_of(c, vm->move_to) : -1;

	cd_pctx_occupy(c, v, s);
	if (t >= 0 && t != s && cd_pnode_alive(c->slots[t].node->state))
		cd_pctx_occupy(c, v, t);
}

uint32_t cd_policy_cpu_overcommit(const struct cd_policy_input *in)
{
	return in->cpu_overcommit_milli ? in->cpu_overcommit_milli
					: CD_POLICY_CPU_OVERCOMMIT_DEFAULT;
}

uint64_t cd_policy_vcpu_cap(const struct cd_policy_input *in, const struct cd_policy_node *n)
{
	return (uint64_t)n->cores * cd_policy_cpu_overcommit(in) / 1000;
}

/* What is left of cap; 0, not a wrap, where running VMs hold more than it. */
static uint64_t free_of(uint64_t cap, uint64_t used)
{
	return cap > used ? cap - used : 0;
}

static uint32_t clamp32(uint64_t x)
{
	return x > UINT32_MAX ? UINT32_MAX : (uint32_t)x;
}

uint32_t cd_pctx_fails(struct cd_pctx *c, size_t v, int s, struct cd_policy_note *note)
{
	const struct cd_policy_vm *vm = &c->in->vms[v];
	const struct cd_pvm_facts *f = &c->facts[v];
	const struct cd_pslot *sl = &c->slots[s];
	uint32_t bit = 1u << s, fails = 0;

	note->node = (uint16_t)sl->idx;
	note->free_memory_mb = free_of(sl->node->memory_mb, sl->used_memory);
	note->free_vcpus = clamp32(free_of(sl->vcpu_cap, sl->used_vcpus));
	note->used_vcpus = clamp32(sl->used_vcpus);
	if (sl->node->state != CD_PNODE_ONLINE)
		fails |= CD_POLICY_EXCL_BIT(CD_EXCL_NODE_STATE);
	if (!(f->possible & bit))
		fails |= CD_POLICY_EXCL_BIT(CD_EXCL_NOT_POSSIBLE);
	if (!(f->cpu & bit))
		fails |= CD_POLICY_EXCL_BIT(CD_EXCL_CPU_MODEL);
	if (f->failed == s)
		fails |= CD_POLICY_EXCL_BIT(CD_EXCL_FAILURES);
	if (f->cls != CD_PNONE_ID && vm->anti == CD_ANTI_HARD && *class_slot(c, v, s))
		fails |= CD_POLICY_EXCL_BIT(CD_EXCL_ANTI_HARD);
	/* Overcommit shares a node's cores, but one VM's vCPUs never share a core. */
	if (vm->vcpus > sl->node->cores)
		fails |= CD_POLICY_EXCL_BIT(CD_EXCL_FEW_CORES);
	if (vm->memory_mb > note->free_memory_mb)
		fails |= CD_POLICY_EXCL_BIT(CD_EXCL_MEMORY);
	if (vm->vcpus > free_of(sl->vcpu_cap, sl->used_vcpus))
		fails |= CD_POLICY_EXCL_BIT(CD_EXCL_CORES);
	return fails;
}

enum cd_policy_excl cd_pctx_check(struct cd_pctx *c, size_t v, int s, struct cd_policy_note *note)
{
	uint32_t fails = cd_pctx_fails(c, v, s, note);
	enum cd_policy_excl e;

	if (fails == (CD_POLICY_EXCL_BIT(CD_EXCL_MEMORY) | CD_POLICY_EXCL_BIT(CD_EXCL_CORES)))
		return CD_EXCL_MEMORY_CORES;
	for (e = CD_EXCL_NODE_STATE; e <= CD_EXCL_CORES; e++)
		if (fails & CD_POLICY_EXCL_BIT(e))
			return e;
	return CD_EXCL_NONE;
}

bool cd_pctx_soft_clash(struct cd_pctx *c, size_t v, int s)
{
	return c->facts[v].cls != CD_PNONE_ID && c->in->vms[v].anti == CD_ANTI_SOFT &&
	       *class_slot(c, v, s);
}

int cd_pctx_prepare(struct cd_pctx *c)
{
	size_t n = c->in->n_vms, i;
	uint32_t *ids;
	int rc;

	c->facts = calloc(n ? n : 1, sizeof(*c->facts));
	ids = malloc((n ? n : 1) * sizeof(*ids));
	rc = -ENOMEM;
	if (!c->facts || !ids)
		goto out_free;
	rc = setup_slots(c);
	for (i = 0; i < n && rc == 0; i++)
		rc = vm_facts(c, i);
	if (rc == 0)
		rc = cpu_masks(c, ids);
	if (rc == 0)
		rc = classes(c, ids);
out_free:
	free(ids);
	return rc;
}

void cd_pctx_free(struct cd_pctx *c)
{
	free(c->facts);
	free(c->order);
	free(c->class_count);
	c->facts = NULL;
	c->order = NULL;
	c->class_count = NULL;
}

uint32_t cd_pctx_survey(struct cd_pctx *c, size_t v, struct cd_policy_note *notes, uint32_t *apart,
			int *furthest)
{
	uint32_t fits = 0;
	int s;

	*apart = 0;
	*furthest = CD_EXCL_NODE_STATE;
	for (s = 0; s < c->n_slots; s++) {
		notes[s].excl = (uint8_t)cd_pctx_check(c, v, s, &notes[s]);
		if (notes[s].excl != CD_EXCL_NONE) {
			if (notes[s].excl > *furthest)
				*furthest = notes[s].excl;
			continue;
		}
		fits |= 1u << s;
		if (!cd_pctx_soft_clash(c, v, s))
			*apart |= 1u << s;
	}
	return fits;
}

int cd_pctx_choose(const struct cd_pctx *c, size_t v, uint32_t cand,
		   const struct cd_policy_note *notes, struct cd_policy_vm_result *r)
{
	const struct cd_policy_vm *vm = &c->in->vms[v];
	int s, best = CD_PNO_SLOT;
	uint32_t i;

	if (vm->state == CD_PVM_FAILED && vm->failed_on && vm->failures > 0) {
		s = cd_pctx_slot_of(c, vm->failed_on);
		if (s >= 0 && (cand & (1u << s))) {
			best = s;
			r->why = CD_WHY_RESTART;
		}
	}
	for (i = 0; i < vm->n_preferred && best == CD_PNO_SLOT; i++) {
		s = cd_pctx_slot_of(c, vm->preferred[i]);
		if (cand & (1u << s)) {
			best = s;
			r->why = CD_WHY_PREFERRED;
			r->rank = i + 1;
		}
	}
	for (s = 0; s < c->n_slots && best == CD_PNO_SLOT; s++) {
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
	return best;
}
