/*
 * Encoding of on-disk records: little-endian fields at fixed offsets (never
 * a C struct copied to disk), and the common frame every record has. A
 * record fills a region (a sector, or a metadata copy) of cap bytes:
 *
 *     0  u32 magic     the record type
 *     4  u32 version   CSVFS_VERSION
 *     8  u32 len       bytes of header and fields; zeros follow up to the sum
 *    12  u32 reserved  zero
 *    16  u8  uuid[16]  the volume's uuid: a record left by an older format
 *                      of the same device is not taken for one of ours
 *    32  ...           the record's fields
 *  cap-32 u8 sum[32]   SHA-256 of bytes [0, cap - 32): every bit of the
 *                      region is covered, padding included
 *
 * A region of zeros is "never written", which is not the same as damage.
 */
#ifndef CSVFS_CODEC_H
#define CSVFS_CODEC_H

#include <stddef.h>
#include <stdint.h>

#define CSVFS_VERSION 1u
#define CSVFS_REC_HDR 32u
#define CSVFS_SUM_LEN 32u
#define CSVFS_UUID_LEN 16u

struct csvfs_enc {
	uint8_t *buf;
	size_t cap, off;
	int overflow;
};

struct csvfs_dec {
	const uint8_t *buf;
	size_t len, off;
};

void csvfs_put_u32(struct csvfs_enc *e, uint32_t v);
void csvfs_put_u64(struct csvfs_enc *e, uint64_t v);
void csvfs_put_bytes(struct csvfs_enc *e, const void *p, size_t n);
/* A NUL-padded string field of width bytes (s shorter than width). */
void csvfs_put_str(struct csvfs_enc *e, const char *s, size_t width);

/* Reads past the end give zeros; records are length-checked before. */
uint32_t csvfs_get_u32(struct csvfs_dec *d);
uint64_t csvfs_get_u64(struct csvfs_dec *d);
void csvfs_get_bytes(struct csvfs_dec *d, void *p, size_t n);
/* Copies a string field of width bytes into out[width], NUL-terminated. */
void csvfs_get_str(struct csvfs_dec *d, char *out, size_t width);

/*
 * A record's fields, described once for both directions: a table of
 * {type, offset in the C struct, width of a string}. Reserved fields
 * (CSVFS_PAD32) are written as zero and skipped when read.
 */
enum csvfs_field_type { CSVFS_U32, CSVFS_U64, CSVFS_STR, CSVFS_PAD32 };

struct csvfs_field {
	enum csvfs_field_type type;
	size_t off;
	size_t width;
};

/* clang-format off */
#define CSVFS_F32(st, m) {CSVFS_U32, offsetof(st, m), 0}
#define CSVFS_F64(st, m) {CSVFS_U64, offsetof(st, m), 0}
#define CSVFS_FSTR(st, m) {CSVFS_STR, offsetof(st, m), sizeof(((st *)0)->m)}
#define CSVFS_FPAD {CSVFS_PAD32, 0, 0}
/* clang-format on */

void csvfs_put_fields(struct csvfs_enc *e, const struct csvfs_field *f, size_t n, const void *obj);
void csvfs_get_fields(struct csvfs_dec *d, const struct csvfs_field *f, size_t n, void *obj);

/* Zero buf[0, cap) and start a record of type magic. */
void csvfs_rec_begin(struct csvfs_enc *e, void *buf, size_t cap, uint32_t magic,
		     const uint8_t uuid[CSVFS_UUID_LEN]);

/* Seal the record: length, then the checksum at the region's end. Returns 0 or -EOVERFLOW. */
int csvfs_rec_end(struct csvfs_enc *e);

/*
 * A whole record in one call: begin, the fields of obj, end. Returns 0 or
 * -EOVERFLOW.
 */
int csvfs_rec_encode(void *buf, size_t cap, uint32_t magic, const uint8_t uuid[CSVFS_UUID_LEN],
		     const struct csvfs_field *f, size_t n, const void *obj);

/*
 * Check the record in buf[0, cap) and position d at its fields. uuid may be
 * NULL (the superblock, read before the uuid is known). Returns 0,
 * -ENODATA if the region is all zeros, CD_ERR_VERSION, or CD_ERR_CORRUPT
 * (wrong magic, length, checksum or uuid).
 */
int csvfs_rec_open(struct csvfs_dec *d, const void *buf, size_t cap, uint32_t magic,
		   const uint8_t uuid[CSVFS_UUID_LEN]);

/* csvfs_rec_open, then the fields into obj (zeroed first). Same returns. */
int csvfs_rec_decode(const void *buf, size_t cap, uint32_t magic,
		     const uint8_t uuid[CSVFS_UUID_LEN], const struct csvfs_field *f, size_t n,
		     void *obj, size_t obj_size);

/* The record's uuid (valid after csvfs_rec_open). */
void csvfs_rec_uuid(const void *buf, uint8_t uuid[CSVFS_UUID_LEN]);

/* SHA-256 of p[0, n). */
void csvfs_sum(const void *p, size_t n, uint8_t out[CSVFS_SUM_LEN]);

/* 36 characters plus NUL. */
void csvfs_uuid_str(const uint8_t uuid[CSVFS_UUID_LEN], char out[37]);

static inline uint64_t csvfs_align_up(uint64_t v, uint64_t a)
{
	return (v + a - 1) / a * a;
}

#endif
