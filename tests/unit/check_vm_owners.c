/*
 * A VM's owner lists: exactly as many names as they hold, on the heap,
 * owned by the record. Copied, freed, compared and serialised with it, in
 * the JSON a state always had.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <clusterd/result.h>

#include "check_common.h"
#include "check_fixture.h"
#include "core/state.h"

static char err[256];

#define XML(name, uuid, mac)                                                                       \
	"<domain><name>" name "</name><uuid>" uuid "</uuid><devices>"                              \
	"<interface type='bridge'><mac address='" mac "'/></interface></devices></domain>"
#define ADD(name, uuid, mac)                                                                       \
	"{\"op\":\"vm.add\",\"name\":\"" name                                                      \
	"\",\"vcpus\":1,\"memory_mb\":512,\"xml\":\"" XML(name, uuid, mac) "\"}"
#define SET(name, k, v)                                                                            \
	"{\"op\":\"vm.set\",\"name\":\"" name "\",\"key\":\"" k "\",\"value\":\"" v "\"}"

static int apply(struct cd_state *s, const char *text)
{
	return fixture_apply(s, text, err, sizeof(err));
}

/* Three member nodes and VMs none, one and many (no owners yet). */
static void setup_state(struct cd_state *s)
{
	fixture_three_nodes(s);
	ck_assert_int_eq(
		apply(s, ADD("none", "00000000-0000-4000-8000-000000000001", "52:54:00:00:00:01")),
		0);
	ck_assert_int_eq(
		apply(s, ADD("one", "00000000-0000-4000-8000-000000000002", "52:54:00:00:00:02")),
		0);
	ck_assert_int_eq(
		apply(s, ADD("many", "00000000-0000-4000-8000-000000000003", "52:54:00:00:00:03")),
		0);
}

static struct cd_vm *vm_of(struct cd_state *s, const char *name)
{
	struct cd_vm *vm = (struct cd_vm *)cd_state_vm(s, name);

	ck_assert_ptr_nonnull(vm);
	return vm;
}

/* n distinct names "ownerK", in names (kept by the caller). */
static void owner_names(const char *names[CD_VM_MAX_OWNERS], char buf[][64], size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		snprintf(buf[i], 64, "owner%zu", i);
		names[i] = buf[i];
	}
}

/* Give VM "one" one owner and "many" CD_VM_MAX_OWNERS, as lists and possible owners. */
static void set_owners(struct cd_state *s)
{
	const char *names[CD_VM_MAX_OWNERS];
	char buf[CD_VM_MAX_OWNERS][64];
	struct cd_vm *vm;

	owner_names(names, buf, CD_VM_MAX_OWNERS);
	vm = vm_of(s, "one");
	ck_assert_int_eq(cd_vm_owners_set(&vm->preferred, &vm->n_preferred, names, 1), 0);
	ck_assert_int_eq(cd_vm_owners_set(&vm->possible, &vm->n_possible, names, 1), 0);
	vm = vm_of(s, "many");
	ck_assert_int_eq(
		cd_vm_owners_set(&vm->preferred, &vm->n_preferred, names, CD_VM_MAX_OWNERS), 0);
	ck_assert_int_eq(cd_vm_owners_set(&vm->possible, &vm->n_possible, names, CD_VM_MAX_OWNERS),
			 0);
}

static char *vm_text(const struct cd_vm *vm)
{
	struct json_object *o = cd_vm_to_json(vm);
	char *t = strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));

	json_object_put(o);
	ck_assert_ptr_nonnull(t);
	return t;
}

/* Two owner lists hold the same names in the same order, in arrays of their own. */
static void same_list(char (*a)[64], size_t na, char (*b)[64], size_t nb)
{
	size_t i;

	ck_assert_uint_eq(na, nb);
	if (na == 0) {
		ck_assert_ptr_null(a);
		ck_assert_ptr_null(b);
		return;
	}
	ck_assert_ptr_ne(a, b);
	for (i = 0; i < na; i++)
		ck_assert_str_eq(a[i], b[i]);
}

/* A copy has lists of its own with the same names; freeing it leaves the original. */
START_TEST(test_copy_and_free)
{
	static const char *const vms[] = {"none", "one", "many"};
	struct cd_state s;
	size_t k;

	setup_state(&s);
	set_owners(&s);
	ck_assert_ptr_null(vm_of(&s, "none")->preferred);
	ck_assert_ptr_null(vm_of(&s, "none")->possible);
	for (k = 0; k < sizeof(vms) / sizeof(vms[0]); k++) {
		const struct cd_vm *vm = vm_of(&s, vms[k]);
		struct cd_vm copy;
		char *t1, *t2;

		ck_assert_int_eq(cd_vm_copy(&copy, vm), 0);
		same_list(vm->preferred, vm->n_preferred, copy.preferred, copy.n_preferred);
		same_list(vm->possible, vm->n_possible, copy.possible, copy.n_possible);
		t1 = vm_text(vm);
		t2 = vm_text(&copy);
		ck_assert_str_eq(t1, t2);
		free(t2);
		if (copy.n_preferred) {
			/* The copy's names are its own. */
			copy.preferred[0][0] = 'X';
			ck_assert_str_eq(vm->preferred[0], "owner0");
		}
		cd_vm_free(&copy);
		ck_assert_ptr_null(copy.preferred);
		ck_assert_ptr_null(copy.possible);
		ck_assert_uint_eq(copy.n_preferred, 0);
		ck_assert_uint_eq(copy.n_possible, 0);
		cd_vm_free(&copy); /* twice: nothing left to free */
		t2 = vm_text(vm);
		ck_assert_str_eq(t1, t2);
		free(t1);
		free(t2);
	}
	cd_state_free(&s);
}
END_TEST

/* VM one's owner lists are pref and poss, as vm set takes them ("": empty, NULL). */
static void lists_are(struct cd_state *s, const char *pref, const char *poss)
{
	const struct cd_vm *vm = vm_of(s, "one");
	char(*lists[2])[64] = {vm->preferred, vm->possible};
	const size_t n[2] = {vm->n_preferred, vm->n_possible};
	const char *want[2] = {pref, poss};
	char got[CD_VM_MAX_OWNERS * 64];
	size_t l, i, k;

	for (l = 0; l < 2; l++) {
		ck_assert(n[l] ? lists[l] != NULL : lists[l] == NULL);
		for (i = 0, k = 0; i < n[l]; i++)
			k += (size_t)snprintf(got + k, sizeof(got) - k, "%s%s", i ? "," : "",
					      lists[l][i]);
		got[k] = '\0';
		ck_assert_str_eq(got, want[l]);
	}
}

/* vm.set replaces a list (the old one freed), empties it to NULL, and a refusal keeps it. */
START_TEST(test_set_replaces)
{
	struct cd_state s;

	setup_state(&s);
	ck_assert_int_eq(apply(&s, SET("one", "preferred-owners", "node2,node1")), 0);
	lists_are(&s, "node2,node1", "");
	ck_assert_int_eq(apply(&s, SET("one", "preferred-owners", "node3")), 0);
	lists_are(&s, "node3", "");
	ck_assert_int_eq(apply(&s, SET("one", "preferred-owners", "node9")), CD_ERR_NOT_FOUND);
	ck_assert_int_eq(apply(&s, SET("one", "preferred-owners", "node1,node1")), CD_ERR_INVALID);
	/* node3 is preferred: possible owners without it are refused. */
	ck_assert_int_eq(apply(&s, SET("one", "possible-owners", "node1,node2")), CD_ERR_INVALID);
	lists_are(&s, "node3", "");
	ck_assert_int_eq(apply(&s, SET("one", "possible-owners", "node3,node1")), 0);
	/* Another setting keeps both lists. */
	ck_assert_int_eq(apply(&s, SET("one", "priority", "high")), 0);
	lists_are(&s, "node3", "node3,node1");
	ck_assert_int_eq(apply(&s, SET("one", "preferred-owners", "")), 0);
	lists_are(&s, "", "node3,node1");
	/* A VM removed takes its lists with it. */
	ck_assert_int_eq(apply(&s, "{\"op\":\"vm.remove\",\"name\":\"one\"}"), 0);
	ck_assert_ptr_null(cd_state_vm(&s, "one"));
	cd_state_free(&s);
}
END_TEST

/*
 * A state with VMs of none, one and many owners: through JSON and back, and
 * copied, the same text; the lists serialise as they always did.
 */
START_TEST(test_state_roundtrip)
{
	struct cd_state s, back, copy;
	struct json_object *o;
	char *t1, *t2, *t3;

	setup_state(&s);
	set_owners(&s);
	ck_assert_int_eq(apply(&s, SET("none", "preferred-owners", "node2,node1")), 0);
	ck_assert_int_eq(apply(&s, SET("none", "preferred-owners", "")), 0);
	t1 = fixture_text(&s);
	ck_assert_ptr_nonnull(strstr(t1,
				     "\"name\":\"one\",\"uuid\":\"00000000-0000-4000-8000-"
				     "000000000002\",\"vcpus\":1,\"memory_mb\":512,"
				     "\"priority\":\"medium\",\"preferred_owners\":[\"owner0\"],"
				     "\"possible_owners\":[\"owner0\"],\"anti_affinity\":\"\""));
	ck_assert_ptr_nonnull(strstr(t1, "\"preferred_owners\":[],\"possible_owners\":[],"));
	ck_assert_ptr_nonnull(
		strstr(t1, "\"owner30\",\"owner31\"],\"possible_owners\":[\"owner0\""));

	o = cd_state_to_json(&s);
	ck_assert_int_eq(cd_state_from_json(&back, o, err, sizeof(err)), 0);
	json_object_put(o);
	t2 = fixture_text(&back);
	ck_assert_str_eq(t1, t2);
	same_list(vm_of(&s, "many")->preferred, vm_of(&s, "many")->n_preferred,
		  vm_of(&back, "many")->preferred, vm_of(&back, "many")->n_preferred);
	same_list(vm_of(&s, "one")->possible, vm_of(&s, "one")->n_possible,
		  vm_of(&back, "one")->possible, vm_of(&back, "one")->n_possible);
	ck_assert_ptr_null(vm_of(&back, "none")->preferred);

	ck_assert_int_eq(cd_state_copy(&copy, &back), 0);
	cd_state_free(&back);
	t3 = fixture_text(&copy);
	ck_assert_str_eq(t1, t3);
	ck_assert_uint_eq(vm_of(&copy, "many")->n_possible, CD_VM_MAX_OWNERS);
	free(t1);
	free(t2);
	free(t3);
	cd_state_free(&copy);
	cd_state_free(&s);
}
END_TEST

/* A VM's JSON with the lists edited: read back as vm set would have them, or refused. */
static int vm_with_lists(const char *pref, const char *poss, struct cd_vm *out)
{
	struct cd_state s;
	struct json_object *o, *a;
	int rc;

	setup_state(&s);
	o = cd_vm_to_json(vm_of(&s, "one"));
	a = json_tokener_parse(pref);
	ck_assert_ptr_nonnull(a);
	json_object_object_add(o, "preferred_owners", a);
	a = json_tokener_parse(poss);
	ck_assert_ptr_nonnull(a);
	json_object_object_add(o, "possible_owners", a);
	rc = cd_vm_from_json(out, o, err, sizeof(err));
	json_object_put(o);
	cd_state_free(&s);
	return rc;
}

START_TEST(test_from_json_checked)
{
	char many[CD_VM_MAX_OWNERS * 16 + 16];
	struct cd_vm vm;
	size_t i, k = 0;

	ck_assert_int_eq(vm_with_lists("[\"a\",\"b\"]", "[\"b\",\"a\",\"c\"]", &vm), 0);
	ck_assert_uint_eq(vm.n_preferred, 2);
	ck_assert_str_eq(vm.preferred[1], "b");
	ck_assert_uint_eq(vm.n_possible, 3);
	ck_assert_str_eq(vm.possible[2], "c");
	cd_vm_free(&vm);

	ck_assert_int_eq(vm_with_lists("[]", "[]", &vm), 0);
	ck_assert_ptr_null(vm.preferred);
	ck_assert_ptr_null(vm.possible);
	cd_vm_free(&vm);

	/* Refused, whatever was read before freed (the sanitizers would say). */
	ck_assert_int_eq(vm_with_lists("[\"a\",\"a\"]", "[]", &vm), CD_ERR_CORRUPT);
	ck_assert_int_eq(vm_with_lists("[\"a\"]", "[\"b\",\"a b\"]", &vm), CD_ERR_CORRUPT);
	ck_assert_int_eq(vm_with_lists("[\"a\"]", "[\"b\"]", &vm), CD_ERR_CORRUPT);
	ck_assert_ptr_null(vm.preferred);
	ck_assert_ptr_null(vm.possible);
	k += (size_t)snprintf(many + k, sizeof(many) - k, "[");
	for (i = 0; i <= CD_VM_MAX_OWNERS; i++)
		k += (size_t)snprintf(many + k, sizeof(many) - k, "%s\"n%zu\"", i ? "," : "", i);
	snprintf(many + k, sizeof(many) - k, "]");
	ck_assert_int_eq(vm_with_lists("[]", many, &vm), CD_ERR_CORRUPT);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("vm_owners");

	add_tcase(s, test_copy_and_free);
	add_tcase(s, test_set_replaces);
	add_tcase(s, test_state_roundtrip);
	add_tcase(s, test_from_json_checked);
	return run_suite(s);
}
