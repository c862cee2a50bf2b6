/*
 * Unit tests around the placement policy: the text parser's errors (each
 * must name its line, since a person edits these files) and decide's API
 * (bad input, explain, enum names). What decide decides is covered by the
 * golden cases.
 */
#include "config.h"

#include <string.h>

#include <clusterd/result.h>

#include "check_common.h"
#include "policy/policy_text.h"

#define NODES "node n1 id=1 cores=4 memory=4096\nnode n2 id=2 cores=4 memory=4096\n"

static char err[512];

static int parse(const char *text)
{
	struct cd_policy_text t;
	int rc = cd_policy_text_parse(text, &t, err, sizeof(err));

	cd_policy_text_free(&t);
	return rc;
}

/* text must be rejected with a message containing want. */
static void rejects(const char *text, const char *want)
{
	ck_assert_int_eq(parse(text), CD_ERR_INVALID);
	ck_assert_msg(strstr(err, want) != NULL, "error '%s' lacks '%s'", err, want);
}

START_TEST(test_errors_name_the_line)
{
	rejects(NODES "node n3 id=3 cores=4 memory=lots\n",
		"line 3: memory must be a whole number from 0 to");
	rejects("# a comment\n\nnode n1 id=1 cores=4 memory=1 colour=red\n",
		"line 3: unknown key 'colour' for a node");
	rejects("node n1 id=1 memory=1\n", "line 1: node needs cores=");
	rejects(NODES "vm a vcpus=1\n", "line 3: vm needs memory=");
	rejects(NODES "vm a vcpus=1 memory=1 on=n9\n", "line 3: unknown node 'n9'");
	rejects("vm a vcpus=1 memory=1 preferred=n1\n" NODES, "line 1: unknown node 'n1'");
	rejects(NODES "vm a vcpus=1 memory=1 preferred=n1,n1\n",
		"line 3: node 'n1' is listed twice");
	rejects(NODES "node n1 id=7 cores=1 memory=1\n", "line 3: node 'n1' is declared twice");
	rejects(NODES "node n3 id=2 cores=1 memory=1\n", "line 3: node id 2 is taken by 'n2'");
	rejects("node n1 id=0 cores=1 memory=1\n", "line 1: node id 0 is reserved");
	rejects(NODES "vm a vcpus=1 memory=1\nvm a vcpus=1 memory=1\n",
		"line 4: vm 'a' is declared twice");
	rejects(NODES "vm a vcpus=1 memory=1 vcpus=2\n", "line 3: vcpus= given twice");
	rejects(NODES "vm a vcpus=-1 memory=1\n", "line 3: vcpus must be a whole number");
	rejects(NODES "vm a vcpus=4294967296 memory=1\n", "line 3: vcpus must be a whole number");
	rejects(NODES "vm a vcpus=1 memory\n", "line 3: expected key=value, not 'memory'");
	rejects(NODES "vm a vcpus=1 memory=\n", "line 3: expected key=value, not 'memory='");
	rejects(NODES "vm b/c vcpus=1 memory=1\n", "line 3: bad name 'b/c'");
	rejects(NODES "vm a vcpus=1 memory=1 anti=web:sometimes\n", "line 3: anti=CLASS:MODE");
	rejects(NODES "vm a vcpus=1 memory=1 admin_start=maybe\n",
		"line 3: admin_start must be one of yes, no, not 'maybe'");
	rejects(NODES "vm a vcpus=1 memory=1 cpu=Has well\n", "line 3: expected key=value");
	rejects(NODES "vm a vcpus=1 memory=1 preferred=,\n", "line 3: preferred needs at least");
	rejects("bogus x\n", "line 1: unknown statement 'bogus'");
	rejects("node\n", "line 1: 'node' needs an argument");
	rejects(NODES "explain nobody\n", "line 3: explain names an unknown vm 'nobody'");
}
END_TEST

START_TEST(test_enum_errors_list_the_choices)
{
	rejects("node n1 id=1 cores=1 memory=1 state=asleep\n",
		"line 1: state must be one of online, offline, maintenance, fenced, lost, "
		"quarantined, not 'asleep'");
	rejects(NODES "vm a vcpus=1 memory=1 priority=urgent\n",
		"priority must be one of high, medium, low, no-auto-start");
	rejects(NODES "vm a vcpus=1 memory=1 target=paused\n",
		"target must be one of started, stopped");
}
END_TEST

START_TEST(test_time_and_windows)
{
	rejects("time 7:00\n", "line 1: time takes HH:MM, not '7:00'");
	rejects("time 24:00\n", "line 1: time takes HH:MM");
	rejects("time 12:00 13:00\n", "line 1: time takes one argument");
	rejects(NODES "vm a vcpus=1 memory=1 failback=25:00-01:00\n",
		"line 3: failback takes never");
	rejects(NODES "vm a vcpus=1 memory=1 failback=sometimes\n", "line 3: failback takes never");
	rejects(NODES "vm a vcpus=1 memory=1 failback=10:00-10:00\n",
		"line 3: failback window 10:00-10:00 is empty");
}
END_TEST

START_TEST(test_defaults)
{
	struct cd_policy_text t;
	const struct cd_policy_vm *vm;

	ck_assert_int_eq(
		cd_policy_text_parse("time 22:30\n" NODES
				     "node n3 id=3 cores=2 memory=1 cpu=Haswell,qemu64\n"
				     "vm a vcpus=2 memory=512 on=n2 state=failed failures=3 "
				     "limit=3 failback=22:00-06:00 anti=web:soft\n"
				     "explain a\n",
				     &t, err, sizeof(err)),
		0);
	ck_assert_int_eq(t.in.now_minute, 22 * 60 + 30);
	ck_assert_uint_eq(t.in.n_nodes, 3);
	ck_assert_int_eq(t.nodes[0].state, CD_PNODE_ONLINE);
	ck_assert_uint_eq(t.nodes[2].n_cpu_models, 2);
	ck_assert_str_eq(t.nodes[2].cpu_models[1], "qemu64");
	vm = &t.vms[0];
	ck_assert_int_eq(vm->priority, CD_PPRIO_MEDIUM);
	ck_assert_int_eq(vm->target, CD_TARGET_STARTED);
	ck_assert_int_eq(vm->anti, CD_ANTI_SOFT);
	ck_assert_str_eq(vm->anti_class, "web");
	ck_assert_uint_eq(vm->failed_on, 2); /* defaults to on= */
	ck_assert_int_eq(vm->failback.mode, CD_PFAILBACK_WINDOW);
	ck_assert_uint_eq(vm->failback.start, 22 * 60);
	ck_assert_uint_eq(vm->failback.end, 6 * 60);
	ck_assert_uint_eq(t.n_explain, 1);
	cd_policy_text_free(&t);
	cd_policy_text_free(&t); /* freeing twice is harmless */
}
END_TEST

START_TEST(test_decide_rejects_bad_input)
{
	struct cd_policy_node nodes[2] = {{.id = 1, .name = "n1"}, {.id = 1, .name = "n2"}};
	struct cd_policy_vm vm = {.name = "a", .vcpus = 1, .memory_mb = 1, .node = 9};
	struct cd_policy_input in = {nodes, 2, &vm, 1, CD_POLICY_NO_TIME};
	struct cd_policy_result res;

	ck_assert_int_eq(cd_policy_decide(&in, &res), CD_ERR_INVALID);
	ck_assert_str_eq(res.error, "n2: duplicate node id");
	cd_policy_result_free(&res);
	nodes[1].id = 2;
	ck_assert_int_eq(cd_policy_decide(&in, &res), CD_ERR_INVALID);
	ck_assert_str_eq(res.error, "a: names an unknown node id");
	vm.node = 0;
	vm.preferred[0] = 3;
	vm.n_preferred = 1;
	ck_assert_int_eq(cd_policy_decide(&in, &res), CD_ERR_INVALID);
	ck_assert_str_eq(res.error, "a: lists an unknown node id");
	vm.preferred[0] = 2;
	ck_assert_int_eq(cd_policy_decide(&in, &res), 0);
	cd_policy_result_free(&res);
}
END_TEST

START_TEST(test_explain)
{
	struct cd_policy_text t;
	char buf[512];

	ck_assert_int_eq(
		cd_policy_text_parse(NODES "vm a vcpus=1 memory=8192\n", &t, err, sizeof(err)), 0);
	ck_assert_int_eq(cd_policy_explain(&t.in, "b", buf, sizeof(buf)), CD_ERR_NOT_FOUND);
	ck_assert_int_eq(cd_policy_explain(&t.in, "a", buf, sizeof(buf)), 0);
	ck_assert_str_eq(buf, "a is not running: no node fits (capacity); n1 lacks memory "
			      "(needs 8192 MiB, 4096 free); n2 lacks memory (needs 8192 MiB, "
			      "4096 free)");
	/* A short buffer truncates and stays terminated. */
	ck_assert_int_eq(cd_policy_explain(&t.in, "a", buf, 8), 0);
	ck_assert_str_eq(buf, "a is no");
	cd_policy_text_free(&t);
}
END_TEST

/* What a start would do: explained on a copy, the input left as it was. */
START_TEST(test_explain_start)
{
	struct cd_policy_text t;
	char buf[512];

	ck_assert_int_eq(cd_policy_text_parse(NODES
					      "vm a vcpus=1 memory=1024 target=stopped "
					      "preferred=n2\n"
					      "vm b vcpus=1 memory=1024 priority=no-auto-start\n"
					      "vm c vcpus=1 memory=8192 target=stopped\n",
					      &t, err, sizeof(err)),
			 0);
	ck_assert_int_eq(cd_policy_explain(&t.in, "a", buf, sizeof(buf)), 0);
	ck_assert_str_eq(buf, "a is not running: its target is stopped");
	ck_assert_int_eq(cd_policy_explain_start(&t.in, "a", buf, sizeof(buf)), 0);
	ck_assert_str_eq(buf, "a is to start on n2: preferred owner 1 of 1");
	ck_assert_int_eq(t.in.vms[0].target, CD_TARGET_STOPPED);
	ck_assert_int_eq(cd_policy_explain(&t.in, "a", buf, sizeof(buf)), 0);
	ck_assert_str_eq(buf, "a is not running: its target is stopped");
	/* An admin's start overrides no-auto-start. */
	ck_assert_int_eq(cd_policy_explain_start(&t.in, "b", buf, sizeof(buf)), 0);
	ck_assert_str_eq(buf, "b is to start on n1: n1 has the most free memory of the nodes "
			      "that fit");
	ck_assert_int_eq(t.in.vms[1].admin_start, false);
	/* One that fits nowhere says which node lacks what. */
	ck_assert_int_eq(cd_policy_explain_start(&t.in, "c", buf, sizeof(buf)), 0);
	ck_assert_str_eq(buf, "c is not running: no node fits (capacity); n1 lacks memory "
			      "(needs 8192 MiB, 4096 free); n2 lacks memory (needs 8192 MiB, "
			      "4096 free)");
	ck_assert_int_eq(cd_policy_explain_start(&t.in, "d", buf, sizeof(buf)), CD_ERR_NOT_FOUND);
	cd_policy_text_free(&t);
}
END_TEST

/* Decide text: how many VMs start, and the explanation of VM vm into buf. */
static size_t starts(const char *text, const char *vm, char *buf, size_t len)
{
	struct cd_policy_result res;
	struct cd_policy_text t;
	size_t i, n = 0;

	ck_assert_msg(cd_policy_text_parse(text, &t, err, sizeof(err)) == 0, "%s", err);
	ck_assert_int_eq(cd_policy_decide(&t.in, &res), 0);
	for (i = 0; i < res.n_actions; i++)
		n += res.actions[i].type == CD_ACT_START;
	ck_assert_int_eq(cd_policy_explain(&t.in, vm, buf, len), 0);
	cd_policy_result_free(&res);
	cd_policy_text_free(&t);
	return n;
}

/* Nine VMs of 1 vCPU and 256 MiB. */
#define NINE_VMS                                                                                   \
	"vm v1 vcpus=1 memory=256\nvm v2 vcpus=1 memory=256\nvm v3 vcpus=1 memory=256\n"           \
	"vm v4 vcpus=1 memory=256\nvm v5 vcpus=1 memory=256\nvm v6 vcpus=1 memory=256\n"           \
	"vm v7 vcpus=1 memory=256\nvm v8 vcpus=1 memory=256\nvm v9 vcpus=1 memory=256\n"

/* vCPUs are shared at 4 per core unless the input says otherwise. */
START_TEST(test_cpu_overcommit_default)
{
	char buf[512];

	ck_assert_uint_eq(
		starts("node n1 id=1 cores=2 memory=4096\n" NINE_VMS, "v9", buf, sizeof(buf)), 8);
	ck_assert_str_eq(buf, "v9 is not running: no node fits (capacity); n1 lacks vCPUs "
			      "(needs 1, 0 free): it has 2 cores, 8 vCPUs at 4 per core, 8 in use");
	/* Memory stays a hard limit, and explain says it is what binds. */
	ck_assert_uint_eq(
		starts("node n1 id=1 cores=2 memory=2048\n" NINE_VMS, "v9", buf, sizeof(buf)), 8);
	ck_assert_str_eq(buf,
			 "v9 is not running: no node fits (capacity); n1 lacks memory "
			 "(needs 256 MiB, 0 free) and vCPUs (needs 1, 0 free): it has 2 cores, "
			 "8 vCPUs at 4 per core, 8 in use");
	ck_assert_uint_eq(
		starts("node n1 id=1 cores=2 memory=1024\n" NINE_VMS, "v9", buf, sizeof(buf)), 4);
	ck_assert_str_eq(buf, "v9 is not running: no node fits (capacity); n1 lacks memory "
			      "(needs 256 MiB, 0 free)");
}
END_TEST

/* However much room a node has, a VM never gets more vCPUs than it has cores. */
START_TEST(test_vm_wider_than_node)
{
	char buf[512];

	ck_assert_uint_eq(starts("node n1 id=1 cores=1 memory=4096\n"
				 "vm a vcpus=2 memory=256\n",
				 "a", buf, sizeof(buf)),
			  0);
	ck_assert_str_eq(buf, "a is not running: no node fits (capacity); n1 has 1 core, fewer "
			      "than the VM's 2 vCPUs");
	/* Even when it is the node with the most free memory, or preferred. */
	ck_assert_uint_eq(starts("node n1 id=1 cores=1 memory=65536\n"
				 "node n2 id=2 cores=2 memory=1024\n"
				 "vm a vcpus=2 memory=256 preferred=n1\n",
				 "a", buf, sizeof(buf)),
			  1);
	ck_assert_str_eq(buf, "a is to start on n2: no preferred owner can take it, and n2 has "
			      "the most free memory of the nodes that fit; n1 has 1 core, fewer "
			      "than the VM's 2 vCPUs");
	/* Overcommit does not change it. */
	ck_assert_uint_eq(starts("cpu-overcommit 64\nnode n1 id=1 cores=1 memory=4096\n"
				 "vm a vcpus=2 memory=256\n",
				 "a", buf, sizeof(buf)),
			  0);
}
END_TEST

/* cpu-overcommit 1 is the old hard cap; a ratio is floored per node. */
START_TEST(test_cpu_overcommit_ratio)
{
	struct cd_policy_node n = {.id = 1, .cores = 3};
	struct cd_policy_input in = {&n, 1, NULL, 0, CD_POLICY_NO_TIME};
	char buf[512];

	ck_assert_uint_eq(starts("cpu-overcommit 1\nnode n1 id=1 cores=2 memory=4096\n" NINE_VMS,
				 "v3", buf, sizeof(buf)),
			  2);
	ck_assert_str_eq(buf, "v3 is not running: no node fits (capacity); n1 lacks vCPUs "
			      "(needs 1, 0 free): it has 2 cores, 2 vCPUs at 1 per core, 2 in use");
	ck_assert_uint_eq(starts("cpu-overcommit 1.5\nnode n1 id=1 cores=3 memory=4096\n" NINE_VMS,
				 "v5", buf, sizeof(buf)),
			  4);
	ck_assert_str_eq(buf,
			 "v5 is not running: no node fits (capacity); n1 lacks vCPUs "
			 "(needs 1, 0 free): it has 3 cores, 4 vCPUs at 1.5 per core, 4 in use");

	ck_assert_uint_eq(cd_policy_vcpu_cap(&in, &n), 12); /* 0: the default, 4 */
	in.cpu_overcommit_milli = 1000;
	ck_assert_uint_eq(cd_policy_vcpu_cap(&in, &n), 3);
	in.cpu_overcommit_milli = 1250;
	ck_assert_uint_eq(cd_policy_vcpu_cap(&in, &n), 3);
	in.cpu_overcommit_milli = 1334;
	ck_assert_uint_eq(cd_policy_vcpu_cap(&in, &n), 4);

	rejects("cpu-overcommit 0\n", "line 1: cpu-overcommit takes vCPUs per core above 0");
	rejects("cpu-overcommit 1.2345\n", "line 1: cpu-overcommit takes vCPUs per core");
	rejects("cpu-overcommit four\n", "line 1: cpu-overcommit takes vCPUs per core");
	rejects("cpu-overcommit 2 3\n", "line 1: cpu-overcommit takes one argument");
}
END_TEST

START_TEST(test_enum_names_round_trip)
{
	static const int counts[CD_PENUM__COUNT] = {
		[CD_PENUM_NODE_STATE] = CD_PNODE__COUNT, [CD_PENUM_PRIORITY] = CD_PPRIO__COUNT,
		[CD_PENUM_TARGET] = CD_TARGET__COUNT,	 [CD_PENUM_VM_STATE] = CD_PVM__COUNT,
		[CD_PENUM_ANTI] = CD_ANTI__COUNT,	 [CD_PENUM_FAILBACK] = CD_PFAILBACK__COUNT,
		[CD_PENUM_ACTION] = CD_ACT__COUNT,	 [CD_PENUM_UNPLACED] = CD_UNPLACED__COUNT,
	};
	int e, v;

	for (e = 0; e < CD_PENUM__COUNT; e++) {
		for (v = 0; v < counts[e]; v++)
			ck_assert_int_eq(cd_policy_enum_value(e, cd_policy_enum_str(e, v)), v);
		ck_assert_str_eq(cd_policy_enum_str(e, counts[e]), "?");
		ck_assert_int_eq(cd_policy_enum_value(e, "no-such-name"), -1);
	}
}
END_TEST

START_TEST(test_free_accepts_empty)
{
	struct cd_policy_result res;

	memset(&res, 0, sizeof(res));
	cd_policy_result_free(&res);
	cd_policy_result_free(NULL);
	cd_policy_text_free(NULL);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("policy");

	add_tcase(s, test_errors_name_the_line);
	add_tcase(s, test_enum_errors_list_the_choices);
	add_tcase(s, test_time_and_windows);
	add_tcase(s, test_defaults);
	add_tcase(s, test_decide_rejects_bad_input);
	add_tcase(s, test_explain);
	add_tcase(s, test_explain_start);
	add_tcase(s, test_cpu_overcommit_default);
	add_tcase(s, test_vm_wider_than_node);
	add_tcase(s, test_cpu_overcommit_ratio);
	add_tcase(s, test_enum_names_round_trip);
	add_tcase(s, test_free_accepts_empty);
	return run_suite(s);
}
