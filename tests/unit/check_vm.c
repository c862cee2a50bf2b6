#include "config.h"

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

/* A complete identity: a UUID and a MAC for its one interface. */
#define WEB_UUID "6f1d7c2e-0b6a-4f6e-9d1e-3a5b7c9d0e1f"
#define WEB_MAC "52:54:00:aa:bb:01"
#define WEB_XML                                                                                    \
	"<domain><name>web</name><uuid>" WEB_UUID "</uuid><devices>"                               \
	"<interface type='bridge'><mac address='" WEB_MAC "'/></interface>"                        \
	"</devices></domain>"

/* Three member nodes and one VM "web" (512 MiB, 1 vCPU). */
static void setup_state(struct cd_state *s)
{
	fixture_three_nodes(s);
	ck_assert_int_eq(apply(s, "{\"op\":\"vm.add\",\"name\":\"web\",\"xml\":\"" WEB_XML "\","
				  "\"vcpus\":1,\"memory_mb\":512}"),
			 0);
}

static const struct cd_vm *web(const struct cd_state *s)
{
	return cd_state_vm(s, "web");
}

START_TEST(test_add_defaults_and_duplicates)
{
	struct cd_state s;

	setup_state(&s);
	ck_assert_uint_eq(s.n_vms, 1);
	ck_assert_int_eq(web(&s)->priority, CD_PRIO_MEDIUM);
	ck_assert(!web(&s)->target_started);
	ck_assert_int_eq(web(&s)->state, CD_VM_STOPPED);
	ck_assert_int_eq(apply(&s, "{\"op\":\"vm.add\",\"name\":\"web\",\"xml\":\"" WEB_XML "\","
				   "\"vcpus\":1,\"memory_mb\":512}"),
			 CD_ERR_EXISTS);
	ck_assert_int_eq(apply(&s, "{\"op\":\"vm.add\",\"name\":\"a b\",\"xml\":\"<domain/>\","
				   "\"vcpus\":1,\"memory_mb\":512}"),
			 CD_ERR_INVALID);
	ck_assert_int_eq(apply(&s, "{\"op\":\"vm.add\",\"name\":\"x\",\"xml\":\"\","
				   "\"vcpus\":1,\"memory_mb\":512}"),
			 CD_ERR_INVALID);
	ck_assert_int_eq(apply(&s, "{\"op\":\"vm.add\",\"name\":\"x\",\"xml\":\"<d/>\","
				   "\"vcpus\":0,\"memory_mb\":512}"),
			 CD_ERR_INVALID);
	ck_assert_uint_eq(s.n_vms, 1);
	cd_state_free(&s);
}
END_TEST

/* vm.add of ADD(name, uuid, mac) */
#define ADD(name, uuid, mac)                                                                       \
	"{\"op\":\"vm.add\",\"name\":\"" name "\",\"vcpus\":1,\"memory_mb\":64,"                   \
	"\"xml\":\"<domain><name>" name "</name><uuid>" uuid "</uuid><devices>"                    \
	"<interface type='network'><mac address='" mac "'/></interface>"                           \
	"</devices></domain>\"}"

START_TEST(test_add_identity_unique)
{
	struct cd_state s;

	setup_state(&s);
	ck_assert_str_eq(web(&s)->uuid, WEB_UUID);
	/* The same UUID (in other case) or MAC as web's: refused, saying whose. */
	ck_assert_int_eq(
		apply(&s, ADD("db", "6F1D7C2E-0B6A-4F6E-9D1E-3A5B7C9D0E1F", "52:54:00:aa:bb:02")),
		CD_ERR_EXISTS);
	ck_assert_ptr_nonnull(strstr(err, "web"));
	ck_assert_int_eq(
		apply(&s, ADD("db", "00000000-0000-4000-8000-000000000002", "52:54:00:AA:BB:01")),
		CD_ERR_EXISTS);
	ck_assert_ptr_nonnull(strstr(err, "52:54:00:aa:bb:01"));
	/* An XML that leaves the identity to libvirt: refused. */
	ck_assert_int_eq(apply(&s,
			       "{\"op\":\"vm.add\",\"name\":\"db\",\"vcpus\":1,"
			       "\"memory_mb\":64,\"xml\":\"<domain><name>db</name></domain>\"}"),
			 CD_ERR_INVALID);
	ck_assert_int_eq(apply(&s, "{\"op\":\"vm.add\",\"name\":\"db\",\"vcpus\":1,"
				   "\"memory_mb\":64,\"xml\":\"<domain><name>db</name><uuid>"
				   "00000000-0000-4000-8000-000000000002</uuid><devices>"
				   "<interface type='network'/></devices></domain>\"}"),
			 CD_ERR_INVALID);
	ck_assert_uint_eq(s.n_vms, 1);
	ck_assert_int_eq(
		apply(&s, ADD("db", "00000000-0000-4000-8000-000000000002", "52:54:00:aa:bb:02")),
		0);
	ck_assert_ptr_eq(cd_vm_mac_user(&s, "52:54:00:AA:BB:02", NULL), cd_state_vm(&s, "db"));
	ck_assert_ptr_null(cd_vm_mac_user(&s, "52:54:00:aa:bb:02", cd_state_vm(&s, "db")));
	/* Removed, its identity is free again. */
	ck_assert_int_eq(apply(&s, "{\"op\":\"vm.remove\",\"name\":\"db\"}"), 0);
	ck_assert_ptr_null(cd_vm_mac_user(&s, "52:54:00:aa:bb:02", NULL));
	ck_assert_ptr_null(cd_vm_uuid_user(&s, "00000000-0000-4000-8000-000000000002", NULL));
	cd_state_free(&s);
}
END_TEST

/* A VM of an old state (XML without UUID and MAC) and vm.identity. */
START_TEST(test_identity_upgrade)
{
	struct cd_state s, t;
	struct json_object *o;
	const char *old = "<domain><name>old</name><devices><interface type='network'/>"
			  "<interface type='network'><mac address='52:54:00:00:00:07'/>"
			  "</interface></devices></domain>";
	char change[1024];

	setup_state(&s);
	/* Loaded as it was saved: an old state is read whatever its XML lacks. */
	o = cd_state_to_json(&s);
	{
		struct json_object *vms = json_object_new_array(), *v = cd_vm_to_json(web(&s));

		json_object_object_add(v, "name", json_object_new_string("old"));
		json_object_object_add(v, "uuid", json_object_new_string(""));
		json_object_object_add(v, "xml", json_object_new_string(old));
		json_object_array_add(vms, v); /* sorted by name: old, web */
		json_object_array_add(vms, cd_vm_to_json(web(&s)));
		json_object_object_add(o, "vms", vms);
	}
	ck_assert_int_eq(cd_state_from_json(&t, o, err, sizeof(err)), 0);
	json_object_put(o);
	ck_assert_ptr_nonnull(cd_state_vm(&t, "old"));
	ck_assert(!cd_vm_identity_complete(cd_state_vm(&t, "old")));
	ck_assert(cd_vm_identity_complete(web(&t)));
	/* Its one MAC is reserved already. */
	ck_assert_int_eq(
		apply(&t, ADD("db", "00000000-0000-4000-8000-000000000002", "52:54:00:00:00:07")),
		CD_ERR_EXISTS);
#define IDENT(uuid, mac1, mac2)                                                                    \
	snprintf(change, sizeof(change),                                                           \
		 "{\"op\":\"vm.identity\",\"name\":\"old\",\"xml\":\"<domain><name>old</name>"     \
		 "<uuid>%s</uuid><devices><interface type='network'><mac address='%s'/>"           \
		 "</interface><interface type='network'><mac address='%s'/></interface>"           \
		 "</devices></domain>\"}",                                                         \
		 uuid, mac1, mac2)
	/* Changing a MAC it had: refused; taking web's UUID or MAC: refused. */
	IDENT("00000000-0000-4000-8000-000000000003", "52:54:00:00:00:08", "52:54:00:00:00:09");
	ck_assert_int_eq(apply(&t, change), CD_ERR_INVALID);
	IDENT(WEB_UUID, "52:54:00:00:00:08", "52:54:00:00:00:07");
	ck_assert_int_eq(apply(&t, change), CD_ERR_EXISTS);
	IDENT("00000000-0000-4000-8000-000000000003", WEB_MAC, "52:54:00:00:00:07");
	ck_assert_int_eq(apply(&t, change), CD_ERR_EXISTS);
	ck_assert(!cd_vm_identity_complete(cd_state_vm(&t, "old")));
	/* What it lacked, and nothing else: taken once. */
	IDENT("00000000-0000-4000-8000-000000000003", "52:54:00:00:00:08", "52:54:00:00:00:07");
	ck_assert_int_eq(apply(&t, change), 0);
	ck_assert(cd_vm_identity_complete(cd_state_vm(&t, "old")));
	ck_assert_str_eq(cd_state_vm(&t, "old")->uuid, "00000000-0000-4000-8000-000000000003");
	ck_assert_ptr_nonnull(cd_vm_mac_user(&t, "52:54:00:00:00:08", NULL));
	ck_assert_int_eq(apply(&t, change), CD_ERR_EXISTS);
	cd_state_free(&t);
	cd_state_free(&s);
}
END_TEST

START_TEST(test_settings_validated)
{
	struct cd_state s;

	setup_state(&s);
#define SET(k, v)                                                                                  \
	apply(&s, "{\"op\":\"vm.set\",\"name\":\"web\",\"key\":\"" k "\",\"value\":\"" v "\"}")
	ck_assert_int_eq(SET("priority", "high"), 0);
	ck_assert_int_eq(web(&s)->priority, CD_PRIO_HIGH);
	ck_assert_int_eq(SET("priority", "urgent"), CD_ERR_INVALID);
	ck_assert_int_eq(SET("preferred-owners", "node2,node1"), 0);
	ck_assert_str_eq(web(&s)->preferred[0], "node2");
	ck_assert_int_eq(SET("preferred-owners", "node9"), CD_ERR_NOT_FOUND);
	ck_assert_int_eq(SET("preferred-owners", "node1,node1"), CD_ERR_INVALID);
	/* A preferred owner outside the possible owners is impossible. */
	ck_assert_int_eq(SET("possible-owners", "node1,node3"), CD_ERR_INVALID);
	ck_assert_uint_eq(web(&s)->n_possible, 0);
	ck_assert_int_eq(SET("possible-owners", "node1,node2"), 0);
	ck_assert_int_eq(SET("anti-affinity", "web:hard"), 0);
	ck_assert(web(&s)->anti_hard);
	ck_assert_str_eq(web(&s)->anti_class, "web");
	ck_assert_int_eq(SET("anti-affinity", "db"), 0);
	ck_assert(!web(&s)->anti_hard);
	ck_assert_int_eq(SET("anti-affinity", "db:maybe"), CD_ERR_INVALID);
	ck_assert_int_eq(SET("failback", "02:00-04:30"), 0);
	ck_assert_int_eq(web(&s)->failback, CD_FAILBACK_WINDOW);
	ck_assert_uint_eq(web(&s)->fb_end, 270);
	ck_assert_int_eq(SET("failback", "25:00-04:00"), CD_ERR_INVALID);
	ck_assert_int_eq(SET("failback", "02:00-02:00"), CD_ERR_INVALID);
	ck_assert_int_eq(SET("move-mode", "quick"), 0);
	ck_assert_int_eq(SET("move-mode", "teleport"), CD_ERR_INVALID);
	ck_assert_int_eq(SET("colour", "red"), CD_ERR_INVALID);
	ck_assert_int_eq(web(&s)->move_mode, CD_MOVE_QUICK);
#undef SET
	cd_state_free(&s);
}
END_TEST

START_TEST(test_lifecycle)
{
	struct cd_state s;
	uint64_t a1, a2;

	setup_state(&s);
	/* Not placed until started. */
	ck_assert_int_eq(apply(&s, "{\"op\":\"vm.place\",\"name\":\"web\",\"node\":2}"),
			 CD_ERR_INVALID);
	ck_assert_int_eq(apply(&s, "{\"op\":\"vm.start\",\"name\":\"web\"}"), 0);
	ck_assert_int_eq(apply(&s, "{\"op\":\"vm.place\",\"name\":\"web\",\"node\":9}"),
			 CD_ERR_INVALID);
	ck_assert_int_eq(apply(&s, "{\"op\":\"vm.place\",\"name\":\"web\",\"node\":2}"), 0);
	a1 = web(&s)->action_id;
	ck_assert_int_eq(web(&s)->state, CD_VM_STARTING);
	ck_assert_uint_eq(web(&s)->node, 2);
	/* Placed twice: refused. */
	ck_assert_int_eq(apply(&s, "{\"op\":\"vm.place\",\"name\":\"web\",\"node\":1}"),
			 CD_ERR_INVALID);
	/* A report from another node or of another action is stale. */
	ck_assert_int_eq(
		apply(&s,
		      "{\"op\":\"vm.report\",\"name\":\"web\",\"node\":1,\"action_id\":0,\"result\":\"running\"}"),
		CD_ERR_INVALID);
	ck_assert_int_eq(
		apply(&s,
		      "{\"op\":\"vm.report\",\"name\":\"web\",\"node\":2,\"action_id\":999,\"result\":\"running\"}"),
		CD_ERR_INVALID);
	{
		char buf[200];

		snprintf(
			buf, sizeof(buf),
			"{\"op\":\"vm.report\",\"name\":\"web\",\"node\":2,\"action_id\":%llu,\"result\":\"running\"}",
			(unsigned long long)a1);
		ck_assert_int_eq(apply(&s, buf), 0);
	}
	ck_assert_int_eq(web(&s)->state, CD_VM_RUNNING);
	/* Removal of a running VM is refused. */
	ck_assert_int_eq(apply(&s, "{\"op\":\"vm.remove\",\"name\":\"web\"}"), CD_ERR_INVALID);
	ck_assert_int_eq(apply(&s, "{\"op\":\"vm.stop\",\"name\":\"web\"}"), 0);
	a2 = web(&s)->action_id;
	ck_assert_uint_gt(a2, a1);
	ck_assert_int_eq(web(&s)->state, CD_VM_STOPPING);
	{
		char buf[200];

		snprintf(
			buf, sizeof(buf),
			"{\"op\":\"vm.report\",\"name\":\"web\",\"node\":2,\"action_id\":%llu,\"result\":\"stopped\"}",
			(unsigned long long)a2);
		ck_assert_int_eq(apply(&s, buf), 0);
	}
	ck_assert_int_eq(web(&s)->state, CD_VM_STOPPED);
	ck_assert_uint_eq(web(&s)->node, 0);
	ck_assert_int_eq(apply(&s, "{\"op\":\"vm.remove\",\"name\":\"web\"}"), 0);
	ck_assert_uint_eq(s.n_vms, 0);
	cd_state_free(&s);
}
END_TEST

START_TEST(test_monitor_failures_counted_per_period)
{
	struct cd_state s;
	int i;

	setup_state(&s);
	apply(&s, "{\"op\":\"vm.start\",\"name\":\"web\"}");
	for (i = 0; i < 3; i++) {
		char buf[200];

		ck_assert_int_eq(apply(&s, "{\"op\":\"vm.place\",\"name\":\"web\",\"node\":1}"), 0);
		snprintf(
			buf, sizeof(buf),
			"{\"op\":\"vm.report\",\"name\":\"web\",\"node\":1,\"action_id\":0,\"result\":\"failed\",\"error\":\"qemu died\",\"wall_ms\":%d}",
			1000 + i);
		ck_assert_int_eq(apply(&s, buf), 0);
		ck_assert_int_eq(web(&s)->state, CD_VM_FAILED);
		ck_assert_uint_eq(web(&s)->node, 0);
		ck_assert_uint_eq(web(&s)->fail_count, (unsigned)i + 1);
		ck_assert_uint_eq(web(&s)->failed_on, 1);
	}
	ck_assert_str_eq(web(&s)->last_error, "qemu died");
	/* A failure after the period starts counting again. */
	ck_assert_int_eq(apply(&s, "{\"op\":\"vm.place\",\"name\":\"web\",\"node\":1}"), 0);
	ck_assert_int_eq(
		apply(&s,
		      "{\"op\":\"vm.report\",\"name\":\"web\",\"node\":1,\"action_id\":0,\"result\":\"failed\",\"wall_ms\":99999999}"),
		0);
	ck_assert_uint_eq(web(&s)->fail_count, 1);
	/* An admin start forgets the history. */
	apply(&s, "{\"op\":\"vm.start\",\"name\":\"web\"}");
	ck_assert_uint_eq(web(&s)->fail_count, 0);
	ck_assert_int_eq(web(&s)->state, CD_VM_STOPPED);
	cd_state_free(&s);
}
END_TEST

START_TEST(test_vm_json_roundtrip)
{
	struct cd_state s, back;
	struct json_object *o;
	char *t1;

	setup_state(&s);
	apply(&s,
	      "{\"op\":\"vm.set\",\"name\":\"web\",\"key\":\"failback\",\"value\":\"22:00-06:00\"}");
	apply(&s,
	      "{\"op\":\"vm.set\",\"name\":\"web\",\"key\":\"preferred-owners\",\"value\":\"node3\"}");
	apply(&s, "{\"op\":\"vm.start\",\"name\":\"web\"}");
	apply(&s, "{\"op\":\"vm.place\",\"name\":\"web\",\"node\":3}");
	o = cd_state_to_json(&s);
	t1 = strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
	ck_assert_int_eq(cd_state_from_json(&back, o, err, sizeof(err)), 0);
	json_object_put(o);
	o = cd_state_to_json(&back);
	ck_assert_str_eq(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN), t1);
	ck_assert_uint_eq(back.last_action_id, 1);
	ck_assert_str_eq(cd_state_vm(&back, "web")->xml, WEB_XML);
	ck_assert_str_eq(cd_state_vm(&back, "web")->macs, WEB_MAC ",");
	json_object_put(o);
	free(t1);
	cd_state_free(&s);
	cd_state_free(&back);
}
END_TEST

/*
 * cpu=cluster-baseline | as-defined: set and refused like the other
 * settings, in the VM's JSON as "cpu", and absent there (an older state)
 * as-defined.
 */
START_TEST(test_cpu_setting)
{
	struct cd_state s;
	struct cd_vm vm;
	struct json_object *o;

	setup_state(&s);
	ck_assert(!web(&s)->cpu_baseline);
#define SET(v) apply(&s, "{\"op\":\"vm.set\",\"name\":\"web\",\"key\":\"cpu\",\"value\":\"" v "\"}")
	ck_assert_int_eq(SET("cluster-baseline"), 0);
	ck_assert(web(&s)->cpu_baseline);
	ck_assert_int_eq(SET("host-model"), CD_ERR_INVALID);
	ck_assert_str_eq(err, "cpu must be as-defined or cluster-baseline");
	ck_assert(web(&s)->cpu_baseline);
	ck_assert_int_eq(SET(""), CD_ERR_INVALID);

	o = cd_vm_to_json(web(&s));
	ck_assert_str_eq(json_object_get_string(json_object_object_get(o, "cpu")),
			 "cluster-baseline");
	ck_assert_int_eq(cd_vm_from_json(&vm, o, err, sizeof(err)), 0);
	ck_assert(vm.cpu_baseline);
	cd_vm_free(&vm);
	json_object_object_del(o, "cpu");
	ck_assert_int_eq(cd_vm_from_json(&vm, o, err, sizeof(err)), 0);
	ck_assert(!vm.cpu_baseline);
	cd_vm_free(&vm);
	json_object_object_add(o, "cpu", json_object_new_string("fastest"));
	ck_assert_int_eq(cd_vm_from_json(&vm, o, err, sizeof(err)), CD_ERR_CORRUPT);
	json_object_put(o);

	ck_assert_int_eq(SET("as-defined"), 0);
	ck_assert(!web(&s)->cpu_baseline);
	o = cd_vm_to_json(web(&s));
	ck_assert_str_eq(json_object_get_string(json_object_object_get(o, "cpu")), "as-defined");
	json_object_put(o);
#undef SET
	cd_state_free(&s);
}
END_TEST

/* --- the lifecycle table --- */

/* What the transition hook saw. */
static struct {
	int calls;
	struct cd_vm_transition_rec last;
	char log[8][96];
} seen;

static void record(void *ctx, const struct cd_vm_transition_rec *t)
{
	ck_assert_ptr_eq(ctx, &seen);
	if (seen.calls < 8)
		snprintf(seen.log[seen.calls], sizeof(seen.log[0]), "%s %s->%s %s %u", t->vm->name,
			 cd_vm_state_to_str(t->from), cd_vm_state_to_str(t->to),
			 cd_vm_event_to_str(t->ev), (unsigned)t->node);
	seen.calls++;
	seen.last = *t;
}

static char *vm_text(const struct cd_vm *vm)
{
	struct json_object *o = cd_vm_to_json(vm);
	char *t = strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));

	json_object_put(o);
	return t;
}

/*
 * Nodes 1-3 are members, node 4 has left (not yet known dead); "web" is
 * set as a cell of the table starts it: in state from on node (0 or 4),
 * wanted started, to be forced off, action 7 of 10, two failures on node 4
 * since 500 ms, an old error. The hook records.
 */
static void setup_cell(struct cd_state *s, enum cd_vm_state from, uint32_t node)
{
	struct cd_vm *vm;

	fixture_node4_left(s);
	ck_assert_int_eq(apply(s, "{\"op\":\"vm.add\",\"name\":\"web\",\"xml\":\"" WEB_XML "\","
				  "\"vcpus\":1,\"memory_mb\":512}"),
			 0);
	vm = (struct cd_vm *)web(s);
	vm->state = from;
	vm->node = node;
	vm->target_started = true;
	vm->force_stop = true;
	vm->action_id = 7;
	s->last_action_id = 10;
	vm->fail_count = 2;
	vm->failed_on = 4;
	vm->first_fail_ms = 500;
	strcpy(vm->last_error, "old");
	memset(&seen, 0, sizeof(seen));
	s->vm_hook = record;
	s->vm_hook_ctx = &seen;
}

/* The events, as the changes that carry them (a report comes from the VM's node). */
enum ev { START, STOP, PLACE, REP_RUNNING, REP_STOPPED, REP_FAILED, REP_OTHER, DEAD };

static int send_event(struct cd_state *s, enum ev ev)
{
	const char *result[] = {[REP_RUNNING] = "running",
				[REP_STOPPED] = "stopped",
				[REP_FAILED] = "failed",
				[REP_OTHER] = "starting"};
	char buf[256];

	switch (ev) {
	case START:
		return apply(s, "{\"op\":\"vm.start\",\"name\":\"web\"}");
	case STOP:
		return apply(s, "{\"op\":\"vm.stop\",\"name\":\"web\"}");
	case PLACE:
		return apply(s, "{\"op\":\"vm.place\",\"name\":\"web\",\"node\":1}");
	case DEAD:
		return apply(s, "{\"op\":\"node.dead\",\"node\":4,\"how\":\"lease\"}");
	case REP_RUNNING:
	case REP_STOPPED:
	case REP_FAILED:
	case REP_OTHER:
		break;
	}
	snprintf(buf, sizeof(buf),
		 "{\"op\":\"vm.report\",\"name\":\"web\",\"node\":%u,\"action_id\":7,"
		 "\"result\":\"%s\",\"wall_ms\":1000}",
		 (unsigned)web(s)->node, result[ev]);
	return apply(s, buf);
}

#define DIED "node node4 died (lease); its VMs run elsewhere"

/*
 * Every cell, with what the code before the table did (vm.c and state.c of
 * the previous release), written out. A refused cell names its error and
 * changes nothing; the others give the whole VM after it: state, node,
 * action (new: 11), failures (count, node, since), last error, target
 * started, force stop, and whether the hook is told (a transition, not a kept state).
 */
/* clang-format off */
static const struct cell {
	enum cd_vm_state from;
	uint32_t node;
	enum ev ev;
	const char *refused; /* the error, or NULL: taken */
	enum cd_vm_state to;
	uint32_t to_node;
	uint64_t action;
	uint32_t fails, failed_on;
	const char *error;
	bool target, force, told;
} cells[] = {
#define ST(x) CD_VM_##x
#define NO(from, node, ev, why) {ST(from), node, ev, why, ST(from), node, 7, 2, 4, "old", 1, 1, 0}
#define OK(from, node, ev, to, to_node, action, fails, failed_on, error, target, force, told)     \
	{ST(from), node, ev, NULL, ST(to), to_node, action, fails, failed_on, error, target, force,  \
	 told}
#define REPORT_ON(from, node, what)                                                                \
	NO(from, node, REP_RUNNING, "report on 'web' which is " what),                             \
	NO(from, node, REP_STOPPED, "report on 'web' which is " what),                             \
	NO(from, node, REP_FAILED, "report on 'web' which is " what),                              \
	NO(from, node, REP_OTHER, "report on 'web' which is " what)
	/* Stopped nowhere; node.dead of another node leaves it be. */
	OK(STOPPED, 0, START, STOPPED, 0, 7, 0, 0, "", 1, 0, 0),
	OK(STOPPED, 0, STOP, STOPPED, 0, 7, 2, 4, "old", 0, 0, 0),
	OK(STOPPED, 0, PLACE, STARTING, 1, 11, 2, 4, "old", 1, 1, 1),
	REPORT_ON(STOPPED, 0, "stopped"),
	OK(STOPPED, 0, DEAD, STOPPED, 0, 7, 2, 4, "old", 1, 1, 0),
	/* Stopped on a node: no change does it, a state file may hold it. */
	OK(STOPPED, 4, START, STOPPED, 4, 7, 0, 0, "", 1, 0, 0),
	OK(STOPPED, 4, STOP, STOPPED, 4, 7, 2, 4, "old", 0, 0, 0),
	NO(STOPPED, 4, PLACE, "VM 'web' is stopped already"),
	REPORT_ON(STOPPED, 4, "stopped"),
	OK(STOPPED, 4, DEAD, STOPPED, 0, 7, 2, 4, DIED, 1, 1, 1),

	OK(STARTING, 4, START, STARTING, 4, 7, 0, 0, "", 1, 0, 0),
	OK(STARTING, 4, STOP, STOPPING, 4, 11, 2, 4, "old", 0, 0, 1),
	NO(STARTING, 4, PLACE, "VM 'web' is starting already"),
	OK(STARTING, 4, REP_RUNNING, RUNNING, 4, 7, 2, 4, "", 1, 1, 1),
	OK(STARTING, 4, REP_STOPPED, FAILED, 0, 7, 3, 4, "old", 1, 1, 1),
	OK(STARTING, 4, REP_FAILED, FAILED, 0, 7, 3, 4, "old", 1, 1, 1),
	OK(STARTING, 4, REP_OTHER, FAILED, 0, 7, 3, 4, "old", 1, 1, 1),
	OK(STARTING, 4, DEAD, STOPPED, 0, 7, 2, 4, DIED, 1, 1, 1),

	OK(RUNNING, 4, START, RUNNING, 4, 7, 0, 0, "", 1, 0, 0),
	OK(RUNNING, 4, STOP, STOPPING, 4, 11, 2, 4, "old", 0, 0, 1),
	NO(RUNNING, 4, PLACE, "VM 'web' is running already"),
	OK(RUNNING, 4, REP_RUNNING, RUNNING, 4, 7, 2, 4, "", 1, 1, 0),
	OK(RUNNING, 4, REP_STOPPED, FAILED, 0, 7, 3, 4, "old", 1, 1, 1),
	OK(RUNNING, 4, REP_FAILED, FAILED, 0, 7, 3, 4, "old", 1, 1, 1),
	OK(RUNNING, 4, REP_OTHER, FAILED, 0, 7, 3, 4, "old", 1, 1, 1),
	OK(RUNNING, 4, DEAD, STOPPED, 0, 7, 2, 4, DIED, 1, 1, 1),

	OK(STOPPING, 4, START, STOPPING, 4, 7, 0, 0, "", 1, 0, 0),
	OK(STOPPING, 4, STOP, STOPPING, 4, 11, 2, 4, "old", 0, 0, 1),
	NO(STOPPING, 4, PLACE, "VM 'web' is stopping already"),
	OK(STOPPING, 4, REP_RUNNING, STOPPING, 4, 7, 2, 4, "old", 1, 1, 0),
	OK(STOPPING, 4, REP_STOPPED, STOPPED, 0, 7, 2, 4, "old", 1, 1, 1),
	OK(STOPPING, 4, REP_FAILED, FAILED, 4, 7, 2, 4, "old", 1, 1, 1),
	OK(STOPPING, 4, REP_OTHER, STOPPING, 4, 7, 2, 4, "old", 1, 1, 0),
	OK(STOPPING, 4, DEAD, STOPPED, 0, 7, 2, 4, DIED, 1, 1, 1),

	/* Failed nowhere: a failed start or run. */
	OK(FAILED, 0, START, STOPPED, 0, 7, 0, 0, "", 1, 0, 1),
	OK(FAILED, 0, STOP, FAILED, 0, 7, 2, 4, "old", 0, 0, 0),
	OK(FAILED, 0, PLACE, STARTING, 1, 11, 2, 4, "old", 1, 1, 1),
	REPORT_ON(FAILED, 0, "failed"),
	OK(FAILED, 0, DEAD, FAILED, 0, 7, 2, 4, "old", 1, 1, 0),
	/* Failed on its node: a failed stop. */
	/* Started again: its node powers it off first, then it is placed anew. */
	OK(FAILED, 4, START, STOPPING, 4, 11, 0, 0, "", 1, 1, 1),
	OK(FAILED, 4, STOP, STOPPING, 4, 11, 2, 4, "old", 0, 0, 1),
	NO(FAILED, 4, PLACE, "VM 'web' is failed already"),
	REPORT_ON(FAILED, 4, "failed"),
	OK(FAILED, 4, DEAD, STOPPED, 0, 7, 2, 4, DIED, 1, 1, 1),

	/*
	 * Moving (a move record of a state before moves: no phase, no
	 * target): its node settles it; a stop waits for the move's end.
	 */
	OK(MIGRATING, 4, START, MIGRATING, 4, 7, 0, 0, "", 1, 0, 0),
	OK(MIGRATING, 4, STOP, MIGRATING, 4, 7, 2, 4, "old", 0, 0, 0),
	NO(MIGRATING, 4, PLACE, "VM 'web' is migrating already"),
	OK(MIGRATING, 4, REP_RUNNING, RUNNING, 4, 7, 2, 4, "old", 1, 1, 1),
	OK(MIGRATING, 4, REP_STOPPED, FAILED, 0, 7, 3, 4, "old", 1, 1, 1),
	OK(MIGRATING, 4, REP_FAILED, FAILED, 0, 7, 3, 4, "old", 1, 1, 1),
	OK(MIGRATING, 4, REP_OTHER, MIGRATING, 4, 7, 2, 4, "old", 1, 1, 0),
	OK(MIGRATING, 4, DEAD, STOPPED, 0, 7, 2, 4, DIED, 1, 1, 1),
#undef REPORT_ON
#undef OK
#undef NO
#undef ST
};
/* clang-format on */

START_TEST(test_lifecycle_table)
{
	const struct cell *c = &cells[_i];
	struct cd_state s;
	const struct cd_vm *vm;
	char *before, *after;
	uint64_t seq;

	setup_cell(&s, c->from, c->node);
	before = vm_text(web(&s));
	seq = s.version.seq;
	if (c->refused) {
		ck_assert_int_eq(send_event(&s, c->ev), CD_ERR_INVALID);
		ck_assert_str_eq(err, c->refused);
		after = vm_text(web(&s));
		ck_assert_str_eq(after, before);
		ck_assert_uint_eq(s.last_action_id, 10);
		ck_assert_uint_eq(s.version.seq, seq);
		ck_assert_int_eq(seen.calls, 0);
		free(after);
		free(before);
		cd_state_free(&s);
		return;
	}
	ck_assert_msg(send_event(&s, c->ev) == 0, "cell %d: %s", _i, err);
	vm = web(&s);
	ck_assert_msg(vm->state == c->to, "cell %d: %s", _i, cd_vm_state_to_str(vm->state));
	ck_assert_uint_eq(vm->node, c->to_node);
	ck_assert_uint_eq(vm->action_id, c->action);
	ck_assert_uint_eq(s.last_action_id, c->action == 7 ? 10 : c->action);
	ck_assert_uint_eq(vm->fail_count, c->fails);
	ck_assert_uint_eq(vm->failed_on, c->failed_on);
	ck_assert_uint_eq(vm->first_fail_ms, 500);
	ck_assert_str_eq(vm->last_error, c->error);
	ck_assert_int_eq(vm->target_started, c->target);
	ck_assert_int_eq(vm->force_stop, c->force);
	ck_assert_uint_eq(s.version.seq, seq + 1);
	/* Told once, after it is made, of what it was; or not at all. */
	ck_assert_int_eq(seen.calls, c->told ? 1 : 0);
	if (c->told) {
		ck_assert_ptr_eq(seen.last.vm, vm);
		ck_assert_int_eq(seen.last.from, c->from);
		ck_assert_int_eq(seen.last.to, c->to);
		ck_assert_uint_eq(seen.last.node, c->ev == START || c->ev == STOP ? 0
						  : c->ev == PLACE		  ? 1
										  : 4);
	}
	free(before);
	cd_state_free(&s);
}
END_TEST

/*
 * A report's error is kept even where the table refuses the report (on a
 * stopped or failed VM): what the code has always done, kept as it was
 * (the change is refused, yet that VM's last error changed).
 */
START_TEST(test_lifecycle_report_error)
{
	struct cd_state s;

	setup_cell(&s, CD_VM_RUNNING, 4);
	ck_assert_int_eq(apply(&s, "{\"op\":\"vm.report\",\"name\":\"web\",\"node\":4,"
				   "\"action_id\":0,\"result\":\"running\",\"error\":\"slow\"}"),
			 0);
	ck_assert_str_eq(web(&s)->last_error, "slow");
	ck_assert_int_eq(apply(&s, "{\"op\":\"vm.report\",\"name\":\"web\",\"node\":4,"
				   "\"action_id\":0,\"result\":\"failed\",\"error\":\"qemu died\","
				   "\"wall_ms\":1000}"),
			 0);
	ck_assert_int_eq(web(&s)->state, CD_VM_FAILED);
	ck_assert_str_eq(web(&s)->last_error, "qemu died");
	ck_assert_uint_eq(web(&s)->fail_count, 3);
	ck_assert_int_eq(apply(&s, "{\"op\":\"vm.report\",\"name\":\"web\",\"node\":0,"
				   "\"action_id\":0,\"result\":\"running\",\"error\":\"late\"}"),
			 CD_ERR_INVALID);
	ck_assert_str_eq(err, "report on 'web' which is failed");
	ck_assert_int_eq(web(&s)->state, CD_VM_FAILED);
	/* A refused report changes nothing, its error included. */
	ck_assert_str_eq(web(&s)->last_error, "qemu died");
	ck_assert_int_eq(seen.calls, 1);
	/* Stale reports are refused before anything changes. */
	ck_assert_int_eq(apply(&s, "{\"op\":\"vm.report\",\"name\":\"web\",\"node\":4,"
				   "\"action_id\":0,\"result\":\"running\",\"error\":\"x\"}"),
			 CD_ERR_INVALID);
	ck_assert_str_eq(web(&s)->last_error, "qemu died");
	cd_state_free(&s);
}
END_TEST

START_TEST(test_lifecycle_stop_force)
{
	struct cd_state s;

	setup_cell(&s, CD_VM_RUNNING, 4);
	ck_assert_int_eq(apply(&s, "{\"op\":\"vm.stop\",\"name\":\"web\",\"force\":true}"), 0);
	ck_assert(web(&s)->force_stop);
	ck_assert_int_eq(web(&s)->state, CD_VM_STOPPING);
	ck_assert_uint_eq(web(&s)->action_id, 11);
	/* Again, not forced: a new stop action, recorded as a transition. */
	ck_assert_int_eq(apply(&s, "{\"op\":\"vm.stop\",\"name\":\"web\"}"), 0);
	ck_assert(!web(&s)->force_stop);
	ck_assert_uint_eq(web(&s)->action_id, 12);
	ck_assert_int_eq(seen.calls, 2);
	ck_assert_str_eq(seen.log[1], "web stopping->stopping admin stop 0");
	cd_state_free(&s);
}
END_TEST

/* The function itself: no arguments, a cell with no row, a refusal. */
START_TEST(test_transition_direct)
{
	struct cd_state s;
	struct cd_vm *vm;
	char *before, *after;

	setup_cell(&s, CD_VM_FAILED, 0);
	vm = s.vms[0];
	ck_assert_int_eq(cd_vm_transition(&s, vm, CD_VM_EV_START, NULL, err, sizeof(err)), 0);
	ck_assert_int_eq(vm->state, CD_VM_STOPPED);
	ck_assert_int_eq(seen.calls, 1);
	ck_assert_int_eq(seen.last.ev, CD_VM_EV_START);
	before = vm_text(vm);
	ck_assert_int_eq(cd_vm_transition(&s, vm, CD_VM_EV_REPORT_RUNNING, NULL, err, sizeof(err)),
			 CD_ERR_INVALID);
	ck_assert_str_eq(err, "report on 'web' which is stopped");
	/* An event no row knows: impossible in every state, refused. */
	ck_assert_int_eq(cd_vm_transition(&s, vm, (enum cd_vm_event)99, NULL, err, sizeof(err)),
			 CD_ERR_INVALID);
	ck_assert_str_eq(err, "VM 'web' is stopped: no unknown there");
	after = vm_text(vm);
	ck_assert_str_eq(after, before);
	ck_assert_int_eq(seen.calls, 1);
	ck_assert_str_eq(cd_vm_event_to_str(CD_VM_EV_NODE_DEAD), "node dead");
	free(after);
	free(before);
	cd_state_free(&s);
}
END_TEST

/* A whole life, as the hook sees it: each transition once, in order, none twice. */
START_TEST(test_lifecycle_hook_sees_each_once)
{
	struct cd_state s, copy;

	setup_cell(&s, CD_VM_STOPPED, 0);
	ck_assert_int_eq(apply(&s, "{\"op\":\"vm.place\",\"name\":\"web\",\"node\":2}"), 0);
	ck_assert_int_eq(apply(&s, "{\"op\":\"vm.place\",\"name\":\"web\",\"node\":2}"),
			 CD_ERR_INVALID);
	ck_assert_int_eq(apply(&s, "{\"op\":\"vm.report\",\"name\":\"web\",\"node\":2,"
				   "\"action_id\":11,\"result\":\"running\"}"),
			 0);
	ck_assert_int_eq(apply(&s, "{\"op\":\"vm.report\",\"name\":\"web\",\"node\":2,"
				   "\"action_id\":0,\"result\":\"running\"}"),
			 0);							  /* kept */
	ck_assert_int_eq(apply(&s, "{\"op\":\"vm.start\",\"name\":\"web\"}"), 0); /* kept */
	ck_assert_int_eq(apply(&s, "{\"op\":\"vm.stop\",\"name\":\"web\"}"), 0);
	ck_assert_int_eq(apply(&s, "{\"op\":\"vm.report\",\"name\":\"web\",\"node\":2,"
				   "\"action_id\":12,\"result\":\"stopped\"}"),
			 0);
	ck_assert_int_eq(seen.calls, 4);
	ck_assert_str_eq(seen.log[0], "web stopped->starting placement 2");
	ck_assert_str_eq(seen.log[1], "web starting->running report running 2");
	ck_assert_str_eq(seen.log[2], "web running->stopping admin stop 0");
	ck_assert_str_eq(seen.log[3], "web stopping->stopped report stopped 2");
	/* A copy has no hook: what is done to it is not told. */
	ck_assert_int_eq(cd_state_copy(&copy, &s), 0);
	ck_assert_ptr_null(copy.vm_hook);
	ck_assert_int_eq(apply(&copy, "{\"op\":\"vm.start\",\"name\":\"web\"}"), 0);
	ck_assert_int_eq(apply(&copy, "{\"op\":\"vm.place\",\"name\":\"web\",\"node\":1}"), 0);
	ck_assert_int_eq(seen.calls, 4);
	cd_state_free(&copy);
	cd_state_free(&s);
}
END_TEST

/*
 * A node that powered a VM off for a lost storage lease reports it
 * stopped when that VM was being stopped for good there, else failed.
 */
START_TEST(test_lapse_report)
{
	struct cd_state s;
	struct cd_vm *vm;

	setup_state(&s);
	vm = (struct cd_vm *)web(&s);
	vm->state = CD_VM_STOPPING;
	vm->node = 2;
	vm->target_started = false;
	ck_assert_str_eq(cd_vm_lapse_report(vm, 2), "stopped");
	/* The stop finished where it ran: the report ends it as asked. */
	{
		char buf[200];

		snprintf(buf, sizeof(buf),
			 "{\"op\":\"vm.report\",\"name\":\"web\",\"node\":2,\"action_id\":0,"
			 "\"result\":\"%s\",\"error\":\"powered off: its storage lease was lost\"}",
			 cd_vm_lapse_report(vm, 2));
		ck_assert_int_eq(apply(&s, buf), 0);
	}
	ck_assert_int_eq(web(&s)->state, CD_VM_STOPPED);
	ck_assert_uint_eq(web(&s)->node, 0);
	/* Another node, a VM wanted running, a save, a cold move: failed. */
	vm->state = CD_VM_STOPPING;
	vm->node = 2;
	ck_assert_str_eq(cd_vm_lapse_report(vm, 3), "failed");
	vm->target_started = true;
	ck_assert_str_eq(cd_vm_lapse_report(vm, 2), "failed");
	vm->target_started = false;
	vm->stop_save = true;
	ck_assert_str_eq(cd_vm_lapse_report(vm, 2), "failed");
	vm->stop_save = false;
	vm->cold_to = 3;
	ck_assert_str_eq(cd_vm_lapse_report(vm, 2), "failed");
	vm->cold_to = 0;
	vm->state = CD_VM_RUNNING;
	ck_assert_str_eq(cd_vm_lapse_report(vm, 2), "failed");
	ck_assert_str_eq(cd_vm_lapse_report(NULL, 2), "failed");
	cd_state_free(&s);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("vm");

	add_tcase(s, test_add_defaults_and_duplicates);
	add_tcase(s, test_add_identity_unique);
	add_tcase(s, test_identity_upgrade);
	add_tcase(s, test_settings_validated);
	add_tcase(s, test_lifecycle);
	add_tcase(s, test_monitor_failures_counted_per_period);
	add_tcase(s, test_vm_json_roundtrip);
	add_tcase(s, test_cpu_setting);
	{
		TCase *tc = tcase_create("test_lifecycle_table");

		tcase_add_loop_test(tc, test_lifecycle_table, 0,
				    (int)(sizeof(cells) / sizeof(cells[0])));
		suite_add_tcase(s, tc);
	}
	add_tcase(s, test_lifecycle_report_error);
	add_tcase(s, test_lifecycle_stop_force);
	add_tcase(s, test_transition_direct);
	add_tcase(s, test_lifecycle_hook_sees_each_once);
	add_tcase(s, test_lapse_report);
	return run_suite(s);
}
