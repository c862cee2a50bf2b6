/*
 * The preflight of a move (core/move_check.c): each reason alone, several
 * at once all reported, the target placement chooses, the moving VM not
 * counted, the source refused as target, disks outside csvfs, the facts
 * the daemon brings, and the report in words and in JSON.
 */
#include "config.h"

#include <string.h>

#include <clusterd/result.h>

#include "check_common.h"
#include "check_fixture.h"
#include "core/move_check.h"

#define RUN "/run/csvfs"
#define SHARED_DISK "<disk type='block'><source dev='" RUN "/vol1/DISK'/></disk>"

static struct cd_state s;
static struct cd_move_report rep;
static struct cd_move_facts facts;
static char err[512];

/*
 * node1 8 cores 8192 MiB, node2 and node3 4 cores 4096 MiB each; the host
 * models Skylake, Skylake and EPYC, each listing only its own.
 */
static void setup(void)
{
	static const char *const models[] = {"Skylake", "Skylake", "EPYC"};
	size_t i;

	fixture_three_nodes(&s);
	for (i = 0; i < 3; i++) {
		struct cd_capacity *cap = &s.nodes[i].info.cap;

		cap->cores = i == 0 ? 8 : 4;
		cap->memory_mb = i == 0 ? 8192 : 4096;
		strcpy(cap->cpu_model, models[i]);
		strcpy(cap->cpu_models[0], models[i]);
		cap->n_cpu_models = 1;
	}
	memset(&facts, 0, sizeof(facts));
	facts.quorate = true;
	facts.csvfs_run_dir = RUN;
}

static void teardown(void)
{
	cd_state_free(&s);
}

/* VM name to edit. Adding a VM moves the others: take it again after one. */
static struct cd_vm *vm_of(const char *name)
{
	return (struct cd_vm *)cd_state_vm(&s, name);
}

/* Add VM name with the devices devs, in state st on node (0: none); returns it to edit. */
static struct cd_vm *add_vm(const char *name, uint32_t vcpus, uint64_t mem, const char *devs,
			    enum cd_vm_state st, uint32_t node)
{
	struct json_object *c = json_object_new_object();
	char xml[1024];
	struct cd_vm *vm;

	static unsigned serial;

	/* vm.add wants a UUID of its own for every VM. */
	snprintf(xml, sizeof(xml),
		 "<domain><name>%s</name><uuid>00000000-0000-4000-8000-%012u</uuid>"
		 "<devices>%s</devices></domain>",
		 name, ++serial, devs);
	json_object_object_add(c, "op", json_object_new_string("vm.add"));
	json_object_object_add(c, "name", json_object_new_string(name));
	json_object_object_add(c, "xml", json_object_new_string(xml));
	json_object_object_add(c, "vcpus", json_object_new_int64(vcpus));
	json_object_object_add(c, "memory_mb", json_object_new_int64((int64_t)mem));
	ck_assert_msg(cd_state_apply(&s, c, err, sizeof(err)) == 0, "%s", err);
	json_object_put(c);
	vm = vm_of(name);
	vm->state = st;
	vm->node = node;
	vm->target_started = st != CD_VM_STOPPED;
	return vm;
}

/* Set cluster property cpu-overcommit to value, as property.set does. */
static void set_overcommit(const char *value)
{
	char change[256];

	snprintf(change, sizeof(change),
		 "{\"op\": \"property.set\", \"key\": \"cpu-overcommit\", \"value\": \"%s\"}",
		 value);
	ck_assert_msg(fixture_apply(&s, change, err, sizeof(err)) == 0, "%s", err);
}

/* A running VM "web" on node1: 1 vCPU, 1024 MiB, one csvfs disk. */
static struct cd_vm *add_web(void)
{
	return add_vm("web", 1, 1024, SHARED_DISK, CD_VM_RUNNING, 1);
}

static void preflight(const char *vm, const char *target, enum cd_move_mode mode)
{
	ck_assert_int_eq(cd_move_preflight(&s, vm, target, mode, &facts, &rep), 0);
}

/* The report holds exactly the failure codes given, in order (0 ends the list). */
static void failures_are(const enum cd_move_code *want)
{
	size_t i;

	for (i = 0; want[i]; i++) {
		ck_assert_msg(i < rep.n_failures, "failure %zu (%s) missing", i,
			      cd_move_code_to_str(want[i]));
		ck_assert_msg(rep.failures[i].code == want[i], "failure %zu is %s (%s), not %s", i,
			      cd_move_code_to_str(rep.failures[i].code), rep.failures[i].text,
			      cd_move_code_to_str(want[i]));
	}
	ck_assert_msg(rep.n_failures == i, "%zu failures, not %zu; the next: %s", rep.n_failures, i,
		      rep.n_failures > i ? rep.failures[i].text : "");
	ck_assert(!cd_move_report_ok(&rep));
}

/* The report has one failure: code, about node, with text. */
static void fails_with(enum cd_move_code code, const char *node, const char *text)
{
	enum cd_move_code want[2] = {code, 0};

	failures_are(want);
	ck_assert_str_eq(rep.failures[0].node, node);
	ck_assert_str_eq(rep.failures[0].text, text);
}

START_TEST(test_ok)
{
	add_web();
	preflight("web", "node2", CD_MOVE_LIVE);
	ck_assert(cd_move_report_ok(&rep));
	ck_assert_uint_eq(rep.n_failures + rep.n_warnings + rep.n_dropped, 0);
	ck_assert_str_eq(rep.source, "node1");
	ck_assert_uint_eq(rep.source_id, 1);
	ck_assert_str_eq(rep.target, "node2");
	ck_assert_uint_eq(rep.target_id, 2);
	ck_assert(!rep.target_chosen);
}
END_TEST

START_TEST(test_vm_and_cluster_alone)
{
	struct cd_vm *web = add_web();

	facts.quorate = false;
	preflight("web", "node2", CD_MOVE_LIVE);
	fails_with(CD_MOVE_NOT_QUORATE, "",
		   "this node's partition has no quorum: nothing may move");
	facts.quorate = true;

	preflight("nosuch", "node2", CD_MOVE_LIVE);
	fails_with(CD_MOVE_NO_VM, "", "no VM named nosuch");

	web->state = CD_VM_MIGRATING;
	preflight("web", "node2", CD_MOVE_COLD);
	fails_with(CD_MOVE_VM_MOVING, "", "web is moving already (from node1)");

	web->state = CD_VM_STOPPED;
	web->node = 0;
	preflight("web", "node2", CD_MOVE_QUICK);
	fails_with(CD_MOVE_VM_NOT_RUNNING, "",
		   "web is stopped: a quick move needs it running (a cold move takes it stopped)");
	/* Stopped is fine for a cold move; starting is not. */
	preflight("web", "node2", CD_MOVE_COLD);
	ck_assert(cd_move_report_ok(&rep));
	ck_assert_str_eq(rep.source, "");
	web->state = CD_VM_STARTING;
	web->node = 1;
	preflight("web", "node2", CD_MOVE_COLD);
	fails_with(CD_MOVE_VM_BUSY, "", "web is starting: a cold move needs it running or stopped");
}
END_TEST

START_TEST(test_disk_outside_csvfs)
{
	add_vm("db", 1, 512,
	       SHARED_DISK "<disk type='file'><source file='/var/lib/libvirt/images/db.qcow2'/>"
			   "</disk>",
	       CD_VM_RUNNING, 1);
	preflight("db", "node2", CD_MOVE_LIVE);
	fails_with(CD_MOVE_DISK_LOCAL, "",
		   "disk /var/lib/libvirt/images/db.qcow2 is not on a cluster shared volume: it "
		   "is on node1 only");

	add_vm("bad", 1, 512, "<disk type='block'><source dev='" RUN "/a/b/c'/></disk>",
	       CD_VM_RUNNING, 1);
	preflight("bad", "node2", CD_MOVE_LIVE);
	ck_assert_uint_eq(rep.failures[0].code, CD_MOVE_DISKS_UNREADABLE);
}
END_TEST

START_TEST(test_target_alone)
{
	struct cd_node *n3 = &s.nodes[2];

	add_web();
	preflight("web", "node9", CD_MOVE_LIVE);
	fails_with(CD_MOVE_NO_NODE, "node9", "no node named node9");
	ck_assert_uint_eq(rep.target_id, 0);

	preflight("web", "node1", CD_MOVE_LIVE);
	fails_with(CD_MOVE_TARGET_IS_SOURCE, "node1", "web runs on node1 already");

	/* A node that left is said to be no member, not by the policy's state. */
	n3->member = false;
	preflight("web", "node3", CD_MOVE_COLD);
	fails_with(CD_MOVE_NOT_MEMBER, "node3", "node3 is not a cluster member (offline)");
	preflight("nosuch", "node3", CD_MOVE_COLD);
	ck_assert_uint_eq(rep.n_failures, 2);
	ck_assert_uint_eq(rep.failures[1].code, CD_MOVE_NOT_MEMBER);
	n3->member = true;

	n3->maintenance = true;
	preflight("web", "node3", CD_MOVE_COLD);
	fails_with(CD_MOVE_NODE_STATE, "node3", "node3 is in maintenance");
}
END_TEST

/* Each placement rule alone, in the policy's words. */
START_TEST(test_policy_rules_alone)
{
	struct cd_vm *web = add_web();

	ck_assert_int_eq(cd_vm_owners_set(&web->possible, &web->n_possible,
					  (const char *const[]){"node1", "node3"}, 2),
			 0);
	preflight("web", "node2", CD_MOVE_LIVE);
	fails_with(CD_MOVE_NOT_POSSIBLE_OWNER, "node2", "node2 is not a possible owner");
	ck_assert_int_eq(cd_vm_owners_set(&web->possible, &web->n_possible, NULL, 0), 0);

	web->fail_count = 3;
	web->failed_on = 2;
	preflight("web", "node2", CD_MOVE_LIVE);
	fails_with(CD_MOVE_FAILURE_LIMIT, "node2", "node2 is where it failed 3 times (limit 3)");
	web->fail_count = 0;

	strcpy(web->anti_class, "front");
	web->anti_hard = true;
	add_vm("web2", 1, 1, "", CD_VM_RUNNING, 2);
	strcpy(vm_of("web2")->anti_class, "front");
	web = vm_of("web");
	preflight("web", "node2", CD_MOVE_LIVE);
	fails_with(CD_MOVE_ANTI_AFFINITY, "node2",
		   "node2 already runs a VM of class front (hard anti-affinity)");

	/* Soft: a warning, the move may go ahead. */
	web->anti_hard = false;
	preflight("web", "node2", CD_MOVE_LIVE);
	ck_assert(cd_move_report_ok(&rep));
	ck_assert_uint_eq(rep.n_warnings, 1);
	ck_assert_uint_eq(rep.warnings[0].code, CD_MOVE_SOFT_ANTI_AFFINITY);
	ck_assert_str_eq(
		rep.warnings[0].text,
		"node2 runs a VM of class front (soft anti-affinity: placement avoids it)");
	web->anti_class[0] = '\0';

	web->memory_mb = 4096;
	preflight("web", "node2", CD_MOVE_LIVE);
	fails_with(CD_MOVE_MEMORY, "node2", "node2 lacks memory (needs 4096 MiB, 4095 free)");
	web->memory_mb = 1024;

	/* vCPUs are shared at cpu-overcommit (4 per core by default) ... */
	web->vcpus = 4;
	preflight("web", "node2", CD_MOVE_LIVE);
	ck_assert(cd_move_report_ok(&rep));
	set_overcommit("1");
	preflight("web", "node2", CD_MOVE_LIVE);
	fails_with(CD_MOVE_CORES, "node2",
		   "node2 lacks vCPUs (needs 4, 3 free): it has 4 cores, 4 vCPUs at 1 per core, 1 "
		   "in use");
	set_overcommit("1.25");
	preflight("web", "node2", CD_MOVE_LIVE);
	ck_assert(cd_move_report_ok(&rep));

	/* ... but a VM never gets more vCPUs than the node has cores. */
	web->vcpus = 5;
	set_overcommit("64");
	preflight("web", "node2", CD_MOVE_LIVE);
	fails_with(CD_MOVE_CORES, "node2", "node2 has 4 cores, fewer than the VM's 5 vCPUs");
}
END_TEST

/*
 * A host-model VM running on a Skylake keeps its CPU in a live move: the
 * EPYC node cannot take it. A cold move restarts it: any node can.
 */
START_TEST(test_cpu_model_by_mode)
{
	add_vm("hm", 1, 1, "", CD_VM_RUNNING, 1);
	free(vm_of("hm")->xml);
	vm_of("hm")->xml =
		strdup("<domain><name>hm</name><cpu mode='host-model'/><devices/></domain>");
	preflight("hm", "node3", CD_MOVE_LIVE);
	fails_with(CD_MOVE_CPU_MODEL, "node3", "node3 does not support CPU model Skylake");
	preflight("hm", "node2", CD_MOVE_LIVE);
	ck_assert(cd_move_report_ok(&rep));
	preflight("hm", "node3", CD_MOVE_COLD);
	ck_assert(cd_move_report_ok(&rep));
}
END_TEST

START_TEST(test_facts)
{
	static const char *const bridges[] = {"br0", "br1"};
	static const char *const disks[] = {RUN "/vol1/DISK"};

	add_web();
	facts.cpu_compatible = CD_MOVE_CPU_YES;
	preflight("web", "node2", CD_MOVE_LIVE);
	ck_assert(cd_move_report_ok(&rep));

	facts.cpu_compatible = CD_MOVE_CPU_NO;
	facts.cpu_text = "the host CPU lacks avx512f";
	facts.missing_bridges = bridges;
	facts.n_missing_bridges = 2;
	facts.missing_disks = disks;
	facts.n_missing_disks = 1;
	preflight("web", "node2", CD_MOVE_LIVE);
	failures_are((const enum cd_move_code[]){CD_MOVE_CPU_INCOMPATIBLE, CD_MOVE_BRIDGE_MISSING,
						 CD_MOVE_BRIDGE_MISSING, CD_MOVE_DISK_MISSING, 0});
	ck_assert_str_eq(rep.failures[0].text,
			 "node2 cannot run web's CPU: the host CPU lacks avx512f");
	ck_assert_str_eq(rep.failures[1].text, "node2 has no bridge br0");
	ck_assert_str_eq(rep.failures[2].text, "node2 has no bridge br1");
	ck_assert_str_eq(rep.failures[3].text, "node2 cannot reach disk " RUN "/vol1/DISK");
	ck_assert_str_eq(rep.failures[3].node, "node2");
}
END_TEST

/* Every reason at once, each reported: nothing stops at the first. */
START_TEST(test_all_at_once)
{
	struct cd_vm *web =
		add_vm("web", 4, 4096, "<disk type='file'><source file='/srv/web.img'/></disk>",
		       CD_VM_STOPPED, 0);
	static const char *const bridges[] = {"br0"};

	set_overcommit("1"); /* node2's 4 cores run 4 vCPUs, one of them other's */
	s.nodes[1].maintenance = true;
	ck_assert_int_eq(cd_vm_owners_set(&web->possible, &web->n_possible,
					  (const char *const[]){"node3"}, 1),
			 0);
	add_vm("other", 1, 1, "", CD_VM_RUNNING, 2);
	web = vm_of("web");
	facts.quorate = false;
	facts.missing_bridges = bridges;
	facts.n_missing_bridges = 1;
	preflight("web", "node2", CD_MOVE_LIVE);
	failures_are((const enum cd_move_code[]){CD_MOVE_NOT_QUORATE, CD_MOVE_VM_NOT_RUNNING,
						 CD_MOVE_DISK_LOCAL, CD_MOVE_NODE_STATE,
						 CD_MOVE_NOT_POSSIBLE_OWNER, CD_MOVE_MEMORY,
						 CD_MOVE_CORES, CD_MOVE_BRIDGE_MISSING, 0});
	ck_assert_str_eq(
		rep.failures[2].text,
		"disk /srv/web.img is not on a cluster shared volume: it is on one node only");
}
END_TEST

/* Without a target: placement's choice among the other nodes, and why. */
START_TEST(test_target_chosen)
{
	struct cd_vm *web = add_web();

	/* node1 has the most free memory, but web is leaving it. */
	add_vm("big", 1, 1024, "", CD_VM_RUNNING, 2);
	web = vm_of("web");
	preflight("web", NULL, CD_MOVE_LIVE);
	ck_assert(cd_move_report_ok(&rep));
	ck_assert(rep.target_chosen);
	ck_assert_str_eq(rep.target, "node3");
	ck_assert_uint_eq(rep.target_id, 3);
	ck_assert_str_eq(rep.target_why, "node3 has the most free memory of the nodes that fit");

	ck_assert_int_eq(cd_vm_owners_set(&web->preferred, &web->n_preferred,
					  (const char *const[]){"node1", "node2"}, 2),
			 0);
	preflight("web", NULL, CD_MOVE_LIVE);
	ck_assert_str_eq(rep.target, "node2");
	ck_assert_str_eq(rep.target_why, "node2 is preferred owner 2 of 2");

	/* None fits: said, with every other node's reasons. */
	web->memory_mb = 4000;
	s.nodes[2].maintenance = true;
	preflight("web", NULL, CD_MOVE_LIVE);
	failures_are((const enum cd_move_code[]){CD_MOVE_NO_TARGET, CD_MOVE_MEMORY,
						 CD_MOVE_NODE_STATE, 0});
	ck_assert_str_eq(rep.failures[0].text, "no other node fits web");
	ck_assert_str_eq(rep.failures[1].text, "node2 lacks memory (needs 4000 MiB, 3072 free)");
	ck_assert_str_eq(rep.failures[2].node, "node3");
	ck_assert_str_eq(rep.target, "");
}
END_TEST

/* The moving VM's own cores and memory never count against a target. */
START_TEST(test_own_usage_not_counted)
{
	struct cd_vm *web = add_web();

	web->memory_mb = 3000;
	web->vcpus = 3;
	add_vm("small", 1, 1000, "", CD_VM_RUNNING, 2);
	web = vm_of("web");
	preflight("web", "node2", CD_MOVE_LIVE);
	ck_assert(cd_move_report_ok(&rep));
	web->memory_mb = 3097;
	preflight("web", "node2", CD_MOVE_LIVE);
	fails_with(CD_MOVE_MEMORY, "node2", "node2 lacks memory (needs 3097 MiB, 3096 free)");
	/* Stopped, it holds no node: a cold move sees node1 whole too. */
	web->state = CD_VM_STOPPED;
	web->node = 0;
	web->memory_mb = 8192;
	web->vcpus = 8;
	preflight("web", "node1", CD_MOVE_COLD);
	ck_assert(cd_move_report_ok(&rep));
}
END_TEST

/* The report as text, in a string the test frees. */
static char *printed(void)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(cd_move_report_print(f, &rep), 0);
	fclose(f);
	return text;
}

START_TEST(test_render)
{
	struct json_object *o, *f;
	char *text;

	add_web();
	preflight("web", NULL, CD_MOVE_QUICK);
	text = printed();
	ck_assert_str_eq(text,
			 "web: quick move from node1 to node2: can go ahead\n"
			 "  target node2: node2 has the most free memory of the nodes that fit\n");
	free(text);

	s.nodes[1].maintenance = true;
	s.nodes[2].maintenance = true;
	facts.quorate = false;
	preflight("web", NULL, CD_MOVE_LIVE);
	text = printed();
	ck_assert_str_eq(text, "web: live move from node1: refused, 4 reasons\n"
			       "  refused: this node's partition has no quorum: nothing may move "
			       "[not-quorate]\n"
			       "  refused: no other node fits web [no-target]\n"
			       "  refused: node2 is in maintenance [node-state]\n"
			       "  refused: node3 is in maintenance [node-state]\n");
	free(text);

	o = cd_move_report_to_json(&rep);
	ck_assert_ptr_nonnull(o);
	ck_assert_str_eq(json_object_get_string(json_object_object_get(o, "mode")), "live");
	ck_assert_str_eq(json_object_get_string(json_object_object_get(o, "source")), "node1");
	ck_assert_ptr_null(json_object_object_get(o, "target"));
	ck_assert(!json_object_get_boolean(json_object_object_get(o, "ok")));
	f = json_object_object_get(o, "failures");
	ck_assert_uint_eq(json_object_array_length(f), 4);
	ck_assert_str_eq(json_object_get_string(
				 json_object_object_get(json_object_array_get_idx(f, 2), "code")),
			 "node-state");
	ck_assert_str_eq(json_object_get_string(
				 json_object_object_get(json_object_array_get_idx(f, 2), "node")),
			 "node2");
	ck_assert_ptr_null(json_object_object_get(json_object_array_get_idx(f, 0), "node"));
	json_object_put(o);
}
END_TEST

START_TEST(test_code_names)
{
	int c;

	for (c = 1; c < CD_MOVE__COUNT; c++)
		ck_assert_str_ne(cd_move_code_to_str((enum cd_move_code)c), "unknown");
	ck_assert_str_eq(cd_move_code_to_str(CD_MOVE_MEMORY), "memory");
	ck_assert_str_eq(cd_move_code_to_str(CD_MOVE__COUNT), "unknown");
}
END_TEST

int main(void)
{
	const TTest *const tests[] = {
		test_ok,
		test_vm_and_cluster_alone,
		test_disk_outside_csvfs,
		test_target_alone,
		test_policy_rules_alone,
		test_cpu_model_by_mode,
		test_facts,
		test_all_at_once,
		test_target_chosen,
		test_own_usage_not_counted,
		test_render,
		test_code_names,
	};
	Suite *su = suite_create("move_check");
	size_t i;

	/* A case per test, each with a state of its own. */
	for (i = 0; i < sizeof(tests) / sizeof(tests[0]); i++) {
		TCase *tc = tcase_create(tests[i]->name);

		tcase_add_checked_fixture(tc, setup, teardown);
		tcase_add_test(tc, tests[i]);
		suite_add_tcase(su, tc);
	}
	return run_suite(su);
}
