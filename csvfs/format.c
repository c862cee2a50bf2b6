#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <clusterd/result.h>

#include "csvfs/format.h"
#include "csvfs/meta.h"
#include "lib/util.h"

/* Zeroing goes in chunks of this size. */
#define ZERO_CHUNK (1u << 20)

/* The superblock area: the first 4 KiB, whatever the sector size. */
#define SB_AREA 4096u

int csvfs_layout(struct csvfs_sb *sb)
{
	uint64_t s = sb->sector_size, end;

	if ((s != 512 && s != 4096) || sb->max_hosts < 1 || sb->max_hosts > CSVFS_MAX_HOSTS ||
	    sb->max_files < 1 || sb->max_files > CSVFS_MAX_FILES)
		return CD_ERR_INVALID;
	sb->alloc_unit = CSVFS_ALLOC_UNIT;
	sb->host_off = SB_AREA;
	sb->lease_off = csvfs_align_up(sb->host_off + sb->max_hosts * s, SB_AREA);
	sb->lease_stride = (1 + (uint64_t)sb->max_hosts) * s;
	sb->meta_off =
		csvfs_align_up(sb->lease_off + (sb->max_files + 1ull) * sb->lease_stride, SB_AREA);
	sb->meta_copy_len = csvfs_meta_copy_len(sb->max_files);
	end = sb->meta_off + 2 * sb->meta_copy_len;
	sb->data_off = csvfs_align_up(end, sb->alloc_unit);
	sb->data_end = sb->device_size / sb->alloc_unit * sb->alloc_unit;
	if (sb->data_end <= sb->data_off)
		return -ENOSPC;
	return 0;
}

/* The superblock after the common header (whose uuid is the volume's). */
/* clang-format off */
static const struct csvfs_field sb_fields[] = {
	CSVFS_F32(struct csvfs_sb, sector_size),
	CSVFS_F32(struct csvfs_sb, max_hosts),
	CSVFS_F32(struct csvfs_sb, max_files),
	CSVFS_F32(struct csvfs_sb, expiry_ms),
	CSVFS_F32(struct csvfs_sb, renewal_ms),
	CSVFS_F32(struct csvfs_sb, alloc_unit),
	CSVFS_F64(struct csvfs_sb, device_size),
	CSVFS_F64(struct csvfs_sb, host_off),
	CSVFS_F64(struct csvfs_sb, lease_off),
	CSVFS_F64(struct csvfs_sb, lease_stride),
	CSVFS_F64(struct csvfs_sb, meta_off),
	CSVFS_F64(struct csvfs_sb, meta_copy_len),
	CSVFS_F64(struct csvfs_sb, data_off),
	CSVFS_F64(struct csvfs_sb, data_end),
	CSVFS_F64(struct csvfs_sb, created_ms),
	CSVFS_FSTR(struct csvfs_sb, name),
};
/* clang-format on */
#define N_SB_FIELDS (sizeof(sb_fields) / sizeof(sb_fields[0]))

int csvfs_sb_encode(const struct csvfs_sb *sb, void *buf)
{
	return csvfs_rec_encode(buf, sb->sector_size, CSVFS_MAGIC_SB, sb->uuid, sb_fields,
				N_SB_FIELDS, sb);
}

/* A checksummed superblock must still describe the layout we would compute. */
static int sb_consistent(const struct csvfs_sb *sb)
{
	struct csvfs_sb want = *sb;
	struct csvfs_timing t;

	if (!cd_valid_name(sb->name, CSVFS_NAME_LEN - 1) || csvfs_layout(&want) != 0 ||
	    csvfs_timing_init(&t, sb->expiry_ms, sb->renewal_ms) != 0)
		return 0;
	return want.alloc_unit == sb->alloc_unit && want.host_off == sb->host_off &&
	       want.lease_off == sb->lease_off && want.lease_stride == sb->lease_stride &&
	       want.meta_off == sb->meta_off && want.meta_copy_len == sb->meta_copy_len &&
	       want.data_off == sb->data_off && want.data_end == sb->data_end;
}

int csvfs_sb_decode(const void *buf, size_t len, struct csvfs_sb *sb)
{
	int rc;

	memset(sb, 0, sizeof(*sb));
	/* Something else entirely is "not a volume", not a damaged one. */
	if (len < 4 || csvfs_get_u32(&(struct csvfs_dec){.buf = buf, .len = len}) != CSVFS_MAGIC_SB)
		return -ENODATA;
	/* The sector size is inside: try the smaller sector first. */
	rc = csvfs_rec_decode(buf, len < 512 ? len : 512, CSVFS_MAGIC_SB, NULL, sb_fields,
			      N_SB_FIELDS, sb, sizeof(*sb));
	if (rc != 0 && len >= 4096)
		rc = csvfs_rec_decode(buf, 4096, CSVFS_MAGIC_SB, NULL, sb_fields, N_SB_FIELDS, sb,
				      sizeof(*sb));
	if (rc < 0)
		return rc;
	csvfs_rec_uuid(buf, sb->uuid);
	return sb_consistent(sb) ? 0 : CD_ERR_CORRUPT;
}

int csvfs_vol_read(struct csvfs_vol *v, uint64_t off, size_t len, uint8_t **buf)
{
	*buf = csvfs_io_alloc(len);
	if (!*buf)
		return -ENOMEM;
	return csvfs_read(v->disk, off, *buf, len);
}

int csvfs_vol_open(struct csvfs_vol *v, struct csvfs_disk *disk, const struct csvfs_env *env)
{
	uint8_t *buf;
	int rc;

	memset(v, 0, sizeof(*v));
	v->disk = disk;
	v->env = env;
	if (disk->size < SB_AREA)
		return -ENODATA;
	rc = csvfs_vol_read(v, 0, SB_AREA, &buf);
	if (rc == 0)
		rc = csvfs_sb_decode(buf, SB_AREA, &v->sb);
	free(buf);
	if (rc < 0)
		return rc;
	/* Volume sectors must be whole device sectors, or O_DIRECT fails. */
	if (v->sb.sector_size < disk->sector_size || v->sb.sector_size % disk->sector_size)
		return CD_ERR_INVALID;
	if (disk->size < v->sb.data_end)
		return CD_ERR_CORRUPT;
	return csvfs_timing_init(&v->timing, v->sb.expiry_ms, v->sb.renewal_ms);
}

static int zero_range(struct csvfs_disk *disk, uint64_t off, uint64_t end)
{
	void *z = csvfs_io_alloc(ZERO_CHUNK);
	int rc = 0;

	if (!z)
		return -ENOMEM;
	while (rc == 0 && off < end) {
		size_t n = end - off < ZERO_CHUNK ? (size_t)(end - off) : ZERO_CHUNK;

		rc = csvfs_write(disk, off, z, n);
		off += n;
	}
	free(z);
	return rc;
}

static int format_opts_to_sb(struct csvfs_disk *disk, const struct csvfs_env *env,
			     const struct csvfs_format_opts *o, struct csvfs_sb *sb)
{
	struct csvfs_timing t;
	uint64_t r[2];
	int rc;

	memset(sb, 0, sizeof(*sb));
	if (!o->name || !cd_valid_name(o->name, CSVFS_NAME_LEN - 1))
		return CD_ERR_INVALID;
	cd_strlcpy(sb->name, o->name, sizeof(sb->name));
	sb->sector_size = o->sector_size ? o->sector_size : disk->sector_size;
	if (sb->sector_size < disk->sector_size)
		return CD_ERR_INVALID;
	sb->max_hosts = o->hosts;
	sb->max_files = o->files ? o->files : CSVFS_DEFAULT_FILES;
	sb->device_size = disk->size;
	rc = csvfs_timing_init(&t, o->expiry_ms ? o->expiry_ms : CSVFS_EXPIRY_DEFAULT_MS,
			       o->renewal_ms);
	if (rc < 0)
		return rc;
	sb->expiry_ms = t.expiry_ms;
	sb->renewal_ms = t.renewal_ms;
	sb->created_ms = cd_wall_ms();
	r[0] = csvfs_random(env);
	r[1] = csvfs_random(env);
	memcpy(sb->uuid, r, sizeof(sb->uuid));
	/* RFC 4122 version 4, variant 1. */
	sb->uuid[6] = (uint8_t)((sb->uuid[6] & 0x0f) | 0x40);
	sb->uuid[8] = (uint8_t)((sb->uuid[8] & 0x3f) | 0x80);
	return csvfs_layout(sb);
}

int csvfs_format(struct csvfs_disk *disk, const struct csvfs_env *env,
		 const struct csvfs_format_opts *o, struct csvfs_sb *out)
{
	struct csvfs_vol v;
	struct csvfs_meta m;
	uint8_t *buf = NULL;
	int rc;

	rc = csvfs_vol_open(&v, disk, env);
	if (rc != -ENODATA && !o->force)
		return rc == 0 || rc == CD_ERR_CORRUPT || rc == CD_ERR_VERSION ? CD_ERR_EXISTS : rc;
	memset(&v, 0, sizeof(v));
	v.disk = disk;
	v.env = env;
	rc = format_opts_to_sb(disk, env, o, &v.sb);
	if (rc < 0)
		return rc;
	/* The old superblock goes first: a half-done format is no volume. */
	rc = zero_range(disk, 0, v.sb.data_off);
	if (rc < 0)
		return rc;
	rc = csvfs_meta_init(&m, v.sb.max_files);
	if (rc < 0)
		return rc;
	m.generation = 1;
	rc = csvfs_meta_write_copy(&v, 0, &m);
	csvfs_meta_free(&m);
	if (rc < 0)
		return rc;
	buf = csvfs_io_alloc(v.sb.sector_size);
	if (!buf)
		return -ENOMEM;
	rc = csvfs_sb_encode(&v.sb, buf);
	if (rc == 0)
		rc = csvfs_write_verified(disk, 0, buf, v.sb.sector_size);
	free(buf);
	if (rc == 0 && out)
		*out = v.sb;
	return rc;
}
