/*
 * The state on disk as snapshots and a journal of the changes since, so
 * that persisting a batch of changes costs what the changes weigh, not
 * what the state weighs.
 *
 * One directory holds:
 *   snap-E-S      the state at version E.S, in the state file format
 *                 (state_file.h), written crash-safely by rename
 *   journal-E-S   a segment: the changes applied after version E.S, in order
 *   state.json    the legacy state file (CD_JOURNAL_LEGACY): migrated into
 *                 the first snapshot, then removed
 *
 * A segment is a sequence of records, each
 *
 *     cdj1 <sha256> <flag> <length>\n<payload>\n
 *
 * with the SHA-256 (hex) of everything after it up to the last newline,
 * the payload's length in 8 hex digits, and the payload a compact JSON
 * object {"sender": ID, "version": [E, S], "change": {...}}: the change as
 * cd_state_apply_from() applied it and the state's version after it. A text
 * header so that a segment reads with less. The flag is 'c' on the last
 * record of a commit and 'r' on the others: recovery replays whole commits
 * only, so a commit is all or nothing even when it is torn between records.
 *
 * Recovery takes the newest snapshot that loads and whose segments reach
 * every segment that holds records: its segment journal-V, then the
 * segment that starts where that one ends, and so on. Segments are chained
 * by their start versions, so every point of a compaction recovers: a new
 * segment whose snapshot is not written yet follows the older segment. An
 * unreadable newer snapshot is passed over (and reported) when an older
 * one's chain reaches as far. Each record's version must be the state's
 * version after applying it. Records after the last commit mark that are
 * not followed by an intact record are a torn tail (a commit the process
 * died in): dropped, the segment truncated, the bytes reported. A bad
 * record followed by an intact one is corruption: refused, never skipped.
 * A payload is JSON, so it holds no newline and ends with '}': no header
 * can appear inside a record, and the search for an intact record after a
 * bad one cannot be fooled by one.
 *
 * A state that changes other than by a journaled change (a sync round
 * installs a snapshot, cd_state_sync_finish() starts an epoch) is persisted
 * with cd_journal_snapshot(). Versions only grow: every record, snapshot
 * and segment has its own version, so no file is ever rewritten in place.
 *
 * All writes go through struct cd_journal_ops so that tests can inject
 * faults and crashes; reads use the plain calls.
 */
#ifndef CD_JOURNAL_H
#define CD_JOURNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <json-c/json.h>

#include "core/state.h"

#define CD_JOURNAL_LEGACY "state.json"

/* The calls that change files: as the system calls (-1 with errno on failure). */
struct cd_journal_ops {
	int (*open)(const char *path, int flags, mode_t mode);
	ssize_t (*pwrite)(int fd, const void *buf, size_t n, off_t off);
	int (*fdatasync)(int fd);
	int (*fsync)(int fd);
	int (*ftruncate)(int fd, off_t len);
	int (*unlink)(const char *path);
	int (*close)(int fd);
};

extern const struct cd_journal_ops cd_journal_sys_ops;

/* What recovery found. */
struct cd_journal_report {
	struct cd_version base; /* the version recovery started from */
	bool migrated;		/* the base was the legacy state file */
	unsigned skipped;	/* newer snapshots passed over */
	char skip_reason[256];	/* why the newest of them was */
	unsigned segments;	/* segments replayed */
	size_t records;		/* records replayed */
	size_t dropped;		/* bytes of torn tail dropped */
};

struct cd_journal {
	const struct cd_journal_ops *ops; /* cd_journal_sys_ops; tests may replace it */
	char *dir;
	int fd;			 /* the segment appended to; -1: to be created */
	struct cd_version start; /* its start version */
	struct cd_version last;	 /* the version after the last record appended */
	off_t off;		 /* its committed length */
	size_t old_bytes;	 /* committed bytes of the older segments recovery needs */
	char *buf;		 /* records appended and not yet committed */
	size_t len, cap;
};

/*
 * Recover the state in dir (created if missing) into out, which the
 * caller frees with cd_state_free(), and open j for appending. An empty
 * directory gives the empty state. rep says what recovery did. Returns 0,
 * CD_ERR_CORRUPT (no usable snapshot, or a damaged record), CD_ERR_VERSION
 * or -errno, err set; out is then empty.
 */
int cd_journal_open(struct cd_journal *j, const char *dir, struct cd_state *out,
		    struct cd_journal_report *rep, char *err, size_t errlen);

/*
 * Buffer one record: change as cd_state_apply_from() applied it from
 * sender, successfully, leaving the state at version after (a change that
 * was refused is not journaled). No I/O. Returns 0, -EINVAL if after does
 * not follow the last record, -EMSGSIZE or -ENOMEM.
 */
int cd_journal_append(struct cd_journal *j, const struct json_object *change, uint32_t sender,
		      struct cd_version after);

/*
 * Write the buffered records in one write and fdatasync(): on 0 they are
 * durable. On failure the segment is truncated back to its committed
 * length and the records stay buffered: the next commit writes them again
 * with those appended since (rewriting also redirties what a failed
 * fdatasync may have marked clean). Returns 0 or -errno, err set.
 */
int cd_journal_commit(struct cd_journal *j, char *err, size_t errlen);

/*
 * Compact in one go: write the snapshot of s (the current state, which
 * holds every record appended, committed or not, or replaces them), start
 * the segment journal-<s's version>, remove what is older. For a state
 * that changed without a journaled change, this is the only way. Returns
 * 0, -EINVAL if s is older than the last record, or -errno, err set. When
 * the snapshot is written and only the new segment failed, the next
 * commit creates it.
 */
int cd_journal_snapshot(struct cd_journal *j, const struct cd_state *s, char *err, size_t errlen);

/*
 * Compact in three steps, so that the state can be serialised off the main
 * loop: cd_journal_rotate() starts journal-v, where appends go from now on
 * (v must be the last record's version, and every record committed:
 * -EINVAL, -EBUSY); cd_journal_write_snapshot() writes snap-<s's version>
 * from a copy of the state at v, in any thread (it touches no journal);
 * once it returned 0, cd_journal_compacted(j, v) removes the files older
 * than v (best effort: 0 or the first -errno; what stays goes at the next
 * compaction). Recovery is right between any two steps.
 */
int cd_journal_rotate(struct cd_journal *j, struct cd_version v, char *err, size_t errlen);
int cd_journal_write_snapshot(const char *dir, const struct cd_state *s, char *err, size_t errlen);
int cd_journal_compacted(struct cd_journal *j, struct cd_version v);

/*
 * Committed bytes of journal recovery would replay: a caller compacts when
 * this exceeds the snapshot's size, for example.
 */
size_t cd_journal_bytes(const struct cd_journal *j);

/* Close j; records not committed are lost. Accepts a closed or zeroed j. */
void cd_journal_close(struct cd_journal *j);

#endif
