/*
 * One request's verdicts on lost nodes (struct cd_lost_table, core/lostnode.c):
 * the same as cd_vm_lost() gives, each node asked about once.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "check_common.h"
#include "check_fixture.h"
#include "core/lostnode.h"
#include "core/state.h"

/* What the test's daemon sees, and how often each node was asked about. */
struct seen {
	unsigned asked[5]; /* by node id, 1 to 4 */
};

/* A lost node watches one volume whose slot expires in 7 s; the others are as the state says. */
static void count_view(uint32_t id, struct cd_lost_view *v, void *ctx)
{
	struct seen *seen = ctx;

	ck_assert_uint_lt(id, 5);
	seen->asked[id]++;
	v->now_ms = 1000;
	if (v->member)
		return;
	v->n_slots = 1;
	snprintf(v->slots[0].volume, sizeof(v->slots[0].volume), "vol1");
	v->slots[0].seen = CD_SLOT_ALIVE;
	v->slots[0].expires_in_ms = 7000;
}

/* A VM as the table looks at it: in state, on node (0: none). */
static struct cd_vm vm_on(enum cd_vm_state state, uint32_t node)
{
	struct cd_vm vm;

	memset(&vm, 0, sizeof(vm));
	vm.state = state;
	vm.node = node;
	return vm;
}

/* l as the JSON cd_node_lost_to_json() makes of it, into buf. */
static void text_of(const struct cd_node_lost *l, char *buf, size_t len)
{
	struct json_object *o = json_object_new_object();

	cd_node_lost_to_json(l, o);
	snprintf(buf, len, "%s", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
	json_object_put(o);
}

START_TEST(test_node_asked_once)
{
	struct cd_state s;
	struct cd_vm vms[] = {
		vm_on(CD_VM_RUNNING, 4), vm_on(CD_VM_FAILED, 4),    vm_on(CD_VM_RUNNING, 1),
		vm_on(CD_VM_STOPPED, 4), vm_on(CD_VM_MIGRATING, 4), vm_on(CD_VM_RUNNING, 1),
	};
	struct seen direct = {{0}}, cached = {{0}};
	struct cd_lost_table t;
	struct cd_node_lost want, got;
	char a[2048], b[2048];
	size_t i, lost = 0;

	fixture_node4_left(&s);
	cd_lost_table_init(&t, &s, count_view, &cached);
	for (i = 0; i < sizeof(vms) / sizeof(vms[0]); i++) {
		bool w = cd_vm_lost(&s, &vms[i], count_view, &direct, &want);

		ck_assert(cd_lost_table_vm(&t, &vms[i], &got) == w);
		text_of(&want, a, sizeof(a));
		text_of(&got, b, sizeof(b));
		ck_assert_str_eq(a, b);
		ck_assert_str_eq(want.waits_for, got.waits_for);
		lost += w;
	}
	ck_assert_uint_eq(lost, 3);
	ck_assert_str_eq(got.waits_for, "");
	/* Without the table, once a VM placed on it; with it, once a node. */
	ck_assert_uint_eq(direct.asked[4], 3);
	ck_assert_uint_eq(direct.asked[1], 2);
	ck_assert_uint_eq(cached.asked[4], 1);
	ck_assert_uint_eq(cached.asked[1], 1);
	ck_assert_uint_eq(cached.asked[2] + cached.asked[3], 0);
	cd_lost_table_fini(&t);
	cd_lost_table_fini(&t);
	cd_state_free(&s);
}
END_TEST

START_TEST(test_lost_verdict_kept)
{
	struct cd_state s;
	struct cd_vm vm = vm_on(CD_VM_RUNNING, 4);
	struct seen cached = {{0}};
	struct cd_lost_table t;
	struct cd_node_lost l;

	fixture_node4_left(&s);
	cd_lost_table_init(&t, &s, count_view, &cached);
	ck_assert(cd_lost_table_vm(&t, &vm, &l));
	ck_assert_str_eq(l.node, "node4");
	ck_assert_str_eq(l.waits_for, "an admin: clusterctl node confirm-dead node4 (node4 has no "
				      "fence device and the cluster has no shared volume)");
	ck_assert(cd_lost_table_vm(&t, &vm, &l));
	ck_assert_uint_eq(cached.asked[4], 1);
	/* Released, the table still answers, asking again. */
	cd_lost_table_fini(&t);
	ck_assert(cd_lost_table_vm(&t, &vm, &l));
	ck_assert_str_eq(l.node, "node4");
	ck_assert_uint_eq(cached.asked[4], 2);
	cd_state_free(&s);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("lost_table");

	add_tcase(s, test_node_asked_once);
	add_tcase(s, test_lost_verdict_kept);
	return run_suite(s);
}
