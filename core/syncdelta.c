#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <clusterd/result.h>

#include "core/syncdelta.h"
#include "lib/jsonget.h"

#define ROUND_OP "sync.round"

#define FAIL(code, ...)                                                                            \
	do {                                                                                       \
		snprintf(err, errlen, __VA_ARGS__);                                                \
		return (code);                                                                     \
	} while (0)

static struct json_object *version_json(struct cd_version v)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "epoch", json_object_new_int64((int64_t)v.epoch));
	json_object_object_add(o, "seq", json_object_new_int64((int64_t)v.seq));
	return o;
}

static int version_from(const struct json_object *o, const char *key, struct cd_version *v)
{
	struct json_object *x;

	if (!json_object_object_get_ex(o, key, &x) || cd_jget_u64(x, "epoch", &v->epoch) < 0 ||
	    cd_jget_u64(x, "seq", &v->seq) < 0)
		return -1;
	return 0;
}

struct json_object *cd_sync_round_record(const struct cd_node_info *members, size_t n_members,
					 uint64_t epoch, uint64_t now_ms)
{
	struct json_object *o = json_object_new_object(), *a = json_object_new_array();
	size_t i;

	for (i = 0; i < n_members; i++)
		json_object_array_add(a, cd_node_info_to_json(&members[i]));
	json_object_object_add(o, "op", json_object_new_string(ROUND_OP));
	json_object_object_add(o, "epoch", json_object_new_int64((int64_t)epoch));
	json_object_object_add(o, "wall_ms", json_object_new_int64((int64_t)now_ms));
	json_object_object_add(o, "members", a);
	return o;
}

static int replay_round(struct cd_state *s, const struct json_object *r, char *err, size_t errlen)
{
	struct cd_node_info infos[CD_SYNC_MAX_MEMBERS];
	struct json_object *a;
	uint64_t epoch, wall;
	size_t i, n;

	if (cd_jget_u64(r, "epoch", &epoch) < 0 || cd_jget_u64(r, "wall_ms", &wall) < 0 ||
	    !json_object_object_get_ex(r, "members", &a) ||
	    !json_object_is_type(a, json_type_array))
		FAIL(CD_ERR_INVALID, "a round record without its epoch, time or members");
	n = json_object_array_length(a);
	if (n > CD_SYNC_MAX_MEMBERS)
		FAIL(CD_ERR_INVALID, "a round record of %zu members", n);
	for (i = 0; i < n; i++)
		if (cd_node_info_from_json(&infos[i], json_object_array_get_idx(a, i)) < 0)
			FAIL(CD_ERR_INVALID, "a round record's member %zu does not parse", i);
	if (epoch <= s->version.epoch)
		FAIL(CD_ERR_INVALID, "a round to epoch %" PRIu64 " after epoch %" PRIu64, epoch,
		     s->version.epoch);
	cd_state_sync_finish(s, infos, n, epoch, wall);
	return 0;
}

int cd_state_replay(struct cd_state *s, const struct json_object *record, uint32_t sender,
		    char *err, size_t errlen)
{
	const char *op = cd_jget_str(record, "op");

	if (op && strcmp(op, ROUND_OP) == 0)
		return replay_round(s, record, err, errlen);
	return cd_state_apply_from(s, record, sender, err, errlen);
}

/* --- building a delta --- */

struct gather {
	struct json_object *records;
	size_t bytes, max_bytes;
};

static int gather(void *ctx, const struct cd_changelog_entry *e)
{
	struct gather *g = ctx;
	struct json_object *r, *rec;

	g->bytes += e->len;
	if (g->bytes > g->max_bytes)
		return -E2BIG;
	rec = json_tokener_parse(e->change);
	if (!rec)
		return CD_ERR_CORRUPT;
	r = json_object_new_object();
	json_object_object_add(r, "epoch", json_object_new_int64((int64_t)e->version.epoch));
	json_object_object_add(r, "seq", json_object_new_int64((int64_t)e->version.seq));
	json_object_object_add(r, "sender", json_object_new_int64(e->sender));
	json_object_object_add(r, "record", rec);
	json_object_array_add(g->records, r);
	return 0;
}

struct json_object *cd_syncdelta_build(const struct cd_changelog *log, const struct cd_sync *s,
				       size_t max_bytes, char *why, size_t whylen)
{
	struct cd_version newest = cd_changelog_newest(log), from = s->best;
	const struct cd_sync_report *best = NULL;
	struct gather g = {.max_bytes = max_bytes};
	struct json_object *o;
	char dummy[8];
	size_t i;
	int rc;

	if (!why) {
		why = dummy;
		whylen = sizeof(dummy);
	}
	if (cd_version_cmp(newest, s->best) != 0) {
		snprintf(why, whylen, "the change log ends elsewhere");
		return NULL;
	}
	for (i = 0; i < s->n_members; i++)
		if (s->have[i] && s->reports[i].nodeid == s->snapshot_from)
			best = &s->reports[i];
	if (!best) {
		snprintf(why, whylen, "no report of the sender");
		return NULL;
	}
	for (i = 0; i < s->n_members; i++) {
		const struct cd_sync_report *r = &s->reports[i];

		if (!s->have[i] || cd_sync_is_left_out(s, s->members[i]))
			continue;
		if (cd_version_cmp(r->version, s->best) == 0 &&
		    strcmp(r->checksum, best->checksum)) {
			snprintf(why, whylen, "node %u holds another state at the same version",
				 r->nodeid);
			return NULL;
		}
		if (cd_version_cmp(r->version, s->best) >= 0)
			continue;
		if (!r->delta) {
			snprintf(why, whylen, "node %u takes no deltas", r->nodeid);
			return NULL;
		}
		if (r->version.epoch == 0 && r->version.seq == 0) {
			snprintf(why, whylen, "node %u has no state", r->nodeid);
			return NULL;
		}
		if (cd_changelog_since(log, r->version, NULL, NULL) < 0) {
			snprintf(why, whylen,
				 "node %u is at %" PRIu64 ".%" PRIu64 ", older than the change log",
				 r->nodeid, r->version.epoch, r->version.seq);
			return NULL;
		}
		if (cd_version_cmp(r->version, from) < 0)
			from = r->version;
	}
	g.records = json_object_new_array();
	rc = cd_changelog_since(log, from, gather, &g);
	if (rc < 0) {
		snprintf(why, whylen,
			 rc == -E2BIG ? "the changes weigh more than a delta may"
				      : "the change log does not parse");
		json_object_put(g.records);
		return NULL;
	}
	o = json_object_new_object();
	json_object_object_add(o, "from", version_json(from));
	json_object_object_add(o, "to", version_json(s->best));
	json_object_object_add(o, "records", g.records);
	return o;
}

/* --- replaying one --- */

int cd_syncdelta_apply(struct cd_state *st, const struct json_object *delta, cd_syncdelta_fn fn,
		       void *ctx, size_t *applied, char *err, size_t errlen)
{
	struct cd_version from, to, v;
	struct json_object *recs;
	size_t i, n, first;
	int rc;

	*applied = 0;
	if (version_from(delta, "from", &from) < 0 || version_from(delta, "to", &to) < 0 ||
	    !json_object_object_get_ex(delta, "records", &recs) ||
	    !json_object_is_type(recs, json_type_array))
		FAIL(CD_ERR_PROTOCOL, "a delta without from, to or records");
	if (cd_version_cmp(st->version, to) == 0)
		return 0;
	n = json_object_array_length(recs);
	if (cd_version_cmp(st->version, from) == 0) {
		first = 0;
	} else {
		for (first = 0; first < n; first++) {
			struct json_object *r = json_object_array_get_idx(recs, first);

			if (cd_jget_u64(r, "epoch", &v.epoch) == 0 &&
			    cd_jget_u64(r, "seq", &v.seq) == 0 &&
			    cd_version_cmp(v, st->version) == 0)
				break;
		}
		if (first == n)
			FAIL(CD_ERR_NOT_FOUND,
			     "version %" PRIu64 ".%" PRIu64 " is not in the delta",
			     st->version.epoch, st->version.seq);
		first++;
	}
	for (i = first; i < n; i++) {
		struct json_object *r = json_object_array_get_idx(recs, i), *rec;
		uint64_t sender;
		char why[256];

		if (cd_jget_u64(r, "epoch", &v.epoch) < 0 || cd_jget_u64(r, "seq", &v.seq) < 0 ||
		    cd_jget_u64(r, "sender", &sender) < 0 || sender > UINT32_MAX ||
		    !json_object_object_get_ex(r, "record", &rec))
			FAIL(CD_ERR_PROTOCOL, "the delta's record %zu is malformed", i);
		rc = cd_state_replay(st, rec, (uint32_t)sender, why, sizeof(why));
		if (rc < 0)
			FAIL(rc, "the delta's record %zu does not apply: %s", i, why);
		if (cd_version_cmp(st->version, v) != 0)
			FAIL(CD_ERR_CORRUPT,
			     "the delta's record %zu leads to %" PRIu64 ".%" PRIu64 ", not %" PRIu64
			     ".%" PRIu64,
			     i, st->version.epoch, st->version.seq, v.epoch, v.seq);
		(*applied)++;
		if (fn)
			fn(ctx, rec, (uint32_t)sender, v);
	}
	if (cd_version_cmp(st->version, to) != 0)
		FAIL(CD_ERR_CORRUPT, "the delta ends at %" PRIu64 ".%" PRIu64 ", not its end",
		     st->version.epoch, st->version.seq);
	return 0;
}
