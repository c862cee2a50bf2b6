/*
 * clusterd's counters for the metrics (clusterd/stats.h): which VM
 * transitions end a move, and what the counters say.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "check_common.h"
#include "clusterd/stats.h"
#include "lib/jsonget.h"

static struct cd_vm *vm_with(enum cd_move_mode mode, enum cd_move_outcome out, uint64_t total_ms,
			     uint64_t downtime_ms)
{
	struct cd_vm *vm = calloc(1, sizeof(*vm));

	ck_assert_ptr_nonnull(vm);
	snprintf(vm->name, sizeof(vm->name), "web");
	vm->action_id = 7;
	vm->last_move.action_id = 7;
	vm->last_move.mode = mode;
	vm->last_move.outcome = out;
	vm->last_move.total_ms = total_ms;
	vm->last_move.downtime_ms = downtime_ms;
	return vm;
}

static struct cd_vm_transition_rec rec(const struct cd_vm *vm, enum cd_vm_state from,
				       enum cd_vm_state to, enum cd_vm_event ev)
{
	return (struct cd_vm_transition_rec){.vm = vm, .from = from, .to = to, .ev = ev};
}

START_TEST(test_move_ended)
{
	struct cd_vm *vm = vm_with(CD_MOVE_LIVE, CD_MOVE_OUT_MOVED, 100, 10);
	struct cd_vm_transition_rec t;

	/* Live and quick moves end when the VM leaves MIGRATING. */
	t = rec(vm, CD_VM_MIGRATING, CD_VM_RUNNING, CD_VM_EV_REPORT_MOVED);
	ck_assert(cd_stats_move_ended(&t));
	t = rec(vm, CD_VM_MIGRATING, CD_VM_STOPPED, CD_VM_EV_REPORT_SAVED);
	ck_assert(cd_stats_move_ended(&t));
	t = rec(vm, CD_VM_MIGRATING, CD_VM_MIGRATING, CD_VM_EV_NODE_DEAD);
	ck_assert(!cd_stats_move_ended(&t));
	t = rec(vm, CD_VM_RUNNING, CD_VM_MIGRATING, CD_VM_EV_MOVE);
	ck_assert(!cd_stats_move_ended(&t));
	t = rec(vm, CD_VM_RUNNING, CD_VM_STOPPING, CD_VM_EV_STOP);
	ck_assert(!cd_stats_move_ended(&t));
	free(vm);

	/* A cold move: stopped for its target, or its stop failed. */
	vm = vm_with(CD_MOVE_COLD, CD_MOVE_OUT_MOVED, 0, 0);
	t = rec(vm, CD_VM_STOPPING, CD_VM_STARTING, CD_VM_EV_REPORT_STOPPED);
	ck_assert(cd_stats_move_ended(&t));
	t = rec(vm, CD_VM_STOPPING, CD_VM_STOPPED, CD_VM_EV_REPORT_STOPPED);
	ck_assert(!cd_stats_move_ended(&t));
	vm->last_move.outcome = CD_MOVE_OUT_FAILED;
	t = rec(vm, CD_VM_STOPPING, CD_VM_FAILED, CD_VM_EV_REPORT_FAILED);
	ck_assert(cd_stats_move_ended(&t));
	/* A plain stop that failed after an old cold move: a newer action. */
	vm->action_id = 9;
	ck_assert(!cd_stats_move_ended(&t));
	free(vm);

	/* A failed stop of a VM whose last move was live is no move. */
	vm = vm_with(CD_MOVE_LIVE, CD_MOVE_OUT_MOVED, 100, 10);
	t = rec(vm, CD_VM_STOPPING, CD_VM_FAILED, CD_VM_EV_REPORT_FAILED);
	ck_assert(!cd_stats_move_ended(&t));
	free(vm);
}
END_TEST

static struct json_object *find_move(struct json_object *o, const char *mode, const char *outcome)
{
	struct json_object *a;
	size_t i;

	ck_assert(json_object_object_get_ex(o, "moves", &a));
	for (i = 0; i < json_object_array_length(a); i++) {
		struct json_object *m = json_object_array_get_idx(a, i);

		if (!strcmp(cd_jget_str(m, "mode"), mode) &&
		    !strcmp(cd_jget_str(m, "outcome"), outcome))
			return m;
	}
	return NULL;
}

static uint64_t u(struct json_object *o, const char *key)
{
	uint64_t v = 0;

	ck_assert_int_eq(cd_jget_u64(o, key, &v), 0);
	return v;
}

/* The cumulative count of histogram h's bucket le (which must be one of its bounds). */
static uint64_t bucket(struct json_object *h, uint64_t le)
{
	struct json_object *b = json_object_object_get(h, "buckets");
	size_t i;

	for (i = 0; i < json_object_array_length(b); i++)
		if (u(json_object_array_get_idx(b, i), "le") == le)
			return u(json_object_array_get_idx(b, i), "count");
	ck_abort_msg("no bucket le %llu", (unsigned long long)le);
	return 0;
}

START_TEST(test_counters)
{
	struct cd_vm *live = vm_with(CD_MOVE_LIVE, CD_MOVE_OUT_MOVED, 1500, 30);
	struct cd_vm *untimed = vm_with(CD_MOVE_LIVE, CD_MOVE_OUT_MOVED, 0, 0);
	struct cd_vm *stayed = vm_with(CD_MOVE_QUICK, CD_MOVE_OUT_STAYED, 900, 0);
	struct cd_vm_transition_rec t;
	struct json_object *o, *m, *f, *s, *h, *a;

	cd_stats_reset();
	o = cd_stats_to_json();
	ck_assert_uint_eq(json_object_array_length(json_object_object_get(o, "moves")), 0);
	ck_assert_uint_eq(json_object_array_length(json_object_object_get(o, "move_durations")), 0);
	f = json_object_object_get(o, "fence");
	ck_assert_uint_eq(u(json_object_object_get(f, "duration_ms"), "count"), 0);
	json_object_put(o);

	t = rec(live, CD_VM_MIGRATING, CD_VM_RUNNING, CD_VM_EV_REPORT_MOVED);
	cd_stats_vm_transition(NULL, &t);
	cd_stats_vm_transition(NULL, &t);
	t = rec(untimed, CD_VM_MIGRATING, CD_VM_RUNNING, CD_VM_EV_REPORT_RUNNING);
	cd_stats_vm_transition(NULL, &t);
	t = rec(stayed, CD_VM_MIGRATING, CD_VM_RUNNING, CD_VM_EV_REPORT_RUNNING);
	cd_stats_vm_transition(NULL, &t);
	/* Not an end: not counted. */
	t = rec(live, CD_VM_RUNNING, CD_VM_MIGRATING, CD_VM_EV_MOVE);
	cd_stats_vm_transition(NULL, &t);
	cd_stats_fence(true, 4000);
	cd_stats_fence(false, 30000);
	cd_stats_fence_not_run();
	cd_stats_sync_done(50); /* no round begun: ignored */
	cd_stats_sync_begun(100);
	cd_stats_sync_begun(200); /* restarted before its end */
	cd_stats_sync_done(450);

	o = cd_stats_to_json();
	m = find_move(o, "live", "moved");
	ck_assert_ptr_nonnull(m);
	ck_assert_uint_eq(u(m, "count"), 3);
	ck_assert_uint_eq(u(m, "timed"), 2);
	ck_assert_uint_eq(u(m, "total_ms"), 3000);
	ck_assert_uint_eq(u(m, "downtime_ms"), 60);
	m = find_move(o, "quick", "stayed");
	ck_assert_ptr_nonnull(m);
	ck_assert_uint_eq(u(m, "count"), 1);
	ck_assert_uint_eq(u(m, "timed"), 0);
	ck_assert_ptr_null(find_move(o, "cold", "moved"));
	ck_assert(json_object_object_get_ex(o, "fence", &f));
	ck_assert_uint_eq(u(f, "success"), 1);
	ck_assert_uint_eq(u(f, "failure"), 2);
	/* The two that ran are timed, the one that could not start is not. */
	h = json_object_object_get(f, "duration_ms");
	ck_assert_uint_eq(u(h, "count"), 2);
	ck_assert_uint_eq(u(h, "sum"), 34000);
	ck_assert_uint_eq(bucket(h, 5000), 1);
	ck_assert_uint_eq(bucket(h, 30000), 2);
	/* Histograms of the timed moves, per mode: live only. */
	a = json_object_object_get(o, "move_durations");
	ck_assert_uint_eq(json_object_array_length(a), 1);
	m = json_object_array_get_idx(a, 0);
	ck_assert_str_eq(cd_jget_str(m, "mode"), "live");
	h = json_object_object_get(m, "total_ms");
	ck_assert_uint_eq(u(h, "count"), 2);
	ck_assert_uint_eq(u(h, "sum"), 3000);
	ck_assert_uint_eq(bucket(h, 1000), 0);
	ck_assert_uint_eq(bucket(h, 2500), 2);
	h = json_object_object_get(m, "downtime_ms");
	ck_assert_uint_eq(u(h, "count"), 2);
	ck_assert_uint_eq(u(h, "sum"), 60);
	ck_assert_uint_eq(bucket(h, 25), 0);
	ck_assert_uint_eq(bucket(h, 50), 2);
	ck_assert(json_object_object_get_ex(o, "sync_rounds", &s));
	ck_assert_uint_eq(u(s, "started"), 2);
	ck_assert_uint_eq(u(s, "completed"), 1);
	ck_assert_uint_eq(u(s, "total_ms"), 250);
	ck_assert_uint_eq(u(s, "last_ms"), 250);
	json_object_put(o);
	free(live);
	free(untimed);
	free(stayed);
}
END_TEST

/* The changes sent: how many went packed, and the bytes of JSON against those sent. */
START_TEST(test_changes_sent)
{
	struct json_object *o, *c;

	cd_stats_reset();
	o = cd_stats_to_json();
	ck_assert(json_object_object_get_ex(o, "changes_sent", &c));
	ck_assert_uint_eq(u(c, "plain"), 0);
	ck_assert_uint_eq(u(c, "packed"), 0);
	json_object_put(o);
	cd_stats_change_sent(false, 200, 200);
	cd_stats_change_sent(true, 5200, 1700);
	cd_stats_change_sent(true, 5000, 1600);
	o = cd_stats_to_json();
	c = json_object_object_get(o, "changes_sent");
	ck_assert_uint_eq(u(c, "plain"), 1);
	ck_assert_uint_eq(u(c, "packed"), 2);
	ck_assert_uint_eq(u(c, "text_bytes"), 10400);
	ck_assert_uint_eq(u(c, "wire_bytes"), 3500);
	json_object_put(o);
	cd_stats_reset();
}
END_TEST

int main(void)
{
	Suite *s = suite_create("stats");

	add_tcase(s, test_move_ended);
	add_tcase(s, test_counters);
	add_tcase(s, test_changes_sent);
	return run_suite(s);
}
