#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <clusterd/result.h>

#include "core/sync.h"
#include "lib/jsonget.h"
#include "lib/util.h"

const char *cd_sync_phase_to_str(enum cd_sync_phase p)
{
	switch (p) {
	case CD_SYNC_IDLE:
		return "idle";
	case CD_SYNC_COLLECT:
		return "collect";
	case CD_SYNC_WAIT_SNAPSHOT:
		return "wait-snapshot";
	case CD_SYNC_DONE:
		return "done";
	case CD_SYNC_LEFT_OUT:
		return "left-out";
	}
	return "unknown";
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

void cd_sync_begin(struct cd_sync *s, uint64_t round, const uint32_t *members, size_t n)
{
	memset(s, 0, sizeof(*s));
	if (n > CD_SYNC_MAX_MEMBERS)
		n = CD_SYNC_MAX_MEMBERS;
	memcpy(s->members, members, n * sizeof(*members));
	qsort(s->members, n, sizeof(*members), cmp_u32);
	s->n_members = n;
	s->round = round;
	s->phase = CD_SYNC_COLLECT;
}

static int member_index(const struct cd_sync *s, uint32_t nodeid)
{
	size_t i;

	for (i = 0; i < s->n_members; i++)
		if (s->members[i] == nodeid)
			return (int)i;
	return -1;
}

/* Every remaining member has reported: complete, or ask for a snapshot. */
static enum cd_sync_step decide(struct cd_sync *s)
{
	size_t i, best = 0;
	bool all_same = true;

	/*
	 * Members are sorted by node id, so a strict comparison keeps the
	 * lowest node id among equal versions.
	 */
	s->quorate = true;
	for (i = 0; i < s->n_members; i++) {
		const struct cd_sync_report *x = &s->reports[i];

		if (!x->quorate)
			s->quorate = false;
		if (cd_version_cmp(x->version, s->reports[best].version) > 0)
			best = i;
		if (cd_version_cmp(x->version, s->reports[0].version) != 0 ||
		    strcmp(x->checksum, s->reports[0].checksum) != 0)
			all_same = false;
	}
	s->best = s->reports[best].version;
	if (all_same) {
		s->phase = CD_SYNC_DONE;
		return CD_SYNC_STEP_COMPLETE;
	}
	s->snapshot_from = s->reports[best].nodeid;
	s->phase = CD_SYNC_WAIT_SNAPSHOT;
	s->step++;
	return CD_SYNC_STEP_SNAPSHOT;
}

enum cd_sync_step cd_sync_add_report(struct cd_sync *s, uint64_t round,
				     const struct cd_sync_report *r)
{
	int mi;

	if (s->phase != CD_SYNC_COLLECT || round != s->round)
		return CD_SYNC_STEP_IGNORED;
	mi = member_index(s, r->nodeid);
	if (mi < 0 || s->have[mi])
		return CD_SYNC_STEP_IGNORED;
	s->reports[mi] = *r;
	s->have[mi] = true;
	if (++s->n_have < s->n_members)
		return CD_SYNC_STEP_MORE;
	return decide(s);
}

/* Drop member i (and its report) from the round. */
static void remove_member(struct cd_sync *s, size_t i)
{
	size_t n = s->n_members - i - 1;

	if (s->n_left_out < CD_SYNC_MAX_MEMBERS)
		s->left_out[s->n_left_out++] = s->members[i];
	if (s->have[i])
		s->n_have--;
	memmove(&s->members[i], &s->members[i + 1], n * sizeof(s->members[0]));
	memmove(&s->reports[i], &s->reports[i + 1], n * sizeof(s->reports[0]));
	memmove(&s->have[i], &s->have[i + 1], n * sizeof(s->have[0]));
	s->n_members--;
}

/* The sender of the awaited snapshot is left out: decide among the rest. */
static enum cd_sync_step drop_snapshot_sender(struct cd_sync *s)
{
	int mi = member_index(s, s->snapshot_from);

	if (mi >= 0)
		remove_member(s, (size_t)mi);
	s->snapshot_from = 0;
	s->phase = CD_SYNC_COLLECT;
	if (s->n_members == 0) {
		s->step++;
		return CD_SYNC_STEP_MORE;
	}
	return decide(s);
}

enum cd_sync_step cd_sync_timeout(struct cd_sync *s, uint64_t round, uint32_t step)
{
	size_t i;

	if (round != s->round || step != s->step)
		return CD_SYNC_STEP_IGNORED;
	switch (s->phase) {
	case CD_SYNC_COLLECT:
		if (s->n_have == 0)
			return CD_SYNC_STEP_IGNORED;
		for (i = s->n_members; i-- > 0;)
			if (!s->have[i])
				remove_member(s, i);
		return decide(s);
	case CD_SYNC_WAIT_SNAPSHOT:
		return drop_snapshot_sender(s);
	default:
		return CD_SYNC_STEP_IGNORED;
	}
}

enum cd_sync_step cd_sync_leave_out(struct cd_sync *s, uint64_t round, uint32_t nodeid)
{
	int mi;

	if (round != s->round)
		return CD_SYNC_STEP_IGNORED;
	switch (s->phase) {
	case CD_SYNC_COLLECT:
		mi = member_index(s, nodeid);
		if (mi < 0 || s->have[mi])
			return CD_SYNC_STEP_IGNORED;
		remove_member(s, (size_t)mi);
		if (s->n_members == 0 || s->n_have < s->n_members)
			return CD_SYNC_STEP_MORE;
		return decide(s);
	case CD_SYNC_WAIT_SNAPSHOT:
		if (nodeid != s->snapshot_from)
			return CD_SYNC_STEP_IGNORED;
		return drop_snapshot_sender(s);
	default:
		return CD_SYNC_STEP_IGNORED;
	}
}

bool cd_sync_is_left_out(const struct cd_sync *s, uint32_t nodeid)
{
	size_t i;

	for (i = 0; i < s->n_left_out; i++)
		if (s->left_out[i] == nodeid)
			return true;
	return false;
}

int cd_sync_snapshot_ok(const struct cd_sync *s, uint64_t round, uint32_t from)
{
	return s->phase == CD_SYNC_WAIT_SNAPSHOT && round == s->round && from == s->snapshot_from;
}

enum cd_sync_snap_form cd_sync_snapshot_form(const struct cd_sync *s)
{
	enum cd_sync_snap_form f = CD_SNAP_ZCHUNKS;
	size_t i;

	for (i = 0; i < s->n_members; i++) {
		if (!s->have[i])
			continue;
		if (!s->reports[i].delta)
			return CD_SNAP_INLINE;
		if (!s->reports[i].zchunks)
			f = CD_SNAP_CHUNKS;
	}
	return f;
}

bool cd_sync_packed_changes(const struct cd_sync *s)
{
	size_t i;

	/* One left out still gets the messages, and may be of an older build. */
	if (s->n_left_out)
		return false;
	for (i = 0; i < s->n_members; i++)
		if (!s->have[i] || !s->reports[i].zchanges)
			return false;
	return s->n_members > 0;
}

uint64_t cd_sync_wall_ms(const struct cd_sync *s)
{
	uint64_t t = 0;
	size_t i;

	for (i = 0; i < s->n_members; i++)
		if (s->reports[i].wall_ms > t)
			t = s->reports[i].wall_ms;
	return t;
}

uint64_t cd_sync_next_epoch(const struct cd_sync *s)
{
	size_t i;
	uint64_t e = 0;

	for (i = 0; i < s->n_members; i++)
		if (s->reports[i].version.epoch > e)
			e = s->reports[i].version.epoch;
	return e + 1;
}

static uint64_t fnv1a(uint64_t h, const void *p, size_t n)
{
	const unsigned char *b = p;
	size_t i;

	for (i = 0; i < n; i++) {
		h ^= b[i];
		h *= 1099511628211ull;
	}
	return h;
}

uint64_t cd_sync_round_token(uint32_t ring_node, uint64_t ring_seq, const uint32_t *nodeids,
			     const uint32_t *pids, size_t n)
{
	uint64_t pairs[CD_SYNC_MAX_MEMBERS], h = 14695981039346656037ull;
	size_t i, j;

	if (n > CD_SYNC_MAX_MEMBERS)
		n = CD_SYNC_MAX_MEMBERS;
	for (i = 0; i < n; i++)
		pairs[i] = ((uint64_t)nodeids[i] << 32) | pids[i];
	/* Insertion sort: the order CPG lists members in must not matter. */
	for (i = 1; i < n; i++)
		for (j = i; j > 0 && pairs[j - 1] > pairs[j]; j--) {
			uint64_t t = pairs[j];

			pairs[j] = pairs[j - 1];
			pairs[j - 1] = t;
		}
	h = fnv1a(h, &ring_node, sizeof(ring_node));
	h = fnv1a(h, &ring_seq, sizeof(ring_seq));
	h = fnv1a(h, pairs, n * sizeof(pairs[0]));
	return h ? h : 1; /* 0 means "no round" on the wire */
}

uint64_t cd_sync_restart_token(uint64_t round, uint64_t nonce)
{
	uint64_t h = 14695981039346656037ull;

	h = fnv1a(h, &round, sizeof(round));
	h = fnv1a(h, &nonce, sizeof(nonce));
	return h ? h : 1;
}

bool cd_sync_info_needs_round(const struct cd_sync *s, const struct cd_node_info *recorded,
			      const struct cd_node_info *info)
{
	struct json_object *a, *b;
	bool differ;

	if (s->phase != CD_SYNC_DONE || !s->quorate || !recorded)
		return false;
	/* As the reports carry it: what differs there differs in the state. */
	a = cd_node_info_to_json(recorded);
	b = cd_node_info_to_json(info);
	differ = strcmp(json_object_to_json_string_ext(a, JSON_C_TO_STRING_PLAIN),
			json_object_to_json_string_ext(b, JSON_C_TO_STRING_PLAIN)) != 0;
	json_object_put(a);
	json_object_put(b);
	return differ;
}

struct json_object *cd_sync_report_to_json(const struct cd_sync_report *r)
{
	struct json_object *o = json_object_new_object(), *v = json_object_new_object();

	json_object_object_add(v, "epoch", json_object_new_int64((int64_t)r->version.epoch));
	json_object_object_add(v, "seq", json_object_new_int64((int64_t)r->version.seq));
	json_object_object_add(o, "version", v);
	json_object_object_add(o, "checksum", json_object_new_string(r->checksum));
	json_object_object_add(o, "quorate", json_object_new_boolean(r->quorate));
	json_object_object_add(o, "node", cd_node_info_to_json(&r->info));
	json_object_object_add(o, "wall_ms", json_object_new_int64((int64_t)r->wall_ms));
	if (r->delta)
		json_object_object_add(o, "delta", json_object_new_boolean(true));
	if (r->zchunks)
		json_object_object_add(o, "zchunks", json_object_new_boolean(true));
	if (r->zchanges)
		json_object_object_add(o, "zchanges", json_object_new_boolean(true));
	return o;
}

int cd_sync_report_from_json(struct cd_sync_report *r, uint32_t sender, const struct json_object *o)
{
	struct json_object *v, *e, *q, *c, *n;

	memset(r, 0, sizeof(*r));
	if (!json_object_object_get_ex(o, "version", &v) ||
	    !json_object_object_get_ex(v, "epoch", &e) || !json_object_is_type(e, json_type_int) ||
	    json_object_get_int64(e) < 0 || !json_object_object_get_ex(v, "seq", &q) ||
	    !json_object_is_type(q, json_type_int) || json_object_get_int64(q) < 0)
		return CD_ERR_PROTOCOL;
	r->version.epoch = (uint64_t)json_object_get_int64(e);
	r->version.seq = (uint64_t)json_object_get_int64(q);
	if (!json_object_object_get_ex(o, "checksum", &c) ||
	    !json_object_is_type(c, json_type_string) || strlen(json_object_get_string(c)) != 64)
		return CD_ERR_PROTOCOL;
	cd_strlcpy(r->checksum, json_object_get_string(c), sizeof(r->checksum));
	if (!json_object_object_get_ex(o, "quorate", &q) ||
	    !json_object_is_type(q, json_type_boolean))
		return CD_ERR_PROTOCOL;
	r->quorate = json_object_get_boolean(q);
	if (!json_object_object_get_ex(o, "node", &n) || cd_node_info_from_json(&r->info, n) < 0 ||
	    r->info.id != sender)
		return CD_ERR_PROTOCOL;
	r->nodeid = sender;
	if (json_object_object_get_ex(o, "wall_ms", &q) && json_object_is_type(q, json_type_int) &&
	    json_object_get_int64(q) > 0)
		r->wall_ms = (uint64_t)json_object_get_int64(q);
	r->delta = cd_jget_bool_or(o, "delta", false);
	r->zchunks = cd_jget_bool_or(o, "zchunks", false);
	r->zchanges = cd_jget_bool_or(o, "zchanges", false);
	return 0;
}
