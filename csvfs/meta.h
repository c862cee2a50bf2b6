/*
 * Volume metadata: a flat namespace of named extents, kept as two copies,
 * A and B. Every update writes a complete new copy, with the generation
 * one above the newest, over the *other* copy, so the newest valid copy is
 * never touched: a torn or lost write leaves it as it was, and readers
 * take the valid copy with the highest generation. Only the holder of the
 * volume's metadata lease (lease 0) writes.
 *
 * Copy layout (little-endian; the common record frame of codec.h):
 *
 *   32  u64 generation      u32 nfiles          u32 max_files
 *   48  u32 writer slot     u32 reserved        u64 writer generation
 *   64  u64 metadata lease version it was written under
 *   72  u64 wall clock ms (for people only)
 *   80  nfiles entries of CSVFS_META_ENTRY_LEN bytes, by increasing index:
 *       u32 index, u32 owner slot, u64 size, u64 offset, u64 alloc,
 *       u64 generation, u64 ctime (wall ms), char name[64], zero padding
 *   zeros, and in the copy's last 32 bytes the SHA-256 of all before them.
 */
#ifndef CSVFS_META_H
#define CSVFS_META_H

#include <stddef.h>
#include <stdint.h>

#include "csvfs/delta_lease.h"
#include "csvfs/format.h"

#define CSVFS_MAGIC_META 0x4d565343u /* "CSVM" */
#define CSVFS_META_HDR_LEN 80u
#define CSVFS_META_ENTRY_LEN 128u

struct csvfs_file {
	uint32_t index;	     /* 0..max_files-1, stable; the file's lease is index + 1 */
	uint32_t owner;	     /* host slot that created it */
	uint64_t size;	     /* bytes */
	uint64_t offset;     /* of its extent on the device */
	uint64_t alloc;	     /* extent length: a multiple of the allocation unit */
	uint64_t generation; /* bumped on every change to this file */
	uint64_t ctime_ms;   /* wall clock at creation, for people only */
	char name[CSVFS_NAME_LEN];
};

struct csvfs_meta {
	uint64_t generation; /* of the copy; 0 for none yet */
	int copy;	     /* 0 (A) or 1 (B): where it lives; -1 for none */
	uint32_t writer_slot;
	uint64_t writer_generation;
	uint64_t lease_lver;
	uint64_t wall_ms;
	uint32_t nfiles;
	uint32_t max_files;
	struct csvfs_file *files; /* max_files slots, nfiles used, by index */
};

/* What the two copies hold: status 0, -ENODATA or CD_ERR_CORRUPT. */
struct csvfs_meta_found {
	int status[2];
	uint64_t generation[2];
};

/* Bytes one copy takes on disk (a multiple of 4 KiB). */
uint64_t csvfs_meta_copy_len(uint32_t max_files);

/* An empty namespace. Returns 0 or -ENOMEM; free with csvfs_meta_free. */
int csvfs_meta_init(struct csvfs_meta *m, uint32_t max_files);

/* Destructor; accepts NULL, and a zeroed or freed m. */
void csvfs_meta_free(struct csvfs_meta *m);

/* Encode into buf[0, meta_copy_len). Returns 0 or -EOVERFLOW. */
int csvfs_meta_encode(const struct csvfs_vol *v, const struct csvfs_meta *m, void *buf);

/*
 * Decode a copy into m (from csvfs_meta_init with the volume's max_files).
 * Returns 0, -ENODATA, CD_ERR_VERSION or CD_ERR_CORRUPT (also for a
 * checksummed copy that breaks the format's rules).
 */
int csvfs_meta_decode(const struct csvfs_vol *v, const void *buf, struct csvfs_meta *m);

/*
 * Read the newest valid copy into m (from csvfs_meta_init). found, if not
 * NULL, tells what each copy holds. Returns 0, CD_ERR_CORRUPT if neither
 * copy is valid, or -errno if either could not be read (it may be the
 * newest).
 */
int csvfs_meta_read(struct csvfs_vol *v, struct csvfs_meta *m, struct csvfs_meta_found *found);

/*
 * Write m as the new newest copy: generation m->generation + 1 over the
 * copy m was not read from; on success m describes what was written.
 * Refuses with -EPERM unless h holds the metadata lease (checked on disk),
 * with CD_ERR_TIMEOUT if h's host lease has expired. Returns 0 or a
 * negative code.
 */
int csvfs_meta_write(struct csvfs_vol *v, const struct csvfs_host *h, struct csvfs_meta *m);

/* Write m into one copy as it is (formatting). Returns 0 or -errno. */
int csvfs_meta_write_copy(struct csvfs_vol *v, int copy, const struct csvfs_meta *m);

#endif
