/*
 * A VM's live move in the replicated state (vm.h: struct cd_vm_move): the
 * changes that drive it (vm.move, vm.move.step, vm.move.cancel, the
 * settling node's vm.report), every way it ends, and its JSON.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <clusterd/result.h>

#include "check_common.h"
#include "check_fixture.h"
#include "core/state.h"

static char err[256];

static int apply(struct cd_state *s, const char *text)
{
	return fixture_apply(s, text, err, sizeof(err));
}

static int applyf(struct cd_state *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int applyf(struct cd_state *s, const char *fmt, ...)
{
	char buf[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	return apply(s, buf);
}

#define WEB_XML                                                                                    \
	"<domain><name>web</name><uuid>6f1d7c2e-0b6a-4f6e-9d1e-3a5b7c9d0e1f</uuid><devices>"       \
	"<interface type='bridge'><mac address='52:54:00:aa:bb:01'/></interface>"                  \
	"</devices></domain>"

static const struct cd_vm *web(const struct cd_state *s)
{
	return cd_state_vm(s, "web");
}

/*
 * Nodes 1 to 4, 1 to 3 members (4 has left, not known dead), and "web"
 * running on node `on` (action 7, last action 10).
 */
static void setup(struct cd_state *s, uint32_t on)
{
	struct cd_vm *vm;

	fixture_node4_left(s);
	ck_assert_int_eq(apply(s, "{\"op\":\"vm.add\",\"name\":\"web\",\"xml\":\"" WEB_XML "\","
				  "\"vcpus\":1,\"memory_mb\":512}"),
			 0);
	vm = (struct cd_vm *)web(s);
	vm->state = CD_VM_RUNNING;
	vm->node = on;
	vm->target_started = true;
	vm->action_id = 7;
	s->last_action_id = 10;
}

static int move(struct cd_state *s, unsigned target)
{
	return applyf(s,
		      "{\"op\":\"vm.move\",\"name\":\"web\",\"target\":%u,\"mode\":\"live\","
		      "\"wall_ms\":5000}",
		      target);
}

static int step(struct cd_state *s, unsigned node, const char *phase, bool ok)
{
	return applyf(s,
		      "{\"op\":\"vm.move.step\",\"name\":\"web\",\"node\":%u,\"action_id\":%llu,"
		      "\"phase\":\"%s\",\"ok\":%s%s}",
		      node, (unsigned long long)web(s)->action_id, phase, ok ? "true" : "false",
		      ok ? "" : ",\"error\":\"lease busy\"");
}

static int report(struct cd_state *s, unsigned node, const char *result)
{
	return applyf(s,
		      "{\"op\":\"vm.report\",\"name\":\"web\",\"node\":%u,\"action_id\":%llu,"
		      "\"result\":\"%s\",\"wall_ms\":9000,\"downtime_ms\":42,\"total_ms\":3100}",
		      node, (unsigned long long)web(s)->action_id, result);
}

/* Moving from 1 to 2, memory being copied. */
static void copying(struct cd_state *s)
{
	setup(s, 1);
	ck_assert_int_eq(move(s, 2), 0);
	ck_assert_int_eq(step(s, 1, "sharing", true), 0);
	ck_assert_int_eq(step(s, 2, "receiving", true), 0);
	ck_assert_int_eq(web(s)->move.phase, CD_MOVE_COPYING);
}

START_TEST(test_move_runs_to_the_end)
{
	struct cd_state s;
	const struct cd_vm *vm;

	setup(&s, 1);
	ck_assert_int_eq(move(&s, 2), 0);
	vm = web(&s);
	ck_assert_int_eq(vm->state, CD_VM_MIGRATING);
	ck_assert_int_eq(vm->move.phase, CD_MOVE_SHARING);
	ck_assert_uint_eq(vm->move.source, 1);
	ck_assert_uint_eq(vm->move.target, 2);
	ck_assert_uint_eq(vm->move.begun_ms, 5000);
	ck_assert_uint_eq(vm->node, 1);
	ck_assert_uint_eq(vm->action_id, 11);
	ck_assert_uint_eq(cd_vm_move_turn(vm), 1);
	/* Each node in its turn only. */
	ck_assert_int_eq(step(&s, 2, "sharing", true), CD_ERR_INVALID);
	ck_assert(strstr(err, "out of turn"));
	ck_assert_int_eq(step(&s, 1, "receiving", true), CD_ERR_INVALID);
	ck_assert_int_eq(step(&s, 1, "sharing", true), 0);
	ck_assert_int_eq(web(&s)->move.phase, CD_MOVE_RECEIVING);
	ck_assert_uint_eq(cd_vm_move_turn(web(&s)), 2);
	ck_assert_int_eq(step(&s, 2, "receiving", true), 0);
	ck_assert_int_eq(web(&s)->move.phase, CD_MOVE_COPYING);
	/* Nothing else moves it meanwhile. */
	ck_assert_int_eq(move(&s, 3), CD_ERR_INVALID);
	ck_assert_int_eq(apply(&s, "{\"op\":\"vm.place\",\"name\":\"web\",\"node\":3}"),
			 CD_ERR_INVALID);
	/* Only the source says where it ended. */
	ck_assert_int_eq(report(&s, 2, "moved"), CD_ERR_INVALID);
	ck_assert(strstr(err, "stale"));
	ck_assert_int_eq(report(&s, 1, "moved"), 0);
	vm = web(&s);
	ck_assert_int_eq(vm->state, CD_VM_RUNNING);
	ck_assert_uint_eq(vm->node, 2);
	ck_assert_int_eq(vm->move.phase, CD_MOVE_NONE);
	ck_assert_uint_eq(vm->last_move.action_id, 11);
	ck_assert_int_eq(vm->last_move.outcome, CD_MOVE_OUT_MOVED);
	ck_assert_uint_eq(vm->last_move.source, 1);
	ck_assert_uint_eq(vm->last_move.target, 2);
	ck_assert_uint_eq(vm->last_move.downtime_ms, 42);
	ck_assert_uint_eq(vm->last_move.total_ms, 3100);
	ck_assert(!vm->last_move.dirty_measured); /* the report did not measure it */
	ck_assert_str_eq(vm->last_move.error, "");
	ck_assert_uint_eq(cd_vm_move_turn(vm), 0);
	cd_state_free(&s);
}
END_TEST

/* The dirty rate the source measured before the copy, 0 included, is the last move's. */
START_TEST(test_move_dirty_rate)
{
	struct cd_state s;

	copying(&s);
	ck_assert_int_eq(applyf(&s,
				"{\"op\":\"vm.report\",\"name\":\"web\",\"node\":1,"
				"\"action_id\":%llu,\"result\":\"moved\",\"wall_ms\":9000,"
				"\"rate_mib_s\":300,\"dirty_mib_s\":0}",
				(unsigned long long)web(&s)->action_id),
			 0);
	ck_assert_int_eq(web(&s)->last_move.outcome, CD_MOVE_OUT_MOVED);
	ck_assert_uint_eq(web(&s)->last_move.rate_mib_s, 300);
	ck_assert(web(&s)->last_move.dirty_measured);
	ck_assert_uint_eq(web(&s)->last_move.dirty_mib_s, 0);
	cd_state_free(&s);
}
END_TEST

START_TEST(test_move_refused)
{
	struct cd_state s;

	setup(&s, 1);
	ck_assert_int_eq(move(&s, 1), CD_ERR_INVALID); /* where it runs */
	ck_assert_int_eq(move(&s, 4), CD_ERR_INVALID); /* not a member */
	ck_assert(strstr(err, "cannot take"));
	ck_assert_int_eq(move(&s, 9), CD_ERR_INVALID); /* no such node */
	ck_assert_int_eq(apply(&s, "{\"op\":\"vm.move\",\"name\":\"web\",\"target\":2,"
				   "\"mode\":\"warp\"}"),
			 CD_ERR_INVALID);
	ck_assert_int_eq(apply(&s, "{\"op\":\"vm.move.cancel\",\"name\":\"web\"}"), CD_ERR_INVALID);
	ck_assert(strstr(err, "not moving"));
	((struct cd_vm *)web(&s))->state = CD_VM_STOPPED;
	((struct cd_vm *)web(&s))->node = 0;
	ck_assert_int_eq(move(&s, 2), CD_ERR_INVALID);
	ck_assert_int_eq(web(&s)->state, CD_VM_STOPPED);
	cd_state_free(&s);
}
END_TEST

/* The target cannot take the leases: the source settles it back. */
START_TEST(test_move_step_failed)
{
	struct cd_state s;

	setup(&s, 1);
	ck_assert_int_eq(move(&s, 2), 0);
	ck_assert_int_eq(step(&s, 1, "sharing", true), 0);
	ck_assert_int_eq(step(&s, 2, "receiving", false), 0);
	ck_assert_int_eq(web(&s)->move.phase, CD_MOVE_ABORTING);
	ck_assert_str_eq(web(&s)->last_error, "lease busy");
	ck_assert_uint_eq(cd_vm_move_turn(web(&s)), 1);
	ck_assert_int_eq(report(&s, 1, "moved"), CD_ERR_INVALID); /* the copy never began... */
	ck_assert_int_eq(report(&s, 1, "running"), 0);
	ck_assert_int_eq(web(&s)->state, CD_VM_RUNNING);
	ck_assert_uint_eq(web(&s)->node, 1);
	ck_assert_int_eq(web(&s)->last_move.outcome, CD_MOVE_OUT_STAYED);
	ck_assert_str_eq(web(&s)->last_move.error, "lease busy");
	cd_state_free(&s);
}
END_TEST

START_TEST(test_move_cancelled)
{
	struct cd_state s;

	copying(&s);
	ck_assert_int_eq(apply(&s, "{\"op\":\"vm.move.cancel\",\"name\":\"web\"}"), 0);
	ck_assert_int_eq(web(&s)->move.phase, CD_MOVE_ABORTING);
	ck_assert(web(&s)->move.cancelled);
	/* Cancelled twice is cancelled. */
	ck_assert_int_eq(apply(&s, "{\"op\":\"vm.move.cancel\",\"name\":\"web\"}"), 0);
	ck_assert_int_eq(report(&s, 1, "running"), 0);
	ck_assert_int_eq(web(&s)->state, CD_VM_RUNNING);
	ck_assert_uint_eq(web(&s)->node, 1);
	ck_assert_int_eq(web(&s)->last_move.outcome, CD_MOVE_OUT_CANCELLED);
	cd_state_free(&s);
}
END_TEST

/* Too late: the switch-over was done when the abort came. */
START_TEST(test_move_cancel_too_late)
{
	struct cd_state s;

	copying(&s);
	ck_assert_int_eq(apply(&s, "{\"op\":\"vm.move.cancel\",\"name\":\"web\"}"), 0);
	ck_assert_int_eq(report(&s, 1, "moved"), 0);
	ck_assert_uint_eq(web(&s)->node, 2);
	ck_assert_int_eq(web(&s)->last_move.outcome, CD_MOVE_OUT_MOVED);
	cd_state_free(&s);
}
END_TEST

/* Both domains gone: failover restarts it, counted as a failure. */
START_TEST(test_move_failed_nowhere)
{
	struct cd_state s;

	copying(&s);
	ck_assert_int_eq(report(&s, 1, "failed"), 0);
	ck_assert_int_eq(web(&s)->state, CD_VM_FAILED);
	ck_assert_uint_eq(web(&s)->node, 0);
	ck_assert_uint_eq(web(&s)->fail_count, 1);
	ck_assert_int_eq(web(&s)->last_move.outcome, CD_MOVE_OUT_FAILED);
	cd_state_free(&s);
}
END_TEST

/* An admin stops it mid-move: the move is called off, then it stops. */
START_TEST(test_move_then_stop)
{
	struct cd_state s;

	copying(&s);
	ck_assert_int_eq(apply(&s, "{\"op\":\"vm.stop\",\"name\":\"web\"}"), 0);
	ck_assert_int_eq(web(&s)->state, CD_VM_MIGRATING);
	ck_assert_int_eq(web(&s)->move.phase, CD_MOVE_ABORTING);
	ck_assert_int_eq(report(&s, 1, "running"), 0);
	ck_assert_int_eq(web(&s)->state, CD_VM_STOPPING);
	ck_assert_uint_eq(web(&s)->node, 1);
	ck_assert_uint_eq(web(&s)->action_id, 12);
	ck_assert_int_eq(web(&s)->last_move.outcome, CD_MOVE_OUT_STAYED);
	cd_state_free(&s);
	/* Or it had moved already: it stops on the target. */
	copying(&s);
	ck_assert_int_eq(apply(&s, "{\"op\":\"vm.stop\",\"name\":\"web\"}"), 0);
	ck_assert_int_eq(report(&s, 1, "moved"), 0);
	ck_assert_int_eq(web(&s)->state, CD_VM_STOPPING);
	ck_assert_uint_eq(web(&s)->node, 2);
	cd_state_free(&s);
}
END_TEST

/* node4 (not a member) is the source, node1 the target: node4 is declared dead. */
START_TEST(test_move_source_dies)
{
	struct cd_state s;
	struct cd_vm *vm;

	setup(&s, 4);
	vm = (struct cd_vm *)web(&s);
	vm->state = CD_VM_MIGRATING;
	vm->move.phase = CD_MOVE_COPYING;
	vm->move.copy_begun = true;
	vm->move.source = 4;
	vm->move.target = 1;
	ck_assert_int_eq(apply(&s, "{\"op\":\"node.dead\",\"node\":4,\"how\":\"lease\"}"), 0);
	ck_assert_int_eq(web(&s)->state, CD_VM_MIGRATING);
	ck_assert_int_eq(web(&s)->move.phase, CD_MOVE_ORPHANED);
	ck_assert_uint_eq(web(&s)->node, 1);
	ck_assert_uint_eq(cd_vm_move_turn(web(&s)), 1);
	ck_assert(strstr(web(&s)->last_error, "source node4 died"));
	ck_assert_int_eq(apply(&s, "{\"op\":\"vm.move.cancel\",\"name\":\"web\"}"), CD_ERR_INVALID);
	ck_assert(strstr(err, "too late"));
	/* The target runs it: it moved. */
	ck_assert_int_eq(report(&s, 1, "running"), 0);
	ck_assert_int_eq(web(&s)->state, CD_VM_RUNNING);
	ck_assert_uint_eq(web(&s)->node, 1);
	ck_assert_int_eq(web(&s)->last_move.outcome, CD_MOVE_OUT_MOVED);
	cd_state_free(&s);
}
END_TEST

/* node1 moves it to node4, which dies: the source settles it, never "moved". */
START_TEST(test_move_target_dies)
{
	struct cd_state s;
	struct cd_vm *vm;

	setup(&s, 1);
	vm = (struct cd_vm *)web(&s);
	vm->state = CD_VM_MIGRATING;
	vm->move.phase = CD_MOVE_COPYING;
	vm->move.copy_begun = true;
	vm->move.source = 1;
	vm->move.target = 4;
	ck_assert_int_eq(apply(&s, "{\"op\":\"node.dead\",\"node\":4,\"how\":\"fenced\"}"), 0);
	ck_assert_int_eq(web(&s)->state, CD_VM_MIGRATING);
	ck_assert_int_eq(web(&s)->move.phase, CD_MOVE_ABORTING);
	ck_assert(web(&s)->move.target_lost);
	ck_assert_uint_eq(web(&s)->node, 1);
	ck_assert_int_eq(report(&s, 1, "moved"), CD_ERR_INVALID);
	ck_assert(strstr(err, "target died"));
	ck_assert_int_eq(report(&s, 1, "running"), 0);
	ck_assert_int_eq(web(&s)->state, CD_VM_RUNNING);
	ck_assert_uint_eq(web(&s)->node, 1);
	ck_assert_int_eq(web(&s)->last_move.outcome, CD_MOVE_OUT_STAYED);
	cd_state_free(&s);
}
END_TEST

/* Orphaned, and then the target dies too: a cold failover. */
START_TEST(test_move_both_die)
{
	struct cd_state s;
	struct cd_vm *vm;

	setup(&s, 1);
	vm = (struct cd_vm *)web(&s);
	vm->state = CD_VM_MIGRATING;
	vm->move.phase = CD_MOVE_ORPHANED;
	vm->move.source = 3;
	vm->move.target = 4;
	vm->node = 4;
	ck_assert_int_eq(apply(&s, "{\"op\":\"node.dead\",\"node\":4,\"how\":\"lease\"}"), 0);
	ck_assert_int_eq(web(&s)->state, CD_VM_STOPPED);
	ck_assert_uint_eq(web(&s)->node, 0);
	ck_assert_int_eq(web(&s)->last_move.outcome, CD_MOVE_OUT_FAILED);
	cd_state_free(&s);
}
END_TEST

START_TEST(test_move_json_roundtrip)
{
	struct cd_state s;
	struct json_object *o;
	struct cd_vm back;
	char e[128];

	copying(&s);
	ck_assert_int_eq(apply(&s, "{\"op\":\"vm.move.cancel\",\"name\":\"web\"}"), 0);
	o = cd_vm_to_json(web(&s));
	ck_assert_int_eq(cd_vm_from_json(&back, o, e, sizeof(e)), 0);
	ck_assert_int_eq(back.move.phase, CD_MOVE_ABORTING);
	ck_assert(back.move.cancelled);
	ck_assert_uint_eq(back.move.target, 2);
	ck_assert_uint_eq(back.move.begun_ms, 5000);
	cd_vm_free(&back);
	json_object_put(o);
	ck_assert_int_eq(report(&s, 1, "running"), 0);
	o = cd_vm_to_json(web(&s));
	ck_assert_int_eq(cd_vm_from_json(&back, o, e, sizeof(e)), 0);
	ck_assert_int_eq(back.move.phase, CD_MOVE_NONE);
	ck_assert_int_eq(back.last_move.outcome, CD_MOVE_OUT_CANCELLED);
	ck_assert_uint_eq(back.last_move.action_id, 11);
	cd_vm_free(&back);
	/* A move record on a VM that does not move is corrupt. */
	json_object_object_add(o, "move",
			       json_tokener_parse("{\"phase\":\"copying\",\"mode\":"
						  "\"live\",\"source\":1,\"target\":2,"
						  "\"begun_ms\":1}"));
	ck_assert_int_eq(cd_vm_from_json(&back, o, e, sizeof(e)), CD_ERR_CORRUPT);
	json_object_put(o);
	cd_state_free(&s);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("vm_move");

	add_tcase(s, test_move_runs_to_the_end);
	add_tcase(s, test_move_dirty_rate);
	add_tcase(s, test_move_refused);
	add_tcase(s, test_move_step_failed);
	add_tcase(s, test_move_cancelled);
	add_tcase(s, test_move_cancel_too_late);
	add_tcase(s, test_move_failed_nowhere);
	add_tcase(s, test_move_then_stop);
	add_tcase(s, test_move_source_dies);
	add_tcase(s, test_move_target_dies);
	add_tcase(s, test_move_both_die);
	add_tcase(s, test_move_json_roundtrip);
	return run_suite(s);
}
