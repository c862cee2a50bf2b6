/*
 * A live cluster's corosync.conf with one node added or removed, the rest
 * of the file kept as it is: comments, spacing, other sections and keys
 * the template never writes (what an admin set by hand survives). What
 * changes besides the node's own block:
 *
 *   - totem's config_version, when the file has one, goes up by one
 *     (corosync-cfgtool -R refuses a file whose version is lower than the
 *     running one, and a reload of one equal to it is taken for no change);
 *   - quorum's "two_node: 1" goes when a third node comes and comes back
 *     when a removal leaves two, as cluster create writes it.
 *
 * The file is read with cd_cc_parse() first, so that what it refuses
 * (a second link, a bad name or address) is refused here too, and every
 * check of a new node (its name, address, family, the limit of nodes) is
 * cd_cc_add_node()'s.
 *
 * Pure: no I/O. Functions return 0 or a negative result code and say why
 * in err.
 */
#ifndef CD_CC_EDIT_H
#define CD_CC_EDIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/corosync_conf.h"

/* A cluster's smallest size: node remove refuses to go below it. */
#define CD_CCE_MIN_NODES 2

/* What an edit did. */
struct cd_cce_change {
	struct cd_cc_node node;	 /* the node added (its new id) or removed */
	size_t n_nodes;		 /* the nodes in the new file */
	bool version_bumped;	 /* totem had a config_version ... */
	uint64_t config_version; /* ... which is now this */
};

/*
 * "NAME" or "NAME=ADDRESS" (a node add's argument) into name
 * (CD_CC_NAME_MAX + 1 bytes) and addr (CD_CC_ADDR_MAX + 1 bytes, "" for
 * none). Only the lengths and the '=' are checked here.
 */
int cd_cce_split_host(const char *host, char *name, char *addr, char *err, size_t errlen);

/*
 * text (a corosync.conf, NUL-terminated) with node name added: the next
 * node id, ring0_addr addr (an IP literal; NULL or "" for the name, which
 * corosync resolves). *out is a new string the caller frees with free().
 * A name, address or id already there is CD_ERR_EXISTS; a 33rd node, an
 * address of the other family or a bad name CD_ERR_INVALID.
 */
int cd_cce_add(const char *text, const char *name, const char *addr, char **out,
	       struct cd_cce_change *ch, char *err, size_t errlen);

/*
 * text with node name's block removed (*out as for cd_cce_add()).
 * CD_ERR_NOT_FOUND for a node not there, CD_ERR_INVALID if fewer than
 * CD_CCE_MIN_NODES would be left.
 */
int cd_cce_remove(const char *text, const char *name, char **out, struct cd_cce_change *ch,
		  char *err, size_t errlen);

#endif
