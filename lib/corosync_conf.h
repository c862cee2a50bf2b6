/*
 * corosync.conf for a cluster of clusterd nodes: the one template every
 * node gets (knet with encryption, votequorum, syslog), rendered from a
 * struct, and the struct read back from a file so that a node can be added
 * or removed and the file rendered again.
 *
 * Pure: no I/O, no allocation beyond the rendered text. Functions return 0
 * or a negative result code and say why in err.
 */
#ifndef CD_COROSYNC_CONF_H
#define CD_COROSYNC_CONF_H

#include <stddef.h>
#include <stdint.h>

/* A cluster or node name: a host name's label rules, as clusterd's node names. */
#define CD_CC_NAME_MAX 63
/* ring0_addr: an IPv4 or IPv6 literal or a DNS name. */
#define CD_CC_ADDR_MAX 253
/* clusterd's own limit (core/state.h CD_MAX_NODES), well below corosync's. */
#define CD_CC_MAX_NODES 32

/*
 * corosync's own default token: a lost node is seen gone after about 8 s,
 * as long as a shared volume's host lease takes to expire by default (see
 * clusterd/timing.h), so failover waits for neither. The lab runs 1000.
 */
#define CD_CC_TOKEN_DEFAULT_MS 3000u
#define CD_CC_TOKEN_MIN_MS 100u
#define CD_CC_TOKEN_MAX_MS 60000u

struct cd_cc_node {
	uint32_t nodeid; /* 1 and up, unique */
	char name[CD_CC_NAME_MAX + 1];
	char addr[CD_CC_ADDR_MAX + 1]; /* ring0_addr; the name when none was given */
};

struct cd_cc {
	char cluster_name[CD_CC_NAME_MAX + 1];
	uint32_t token_ms;
	size_t n_nodes;
	struct cd_cc_node nodes[CD_CC_MAX_NODES]; /* in nodeid order */
};

/*
 * Whether s is a name for a cluster or a node: letters, digits, '.', '_',
 * '-', at most CD_CC_NAME_MAX, beginning with a letter or digit (a name is
 * also an ssh destination and a certificate's DNS name).
 */
int cd_cc_valid_name(const char *s);

/* A new cluster without nodes: cc is cleared. token_ms 0 is the default. */
int cd_cc_init(struct cd_cc *cc, const char *cluster_name, uint32_t token_ms, char *err,
	       size_t errlen);

/*
 * Add a node with the next node id (one above the highest: an id is never
 * given again, so a removed node's records cannot be taken for a new one).
 * addr is an IPv4 or IPv6 literal, or NULL for the name (which corosync
 * then resolves). A name or address already in cc is CD_ERR_EXISTS.
 */
int cd_cc_add_node(struct cd_cc *cc, const char *name, const char *addr, char *err, size_t errlen);

/* Remove the node of that name: CD_ERR_NOT_FOUND, or CD_ERR_INVALID for the last one. */
int cd_cc_remove_node(struct cd_cc *cc, const char *name, char *err, size_t errlen);

/*
 * Add the hosts of a --nodes list, "HOST[,HOST...]" where HOST is NAME or
 * NAME=ADDRESS, in their order.
 */
int cd_cc_add_hosts(struct cd_cc *cc, const char *list, char *err, size_t errlen);

/*
 * corosync.conf for cc, as a new NUL-terminated string the caller frees
 * with free(); NULL without memory.
 */
char *cd_cc_render(const struct cd_cc *cc);

/*
 * Read cluster_name, token and the node list of a corosync.conf (text,
 * NUL-terminated) into cc. The rest of the file is checked for its syntax
 * only and is not kept: cd_cc_render() writes the template's. A node with
 * keys other than nodeid, name and ring0_addr (a second link) is refused,
 * since rendering would drop them.
 */
int cd_cc_parse(struct cd_cc *cc, const char *text, char *err, size_t errlen);

#endif
