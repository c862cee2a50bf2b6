#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <clusterd/result.h>

#include "core/change.h"
#include "core/fencedev.h"
#include "core/node.h"
#include "core/props.h"
#include "core/state.h"
#include "lib/jsonget.h"
#include "lib/util.h"

int cd_version_cmp(struct cd_version a, struct cd_version b)
{
	if (a.epoch != b.epoch)
		return a.epoch < b.epoch ? -1 : 1;
	if (a.seq != b.seq)
		return a.seq < b.seq ? -1 : 1;
	return 0;
}

void cd_state_free(struct cd_state *s)
{
	size_t i;

	for (i = 0; i < s->n_props; i++) {
		free(s->props[i].key);
		free(s->props[i].value);
	}
	free(s->props);
	free(s->nodes);
	for (i = 0; i < s->n_vms; i++) {
		cd_vm_free(s->vms[i]);
		free(s->vms[i]);
	}
	free(s->vms);
	for (i = 0; i < s->n_volumes; i++)
		cd_volume_free(&s->volumes[i]);
	free(s->volumes);
	for (i = 0; i < s->n_fencedevs; i++)
		cd_fencedev_free(&s->fencedevs[i]);
	free(s->fencedevs);
	free(s->maints);
	cd_vm_keys_free(s->vm_keys);
	memset(s, 0, sizeof(*s));
}

void cd_state_init(struct cd_state *s)
{
	memset(s, 0, sizeof(*s));
}

int cd_state_copy(struct cd_state *dst, const struct cd_state *src)
{
	size_t i;

	memset(dst, 0, sizeof(*dst));
	dst->version = src->version;
	dst->last_action_id = src->last_action_id;
	if (src->n_nodes) {
		dst->nodes = malloc(src->n_nodes * sizeof(*dst->nodes));
		if (!dst->nodes)
			goto fail;
		memcpy(dst->nodes, src->nodes, src->n_nodes * sizeof(*dst->nodes));
		dst->n_nodes = src->n_nodes;
	}
	if (src->n_props) {
		dst->props = calloc(src->n_props, sizeof(*dst->props));
		if (!dst->props)
			goto fail;
		for (i = 0; i < src->n_props; i++) {
			dst->props[i].key = strdup(src->props[i].key);
			dst->props[i].value = strdup(src->props[i].value);
			dst->n_props = i + 1;
			if (!dst->props[i].key || !dst->props[i].value)
				goto fail;
		}
	}
	if (src->n_vms) {
		dst->vms = calloc(src->n_vms, sizeof(*dst->vms));
		if (!dst->vms)
			goto fail;
		dst->vms_cap = src->n_vms;
		for (i = 0; i < src->n_vms; i++) {
			int rc;

			if (!(dst->vms[i] = calloc(1, sizeof(*dst->vms[i]))))
				goto fail;
			rc = cd_vm_copy(dst->vms[i], src->vms[i]);
			dst->n_vms = i + 1;
			if (rc < 0)
				goto fail;
		}
	}
	if (src->n_fencedevs) {
		dst->fencedevs = calloc(src->n_fencedevs, sizeof(*dst->fencedevs));
		if (!dst->fencedevs)
			goto fail;
		for (i = 0; i < src->n_fencedevs; i++) {
			if (cd_fencedev_copy(&dst->fencedevs[i], &src->fencedevs[i]) < 0)
				goto fail;
			dst->n_fencedevs = i + 1;
		}
	}
	if (src->n_volumes) {
		dst->volumes = calloc(src->n_volumes, sizeof(*dst->volumes));
		if (!dst->volumes)
			goto fail;
		for (i = 0; i < src->n_volumes; i++) {
			int rc = cd_volume_copy(&dst->volumes[i], &src->volumes[i]);

			dst->n_volumes = i + 1;
			if (rc < 0)
				goto fail;
		}
	}
	if (src->n_maints) {
		/* A schedule holds no pointers: its bytes are all of it. */
		dst->maints = malloc(src->n_maints * sizeof(*dst->maints));
		if (!dst->maints)
			goto fail;
		memcpy(dst->maints, src->maints, src->n_maints * sizeof(*dst->maints));
		dst->n_maints = src->n_maints;
	}
	return 0;
fail:
	cd_state_free(dst);
	return -ENOMEM;
}

static size_t prop_index(const struct cd_state *s, const char *key, int *found)
{
	size_t lo = 0, hi = s->n_props;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (strcmp(s->props[mid].key, key) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	*found = lo < s->n_props && strcmp(s->props[lo].key, key) == 0;
	return lo;
}

const char *cd_state_prop(const struct cd_state *s, const char *key)
{
	int found;
	size_t i = prop_index(s, key, &found);

	return found ? s->props[i].value : NULL;
}

static int prop_set(struct cd_state *s, const char *key, const char *value)
{
	int found;
	size_t i = prop_index(s, key, &found);
	char *v = strdup(value), *k = NULL;
	struct cd_prop *np;

	if (!v)
		return -ENOMEM;
	if (found) {
		free(s->props[i].value);
		s->props[i].value = v;
		return 0;
	}
	k = strdup(key);
	np = realloc(s->props, (s->n_props + 1) * sizeof(*np));
	if (!k || !np) {
		free(k);
		free(v);
		if (np)
			s->props = np;
		return -ENOMEM;
	}
	s->props = np;
	memmove(&np[i + 1], &np[i], (s->n_props - i) * sizeof(*np));
	np[i].key = k;
	np[i].value = v;
	s->n_props++;
	return 0;
}

/* --- changes --- */

#define FAIL CD_FAIL

/* A property as property.set takes it and a state keeps it. */
static int check_prop(const char *key, const char *value, char *err, size_t errlen)
{
	if (!key || !cd_valid_name(key, CD_PROP_KEY_MAX))
		FAIL(CD_ERR_INVALID, "invalid property name (use 1-%d of A-Z a-z 0-9 . _ -)",
		     CD_PROP_KEY_MAX);
	if (!value || strlen(value) > CD_PROP_VALUE_MAX)
		FAIL(CD_ERR_INVALID, "invalid property value (at most %d bytes)",
		     CD_PROP_VALUE_MAX);
	/* The properties clusterd itself reads: a bad value is refused, not ignored. */
	return cd_props_check(key, value, err, errlen);
}

int cd_state_op_property_set(struct cd_state *s, const struct json_object *c, char *err,
			     size_t errlen)
{
	const char *key = cd_jget_str(c, "key"), *value = cd_jget_str(c, "value");
	int rc;

	if ((rc = check_prop(key, value, err, errlen)) < 0)
		return rc;
	if (!cd_state_prop(s, key) && s->n_props >= CD_MAX_PROPS)
		FAIL(CD_ERR_INVALID, "the cluster has %d properties already, its limit",
		     CD_MAX_PROPS);
	if (prop_set(s, key, value) < 0)
		FAIL(-ENOMEM, "out of memory");
	return 0;
}

int cd_state_op_property_delete(struct cd_state *s, const struct json_object *c, char *err,
				size_t errlen)
{
	const char *key = cd_jget_str(c, "key");
	int found;
	size_t i;

	if (!key)
		FAIL(CD_ERR_INVALID, "missing property name");
	i = prop_index(s, key, &found);
	if (!found)
		FAIL(CD_ERR_NOT_FOUND, "no property '%s'", key);
	free(s->props[i].key);
	free(s->props[i].value);
	memmove(&s->props[i], &s->props[i + 1], (s->n_props - i - 1) * sizeof(*s->props));
	s->n_props--;
	return 0;
}

int cd_state_apply(struct cd_state *s, const struct json_object *change, char *err, size_t errlen)
{
	return cd_state_apply_from(s, change, 0, err, errlen);
}

int cd_state_apply_from(struct cd_state *s, const struct json_object *change, uint32_t sender,
			char *err, size_t errlen)
{
	enum cd_change kind;
	const char *op;
	int rc;

	if (!change || !json_object_is_type(change, json_type_object))
		FAIL(CD_ERR_PROTOCOL, "a change must be a JSON object");
	op = cd_jget_str(change, "op");
	if (!op)
		FAIL(CD_ERR_PROTOCOL, "a change needs an op");
	if (cd_change_lookup(op, &kind) < 0)
		FAIL(CD_ERR_PROTOCOL, "unknown change '%s'", op);
	if ((rc = cd_change_check_sender(s, kind, change, sender, err, errlen)) < 0)
		return rc;
	rc = cd_change_row(kind)->apply(s, change, err, errlen);
	if (rc == 0)
		s->version.seq++;
	return rc;
}

/* --- serialization --- */

struct json_object *cd_state_to_json(const struct cd_state *s)
{
	return cd_state_to_json_ext(s, true);
}

struct json_object *cd_state_to_json_ext(const struct cd_state *s, bool with_vms)
{
	struct json_object *o = json_object_new_object(), *v = json_object_new_object();
	struct json_object *nodes = json_object_new_array(), *props = json_object_new_object();
	struct json_object *vms;
	size_t i;

	json_object_object_add(o, "format", json_object_new_int(CD_STATE_FORMAT));
	json_object_object_add(v, "epoch", json_object_new_int64((int64_t)s->version.epoch));
	json_object_object_add(v, "seq", json_object_new_int64((int64_t)s->version.seq));
	json_object_object_add(o, "version", v);
	for (i = 0; i < s->n_nodes; i++) {
		const struct cd_node *n = &s->nodes[i];
		struct json_object *no = cd_node_info_to_json(&n->info), *dj;

		json_object_object_add(no, "member", json_object_new_boolean(n->member));
		json_object_object_add(no, "maintenance", json_object_new_boolean(n->maintenance));
		json_object_object_add(no, "dead", json_object_new_boolean(n->dead));
		json_object_object_add(no, "dead_how", json_object_new_string(n->dead_how));
		json_object_object_add(no, "left_ms", json_object_new_int64((int64_t)n->left_ms));
		json_object_object_add(no, "quarantine_until",
				       json_object_new_int64((int64_t)n->quarantine_until));
		{
			struct json_object *rj = json_object_new_array();
			size_t k;

			for (k = 0; k < CD_FLAP_LIMIT; k++)
				json_object_array_add(
					rj, json_object_new_int64((int64_t)n->rejoins[k]));
			json_object_object_add(no, "rejoins", rj);
		}
		json_object_object_add(no, "last_change",
				       json_object_new_int64((int64_t)n->last_change));
		if ((dj = cd_drain_to_json(&n->drain)))
			json_object_object_add(no, "drain", dj);
		json_object_array_add(nodes, no);
	}
	json_object_object_add(o, "nodes", nodes);
	for (i = 0; i < s->n_props; i++)
		json_object_object_add(props, s->props[i].key,
				       json_object_new_string(s->props[i].value));
	json_object_object_add(o, "properties", props);
	json_object_object_add(o, "last_action_id",
			       json_object_new_int64((int64_t)s->last_action_id));
	vms = json_object_new_array();
	for (i = 0; with_vms && i < s->n_vms; i++)
		json_object_array_add(vms, cd_vm_to_json(s->vms[i]));
	json_object_object_add(o, "vms", vms);
	vms = json_object_new_array();
	for (i = 0; i < s->n_volumes; i++)
		json_object_array_add(vms, cd_volume_to_json(&s->volumes[i]));
	json_object_object_add(o, "volumes", vms);
	vms = json_object_new_array();
	for (i = 0; i < s->n_fencedevs; i++)
		json_object_array_add(vms, cd_fencedev_to_json(&s->fencedevs[i]));
	json_object_object_add(o, "fence_devices", vms);
	if (s->n_maints) {
		vms = json_object_new_array();
		for (i = 0; i < s->n_maints; i++)
			json_object_array_add(vms, cd_maint_to_json(&s->maints[i]));
		json_object_object_add(o, "maintenance", vms);
	}
	return o;
}

/*
 * The largest state serializes below CD_STATE_JSON_MAX (the arithmetic is
 * in state.h), with 64 KiB for the top level and the separators.
 */
#define LARGEST_STATE_JSON                                                                         \
	((uint64_t)CD_MAX_VMS * CD_VM_JSON_MAX + 2ull * CD_STATE_XML_MAX +                         \
	 (uint64_t)CD_MAX_VOLUMES * CD_VOLUME_JSON_MAX +                                           \
	 (uint64_t)CD_MAX_NODES * CD_NODE_JSON_MAX +                                               \
	 (uint64_t)CD_MAX_FENCEDEVS * CD_FENCEDEV_JSON_MAX +                                       \
	 (uint64_t)CD_MAX_PROPS * CD_PROP_JSON_MAX + (uint64_t)CD_MAINT_MAX * CD_MAINT_JSON_MAX +  \
	 64 * 1024)
_Static_assert(LARGEST_STATE_JSON <= CD_STATE_JSON_MAX, "the largest state must fit a snapshot");

/* An optional unsigned member: absent is 0, anything else must be valid. */
static int opt_u64(const struct json_object *o, const char *key, uint64_t *out)
{
	*out = 0;
	return json_object_object_get_ex(o, key, NULL) ? cd_jget_u64(o, key, out) : 0;
}

static int nodes_from_json(struct cd_state *s, const struct json_object *nodes, char *err,
			   size_t errlen)
{
	size_t i, k;

	if (json_object_array_length(nodes) > CD_MAX_NODES)
		FAIL(CD_ERR_CORRUPT, "state lists %zu nodes (at most %d)",
		     json_object_array_length(nodes), CD_MAX_NODES);
	for (i = 0; i < json_object_array_length(nodes); i++) {
		struct json_object *no = json_object_array_get_idx(nodes, i), *rj, *dj;
		const char *how = cd_jget_str(no, "dead_how");
		struct cd_node_info ni;
		struct cd_node *n;

		if (cd_node_info_from_json(&ni, no) < 0)
			FAIL(CD_ERR_CORRUPT, "state node %zu is invalid", i);
		if (cd_state_node_by_id(s, ni.id))
			FAIL(CD_ERR_CORRUPT, "state lists node id %u twice", ni.id);
		n = cd_state_node_upsert(s, ni.id);
		if (!n)
			FAIL(-ENOMEM, "out of memory");
		n->info = ni;
		n->dead = cd_jget_bool_or(no, "dead", false);
		if (opt_u64(no, "left_ms", &n->left_ms) < 0 ||
		    opt_u64(no, "quarantine_until", &n->quarantine_until) < 0)
			FAIL(CD_ERR_CORRUPT, "state node %u has an invalid time", ni.id);
		if (json_object_object_get_ex(no, "rejoins", &rj)) {
			if (!json_object_is_type(rj, json_type_array) ||
			    json_object_array_length(rj) > CD_FLAP_LIMIT)
				FAIL(CD_ERR_CORRUPT, "state node %u has invalid rejoins", ni.id);
			for (k = 0; k < json_object_array_length(rj); k++) {
				struct json_object *e = json_object_array_get_idx(rj, k);

				if (!json_object_is_type(e, json_type_int) ||
				    json_object_get_int64(e) < 0)
					FAIL(CD_ERR_CORRUPT, "state node %u has invalid rejoins",
					     ni.id);
				n->rejoins[k] = (uint64_t)json_object_get_int64(e);
			}
		}
		if (how) {
			if (!cd_valid_text(how, CD_DEAD_HOW_MAX))
				FAIL(CD_ERR_CORRUPT, "state node %u has an invalid dead_how",
				     ni.id);
			cd_strlcpy(n->dead_how, how, sizeof(n->dead_how));
		}
		if (cd_jget_bool(no, "member", &n->member) < 0 ||
		    cd_jget_bool(no, "maintenance", &n->maintenance) < 0 ||
		    cd_jget_u64(no, "last_change", &n->last_change) < 0)
			FAIL(CD_ERR_CORRUPT, "state node %u is invalid", ni.id);
		dj = NULL;
		json_object_object_get_ex(no, "drain", &dj);
		if (cd_drain_from_json(&n->drain, dj) < 0)
			FAIL(CD_ERR_CORRUPT, "state node %u has an invalid drain", ni.id);
	}
	return 0;
}

static int props_from_json(struct cd_state *s, struct json_object *props, char *err, size_t errlen)
{
	struct json_object_iterator it = json_object_iter_begin(props);
	struct json_object_iterator end = json_object_iter_end(props);
	char why[128];

	if (json_object_object_length(props) > CD_MAX_PROPS)
		FAIL(CD_ERR_CORRUPT, "state has %d properties (at most %d)",
		     json_object_object_length(props), CD_MAX_PROPS);
	for (; !json_object_iter_equal(&it, &end); json_object_iter_next(&it)) {
		const char *k = json_object_iter_peek_name(&it);
		struct json_object *pv = json_object_iter_peek_value(&it);

		if (!json_object_is_type(pv, json_type_string))
			FAIL(CD_ERR_CORRUPT, "state property '%s' is invalid", k);
		if (check_prop(k, json_object_get_string(pv), why, sizeof(why)) < 0)
			FAIL(CD_ERR_CORRUPT, "state property '%s' is invalid: %s", k, why);
		if (prop_set(s, k, json_object_get_string(pv)) < 0)
			FAIL(-ENOMEM, "out of memory");
	}
	return 0;
}

static int vms_from_json(struct cd_state *s, const struct json_object *vms, char *err,
			 size_t errlen)
{
	size_t i, n = json_object_array_length(vms), xml = 0;
	char why[160];

	if (n > CD_MAX_VMS)
		FAIL(CD_ERR_CORRUPT, "state lists %zu VMs (at most %d)", n, CD_MAX_VMS);
	s->vms = calloc(n + 1, sizeof(*s->vms));
	if (!s->vms)
		FAIL(-ENOMEM, "out of memory");
	s->vms_cap = n + 1;
	for (i = 0; i < n; i++) {
		struct cd_vm *vm = calloc(1, sizeof(*vm));
		int rc;

		if (!vm)
			FAIL(-ENOMEM, "out of memory");
		rc = cd_vm_from_json(vm, json_object_array_get_idx(vms, i), why, sizeof(why));
		if (rc < 0) {
			free(vm);
			FAIL(rc, "state VM %zu is invalid: %s", i, why);
		}
		s->vms[s->n_vms++] = vm;
		if (s->n_vms > 1 && strcmp(s->vms[s->n_vms - 2]->name, vm->name) >= 0)
			FAIL(CD_ERR_CORRUPT, "state VMs are not sorted by name");
		xml += strlen(vm->xml);
		if (xml > CD_STATE_XML_MAX)
			FAIL(CD_ERR_CORRUPT, "the state's domain XML exceeds %d MiB",
			     CD_STATE_XML_MAX / (1024 * 1024));
	}
	return 0;
}

static int volumes_from_json(struct cd_state *s, const struct json_object *vols, char *err,
			     size_t errlen)
{
	size_t i, k, n = json_object_array_length(vols);
	char why[160];

	if (n > CD_MAX_VOLUMES)
		FAIL(CD_ERR_CORRUPT, "state lists %zu volumes (at most %d)", n, CD_MAX_VOLUMES);
	s->volumes = calloc(n + 1, sizeof(*s->volumes));
	if (!s->volumes)
		FAIL(-ENOMEM, "out of memory");
	for (i = 0; i < n; i++) {
		struct cd_volume *v = &s->volumes[s->n_volumes];
		int rc = cd_volume_from_json(v, json_object_array_get_idx(vols, i), why,
					     sizeof(why));

		if (rc < 0)
			FAIL(rc, "state volume %zu is invalid: %s", i, why);
		s->n_volumes++;
		for (k = 0; k + 1 < s->n_volumes; k++)
			if (strcmp(s->volumes[k].name, v->name) == 0 ||
			    strcmp(s->volumes[k].uuid, v->uuid) == 0)
				FAIL(CD_ERR_CORRUPT, "state lists volume %s twice", v->name);
	}
	return 0;
}

static int maints_from_json(struct cd_state *s, const struct json_object *a, char *err,
			    size_t errlen)
{
	size_t i, n = json_object_array_length(a);
	char why[192];

	if (n > CD_MAINT_MAX)
		FAIL(CD_ERR_CORRUPT, "state lists %zu maintenance schedules (at most %d)", n,
		     CD_MAINT_MAX);
	s->maints = calloc(n + 1, sizeof(*s->maints));
	if (!s->maints)
		FAIL(-ENOMEM, "out of memory");
	for (i = 0; i < n; i++) {
		struct cd_maint *m = &s->maints[i];

		if (cd_maint_from_json(m, json_object_array_get_idx(a, i), why, sizeof(why)) < 0)
			FAIL(CD_ERR_CORRUPT, "state maintenance %zu is invalid: %s", i, why);
		if (i > 0 && strcmp(s->maints[i - 1].name, m->name) >= 0)
			FAIL(CD_ERR_CORRUPT, "state maintenance schedules are not sorted by name");
		s->n_maints = i + 1;
	}
	return 0;
}

#undef FAIL
#define FAIL(code, ...)                                                                            \
	do {                                                                                       \
		snprintf(err, errlen, __VA_ARGS__);                                                \
		cd_state_free(s);                                                                  \
		return (code);                                                                     \
	} while (0)

/* Undo a part that failed: its helper has set err. */
#define FAILED(rc)                                                                                 \
	do {                                                                                       \
		cd_state_free(s);                                                                  \
		return (rc);                                                                       \
	} while (0)

int cd_state_from_json(struct cd_state *s, const struct json_object *o, char *err, size_t errlen)
{
	struct json_object *v, *nodes, *props, *vms;
	uint64_t format;
	size_t i;
	int rc;

	cd_state_init(s);
	if (!o || !json_object_is_type(o, json_type_object))
		FAIL(CD_ERR_CORRUPT, "state is not a JSON object");
	if (cd_jget_u64(o, "format", &format) < 0)
		FAIL(CD_ERR_CORRUPT, "state has no format");
	/* The older formats differ in fence devices only: fencedev.c converts them. */
	if (format < CD_STATE_FORMAT_OLDEST || format > CD_STATE_FORMAT)
		FAIL(CD_ERR_VERSION, "state format %" PRIu64 " is not supported (want %d to %d)",
		     format, CD_STATE_FORMAT_OLDEST, CD_STATE_FORMAT);
	if (!json_object_object_get_ex(o, "version", &v) ||
	    cd_jget_u64(v, "epoch", &s->version.epoch) < 0 ||
	    cd_jget_u64(v, "seq", &s->version.seq) < 0)
		FAIL(CD_ERR_CORRUPT, "state has no valid version");
	if (!json_object_object_get_ex(o, "nodes", &nodes) ||
	    !json_object_is_type(nodes, json_type_array))
		FAIL(CD_ERR_CORRUPT, "state has no node list");
	if ((rc = nodes_from_json(s, nodes, err, errlen)) < 0)
		FAILED(rc);
	if (!json_object_object_get_ex(o, "properties", &props) ||
	    !json_object_is_type(props, json_type_object))
		FAIL(CD_ERR_CORRUPT, "state has no property map");
	if ((rc = props_from_json(s, props, err, errlen)) < 0)
		FAILED(rc);
	/* Absent in states written before VMs existed. */
	if (json_object_object_get_ex(o, "last_action_id", &v) &&
	    cd_jget_u64(o, "last_action_id", &s->last_action_id) < 0)
		FAIL(CD_ERR_CORRUPT, "state has an invalid last action id");
	if (json_object_object_get_ex(o, "vms", &vms)) {
		if (!json_object_is_type(vms, json_type_array))
			FAIL(CD_ERR_CORRUPT, "state has no valid VM list");
		if ((rc = vms_from_json(s, vms, err, errlen)) < 0)
			FAILED(rc);
	}
	if (json_object_object_get_ex(o, "volumes", &vms)) {
		if (!json_object_is_type(vms, json_type_array))
			FAIL(CD_ERR_CORRUPT, "state has no valid volume list");
		if ((rc = volumes_from_json(s, vms, err, errlen)) < 0)
			FAILED(rc);
	}
	if (json_object_object_get_ex(o, "fence_devices", &vms)) {
		if (!json_object_is_type(vms, json_type_array))
			FAIL(CD_ERR_CORRUPT, "state has no valid fence device list");
		if (json_object_array_length(vms) > CD_MAX_FENCEDEVS)
			FAIL(CD_ERR_CORRUPT, "state lists %zu fence devices (at most %d)",
			     json_object_array_length(vms), CD_MAX_FENCEDEVS);
		for (i = 0; i < json_object_array_length(vms); i++) {
			struct json_object *f = json_object_array_get_idx(vms, i);
			char e2[192];

			/* fence.add's own checks, limits included; old forms converted. */
			if (!json_object_is_type(f, json_type_object) ||
			    cd_fencedev_from_json(s, f, e2, sizeof(e2)) < 0)
				FAIL(CD_ERR_CORRUPT, "state fence device %zu is invalid: %s", i,
				     json_object_is_type(f, json_type_object) ? e2
									      : "not an object");
		}
	}
	/* Absent in states without scheduled maintenance. */
	if (json_object_object_get_ex(o, "maintenance", &vms)) {
		if (!json_object_is_type(vms, json_type_array))
			FAIL(CD_ERR_CORRUPT, "state has no valid maintenance list");
		if ((rc = maints_from_json(s, vms, err, errlen)) < 0)
			FAILED(rc);
	}
	return 0;
}
