/*
 * The superblock, the layout of a volume, formatting and opening one.
 *
 * Layout (offsets in bytes; S is the volume's sector size, 512 or 4096):
 *
 *   0              superblock (the first S bytes of a 4 KiB area)
 *   host_off       host-lease area: one sector per host slot (delta leases)
 *   lease_off      resource-lease area: max_files + 1 leases of
 *                  (1 + max_hosts) sectors: a leader record, then one
 *                  ballot sector per host slot (disk Paxos). Lease 0 is the
 *                  volume's metadata lease; lease i > 0 belongs to the file
 *                  with metadata index i - 1.
 *   meta_off       metadata: two copies, A and B, of meta_copy_len bytes
 *   data_off       data extents, in units of alloc_unit (1 MiB), up to
 *                  data_end (the device size rounded down to a unit)
 *
 * Areas start on 4 KiB boundaries and data extents on 1 MiB boundaries, so
 * a file can be handed out as a loop device with an aligned offset.
 * man/csvfs.5 documents every field.
 */
#ifndef CSVFS_FORMAT_H
#define CSVFS_FORMAT_H

#include <stdint.h>

#include "csvfs/codec.h"
#include "csvfs/disk.h"
#include "csvfs/env.h"
#include "csvfs/timing.h"

#define CSVFS_NAME_LEN 64 /* name fields on disk; names are 1..63 characters */
#define CSVFS_MAX_HOSTS 64u
#define CSVFS_MAX_FILES 4096u
#define CSVFS_DEFAULT_FILES 256u
#define CSVFS_ALLOC_UNIT (1u << 20)
#define CSVFS_META_LEASE 0u
#define CSVFS_META_LEASE_NAME "csvfs.meta"

#define CSVFS_MAGIC_SB 0x53565343u /* "CSVS" in little-endian */

struct csvfs_sb {
	uint8_t uuid[CSVFS_UUID_LEN];
	char name[CSVFS_NAME_LEN];
	uint32_t sector_size;
	uint32_t max_hosts;
	uint32_t max_files;
	uint32_t expiry_ms;
	uint32_t renewal_ms;
	uint32_t alloc_unit;
	uint64_t device_size;
	uint64_t host_off;
	uint64_t lease_off;
	uint64_t lease_stride;
	uint64_t meta_off;
	uint64_t meta_copy_len;
	uint64_t data_off;
	uint64_t data_end;
	uint64_t created_ms; /* wall clock, for people only */
};

/* An open volume, as one host sees it. */
struct csvfs_vol {
	struct csvfs_disk *disk;     /* not owned */
	const struct csvfs_env *env; /* not owned */
	struct csvfs_sb sb;
	struct csvfs_timing timing;
	/*
	 * Optional: 1 if the caller's own continuous watch of host slot has
	 * already seen it dead or released (by the reader's rule in timing.h).
	 * Acquiring a resource lease from such an owner then need not watch
	 * it for the expiry again. A slot whose host joins again changes
	 * within the join (which takes longer than the caller's watch period),
	 * so the answer is never about a newer incarnation.
	 */
	int (*seen_dead)(void *arg, uint32_t slot);
	void *seen_dead_arg;
};

struct csvfs_format_opts {
	const char *name;
	uint32_t hosts;
	uint32_t files;	      /* 0: CSVFS_DEFAULT_FILES */
	uint32_t sector_size; /* 0: the device's */
	uint32_t expiry_ms;   /* 0: CSVFS_EXPIRY_DEFAULT_MS */
	uint32_t renewal_ms;  /* 0: expiry / 8 */
	int force;	      /* overwrite an existing csvfs volume */
};

/*
 * Fill in sb's offsets from its counts, sector size and device_size.
 * Returns 0, CD_ERR_INVALID or -ENOSPC (the device is too small).
 */
int csvfs_layout(struct csvfs_sb *sb);

/* Encode into buf[0, sb->sector_size). Returns 0 or -EOVERFLOW. */
int csvfs_sb_encode(const struct csvfs_sb *sb, void *buf);

/* Returns 0, -ENODATA (no superblock), CD_ERR_CORRUPT or CD_ERR_VERSION. */
int csvfs_sb_decode(const void *buf, size_t len, struct csvfs_sb *sb);

/*
 * Write a new, empty volume: zeroed lease areas, an empty metadata copy,
 * then the superblock, last, so an interrupted format leaves no volume.
 * Refuses (CD_ERR_EXISTS) to overwrite a volume unless o->force. On
 * success *sb (may be NULL) describes it. Returns 0 or a negative code.
 */
int csvfs_format(struct csvfs_disk *disk, const struct csvfs_env *env,
		 const struct csvfs_format_opts *o, struct csvfs_sb *sb);

/*
 * Read and check the superblock. Returns 0, -ENODATA (not a csvfs volume),
 * CD_ERR_CORRUPT, CD_ERR_VERSION or -errno.
 */
int csvfs_vol_open(struct csvfs_vol *vol, struct csvfs_disk *disk, const struct csvfs_env *env);

/*
 * Read len bytes at off into a new aligned buffer *buf (the caller frees
 * it, also on failure). Returns 0 or -errno.
 */
int csvfs_vol_read(struct csvfs_vol *v, uint64_t off, size_t len, uint8_t **buf);

/* Where things are. Slots are 1..max_hosts; leases 0..max_files. */
static inline uint64_t csvfs_host_off(const struct csvfs_vol *v, uint32_t slot)
{
	return v->sb.host_off + (uint64_t)(slot - 1) * v->sb.sector_size;
}

static inline uint64_t csvfs_lease_off(const struct csvfs_vol *v, uint32_t lease)
{
	return v->sb.lease_off + (uint64_t)lease * v->sb.lease_stride;
}

static inline uint64_t csvfs_meta_copy_off(const struct csvfs_vol *v, int copy)
{
	return v->sb.meta_off + (uint64_t)copy * v->sb.meta_copy_len;
}

#endif
