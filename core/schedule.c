/*
 * Maintenance schedules: "--at" and "--every" text, and the next time one
 * fires. Local time is the C library's (TZ), converted with mktime and
 * checked by converting back, so that a time the clocks skip never fires
 * and a time they repeat fires once, at its first instance.
 */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "core/schedule.h"

#define MINUTE_MS 60000ULL
#define DAY_S 86400LL
/* "+DURATION" reaches a year ahead at most (a leap year's days). */
#define DURATION_MAX_S (366LL * DAY_S)
/* cd_schedule_next looks this many days ahead before it says "never". */
#define SEARCH_DAYS (5 * 366)
/* Beyond this (year 9000 or so) next() says "never" rather than overflow. */
#define AFTER_MAX_MS (220000000000ULL * 1000ULL)

#define AT_FORMS                                                                                   \
	"expected 2026-12-24T02:00, 2026-12-24 02:00, 2026-12-24T02:00:00Z, "                      \
	"2026-12-24T02:00+01:00 or +DURATION (+30s, +10m, +2h, +1d, +1h30m)"
#define EVERY_FORMS                                                                                \
	"expected \"sun 02:00\", \"sat,sun 02:00\", \"daily 02:00\", \"first sat 03:00\" "         \
	"(first, second, third, fourth, last) or a cron line of five fields \"0 2 * * 0\""

static const char *const day_short[7] = {"sun", "mon", "tue", "wed", "thu", "fri", "sat"};
static const char *const day_long[7] = {"sunday",   "monday", "tuesday", "wednesday",
					"thursday", "friday", "saturday"};
static const char *const month_short[12] = {"jan", "feb", "mar", "apr", "may", "jun",
					    "jul", "aug", "sep", "oct", "nov", "dec"};

/* --- the calendar, without a time zone --- */

static bool leap_year(int y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int month_days(int y, int m)
{
	static const int days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

	return m == 2 && leap_year(y) ? 29 : days[m - 1];
}

/* Days from 1970-01-01 to y-m-d in the proleptic Gregorian calendar (H. Hinnant). */
static long long days_from_civil(int y, int m, int d)
{
	long long era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

/*
 * The local time y-m-d h:mi:sec as seconds since the epoch: 0, or -1 if the
 * clocks skip it. mktime is asked for each reading of the daylight-saving
 * flag and only results that convert back to the same fields count; of
 * those the earliest wins, so a repeated time always means its first
 * instance whatever mktime remembers from earlier calls.
 */
static int local_time(int y, int m, int d, int h, int mi, int sec, time_t *out)
{
	static const int isdst[3] = {-1, 0, 1};
	bool found = false;
	time_t best = 0;
	size_t i;

	for (i = 0; i < 3; i++) {
		struct tm tm = {0}, back;
		time_t t;

		tm.tm_year = y - 1900;
		tm.tm_mon = m - 1;
		tm.tm_mday = d;
		tm.tm_hour = h;
		tm.tm_min = mi;
		tm.tm_sec = sec;
		tm.tm_isdst = isdst[i];
		t = mktime(&tm);
		if (t == (time_t)-1 || !localtime_r(&t, &back))
			continue;
		if (back.tm_year != y - 1900 || back.tm_mon != m - 1 || back.tm_mday != d ||
		    back.tm_hour != h || back.tm_min != mi || back.tm_sec != sec)
			continue;
		if (!found || t < best)
			best = t;
		found = true;
	}
	if (!found)
		return -1;
	*out = best;
	return 0;
}

/* --- small readers --- */

/* Exactly n digits at *p (advanced past them) as *v: true, or false. */
static bool digits(const char **p, int n, int *v)
{
	int i, x = 0;

	for (i = 0; i < n; i++) {
		if (!isdigit((unsigned char)(*p)[i]))
			return false;
		x = x * 10 + ((*p)[i] - '0');
	}
	*p += n;
	*v = x;
	return true;
}

/* "H:MM" or "HH:MM" (whole text) as hour and minute: 0, or -1 with err. */
static int clock_time(const char *text, int *h, int *mi, char *err, size_t errlen)
{
	const char *p = text;
	size_t hlen = strcspn(text, ":");

	if ((hlen != 1 && hlen != 2) || !digits(&p, (int)hlen, h) || *p++ != ':' ||
	    !digits(&p, 2, mi) || *p) {
		snprintf(err, errlen, "time \"%s\": expected HH:MM (00:00 to 23:59)", text);
		return -1;
	}
	if (*h > 23 || *mi > 59) {
		snprintf(err, errlen, "time \"%s\" is out of range 00:00 to 23:59", text);
		return -1;
	}
	return 0;
}

/* A day name (short or full) of len bytes at s: 0..6, or -1. */
static int day_name(const char *s, size_t len)
{
	int i;

	for (i = 0; i < 7; i++)
		if ((len == 3 && !strncmp(s, day_short[i], 3)) ||
		    (len == strlen(day_long[i]) && !strncmp(s, day_long[i], len)))
			return i;
	return -1;
}

/* --- --at --- */

/* "+1h30m" after the '+': seconds, or -1 with err. */
static long long duration(const char *text, const char *p, char *err, size_t errlen)
{
	long long total = 0;

	if (!*p) {
		snprintf(err, errlen, "\"%s\": a duration after '+'; " AT_FORMS, text);
		return -1;
	}
	while (*p) {
		long long n = 0, unit;
		const char *start = p;

		while (isdigit((unsigned char)*p) && n <= DURATION_MAX_S)
			n = n * 10 + (*p++ - '0');
		if (p == start || isdigit((unsigned char)*p)) {
			snprintf(err, errlen, "\"%s\": %s; " AT_FORMS, text,
				 p == start ? "expected a number" : "number too large");
			return -1;
		}
		switch (*p) {
		case 's':
			unit = 1;
			break;
		case 'm':
			unit = 60;
			break;
		case 'h':
			unit = 3600;
			break;
		case 'd':
			unit = DAY_S;
			break;
		default:
			snprintf(err, errlen,
				 "\"%s\": a unit s, m, h or d after each number; " AT_FORMS, text);
			return -1;
		}
		p++;
		if (n > DURATION_MAX_S / unit || (total += n * unit) > DURATION_MAX_S) {
			snprintf(err, errlen, "\"%s\": a duration of at most 366 days", text);
			return -1;
		}
	}
	if (total == 0) {
		snprintf(err, errlen, "\"%s\": a duration must be more than 0", text);
		return -1;
	}
	return total;
}

/* "Z", "+HH:MM" or "-HH:MM" at p (whole rest): seconds east of UTC; 0 or -1. */
static int zone_offset(const char *p, long long *east)
{
	int sign, h, mi;

	if ((*p == 'z' || *p == 'Z') && !p[1]) {
		*east = 0;
		return 0;
	}
	if (*p != '+' && *p != '-')
		return -1;
	sign = *p++ == '-' ? -1 : 1;
	if (!digits(&p, 2, &h) || *p++ != ':' || !digits(&p, 2, &mi) || *p || h > 23 || mi > 59)
		return -1;
	*east = sign * (h * 3600LL + mi * 60LL);
	return 0;
}

/* An ISO 8601 date and time: seconds since the epoch, or -1 with err. */
static long long iso_time(const char *text, char *err, size_t errlen)
{
	const char *p = text;
	int y, mo, d, h, mi, sec = 0;
	long long east, t;
	time_t local;
	bool ok;

	ok = digits(&p, 4, &y) && *p++ == '-' && digits(&p, 2, &mo) && *p++ == '-' &&
	     digits(&p, 2, &d) && (*p == 'T' || *p == 't' || *p == ' ');
	if (ok) {
		p++;
		ok = digits(&p, 2, &h) && *p++ == ':' && digits(&p, 2, &mi);
	}
	if (ok && *p == ':') {
		p++;
		ok = digits(&p, 2, &sec);
	}
	if (!ok) {
		snprintf(err, errlen, "\"%s\": " AT_FORMS, text);
		return -1;
	}
	if (y < 1970 || mo < 1 || mo > 12 || d < 1 || d > month_days(y, mo) || h > 23 || mi > 59 ||
	    sec > 59) {
		snprintf(err, errlen, "\"%s\": no such date or time", text);
		return -1;
	}
	if (!*p) {
		if (local_time(y, mo, d, h, mi, sec, &local) < 0) {
			snprintf(
				err, errlen,
				"\"%s\" does not exist in the local time zone (the clocks skip it)",
				text);
			return -1;
		}
		t = (long long)local;
	} else if (zone_offset(p, &east) == 0) {
		t = days_from_civil(y, mo, d) * DAY_S + h * 3600LL + mi * 60LL + sec - east;
	} else {
		snprintf(err, errlen, "\"%s\": a zone is Z, +HH:MM or -HH:MM; " AT_FORMS, text);
		return -1;
	}
	if (t < 0) {
		snprintf(err, errlen, "\"%s\" is before 1970", text);
		return -1;
	}
	return t;
}

int cd_schedule_parse_at(const char *text, uint64_t now_ms, struct cd_schedule *out, char *err,
			 size_t errlen)
{
	struct cd_schedule s;
	long long v;

	memset(&s, 0, sizeof(s));
	s.kind = CD_SCHED_AT;
	if (text[0] == '+') {
		v = duration(text, text + 1, err, errlen);
		if (v < 0)
			return -1;
		s.at_ms = now_ms + (uint64_t)v * 1000ULL;
	} else {
		v = iso_time(text, err, errlen);
		if (v < 0)
			return -1;
		s.at_ms = (uint64_t)v * 1000ULL;
	}
	*out = s;
	return 0;
}

/* --- --every --- */

/*
 * The text lower case, blanks squeezed to one space and none at either end
 * or beside a comma, into buf (CD_SCHEDULE_TEXT_MAX + 1 bytes): 0, or -1 if
 * it is too long.
 */
static int normalise(const char *text, char *buf)
{
	size_t n = 0;
	bool blank = false;

	for (; *text; text++) {
		unsigned char c = (unsigned char)*text;

		if (isspace(c)) {
			blank = true;
			continue;
		}
		if (blank && n > 0 && c != ',' && buf[n - 1] != ',') {
			if (n >= CD_SCHEDULE_TEXT_MAX)
				return -1;
			buf[n++] = ' ';
		}
		blank = false;
		if (n >= CD_SCHEDULE_TEXT_MAX)
			return -1;
		buf[n++] = (char)tolower(c);
	}
	buf[n] = '\0';
	return 0;
}

/* Split buf (normalised) at spaces into at most max words; their count. */
static size_t split(char *buf, char **word, size_t max)
{
	size_t n = 0;
	char *p = buf;

	while (*p) {
		if (n == max)
			return max + 1;
		word[n++] = p;
		p = strchr(p, ' ');
		if (!p)
			break;
		*p++ = '\0';
	}
	return n;
}

static void set_all(struct cd_schedule *s)
{
	s->mdays = 0xfffffffeU; /* 1..31 */
	s->months = 0x1ffe;	/* 1..12 */
	s->wdays = 0x7f;
}

static void set_clock(struct cd_schedule *s, int h, int mi)
{
	s->hours = 1U << h;
	s->minutes[mi / 64] = 1ULL << (mi % 64);
}

/* "sun 02:00", "sat,sun 02:00", "daily 02:00". */
static int parse_weekly(struct cd_schedule *s, char *days, const char *clock, char *err,
			size_t errlen)
{
	int h, mi, d;
	char *p = days;

	set_all(s);
	if (strcmp(days, "daily") == 0) {
		s->wday_restricted = false;
	} else {
		s->wdays = 0;
		s->wday_restricted = true;
		for (;;) {
			size_t len = strcspn(p, ",");

			d = day_name(p, len);
			if (d < 0) {
				snprintf(err, errlen,
					 "\"%.*s\" is not a day (sun..sat); " EVERY_FORMS, (int)len,
					 p);
				return -1;
			}
			s->wdays |= (uint8_t)(1U << d);
			if (!p[len])
				break;
			p += len + 1;
		}
	}
	if (clock_time(clock, &h, &mi, err, errlen) < 0)
		return -1;
	set_clock(s, h, mi);
	return 0;
}

/* "first sat 03:00", "last sun 02:00". */
static int parse_monthly(struct cd_schedule *s, const char *nth, const char *day, const char *clock,
			 char *err, size_t errlen)
{
	static const char *const nths[4] = {"first", "second", "third", "fourth"};
	int h, mi, d, i;

	set_all(s);
	s->nth = 0;
	for (i = 0; i < 4; i++)
		if (strcmp(nth, nths[i]) == 0)
			s->nth = (int8_t)(i + 1);
	if (strcmp(nth, "last") == 0)
		s->nth = -1;
	if (s->nth == 0) {
		snprintf(err, errlen,
			 "\"%s\": expected first, second, third, fourth or last; " EVERY_FORMS,
			 nth);
		return -1;
	}
	d = day_name(day, strlen(day));
	if (d < 0) {
		snprintf(err, errlen, "\"%s\" is not a day (sun..sat); " EVERY_FORMS, day);
		return -1;
	}
	s->wdays = (uint8_t)(1U << d);
	s->wday_restricted = true;
	if (clock_time(clock, &h, &mi, err, errlen) < 0)
		return -1;
	set_clock(s, h, mi);
	return 0;
}

/* One cron field's name, its range and the names its values may have. */
struct cron_field {
	const char *name;
	int lo, hi;
	const char *const *names; /* names[i] is lo + i */
	int nnames;
};

static const struct cron_field cron_fields[5] = {
	{"minute", 0, 59, NULL, 0},	     {"hour", 0, 23, NULL, 0},
	{"day-of-month", 1, 31, NULL, 0},    {"month", 1, 12, month_short, 12},
	{"day-of-week", 0, 7, day_short, 7},
};

/* A number or name at *p (advanced) in field f: 0, or -1 with err. */
static int cron_value(const struct cron_field *f, const char **p, int *v, char *err, size_t errlen)
{
	const char *s = *p;
	int i, x = 0;

	if (isdigit((unsigned char)*s)) {
		for (; isdigit((unsigned char)*s); s++)
			if ((x = x * 10 + (*s - '0')) > 9999)
				break;
	} else {
		for (i = 0; i < f->nnames; i++)
			if (strncmp(s, f->names[i], 3) == 0 && !isalpha((unsigned char)s[3]))
				break;
		if (i == f->nnames) {
			snprintf(err, errlen, "cron %s field: expected a number %d-%d%s at \"%s\"",
				 f->name, f->lo, f->hi,
				 f->nnames == 12  ? " or jan..dec"
				 : f->nnames == 7 ? " or sun..sat"
						  : "",
				 s);
			return -1;
		}
		x = f->lo + i;
		s += 3;
	}
	if (x < f->lo || x > f->hi) {
		snprintf(err, errlen, "cron %s field: %d is out of range %d-%d", f->name, x, f->lo,
			 f->hi);
		return -1;
	}
	*p = s;
	*v = x;
	return 0;
}

/*
 * One cron field (lists of *, a, a-b, with /n steps) into bits (bit v for
 * value v): 0, or -1 with err.
 */
static int cron_parse_field(const struct cron_field *f, const char *text, uint64_t *bits, char *err,
			    size_t errlen)
{
	const char *p = text;

	*bits = 0;
	for (;;) {
		int a, b, step = 1, v;

		if (*p == '*') {
			a = f->lo;
			b = f->hi;
			p++;
		} else {
			if (cron_value(f, &p, &a, err, errlen) < 0)
				return -1;
			b = a;
			if (*p == '-') {
				p++;
				if (cron_value(f, &p, &b, err, errlen) < 0)
					return -1;
				if (b < a) {
					snprintf(err, errlen,
						 "cron %s field: range %d-%d goes backwards",
						 f->name, a, b);
					return -1;
				}
			} else if (*p == '/') {
				snprintf(err, errlen,
					 "cron %s field: a step follows * or a range a-b", f->name);
				return -1;
			}
		}
		if (*p == '/') {
			const char *s = ++p;

			for (step = 0; isdigit((unsigned char)*p) && step <= f->hi; p++)
				step = step * 10 + (*p - '0');
			if (p == s || step < 1 || step > f->hi) {
				snprintf(err, errlen, "cron %s field: a step is 1-%d", f->name,
					 f->hi);
				return -1;
			}
		}
		for (v = a; v <= b; v += step)
			*bits |= 1ULL << v;
		if (*p == '\0')
			return 0;
		if (*p != ',' || p[1] == '\0') {
			snprintf(err, errlen,
				 "cron %s field \"%s\": expected a list of *, N, N-M, */S or N-M/S",
				 f->name, text);
			return -1;
		}
		p++;
	}
}

/*
 * True if a day of the month in mdays exists in one of the months (cron
 * line "0 0 30 2 *" never fires).
 */
static bool some_day_exists(const struct cd_schedule *s)
{
	int m, d;

	for (m = 1; m <= 12; m++)
		if (s->months & (1U << m))
			for (d = 1; d <= month_days(2000, m); d++)
				if (s->mdays & (1U << d))
					return true;
	return false;
}

/*
 * "0 2 * * 0". As cron, a day field is restricted unless it starts with
 * '*', and when both day fields are, a day matching either one fires.
 */
static int parse_cron(struct cd_schedule *s, char **word, char *err, size_t errlen)
{
	uint64_t bits[5];
	int i;

	for (i = 0; i < 5; i++)
		if (cron_parse_field(&cron_fields[i], word[i], &bits[i], err, errlen) < 0)
			return -1;
	s->minutes[0] = bits[0];
	s->hours = (uint32_t)bits[1];
	s->mdays = (uint32_t)bits[2];
	s->months = (uint16_t)bits[3];
	s->wdays = (uint8_t)((bits[4] | bits[4] >> 7) & 0x7f); /* 7 is sunday too */
	s->mday_restricted = word[2][0] != '*';
	s->wday_restricted = word[4][0] != '*';
	if (!(s->wday_restricted && s->mday_restricted) && !some_day_exists(s)) {
		snprintf(err, errlen,
			 "cron line \"%s %s %s %s %s\" never fires: no month given has such a day",
			 word[0], word[1], word[2], word[3], word[4]);
		return -1;
	}
	return 0;
}

int cd_schedule_parse_every(const char *text, struct cd_schedule *out, char *err, size_t errlen)
{
	struct cd_schedule s;
	char buf[CD_SCHEDULE_TEXT_MAX + 1], *word[5];
	size_t n;
	int rc;

	memset(&s, 0, sizeof(s));
	s.kind = CD_SCHED_EVERY;
	if (normalise(text, s.every) < 0) {
		snprintf(err, errlen, "schedule longer than %d characters", CD_SCHEDULE_TEXT_MAX);
		return -1;
	}
	memcpy(buf, s.every, sizeof(buf));
	n = split(buf, word, 5);
	switch (n) {
	case 2:
		rc = parse_weekly(&s, word[0], word[1], err, errlen);
		break;
	case 3:
		rc = parse_monthly(&s, word[0], word[1], word[2], err, errlen);
		break;
	case 5:
		rc = parse_cron(&s, word, err, errlen);
		break;
	default:
		snprintf(err, errlen, "\"%s\": " EVERY_FORMS, s.every);
		rc = -1;
		break;
	}
	if (rc < 0)
		return -1;
	*out = s;
	return 0;
}

/* --- the next time --- */

static bool day_matches(const struct cd_schedule *s, int y, int m, int d, int wd)
{
	bool mday_ok = s->mdays & (1U << d), wday_ok = s->wdays & (1U << wd);

	if (!(s->months & (1U << m)))
		return false;
	if (s->nth > 0)
		return wday_ok && (d - 1) / 7 + 1 == s->nth;
	if (s->nth < 0)
		return wday_ok && d + 7 > month_days(y, m);
	if (s->mday_restricted && s->wday_restricted)
		return mday_ok || wday_ok;
	return mday_ok && wday_ok;
}

static bool minute_set(const struct cd_schedule *s, int mi)
{
	return s->minutes[mi / 64] & (1ULL << (mi % 64));
}

/*
 * Walk the local calendar a day at a time from the minute after after_ms;
 * on a day that matches, try its hours and minutes in order. A local time
 * maps to its first instance (local_time), so the walk's order is the
 * clock's and the first time past after_ms is the answer.
 */
uint64_t cd_schedule_next(const struct cd_schedule *s, uint64_t after_ms)
{
	struct tm tm;
	time_t start, t;
	int y, m, d, wd, h, mi, day;

	if (s->kind == CD_SCHED_AT)
		return s->at_ms > after_ms ? s->at_ms : 0;
	if (after_ms >= AFTER_MAX_MS)
		return 0;
	start = (time_t)((after_ms / MINUTE_MS + 1) * 60);
	if (!localtime_r(&start, &tm))
		return 0;
	y = tm.tm_year + 1900;
	m = tm.tm_mon + 1;
	d = tm.tm_mday;
	wd = tm.tm_wday;
	for (day = 0; day <= SEARCH_DAYS; day++) {
		if (day_matches(s, y, m, d, wd))
			for (h = day == 0 ? tm.tm_hour : 0; h < 24; h++) {
				if (!(s->hours & (1U << h)))
					continue;
				for (mi = day == 0 && h == tm.tm_hour ? tm.tm_min : 0; mi < 60;
				     mi++)
					if (minute_set(s, mi) &&
					    local_time(y, m, d, h, mi, 0, &t) == 0 &&
					    (uint64_t)t * 1000ULL > after_ms)
						return (uint64_t)t * 1000ULL;
			}
		wd = (wd + 1) % 7;
		if (++d > month_days(y, m)) {
			d = 1;
			if (++m > 12) {
				m = 1;
				y++;
			}
		}
	}
	return 0;
}

static size_t word_count(const char *text)
{
	size_t n = *text ? 1 : 0;

	for (; *text; text++)
		n += *text == ' ';
	return n;
}

void cd_schedule_describe(const struct cd_schedule *s, char *buf, size_t len)
{
	struct tm tm;
	time_t t;
	char when[64];

	switch (s->kind) {
	case CD_SCHED_AT:
		t = (time_t)(s->at_ms / 1000ULL);
		if (!localtime_r(&t, &tm)) {
			snprintf(buf, len, "at %llu ms", (unsigned long long)s->at_ms);
			return;
		}
		snprintf(when, sizeof(when), "%04d-%02d-%02d %02d:%02d", tm.tm_year + 1900,
			 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min);
		if (tm.tm_sec)
			snprintf(when + strlen(when), sizeof(when) - strlen(when), ":%02d",
				 tm.tm_sec);
		snprintf(buf, len, "at %s (local)", when);
		return;
	case CD_SCHED_EVERY:
		/* weekly has two words, monthly three, cron five */
		if (word_count(s->every) == 5)
			snprintf(buf, len, "cron %s", s->every);
		else if (strncmp(s->every, "daily ", 6) == 0)
			snprintf(buf, len, "every day %s", s->every + 6);
		else
			snprintf(buf, len, "every %s", s->every);
		return;
	}
	snprintf(buf, len, "?");
}
