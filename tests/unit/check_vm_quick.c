/*
 * Quick moves and saved states in the replicated state (vm.h: the phases
 * saving, restoring, resuming; struct cd_vm_saved): the changes that drive
 * them (vm.move mode quick, vm.move.step saving, vm.restored, vm.report
 * saved, vm.stop with save), every way they end, and their JSON. The rule
 * above all: a saved state is consumed by the restore that is recorded,
 * and is never handed to a second restore after that.
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

#define SHA "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define WEB_XML                                                                                    \
	"<domain><name>web</name><uuid>6f1d7c2e-0b6a-4f6e-9d1e-3a5b7c9d0e1f</uuid><devices>"       \
	"<interface type='bridge'><mac address='52:54:00:aa:bb:01'/></interface>"                  \
	"</devices></domain>"

static int applyf(struct cd_state *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int applyf(struct cd_state *s, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	return fixture_apply(s, buf, err, sizeof(err));
}

static const struct cd_vm *web(const struct cd_state *s)
{
	return cd_state_vm(s, "web");
}

static unsigned long long act(const struct cd_state *s)
{
	return (unsigned long long)web(s)->action_id;
}

/* Nodes 1 to 3 members, volume vol1, "web" running on node 1 (action 7). */
static void setup(struct cd_state *s)
{
	struct cd_vm *vm;

	fixture_node4_left(s);
	ck_assert_int_eq(applyf(s,
				"{\"op\":\"volume.add\",\"name\":\"vol1\",\"device\":"
				"\"/dev/loop3\",\"uuid\":\"6f1d7c2e-0b6a-4f6e-9d1e-3a5b7c9d0e10\","
				"\"hosts\":8,\"expiry_ms\":10000,\"renewal_ms\":1250}"),
			 0);
	ck_assert_int_eq(applyf(s, "{\"op\":\"vm.add\",\"name\":\"web\",\"xml\":\"" WEB_XML "\","
				   "\"vcpus\":1,\"memory_mb\":512}"),
			 0);
	vm = (struct cd_vm *)web(s);
	vm->state = CD_VM_RUNNING;
	vm->node = 1;
	vm->target_started = true;
	vm->action_id = 7;
	s->last_action_id = 10;
}

static int quick(struct cd_state *s, unsigned target)
{
	return applyf(s,
		      "{\"op\":\"vm.move\",\"name\":\"web\",\"target\":%u,\"mode\":\"quick\","
		      "\"wall_ms\":5000,\"state_volume\":\"vol1\",\"state_file\":\"web.vmstate\"}",
		      target);
}

static int saved_step(struct cd_state *s, unsigned node, bool ok)
{
	char a[32];

	snprintf(a, sizeof(a), "%llu", act(s));
	if (!ok)
		return applyf(s,
			      "{\"op\":\"vm.move.step\",\"name\":\"web\",\"node\":%u,"
			      "\"action_id\":%s,\"phase\":\"saving\",\"ok\":false,"
			      "\"error\":\"no space\"}",
			      node, a);
	return applyf(s,
		      "{\"op\":\"vm.move.step\",\"name\":\"web\",\"node\":%u,\"action_id\":%s,"
		      "\"phase\":\"saving\",\"ok\":true,\"saved\":{\"volume\":\"vol1\",\"file\":"
		      "\"web.vmstate\",\"action_id\":%s,\"length\":101711872,\"sha256\":\"" SHA
		      "\",\"node\":1,\"saved_ms\":6000}}",
		      node, a, a);
}

static int restored(struct cd_state *s, unsigned node, bool ok, bool corrupt)
{
	return applyf(s,
		      "{\"op\":\"vm.restored\",\"name\":\"web\",\"node\":%u,\"action_id\":%llu,"
		      "\"ok\":%s,\"corrupt\":%s%s}",
		      node, act(s), ok ? "true" : "false", corrupt ? "true" : "false",
		      ok ? "" : ",\"error\":\"bad image\"");
}

static int report(struct cd_state *s, unsigned node, const char *result)
{
	return applyf(s,
		      "{\"op\":\"vm.report\",\"name\":\"web\",\"node\":%u,\"action_id\":%llu,"
		      "\"result\":\"%s\",\"wall_ms\":9000,\"downtime_ms\":800,\"total_ms\":3100}",
		      node, act(s), result);
}

static int report_saved(struct cd_state *s, unsigned node)
{
	char a[32];

	snprintf(a, sizeof(a), "%llu", act(s));
	return applyf(s,
		      "{\"op\":\"vm.report\",\"name\":\"web\",\"node\":%u,\"action_id\":%s,"
		      "\"result\":\"saved\",\"wall_ms\":9000,\"saved\":{\"volume\":\"vol1\","
		      "\"file\":\"web.vmstate\",\"action_id\":%s,\"length\":101711872,"
		      "\"sha256\":\"" SHA "\",\"node\":%u,\"saved_ms\":6000}}",
		      node, a, a, node);
}

static bool has_saved(const struct cd_state *s)
{
	return web(s)->saved.volume[0] != '\0';
}

START_TEST(test_quick_runs_to_the_end)
{
	struct cd_state s;
	const struct cd_vm *vm;

	setup(&s);
	ck_assert_int_eq(quick(&s, 2), 0);
	vm = web(&s);
	ck_assert_int_eq(vm->state, CD_VM_MIGRATING);
	ck_assert_int_eq(vm->move.phase, CD_MOVE_SAVING);
	ck_assert_int_eq(vm->move.mode, CD_MOVE_QUICK);
	ck_assert_str_eq(vm->move.state_volume, "vol1");
	ck_assert_str_eq(vm->move.state_file, "web.vmstate");
	ck_assert_uint_eq(cd_vm_move_turn(vm), 1);
	/* Only the source saves; no restore is recorded before it did. */
	ck_assert_int_eq(saved_step(&s, 2, true), CD_ERR_INVALID);
	ck_assert_int_eq(restored(&s, 2, true, false), CD_ERR_INVALID);
	ck_assert_int_eq(saved_step(&s, 1, true), 0);
	vm = web(&s);
	ck_assert_int_eq(vm->move.phase, CD_MOVE_RESTORING);
	ck_assert_uint_eq(vm->node, 2); /* the target's now: the source runs nothing */
	ck_assert(has_saved(&s));
	ck_assert_uint_eq(vm->saved.length, 101711872);
	ck_assert_str_eq(vm->saved.sha256, SHA);
	ck_assert_uint_eq(cd_vm_move_turn(vm), 2);
	/* Too late to cancel; and the target may not say it runs before its restore is recorded. */
	ck_assert_int_eq(
		fixture_apply(&s, "{\"op\":\"vm.move.cancel\",\"name\":\"web\"}", err, sizeof(err)),
		CD_ERR_INVALID);
	ck_assert(strstr(err, "too late"));
	ck_assert_int_eq(report(&s, 2, "running"), CD_ERR_INVALID);
	ck_assert_int_eq(restored(&s, 1, true, false), CD_ERR_INVALID); /* not the VM's node */
	ck_assert_int_eq(restored(&s, 2, true, false), 0);
	ck_assert_int_eq(web(&s)->move.phase, CD_MOVE_RESUMING);
	ck_assert(!has_saved(&s));					/* consumed */
	ck_assert_int_eq(restored(&s, 2, true, false), CD_ERR_INVALID); /* never twice */
	ck_assert_int_eq(report(&s, 2, "running"), 0);
	vm = web(&s);
	ck_assert_int_eq(vm->state, CD_VM_RUNNING);
	ck_assert_uint_eq(vm->node, 2);
	ck_assert_int_eq(vm->last_move.outcome, CD_MOVE_OUT_MOVED);
	ck_assert_int_eq(vm->last_move.mode, CD_MOVE_QUICK);
	ck_assert_uint_eq(vm->last_move.downtime_ms, 800);
	cd_state_free(&s);
}
END_TEST

START_TEST(test_quick_refused)
{
	struct cd_state s;

	setup(&s);
	/* Without a state file on a volume of the cluster. */
	ck_assert_int_eq(applyf(&s, "{\"op\":\"vm.move\",\"name\":\"web\",\"target\":2,"
				    "\"mode\":\"quick\"}"),
			 CD_ERR_INVALID);
	ck_assert(strstr(err, "state file"));
	ck_assert_int_eq(applyf(&s, "{\"op\":\"vm.move\",\"name\":\"web\",\"target\":2,"
				    "\"mode\":\"quick\",\"state_volume\":\"nope\","
				    "\"state_file\":\"web.vmstate\"}"),
			 CD_ERR_INVALID);
	/* A step saving ok without its image. */
	ck_assert_int_eq(quick(&s, 2), 0);
	ck_assert_int_eq(applyf(&s,
				"{\"op\":\"vm.move.step\",\"name\":\"web\",\"node\":1,"
				"\"action_id\":%llu,\"phase\":\"saving\",\"ok\":true}",
				act(&s)),
			 CD_ERR_INVALID);
	ck_assert_int_eq(web(&s)->move.phase, CD_MOVE_SAVING);
	cd_state_free(&s);
}
END_TEST

/* The save failed and the VM still runs on the source: it stays there. */
START_TEST(test_quick_save_failed)
{
	struct cd_state s;

	setup(&s);
	ck_assert_int_eq(quick(&s, 2), 0);
	ck_assert_int_eq(saved_step(&s, 1, false), 0);
	ck_assert_int_eq(web(&s)->move.phase, CD_MOVE_ABORTING);
	ck_assert_int_eq(report(&s, 1, "running"), 0);
	ck_assert_int_eq(web(&s)->state, CD_VM_RUNNING);
	ck_assert_uint_eq(web(&s)->node, 1);
	ck_assert_int_eq(web(&s)->last_move.outcome, CD_MOVE_OUT_STAYED);
	ck_assert_str_eq(web(&s)->last_move.error, "no space");
	cd_state_free(&s);
}
END_TEST

/* Cancelled while saving, but the save finished first: saved, restored where it is placed. */
START_TEST(test_quick_cancel_after_save)
{
	struct cd_state s;

	setup(&s);
	ck_assert_int_eq(quick(&s, 2), 0);
	ck_assert_int_eq(
		fixture_apply(&s, "{\"op\":\"vm.move.cancel\",\"name\":\"web\"}", err, sizeof(err)),
		0);
	ck_assert_int_eq(web(&s)->move.phase, CD_MOVE_ABORTING);
	ck_assert_int_eq(report_saved(&s, 2), CD_ERR_INVALID); /* not its node */
	ck_assert_int_eq(report_saved(&s, 1), 0);
	ck_assert_int_eq(web(&s)->state, CD_VM_STOPPED);
	ck_assert_uint_eq(web(&s)->node, 0);
	ck_assert(web(&s)->target_started); /* placed again: a start restores it */
	ck_assert(has_saved(&s));
	ck_assert_int_eq(web(&s)->last_move.outcome, CD_MOVE_OUT_SAVED);
	cd_state_free(&s);
}
END_TEST

/* Node node left the membership and is known dead. */
static void node_dead(struct cd_state *s, unsigned node)
{
	size_t i;

	for (i = 0; i < s->n_nodes; i++)
		if (s->nodes[i].info.id == node)
			s->nodes[i].member = false;
	ck_assert_int_eq(applyf(s, "{\"op\":\"node.dead\",\"node\":%u,\"how\":\"lease\"}", node),
			 0);
}

/* The source dies while it saves: the image may be incomplete; a cold failover. */
START_TEST(test_quick_source_dies_saving)
{
	struct cd_state s;

	setup(&s);
	ck_assert_int_eq(quick(&s, 2), 0);
	node_dead(&s, 1);
	ck_assert_int_eq(web(&s)->state, CD_VM_STOPPED);
	ck_assert_uint_eq(web(&s)->node, 0);
	ck_assert(!has_saved(&s));
	ck_assert_int_eq(web(&s)->last_move.outcome, CD_MOVE_OUT_FAILED);
	cd_state_free(&s);
}
END_TEST

/* The target dies while it restores: the verified image is restored elsewhere. */
START_TEST(test_quick_target_dies_restoring)
{
	struct cd_state s;

	setup(&s);
	ck_assert_int_eq(quick(&s, 2), 0);
	ck_assert_int_eq(saved_step(&s, 1, true), 0);
	node_dead(&s, 2);
	ck_assert_int_eq(web(&s)->state, CD_VM_STOPPED);
	ck_assert_uint_eq(web(&s)->node, 0);
	ck_assert(has_saved(&s));
	ck_assert(web(&s)->target_started);
	ck_assert_int_eq(web(&s)->last_move.outcome, CD_MOVE_OUT_SAVED);
	/* Placed on node 3, which restores it: recorded, consumed, then it runs. */
	ck_assert_int_eq(applyf(&s, "{\"op\":\"vm.place\",\"name\":\"web\",\"node\":3}"), 0);
	ck_assert_int_eq(web(&s)->state, CD_VM_STARTING);
	ck_assert_int_eq(restored(&s, 3, true, false), 0);
	ck_assert_int_eq(web(&s)->state, CD_VM_STARTING);
	ck_assert(!has_saved(&s));
	ck_assert_int_eq(restored(&s, 3, true, false), CD_ERR_INVALID);
	ck_assert_int_eq(report(&s, 3, "running"), 0);
	ck_assert_int_eq(web(&s)->state, CD_VM_RUNNING);
	cd_state_free(&s);
}
END_TEST

/* Once the target recorded its restore, its death is a cold failover: never restored twice. */
START_TEST(test_quick_target_dies_resuming)
{
	struct cd_state s;

	setup(&s);
	ck_assert_int_eq(quick(&s, 2), 0);
	ck_assert_int_eq(saved_step(&s, 1, true), 0);
	ck_assert_int_eq(restored(&s, 2, true, false), 0);
	node_dead(&s, 2);
	ck_assert_int_eq(web(&s)->state, CD_VM_STOPPED);
	ck_assert(!has_saved(&s));
	ck_assert_int_eq(web(&s)->last_move.outcome, CD_MOVE_OUT_FAILED);
	cd_state_free(&s);
}
END_TEST

/* The target could not restore it: elsewhere from the same image, or (corrupt) afresh. */
START_TEST(test_quick_restore_failed)
{
	struct cd_state s;

	setup(&s);
	ck_assert_int_eq(quick(&s, 2), 0);
	ck_assert_int_eq(saved_step(&s, 1, true), 0);
	ck_assert_int_eq(restored(&s, 2, false, false), 0);
	ck_assert_int_eq(web(&s)->state, CD_VM_FAILED);
	ck_assert_uint_eq(web(&s)->node, 0);
	ck_assert(has_saved(&s));
	ck_assert_int_eq(web(&s)->last_move.outcome, CD_MOVE_OUT_SAVED);
	cd_state_free(&s);

	setup(&s);
	ck_assert_int_eq(quick(&s, 2), 0);
	ck_assert_int_eq(saved_step(&s, 1, true), 0);
	ck_assert_int_eq(restored(&s, 2, false, true), 0);
	ck_assert_int_eq(web(&s)->state, CD_VM_FAILED);
	ck_assert(!has_saved(&s)); /* a corrupt image is discarded */
	ck_assert_int_eq(web(&s)->last_move.outcome, CD_MOVE_OUT_FAILED);
	ck_assert_str_eq(web(&s)->last_error, "bad image");
	cd_state_free(&s);
}
END_TEST

/* vm stop --save, then vm start restores it. */
START_TEST(test_stop_save_and_start)
{
	struct cd_state s;

	setup(&s);
	ck_assert_int_eq(applyf(&s, "{\"op\":\"vm.stop\",\"name\":\"web\",\"save\":true}"),
			 CD_ERR_INVALID);
	ck_assert(strstr(err, "state file"));
	ck_assert_int_eq(applyf(&s, "{\"op\":\"vm.stop\",\"name\":\"web\",\"save\":true,"
				    "\"state_volume\":\"vol1\",\"state_file\":\"web.vmstate\"}"),
			 0);
	ck_assert_int_eq(web(&s)->state, CD_VM_STOPPING);
	ck_assert(web(&s)->stop_save);
	ck_assert_str_eq(web(&s)->save_file, "web.vmstate");
	ck_assert_int_eq(report_saved(&s, 1), 0);
	ck_assert_int_eq(web(&s)->state, CD_VM_STOPPED);
	ck_assert(!web(&s)->stop_save);
	ck_assert(!web(&s)->target_started);
	ck_assert(has_saved(&s));
	ck_assert_uint_eq(web(&s)->saved.node, 1);
	/* A saved VM cannot be saved again while stopped; a start places it. */
	ck_assert_int_eq(applyf(&s, "{\"op\":\"vm.stop\",\"name\":\"web\",\"save\":true,"
				    "\"state_volume\":\"vol1\",\"state_file\":\"web.vmstate\"}"),
			 CD_ERR_INVALID);
	ck_assert_int_eq(applyf(&s, "{\"op\":\"vm.start\",\"name\":\"web\"}"), 0);
	ck_assert_int_eq(applyf(&s, "{\"op\":\"vm.place\",\"name\":\"web\",\"node\":2}"), 0);
	ck_assert(has_saved(&s)); /* until the restore is recorded */
	ck_assert_int_eq(restored(&s, 2, true, false), 0);
	ck_assert(!has_saved(&s));
	cd_state_free(&s);
}
END_TEST

/*
 * The save of vm stop --save (or of a node that stops, with resume) failed
 * and it still runs: it runs on, wanted running.
 */
START_TEST(test_stop_save_failed)
{
	struct cd_state s;
	int resume;

	for (resume = 0; resume < 2; resume++) {
		setup(&s);
		ck_assert_int_eq(applyf(&s,
					"{\"op\":\"vm.stop\",\"name\":\"web\",\"save\":true,%s"
					"\"state_volume\":\"vol1\",\"state_file\":\"web.vmstate\"}",
					resume ? "\"resume\":true," : ""),
				 0);
		ck_assert_int_eq(report(&s, 1, "running"), 0);
		ck_assert_int_eq(web(&s)->state, CD_VM_RUNNING);
		ck_assert(web(&s)->target_started);
		ck_assert(!web(&s)->stop_save);
		ck_assert(!has_saved(&s));
		/* A plain stop is no save: a report "saved" is refused. */
		ck_assert_int_eq(applyf(&s, "{\"op\":\"vm.stop\",\"name\":\"web\"}"), 0);
		ck_assert_int_eq(report_saved(&s, 1), CD_ERR_INVALID);
		cd_state_free(&s);
	}
}
END_TEST

/*
 * A node that stops saves its VMs so (vm.stop save, resume): saved, each
 * stays wanted running, for the policy to restore where it places it.
 */
START_TEST(test_stop_save_resume)
{
	struct cd_state s;
	struct json_object *c;

	setup(&s);
	/* resume without save is refused. */
	ck_assert_int_eq(applyf(&s, "{\"op\":\"vm.stop\",\"name\":\"web\",\"resume\":true}"),
			 CD_ERR_INVALID);
	ck_assert_int_eq(web(&s)->state, CD_VM_RUNNING);
	/* The args vm stop --save and a stopping node both build. */
	c = json_object_new_object();
	json_object_object_add(c, "op", json_object_new_string("vm.stop"));
	json_object_object_add(c, "name", json_object_new_string("web"));
	ck_assert_int_eq(cd_vm_save_args(&s, web(&s), "/run/csvfs", true, c, err, sizeof(err)), 0);
	ck_assert_str_eq(json_object_get_string(json_object_object_get(c, "state_volume")), "vol1");
	ck_assert_str_eq(json_object_get_string(json_object_object_get(c, "state_file")),
			 "web.vmstate");
	ck_assert_int_eq(cd_state_apply(&s, c, err, sizeof(err)), 0);
	json_object_put(c);
	ck_assert_int_eq(web(&s)->state, CD_VM_STOPPING);
	ck_assert(web(&s)->stop_save);
	ck_assert(web(&s)->target_started);
	ck_assert_int_eq(report_saved(&s, 1), 0);
	ck_assert_int_eq(web(&s)->state, CD_VM_STOPPED);
	ck_assert(web(&s)->target_started);
	ck_assert(has_saved(&s));
	ck_assert_uint_eq(web(&s)->node, 0);
	/* Stopped, it is not saved again; the policy places it, the restore consumes it. */
	c = json_object_new_object();
	ck_assert_int_eq(cd_vm_save_args(&s, web(&s), "/run/csvfs", true, c, err, sizeof(err)),
			 CD_ERR_INVALID);
	ck_assert(strstr(err, "only a running VM is saved"));
	json_object_put(c);
	ck_assert_int_eq(applyf(&s, "{\"op\":\"vm.place\",\"name\":\"web\",\"node\":2}"), 0);
	ck_assert_int_eq(restored(&s, 2, true, false), 0);
	ck_assert(!has_saved(&s));
	cd_state_free(&s);

	/* No volume in the cluster: it cannot be saved. */
	setup(&s);
	ck_assert_int_eq(applyf(&s, "{\"op\":\"volume.remove\",\"name\":\"vol1\"}"), 0);
	c = json_object_new_object();
	ck_assert_int_eq(cd_vm_save_args(&s, web(&s), "/run/csvfs", false, c, err, sizeof(err)),
			 CD_ERR_INVALID);
	ck_assert(strstr(err, "no shared volume"));
	ck_assert(!json_object_object_get_ex(c, "save", NULL));
	json_object_put(c);
	cd_state_free(&s);
}
END_TEST

/* Everything of it survives the state's JSON. */
START_TEST(test_quick_json_roundtrip)
{
	struct cd_state s;
	struct cd_vm back;
	struct json_object *o;

	setup(&s);
	ck_assert_int_eq(quick(&s, 2), 0);
	ck_assert_int_eq(saved_step(&s, 1, true), 0);
	o = cd_vm_to_json(web(&s));
	ck_assert_int_eq(cd_vm_from_json(&back, o, err, sizeof(err)), 0);
	ck_assert_int_eq(back.move.phase, CD_MOVE_RESTORING);
	ck_assert_str_eq(back.move.state_file, "web.vmstate");
	ck_assert_str_eq(back.saved.sha256, SHA);
	ck_assert_uint_eq(back.saved.length, 101711872);
	ck_assert_uint_eq(back.saved.saved_ms, 6000);
	cd_vm_free(&back);
	/* A saved state with a bad checksum text does not read back. */
	json_object_object_add(json_object_object_get(o, "saved"), "sha256",
			       json_object_new_string("xyz"));
	ck_assert_int_lt(cd_vm_from_json(&back, o, err, sizeof(err)), 0);
	json_object_put(o);
	cd_state_free(&s);
}
END_TEST

/* A VM whose disk is on volume vol2 (of /run/csvfs). */
#define DISK_XML                                                                                   \
	"<domain><name>db</name><uuid>6f1d7c2e-0b6a-4f6e-9d1e-3a5b7c9d0e2f</uuid><devices>"        \
	"<disk type='block'><source dev='/run/csvfs/vol2/db.img'/></disk>"                         \
	"</devices></domain>"

static void add_vol2_and_db(struct cd_state *s)
{
	ck_assert_int_eq(applyf(s,
				"{\"op\":\"volume.add\",\"name\":\"vol2\",\"device\":"
				"\"/dev/loop4\",\"uuid\":\"6f1d7c2e-0b6a-4f6e-9d1e-3a5b7c9d0e20\","
				"\"hosts\":8,\"expiry_ms\":10000,\"renewal_ms\":1250}"),
			 0);
	ck_assert_int_eq(applyf(s, "{\"op\":\"vm.add\",\"name\":\"db\",\"xml\":\"" DISK_XML "\","
				   "\"vcpus\":1,\"memory_mb\":512}"),
			 0);
}

static int place(const struct cd_state *s, const char *vm, char vol[64], char file[64])
{
	return cd_vm_state_file_place(s, cd_state_vm(s, vm), "/run/csvfs", vol, file, err,
				      sizeof(err));
}

START_TEST(test_state_file_place)
{
	struct cd_state s;
	char vol[64], file[64];

	/* state-volume unset (none): the disks' volume, else the first by name. */
	setup(&s);
	add_vol2_and_db(&s);
	ck_assert_int_eq(place(&s, "web", vol, file), 0);
	ck_assert_str_eq(vol, "vol1");
	ck_assert_str_eq(file, "web.vmstate");
	ck_assert_int_eq(place(&s, "db", vol, file), 0);
	ck_assert_str_eq(vol, "vol2");
	ck_assert_str_eq(file, "db.vmstate");
	/* Set, it wins over the disks' volume. */
	ck_assert_int_eq(applyf(&s, "{\"op\":\"property.set\",\"key\":\"state-volume\","
				    "\"value\":\"vol1\"}"),
			 0);
	ck_assert_int_eq(place(&s, "db", vol, file), 0);
	ck_assert_str_eq(vol, "vol1");
	ck_assert_int_eq(applyf(&s, "{\"op\":\"property.set\",\"key\":\"state-volume\","
				    "\"value\":\"vol2\"}"),
			 0);
	ck_assert_int_eq(place(&s, "web", vol, file), 0);
	ck_assert_str_eq(vol, "vol2");
	/* none: the old rule again. */
	ck_assert_int_eq(applyf(&s, "{\"op\":\"property.set\",\"key\":\"state-volume\","
				    "\"value\":\"none\"}"),
			 0);
	ck_assert_int_eq(place(&s, "web", vol, file), 0);
	ck_assert_str_eq(vol, "vol1");
	cd_state_free(&s);

	/* No volume at all. */
	fixture_node4_left(&s);
	ck_assert_int_eq(applyf(&s, "{\"op\":\"vm.add\",\"name\":\"web\",\"xml\":\"" WEB_XML "\","
				    "\"vcpus\":1,\"memory_mb\":512}"),
			 0);
	ck_assert_int_eq(place(&s, "web", vol, file), CD_ERR_NOT_FOUND);
	ck_assert_ptr_nonnull(strstr(err, "no shared volume"));
	cd_state_free(&s);
}
END_TEST

/*
 * state-volume names a volume the cluster lacks: no other volume instead,
 * and every way to a save is refused with what to do, the VM untouched.
 */
START_TEST(test_state_volume_missing)
{
	struct cd_state s;
	struct json_object *c;
	char vol[64], file[64];

	setup(&s);
	add_vol2_and_db(&s);
	ck_assert_int_eq(applyf(&s, "{\"op\":\"property.set\",\"key\":\"state-volume\","
				    "\"value\":\"fast\"}"),
			 0);
	ck_assert_int_eq(place(&s, "web", vol, file), CD_ERR_INVALID);
	ck_assert_ptr_nonnull(strstr(err, "state-volume names volume 'fast'"));
	ck_assert_ptr_nonnull(strstr(err, "property set state-volume none"));
	ck_assert_ptr_nonnull(strstr(err, "volume add fast"));
	ck_assert_int_eq(place(&s, "db", vol, file), CD_ERR_INVALID);

	/* vm stop --save (and a stopping node's save). */
	c = json_object_new_object();
	ck_assert_int_eq(cd_vm_save_args(&s, web(&s), "/run/csvfs", true, c, err, sizeof(err)),
			 CD_ERR_INVALID);
	ck_assert_ptr_nonnull(strstr(err, "VM 'web' cannot be saved"));
	ck_assert_ptr_nonnull(strstr(err, "state-volume"));
	ck_assert(!json_object_object_get_ex(c, "save", NULL));
	json_object_put(c);
	/* A quick move (vm move, a drain, the policy). */
	ck_assert_ptr_null(cd_vm_move_change(&s, web(&s), 2, CD_MOVE_QUICK, "/run/csvfs", 5000, err,
					     sizeof(err)));
	ck_assert_ptr_nonnull(strstr(err, "no quick move of 'web'"));
	ck_assert_ptr_nonnull(strstr(err, "state-volume"));
	/* A live or cold move needs no state file. */
	c = cd_vm_move_change(&s, web(&s), 2, CD_MOVE_LIVE, "/run/csvfs", 5000, err, sizeof(err));
	ck_assert_ptr_nonnull(c);
	json_object_put(c);
	ck_assert_int_eq(web(&s)->state, CD_VM_RUNNING);
	ck_assert_uint_eq(web(&s)->node, 1);

	/* Once the volume is there, it is used. */
	ck_assert_int_eq(applyf(&s,
				"{\"op\":\"volume.add\",\"name\":\"fast\",\"device\":"
				"\"/dev/loop5\",\"uuid\":\"6f1d7c2e-0b6a-4f6e-9d1e-3a5b7c9d0e30\","
				"\"hosts\":8,\"expiry_ms\":10000,\"renewal_ms\":1250}"),
			 0);
	ck_assert_int_eq(place(&s, "db", vol, file), 0);
	ck_assert_str_eq(vol, "fast");
	c = cd_vm_move_change(&s, web(&s), 2, CD_MOVE_QUICK, "/run/csvfs", 5000, err, sizeof(err));
	ck_assert_ptr_nonnull(c);
	ck_assert_str_eq(json_object_get_string(json_object_object_get(c, "state_volume")), "fast");
	json_object_put(c);
	cd_state_free(&s);
}
END_TEST

/*
 * vm remove of a VM with a saved state: refused (its memory would be lost
 * and its file left behind) unless the client discards it; a VM without
 * one is removed as before, discard_saved or not.
 */
START_TEST(test_remove_saved)
{
	struct cd_state s;
	struct json_object *c;

	setup(&s);
	c = json_object_new_object();
	json_object_object_add(c, "op", json_object_new_string("vm.stop"));
	json_object_object_add(c, "name", json_object_new_string("web"));
	ck_assert_int_eq(cd_vm_save_args(&s, web(&s), "/run/csvfs", false, c, err, sizeof(err)), 0);
	ck_assert_int_eq(cd_state_apply(&s, c, err, sizeof(err)), 0);
	json_object_put(c);
	ck_assert_int_eq(report_saved(&s, 1), 0);
	ck_assert_int_eq(web(&s)->state, CD_VM_STOPPED);
	ck_assert(has_saved(&s));
	ck_assert_int_eq(applyf(&s, "{\"op\":\"vm.remove\",\"name\":\"web\"}"), CD_ERR_INVALID);
	ck_assert_str_eq(err, "VM web has a saved state (vol1/web.vmstate, 97 MiB, saved at "
			      "1970-01-01T00:00:06.000Z): vm start it first, or vm remove "
			      "--discard-saved");
	ck_assert_int_eq(applyf(&s, "{\"op\":\"vm.remove\",\"name\":\"web\","
				    "\"discard_saved\":false}"),
			 CD_ERR_INVALID);
	ck_assert_ptr_nonnull(web(&s));
	ck_assert(has_saved(&s));
	ck_assert_int_eq(applyf(&s, "{\"op\":\"vm.remove\",\"name\":\"web\","
				    "\"discard_saved\":true}"),
			 0);
	ck_assert_ptr_null(web(&s));
	cd_state_free(&s);

	/* Without a saved state, discard_saved changes nothing. */
	setup(&s);
	ck_assert_int_eq(applyf(&s, "{\"op\":\"vm.stop\",\"name\":\"web\"}"), 0);
	((struct cd_vm *)web(&s))->state = CD_VM_STOPPED;
	((struct cd_vm *)web(&s))->node = 0;
	ck_assert_int_eq(applyf(&s, "{\"op\":\"vm.remove\",\"name\":\"web\"}"), 0);
	ck_assert_ptr_null(web(&s));
	cd_state_free(&s);
}
END_TEST

static int live_to_copying(struct cd_state *s)
{
	ck_assert_int_eq(applyf(s, "{\"op\":\"vm.move\",\"name\":\"web\",\"target\":2,"
				   "\"mode\":\"live\",\"wall_ms\":5000}"),
			 0);
	ck_assert_int_eq(applyf(s,
				"{\"op\":\"vm.move.step\",\"name\":\"web\",\"node\":1,"
				"\"action_id\":%llu,\"phase\":\"sharing\",\"ok\":true}",
				act(s)),
			 0);
	ck_assert_int_eq(applyf(s,
				"{\"op\":\"vm.move.step\",\"name\":\"web\",\"node\":2,"
				"\"action_id\":%llu,\"phase\":\"receiving\",\"ok\":true}",
				act(s)),
			 0);
	return web(s)->move.phase == CD_MOVE_COPYING ? 0 : -1;
}

static int fallback_step(struct cd_state *s)
{
	return applyf(s,
		      "{\"op\":\"vm.move.step\",\"name\":\"web\",\"node\":1,\"action_id\":%llu,"
		      "\"phase\":\"copying\",\"ok\":false,\"fallback\":\"quick\","
		      "\"state_volume\":\"vol1\",\"state_file\":\"web.vmstate\","
		      "\"error\":\"pre-copy does not converge\"}",
		      act(s));
}

/* A live copy that does not converge: called off, settled back, then quick. */
START_TEST(test_live_falls_back_to_quick)
{
	struct cd_state s;
	uint64_t action;

	setup(&s);
	ck_assert_int_eq(live_to_copying(&s), 0);
	action = web(&s)->action_id;
	ck_assert_int_eq(fallback_step(&s), 0);
	ck_assert_int_eq(web(&s)->move.phase, CD_MOVE_ABORTING);
	ck_assert(web(&s)->move.fallback);
	/* The source settled it back: it runs there alone; the move goes on, quick. */
	ck_assert_int_eq(report(&s, 1, "running"), 0);
	ck_assert_int_eq(web(&s)->state, CD_VM_MIGRATING);
	ck_assert_int_eq(web(&s)->move.mode, CD_MOVE_QUICK);
	ck_assert_int_eq(web(&s)->move.phase, CD_MOVE_SAVING);
	ck_assert_uint_eq(web(&s)->action_id, action);
	ck_assert_str_eq(web(&s)->move.state_file, "web.vmstate");
	ck_assert_int_eq(saved_step(&s, 1, true), 0);
	ck_assert_int_eq(restored(&s, 2, true, false), 0);
	ck_assert_int_eq(report(&s, 2, "running"), 0);
	ck_assert_int_eq(web(&s)->state, CD_VM_RUNNING);
	ck_assert_uint_eq(web(&s)->node, 2);
	ck_assert_int_eq(web(&s)->last_move.mode, CD_MOVE_QUICK);
	ck_assert_int_eq(web(&s)->last_move.outcome, CD_MOVE_OUT_MOVED);
	cd_state_free(&s);
}
END_TEST

/* No fallback for a VM whose live-fallback is none; a cancel wins over a fallback. */
START_TEST(test_no_fallback)
{
	struct cd_state s;

	setup(&s);
	ck_assert_int_eq(applyf(&s, "{\"op\":\"vm.set\",\"name\":\"web\",\"key\":"
				    "\"live-fallback\",\"value\":\"none\"}"),
			 0);
	ck_assert_int_eq(live_to_copying(&s), 0);
	ck_assert_int_eq(fallback_step(&s), CD_ERR_INVALID);
	ck_assert_int_eq(web(&s)->move.phase, CD_MOVE_COPYING);
	cd_state_free(&s);

	setup(&s);
	ck_assert_int_eq(live_to_copying(&s), 0);
	ck_assert_int_eq(fallback_step(&s), 0);
	ck_assert_int_eq(
		fixture_apply(&s, "{\"op\":\"vm.move.cancel\",\"name\":\"web\"}", err, sizeof(err)),
		0);
	ck_assert_int_eq(report(&s, 1, "running"), 0);
	ck_assert_int_eq(web(&s)->state, CD_VM_RUNNING);
	ck_assert_int_eq(web(&s)->last_move.outcome, CD_MOVE_OUT_CANCELLED);
	cd_state_free(&s);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("vm_quick");
	TCase *tc = tcase_create("quick");

	tcase_add_test(tc, test_quick_runs_to_the_end);
	tcase_add_test(tc, test_quick_refused);
	tcase_add_test(tc, test_quick_save_failed);
	tcase_add_test(tc, test_quick_cancel_after_save);
	tcase_add_test(tc, test_quick_source_dies_saving);
	tcase_add_test(tc, test_quick_target_dies_restoring);
	tcase_add_test(tc, test_quick_target_dies_resuming);
	tcase_add_test(tc, test_quick_restore_failed);
	tcase_add_test(tc, test_stop_save_and_start);
	tcase_add_test(tc, test_stop_save_failed);
	tcase_add_test(tc, test_stop_save_resume);
	tcase_add_test(tc, test_quick_json_roundtrip);
	tcase_add_test(tc, test_state_file_place);
	tcase_add_test(tc, test_state_volume_missing);
	tcase_add_test(tc, test_remove_saved);
	tcase_add_test(tc, test_live_falls_back_to_quick);
	tcase_add_test(tc, test_no_fallback);
	suite_add_tcase(s, tc);
	return run_suite(s);
}
