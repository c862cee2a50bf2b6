/*
 * Maintenance schedules (core/schedule.h): "--at" and "--every" text, their
 * refusals, the next time one fires (across month and year ends, February
 * 29 and, under Europe/Berlin, daylight saving), and the words for people.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "check_common.h"
#include "core/schedule.h"

#define NOW_MS 1796245200000ULL /* 2026-12-02 21:00 UTC, a wednesday */

static char err[512];

static void set_tz(const char *zone)
{
	ck_assert_int_eq(setenv("TZ", zone, 1), 0);
	tzset();
}

/* True if TZ=Europe/Berlin is known here (summer is two hours east of UTC). */
static bool berlin(void)
{
	time_t summer = 1782907200; /* 2026-07-01 12:00 UTC */
	struct tm tm;

	set_tz("Europe/Berlin");
	if (localtime_r(&summer, &tm) && tm.tm_gmtoff == 7200)
		return true;
	fprintf(stderr, "Europe/Berlin is not installed: its cases are skipped\n");
	return false;
}

/* "YYYY-MM-DD HH:MM[:SS]" in UTC as ms since the epoch. */
static uint64_t utc_ms(const char *text)
{
	struct tm tm = {0};

	ck_assert_int_ge(sscanf(text, "%d-%d-%d %d:%d:%d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
				&tm.tm_hour, &tm.tm_min, &tm.tm_sec),
			 5);
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	return (uint64_t)timegm(&tm) * 1000ULL;
}

/* ms as "YYYY-MM-DD HH:MM" in local time (utc: in UTC), "never" for 0. */
static const char *show(uint64_t ms, bool utc)
{
	static char buf[64];
	time_t t = (time_t)(ms / 1000ULL);
	struct tm tm;

	if (ms == 0)
		return "never";
	ck_assert_ptr_nonnull(utc ? gmtime_r(&t, &tm) : localtime_r(&t, &tm));
	snprintf(buf, sizeof(buf), "%04d-%02d-%02d %02d:%02d", tm.tm_year + 1900, tm.tm_mon + 1,
		 tm.tm_mday, tm.tm_hour, tm.tm_min);
	return buf;
}

static struct cd_schedule every(const char *text)
{
	struct cd_schedule s;

	if (cd_schedule_parse_every(text, &s, err, sizeof(err)) != 0)
		ck_abort_msg("\"%s\" refused: %s", text, err);
	return s;
}

/* The next time of the schedule "--every text" after the time "after" (an --at text). */
static const char *next_after(const char *text, const char *after, bool utc)
{
	struct cd_schedule s = every(text), a;

	if (cd_schedule_parse_at(after, 0, &a, err, sizeof(err)) != 0)
		ck_abort_msg("\"%s\" refused: %s", after, err);
	return show(cd_schedule_next(&s, a.at_ms), utc);
}

/* One expectation: the next time of "--every every" after "--at after", local. */
struct next_case {
	const char *every, *after, *expect;
};

static void next_cases(const struct next_case *c, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(next_after(c[i].every, c[i].after, false), c[i].expect) != 0)
			ck_abort_msg("\"%s\" after %s: %s, not %s", c[i].every, c[i].after,
				     next_after(c[i].every, c[i].after, false), c[i].expect);
}

/* A chain of next times: each after the one before (at most 6). */
struct next_chain {
	const char *every, *after, *expect[6];
};

static void chain(const struct next_chain *c)
{
	struct cd_schedule s = every(c->every), a;
	uint64_t t;
	size_t i;

	ck_assert_int_eq(cd_schedule_parse_at(c->after, 0, &a, err, sizeof(err)), 0);
	t = a.at_ms;
	for (i = 0; i < 6 && c->expect[i]; i++) {
		t = cd_schedule_next(&s, t);
		ck_assert_str_eq(show(t, false), c->expect[i]);
	}
}

static uint64_t at(const char *text, uint64_t now)
{
	struct cd_schedule s;

	if (cd_schedule_parse_at(text, now, &s, err, sizeof(err)) != 0)
		ck_abort_msg("\"%s\" refused: %s", text, err);
	ck_assert_int_eq(s.kind, CD_SCHED_AT);
	return s.at_ms;
}

/* text is refused with a message holding part. */
static void at_refused(const char *text, const char *part)
{
	struct cd_schedule s;

	err[0] = '\0';
	ck_assert_int_eq(cd_schedule_parse_at(text, NOW_MS, &s, err, sizeof(err)), -1);
	if (!strstr(err, part))
		ck_abort_msg("\"%s\": \"%s\" lacks \"%s\"", text, err, part);
}

static void every_refused(const char *text, const char *part)
{
	struct cd_schedule s;

	err[0] = '\0';
	ck_assert_int_eq(cd_schedule_parse_every(text, &s, err, sizeof(err)), -1);
	if (!strstr(err, part))
		ck_abort_msg("\"%s\": \"%s\" lacks \"%s\"", text, err, part);
}

static const char *describe(const struct cd_schedule *s)
{
	static char buf[256];

	cd_schedule_describe(s, buf, sizeof(buf));
	return buf;
}

/* "--every text" in words is expect. */
static void described(const char *text, const char *expect)
{
	struct cd_schedule s = every(text);

	ck_assert_str_eq(describe(&s), expect);
}

START_TEST(test_at_forms)
{
	uint64_t t = utc_ms("2026-12-24 02:00");

	set_tz("UTC");
	ck_assert_uint_eq(at("2026-12-24T02:00", NOW_MS), t);
	ck_assert_uint_eq(at("2026-12-24 02:00", NOW_MS), t);
	ck_assert_uint_eq(at("2026-12-24t02:00", NOW_MS), t);
	ck_assert_uint_eq(at("2026-12-24T02:00:00Z", NOW_MS), t);
	ck_assert_uint_eq(at("2026-12-24T02:00:30z", NOW_MS), t + 30000);
	ck_assert_uint_eq(at("2026-12-24T02:00+01:00", NOW_MS), utc_ms("2026-12-24 01:00"));
	ck_assert_uint_eq(at("2026-12-24T02:00:00-05:30", NOW_MS), utc_ms("2026-12-24 07:30"));
	ck_assert_uint_eq(at("2027-01-01T00:30+02:00", NOW_MS), utc_ms("2026-12-31 22:30"));
	ck_assert_uint_eq(at("2028-02-29T12:00Z", NOW_MS), utc_ms("2028-02-29 12:00"));
	/* a zone of its own wins over TZ (a POSIX TZ needs no zoneinfo) */
	set_tz("EST5");
	ck_assert_uint_eq(at("2026-12-24T02:00Z", NOW_MS), t);
	ck_assert_uint_eq(at("2026-12-24T02:00", NOW_MS), utc_ms("2026-12-24 07:00"));
	set_tz("UTC");
}
END_TEST

START_TEST(test_at_durations)
{
	set_tz("UTC");
	ck_assert_uint_eq(at("+30s", NOW_MS), NOW_MS + 30000);
	ck_assert_uint_eq(at("+10m", NOW_MS), NOW_MS + 600000);
	ck_assert_uint_eq(at("+2h", NOW_MS), NOW_MS + 7200000);
	ck_assert_uint_eq(at("+1d", NOW_MS), NOW_MS + 86400000);
	ck_assert_uint_eq(at("+1h30m", NOW_MS), NOW_MS + 5400000);
	ck_assert_uint_eq(at("+1d2h3m4s", NOW_MS), NOW_MS + (93784ULL * 1000));
	ck_assert_uint_eq(at("+366d", NOW_MS), NOW_MS + 366ULL * 86400000);
	ck_assert_uint_eq(at("+90m", 1000), 1000 + 5400000);
}
END_TEST

START_TEST(test_at_refused)
{
	set_tz("UTC");
	at_refused("tomorrow", "expected 2026-12-24T02:00, 2026-12-24 02:00");
	at_refused("tomorrow", "+DURATION (+30s, +10m, +2h, +1d, +1h30m)");
	at_refused("", "expected 2026-12-24T02:00");
	at_refused("2026-12-24", "expected 2026-12-24T02:00");
	at_refused("2026-12-24T2:00", "expected 2026-12-24T02:00");
	at_refused("2026-12-24T02:00 ", "a zone is Z, +HH:MM or -HH:MM");
	at_refused("2026-12-24T02:00+01", "a zone is Z, +HH:MM or -HH:MM");
	at_refused("2026-12-24T02:00+0100", "a zone is Z");
	at_refused("2026-12-24T02:00ZZ", "a zone is Z");
	at_refused("2026-13-01T00:00", "no such date or time");
	at_refused("2026-02-29T00:00", "no such date or time");
	at_refused("2026-04-31T00:00", "no such date or time");
	at_refused("2026-12-24T24:00", "no such date or time");
	at_refused("2026-12-24T02:60", "no such date or time");
	at_refused("1969-12-31T23:00Z", "no such date or time");
	at_refused("1970-01-01T00:30+01:00", "before 1970");
	at_refused("+", "a duration after '+'");
	at_refused("+0s", "more than 0");
	at_refused("+0h0m", "more than 0");
	at_refused("+10", "a unit s, m, h or d");
	at_refused("+10x", "a unit s, m, h or d");
	at_refused("+1.5h", "a unit s, m, h or d");
	at_refused("+h", "expected a number");
	at_refused("+-5m", "expected a number");
	at_refused("+367d", "at most 366 days");
	at_refused("+366d1s", "at most 366 days");
	at_refused("+99999999999999999999s", "number too large");
}
END_TEST

START_TEST(test_at_next_and_describe)
{
	struct cd_schedule s;

	set_tz("UTC");
	ck_assert_int_eq(cd_schedule_parse_at("2026-12-24T02:00", NOW_MS, &s, err, sizeof(err)), 0);
	ck_assert_uint_eq(cd_schedule_next(&s, NOW_MS), s.at_ms);
	ck_assert_uint_eq(cd_schedule_next(&s, s.at_ms - 1), s.at_ms);
	ck_assert_uint_eq(cd_schedule_next(&s, s.at_ms), 0);
	ck_assert_uint_eq(cd_schedule_next(&s, s.at_ms + 60000), 0);
	ck_assert_str_eq(describe(&s), "at 2026-12-24 02:00 (local)");
	ck_assert_int_eq(cd_schedule_parse_at("+30s", NOW_MS, &s, err, sizeof(err)), 0);
	ck_assert_str_eq(describe(&s), "at 2026-12-02 21:00:30 (local)");
}
END_TEST

START_TEST(test_every_normalised)
{
	struct cd_schedule s, again;

	s = every("  SUNDAY\t 02:00 ");
	ck_assert_str_eq(s.every, "sunday 02:00");
	s = every("Sat , SUN 2:00");
	ck_assert_str_eq(s.every, "sat,sun 2:00");
	s = every("Last  Sun 02:00");
	ck_assert_str_eq(s.every, "last sun 02:00");
	s = every("0  2 * *  SUN,Sat");
	ck_assert_str_eq(s.every, "0 2 * * sun,sat");
	/* the replicated state keeps the text and parses it again */
	again = every(s.every);
	ck_assert_str_eq(again.every, s.every);
	ck_assert_uint_eq(again.minutes[0], s.minutes[0]);
	ck_assert_uint_eq(again.hours, s.hours);
	ck_assert_uint_eq(again.mdays, s.mdays);
	ck_assert_uint_eq(again.months, s.months);
	ck_assert_uint_eq(again.wdays, s.wdays);
	ck_assert_uint_eq(again.wdays, 0x41);
	ck_assert(again.wday_restricted && !again.mday_restricted);
}
END_TEST

START_TEST(test_every_describe)
{
	described("sun 02:00", "every sun 02:00");
	described("Sat,Sun 03:15", "every sat,sun 03:15");
	described("daily 02:00", "every day 02:00");
	described("first sat 03:00", "every first sat 03:00");
	described("LAST sunday 23:59", "every last sunday 23:59");
	described("0 2 * * 0", "cron 0 2 * * 0");
	described("*/15 9-17/4 * * mon-fri", "cron */15 9-17/4 * * mon-fri");
}
END_TEST

START_TEST(test_every_refused)
{
	char longer[300];

	every_refused("", "expected \"sun 02:00\", \"sat,sun 02:00\", \"daily 02:00\"");
	every_refused("sunday", "or a cron line of five fields \"0 2 * * 0\"");
	every_refused("0 2 * *", "a cron line of five fields");
	every_refused("0 2 * * * *", "a cron line of five fields");
	every_refused("funday 02:00", "\"funday\" is not a day (sun..sat)");
	every_refused("sat,,sun 02:00", "\"\" is not a day");
	every_refused("sun 24:00", "time \"24:00\" is out of range 00:00 to 23:59");
	every_refused("sun 02:60", "out of range 00:00 to 23:59");
	every_refused("sun 2:0", "time \"2:0\": expected HH:MM");
	every_refused("sun 0200", "expected HH:MM");
	every_refused("daily 2", "expected HH:MM");
	every_refused("fifth sat 03:00", "expected first, second, third, fourth or last");
	every_refused("first day 03:00", "\"day\" is not a day");
	every_refused("first sat 3", "expected HH:MM");
	every_refused("60 2 * * *", "cron minute field: 60 is out of range 0-59");
	every_refused("0 24 * * *", "cron hour field: 24 is out of range 0-23");
	every_refused("0 2 0 * *", "cron day-of-month field: 0 is out of range 1-31");
	every_refused("0 2 32 * *", "cron day-of-month field: 32 is out of range 1-31");
	every_refused("0 2 * 13 *", "cron month field: 13 is out of range 1-12");
	every_refused("0 2 * * 8", "cron day-of-week field: 8 is out of range 0-7");
	every_refused("0 2 * foo *", "cron month field: expected a number 1-12 or jan..dec");
	every_refused("0 2 * * sunday",
		      "cron day-of-week field: expected a number 0-7 or sun..sat");
	every_refused("jan 2 * * *", "cron minute field: expected a number 0-59 at \"jan\"");
	every_refused("0 2 * * sat-sun", "cron day-of-week field: range 6-0 goes backwards");
	every_refused("0 5-2 * * *", "cron hour field: range 5-2 goes backwards");
	every_refused("*/0 * * * *", "cron minute field: a step is 1-59");
	every_refused("*/60 * * * *", "a step is 1-59");
	every_refused("*/ * * * *", "a step is 1-59");
	every_refused("5/10 * * * *", "cron minute field: a step follows * or a range a-b");
	every_refused("0 2 1,,2 * *", "cron day-of-month field: expected a number 1-31 at \",2\"");
	every_refused("0 2 * * 1,", "cron day-of-week field \"1,\": expected a list");
	every_refused("0 2 1-3x * *", "expected a list");
	every_refused("0 2 ** * *", "expected a list");
	every_refused("0 0 30 2 *", "never fires: no month given has such a day");
	every_refused("0 0 31 apr,jun,sep,nov *", "never fires");
	memset(longer, 'a', sizeof(longer) - 1);
	longer[sizeof(longer) - 1] = '\0';
	every_refused(longer, "schedule longer than 127 characters");
}
END_TEST

/* Next times in UTC, a case a line. */
static const struct next_case next_utc[] = {
	/* weekly and daily */
	{"sun 02:00", "2026-12-02 21:00", "2026-12-06 02:00"},
	{"sun 02:00", "2026-12-06 01:59:30", "2026-12-06 02:00"},
	/* strictly after: at the very time, the week after */
	{"sun 02:00", "2026-12-06 02:00", "2026-12-13 02:00"},
	{"sunday 02:00", "2026-12-27 02:00", "2027-01-03 02:00"},
	{"daily 02:00", "2026-12-02 01:00", "2026-12-02 02:00"},
	{"daily 02:00", "2026-12-31 03:00", "2027-01-01 02:00"},
	{"daily 23:59", "2028-02-28 23:59", "2028-02-29 23:59"},
	{"daily 00:00", "2027-02-28 12:00", "2027-03-01 00:00"},
	/* monthly: the first to fourth and the last of a weekday */
	{"first sat 03:00", "2026-12-02 21:00", "2026-12-05 03:00"},
	{"first sat 03:00", "2026-12-05 03:00", "2027-01-02 03:00"},
	{"second tue 01:00", "2026-12-02 21:00", "2026-12-08 01:00"},
	{"third wed 01:00", "2026-12-02 21:00", "2026-12-16 01:00"},
	/* January 2027 has five sundays: the fourth is the 24th, the last the 31st */
	{"fourth sun 02:00", "2027-01-01 00:00", "2027-01-24 02:00"},
	{"last sun 02:00", "2027-01-24 03:00", "2027-01-31 02:00"},
	/* February 2028 (leap) ends on a tuesday, the 29th */
	{"last tue 12:00", "2028-02-01 00:00", "2028-02-29 12:00"},
	/* a monthly schedule a year ahead is found at once */
	{"last fri 05:00", "2026-12-25 06:00", "2027-01-29 05:00"},
	/* cron lines: steps, ranges, lists, names */
	{"0 2 * * 0", "2026-12-02 21:00", "2026-12-06 02:00"},
	/* day-of-week 7 is sunday too */
	{"0 2 * * 7", "2026-12-02 21:00", "2026-12-06 02:00"},
	{"0 2 * * 5-7", "2026-12-05 03:00", "2026-12-06 02:00"},
	{"* * * * *", "2026-12-02 21:00:59", "2026-12-02 21:01"},
	{"0,30 8-10 * * *", "2026-12-02 10:30", "2026-12-03 08:00"},
	{"0 0 1 jan,jul *", "2026-12-02 21:00", "2027-01-01 00:00"},
	{"0 0 1 jan,jul *", "2027-01-01 00:00", "2027-07-01 00:00"},
	{"0 0 1 */3 *", "2026-12-02 21:00", "2027-01-01 00:00"},
	{"30 12 31 12 *", "2026-12-31 12:30", "2027-12-31 12:30"},
	/* "*" first: not restricted (as cron), so odd days that are fridays */
	{"0 0 */2 * fri", "2026-12-02 21:00", "2026-12-11 00:00"},
	/* restricted day-of-month alone: the month's days, any weekday */
	{"0 0 1-2 * *", "2026-12-02 21:00", "2027-01-01 00:00"},
	/* February 29 comes every four years */
	{"0 0 29 2 *", "2026-12-02 21:00", "2028-02-29 00:00"},
	{"0 0 29 feb *", "2028-02-29 00:00", "2032-02-29 00:00"},
	{"0 0 29 2 *", "2028-02-28 23:59:59", "2028-02-29 00:00"},
};

/* Chains: each time the next after the one before. */
static const struct next_chain chains[] = {
	{"sat,sun 02:00",
	 "2026-12-02 21:00",
	 {"2026-12-05 02:00", "2026-12-06 02:00", "2026-12-12 02:00", "2026-12-13 02:00"}},
	{"last sun 02:00",
	 "2026-12-02 21:00",
	 {"2026-12-27 02:00", "2027-01-31 02:00", "2027-02-28 02:00", "2027-03-28 02:00"}},
	/* hours 9, 13 and 17 on weekdays, every quarter hour: friday evening to monday */
	{"*/15 9-17/4 * * mon-fri",
	 "2026-12-04 17:45",
	 {"2026-12-07 09:00", "2026-12-07 09:15", "2026-12-07 09:30", "2026-12-07 09:45",
	  "2026-12-07 13:00"}},
	/* both day fields restricted: the 13th or a friday */
	{"0 0 13 * fri",
	 "2026-12-02 21:00",
	 {"2026-12-04 00:00", "2026-12-11 00:00", "2026-12-13 00:00", "2026-12-18 00:00"}},
};

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

START_TEST(test_next)
{
	size_t i;

	set_tz("UTC");
	next_cases(next_utc, NELEM(next_utc));
	for (i = 0; i < NELEM(chains); i++)
		chain(&chains[i]);
}
END_TEST

START_TEST(test_next_whole_minutes)
{
	struct cd_schedule s = every("* * * * *");
	uint64_t t = utc_ms("2026-12-02 21:00");

	set_tz("UTC");
	ck_assert_uint_eq(cd_schedule_next(&s, t - 1), t);
	ck_assert_uint_eq(cd_schedule_next(&s, t), t + 60000);
	ck_assert_uint_eq(cd_schedule_next(&s, t + 59999), t + 60000);
	/* nothing beyond the year 9000 or so */
	ck_assert_uint_eq(cd_schedule_next(&s, 300000000000ULL * 1000ULL), 0);
}
END_TEST

/* Europe/Berlin in 2026: 02:00 becomes 03:00 on March 29, 03:00 becomes 02:00 on October 25. */
START_TEST(test_next_dst)
{
	static const char *const fall[] = {"2026-10-25 00:00", "2026-10-25 00:30",
					   "2026-10-25 02:00", "2026-10-25 02:30"};
	struct cd_schedule s;
	uint64_t t;
	size_t i;

	if (!berlin())
		return;
	/* a time the clocks skip does not fire that day */
	ck_assert_str_eq(next_after("daily 02:30", "2026-03-28T02:29", true), "2026-03-28 01:30");
	ck_assert_str_eq(next_after("daily 02:30", "2026-03-28T03:00", true), "2026-03-30 00:30");
	ck_assert_str_eq(next_after("*/30 * * * *", "2026-03-29T00:30Z", true), "2026-03-29 01:00");
	ck_assert_str_eq(next_after("0 2 * * *", "2026-03-29T00:00Z", true), "2026-03-30 00:00");
	/* a repeated time fires once, at its first instance */
	ck_assert_str_eq(next_after("daily 02:30", "2026-10-24T03:00", true), "2026-10-25 00:30");
	ck_assert_str_eq(next_after("daily 02:30", "2026-10-25T00:30Z", true), "2026-10-26 01:30");
	ck_assert_str_eq(next_after("daily 02:30", "2026-10-25T01:00Z", true), "2026-10-26 01:30");
	s = every("*/30 * * * *");
	t = utc_ms("2026-10-24 23:30");
	for (i = 0; i < 4; i++) {
		t = cd_schedule_next(&s, t);
		ck_assert_str_eq(show(t, true), fall[i]);
	}
	/* local times around it, in words */
	ck_assert_str_eq(next_after("last sun 02:30", "2026-10-01T00:00", false),
			 "2026-10-25 02:30");
	set_tz("UTC");
}
END_TEST

START_TEST(test_at_dst)
{
	struct cd_schedule s;

	if (!berlin())
		return;
	ck_assert_uint_eq(at("2026-12-24T02:00", NOW_MS), utc_ms("2026-12-24 01:00"));
	ck_assert_uint_eq(at("2026-07-01T02:00", NOW_MS), utc_ms("2026-07-01 00:00"));
	ck_assert_uint_eq(at("2026-10-25T02:30", NOW_MS), utc_ms("2026-10-25 00:30"));
	ck_assert_uint_eq(at("2026-07-01T02:00Z", NOW_MS), utc_ms("2026-07-01 02:00"));
	at_refused("2026-03-29T02:30", "does not exist in the local time zone");
	ck_assert_int_eq(cd_schedule_parse_at("2026-12-24T01:00Z", NOW_MS, &s, err, sizeof(err)),
			 0);
	ck_assert_str_eq(describe(&s), "at 2026-12-24 02:00 (local)");
	set_tz("UTC");
}
END_TEST

int main(void)
{
	Suite *s = suite_create("schedule");

	setenv("TZ", "UTC", 1);
	tzset();
	add_tcase(s, test_at_forms);
	add_tcase(s, test_at_durations);
	add_tcase(s, test_at_refused);
	add_tcase(s, test_at_next_and_describe);
	add_tcase(s, test_every_normalised);
	add_tcase(s, test_every_describe);
	add_tcase(s, test_every_refused);
	add_tcase(s, test_next);
	add_tcase(s, test_next_whole_minutes);
	add_tcase(s, test_next_dst);
	add_tcase(s, test_at_dst);
	return run_suite(s);
}
