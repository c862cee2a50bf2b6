#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <clusterd/result.h>

#include "core/state.h"
#include "core/volume.h"
#include "lib/fsm.h"
#include "lib/jsonget.h"
#include "lib/util.h"

#define FAIL CD_FAIL

static const char *const op_names[] = {
	[CD_VREQ_CREATE] = "create",
	[CD_VREQ_REMOVE] = "remove",
	[CD_VREQ_RESIZE] = "resize",
};

const char *cd_vreq_op_to_str(enum cd_vreq_op op)
{
	return cd_fsm_name(op_names, sizeof(op_names) / sizeof(op_names[0]), (int)op);
}

static int op_from_str(const char *s, enum cd_vreq_op *op)
{
	int i = cd_fsm_index(op_names, sizeof(op_names) / sizeof(op_names[0]), s);

	if (i < 0)
		return -1;
	*op = (enum cd_vreq_op)i;
	return 0;
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

#define NAMED_VOLUME(v)                                                                            \
	do {                                                                                       \
		(v) = vol_mut(s, cd_jget_str(c, "name"));                                          \
		if (!(v))                                                                          \
			FAIL(CD_ERR_NOT_FOUND, "no volume '%s' (see 'clusterctl volume list')",    \
			     cd_jget_str(c, "name") ? cd_jget_str(c, "name") : "");                \
	} while (0)

/*
 * A volume's description, as volume.add takes it and a state keeps it. Its
 * name becomes a directory of the csvfs run directory and its device is
 * opened on every node: neither may lead anywhere else.
 */
static int check_desc(const char *name, const char *dev, const char *uuid, uint64_t hosts,
		      uint64_t expiry, uint64_t renewal, char *err, size_t errlen)
{
	if (!name || !cd_valid_path_name(name, CD_NAME_MAX))
		FAIL(CD_ERR_INVALID,
		     "invalid volume name (use 1-%d of A-Z a-z 0-9 . _ -, "
		     "not starting with '.')",
		     CD_NAME_MAX);
	if (!dev || !cd_valid_abs_path(dev, CD_VOL_DEVICE_MAX))
		FAIL(CD_ERR_INVALID,
		     "the device must be an absolute path of at most %d bytes without . or .. "
		     "components",
		     CD_VOL_DEVICE_MAX);
	if (!uuid || !cd_valid_name(uuid, sizeof(((struct cd_volume *)0)->uuid) - 1))
		FAIL(CD_ERR_INVALID, "invalid volume UUID");
	if (hosts == 0 || hosts > CD_VOL_MAX_HOSTS)
		FAIL(CD_ERR_INVALID, "invalid host slot count %" PRIu64 " (1 to %u)", hosts,
		     CD_VOL_MAX_HOSTS);
	if (expiry == 0 || expiry > UINT32_MAX || renewal == 0 || renewal > expiry)
		FAIL(CD_ERR_INVALID,
		     "invalid lease timing (expiry %" PRIu64 " ms, renewal %" PRIu64 " ms)", expiry,
		     renewal);
	return 0;
}

int cd_volume_op_add(struct cd_state *s, const struct json_object *c, char *err, size_t errlen)
{
	const char *name = cd_jget_str(c, "name"), *dev = cd_jget_str(c, "device"),
		   *uuid = cd_jget_str(c, "uuid");
	uint64_t hosts, expiry, renewal;
	struct cd_volume *nv, v;
	size_t i;
	int rc;

	if (cd_jget_u64(c, "hosts", &hosts) < 0 || cd_jget_u64(c, "expiry_ms", &expiry) < 0 ||
	    cd_jget_u64(c, "renewal_ms", &renewal) < 0)
		FAIL(CD_ERR_INVALID, "invalid volume description");
	if ((rc = check_desc(name, dev, uuid, hosts, expiry, renewal, err, errlen)) < 0)
		return rc;
	for (i = 0; i < s->n_volumes; i++) {
		if (strcmp(s->volumes[i].name, name) == 0)
			FAIL(CD_ERR_EXISTS, "volume '%s' exists already", name);
		if (strcmp(s->volumes[i].uuid, uuid) == 0)
			FAIL(CD_ERR_EXISTS, "that csvfs volume is in the cluster already as '%s'",
			     s->volumes[i].name);
	}
	if (s->n_volumes >= CD_MAX_VOLUMES)
		FAIL(CD_ERR_INVALID, "the cluster has %d volumes already, its limit",
		     CD_MAX_VOLUMES);
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

/*
 * A file request, as volume.request takes it and a state keeps it. The
 * file's name becomes a symlink in the volume's run directory.
 */
static int check_request(const struct cd_vreq *r, uint64_t node, const char *file, char *err,
			 size_t errlen)
{
	if (r->id == 0 || node > UINT32_MAX)
		FAIL(CD_ERR_INVALID, "malformed file request");
	if (!file || !cd_valid_path_name(file, sizeof(r->file) - 1))
		FAIL(CD_ERR_INVALID,
		     "invalid file name (use 1-%zu of A-Z a-z 0-9 . _ -, not "
		     "starting with '.')",
		     sizeof(r->file) - 1);
	if (r->op != CD_VREQ_REMOVE && (r->size == 0 || r->size > CD_VOL_FILE_SIZE_MAX))
		FAIL(CD_ERR_INVALID, "a file needs a size above 0 and at most %" PRIu64 " bytes",
		     CD_VOL_FILE_SIZE_MAX);
	return 0;
}

int cd_volume_op_request(struct cd_state *s, const struct json_object *c, char *err, size_t errlen)
{
	const char *file = cd_jget_str(c, "file");
	struct cd_volume *v;
	struct cd_vreq r;
	uint64_t node;
	int rc;

	NAMED_VOLUME(v);
	memset(&r, 0, sizeof(r));
	if (cd_jget_u64(c, "id", &r.id) < 0 || cd_jget_u64(c, "node", &node) < 0 ||
	    op_from_str(cd_jget_str(c, "fop"), &r.op) < 0)
		FAIL(CD_ERR_INVALID, "malformed file request");
	if (r.op != CD_VREQ_REMOVE && cd_jget_u64(c, "size", &r.size) < 0)
		FAIL(CD_ERR_INVALID, "a file needs a size above 0");
	if ((rc = check_request(&r, node, file, err, errlen)) < 0)
		return rc;
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

int cd_vfile_check(const struct cd_vfile *f, char *err, size_t errlen)
{
	if (!cd_valid_path_name(f->name, sizeof(f->name) - 1))
		FAIL(CD_ERR_INVALID, "invalid file name '%s'", f->name);
	if (f->index >= CD_VOL_MAX_FILES)
		FAIL(CD_ERR_INVALID, "file %s: index %u out of range", f->name, f->index);
	if (f->size == 0 || f->size > CD_VOL_FILE_SIZE_MAX || f->size > f->alloc)
		FAIL(CD_ERR_INVALID, "file %s: size %" PRIu64 " out of range", f->name, f->size);
	if (f->offset < CD_VOL_ALLOC_UNIT || f->offset % CD_VOL_ALLOC_UNIT ||
	    f->alloc % CD_VOL_ALLOC_UNIT || f->offset > CD_VOL_EXTENT_END_MAX ||
	    f->alloc > CD_VOL_EXTENT_END_MAX - f->offset)
		FAIL(CD_ERR_INVALID,
		     "file %s: extent %" PRIu64 "+%" PRIu64 " is not whole units in range", f->name,
		     f->offset, f->alloc);
	return 0;
}

static int cmp_extent(const void *a, const void *b)
{
	const struct cd_vfile *x = *(const struct cd_vfile *const *)a;
	const struct cd_vfile *y = *(const struct cd_vfile *const *)b;

	return x->offset < y->offset ? -1 : x->offset > y->offset;
}

static int cmp_name(const void *a, const void *b)
{
	return strcmp((*(const struct cd_vfile *const *)a)->name,
		      (*(const struct cd_vfile *const *)b)->name);
}

/*
 * A file list by the csvfs rules (volume.h). Every node exposes each file
 * as a loop device over its extent: an extent outside the data area or
 * over another file's would hand a VM someone else's data.
 */
static int check_files(const struct cd_vfile *f, size_t n, char *err, size_t errlen)
{
	const struct cd_vfile **by;
	bool *index_used;
	size_t i;
	int rc = 0;

	if (n > CD_VOL_MAX_FILES)
		FAIL(CD_ERR_INVALID, "%zu files: a volume holds at most %u", n, CD_VOL_MAX_FILES);
	for (i = 0; i < n; i++)
		if ((rc = cd_vfile_check(&f[i], err, errlen)) < 0)
			return rc;
	if (n < 2)
		return 0;
	by = malloc(n * sizeof(*by));
	index_used = calloc(CD_VOL_MAX_FILES, sizeof(*index_used));
	if (!by || !index_used) {
		rc = -ENOMEM;
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	for (i = 0; i < n; i++) {
		if (index_used[f[i].index]) {
			rc = CD_ERR_INVALID;
			snprintf(err, errlen, "file index %u is used twice", f[i].index);
			goto out;
		}
		index_used[f[i].index] = true;
		by[i] = &f[i];
	}
	qsort(by, n, sizeof(*by), cmp_name);
	for (i = 1; i < n && rc == 0; i++)
		if (strcmp(by[i - 1]->name, by[i]->name) == 0) {
			rc = CD_ERR_INVALID;
			snprintf(err, errlen, "file %s is listed twice", by[i]->name);
		}
	qsort(by, n, sizeof(*by), cmp_extent);
	for (i = 1; i < n && rc == 0; i++)
		if (by[i]->offset < by[i - 1]->offset + by[i - 1]->alloc) {
			rc = CD_ERR_INVALID;
			snprintf(err, errlen, "the extents of files %s and %s overlap",
				 by[i - 1]->name, by[i]->name);
		}
out:
	free(index_used);
	free(by);
	return rc;
}

int cd_vfiles_from_json(const struct json_object *a, struct cd_vfile **files, size_t *n, char *err,
			size_t errlen)
{
	struct cd_vfile *f;
	size_t i, len;
	int rc;

	*files = NULL;
	*n = 0;
	if (!a || !json_object_is_type(a, json_type_array))
		FAIL(CD_ERR_INVALID, "the file list is not an array");
	len = json_object_array_length(a);
	/* Refused before the allocation: the list comes from a peer. */
	if (len > CD_VOL_MAX_FILES)
		FAIL(CD_ERR_INVALID, "%zu files: a volume holds at most %u", len, CD_VOL_MAX_FILES);
	f = calloc(len + 1, sizeof(*f));
	if (!f)
		FAIL(-ENOMEM, "out of memory");
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
			FAIL(CD_ERR_INVALID, "file %zu of the list is malformed", i);
		}
		f[i].index = (uint32_t)index;
	}
	if ((rc = check_files(f, len, err, errlen)) < 0) {
		free(f);
		return rc;
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
	int ret;

	NAMED_VOLUME(v);
	memset(&res, 0, sizeof(res));
	if (cd_jget_u64(c, "id", &id) < 0 || !json_object_object_get_ex(c, "rc", &rc) ||
	    !json_object_is_type(rc, json_type_int) || json_object_get_int64(rc) < INT32_MIN ||
	    json_object_get_int64(rc) > INT32_MAX || cd_jget_u64(c, "meta_generation", &gen) < 0 ||
	    !json_object_object_get_ex(c, "files", &files))
		FAIL(CD_ERR_INVALID, "malformed file result");
	if ((ret = cd_vfiles_from_json(files, &nf, &n, err, errlen)) < 0)
		return ret;
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
			memmove(&v->reqs[i], &v->reqs[i + 1],
				(v->n_reqs - i - 1) * sizeof(v->reqs[0]));
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
		json_object_object_add(r, "op",
				       json_object_new_string(cd_vreq_op_to_str(v->reqs[i].op)));
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

#undef FAIL
#define FAIL(...)                                                                                  \
	do {                                                                                       \
		snprintf(err, errlen, __VA_ARGS__);                                                \
		goto corrupt;                                                                      \
	} while (0)

int cd_volume_from_json(struct cd_volume *v, const struct json_object *o, char *err, size_t errlen)
{
	const char *name = cd_jget_str(o, "name"), *dev = cd_jget_str(o, "device"),
		   *uuid = cd_jget_str(o, "uuid");
	struct json_object *a;
	uint64_t hosts, expiry, renewal, coord;
	size_t i;
	int rc;

	memset(v, 0, sizeof(*v));
	if (!json_object_is_type(o, json_type_object) || cd_jget_u64(o, "hosts", &hosts) < 0 ||
	    cd_jget_u64(o, "expiry_ms", &expiry) < 0 ||
	    cd_jget_u64(o, "renewal_ms", &renewal) < 0 ||
	    cd_jget_u64(o, "coordinator", &coord) < 0 || coord > UINT32_MAX ||
	    cd_jget_u64(o, "meta_generation", &v->meta_generation) < 0)
		FAIL("malformed volume");
	/* What volume.add checks, so what it refuses is never loaded. */
	if (check_desc(name, dev, uuid, hosts, expiry, renewal, err, errlen) < 0)
		goto corrupt;
	cd_strlcpy(v->name, name, sizeof(v->name));
	cd_strlcpy(v->device, dev, sizeof(v->device));
	cd_strlcpy(v->uuid, uuid, sizeof(v->uuid));
	v->hosts = (uint32_t)hosts;
	v->expiry_ms = (uint32_t)expiry;
	v->renewal_ms = (uint32_t)renewal;
	v->coordinator = (uint32_t)coord;
	if (!json_object_object_get_ex(o, "files", &a))
		FAIL("volume %s has no file list", v->name);
	if ((rc = cd_vfiles_from_json(a, &v->files, &v->n_files, err, errlen)) < 0) {
		if (rc == -ENOMEM)
			return rc;
		goto corrupt;
	}
	if (!json_object_object_get_ex(o, "requests", &a) ||
	    !json_object_is_type(a, json_type_array) ||
	    json_object_array_length(a) > CD_VOL_MAX_REQUESTS)
		FAIL("volume %s has no valid request list", v->name);
	for (i = 0; i < json_object_array_length(a); i++) {
		const struct json_object *r = json_object_array_get_idx(a, i);
		struct cd_vreq *q = &v->reqs[i];
		const char *file = cd_jget_str(r, "file");
		uint64_t node;

		if (cd_jget_u64(r, "id", &q->id) < 0 || cd_jget_u64(r, "node", &node) < 0 ||
		    op_from_str(cd_jget_str(r, "op"), &q->op) < 0 ||
		    cd_jget_u64(r, "size", &q->size) < 0)
			FAIL("volume %s: request %zu is malformed", v->name, i);
		if (check_request(q, node, file, err, errlen) < 0)
			goto corrupt;
		q->node = (uint32_t)node;
		cd_strlcpy(q->file, file, sizeof(q->file));
		v->n_reqs++;
	}
	if (!json_object_object_get_ex(o, "results", &a) ||
	    !json_object_is_type(a, json_type_array) ||
	    json_object_array_length(a) > CD_VOL_MAX_RESULTS)
		FAIL("volume %s has no valid result list", v->name);
	for (i = 0; i < json_object_array_length(a); i++) {
		const struct json_object *r = json_object_array_get_idx(a, i);
		const char *e = cd_jget_str(r, "error");
		struct json_object *rc_o;

		if (cd_jget_u64(r, "id", &v->results[i].id) < 0 ||
		    !json_object_object_get_ex(r, "rc", &rc_o) ||
		    !json_object_is_type(rc_o, json_type_int) ||
		    json_object_get_int64(rc_o) < INT32_MIN ||
		    json_object_get_int64(rc_o) > INT32_MAX || !e || strlen(e) > CD_VOL_ERROR_MAX)
			FAIL("volume %s: result %zu is malformed", v->name, i);
		v->results[i].rc = json_object_get_int(rc_o);
		cd_strlcpy(v->results[i].error, e, sizeof(v->results[i].error));
		v->n_results++;
	}
	return 0;
corrupt:
	cd_volume_free(v);
	return CD_ERR_CORRUPT;
}
