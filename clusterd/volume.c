#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <clusterd/result.h>

#include "clusterd/state.h"
#include "clusterd/volume.h"
#include "lib/jsonget.h"
#include "lib/util.h"

#define FAIL(code, ...)                                                                  \
	do {                                                                               \
		snprintf(err, errlen, __VA_ARGS__);                                        \
		return (code);                                                             \
	} while (0)

static const char *const op_names[] = {
	[CD_VREQ_CREATE] = "create",
	[CD_VREQ_REMOVE] = "remove",
	[CD_VREQ_RESIZE] = "resize",
};

const char *cd_vreq_op_to_str(enum cd_vreq_op op)
{
	return (size_t)op < sizeof(op_names) / sizeof(op_names[0]) ? op_names[op] : "unknown";
}

static int op_from_str(const char *s, enum cd_vreq_op *op)
{
	size_t i;

	for (i = 0; s && i < sizeof(op_names) / sizeof(op_names[0]); i++)
		if (strcmp(op_names[i], s) == 0) {
			*op = (enum cd_vreq_op)i;
			return 0;
		}
	return -1;
}

const struct cd_volume *cd_state_volume(const struct cd_state *s, const char *name)
{
	size_t i;

	for (i = 0; i < s->n_volumes; i++)
		if (strcmp(s->volumes[i].name, name) == 0)
			return &s->volumes[i];
	return NULL;
}

static struct cd_volume *vol_mut(struct cd_state *s, const char *name)
{
	return name ? (struct cd_volume *)cd_state_volume(s, name) : NULL;
}

const struct cd_vresult *cd_volume_result(const struct cd_volume *v, uint64_t id)
{
	size_t i;

	for (i = 0; i < v->n_results; i++)
		if (v->results[i].id == id)
			return &v->results[i];
	return NULL;
}

const struct cd_vfile *cd_volume_file(const struct cd_volume *v, const char *name)
{
	size_t i;

	for (i = 0; i < v->n_files; i++)
		if (strcmp(v->files[i].name, name) == 0)
			return &v->files[i];
	return NULL;
}

void cd_volume_free(struct cd_volume *v)
{
	free(v->files);
	v->files = NULL;
	v->n_files = 0;
}

int cd_volume_copy(struct cd_volume *dst, const struct cd_volume *src)
{
	*dst = *src;
	dst->files = NULL;
	if (src->n_files) {
		dst->files = malloc(src->n_files * sizeof(*dst->files));
		if (!dst->files)
			return -ENOMEM;
		memcpy(dst->files, src->files, src->n_files * sizeof(*dst->files));
	}
	return 0;
}

#define NAMED_VOLUME(v)                                                                    \
	do {                                                                               \
		(v) = vol_mut(s, cd_jget_str(c, "name"));                                  \
		if (!(v))                                                                  \
			FAIL(CD_ERR_NOT_FOUND, "no volume '%s' (see 'clusterctl volume list')", \
			     cd_jget_str(c, "name") ? cd_jget_str(c, "name") : "");       \
	} while (0)

int cd_volume_op_add(struct cd_state *s, const struct json_object *c, char *err, size_t errlen)
{
	const char *name = cd_jget_str(c, "name"), *dev = cd_jget_str(c, "device"),
		   *uuid = cd_jget_str(c, "uuid");
	uint64_t hosts, expiry, renewal;
	struct cd_volume *nv, v;
	size_t i;

	if (!name || !cd_valid_name(name, sizeof(v.name) - 1))
		FAIL(CD_ERR_INVALID, "invalid volume name (use 1-63 of A-Z a-z 0-9 . _ -)");
	if (!dev || dev[0] != '/' || strlen(dev) > CD_VOL_DEVICE_MAX)
		FAIL(CD_ERR_INVALID, "the device must be an absolute path");
	if (!uuid || strlen(uuid) >= sizeof(v.uuid) || cd_jget_u64(c, "hosts", &hosts) < 0 ||
	    hosts == 0 || hosts > 1024 || cd_jget_u64(c, "expiry_ms", &expiry) < 0 ||
	    expiry == 0 || expiry > UINT32_MAX || cd_jget_u64(c, "renewal_ms", &renewal) < 0 ||
	    renewal == 0 || renewal > expiry)
		FAIL(CD_ERR_INVALID, "invalid volume description");
	for (i = 0; i < s->n_volumes; i++) {
		if (strcmp(s->volumes[i].name, name) == 0)
			FAIL(CD_ERR_EXISTS, "volume '%s' exists already", name);
		if (strcmp(s->volumes[i].uuid, uuid) == 0)
			FAIL(CD_ERR_EXISTS, "that csvfs volume is in the cluster already as '%s'",
			     s->volumes[i].name);
	}
	for (i = 0; i < s->n_nodes; i++)
		if (s->nodes[i].info.id > hosts)
			FAIL(CD_ERR_INVALID,
			     "node %s has id %u but the volume has %u host slots (format it with "
			     "--hosts %u or more)",
			     s->nodes[i].info.name, s->nodes[i].info.id, (unsigned)hosts,
			     s->nodes[i].info.id);
	memset(&v, 0, sizeof(v));
	cd_strlcpy(v.name, name, sizeof(v.name));
	cd_strlcpy(v.device, dev, sizeof(v.device));
	cd_strlcpy(v.uuid, uuid, sizeof(v.uuid));
	v.hosts = (uint32_t)hosts;
	v.expiry_ms = (uint32_t)expiry;
	v.renewal_ms = (uint32_t)renewal;
	nv = realloc(s->volumes, (s->n_volumes + 1) * sizeof(*nv));
	if (!nv)
		FAIL(-ENOMEM, "out of memory");
	s->volumes = nv;
	nv[s->n_volumes++] = v;
	return 0;
}

int cd_volume_op_remove(struct cd_state *s, const struct json_object *c, char *err, size_t errlen)
{
	struct cd_volume *v;
	size_t i;

	NAMED_VOLUME(v);
	if (v->n_files)
		FAIL(CD_ERR_INVALID, "volume '%s' still has %zu files; remove them first", v->name,
		     v->n_files);
	i = (size_t)(v - s->volumes);
	cd_volume_free(v);
	memmove(&s->volumes[i], &s->volumes[i + 1], (s->n_volumes - i - 1) * sizeof(*v));
	s->n_volumes--;
	return 0;
}

int cd_volume_op_request(struct cd_state *s, const struct json_object *c, char *err,
			 size_t errlen)
{
	const char *file = cd_jget_str(c, "file");
	struct cd_volume *v;
	struct cd_vreq r;
	uint64_t node;

	NAMED_VOLUME(v);
	memset(&r, 0, sizeof(r));
	if (cd_jget_u64(c, "id", &r.id) < 0 || r.id == 0 || cd_jget_u64(c, "node", &node) < 0 ||
	    op_from_str(cd_jget_str(c, "fop"), &r.op) < 0)
		FAIL(CD_ERR_INVALID, "malformed file request");
	if (!file || !cd_valid_name(file, sizeof(r.file) - 1))
		FAIL(CD_ERR_INVALID, "invalid file name (use 1-63 of A-Z a-z 0-9 . _ -)");
	if (r.op != CD_VREQ_REMOVE && (cd_jget_u64(c, "size", &r.size) < 0 || r.size == 0))
		FAIL(CD_ERR_INVALID, "a file needs a size above 0");
	{
		/* A retry of a request (same id): carried out once, answered once. */
		size_t k;

		if (cd_volume_result(v, r.id))
			return 0;
		for (k = 0; k < v->n_reqs; k++)
			if (v->reqs[k].id == r.id)
				return 0;
	}
	if (v->n_reqs == CD_VOL_MAX_REQUESTS)
		FAIL(-EAGAIN, "too many file requests waiting on volume '%s'; retry", v->name);
	r.node = (uint32_t)node;
	cd_strlcpy(r.file, file, sizeof(r.file));
	v->reqs[v->n_reqs++] = r;
	return 0;
}

int cd_vfiles_from_json(const struct json_object *a, struct cd_vfile **files, size_t *n)
{
	struct cd_vfile *f;
	size_t i, len;

	*files = NULL;
	*n = 0;
	if (!a || !json_object_is_type(a, json_type_array))
		return CD_ERR_INVALID;
	len = json_object_array_length(a);
	f = calloc(len + 1, sizeof(*f));
	if (!f)
		return -ENOMEM;
	for (i = 0; i < len; i++) {
		const struct json_object *o = json_object_array_get_idx(a, i);
		const char *name = cd_jget_str(o, "name");
		uint64_t index;

		if (!name || cd_strlcpy(f[i].name, name, sizeof(f[i].name)) >= sizeof(f[i].name) ||
		    cd_jget_u64(o, "index", &index) < 0 || index > UINT32_MAX ||
		    cd_jget_u64(o, "size", &f[i].size) < 0 ||
		    cd_jget_u64(o, "offset", &f[i].offset) < 0 ||
		    cd_jget_u64(o, "alloc", &f[i].alloc) < 0 ||
		    cd_jget_u64(o, "generation", &f[i].generation) < 0) {
			free(f);
			return CD_ERR_INVALID;
		}
		f[i].index = (uint32_t)index;
	}
	*files = f;
	*n = len;
	return 0;
}

int cd_volume_op_done(struct cd_state *s, const struct json_object *c, char *err, size_t errlen)
{
	struct json_object *files, *rc;
	struct cd_volume *v;
	struct cd_vresult res;
	uint64_t id, gen;
	size_t i, n;
	struct cd_vfile *nf;

	NAMED_VOLUME(v);
	memset(&res, 0, sizeof(res));
	if (cd_jget_u64(c, "id", &id) < 0 || !json_object_object_get_ex(c, "rc", &rc) ||
	    !json_object_is_type(rc, json_type_int) ||
	    cd_jget_u64(c, "meta_generation", &gen) < 0 ||
	    !json_object_object_get_ex(c, "files", &files))
		FAIL(CD_ERR_INVALID, "malformed file result");
	if (cd_vfiles_from_json(files, &nf, &n) < 0)
		FAIL(CD_ERR_INVALID, "malformed file list");
	/* The newest metadata wins; an older copy's list never replaces it. */
	if (gen >= v->meta_generation) {
		free(v->files);
		v->files = nf;
		v->n_files = n;
		v->meta_generation = gen;
	} else {
		free(nf);
	}
	for (i = 0; i < v->n_reqs; i++)
		if (v->reqs[i].id == id) {
			memmove(&v->reqs[i], &v->reqs[i + 1], (v->n_reqs - i - 1) * sizeof(v->reqs[0]));
			v->n_reqs--;
			break;
		}
	if (id == 0)
		return 0; /* a refresh of the file list, not an answer */
	res.id = id;
	res.rc = json_object_get_int(rc);
	if (cd_jget_str(c, "error"))
		cd_strlcpy(res.error, cd_jget_str(c, "error"), sizeof(res.error));
	if (v->n_results == CD_VOL_MAX_RESULTS) {
		memmove(&v->results[0], &v->results[1], (v->n_results - 1) * sizeof(res));
		v->n_results--;
	}
	v->results[v->n_results++] = res;
	return 0;
}

int cd_volume_op_coordinator(struct cd_state *s, const struct json_object *c, char *err,
			     size_t errlen)
{
	struct cd_volume *v;
	uint64_t node;

	NAMED_VOLUME(v);
	if (cd_jget_u64(c, "node", &node) < 0 || node > UINT32_MAX)
		FAIL(CD_ERR_INVALID, "malformed coordinator change");
	v->coordinator = (uint32_t)node;
	return 0;
}

/* --- serialization --- */

static struct json_object *u64j(uint64_t v)
{
	return json_object_new_int64((int64_t)v);
}

struct json_object *cd_vfile_to_json(const struct cd_vfile *f)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "name", json_object_new_string(f->name));
	json_object_object_add(o, "index", u64j(f->index));
	json_object_object_add(o, "size", u64j(f->size));
	json_object_object_add(o, "offset", u64j(f->offset));
	json_object_object_add(o, "alloc", u64j(f->alloc));
	json_object_object_add(o, "generation", u64j(f->generation));
	return o;
}

struct json_object *cd_volume_to_json(const struct cd_volume *v)
{
	struct json_object *o = json_object_new_object(), *a;
	size_t i;

	json_object_object_add(o, "name", json_object_new_string(v->name));
	json_object_object_add(o, "device", json_object_new_string(v->device));
	json_object_object_add(o, "uuid", json_object_new_string(v->uuid));
	json_object_object_add(o, "hosts", u64j(v->hosts));
	json_object_object_add(o, "expiry_ms", u64j(v->expiry_ms));
	json_object_object_add(o, "renewal_ms", u64j(v->renewal_ms));
	json_object_object_add(o, "coordinator", u64j(v->coordinator));
	json_object_object_add(o, "meta_generation", u64j(v->meta_generation));
	a = json_object_new_array();
	for (i = 0; i < v->n_files; i++)
		json_object_array_add(a, cd_vfile_to_json(&v->files[i]));
	json_object_object_add(o, "files", a);
	a = json_object_new_array();
	for (i = 0; i < v->n_reqs; i++) {
		struct json_object *r = json_object_new_object();

		json_object_object_add(r, "id", u64j(v->reqs[i].id));
		json_object_object_add(r, "node", u64j(v->reqs[i].node));
		json_object_object_add(r, "op", json_object_new_string(cd_vreq_op_to_str(v->reqs[i].op)));
		json_object_object_add(r, "file", json_object_new_string(v->reqs[i].file));
		json_object_object_add(r, "size", u64j(v->reqs[i].size));
		json_object_array_add(a, r);
	}
	json_object_object_add(o, "requests", a);
	a = json_object_new_array();
	for (i = 0; i < v->n_results; i++) {
		struct json_object *r = json_object_new_object();

		json_object_object_add(r, "id", u64j(v->results[i].id));
		json_object_object_add(r, "rc", json_object_new_int(v->results[i].rc));
		json_object_object_add(r, "error", json_object_new_string(v->results[i].error));
		json_object_array_add(a, r);
	}
	json_object_object_add(o, "results", a);
	return o;
}

int cd_volume_from_json(struct cd_volume *v, const struct json_object *o)
{
	struct json_object *a;
	uint64_t hosts, expiry, renewal, coord;
	size_t i;

	memset(v, 0, sizeof(*v));
	if (!cd_jget_str(o, "name") || !cd_jget_str(o, "device") || !cd_jget_str(o, "uuid") ||
	    cd_strlcpy(v->name, cd_jget_str(o, "name"), sizeof(v->name)) >= sizeof(v->name) ||
	    cd_strlcpy(v->device, cd_jget_str(o, "device"), sizeof(v->device)) >= sizeof(v->device) ||
	    cd_strlcpy(v->uuid, cd_jget_str(o, "uuid"), sizeof(v->uuid)) >= sizeof(v->uuid) ||
	    cd_jget_u64(o, "hosts", &hosts) < 0 || hosts > UINT32_MAX ||
	    cd_jget_u64(o, "expiry_ms", &expiry) < 0 || expiry > UINT32_MAX ||
	    cd_jget_u64(o, "renewal_ms", &renewal) < 0 || renewal > UINT32_MAX ||
	    cd_jget_u64(o, "coordinator", &coord) < 0 || coord > UINT32_MAX ||
	    cd_jget_u64(o, "meta_generation", &v->meta_generation) < 0 ||
	    !json_object_object_get_ex(o, "files", &a) ||
	    cd_vfiles_from_json(a, &v->files, &v->n_files) < 0)
		return CD_ERR_CORRUPT;
	v->hosts = (uint32_t)hosts;
	v->expiry_ms = (uint32_t)expiry;
	v->renewal_ms = (uint32_t)renewal;
	v->coordinator = (uint32_t)coord;
	if (!json_object_object_get_ex(o, "requests", &a) || !json_object_is_type(a, json_type_array) ||
	    json_object_array_length(a) > CD_VOL_MAX_REQUESTS)
		goto corrupt;
	for (i = 0; i < json_object_array_length(a); i++) {
		const struct json_object *r = json_object_array_get_idx(a, i);
		struct cd_vreq *q = &v->reqs[i];
		uint64_t node;

		if (cd_jget_u64(r, "id", &q->id) < 0 || cd_jget_u64(r, "node", &node) < 0 ||
		    op_from_str(cd_jget_str(r, "op"), &q->op) < 0 || !cd_jget_str(r, "file") ||
		    cd_jget_u64(r, "size", &q->size) < 0)
			goto corrupt;
		q->node = (uint32_t)node;
		cd_strlcpy(q->file, cd_jget_str(r, "file"), sizeof(q->file));
		v->n_reqs++;
	}
	if (!json_object_object_get_ex(o, "results", &a) || !json_object_is_type(a, json_type_array) ||
	    json_object_array_length(a) > CD_VOL_MAX_RESULTS)
		goto corrupt;
	for (i = 0; i < json_object_array_length(a); i++) {
		const struct json_object *r = json_object_array_get_idx(a, i);
		struct json_object *rc;

		if (cd_jget_u64(r, "id", &v->results[i].id) < 0 ||
		    !json_object_object_get_ex(r, "rc", &rc) || !cd_jget_str(r, "error"))
			goto corrupt;
		v->results[i].rc = json_object_get_int(rc);
		cd_strlcpy(v->results[i].error, cd_jget_str(r, "error"), sizeof(v->results[i].error));
		v->n_results++;
	}
	return 0;
corrupt:
	cd_volume_free(v);
	return CD_ERR_CORRUPT;
}
