#include "config.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>

#include <clusterd/result.h>

#include "csvfs/codec.h"

static bool room(struct csvfs_enc *e, size_t n)
{
	if (e->overflow || n > e->cap - e->off) {
		e->overflow = 1;
		return false;
	}
	return true;
}

void csvfs_put_u32(struct csvfs_enc *e, uint32_t v)
{
	int i;

	if (!room(e, 4))
		return;
	for (i = 0; i < 4; i++)
		e->buf[e->off++] = (uint8_t)(v >> (8 * i));
}

void csvfs_put_u64(struct csvfs_enc *e, uint64_t v)
{
	csvfs_put_u32(e, (uint32_t)v);
	csvfs_put_u32(e, (uint32_t)(v >> 32));
}

void csvfs_put_bytes(struct csvfs_enc *e, const void *p, size_t n)
{
	if (!room(e, n))
		return;
	memcpy(e->buf + e->off, p, n);
	e->off += n;
}

void csvfs_put_str(struct csvfs_enc *e, const char *s, size_t width)
{
	size_t n = strnlen(s, width - 1);

	if (!room(e, width))
		return;
	memcpy(e->buf + e->off, s, n);
	memset(e->buf + e->off + n, 0, width - n);
	e->off += width;
}

uint32_t csvfs_get_u32(struct csvfs_dec *d)
{
	uint32_t v = 0;
	int i;

	if (d->off > d->len || d->len - d->off < 4) {
		d->off = d->len;
		return 0;
	}
	for (i = 0; i < 4; i++)
		v |= (uint32_t)d->buf[d->off++] << (8 * i);
	return v;
}

uint64_t csvfs_get_u64(struct csvfs_dec *d)
{
	uint64_t lo = csvfs_get_u32(d);

	return lo | (uint64_t)csvfs_get_u32(d) << 32;
}

void csvfs_get_bytes(struct csvfs_dec *d, void *p, size_t n)
{
	if (d->off > d->len || d->len - d->off < n) {
		memset(p, 0, n);
		d->off = d->len;
		return;
	}
	memcpy(p, d->buf + d->off, n);
	d->off += n;
}

void csvfs_get_str(struct csvfs_dec *d, char *out, size_t width)
{
	csvfs_get_bytes(d, out, width);
	out[width - 1] = '\0';
}

void csvfs_sum(const void *p, size_t n, uint8_t out[CSVFS_SUM_LEN])
{
	unsigned int len = 0;

	EVP_Digest(p, n, out, &len, EVP_sha256(), NULL);
}

void csvfs_put_fields(struct csvfs_enc *e, const struct csvfs_field *f, size_t n, const void *obj)
{
	const char *base = obj;
	size_t i;

	for (i = 0; i < n; i++) {
		switch (f[i].type) {
		case CSVFS_U32:
			csvfs_put_u32(e, *(const uint32_t *)(base + f[i].off));
			break;
		case CSVFS_U64:
			csvfs_put_u64(e, *(const uint64_t *)(base + f[i].off));
			break;
		case CSVFS_STR:
			csvfs_put_str(e, base + f[i].off, f[i].width);
			break;
		case CSVFS_PAD32:
			csvfs_put_u32(e, 0);
			break;
		}
	}
}

void csvfs_get_fields(struct csvfs_dec *d, const struct csvfs_field *f, size_t n, void *obj)
{
	char *base = obj;
	size_t i;

	for (i = 0; i < n; i++) {
		switch (f[i].type) {
		case CSVFS_U32:
			*(uint32_t *)(base + f[i].off) = csvfs_get_u32(d);
			break;
		case CSVFS_U64:
			*(uint64_t *)(base + f[i].off) = csvfs_get_u64(d);
			break;
		case CSVFS_STR:
			csvfs_get_str(d, base + f[i].off, f[i].width);
			break;
		case CSVFS_PAD32:
			csvfs_get_u32(d);
			break;
		}
	}
}

void csvfs_rec_begin(struct csvfs_enc *e, void *buf, size_t cap, uint32_t magic,
		     const uint8_t uuid[CSVFS_UUID_LEN])
{
	memset(buf, 0, cap);
	e->buf = buf;
	e->cap = cap;
	e->off = 0;
	e->overflow = 0;
	csvfs_put_u32(e, magic);
	csvfs_put_u32(e, CSVFS_VERSION);
	csvfs_put_u32(e, 0); /* len, filled in by csvfs_rec_end */
	csvfs_put_u32(e, 0);
	csvfs_put_bytes(e, uuid, CSVFS_UUID_LEN);
}

int csvfs_rec_end(struct csvfs_enc *e)
{
	size_t len = e->off;
	struct csvfs_enc at = {.buf = e->buf, .cap = e->cap, .off = 8};

	if (e->overflow || e->cap < CSVFS_SUM_LEN || len > e->cap - CSVFS_SUM_LEN)
		return -EOVERFLOW;
	csvfs_put_u32(&at, (uint32_t)len);
	csvfs_sum(e->buf, e->cap - CSVFS_SUM_LEN, e->buf + e->cap - CSVFS_SUM_LEN);
	e->off = e->cap;
	return 0;
}

static int all_zero(const uint8_t *p, size_t n)
{
	return n == 0 || (p[0] == 0 && memcmp(p, p + 1, n - 1) == 0);
}

int csvfs_rec_open(struct csvfs_dec *d, const void *buf, size_t cap, uint32_t magic,
		   const uint8_t uuid[CSVFS_UUID_LEN])
{
	struct csvfs_dec h = {.buf = buf, .len = cap};
	uint8_t sum[CSVFS_SUM_LEN];
	uint32_t m, version, len;

	if (all_zero(buf, cap))
		return -ENODATA;
	if (cap < CSVFS_REC_HDR + CSVFS_SUM_LEN)
		return CD_ERR_CORRUPT;
	m = csvfs_get_u32(&h);
	version = csvfs_get_u32(&h);
	len = csvfs_get_u32(&h);
	if (m != magic || len < CSVFS_REC_HDR || len > cap - CSVFS_SUM_LEN)
		return CD_ERR_CORRUPT;
	csvfs_sum(buf, cap - CSVFS_SUM_LEN, sum);
	if (memcmp(sum, h.buf + cap - CSVFS_SUM_LEN, CSVFS_SUM_LEN) != 0)
		return CD_ERR_CORRUPT;
	if (version != CSVFS_VERSION)
		return CD_ERR_VERSION;
	if (uuid && memcmp(h.buf + 16, uuid, CSVFS_UUID_LEN) != 0)
		return CD_ERR_CORRUPT;
	d->buf = buf;
	d->len = len;
	d->off = CSVFS_REC_HDR;
	return 0;
}

int csvfs_rec_encode(void *buf, size_t cap, uint32_t magic, const uint8_t uuid[CSVFS_UUID_LEN],
		     const struct csvfs_field *f, size_t n, const void *obj)
{
	struct csvfs_enc e;

	csvfs_rec_begin(&e, buf, cap, magic, uuid);
	csvfs_put_fields(&e, f, n, obj);
	return csvfs_rec_end(&e);
}

int csvfs_rec_decode(const void *buf, size_t cap, uint32_t magic,
		     const uint8_t uuid[CSVFS_UUID_LEN], const struct csvfs_field *f, size_t n,
		     void *obj, size_t obj_size)
{
	struct csvfs_dec d;
	int rc;

	memset(obj, 0, obj_size);
	rc = csvfs_rec_open(&d, buf, cap, magic, uuid);
	if (rc == 0)
		csvfs_get_fields(&d, f, n, obj);
	return rc;
}

void csvfs_rec_uuid(const void *buf, uint8_t uuid[CSVFS_UUID_LEN])
{
	memcpy(uuid, (const uint8_t *)buf + 16, CSVFS_UUID_LEN);
}

void csvfs_uuid_str(const uint8_t u[CSVFS_UUID_LEN], char out[37])
{
	snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
		 u[0], u[1], u[2], u[3], u[4], u[5], u[6], u[7], u[8], u[9], u[10], u[11], u[12],
		 u[13], u[14], u[15]);
}
