/*
 * One VM against one node (policy/fit.h): every rule a node breaks is
 * reported, not only the first; free room counts what placement counts but
 * never the VM itself; the node chosen for a VM that leaves its own is
 * placement's choice among the others.
 */
#include "config.h"

#include <string.h>

#include <clusterd/result.h>

#include "check_common.h"
#include "policy/fit.h"
#include "policy/policy_text.h"

#define B(e) CD_POLICY_EXCL_BIT(e)

/* Three nodes of 4 cores and 4096 MiB; n2 runs Haswell, the others qemu64. */
#define NODES                                                                                      \
	"node n1 id=1 cores=4 memory=4096 cpu=qemu64\n"                                            \
	"node n2 id=2 cores=4 memory=4096 cpu=Haswell\n"                                           \
	"node n3 id=3 cores=4 memory=4096 cpu=qemu64\n"

static struct cd_policy_text t;
static char err[256];

static size_t vm_index(const char *name)
{
	size_t i;

	for (i = 0; i < t.in.n_vms; i++)
		if (strcmp(t.vms[i].name, name) == 0)
			return i;
	ck_abort_msg("no vm %s", name);
	return 0;
}

static void load(const char *text)
{
	cd_policy_text_free(&t);
	ck_assert_msg(cd_policy_text_parse(text, &t, err, sizeof(err)) == 0, "%s", err);
}

/* The fit of VM vm on node id node of the loaded text. */
static struct cd_policy_fit fit(const char *vm, uint32_t node)
{
	struct cd_policy_fit f;

	ck_assert_msg(cd_policy_fit_node(&t.in, vm_index(vm), node, &f, err, sizeof(err)) == 0,
		      "%s", err);
	return f;
}

static const char *text(const char *vm, const struct cd_policy_fit *f, enum cd_policy_excl e)
{
	static char buf[256];

	cd_policy_fit_text(&t.in, vm_index(vm), f, e, buf, sizeof(buf));
	return buf;
}

static void teardown(void)
{
	cd_policy_text_free(&t);
}

/* A VM that moves holds room on both ends until its move ends. */
START_TEST(test_moving_vm_holds_its_target)
{
	struct cd_policy_fit f;

	load(NODES "vm a vcpus=2 memory=3072 state=migrating on=n1\n"
		   "vm b vcpus=1 memory=2048 state=stopped target=started\n");
	f = fit("b", 3);
	ck_assert_uint_eq(f.fails, 0);
	ck_assert_uint_eq(f.free_memory_mb, 4096);
	t.vms[vm_index("a")].move_to = 3;
	f = fit("b", 3);
	ck_assert_uint_eq(f.free_memory_mb, 1024);
	ck_assert_uint_eq(f.free_vcpus, 14); /* 4 cores at the default 4 per core, 2 held */
	ck_assert_uint_eq(f.used_vcpus, 2);
	ck_assert(f.fails & B(CD_EXCL_MEMORY));
	f = fit("b", 1);
	ck_assert_uint_eq(f.free_memory_mb, 1024);
	/* Not once it runs: the move is over. */
	t.vms[vm_index("a")].state = CD_PVM_RUNNING;
	f = fit("b", 3);
	ck_assert_uint_eq(f.free_memory_mb, 4096);
}
END_TEST

START_TEST(test_fits)
{
	struct cd_policy_fit f;

	load(NODES "vm a vcpus=2 memory=1024 state=running on=n1\n");
	f = fit("a", 3);
	ck_assert_uint_eq(f.fails, 0);
	ck_assert(!f.soft_clash && !f.here);
	ck_assert_uint_eq(f.free_vcpus, 16);
	ck_assert_uint_eq(f.free_memory_mb, 4096);
}
END_TEST

/* Each rule alone on n3 for VM a, with its words. */
static const struct {
	const char *text;
	enum cd_policy_excl rule;
	const char *words;
} alone[] = {
	{NODES "vm a vcpus=1 memory=1 possible=n1,n2 state=running on=n1\n", CD_EXCL_NOT_POSSIBLE,
	 "n3 is not a possible owner"},
	{NODES "vm a vcpus=1 memory=1 cpu=Haswell state=running on=n2\n", CD_EXCL_CPU_MODEL,
	 "n3 does not support CPU model Haswell"},
	{NODES "vm a vcpus=1 memory=1 state=running on=n1 failures=3 limit=3 failed_on=n3\n",
	 CD_EXCL_FAILURES, "n3 is where it failed 3 times (limit 3)"},
	{NODES "vm a vcpus=1 memory=1 anti=db:hard state=running on=n1\n"
	       "vm b vcpus=1 memory=1 anti=db:hard state=running on=n3\n",
	 CD_EXCL_ANTI_HARD, "n3 already runs a VM of class db (hard anti-affinity)"},
	{NODES "vm a vcpus=1 memory=1024 state=running on=n1\n"
	       "vm b vcpus=1 memory=3584 state=running on=n3\n",
	 CD_EXCL_MEMORY, "n3 lacks memory (needs 1024 MiB, 512 free)"},
	{NODES "vm a vcpus=2 memory=1 state=running on=n1\n"
	       "vm b vcpus=4 memory=1 state=running on=n3\n"
	       "vm c vcpus=4 memory=1 state=running on=n3\n"
	       "vm d vcpus=4 memory=1 state=running on=n3\n"
	       "vm e vcpus=3 memory=1 state=running on=n3\n",
	 CD_EXCL_CORES,
	 "n3 lacks vCPUs (needs 2, 1 free): it has 4 cores, 16 vCPUs at 4 per core, 15 in use"},
	{NODES "vm a vcpus=5 memory=1 state=running on=n1\n", CD_EXCL_FEW_CORES,
	 "n3 has 4 cores, fewer than the VM's 5 vCPUs"},
};

START_TEST(test_each_rule_alone)
{
	static const char *const states[] = {"offline", "maintenance", "fenced", "lost",
					     "quarantined"};
	char text_in[512];
	struct cd_policy_fit f;
	size_t i;

	for (i = 0; i < sizeof(states) / sizeof(states[0]); i++) {
		snprintf(text_in, sizeof(text_in),
			 "node n1 id=1 cores=4 memory=4096\nnode n2 id=2 cores=4 memory=4096 "
			 "state=%s\nvm a vcpus=1 memory=1 state=running on=n1\n",
			 states[i]);
		load(text_in);
		f = fit("a", 2);
		ck_assert_uint_eq(f.fails, B(CD_EXCL_NODE_STATE));
	}
	ck_assert_str_eq(text("a", &f, CD_EXCL_NODE_STATE), "n2 is quarantined");

	for (i = 0; i < sizeof(alone) / sizeof(alone[0]); i++) {
		load(alone[i].text);
		f = fit("a", 3);
		ck_assert_uint_eq(f.fails, B(alone[i].rule));
		ck_assert_str_eq(text("a", &f, alone[i].rule), alone[i].words);
	}
}
END_TEST

START_TEST(test_every_rule_reported)
{
	struct cd_policy_fit f;

	load("cpu-overcommit 1\n"
	     "node n1 id=1 cores=4 memory=4096\n"
	     "node n2 id=2 cores=1 memory=512 state=maintenance\n"
	     "vm a vcpus=2 memory=1024 cpu=Haswell possible=n1 anti=db:hard state=running on=n1 "
	     "failures=3 limit=3 failed_on=n2\n"
	     "vm b vcpus=1 memory=1 anti=db:hard state=running on=n2\n");
	f = fit("a", 2);
	ck_assert_uint_eq(f.fails, B(CD_EXCL_NODE_STATE) | B(CD_EXCL_NOT_POSSIBLE) |
					   B(CD_EXCL_CPU_MODEL) | B(CD_EXCL_FAILURES) |
					   B(CD_EXCL_ANTI_HARD) | B(CD_EXCL_FEW_CORES) |
					   B(CD_EXCL_MEMORY) | B(CD_EXCL_CORES));
	ck_assert_str_eq(text("a", &f, CD_EXCL_NODE_STATE), "n2 is in maintenance");
	ck_assert_str_eq(text("a", &f, CD_EXCL_MEMORY),
			 "n2 lacks memory (needs 1024 MiB, 511 free)");
	ck_assert_str_eq(text("a", &f, CD_EXCL_FEW_CORES),
			 "n2 has 1 core, fewer than the VM's 2 vCPUs");
	ck_assert_str_eq(text("a", &f, CD_EXCL_CORES),
			 "n2 lacks vCPUs (needs 2, 0 free): it has 1 core, 1 vCPU at 1 per core, "
			 "1 in use");
}
END_TEST

/*
 * Room counts every VM that holds the node (starting, running, stopping,
 * migrating), not stopped or failed ones, and never the VM checked.
 */
START_TEST(test_room_counts_what_placement_counts)
{
	struct cd_policy_fit f;

	load(NODES "vm a vcpus=1 memory=1000 state=running on=n1\n"
		   "vm b vcpus=1 memory=100 state=starting on=n3\n"
		   "vm c vcpus=1 memory=200 state=stopping on=n3\n"
		   "vm d vcpus=1 memory=400 state=migrating on=n3\n"
		   "vm e vcpus=1 memory=800 state=stopped on=n3\n"
		   "vm f vcpus=1 memory=1600 state=failed on=n3 failed_on=n3\n");
	f = fit("a", 3);
	ck_assert_uint_eq(f.free_memory_mb, 4096 - 700);
	ck_assert_uint_eq(f.free_vcpus, 16 - 3);
	ck_assert_uint_eq(f.used_vcpus, 3);
	/* Its own node, without it: free, but no target. */
	f = fit("a", 1);
	ck_assert(f.here);
	ck_assert_uint_eq(f.free_memory_mb, 4096);
	ck_assert_uint_eq(f.free_vcpus, 16);
}
END_TEST

START_TEST(test_soft_is_a_warning)
{
	struct cd_policy_fit f;

	load(NODES "vm a vcpus=1 memory=1 anti=web:soft state=running on=n1\n"
		   "vm b vcpus=1 memory=1 anti=web:soft state=running on=n3\n");
	f = fit("a", 3);
	ck_assert_uint_eq(f.fails, 0);
	ck_assert(f.soft_clash);
	ck_assert_str_eq(text("a", &f, CD_EXCL_ANTI_SOFT),
			 "n3 runs a VM of class web (soft anti-affinity: placement avoids it)");
}
END_TEST

START_TEST(test_errors)
{
	struct cd_policy_fit f;
	struct cd_policy_pick p;

	load(NODES "vm a vcpus=1 memory=1\n");
	ck_assert_int_eq(cd_policy_fit_node(&t.in, 0, 9, &f, err, sizeof(err)), CD_ERR_NOT_FOUND);
	ck_assert_str_eq(err, "no node with id 9");
	ck_assert_int_eq(cd_policy_fit_node(&t.in, 1, 1, &f, err, sizeof(err)), CD_ERR_INVALID);
	ck_assert_int_eq(cd_policy_pick_node(&t.in, 1, 1, &p, err, sizeof(err)), CD_ERR_INVALID);
	t.nodes[1].id = 1; /* two nodes with one id: decide refuses it too */
	ck_assert_int_eq(cd_policy_fit_node(&t.in, 0, 1, &f, err, sizeof(err)), CD_ERR_INVALID);
	ck_assert_ptr_nonnull(strstr(err, "duplicate node id"));
}
END_TEST

static struct cd_policy_pick pick(const char *vm, uint32_t except, char *why, size_t len)
{
	struct cd_policy_pick p;

	ck_assert_msg(cd_policy_pick_node(&t.in, vm_index(vm), except, &p, err, sizeof(err)) == 0,
		      "%s", err);
	if (p.node)
		cd_policy_pick_text(&t.in, vm_index(vm), &p, why, len);
	return p;
}

START_TEST(test_pick)
{
	struct cd_policy_pick p;
	char why[256];

	/* The most free memory among the others; the node left is never chosen. */
	load(NODES "vm a vcpus=1 memory=1 state=running on=n3\n"
		   "vm b vcpus=1 memory=100 state=running on=n1\n");
	p = pick("a", 3, why, sizeof(why));
	ck_assert_uint_eq(p.node, 2);
	ck_assert_uint_eq(p.n_fits, 2);
	ck_assert_str_eq(why, "n2 has the most free memory of the nodes that fit");

	/* The first preferred owner that fits. */
	load(NODES "vm a vcpus=1 memory=1 preferred=n3,n1 state=running on=n3\n");
	p = pick("a", 3, why, sizeof(why));
	ck_assert_uint_eq(p.node, 1);
	ck_assert_str_eq(why, "n1 is preferred owner 2 of 2");

	/* Soft anti-affinity: another node first, shared if it must. */
	load(NODES "vm a vcpus=1 memory=1 anti=web:soft state=running on=n1\n"
		   "vm b vcpus=1 memory=1 anti=web:soft state=running on=n2\n");
	p = pick("a", 1, why, sizeof(why));
	ck_assert_uint_eq(p.node, 3);
	load(NODES "vm a vcpus=1 memory=1 anti=web:soft possible=n1,n2 state=running on=n1\n"
		   "vm b vcpus=1 memory=1 anti=web:soft state=running on=n2\n");
	p = pick("a", 1, why, sizeof(why));
	ck_assert_uint_eq(p.node, 2);
	ck_assert(p.soft_shared);
	ck_assert_str_eq(why, "n2 has the most free memory of the nodes that fit; every node that "
			      "fits runs a VM of class web (soft anti-affinity: shared)");

	/* None fits: every other node's rules. */
	load(NODES "vm a vcpus=1 memory=4000 state=running on=n1\n"
		   "vm b vcpus=1 memory=1000 state=running on=n2\n"
		   "vm c vcpus=1 memory=1000 state=running on=n3\n");
	p = pick("a", 1, why, sizeof(why));
	ck_assert_uint_eq(p.node, 0);
	ck_assert_uint_eq(p.n_fits, 2);
	ck_assert_uint_eq(p.fits[0].node, 2);
	ck_assert_uint_eq(p.fits[0].fails, B(CD_EXCL_MEMORY));
	ck_assert_uint_eq(p.fits[1].fails, B(CD_EXCL_MEMORY));
}
END_TEST

int main(void)
{
	const TTest *const tests[] = {
		test_fits,
		test_each_rule_alone,
		test_every_rule_reported,
		test_room_counts_what_placement_counts,
		test_soft_is_a_warning,
		test_errors,
		test_pick,
		test_moving_vm_holds_its_target,
	};
	Suite *s = suite_create("policy_fit");
	TCase *tc = tcase_create("fit");
	size_t i;

	/* Each test loads its own text; the fixture frees the last one. */
	tcase_add_checked_fixture(tc, NULL, teardown);
	for (i = 0; i < sizeof(tests) / sizeof(tests[0]); i++)
		tcase_add_test(tc, tests[i]);
	suite_add_tcase(s, tc);
	return run_suite(s);
}
