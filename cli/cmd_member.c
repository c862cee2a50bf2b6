/*
 * clusterctl node add, node remove, cluster join and cluster leave: a node
 * added to or removed from a running cluster, as pcs cluster node add and
 * pvecm add/delnode do. corosync.conf is edited in place (lib/cc_edit.h),
 * the new node's files are laid out as cluster create lays them out
 * (bootstrap.h), and corosync-cfgtool -R on this node has every member
 * read its file again.
 */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <clusterd/client.h>
#include <clusterd/result.h>

#include "cli/bootstrap.h"
#include "cli/clusterctl.h"
#include "lib/cc_edit.h"
#include "lib/pki.h"
#include "lib/util.h"

/* This host's own files: their usual places, or the environment's (bootstrap.h). */
#define COROSYNC_CONF here("corosync.conf")
#define AUTHKEY here("authkey")
#define NODE_CA_CERT here("ca.crt")
/* Where a member keeps corosync.conf, in the steps printed for the others. */
#define MEMBER_CONF "/etc/corosync/corosync.conf"
/* Where cluster join has its member leave the new host's files. */
#define JOIN_DIR "/var/tmp/clusterctl-join-"
/* Where node remove --ssh lays out the members' new corosync.conf (mkdtemp). */
#define REMOVE_DIR "/var/tmp/clusterctl-remove-XXXXXX"

/* What a new node runs once its files are in place (cluster create's steps). */
static const char *const new_node_steps[] = {
	"systemctl enable corosync clusterd",
	"systemctl restart corosync clusterd",
};
#define N_NEW_STEPS (sizeof(new_node_steps) / sizeof(new_node_steps[0]))

/*
 * This host's copy of the file of bs_files[] called name (bs_local_path()),
 * in a buffer of its own that lives as long as the program. A path from the
 * environment too long for PATH_MAX is cut, and then not found.
 */
static const char *here(const char *name)
{
	static char paths[BS_N_FILES][PATH_MAX];
	const struct bs_file *f = bs_file_named(name);
	char *p = paths[f - bs_files];

	bs_local_path(f, p, PATH_MAX);
	return p;
}

static int fail(const char *what, int rc, const char *msg)
{
	if (opt.json) {
		struct json_object *o = json_object_new_object();

		json_object_object_add(o, "error", json_object_new_string(msg));
		print_json(o);
		json_object_put(o);
	}
	fprintf(stderr, "clusterctl: %s: %s\n", what, msg);
	return rc;
}

static struct bs_remote remote_of(const struct ctl_opts *o)
{
	return (struct bs_remote){"ssh", "scp",
				  o->timeout_ms / 1000 > 0 ? o->timeout_ms / 1000 : 1};
}

/* This node's corosync.conf, read and parsed; *text is new (free()). */
static int read_conf(char **text, struct cd_cc *cc, char *err, size_t errlen)
{
	size_t len;
	int rc = cd_read_file(COROSYNC_CONF, text, &len);

	if (rc < 0)
		CD_FAIL(rc, "%s: %s (run this on a member of the cluster)", COROSYNC_CONF,
			cd_strerror(rc));
	rc = cd_cc_parse(cc, *text, err, errlen);
	if (rc < 0) {
		free(*text);
		*text = NULL;
	}
	return rc;
}

/*
 * Which of cc's nodes this host is: --as NAME, else the one named as the
 * host (or the host name's first label). NULL if none.
 */
static const struct cd_cc_node *self_in(const struct cd_cc *cc, const char *as)
{
	char host[256];
	size_t i;

	if (!as) {
		if (gethostname(host, sizeof(host)) < 0)
			return NULL;
		host[sizeof(host) - 1] = '\0';
	} else {
		cd_strlcpy(host, as, sizeof(host));
		host[strcspn(host, "=")] = '\0';
	}
	for (i = 0; i < cc->n_nodes; i++)
		if (strcmp(cc->nodes[i].name, host) == 0)
			return &cc->nodes[i];
	host[strcspn(host, ".")] = '\0';
	for (i = 0; i < cc->n_nodes; i++)
		if (strcmp(cc->nodes[i].name, host) == 0)
			return &cc->nodes[i];
	return NULL;
}

/* corosync-cfgtool -R here: every member reads its corosync.conf again. */
static int reload(char *err, size_t errlen)
{
	char *argv[] = {(char *)"corosync-cfgtool", (char *)"-R", NULL}, last[512];
	int rc = bs_run(argv, last, sizeof(last));

	if (rc != 0)
		CD_FAIL(-EIO, "corosync-cfgtool -R failed (%s%s%.200s)",
			rc < 0 ? cd_strerror(rc) : "exit status", rc < 0 ? "" : " ",
			rc < 0 ? "" : last);
	return 0;
}

/* This node's corosync.conf replaced by text, crash-safely. */
static int install_conf(const char *text, char *err, size_t errlen)
{
	int rc = cd_write_file_atomic(COROSYNC_CONF, text, strlen(text));

	if (rc < 0)
		CD_FAIL(rc, "%s: %s", COROSYNC_CONF, cd_strerror(rc));
	chmod(COROSYNC_CONF, 0644);
	return 0;
}

/* ------------------------------------------------------------- node add */

/*
 * The cluster's CA from --ca DIR: DIR/ca.crt and DIR/ca.key, or cluster
 * create's output directory (DIR/ca/...). It must be the CA whose
 * certificate this node has.
 */
static int load_ca(const char *dir, struct cd_pki_ca **ca, char *err, size_t errlen)
{
	char crt[PATH_MAX], key[PATH_MAX], *mine = NULL, *given = NULL;
	size_t n1, n2;
	struct stat st;
	int rc;

	if (!dir)
		CD_FAIL(CD_ERR_INVALID,
			"the cluster's CA is needed for the new node's certificate: "
			"--ca DIR (cluster create's output directory, or the "
			"directory of its ca.crt and ca.key)");
	snprintf(crt, sizeof(crt), "%s/ca.crt", dir);
	snprintf(key, sizeof(key), "%s/ca.key", dir);
	if (stat(key, &st) < 0) {
		snprintf(crt, sizeof(crt), "%s/%s/ca.crt", dir, BS_CA_DIR);
		snprintf(key, sizeof(key), "%s/%s/ca.key", dir, BS_CA_DIR);
	}
	if ((rc = cd_pki_ca_load(crt, key, ca, err, errlen)) < 0)
		return rc;
	if (cd_read_file(NODE_CA_CERT, &mine, &n1) == 0 && cd_read_file(crt, &given, &n2) == 0 &&
	    (n1 != n2 || memcmp(mine, given, n1) != 0))
		rc = CD_ERR_REFUSED;
	free(mine);
	free(given);
	if (rc < 0) {
		cd_pki_ca_free(*ca);
		*ca = NULL;
		CD_FAIL(rc, "%.300s is not the CA of this cluster (%s differs)", crt, NODE_CA_CERT);
	}
	return 0;
}

/* Every file written for node add: the new node's five, the members' conf. */
static int write_add(const char *out, const struct cd_cc *old, const struct cd_cc_node *n,
		     const char *conf, const struct cd_pki_ca *ca, char *err, size_t errlen)
{
	bool made;
	size_t i;
	int rc;

	if (strcmp(n->name, BS_CA_DIR) == 0)
		CD_FAIL(CD_ERR_INVALID, "a node named %s: give it another name", BS_CA_DIR);
	if ((rc = bs_take_out(out, &made, err, errlen)) < 0)
		return rc;
	rc = bs_write_node(out, n, conf, ca, AUTHKEY, false, err, errlen);
	for (i = 0; i < old->n_nodes && rc == 0; i++)
		rc = bs_write_node(out, &old->nodes[i], conf, NULL, AUTHKEY, true, err, errlen);
	if (rc < 0)
		bs_remove_out(out, made);
	return rc;
}

/* What became of each step with --ssh: a message per node that failed. */
struct add_run {
	int rc;
	struct json_object *failed; /* [{"node", "error"}] */
	bool reloaded;
};

static void note_failure(struct add_run *run, const char *node, int rc, const char *why)
{
	struct json_object *f = json_object_new_object();

	json_object_object_add(f, "node", json_object_new_string(node));
	json_object_object_add(f, "error", json_object_new_string(why));
	json_object_array_add(run->failed, f);
	fprintf(stderr, "clusterctl: %s\n", why);
	if (!run->rc)
		run->rc = rc;
}

/*
 * The new conf to every member (this one by a file replaced here, the
 * others over ssh), the new host's files to it unless it fetches them,
 * then the reload. A member the copy failed for is said; the reload still
 * runs, since the others have the new file (the admin copies the rest and
 * runs corosync-cfgtool -R again).
 */
static void copy_add(const struct ctl_opts *o, const char *out, const struct cd_cc *old,
		     const struct cd_cc_node *self, const struct cd_cc_node *n, const char *conf,
		     struct add_run *run)
{
	struct bs_remote r = remote_of(o);
	char why[512];
	size_t i;
	int rc;

	for (i = 0; i < old->n_nodes; i++) {
		const struct cd_cc_node *m = &old->nodes[i];

		rc = m == self ? install_conf(conf, why, sizeof(why))
			       : bs_remote_put_conf(&r, out, m, why, sizeof(why));
		if (rc < 0)
			note_failure(run, m->name, rc, why);
	}
	if (!o->fetch && (rc = bs_remote_copy(&r, out, n, why, sizeof(why))) < 0)
		note_failure(run, n->name, rc, why);
	if ((rc = reload(why, sizeof(why))) < 0)
		note_failure(run, self->name, rc, why);
	else
		run->reloaded = true;
}

static struct json_object *steps_json(const char *const *steps, size_t n)
{
	struct json_object *a = json_object_new_array();
	size_t i;

	for (i = 0; i < n; i++)
		json_object_array_add(a, json_object_new_string(steps[i]));
	return a;
}

static void report_add(const struct ctl_opts *o, const char *out, const struct cd_cc *old,
		       const struct cd_cce_change *ch, const struct add_run *run)
{
	const struct cd_cc_node *n = &ch->node;
	size_t i, k;

	if (o->json) {
		struct json_object *j = json_object_new_object(), *members;

		json_object_object_add(j, "name", json_object_new_string(n->name));
		json_object_object_add(j, "nodeid", json_object_new_int64(n->nodeid));
		json_object_object_add(j, "ring0_addr", json_object_new_string(n->addr));
		json_object_object_add(j, "nodes", json_object_new_int64((int64_t)ch->n_nodes));
		if (ch->version_bumped)
			json_object_object_add(j, "config_version",
					       json_object_new_int64((int64_t)ch->config_version));
		json_object_object_add(j, "out", json_object_new_string(out));
		members = json_object_new_array();
		for (i = 0; i < old->n_nodes; i++)
			json_object_array_add(members, json_object_new_string(old->nodes[i].name));
		json_object_object_add(j, "members", members);
		if (run) {
			json_object_object_add(j, "reloaded",
					       json_object_new_boolean(run->reloaded));
			json_object_object_add(j, "failed", json_object_get(run->failed));
		}
		json_object_object_add(j, "next", steps_json(new_node_steps, N_NEW_STEPS));
		print_json(j);
		json_object_put(j);
		return;
	}
	printf("node %s: id %u, ring0_addr %s; the cluster has %zu nodes, files in %s/\n", n->name,
	       n->nodeid, n->addr, ch->n_nodes, out);
	if (run) {
		printf("%s\n", run->rc ? "Some steps failed (above): do them by hand as below."
				       : "corosync.conf copied to every member and reloaded.");
	}
	if (!run || run->rc) {
		printf("\n1. On every member, as root, put the new corosync.conf in place:\n");
		for (i = 0; i < old->n_nodes; i++)
			printf("   %s/%s/etc/corosync/corosync.conf  ->  %s:%s\n", out,
			       old->nodes[i].name, old->nodes[i].name, MEMBER_CONF);
		printf("2. On one member (any): corosync-cfgtool -R\n");
	}
	if (!run || run->rc || o->fetch) {
		printf("3. Copy to %s as root, with these modes (make /etc/clusterd/pki with mode "
		       "%04o first):\n",
		       n->name, BS_PKI_DIR_MODE);
		for (k = 0; k < BS_N_FILES; k++)
			printf("   %s/%s%s/%s  ->  %s/%s  (mode %04o)\n", out, n->name,
			       bs_files[k].dir, bs_files[k].name, bs_files[k].dir, bs_files[k].name,
			       bs_files[k].mode);
	}
	printf("%s on %s:\n", run && !run->rc && !o->fetch ? "Then" : "4. Then", n->name);
	for (k = 0; k < N_NEW_STEPS; k++)
		printf("   %s\n", new_node_steps[k]);
}

int cmd_node_add(struct cd_client *c, char **argv, int argc, const struct ctl_opts *o)
{
	char name[CD_CC_NAME_MAX + 1], addr[CD_CC_ADDR_MAX + 1], out_buf[PATH_MAX], err[512];
	char *text = NULL, *conf = NULL;
	struct add_run run = {0, NULL, false};
	struct cd_pki_ca *ca = NULL;
	const struct cd_cc_node *self;
	struct cd_cce_change ch;
	struct bs_remote r = remote_of(o);
	const char *out = o->out;
	struct cd_cc old;
	int rc;

	if ((rc = cd_cce_split_host(argv[0], name, addr, err, sizeof(err))) < 0 ||
	    (rc = read_conf(&text, &old, err, sizeof(err))) < 0 ||
	    (rc = cd_cce_add(text, name, addr, &conf, &ch, err, sizeof(err))) < 0)
		goto out_fail;
	self = self_in(&old, NULL);
	if (o->ssh && !self) {
		rc = CD_ERR_INVALID;
		snprintf(err, sizeof(err),
			 "this host's name is none of corosync.conf's nodes: run node add on a "
			 "member, or without --ssh");
		goto out_fail;
	}
	if ((rc = load_ca(o->ca, &ca, err, sizeof(err))) < 0)
		goto out_fail;
	if (o->ssh && !o->fetch && (rc = bs_remote_check(&r, &ch.node, err, sizeof(err))) < 0)
		goto out_fail;
	if (!out) {
		snprintf(out_buf, sizeof(out_buf), "add-%s", name);
		out = out_buf;
	}
	if ((rc = write_add(out, &old, &ch.node, conf, ca, err, sizeof(err))) < 0)
		goto out_fail;
	if (o->ssh) {
		run.failed = json_object_new_array();
		copy_add(o, out, &old, self, &ch.node, conf, &run);
		rc = run.rc;
	}
	report_add(o, out, &old, &ch, o->ssh ? &run : NULL);
	json_object_put(run.failed);
	goto out_free;
out_fail:
	fail("node add", rc, err);
out_free:
	cd_pki_ca_free(ca);
	free(conf);
	free(text);
	return rc;
}

/* ---------------------------------------------------------- node remove */

/*
 * Whether clusterd sees node as a member (of its state or of corosync's
 * membership), waiting up to the --timeout for it to go: a node just
 * stopped (cluster leave) takes a token timeout to be seen gone.
 * CD_ERR_NOT_FOUND: clusterd has no record of it.
 */
static int still_member(struct cd_client *c, const char *node, const struct ctl_opts *o)
{
	uint64_t deadline = cd_now_ms() + (uint64_t)o->timeout_ms;
	struct json_object *reply;
	int rc;

	for (;;) {
		rc = call_quiet(c, "node.show", args1("node", node), &reply);
		if (rc == 0)
			rc = jbool(reply, "member") || jbool(reply, "reachable");
		json_object_put(reply);
		if (rc <= 0 || cd_now_ms() >= deadline)
			return rc;
		sleep(1);
	}
}

/* The record in the replicated state: none (never ran clusterd) is no failure. */
static int remove_record(struct cd_client *c, const char *node, bool force, char *err,
			 size_t errlen)
{
	struct json_object *a = args1("node", node), *reply;
	int rc;

	json_object_object_add(a, "force", json_object_new_boolean(force));
	rc = call_quiet(c, "node.remove", a, &reply);
	json_object_put(a);
	if (rc < 0 && rc != CD_ERR_NOT_FOUND)
		snprintf(err, errlen, "%s",
			 jstr(reply, "error") ? jstr(reply, "error") : cd_strerror(rc));
	json_object_put(reply);
	return rc == CD_ERR_NOT_FOUND ? 0 : rc;
}

int cmd_node_remove(struct cd_client *c, char **argv, int argc, const struct ctl_opts *o)
{
	struct json_object *failed = json_object_new_array();
	struct bs_remote r = remote_of(o);
	const struct cd_cc_node *self;
	char *text = NULL, *conf = NULL, err[512], dir[PATH_MAX];
	struct cd_cce_change ch;
	struct cd_cc old, now;
	bool reloaded = false;
	size_t i;
	int rc;

	if ((rc = read_conf(&text, &old, err, sizeof(err))) < 0 ||
	    (rc = cd_cce_remove(text, argv[0], &conf, &ch, err, sizeof(err))) < 0)
		goto out_fail;
	self = self_in(&old, NULL);
	if (self && strcmp(self->name, argv[0]) == 0) {
		rc = CD_ERR_INVALID;
		snprintf(err, sizeof(err),
			 "%s is this node: run 'clusterctl cluster leave' here, or node remove on "
			 "another member",
			 argv[0]);
		goto out_fail;
	}
	rc = still_member(c, argv[0], o);
	if (rc > 0) {
		rc = CD_ERR_REFUSED;
		snprintf(err, sizeof(err),
			 "%s is a member of the cluster: stop clusterd and corosync on it first "
			 "('clusterctl cluster leave' there does both)",
			 argv[0]);
		goto out_fail;
	}
	if ((rc < 0 && rc != CD_ERR_NOT_FOUND) ||
	    (rc = remove_record(c, argv[0], o->force, err, sizeof(err))) < 0) {
		if (rc != CD_ERR_REFUSED && !err[0])
			snprintf(err, sizeof(err), "%s", cd_strerror(rc));
		goto out_fail;
	}
	if ((rc = install_conf(conf, err, sizeof(err))) < 0)
		goto out_fail;
	cd_cc_parse(&now, conf, err, sizeof(err));
	/*
	 * The others' copies, laid out as node add lays them out, in a
	 * directory of this run's own (one left by a run that died, or
	 * another remove at the same time, must not stop this one).
	 */
	snprintf(dir, sizeof(dir), "%s", REMOVE_DIR);
	if (o->ssh && !mkdtemp(dir)) {
		rc = -errno;
		fprintf(stderr, "clusterctl: %s: %s\n", dir, strerror(errno));
	} else if (o->ssh) {
		for (i = 0; i < now.n_nodes; i++) {
			const struct cd_cc_node *m = &now.nodes[i];

			if ((self && strcmp(m->name, self->name) == 0))
				continue;
			if ((rc = bs_write_node(dir, m, conf, NULL, AUTHKEY, true, err,
						sizeof(err))) == 0)
				rc = bs_remote_put_conf(&r, dir, m, err, sizeof(err));
			if (rc < 0) {
				struct json_object *f = json_object_new_object();

				json_object_object_add(f, "node", json_object_new_string(m->name));
				json_object_object_add(f, "error", json_object_new_string(err));
				json_object_array_add(failed, f);
				fprintf(stderr, "clusterctl: %s\n", err);
			}
		}
		bs_remove_out(dir, true);
		rc = reload(err, sizeof(err));
		reloaded = rc == 0;
		if (rc < 0)
			fprintf(stderr, "clusterctl: %s\n", err);
		if (rc == 0 && json_object_array_length(failed) > 0)
			rc = -EHOSTUNREACH;
	}
	if (o->json) {
		struct json_object *j = json_object_new_object();

		json_object_object_add(j, "removed", json_object_new_string(argv[0]));
		json_object_object_add(j, "nodeid", json_object_new_int64(ch.node.nodeid));
		json_object_object_add(j, "nodes", json_object_new_int64((int64_t)ch.n_nodes));
		json_object_object_add(j, "reloaded", json_object_new_boolean(reloaded));
		json_object_object_add(j, "failed", json_object_get(failed));
		print_json(j);
		json_object_put(j);
	} else {
		printf("node %s (id %u) removed from the state and from this node's %s; %zu nodes "
		       "left\n",
		       argv[0], ch.node.nodeid, COROSYNC_CONF, ch.n_nodes);
		if (!o->ssh || rc < 0) {
			printf("Copy %s to %s on every other member, then run "
			       "'corosync-cfgtool -R' on one of them:\n",
			       COROSYNC_CONF, MEMBER_CONF);
			for (i = 0; i < now.n_nodes; i++)
				if (!self || strcmp(now.nodes[i].name, self->name) != 0)
					printf("   %s (%s)\n", now.nodes[i].name,
					       now.nodes[i].addr);
		}
	}
	goto out_free;
out_fail:
	fail("node remove", rc, err);
out_free:
	json_object_put(failed);
	free(conf);
	free(text);
	return rc;
}

/* -------------------------------------------------- cluster join, leave */

/* --as NAME[=ADDRESS], or this host's name; checked as node add checks it. */
static int who_am_i(const struct ctl_opts *o, char *name, char *addr, char *err, size_t errlen)
{
	char host[256];
	int rc;

	if (o->as) {
		rc = cd_cce_split_host(o->as, name, addr, err, errlen);
	} else {
		if (gethostname(host, sizeof(host)) < 0)
			CD_FAIL(-errno, "gethostname: %s", strerror(errno));
		host[sizeof(host) - 1] = '\0';
		host[strcspn(host, ".")] = '\0';
		rc = cd_cce_split_host(host, name, addr, err, errlen);
	}
	if (rc < 0)
		return rc;
	if (!cd_cc_valid_name(name))
		CD_FAIL(CD_ERR_INVALID, "'%s' is not a node name: give --as NAME[=ADDRESS]", name);
	return 0;
}

/*
 * A path that goes into a command run on another host: only characters a
 * shell takes as they are.
 */
static bool shell_safe(const char *s)
{
	return *s &&
	       strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789/._-") ==
		       strlen(s);
}

/* The fetched files put in their places here (bs_local_path()), with their modes. */
static int install_fetched(const char *dir, char *err, size_t errlen)
{
	char from[PATH_MAX], to[PATH_MAX], *data;
	size_t k, len;
	int rc;

	for (k = 0; k < BS_N_FILES; k++) {
		const struct bs_file *f = &bs_files[k];
		bool pki = strcmp(f->dir, "/etc/clusterd/pki") == 0;

		if (snprintf(from, sizeof(from), "%s%s/%s", dir, f->dir, f->name) >=
			    (int)sizeof(from) ||
		    bs_local_dir(f, to, sizeof(to)) < 0)
			CD_FAIL(-ENAMETOOLONG, "%.200s: the path is too long", dir);
		if ((rc = cd_mkdir_p(to, pki ? BS_PKI_DIR_MODE : 0755)) < 0)
			CD_FAIL(rc, "making %.300s: %s", to, cd_strerror(rc));
		bs_local_path(f, to, sizeof(to));
		if ((rc = cd_read_file(from, &data, &len)) < 0)
			CD_FAIL(rc, "%.300s: %s", from, cd_strerror(rc));
		rc = cd_write_file_atomic(to, data, len);
		free(data);
		if (rc < 0 || chmod(to, f->mode) < 0)
			CD_FAIL(rc < 0 ? rc : -errno, "%.300s: %s", to,
				cd_strerror(rc < 0 ? rc : -errno));
	}
	return 0;
}

int cmd_cluster_join(struct cd_client *c, char **argv, int argc, const struct ctl_opts *o)
{
	char name[CD_CC_NAME_MAX + 1], addr[CD_CC_ADDR_MAX + 1], err[1024], last[512];
	char command[PATH_MAX + 512], remote_dir[128], local[PATH_MAX - 128], tree[PATH_MAX];
	struct bs_remote r = remote_of(o);
	struct stat st;
	size_t k;
	int rc;

	if ((rc = who_am_i(o, name, addr, err, sizeof(err))) < 0)
		return fail("cluster join", rc, err);
	if (stat(NODE_CA_CERT, &st) == 0) {
		snprintf(err, sizeof(err),
			 "this host has a cluster CA already (%.900s): it belongs to a cluster",
			 NODE_CA_CERT);
		return fail("cluster join", CD_ERR_REFUSED, err);
	}
	if (!o->ca || !shell_safe(o->ca) || !shell_safe(argv[0]) || (addr[0] && !shell_safe(addr)))
		return fail("cluster join", CD_ERR_INVALID,
			    "--ca DIR (the CA's directory on the member) is needed, and DIR and "
			    "HOST take letters, digits, '/', '.', '_' and '-' only");
	snprintf(remote_dir, sizeof(remote_dir), "%s%s", JOIN_DIR, name);
	/* The member adds this host, copies the conf to the members and reloads. */
	snprintf(command, sizeof(command),
		 "rm -rf %s && clusterctl node add %s%s%s --ca %s --out %s --ssh --fetch --json",
		 remote_dir, name, addr[0] ? "=" : "", addr, o->ca, remote_dir);
	rc = bs_remote_run(&r, argv[0], command, last, sizeof(last));
	if (rc != 0) {
		snprintf(err, sizeof(err), "%s: node add failed (%s %d)%s%s", argv[0],
			 rc < 0 ? "cannot run ssh:" : "exit status", rc, last[0] ? ": " : "", last);
		return fail("cluster join", rc < 0 ? -EHOSTUNREACH : CD_ERR_REFUSED, err);
	}
	snprintf(local, sizeof(local), "%s", o->out ? o->out : "join");
	if ((rc = cd_mkdir_p(local, 0700)) < 0) {
		snprintf(err, sizeof(err), "%.300s: %s", local, cd_strerror(rc));
		return fail("cluster join", rc, err);
	}
	snprintf(tree, sizeof(tree), "%s/%s", remote_dir, name);
	if ((rc = bs_remote_fetch(&r, argv[0], tree, local, err, sizeof(err))) < 0)
		return fail("cluster join", rc, err);
	snprintf(command, sizeof(command), "rm -rf %s", remote_dir);
	bs_remote_run(&r, argv[0], command, last, sizeof(last));
	snprintf(tree, sizeof(tree), "%s/%s", local, name);
	if ((rc = install_fetched(tree, err, sizeof(err))) < 0)
		return fail("cluster join", rc, err);
	if (o->json) {
		struct json_object *j = json_object_new_object();

		json_object_object_add(j, "name", json_object_new_string(name));
		json_object_object_add(j, "member", json_object_new_string(argv[0]));
		json_object_object_add(j, "files", json_object_new_string(tree));
		json_object_object_add(j, "next", steps_json(new_node_steps, N_NEW_STEPS));
		print_json(j);
		json_object_put(j);
	} else {
		printf("%s added by %s; its files are in place (a copy in %s/).\nNow here:\n", name,
		       argv[0], tree);
		for (k = 0; k < N_NEW_STEPS; k++)
			printf("   %s\n", new_node_steps[k]);
	}
	return 0;
}

/* What cluster leave stops here before another member removes this node. */
static const char *const leave_stop[] = {"systemctl", "stop", "clusterd", "corosync", NULL};
static const char *const leave_disable[] = {"systemctl", "disable", "clusterd", "corosync", NULL};

int cmd_cluster_leave(struct cd_client *c, char **argv, int argc, const struct ctl_opts *o)
{
	struct bs_remote r = remote_of(o);
	const struct cd_cc_node *self;
	char *text = NULL, err[1024], last[512], command[256];
	struct cd_cc cc;
	size_t i;
	int rc;

	if ((rc = read_conf(&text, &cc, err, sizeof(err))) < 0)
		return fail("cluster leave", rc, err);
	free(text);
	self = self_in(&cc, o->as);
	if (!self)
		return fail("cluster leave", CD_ERR_INVALID,
			    "this host is none of corosync.conf's nodes: give --as NAME");
	if (cc.n_nodes - 1 < CD_CCE_MIN_NODES)
		return fail("cluster leave", CD_ERR_INVALID,
			    "the cluster would be left with fewer than 2 nodes");
	/* clusterd drains the node as it stops (shutdown-policy), then corosync goes. */
	rc = bs_run((char *const *)leave_stop, last, sizeof(last));
	if (rc != 0) {
		snprintf(err, sizeof(err),
			 "systemctl stop clusterd corosync failed (%d)%s%s: stop them by hand, "
			 "then run 'clusterctl node remove %s' on another member",
			 rc, last[0] ? ": " : "", last, self->name);
		return fail("cluster leave", -EIO, err);
	}
	bs_run((char *const *)leave_disable, last, sizeof(last));
	snprintf(command, sizeof(command), "clusterctl node remove %s --ssh --json%s", self->name,
		 o->force ? " --force" : "");
	for (i = 0; i < cc.n_nodes; i++) {
		if (&cc.nodes[i] == self)
			continue;
		rc = bs_remote_run(&r, cc.nodes[i].addr, command, last, sizeof(last));
		if (rc == 0)
			break;
		fprintf(stderr, "clusterctl: %s: node remove failed (%d)%s%s\n", cc.nodes[i].name,
			rc, last[0] ? ": " : "", last);
	}
	if (rc != 0) {
		snprintf(err, sizeof(err),
			 "clusterd and corosync are stopped here, but no member removed %s: run "
			 "'clusterctl node remove %s --ssh' on one",
			 self->name, self->name);
		return fail("cluster leave", -EHOSTUNREACH, err);
	}
	if (o->json) {
		struct json_object *j = json_object_new_object();

		json_object_object_add(j, "left", json_object_new_string(self->name));
		json_object_object_add(j, "removed_by", json_object_new_string(cc.nodes[i].name));
		print_json(j);
		json_object_put(j);
	} else {
		printf("%s left the cluster: clusterd and corosync stopped and disabled here, "
		       "removed by %s.\n",
		       self->name, cc.nodes[i].name);
	}
	return 0;
}
