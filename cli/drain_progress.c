/*
 * A node drain in clusterctl's words (see drain_progress.h): what the
 * node.drain, node.drain.status and node.resume replies say, as tables and
 * lines a person reads at a glance.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include <clusterd/result.h>

#include "cli/drain_progress.h"
#include "cli/text.h"
#include "lib/jsonget.h"

/* The integer member key of o, or def if absent or not a number. */
static long long integer(struct json_object *o, const char *key, long long def)
{
	double v;

	return text_number(o, key, &v) ? (long long)v : def;
}

/* "1 VM", "6 VMs" into buf. */
static const char *vms(long long count, char *buf, size_t n)
{
	snprintf(buf, n, "%lld VM%s", count, count == 1 ? "" : "s");
	return buf;
}

/* A time in seconds as a person reads it: "34 s", "2 min 5 s". */
static const char *seconds(long long s, char *buf, size_t n)
{
	if (s < 100)
		snprintf(buf, n, "%lld s", s < 0 ? 0 : s);
	else
		snprintf(buf, n, "%lld min %lld s", s / 60, s % 60);
	return buf;
}

/* How many entries of list have the state state. */
static long long count_state(struct json_object *list, const char *state)
{
	long long count = 0;
	size_t i;

	for (i = 0; list && i < json_object_array_length(list); i++)
		if (strcmp(text_or(json_object_array_get_idx(list, i), "state", ""), state) == 0)
			count++;
	return count;
}

/* The length of list, which may be NULL. */
static long long length(struct json_object *list)
{
	return list ? (long long)json_object_array_length(list) : 0;
}

/* The line in buf without the spaces that pad its last column, cut at width. */
static const char *finish(char *buf, size_t width)
{
	size_t len = strlen(text_cut(buf, width));

	while (len > 0 && buf[len - 1] == ' ')
		buf[--len] = '\0';
	return buf;
}

#define PLAN_COLUMNS "%5s  %-16s %-13s %-16s %-6s %10s  %s"

const char *drain_plan_header(char *buf, size_t n)
{
	snprintf(buf, n, PLAN_COLUMNS, "ORDER", "VM", "PRIORITY", "TARGET", "METHOD", "EXPECTED",
		 "BLOCKER");
	return buf;
}

const char *drain_plan_row(struct json_object *entry, size_t order, char *buf, size_t n)
{
	char nr[24], expected[32];

	snprintf(nr, sizeof(nr), "%zu", order);
	seconds(integer(entry, "expected_s", 0), expected, sizeof(expected));
	snprintf(buf, n, PLAN_COLUMNS, nr, text_or(entry, "vm", "?"),
		 text_or(entry, "priority", "-"), text_or(entry, "target", "-"),
		 text_or(entry, "method", "-"), text_or(entry, "blocker", NULL) ? "-" : expected,
		 text_or(entry, "blocker", "-"));
	return finish(buf, 0);
}

/* "measured" or "assumed", as the boolean key of o says. */
static const char *measured(struct json_object *o, const char *key)
{
	return cd_jget_bool_or(o, key, false) ? "measured" : "assumed";
}

/*
 * Where "P at a time" of answer came from: " (95 MiB/s measured / (4 x 10
 * MiB/s dirtied by web1, measured))"; without the dirty rate (an older
 * clusterd), " (95 MiB/s, measured)".
 */
static void append_why(char *buf, size_t n, struct json_object *answer)
{
	const char *by = text_or(answer, "dirty_vm", NULL);
	double v;

	if (!text_number(answer, "dirty_mib_s", &v)) {
		text_append(buf, n, " (%lld MiB/s, %s)", integer(answer, "bandwidth_mib_s", 0),
			    measured(answer, "bandwidth_measured"));
		return;
	}
	text_append(buf, n, " (%lld MiB/s %s / (%lld x %lld MiB/s dirtied%s%s, %s))",
		    integer(answer, "bandwidth_mib_s", 0), measured(answer, "bandwidth_measured"),
		    integer(answer, "margin", 4), (long long)v, by ? " by " : "", by ? by : "",
		    measured(answer, "dirty_measured"));
}

/* "N VMs, P at a time" of a node.drain answer and, unless !with_bandwidth, where P came from. */
static void append_pace(char *buf, size_t n, struct json_object *answer, bool with_bandwidth)
{
	char count[32], eta[32];

	text_append(buf, n, "%s, %lld at a time",
		    vms(length(text_array(answer, "plan")), count, sizeof(count)),
		    integer(answer, "parallel", 1));
	if (with_bandwidth)
		append_why(buf, n, answer);
	text_append(buf, n, ", about %s", seconds(integer(answer, "eta_s", 0), eta, sizeof(eta)));
}

/* How many entries of the plan of answer have a blocker. */
static long long count_blocked(struct json_object *answer)
{
	struct json_object *plan = text_array(answer, "plan");
	long long count = 0;
	size_t i;

	for (i = 0; plan && i < json_object_array_length(plan); i++)
		if (text_or(json_object_array_get_idx(plan, i), "blocker", NULL))
			count++;
	return count;
}

const char *drain_plan_summary(struct json_object *answer, char *buf, size_t n)
{
	long long blocked = count_blocked(answer);
	char count[32];

	buf[0] = '\0';
	text_append(buf, n, "%s: ", text_or(answer, "node", "?"));
	append_pace(buf, n, answer, true);
	if (blocked || cd_jget_bool_or(answer, "blocked", false))
		text_append(buf, n, "; %s blocked", vms(blocked, count, sizeof(count)));
	return buf;
}

const char *drain_started_line(struct json_object *answer, char *buf, size_t n)
{
	long long blocked = count_blocked(answer);
	char count[32];

	buf[0] = '\0';
	text_append(buf, n, "drain %lld of %s started: ", integer(answer, "id", 0),
		    text_or(answer, "node", "?"));
	append_pace(buf, n, answer, false);
	if (blocked || cd_jget_bool_or(answer, "blocked", false))
		text_append(buf, n, "; %s can move nowhere: the drain will end blocked",
			    vms(blocked, count, sizeof(count)));
	return buf;
}

const char *drain_blocker_line(struct json_object *entry, char *buf, size_t n)
{
	const char *blocker = text_or(entry, "blocker", NULL);

	if (!blocker)
		return NULL;
	snprintf(buf, n, "%s: %s", text_or(entry, "vm", "?"), blocker);
	return buf;
}

#define VM_COLUMNS "%-16s %-6s %-8s %-10s %7s  %-16s %s"

const char *drain_status_header(char *buf, size_t n)
{
	snprintf(buf, n, VM_COLUMNS, "VM", "METHOD", "STATE", "PHASE", "PERCENT", "TARGET", "WHY");
	return buf;
}

const char *drain_vm_line(struct json_object *vm, size_t width, char *buf, size_t n)
{
	const char *state = text_or(vm, "state", "?");
	long long pct = integer(vm, "percent", -1);
	char percent[16] = "-";

	if (strcmp(state, "moving") == 0 && pct >= 0)
		snprintf(percent, sizeof(percent), "%lld%%", pct > 100 ? 100 : pct);
	snprintf(buf, n, VM_COLUMNS, text_or(vm, "vm", "?"), text_or(vm, "method", "-"), state,
		 text_or(vm, "phase", "-"), percent, text_or(vm, "target", "-"),
		 text_or(vm, "why", ""));
	return finish(buf, width);
}

const char *drain_overall_line(struct json_object *status, size_t width, char *buf, size_t n)
{
	struct json_object *list = text_array(status, "vms");
	const char *state = text_or(status, "state", "?");
	long long blocked = count_state(list, "blocked"), failed = count_state(list, "failed");
	char eta[32];
	double v;

	buf[0] = '\0';
	text_append(buf, n, "%s: ", text_or(status, "node", "?"));
	if (strcmp(state, "none") == 0) {
		text_append(buf, n, "no drain");
		return finish(buf, width);
	}
	text_append(buf, n, "drain %lld %s, %lld/%lld moved", integer(status, "id", 0), state,
		    count_state(list, "moved"), length(list));
	if (blocked)
		text_append(buf, n, ", %lld blocked", blocked);
	if (failed)
		text_append(buf, n, ", %lld failed", failed);
	/* The time left first: a narrow terminal cuts where it came from. */
	if (strcmp(state, "running") == 0) {
		text_append(buf, n, ", about %s left, %lld at a time",
			    seconds(integer(status, "eta_s", 0), eta, sizeof(eta)),
			    integer(status, "parallel", 1));
		if (text_number(status, "dirty_mib_s", &v))
			append_why(buf, n, status);
	}
	return finish(buf, width);
}

/* The entry of list whose "vm" is name, or NULL. */
static struct json_object *find_vm(struct json_object *list, const char *name)
{
	size_t i;

	for (i = 0; list && i < json_object_array_length(list); i++)
		if (strcmp(text_or(json_object_array_get_idx(list, i), "vm", ""), name) == 0)
			return json_object_array_get_idx(list, i);
	return NULL;
}

bool drain_vm_changed(struct json_object *prev, struct json_object *vm)
{
	struct json_object *was = find_vm(text_array(prev, "vms"), text_or(vm, "vm", ""));

	return !was || strcmp(text_or(was, "state", ""), text_or(vm, "state", "")) != 0 ||
	       strcmp(text_or(was, "method", ""), text_or(vm, "method", "")) != 0;
}

/* Each state of a drain, its word in the end line and its result. */
static const struct {
	const char *state, *word;
	int result;
} states[] = {
	{"drained", "done", 0},
	{"blocked", "ended blocked", CD_ERR_DRAIN_BLOCKED},
	{"cancelled", "cancelled", CD_ERR_DRAIN_CANCELLED},
	{"running", "still running", CD_ERR_TIMEOUT},
	{"none", "cleared", CD_ERR_NOT_FOUND},
};
#define N_STATES (sizeof(states) / sizeof(states[0]))

int drain_state_result(struct json_object *status)
{
	const char *state = text_or(status, "state", "");
	size_t i;

	for (i = 0; i < N_STATES; i++)
		if (strcmp(states[i].state, state) == 0)
			return states[i].result;
	return CD_ERR_PROTOCOL;
}

const char *drain_end_line(struct json_object *status, char *buf, size_t n)
{
	struct json_object *list = text_array(status, "vms");
	const char *state = text_or(status, "state", "?"), *node = text_or(status, "node", "?");
	const char *word = NULL;
	long long begun = integer(status, "begun_ms", 0), ended = integer(status, "ended_ms", 0);
	char took[32];
	size_t i;

	for (i = 0; i < N_STATES; i++)
		if (strcmp(states[i].state, state) == 0)
			word = states[i].word;
	buf[0] = '\0';
	if (strcmp(state, "none") == 0) {
		text_append(buf, n, "%s: no drain (a node resume clears it)", node);
		return buf;
	}
	text_append(buf, n, "drain %lld of %s ", integer(status, "id", 0), node);
	if (!word) {
		text_append(buf, n, "is '%s', which this clusterctl does not know", state);
		return buf;
	}
	text_append(buf, n, "%s: %lld of %lld VMs moved", word, count_state(list, "moved"),
		    length(list));
	if (begun > 0 && ended >= begun)
		text_append(buf, n, " in %s",
			    seconds((ended - begun + 500) / 1000, took, sizeof(took)));
	if (text_or(status, "why", NULL))
		text_append(buf, n, "; %s", text_or(status, "why", NULL));
	if (strcmp(state, "running") != 0)
		text_append(buf, n, "; %s stays in maintenance until clusterctl node resume %s",
			    node, node);
	return buf;
}

const char *drain_resume_line(struct json_object *answer, char *buf, size_t n)
{
	struct json_object *returning = text_array(answer, "returning");
	size_t i, count = returning ? json_object_array_length(returning) : 0;

	buf[0] = '\0';
	text_append(buf, n, "%s takes VMs again (failback %s); ", text_or(answer, "node", "?"),
		    text_or(answer, "failback", "policy"));
	if (!count)
		text_append(buf, n, "no VM moves back now");
	for (i = 0; i < count; i++)
		text_append(buf, n, "%s%s", i ? ", " : "moving back now: ",
			    json_object_get_string(json_object_array_get_idx(returning, i)));
	return buf;
}
