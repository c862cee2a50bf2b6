/*
 * clusterctl cluster create: a new cluster's files, made on the admin's
 * machine before any clusterd runs (as pcs cluster setup or pvecm create
 * do), and with --ssh copied to the nodes. See bootstrap.h.
 */
#include "config.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

#include <clusterd/result.h>

#include "cli/bootstrap.h"
#include "cli/clusterctl.h"

/* What is said on every node once the files are in place. */
static const char *const next_steps[] = {
	"systemctl enable corosync clusterd",
	/* corosync was started by its package with a one-node configuration. */
	"systemctl restart corosync clusterd",
};
#define N_NEXT (sizeof(next_steps) / sizeof(next_steps[0]))

/* What became of each node with --ssh. */
struct outcome {
	int rc; /* 0, or why the node was not ready or its copy failed */
	char why[512];
};

/* The failure msg (rc), as every command says one: JSON with --json, and on stderr. */
static int fail(int rc, const char *msg, struct json_object *nodes)
{
	if (opt.json) {
		struct json_object *o = json_object_new_object();

		json_object_object_add(o, "error", json_object_new_string(msg));
		if (nodes)
			json_object_object_add(o, "nodes", json_object_get(nodes));
		print_json(o);
		json_object_put(o);
	}
	fprintf(stderr, "clusterctl: cluster create: %s\n", msg);
	return rc;
}

/* Node n's files: where they are under out and where they go. */
static struct json_object *files_json(const char *out, const struct cd_cc_node *n)
{
	struct json_object *a = json_object_new_array();
	char buf[4096];
	size_t i;

	for (i = 0; i < BS_N_FILES; i++) {
		struct json_object *f = json_object_new_object();
		const struct bs_file *b = &bs_files[i];

		snprintf(buf, sizeof(buf), "%s/%s%s/%s", out, n->name, b->dir, b->name);
		json_object_object_add(f, "from", json_object_new_string(buf));
		snprintf(buf, sizeof(buf), "%s/%s", b->dir, b->name);
		json_object_object_add(f, "to", json_object_new_string(buf));
		snprintf(buf, sizeof(buf), "%04o", b->mode);
		json_object_object_add(f, "mode", json_object_new_string(buf));
		json_object_array_add(a, f);
	}
	return a;
}

/* Everything said about the cluster made, as data. outcomes: with --ssh only. */
static struct json_object *report_json(const struct cd_cc *cc, const char *out,
				       const struct outcome *outcomes)
{
	struct json_object *o = json_object_new_object(), *nodes = json_object_new_array(), *next;
	char buf[4096];
	size_t i;

	json_object_object_add(o, "cluster_name", json_object_new_string(cc->cluster_name));
	json_object_object_add(o, "token_ms", json_object_new_int64(cc->token_ms));
	json_object_object_add(o, "out", json_object_new_string(out));
	snprintf(buf, sizeof(buf), "%s/%s/ca.crt", out, BS_CA_DIR);
	json_object_object_add(o, "ca_cert", json_object_new_string(buf));
	snprintf(buf, sizeof(buf), "%s/%s/ca.key", out, BS_CA_DIR);
	json_object_object_add(o, "ca_key", json_object_new_string(buf));
	for (i = 0; i < cc->n_nodes; i++) {
		const struct cd_cc_node *n = &cc->nodes[i];
		struct json_object *j = json_object_new_object();

		json_object_object_add(j, "name", json_object_new_string(n->name));
		json_object_object_add(j, "nodeid", json_object_new_int64(n->nodeid));
		json_object_object_add(j, "ring0_addr", json_object_new_string(n->addr));
		json_object_object_add(j, "files", files_json(out, n));
		if (outcomes) {
			json_object_object_add(j, "copied",
					       json_object_new_boolean(outcomes[i].rc == 0));
			if (outcomes[i].rc < 0)
				json_object_object_add(j, "error",
						       json_object_new_string(outcomes[i].why));
		}
		json_object_array_add(nodes, j);
	}
	json_object_object_add(o, "nodes", nodes);
	next = json_object_new_array();
	for (i = 0; i < N_NEXT; i++)
		json_object_array_add(next, json_object_new_string(next_steps[i]));
	json_object_object_add(o, "next", next);
	return o;
}

static void print_files(const char *out, const struct cd_cc_node *n)
{
	size_t i;

	printf("  %s (%s):\n", n->name, n->addr);
	for (i = 0; i < BS_N_FILES; i++)
		printf("    %s/%s%s/%s  ->  %s/%s  (mode %04o)\n", out, n->name, bs_files[i].dir,
		       bs_files[i].name, bs_files[i].dir, bs_files[i].name, bs_files[i].mode);
}

static void report_text(const struct cd_cc *cc, const char *out, const struct outcome *outcomes)
{
	bool by_hand = !outcomes;
	size_t i;

	printf("cluster %s: %zu nodes, token %u ms, files in %s/\n", cc->cluster_name, cc->n_nodes,
	       cc->token_ms, out);
	printf("Keep %s/%s/ca.key safe and off the nodes: it signs the certificates of nodes "
	       "added later.\n",
	       out, BS_CA_DIR);
	for (i = 0; outcomes && i < cc->n_nodes; i++) {
		if (outcomes[i].rc == 0)
			printf("%s: files copied\n", cc->nodes[i].name);
		else
			printf("%s\n", outcomes[i].why); /* "NODE: what failed" */
		by_hand |= outcomes[i].rc < 0;
	}
	if (by_hand) {
		printf("\nCopy to %s as root, with these modes (make /etc/clusterd/pki with mode "
		       "%04o first):\n",
		       outcomes ? "the nodes whose copy failed" : "each node", BS_PKI_DIR_MODE);
		for (i = 0; i < cc->n_nodes; i++)
			if (!outcomes || outcomes[i].rc < 0)
				print_files(out, &cc->nodes[i]);
	}
	printf("\nThen on every node:\n");
	for (i = 0; i < N_NEXT; i++)
		printf("  %s\n", next_steps[i]);
}

/*
 * Every node is checked before anything is written or copied: a node that
 * cannot take the files stops it all, with each node's reason.
 */
static int check_nodes(const struct cd_cc *cc, const struct bs_remote *r)
{
	struct json_object *nodes = json_object_new_array();
	struct outcome res;
	int first = 0;
	size_t i;

	for (i = 0; i < cc->n_nodes; i++) {
		struct json_object *j = json_object_new_object();

		res.rc = bs_remote_check(r, &cc->nodes[i], res.why, sizeof(res.why));
		json_object_object_add(j, "name", json_object_new_string(cc->nodes[i].name));
		json_object_object_add(j, "ready", json_object_new_boolean(res.rc == 0));
		if (res.rc < 0) {
			json_object_object_add(j, "error", json_object_new_string(res.why));
			fprintf(stderr, "clusterctl: %s\n", res.why);
			if (!first)
				first = res.rc;
		}
		json_object_array_add(nodes, j);
	}
	if (first)
		fail(first, "not every node can take the cluster's files: nothing was written",
		     nodes);
	json_object_put(nodes);
	return first;
}

int cmd_cluster_create(struct cd_client *c, char **argv, int argc, const struct ctl_opts *o)
{
	struct bs_remote remote = {"ssh", "scp",
				   o->timeout_ms / 1000 > 0 ? o->timeout_ms / 1000 : 1};
	struct outcome outcomes[CD_CC_MAX_NODES];
	const char *out = o->out ? o->out : argv[0];
	struct cd_cc cc;
	char err[512];
	int rc, first = 0;
	size_t i;

	rc = cd_cc_init(&cc, argv[0], o->token ? (uint32_t)strtoul(o->token, NULL, 10) : 0, err,
			sizeof(err));
	if (rc == 0)
		rc = cd_cc_add_hosts(&cc, o->hosts, err, sizeof(err));
	if (rc == 0 && cc.n_nodes < 2)
		return fail(CD_ERR_INVALID, "a failover cluster needs two nodes or more", NULL);
	if (rc < 0)
		return fail(rc, err, NULL);
	if (o->ssh && (rc = check_nodes(&cc, &remote)) < 0)
		return rc;
	rc = bs_write(out, &cc, err, sizeof(err));
	if (rc < 0)
		return fail(rc, err, NULL);
	for (i = 0; o->ssh && i < cc.n_nodes; i++) {
		outcomes[i].rc = bs_remote_copy(&remote, out, &cc.nodes[i], outcomes[i].why,
						sizeof(outcomes[i].why));
		if (outcomes[i].rc < 0 && !first)
			first = outcomes[i].rc;
	}
	if (o->json) {
		struct json_object *j = report_json(&cc, out, o->ssh ? outcomes : NULL);

		if (first)
			json_object_object_add(
				j, "error",
				json_object_new_string("the files were not copied to every node"));

		print_json(j);
		json_object_put(j);
	} else {
		report_text(&cc, out, o->ssh ? outcomes : NULL);
	}
	fflush(stdout);
	for (i = 0; o->ssh && i < cc.n_nodes; i++)
		if (outcomes[i].rc < 0)
			fprintf(stderr, "clusterctl: %s\n", outcomes[i].why);
	return first;
}
