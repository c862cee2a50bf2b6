/*
 * Drains in the replicated state (core/drain.h, core/drain_plan.h): the
 * node's job and its changes, the ladder each VM climbs (live, quick, cold),
 * cold moves in the VM lifecycle, and the plan (targets from the policy,
 * priority order, blockers, how many moves at once).
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <clusterd/result.h>

#include "check_common.h"
#include "check_fixture.h"
#include "core/drain_plan.h"
#include "core/state.h"

static char err[256];

#define XML(n, i)                                                                                  \
	"<domain><name>" n "</name><uuid>6f1d7c2e-0b6a-4f6e-9d1e-3a5b7c9d0e" i "</uuid><devices>"  \
	"<interface type='bridge'><mac address='52:54:00:aa:bb:" i "'/></interface>"               \
	"</devices></domain>"

static int applyf(struct cd_state *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int applyf(struct cd_state *s, const char *fmt, ...)
{
	char buf[2048];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	return fixture_apply(s, buf, err, sizeof(err));
}

static struct cd_vm *vm(const struct cd_state *s, const char *name)
{
	return (struct cd_vm *)cd_state_vm(s, name);
}

static const struct cd_node *node(const struct cd_state *s, uint32_t id)
{
	return cd_state_node_by_id(s, id);
}

/* A VM running on node at, with priority prio. */
static void add_vm(struct cd_state *s, const char *name, const char *xml, uint32_t at,
		   const char *prio)
{
	struct cd_vm *v;

	ck_assert_int_eq(applyf(s,
				"{\"op\":\"vm.add\",\"name\":\"%s\",\"xml\":\"%s\",\"vcpus\":1,"
				"\"memory_mb\":512}",
				name, xml),
			 0);
	ck_assert_int_eq(applyf(s,
				"{\"op\":\"vm.set\",\"name\":\"%s\",\"key\":\"priority\","
				"\"value\":\"%s\"}",
				name, prio),
			 0);
	v = vm(s, name);
	v->state = CD_VM_RUNNING;
	v->node = at;
	v->target_started = true;
	v->action_id = ++s->last_action_id;
}

/* Nodes 1 to 3 with 2 cores and 2 GiB each; a (low), b (high), c (medium) run on node 2. */
static void setup(struct cd_state *s)
{
	size_t i;

	fixture_three_nodes(s);
	ck_assert_int_eq(applyf(s,
				"{\"op\":\"volume.add\",\"name\":\"vol1\",\"device\":"
				"\"/dev/loop3\",\"uuid\":\"6f1d7c2e-0b6a-4f6e-9d1e-3a5b7c9d0e10\","
				"\"hosts\":8,\"expiry_ms\":10000,\"renewal_ms\":1250}"),
			 0);
	for (i = 0; i < s->n_nodes; i++) {
		s->nodes[i].info.cap.cores = 2;
		s->nodes[i].info.cap.memory_mb = 2048;
	}
	add_vm(s, "a", XML("a", "01"), 2, "low");
	add_vm(s, "b", XML("b", "02"), 2, "high");
	add_vm(s, "c", XML("c", "03"), 2, "medium");
}

static int drain(struct cd_state *s, const char *mode)
{
	return applyf(s,
		      "{\"op\":\"node.drain\",\"node\":\"node2\",\"mode\":\"%s\",\"wall_ms\":1000}",
		      mode);
}

/* The drain's move of name to target in mode, try tries. */
static int drain_move(struct cd_state *s, const char *name, unsigned target, const char *mode,
		      unsigned tries)
{
	return applyf(s,
		      "{\"op\":\"vm.move\",\"name\":\"%s\",\"target\":%u,\"mode\":\"%s\","
		      "\"wall_ms\":2000,\"drain\":{\"job\":%llu,\"tries\":%u,\"why\":\"\"}%s}",
		      name, target, mode, (unsigned long long)node(s, 2)->drain.id, tries,
		      strcmp(mode, "quick") == 0
			      ? ",\"state_volume\":\"vol1\",\"state_file\":\"x.vmstate\""
			      : "");
}

/* The VM's last move ended without moving it (as its source reports it running). */
static void failed_try(struct cd_state *s, const char *name, const char *why)
{
	struct cd_vm *v = vm(s, name);

	v->state = CD_VM_RUNNING;
	memset(&v->move, 0, sizeof(v->move));
	v->last_move.action_id = v->action_id;
	v->last_move.outcome = CD_MOVE_OUT_STAYED;
	snprintf(v->last_move.error, sizeof(v->last_move.error), "%s", why);
}

START_TEST(test_drain_changes)
{
	struct cd_state s;
	uint64_t id;

	setup(&s);
	ck_assert_int_eq(drain(&s, "live"), 0);
	id = node(&s, 2)->drain.id;
	ck_assert_uint_gt(id, 0);
	ck_assert(node(&s, 2)->maintenance);
	ck_assert_int_eq(node(&s, 2)->drain.state, CD_DRAIN_RUNNING);
	ck_assert_uint_eq(node(&s, 2)->drain.begun_ms, 1000);
	/* One drain at a time; an unknown mode or node is refused. */
	ck_assert_int_eq(drain(&s, "live"), CD_ERR_EXISTS);
	ck_assert_int_eq(drain(&s, "warp"), CD_ERR_INVALID);
	ck_assert_int_eq(applyf(&s, "{\"op\":\"node.drain\",\"node\":\"nodeX\",\"mode\":\"live\"}"),
			 CD_ERR_NOT_FOUND);
	/* Only the running drain is ended, with its id. */
	ck_assert_int_eq(applyf(&s,
				"{\"op\":\"node.drain.end\",\"node\":\"node2\",\"id\":%llu,"
				"\"state\":\"drained\",\"why\":\"\",\"wall_ms\":5000}",
				(unsigned long long)id + 1),
			 CD_ERR_INVALID);
	ck_assert_int_eq(node(&s, 2)->drain.state, CD_DRAIN_RUNNING);
	ck_assert_int_eq(
		applyf(&s,
		       "{\"op\":\"node.drain.end\",\"node\":\"node2\",\"id\":%llu,"
		       "\"state\":\"blocked\",\"why\":\"a: fits nowhere\",\"wall_ms\":5000}",
		       (unsigned long long)id),
		0);
	ck_assert_int_eq(node(&s, 2)->drain.state, CD_DRAIN_BLOCKED);
	ck_assert_str_eq(node(&s, 2)->drain.why, "a: fits nowhere");
	ck_assert_int_eq(applyf(&s, "{\"op\":\"node.drain.cancel\",\"node\":\"node2\"}"),
			 CD_ERR_INVALID);
	/* A new drain; cancelled, the node stays paused. */
	ck_assert_int_eq(drain(&s, "quick"), 0);
	ck_assert_uint_gt(node(&s, 2)->drain.id, id);
	ck_assert_int_eq(applyf(&s, "{\"op\":\"node.drain.cancel\",\"node\":\"node2\"}"), 0);
	ck_assert_int_eq(node(&s, 2)->drain.state, CD_DRAIN_CANCELLED);
	ck_assert(node(&s, 2)->maintenance);
	/* Resumed: takes VMs again, and remembers how VMs return. */
	ck_assert_int_eq(applyf(&s, "{\"op\":\"node.resume\",\"node\":\"node2\","
				    "\"failback\":\"sometimes\"}"),
			 CD_ERR_INVALID);
	ck_assert_int_eq(
		applyf(&s, "{\"op\":\"node.resume\",\"node\":\"node2\",\"failback\":\"now\"}"), 0);
	ck_assert(!node(&s, 2)->maintenance);
	ck_assert_int_eq(node(&s, 2)->drain.state, CD_DRAIN_NONE);
	ck_assert_int_eq(node(&s, 2)->drain.failback, CD_RESUME_NOW);
	cd_state_free(&s);
}
END_TEST

START_TEST(test_drain_offline_node_refused)
{
	struct cd_state s;

	setup(&s);
	s.nodes[1].member = false;
	ck_assert_int_eq(drain(&s, "live"), CD_ERR_INVALID);
	ck_assert(strstr(err, "offline"));
	ck_assert(!node(&s, 2)->maintenance);
	cd_state_free(&s);
}
END_TEST

START_TEST(test_drain_state_roundtrip)
{
	struct cd_state s, back;
	struct json_object *o;

	setup(&s);
	ck_assert_int_eq(drain(&s, "quick"), 0);
	ck_assert_int_eq(drain_move(&s, "b", 1, "cold", 1), 0);
	o = cd_state_to_json(&s);
	cd_state_init(&back);
	ck_assert_int_eq(cd_state_from_json(&back, o, err, sizeof(err)), 0);
	ck_assert_uint_eq(node(&back, 2)->drain.id, node(&s, 2)->drain.id);
	ck_assert_int_eq(node(&back, 2)->drain.mode, CD_MOVE_QUICK);
	ck_assert_int_eq(node(&back, 2)->drain.state, CD_DRAIN_RUNNING);
	ck_assert_uint_eq(vm(&back, "b")->cold_to, 1);
	ck_assert_uint_eq(vm(&back, "b")->drain.job, node(&s, 2)->drain.id);
	ck_assert_int_eq(vm(&back, "b")->drain.rung, CD_MOVE_COLD);
	ck_assert_uint_eq(vm(&back, "b")->drain.action_id, vm(&s, "b")->action_id);
	json_object_put(o);
	cd_state_free(&back);
	cd_state_free(&s);
}
END_TEST

/*
 * A drain begun by stopping clusterd says so (on_shutdown), in the state's
 * JSON too; an admin's says nothing, and a resume clears it.
 */
START_TEST(test_drain_on_shutdown)
{
	struct cd_state s, back;
	struct json_object *o, *c;

	setup(&s);
	c = cd_node_shutdown_drain_change("node2", CD_MOVE_QUICK, 1000);
	ck_assert_int_eq(cd_state_apply(&s, c, err, sizeof(err)), 0);
	json_object_put(c);
	ck_assert(node(&s, 2)->drain.on_shutdown);
	ck_assert_int_eq(node(&s, 2)->drain.mode, CD_MOVE_QUICK);
	o = cd_drain_to_json(&node(&s, 2)->drain);
	ck_assert(json_object_get_boolean(json_object_object_get(o, "on_shutdown")));
	json_object_put(o);
	o = cd_state_to_json(&s);
	cd_state_init(&back);
	ck_assert_int_eq(cd_state_from_json(&back, o, err, sizeof(err)), 0);
	ck_assert(node(&back, 2)->drain.on_shutdown);
	ck_assert_uint_eq(node(&back, 2)->drain.id, node(&s, 2)->drain.id);
	json_object_put(o);
	cd_state_free(&back);
	/* Malformed, it does not read back. */
	{
		struct cd_drain d;

		o = cd_drain_to_json(&node(&s, 2)->drain);
		json_object_object_add(o, "on_shutdown", json_object_new_string("yes"));
		ck_assert_int_eq(cd_drain_from_json(&d, o), -1);
		json_object_put(o);
	}
	/* Resumed: no longer the shutdown's; the next drain an admin's. */
	ck_assert_int_eq(applyf(&s, "{\"op\":\"node.resume\",\"node\":\"node2\"}"), 0);
	ck_assert(!node(&s, 2)->drain.on_shutdown);
	ck_assert_int_eq(drain(&s, "live"), 0);
	ck_assert(!node(&s, 2)->drain.on_shutdown);
	o = cd_drain_to_json(&node(&s, 2)->drain);
	ck_assert(!json_object_object_get_ex(o, "on_shutdown", NULL));
	json_object_put(o);
	cd_state_free(&s);
}
END_TEST

/* A cold move: stopped on its node, then started on the target as a new action. */
START_TEST(test_cold_move)
{
	struct cd_state s;
	uint64_t move;

	setup(&s);
	ck_assert_int_eq(applyf(&s, "{\"op\":\"vm.move\",\"name\":\"a\",\"target\":3,"
				    "\"mode\":\"cold\",\"wall_ms\":2000}"),
			 0);
	ck_assert_int_eq(vm(&s, "a")->state, CD_VM_STOPPING);
	ck_assert_uint_eq(vm(&s, "a")->cold_to, 3);
	ck_assert(vm(&s, "a")->target_started);
	move = vm(&s, "a")->action_id;
	ck_assert_int_eq(
		applyf(&s,
		       "{\"op\":\"vm.report\",\"name\":\"a\",\"node\":2,\"action_id\":%llu,"
		       "\"result\":\"stopped\",\"wall_ms\":3000}",
		       (unsigned long long)move),
		0);
	ck_assert_int_eq(vm(&s, "a")->state, CD_VM_STARTING);
	ck_assert_uint_eq(vm(&s, "a")->node, 3);
	ck_assert_uint_eq(vm(&s, "a")->cold_to, 0);
	ck_assert_uint_gt(vm(&s, "a")->action_id, move);
	ck_assert_uint_eq(vm(&s, "a")->last_move.action_id, move);
	ck_assert_int_eq(vm(&s, "a")->last_move.outcome, CD_MOVE_OUT_MOVED);
	ck_assert_int_eq(vm(&s, "a")->last_move.mode, CD_MOVE_COLD);
	ck_assert_uint_eq(vm(&s, "a")->last_move.source, 2);
	ck_assert_uint_eq(vm(&s, "a")->last_move.target, 3);

	/* Its stop fails: the move is over, the VM failed where it was. */
	ck_assert_int_eq(applyf(&s, "{\"op\":\"vm.move\",\"name\":\"b\",\"target\":3,"
				    "\"mode\":\"cold\",\"wall_ms\":2000}"),
			 0);
	ck_assert_int_eq(
		applyf(&s,
		       "{\"op\":\"vm.report\",\"name\":\"b\",\"node\":2,\"action_id\":%llu,"
		       "\"result\":\"failed\",\"error\":\"no\",\"wall_ms\":3000}",
		       (unsigned long long)vm(&s, "b")->action_id),
		0);
	ck_assert_int_eq(vm(&s, "b")->state, CD_VM_FAILED);
	ck_assert_uint_eq(vm(&s, "b")->cold_to, 0);
	ck_assert_int_eq(vm(&s, "b")->last_move.outcome, CD_MOVE_OUT_FAILED);

	/* An admin's stop during it: it just stops. */
	ck_assert_int_eq(applyf(&s, "{\"op\":\"vm.move\",\"name\":\"c\",\"target\":1,"
				    "\"mode\":\"cold\",\"wall_ms\":2000}"),
			 0);
	ck_assert_int_eq(applyf(&s, "{\"op\":\"vm.stop\",\"name\":\"c\"}"), 0);
	ck_assert_uint_eq(vm(&s, "c")->cold_to, 0);
	ck_assert_int_eq(
		applyf(&s,
		       "{\"op\":\"vm.report\",\"name\":\"c\",\"node\":2,\"action_id\":%llu,"
		       "\"result\":\"stopped\",\"wall_ms\":3000}",
		       (unsigned long long)vm(&s, "c")->action_id),
		0);
	ck_assert_int_eq(vm(&s, "c")->state, CD_VM_STOPPED);
	ck_assert_uint_eq(vm(&s, "c")->node, 0);
	/* Not to where it runs, nor to a node in maintenance. */
	ck_assert_int_eq(applyf(&s, "{\"op\":\"node.maintenance\",\"node\":\"node1\",\"on\":true}"),
			 0);
	vm(&s, "c")->state = CD_VM_RUNNING;
	vm(&s, "c")->node = 2;
	ck_assert_int_eq(applyf(&s, "{\"op\":\"vm.move\",\"name\":\"c\",\"target\":2,"
				    "\"mode\":\"cold\"}"),
			 CD_ERR_INVALID);
	ck_assert_int_eq(applyf(&s, "{\"op\":\"vm.move\",\"name\":\"c\",\"target\":1,"
				    "\"mode\":\"cold\"}"),
			 CD_ERR_INVALID);
	ck_assert_int_eq(vm(&s, "c")->state, CD_VM_RUNNING);
	cd_state_free(&s);
}
END_TEST

/* The ladder: live once, quick twice, cold twice, then stuck. */
START_TEST(test_ladder)
{
	struct cd_state s;
	struct cd_drain_next nx;
	const struct cd_drain *d;

	setup(&s);
	ck_assert_int_eq(drain(&s, "live"), 0);
	d = &node(&s, 2)->drain;
	cd_drain_next(d, vm(&s, "b"), &nx);
	ck_assert_int_eq(nx.step, CD_DRAIN_MOVE);
	ck_assert_int_eq(nx.mode, CD_MOVE_LIVE);
	ck_assert_uint_eq(nx.tries, 1);
	ck_assert_str_eq(nx.why, "");

	ck_assert_int_eq(drain_move(&s, "b", 1, "live", 1), 0);
	cd_drain_next(d, vm(&s, "b"), &nx);
	ck_assert_int_eq(nx.step, CD_DRAIN_WAIT); /* it moves */
	failed_try(&s, "b", "did not converge");
	cd_drain_next(d, vm(&s, "b"), &nx);
	ck_assert_int_eq(nx.step, CD_DRAIN_MOVE);
	ck_assert_int_eq(nx.mode, CD_MOVE_QUICK);
	ck_assert_uint_eq(nx.tries, 1);
	ck_assert_str_eq(nx.why, "live move failed: did not converge");

	ck_assert_int_eq(drain_move(&s, "b", 1, "quick", 1), 0);
	failed_try(&s, "b", "disk full");
	cd_drain_next(d, vm(&s, "b"), &nx);
	ck_assert_int_eq(nx.mode, CD_MOVE_QUICK);
	ck_assert_uint_eq(nx.tries, 2);
	ck_assert_int_eq(drain_move(&s, "b", 1, "quick", 2), 0);
	failed_try(&s, "b", "disk full");
	cd_drain_next(d, vm(&s, "b"), &nx);
	ck_assert_int_eq(nx.mode, CD_MOVE_COLD);
	ck_assert_uint_eq(nx.tries, 1);
	ck_assert(strstr(nx.why, "quick move failed: disk full"));

	ck_assert_int_eq(drain_move(&s, "b", 1, "cold", 1), 0);
	failed_try(&s, "b", "no");
	cd_drain_next(d, vm(&s, "b"), &nx);
	ck_assert_int_eq(nx.mode, CD_MOVE_COLD);
	ck_assert_uint_eq(nx.tries, 2);
	ck_assert_int_eq(drain_move(&s, "b", 1, "cold", 2), 0);
	failed_try(&s, "b", "no");
	cd_drain_next(d, vm(&s, "b"), &nx);
	ck_assert_int_eq(nx.step, CD_DRAIN_STUCK);
	ck_assert(strstr(nx.why, "every way to move it failed"));
	cd_state_free(&s);
}
END_TEST

/* Where a ladder starts, and a VM that may not be restarted cold. */
START_TEST(test_ladder_start_and_cold_never)
{
	struct cd_state s;
	struct cd_drain_next nx;
	const struct cd_drain *d;

	setup(&s);
	ck_assert_int_eq(applyf(&s, "{\"op\":\"vm.set\",\"name\":\"a\",\"key\":\"move-mode\","
				    "\"value\":\"quick\"}"),
			 0);
	ck_assert_int_eq(applyf(&s, "{\"op\":\"vm.set\",\"name\":\"b\",\"key\":\"cold-restart\","
				    "\"value\":\"never\"}"),
			 0);
	ck_assert_int_eq(applyf(&s, "{\"op\":\"vm.set\",\"name\":\"b\",\"key\":\"cold-restart\","
				    "\"value\":\"maybe\"}"),
			 CD_ERR_INVALID);
	ck_assert_int_eq(drain(&s, "live"), 0);
	d = &node(&s, 2)->drain;
	/* Its move-mode raises where its ladder starts. */
	cd_drain_next(d, vm(&s, "a"), &nx);
	ck_assert_int_eq(nx.mode, CD_MOVE_QUICK);
	/* Out of quick tries, b may not go cold: stuck, saying why. */
	ck_assert_int_eq(drain_move(&s, "b", 1, "quick", 2), 0);
	failed_try(&s, "b", "disk full");
	cd_drain_next(d, vm(&s, "b"), &nx);
	ck_assert_int_eq(nx.step, CD_DRAIN_STUCK);
	ck_assert(strstr(nx.why, "cold-restart=never"));
	ck_assert(strstr(nx.why, "disk full"));
	cd_state_free(&s);
	/* A cold drain of a VM that may not go cold is stuck at once. */
	setup(&s);
	ck_assert_int_eq(applyf(&s, "{\"op\":\"vm.set\",\"name\":\"b\",\"key\":\"cold-restart\","
				    "\"value\":\"never\"}"),
			 0);
	ck_assert_int_eq(drain(&s, "cold"), 0);
	cd_drain_next(&node(&s, 2)->drain, vm(&s, "b"), &nx);
	ck_assert_int_eq(nx.step, CD_DRAIN_STUCK);
	cd_state_free(&s);
}
END_TEST

static const struct cd_drain_plan_vm *pvm(const struct cd_drain_plan *p, const char *name)
{
	static const struct cd_drain_plan_vm none;
	size_t i;

	for (i = 0; i < p->n_vms; i++)
		if (strcmp(p->vms[i].vm, name) == 0)
			return &p->vms[i];
	ck_abort_msg("no %s in the plan", name);
	return &none;
}

/* The plan: priority order, targets that fit, a VM that fits nowhere named. */
START_TEST(test_plan)
{
	struct cd_state s;
	struct cd_drain d = {.mode = CD_MOVE_LIVE};
	struct cd_drain_plan p;

	setup(&s);
	ck_assert_int_eq(applyf(&s, "{\"op\":\"vm.set\",\"name\":\"a\",\"key\":"
				    "\"possible-owners\",\"value\":\"node2\"}"),
			 0);
	ck_assert_int_eq(cd_drain_plan(&s, 2, &d, &p, err, sizeof(err)), 0);
	ck_assert_uint_eq(p.n_vms, 3);
	ck_assert_str_eq(p.vms[0].vm, "b");
	ck_assert_str_eq(p.vms[1].vm, "c");
	ck_assert_str_eq(p.vms[2].vm, "a");
	ck_assert_int_eq(pvm(&p, "b")->state, CD_DVM_WAITING);
	ck_assert(pvm(&p, "b")->target == 1 || pvm(&p, "b")->target == 3);
	ck_assert(pvm(&p, "c")->target == 1 || pvm(&p, "c")->target == 3);
	ck_assert_int_eq(pvm(&p, "b")->method, CD_MOVE_LIVE);
	ck_assert_uint_gt(pvm(&p, "b")->expected_s, 0);
	ck_assert_int_eq(pvm(&p, "a")->state, CD_DVM_BLOCKED);
	ck_assert(strstr(pvm(&p, "a")->why, "fits nowhere"));
	ck_assert(p.blocked);
	ck_assert_uint_eq(p.n_waiting, 2);
	/* No move measured: 100 MiB/s and 10 MiB/s assumed, 100 / (4 x 10) = 2 at once. */
	ck_assert(!p.bandwidth_measured);
	ck_assert_uint_eq(p.bandwidth_mib_s, CD_DRAIN_ASSUMED_MIB_S);
	ck_assert(!p.dirty_measured);
	ck_assert_uint_eq(p.dirty_mib_s, CD_DRAIN_DIRTY_MIB_S);
	ck_assert_str_eq(p.dirty_vm, "");
	ck_assert_uint_eq(p.parallel, 2);
	ck_assert_uint_gt(p.eta_s, 0);
	cd_drain_plan_free(&p);
	/* A property caps it. */
	ck_assert_int_eq(applyf(&s, "{\"op\":\"property.set\",\"key\":\"drain-max-parallel\","
				    "\"value\":\"1\"}"),
			 0);
	ck_assert_int_eq(cd_drain_plan(&s, 2, &d, &p, err, sizeof(err)), 0);
	ck_assert_uint_eq(p.parallel, 1);
	cd_drain_plan_free(&p);
	cd_state_free(&s);
}
END_TEST

/* Memory binds: what the others hold is counted, each planned VM counts for the next. */
START_TEST(test_plan_capacity)
{
	struct cd_state s;
	struct cd_drain d = {.mode = CD_MOVE_LIVE};
	struct cd_drain_plan p;
	size_t i;

	setup(&s);
	for (i = 0; i < s.n_nodes; i++)
		s.nodes[i].info.cap.memory_mb = i == 1 ? 2048 : 1024;
	add_vm(&s, "x", XML("x", "04"), 1, "high");
	add_vm(&s, "y", XML("y", "05"), 3, "high");
	/* node1 and node3 have 512 MiB left each: two of a, b, c fit, the low one does not. */
	ck_assert_int_eq(cd_drain_plan(&s, 2, &d, &p, err, sizeof(err)), 0);
	ck_assert_uint_ne(pvm(&p, "b")->target, 0);
	ck_assert_uint_ne(pvm(&p, "c")->target, 0);
	ck_assert_uint_ne(pvm(&p, "b")->target, pvm(&p, "c")->target);
	ck_assert_int_eq(pvm(&p, "a")->state, CD_DVM_BLOCKED);
	cd_drain_plan_free(&p);
	cd_state_free(&s);
}
END_TEST

/* Moves under way, moved, and the measured bandwidth. */
START_TEST(test_plan_progress)
{
	struct cd_state s;
	struct cd_drain_plan p;

	setup(&s);
	ck_assert_int_eq(drain(&s, "live"), 0);
	ck_assert_int_eq(drain_move(&s, "b", 1, "live", 1), 0);
	/* c moved by the drain: it runs on node3 now, its copy ran at 200 MiB/s. */
	ck_assert_int_eq(drain_move(&s, "c", 3, "cold", 1), 0);
	vm(&s, "c")->state = CD_VM_RUNNING;
	vm(&s, "c")->node = 3;
	vm(&s, "c")->cold_to = 0;
	vm(&s, "c")->last_move.outcome = CD_MOVE_OUT_MOVED;
	vm(&s, "c")->last_move.mode = CD_MOVE_LIVE;
	vm(&s, "c")->last_move.total_ms = 2000;
	vm(&s, "c")->last_move.rate_mib_s = 200;
	ck_assert_int_eq(cd_drain_plan(&s, 2, &node(&s, 2)->drain, &p, err, sizeof(err)), 0);
	ck_assert_int_eq(pvm(&p, "b")->state, CD_DVM_MOVING);
	ck_assert_uint_eq(pvm(&p, "b")->target, 1);
	ck_assert_int_eq(pvm(&p, "c")->state, CD_DVM_MOVED);
	ck_assert_uint_eq(pvm(&p, "c")->target, 3);
	ck_assert_int_eq(pvm(&p, "a")->state, CD_DVM_WAITING);
	ck_assert_uint_eq(p.n_moving, 1);
	ck_assert_uint_eq(p.n_waiting, 1);
	ck_assert(p.bandwidth_measured);
	ck_assert_uint_eq(p.bandwidth_mib_s, 200);
	ck_assert_uint_eq(p.parallel, 4); /* 200 / 40 = 5, capped at 4 */
	cd_drain_plan_free(&p);
	cd_state_free(&s);
}
END_TEST

/* A move into the drained node begun before the drain: the VM counts as on it until it left. */
START_TEST(test_plan_incoming)
{
	struct cd_state s;
	struct cd_drain_plan p;

	setup(&s);
	add_vm(&s, "d", XML("d", "04"), 1, "medium");
	ck_assert_int_eq(applyf(&s, "{\"op\":\"vm.move\",\"name\":\"d\",\"target\":2,"
				    "\"mode\":\"live\",\"wall_ms\":500}"),
			 0);
	ck_assert(cd_drain_vm_on(vm(&s, "d"), 2));
	ck_assert(cd_drain_vm_on(vm(&s, "d"), 1));
	ck_assert(!cd_drain_vm_on(vm(&s, "d"), 3));
	ck_assert_int_eq(drain(&s, "live"), 0);
	ck_assert_int_eq(cd_drain_plan(&s, 2, &node(&s, 2)->drain, &p, err, sizeof(err)), 0);
	ck_assert_int_eq(pvm(&p, "d")->state, CD_DVM_MOVING);
	ck_assert_uint_eq(pvm(&p, "d")->target, 2);
	ck_assert_ptr_nonnull(strstr(pvm(&p, "d")->why, "moving in"));
	ck_assert_uint_eq(p.n_moving, 1);
	cd_drain_plan_free(&p);
	/* It landed: it waits to move away like the others. */
	vm(&s, "d")->state = CD_VM_RUNNING;
	vm(&s, "d")->node = 2;
	memset(&vm(&s, "d")->move, 0, sizeof(vm(&s, "d")->move));
	ck_assert_int_eq(cd_drain_plan(&s, 2, &node(&s, 2)->drain, &p, err, sizeof(err)), 0);
	ck_assert_int_eq(pvm(&p, "d")->state, CD_DVM_WAITING);
	ck_assert_uint_ne(pvm(&p, "d")->target, 2);
	cd_drain_plan_free(&p);
	/* A cold move into a node counts too. */
	vm(&s, "d")->state = CD_VM_STOPPING;
	vm(&s, "d")->node = 1;
	vm(&s, "d")->cold_to = 2;
	ck_assert(cd_drain_vm_on(vm(&s, "d"), 2));
	cd_state_free(&s);
}
END_TEST

/* name's last live move: its copy at rate MiB/s, its guest dirtying dirty MiB/s (-1 unknown). */
static void last_live(struct cd_state *s, const char *name, uint64_t rate, int64_t dirty)
{
	struct cd_vm_last_move *l = &vm(s, name)->last_move;

	l->action_id = vm(s, name)->action_id;
	l->outcome = CD_MOVE_OUT_MOVED;
	l->mode = CD_MOVE_LIVE;
	l->source = 1;
	l->target = 2;
	l->rate_mib_s = rate;
	l->dirty_measured = dirty >= 0;
	l->dirty_mib_s = dirty >= 0 ? (uint64_t)dirty : 0;
}

/* The dirty rates the VMs' last live copies measured set how many move at once. */
START_TEST(test_plan_dirty_rates)
{
	struct cd_state s;
	struct cd_drain d = {.mode = CD_MOVE_LIVE};
	struct cd_drain_plan p;

	setup(&s);
	/* 400 MiB/s measured; c dirties 50 MiB/s: 400 / (4 x 50) = 2 at once. */
	last_live(&s, "c", 400, 50);
	last_live(&s, "a", 0, 5);
	ck_assert_int_eq(cd_drain_plan(&s, 2, &d, &p, err, sizeof(err)), 0);
	ck_assert_uint_eq(p.n_waiting, 3);
	ck_assert(p.bandwidth_measured);
	ck_assert_uint_eq(p.bandwidth_mib_s, 400);
	ck_assert(p.dirty_measured);
	ck_assert_uint_eq(p.dirty_mib_s, 50);
	ck_assert_str_eq(p.dirty_vm, "c");
	ck_assert_uint_eq(pvm(&p, "a")->dirty_mib_s, 5);
	ck_assert(!pvm(&p, "b")->dirty_measured);
	ck_assert_uint_eq(pvm(&p, "b")->dirty_mib_s, CD_DRAIN_DIRTY_MIB_S);
	ck_assert_uint_eq(p.parallel, 2);
	cd_drain_plan_free(&p);
	/* c measured 5 as well: b's assumed 10 binds, named, 400 / 40 = 10, capped at 4. */
	last_live(&s, "c", 400, 5);
	ck_assert_int_eq(cd_drain_plan(&s, 2, &d, &p, err, sizeof(err)), 0);
	ck_assert(!p.dirty_measured);
	ck_assert_uint_eq(p.dirty_mib_s, CD_DRAIN_DIRTY_MIB_S);
	ck_assert_str_eq(p.dirty_vm, "b");
	ck_assert_uint_eq(p.parallel, 4);
	cd_drain_plan_free(&p);
	/* All measured idle: the floor of 1 MiB/s, 400 / 4 = 100, capped by the property. */
	last_live(&s, "a", 0, 0);
	last_live(&s, "b", 0, 0);
	last_live(&s, "c", 400, 0);
	ck_assert_int_eq(applyf(&s, "{\"op\":\"property.set\",\"key\":\"drain-max-parallel\","
				    "\"value\":\"3\"}"),
			 0);
	ck_assert_int_eq(cd_drain_plan(&s, 2, &d, &p, err, sizeof(err)), 0);
	ck_assert(p.dirty_measured);
	ck_assert_uint_eq(p.dirty_mib_s, CD_DRAIN_DIRTY_MIN_MIB_S);
	ck_assert_uint_eq(p.parallel, 3);
	cd_drain_plan_free(&p);
	cd_state_free(&s);
}
END_TEST

/* A last move's dirty rate in the state's JSON: 0 is a measure, unknown is left out. */
START_TEST(test_last_move_dirty_json)
{
	struct cd_state s, back;
	struct json_object *o, *m;

	setup(&s);
	last_live(&s, "a", 200, 0);
	last_live(&s, "b", 200, -1);
	m = cd_vm_last_move_to_json(vm(&s, "a"));
	ck_assert(json_object_object_get_ex(m, "dirty_mib_s", NULL));
	json_object_put(m);
	m = cd_vm_last_move_to_json(vm(&s, "b"));
	ck_assert(!json_object_object_get_ex(m, "dirty_mib_s", NULL));
	json_object_put(m);
	o = cd_state_to_json(&s);
	cd_state_init(&back);
	ck_assert_int_eq(cd_state_from_json(&back, o, err, sizeof(err)), 0);
	ck_assert(vm(&back, "a")->last_move.dirty_measured);
	ck_assert_uint_eq(vm(&back, "a")->last_move.dirty_mib_s, 0);
	ck_assert(!vm(&back, "b")->last_move.dirty_measured);
	ck_assert_uint_eq(vm(&back, "b")->last_move.rate_mib_s, 200);
	json_object_put(o);
	cd_state_free(&back);
	cd_state_free(&s);
}
END_TEST

/* resume --failback now|never overrides the VMs' own failback toward that node. */
START_TEST(test_resume_failback)
{
	struct cd_state s;

	setup(&s);
	ck_assert_int_eq(applyf(&s, "{\"op\":\"vm.set\",\"name\":\"a\",\"key\":"
				    "\"preferred-owners\",\"value\":\"node1\"}"),
			 0);
	ck_assert_int_eq(
		applyf(&s, "{\"op\":\"node.resume\",\"node\":\"node1\",\"failback\":\"never\"}"),
		0);
	ck_assert_int_eq(node(&s, 1)->drain.failback, CD_RESUME_NEVER);
	ck_assert_int_eq(applyf(&s, "{\"op\":\"node.resume\",\"node\":\"node1\"}"), 0);
	ck_assert_int_eq(node(&s, 1)->drain.failback, CD_RESUME_POLICY);
	cd_state_free(&s);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("drain");
	TCase *tc = tcase_create("drain");

	tcase_add_test(tc, test_drain_changes);
	tcase_add_test(tc, test_drain_offline_node_refused);
	tcase_add_test(tc, test_drain_state_roundtrip);
	tcase_add_test(tc, test_drain_on_shutdown);
	tcase_add_test(tc, test_cold_move);
	tcase_add_test(tc, test_ladder);
	tcase_add_test(tc, test_ladder_start_and_cold_never);
	tcase_add_test(tc, test_plan);
	tcase_add_test(tc, test_plan_capacity);
	tcase_add_test(tc, test_plan_progress);
	tcase_add_test(tc, test_plan_incoming);
	tcase_add_test(tc, test_plan_dirty_rates);
	tcase_add_test(tc, test_last_move_dirty_json);
	tcase_add_test(tc, test_resume_failback);
	suite_add_tcase(s, tc);
	return run_suite(s);
}
