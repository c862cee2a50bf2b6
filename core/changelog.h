/*
 * The last changes applied to the state, in memory, so that a member only
 * slightly behind can be sent just the changes it missed instead of a
 * whole snapshot.
 *
 * The rule that makes this work is how the version moves (core/state.c):
 *   - cd_state_apply_from() bumps seq by exactly one for every change it
 *     applies, and leaves the version alone for a change it refuses (every
 *     member refuses it alike, so it changed nothing anywhere). The
 *     changes of one epoch therefore have the versions (e, s + 1),
 *     (e, s + 2), ... without holes, and replaying the logged ones in
 *     order on a state at (e, s) gives the same state as here.
 *   - The end of a quorate sync round (cd_state_sync_finish(): a new
 *     epoch, seq 0) is deterministic too, given the round's members and
 *     time: it is logged as an entry of its own at version (e', 0), the
 *     caller's record of the round, which continues the run into the new
 *     epoch. A member that missed the round replays it like a change.
 *   - Anything else that moves the version moves it without a change to
 *     log: adopting a snapshot, loading the state file. Then the state is
 *     no longer what the logged changes lead to, and the caller calls
 *     cd_changelog_reset() with the state's new version.
 * So the log holds one contiguous run: a base version (the version before
 * its oldest entry, which is the newest when it holds none) and entries
 * whose versions go up by one seq at a time, or to seq 0 of a newer epoch
 * (a round). A member at version v can be brought up to the newest by the
 * log alone exactly when v is the base or the version of an entry. An
 * entry that would not continue the run (a gap, another epoch: the caller
 * missed a reset) starts a new run with it, so the log never claims more
 * than it holds.
 *
 * It is bounded by a count of entries and by the bytes of their JSON text;
 * the oldest are dropped first (and the base moves up with them).
 */
#ifndef CD_CHANGELOG_H
#define CD_CHANGELOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/state.h"

#define CD_CHANGELOG_ENTRIES_DEFAULT 4096
#define CD_CHANGELOG_BYTES_DEFAULT (16u * 1024u * 1024u)

struct cd_changelog_entry {
	struct cd_version version; /* the state's version once the change applied */
	uint32_t sender;	   /* the node that sent it (cd_state_apply_from()) */
	char *change;		   /* its compact JSON text, owned by the log */
	size_t len;		   /* strlen(change) */
};

struct cd_changelog {
	struct cd_changelog_entry *ring; /* max_entries slots */
	size_t max_entries, max_bytes;
	size_t head;		/* the slot of the oldest entry */
	size_t n;		/* entries held */
	size_t bytes;		/* their text, each with its NUL */
	bool anchored;		/* base is known (after a reset or an add) */
	struct cd_version base; /* the version before the oldest entry */
};

/*
 * An empty log of at most max_entries changes and max_bytes of their text
 * (0: the defaults above). It answers nothing until the first reset or
 * add. Returns 0, -EINVAL (more than INT_MAX entries) or -ENOMEM.
 */
int cd_changelog_init(struct cd_changelog *log, size_t max_entries, size_t max_bytes);

/* Release what the log holds. NULL is fine. */
void cd_changelog_free(struct cd_changelog *log);

/*
 * Forget every entry: the state is now at version base without changes
 * that lead there (a new epoch, an adopted snapshot, a loaded file).
 */
void cd_changelog_reset(struct cd_changelog *log, struct cd_version base);

/*
 * Log a change that applied: version is the state's version after it,
 * change its compact JSON text (copied). Older entries are dropped to
 * stay within both bounds; a change larger than max_bytes by itself
 * leaves the log empty at its version. A round's entry (seq 0) that does
 * not continue the run leaves the log empty at its version. Returns 0,
 * -EINVAL (version 0.0) or -ENOMEM (the log is then empty at version, so it
 * still claims nothing it does not hold).
 */
int cd_changelog_add(struct cd_changelog *log, struct cd_version version, uint32_t sender,
		     const char *change);

/*
 * fn gets the entries after a version in order; it returns 0 to go on,
 * or a negative value to stop (cd_changelog_since() returns that value).
 */
typedef int (*cd_changelog_fn)(void *ctx, const struct cd_changelog_entry *e);

/*
 * Whether the log holds every change after v (see the rule above), and if
 * so each of them, oldest first, to fn (NULL: only ask). Returns how many
 * there are (0: v is the newest version), CD_ERR_NOT_FOUND if the log
 * does not hold them all (v older than the base, of another epoch, or
 * newer than the newest), or what fn stopped with.
 */
int cd_changelog_since(const struct cd_changelog *log, struct cd_version v, cd_changelog_fn fn,
		       void *ctx);

/*
 * The entry that brought the state to version v, or NULL if not held: for
 * a sender that sends a few per loop turn and remembers where it was.
 * Borrowed: valid until the next add or reset.
 */
const struct cd_changelog_entry *cd_changelog_get(const struct cd_changelog *log,
						  struct cd_version v);

/* The newest version the log leads to (its base when empty; {0, 0} unanchored). */
struct cd_version cd_changelog_newest(const struct cd_changelog *log);

/* How many entries, and the bytes of their text (each with its NUL). */
size_t cd_changelog_count(const struct cd_changelog *log);
size_t cd_changelog_bytes(const struct cd_changelog *log);

#endif
