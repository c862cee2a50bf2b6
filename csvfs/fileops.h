/*
 * Changes to a volume's files, each made under the volume's metadata
 * lease: acquire it (unless h holds it already, as a coordinator does),
 * read the newest metadata, change it, write the new copy, release the
 * lease again if it was taken here.
 *
 * Removing or shrinking a file also takes the file's own lease
 * exclusively for the duration, so nobody can be using what goes away.
 */
#ifndef CSVFS_FILEOPS_H
#define CSVFS_FILEOPS_H

#include <stdint.h>

#include "csvfs/delta_lease.h"
#include "csvfs/format.h"
#include "csvfs/meta.h"
#include "csvfs/paxos_lease.h"

/*
 * Each returns 0 or a negative code: -EBUSY with *busy (may be NULL) when
 * a live host holds the metadata lease or the file's lease, and the codes
 * of csvfs_files_create / _remove / _resize. *out (may be NULL) gets the
 * file as written.
 */
int csvfs_file_create(struct csvfs_vol *v, const struct csvfs_host *h, const char *name,
		      uint64_t size, struct csvfs_file *out, struct csvfs_busy *busy);
int csvfs_file_remove(struct csvfs_vol *v, const struct csvfs_host *h, const char *name,
		      struct csvfs_busy *busy);
int csvfs_file_resize(struct csvfs_vol *v, const struct csvfs_host *h, const char *name,
		      uint64_t size, struct csvfs_file *out, struct csvfs_busy *busy);

/*
 * The lease that guards name: CSVFS_META_LEASE for CSVFS_META_LEASE_NAME,
 * else the file's (index + 1). Returns 0, CD_ERR_NOT_FOUND or -errno.
 */
int csvfs_lease_lookup(struct csvfs_vol *v, const char *name, uint32_t *lease);

#endif
