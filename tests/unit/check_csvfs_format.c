#include "config.h"

#include <errno.h>
#include <string.h>

#include <clusterd/result.h>

#include "check_common.h"
#include "csvfs/codec.h"
#include "csvfs/fileops.h"
#include "csvfs/format.h"
#include "csvfs/meta.h"
#include "csvfs/timing.h"
#include "tests/sim/simcluster.h"

#define MIB (1024u * 1024u)

/* The clock formatting reads (for uuids); set up once in main. */
static struct csvfs_sched *sched;
static struct csvfs_sim_clock clk;
/* Each test's simulated device. */
static struct csvfs_simdisk *medium;
static struct csvfs_disk *disk;

static void new_disk(uint64_t size, uint32_t sector_size)
{
	medium = csvfs_simdisk_new(size, sector_size, sched, 0);
	ck_assert_ptr_nonnull(medium);
	disk = csvfs_simdisk_view(medium);
}

static struct csvfs_format_opts opts(uint32_t sector_size)
{
	struct csvfs_format_opts o = {
		.name = "vol1", .hosts = 4, .files = 32, .sector_size = sector_size};
	return o;
}

static int format(uint32_t sector_size, struct csvfs_sb *sb)
{
	struct csvfs_format_opts o = opts(sector_size);

	return csvfs_format(disk, &clk.env, &o, sb);
}

/* Areas in order, aligned, not overlapping, each of the size it needs. */
static void assert_layout(const struct csvfs_sb *sb, uint64_t size)
{
	uint64_t s = sb->sector_size;

	ck_assert_uint_eq(sb->host_off, 4096);
	ck_assert_uint_eq(sb->lease_off % 4096, 0);
	ck_assert_uint_eq(sb->meta_off % 4096, 0);
	ck_assert_uint_eq(sb->data_off % MIB, 0);
	ck_assert_uint_ge(sb->lease_off, sb->host_off + sb->max_hosts * s);
	ck_assert_uint_eq(sb->lease_stride, (1 + sb->max_hosts) * s);
	ck_assert_uint_ge(sb->meta_off, sb->lease_off + (sb->max_files + 1) * sb->lease_stride);
	ck_assert_uint_ge(sb->meta_copy_len,
			  CSVFS_META_HDR_LEN + sb->max_files * CSVFS_META_ENTRY_LEN + 32);
	ck_assert_uint_ge(sb->data_off, sb->meta_off + 2 * sb->meta_copy_len);
	ck_assert_uint_eq(sb->data_end, size / MIB * MIB);
}

static void format_and_open(uint32_t sector_size)
{
	struct csvfs_sb sb;
	struct csvfs_vol v;

	new_disk(64 * MIB + 4096, sector_size);
	ck_assert_int_eq(csvfs_vol_open(&v, disk, &clk.env), -ENODATA);
	ck_assert_int_eq(format(sector_size, &sb), 0);
	assert_layout(&sb, 64 * MIB + 4096);
	ck_assert_int_eq(csvfs_vol_open(&v, disk, &clk.env), 0);
	ck_assert_str_eq(v.sb.name, "vol1");
	ck_assert_uint_eq(v.sb.sector_size, sector_size);
	ck_assert_mem_eq(v.sb.uuid, sb.uuid, sizeof(sb.uuid));
	ck_assert_uint_eq(v.sb.uuid[6] >> 4, 4); /* a version 4 uuid */
	ck_assert_uint_eq(v.timing.expiry_ms, CSVFS_EXPIRY_DEFAULT_MS);
	csvfs_simdisk_free(medium);
}

START_TEST(test_format_open_512)
{
	format_and_open(512);
}
END_TEST

START_TEST(test_format_open_4096)
{
	format_and_open(4096);
}
END_TEST

START_TEST(test_refuses_to_overwrite_without_force)
{
	struct csvfs_format_opts o = opts(512);
	struct csvfs_sb a, b;

	new_disk(16 * MIB, 512);
	ck_assert_int_eq(format(512, &a), 0);
	ck_assert_int_eq(format(512, &b), CD_ERR_EXISTS);
	o.force = 1;
	ck_assert_int_eq(csvfs_format(disk, &clk.env, &o, &b), 0);
	ck_assert_mem_ne(a.uuid, b.uuid, sizeof(a.uuid));
	csvfs_simdisk_free(medium);
}
END_TEST

/* Whatever else was on the device is "not a volume", and may be formatted. */
START_TEST(test_foreign_data_is_not_a_volume)
{
	struct csvfs_vol v;

	new_disk(16 * MIB, 512);
	memset(csvfs_simdisk_data(medium), 0xa5, 8192);
	ck_assert_int_eq(csvfs_vol_open(&v, disk, &clk.env), -ENODATA);
	ck_assert_int_eq(format(512, NULL), 0);
	csvfs_simdisk_free(medium);
}
END_TEST

START_TEST(test_invalid_options)
{
	struct csvfs_format_opts o;

	new_disk(16 * MIB, 4096);
	ck_assert_int_eq(format(512, NULL), CD_ERR_INVALID); /* below the device's sectors */
	o = opts(4096);
	o.name = "bad name";
	ck_assert_int_eq(csvfs_format(disk, &clk.env, &o, NULL), CD_ERR_INVALID);
	o = opts(4096);
	o.hosts = 0;
	ck_assert_int_eq(csvfs_format(disk, &clk.env, &o, NULL), CD_ERR_INVALID);
	o = opts(4096);
	o.expiry_ms = 10;
	ck_assert_int_eq(csvfs_format(disk, &clk.env, &o, NULL), CD_ERR_INVALID);
	o = opts(4096);
	o.files = 4096; /* leases and metadata alone fill 16 MiB */
	o.hosts = 64;
	ck_assert_int_eq(csvfs_format(disk, &clk.env, &o, NULL), -ENOSPC);
	csvfs_simdisk_free(medium);
}
END_TEST

/* Every bit of the superblock sector is covered: a flip never opens. */
START_TEST(test_superblock_bit_flips_detected)
{
	struct csvfs_vol v;
	uint8_t *data;
	size_t bit;
	int rc;

	new_disk(16 * MIB, 512);
	data = csvfs_simdisk_data(medium);
	ck_assert_int_eq(format(512, NULL), 0);
	for (bit = 0; bit < 512 * 8; bit++) {
		data[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		rc = csvfs_vol_open(&v, disk, &clk.env);
		/* A flipped magic is "no volume"; anything else is damage. */
		ck_assert_msg(rc == CD_ERR_CORRUPT || (bit < 32 && rc == -ENODATA),
			      "bit %zu: rc %d", bit, rc);
		data[bit / 8] ^= (uint8_t)(1u << (bit % 8));
	}
	ck_assert_int_eq(csvfs_vol_open(&v, disk, &clk.env), 0);
	csvfs_simdisk_free(medium);
}
END_TEST

START_TEST(test_device_smaller_than_volume)
{
	struct csvfs_vol v;

	new_disk(16 * MIB, 512);
	ck_assert_int_eq(format(512, NULL), 0);
	disk->size = 8 * MIB;
	ck_assert_int_eq(csvfs_vol_open(&v, disk, &clk.env), CD_ERR_CORRUPT);
	csvfs_simdisk_free(medium);
}
END_TEST

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* The bytes on disk are where csvfs(5) says they are. */
START_TEST(test_on_disk_offsets_as_documented)
{
	struct csvfs_sim_opts o = {.seed = 3,
				   .sector_size = 512,
				   .hosts = 2,
				   .files = 4,
				   .expiry_ms = 800,
				   .disk_size = 16 * MIB};
	struct csvfs_sim_cluster c;
	const uint8_t *d, *host, *leader, *ballot, *meta;
	uint8_t sum[CSVFS_SUM_LEN];

	ck_assert_int_eq(csvfs_sim_cluster_init(&c, &o), 0);
	ck_assert_int_eq(csvfs_sim_join_all(&c), 0);
	ck_assert_int_eq(
		csvfs_file_create(&c.hosts[1].vol, &c.hosts[1].host, "disk1", MIB, NULL, NULL), 0);
	d = csvfs_simdisk_data(c.medium);
	ck_assert_mem_eq(d, "CSVS", 4);
	ck_assert_uint_eq(le32(d + 4), 1);
	ck_assert_uint_eq(le32(d + 32), 512);
	ck_assert_uint_eq(le32(d + 36), 2);
	ck_assert_uint_eq(le32(d + 44), 800);
	ck_assert_uint_eq(le32(d + 64), 4096); /* host_off */
	ck_assert_str_eq((const char *)d + 128, "simvol");
	csvfs_sum(d, 512 - 32, sum);
	ck_assert_mem_eq(d + 512 - 32, sum, 32);
	host = d + 4096 + 512; /* slot 2 */
	ck_assert_mem_eq(host, "CSVH", 4);
	ck_assert_uint_eq(le32(host + 32), 2);
	ck_assert_uint_eq(le32(host + 40), 1); /* generation */
	ck_assert_str_eq((const char *)host + 80, "host2");
	leader = d + c.admin.sb.lease_off; /* lease 0: metadata, released by host 2 */
	ck_assert_mem_eq(leader, "CSVL", 4);
	ck_assert_uint_eq(le32(leader + 36), 1); /* free */
	ck_assert_uint_eq(le32(leader + 40), 1); /* version */
	ck_assert_uint_eq(le32(leader + 48), 2); /* owner */
	ck_assert_str_eq((const char *)leader + 80, CSVFS_META_LEASE_NAME);
	ballot = leader + 2 * 512; /* host 2's */
	ck_assert_mem_eq(ballot, "CSVB", 4);
	ck_assert_uint_eq(le32(ballot + 36), 2);
	ck_assert_uint_eq(le32(ballot + 64), 2);		   /* its vote */
	meta = d + c.admin.sb.meta_off + c.admin.sb.meta_copy_len; /* copy B, generation 2 */
	ck_assert_mem_eq(meta, "CSVM", 4);
	ck_assert_uint_eq(le32(meta + 32), 2);
	ck_assert_uint_eq(le32(meta + 40), 1);	     /* nfiles */
	ck_assert_uint_eq(le32(meta + 80 + 8), MIB); /* size of the first file */
	ck_assert_str_eq((const char *)meta + 80 + 48, "disk1");
	csvfs_sim_cluster_free(&c);
}
END_TEST

/* The timing rule of timing.h, with its inequalities. */
START_TEST(test_timing_rule)
{
	struct csvfs_timing t;
	uint32_t e;

	ck_assert_int_eq(csvfs_timing_init(&t, CSVFS_EXPIRY_DEFAULT_MS, 0), 0);
	ck_assert_uint_eq(t.expiry_ms, 8000);
	ck_assert_uint_eq(t.renewal_ms, 1000);
	ck_assert_uint_eq(t.io_ms, 2000);
	ck_assert_uint_eq(t.use_ms, 5000);
	ck_assert_uint_eq(t.margin_ms, 1000);
	for (e = CSVFS_EXPIRY_MIN_MS; e <= CSVFS_EXPIRY_MAX_MS; e = e * 3 + 7) {
		ck_assert_int_eq(csvfs_timing_init(&t, e, 0), 0);
		/* A holder has stopped, I/O drained, before a reader may decide. */
		ck_assert_uint_le(t.use_ms + t.io_ms + t.margin_ms, e);
		/* A renewal slower than T_io cannot have landed after the decision. */
		ck_assert_uint_gt(e - t.use_ms, t.io_ms);
		ck_assert_uint_le(t.renewal_ms, t.use_ms / 2);
		ck_assert_uint_lt(csvfs_timing_join_delay(&t), t.use_ms);
	}
	ck_assert_int_eq(csvfs_timing_init(&t, CSVFS_EXPIRY_MIN_MS - 1, 0), CD_ERR_INVALID);
	ck_assert_int_eq(csvfs_timing_init(&t, CSVFS_EXPIRY_MAX_MS + 1, 0), CD_ERR_INVALID);
	ck_assert_int_eq(csvfs_timing_init(&t, 8000, 2501), CD_ERR_INVALID);
	ck_assert_int_eq(csvfs_timing_init(&t, 8000, 2500), 0);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("csvfs_format");
	int rc;

	sched = csvfs_sched_new(42);
	csvfs_sim_clock_init(&clk, sched, 0);
	add_tcase(s, test_format_open_512);
	add_tcase(s, test_format_open_4096);
	add_tcase(s, test_refuses_to_overwrite_without_force);
	add_tcase(s, test_foreign_data_is_not_a_volume);
	add_tcase(s, test_invalid_options);
	add_tcase(s, test_superblock_bit_flips_detected);
	add_tcase(s, test_device_smaller_than_volume);
	add_tcase(s, test_on_disk_offsets_as_documented);
	add_tcase(s, test_timing_rule);
	rc = run_suite(s);
	csvfs_sched_free(sched);
	return rc;
}
