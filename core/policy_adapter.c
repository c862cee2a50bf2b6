#include "config.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/cpumodels.h"
#include "core/policy_adapter.h"
#include "core/props.h"
#include "lib/util.h"

/* What one VM's domain XML asks of the CPU, and which XML that was. */
struct xml_cpu {
	char name[64];	 /* the VM's */
	const char *xml; /* where its XML was: with stamp and len, the same XML */
	uint64_t stamp;	 /* the XML's xml_stamp (vm.h) */
	size_t len;	 /* of its XML */
	uint64_t hash;	 /* of its XML, if hashed */
	bool hashed;
	bool known; /* false: not read yet (a warm-up ran out of reads) */
	bool read;  /* false: the XML does not parse here */
	struct cd_vm_cpu cpu;
};

/*
 * One entry per VM of the last state asked about, in the state's order (by
 * name): a VM removed is forgotten at the next call, one redefined is read
 * again because its XML's length or hash changed. The two arrays take turns
 * (old entries in e, new ones built in spare), so a call allocates nothing
 * once they are large enough.
 */
static struct {
	struct xml_cpu *e, *spare;
	size_t n, cap_e, cap_spare;
	uint64_t reads;
} cache;

/*
 * FNV-1a over the XML, which also measures it. Equal length and hash are
 * taken as the same XML: two domain XMLs of one VM that collide in 64 bits
 * and in length are not worth a second copy of every XML to rule out.
 */
static uint64_t xml_hash(const char *xml, size_t *len)
{
	const unsigned char *p = (const unsigned char *)xml;
	uint64_t h = 0xcbf29ce484222325ull;

	for (; *p; p++)
		h = (h ^ *p) * 0x100000001b3ull;
	*len = (size_t)(p - (const unsigned char *)xml);
	return h;
}

/*
 * Fill e for VM v from was, the same VM's entry of the last call (or NULL),
 * reading the XML if it is not was's and *budget allows (then one less).
 *
 * Hashing every XML at every call would cost more than the rest of the
 * input (50 MB at 10,000 VMs), so the XML is taken as was's without a look
 * when it is at the same address with the same stamp and length: the state
 * gives every XML it stores a new stamp, so an address reused by another
 * XML after a free comes with another stamp. Anything else (a copy of the
 * state, a record changed by hand, stamp 0) is hashed and compared with
 * what was read. An XML is hashed only to be compared or read, so that a
 * warm-up's slice does not hash the XMLs it will not read. e may be was
 * (the entry updated in place).
 */
static void xml_cpu_fill(struct xml_cpu *e, const struct cd_vm *v, const struct xml_cpu *was,
			 size_t *budget)
{
	/* A VM without XML (an old state) needs what an XML without <cpu> needs. */
	const char *xml = v->xml ? v->xml : "";
	struct xml_cpu old;
	char err[128];

	if (was && v->xml_stamp && was->stamp == v->xml_stamp && was->xml == v->xml &&
	    was->len == v->xml_len) {
		if (e != was)
			*e = *was;
	} else {
		if (was) {
			old = *was;
			was = &old;
		}
		memset(e, 0, sizeof(*e));
		cd_strlcpy(e->name, v->name, sizeof(e->name));
		e->xml = v->xml;
		e->stamp = v->xml_stamp;
		e->len = v->xml_len;
		if (was && was->known) {
			e->hash = xml_hash(xml, &e->len);
			e->hashed = true;
		}
		if (e->hashed && was->len == e->len && was->hash == e->hash) {
			e->known = true;
			e->read = was->read;
			e->cpu = was->cpu;
		}
	}
	if (e->known || !*budget)
		return;
	(*budget)--;
	if (!e->hashed) {
		e->hash = xml_hash(xml, &e->len);
		e->hashed = true;
	}
	cache.reads++;
	e->known = true;
	e->read = cd_vm_cpu_read(xml, &e->cpu, err, sizeof(err)) == 0;
}

static int cache_reserve(size_t n)
{
	struct xml_cpu *e;

	if (n <= cache.cap_spare)
		return 0;
	e = realloc(cache.spare, n * sizeof(*e));
	if (!e)
		return -ENOMEM;
	cache.spare = e;
	cache.cap_spare = n;
	return 0;
}

/*
 * The entries for s's VMs, in s's order, reading at most budget XMLs that
 * changed (SIZE_MAX: all). Mostly the VMs are those of the last call, each
 * at its place, and each entry is updated where it is; otherwise, both
 * lists being sorted by name, one walk finds each VM's old entry. *unread
 * gets how many are left unread. Returns 0 or -ENOMEM.
 */
static int cache_update(const struct cd_state *s, size_t budget, size_t *unread)
{
	struct xml_cpu *e, *swap;
	size_t i, k = 0, cap;

	*unread = 0;
	for (i = 0; cache.n == s->n_vms && i < s->n_vms; i++) {
		if (strcmp(cache.e[i].name, s->vms[i]->name) != 0)
			break;
		xml_cpu_fill(&cache.e[i], s->vms[i], &cache.e[i], &budget);
		*unread += !cache.e[i].known;
	}
	if (cache.n == s->n_vms && i == s->n_vms)
		return 0;
	*unread = 0;
	if (cache_reserve(s->n_vms + 1) < 0)
		return -ENOMEM;
	e = cache.spare;
	for (i = 0; i < s->n_vms; i++) {
		const struct cd_vm *v = s->vms[i];
		const struct xml_cpu *was = NULL;

		while (k < cache.n && strcmp(cache.e[k].name, v->name) < 0)
			k++;
		if (k < cache.n && strcmp(cache.e[k].name, v->name) == 0)
			was = &cache.e[k];
		xml_cpu_fill(&e[i], v, was, &budget);
		*unread += !e[i].known;
	}
	swap = cache.e;
	cap = cache.cap_e;
	cache.e = e;
	cache.cap_e = cache.cap_spare;
	cache.n = s->n_vms;
	cache.spare = swap;
	cache.cap_spare = cap;
	return 0;
}

size_t cd_policy_adapter_warm(const struct cd_state *s, size_t max_reads)
{
	size_t unread;

	/* Out of memory: the next decision reads what is missing. */
	return cache_update(s, max_reads, &unread) < 0 ? 0 : unread;
}

void cd_policy_adapter_fini(void)
{
	free(cache.e);
	free(cache.spare);
	cache.e = cache.spare = NULL;
	cache.n = cache.cap_e = cache.cap_spare = 0;
}

uint64_t cd_policy_adapter_xml_reads(void)
{
	return cache.reads;
}

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
 * The model the VM needs (cpumodels.h), from what its XML asks (e): a
 * domain XML that does not parse here was checked by libvirt when added,
 * so it needs nothing we can tell.
 */
static void pvm_cpu_model(struct cd_policy_vm *p, const struct cd_state *s, const struct cd_vm *v,
			  const struct xml_cpu *e)
{
	const struct cd_node *where = NULL;
	struct cd_vm_cpu cpu = e->cpu; /* the XML's answer, cached; the setting is the VM's */

	if (!e->read)
		return;
	cpu.baseline = v->cpu_baseline;
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
		return cd_node_quarantined(n, cd_wall_ms()) ? CD_PNODE_QUARANTINED
							    : CD_PNODE_ONLINE;
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
	[CD_VM_STOPPED] = CD_PVM_STOPPED, [CD_VM_STARTING] = CD_PVM_STARTING,
	[CD_VM_RUNNING] = CD_PVM_RUNNING, [CD_VM_STOPPING] = CD_PVM_STOPPING,
	[CD_VM_FAILED] = CD_PVM_FAILED,	  [CD_VM_MIGRATING] = CD_PVM_MIGRATING,
};
/*
 * node resume --failback now|never: for a VM whose most preferred owner is
 * that node, the resume's word overrides the VM's own failback setting.
 */
static void resume_failback(const struct cd_state *s, struct cd_policy_vm *p)
{
	const struct cd_node *n = p->n_preferred ? cd_state_node_by_id(s, p->preferred[0]) : NULL;

	if (n && n->drain.failback == CD_RESUME_NOW)
		p->failback.mode = CD_PFAILBACK_IMMEDIATELY;
	else if (n && n->drain.failback == CD_RESUME_NEVER)
		p->failback.mode = CD_PFAILBACK_NEVER;
}

static const enum cd_policy_failback_mode fb_map[] = {
	[CD_FAILBACK_NEVER] = CD_PFAILBACK_NEVER,
	[CD_FAILBACK_IMMEDIATELY] = CD_PFAILBACK_IMMEDIATELY,
	[CD_FAILBACK_WINDOW] = CD_PFAILBACK_WINDOW,
};

int cd_policy_adapter_input(const struct cd_state *s, struct cd_policy_input *in)
{
	struct cd_policy_node *nodes = calloc(s->n_nodes + 1, sizeof(*nodes));
	struct cd_policy_vm *vms = calloc(s->n_vms + 1, sizeof(*vms));
	time_t now = time(NULL);
	struct tm tm;
	size_t i, j, unread;

	memset(in, 0, sizeof(*in));
	if (!nodes || !vms || cache_update(s, SIZE_MAX, &unread) < 0) {
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
		const struct cd_vm *v = s->vms[i];
		struct cd_policy_vm *p = &vms[i];

		cd_strlcpy(p->name, v->name, sizeof(p->name));
		p->vcpus = v->vcpus;
		p->memory_mb = v->memory_mb;
		pvm_cpu_model(p, s, v, &cache.e[i]);
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
		p->move_to = v->state == CD_VM_MIGRATING ? v->move.target : 0;
		p->failures = v->fail_count;
		p->failure_limit = CD_VM_FAIL_LIMIT;
		p->failed_on = v->failed_on;
		p->failback.mode = fb_map[v->failback];
		p->failback.start = v->fb_start;
		p->failback.end = v->fb_end;
		resume_failback(s, p);
	}
	in->nodes = nodes;
	in->n_nodes = s->n_nodes;
	in->vms = vms;
	in->n_vms = s->n_vms;
	/* The property is checked to 1..64 per core, so it fits in thousandths. */
	in->cpu_overcommit_milli = (uint32_t)cd_props_get(s, CD_PROPS_CPU_OVERCOMMIT);
	localtime_r(&now, &tm);
	in->now_minute = tm.tm_hour * 60 + tm.tm_min;
	return 0;
}

void cd_policy_adapter_input_free(struct cd_policy_input *in)
{
	free((void *)in->nodes);
	free((void *)in->vms);
	memset(in, 0, sizeof(*in));
}
