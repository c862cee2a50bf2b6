#include "config.h"

#include <errno.h>
#include <string.h>

#include <clusterd/result.h>

#include "check_common.h"
#include "csvfs/fileops.h"
#include "csvfs/files.h"
#include "tests/sim/simcluster.h"

#define MIB (1ull << 20)

/* A data area of 16 units, from 1 MiB. */
static struct csvfs_sb sb = {
	.max_files = 4, .alloc_unit = MIB, .data_off = MIB, .data_end = 17 * MIB};

static struct csvfs_meta meta(void)
{
	struct csvfs_meta m;

	ck_assert_int_eq(csvfs_meta_init(&m, sb.max_files), 0);
	return m;
}

static int create(struct csvfs_meta *m, const char *name, uint64_t size)
{
	return csvfs_files_create(m, &sb, name, size, 1, 0, NULL);
}

static int problems;

static void problem(void *ctx, const char *msg)
{
	problems++;
}

static int verify(const struct csvfs_meta *m)
{
	problems = 0;
	ck_assert_int_eq(csvfs_files_verify(m, &sb, problem, NULL), problems);
	return problems;
}

START_TEST(test_create_first_fit)
{
	struct csvfs_meta m = meta();
	struct csvfs_file *f;

	ck_assert_int_eq(csvfs_files_create(&m, &sb, "a", 1, 3, 99, &f), 0);
	ck_assert_uint_eq(f->offset, MIB);
	ck_assert_uint_eq(f->alloc, MIB);
	ck_assert_uint_eq(f->index, 0);
	ck_assert_uint_eq(f->owner, 3);
	ck_assert_uint_eq(f->generation, 1);
	ck_assert_int_eq(create(&m, "b", 2 * MIB + 1), 0);
	f = csvfs_files_find(&m, "b");
	ck_assert_uint_eq(f->offset, 2 * MIB);
	ck_assert_uint_eq(f->alloc, 3 * MIB);
	ck_assert_int_eq(create(&m, "c", MIB), 0);
	ck_assert_uint_eq(csvfs_files_find(&m, "c")->offset, 5 * MIB);
	/* The gap left by b is reused first fit; its index too. */
	ck_assert_int_eq(csvfs_files_remove(&m, "b"), 0);
	ck_assert_int_eq(create(&m, "d", 2 * MIB), 0);
	f = csvfs_files_find(&m, "d");
	ck_assert_uint_eq(f->offset, 2 * MIB);
	ck_assert_uint_eq(f->index, 1);
	ck_assert_uint_eq(m.files[1].index, 1); /* kept by index */
	ck_assert_uint_eq(csvfs_files_free_bytes(&m, &sb), 12 * MIB);
	ck_assert_int_eq(verify(&m), 0);
	csvfs_meta_free(&m);
}
END_TEST

START_TEST(test_create_refusals)
{
	struct csvfs_meta m = meta();

	ck_assert_int_eq(create(&m, "a", MIB), 0);
	ck_assert_int_eq(create(&m, "a", MIB), CD_ERR_EXISTS);
	ck_assert_int_eq(create(&m, "no/slash", MIB), CD_ERR_INVALID);
	ck_assert_int_eq(create(&m, "", MIB), CD_ERR_INVALID);
	ck_assert_int_eq(create(&m, "zero", 0), CD_ERR_INVALID);
	ck_assert_int_eq(create(&m, "huge", UINT64_MAX), CD_ERR_INVALID);
	ck_assert_int_eq(create(&m, "big", 16 * MIB), -ENOSPC);
	ck_assert_int_eq(create(&m, "b", MIB), 0);
	ck_assert_int_eq(create(&m, "c", MIB), 0);
	ck_assert_int_eq(create(&m, "d", MIB), 0);
	ck_assert_int_eq(create(&m, "e", MIB), -ENOSPC); /* no entry left */
	ck_assert_int_eq(csvfs_files_remove(&m, "x"), CD_ERR_NOT_FOUND);
	csvfs_meta_free(&m);
}
END_TEST

START_TEST(test_resize_in_place)
{
	struct csvfs_meta m = meta();
	struct csvfs_file *a;

	ck_assert_int_eq(create(&m, "a", MIB), 0);
	ck_assert_int_eq(create(&m, "b", MIB), 0);
	a = csvfs_files_find(&m, "a");
	/* b sits right after a: a cannot grow past a unit. */
	ck_assert_int_eq(csvfs_files_resize(&m, &sb, "a", MIB + 1), -ENOSPC);
	ck_assert_int_eq(csvfs_files_resize(&m, &sb, "a", 1000), 0);
	ck_assert_uint_eq(a->size, 1000);
	ck_assert_uint_eq(a->generation, 2);
	ck_assert_int_eq(csvfs_files_remove(&m, "b"), 0);
	a = csvfs_files_find(&m, "a");
	ck_assert_int_eq(csvfs_files_resize(&m, &sb, "a", 16 * MIB), 0);
	ck_assert_uint_eq(a->alloc, 16 * MIB);
	ck_assert_int_eq(csvfs_files_resize(&m, &sb, "a", 16 * MIB + 1), -ENOSPC);
	ck_assert_int_eq(csvfs_files_resize(&m, &sb, "nope", 1), CD_ERR_NOT_FOUND);
	ck_assert_int_eq(csvfs_files_resize(&m, &sb, "a", 0), CD_ERR_INVALID);
	ck_assert_int_eq(verify(&m), 0);
	csvfs_meta_free(&m);
}
END_TEST

/* The checks csvfs check relies on: each broken rule is reported. */
START_TEST(test_verify_finds_broken_allocation)
{
	struct csvfs_meta m = meta();

	ck_assert_int_eq(create(&m, "a", 2 * MIB), 0);
	ck_assert_int_eq(create(&m, "b", MIB), 0);
	m.files[1].offset = 2 * MIB; /* inside a */
	ck_assert_int_eq(verify(&m), 1);
	m.files[1].offset = 17 * MIB; /* past the end */
	ck_assert_int_eq(verify(&m), 1);
	m.files[1].offset = 3 * MIB + 512; /* not on a unit */
	ck_assert_int_eq(verify(&m), 1);
	m.files[1].offset = 3 * MIB;
	m.files[1].size = 2 * MIB; /* larger than its extent */
	ck_assert_int_eq(verify(&m), 1);
	m.files[1].size = MIB;
	strcpy(m.files[1].name, "a");
	ck_assert_int_eq(verify(&m), 1);
	csvfs_meta_free(&m);
}
END_TEST

/* Through the metadata lease, on the simulated disk. */
START_TEST(test_fileops_under_the_lease)
{
	struct csvfs_sim_opts o = {.seed = 1,
				   .sector_size = 512,
				   .hosts = 2,
				   .files = 4,
				   .expiry_ms = 800,
				   .disk_size = 32 * MIB};
	struct csvfs_sim_cluster c;
	struct csvfs_host *h1, *h2;
	struct csvfs_vol *v1, *v2;
	struct csvfs_busy busy;
	struct csvfs_leader l;
	struct csvfs_file f;
	uint32_t lease;

	ck_assert_int_eq(csvfs_sim_cluster_init(&c, &o), 0);
	ck_assert_int_eq(csvfs_sim_join_all(&c), 0);
	v1 = &c.hosts[0].vol;
	v2 = &c.hosts[1].vol;
	h1 = &c.hosts[0].host;
	h2 = &c.hosts[1].host;
	ck_assert_int_eq(csvfs_file_create(v1, h1, "disk1", 5 * MIB, &f, NULL), 0);
	ck_assert_uint_eq(f.offset, c.admin.sb.data_off);
	ck_assert_int_eq(csvfs_file_create(v2, h2, "disk1", MIB, NULL, NULL), CD_ERR_EXISTS);
	ck_assert_int_eq(csvfs_lease_lookup(v2, "disk1", &lease), 0);
	ck_assert_uint_eq(lease, f.index + 1);
	ck_assert_int_eq(csvfs_lease_lookup(v2, CSVFS_META_LEASE_NAME, &lease), 0);
	ck_assert_uint_eq(lease, CSVFS_META_LEASE);
	ck_assert_int_eq(csvfs_lease_lookup(v2, "nope", &lease), CD_ERR_NOT_FOUND);
	/* Growing needs no file lease; shrinking and removing do. */
	ck_assert_int_eq(csvfs_lease_acquire(v1, h1, f.index + 1, "disk1", 0, NULL), 0);
	ck_assert_int_eq(csvfs_file_resize(v2, h2, "disk1", 6 * MIB, &f, NULL), 0);
	ck_assert_uint_eq(f.size, 6 * MIB);
	/* The holder itself may shrink its file, and keeps holding it. */
	ck_assert_int_eq(csvfs_file_resize(v1, h1, "disk1", 4 * MIB, &f, NULL), 0);
	ck_assert_int_eq(csvfs_lease_read(v1, f.index + 1, &l), 0);
	ck_assert(csvfs_leader_is(&l, h1));
	ck_assert_int_eq(csvfs_lease_release(v1, h1, f.index + 1), 0);
	ck_assert_int_eq(csvfs_file_resize(v2, h2, "disk1", MIB, &f, NULL), 0);
	ck_assert_int_eq(csvfs_file_remove(v2, h2, "disk1", &busy), 0);
	ck_assert_int_eq(csvfs_lease_lookup(v2, "disk1", &lease), CD_ERR_NOT_FOUND);
	/* The metadata lease is free again after each change. */
	ck_assert_int_eq(csvfs_lease_acquire(v1, h1, CSVFS_META_LEASE, "", 0, NULL), 0);
	/* ...unless the caller holds it, as a coordinator does: then it stays. */
	ck_assert_int_eq(csvfs_file_create(v1, h1, "disk2", MIB, NULL, NULL), 0);
	ck_assert_int_eq(csvfs_lease_read(v1, CSVFS_META_LEASE, &l), 0);
	ck_assert(csvfs_leader_is(&l, h1));
	ck_assert_int_eq(csvfs_lease_release(v1, h1, CSVFS_META_LEASE), 0);
	csvfs_sim_cluster_free(&c);
}
END_TEST

/* Removing a file somebody uses is refused: its lease is held. */
static struct csvfs_sim_cluster rc_cluster;
static int remove_rc;
static struct csvfs_busy remove_busy;

static void remove_disk1(void *arg)
{
	remove_rc = csvfs_file_remove(&rc_cluster.hosts[1].vol, &rc_cluster.hosts[1].host, "disk1",
				      &remove_busy);
}

START_TEST(test_remove_refused_while_in_use)
{
	struct csvfs_sim_opts o = {.seed = 2,
				   .sector_size = 4096,
				   .hosts = 2,
				   .files = 4,
				   .expiry_ms = 800,
				   .disk_size = 32 * MIB};
	struct csvfs_sim_cluster *c = &rc_cluster;
	struct csvfs_file f;
	uint32_t i;

	ck_assert_int_eq(csvfs_sim_cluster_init(c, &o), 0);
	ck_assert_int_eq(csvfs_sim_join_all(c), 0);
	ck_assert_int_eq(
		csvfs_file_create(&c->hosts[0].vol, &c->hosts[0].host, "disk1", MIB, &f, NULL), 0);
	ck_assert_int_eq(csvfs_lease_acquire(&c->hosts[0].vol, &c->hosts[0].host, f.index + 1,
					     "disk1", 0, NULL),
			 0);
	for (i = 0; i < 2; i++)
		csvfs_sched_spawn(c->sched, csvfs_sim_renewer, &c->hosts[i], 1);
	csvfs_sched_spawn(c->sched, remove_disk1, NULL, 0);
	csvfs_sched_run(c->sched);
	ck_assert_int_eq(remove_rc, -EBUSY);
	ck_assert_uint_eq(remove_busy.slot, 1);
	ck_assert_uint_eq(remove_busy.lease, f.index + 1);
	csvfs_sim_cluster_free(c);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("csvfs_files");

	add_tcase(s, test_create_first_fit);
	add_tcase(s, test_create_refusals);
	add_tcase(s, test_resize_in_place);
	add_tcase(s, test_verify_finds_broken_allocation);
	add_tcase(s, test_fileops_under_the_lease);
	add_tcase(s, test_remove_refused_while_in_use);
	return run_suite(s);
}
