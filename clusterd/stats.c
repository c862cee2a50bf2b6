#include "config.h"

#include <string.h>

#include "clusterd/stats.h"

#define N_MODES (CD_MOVE_COLD + 1)

struct move_count {
	uint64_t count, timed, total_ms, downtime_ms;
};

/* The timed moves of one mode: those that moved their VM. */
struct move_hist {
	struct cd_hist total, downtime;
};

static struct {
	bool ready; /* the histograms have their bounds */
	struct move_count moves[N_MODES][CD_MOVE_N_OUTCOMES];
	struct move_hist timed[N_MODES];
	uint64_t fence_ok, fence_failed;
	struct cd_hist fence_ms;
	uint64_t rounds_started, rounds_done, round_total_ms, round_last_ms;
	uint64_t round_begun_ms;
	bool in_round;
	uint64_t changes_plain, changes_packed, change_text_bytes, change_wire_bytes;
} st;

/* The histograms' bounds, on first use (st starts and is reset to zeros). */
static void ready(void)
{
	unsigned mode;

	if (st.ready)
		return;
	for (mode = 0; mode < N_MODES; mode++) {
		cd_hist_init(&st.timed[mode].total, &cd_hist_move_ms);
		cd_hist_init(&st.timed[mode].downtime, &cd_hist_downtime_ms);
	}
	cd_hist_init(&st.fence_ms, &cd_hist_fence_ms);
	st.ready = true;
}

bool cd_stats_move_ended(const struct cd_vm_transition_rec *t)
{
	const struct cd_vm *vm = t->vm;

	if (t->from == CD_VM_MIGRATING)
		return t->to != CD_VM_MIGRATING;
	if (t->from != CD_VM_STOPPING || vm->last_move.mode != CD_MOVE_COLD)
		return false;
	/* cold_arrive: a new action starts it on the target. */
	if (t->ev == CD_VM_EV_REPORT_STOPPED && t->to == CD_VM_STARTING)
		return true;
	/* cold_failed: the record is of the move's own action, the one that failed. */
	return t->ev == CD_VM_EV_REPORT_FAILED && t->to == CD_VM_FAILED &&
	       vm->last_move.action_id == vm->action_id &&
	       vm->last_move.outcome != CD_MOVE_OUT_NONE;
}

void cd_stats_vm_transition(void *ctx, const struct cd_vm_transition_rec *t)
{
	const struct cd_vm_last_move *l = &t->vm->last_move;
	struct move_count *m;

	(void)ctx;
	if (!cd_stats_move_ended(t) || (unsigned)l->mode >= N_MODES ||
	    (unsigned)l->outcome >= CD_MOVE_N_OUTCOMES)
		return;
	ready();
	m = &st.moves[l->mode][l->outcome];
	m->count++;
	if (l->outcome == CD_MOVE_OUT_MOVED && l->total_ms) {
		m->timed++;
		m->total_ms += l->total_ms;
		m->downtime_ms += l->downtime_ms;
		cd_hist_observe(&st.timed[l->mode].total, l->total_ms);
		cd_hist_observe(&st.timed[l->mode].downtime, l->downtime_ms);
	}
}

void cd_stats_fence(bool ok, uint64_t took_ms)
{
	ready();
	if (ok)
		st.fence_ok++;
	else
		st.fence_failed++;
	cd_hist_observe(&st.fence_ms, took_ms);
}

void cd_stats_fence_not_run(void)
{
	st.fence_failed++;
}

void cd_stats_sync_begun(uint64_t now_ms)
{
	st.rounds_started++;
	st.round_begun_ms = now_ms;
	st.in_round = true;
}

void cd_stats_sync_done(uint64_t now_ms)
{
	uint64_t took;

	if (!st.in_round)
		return;
	took = now_ms > st.round_begun_ms ? now_ms - st.round_begun_ms : 0;
	st.in_round = false;
	st.rounds_done++;
	st.round_total_ms += took;
	st.round_last_ms = took;
}

static struct json_object *u64(uint64_t v)
{
	return json_object_new_int64(v > INT64_MAX ? INT64_MAX : (int64_t)v);
}

static struct json_object *moves_json(void)
{
	struct json_object *a = json_object_new_array();
	unsigned mode, out;

	for (mode = 0; mode < N_MODES; mode++)
		for (out = 0; out < CD_MOVE_N_OUTCOMES; out++) {
			const struct move_count *m = &st.moves[mode][out];
			struct json_object *o;

			if (!m->count)
				continue;
			o = json_object_new_object();
			json_object_object_add(o, "mode",
					       json_object_new_string(cd_move_mode_to_str(
						       (enum cd_move_mode)mode)));
			json_object_object_add(o, "outcome",
					       json_object_new_string(cd_move_outcome_to_str(
						       (enum cd_move_outcome)out)));
			json_object_object_add(o, "count", u64(m->count));
			json_object_object_add(o, "timed", u64(m->timed));
			json_object_object_add(o, "total_ms", u64(m->total_ms));
			json_object_object_add(o, "downtime_ms", u64(m->downtime_ms));
			json_object_array_add(a, o);
		}
	return a;
}

static struct json_object *move_durations_json(void)
{
	struct json_object *a = json_object_new_array();
	unsigned mode;

	for (mode = 0; mode < N_MODES; mode++) {
		const struct move_hist *h = &st.timed[mode];
		struct json_object *o;

		if (!h->total.count)
			continue;
		o = json_object_new_object();
		json_object_object_add(
			o, "mode",
			json_object_new_string(cd_move_mode_to_str((enum cd_move_mode)mode)));
		json_object_object_add(o, "total_ms", cd_hist_to_json(&h->total));
		json_object_object_add(o, "downtime_ms", cd_hist_to_json(&h->downtime));
		json_object_array_add(a, o);
	}
	return a;
}

void cd_stats_change_sent(bool packed, size_t text_len, size_t wire_len)
{
	if (packed)
		st.changes_packed++;
	else
		st.changes_plain++;
	st.change_text_bytes += text_len;
	st.change_wire_bytes += wire_len;
}

struct json_object *cd_stats_to_json(void)
{
	struct json_object *o = json_object_new_object(), *f = json_object_new_object();
	struct json_object *s = json_object_new_object(), *c = json_object_new_object();

	ready();
	json_object_object_add(o, "moves", moves_json());
	json_object_object_add(o, "move_durations", move_durations_json());
	json_object_object_add(f, "success", u64(st.fence_ok));
	json_object_object_add(f, "failure", u64(st.fence_failed));
	json_object_object_add(f, "duration_ms", cd_hist_to_json(&st.fence_ms));
	json_object_object_add(o, "fence", f);
	json_object_object_add(s, "started", u64(st.rounds_started));
	json_object_object_add(s, "completed", u64(st.rounds_done));
	json_object_object_add(s, "total_ms", u64(st.round_total_ms));
	json_object_object_add(s, "last_ms", u64(st.round_last_ms));
	json_object_object_add(o, "sync_rounds", s);
	json_object_object_add(c, "plain", u64(st.changes_plain));
	json_object_object_add(c, "packed", u64(st.changes_packed));
	json_object_object_add(c, "text_bytes", u64(st.change_text_bytes));
	json_object_object_add(c, "wire_bytes", u64(st.change_wire_bytes));
	json_object_object_add(o, "changes_sent", c);
	return o;
}

void cd_stats_reset(void)
{
	memset(&st, 0, sizeof(st));
}
