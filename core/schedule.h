/*
 * When maintenance runs: a schedule in words, and its next time. Pure: no
 * I/O; local time comes from the C library's time zone (TZ), as cron's.
 *
 *   --at TIME       once: ISO 8601 ("2026-12-24T02:00", "2026-12-24 02:00",
 *                   "2026-12-24T02:00:00Z", "...+01:00"; no zone: local
 *                   time), or "+DURATION" from now ("+30s", "+10m", "+2h",
 *                   "+1d", "+1h30m")
 *   --every SCHED   repeatedly: weekly "sun 02:00" (day names sun..sat,
 *                   also full names, any case; several days "sat,sun 02:00";
 *                   "daily 02:00"), monthly "first sat 03:00" (first,
 *                   second, third, fourth, last + a day name), or a cron
 *                   line of five fields "0 2 * * 0" (minute hour day-of-month
 *                   month day-of-week; *, lists, ranges, steps; cron's rule
 *                   that a restricted day-of-month and day-of-week match
 *                   either)
 */
#ifndef CD_SCHEDULE_H
#define CD_SCHEDULE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CD_SCHEDULE_TEXT_MAX 127

enum cd_schedule_kind { CD_SCHED_AT, CD_SCHED_EVERY };

struct cd_schedule {
	enum cd_schedule_kind kind;
	/* CD_SCHED_AT: the time, wall-clock ms since the epoch (a "+DURATION"
	 * is resolved against now_ms when parsed). */
	uint64_t at_ms;
	/* CD_SCHED_EVERY: the text as given, normalised (lower case, single
	 * spaces), which is what the replicated state keeps and parses again. */
	char every[CD_SCHEDULE_TEXT_MAX + 1];
	/* parsed form of every (opaque to callers) */
	uint64_t minutes[2]; /* bit per minute 0..59 */
	uint32_t hours;	     /* bit per hour 0..23 */
	uint32_t mdays;	     /* bit per day of month 1..31 */
	uint16_t months;     /* bit per month 1..12 */
	uint8_t wdays;	     /* bit per weekday 0 (sun)..6 */
	int8_t nth;	     /* monthly: 1..4 nth weekday, -1 last, 0 none */
	bool mday_restricted, wday_restricted;
};

/* Parse "--at" text (now_ms resolves "+DURATION"): 0, or -1 with err. */
int cd_schedule_parse_at(const char *text, uint64_t now_ms, struct cd_schedule *out, char *err,
			 size_t errlen);

/* Parse "--every" text: 0, or -1 with err saying what it expected. */
int cd_schedule_parse_every(const char *text, struct cd_schedule *out, char *err, size_t errlen);

/*
 * The first time strictly after after_ms (wall ms) the schedule fires, in
 * wall ms (whole minutes for EVERY); 0 if never again (an AT in the past).
 */
uint64_t cd_schedule_next(const struct cd_schedule *s, uint64_t after_ms);

/* A schedule in words for people ("every sun 02:00", "at 2026-12-24 02:00"). */
void cd_schedule_describe(const struct cd_schedule *s, char *buf, size_t len);

#endif
