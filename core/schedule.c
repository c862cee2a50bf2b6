/*
 * stub: replaced by the real module. Just enough of schedule.h for the
 * maintenance IPC to build and be tried: "+N" with one unit (s, m, h, d)
 * or epoch seconds for --at, the text as is for --every (next: a minute
 * from now), and the text back as its description.
 */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/schedule.h"
#include "lib/util.h"

int cd_schedule_parse_at(const char *text, uint64_t now_ms, struct cd_schedule *out, char *err,
			 size_t errlen)
{
	static const char units[] = "smhd";
	static const uint64_t unit_ms[] = {1000, 60000, 3600000, 86400000};
	const char *u;
	char *end;
	unsigned long long v;

	memset(out, 0, sizeof(*out));
	out->kind = CD_SCHED_AT;
	v = strtoull(text + (text[0] == '+'), &end, 10);
	if (text[0] == '+' && end != text + 1 && end[0] && !end[1] && (u = strchr(units, end[0]))) {
		out->at_ms = now_ms + v * unit_ms[u - units];
		return 0;
	}
	if (text[0] != '+' && end != text && !*end) {
		out->at_ms = v * 1000;
		return 0;
	}
	snprintf(err, errlen, "not a time: '%s'", text);
	return -1;
}

int cd_schedule_parse_every(const char *text, struct cd_schedule *out, char *err, size_t errlen)
{
	memset(out, 0, sizeof(*out));
	out->kind = CD_SCHED_EVERY;
	if (!*text || cd_strlcpy(out->every, text, sizeof(out->every)) >= sizeof(out->every)) {
		snprintf(err, errlen, "not a schedule: '%s'", text);
		return -1;
	}
	return 0;
}

uint64_t cd_schedule_next(const struct cd_schedule *s, uint64_t after_ms)
{
	if (s->kind == CD_SCHED_AT)
		return s->at_ms > after_ms ? s->at_ms : 0;
	return after_ms + 60000;
}

void cd_schedule_describe(const struct cd_schedule *s, char *buf, size_t len)
{
	if (s->kind == CD_SCHED_AT)
		snprintf(buf, len, "at %" PRIu64, s->at_ms);
	else
		snprintf(buf, len, "every %s", s->every);
}
