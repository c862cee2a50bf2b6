/*
 * lib/corosync_conf: the template rendered from a node list, the node list
 * read back from a file, nodes added and removed, bad names refused.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <clusterd/result.h>

#include "check_common.h"
#include "lib/corosync_conf.h"

static char err[256];

/* The whole file for a two-node cluster, as a node's admin will read it. */
static const char golden_two[] =
	"# corosync.conf of the cluster prod, written by clusterctl.\n"
	"# clusterctl reads the node list back to add or remove a node and writes the\n"
	"# rest anew: keep one ring0_addr, name and nodeid per node.\n"
	"totem {\n"
	"\tversion: 2\n"
	"\tcluster_name: prod\n"
	"\ttransport: knet\n"
	"\tcrypto_cipher: aes256\n"
	"\tcrypto_hash: sha256\n"
	"\ttoken: 3000\n"
	"\tlink_mode: passive\n"
	"}\n"
	"\n"
	"nodelist {\n"
	"\tnode {\n"
	"\t\tring0_addr: 192.0.2.11\n"
	"\t\tname: hv1\n"
	"\t\tnodeid: 1\n"
	"\t}\n"
	"\tnode {\n"
	"\t\tring0_addr: hv2\n"
	"\t\tname: hv2\n"
	"\t\tnodeid: 2\n"
	"\t}\n"
	"}\n"
	"\n"
	"quorum {\n"
	"\tprovider: corosync_votequorum\n"
	"\ttwo_node: 1\n"
	"}\n"
	"\n"
	"logging {\n"
	"\tto_syslog: yes\n"
	"\ttimestamp: on\n"
	"}\n";

static void make(struct cd_cc *cc, const char *name, uint32_t token, const char *hosts)
{
	ck_assert_msg(cd_cc_init(cc, name, token, err, sizeof(err)) == 0, "%s", err);
	ck_assert_msg(cd_cc_add_hosts(cc, hosts, err, sizeof(err)) == 0, "%s", err);
}

START_TEST(test_render_golden)
{
	struct cd_cc cc;
	char *text;

	make(&cc, "prod", 0, "hv1=192.0.2.11,hv2");
	text = cd_cc_render(&cc);
	ck_assert_ptr_nonnull(text);
	ck_assert_str_eq(text, golden_two);
	free(text);
}
END_TEST

/* Three nodes: no two_node; the token given; IPv6 written in its canonical form. */
START_TEST(test_render_three)
{
	struct cd_cc cc;
	char *text;

	make(&cc, "lab", 1000, "a=2001:DB8:0:0::1,b=2001:db8::2,c=2001:db8::3");
	ck_assert_uint_eq(cc.n_nodes, 3);
	text = cd_cc_render(&cc);
	ck_assert_ptr_nonnull(strstr(text, "\ttoken: 1000\n"));
	ck_assert_ptr_nonnull(strstr(text, "\t\tring0_addr: 2001:db8::1\n\t\tname: a\n"
					   "\t\tnodeid: 1\n"));
	ck_assert_ptr_nonnull(strstr(text, "\t\tring0_addr: 2001:db8::3\n\t\tname: c\n"
					   "\t\tnodeid: 3\n"));
	ck_assert_ptr_null(strstr(text, "two_node"));
	free(text);
}
END_TEST

/* What is rendered reads back as it was, and renders the same again. */
START_TEST(test_round_trip)
{
	struct cd_cc cc, back;
	char *text, *again;

	make(&cc, "prod", 2500, "hv1=192.0.2.11,hv2,hv3=192.0.2.13");
	text = cd_cc_render(&cc);
	ck_assert_msg(cd_cc_parse(&back, text, err, sizeof(err)) == 0, "%s", err);
	ck_assert_int_eq(memcmp(&cc, &back, sizeof(cc)), 0);
	again = cd_cc_render(&back);
	ck_assert_str_eq(again, text);
	free(text);
	free(again);
}
END_TEST

/* A file written by hand, in another order, with more sections, reads the same. */
START_TEST(test_parse_foreign)
{
	static const char text[] = "# by hand\r\n"
				   "totem {\n"
				   "    version: 2\n"
				   "    cluster_name:   hand  \n"
				   "    interface {\n"
				   "        linknumber: 0\n"
				   "    }\n"
				   "}\n"
				   "nodelist {\n"
				   "  node {\n"
				   "    nodeid: 7\n"
				   "    name: late\n"
				   "    ring0_addr: late.example.org\n"
				   "  }\n"
				   "  node {\n"
				   "    name: early\n"
				   "    ring0_addr:10.0.0.1\n"
				   "    nodeid: 3\n"
				   "  }\n"
				   "}\n"
				   "quorum {\n"
				   "  provider: corosync_votequorum\n"
				   "  two_node: 1\n"
				   "}\n";
	struct cd_cc cc;

	ck_assert_msg(cd_cc_parse(&cc, text, err, sizeof(err)) == 0, "%s", err);
	ck_assert_str_eq(cc.cluster_name, "hand");
	ck_assert_uint_eq(cc.token_ms, CD_CC_TOKEN_DEFAULT_MS);
	ck_assert_uint_eq(cc.n_nodes, 2);
	ck_assert_uint_eq(cc.nodes[0].nodeid, 3);
	ck_assert_str_eq(cc.nodes[0].name, "early");
	ck_assert_str_eq(cc.nodes[0].addr, "10.0.0.1");
	ck_assert_uint_eq(cc.nodes[1].nodeid, 7);
	ck_assert_str_eq(cc.nodes[1].addr, "late.example.org");
	/* The next node takes the id above the highest. */
	ck_assert_int_eq(cd_cc_add_node(&cc, "new", "10.0.0.9", err, sizeof(err)), 0);
	ck_assert_uint_eq(cc.nodes[2].nodeid, 8);
}
END_TEST

START_TEST(test_add_remove)
{
	struct cd_cc cc, back;
	char *text;

	make(&cc, "prod", 0, "a=10.0.0.1,b=10.0.0.2,c=10.0.0.3");
	ck_assert_int_eq(cd_cc_remove_node(&cc, "b", err, sizeof(err)), 0);
	ck_assert_uint_eq(cc.n_nodes, 2);
	ck_assert_str_eq(cc.nodes[1].name, "c");
	ck_assert_uint_eq(cc.nodes[1].nodeid, 3);
	text = cd_cc_render(&cc);
	ck_assert_ptr_nonnull(strstr(text, "two_node: 1"));
	ck_assert_int_eq(cd_cc_parse(&back, text, err, sizeof(err)), 0);
	free(text);
	/* b's id is not given again. */
	ck_assert_int_eq(cd_cc_add_node(&back, "d", "10.0.0.2", err, sizeof(err)), 0);
	ck_assert_uint_eq(back.nodes[2].nodeid, 4);
	text = cd_cc_render(&back);
	ck_assert_ptr_null(strstr(text, "two_node"));
	free(text);
	ck_assert_int_eq(cd_cc_remove_node(&back, "b", err, sizeof(err)), CD_ERR_NOT_FOUND);
	ck_assert_int_eq(cd_cc_remove_node(&back, "a", err, sizeof(err)), 0);
	ck_assert_int_eq(cd_cc_remove_node(&back, "c", err, sizeof(err)), 0);
	ck_assert_int_eq(cd_cc_remove_node(&back, "d", err, sizeof(err)), CD_ERR_INVALID);
	ck_assert_ptr_nonnull(strstr(err, "last node"));
}
END_TEST

/* Each bad --nodes list or name is refused, with the reason. */
START_TEST(test_bad_input)
{
	static const struct {
		const char *cluster, *hosts, *says;
		int rc;
	} bad[] = {
		{"prod", "a,a", "named twice", CD_ERR_EXISTS},
		{"prod", "a=10.0.0.1,b=10.0.0.1", "same address", CD_ERR_EXISTS},
		{"prod", "a=::1,b=0:0::1", "same address", CD_ERR_EXISTS},
		{"prod", "a=10.0.0.1,b=2001:db8::2", "IPv4 and IPv6", CD_ERR_INVALID},
		{"prod", "a,,b", "empty host", CD_ERR_INVALID},
		{"prod", "a,", "empty host", CD_ERR_INVALID},
		{"prod", "", "no nodes", CD_ERR_INVALID},
		{"prod", "a b", "invalid node name", CD_ERR_INVALID},
		{"prod", "-oProxyCommand=x", "invalid node name", CD_ERR_INVALID},
		{"prod", "a{", "invalid node name", CD_ERR_INVALID},
		{"prod", "a=host.example", "not an IPv4 or IPv6", CD_ERR_INVALID},
		{"prod", "a=10.0.0.256", "not an IPv4 or IPv6", CD_ERR_INVALID},
		{"prod", "a=", "not an IPv4 or IPv6", CD_ERR_INVALID},
		{"pro d", "a", "invalid cluster name", CD_ERR_INVALID},
		{"", "a", "invalid cluster name", CD_ERR_INVALID},
		{"x}\n", "a", "invalid cluster name", CD_ERR_INVALID},
		{"_x", "a", "invalid cluster name", CD_ERR_INVALID},
	};
	struct cd_cc cc;
	size_t i;
	int rc;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		rc = cd_cc_init(&cc, bad[i].cluster, 0, err, sizeof(err));
		if (rc == 0)
			rc = cd_cc_add_hosts(&cc, bad[i].hosts, err, sizeof(err));
		ck_assert_msg(rc == bad[i].rc, "%s/%s: %d (%s)", bad[i].cluster, bad[i].hosts, rc,
			      err);
		ck_assert_msg(strstr(err, bad[i].says), "%s: '%s'", bad[i].hosts, err);
	}
	ck_assert_int_eq(cd_cc_init(&cc, "prod", 99, err, sizeof(err)), CD_ERR_INVALID);
	ck_assert_int_eq(cd_cc_init(&cc, "prod", 60001, err, sizeof(err)), CD_ERR_INVALID);
	/* At most CD_CC_MAX_NODES. */
	ck_assert_int_eq(cd_cc_init(&cc, "prod", 0, err, sizeof(err)), 0);
	for (i = 0; i < CD_CC_MAX_NODES; i++) {
		char name[16];

		snprintf(name, sizeof(name), "n%zu", i);
		ck_assert_int_eq(cd_cc_add_node(&cc, name, NULL, err, sizeof(err)), 0);
	}
	ck_assert_int_eq(cd_cc_add_node(&cc, "one-more", NULL, err, sizeof(err)), CD_ERR_INVALID);
}
END_TEST

/* A file the reader cannot take, or could not render again without loss, is refused. */
START_TEST(test_parse_refused)
{
	static const struct {
		const char *text, *says;
	} bad[] = {
		{"totem {\ncluster_name: x\n", "not closed"},
		{"}\n", "closes no section"},
		{"totem {\ncluster_name x\n}\n", "neither"},
		{"totem {\n: x\n}\n", "without a key"},
		{"nodelist {\nnode {\nname: a\nnodeid: 1\nring0_addr: 10.0.0.1\n}\n}\n",
		 "no totem cluster_name"},
		{"totem {\ncluster_name: x\n}\n", "no nodelist"},
		{"totem {\ncluster_name: x\n}\nnodelist {\nnode {\nname: a\nnodeid: 1\n"
		 "ring0_addr: 10.0.0.1\nring1_addr: 10.1.0.1\n}\n}\n",
		 "ring1_addr cannot be kept"},
		{"totem {\ncluster_name: x\n}\nnodelist {\nnode {\nname: a\nnodeid: 1\n}\n}\n",
		 "needs ring0_addr"},
		{"totem {\ncluster_name: x\n}\nnodelist {\nnode {\nname: a\nnodeid: 0\n"
		 "ring0_addr: 10.0.0.1\n}\n}\n",
		 "not a number above 0"},
		{"totem {\ncluster_name: x\n}\nnodelist {\nnode {\nname: a\nnodeid: 1\n"
		 "ring0_addr: 10.0.0.1\n}\nnode {\nname: b\nnodeid: 1\nring0_addr: 10.0.0.2\n}\n}\n",
		 "same node id"},
		{"totem {\ncluster_name: x\ntoken: 3s\n}\n", "not a number of ms"},
		{"totem {\ncluster_name: x y\n}\nnodelist {\nnode {\nname: a\nnodeid: 1\n"
		 "ring0_addr: 10.0.0.1\n}\n}\n",
		 "not one clusterctl writes"},
		{"totem {\ncluster_name: x\n}\nnodelist {\nnode {\nname: a\nnodeid: 1\n"
		 "ring0_addr: bad_host\n}\n}\n",
		 "neither an IP address nor a host name"},
	};
	struct cd_cc cc;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		ck_assert_msg(cd_cc_parse(&cc, bad[i].text, err, sizeof(err)) < 0, "%zu", i);
		ck_assert_msg(strstr(err, bad[i].says), "%zu: '%s'", i, err);
	}
}
END_TEST

int main(void)
{
	Suite *s = suite_create("corosync_conf");

	add_tcase(s, test_render_golden);
	add_tcase(s, test_render_three);
	add_tcase(s, test_round_trip);
	add_tcase(s, test_parse_foreign);
	add_tcase(s, test_add_remove);
	add_tcase(s, test_bad_input);
	add_tcase(s, test_parse_refused);
	return run_suite(s);
}
