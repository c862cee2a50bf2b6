/*
 * clusterctl cluster create's files (cli/bootstrap.c) in a directory of
 * the test's own, and their copy to the nodes (cli/bootstrap_ssh.c) with
 * stand-ins for ssh and scp that only write down how they were run: no
 * test reaches any host.
 */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <clusterd/result.h>

#include "check_common.h"
#include "cli/bootstrap.h"
#include "lib/util.h"

static char dir[256], out[300], err[512];

static void setup(void)
{
	tmpdir_make(dir, sizeof(dir), "check_bootstrap");
	snprintf(out, sizeof(out), "%s/out", dir);
}

static void teardown(void)
{
	tmpdir_remove(dir);
}

static void cluster(struct cd_cc *cc, const char *hosts)
{
	ck_assert_int_eq(cd_cc_init(cc, "prod", 0, err, sizeof(err)), 0);
	ck_assert_msg(cd_cc_add_hosts(cc, hosts, err, sizeof(err)) == 0, "%s", err);
}

/* The mode of out/rel, or -1 if it is not there. */
static int mode_at(const char *rel)
{
	char path[PATH_MAX];
	struct stat st;

	ck_assert_int_lt(snprintf(path, sizeof(path), "%s/%s", out, rel), (int)sizeof(path));
	return stat(path, &st) == 0 ? (int)(st.st_mode & 07777) : -1;
}

static char *read_at(const char *rel, size_t *len)
{
	char path[PATH_MAX], *data;

	ck_assert_int_lt(snprintf(path, sizeof(path), "%s/%s", out, rel), (int)sizeof(path));
	ck_assert_int_eq(cd_read_file(path, &data, len), 0);
	return data;
}

START_TEST(test_trees)
{
	struct cd_cc cc, back;
	char rel[256], *conf, *key1, *key2;
	size_t i, k, len1, len2;

	cluster(&cc, "hv1=192.0.2.1,hv2=192.0.2.2,hv3");
	ck_assert_msg(bs_write(out, &cc, err, sizeof(err)) == 0, "%s", err);
	ck_assert_int_eq(mode_at(""), 0700);
	ck_assert_int_eq(mode_at("ca/ca.crt"), 0644);
	ck_assert_int_eq(mode_at("ca/ca.key"), 0600);
	for (i = 0; i < cc.n_nodes; i++) {
		snprintf(rel, sizeof(rel), "%s", cc.nodes[i].name);
		ck_assert_int_eq(mode_at(rel), 0700);
		for (k = 0; k < BS_N_FILES; k++) {
			snprintf(rel, sizeof(rel), "%s%s/%s", cc.nodes[i].name, bs_files[k].dir,
				 bs_files[k].name);
			ck_assert_msg(mode_at(rel) == (int)bs_files[k].mode, "%s: %o", rel,
				      mode_at(rel));
		}
	}
	/* One corosync.conf, the cluster's, on every node; one authkey. */
	conf = read_at("hv3/etc/corosync/corosync.conf", &len1);
	ck_assert_int_eq(cd_cc_parse(&back, conf, err, sizeof(err)), 0);
	ck_assert_int_eq(memcmp(&back, &cc, sizeof(cc)), 0);
	free(conf);
	key1 = read_at("hv1/etc/corosync/authkey", &len1);
	key2 = read_at("hv3/etc/corosync/authkey", &len2);
	ck_assert_uint_eq(len1, 256);
	ck_assert_uint_eq(len2, 256);
	ck_assert_int_eq(memcmp(key1, key2, len1), 0);
	free(key1);
	free(key2);
	/* The CA's key is in no node's tree. */
	ck_assert_int_eq(mode_at("hv1/etc/clusterd/pki/ca.key"), -1);
}
END_TEST

/* An existing empty directory is taken; one with anything in it is left as it is. */
START_TEST(test_out_refused)
{
	char path[PATH_MAX];
	struct cd_cc cc;

	cluster(&cc, "hv1,hv2");
	ck_assert_int_eq(mkdir(out, 0755), 0);
	ck_assert_int_eq(bs_write(out, &cc, err, sizeof(err)), 0);
	ck_assert_int_eq(bs_write(out, &cc, err, sizeof(err)), CD_ERR_EXISTS);
	ck_assert_ptr_nonnull(strstr(err, "not empty"));
	tmpdir_writef(path, sizeof(path), dir, "file", "x");
	ck_assert_int_eq(bs_write(path, &cc, err, sizeof(err)), -ENOTDIR);
	/* A node named as the CA's directory would share it with the CA's key. */
	cluster(&cc, "hv1,ca");
	snprintf(out, sizeof(out), "%s/other", dir);
	ck_assert_int_eq(bs_write(out, &cc, err, sizeof(err)), CD_ERR_INVALID);
	ck_assert_int_eq(mode_at(""), -1);
}
END_TEST

/*
 * Stand-ins for ssh and scp: each appends its name and arguments to
 * dir/log; ssh to "gone" fails as ssh does, "member" answers as a node of
 * another cluster, and scp to it is refused.
 */
static void stand_ins(struct bs_remote *r, char *ssh, char *scp)
{
	tmpdir_writef(
		ssh, PATH_MAX, dir, "ssh",
		"#!/bin/sh\n"
		"echo \"ssh $*\" >>%s/log\n"
		"case \"$*\" in\n"
		"*root@gone*) echo 'ssh: connect to host gone port 22: Connection refused' >&2;"
		" exit 255;;\n"
		"*root@member*\"test ! -e\"*) exit 3;;\n"
		"esac\n",
		dir);
	tmpdir_writef(
		scp, PATH_MAX, dir, "scp",
		"#!/bin/sh\n"
		"echo \"scp $*\" >>%s/log\n"
		"case \"$*\" in\n"
		"*root@member:*) echo 'scp: /etc/corosync/: Permission denied' >&2; exit 1;;\n"
		"esac\n",
		dir);
	ck_assert_int_eq(chmod(ssh, 0755), 0);
	ck_assert_int_eq(chmod(scp, 0755), 0);
	*r = (struct bs_remote){ssh, scp, 7};
}

START_TEST(test_remote)
{
	char ssh[PATH_MAX], scp[PATH_MAX], path[PATH_MAX], *log, want[PATH_MAX * 2];
	struct bs_remote r;
	struct cd_cc cc;
	size_t len;

	stand_ins(&r, ssh, scp);
	cluster(&cc, "hv1=2001:db8::1,gone,member");
	ck_assert_msg(bs_remote_check(&r, &cc.nodes[0], err, sizeof(err)) == 0, "%s", err);
	ck_assert_int_eq(bs_remote_check(&r, &cc.nodes[1], err, sizeof(err)), -EHOSTUNREACH);
	ck_assert_msg(strstr(err, "gone: logging in as root failed (") &&
			      strstr(err, "exit 255): ssh: connect to host gone port 22: "
					  "Connection refused"),
		      "%s", err);
	ck_assert_int_eq(bs_remote_check(&r, &cc.nodes[2], err, sizeof(err)), CD_ERR_REFUSED);
	ck_assert_msg(strstr(err, "member has a cluster CA already"), "%s", err);

	ck_assert_int_eq(bs_write(out, &cc, err, sizeof(err)), 0);
	ck_assert_msg(bs_remote_copy(&r, out, &cc.nodes[0], err, sizeof(err)) == 0, "%s", err);
	ck_assert_int_eq(bs_remote_copy(&r, out, &cc.nodes[1], err, sizeof(err)), -EHOSTUNREACH);
	ck_assert_msg(strstr(err, "gone: making /etc/clusterd/pki failed"), "%s", err);
	ck_assert_int_eq(bs_remote_copy(&r, out, &cc.nodes[2], err, sizeof(err)), -EHOSTUNREACH);
	ck_assert_msg(strstr(err, "member: copying to /etc/corosync failed (") &&
			      strstr(err, "exit 1): scp: /etc/corosync/: Permission denied"),
		      "%s", err);

	snprintf(path, sizeof(path), "%s/log", dir);
	ck_assert_int_eq(cd_read_file(path, &log, &len), 0);
	/* No prompt, a connect timeout, root, the node's address; IPv6 in brackets for scp. */
	ck_assert_ptr_nonnull(strstr(log, "ssh -o BatchMode=yes -o ConnectTimeout=7 "
					  "root@2001:db8::1 test ! -e /etc/clusterd/pki/ca.crt"));
	ck_assert_ptr_nonnull(strstr(log, "ssh -o BatchMode=yes -o ConnectTimeout=7 "
					  "root@2001:db8::1 mkdir -p /etc/corosync && "
					  "install -d -m 0700 /etc/clusterd/pki\n"));
	snprintf(want, sizeof(want),
		 "scp -p -o BatchMode=yes -o ConnectTimeout=7 %s/hv1/etc/corosync/corosync.conf "
		 "%s/hv1/etc/corosync/authkey root@[2001:db8::1]:/etc/corosync/\n",
		 out, out);
	ck_assert_msg(strstr(log, want), "%s", log);
	snprintf(want, sizeof(want),
		 "scp -p -o BatchMode=yes -o ConnectTimeout=7 %s/hv1/etc/clusterd/pki/ca.crt "
		 "%s/hv1/etc/clusterd/pki/node.crt %s/hv1/etc/clusterd/pki/node.key "
		 "root@[2001:db8::1]:/etc/clusterd/pki/\n",
		 out, out, out);
	ck_assert_msg(strstr(log, want), "%s", log);
	/* Nothing was copied to the node that could not be reached. */
	ck_assert_ptr_null(strstr(log, "root@gone:"));
	free(log);

	/* A relative output directory that scp could take for a host or an option. */
	ck_assert_int_eq(chdir(dir), 0);
	ck_assert_int_eq(bs_write("-o:x", &cc, err, sizeof(err)), 0);
	ck_assert_int_eq(bs_remote_copy(&r, "-o:x", &cc.nodes[0], err, sizeof(err)), 0);
	ck_assert_int_eq(cd_read_file(path, &log, &len), 0);
	ck_assert_ptr_nonnull(strstr(log, " ./-o:x/hv1/etc/corosync/corosync.conf ./-o:x/hv1/"));
	free(log);

	/* A missing program is said as such. */
	r.ssh = "/nonexistent/ssh";
	ck_assert_int_eq(bs_remote_check(&r, &cc.nodes[0], err, sizeof(err)), -EHOSTUNREACH);
	ck_assert_msg(strstr(err, "cannot run /nonexistent/ssh"), "%s", err);
}
END_TEST

/* A host's own files: the usual places, or the environment's. */
START_TEST(test_local_paths)
{
	static const struct {
		const char *file, *usual, *env, *value, *moved, *dir;
	} cases[] = {
		{"corosync.conf", "/etc/corosync/corosync.conf", BS_ENV_CONF, "/lab/n1/cs.conf",
		 "/lab/n1/cs.conf", "/lab/n1"},
		{"authkey", "/etc/corosync/authkey", BS_ENV_AUTHKEY, "key", "key", "."},
		{"ca.crt", "/etc/clusterd/pki/ca.crt", BS_ENV_PKI_DIR, "/lab/n1/pki",
		 "/lab/n1/pki/ca.crt", "/lab/n1/pki"},
		{"node.key", "/etc/clusterd/pki/node.key", BS_ENV_PKI_DIR, "/pki", "/pki/node.key",
		 "/pki"},
		{"node.crt", "/etc/clusterd/pki/node.crt", BS_ENV_PKI_DIR, "/", "//node.crt", "/"},
	};
	char path[PATH_MAX], small[3];
	const struct bs_file *f;
	size_t i;

	ck_assert_ptr_null(bs_file_named("nothing"));
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		unsetenv(BS_ENV_CONF);
		unsetenv(BS_ENV_AUTHKEY);
		unsetenv(BS_ENV_PKI_DIR);
		f = bs_file_named(cases[i].file);
		ck_assert_ptr_nonnull(f);
		ck_assert_int_eq(bs_local_path(f, path, sizeof(path)), 0);
		ck_assert_str_eq(path, cases[i].usual);
		/* Empty is unset. */
		setenv(cases[i].env, "", 1);
		ck_assert_int_eq(bs_local_path(f, path, sizeof(path)), 0);
		ck_assert_str_eq(path, cases[i].usual);
		setenv(cases[i].env, cases[i].value, 1);
		ck_assert_int_eq(bs_local_path(f, path, sizeof(path)), 0);
		ck_assert_str_eq(path, cases[i].moved);
		ck_assert_int_eq(bs_local_dir(f, path, sizeof(path)), 0);
		ck_assert_str_eq(path, cases[i].dir);
		ck_assert_int_eq(bs_local_path(f, small, sizeof(small)), -ENAMETOOLONG);
	}
	/* One variable moves only its own files. */
	unsetenv(BS_ENV_PKI_DIR);
	setenv(BS_ENV_CONF, "/x.conf", 1);
	setenv(BS_ENV_AUTHKEY, "/x.key", 1);
	ck_assert_int_eq(bs_local_path(bs_file_named("ca.crt"), path, sizeof(path)), 0);
	ck_assert_str_eq(path, "/etc/clusterd/pki/ca.crt");
	unsetenv(BS_ENV_CONF);
	unsetenv(BS_ENV_AUTHKEY);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("bootstrap");

	add_fixture_tcase(s, test_trees, setup, teardown);
	add_fixture_tcase(s, test_out_refused, setup, teardown);
	add_fixture_tcase(s, test_remote, setup, teardown);
	add_tcase(s, test_local_paths);
	return run_suite(s);
}
