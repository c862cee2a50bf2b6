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

#define GRACE_20S "{\"op\":\"property.set\",\"key\":\"failover-grace-ms\",\"value\":\"20000\"}"
#define CONFIRM_FENCE "{\"op\":\"property.set\",\"key\":\"failover-confirm\",\"value\":\"fence\"}"
#define FENCED_PDU "node3 to be fenced by pdu"
#define ADMIN "an admin: clusterctl node confirm-dead node3 (node3 has no fence device and "
#define NODE_DEAD "{\"op\":\"node.dead\",\"node\":3,\"how\":\"fence:pdu\"}"
/* vm1 runs on node3, which left the state's membership at 500, seen at 1000. */
#define ON_NODE3_LEFT .vm_node = 3, .left_ms = 500, .now_ms = 1000

/*
 * One VM, vm1, on node vm_node of three (0: stopped) and what status says
 * of it. The state: node3 fenced by pdu if fence, volumes vol1 to volN
 * (N = volumes), property a change before and after a change once node3
 * left (at left_ms, if not 0), vm1's node forced to stale_node if not 0.
 * The view (none if now_ms is 0): at now_ms, this node's corosync lists
 * node3 unless not_member, quorate unless inquorate, node3's host slot on
 * each volume. Then what cd_vm_lost() says: lost and waits_for, and for a
 * lost VM its paths, gap, grace and lease; json, the VM's JSON if not NULL;
 * eval, that cd_node_lost_eval() on node3 says the same.
 */
static const struct lost_case {
	bool fence;
	size_t volumes;
	const char *property;
	int vm_node;
	uint64_t left_ms;
	const char *after;
	uint32_t stale_node;
	bool not_member, inquorate;
	uint64_t now_ms;
	struct {
		enum cd_slot_seen seen;
		uint64_t expires_in_ms;
	} slots[2];
	bool lost;
	const char *waits_for;
	unsigned paths;
	enum cd_death_gap gap;
	uint64_t grace_left_ms, lease_in_ms;
	const char *lease_volume;
	bool lease_expired;
	const char *json;
	bool eval;
} lost_cases[] = {
	/* clang-format off */
	/* A member's VM, with a view or without. */
	{.vm_node = 3, .now_ms = 1000, .waits_for = "", .json = "{\"node_lost\":false}"},
	{.vm_node = 3, .waits_for = ""},
	/* corosync lists it no more, the state has not recorded it yet: lost all the same. */
	{.fence = true, .vm_node = 3, .not_member = true, .now_ms = 1000,
	 .lost = true, .waits_for = FENCED_PDU, .paths = CD_DEATH_FENCE},
	/* The grace starts when the state records it left: all of it is still ahead. */
	{.fence = true, .property = GRACE_20S, .vm_node = 3, .not_member = true, .now_ms = 1000,
	 .lost = true, .waits_for = "the failover grace (about 20 s), then " FENCED_PDU,
	 .paths = CD_DEATH_FENCE, .grace_left_ms = 20000},
	/* A fence device; a VM on a member beside it is not lost. */
	{.fence = true, ON_NODE3_LEFT, .lost = true, .waits_for = FENCED_PDU,
	 .paths = CD_DEATH_FENCE, .eval = true,
	 .json = "{\"node_lost\":true,\"waits_for\":\"node3 to be fenced by pdu\","
		 "\"lost\":{\"node\":\"node3\",\"paths\":[\"fence\"],\"reason\":\"none\","
		 "\"quorate\":true,\"grace_left_ms\":0,\"fence_device\":\"pdu\","
		 "\"lease_volume\":null,\"lease_expired\":false,\"lease_expires_in_ms\":0}}"},
	{.fence = true, .vm_node = 2, .left_ms = 500, .now_ms = 1000, .waits_for = ""},
	/* Volume leases only. */
	{ON_NODE3_LEFT, .volumes = 1, .slots = {{CD_SLOT_UNKNOWN, 6200}}, .lost = true,
	 .waits_for = "node3's host lease on vol1 to expire (about 7 s)",
	 .paths = CD_DEATH_LEASE, .lease_volume = "vol1", .lease_in_ms = 6200},
	/* Two volumes: the one expected to expire last is named. */
	{ON_NODE3_LEFT, .volumes = 2, .slots = {{CD_SLOT_UNKNOWN, 6200}, {CD_SLOT_ALIVE, 9000}},
	 .lost = true, .paths = CD_DEATH_LEASE, .lease_volume = "vol2", .lease_in_ms = 9000,
	 .waits_for = "node3's host leases on vol2 and 1 other volume to expire (about 9 s)"},
	/* Every slot expired: only the coordinator's record is missing. */
	{ON_NODE3_LEFT, .volumes = 2, .slots = {{CD_SLOT_DEAD, 6200}, {CD_SLOT_GONE, 9000}},
	 .lost = true, .paths = CD_DEATH_LEASE, .lease_expired = true,
	 .waits_for = "the coordinator to record node3 dead (its host leases expired)"},
	/* A volume it never joined cannot tell: an admin must. */
	{ON_NODE3_LEFT, .volumes = 2, .slots = {{CD_SLOT_DEAD, 6200}, {CD_SLOT_NEVER, 9000}},
	 .lost = true, .gap = CD_GAP_NEITHER, .waits_for = ADMIN "holds no volume host lease)"},
	/* A lease or a fence device, whichever comes first; with failover-confirm=fence, the
	 * fence device only. */
	{.fence = true, .volumes = 1, ON_NODE3_LEFT, .slots = {{CD_SLOT_UNKNOWN, 0}}, .lost = true,
	 .waits_for = "node3's host lease on vol1 to expire or " FENCED_PDU,
	 .paths = CD_DEATH_LEASE | CD_DEATH_FENCE, .lease_volume = "vol1"},
	{.fence = true, .volumes = 1, .property = CONFIRM_FENCE, ON_NODE3_LEFT,
	 .slots = {{CD_SLOT_UNKNOWN, 0}}, .lost = true, .waits_for = FENCED_PDU,
	 .paths = CD_DEATH_FENCE},
	/* Neither: an admin; without a view, the state's word, and what it alone tells. */
	{ON_NODE3_LEFT, .lost = true, .gap = CD_GAP_NO_VOLUME,
	 .waits_for = ADMIN "the cluster has no shared volume)",
	 .json = "{\"node_lost\":true,\"waits_for\":\"" ADMIN "the cluster has no shared "
		 "volume)\",\"lost\":{\"node\":\"node3\",\"paths\":[\"admin\"],\"reason\":\"no-"
		 "fence-no-volume\",\"quorate\":true,\"grace_left_ms\":0,\"fence_device\":null,"
		 "\"lease_volume\":null,\"lease_expired\":false,\"lease_expires_in_ms\":0}}"},
	{.vm_node = 3, .left_ms = 500, .lost = true, .gap = CD_GAP_NO_VOLUME,
	 .waits_for = ADMIN "the cluster has no shared volume)"},
	/* The grace since it left, then quorum. */
	{.fence = true, .property = GRACE_20S, .vm_node = 3, .left_ms = 100000, .now_ms = 105000,
	 .lost = true, .paths = CD_DEATH_FENCE, .grace_left_ms = 15000,
	 .waits_for = "the failover grace (about 15 s), then " FENCED_PDU},
	{.fence = true, .property = GRACE_20S, .vm_node = 3, .left_ms = 100000, .inquorate = true,
	 .now_ms = 130000, .lost = true, .paths = CD_DEATH_FENCE,
	 .waits_for = "quorum (this node's partition has none), then " FENCED_PDU},
	/* Known dead: node.dead has moved its VMs on, none is shown lost. */
	{.fence = true, ON_NODE3_LEFT, .after = NODE_DEAD, .waits_for = "", .eval = true},
	/* A stopped VM runs nowhere, even with a node recorded. */
	{.left_ms = 500, .not_member = true, .now_ms = 1000, .waits_for = ""},
	{.left_ms = 500, .stale_node = 3, .not_member = true, .now_ms = 1000, .waits_for = ""},
	/* clang-format on */
};

/* The state and the view c describes. */
static void build(const struct lost_case *c, struct cd_state *s, struct cd_lost_view *v)
{
	static const char *const vols[] = {"vol1", "vol2"}, *const devs[] = {"/dev/loop3",
									     "/dev/loop4"};
	size_t i;

	fixture_three_nodes(s);
	for (i = 0; i < c->volumes; i++)
		add_volume(s, vols[i], devs[i]);
	if (c->fence)
		add_fence_node3(s);
	if (c->property)
		must(s, c->property);
	add_vm(s, "vm1", c->vm_node);
	if (c->left_ms)
		node3_leaves(s, c->left_ms);
	if (c->after)
		must(s, c->after);
	if (c->stale_node)
		((struct cd_vm *)cd_state_vm(s, "vm1"))->node = c->stale_node;
	*v = view(c->now_ms);
	v->member = !c->not_member;
	v->quorate = !c->inquorate;
	for (i = 0; i < c->volumes; i++)
		slot(v, vols[i], c->slots[i].seen, c->slots[i].expires_in_ms);
}

START_TEST(test_lost)
{
	const struct lost_case *c = &lost_cases[_i];
	struct cd_state s;
	struct cd_lost_view v;
	struct cd_node_lost l;
	struct json_object *o;

	build(c, &s, &v);
	/* A view at time 0 is none. */
	ck_assert(cd_vm_lost(&s, cd_state_vm(&s, "vm1"), c->now_ms ? view_of : NULL,
			     c->now_ms ? &v : NULL, &l) == c->lost);
	ck_assert_str_eq(l.waits_for, c->waits_for);
	if (c->lost) {
		ck_assert_str_eq(l.node, "node3");
		ck_assert_uint_eq(l.paths, c->paths);
		ck_assert_int_eq(l.gap, c->gap);
		ck_assert_str_eq(l.fence_device, c->paths & CD_DEATH_FENCE ? "pdu" : "");
		ck_assert_uint_eq(l.grace_left_ms, c->grace_left_ms);
		ck_assert_str_eq(l.lease_volume, c->lease_volume ? c->lease_volume : "");
		ck_assert_uint_eq(l.lease_in_ms, c->lease_in_ms);
		ck_assert(l.lease_expired == c->lease_expired);
	}
	if (c->json) {
		ck_assert_str_eq(json_of(&l, &o), c->json);
		json_object_put(o);
	}
	if (c->eval) {
		struct cd_node_lost n;

		cd_node_lost_eval(&s, cd_state_node_by_id(&s, 3), &v, &n);
		ck_assert(n.lost == c->lost);
		ck_assert_str_eq(n.waits_for, c->waits_for);
	}
	cd_state_free(&s);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("lostnode");

	add_table_tcase(s, test_lost, lost_cases);
	return run_suite(s);
}
