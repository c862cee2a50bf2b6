#include "config.h"

#include <stdio.h>
#include <string.h>

#include <clusterd/result.h>

#include "check_common.h"
#include "clusterd/state.h"

static char err[256];

static int apply(struct cd_state *s, const char *text)
{
	struct json_object *o = json_tokener_parse(text);
	int rc;

	ck_assert_msg(o != NULL, "bad test JSON %s", text);
	rc = cd_state_apply(s, o, err, sizeof(err));
	json_object_put(o);
	return rc;
}

/* A complete identity: a UUID and a MAC for its one interface. */
#define WEB_UUID "6f1d7c2e-0b6a-4f6e-9d1e-3a5b7c9d0e1f"
#define WEB_MAC "52:54:00:aa:bb:01"
#define WEB_XML                                                                            \
	"<domain><name>web</name><uuid>" WEB_UUID "</uuid><devices>"                       \
	"<interface type='bridge'><mac address='" WEB_MAC "'/></interface>"                \
	"</devices></domain>"

/* Three member nodes and one VM "web" (512 MiB, 1 vCPU). */
static void setup_state(struct cd_state *s)
{
	struct cd_node_info m[3];
	int i;

	memset(m, 0, sizeof(m));
	for (i = 0; i < 3; i++) {
		m[i].id = (uint32_t)i + 1;
		snprintf(m[i].name, sizeof(m[i].name), "node%d", i + 1);
		strcpy(m[i].cap.cpu_model, "qemu64");
	}
	cd_state_init(s);
	cd_state_sync_finish(s, m, 3, 1, 0);
	ck_assert_int_eq(apply(s, "{\"op\":\"vm.add\",\"name\":\"web\",\"xml\":\"" WEB_XML "\","
				  "\"vcpus\":1,\"memory_mb\":512}"), 0);
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
				   "\"vcpus\":1,\"memory_mb\":512}"), CD_ERR_EXISTS);
	ck_assert_int_eq(apply(&s, "{\"op\":\"vm.add\",\"name\":\"a b\",\"xml\":\"<domain/>\","
				   "\"vcpus\":1,\"memory_mb\":512}"), CD_ERR_INVALID);
	ck_assert_int_eq(apply(&s, "{\"op\":\"vm.add\",\"name\":\"x\",\"xml\":\"\","
				   "\"vcpus\":1,\"memory_mb\":512}"), CD_ERR_INVALID);
	ck_assert_int_eq(apply(&s, "{\"op\":\"vm.add\",\"name\":\"x\",\"xml\":\"<d/>\","
				   "\"vcpus\":0,\"memory_mb\":512}"), CD_ERR_INVALID);
	ck_assert_uint_eq(s.n_vms, 1);
	cd_state_free(&s);
}
END_TEST

/* vm.add of ADD(name, uuid, mac) */
#define ADD(name, uuid, mac)                                                               \
	"{\"op\":\"vm.add\",\"name\":\"" name "\",\"vcpus\":1,\"memory_mb\":64,"               \
	"\"xml\":\"<domain><name>" name "</name><uuid>" uuid "</uuid><devices>"                 \
	"<interface type='network'><mac address='" mac "'/></interface>"                     \
	"</devices></domain>\"}"

START_TEST(test_add_identity_unique)
{
	struct cd_state s;

	setup_state(&s);
	ck_assert_str_eq(web(&s)->uuid, WEB_UUID);
	/* The same UUID (in other case) or MAC as web's: refused, saying whose. */
	ck_assert_int_eq(apply(&s, ADD("db", "6F1D7C2E-0B6A-4F6E-9D1E-3A5B7C9D0E1F",
				       "52:54:00:aa:bb:02")),
			 CD_ERR_EXISTS);
	ck_assert_ptr_nonnull(strstr(err, "web"));
	ck_assert_int_eq(apply(&s, ADD("db", "00000000-0000-4000-8000-000000000002",
				       "52:54:00:AA:BB:01")),
			 CD_ERR_EXISTS);
	ck_assert_ptr_nonnull(strstr(err, "52:54:00:aa:bb:01"));
	/* An XML that leaves the identity to libvirt: refused. */
	ck_assert_int_eq(apply(&s, "{\"op\":\"vm.add\",\"name\":\"db\",\"vcpus\":1,"
				   "\"memory_mb\":64,\"xml\":\"<domain><name>db</name></domain>\"}"),
			 CD_ERR_INVALID);
	ck_assert_int_eq(apply(&s, "{\"op\":\"vm.add\",\"name\":\"db\",\"vcpus\":1,"
				   "\"memory_mb\":64,\"xml\":\"<domain><name>db</name><uuid>"
				   "00000000-0000-4000-8000-000000000002</uuid><devices>"
				   "<interface type='network'/></devices></domain>\"}"),
			 CD_ERR_INVALID);
	ck_assert_uint_eq(s.n_vms, 1);
	ck_assert_int_eq(apply(&s, ADD("db", "00000000-0000-4000-8000-000000000002",
				       "52:54:00:aa:bb:02")),
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
	ck_assert_int_eq(apply(&t, ADD("db", "00000000-0000-4000-8000-000000000002",
				       "52:54:00:00:00:07")),
			 CD_ERR_EXISTS);
#define IDENT(uuid, mac1, mac2)                                                            \
	snprintf(change, sizeof(change),                                                   \
		 "{\"op\":\"vm.identity\",\"name\":\"old\",\"xml\":\"<domain><name>old</name>"   \
		 "<uuid>%s</uuid><devices><interface type='network'><mac address='%s'/>"    \
		 "</interface><interface type='network'><mac address='%s'/></interface>"    \
		 "</devices></domain>\"}",                                                  \
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
#define SET(k, v) apply(&s, "{\"op\":\"vm.set\",\"name\":\"web\",\"key\":\"" k "\",\"value\":\"" v "\"}")
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
	ck_assert_int_eq(apply(&s, "{\"op\":\"vm.place\",\"name\":\"web\",\"node\":2}"), CD_ERR_INVALID);
	ck_assert_int_eq(apply(&s, "{\"op\":\"vm.start\",\"name\":\"web\"}"), 0);
	ck_assert_int_eq(apply(&s, "{\"op\":\"vm.place\",\"name\":\"web\",\"node\":9}"), CD_ERR_INVALID);
	ck_assert_int_eq(apply(&s, "{\"op\":\"vm.place\",\"name\":\"web\",\"node\":2}"), 0);
	a1 = web(&s)->action_id;
	ck_assert_int_eq(web(&s)->state, CD_VM_STARTING);
	ck_assert_uint_eq(web(&s)->node, 2);
	/* Placed twice: refused. */
	ck_assert_int_eq(apply(&s, "{\"op\":\"vm.place\",\"name\":\"web\",\"node\":1}"), CD_ERR_INVALID);
	/* A report from another node or of another action is stale. */
	ck_assert_int_eq(apply(&s, "{\"op\":\"vm.report\",\"name\":\"web\",\"node\":1,\"action_id\":0,\"result\":\"running\"}"), CD_ERR_INVALID);
	ck_assert_int_eq(apply(&s, "{\"op\":\"vm.report\",\"name\":\"web\",\"node\":2,\"action_id\":999,\"result\":\"running\"}"), CD_ERR_INVALID);
	{
		char buf[200];

		snprintf(buf, sizeof(buf), "{\"op\":\"vm.report\",\"name\":\"web\",\"node\":2,\"action_id\":%llu,\"result\":\"running\"}", (unsigned long long)a1);
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

		snprintf(buf, sizeof(buf), "{\"op\":\"vm.report\",\"name\":\"web\",\"node\":2,\"action_id\":%llu,\"result\":\"stopped\"}", (unsigned long long)a2);
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
		snprintf(buf, sizeof(buf), "{\"op\":\"vm.report\",\"name\":\"web\",\"node\":1,\"action_id\":0,\"result\":\"failed\",\"error\":\"qemu died\",\"wall_ms\":%d}", 1000 + i);
		ck_assert_int_eq(apply(&s, buf), 0);
		ck_assert_int_eq(web(&s)->state, CD_VM_FAILED);
		ck_assert_uint_eq(web(&s)->node, 0);
		ck_assert_uint_eq(web(&s)->fail_count, (unsigned)i + 1);
		ck_assert_uint_eq(web(&s)->failed_on, 1);
	}
	ck_assert_str_eq(web(&s)->last_error, "qemu died");
	/* A failure after the period starts counting again. */
	ck_assert_int_eq(apply(&s, "{\"op\":\"vm.place\",\"name\":\"web\",\"node\":1}"), 0);
	ck_assert_int_eq(apply(&s, "{\"op\":\"vm.report\",\"name\":\"web\",\"node\":1,\"action_id\":0,\"result\":\"failed\",\"wall_ms\":99999999}"), 0);
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
	apply(&s, "{\"op\":\"vm.set\",\"name\":\"web\",\"key\":\"failback\",\"value\":\"22:00-06:00\"}");
	apply(&s, "{\"op\":\"vm.set\",\"name\":\"web\",\"key\":\"preferred-owners\",\"value\":\"node3\"}");
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
	return run_suite(s);
}
