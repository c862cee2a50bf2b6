#include "config.h"

#include <errno.h>
#include <string.h>

#include <clusterd/result.h>

#include "check_common.h"
#include "csvfs/codec.h"
#include "csvfs/disk.h"

#define MAGIC 0x54534554u /* "TEST" */

static const uint8_t uuid[CSVFS_UUID_LEN] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};

/* A sealed sample record filling a sector of size cap. */
static void sample(uint8_t *buf, size_t cap)
{
	struct csvfs_enc e;

	csvfs_rec_begin(&e, buf, cap, MAGIC, uuid);
	csvfs_put_u32(&e, 0xdeadbeef);
	csvfs_put_u64(&e, 0x0102030405060708ull);
	csvfs_put_str(&e, "hello", 16);
	ck_assert_int_eq(csvfs_rec_end(&e), 0);
}

START_TEST(test_fields_are_little_endian)
{
	uint8_t buf[16];
	struct csvfs_enc e = {.buf = buf, .cap = sizeof(buf)};
	struct csvfs_dec d = {.buf = buf, .len = sizeof(buf)};
	char s[4];

	csvfs_put_u32(&e, 0x11223344);
	csvfs_put_u64(&e, 0x8877665544332211ull);
	csvfs_put_str(&e, "abcdef", 4);
	ck_assert_int_eq(e.overflow, 0);
	ck_assert_uint_eq(buf[0], 0x44);
	ck_assert_uint_eq(buf[3], 0x11);
	ck_assert_uint_eq(buf[4], 0x11);
	ck_assert_uint_eq(buf[11], 0x88);
	ck_assert_uint_eq(csvfs_get_u32(&d), 0x11223344);
	ck_assert(csvfs_get_u64(&d) == 0x8877665544332211ull);
	csvfs_get_str(&d, s, sizeof(s));
	ck_assert_str_eq(s, "abc"); /* truncated to the field, always terminated */
	csvfs_put_u32(&e, 1);
	ck_assert_int_eq(e.overflow, 1);
	ck_assert_uint_eq(csvfs_get_u32(&d), 0); /* past the end reads zeros */
}
END_TEST

START_TEST(test_record_roundtrip)
{
	uint8_t buf[512], got[CSVFS_UUID_LEN];
	struct csvfs_dec d;
	char s[16];

	sample(buf, sizeof(buf));
	ck_assert_int_eq(csvfs_rec_open(&d, buf, sizeof(buf), MAGIC, uuid), 0);
	ck_assert_uint_eq(csvfs_get_u32(&d), 0xdeadbeef);
	ck_assert(csvfs_get_u64(&d) == 0x0102030405060708ull);
	csvfs_get_str(&d, s, sizeof(s));
	ck_assert_str_eq(s, "hello");
	csvfs_rec_uuid(buf, got);
	ck_assert_mem_eq(got, uuid, sizeof(got));
	ck_assert_int_eq(csvfs_rec_open(&d, buf, sizeof(buf), MAGIC, NULL), 0);
}
END_TEST

START_TEST(test_zeros_are_never_written)
{
	uint8_t buf[512] = {0};
	struct csvfs_dec d;

	ck_assert_int_eq(csvfs_rec_open(&d, buf, sizeof(buf), MAGIC, uuid), -ENODATA);
}
END_TEST

/* Every single bit flipped anywhere in the sector, padding included, is caught. */
START_TEST(test_every_bit_flip_detected)
{
	uint8_t buf[512];
	struct csvfs_dec d;
	size_t bit;
	int rc;

	sample(buf, sizeof(buf));
	for (bit = 0; bit < sizeof(buf) * 8; bit++) {
		buf[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		rc = csvfs_rec_open(&d, buf, sizeof(buf), MAGIC, uuid);
		ck_assert_msg(rc == CD_ERR_CORRUPT, "bit %zu: rc %d", bit, rc);
		buf[bit / 8] ^= (uint8_t)(1u << (bit % 8));
	}
	ck_assert_int_eq(csvfs_rec_open(&d, buf, sizeof(buf), MAGIC, uuid), 0);
}
END_TEST

START_TEST(test_wrong_magic_uuid_or_version)
{
	uint8_t buf[512], other[CSVFS_UUID_LEN] = {9};
	struct csvfs_enc e = {.buf = buf, .cap = sizeof(buf), .off = 4};
	struct csvfs_dec d;

	sample(buf, sizeof(buf));
	ck_assert_int_eq(csvfs_rec_open(&d, buf, sizeof(buf), MAGIC + 1, uuid), CD_ERR_CORRUPT);
	ck_assert_int_eq(csvfs_rec_open(&d, buf, sizeof(buf), MAGIC, other), CD_ERR_CORRUPT);
	/* A future version, properly sealed: refused as such, not as damage. */
	csvfs_put_u32(&e, CSVFS_VERSION + 1);
	csvfs_sum(buf, sizeof(buf) - CSVFS_SUM_LEN, buf + sizeof(buf) - CSVFS_SUM_LEN);
	ck_assert_int_eq(csvfs_rec_open(&d, buf, sizeof(buf), MAGIC, uuid), CD_ERR_VERSION);
}
END_TEST

START_TEST(test_overflow_refused)
{
	uint8_t buf[64];
	struct csvfs_enc e;

	csvfs_rec_begin(&e, buf, sizeof(buf), MAGIC, uuid);
	csvfs_put_u64(&e, 1); /* 40 bytes + 32 of checksum > 64 */
	ck_assert_int_eq(csvfs_rec_end(&e), -EOVERFLOW);
}
END_TEST

START_TEST(test_uuid_string_and_align)
{
	char s[37];

	csvfs_uuid_str(uuid, s);
	ck_assert_str_eq(s, "01020304-0506-0708-090a-0b0c0d0e0f10");
	ck_assert_uint_eq(csvfs_align_up(1, 4096), 4096);
	ck_assert_uint_eq(csvfs_align_up(4096, 4096), 4096);
	ck_assert_uint_eq(csvfs_align_up(0, 512), 0);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("csvfs_codec");

	add_tcase(s, test_fields_are_little_endian);
	add_tcase(s, test_record_roundtrip);
	add_tcase(s, test_zeros_are_never_written);
	add_tcase(s, test_every_bit_flip_detected);
	add_tcase(s, test_wrong_magic_uuid_or_version);
	add_tcase(s, test_overflow_refused);
	add_tcase(s, test_uuid_string_and_align);
	return run_suite(s);
}
