#include "config.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>

#include <clusterd/result.h>

#include "csvfs/delta_lease.h"
#include "csvfs/files.h"
#include "csvfs/paxos_lease.h"
#include "csvfs/report.h"
#include "lib/util.h"

static void add_str(struct json_object *o, const char *k, const char *v)
{
	json_object_object_add(o, k, json_object_new_string(v));
}

static void add_int(struct json_object *o, const char *k, uint64_t v)
{
	json_object_object_add(o, k, json_object_new_int64((int64_t)v));
}

/* Integer members of a struct, by JSON key: one table per object kind. */
struct json_field {
	const char *key;
	size_t off;
	int wide; /* uint64_t, else uint32_t */
};

/* clang-format off */
#define J32(st, m, k) {k, offsetof(st, m), 0}
#define J64(st, m, k) {k, offsetof(st, m), 1}
/* clang-format on */

static void add_fields(struct json_object *o, const struct json_field *f, size_t n, const void *obj)
{
	const char *base = obj;
	size_t i;

	for (i = 0; i < n; i++)
		add_int(o, f[i].key,
			f[i].wide ? *(const uint64_t *)(base + f[i].off)
				  : *(const uint32_t *)(base + f[i].off));
}

/* clang-format off */
static const struct json_field timing_json[] = {
	J32(struct csvfs_timing, expiry_ms, "expiry_ms"),
	J32(struct csvfs_timing, renewal_ms, "renewal_ms"),
	J32(struct csvfs_timing, io_ms, "io_timeout_ms"),
	J32(struct csvfs_timing, use_ms, "use_ms"),
};

static const struct json_field layout_json[] = {
	J64(struct csvfs_sb, device_size, "device_size"),
	J64(struct csvfs_sb, host_off, "host_offset"),
	J64(struct csvfs_sb, lease_off, "lease_offset"),
	J64(struct csvfs_sb, lease_stride, "lease_size"),
	J64(struct csvfs_sb, meta_off, "meta_offset"),
	J64(struct csvfs_sb, meta_copy_len, "meta_copy_size"),
	J64(struct csvfs_sb, data_off, "data_offset"),
	J64(struct csvfs_sb, data_end, "data_end"),
	J32(struct csvfs_sb, alloc_unit, "alloc_unit"),
};

static const struct json_field file_json[] = {
	J32(struct csvfs_file, index, "index"),
	J64(struct csvfs_file, size, "size"),
	J64(struct csvfs_file, offset, "offset"),
	J64(struct csvfs_file, alloc, "alloc"),
	J32(struct csvfs_file, owner, "owner"),
	J64(struct csvfs_file, generation, "generation"),
};

static const struct json_field ballot_json[] = {
	J64(struct csvfs_ballot, lver, "version"),
	J64(struct csvfs_ballot, mbal, "mbal"),
	J64(struct csvfs_ballot, bal, "bal"),
	J32(struct csvfs_ballot, inp, "inp"),
	J64(struct csvfs_ballot, inp_generation, "inp_generation"),
};
/* clang-format on */

#define ADD_FIELDS(o, table, obj) add_fields(o, table, sizeof(table) / sizeof(table[0]), obj)

/* A host's wall clock time in UTC ("2024-05-01T12:00:00.123Z"), "-" for 0. */
static void add_time(struct json_object *o, const char *k, uint64_t wall_ms)
{
	char t[CD_TIME_LEN] = "-";

	if (wall_ms)
		cd_format_wall_ms(wall_ms, CD_TIME_UTC, t, sizeof(t));
	add_str(o, k, t);
}

static const char *status_str(int status)
{
	return status == 0 ? "valid" : status == -ENODATA ? "empty" : "damaged";
}

struct json_object *csvfs_report_volume(const struct csvfs_vol *v)
{
	const struct csvfs_sb *sb = &v->sb;
	struct json_object *o = json_object_new_object(), *t, *l;
	char uuid[37];

	csvfs_uuid_str(sb->uuid, uuid);
	add_str(o, "name", sb->name);
	add_str(o, "uuid", uuid);
	add_int(o, "version", CSVFS_VERSION);
	add_int(o, "sector_size", sb->sector_size);
	add_int(o, "hosts", sb->max_hosts);
	add_int(o, "max_files", sb->max_files);
	add_time(o, "created", sb->created_ms);
	t = json_object_new_object();
	ADD_FIELDS(t, timing_json, &v->timing);
	json_object_object_add(o, "timing", t);
	l = json_object_new_object();
	ADD_FIELDS(l, layout_json, sb);
	json_object_object_add(o, "layout", l);
	return o;
}

static const char *host_state(int rc, const struct csvfs_host_rec *r)
{
	if (rc == -ENODATA)
		return "free";
	if (rc < 0)
		return "damaged";
	return (r->flags & CSVFS_HOST_RELEASED) ? "released" : "joined";
}

int csvfs_report_hosts(struct csvfs_vol *v, struct json_object **out)
{
	struct json_object *a = json_object_new_array();
	struct csvfs_host_rec r;
	uint32_t slot;
	int rc;

	for (slot = 1; slot <= v->sb.max_hosts; slot++) {
		struct json_object *h = json_object_new_object();

		rc = csvfs_host_read(v, slot, &r);
		if (rc < 0 && rc != -ENODATA && rc != CD_ERR_CORRUPT && rc != CD_ERR_VERSION) {
			json_object_put(h);
			json_object_put(a);
			return rc;
		}
		add_int(h, "slot", slot);
		add_str(h, "state", host_state(rc, &r));
		if (rc == 0) {
			add_str(h, "owner", r.owner);
			add_int(h, "generation", r.generation);
			add_int(h, "counter", r.counter);
			add_time(h, "last_renewal", r.wall_ms);
			add_int(h, "renewal_ms", r.renewal_ms);
		}
		json_object_array_add(a, h);
	}
	*out = a;
	return 0;
}

static const char *lease_state(const struct csvfs_lease_state *st)
{
	if (st->leader_status == -ENODATA)
		return "unused";
	if (st->leader_status < 0)
		return "damaged";
	return (st->leader.flags & CSVFS_LEADER_FREE) ? "free" : "held";
}

/* Shared holders, marked stale when their host has moved on. */
static int shared_holders(struct csvfs_vol *v, const struct csvfs_lease_state *st,
			  struct json_object *a)
{
	struct csvfs_host_rec r;
	uint32_t q;
	int rc;

	for (q = 1; q <= v->sb.max_hosts; q++) {
		const struct csvfs_ballot *b = &st->ballot[q - 1];
		struct json_object *h;

		if (st->status[q - 1] != 0 || !(b->mode & CSVFS_MODE_SHARED))
			continue;
		rc = csvfs_host_read(v, q, &r);
		if (rc < 0 && rc != -ENODATA && rc != CD_ERR_CORRUPT && rc != CD_ERR_VERSION)
			return rc;
		h = json_object_new_object();
		add_int(h, "slot", q);
		add_int(h, "generation", b->mode_generation);
		json_object_object_add(h, "stale",
				       json_object_new_boolean(rc != 0 ||
							       r.generation != b->mode_generation ||
							       (r.flags & CSVFS_HOST_RELEASED)));
		json_object_array_add(a, h);
	}
	return 0;
}

static struct json_object *ballots_json(const struct csvfs_vol *v,
					const struct csvfs_lease_state *st)
{
	struct json_object *a = json_object_new_array();
	uint32_t q;

	for (q = 1; q <= v->sb.max_hosts; q++) {
		const struct csvfs_ballot *b = &st->ballot[q - 1];
		struct json_object *o;

		if (st->status[q - 1] == -ENODATA)
			continue;
		o = json_object_new_object();
		add_int(o, "slot", q);
		add_str(o, "status", status_str(st->status[q - 1]));
		ADD_FIELDS(o, ballot_json, b);
		add_str(o, "mode", (b->mode & CSVFS_MODE_SHARED) ? "shared" : "-");
		json_object_array_add(a, o);
	}
	return a;
}

static int lease_json(struct csvfs_vol *v, uint32_t lease, const struct csvfs_lease_state *st,
		      int ballots, struct json_object **out)
{
	struct json_object *o = json_object_new_object(), *shared = json_object_new_array();
	const struct csvfs_leader *l = &st->leader;
	int rc;

	add_int(o, "lease", lease);
	add_str(o, "name",
		lease == CSVFS_META_LEASE && !l->name[0] ? CSVFS_META_LEASE_NAME : l->name);
	add_str(o, "state", lease_state(st));
	add_int(o, "version", l->lver);
	if (!(l->flags & CSVFS_LEADER_FREE)) {
		add_int(o, "owner", l->owner);
		add_int(o, "owner_generation", l->owner_generation);
	}
	if (st->leader_status == 0) {
		add_int(o, "written_by", l->writer);
		add_time(o, "written", l->wall_ms);
	}
	rc = shared_holders(v, st, shared);
	json_object_object_add(o, "shared", shared);
	if (ballots)
		json_object_object_add(o, "ballots", ballots_json(v, st));
	if (rc < 0) {
		json_object_put(o);
		return rc;
	}
	*out = o;
	return 0;
}

int csvfs_report_lease(struct csvfs_vol *v, uint32_t lease, int ballots, struct json_object **out)
{
	struct csvfs_lease_state *st = malloc(sizeof(*st));
	int rc;

	if (!st)
		return -ENOMEM;
	rc = csvfs_lease_inspect(v, lease, st);
	if (rc == 0)
		rc = lease_json(v, lease, st, ballots, out);
	free(st);
	return rc;
}

int csvfs_report_leases(struct csvfs_vol *v, struct json_object **out)
{
	struct csvfs_lease_state *st = malloc(sizeof(*st));
	struct json_object *a = json_object_new_array(), *o;
	uint32_t lease;
	int rc = 0;

	if (!st) {
		json_object_put(a);
		return -ENOMEM;
	}
	for (lease = 0; lease <= v->sb.max_files && rc == 0; lease++) {
		rc = csvfs_lease_inspect(v, lease, st);
		if (rc < 0 || st->leader_status == -ENODATA)
			continue;
		rc = lease_json(v, lease, st, 0, &o);
		if (rc == 0)
			json_object_array_add(a, o);
	}
	free(st);
	if (rc < 0) {
		json_object_put(a);
		return rc;
	}
	*out = a;
	return 0;
}

struct json_object *csvfs_report_meta(const struct csvfs_meta *m)
{
	struct json_object *o = json_object_new_object(), *a = json_object_new_array();
	uint32_t i;

	add_int(o, "generation", m->generation);
	add_str(o, "copy", m->copy == 1 ? "B" : "A");
	add_int(o, "written_by", m->writer_slot);
	add_time(o, "written", m->wall_ms);
	for (i = 0; i < m->nfiles; i++) {
		const struct csvfs_file *f = &m->files[i];
		struct json_object *j = json_object_new_object();

		add_str(j, "name", f->name);
		ADD_FIELDS(j, file_json, f);
		add_int(j, "lease", f->index + 1);
		add_time(j, "created", f->ctime_ms);
		json_object_array_add(a, j);
	}
	json_object_object_add(o, "files", a);
	return o;
}

int csvfs_report_files(struct csvfs_vol *v, struct json_object **out)
{
	struct csvfs_meta m;
	int rc;

	rc = csvfs_meta_init(&m, v->sb.max_files);
	if (rc == 0)
		rc = csvfs_meta_read(v, &m, NULL);
	if (rc == 0)
		*out = csvfs_report_meta(&m);
	csvfs_meta_free(&m);
	return rc;
}

int csvfs_report_inspect(struct csvfs_vol *v, struct json_object **out)
{
	struct json_object *o = csvfs_report_volume(v), *part, *copies;
	struct csvfs_meta_found found;
	struct csvfs_meta m;
	int rc, i;

	rc = csvfs_report_hosts(v, &part);
	if (rc < 0)
		goto out_put;
	json_object_object_add(o, "host_slots", part);
	rc = csvfs_report_leases(v, &part);
	if (rc < 0)
		goto out_put;
	json_object_object_add(o, "leases", part);
	rc = csvfs_meta_init(&m, v->sb.max_files);
	if (rc < 0)
		goto out_put;
	rc = csvfs_meta_read(v, &m, &found);
	if (rc == 0 || rc == CD_ERR_CORRUPT) {
		part = rc == 0 ? csvfs_report_meta(&m) : json_object_new_object();
		copies = json_object_new_array();

		for (i = 0; i < 2; i++) {
			struct json_object *c = json_object_new_object();

			add_str(c, "copy", i ? "B" : "A");
			add_str(c, "status", status_str(found.status[i]));
			add_int(c, "generation", found.generation[i]);
			json_object_array_add(copies, c);
		}
		json_object_object_add(part, "copies", copies);
		add_int(part, "free_bytes", csvfs_files_free_bytes(&m, &v->sb));
		json_object_object_add(o, "metadata", part);
		rc = 0;
	}
	csvfs_meta_free(&m);
	if (rc < 0)
		goto out_put;
	*out = o;
	return 0;

out_put:
	json_object_put(o);
	return rc;
}
