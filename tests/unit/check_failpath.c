/* Which VMs can fail over on their own (core/failpath.c). */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "check_common.h"
#include "check_fixture.h"
#include "core/failpath.h"
#include "core/state.h"

#define RUN_DIR "/run/csvfs"
#define VOL_UUID "00112233-4455-6677-8899-aabbccddeeff"

/* A VM's XML with the given <disk> elements; uuid and MAC from n (1-9). */
#define VM_XML(n, disks)                                                                           \
	"<domain><name>vm" #n "</name><uuid>6f1d7c2e-0b6a-4f6e-9d1e-3a5b7c9d0e1" #n "</uuid>"      \
	"<devices>" disks "<interface type='bridge'><mac address='52:54:00:aa:bb:0" #n "'/>"       \
	"</interface></devices></domain>"

#define SHARED_DISK "<disk type='block'><source dev='/run/csvfs/vol1/root'/></disk>"
#define LOCAL_DISK "<disk type='file'><source file='/var/lib/local.img'/></disk>"

/* The nodes whose id bit is set in the mask hold their host lease. */
static bool held_mask(uint32_t id, void *ctx)
{
	return (*(unsigned *)ctx >> id) & 1;
}

static void must(struct cd_state *s, const char *change)
{
	char err[512];

	ck_assert_msg(fixture_apply(s, change, err, sizeof(err)) == 0, "%s: %s", change, err);
}

static void add_vm(struct cd_state *s, const char *name, const char *xml, int node)
{
	char c[2048];

	snprintf(c, sizeof(c),
		 "{\"op\":\"vm.add\",\"name\":\"%s\",\"xml\":\"%s\",\"vcpus\":1,"
		 "\"memory_mb\":128}",
		 name, xml);
	must(s, c);
	if (!node)
		return;
	snprintf(c, sizeof(c), "{\"op\":\"vm.start\",\"name\":\"%s\"}", name);
	must(s, c);
	snprintf(c, sizeof(c), "{\"op\":\"vm.place\",\"name\":\"%s\",\"node\":%d}", name, node);
	must(s, c);
}

static void add_volume(struct cd_state *s)
{
	must(s,
	     "{\"op\":\"volume.add\",\"name\":\"vol1\",\"device\":\"/dev/loop3\",\"uuid\":\"" VOL_UUID
	     "\",\"hosts\":8,\"expiry_ms\":10000,\"renewal_ms\":1250}");
}

static void add_fence_node3(struct cd_state *s)
{
	must(s, "{\"op\":\"fence.add\",\"name\":\"pdu\",\"agent\":\"fence_lab\","
		"\"params\":{},\"map\":{\"node3\":\"3\"}}");
}

static const struct cd_failpath_vm *vm_in(const struct cd_failpath *f, const char *name)
{
	size_t i;

	for (i = 0; i < f->n_vms; i++)
		if (strcmp(f->vms[i].name, name) == 0)
			return &f->vms[i];
	return NULL;
}

START_TEST(test_empty_state)
{
	struct cd_state s;
	struct cd_failpath f;
	struct json_object *o;

	cd_state_init(&s);
	ck_assert_int_eq(cd_failpath_compute(&s, RUN_DIR, NULL, NULL, &f), 0);
	ck_assert_uint_eq(f.n_nodes, 0);
	ck_assert_uint_eq(f.n_vms, 0);
	ck_assert_uint_eq(f.n_placed, 0);
	o = cd_failpath_to_json(&f, 100);
	ck_assert_str_eq(
		json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN),
		"{\"no_failover_path\":[],\"no_failover_path_count\":0,\"unconfirmable_nodes\":[]}");
	json_object_put(o);
	cd_failpath_free(&f);
	cd_state_free(&s);
}
END_TEST

/* Neither a volume nor a fence device: every placed VM waits for an admin. */
START_TEST(test_neither)
{
	struct cd_state s;
	struct cd_failpath f;
	unsigned held = ~0u;

	fixture_three_nodes(&s);
	add_vm(&s, "vm1", VM_XML(1, ""), 3);
	add_vm(&s, "vm2", VM_XML(2, ""), 0); /* placed nowhere: needs no path */
	ck_assert_int_eq(cd_failpath_compute(&s, RUN_DIR, held_mask, &held, &f), 0);
	ck_assert_uint_eq(f.n_nodes, 3);
	ck_assert_uint_eq(f.n_placed, 1);
	ck_assert_uint_eq(f.n_vms, 1);
	ck_assert_str_eq(f.vms[0].name, "vm1");
	ck_assert_int_eq(f.vms[0].gap, CD_VGAP_NODE);
	ck_assert_uint_eq(cd_failpath_node(&f, 3)->paths, 0);
	ck_assert_int_eq(cd_failpath_node(&f, 3)->gap, CD_GAP_NO_VOLUME);
	ck_assert_uint_eq(cd_failpath_node(&f, 3)->n_vms, 1);
	ck_assert_uint_eq(cd_failpath_node(&f, 1)->n_vms, 0);
	cd_failpath_free(&f);
	cd_state_free(&s);
}
END_TEST

START_TEST(test_volume_host_lease)
{
	struct cd_state s;
	struct cd_failpath f;
	unsigned held = 1u << 3;

	fixture_three_nodes(&s);
	add_volume(&s);
	add_vm(&s, "vm1", VM_XML(1, SHARED_DISK), 3);
	ck_assert_int_eq(cd_failpath_compute(&s, RUN_DIR, held_mask, &held, &f), 0);
	ck_assert_uint_eq(f.n_vms, 0);
	ck_assert_uint_eq(cd_failpath_node(&f, 3)->paths, CD_DEATH_LEASE);
	/* Nodes 1 and 2 hold none: unconfirmable, with nothing on them. */
	ck_assert_int_eq(cd_failpath_node(&f, 1)->gap, CD_GAP_NEITHER);
	cd_failpath_free(&f);

	/* failover-confirm=fence: the lease does not count. */
	must(&s, "{\"op\":\"property.set\",\"key\":\"failover-confirm\",\"value\":\"fence\"}");
	ck_assert_int_eq(cd_failpath_compute(&s, RUN_DIR, held_mask, &held, &f), 0);
	ck_assert_uint_eq(f.n_vms, 1);
	ck_assert_int_eq(cd_failpath_node(&f, 3)->gap, CD_GAP_FENCE_ONLY);
	cd_failpath_free(&f);
	cd_state_free(&s);
}
END_TEST

START_TEST(test_fence_only)
{
	struct cd_state s;
	struct cd_failpath f;
	unsigned held = 0;

	fixture_three_nodes(&s);
	add_fence_node3(&s);
	add_vm(&s, "vm1", VM_XML(1, ""), 3);
	add_vm(&s, "vm2", VM_XML(2, ""), 1);
	ck_assert_int_eq(cd_failpath_compute(&s, RUN_DIR, held_mask, &held, &f), 0);
	ck_assert_uint_eq(cd_failpath_node(&f, 3)->paths, CD_DEATH_FENCE);
	/* The device's map leaves node1 out. */
	ck_assert_uint_eq(f.n_vms, 1);
	ck_assert_str_eq(f.vms[0].name, "vm2");
	ck_assert_int_eq(cd_failpath_node(&f, 1)->gap, CD_GAP_NO_VOLUME);
	cd_failpath_free(&f);

	/* failover-confirm=lease: the device does not count. */
	must(&s, "{\"op\":\"property.set\",\"key\":\"failover-confirm\",\"value\":\"lease\"}");
	ck_assert_int_eq(cd_failpath_compute(&s, RUN_DIR, held_mask, &held, &f), 0);
	ck_assert_uint_eq(f.n_vms, 2);
	ck_assert_int_eq(cd_failpath_node(&f, 3)->gap, CD_GAP_LEASE_NOVOL);
	cd_failpath_free(&f);
	cd_state_free(&s);
}
END_TEST

/* A volume the node has not joined yet: a never-joined slot proves nothing. */
START_TEST(test_no_lease_yet)
{
	struct cd_state s;
	struct cd_failpath f;
	unsigned held = 1u << 1;
	struct json_object *o, *a;

	fixture_three_nodes(&s);
	add_volume(&s);
	add_vm(&s, "vm1", VM_XML(1, SHARED_DISK), 3);
	add_vm(&s, "vm2", VM_XML(2, SHARED_DISK), 3);
	ck_assert_int_eq(cd_failpath_compute(&s, RUN_DIR, held_mask, &held, &f), 0);
	ck_assert_uint_eq(f.n_vms, 2);
	ck_assert_int_eq(cd_failpath_node(&f, 3)->gap, CD_GAP_NEITHER);
	ck_assert_uint_eq(cd_failpath_node(&f, 1)->paths, CD_DEATH_LEASE);
	o = cd_failpath_to_json(&f, 100);
	ck_assert(json_object_object_get_ex(o, "unconfirmable_nodes", &a));
	ck_assert_uint_eq(json_object_array_length(a), 2); /* node2 and node3 */
	ck_assert(json_object_object_get_ex(o, "no_failover_path", &a));
	ck_assert_str_eq(json_object_to_json_string_ext(json_object_array_get_idx(a, 0),
							JSON_C_TO_STRING_PLAIN),
			 "{\"vm\":\"vm1\",\"node\":\"node3\",\"reason\":\"node\"}");
	json_object_put(o);
	/* At most max_vms listed; the count says how many there are. */
	o = cd_failpath_to_json(&f, 1);
	ck_assert(json_object_object_get_ex(o, "no_failover_path", &a));
	ck_assert_uint_eq(json_object_array_length(a), 1);
	ck_assert_int_eq(json_object_get_int(json_object_object_get(o, "no_failover_path_count")),
			 2);
	json_object_put(o);
	cd_failpath_free(&f);
	/* No callback: nobody is known to hold one. */
	ck_assert_int_eq(cd_failpath_compute(&s, RUN_DIR, NULL, NULL, &f), 0);
	ck_assert_uint_eq(cd_failpath_node(&f, 1)->paths, 0);
	cd_failpath_free(&f);
	cd_state_free(&s);
}
END_TEST

/* A disk that is no csvfs file exists on its node only. */
START_TEST(test_local_disk)
{
	struct cd_state s;
	struct cd_failpath f;
	unsigned held = ~0u;
	const struct cd_failpath_vm *v;

	fixture_three_nodes(&s);
	add_volume(&s);
	add_fence_node3(&s);
	add_vm(&s, "vm1", VM_XML(1, SHARED_DISK LOCAL_DISK), 3);
	add_vm(&s, "vm2", VM_XML(2, SHARED_DISK), 3);
	ck_assert_int_eq(cd_failpath_compute(&s, RUN_DIR, held_mask, &held, &f), 0);
	ck_assert_uint_eq(cd_failpath_node(&f, 3)->paths, CD_DEATH_LEASE | CD_DEATH_FENCE);
	ck_assert_uint_eq(f.n_vms, 1);
	v = vm_in(&f, "vm1");
	ck_assert_ptr_nonnull(v);
	ck_assert_int_eq(v->gap, CD_VGAP_LOCAL_DISK);
	ck_assert_str_eq(v->detail, "/var/lib/local.img");
	cd_failpath_free(&f);
	/* Without a run directory the disks are not looked at. */
	ck_assert_int_eq(cd_failpath_compute(&s, NULL, held_mask, &held, &f), 0);
	ck_assert_uint_eq(f.n_vms, 0);
	cd_failpath_free(&f);
	cd_state_free(&s);
}
END_TEST

/* Possible owners that name its node alone leave it nowhere to go. */
START_TEST(test_possible_owners)
{
	struct cd_state s;
	struct cd_failpath f;
	unsigned held = ~0u;

	fixture_three_nodes(&s);
	add_volume(&s);
	add_vm(&s, "vm1", VM_XML(1, ""), 2);
	must(&s, "{\"op\":\"vm.set\",\"name\":\"vm1\",\"key\":\"possible-owners\",\"value\":"
		 "\"node2\"}");
	ck_assert_int_eq(cd_failpath_compute(&s, RUN_DIR, held_mask, &held, &f), 0);
	ck_assert_uint_eq(f.n_vms, 1);
	ck_assert_int_eq(f.vms[0].gap, CD_VGAP_OWNERS);
	cd_failpath_free(&f);
	must(&s, "{\"op\":\"vm.set\",\"name\":\"vm1\",\"key\":\"possible-owners\",\"value\":"
		 "\"node2,node1\"}");
	ck_assert_int_eq(cd_failpath_compute(&s, RUN_DIR, held_mask, &held, &f), 0);
	ck_assert_uint_eq(f.n_vms, 0);
	cd_failpath_free(&f);
	cd_state_free(&s);
}
END_TEST

START_TEST(test_texts)
{
	enum cd_death_gap g;

	for (g = CD_GAP_NONE; g <= CD_GAP_LEASE_NOVOL; g++) {
		ck_assert_str_ne(cd_death_gap_text(g), "?");
		if (g != CD_GAP_NONE)
			ck_assert_str_ne(cd_death_gap_fix(g), "");
	}
	ck_assert_str_eq(cd_vm_gap_to_str(CD_VGAP_LOCAL_DISK), "local-disk");
}
END_TEST

int main(void)
{
	Suite *s = suite_create("failpath");

	add_tcase(s, test_empty_state);
	add_tcase(s, test_neither);
	add_tcase(s, test_volume_host_lease);
	add_tcase(s, test_fence_only);
	add_tcase(s, test_no_lease_yet);
	add_tcase(s, test_local_disk);
	add_tcase(s, test_possible_owners);
	add_tcase(s, test_texts);
	return run_suite(s);
}
