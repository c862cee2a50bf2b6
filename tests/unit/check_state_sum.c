/*
 * The state checksum: nodes compare it with each other and with the sums
 * saved state files carry, so it must stay exactly the SHA-256 of the
 * state's JSON printed plain. Hashed here with OpenSSL directly, apart from
 * the code under test.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "check_common.h"
#include "check_fixture.h"
#include "core/state_file.h"
#include "core/state_sum.h"
#include "core/vm.h"
#include "lib/util.h"

/* The hex SHA-256 of s's JSON printed plain, as the checksum was always taken. */
static void expected(const struct cd_state *s, char out[65])
{
	struct json_object *o = cd_state_to_json(s);
	const char *t = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n, i;

	ck_assert_int_eq(EVP_Digest(t, strlen(t), md, &n, EVP_sha256(), NULL), 1);
	ck_assert_uint_eq(n, 32);
	for (i = 0; i < n; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
	json_object_put(o);
}

START_TEST(test_sum_is_sha256_of_json)
{
	struct cd_state empty, full;
	char want[65], got[65];

	cd_state_init(&empty);
	expected(&empty, want);
	ck_assert_int_eq(cd_state_checksum(&empty, got), 0);
	ck_assert_str_eq(got, want);

	fixture_full_state(&full);
	expected(&full, want);
	ck_assert_int_eq(cd_state_checksum(&full, got), 0);
	ck_assert_str_eq(got, want);
	cd_state_free(&full);
	cd_state_free(&empty);
}
END_TEST

/* The text handed out is the text hashed. */
START_TEST(test_text)
{
	struct cd_state s;
	struct cd_state_text t;
	char *text, sum[65];

	fixture_full_state(&s);
	text = fixture_text(&s);
	ck_assert_int_eq(cd_state_text(&s, &t), 0);
	ck_assert_uint_eq(t.len, strlen(t.text));
	ck_assert_str_eq(t.text, text);
	cd_sha256_hex(t.text, t.len, sum);
	ck_assert_str_eq(t.sum, sum);
	cd_state_text_free(&t);
	ck_assert_ptr_null(t.text);
	cd_state_text_free(NULL);
	free(text);
	cd_state_free(&s);
}
END_TEST

/* A saved state file is headed by the state's checksum. */
START_TEST(test_file_header)
{
	char dir[] = "/tmp/check_state_sum.XXXXXX", path[64], head[128], err[256], *data;
	struct cd_state s;
	char sum[65];
	size_t len;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/snap", dir);
	fixture_full_state(&s);
	ck_assert_int_eq(cd_state_checksum(&s, sum), 0);
	ck_assert_int_eq(cd_state_file_save(path, &s, err, sizeof(err)), 0);
	ck_assert_int_eq(cd_read_file(path, &data, &len), 0);
	snprintf(head, sizeof(head), "clusterd-state 1 %s\n", sum);
	ck_assert_uint_gt(len, strlen(head));
	ck_assert_mem_eq(data, head, strlen(head));
	free(data);
	unlink(path);
	rmdir(dir);
	cd_state_free(&s);
}
END_TEST

/* Its checksum is the hash of its text, each time, whatever changed in between. */
static void sum_ok(const struct cd_state *s)
{
	char want[65], got[65], *text = fixture_text(s);
	struct cd_state_text t;

	expected(s, want);
	ck_assert_int_eq(cd_state_checksum(s, got), 0);
	ck_assert_str_eq(got, want);
	/* and the text put together from the prints is json-c's */
	ck_assert_int_eq(cd_state_text(s, &t), 0);
	ck_assert_uint_eq(t.len, strlen(text));
	ck_assert_str_eq(t.text, text);
	ck_assert_str_eq(t.sum, want);
	cd_state_text_free(&t);
	free(text);
}

/* The fixture's full state, with two VMs more: one sorts before its VM, one after. */
static void three_vms(struct cd_state *s)
{
	static const char *const names[] = {"db", "zeta"};
	char change[512], err[256];
	int i;

	fixture_full_state(s);
	for (i = 0; i < 2; i++) {
		snprintf(change, sizeof(change),
			 "{\"op\":\"vm.add\",\"name\":\"%s\",\"xml\":\"<domain><name>%s</name>"
			 "<uuid>6f1d7c2e-0b6a-4f6e-9d1e-3a5b7c9d0e2%d</uuid><devices>"
			 "<interface type='bridge'><mac address='52:54:00:aa:bb:1%d'/></interface>"
			 "</devices></domain>\",\"vcpus\":1,\"memory_mb\":256}",
			 names[i], names[i], i, i);
		ck_assert_int_eq(fixture_apply(s, change, err, sizeof(err)), 0);
	}
	ck_assert_uint_eq(s->n_vms, 3);
}

/* A new XML for vm, as the changes put one (a new stamp). */
static void new_xml(struct cd_vm *vm, const char *xml)
{
	free(vm->xml);
	vm->xml = strdup(xml);
	ck_assert_ptr_nonnull(vm->xml);
	vm->xml_len = strlen(xml);
	vm->xml_stamp = cd_vm_xml_stamp();
}

/*
 * Each record keeps what it printed last: whatever changes in it, by a
 * change or by hand, its next checksum is still the text's.
 */
START_TEST(test_prints_follow_changes)
{
	struct cd_state s;
	struct cd_vm *vm;
	const char *owners[] = {"node1", "node2"};

	three_vms(&s);
	vm = s.vms[1];
	sum_ok(&s);
	ck_assert_ptr_nonnull(vm->print);
	/* again, nothing changed: the same, from the prints */
	sum_ok(&s);
	vm->state = vm->state == CD_VM_RUNNING ? CD_VM_STOPPED : CD_VM_RUNNING;
	sum_ok(&s);
	snprintf(vm->last_error, sizeof(vm->last_error), "an error \"quoted\" / slashed");
	sum_ok(&s);
	vm->drain.tries++;
	snprintf(vm->drain.why, sizeof(vm->drain.why), "why");
	sum_ok(&s);
	new_xml(vm, "<domain type='qemu'><name>x</name></domain>");
	sum_ok(&s);
	/* an owner list set, then changed in place (the same length) */
	ck_assert_int_eq(cd_vm_owners_set(&vm->preferred, &vm->n_preferred, owners, 2), 0);
	sum_ok(&s);
	vm->preferred[1][4] = '3';
	sum_ok(&s);
	ck_assert_int_eq(cd_vm_owners_set(&vm->possible, &vm->n_possible, owners, 1), 0);
	sum_ok(&s);
	ck_assert_int_eq(cd_vm_owners_set(&vm->possible, &vm->n_possible, NULL, 0), 0);
	sum_ok(&s);
	/* the last VM, a property, a node: the top level */
	s.vms[s.n_vms - 1]->last_move.downtime_ms += 7;
	s.last_action_id += 1000;
	s.nodes[0].maintenance = !s.nodes[0].maintenance;
	sum_ok(&s);
	cd_state_free(&s);
}
END_TEST

/* A record without an XML stamp (made by hand) is printed each time: its XML may change under it.
 */
START_TEST(test_unstamped_record)
{
	struct cd_state s;
	struct cd_vm *vm;

	three_vms(&s);
	vm = s.vms[2];
	new_xml(vm, "<domain><name>aaaa</name></domain>");
	vm->xml_stamp = 0;
	sum_ok(&s);
	vm->xml[15] = 'b'; /* the same record, another XML */
	sum_ok(&s);
	cd_state_free(&s);
}
END_TEST

/* A copy shares the prints, and each goes its own way after. */
START_TEST(test_copies_share_prints)
{
	struct cd_state a, b;
	char sa[65], sb[65];

	three_vms(&a);
	sum_ok(&a);
	ck_assert_int_eq(cd_state_copy(&b, &a), 0);
	ck_assert_ptr_eq(b.vms[0]->print, a.vms[0]->print);
	sum_ok(&b);
	ck_assert_int_eq(cd_state_checksum(&a, sa), 0);
	ck_assert_int_eq(cd_state_checksum(&b, sb), 0);
	ck_assert_str_eq(sa, sb);
	b.vms[0]->fail_count += 3;
	new_xml(b.vms[1], "<domain><name>other</name></domain>");
	sum_ok(&b);
	ck_assert_ptr_ne(b.vms[0]->print, a.vms[0]->print);
	sum_ok(&a);
	ck_assert_int_eq(cd_state_checksum(&a, sb), 0);
	ck_assert_str_eq(sa, sb);
	/* the copy freed first, then the original: each print freed once (valgrind, ASan) */
	cd_state_free(&b);
	sum_ok(&a);
	cd_state_free(&a);
}
END_TEST

/* The XML is escaped into the hash as json-c escapes it, for every byte. */
START_TEST(test_every_byte_escaped)
{
	struct cd_state s;
	char xml[600];
	size_t i, n = 0;

	for (i = 1; i < 256; i++) {
		xml[n++] = (char)i;
		xml[n++] = 'x';
	}
	xml[n] = '\0';
	three_vms(&s);
	new_xml(s.vms[0], xml);
	sum_ok(&s);
	new_xml(s.vms[0], "");
	sum_ok(&s);
	free(s.vms[0]->xml);
	s.vms[0]->xml = NULL;
	s.vms[0]->xml_len = 0;
	sum_ok(&s);
	cd_state_free(&s);
}
END_TEST

/* No VM at all, and a property whose value looks like the top level's keys. */
START_TEST(test_no_vms_and_lookalikes)
{
	struct cd_state s;
	struct json_object *c;
	char err[256];

	cd_state_init(&s);
	sum_ok(&s);
	c = json_tokener_parse("{\"op\": \"property.set\", \"key\": \"vms\","
			       " \"value\": \"\\\"last_action_id\\\":0,\\\"vms\\\":[]\"}");
	ck_assert_ptr_nonnull(c);
	ck_assert_int_eq(cd_state_apply(&s, c, err, sizeof(err)), 0);
	json_object_put(c);
	sum_ok(&s);
	cd_state_free(&s);
	fixture_full_state(&s);
	c = json_tokener_parse("{\"op\": \"property.set\", \"key\": \"last_action_id\","
			       " \"value\": \"0,\\\"vms\\\":[]\"}");
	ck_assert_ptr_nonnull(c);
	ck_assert_int_eq(cd_state_apply(&s, c, err, sizeof(err)), 0);
	json_object_put(c);
	sum_ok(&s);
	cd_state_free(&s);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("state_sum");

	add_tcase(s, test_sum_is_sha256_of_json);
	add_tcase(s, test_text);
	add_tcase(s, test_file_header);
	add_tcase(s, test_prints_follow_changes);
	add_tcase(s, test_unstamped_record);
	add_tcase(s, test_copies_share_prints);
	add_tcase(s, test_every_byte_escaped);
	add_tcase(s, test_no_vms_and_lookalikes);
	return run_suite(s);
}
