/*
 * The cluster's certificate authority, node certificates and corosync
 * authkey, made with OpenSSL 3 (see pki.h).
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <clusterd/result.h>

#include "lib/corosync_conf.h"
#include "lib/pki.h"
#include "lib/util.h"

#define FAIL CD_FAIL

/*
 * Certificates start an hour back: one made on an admin's machine must
 * already be valid on a node whose clock is a little behind.
 */
#define BACKDATE_S 3600

struct cd_pki_ca {
	X509 *cert;
	EVP_PKEY *key;
};

/* OpenSSL's first queued error, after what, into err; the queue is cleared. */
static int ssl_fail(const char *what, char *err, size_t errlen)
{
	unsigned long e = ERR_get_error();
	char buf[256];

	ERR_error_string_n(e, buf, sizeof(buf));
	ERR_clear_error();
	snprintf(err, errlen, "%s: %s", what, e ? buf : "failed");
	return -EIO;
}

void cd_pki_ca_free(struct cd_pki_ca *ca)
{
	if (!ca)
		return;
	X509_free(ca->cert);
	EVP_PKEY_free(ca->key);
	free(ca);
}

/* One extension from its text (openssl x509v3_config), issued by issuer. */
static bool add_ext(X509 *cert, X509 *issuer, int nid, const char *value)
{
	X509V3_CTX ctx;
	X509_EXTENSION *ex;
	bool ok;

	X509V3_set_ctx_nodb(&ctx);
	X509V3_set_ctx(&ctx, issuer, cert, NULL, NULL, 0);
	ex = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
	if (!ex)
		return false;
	ok = X509_add_ext(cert, ex, -1) == 1;
	X509_EXTENSION_free(ex);
	return ok;
}

/*
 * A new unsigned certificate for key with subject CN=cn, a random serial
 * and days of validity.
 */
static X509 *new_cert(EVP_PKEY *key, const char *cn, long days)
{
	X509 *x = X509_new();
	X509_NAME *name;
	BIGNUM *serial = BN_new();
	bool ok;

	if (!x || !serial)
		goto fail;
	/* 127 random bits under a set top bit: positive, never 0, within 20 bytes. */
	ok = X509_set_version(x, X509_VERSION_3) == 1 &&
	     BN_rand(serial, 128, BN_RAND_TOP_ONE, BN_RAND_BOTTOM_ANY) == 1 &&
	     BN_to_ASN1_INTEGER(serial, X509_get_serialNumber(x)) &&
	     X509_gmtime_adj(X509_getm_notBefore(x), -BACKDATE_S) &&
	     X509_time_adj_ex(X509_getm_notAfter(x), (int)days, 0, NULL) &&
	     X509_set_pubkey(x, key) == 1;
	name = X509_get_subject_name(x);
	if (!ok || X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)cn,
					      -1, -1, 0) != 1)
		goto fail;
	BN_free(serial);
	return x;
fail:
	BN_free(serial);
	X509_free(x);
	return NULL;
}

int cd_pki_ca_new(const char *cluster_name, struct cd_pki_ca **out, char *err, size_t errlen)
{
	struct cd_pki_ca *ca;
	char cn[CD_CC_NAME_MAX + 32];
	int rc;

	*out = NULL;
	if (!cd_cc_valid_name(cluster_name))
		FAIL(CD_ERR_INVALID, "invalid cluster name '%s'", cluster_name);
	ca = calloc(1, sizeof(*ca));
	if (!ca)
		FAIL(-ENOMEM, "out of memory");
	snprintf(cn, sizeof(cn), "clusterd CA of %s", cluster_name);
	ca->key = EVP_EC_gen("P-256");
	if (!ca->key) {
		rc = ssl_fail("the CA key", err, errlen);
		goto out_free;
	}
	ca->cert = new_cert(ca->key, cn, CD_PKI_CA_DAYS);
	if (!ca->cert || X509_set_issuer_name(ca->cert, X509_get_subject_name(ca->cert)) != 1 ||
	    !add_ext(ca->cert, ca->cert, NID_basic_constraints, "critical,CA:TRUE,pathlen:0") ||
	    !add_ext(ca->cert, ca->cert, NID_key_usage, "critical,keyCertSign,cRLSign") ||
	    !add_ext(ca->cert, ca->cert, NID_subject_key_identifier, "hash") ||
	    X509_sign(ca->cert, ca->key, EVP_sha256()) == 0) {
		rc = ssl_fail("the CA certificate", err, errlen);
		goto out_free;
	}
	*out = ca;
	return 0;

out_free:
	cd_pki_ca_free(ca);
	return rc;
}

/* Read one PEM object of a file with read (PEM_read_bio_X509 or _PrivateKey). */
static void *read_pem(const char *path, void *(*read)(BIO *), char *err, size_t errlen, int *rc)
{
	BIO *b = BIO_new_file(path, "r");
	void *obj;

	if (!b) {
		*rc = ssl_fail(path, err, errlen);
		return NULL;
	}
	obj = read(b);
	BIO_free(b);
	if (!obj)
		*rc = ssl_fail(path, err, errlen);
	return obj;
}

static void *read_cert(BIO *b)
{
	return PEM_read_bio_X509(b, NULL, NULL, NULL);
}

static void *read_key(BIO *b)
{
	return PEM_read_bio_PrivateKey(b, NULL, NULL, NULL);
}

int cd_pki_ca_load(const char *cert_path, const char *key_path, struct cd_pki_ca **out, char *err,
		   size_t errlen)
{
	struct cd_pki_ca *ca = calloc(1, sizeof(*ca));
	int rc = 0;

	*out = NULL;
	if (!ca)
		FAIL(-ENOMEM, "out of memory");
	ca->cert = read_pem(cert_path, read_cert, err, errlen, &rc);
	if (ca->cert)
		ca->key = read_pem(key_path, read_key, err, errlen, &rc);
	if (rc < 0)
		goto out_free;
	if (X509_check_private_key(ca->cert, ca->key) != 1) {
		rc = ssl_fail("the CA key is not the CA certificate's", err, errlen);
		goto out_free;
	}
	*out = ca;
	return 0;

out_free:
	cd_pki_ca_free(ca);
	return rc;
}

/* What a PEM writer wrote to a memory BIO, into a new file of mode. */
static int write_bio(BIO *b, const char *path, unsigned int mode, char *err, size_t errlen)
{
	char *data;
	long len = BIO_get_mem_data(b, &data);
	int rc;

	if (len <= 0)
		FAIL(-EIO, "%s: nothing to write", path);
	rc = cd_write_file_new(path, data, (size_t)len, mode);
	if (rc < 0)
		FAIL(rc, "%s: %s", path, cd_strerror(rc));
	return 0;
}

/* x, or else key, as PEM into a new file of path. */
static int write_pem(X509 *x, EVP_PKEY *key, const char *path, char *err, size_t errlen)
{
	/* Secure memory for a key: its text is wiped when the BIO is freed. */
	BIO *b = BIO_new(x ? BIO_s_mem() : BIO_s_secmem());
	int rc;

	if (!b || (x ? PEM_write_bio_X509(b, x)
		     : PEM_write_bio_PrivateKey(b, key, NULL, NULL, 0, NULL, NULL)) != 1)
		rc = ssl_fail(path, err, errlen);
	else
		rc = write_bio(b, path, x ? CD_PKI_CERT_MODE : CD_PKI_KEY_MODE, err, errlen);
	BIO_free(b);
	return rc;
}

static int write_cert(X509 *x, const char *path, char *err, size_t errlen)
{
	return write_pem(x, NULL, path, err, errlen);
}

static int write_key(EVP_PKEY *key, const char *path, char *err, size_t errlen)
{
	return write_pem(NULL, key, path, err, errlen);
}

int cd_pki_ca_write_cert(const struct cd_pki_ca *ca, const char *cert_path, char *err,
			 size_t errlen)
{
	return write_cert(ca->cert, cert_path, err, errlen);
}

int cd_pki_ca_write(const struct cd_pki_ca *ca, const char *cert_path, const char *key_path,
		    char *err, size_t errlen)
{
	int rc = write_key(ca->key, key_path, err, errlen);

	return rc < 0 ? rc : write_cert(ca->cert, cert_path, err, errlen);
}

/* Whether addr can go into a subjectAltName list as it is: an IP literal or a host name. */
static bool plain_addr(const char *addr, bool *is_ip)
{
	unsigned char buf[sizeof(struct in6_addr)];

	*is_ip = inet_pton(AF_INET, addr, buf) == 1 || inet_pton(AF_INET6, addr, buf) == 1;
	return *is_ip ||
	       (*addr && strspn(addr, "abcdefghijklmnopqrstuvwxyz"
				      "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-") == strlen(addr));
}

int cd_pki_node_write(const struct cd_pki_ca *ca, const char *name, const char *addr,
		      const char *cert_path, const char *key_path, char *err, size_t errlen)
{
	char san[2 * CD_CC_ADDR_MAX + 16];
	EVP_PKEY *key = NULL;
	X509 *x = NULL;
	bool is_ip = false;
	int rc;

	if (!cd_cc_valid_name(name))
		FAIL(CD_ERR_INVALID, "invalid node name '%s'", name);
	if (addr && (strlen(addr) > CD_CC_ADDR_MAX || !plain_addr(addr, &is_ip)))
		FAIL(CD_ERR_INVALID, "node %s: invalid address '%s'", name, addr);
	if (!addr || strcmp(addr, name) == 0)
		snprintf(san, sizeof(san), "DNS:%s", name);
	else
		snprintf(san, sizeof(san), "DNS:%s,%s:%s", name, is_ip ? "IP" : "DNS", addr);
	key = EVP_EC_gen("P-256");
	if (key)
		x = new_cert(key, name, CD_PKI_NODE_DAYS);
	if (!x || X509_set_issuer_name(x, X509_get_subject_name(ca->cert)) != 1 ||
	    !add_ext(x, ca->cert, NID_basic_constraints, "critical,CA:FALSE") ||
	    !add_ext(x, ca->cert, NID_key_usage, "critical,digitalSignature") ||
	    !add_ext(x, ca->cert, NID_ext_key_usage, "serverAuth,clientAuth") ||
	    !add_ext(x, ca->cert, NID_subject_alt_name, san) ||
	    !add_ext(x, ca->cert, NID_subject_key_identifier, "hash") ||
	    !add_ext(x, ca->cert, NID_authority_key_identifier, "keyid:always") ||
	    X509_sign(x, ca->key, EVP_sha256()) == 0) {
		rc = ssl_fail(name, err, errlen);
		goto out;
	}
	rc = write_key(key, key_path, err, errlen);
	if (rc == 0)
		rc = write_cert(x, cert_path, err, errlen);
out:
	X509_free(x);
	EVP_PKEY_free(key);
	return rc;
}

int cd_pki_authkey_write(const char *path, char *err, size_t errlen)
{
	unsigned char key[CD_PKI_AUTHKEY_BYTES];
	int rc;

	if (RAND_bytes(key, sizeof(key)) != 1)
		return ssl_fail("the authkey", err, errlen);
	rc = cd_write_file_new(path, key, sizeof(key), CD_PKI_AUTHKEY_MODE);
	OPENSSL_cleanse(key, sizeof(key));
	if (rc < 0)
		FAIL(rc, "%s: %s", path, cd_strerror(rc));
	return 0;
}
