/*
 * The counts vm.add keeps of the VMs' identities and XML (vm_keys.c): a
 * UUID or MAC in use is always found, through adds, removes, identity
 * upgrades, copies, states read back and VMs set by hand.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <clusterd/result.h>

#include "check_common.h"
#include "check_fixture.h"
#include "core/state.h"

/* More than the first table holds: it grows on the way. */
#define N 600

static char err[256];

static void uuid_of(char *buf, size_t len, unsigned i)
{
	snprintf(buf, len, "00000000-0000-4000-8000-%012x", i);
}

static void mac_of(char *buf, size_t len, unsigned i, unsigned nic)
{
	snprintf(buf, len, "52:54:%02x:00:%02x:%02x", nic, (i >> 8) & 0xff, i & 0xff);
}

/* vm.add of VM name with the identity of i (its UUID and two MACs). */
static int add(struct cd_state *s, const char *name, unsigned i)
{
	char change[1024], uuid[40], m0[20], m1[20];

	uuid_of(uuid, sizeof(uuid), i);
	mac_of(m0, sizeof(m0), i, 0);
	mac_of(m1, sizeof(m1), i, 1);
	snprintf(change, sizeof(change),
		 "{\"op\":\"vm.add\",\"name\":\"%s\",\"vcpus\":1,\"memory_mb\":64,\"xml\":\""
		 "<domain><name>%s</name><uuid>%s</uuid><devices>"
		 "<interface type='network'><mac address='%s'/></interface>"
		 "<interface type='network'><mac address='%s'/></interface>"
		 "</devices></domain>\"}",
		 name, name, uuid, m0, m1);
	return fixture_apply(s, change, err, sizeof(err));
}

static int add_i(struct cd_state *s, unsigned i)
{
	char name[32];

	snprintf(name, sizeof(name), "vm%04u", i);
	return add(s, name, i);
}

static int remove_i(struct cd_state *s, unsigned i)
{
	char change[128];

	snprintf(change, sizeof(change), "{\"op\":\"vm.remove\",\"name\":\"vm%04u\"}", i);
	return fixture_apply(s, change, err, sizeof(err));
}

/* Whether the identity of i is in use in s, by VM "vm<i>" (present) or by none. */
static void used_by(const struct cd_state *s, unsigned i, bool present)
{
	char uuid[40], mac[20], name[32];
	const struct cd_vm *vm;

	snprintf(name, sizeof(name), "vm%04u", i);
	uuid_of(uuid, sizeof(uuid), i);
	vm = cd_vm_uuid_user(s, uuid, NULL);
	ck_assert(present ? vm && strcmp(vm->name, name) == 0 : vm == NULL);
	mac_of(mac, sizeof(mac), i, 1);
	vm = cd_vm_mac_user(s, mac, NULL);
	ck_assert(present ? vm && strcmp(vm->name, name) == 0 : vm == NULL);
}

static size_t xml_sum(const struct cd_state *s)
{
	size_t i, n = 0;

	for (i = 0; i < s->n_vms; i++)
		n += strlen(s->vms[i]->xml);
	return n;
}

START_TEST(test_identities_found)
{
	struct cd_state s, copy, back;
	struct json_object *o;
	unsigned i;

	fixture_three_nodes(&s);
	for (i = 0; i < N; i++)
		ck_assert_int_eq(add_i(&s, i), 0);
	ck_assert_ptr_nonnull(s.vm_keys);
	for (i = 0; i < N; i++) {
		used_by(&s, i, true);
		/* Its UUID and MACs under another name: refused. */
		ck_assert_int_eq(add(&s, "other", i), CD_ERR_EXISTS);
	}
	used_by(&s, N, false);
	ck_assert_uint_eq(cd_vm_xml_total(&s, NULL), xml_sum(&s));

	/* Removed: its identity is free again, the others' are not. */
	for (i = 0; i < N; i += 2)
		ck_assert_int_eq(remove_i(&s, i), 0);
	for (i = 0; i < N; i++)
		used_by(&s, i, i % 2 == 1);
	ck_assert_int_eq(add(&s, "again", 0), 0);
	ck_assert_int_eq(add(&s, "twice", 0), CD_ERR_EXISTS);
	ck_assert_int_eq(add(&s, "other", 1), CD_ERR_EXISTS);

	/* A copy and a state read back count their own. */
	ck_assert_int_eq(cd_state_copy(&copy, &s), 0);
	ck_assert_ptr_null(copy.vm_keys);
	ck_assert_int_eq(add(&copy, "other", 3), CD_ERR_EXISTS);
	ck_assert_int_eq(add(&copy, "other", 2), 0);
	ck_assert_int_eq(add(&s, "other", 2), 0); /* s is not the copy */
	o = cd_state_to_json(&copy);
	ck_assert_int_eq(cd_state_from_json(&back, o, err, sizeof(err)), 0);
	json_object_put(o);
	ck_assert_int_eq(add(&back, "more", 2), CD_ERR_EXISTS);
	ck_assert_int_eq(add(&back, "more", 5), CD_ERR_EXISTS);
	ck_assert_int_eq(add(&back, "more", N + 1), 0);
	ck_assert_uint_eq(cd_vm_xml_total(&back, NULL), xml_sum(&back));
	cd_state_free(&back);
	cd_state_free(&copy);
	cd_state_free(&s);
}
END_TEST

/* VMs set by hand after the counts were made: counted again, not missed. */
START_TEST(test_vms_set_by_hand)
{
	struct cd_state s, one;
	struct cd_vm **nv;

	fixture_three_nodes(&s);
	fixture_three_nodes(&one);
	ck_assert_int_eq(add_i(&s, 1), 0);
	ck_assert_int_eq(add_i(&one, 2), 0);
	/* one's VM moved into s by hand: s's counts have not seen it. */
	nv = realloc(s.vms, (s.n_vms + 1) * sizeof(*nv));
	ck_assert_ptr_nonnull(nv);
	s.vms = nv;
	s.vms_cap = 0;
	s.vms[s.n_vms++] = one.vms[0];
	one.n_vms = 0;
	used_by(&s, 2, true);
	ck_assert_int_eq(add(&s, "other", 2), CD_ERR_EXISTS);
	ck_assert_int_eq(add(&s, "other", 3), 0);
	used_by(&s, 1, true);
	cd_state_free(&one);
	cd_state_free(&s);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("vm_keys");

	add_tcase(s, test_identities_found);
	add_tcase(s, test_vms_set_by_hand);
	return run_suite(s);
}
