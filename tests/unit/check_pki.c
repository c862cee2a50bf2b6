/*
 * lib/pki: a CA and a node certificate made in a directory of the test's
 * own, the node's certificate verified against the CA by OpenSSL, its
 * names and uses, the modes of the files, the authkey.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <clusterd/result.h>

#include "check_common.h"
#include "lib/pki.h"

static char dir[256], err[256];

static void setup(void)
{
	tmpdir_make(dir, sizeof(dir), "check_pki");
}

static void teardown(void)
{
	tmpdir_remove(dir);
}

/* dir/name into buf. */
static const char *in_dir(char *buf, const char *name)
{
	snprintf(buf, PATH_MAX, "%s/%s", dir, name);
	return buf;
}

static X509 *load_cert(const char *path)
{
	FILE *f = fopen(path, "r");
	X509 *x;

	ck_assert_ptr_nonnull(f);
	x = PEM_read_X509(f, NULL, NULL, NULL);
	fclose(f);
	ck_assert_ptr_nonnull(x);
	return x;
}

static unsigned mode_of(const char *path)
{
	struct stat st;

	ck_assert_int_eq(stat(path, &st), 0);
	return st.st_mode & 07777;
}

/* OpenSSL's verdict on x, for purpose, with ca the only trusted certificate. */
static int verify(X509 *x, X509 *ca, int purpose)
{
	X509_STORE *store = X509_STORE_new();
	X509_STORE_CTX *ctx = X509_STORE_CTX_new();
	int ok;

	ck_assert_int_eq(X509_STORE_add_cert(store, ca), 1);
	ck_assert_int_eq(X509_STORE_CTX_init(ctx, store, x, NULL), 1);
	X509_STORE_CTX_set_purpose(ctx, purpose);
	ok = X509_verify_cert(ctx);
	if (ok != 1)
		fprintf(stderr, "verify: %s\n",
			X509_verify_cert_error_string(X509_STORE_CTX_get_error(ctx)));
	X509_STORE_CTX_free(ctx);
	X509_STORE_free(store);
	return ok;
}

/* Whether x names san (GEN_DNS text or GEN_IPADD bytes of an address in text). */
static bool has_san(X509 *x, int type, const char *text)
{
	GENERAL_NAMES *names = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
	unsigned char ip[16];
	int iplen = 0, i;
	bool found = false;

	if (type == GEN_IPADD)
		iplen = inet_pton(AF_INET, text, ip) == 1    ? 4
			: inet_pton(AF_INET6, text, ip) == 1 ? 16
							     : 0;
	for (i = 0; names && i < sk_GENERAL_NAME_num(names); i++) {
		GENERAL_NAME *g = sk_GENERAL_NAME_value(names, i);
		ASN1_STRING *s;

		if (g->type != type)
			continue;
		s = type == GEN_DNS ? g->d.dNSName : g->d.iPAddress;
		if (type == GEN_DNS)
			found |= (size_t)ASN1_STRING_length(s) == strlen(text) &&
				 memcmp(ASN1_STRING_get0_data(s), text, strlen(text)) == 0;
		else
			found |= iplen && ASN1_STRING_length(s) == iplen &&
				 memcmp(ASN1_STRING_get0_data(s), ip, (size_t)iplen) == 0;
	}
	GENERAL_NAMES_free(names);
	return found;
}

START_TEST(test_ca_and_node)
{
	char p1[PATH_MAX], p2[PATH_MAX], p3[PATH_MAX], p4[PATH_MAX];
	struct cd_pki_ca *ca;
	X509 *cacert, *node;

	ck_assert_msg(cd_pki_ca_new("prod", &ca, err, sizeof(err)) == 0, "%s", err);
	ck_assert_msg(cd_pki_ca_write(ca, in_dir(p1, "ca.crt"), in_dir(p2, "ca.key"), err,
				      sizeof(err)) == 0,
		      "%s", err);
	ck_assert_msg(cd_pki_node_write(ca, "hv1", "192.0.2.11", in_dir(p3, "node.crt"),
					in_dir(p4, "node.key"), err, sizeof(err)) == 0,
		      "%s", err);
	ck_assert_uint_eq(mode_of(p1), 0644);
	ck_assert_uint_eq(mode_of(p2), 0600);
	ck_assert_uint_eq(mode_of(p3), 0644);
	ck_assert_uint_eq(mode_of(p4), 0600);

	cacert = load_cert(p1);
	node = load_cert(p3);
	ck_assert_int_eq(X509_check_ca(cacert), 1);
	ck_assert_int_eq(X509_check_ca(node), 0);
	ck_assert_int_eq(verify(node, cacert, X509_PURPOSE_SSL_SERVER), 1);
	ck_assert_int_eq(verify(node, cacert, X509_PURPOSE_SSL_CLIENT), 1);
	ck_assert(has_san(node, GEN_DNS, "hv1"));
	ck_assert(has_san(node, GEN_IPADD, "192.0.2.11"));
	ck_assert_int_eq(X509_check_host(node, "hv1", 0, 0, NULL), 1);
	ck_assert_int_eq(X509_check_ip_asc(node, "192.0.2.11", 0), 1);
	ck_assert_int_eq(X509_check_host(node, "hv2", 0, 0, NULL), 0);
	/* P-256 keys. */
	ck_assert_int_eq(EVP_PKEY_get_bits(X509_get0_pubkey(node)), 256);
	ck_assert_int_eq(EVP_PKEY_get_base_id(X509_get0_pubkey(cacert)), EVP_PKEY_EC);
	/* The CA outlives the node certificate. */
	ck_assert_int_lt(ASN1_TIME_compare(X509_get0_notAfter(node), X509_get0_notAfter(cacert)),
			 0);

	/* Nothing is written over: a second certificate on the same paths is refused. */
	ck_assert_int_eq(
		cd_pki_node_write(ca, "hv1", NULL, p3, in_dir(p4, "other.key"), err, sizeof(err)),
		-EEXIST);
	X509_free(node);
	X509_free(cacert);
	cd_pki_ca_free(ca);
}
END_TEST

/* A CA read back from its files signs certificates that verify against the first. */
START_TEST(test_ca_load)
{
	char p1[PATH_MAX], p2[PATH_MAX], p3[PATH_MAX], p4[PATH_MAX], p5[PATH_MAX];
	struct cd_pki_ca *ca, *again, *other;
	X509 *cacert, *node;

	ck_assert_int_eq(cd_pki_ca_new("prod", &ca, err, sizeof(err)), 0);
	ck_assert_int_eq(
		cd_pki_ca_write(ca, in_dir(p1, "ca.crt"), in_dir(p2, "ca.key"), err, sizeof(err)),
		0);
	ck_assert_msg(cd_pki_ca_load(p1, p2, &again, err, sizeof(err)) == 0, "%s", err);
	ck_assert_int_eq(cd_pki_node_write(again, "hv9", "2001:db8::9", in_dir(p3, "n.crt"),
					   in_dir(p4, "n.key"), err, sizeof(err)),
			 0);
	cacert = load_cert(p1);
	node = load_cert(p3);
	ck_assert_int_eq(verify(node, cacert, X509_PURPOSE_SSL_SERVER), 1);
	ck_assert(has_san(node, GEN_IPADD, "2001:db8::9"));
	ck_assert(has_san(node, GEN_DNS, "hv9"));
	X509_free(node);

	/* Another CA's key does not go with this certificate. */
	ck_assert_int_eq(cd_pki_ca_new("prod", &other, err, sizeof(err)), 0);
	ck_assert_int_eq(
		cd_pki_ca_write(other, in_dir(p3, "o.crt"), in_dir(p5, "o.key"), err, sizeof(err)),
		0);
	cd_pki_ca_free(other);
	other = NULL;
	ck_assert_int_eq(cd_pki_ca_load(p1, p5, &other, err, sizeof(err)), -EIO);
	ck_assert_ptr_null(other);
	ck_assert_ptr_nonnull(strstr(err, "not the CA certificate's"));
	ck_assert_int_eq(cd_pki_ca_load(in_dir(p5, "missing.crt"), p2, &other, err, sizeof(err)),
			 -EIO);
	X509_free(cacert);
	cd_pki_ca_free(again);
	cd_pki_ca_free(ca);
}
END_TEST

/* A node named by a host name: DNS names only; bad names refused before anything is made. */
START_TEST(test_node_names)
{
	char p1[PATH_MAX], p2[PATH_MAX];
	struct cd_pki_ca *ca;
	X509 *node;

	ck_assert_int_eq(cd_pki_ca_new("prod", &ca, err, sizeof(err)), 0);
	ck_assert_int_eq(cd_pki_node_write(ca, "hv1", "hv1.example.org", in_dir(p1, "n.crt"),
					   in_dir(p2, "n.key"), err, sizeof(err)),
			 0);
	node = load_cert(p1);
	ck_assert(has_san(node, GEN_DNS, "hv1"));
	ck_assert(has_san(node, GEN_DNS, "hv1.example.org"));
	X509_free(node);
	ck_assert_int_eq(cd_pki_node_write(ca, "a,DNS:evil", NULL, in_dir(p1, "x.crt"),
					   in_dir(p2, "x.key"), err, sizeof(err)),
			 CD_ERR_INVALID);
	ck_assert_int_eq(cd_pki_node_write(ca, "hv2", "1.2.3.4,DNS:evil", p1, p2, err, sizeof(err)),
			 CD_ERR_INVALID);
	ck_assert_int_eq(access(in_dir(p1, "x.crt"), F_OK), -1);
	cd_pki_ca_free(ca);
	ck_assert_int_eq(cd_pki_ca_new("bad name", &ca, err, sizeof(err)), CD_ERR_INVALID);
	ck_assert_ptr_null(ca);
}
END_TEST

START_TEST(test_authkey)
{
	char p[PATH_MAX];
	struct stat st;

	ck_assert_msg(cd_pki_authkey_write(in_dir(p, "authkey"), err, sizeof(err)) == 0, "%s", err);
	ck_assert_int_eq(stat(p, &st), 0);
	ck_assert_int_eq(st.st_size, CD_PKI_AUTHKEY_BYTES);
	ck_assert_uint_eq(st.st_mode & 07777, 0400);
	ck_assert_int_eq(cd_pki_authkey_write(p, err, sizeof(err)), -EEXIST);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("pki");

	add_fixture_tcase(s, test_ca_and_node, setup, teardown);
	add_fixture_tcase(s, test_ca_load, setup, teardown);
	add_fixture_tcase(s, test_node_names, setup, teardown);
	add_fixture_tcase(s, test_authkey, setup, teardown);
	return run_suite(s);
}
