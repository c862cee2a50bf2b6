/*
 * clusterctl maintenance's words (see maint_text.h).
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "cli/maint_text.h"
#include "cli/text.h"
#include "lib/util.h"

/* The number member key of o, 0 if absent. */
static uint64_t num(struct json_object *o, const char *key)
{
	double v;

	return text_number(o, key, &v) && v > 0 ? (uint64_t)v : 0;
}

struct json_object *maint_nodes_arg(const char *text)
{
	struct json_object *a;
	const char *p = text;
	size_t k;

	if (strcmp(text, "all") == 0)
		return json_object_new_string("all");
	a = json_object_new_array();
	for (;;) {
		k = strcspn(p, ",");
		json_object_array_add(a, json_object_new_string_len(p, (int)k));
		if (!p[k])
			return a;
		p += k + 1;
	}
}

const char *maint_time(uint64_t wall_ms, char *buf, size_t n)
{
	if (!wall_ms || cd_format_wall_ms(wall_ms, CD_TIME_LOCAL, buf, n) < 0)
		cd_strlcpy(buf, "-", n);
	else
		text_cut(buf, 19); /* to the second */
	return buf;
}

const char *maint_duration(uint64_t ms, char *buf, size_t n)
{
	uint64_t s = ms / 1000, h = s / 3600, m = s % 3600 / 60;

	buf[0] = '\0';
	if (!ms)
		cd_strlcpy(buf, "-", n);
	if (h)
		text_append(buf, n, "%lluh", (unsigned long long)h);
	if (m)
		text_append(buf, n, "%llum", (unsigned long long)m);
	if (ms && (s % 60 || !s))
		text_append(buf, n, "%llus", (unsigned long long)(s % 60));
	return buf;
}

/* The nodes of a view: "all" or "node1,node2". */
static const char *nodes_text(struct json_object *view, char *buf, size_t n)
{
	struct json_object *a = text_array(view, "nodes");
	size_t i;

	buf[0] = '\0';
	if (!a)
		return text_or(view, "nodes", "-");
	for (i = 0; i < json_object_array_length(a); i++)
		text_append(buf, n, "%s%s", i ? "," : "",
			    json_object_get_string(json_object_array_get_idx(a, i)));
	return buf;
}

const char *maint_list_header(char *line, size_t n)
{
	snprintf(line, n, "%-16s %-24s %-24s %-16s %s", "NAME", "NODES", "SCHEDULE", "NEXT",
		 "LAST-RUN");
	return line;
}

/* The last run of a view in a few words: "running (node2: drain)", "done 2026-...". */
static const char *last_run(struct json_object *view, char *buf, size_t n)
{
	struct json_object *run = text_member(view, "run"), *nodes = text_array(run, "nodes");
	const char *outcome = text_or(run, "outcome", "-");
	uint64_t idx = num(run, "idx");
	char t[32];

	if (!run)
		snprintf(buf, n, "-");
	else if (strcmp(outcome, "running") == 0 && nodes && idx < json_object_array_length(nodes))
		snprintf(buf, n, "running (%s: %s)",
			 text_or(json_object_array_get_idx(nodes, idx), "node", "?"),
			 text_or(run, "phase", "?"));
	else
		snprintf(buf, n, "%s %s", outcome, maint_time(num(run, "ended_ms"), t, sizeof(t)));
	return buf;
}

const char *maint_list_row(struct json_object *view, char *line, size_t n)
{
	char nodes[512], next[32], last[128];

	cd_strlcpy(next, text_or(view, "next", "-"), sizeof(next));
	if (next[0] != '-' && strlen(next) > 10)
		next[10] = ' ';
	text_cut(next, 16); /* "YYYY-MM-DD HH:MM" */
	snprintf(line, n, "%-16s %-24s %-24s %-16s %s", text_or(view, "name", "?"),
		 nodes_text(view, nodes, sizeof(nodes)), text_or(view, "schedule_text", "-"), next,
		 last_run(view, last, sizeof(last)));
	return line;
}

const char *maint_run_line(struct json_object *run, char *line, size_t n)
{
	struct json_object *nodes = text_array(run, "nodes");
	const char *outcome = text_or(run, "outcome", "?");
	size_t idx = (size_t)num(run, "idx"), count = nodes ? json_object_array_length(nodes) : 0;
	char t1[32], t2[32];

	snprintf(line, n, "run %llu %s", (unsigned long long)num(run, "id"), outcome);
	if (strcmp(outcome, "running") == 0 && idx < count) {
		text_append(line, n, " since %s: %s (%zu of %zu), phase %s since %s",
			    maint_time(num(run, "began_ms"), t1, sizeof(t1)),
			    text_or(json_object_array_get_idx(nodes, idx), "node", "?"), idx + 1,
			    count, text_or(run, "phase", "?"),
			    maint_time(num(run, "phase_ms"), t2, sizeof(t2)));
		return line;
	}
	text_append(line, n, ", %s to %s", maint_time(num(run, "began_ms"), t1, sizeof(t1)),
		    maint_time(num(run, "ended_ms"), t2, sizeof(t2)));
	if (num(run, "failed"))
		text_append(line, n, ", %llu node(s) failed",
			    (unsigned long long)num(run, "failed"));
	if (*text_or(run, "why", ""))
		text_append(line, n, ": %s", text_or(run, "why", ""));
	return line;
}

const char *maint_node_line(struct json_object *run, size_t i, char *line, size_t n)
{
	struct json_object *nodes = text_array(run, "nodes");
	struct json_object *node = nodes ? json_object_array_get_idx(nodes, i) : NULL;
	const char *outcome = text_or(node, "outcome", "?");
	char what[48], t1[32], t2[32];

	if (strcmp(outcome, "active") == 0)
		snprintf(what, sizeof(what), "active: %s", text_or(run, "phase", "?"));
	else
		cd_strlcpy(what, outcome, sizeof(what));
	snprintf(line, n, "%-16s %-16s %-19s %-19s %s", text_or(node, "node", "?"), what,
		 maint_time(num(node, "began_ms"), t1, sizeof(t1)),
		 maint_time(num(node, "ended_ms"), t2, sizeof(t2)), text_or(node, "why", ""));
	return line;
}
