/* What a move asks of its target's libvirt, and what it answered (core/move_peer.h). */
#include "config.h"

#include <string.h>

#include <clusterd/result.h>

#include "check_common.h"
#include "core/move_peer.h"
#include "lib/jsonget.h"

static char err[256];

START_TEST(test_ask)
{
	static const char xml[] =
		"<domain type='qemu'><name>a</name>"
		"<cpu mode='custom' match='exact'><model fallback='forbid'>EPYC</model></cpu>"
		"<devices><interface type='bridge'><source bridge='br0'/></interface>"
		"<interface type='network'><source network='default'/></interface>"
		"<interface type='bridge'><source bridge='br1'/></interface>"
		"<interface type='user'/></devices></domain>";
	struct json_object *q = cd_move_peer_ask(xml, err, sizeof(err)), *v;

	ck_assert_ptr_nonnull(q);
	ck_assert_str_eq(cd_jget_str(q, "virttype"), "qemu");
	ck_assert(strstr(cd_jget_str(q, "cpu"), "<model fallback=\"forbid\">EPYC</model>"));
	ck_assert(json_object_object_get_ex(q, "bridges", &v));
	ck_assert_int_eq((int)json_object_array_length(v), 2);
	ck_assert_str_eq(json_object_get_string(json_object_array_get_idx(v, 1)), "br1");
	ck_assert(json_object_object_get_ex(q, "networks", &v));
	ck_assert_int_eq((int)json_object_array_length(v), 1);
	json_object_put(q);

	/* No <cpu>, no type: nothing to compare, KVM assumed. */
	q = cd_move_peer_ask("<domain><name>b</name></domain>", err, sizeof(err));
	ck_assert_ptr_nonnull(q);
	ck_assert_str_eq(cd_jget_str(q, "virttype"), "kvm");
	ck_assert_ptr_null(cd_jget_str(q, "cpu"));
	json_object_put(q);

	ck_assert_ptr_null(cd_move_peer_ask("<domain>", err, sizeof(err)));
	ck_assert(strstr(err, "does not parse"));
	ck_assert_ptr_null(cd_move_peer_ask(NULL, err, sizeof(err)));
}
END_TEST

START_TEST(test_answer)
{
	struct cd_move_peer_answer a;
	struct cd_move_facts f = {0};

	ck_assert_int_eq(cd_move_peer_answer_read("{\"cpu\":\"no\",\"cpu_text\":\"incompatible\","
						  "\"missing_bridges\":[\"br9\"],"
						  "\"missing_networks\":[\"lan\"]}",
						  &a),
			 0);
	cd_move_peer_answer_facts(&a, &f);
	ck_assert_int_eq(f.cpu_compatible, CD_MOVE_CPU_NO);
	ck_assert_str_eq(f.cpu_text, "incompatible");
	ck_assert_int_eq((int)f.n_missing_bridges, 2);
	ck_assert_str_eq(f.missing_bridges[0], "br9");
	ck_assert_str_eq(f.missing_bridges[1], "for network lan");

	ck_assert_int_eq(cd_move_peer_answer_read("{\"cpu\":\"yes\"}", &a), 0);
	cd_move_peer_answer_facts(&a, &f);
	ck_assert_int_eq(f.cpu_compatible, CD_MOVE_CPU_YES);
	ck_assert_ptr_null(f.cpu_text);
	ck_assert_int_eq((int)f.n_missing_bridges, 0);

	/* A verdict it does not know is no verdict. */
	ck_assert_int_eq(cd_move_peer_answer_read("{\"cpu\":\"maybe\"}", &a), 0);
	ck_assert_int_eq(a.cpu, CD_MOVE_CPU_UNKNOWN);
	ck_assert_int_eq(cd_move_peer_answer_read("[1]", &a), CD_ERR_INVALID);
	ck_assert_int_eq(cd_move_peer_answer_read("{", &a), CD_ERR_INVALID);
	ck_assert_int_eq(cd_move_peer_answer_read(NULL, &a), CD_ERR_INVALID);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("move_peer");

	add_tcase(s, test_ask);
	add_tcase(s, test_answer);
	return run_suite(s);
}
