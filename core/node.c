#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <clusterd/result.h>

#include "core/node.h"
#include "core/props.h"
#include "core/state.h"
#include "lib/jsonget.h"
#include "lib/util.h"

const char *cd_node_state_to_str(enum cd_node_state s)
{
	switch (s) {
	case CD_NODE_ONLINE:
		return "online";
	case CD_NODE_OFFLINE:
		return "offline";
	case CD_NODE_MAINTENANCE:
		return "maintenance";
	case CD_NODE_FENCED:
		return "fenced";
	case CD_NODE_QUARANTINED:
		return "quarantined";
	}
	return "unknown";
}

enum cd_node_state cd_node_state(const struct cd_node *n)
{
	if (!n->member)
		return n->dead ? CD_NODE_FENCED : CD_NODE_OFFLINE;
	return n->maintenance ? CD_NODE_MAINTENANCE : CD_NODE_ONLINE;
}

/* --- the node table of a state --- */

static size_t node_index(const struct cd_state *s, uint32_t id, int *found)
{
	size_t lo = 0, hi = s->n_nodes;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (s->nodes[mid].info.id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	*found = lo < s->n_nodes && s->nodes[lo].info.id == id;
	return lo;
}

const struct cd_node *cd_state_node_by_id(const struct cd_state *s, uint32_t id)
{
	int found;
	size_t i = node_index(s, id, &found);

	return found ? &s->nodes[i] : NULL;
}

static struct cd_node *node_by_name_mut(struct cd_state *s, const char *name)
{
	return (struct cd_node *)cd_state_node_by_name(s, name);
}

const struct cd_node *cd_state_node_by_name(const struct cd_state *s, const char *name)
{
	size_t i;

	for (i = 0; i < s->n_nodes; i++)
		if (strcmp(s->nodes[i].info.name, name) == 0)
			return &s->nodes[i];
	return NULL;
}

struct cd_node *cd_state_node_upsert(struct cd_state *s, uint32_t id)
{
	int found;
	size_t i = node_index(s, id, &found);
	struct cd_node *nn;

	if (found)
		return &s->nodes[i];
	nn = realloc(s->nodes, (s->n_nodes + 1) * sizeof(*nn));
	if (!nn)
		return NULL;
	s->nodes = nn;
	memmove(&nn[i + 1], &nn[i], (s->n_nodes - i) * sizeof(*nn));
	memset(&nn[i], 0, sizeof(*nn));
	nn[i].info.id = id;
	s->n_nodes++;
	return &nn[i];
}

/* --- changes --- */

#define FAIL CD_FAIL

int cd_node_op_maintenance(struct cd_state *s, const struct json_object *c, char *err,
			   size_t errlen)
{
	const char *name = cd_jget_str(c, "node");
	struct cd_node *n;
	struct json_object *on;

	if (!name)
		FAIL(CD_ERR_INVALID, "missing node name");
	n = node_by_name_mut(s, name);
	if (!n)
		FAIL(CD_ERR_NOT_FOUND, "no node '%s'", name);
	if (!json_object_object_get_ex(c, "on", &on) || !json_object_is_type(on, json_type_boolean))
		FAIL(CD_ERR_INVALID, "missing on/off");
	n->maintenance = json_object_get_boolean(on);
	return 0;
}

int cd_node_op_quarantine(struct cd_state *s, const struct json_object *c, char *err, size_t errlen)
{
	const char *name = cd_jget_str(c, "node");
	struct cd_node *n = name ? node_by_name_mut(s, name) : NULL;
	uint64_t until;

	if (!n)
		FAIL(CD_ERR_NOT_FOUND, "no node '%s'", name ? name : "");
	if (cd_jget_u64(c, "until", &until) < 0)
		FAIL(CD_ERR_INVALID, "malformed node.quarantine");
	n->quarantine_until = until;
	if (!until)
		memset(n->rejoins, 0, sizeof(n->rejoins));
	return 0;
}

/* Whether VM vm is on node id, or moving to it. */
static bool vm_on(const struct cd_vm *vm, uint32_t id)
{
	return vm->node == id || (vm->state == CD_VM_MIGRATING && vm->move.target == id);
}

/*
 * A node's record forgotten (clusterctl node remove, once the node is out
 * of corosync's nodelist or about to be). Refused for a member, and while
 * a VM is on the node or moving to it: the state would keep a VM on a node
 * it no longer knows. With "force", the admin vouches that the node is off
 * for good: its VMs go as if it were confirmed dead (node.dead "removed"),
 * so failover places them elsewhere, and then the record goes.
 */
int cd_node_op_remove(struct cd_state *s, const struct json_object *c, char *err, size_t errlen)
{
	const char *name = cd_jget_str(c, "node");
	bool force = cd_jget_bool_or(c, "force", false);
	struct cd_vm_event_args a = {0};
	const struct cd_node *n;
	size_t i, on = 0;
	int rc;

	if (!name)
		FAIL(CD_ERR_INVALID, "missing node name");
	n = cd_state_node_by_name(s, name);
	if (!n)
		FAIL(CD_ERR_NOT_FOUND, "no node '%s'", name);
	if (n->member)
		FAIL(CD_ERR_INVALID, "node '%s' is a member; stop it before removing it", name);
	for (i = 0; i < s->n_vms; i++)
		on += vm_on(s->vms[i], n->info.id);
	if (on && !force)
		FAIL(CD_ERR_REFUSED,
		     "node '%s' still has %zu VM%s placed on it: move them, or confirm it dead "
		     "first (--force does both)",
		     name, on, on == 1 ? "" : "s");
	a.node = n->info.id;
	a.node_name = n->info.name;
	a.how = "removed";
	for (i = 0; on && i < s->n_vms; i++) {
		if (!vm_on(s->vms[i], n->info.id))
			continue;
		/* Never refused: every state has a node-dead row (see cd_node_op_dead). */
		if ((rc = cd_vm_transition(s, s->vms[i], CD_VM_EV_NODE_DEAD, &a, err, errlen)) < 0)
			return rc;
	}
	i = (size_t)(n - s->nodes);
	memmove(&s->nodes[i], &s->nodes[i + 1], (s->n_nodes - i - 1) * sizeof(*s->nodes));
	s->n_nodes--;
	return 0;
}

/*
 * A node that left is known dead: fenced, or its disk lease expired (which
 * by the lease rule means it stopped its VMs). Its VMs run nowhere now;
 * the policy places those that should run. Refused for a member.
 */
int cd_node_op_dead(struct cd_state *s, const struct json_object *c, char *err, size_t errlen)
{
	const char *how = cd_jget_str(c, "how");
	struct cd_vm_event_args a = {0};
	uint64_t id;
	struct cd_node *n;
	size_t i;
	int rc;

	if (cd_jget_u64(c, "node", &id) < 0 || id > UINT32_MAX || !how || !*how ||
	    !cd_valid_text(how, CD_DEAD_HOW_MAX))
		FAIL(CD_ERR_INVALID, "malformed node.dead");
	n = (struct cd_node *)cd_state_node_by_id(s, (uint32_t)id);
	if (!n)
		FAIL(CD_ERR_NOT_FOUND, "no node %u", (unsigned)id);
	if (n->member)
		FAIL(CD_ERR_INVALID, "node %s is a member: it is not dead", n->info.name);
	n->dead = true;
	cd_strlcpy(n->dead_how, how, sizeof(n->dead_how));
	a.node = n->info.id;
	a.node_name = n->info.name;
	a.how = how;
	for (i = 0; i < s->n_vms; i++) {
		struct cd_vm *vm = s->vms[i];

		/* Its node, or the target of its move. */
		if (vm->node != n->info.id &&
		    !(vm->state == CD_VM_MIGRATING && vm->move.target == n->info.id))
			continue;
		/*
		 * Never refused: the table has a node-dead row for every state
		 * (check_vm tests it), so no VM is left half done.
		 */
		if ((rc = cd_vm_transition(s, vm, CD_VM_EV_NODE_DEAD, &a, err, errlen)) < 0)
			return rc;
	}
	return 0;
}

/* --- membership: joins, leaves, flapping --- */

bool cd_node_quarantined(const struct cd_node *n, uint64_t now_ms)
{
	return n->quarantine_until > now_ms;
}

/*
 * A node came back: a flap if it did so "flap-limit" times (a cluster
 * property, at most CD_FLAP_LIMIT; 0 turns quarantine off) within the window.
 */
static void note_rejoin(const struct cd_state *s, struct cd_node *n, uint64_t now_ms)
{
	uint64_t limit = cd_props_get(s, CD_PROPS_FLAP_LIMIT);
	size_t k;

	if (!now_ms)
		return;
	memmove(&n->rejoins[0], &n->rejoins[1], (CD_FLAP_LIMIT - 1) * sizeof(n->rejoins[0]));
	n->rejoins[CD_FLAP_LIMIT - 1] = now_ms;
	if (limit == 0)
		return;
	for (k = CD_FLAP_LIMIT - limit; k < CD_FLAP_LIMIT; k++)
		if (!n->rejoins[k] || now_ms - n->rejoins[k] > CD_FLAP_WINDOW_MS)
			return;
	n->quarantine_until = now_ms + CD_QUARANTINE_MS;
}

void cd_state_sync_finish(struct cd_state *s, const struct cd_node_info *members, size_t n_members,
			  uint64_t new_epoch, uint64_t now_ms)
{
	size_t i, j;

	for (i = 0; i < s->n_nodes; i++) {
		bool member = false;

		for (j = 0; j < n_members; j++)
			if (members[j].id == s->nodes[i].info.id)
				member = true;
		if (member != s->nodes[i].member) {
			s->nodes[i].member = member;
			s->nodes[i].last_change = new_epoch;
			if (member)
				note_rejoin(s, &s->nodes[i], now_ms);
			else
				s->nodes[i].left_ms = now_ms;
		}
		/* Back in the membership: alive again, whatever was said of it. */
		if (member) {
			s->nodes[i].dead = false;
			s->nodes[i].dead_how[0] = '\0';
		}
	}
	for (j = 0; j < n_members; j++) {
		struct cd_node *n;

		/* Beyond the limit a new node is not recorded, alike everywhere. */
		if (!cd_state_node_by_id(s, members[j].id) && s->n_nodes >= CD_MAX_NODES)
			continue;
		n = cd_state_node_upsert(s, members[j].id);
		/* Out of memory: the node record is missing until the next sync. */
		if (!n)
			continue;
		n->info = members[j];
		if (!n->member) {
			n->member = true;
			n->dead = false;
			n->dead_how[0] = '\0';
			n->last_change = new_epoch;
		}
	}
	s->version.epoch = new_epoch;
	s->version.seq = 0;
}

/* --- serialization --- */

/* Its facts, or NULL when none is known (left out, as an older clusterd's record). */
static struct json_object *facts_to_json(const struct cd_node_facts *f)
{
	struct json_object *o;

	if (!f->corosync_sha256[0] && !f->crypto_cipher[0] && !f->crypto_hash[0] &&
	    !f->libvirt_version && !f->qemu_version)
		return NULL;
	o = json_object_new_object();
	if (f->corosync_sha256[0])
		json_object_object_add(o, "corosync_sha256",
				       json_object_new_string(f->corosync_sha256));
	if (f->crypto_cipher[0])
		json_object_object_add(o, "crypto_cipher",
				       json_object_new_string(f->crypto_cipher));
	if (f->crypto_hash[0])
		json_object_object_add(o, "crypto_hash", json_object_new_string(f->crypto_hash));
	if (f->libvirt_version)
		json_object_object_add(o, "libvirt_version",
				       json_object_new_int64((int64_t)f->libvirt_version));
	if (f->qemu_version)
		json_object_object_add(o, "qemu_version",
				       json_object_new_int64((int64_t)f->qemu_version));
	return o;
}

struct json_object *cd_node_info_to_json(const struct cd_node_info *ni)
{
	struct json_object *o = json_object_new_object(), *a = json_object_new_array(), *cap;
	struct json_object *models, *facts;
	uint32_t i;

	json_object_object_add(o, "id", json_object_new_int64(ni->id));
	json_object_object_add(o, "name", json_object_new_string(ni->name));
	for (i = 0; i < ni->n_addrs; i++)
		json_object_array_add(a, json_object_new_string(ni->addrs[i]));
	json_object_object_add(o, "addresses", a);
	cap = json_object_new_object();
	json_object_object_add(cap, "cores", json_object_new_int64(ni->cap.cores));
	json_object_object_add(cap, "memory_mb", json_object_new_int64((int64_t)ni->cap.memory_mb));
	json_object_object_add(cap, "cpu_model", json_object_new_string(ni->cap.cpu_model));
	/* None known: left out, so the record reads as an older clusterd's does. */
	if (ni->cap.n_cpu_models) {
		models = json_object_new_array();
		for (i = 0; i < ni->cap.n_cpu_models; i++)
			json_object_array_add(models,
					      json_object_new_string(ni->cap.cpu_models[i]));
		json_object_object_add(cap, "cpu_models", models);
	}
	if (ni->cap.host_cpu_xml[0])
		json_object_object_add(cap, "host_cpu_xml",
				       json_object_new_string(ni->cap.host_cpu_xml));
	json_object_object_add(o, "capacity", cap);
	facts = facts_to_json(&ni->facts);
	if (facts)
		json_object_object_add(o, "facts", facts);
	return o;
}

static int copy_str(char *dst, size_t n, const char *src)
{
	if (!src || strlen(src) >= n)
		return -1;
	cd_strlcpy(dst, src, n);
	return 0;
}

/*
 * The CPU models a node can run: absent (a node of an older clusterd) is
 * none, that is not known; each must be a name, as libvirt's are.
 */
static int cpu_models_from_json(struct cd_capacity *cap, const struct json_object *o)
{
	struct json_object *a;
	size_t i;

	if (!json_object_object_get_ex(o, "cpu_models", &a))
		return 0;
	if (!json_object_is_type(a, json_type_array) ||
	    json_object_array_length(a) > CD_CPU_MODELS_MAX)
		return CD_ERR_INVALID;
	for (i = 0; i < json_object_array_length(a); i++) {
		struct json_object *e = json_object_array_get_idx(a, i);
		char *m = cap->cpu_models[i];

		if (!json_object_is_type(e, json_type_string) ||
		    copy_str(m, sizeof(cap->cpu_models[i]), json_object_get_string(e)) < 0 ||
		    !cd_valid_name(m, CD_CPU_MODEL_MAX))
			return CD_ERR_INVALID;
		cap->n_cpu_models++;
	}
	return 0;
}

/* Its host CPU's definition: absent (an older clusterd) is none; printable text. */
static int host_cpu_from_json(struct cd_capacity *cap, const struct json_object *o)
{
	const char *x;

	if (!json_object_object_get_ex(o, "host_cpu_xml", NULL))
		return 0;
	x = cd_jget_str(o, "host_cpu_xml");
	if (!x || !cd_valid_text(x, CD_HOST_CPU_XML_MAX))
		return CD_ERR_INVALID;
	cd_strlcpy(cap->host_cpu_xml, x, sizeof(cap->host_cpu_xml));
	return 0;
}

/* One optional string fact: absent is "", present must be a name that fits. */
static int fact_str(char *dst, size_t n, const struct json_object *o, const char *key)
{
	if (!json_object_object_get_ex(o, key, NULL))
		return 0;
	if (copy_str(dst, n, cd_jget_str(o, key)) < 0 || !cd_valid_name(dst, n - 1))
		return CD_ERR_INVALID;
	return 0;
}

/* Its facts: absent (an older clusterd) is none known; each is optional. */
static int facts_from_json(struct cd_node_facts *f, const struct json_object *o)
{
	struct json_object *fo;
	size_t i;

	if (!json_object_object_get_ex(o, "facts", &fo))
		return 0;
	if (!json_object_is_type(fo, json_type_object) ||
	    fact_str(f->corosync_sha256, sizeof(f->corosync_sha256), fo, "corosync_sha256") < 0 ||
	    fact_str(f->crypto_cipher, sizeof(f->crypto_cipher), fo, "crypto_cipher") < 0 ||
	    fact_str(f->crypto_hash, sizeof(f->crypto_hash), fo, "crypto_hash") < 0)
		return CD_ERR_INVALID;
	for (i = 0; f->corosync_sha256[i]; i++)
		if (!strchr("0123456789abcdef", f->corosync_sha256[i]))
			return CD_ERR_INVALID;
	if (i && i != 64)
		return CD_ERR_INVALID;
	if ((json_object_object_get_ex(fo, "libvirt_version", NULL) &&
	     cd_jget_u64(fo, "libvirt_version", &f->libvirt_version) < 0) ||
	    (json_object_object_get_ex(fo, "qemu_version", NULL) &&
	     cd_jget_u64(fo, "qemu_version", &f->qemu_version) < 0))
		return CD_ERR_INVALID;
	return 0;
}

int cd_node_info_from_json(struct cd_node_info *ni, const struct json_object *o)
{
	struct json_object *a, *cap;
	uint64_t id, cores, mem;
	size_t i;

	memset(ni, 0, sizeof(*ni));
	if (!o || !json_object_is_type(o, json_type_object) || cd_jget_u64(o, "id", &id) < 0 ||
	    id == 0 || id > UINT32_MAX)
		return CD_ERR_INVALID;
	ni->id = (uint32_t)id;
	if (copy_str(ni->name, sizeof(ni->name), cd_jget_str(o, "name")) < 0 ||
	    !cd_valid_name(ni->name, CD_NAME_MAX))
		return CD_ERR_INVALID;
	if (!json_object_object_get_ex(o, "addresses", &a) ||
	    !json_object_is_type(a, json_type_array) || json_object_array_length(a) > CD_ADDRS_MAX)
		return CD_ERR_INVALID;
	for (i = 0; i < json_object_array_length(a); i++) {
		struct json_object *e = json_object_array_get_idx(a, i);

		if (!json_object_is_type(e, json_type_string) ||
		    copy_str(ni->addrs[i], sizeof(ni->addrs[i]), json_object_get_string(e)) < 0)
			return CD_ERR_INVALID;
		ni->n_addrs++;
	}
	if (!json_object_object_get_ex(o, "capacity", &cap) ||
	    !json_object_is_type(cap, json_type_object) || cd_jget_u64(cap, "cores", &cores) < 0 ||
	    cores > UINT32_MAX || cd_jget_u64(cap, "memory_mb", &mem) < 0 ||
	    copy_str(ni->cap.cpu_model, sizeof(ni->cap.cpu_model), cd_jget_str(cap, "cpu_model")) <
		    0 ||
	    cpu_models_from_json(&ni->cap, cap) < 0 || host_cpu_from_json(&ni->cap, cap) < 0 ||
	    facts_from_json(&ni->facts, o) < 0)
		return CD_ERR_INVALID;
	ni->cap.cores = (uint32_t)cores;
	ni->cap.memory_mb = mem;
	return 0;
}
