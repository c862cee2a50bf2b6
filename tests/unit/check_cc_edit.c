/*
 * lib/cc_edit: a node added to and removed from a corosync.conf, the rest
 * of the file kept byte for byte; config_version and two_node follow; the
 * duplicates and limits refused with the file untouched.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <clusterd/result.h>

#include "check_common.h"
#include "lib/cc_edit.h"

static char err[256];

/* cluster create's file for hv1..hvN (hvK at 192.0.2.1K). */
static char *created(size_t n)
{
	struct cd_cc cc;
	char host[32], addr[32];
	size_t i;

	ck_assert_int_eq(cd_cc_init(&cc, "prod", 0, err, sizeof(err)), 0);
	for (i = 1; i <= n; i++) {
		snprintf(host, sizeof(host), "hv%zu", i);
		snprintf(addr, sizeof(addr), "192.0.2.%zu", 10 + i);
		ck_assert_msg(cd_cc_add_node(&cc, host, addr, err, sizeof(err)) == 0, "%s", err);
	}
	return cd_cc_render(&cc);
}

START_TEST(test_round_trip_create)
{
	char *three = created(3), *four = created(4), *out, *back;
	struct cd_cce_change ch;

	/* hv4 added to create's three-node file is create's four-node file. */
	ck_assert_int_eq(cd_cce_add(three, "hv4", "192.0.2.14", &out, &ch, err, sizeof(err)), 0);
	ck_assert_str_eq(out, four);
	ck_assert_uint_eq(ch.node.nodeid, 4);
	ck_assert_str_eq(ch.node.addr, "192.0.2.14");
	ck_assert_uint_eq(ch.n_nodes, 4);
	ck_assert(!ch.version_bumped);
	/* And removed again, the three-node file. */
	ck_assert_int_eq(cd_cce_remove(out, "hv4", &back, &ch, err, sizeof(err)), 0);
	ck_assert_str_eq(back, three);
	ck_assert_uint_eq(ch.node.nodeid, 4);
	ck_assert_uint_eq(ch.n_nodes, 3);
	free(back);
	free(out);
	free(three);
	free(four);
}
END_TEST

START_TEST(test_two_node)
{
	char *two = created(2), *three = created(3), *out;
	struct cd_cce_change ch;

	ck_assert_ptr_nonnull(strstr(two, "two_node: 1"));
	/* A third node: two_node goes, as create writes three. */
	ck_assert_int_eq(cd_cce_add(two, "hv3", "192.0.2.13", &out, &ch, err, sizeof(err)), 0);
	ck_assert_str_eq(out, three);
	free(out);
	/* Back to two: it comes back. */
	ck_assert_int_eq(cd_cce_remove(three, "hv3", &out, &ch, err, sizeof(err)), 0);
	ck_assert_str_eq(out, two);
	free(out);
	/* Never fewer than two. */
	ck_assert_int_eq(cd_cce_remove(two, "hv2", &out, &ch, err, sizeof(err)), CD_ERR_INVALID);
	ck_assert_ptr_null(out);
	ck_assert_msg(strstr(err, "would leave 1 node"), "%s", err);
	free(two);
	free(three);
}
END_TEST

/* A file edited by hand: comments, spaces, CRs, keys the template never writes. */
static const char odd[] = "# written by hand\n"
			  "totem {\n"
			  "    version: 2\n"
			  "    cluster_name:prod   \n"
			  "    config_version: 7\n"
			  "    # a comment inside\n"
			  "    interface {\n"
			  "        linknumber: 0\n"
			  "        knet_transport: sctp\n"
			  "    }\n"
			  "}\n"
			  "\n"
			  "nodelist   {\n"
			  "  node {\n"
			  "      nodeid:   2\n"
			  "      name: alpha\n"
			  "      ring0_addr: 198.51.100.2\n"
			  "  }\n"
			  "\n"
			  "  # the second\n"
			  "  node{\n"
			  "      ring0_addr: 198.51.100.9\n"
			  "      name: beta\n"
			  "      nodeid: 9\n"
			  "  }\n"
			  "   node {\n"
			  "      ring0_addr: 198.51.100.5\n"
			  "      name: gamma\n"
			  "      nodeid: 5\n"
			  "  }\n"
			  "}\n"
			  "quorum {\n"
			  "    provider: corosync_votequorum\n"
			  "    expected_votes: 3\n"
			  "}\n"
			  "logging {\n"
			  "    to_logfile: yes\n"
			  "}"; /* no '\n' at the end */

START_TEST(test_odd_file)
{
	struct cd_cce_change ch;
	char *out, *back;
	const char *at;

	ck_assert_msg(cd_cce_add(odd, "delta", "198.51.100.10", &out, &ch, err, sizeof(err)) == 0,
		      "%s", err);
	/* The next id is one above the highest, wherever that node stands. */
	ck_assert_uint_eq(ch.node.nodeid, 10);
	ck_assert(ch.version_bumped);
	ck_assert_uint_eq(ch.config_version, 8);
	ck_assert_ptr_nonnull(strstr(out, "    config_version: 8\n"));
	ck_assert_ptr_null(strstr(out, "config_version: 7"));
	/* The block takes the first node's indentation, before the nodelist's '}'. */
	at = strstr(out, "  node {\n"
			 "      ring0_addr: 198.51.100.10\n"
			 "      name: delta\n"
			 "      nodeid: 10\n"
			 "  }\n"
			 "}\n"
			 "quorum {\n");
	ck_assert_msg(at != NULL, "%s", out);
	/* The rest is kept: comments, the interface, the missing last '\n'. */
	ck_assert_ptr_nonnull(strstr(out, "# the second\n  node{\n"));
	ck_assert_ptr_nonnull(strstr(out, "knet_transport: sctp\n"));
	ck_assert_ptr_nonnull(strstr(out, "    expected_votes: 3\n"));
	ck_assert_int_eq(strcmp(out + strlen(out) - 5, "yes\n}"), 0);
	/* Nothing else changed: "8" took the place of "7". */
	ck_assert_uint_eq(strlen(out), strlen(odd) + strlen("  node {\n"
							    "      ring0_addr: 198.51.100.10\n"
							    "      name: delta\n"
							    "      nodeid: 10\n"
							    "  }\n"));

	/* beta (the middle block, odd spacing) removed: only its lines go. */
	ck_assert_msg(cd_cce_remove(out, "beta", &back, &ch, err, sizeof(err)) == 0, "%s", err);
	ck_assert_uint_eq(ch.node.nodeid, 9);
	ck_assert_uint_eq(ch.config_version, 9);
	ck_assert_ptr_null(strstr(back, "beta"));
	ck_assert_ptr_null(strstr(back, "198.51.100.9\n"));
	ck_assert_ptr_nonnull(strstr(back, "  # the second\n   node {\n"));
	ck_assert_ptr_nonnull(strstr(back, "name: gamma"));
	/* A file without two_node and three nodes left: none added. */
	ck_assert_ptr_null(strstr(back, "two_node"));
	free(back);
	free(out);
}
END_TEST

START_TEST(test_crlf)
{
	const char text[] = "totem {\r\n\tcluster_name: c\r\n}\r\nnodelist {\r\n\tnode {\r\n"
			    "\t\tring0_addr: 10.0.0.1\r\n\t\tname: a\r\n\t\tnodeid: 1\r\n\t}\r\n"
			    "\tnode {\r\n\t\tring0_addr: 10.0.0.2\r\n\t\tname: b\r\n"
			    "\t\tnodeid: 2\r\n\t}\r\n}\r\n";
	struct cd_cce_change ch;
	char *out;

	ck_assert_msg(cd_cce_add(text, "c3", "10.0.0.3", &out, &ch, err, sizeof(err)) == 0, "%s",
		      err);
	ck_assert_ptr_nonnull(strstr(out, "\tnode {\r\n\t\tring0_addr: 10.0.0.3\r\n\t\tname: c3\r\n"
					  "\t\tnodeid: 3\r\n\t}\r\n}\r\n"));
	free(out);
}
END_TEST

START_TEST(test_refused)
{
	char *three = created(3), *out = (char *)"x";
	struct cd_cce_change ch;
	static const struct {
		const char *name, *addr;
		int rc;
		const char *says;
	} bad[] = {
		{"hv2", "192.0.2.99", CD_ERR_EXISTS,
		 "hv2 is in corosync.conf's nodelist already (id 2, 192.0.2.12)"},
		{"hv2", NULL, CD_ERR_EXISTS, "already"},
		{"hv9", "192.0.2.12", CD_ERR_EXISTS, "same address"},
		{"hv9", "192.0.2.012", CD_ERR_INVALID, "not an IPv4 or IPv6"},
		{"hv9", "2001:db8::9", CD_ERR_INVALID, "IPv4 and IPv6"},
		{"hv_", "bad address", CD_ERR_INVALID, "not an IPv4 or IPv6"},
		{"-hv9", "192.0.2.19", CD_ERR_INVALID, "invalid node name"},
		{"hv 9", NULL, CD_ERR_INVALID, "invalid node name"},
	};
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		ck_assert_int_eq(
			cd_cce_add(three, bad[i].name, bad[i].addr, &out, &ch, err, sizeof(err)),
			bad[i].rc);
		ck_assert_ptr_null(out);
		ck_assert_msg(strstr(err, bad[i].says), "%zu: '%s'", i, err);
	}
	ck_assert_int_eq(cd_cce_remove(three, "hv9", &out, &ch, err, sizeof(err)),
			 CD_ERR_NOT_FOUND);
	/* A file cd_cc_parse() refuses is refused here. */
	ck_assert_int_eq(cd_cce_add("totem {\n", "hv9", NULL, &out, &ch, err, sizeof(err)),
			 CD_ERR_INVALID);
	ck_assert_msg(strstr(err, "not closed"), "%s", err);
	free(three);
}
END_TEST

START_TEST(test_same_id_in_file)
{
	/* Two nodes with one id: the file is refused as it is read. */
	const char text[] =
		"totem {\ncluster_name: c\n}\nnodelist {\nnode {\nring0_addr: 10.0.0.1\n"
		"name: a\nnodeid: 4\n}\nnode {\nring0_addr: 10.0.0.2\nname: b\n"
		"nodeid: 4\n}\n}\n";
	struct cd_cce_change ch;
	char *out;

	ck_assert_int_eq(cd_cce_add(text, "c", "10.0.0.3", &out, &ch, err, sizeof(err)),
			 CD_ERR_EXISTS);
	ck_assert_msg(strstr(err, "same node id 4"), "%s", err);
}
END_TEST

START_TEST(test_limit)
{
	char *full = created(CD_CC_MAX_NODES), *out;
	struct cd_cce_change ch;

	ck_assert_int_eq(cd_cce_add(full, "hv33", "192.0.2.200", &out, &ch, err, sizeof(err)),
			 CD_ERR_INVALID);
	ck_assert_ptr_null(out);
	ck_assert_msg(strstr(err, "at most 32 nodes"), "%s", err);
	/* 31 take one more. */
	ck_assert_int_eq(cd_cce_remove(full, "hv32", &out, &ch, err, sizeof(err)), 0);
	free(full);
	full = out;
	ck_assert_int_eq(cd_cce_add(full, "hv33", "192.0.2.200", &out, &ch, err, sizeof(err)), 0);
	/* One above the highest left: hv32's id, whose records node remove took away. */
	ck_assert_uint_eq(ch.node.nodeid, 32);
	free(out);
	free(full);
}
END_TEST

START_TEST(test_name_only)
{
	char *three = created(3), *out;
	struct cd_cce_change ch;

	/* No address: ring0_addr is the name, for corosync to resolve. */
	ck_assert_int_eq(cd_cce_add(three, "hv4.example.org", "", &out, &ch, err, sizeof(err)), 0);
	ck_assert_ptr_nonnull(strstr(out, "ring0_addr: hv4.example.org\n"));
	free(out);
	free(three);
}
END_TEST

START_TEST(test_split_host)
{
	char name[CD_CC_NAME_MAX + 1], addr[CD_CC_ADDR_MAX + 1];

	ck_assert_int_eq(cd_cce_split_host("hv4=192.0.2.14", name, addr, err, sizeof(err)), 0);
	ck_assert_str_eq(name, "hv4");
	ck_assert_str_eq(addr, "192.0.2.14");
	ck_assert_int_eq(cd_cce_split_host("hv4", name, addr, err, sizeof(err)), 0);
	ck_assert_str_eq(addr, "");
	ck_assert_int_eq(cd_cce_split_host("=1.2.3.4", name, addr, err, sizeof(err)),
			 CD_ERR_INVALID);
	ck_assert_int_eq(cd_cce_split_host("hv4=", name, addr, err, sizeof(err)), CD_ERR_INVALID);
	ck_assert_msg(strstr(err, "no address"), "%s", err);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("cc_edit");

	add_tcase(s, test_round_trip_create);
	add_tcase(s, test_two_node);
	add_tcase(s, test_odd_file);
	add_tcase(s, test_crlf);
	add_tcase(s, test_refused);
	add_tcase(s, test_same_id_in_file);
	add_tcase(s, test_limit);
	add_tcase(s, test_name_only);
	add_tcase(s, test_split_host);
	return run_suite(s);
}
