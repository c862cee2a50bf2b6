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
	ck_assert_int_eq(apply(s, "{\"op\":\"vm.add\",\"name\":\"web\",\"xml\":\"<domain/>\","
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
	ck_assert_int_eq(apply(&s, "{\"op\":\"vm.add\",\"name\":\"web\",\"xml\":\"<domain/>\","
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
	ck_assert_str_eq(cd_state_vm(&back, "web")->xml, "<domain/>");
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
	add_tcase(s, test_settings_validated);
	add_tcase(s, test_lifecycle);
	add_tcase(s, test_monitor_failures_counted_per_period);
	add_tcase(s, test_vm_json_roundtrip);
	return run_suite(s);
}
