/*
 * csvfs check: verify every checksum of a volume and its allocation.
 * Read-only, safe while hosts use the volume (a record caught in the middle
 * of a write can show up as damage, so check again before acting on it).
 */
#ifndef CSVFS_CHECK_H
#define CSVFS_CHECK_H

#include "csvfs/format.h"

enum csvfs_finding {
	CSVFS_FINDING_NOTE,   /* worth knowing, harmless */
	CSVFS_FINDING_DAMAGE, /* a checksum or a rule is broken */
};

struct csvfs_check_counts {
	unsigned damage, notes;
};

/*
 * Check v (opened with csvfs_vol_open, so the superblock is good). Calls
 * found (may be NULL) for every finding, with where ("host 3", "lease 0", "metadata")
 * and a sentence. Returns 0 (see counts) or -errno if the disk could not
 * be read.
 */
int csvfs_check(struct csvfs_vol *v,
		void (*found)(void *ctx, enum csvfs_finding kind, const char *where,
			      const char *msg),
		void *ctx, struct csvfs_check_counts *counts);

#endif
