/*
 * What clusterctl cluster create makes and where it goes: the files of
 * every node's tree (bootstrap.c writes them under an output directory)
 * and their copy to the nodes over ssh as root (bootstrap_ssh.c). Nothing
 * here talks to clusterd: the cluster does not exist yet.
 */
#ifndef CD_BOOTSTRAP_H
#define CD_BOOTSTRAP_H

#include <stdbool.h>
#include <stddef.h>

#include "lib/corosync_conf.h"

/* Where the CA's certificate and key are kept, under the output directory. */
#define BS_CA_DIR "ca"

/*
 * One file of a node: the directory it goes to on the node (and, without
 * the leading '/', under OUT/NODE), its name and mode.
 */
struct bs_file {
	const char *dir, *name;
	unsigned mode;
};

#define BS_N_FILES 5
extern const struct bs_file bs_files[BS_N_FILES];

/* The mode of /etc/clusterd/pki on a node (it holds the node's key). */
#define BS_PKI_DIR_MODE 0700

/*
 * Where this host keeps its own copy of a file of bs_files[]: its place
 * above, unless the environment names another, as in a test that runs
 * several nodes on one machine (the commands a member runs on other hosts
 * over ssh always use the places above):
 *
 *   CLUSTERCTL_COROSYNC_CONF  corosync.conf
 *   CLUSTERCTL_AUTHKEY        corosync's authkey
 *   CLUSTERCTL_PKI_DIR        the directory of ca.crt, node.crt, node.key
 *
 * An empty variable counts as unset. bs_local_path() puts f's path in
 * path (n bytes); -ENAMETOOLONG if it does not fit.
 */
#define BS_ENV_CONF "CLUSTERCTL_COROSYNC_CONF"
#define BS_ENV_AUTHKEY "CLUSTERCTL_AUTHKEY"
#define BS_ENV_PKI_DIR "CLUSTERCTL_PKI_DIR"
int bs_local_path(const struct bs_file *f, char *path, size_t n);

/* The directory bs_local_path() puts f in (the part before its last '/'), into dir (n bytes). */
int bs_local_dir(const struct bs_file *f, char *dir, size_t n);

/* bs_files[]'s entry of name ("corosync.conf", "authkey", "ca.crt", ...); NULL if none. */
const struct bs_file *bs_file_named(const char *name);

/*
 * Write the cluster's files under out: OUT/ca/{ca.crt,ca.key} and, for
 * every node, OUT/NODE/ and bs_files[] below it (one authkey for all).
 * out is made with mode 0700, or must be an empty directory
 * (CD_ERR_EXISTS otherwise). On failure, what was written is removed.
 */
int bs_write(const char *out, const struct cd_cc *cc, char *err, size_t errlen);

/*
 * Make out with mode 0700 (*made), or take it if it is an empty directory
 * (CD_ERR_EXISTS otherwise); bs_remove_out() undoes it: what is under out
 * goes, and out too if it was made.
 */
int bs_take_out(const char *out, bool *made, char *err, size_t errlen);
void bs_remove_out(const char *out, bool made);

struct cd_pki_ca;

/*
 * Node n's files under out/NAME, for a node added to a running cluster:
 * conf, a copy of the cluster's authkey (the file authkey), the CA's
 * certificate and a new key and certificate signed by ca. conf_only: only
 * corosync.conf (a node already in the cluster; ca may be NULL).
 */
int bs_write_node(const char *out, const struct cd_cc_node *n, const char *conf,
		  const struct cd_pki_ca *ca, const char *authkey, bool conf_only, char *err,
		  size_t errlen);

/* How to reach the nodes: the programs (ssh, scp) and the connect timeout. */
struct bs_remote {
	const char *ssh, *scp;
	int timeout_s;
};

/*
 * Whether node n can take the cluster's files: reachable as root by ssh
 * without a password prompt, corosync and clusterd installed, and no
 * cluster CA there yet. Returns 0, CD_ERR_REFUSED (the node is not ready,
 * said in err) or -EHOSTUNREACH (ssh failed: its last words in err).
 */
int bs_remote_check(const struct bs_remote *r, const struct cd_cc_node *n, char *err,
		    size_t errlen);

/*
 * Copy node n's files from OUT/NODE to their places on the node, modes
 * kept. Returns 0 or -EHOSTUNREACH with what failed in err.
 */
int bs_remote_copy(const struct bs_remote *r, const char *out, const struct cd_cc_node *n,
		   char *err, size_t errlen);

/*
 * Run argv here (fork and exec), its standard input and output /dev/null;
 * the last line of its standard error in last (n bytes). Returns its exit
 * status, or -errno if it could not be run.
 */
int bs_run(char *const argv[], char *last, size_t n);

/*
 * Run command (a fixed string, or one built only of names and addresses
 * that cd_cc_valid_name() and the IP parser accepted) as root on the host
 * at addr. Its exit status or -errno, ssh's last words in last.
 */
int bs_remote_run(const struct bs_remote *r, const char *addr, const char *command, char *last,
		  size_t lastlen);

/*
 * Node n's new corosync.conf (out/NAME/etc/corosync/corosync.conf) put in
 * place on it: copied beside the old one, then renamed over it, so that a
 * reload never reads half a file. 0 or -EHOSTUNREACH with what failed.
 */
int bs_remote_put_conf(const struct bs_remote *r, const char *out, const struct cd_cc_node *n,
		       char *err, size_t errlen);

/* scp -rp root@addr:remote (a directory) to local. 0 or -EHOSTUNREACH. */
int bs_remote_fetch(const struct bs_remote *r, const char *addr, const char *remote,
		    const char *local, char *err, size_t errlen);

#endif
