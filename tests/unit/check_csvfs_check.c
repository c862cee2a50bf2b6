#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <clusterd/result.h>

#include "check_common.h"
#include "csvfs/check.h"
#include "csvfs/fileops.h"
#include "csvfs/files.h"
#include "tests/sim/simcluster.h"

#define MIB (1u << 20)

static struct csvfs_sim_cluster c;
static char last_where[64], last_msg[256];

static void cluster(uint32_t sector_size)
{
	struct csvfs_sim_opts o = {.seed = 11,
				   .sector_size = sector_size,
				   .hosts = 3,
				   .files = 8,
				   .expiry_ms = 800,
				   .disk_size = 32 * MIB};

	ck_assert_int_eq(csvfs_sim_cluster_init(&c, &o), 0);
	ck_assert_int_eq(csvfs_sim_join_all(&c), 0);
	ck_assert_int_eq(
		csvfs_file_create(&c.hosts[0].vol, &c.hosts[0].host, "disk1", 3 * MIB, NULL, NULL),
		0);
	ck_assert_int_eq(
		csvfs_file_create(&c.hosts[1].vol, &c.hosts[1].host, "disk2", MIB, NULL, NULL), 0);
}

static void found(void *ctx, enum csvfs_finding kind, const char *where, const char *msg)
{
	snprintf(last_where, sizeof(last_where), "%s", where);
	snprintf(last_msg, sizeof(last_msg), "%s", msg);
}

static struct csvfs_check_counts check(void)
{
	struct csvfs_check_counts n;

	last_where[0] = last_msg[0] = '\0';
	ck_assert_int_eq(csvfs_check(&c.admin, found, NULL, &n), 0);
	return n;
}

static struct csvfs_meta newest(void)
{
	struct csvfs_meta m;

	ck_assert_int_eq(csvfs_meta_init(&m, 8), 0);
	ck_assert_int_eq(csvfs_meta_read(&c.admin, &m, NULL), 0);
	return m;
}

static void flip(uint64_t off)
{
	csvfs_simdisk_data(c.medium)[off] ^= 0x04;
}

START_TEST(test_clean_volume)
{
	struct csvfs_check_counts n;

	cluster(512);
	n = check();
	ck_assert_uint_eq(n.damage, 0);
	ck_assert_uint_eq(n.notes, 0);
	csvfs_sim_cluster_free(&c);
}
END_TEST

/* One flipped bit at off is one finding of damage, at where, saying what. */
static void expect_damage(uint64_t off, const char *where, const char *what)
{
	struct csvfs_check_counts n;

	flip(off);
	n = check();
	ck_assert_uint_eq(n.damage, 1);
	ck_assert_str_eq(last_where, where);
	ck_assert_ptr_nonnull(strstr(last_msg, what));
	flip(off);
}

/* Damage anywhere in the lease areas is found, and located. */
static void damage_found(uint32_t sector_size)
{
	uint32_t s = sector_size;

	cluster(sector_size);
	expect_damage(csvfs_host_off(&c.admin, 2) + 77, "host 2", "host-lease");
	/* Lease 1 (disk1's): its leader was written, then its ballot of host 1. */
	expect_damage(csvfs_lease_off(&c.admin, 1) + 5, "lease 1", "leader");
	expect_damage(csvfs_lease_off(&c.admin, 0) + 2 * s - 1, "lease 0", "host 1");
	ck_assert_uint_eq(check().damage, 0);
	csvfs_sim_cluster_free(&c);
}

START_TEST(test_damage_found_512)
{
	damage_found(512);
}
END_TEST

START_TEST(test_damage_found_4096)
{
	damage_found(4096);
}
END_TEST

/*
 * A bad allocation with a good checksum (a bug, not a torn write) is
 * damage too: two extents overlapping.
 */
START_TEST(test_overlapping_extents)
{
	struct csvfs_check_counts n;
	struct csvfs_meta m;

	cluster(512);
	m = newest();
	m.files[1].offset = m.files[0].offset + MIB;
	m.generation++;
	ck_assert_int_eq(csvfs_meta_write_copy(&c.admin, m.copy ? 0 : 1, &m), 0);
	n = check();
	ck_assert_uint_eq(n.damage, 1);
	ck_assert_str_eq(last_where, "metadata");
	ck_assert_ptr_nonnull(strstr(last_msg, "overlap"));
	csvfs_meta_free(&m);
	csvfs_sim_cluster_free(&c);
}
END_TEST

/* The copy an interrupted update was writing is a note, not damage. */
START_TEST(test_torn_older_copy_is_a_note)
{
	struct csvfs_check_counts n;
	struct csvfs_meta m;

	cluster(4096);
	m = newest();
	flip(csvfs_meta_copy_off(&c.admin, m.copy ? 0 : 1) + 100);
	n = check();
	ck_assert_uint_eq(n.damage, 0);
	ck_assert_uint_eq(n.notes, 1);
	csvfs_meta_free(&m);
	csvfs_sim_cluster_free(&c);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("csvfs_check");

	add_tcase(s, test_clean_volume);
	add_tcase(s, test_damage_found_512);
	add_tcase(s, test_damage_found_4096);
	add_tcase(s, test_overlapping_extents);
	add_tcase(s, test_torn_older_copy_is_a_note);
	return run_suite(s);
}
