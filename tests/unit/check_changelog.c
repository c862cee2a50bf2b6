#include "config.h"

#include <errno.h>
#include <string.h>

#include <clusterd/result.h>

#include "check_common.h"
#include "core/changelog.h"

static struct cd_version ver(uint64_t epoch, uint64_t seq)
{
	struct cd_version v = {epoch, seq};

	return v;
}

/* A change of 19 bytes of text (20 with its NUL) for each seq below 10^4. */
static void add(struct cd_changelog *log, uint64_t epoch, uint64_t seq)
{
	char text[64];

	snprintf(text, sizeof(text), "{\"op\":\"x\",\"n\":%04u}", (unsigned)seq);
	ck_assert_uint_eq(strlen(text), 19);
	ck_assert_int_eq(cd_changelog_add(log, ver(epoch, seq), 7, text), 0);
}

/*
 * A log of at most max_entries and max_bytes, reset to epoch.seq, with the
 * changes that follow up to epoch.upto.
 */
static void log_open(struct cd_changelog *log, size_t max_entries, size_t max_bytes, uint64_t epoch,
		     uint64_t seq, uint64_t upto)
{
	ck_assert_int_eq(cd_changelog_init(log, max_entries, max_bytes), 0);
	cd_changelog_reset(log, ver(epoch, seq));
	while (seq++ < upto)
		add(log, epoch, seq);
}

/* The log holds n entries of bytes in all. */
static void assert_size(const struct cd_changelog *log, size_t n, size_t bytes)
{
	ck_assert_uint_eq(cd_changelog_count(log), n);
	ck_assert_uint_eq(cd_changelog_bytes(log), bytes);
}

/* What since() handed out: the seqs, in order. */
struct seen {
	uint64_t seq[64];
	int n;
	int stop_after; /* 0: never stop */
};

static int collect(void *ctx, const struct cd_changelog_entry *e)
{
	struct seen *s = ctx;
	char want[64];

	snprintf(want, sizeof(want), "{\"op\":\"x\",\"n\":%04u}", (unsigned)e->version.seq);
	ck_assert_str_eq(e->change, want);
	ck_assert_uint_eq(e->len, strlen(want));
	ck_assert_uint_eq(e->sender, 7);
	s->seq[s->n++] = e->version.seq;
	return s->stop_after && s->n == s->stop_after ? -ECANCELED : 0;
}

/* since(epoch, seq) hands out exactly first..last. */
static void assert_since(struct cd_changelog *log, uint64_t epoch, uint64_t seq, uint64_t first,
			 uint64_t last)
{
	struct seen s = {.n = 0};
	int i;

	ck_assert_int_eq(cd_changelog_since(log, ver(epoch, seq), collect, &s),
			 (int)(last + 1 - first));
	ck_assert_int_eq(s.n, (int)(last + 1 - first));
	for (i = 0; i < s.n; i++)
		ck_assert_uint_eq(s.seq[i], first + (uint64_t)i);
	ck_assert_int_eq(cd_changelog_since(log, ver(epoch, seq), NULL, NULL), s.n);
}

static void assert_not_held(struct cd_changelog *log, uint64_t epoch, uint64_t seq)
{
	struct seen s = {.n = 0};

	ck_assert_int_eq(cd_changelog_since(log, ver(epoch, seq), collect, &s), CD_ERR_NOT_FOUND);
	ck_assert_int_eq(s.n, 0);
}

START_TEST(test_since)
{
	struct cd_changelog log;

	log_open(&log, 0, 0, 3, 10, 15);
	ck_assert_uint_eq(log.max_entries, CD_CHANGELOG_ENTRIES_DEFAULT);
	assert_size(&log, 5, 5 * 20);
	ck_assert_uint_eq(cd_changelog_newest(&log).seq, 15);
	assert_since(&log, 3, 12, 13, 15); /* inside */
	assert_since(&log, 3, 14, 15, 15);
	assert_since(&log, 3, 15, 16, 15); /* the newest: nothing to send */
	assert_since(&log, 3, 10, 11, 15); /* just before the oldest */
	assert_not_held(&log, 3, 9);	   /* before that: not held */
	assert_not_held(&log, 3, 16);	   /* newer than the log */
	assert_not_held(&log, 2, 12);	   /* another epoch */
	assert_not_held(&log, 4, 0);
	ck_assert_uint_eq(cd_changelog_get(&log, ver(3, 13))->version.seq, 13);
	ck_assert_uint_eq(cd_changelog_get(&log, ver(3, 11))->version.seq, 11);
	ck_assert_ptr_null(cd_changelog_get(&log, ver(3, 10)));
	ck_assert_ptr_null(cd_changelog_get(&log, ver(3, 16)));
	ck_assert_ptr_null(cd_changelog_get(&log, ver(2, 13)));
	cd_changelog_free(&log);
	cd_changelog_free(NULL);
}
END_TEST

START_TEST(test_callback_stops)
{
	struct cd_changelog log;
	struct seen s = {.stop_after = 2};

	log_open(&log, 8, 0, 1, 0, 3);
	ck_assert_int_eq(cd_changelog_since(&log, ver(1, 0), collect, &s), -ECANCELED);
	ck_assert_int_eq(s.n, 2);
	cd_changelog_free(&log);
}
END_TEST

/* Before any reset or add the log knows no version: it answers nothing. */
START_TEST(test_unanchored)
{
	struct cd_changelog log;

	ck_assert_int_eq(cd_changelog_init(&log, 8, 0), 0);
	assert_not_held(&log, 0, 0);
	add(&log, 5, 7); /* the first change anchors it just before */
	assert_not_held(&log, 5, 5);
	assert_since(&log, 5, 6, 7, 7);
	cd_changelog_free(&log);
}
END_TEST

START_TEST(test_evict_by_count)
{
	struct cd_changelog log;

	log_open(&log, 4, 0, 1, 0, 10);
	assert_size(&log, 4, 4 * 20);
	assert_since(&log, 1, 6, 7, 10); /* just before the oldest held */
	assert_since(&log, 1, 8, 9, 10);
	assert_not_held(&log, 1, 5); /* its next change was dropped */
	assert_not_held(&log, 1, 0);
	ck_assert_ptr_null(cd_changelog_get(&log, ver(1, 6)));
	ck_assert_ptr_nonnull(cd_changelog_get(&log, ver(1, 7)));
	cd_changelog_free(&log);
}
END_TEST

START_TEST(test_evict_by_bytes)
{
	struct cd_changelog log;
	char big[200];

	/* Room for three entries of 20 bytes, not four. */
	log_open(&log, 100, 3 * 20 + 19, 2, 0, 3);
	ck_assert_uint_eq(cd_changelog_count(&log), 3);
	add(&log, 2, 4);
	assert_size(&log, 3, 3 * 20);
	assert_since(&log, 2, 1, 2, 4);
	assert_not_held(&log, 2, 0);
	/* A change larger than the bound by itself: held is only what follows it. */
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	ck_assert_int_eq(cd_changelog_add(&log, ver(2, 5), 7, big), 0);
	assert_size(&log, 0, 0);
	assert_not_held(&log, 2, 4);
	assert_since(&log, 2, 5, 6, 5);
	add(&log, 2, 6);
	assert_since(&log, 2, 5, 6, 6);
	cd_changelog_free(&log);
}
END_TEST

START_TEST(test_reset)
{
	struct cd_changelog log;

	log_open(&log, 8, 0, 1, 4, 6);
	/* A sync round starts epoch 2: what led to 1.6 leads nowhere now. */
	cd_changelog_reset(&log, ver(2, 0));
	assert_size(&log, 0, 0);
	assert_not_held(&log, 1, 4);
	assert_not_held(&log, 1, 6);
	assert_since(&log, 2, 0, 1, 0);
	add(&log, 2, 1);
	assert_since(&log, 2, 0, 1, 1);
	ck_assert_uint_eq(cd_changelog_newest(&log).epoch, 2);
	cd_changelog_free(&log);
}
END_TEST

/* Entries that do not follow the run by seq + 1 in its epoch start a new run. */
START_TEST(test_contiguity)
{
	struct cd_changelog log;

	log_open(&log, 8, 0, 1, 0, 2);
	ck_assert_int_eq(cd_changelog_add(&log, ver(0, 0), 7, "{}"), -EINVAL);
	assert_since(&log, 1, 0, 1, 2);
	/* A gap: seq 3 never came. */
	add(&log, 1, 4);
	ck_assert_uint_eq(cd_changelog_count(&log), 1);
	assert_not_held(&log, 1, 2);
	assert_since(&log, 1, 3, 4, 4);
	/* Another epoch without a reset (the caller missed it). */
	add(&log, 2, 5);
	assert_not_held(&log, 1, 3);
	assert_not_held(&log, 1, 4);
	assert_since(&log, 2, 4, 5, 5);
	/* The same version again cannot follow itself either. */
	add(&log, 2, 5);
	ck_assert_uint_eq(cd_changelog_count(&log), 1);
	cd_changelog_free(&log);
}
END_TEST

/* The versions since() hands out after v, as "e.s e.s ..." */
static int versions(void *ctx, const struct cd_changelog_entry *e)
{
	char *out = ctx;
	size_t len = strlen(out);

	snprintf(out + len, 512 - len, "%s%u.%u", len ? " " : "", (unsigned)e->version.epoch,
		 (unsigned)e->version.seq);
	return 0;
}

static void assert_after(struct cd_changelog *log, uint64_t epoch, uint64_t seq, const char *want)
{
	char got[512] = "";

	ck_assert_int_ge(cd_changelog_since(log, ver(epoch, seq), versions, got), 0);
	ck_assert_str_eq(got, want);
}

/* A round's new epoch (seq 0) continues the run: a member that missed it replays it. */
START_TEST(test_rounds)
{
	struct cd_changelog log;

	log_open(&log, 8, 0, 1, 0, 2);
	ck_assert_int_eq(cd_changelog_add(&log, ver(3, 0), 0, "{\"op\":\"round\"}"), 0);
	add(&log, 3, 1);
	add(&log, 3, 2);
	ck_assert_uint_eq(cd_changelog_count(&log), 5);
	ck_assert_uint_eq(cd_changelog_newest(&log).epoch, 3);
	ck_assert_uint_eq(cd_changelog_newest(&log).seq, 2);
	assert_after(&log, 1, 0, "1.1 1.2 3.0 3.1 3.2");
	assert_after(&log, 1, 2, "3.0 3.1 3.2");
	assert_after(&log, 3, 0, "3.1 3.2");
	ck_assert_int_eq(cd_changelog_since(&log, ver(3, 2), NULL, NULL), 0);
	/* Versions that are not points of the run: none of the run's epochs, or past it. */
	assert_not_held(&log, 2, 0);
	assert_not_held(&log, 1, 3);
	assert_not_held(&log, 3, 3);
	ck_assert_ptr_nonnull(cd_changelog_get(&log, ver(3, 0)));
	ck_assert_ptr_null(cd_changelog_get(&log, ver(1, 0)));
	/* Two rounds in a row, and one of an older epoch (a missed reset): empty at it. */
	ck_assert_int_eq(cd_changelog_add(&log, ver(4, 0), 0, "{}"), 0);
	ck_assert_int_eq(cd_changelog_add(&log, ver(5, 0), 0, "{}"), 0);
	assert_after(&log, 3, 2, "4.0 5.0");
	ck_assert_int_eq(cd_changelog_add(&log, ver(5, 0), 0, "{}"), 0);
	ck_assert_uint_eq(cd_changelog_count(&log), 0);
	assert_not_held(&log, 3, 2);
	ck_assert_int_eq(cd_changelog_since(&log, ver(5, 0), NULL, NULL), 0);
	/* Evicting the oldest moves the base over a round too. */
	cd_changelog_reset(&log, ver(1, 0));
	add(&log, 1, 1);
	ck_assert_int_eq(cd_changelog_add(&log, ver(2, 0), 0, "{}"), 0);
	for (uint64_t q = 1; q <= 6; q++)
		add(&log, 2, q);
	ck_assert_uint_eq(cd_changelog_count(&log), 8);
	add(&log, 2, 7);
	assert_not_held(&log, 1, 0);
	assert_after(&log, 1, 1, "2.0 2.1 2.2 2.3 2.4 2.5 2.6 2.7");
	add(&log, 2, 8);
	assert_not_held(&log, 1, 1);
	assert_after(&log, 2, 0, "2.1 2.2 2.3 2.4 2.5 2.6 2.7 2.8");
	cd_changelog_free(&log);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("changelog");

	add_tcase(s, test_since);
	add_tcase(s, test_callback_stops);
	add_tcase(s, test_unanchored);
	add_tcase(s, test_evict_by_count);
	add_tcase(s, test_evict_by_bytes);
	add_tcase(s, test_reset);
	add_tcase(s, test_contiguity);
	add_tcase(s, test_rounds);
	return run_suite(s);
}
