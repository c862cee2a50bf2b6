/* A VM on a lost node: its status and what the cluster waits for (core/lostnode.c). */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "check_common.h"
#include "check_fixture.h"
#include "core/lostnode.h"
#include "core/state.h"

/* A volume's UUID, its last digit n. */
#define VOL_UUID "00112233-4455-6677-8899-aabbccddeef"

static void must(struct cd_state *s, const char *change)
{
	char err[512];

	ck_assert_msg(fixture_apply(s, change, err, sizeof(err)) == 0, "%s: %s", change, err);
}

/*
 * VM name ("vmN", N a digit: its UUID and MAC), running (placed) on node if
 * node is not 0.
 */
static void add_vm(struct cd_state *s, const char *name, int node)
{
	char c[1024];
	char d = name[2];

	snprintf(c, sizeof(c),
		 "{\"op\":\"vm.add\",\"name\":\"%s\",\"xml\":\"<domain><name>%s</name>"
		 "<uuid>6f1d7c2e-0b6a-4f6e-9d1e-3a5b7c9d0e1%c</uuid><devices><interface "
		 "type='bridge'><mac address='52:54:00:aa:bb:0%c'/></interface></devices>"
		 "</domain>\",\"vcpus\":1,\"memory_mb\":128}",
		 name, name, d, d);
	must(s, c);
	if (!node)
		return;
	snprintf(c, sizeof(c), "{\"op\":\"vm.start\",\"name\":\"%s\"}", name);
	must(s, c);
	snprintf(c, sizeof(c), "{\"op\":\"vm.place\",\"name\":\"%s\",\"node\":%d}", name, node);
	must(s, c);
	snprintf(c, sizeof(c),
		 "{\"op\":\"vm.report\",\"name\":\"%s\",\"node\":%d,\"action_id\":%llu,"
		 "\"result\":\"running\"}",
		 name, node, (unsigned long long)cd_state_vm(s, name)->action_id);
	must(s, c);
	ck_assert_int_eq(cd_state_vm(s, name)->state, CD_VM_RUNNING);
}

/* Volume name ("volN", N a digit: its UUID) on device dev. */
static void add_volume(struct cd_state *s, const char *name, const char *dev)
{
	char c[512];

	snprintf(c, sizeof(c),
		 "{\"op\":\"volume.add\",\"name\":\"%s\",\"device\":\"%s\",\"uuid\":\"" VOL_UUID
		 "%c\",\"hosts\":8,\"expiry_ms\":10000,\"renewal_ms\":1250}",
		 name, dev, name[3]);
	must(s, c);
}

static void add_fence_node3(struct cd_state *s)
{
	must(s, "{\"op\":\"fence.add\",\"name\":\"pdu\",\"agent\":\"fence_lab\","
		"\"params\":{},\"map\":{\"node3\":\"3\"}}");
}

/* node3 (ids 1 to 3, in order) leaves the state's membership at left_ms. */
static void node3_leaves(struct cd_state *s, uint64_t left_ms)
{
	struct cd_node *n = &s->nodes[2];

	ck_assert_uint_eq(n->info.id, 3);
	n->member = false;
	n->left_ms = left_ms;
}

/* What the test's daemon sees: a copy of *ctx, with the state's member flag kept. */
static void view_of(uint32_t id, struct cd_lost_view *v, void *ctx)
{
	const struct cd_lost_view *want = ctx;
	bool member = v->member;

	*v = *want;
	v->member = v->member && member;
}

/* A view: a member (as the state says), quorate, at now, with no volume watched. */
static struct cd_lost_view view(uint64_t now)
{
	struct cd_lost_view v;

	memset(&v, 0, sizeof(v));
	v.member = true;
	v.quorate = true;
	v.now_ms = now;
	return v;
}

static void slot(struct cd_lost_view *v, const char *vol, enum cd_slot_seen seen,
		 uint64_t expires_in_ms)
{
	struct cd_slot_view *sv = &v->slots[v->n_slots++];

	memset(sv, 0, sizeof(*sv));
	snprintf(sv->volume, sizeof(sv->volume), "%s", vol);
	sv->seen = seen;
	sv->expires_in_ms = expires_in_ms;
}

/* vm's lost record as JSON text (the keys cd_node_lost_to_json() adds). */
static const char *json_of(const struct cd_node_lost *l, struct json_object **o)
{
	*o = json_object_new_object();
	cd_node_lost_to_json(l, *o);
	return json_object_to_json_string_ext(*o, JSON_C_TO_STRING_PLAIN);
}

START_TEST(test_member_not_lost)
{
	struct cd_state s;
	struct cd_lost_view v = view(1000);
	struct cd_node_lost l;
	struct json_object *o;

	fixture_three_nodes(&s);
	add_vm(&s, "vm1", 3);
	ck_assert(!cd_vm_lost(&s, cd_state_vm(&s, "vm1"), view_of, &v, &l));
	ck_assert(!cd_vm_lost(&s, cd_state_vm(&s, "vm1"), NULL, NULL, &l));
	ck_assert_str_eq(l.waits_for, "");
	ck_assert_str_eq(json_of(&l, &o), "{\"node_lost\":false}");
	json_object_put(o);
	cd_state_free(&s);
}
END_TEST

/* corosync lists it no more, the state has not recorded it yet: lost all the same. */
START_TEST(test_corosync_left)
{
	struct cd_state s;
	struct cd_lost_view v = view(1000);
	struct cd_node_lost l;

	fixture_three_nodes(&s);
	add_fence_node3(&s);
	add_vm(&s, "vm1", 3);
	v.member = false;
	ck_assert(cd_vm_lost(&s, cd_state_vm(&s, "vm1"), view_of, &v, &l));
	ck_assert_str_eq(l.waits_for, "node3 to be fenced by pdu");
	/* The grace starts when the state records it left: all of it is still ahead. */
	must(&s, "{\"op\":\"property.set\",\"key\":\"failover-grace-ms\",\"value\":\"20000\"}");
	ck_assert(cd_vm_lost(&s, cd_state_vm(&s, "vm1"), view_of, &v, &l));
	ck_assert_uint_eq(l.grace_left_ms, 20000);
	cd_state_free(&s);
}
END_TEST

START_TEST(test_fence_device)
{
	struct cd_state s;
	struct cd_lost_view v = view(1000);
	struct cd_node_lost l;
	struct json_object *o;

	fixture_three_nodes(&s);
	add_fence_node3(&s);
	add_vm(&s, "vm1", 3);
	add_vm(&s, "vm2", 2);
	node3_leaves(&s, 500);
	ck_assert(cd_vm_lost(&s, cd_state_vm(&s, "vm1"), view_of, &v, &l));
	ck_assert_str_eq(l.node, "node3");
	ck_assert_uint_eq(l.paths, CD_DEATH_FENCE);
	ck_assert_str_eq(l.fence_device, "pdu");
	ck_assert_str_eq(l.waits_for, "node3 to be fenced by pdu");
	ck_assert_str_eq(
		json_of(&l, &o),
		"{\"node_lost\":true,\"waits_for\":\"node3 to be fenced by pdu\","
		"\"lost\":{\"node\":\"node3\",\"paths\":[\"fence\"],\"reason\":\"none\","
		"\"quorate\":true,\"grace_left_ms\":0,\"fence_device\":\"pdu\","
		"\"lease_volume\":null,\"lease_expired\":false,\"lease_expires_in_ms\":0}}");
	json_object_put(o);
	/* A VM on a member beside it is not lost. */
	ck_assert(!cd_vm_lost(&s, cd_state_vm(&s, "vm2"), view_of, &v, &l));
	cd_state_free(&s);
}
END_TEST

START_TEST(test_volume_leases_only)
{
	struct cd_state s;
	struct cd_lost_view v = view(1000);
	struct cd_node_lost l;

	fixture_three_nodes(&s);
	add_volume(&s, "vol1", "/dev/loop3");
	add_vm(&s, "vm1", 3);
	node3_leaves(&s, 500);
	slot(&v, "vol1", CD_SLOT_UNKNOWN, 6200);
	ck_assert(cd_vm_lost(&s, cd_state_vm(&s, "vm1"), view_of, &v, &l));
	ck_assert_uint_eq(l.paths, CD_DEATH_LEASE);
	ck_assert_str_eq(l.lease_volume, "vol1");
	ck_assert_uint_eq(l.lease_in_ms, 6200);
	ck_assert_str_eq(l.waits_for, "node3's host lease on vol1 to expire (about 7 s)");

	/* Two volumes: the one expected to expire last is named. */
	add_volume(&s, "vol2", "/dev/loop4");
	slot(&v, "vol2", CD_SLOT_ALIVE, 9000);
	ck_assert(cd_vm_lost(&s, cd_state_vm(&s, "vm1"), view_of, &v, &l));
	ck_assert_str_eq(l.waits_for,
			 "node3's host leases on vol2 and 1 other volume to expire (about 9 s)");

	/* Every slot expired: only the coordinator's record is missing. */
	v.slots[0].seen = CD_SLOT_DEAD;
	v.slots[1].seen = CD_SLOT_GONE;
	ck_assert(cd_vm_lost(&s, cd_state_vm(&s, "vm1"), view_of, &v, &l));
	ck_assert(l.lease_expired);
	ck_assert_str_eq(l.waits_for,
			 "the coordinator to record node3 dead (its host leases expired)");

	/* A volume it never joined cannot tell: an admin must. */
	v.slots[1].seen = CD_SLOT_NEVER;
	ck_assert(cd_vm_lost(&s, cd_state_vm(&s, "vm1"), view_of, &v, &l));
	ck_assert_uint_eq(l.paths, 0);
	ck_assert_int_eq(l.gap, CD_GAP_NEITHER);
	ck_assert_str_eq(l.waits_for, "an admin: clusterctl node confirm-dead node3 (node3 has no "
				      "fence device and holds no volume host lease)");
	cd_state_free(&s);
}
END_TEST

START_TEST(test_lease_or_fence)
{
	struct cd_state s;
	struct cd_lost_view v = view(1000);
	struct cd_node_lost l;

	fixture_three_nodes(&s);
	add_volume(&s, "vol1", "/dev/loop3");
	add_fence_node3(&s);
	add_vm(&s, "vm1", 3);
	node3_leaves(&s, 500);
	slot(&v, "vol1", CD_SLOT_UNKNOWN, 0);
	ck_assert(cd_vm_lost(&s, cd_state_vm(&s, "vm1"), view_of, &v, &l));
	ck_assert_uint_eq(l.paths, CD_DEATH_LEASE | CD_DEATH_FENCE);
	ck_assert_str_eq(l.waits_for,
			 "node3's host lease on vol1 to expire or node3 to be fenced by pdu");

	/* failover-confirm=fence: the leases do not count. */
	must(&s, "{\"op\":\"property.set\",\"key\":\"failover-confirm\",\"value\":\"fence\"}");
	ck_assert(cd_vm_lost(&s, cd_state_vm(&s, "vm1"), view_of, &v, &l));
	ck_assert_uint_eq(l.paths, CD_DEATH_FENCE);
	ck_assert_str_eq(l.lease_volume, "");
	ck_assert_str_eq(l.waits_for, "node3 to be fenced by pdu");
	cd_state_free(&s);
}
END_TEST

START_TEST(test_neither_admin)
{
	struct cd_state s;
	struct cd_lost_view v = view(1000);
	struct cd_node_lost l;
	struct json_object *o;

	fixture_three_nodes(&s);
	add_vm(&s, "vm1", 3);
	node3_leaves(&s, 500);
	ck_assert(cd_vm_lost(&s, cd_state_vm(&s, "vm1"), view_of, &v, &l));
	ck_assert_uint_eq(l.paths, 0);
	ck_assert_int_eq(l.gap, CD_GAP_NO_VOLUME);
	ck_assert_str_eq(l.waits_for, "an admin: clusterctl node confirm-dead node3 (node3 has no "
				      "fence device and the cluster has no shared volume)");
	json_of(&l, &o);
	ck_assert_str_eq(json_object_to_json_string_ext(
				 json_object_object_get(json_object_object_get(o, "lost"), "paths"),
				 JSON_C_TO_STRING_PLAIN),
			 "[\"admin\"]");
	json_object_put(o);
	/* Without a view: the state's word, and what it alone tells. */
	ck_assert(cd_vm_lost(&s, cd_state_vm(&s, "vm1"), NULL, NULL, &l));
	ck_assert_uint_eq(l.paths, 0);
	cd_state_free(&s);
}
END_TEST

START_TEST(test_grace_and_quorum)
{
	struct cd_state s;
	struct cd_lost_view v = view(105000);
	struct cd_node_lost l;

	fixture_three_nodes(&s);
	add_fence_node3(&s);
	add_vm(&s, "vm1", 3);
	must(&s, "{\"op\":\"property.set\",\"key\":\"failover-grace-ms\",\"value\":\"20000\"}");
	node3_leaves(&s, 100000);
	ck_assert(cd_vm_lost(&s, cd_state_vm(&s, "vm1"), view_of, &v, &l));
	ck_assert_uint_eq(l.grace_left_ms, 15000);
	ck_assert_str_eq(l.waits_for,
			 "the failover grace (about 15 s), then node3 to be fenced by pdu");
	v.quorate = false;
	v.now_ms = 130000; /* the grace is over */
	ck_assert(cd_vm_lost(&s, cd_state_vm(&s, "vm1"), view_of, &v, &l));
	ck_assert_str_eq(l.waits_for, "quorum (this node's partition has none), then node3 to be "
				      "fenced by pdu");
	cd_state_free(&s);
}
END_TEST

/* Known dead: node.dead has moved its VMs on, none is shown lost. */
START_TEST(test_node_dead)
{
	struct cd_state s;
	struct cd_lost_view v = view(1000);
	struct cd_node_lost l;

	fixture_three_nodes(&s);
	add_fence_node3(&s);
	add_vm(&s, "vm1", 3);
	node3_leaves(&s, 500);
	ck_assert(cd_vm_lost(&s, cd_state_vm(&s, "vm1"), view_of, &v, &l));
	must(&s, "{\"op\":\"node.dead\",\"node\":3,\"how\":\"fence:pdu\"}");
	ck_assert(!cd_vm_lost(&s, cd_state_vm(&s, "vm1"), view_of, &v, &l));
	cd_node_lost_eval(&s, cd_state_node_by_id(&s, 3), &v, &l);
	ck_assert(!l.lost);
	ck_assert_str_eq(l.waits_for, "");
	cd_state_free(&s);
}
END_TEST

START_TEST(test_stopped_never_lost)
{
	struct cd_state s;
	struct cd_lost_view v = view(1000);
	struct cd_node_lost l;

	fixture_three_nodes(&s);
	add_vm(&s, "vm1", 0);
	node3_leaves(&s, 500);
	v.member = false;
	ck_assert(!cd_vm_lost(&s, cd_state_vm(&s, "vm1"), view_of, &v, &l));
	/* Even with a node recorded, a stopped VM runs nowhere. */
	((struct cd_vm *)cd_state_vm(&s, "vm1"))->node = 3;
	ck_assert(!cd_vm_lost(&s, cd_state_vm(&s, "vm1"), view_of, &v, &l));
	cd_state_free(&s);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("lostnode");

	add_tcase(s, test_member_not_lost);
	add_tcase(s, test_corosync_left);
	add_tcase(s, test_fence_device);
	add_tcase(s, test_volume_leases_only);
	add_tcase(s, test_lease_or_fence);
	add_tcase(s, test_neither_admin);
	add_tcase(s, test_grace_and_quorum);
	add_tcase(s, test_node_dead);
	add_tcase(s, test_stopped_never_lost);
	return run_suite(s);
}
