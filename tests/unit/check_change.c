/*
 * The table of changes (change.c): its ops, as on the wire, and the rules
 * on who may send a change that cd_state_apply_from() enforces.
 */
#include "config.h"

#include <string.h>

#include <clusterd/result.h>

#include "check_common.h"
#include "check_fixture.h"
#include "core/change.h"
#include "core/state.h"
#include "lib/util.h"

static char err[256];
/* The state of the tests on senders (setup_state()). */
static struct cd_state st;

/* Apply text as a change that sender multicast (0: unchecked). */
static int apply_from(struct cd_state *s, uint32_t sender, const char *text)
{
	return fixture_apply_from(s, sender, text, err, sizeof(err));
}

/* The checksum of st, as the members compare it: of its canonical JSON. */
static void checksum(char sum[65])
{
	struct json_object *o = cd_state_to_json(&st);
	const char *t = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);

	cd_sha256_hex(t, strlen(t), sum);
	json_object_put(o);
}

/* Refused with code, and st is as it was, to the byte. */
static void refused(uint32_t sender, const char *text, int code)
{
	char before[65], after[65];
	uint64_t seq = st.version.seq;

	checksum(before);
	ck_assert_int_eq(apply_from(&st, sender, text), code);
	ck_assert_msg(err[0] != '\0', "no error text for %s", text);
	checksum(after);
	ck_assert_str_eq(before, after);
	ck_assert_uint_eq(st.version.seq, seq);
}

/* Members node1, node2 and node3; VM "web", to be started; volume "vol1". */
static void setup_state(void)
{
	struct cd_node_info m[3] = {
		{.id = 1, .name = "node1"}, {.id = 2, .name = "node2"}, {.id = 3, .name = "node3"}};

	cd_state_init(&st);
	cd_state_sync_finish(&st, m, 3, 1, 0);
	ck_assert_int_eq(apply_from(&st, 1,
				    "{\"op\":\"vm.add\",\"name\":\"web\",\"vcpus\":1,"
				    "\"memory_mb\":64,\"xml\":\"<domain><name>web</name><uuid>"
				    "00000000-0000-4000-8000-00000000000a</uuid></domain>\"}"),
			 0);
	ck_assert_int_eq(apply_from(&st, 3, "{\"op\":\"vm.start\",\"name\":\"web\"}"), 0);
	ck_assert_int_eq(
		apply_from(&st, 2,
			   "{\"op\":\"volume.add\",\"name\":\"vol1\",\"device\":\"/dev/lun\","
			   "\"uuid\":\"u1\",\"hosts\":8,\"expiry_ms\":8000,"
			   "\"renewal_ms\":1000}"),
		0);
}

static void free_state(void)
{
	cd_state_free(&st);
}

/* From the coordinator, node 1, but in test_recorded_senders_not_enforced. */
#define PLACE_ON_NODE2 "{\"op\":\"vm.place\",\"name\":\"web\",\"node\":2}"
#define REPORT_BY_NODE2                                                                            \
	"{\"op\":\"vm.report\",\"name\":\"web\",\"node\":2,\"action_id\":0,"                       \
	"\"result\":\"running\"}"
#define COORDINATOR_NODE2 "{\"op\":\"volume.coordinator\",\"name\":\"vol1\",\"node\":2}"

/* The ops are the wire format: old and new members must read the same ones. */
START_TEST(test_names_on_the_wire)
{
	static const struct {
		enum cd_change kind;
		const char *op;
	} wire[] = {
		{CD_CHANGE_PROPERTY_SET, "property.set"},
		{CD_CHANGE_PROPERTY_DELETE, "property.delete"},
		{CD_CHANGE_NODE_MAINTENANCE, "node.maintenance"},
		{CD_CHANGE_NODE_REMOVE, "node.remove"},
		{CD_CHANGE_NODE_DEAD, "node.dead"},
		{CD_CHANGE_NODE_QUARANTINE, "node.quarantine"},
		{CD_CHANGE_FENCE_ADD, "fence.add"},
		{CD_CHANGE_FENCE_REMOVE, "fence.remove"},
		{CD_CHANGE_VM_ADD, "vm.add"},
		{CD_CHANGE_VM_REMOVE, "vm.remove"},
		{CD_CHANGE_VM_START, "vm.start"},
		{CD_CHANGE_VM_STOP, "vm.stop"},
		{CD_CHANGE_VM_SET, "vm.set"},
		{CD_CHANGE_VM_PLACE, "vm.place"},
		{CD_CHANGE_VM_REPORT, "vm.report"},
		{CD_CHANGE_VM_IDENTITY, "vm.identity"},
		{CD_CHANGE_VOLUME_ADD, "volume.add"},
		{CD_CHANGE_VOLUME_REMOVE, "volume.remove"},
		{CD_CHANGE_VOLUME_REQUEST, "volume.request"},
		{CD_CHANGE_VOLUME_DONE, "volume.done"},
		{CD_CHANGE_VOLUME_COORDINATOR, "volume.coordinator"},
		{CD_CHANGE_VM_MOVE, "vm.move"},
		{CD_CHANGE_VM_MOVE_STEP, "vm.move.step"},
		{CD_CHANGE_VM_MOVE_CANCEL, "vm.move.cancel"},
		{CD_CHANGE_VM_RESTORED, "vm.restored"},
		{CD_CHANGE_NODE_DRAIN, "node.drain"},
		{CD_CHANGE_NODE_DRAIN_END, "node.drain.end"},
		{CD_CHANGE_NODE_DRAIN_CANCEL, "node.drain.cancel"},
		{CD_CHANGE_NODE_RESUME, "node.resume"},
		{CD_CHANGE_MAINT_ADD, "maintenance.add"},
		{CD_CHANGE_MAINT_REMOVE, "maintenance.remove"},
		{CD_CHANGE_MAINT_CANCEL, "maintenance.cancel"},
		{CD_CHANGE_MAINT_RUN, "maintenance.run"},
		{CD_CHANGE_MAINT_STEP, "maintenance.step"},
		{CD_CHANGE_MAINT_HOOK, "maintenance.hook"},
		{CD_CHANGE_VM_IMPORT, "vm.import"},
	};
	size_t i;

	ck_assert_uint_eq(sizeof(wire) / sizeof(wire[0]), CD_CHANGE_COUNT);
	for (i = 0; i < sizeof(wire) / sizeof(wire[0]); i++)
		ck_assert_str_eq(cd_change_name(wire[i].kind), wire[i].op);
}
END_TEST

/* Every kind has a row, a name no other has, and comes back from its name. */
START_TEST(test_unique_names_round_trip)
{
	enum cd_change back;
	size_t i, j;

	for (i = 0; i < CD_CHANGE_COUNT; i++) {
		const struct cd_change_row *row = cd_change_row((enum cd_change)i);
		const char *name = cd_change_name((enum cd_change)i);

		ck_assert_ptr_nonnull(row);
		ck_assert_ptr_nonnull(row->apply);
		ck_assert_ptr_nonnull(name);
		ck_assert_int_eq(cd_change_lookup(name, &back), 0);
		ck_assert_int_eq(back, i);
		for (j = 0; j < i; j++)
			ck_assert_str_ne(cd_change_name((enum cd_change)j), name);
	}
	ck_assert_ptr_null(cd_change_name((enum cd_change)CD_CHANGE_COUNT));
	ck_assert_ptr_null(cd_change_row((enum cd_change)CD_CHANGE_COUNT));
	ck_assert_int_eq(cd_change_lookup("no.such.op", &back), CD_ERR_NOT_FOUND);
	ck_assert_int_eq(cd_change_lookup("vm.REPORT", &back), CD_ERR_NOT_FOUND);
	ck_assert_int_eq(cd_change_lookup(NULL, &back), CD_ERR_NOT_FOUND);
}
END_TEST

/* Only the node a report names may send it: another's changes nothing. */
START_TEST(test_report_from_another_node)
{
	ck_assert_int_eq(apply_from(&st, 1, PLACE_ON_NODE2), 0);
	refused(3, REPORT_BY_NODE2, CD_ERR_INVALID);
	ck_assert_msg(strstr(err, "node 2 (node2)") && strstr(err, "node 3 (node3)"),
		      "both nodes not named: %s", err);
	refused(1, REPORT_BY_NODE2, CD_ERR_INVALID);
	/* A node the state does not know is named by its id. */
	refused(9, REPORT_BY_NODE2, CD_ERR_INVALID);
	ck_assert_msg(strstr(err, "node 9") != NULL, "sender not named: %s", err);
	ck_assert_int_eq(cd_state_vm(&st, "web")->state, CD_VM_STARTING);
	/* From the node it names it is applied. */
	ck_assert_int_eq(apply_from(&st, 2, REPORT_BY_NODE2), 0);
	ck_assert_int_eq(cd_state_vm(&st, "web")->state, CD_VM_RUNNING);
	/* A report without its node is refused as malformed, as before. */
	refused(2, "{\"op\":\"vm.report\",\"name\":\"web\",\"action_id\":0,\"result\":\"stopped\"}",
		CD_ERR_INVALID);
}
END_TEST

/* Only the node that says it coordinates a volume may say so. */
START_TEST(test_volume_coordinator_from_another_node)
{
	refused(1, COORDINATOR_NODE2, CD_ERR_INVALID);
	ck_assert_msg(strstr(err, "node 2 (node2)") && strstr(err, "node 1 (node1)"),
		      "both nodes not named: %s", err);
	ck_assert_uint_eq(cd_state_volume(&st, "vol1")->coordinator, 0);
	ck_assert_int_eq(apply_from(&st, 2, COORDINATOR_NODE2), 0);
	ck_assert_uint_eq(cd_state_volume(&st, "vol1")->coordinator, 2);
}
END_TEST

/* Sender 0, and cd_state_apply(), check no sender. */
START_TEST(test_sender_zero_unchecked)
{
	struct json_object *o;

	ck_assert_int_eq(apply_from(&st, 1, PLACE_ON_NODE2), 0);
	ck_assert_int_eq(apply_from(&st, 0, REPORT_BY_NODE2), 0);
	ck_assert_int_eq(cd_state_vm(&st, "web")->state, CD_VM_RUNNING);
	o = json_tokener_parse(COORDINATOR_NODE2);
	ck_assert_int_eq(cd_state_apply(&st, o, err, sizeof(err)), 0);
	json_object_put(o);
	ck_assert_uint_eq(cd_state_volume(&st, "vol1")->coordinator, 2);
}
END_TEST

/*
 * The senders the table only records: a placement or a file result from
 * another node than the coordinator is applied (a coordinator that hands a
 * volume over must still record the result of what it carried out).
 */
START_TEST(test_recorded_senders_not_enforced)
{
	ck_assert_int_eq(apply_from(&st, 3, COORDINATOR_NODE2), CD_ERR_INVALID);
	ck_assert_int_eq(apply_from(&st, 2, COORDINATOR_NODE2), 0);
	ck_assert_int_eq(apply_from(&st, 1,
				    "{\"op\":\"volume.request\",\"name\":\"vol1\",\"id\":7,"
				    "\"node\":1,\"fop\":\"create\",\"file\":\"disk1\","
				    "\"size\":1048576}"),
			 0);
	ck_assert_int_eq(apply_from(&st, 3,
				    "{\"op\":\"volume.done\",\"name\":\"vol1\",\"id\":7,\"rc\":0,"
				    "\"error\":\"\",\"meta_generation\":1,\"files\":[]}"),
			 0);
	ck_assert_ptr_nonnull(cd_volume_result(cd_state_volume(&st, "vol1"), 7));
	ck_assert_int_eq(apply_from(&st, 3, PLACE_ON_NODE2), 0);
	ck_assert_uint_eq(cd_state_vm(&st, "web")->node, 2);
}
END_TEST

/* An unknown op is refused, from a sender or not, and changes nothing. */
START_TEST(test_unknown_op_refused)
{
	refused(2, "{\"op\":\"no.such.op\",\"node\":2}", CD_ERR_PROTOCOL);
	ck_assert_str_eq(err, "unknown change 'no.such.op'");
	refused(0, "{\"op\":\"no.such.op\"}", CD_ERR_PROTOCOL);
	refused(2, "{\"node\":2}", CD_ERR_PROTOCOL);
}
END_TEST

static struct json_object *parsed(const char *text)
{
	struct json_object *o = json_tokener_parse(text);

	ck_assert_ptr_nonnull(o);
	return o;
}

static bool needs(const char *text)
{
	struct json_object *o = parsed(text);
	bool r = cd_change_needs_decision(&st, o);

	json_object_put(o);
	return r;
}

/* What the coordinator need not decide again for, and what it must. */
START_TEST(test_needs_decision)
{
	/* A property nothing decides by; one the decisions read. */
	ck_assert(!needs("{\"op\":\"property.set\",\"key\":\"site.note\",\"value\":\"x\"}"));
	ck_assert(!needs("{\"op\":\"property.delete\",\"key\":\"site.note\"}"));
	ck_assert(
		needs("{\"op\":\"property.set\",\"key\":\"drain-max-parallel\",\"value\":\"2\"}"));
	ck_assert(needs("{\"op\":\"property.set\"}"));
	/* A VM added stopped, and set while stopped; removed. */
	ck_assert_int_eq(apply_from(&st, 1,
				    "{\"op\":\"vm.add\",\"name\":\"db\",\"vcpus\":1,"
				    "\"memory_mb\":64,\"xml\":\"<domain><name>db</name><uuid>"
				    "00000000-0000-4000-8000-00000000000b</uuid></domain>\"}"),
			 0);
	ck_assert(!needs("{\"op\":\"vm.add\",\"name\":\"db\"}"));
	ck_assert(!needs("{\"op\":\"vm.set\",\"name\":\"db\",\"key\":\"priority\"}"));
	ck_assert(!needs("{\"op\":\"vm.remove\",\"name\":\"db\"}"));
	/* "web" is wanted running: a setting of it may move it. */
	ck_assert(needs("{\"op\":\"vm.set\",\"name\":\"web\",\"key\":\"priority\"}"));
	/* Once wanted running, "db" counts too. */
	ck_assert_int_eq(apply_from(&st, 1, "{\"op\":\"vm.start\",\"name\":\"db\"}"), 0);
	ck_assert(needs("{\"op\":\"vm.set\",\"name\":\"db\",\"key\":\"priority\"}"));
	/* A VM the state does not hold, and every other kind of change. */
	ck_assert(needs("{\"op\":\"vm.set\",\"name\":\"nosuch\"}"));
	ck_assert(needs("{\"op\":\"vm.start\",\"name\":\"db\"}"));
	ck_assert(needs("{\"op\":\"vm.report\",\"name\":\"web\"}"));
	ck_assert(needs("{\"op\":\"node.maintenance\",\"name\":\"node1\"}"));
	ck_assert(needs("{\"name\":\"web\"}"));
}
END_TEST

/* scope of text, its VM's name (if any) copied into vm */
static enum cd_change_scope scope(const char *text, char *vm, size_t len)
{
	struct json_object *o = parsed(text);
	const char *name;
	enum cd_change_scope r = cd_change_scope(&st, o, &name);

	cd_strlcpy(vm, name ? name : "", len);
	json_object_put(o);
	return r;
}

/* What a change can have altered, for a node's own work after a batch. */
START_TEST(test_scope)
{
	char vm[64];

	/* A property nothing reads touches nothing; one some code reads, anything. */
	ck_assert_int_eq(scope("{\"op\":\"property.set\",\"key\":\"site.note\"}", vm, sizeof(vm)),
			 CD_SCOPE_NONE);
	ck_assert_str_eq(vm, "");
	ck_assert_int_eq(
		scope("{\"op\":\"property.delete\",\"key\":\"migration-network\"}", vm, sizeof(vm)),
		CD_SCOPE_ANY);
	ck_assert_int_eq(scope("{\"op\":\"property.set\"}", vm, sizeof(vm)), CD_SCOPE_ANY);
	/* A VM that runs nowhere and is not to run: only it, by name. */
	ck_assert_int_eq(apply_from(&st, 1,
				    "{\"op\":\"vm.add\",\"name\":\"db\",\"vcpus\":1,"
				    "\"memory_mb\":64,\"xml\":\"<domain><name>db</name><uuid>"
				    "00000000-0000-4000-8000-00000000000b</uuid></domain>\"}"),
			 0);
	ck_assert_int_eq(scope("{\"op\":\"vm.add\",\"name\":\"db\"}", vm, sizeof(vm)), CD_SCOPE_VM);
	ck_assert_str_eq(vm, "db");
	ck_assert_int_eq(scope("{\"op\":\"vm.set\",\"name\":\"db\"}", vm, sizeof(vm)), CD_SCOPE_VM);
	ck_assert_int_eq(scope("{\"op\":\"vm.remove\",\"name\":\"gone\"}", vm, sizeof(vm)),
			 CD_SCOPE_VM);
	ck_assert_str_eq(vm, "gone");
	/* Placed, wanted running, unknown, nameless, or another kind: anything. */
	ck_assert_int_eq(scope("{\"op\":\"vm.set\",\"name\":\"web\"}", vm, sizeof(vm)),
			 CD_SCOPE_ANY);
	ck_assert_str_eq(vm, "");
	ck_assert_int_eq(apply_from(&st, 1, "{\"op\":\"vm.start\",\"name\":\"db\"}"), 0);
	ck_assert_int_eq(scope("{\"op\":\"vm.set\",\"name\":\"db\"}", vm, sizeof(vm)),
			 CD_SCOPE_ANY);
	ck_assert_int_eq(scope("{\"op\":\"vm.set\",\"name\":\"nosuch\"}", vm, sizeof(vm)),
			 CD_SCOPE_ANY);
	ck_assert_int_eq(scope("{\"op\":\"vm.remove\"}", vm, sizeof(vm)), CD_SCOPE_ANY);
	ck_assert_int_eq(scope("{\"op\":\"vm.report\",\"name\":\"web\"}", vm, sizeof(vm)),
			 CD_SCOPE_ANY);
	ck_assert_int_eq(scope("{\"name\":\"web\"}", vm, sizeof(vm)), CD_SCOPE_ANY);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("change");
	TCase *tc;

	add_tcase(s, test_names_on_the_wire);
	add_tcase(s, test_unique_names_round_trip);
	tc = tcase_create("senders");
	tcase_add_checked_fixture(tc, setup_state, free_state);
	tcase_add_test(tc, test_report_from_another_node);
	tcase_add_test(tc, test_volume_coordinator_from_another_node);
	tcase_add_test(tc, test_sender_zero_unchecked);
	tcase_add_test(tc, test_recorded_senders_not_enforced);
	tcase_add_test(tc, test_unknown_op_refused);
	tcase_add_test(tc, test_needs_decision);
	tcase_add_test(tc, test_scope);
	suite_add_tcase(s, tc);
	return run_suite(s);
}
