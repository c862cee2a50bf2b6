#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <clusterd/result.h>

#include "check_common.h"
#include "csvfs/check.h"
#include "csvfs/fileops.h"
#include "csvfs/meta.h"
#include "tests/sim/simcluster.h"

#define EXPIRY 800u
#define MIB (1u << 20)

static struct csvfs_sim_cluster c;
static struct csvfs_host att[2]; /* hosts 1 and 2, attached: no validity clock */

static void cluster(uint64_t seed, uint32_t sector_size)
{
	struct csvfs_sim_opts o = {.seed = seed,
				   .sector_size = sector_size,
				   .hosts = 2,
				   .files = 8,
				   .expiry_ms = EXPIRY,
				   .disk_size = 64 * MIB};
	uint32_t i;

	ck_assert_int_eq(csvfs_sim_cluster_init(&c, &o), 0);
	ck_assert_int_eq(csvfs_sim_join_all(&c), 0);
	for (i = 0; i < 2; i++)
		ck_assert_int_eq(csvfs_host_attach(&c.hosts[i].vol, i + 1, NULL, &att[i]), 0);
}

static int create(uint32_t slot, const char *name)
{
	return csvfs_file_create(&c.hosts[slot - 1].vol, &att[slot - 1], name, 3 * MIB, NULL, NULL);
}

/* The newest metadata as "name,name,...", or an error code. */
static int names(char *out, size_t n, struct csvfs_meta *m_out)
{
	struct csvfs_meta m;
	uint32_t i;
	int rc;

	ck_assert_int_eq(csvfs_meta_init(&m, c.admin.sb.max_files), 0);
	rc = csvfs_meta_read(&c.admin, &m, NULL);
	out[0] = '\0';
	for (i = 0; rc == 0 && i < m.nfiles; i++) {
		strncat(out, m.files[i].name, n - strlen(out) - 1);
		if (i + 1 < m.nfiles)
			strncat(out, ",", n - strlen(out) - 1);
	}
	if (m_out)
		*m_out = m;
	else
		csvfs_meta_free(&m);
	return rc;
}

/* The destructor takes NULL, and a namespace freed already. */
START_TEST(test_free_accepts_null)
{
	struct csvfs_meta m;

	csvfs_meta_free(NULL);
	ck_assert_int_eq(csvfs_meta_init(&m, 4), 0);
	csvfs_meta_free(&m);
	csvfs_meta_free(&m);
	ck_assert_ptr_null(m.files);
}
END_TEST

START_TEST(test_copies_alternate)
{
	struct csvfs_meta_found f;
	struct csvfs_meta m;
	char s[128];

	cluster(1, 512);
	ck_assert_int_eq(names(s, sizeof(s), &m), 0);
	ck_assert_uint_eq(m.generation, 1);
	ck_assert_int_eq(m.copy, 0);
	csvfs_meta_free(&m);
	ck_assert_int_eq(create(1, "a"), 0);
	ck_assert_int_eq(names(s, sizeof(s), &m), 0);
	ck_assert_str_eq(s, "a");
	ck_assert_uint_eq(m.generation, 2);
	ck_assert_int_eq(m.copy, 1);
	ck_assert_uint_eq(m.writer_slot, 1);
	csvfs_meta_free(&m);
	ck_assert_int_eq(create(2, "b"), 0);
	ck_assert_int_eq(csvfs_meta_init(&m, 8), 0);
	ck_assert_int_eq(csvfs_meta_read(&c.admin, &m, &f), 0);
	ck_assert_uint_eq(m.generation, 3);
	ck_assert_int_eq(m.copy, 0);
	ck_assert_uint_eq(f.generation[0], 3);
	ck_assert_uint_eq(f.generation[1], 2);
	csvfs_meta_free(&m);
	csvfs_sim_cluster_free(&c);
}
END_TEST

START_TEST(test_write_needs_the_metadata_lease)
{
	struct csvfs_meta m;
	char s[64];

	cluster(2, 512);
	ck_assert_int_eq(names(s, sizeof(s), &m), 0);
	ck_assert_int_eq(csvfs_meta_write(&c.hosts[0].vol, &att[0], &m), -EPERM);
	ck_assert_int_eq(csvfs_lease_acquire(&c.hosts[1].vol, &att[1], CSVFS_META_LEASE,
					     CSVFS_META_LEASE_NAME, 0, NULL),
			 0);
	ck_assert_int_eq(csvfs_meta_write(&c.hosts[0].vol, &att[0], &m), -EPERM);
	ck_assert_int_eq(csvfs_meta_write(&c.hosts[1].vol, &att[1], &m), 0);
	/* A host whose host lease has expired writes nothing. */
	csvfs_sleep(&c.hosts[1].clock.env, EXPIRY);
	ck_assert_int_eq(csvfs_meta_write(&c.hosts[1].vol, &c.hosts[1].host, &m), CD_ERR_TIMEOUT);
	csvfs_meta_free(&m);
	csvfs_sim_cluster_free(&c);
}
END_TEST

/* A copy that cannot be read may be the newest: no answer rather than an old one. */
START_TEST(test_unreadable_copy_is_no_answer)
{
	struct csvfs_sim_faults f = {.crash_after = -1, .eio_pct = 100};
	struct csvfs_meta m;

	cluster(9, 512);
	ck_assert_int_eq(create(1, "a"), 0);
	csvfs_simdisk_set_faults(c.hosts[1].disk, &f);
	ck_assert_int_eq(csvfs_meta_init(&m, 8), 0);
	ck_assert_int_eq(csvfs_meta_read(&c.hosts[1].vol, &m, NULL), -EIO);
	ck_assert_int_eq(m.copy, -1);
	csvfs_meta_free(&m);
	csvfs_sim_cluster_free(&c);
}
END_TEST

/*
 * A host crashes after its write number k of an update, for every k (the
 * crashing write torn: some of its sectors land, with tear also part of
 * one sector). Readers then find the old or the new namespace, never
 * garbage, and another host can carry on.
 */
static void crash_at_every_write(uint32_t sector_size, int tear)
{
	struct csvfs_sim_faults f = {.crash_after = -1, .tear_sectors = tear};
	struct csvfs_disk *d1;
	uint8_t *snap;
	uint64_t k, writes, area;
	int seen_old = 0, seen_new = 0, rc;
	char s[128];

	cluster(3 + tear, sector_size);
	d1 = c.hosts[0].disk;
	ck_assert_int_eq(create(1, "a"), 0);
	area = c.admin.sb.data_off;
	snap = malloc(area);
	memcpy(snap, csvfs_simdisk_data(c.medium), area);
	/* How many writes the update takes when nothing goes wrong. */
	csvfs_simdisk_set_faults(d1, &f);
	ck_assert_int_eq(create(1, "b"), 0);
	writes = csvfs_simdisk_writes(d1);
	ck_assert_uint_ge(writes, 4);
	for (k = 0; k <= writes; k++) {
		memcpy(csvfs_simdisk_data(c.medium), snap, area);
		f.crash_after = (int64_t)k;
		csvfs_simdisk_set_faults(d1, &f);
		rc = create(1, "b");
		ck_assert_int_eq(names(s, sizeof(s), NULL), 0);
		ck_assert_msg(strcmp(s, "a") == 0 || strcmp(s, "a,b") == 0, "k %llu: %s",
			      (unsigned long long)k, s);
		/* Success means it is written, whatever happened after. */
		ck_assert(rc == -EIO || (rc == 0 && strcmp(s, "a,b") == 0));
		ck_assert(k < writes || rc == 0);
		seen_old |= strcmp(s, "a") == 0;
		seen_new |= strcmp(s, "a,b") == 0;
		/* Host 2 goes on (after host 1's lease on the metadata expires). */
		ck_assert_int_eq(create(2, "c"), 0);
		ck_assert_int_eq(names(s, sizeof(s), NULL), 0);
		ck_assert_msg(strcmp(s, "a,c") == 0 || strcmp(s, "a,b,c") == 0, "k %llu: %s",
			      (unsigned long long)k, s);
	}
	ck_assert(seen_old && seen_new);
	free(snap);
	csvfs_sim_cluster_free(&c);
}

START_TEST(test_crash_at_every_write_512)
{
	crash_at_every_write(512, 0);
}
END_TEST

START_TEST(test_crash_at_every_write_4096)
{
	crash_at_every_write(4096, 0);
}
END_TEST

START_TEST(test_crash_at_every_write_torn_sectors)
{
	crash_at_every_write(512, 1);
	crash_at_every_write(4096, 1);
}
END_TEST

static void flip(uint64_t off, size_t bit)
{
	csvfs_simdisk_data(c.medium)[off + bit / 8] ^= (uint8_t)(1u << (bit % 8));
}

static unsigned notes, damage;

static void count(void *ctx, enum csvfs_finding kind, const char *where, const char *msg)
{
	if (kind == CSVFS_FINDING_DAMAGE)
		damage++;
	else
		notes++;
}

/* A damaged newest copy: readers fall back to the one before. */
START_TEST(test_damaged_copy_detected)
{
	struct csvfs_check_counts counts;
	struct csvfs_meta m;
	uint64_t len, off;
	size_t i;
	char s[64];

	cluster(5, 512);
	ck_assert_int_eq(create(1, "a"), 0);
	ck_assert_int_eq(create(1, "b"), 0);
	ck_assert_int_eq(names(s, sizeof(s), &m), 0);
	ck_assert_int_eq(m.copy, 0);
	csvfs_meta_free(&m);
	len = c.admin.sb.meta_copy_len;
	off = csvfs_meta_copy_off(&c.admin, 0);
	/* Bits all over the copy, header, entries, padding and checksum. */
	for (i = 0; i < len * 8; i += 61) {
		flip(off, i);
		ck_assert_int_eq(names(s, sizeof(s), &m), 0);
		ck_assert_msg(strcmp(s, "a") == 0 && m.copy == 1, "bit %zu: %s", i, s);
		csvfs_meta_free(&m);
		flip(off, i);
	}
	flip(off, 12345);
	notes = damage = 0;
	ck_assert_int_eq(csvfs_check(&c.admin, count, NULL, &counts), 0);
	ck_assert_uint_eq(notes, 1);
	ck_assert_uint_eq(damage, 0);
	/* Both copies damaged: the namespace is gone, and said so. */
	flip(csvfs_meta_copy_off(&c.admin, 1), 777);
	ck_assert_int_eq(names(s, sizeof(s), NULL), CD_ERR_CORRUPT);
	ck_assert_int_eq(create(1, "c"), CD_ERR_CORRUPT);
	notes = damage = 0;
	ck_assert_int_eq(csvfs_check(&c.admin, count, NULL, &counts), 0);
	ck_assert_uint_eq(damage, 1);
	csvfs_sim_cluster_free(&c);
}
END_TEST

/*
 * A reader reads while a writer makes update after update, its reads
 * overlapping the writes (stale and half-written sectors). Every read
 * gives a whole namespace, and never an older one than before.
 */
static int reader_failures;

static void writer(void *arg)
{
	char name[16];
	int i;

	for (i = 0; i < 6; i++) {
		snprintf(name, sizeof(name), "f%d", i);
		ck_assert_int_eq(create(1, name), 0);
	}
}

static void reader(void *arg)
{
	struct csvfs_meta m;
	uint64_t last = 0;
	uint32_t i;
	char want[16];

	ck_assert_int_eq(csvfs_meta_init(&m, 8), 0);
	while (!csvfs_sched_stopping(c.sched) && last < 7) {
		if (csvfs_meta_read(&c.hosts[1].vol, &m, NULL) < 0) {
			reader_failures++;
			break;
		}
		ck_assert_uint_ge(m.generation, last);
		ck_assert_uint_eq(m.nfiles, m.generation - 1);
		for (i = 0; i < m.nfiles; i++) {
			snprintf(want, sizeof(want), "f%u", i);
			ck_assert_str_eq(m.files[i].name, want);
		}
		last = m.generation;
	}
	csvfs_meta_free(&m);
}

START_TEST(test_reader_during_updates)
{
	struct csvfs_sim_faults f = {.crash_after = -1, .stale_pct = 50};
	uint64_t seed;

	for (seed = 0; seed < 40; seed++) {
		cluster(seed, seed % 2 ? 512 : 4096);
		csvfs_simdisk_set_faults(c.hosts[1].disk, &f);
		csvfs_sched_spawn(c.sched, writer, NULL, 0);
		csvfs_sched_spawn(c.sched, reader, NULL, 1);
		csvfs_sched_run(c.sched);
		ck_assert_int_eq(reader_failures, 0);
		csvfs_sim_cluster_free(&c);
	}
}
END_TEST

int main(void)
{
	Suite *s = suite_create("csvfs_meta");

	add_tcase(s, test_free_accepts_null);
	add_tcase(s, test_copies_alternate);
	add_tcase(s, test_write_needs_the_metadata_lease);
	add_tcase(s, test_unreadable_copy_is_no_answer);
	add_tcase(s, test_crash_at_every_write_512);
	add_tcase(s, test_crash_at_every_write_4096);
	add_tcase(s, test_crash_at_every_write_torn_sectors);
	add_tcase(s, test_damaged_copy_detected);
	add_tcase(s, test_reader_during_updates);
	return run_suite(s);
}
