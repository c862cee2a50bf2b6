/*
 * A VM move in clusterctl's words (see move_progress.h): what the
 * vm.move.status reply says, as one line a person reads at a glance.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include <clusterd/result.h>

#include "cli/move_progress.h"
#include "cli/text.h"
#include "lib/jsonget.h"

/*
 * The percent of the VM's memory sent, or -1 if the statistics do not say:
 * libvirt's own figure, else memory processed of its total. It is rounded
 * down, so that 100% means all of it.
 */
static int percent_sent(struct json_object *progress)
{
	double p, done, total;

	if (!text_number(progress, "percent", &p)) {
		if (!text_number(progress, "memory_processed", &done) ||
		    !text_number(progress, "memory_total", &total) || total <= 0)
			return -1;
		p = 100.0 * done / total;
	}
	return p < 0 ? 0 : p > 100 ? 100 : (int)p;
}

/* Whether progress is a quick move's: what its state file's blocks say. */
static bool is_quick(struct json_object *progress)
{
	const char *type = cd_jget_str(progress, "type");

	return type && strcmp(type, "quick") == 0;
}

/* The MiB of bytes member key of a quick move's progress, or -1 if absent. */
static long long quick_mib(struct json_object *progress, const char *key)
{
	double v;

	return text_number(progress, key, &v) && v >= 0 ? (long long)(v / (1024.0 * 1024.0)) : -1;
}

/* The percent of the VM's memory that the bytes member key of progress make, or -1. */
static int quick_percent(struct json_object *progress, const char *key)
{
	double done, total;

	if (!text_number(progress, key, &done) || !text_number(progress, "memory_bytes", &total) ||
	    total <= 0)
		return -1;
	done = 100.0 * done / total;
	return done < 0 ? 0 : done > 100 ? 100 : (int)done;
}

/*
 * A quick move's progress, after the phase: the MiB saved of its memory
 * (the image may end shorter than the memory: "complete" says when it
 * did) and the MiB the target restored.
 */
static void append_quick(char *buf, size_t n, struct json_object *progress)
{
	long long saved = quick_mib(progress, "saved_bytes");
	long long memory = quick_mib(progress, "memory_bytes");
	long long restored = quick_mib(progress, "restored_bytes");

	if (saved >= 0 && memory >= 0)
		text_append(buf, n, "  saved %lld/%lld MiB", saved, memory);
	else if (saved >= 0)
		text_append(buf, n, "  saved %lld MiB", saved);
	if (saved >= 0 && cd_jget_bool_or(progress, "complete", false))
		text_append(buf, n, ", complete");
	if (restored >= 0)
		text_append(buf, n, "  restored %lld MiB", restored);
}

int move_percent(struct json_object *status)
{
	struct json_object *progress = text_member(status, "progress");
	double restored;

	if (!is_quick(progress))
		return percent_sent(progress);
	if (text_number(progress, "restored_bytes", &restored) && restored > 0)
		return quick_percent(progress, "restored_bytes");
	return quick_percent(progress, "saved_bytes");
}

struct json_object *move_of(struct json_object *status)
{
	return text_member(status, "move");
}

const char *move_progress_line(struct json_object *status, size_t width, char *buf, size_t n)
{
	struct json_object *move = move_of(status), *progress = text_member(status, "progress");
	char bar[MOVE_BAR_CELLS + 1];
	int pct = percent_sent(progress), i;
	double v;

	buf[0] = '\0';
	text_append(buf, n, "%s", text_or(status, "vm", "?"));
	if (!move) {
		/* Accepted and not begun, or ended and not yet its last move. */
		text_append(buf, n, "  %s", text_or(status, "state", "?"));
		goto cut;
	}
	text_append(buf, n, " %s -> %s  %s", text_or(move, "source", "?"),
		    text_or(move, "target", "?"), text_or(move, "phase", "?"));
	if (is_quick(progress)) {
		append_quick(buf, n, progress);
		goto said;
	}
	if (pct >= 0) {
		for (i = 0; i < MOVE_BAR_CELLS; i++)
			bar[i] = i < (pct * MOVE_BAR_CELLS + 50) / 100 ? '#' : '.';
		bar[MOVE_BAR_CELLS] = '\0';
		text_append(buf, n, "  [%s] %d%%", bar, pct);
	}
	if (text_number(progress, "dirty_bytes_per_s", &v))
		text_append(buf, n, "  dirty %.1f MiB/s", v / (1024.0 * 1024.0));
	if (text_number(progress, "downtime_ms", &v))
		text_append(buf, n, "  downtime ~%.0f ms", v);
	if (text_number(progress, "time_remaining_ms", &v))
		text_append(buf, n, "  left %lld s", (long long)(v + 999) / 1000);
said:
	if (cd_jget_str(status, "progress_error"))
		text_append(buf, n, "  (no statistics: %s)", cd_jget_str(status, "progress_error"));
cut:
	return text_cut(buf, width);
}

void move_change_key(struct json_object *status, char *buf, size_t n)
{
	struct json_object *progress = text_member(status, "progress");

	if (is_quick(progress))
		snprintf(buf, n, "%s %s saved %d restored %d", text_or(status, "state", "-"),
			 text_or(move_of(status), "phase", "-"),
			 quick_percent(progress, "saved_bytes"),
			 quick_percent(progress, "restored_bytes"));
	else
		snprintf(buf, n, "%s %s %d", text_or(status, "state", "-"),
			 text_or(move_of(status), "phase", "-"), percent_sent(progress));
}

struct json_object *move_ended(struct json_object *status, int64_t action_id)
{
	struct json_object *last = text_member(status, "last_move");
	uint64_t id;

	const char *mode = last ? text_or(last, "mode", "") : "";

	if (cd_jget_u64(last, "action_id", &id) < 0 || id != (uint64_t)action_id)
		return NULL;
	/* A cold move is over once the VM runs (or failed) on its target, not when it starts. */
	if (strcmp(mode, "cold") == 0 && strcmp(text_or(status, "state", ""), "starting") == 0)
		return NULL;
	return last;
}

/* Each outcome of a move and its result. */
static const struct {
	const char *outcome;
	int result;
} outcomes[] = {
	{"moved", 0},
	{"stayed", CD_ERR_MOVE_STAYED},
	{"cancelled", CD_ERR_MOVE_STAYED},
	{"failed", CD_ERR_MOVE_FAILED},
	{"saved", CD_ERR_MOVE_SAVED},
};

int move_outcome_result(struct json_object *last_move)
{
	const char *outcome = text_or(last_move, "outcome", "");
	size_t i;

	for (i = 0; i < sizeof(outcomes) / sizeof(outcomes[0]); i++)
		if (strcmp(outcomes[i].outcome, outcome) == 0)
			return outcomes[i].result;
	return CD_ERR_PROTOCOL;
}

const char *move_end_line(const char *vm, struct json_object *last_move, char *buf, size_t n)
{
	const char *outcome = text_or(last_move, "outcome", "?");
	const char *source = text_or(last_move, "source", "?");
	const char *error = text_or(last_move, "error", NULL);
	double v;

	buf[0] = '\0';
	if (strcmp(outcome, "moved") == 0 && strcmp(text_or(last_move, "mode", ""), "cold") == 0) {
		text_append(buf, n,
			    "%s: restarted on %s (a cold move: shut down on %s, started there)", vm,
			    text_or(last_move, "target", "?"), source);
	} else if (strcmp(outcome, "moved") == 0) {
		text_append(buf, n, "%s: moved to %s", vm, text_or(last_move, "target", "?"));
		if (text_number(last_move, "total_ms", &v))
			text_append(buf, n, " in %.1f s", v / 1000.0);
		/* A quick move's is the outage, from pause to running again (0: unknown). */
		if (strcmp(text_or(last_move, "mode", ""), "quick") == 0) {
			if (text_number(last_move, "downtime_ms", &v) && v > 0)
				text_append(buf, n, " (outage %.0f ms)", v);
		} else if (text_number(last_move, "downtime_ms", &v)) {
			text_append(buf, n, " (libvirt downtime %.0f ms)", v);
		}
	} else if (strcmp(outcome, "stayed") == 0 && error) {
		text_append(buf, n, "%s: the move failed: %s; it runs on %s", vm, error, source);
	} else if (strcmp(outcome, "stayed") == 0) {
		text_append(buf, n, "%s: the move did not happen; it runs on %s", vm, source);
	} else if (strcmp(outcome, "cancelled") == 0) {
		text_append(buf, n, "%s: move cancelled; it runs on %s", vm, source);
	} else if (strcmp(outcome, "failed") == 0) {
		text_append(buf, n, "%s: the move failed and the VM is restarted elsewhere%s%s", vm,
			    error ? ": " : "", error ? error : "");
	} else if (strcmp(outcome, "saved") == 0) {
		text_append(
			buf, n,
			"%s: the VM was saved%s%s%s; it is restored where the cluster places it",
			vm, error ? " (the move did not finish: " : "", error ? error : "",
			error ? ")" : "");
	} else {
		text_append(buf, n,
			    "%s: the move ended as '%s', which this clusterctl does not know", vm,
			    outcome);
	}
	return buf;
}
