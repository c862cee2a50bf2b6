#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <clusterd/result.h>

#include "core/changelog.h"

int cd_changelog_init(struct cd_changelog *log, size_t max_entries, size_t max_bytes)
{
	memset(log, 0, sizeof(*log));
	if (max_entries == 0)
		max_entries = CD_CHANGELOG_ENTRIES_DEFAULT;
	if (max_bytes == 0)
		max_bytes = CD_CHANGELOG_BYTES_DEFAULT;
	/* since() counts entries in an int */
	if (max_entries > INT_MAX)
		return -EINVAL;
	log->ring = calloc(max_entries, sizeof(*log->ring));
	if (!log->ring)
		return -ENOMEM;
	log->max_entries = max_entries;
	log->max_bytes = max_bytes;
	return 0;
}

static struct cd_changelog_entry *slot(const struct cd_changelog *log, size_t i)
{
	return &log->ring[(log->head + i) % log->max_entries];
}

static void drop_oldest(struct cd_changelog *log)
{
	struct cd_changelog_entry *e = slot(log, 0);

	log->base = e->version;
	log->bytes -= e->len + 1;
	free(e->change);
	memset(e, 0, sizeof(*e));
	log->head = (log->head + 1) % log->max_entries;
	log->n--;
}

void cd_changelog_reset(struct cd_changelog *log, struct cd_version base)
{
	while (log->n)
		drop_oldest(log);
	log->head = 0;
	log->base = base;
	log->anchored = true;
}

void cd_changelog_free(struct cd_changelog *log)
{
	if (!log)
		return;
	if (log->ring)
		cd_changelog_reset(log, log->base);
	free(log->ring);
	memset(log, 0, sizeof(*log));
}

struct cd_version cd_changelog_newest(const struct cd_changelog *log)
{
	return log->n ? slot(log, log->n - 1)->version : log->base;
}

/* Whether an entry at version continues the run that ends at newest. */
static bool continues(const struct cd_changelog *log, struct cd_version newest,
		      struct cd_version version)
{
	if (!log->anchored)
		return false;
	if (version.seq == 0)
		return version.epoch > newest.epoch; /* a round's new epoch */
	return version.epoch == newest.epoch && version.seq == newest.seq + 1;
}

int cd_changelog_add(struct cd_changelog *log, struct cd_version version, uint32_t sender,
		     const char *change)
{
	struct cd_version newest = cd_changelog_newest(log);
	struct cd_changelog_entry *e;
	size_t len = strlen(change);
	char *copy;

	if (version.seq == 0 && version.epoch == 0)
		return -EINVAL;
	if (!continues(log, newest, version)) {
		/* Not the next of the run (a missed reset): a new run starts here. */
		if (version.seq == 0) {
			/* Nothing before a new epoch's start is known: the log is empty at it. */
			cd_changelog_reset(log, version);
			return 0;
		}
		cd_changelog_reset(log, (struct cd_version){version.epoch, version.seq - 1});
	}
	if (len + 1 > log->max_bytes) {
		cd_changelog_reset(log, version);
		return 0;
	}
	copy = malloc(len + 1);
	if (!copy) {
		cd_changelog_reset(log, version);
		return -ENOMEM;
	}
	memcpy(copy, change, len + 1);
	while (log->n == log->max_entries || log->bytes + len + 1 > log->max_bytes)
		drop_oldest(log);
	e = slot(log, log->n);
	e->version = version;
	e->sender = sender;
	e->change = copy;
	e->len = len;
	log->n++;
	log->bytes += len + 1;
	return 0;
}

/*
 * Where the changes after v begin: 0 if v is the base, i + 1 if entry i
 * has version v; -1 if v is not a version of the run. Entries' versions
 * grow strictly (epoch, then seq), so a binary search finds it.
 */
static long after(const struct cd_changelog *log, struct cd_version v)
{
	size_t lo = 0, hi = log->n;

	if (!log->anchored)
		return -1;
	if (cd_version_cmp(v, log->base) == 0)
		return 0;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = cd_version_cmp(slot(log, mid)->version, v);

		if (c == 0)
			return (long)mid + 1;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
}

int cd_changelog_since(const struct cd_changelog *log, struct cd_version v, cd_changelog_fn fn,
		       void *ctx)
{
	long first = after(log, v);
	size_t i;
	int rc;

	if (first < 0)
		return CD_ERR_NOT_FOUND;
	for (i = (size_t)first; fn && i < log->n; i++)
		if ((rc = fn(ctx, slot(log, i))) != 0)
			return rc;
	return (int)(log->n - (size_t)first);
}

const struct cd_changelog_entry *cd_changelog_get(const struct cd_changelog *log,
						  struct cd_version v)
{
	long i = after(log, v);

	return i > 0 ? slot(log, (size_t)i - 1) : NULL;
}

size_t cd_changelog_count(const struct cd_changelog *log)
{
	return log->n;
}

size_t cd_changelog_bytes(const struct cd_changelog *log)
{
	return log->bytes;
}
