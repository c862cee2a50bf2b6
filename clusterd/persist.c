/*
 * The replicated state on this node's disk (persist.h): a journal of the
 * changes, compacted in a thread.
 *
 * A compaction starts a new segment at the state's version (every record
 * committed), copies the state and hands the copy to a thread that writes
 * the snapshot; the main loop goes on appending to the new segment. Once
 * the thread is done (looked at on every flush), the files older than the
 * snapshot go. Recovery is right at any point of it (journal.h). A whole
 * snapshot written on the main loop (a replaced state) waits for a
 * compaction under way first: one compaction at a time.
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include <qb/qblog.h>

#include <clusterd/result.h>

#include "clusterd/offloop.h"
#include "clusterd/persist.h"
#include "core/journal.h"
#include "lib/util.h"

static struct {
	struct cd_journal j;
	bool open;
	bool replaced;	   /* written whole at the next flush */
	size_t snap_bytes; /* the last snapshot's size */
	/* the compaction under way */
	struct cd_offloop job;
	int rc;
	char err[256];
	uint64_t began_ms;
} ps;

/* The size of dir's snapshot of version v, or 0 if it cannot be read. */
static size_t snapshot_size(struct cd_version v)
{
	char path[PATH_MAX];
	struct stat st;

	snprintf(path, sizeof(path), "%s/snap-%" PRIu64 "-%" PRIu64, ps.j.dir, v.epoch, v.seq);
	return stat(path, &st) == 0 ? (size_t)st.st_size : 0;
}

int cd_persist_open(const char *dir, struct cd_state *out)
{
	struct cd_journal_report rep;
	char err[256];
	int rc;

	memset(&rep, 0, sizeof(rep));
	rc = cd_mkdir_p(dir, 0700);
	if (rc < 0) {
		qb_log(LOG_ERR, "cannot create state directory %s: %s", dir, cd_strerror(rc));
		return rc;
	}
	rc = cd_journal_open(&ps.j, dir, out, &rep, err, sizeof(err));
	if (rc < 0) {
		qb_log(LOG_ERR, "cannot recover the state saved in %s: %s", dir, err);
		return rc;
	}
	ps.open = true;
	ps.snap_bytes = snapshot_size(rep.base);
	if (rep.migrated)
		qb_log(LOG_NOTICE, "the state file of an older clusterd is now the journal's first "
				   "snapshot");
	if (rep.skipped)
		qb_log(LOG_WARNING, "passed over %u newer snapshot(s): %s", rep.skipped,
		       rep.skip_reason);
	if (rep.dropped)
		qb_log(LOG_WARNING,
		       "dropped %zu bytes of a commit torn by a crash (never acknowledged)",
		       rep.dropped);
	if (out->version.epoch || out->version.seq)
		qb_log(LOG_NOTICE,
		       "loaded state %" PRIu64 ".%" PRIu64 " from %s: snapshot %" PRIu64 ".%" PRIu64
		       " and %zu change(s) in %u segment(s)",
		       out->version.epoch, out->version.seq, dir, rep.base.epoch, rep.base.seq,
		       rep.records, rep.segments);
	else
		qb_log(LOG_NOTICE, "no saved state in %s: starting empty", dir);
	return 0;
}

void cd_persist_change(const struct json_object *change, uint32_t sender, struct cd_version after)
{
	int rc;

	if (!ps.open || ps.replaced)
		return;
	rc = cd_journal_append(&ps.j, change, sender, after);
	if (rc < 0) {
		/* Not in the journal: the state goes whole at the flush instead. */
		qb_log(LOG_WARNING,
		       "change %" PRIu64 ".%" PRIu64 " not journaled (%s): the "
		       "state is written whole",
		       after.epoch, after.seq, cd_strerror(rc));
		ps.replaced = true;
	}
}

void cd_persist_replaced(void)
{
	ps.replaced = true;
}

/* --- compaction --- */

static void compact(const struct cd_state *copy, void *ctx)
{
	ps.began_ms = cd_now_ms();
	ps.rc = cd_journal_write_snapshot(ps.j.dir, copy, ps.err, sizeof(ps.err));
}

/* The compaction's thread is done: on the main loop. */
static void compacted(const struct cd_state *copy, void *ctx)
{
	struct cd_version v = copy->version;

	if (ps.rc == 0) {
		cd_journal_compacted(&ps.j, v);
		ps.snap_bytes = snapshot_size(v);
		qb_log(LOG_INFO,
		       "journal compacted: snapshot %" PRIu64 ".%" PRIu64 " (%zu bytes) in %" PRIu64
		       " ms",
		       v.epoch, v.seq, ps.snap_bytes, cd_now_ms() - ps.began_ms);
	} else {
		qb_log(LOG_WARNING, "the journal's compaction failed: %s (tried again later)",
		       ps.err);
	}
}

static void start_compaction(const struct cd_state *s)
{
	char err[256];
	int rc;

	if (cd_journal_rotate(&ps.j, s->version, err, sizeof(err)) < 0) {
		qb_log(LOG_WARNING, "cannot start the journal's compaction: %s", err);
		return;
	}
	rc = cd_offloop_start(&ps.job, s, compact, compacted, NULL);
	if (rc < 0)
		qb_log(LOG_WARNING, "cannot start the journal's compaction: %s", strerror(-rc));
}

int cd_persist_flush(const struct cd_state *s, char *err, size_t errlen)
{
	size_t bound;
	int rc;

	if (!ps.open) {
		snprintf(err, errlen, "no journal open");
		return -EBADF;
	}
	/* The compaction under way, once its thread is done (or waited for). */
	cd_offloop_poll(&ps.job, false);
	if (ps.replaced) {
		cd_offloop_poll(&ps.job, true);
		rc = cd_journal_snapshot(&ps.j, s, err, errlen);
		if (rc < 0)
			return rc;
		ps.replaced = false;
		ps.snap_bytes = snapshot_size(s->version);
		return 0;
	}
	rc = cd_journal_commit(&ps.j, err, errlen);
	if (rc < 0)
		return rc;
	bound = ps.snap_bytes > CD_PERSIST_COMPACT_MIN ? ps.snap_bytes : CD_PERSIST_COMPACT_MIN;
	if (!cd_offloop_running(&ps.job) && cd_journal_bytes(&ps.j) > bound)
		start_compaction(s);
	return 0;
}

void cd_persist_close(void)
{
	cd_offloop_poll(&ps.job, true);
	cd_journal_close(&ps.j);
	ps.open = false;
}
