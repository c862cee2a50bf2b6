#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <clusterd/result.h>

#include "check_common.h"
#include "check_fixture.h"
#include "core/journal.h"
#include "core/state_file.h"
#include "lib/util.h"

static char dir[256], err[256];

static void setup(void)
{
	tmpdir_make(dir, sizeof(dir), "check_journal");
}

static void teardown(void)
{
	tmpdir_remove(dir);
}

/*
 * Faults: the ops call numbered die_at (counted from 0, close not counted)
 * is where the process dies: a pwrite writes die_bytes of its bytes first;
 * every later call fails without effect. fail_syncs fdatasync calls fail
 * (the process lives on); pwrite writes at most short_write bytes a call.
 */
static struct {
	long calls, die_at;
	size_t die_bytes, dying_len, short_write;
	bool dead;
	int fail_syncs;
} fault;

static void fault_reset(long die_at, size_t die_bytes)
{
	memset(&fault, 0, sizeof(fault));
	fault.die_at = die_at;
	fault.die_bytes = die_bytes;
}

static bool dies(void)
{
	if (!fault.dead && fault.calls++ == fault.die_at)
		fault.dead = true;
	if (fault.dead)
		errno = EIO;
	return fault.dead;
}

static int f_open(const char *path, int flags, mode_t mode)
{
	return dies() ? -1 : open(path, flags, mode);
}

static ssize_t f_pwrite(int fd, const void *buf, size_t n, off_t off)
{
	if (!fault.dead && fault.calls == fault.die_at) {
		fault.dying_len = n;
		if (fault.die_bytes)
			ck_assert_int_eq(
				pwrite(fd, buf, fault.die_bytes < n ? fault.die_bytes : n, off),
				(ssize_t)(fault.die_bytes < n ? fault.die_bytes : n));
	}
	if (dies())
		return -1;
	return pwrite(fd, buf, fault.short_write && n > fault.short_write ? fault.short_write : n,
		      off);
}

static int f_fdatasync(int fd)
{
	if (dies())
		return -1;
	if (fault.fail_syncs > 0) {
		fault.fail_syncs--;
		errno = EIO;
		return -1;
	}
	return fdatasync(fd);
}

static int f_fsync(int fd)
{
	return dies() ? -1 : fsync(fd);
}

static int f_ftruncate(int fd, off_t len)
{
	return dies() ? -1 : ftruncate(fd, len);
}

static int f_unlink(const char *path)
{
	return dies() ? -1 : unlink(path);
}

static const struct cd_journal_ops fault_ops = {
	.open = f_open,
	.pwrite = f_pwrite,
	.fdatasync = f_fdatasync,
	.fsync = f_fsync,
	.ftruncate = f_ftruncate,
	.unlink = f_unlink,
	.close = close,
};

/* A state and the journal that keeps it, with what a crash may leave. */
struct run {
	struct cd_journal j;
	struct cd_state mem;
	char *acked;	/* the state after the last commit that returned 0 */
	char *inflight; /* the state after the commit under way */
	int next;	/* the number of the next change */
};

/* Change number i: mostly a property, every fifth a VM; from a member. */
static void apply_next(struct run *r)
{
	char buf[512];
	struct json_object *c;
	int i = r->next++;

	if (i % 5 == 4)
		snprintf(buf, sizeof(buf),
			 "{\"op\":\"vm.add\",\"name\":\"vm%d\",\"vcpus\":1,\"memory_mb\":64,"
			 "\"xml\":\"<domain><name>vm%d</name><uuid>00000000-0000-4000-8000-"
			 "%012d</uuid><devices><interface type='network'><mac address="
			 "'52:54:00:00:%02x:%02x'/></interface></devices></domain>\"}",
			 i, i, i, (i >> 8) & 0xff, i & 0xff);
	else
		snprintf(buf, sizeof(buf),
			 "{\"op\":\"property.set\",\"key\":\"k%d\",\"value\":\"v%d\"}", i % 7, i);
	c = json_tokener_parse(buf);
	ck_assert_ptr_nonnull(c);
	ck_assert_msg(cd_state_apply_from(&r->mem, c, (uint32_t)(i % 3) + 1, err, sizeof(err)) == 0,
		      "%s", err);
	ck_assert_int_eq(cd_journal_append(&r->j, c, (uint32_t)(i % 3) + 1, r->mem.version), 0);
	json_object_put(c);
}

static void set_inflight(struct run *r)
{
	free(r->inflight);
	r->inflight = fixture_text(&r->mem);
}

static void ack(struct run *r)
{
	free(r->acked);
	r->acked = strdup(r->inflight);
}

/* Apply and append n changes, and commit them. */
static int batch(struct run *r, int n)
{
	int rc;

	while (n--)
		apply_next(r);
	set_inflight(r);
	rc = cd_journal_commit(&r->j, err, sizeof(err));
	if (rc == 0)
		ack(r);
	return rc;
}

/* Open dir into r (empty directory: the empty state), then replace it by three nodes. */
static void run_start(struct run *r)
{
	struct cd_journal_report rep;

	memset(r, 0, sizeof(*r));
	ck_assert_msg(cd_journal_open(&r->j, dir, &r->mem, &rep, err, sizeof(err)) == 0, "%s", err);
	ck_assert_uint_eq(r->mem.version.epoch, 0);
	cd_state_free(&r->mem);
	fixture_three_nodes(&r->mem);
	set_inflight(r);
	r->acked = fixture_text(&r->mem);
	ck_assert_msg(cd_journal_snapshot(&r->j, &r->mem, err, sizeof(err)) == 0, "%s", err);
}

static void run_end(struct run *r)
{
	cd_journal_close(&r->j);
	cd_state_free(&r->mem);
	free(r->acked);
	free(r->inflight);
}

/* Recover dir; must succeed. A new string of the state; rep filled. */
static char *recover(struct cd_journal_report *rep)
{
	struct cd_journal j;
	struct cd_state s;
	char *t;

	ck_assert_msg(cd_journal_open(&j, dir, &s, rep, err, sizeof(err)) == 0, "%s", err);
	t = fixture_text(&s);
	cd_journal_close(&j);
	cd_state_free(&s);
	return t;
}

static void assert_recovers(const char *want)
{
	struct cd_journal_report rep;
	char *got = recover(&rep);

	ck_assert_str_eq(got, want);
	free(got);
}

static void segment_path(char *path, size_t len, struct cd_version v)
{
	snprintf(path, len, "%s/journal-%" PRIu64 "-%" PRIu64, dir, v.epoch, v.seq);
}

static off_t file_size(const char *path)
{
	struct stat st;

	ck_assert_int_eq(stat(path, &st), 0);
	return st.st_size;
}

/* Many changes in batches of 1 to 7, recovered; and recovery goes on appending. */
START_TEST(test_round_trip)
{
	struct cd_journal_report rep;
	struct run r;
	char *got;
	int i;

	run_start(&r);
	for (i = 0; i < 60; i++)
		ck_assert_msg(batch(&r, i % 7 + 1) == 0, "%s", err);
	ck_assert_int_gt((long)cd_journal_bytes(&r.j), 0);
	cd_journal_close(&r.j);
	got = recover(&rep);
	ck_assert_str_eq(got, r.acked);
	free(got);
	ck_assert_uint_eq(rep.records, (size_t)r.next);
	ck_assert_uint_eq(rep.segments, 1);
	ck_assert_uint_eq(rep.dropped, 0);
	ck_assert_uint_eq(rep.base.epoch, 1);

	cd_state_free(&r.mem);
	ck_assert_int_eq(cd_journal_open(&r.j, dir, &r.mem, &rep, err, sizeof(err)), 0);
	ck_assert_int_eq(batch(&r, 3), 0);
	ck_assert_msg(cd_journal_snapshot(&r.j, &r.mem, err, sizeof(err)) == 0, "%s", err);
	ck_assert_uint_eq(cd_journal_bytes(&r.j), 0);
	ck_assert_int_eq(batch(&r, 2), 0);
	assert_recovers(r.acked);
	run_end(&r);
}
END_TEST

/*
 * Commits, a compaction in three steps with a commit in the middle, a new
 * epoch (a state replaced, so a snapshot), more commits. The process may
 * die at any call.
 */
static int scenario(struct run *r)
{
	struct cd_node_info m[3];
	struct cd_state copy;
	struct cd_version v;
	int rc, i;

	if ((rc = batch(r, 3)) < 0 || (rc = batch(r, 1)) < 0)
		return rc;
	v = r->mem.version;
	if ((rc = cd_journal_rotate(&r->j, v, err, sizeof(err))) < 0)
		return rc;
	ck_assert_int_eq(cd_state_copy(&copy, &r->mem), 0);
	rc = batch(r, 2);
	if (rc == 0)
		rc = cd_journal_write_snapshot(dir, &copy, err, sizeof(err));
	cd_state_free(&copy);
	if (rc < 0 || (rc = batch(r, 2)) < 0 || (rc = cd_journal_compacted(&r->j, v)) < 0 ||
	    (rc = batch(r, 3)) < 0)
		return rc;
	memset(m, 0, sizeof(m));
	for (i = 0; i < 3; i++) {
		m[i].id = (uint32_t)i + 1;
		snprintf(m[i].name, sizeof(m[i].name), "node%d", i + 1);
	}
	cd_state_sync_finish(&r->mem, m, 3, r->mem.version.epoch + 1, 1000);
	set_inflight(r);
	if ((rc = cd_journal_snapshot(&r->j, &r->mem, err, sizeof(err))) < 0)
		return rc;
	ack(r);
	return batch(r, 2);
}

/*
 * Run the scenario dying at call die_at (a write after k bytes). What is
 * recovered is the last commit or the one under way, never an error; and
 * the journal goes on from there. Returns whether the process died.
 */
static bool crash_once(long die_at, size_t k, size_t *dying_len)
{
	struct cd_journal_report rep;
	struct run r;
	char *got;
	bool died;
	int rc;

	tmpdir_make(dir, sizeof(dir), "check_journal");
	run_start(&r);
	r.j.ops = &fault_ops;
	fault_reset(die_at, k);
	rc = scenario(&r);
	died = fault.dead;
	*dying_len = fault.dying_len;
	ck_assert_msg(rc == 0 || died, "failed without a crash: %s", err);
	cd_journal_close(&r.j);

	cd_state_free(&r.mem);
	ck_assert_msg(cd_journal_open(&r.j, dir, &r.mem, &rep, err, sizeof(err)) == 0,
		      "call %ld byte %zu: %s", die_at, k, err);
	got = fixture_text(&r.mem);
	ck_assert_msg(strcmp(got, r.acked) == 0 || strcmp(got, r.inflight) == 0,
		      "call %ld byte %zu: recovered %s", die_at, k, got);
	free(got);
	ck_assert_int_eq(batch(&r, 1), 0);
	cd_journal_close(&r.j);
	assert_recovers(r.acked);
	run_end(&r);
	tmpdir_remove(dir);
	return died;
}

START_TEST(test_crash_everywhere)
{
	size_t k, limit, len;
	long call;
	bool died = true;

	for (call = 0; died; call++) {
		limit = 0;
		for (k = 0; k <= limit; k++) {
			died = crash_once(call, k, &len);
			limit = len;
		}
	}
	ck_assert_int_gt(call, 20);
}
END_TEST

/* Three commits; dir's segment cut anywhere in the last drops it, and is truncated. */
START_TEST(test_torn_tail)
{
	struct cd_journal_report rep;
	char path[512], *data, *before;
	struct run r;
	size_t len, cut;
	off_t whole;

	run_start(&r);
	ck_assert_int_eq(batch(&r, 2), 0);
	before = strdup(r.acked);
	whole = r.j.off;
	ck_assert_int_eq(batch(&r, 3), 0);
	segment_path(path, sizeof(path), r.j.start);
	cd_journal_close(&r.j);
	ck_assert_int_eq(cd_read_file(path, &data, &len), 0);
	for (cut = (size_t)whole + 1; cut < len; cut++) {
		ck_assert_int_eq(cd_write_file_atomic(path, data, cut), 0);
		free(recover(&rep));
		ck_assert_uint_eq(rep.dropped, cut - (size_t)whole);
		ck_assert_int_eq(file_size(path), whole);
		assert_recovers(before);
	}
	ck_assert_int_eq(cd_write_file_atomic(path, data, len), 0);
	assert_recovers(r.acked);
	free(data);
	free(before);
	run_end(&r);
}
END_TEST

/* Any flipped byte in a record with intact records after it is refused. */
START_TEST(test_flip_middle_record)
{
	struct cd_journal_report rep;
	struct cd_state s;
	struct cd_journal j;
	char path[512], *data;
	size_t len, i, from, to;
	struct run r;

	run_start(&r);
	ck_assert_int_eq(batch(&r, 2), 0);
	from = (size_t)r.j.off;
	ck_assert_int_eq(batch(&r, 1), 0);
	to = (size_t)r.j.off;
	ck_assert_int_eq(batch(&r, 2), 0);
	segment_path(path, sizeof(path), r.j.start);
	cd_journal_close(&r.j);
	ck_assert_int_eq(cd_read_file(path, &data, &len), 0);
	for (i = from; i < to; i++) {
		data[i] ^= 0x01;
		ck_assert_int_eq(cd_write_file_atomic(path, data, len), 0);
		ck_assert_msg(cd_journal_open(&j, dir, &s, &rep, err, sizeof(err)) ==
				      CD_ERR_CORRUPT,
			      "flip at %zu accepted", i);
		ck_assert_uint_eq(s.n_props, 0);
		data[i] ^= 0x01;
	}
	ck_assert_int_eq(cd_write_file_atomic(path, data, len), 0);
	assert_recovers(r.acked);
	free(data);
	run_end(&r);
}
END_TEST

/* A record whose version is not the state's after it is refused, not misread. */
START_TEST(test_version_mismatch)
{
	struct cd_journal_report rep;
	struct json_object *c = json_tokener_parse("{\"op\":\"property.set\",\"key\":\"a\","
						   "\"value\":\"b\"}");
	struct cd_version v;
	struct cd_state s;
	struct run r;

	run_start(&r);
	ck_assert_int_eq(batch(&r, 2), 0);
	v = r.mem.version;
	ck_assert_int_eq(cd_journal_append(&r.j, c, 1, v), -EINVAL);
	v.seq += 2;
	ck_assert_int_eq(cd_journal_append(&r.j, c, 1, v), 0);
	ck_assert_int_eq(cd_journal_rotate(&r.j, v, err, sizeof(err)), -EBUSY);
	ck_assert_int_eq(cd_journal_snapshot(&r.j, &r.mem, err, sizeof(err)), -EINVAL);
	ck_assert_int_eq(cd_journal_commit(&r.j, err, sizeof(err)), 0);
	cd_journal_close(&r.j);
	ck_assert_int_eq(cd_journal_open(&r.j, dir, &s, &rep, err, sizeof(err)), CD_ERR_CORRUPT);
	ck_assert_ptr_nonnull(strstr(err, "leads to"));
	json_object_put(c);
	run_end(&r);
}
END_TEST

/*
 * Between the steps of a compaction the newer snapshot is damaged: the
 * older one and both segments give the state; once the older segment is
 * gone, nothing does.
 */
START_TEST(test_snapshot_fallback)
{
	struct cd_journal_report rep;
	char path[512], *data, *got;
	struct cd_state s, copy;
	struct cd_journal j;
	struct cd_version v;
	struct run r;
	size_t len;

	run_start(&r);
	ck_assert_int_eq(batch(&r, 3), 0);
	v = r.mem.version;
	ck_assert_int_eq(cd_journal_rotate(&r.j, v, err, sizeof(err)), 0);
	ck_assert_int_eq(cd_state_copy(&copy, &r.mem), 0);
	ck_assert_int_eq(cd_journal_write_snapshot(dir, &copy, err, sizeof(err)), 0);
	cd_state_free(&copy);
	ck_assert_int_eq(batch(&r, 2), 0);
	snprintf(path, sizeof(path), "%s/snap-%" PRIu64 "-%" PRIu64, dir, v.epoch, v.seq);
	ck_assert_int_eq(cd_read_file(path, &data, &len), 0);
	data[len / 2] ^= 0x01;
	ck_assert_int_eq(cd_write_file_atomic(path, data, len), 0);
	got = recover(&rep);
	ck_assert_str_eq(got, r.acked);
	free(got);
	ck_assert_uint_eq(rep.skipped, 1);
	ck_assert_ptr_nonnull(strstr(rep.skip_reason, "checksum"));
	ck_assert_uint_eq(rep.base.epoch, 1);
	ck_assert_uint_eq(rep.base.seq, 0);
	ck_assert_uint_eq(rep.segments, 2);

	data[len / 2] ^= 0x01;
	ck_assert_int_eq(cd_write_file_atomic(path, data, len), 0);
	ck_assert_int_eq(cd_journal_compacted(&r.j, v), 0);
	data[len / 2] ^= 0x01;
	ck_assert_int_eq(cd_write_file_atomic(path, data, len), 0);
	ck_assert_int_eq(cd_journal_open(&j, dir, &s, &rep, err, sizeof(err)), CD_ERR_CORRUPT);
	free(data);
	run_end(&r);
}
END_TEST

/*
 * Segments chain by their start versions; an empty one off the chain (a
 * rotation that failed) and a half-written snapshot are ignored; a missing
 * segment is refused, not skipped.
 */
START_TEST(test_chain)
{
	struct cd_journal_report rep;
	struct cd_version v[2];
	char path[512], name[64], *got;
	struct cd_state s;
	struct cd_journal j;
	struct run r;
	int i;

	run_start(&r);
	for (i = 0; i < 2; i++) {
		ck_assert_int_eq(batch(&r, 2), 0);
		v[i] = r.mem.version;
		ck_assert_int_eq(cd_journal_rotate(&r.j, v[i], err, sizeof(err)), 0);
	}
	ck_assert_int_eq(batch(&r, 2), 0);
	tmpdir_writef(path, sizeof(path), dir, "snap-1-0.tmp", "clusterd-state 1 12");
	snprintf(name, sizeof(name), "journal-%" PRIu64 "-%" PRIu64, v[0].epoch, v[0].seq + 1);
	tmpdir_writef(path, sizeof(path), dir, name, "%s", "");
	got = recover(&rep);
	ck_assert_str_eq(got, r.acked);
	free(got);
	ck_assert_uint_eq(rep.segments, 3);
	ck_assert_uint_eq(rep.skipped, 0);
	snprintf(path, sizeof(path), "%s/snap-1-0.tmp", dir);
	ck_assert_int_eq(access(path, F_OK), -1);

	segment_path(path, sizeof(path), v[0]);
	ck_assert_int_eq(unlink(path), 0);
	ck_assert_int_eq(cd_journal_open(&j, dir, &s, &rep, err, sizeof(err)), CD_ERR_CORRUPT);
	run_end(&r);
}
END_TEST

/* A failed fdatasync leaves no half commit; the records are written again later. */
START_TEST(test_sync_failure)
{
	char path[512];
	struct run r;
	off_t whole;

	run_start(&r);
	ck_assert_int_eq(batch(&r, 2), 0);
	whole = r.j.off;
	r.j.ops = &fault_ops;
	fault_reset(-1, 0);
	fault.fail_syncs = 1;
	fault.short_write = 7;
	ck_assert_int_eq(batch(&r, 3), -EIO);
	segment_path(path, sizeof(path), r.j.start);
	ck_assert_int_eq(file_size(path), whole);
	ck_assert_int_eq(r.j.off, whole);
	assert_recovers(r.acked);
	ck_assert_int_eq(batch(&r, 2), 0);
	ck_assert_int_gt(file_size(path), whole);
	assert_recovers(r.acked);
	run_end(&r);
}
END_TEST

/* The legacy state file becomes the first snapshot and goes. */
START_TEST(test_legacy_migration)
{
	struct cd_journal_report rep;
	char path[512], sub[300], *want, *got;
	struct run r;

	memset(&r, 0, sizeof(r));
	fixture_full_state(&r.mem);
	want = fixture_text(&r.mem);
	snprintf(path, sizeof(path), "%s/%s", dir, CD_JOURNAL_LEGACY);
	ck_assert_int_eq(cd_state_file_save(path, &r.mem, err, sizeof(err)), 0);
	cd_state_free(&r.mem);
	ck_assert_msg(cd_journal_open(&r.j, dir, &r.mem, &rep, err, sizeof(err)) == 0, "%s", err);
	ck_assert(rep.migrated);
	got = fixture_text(&r.mem);
	ck_assert_str_eq(got, want);
	free(got);
	ck_assert_int_eq(access(path, F_OK), -1);
	ck_assert_int_eq(batch(&r, 4), 0);
	cd_journal_close(&r.j);
	got = recover(&rep);
	ck_assert_str_eq(got, r.acked);
	ck_assert(!rep.migrated);
	free(got);
	free(want);
	run_end(&r);

	/* A damaged legacy file is refused, not taken for an empty state. */
	snprintf(sub, sizeof(sub), "%s/b", dir);
	ck_assert_int_eq(mkdir(sub, 0700), 0);
	tmpdir_writef(path, sizeof(path), sub, CD_JOURNAL_LEGACY, "clusterd-state 1 0\n{}");
	ck_assert_int_eq(cd_journal_open(&r.j, sub, &r.mem, &rep, err, sizeof(err)),
			 CD_ERR_CORRUPT);
}
END_TEST

static Suite *journal_suite(void)
{
	Suite *s = suite_create("journal");
	TCase *tc = tcase_create("test_crash_everywhere");

	add_fixture_tcase(s, test_round_trip, setup, teardown);
	add_fixture_tcase(s, test_torn_tail, setup, teardown);
	add_fixture_tcase(s, test_flip_middle_record, setup, teardown);
	add_fixture_tcase(s, test_version_mismatch, setup, teardown);
	add_fixture_tcase(s, test_snapshot_fallback, setup, teardown);
	add_fixture_tcase(s, test_chain, setup, teardown);
	add_fixture_tcase(s, test_sync_failure, setup, teardown);
	add_fixture_tcase(s, test_legacy_migration, setup, teardown);
	/* Some thousand crashes, each a scenario and a recovery. */
	tcase_set_timeout(tc, 300);
	tcase_add_test(tc, test_crash_everywhere);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return run_suite(journal_suite());
}
