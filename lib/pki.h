/*
 * The cluster's keys: its certificate authority, each node's certificate
 * signed by it, and corosync's shared authkey. OpenSSL does the work; this
 * module only says what goes into them and writes them as new files (PEM
 * for keys and certificates), never over existing ones.
 *
 * Functions return 0, -errno for a file, CD_ERR_INVALID for a bad argument
 * or -EIO when OpenSSL fails, and say why in err.
 */
#ifndef CD_PKI_H
#define CD_PKI_H

#include <stddef.h>

/* corosync-keygen's default size. */
#define CD_PKI_AUTHKEY_BYTES 256
#define CD_PKI_CA_DAYS 3650
#define CD_PKI_NODE_DAYS 1095

/* The modes of what is written. */
#define CD_PKI_CERT_MODE 0644
#define CD_PKI_KEY_MODE 0600
#define CD_PKI_AUTHKEY_MODE 0400

/* A certificate authority: its certificate and private key. */
struct cd_pki_ca;

/*
 * A new CA for the cluster: an EC P-256 key and a self-signed certificate
 * (CA:TRUE, no CA below it, CD_PKI_CA_DAYS). *ca is new: free it with
 * cd_pki_ca_free().
 */
int cd_pki_ca_new(const char *cluster_name, struct cd_pki_ca **ca, char *err, size_t errlen);

/* A CA from its files (as cd_pki_ca_write() wrote them); the key must be the certificate's. */
int cd_pki_ca_load(const char *cert_path, const char *key_path, struct cd_pki_ca **ca, char *err,
		   size_t errlen);

/* Write the CA's certificate (CD_PKI_CERT_MODE) and key (CD_PKI_KEY_MODE). */
int cd_pki_ca_write(const struct cd_pki_ca *ca, const char *cert_path, const char *key_path,
		    char *err, size_t errlen);

/*
 * A new key and certificate for node name, signed by ca (CD_PKI_NODE_DAYS,
 * serverAuth and clientAuth), written to cert_path and key_path. Its
 * subject alternative names: DNS:name, and addr (an IP literal as IP:, a
 * host name other than name as DNS:) unless addr is NULL.
 */
int cd_pki_node_write(const struct cd_pki_ca *ca, const char *name, const char *addr,
		      const char *cert_path, const char *key_path, char *err, size_t errlen);

/* The CA's certificate as PEM again, to a file of its own (CD_PKI_CERT_MODE). */
int cd_pki_ca_write_cert(const struct cd_pki_ca *ca, const char *cert_path, char *err,
			 size_t errlen);

/* A new corosync authkey: CD_PKI_AUTHKEY_BYTES random bytes, CD_PKI_AUTHKEY_MODE. */
int cd_pki_authkey_write(const char *path, char *err, size_t errlen);

/* Accepts NULL. */
void cd_pki_ca_free(struct cd_pki_ca *ca);

#endif
