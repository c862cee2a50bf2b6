/*
 * The namespace and the allocator: pure functions on a struct csvfs_meta
 * (no I/O). Extents are whole allocation units inside the data area,
 * placed first-fit; a file keeps its index (and so its lease) for life.
 */
#ifndef CSVFS_FILES_H
#define CSVFS_FILES_H

#include <stdint.h>

#include "csvfs/format.h"
#include "csvfs/meta.h"

/* The largest file: sizes beyond any device are refused before the arithmetic can wrap. */
#define CSVFS_MAX_FILE_SIZE (UINT64_C(1) << 60)

/* The file called name, or NULL. */
struct csvfs_file *csvfs_files_find(struct csvfs_meta *m, const char *name);

/*
 * Add a file of size bytes (> 0). Its name must be a valid path name (it
 * becomes a symlink in clusterd's run directory: never "." or "..", nor
 * any name starting with '.'). On success *out (may be NULL) points at
 * its entry in m. Returns 0, CD_ERR_INVALID (name or size), CD_ERR_EXISTS,
 * or -ENOSPC (no free entry or no gap large enough).
 */
int csvfs_files_create(struct csvfs_meta *m, const struct csvfs_sb *sb, const char *name,
		       uint64_t size, uint32_t owner, uint64_t wall_ms, struct csvfs_file **out);

/* Returns 0 or CD_ERR_NOT_FOUND. */
int csvfs_files_remove(struct csvfs_meta *m, const char *name);

/*
 * Change a file's size in place: shrinking frees whole units at its end,
 * growing needs the space after it free (-ENOSPC otherwise; files are not
 * moved, since a running VM may hold the extent). Returns 0,
 * CD_ERR_NOT_FOUND, CD_ERR_INVALID or -ENOSPC.
 */
int csvfs_files_resize(struct csvfs_meta *m, const struct csvfs_sb *sb, const char *name,
		       uint64_t size);

/* Bytes not allocated to any file. */
uint64_t csvfs_files_free_bytes(const struct csvfs_meta *m, const struct csvfs_sb *sb);

/*
 * Check the allocation: every extent whole units inside the data area,
 * holding its size, no two overlapping, names unique. Calls problem once
 * per finding; returns how many there were (or -ENOMEM).
 */
int csvfs_files_verify(const struct csvfs_meta *m, const struct csvfs_sb *sb,
		       void (*problem)(void *ctx, const char *msg), void *ctx);

#endif
