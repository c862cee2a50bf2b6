/*
 * clusterctl cluster create's files: the CA, and for every node the same
 * corosync.conf and authkey, the CA's certificate and its own key and
 * certificate, each in a tree laid out as on the node.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <clusterd/result.h>

#include "cli/bootstrap.h"
#include "lib/pki.h"
#include "lib/util.h"

#define FAIL CD_FAIL

const struct bs_file bs_files[BS_N_FILES] = {
	{"/etc/corosync", "corosync.conf", 0644},
	{"/etc/corosync", "authkey", CD_PKI_AUTHKEY_MODE},
	{"/etc/clusterd/pki", "ca.crt", CD_PKI_CERT_MODE},
	{"/etc/clusterd/pki", "node.crt", CD_PKI_CERT_MODE},
	{"/etc/clusterd/pki", "node.key", CD_PKI_KEY_MODE},
};

const struct bs_file *bs_file_named(const char *name)
{
	size_t k;

	for (k = 0; k < BS_N_FILES; k++)
		if (strcmp(bs_files[k].name, name) == 0)
			return &bs_files[k];
	return NULL;
}

/* The variable's value, or NULL if it is unset or empty. */
static const char *env_set(const char *var)
{
	const char *v = getenv(var);

	return v && *v ? v : NULL;
}

int bs_local_path(const struct bs_file *f, char *path, size_t n)
{
	const char *v;
	int len;

	if (strcmp(f->name, "corosync.conf") == 0 && (v = env_set(BS_ENV_CONF)))
		len = snprintf(path, n, "%s", v);
	else if (strcmp(f->name, "authkey") == 0 && (v = env_set(BS_ENV_AUTHKEY)))
		len = snprintf(path, n, "%s", v);
	else if (strcmp(f->dir, "/etc/clusterd/pki") == 0 && (v = env_set(BS_ENV_PKI_DIR)))
		len = snprintf(path, n, "%s/%s", v, f->name);
	else
		len = snprintf(path, n, "%s/%s", f->dir, f->name);
	return len < 0 || (size_t)len >= n ? -ENAMETOOLONG : 0;
}

int bs_local_dir(const struct bs_file *f, char *dir, size_t n)
{
	char *slash;
	int rc = bs_local_path(f, dir, n);

	if (rc < 0)
		return rc;
	slash = strrchr(dir, '/');
	if (!slash)
		cd_strlcpy(dir, ".", n);
	else if (slash == dir)
		dir[1] = '\0';
	else
		*slash = '\0';
	return 0;
}

int bs_take_out(const char *out, bool *made, char *err, size_t errlen)
{
	struct dirent *e;
	DIR *d;

	*made = false;
	if (mkdir(out, 0700) == 0) {
		*made = true;
		return 0;
	}
	if (errno != EEXIST)
		FAIL(-errno, "%s: %s", out, strerror(errno));
	d = opendir(out);
	if (!d)
		FAIL(-errno, "%s: %s", out, strerror(errno));
	while ((e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0) {
			closedir(d);
			FAIL(CD_ERR_EXISTS, "%s exists and is not empty: give another --out", out);
		}
	}
	closedir(d);
	return 0;
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	/* The top is out itself, removed (or not) by the caller. */
	if (ftw->level > 0)
		remove(path);
	return 0;
}

void bs_remove_out(const char *out, bool made)
{
	nftw(out, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
	if (made)
		rmdir(out);
}

/* a/b/c into path (PATH_MAX bytes); b or c may be empty. */
static int join(char *path, const char *a, const char *b, const char *c, char *err, size_t errlen)
{
	if (snprintf(path, PATH_MAX, "%s/%s%s%s", a, b, *b && *c ? "/" : "", c) >= PATH_MAX)
		FAIL(-ENAMETOOLONG, "%s/%s: the path is too long", a, b);
	return 0;
}

/* Make the directory dir and its parents, for this tree's eyes only. */
static int make_dir(const char *dir, char *err, size_t errlen)
{
	int rc = cd_mkdir_p(dir, 0700);

	if (rc < 0)
		FAIL(rc, "%s: %s", dir, cd_strerror(rc));
	return 0;
}

/*
 * One file of node n's tree: f's place under out/NAME. The authkey is
 * made once (its path then in authkey, PATH_MAX bytes) and copied to the
 * other nodes.
 */
static int write_file(const char *out, const struct cd_cc_node *n, const struct bs_file *f,
		      const char *conf, const struct cd_pki_ca *ca, char *authkey, char *err,
		      size_t errlen)
{
	char dir[PATH_MAX], path[PATH_MAX], key_path[PATH_MAX], *key;
	size_t len;
	int rc;

	/* f->dir begins with '/'. */
	if ((rc = join(dir, out, n->name, f->dir + 1, err, errlen)) < 0 ||
	    (rc = make_dir(dir, err, errlen)) < 0 ||
	    (rc = join(path, dir, "", f->name, err, errlen)) < 0)
		return rc;
	if (strcmp(f->name, "corosync.conf") == 0) {
		rc = cd_write_file_new(path, conf, strlen(conf), f->mode);
	} else if (strcmp(f->name, "authkey") == 0 && !authkey[0]) {
		cd_strlcpy(authkey, path, PATH_MAX);
		return cd_pki_authkey_write(path, err, errlen);
	} else if (strcmp(f->name, "authkey") == 0) {
		rc = cd_read_file(authkey, &key, &len);
		if (rc == 0) {
			rc = cd_write_file_new(path, key, len, f->mode);
			free(key);
		}
	} else if (strcmp(f->name, "ca.crt") == 0) {
		return cd_pki_ca_write_cert(ca, path, err, errlen);
	} else if (strcmp(f->name, "node.crt") == 0) {
		if ((rc = join(key_path, dir, "", "node.key", err, errlen)) < 0)
			return rc;
		return cd_pki_node_write(ca, n->name, n->addr, path, key_path, err, errlen);
	} else {
		return 0; /* node.key: written with node.crt */
	}
	if (rc < 0)
		FAIL(rc, "%s: %s", path, cd_strerror(rc));
	return 0;
}

static int write_all(const char *out, const struct cd_cc *cc, const char *conf,
		     struct cd_pki_ca **ca, char *err, size_t errlen)
{
	char dir[PATH_MAX], ca_crt[PATH_MAX], ca_key[PATH_MAX], authkey[PATH_MAX] = "";
	size_t i, k;
	int rc;

	if ((rc = cd_pki_ca_new(cc->cluster_name, ca, err, errlen)) < 0 ||
	    (rc = join(dir, out, BS_CA_DIR, "", err, errlen)) < 0 ||
	    (rc = make_dir(dir, err, errlen)) < 0 ||
	    (rc = join(ca_crt, out, BS_CA_DIR, "ca.crt", err, errlen)) < 0 ||
	    (rc = join(ca_key, out, BS_CA_DIR, "ca.key", err, errlen)) < 0)
		return rc;
	rc = cd_pki_ca_write(*ca, ca_crt, ca_key, err, errlen);
	for (i = 0; i < cc->n_nodes && rc == 0; i++)
		for (k = 0; k < BS_N_FILES && rc == 0; k++)
			rc = write_file(out, &cc->nodes[i], &bs_files[k], conf, *ca, authkey, err,
					errlen);
	return rc;
}

int bs_write_node(const char *out, const struct cd_cc_node *n, const char *conf,
		  const struct cd_pki_ca *ca, const char *authkey, bool conf_only, char *err,
		  size_t errlen)
{
	char key[PATH_MAX];
	size_t k;
	int rc = 0;

	cd_strlcpy(key, authkey, sizeof(key));
	for (k = 0; k < (conf_only ? 1 : BS_N_FILES) && rc == 0; k++)
		rc = write_file(out, n, &bs_files[k], conf, ca, key, err, errlen);
	return rc;
}

int bs_write(const char *out, const struct cd_cc *cc, char *err, size_t errlen)
{
	struct cd_pki_ca *ca = NULL;
	char *conf;
	bool made;
	size_t i;
	int rc;

	for (i = 0; i < cc->n_nodes; i++)
		if (strcmp(cc->nodes[i].name, BS_CA_DIR) == 0)
			FAIL(CD_ERR_INVALID,
			     "a node named %s: its files would share %s/%s with the CA's key",
			     BS_CA_DIR, out, BS_CA_DIR);
	conf = cd_cc_render(cc);
	if (!conf)
		FAIL(-ENOMEM, "out of memory");
	rc = bs_take_out(out, &made, err, errlen);
	if (rc < 0)
		goto out_free;
	rc = write_all(out, cc, conf, &ca, err, errlen);
	if (rc < 0)
		bs_remove_out(out, made);
	cd_pki_ca_free(ca);
out_free:
	free(conf);
	return rc;
}
