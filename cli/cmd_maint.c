/*
 * clusterctl maintenance: scheduled rolling maintenance. add, list, show,
 * run NAME now, cancel and remove; clusterd parses the schedule's words
 * and the coordinator carries the runs out. The words are maint_text.c's.
 */
#include "config.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <clusterd/client.h>
#include <clusterd/result.h>

#include "cli/clusterctl.h"
#include "cli/maint_text.h"
#include "cli/text.h"

/* "maintenance NAME: every sun 02:00, next 2026-12-24T02:00:00+01:00" */
static void say_view(struct json_object *view, const char *what)
{
	printf("maintenance %s%s: %s, next %s\n", text_or(view, "name", "?"), what,
	       text_or(view, "schedule_text", "?"), text_or(view, "next", "none planned"));
}

static void show_added(struct json_object *view)
{
	say_view(view, " added");
}

/*
 * maintenance add NAME --nodes LIST (--at TIME | --every SCHEDULE) [--mode M]
 * [--pre CMD] [--post CMD] [--max-failed-nodes K] [--window DURATION]: the
 * parser checked the shapes, clusterd the rest.
 */
int cmd_maint_add(struct cd_client *c, char **argv, int argc, const struct ctl_opts *o)
{
	struct json_object *a = args1("name", argv[0]);
	static const struct {
		const char *key;
		size_t member;
	} texts[] = {
		{"at", offsetof(struct ctl_opts, at)},
		{"every", offsetof(struct ctl_opts, every)},
		{"mode", offsetof(struct ctl_opts, mode)},
		{"pre", offsetof(struct ctl_opts, pre)},
		{"post", offsetof(struct ctl_opts, post)},
		{"window", offsetof(struct ctl_opts, window)},
	};
	size_t i;

	json_object_object_add(a, "nodes", maint_nodes_arg(o->nodes));
	for (i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		const char *v = *(const char *const *)((const char *)o + texts[i].member);

		if (v)
			json_object_object_add(a, texts[i].key, json_object_new_string(v));
	}
	if (o->max_failed)
		json_object_object_add(a, "max_failed", json_object_new_int(atoi(o->max_failed)));
	return simple(c, "maintenance.add", a, show_added);
}

static void show_list(struct json_object *reply)
{
	struct json_object *a = text_array(reply, "maintenance");
	char line[1024];
	size_t i;

	printf("%s\n", maint_list_header(line, sizeof(line)));
	for (i = 0; a && i < json_object_array_length(a); i++)
		printf("%s\n", maint_list_row(json_object_array_get_idx(a, i), line, sizeof(line)));
}

int cmd_maint_list(struct cd_client *c, char **argv, int argc, const struct ctl_opts *o)
{
	return simple(c, "maintenance.list", NULL, show_list);
}

/* A run: its line, then a line per node (all of them, or only the failed ones). */
static void show_run(struct json_object *run, const char *indent, int only_failed)
{
	struct json_object *nodes = text_array(run, "nodes");
	char line[1024];
	size_t i;

	printf("%s%s\n", indent, maint_run_line(run, line, sizeof(line)));
	for (i = 0; nodes && i < json_object_array_length(nodes); i++) {
		if (only_failed &&
		    strcmp(text_or(json_object_array_get_idx(nodes, i), "outcome", ""), "failed"))
			continue;
		printf("%s  %s\n", indent, maint_node_line(run, i, line, sizeof(line)));
	}
}

static void show_view(struct json_object *view)
{
	struct json_object *run = text_member(view, "run"), *hist = text_array(view, "history");
	struct json_object *nodes = text_array(view, "nodes");
	char window[32];
	size_t i;

	say_view(view, "");
	printf("nodes: ");
	for (i = 0; nodes && i < json_object_array_length(nodes); i++)
		printf("%s%s", i ? "," : "",
		       json_object_get_string(json_object_array_get_idx(nodes, i)));
	printf("%s; mode %s; stops after %lld failed node(s); window %s\n",
	       nodes ? "" : text_or(view, "nodes", "?"), text_or(view, "mode", "?"),
	       (long long)jint(view, "max_failed"),
	       maint_duration((uint64_t)jint(view, "window_ms"), window, sizeof(window)));
	printf("pre: %s\npost: %s\n", text_or(view, "pre", "(none)"),
	       text_or(view, "post", "(none)"));
	if (!run) {
		printf("never ran\n");
		return;
	}
	show_run(run, "", 0);
	if (strcmp(text_or(run, "hook_state", "none"), "none") != 0)
		printf("hook: %s%s, rc %lld%s%s\n", text_or(run, "phase", "?"),
		       strcmp(text_or(run, "hook_state", ""), "done") ? " started" : " done",
		       (long long)jint(run, "hook_rc"),
		       *text_or(run, "hook_output", "") ? "; output: " : "",
		       text_or(run, "hook_output", ""));
	if (!hist)
		return;
	printf("history (newest first):\n");
	for (i = 0; i < json_object_array_length(hist); i++)
		show_run(json_object_array_get_idx(hist, i), "  ", 1);
}

int cmd_maint_show(struct cd_client *c, char **argv, int argc, const struct ctl_opts *o)
{
	return simple(c, "maintenance.show", args1("name", argv[0]), show_view);
}

static void show_run_now(struct json_object *view)
{
	printf("maintenance %s runs now: the coordinator starts it (clusterctl maintenance show "
	       "%s)\n",
	       text_or(view, "name", "?"), text_or(view, "name", "?"));
}

/* maintenance run NAME now: the parser checked the word. */
int cmd_maint_run(struct cd_client *c, char **argv, int argc, const struct ctl_opts *o)
{
	return simple(c, "maintenance.run", args1("name", argv[0]), show_run_now);
}

static void show_cancelled(struct json_object *view)
{
	struct json_object *run = text_member(view, "run"), *nodes = text_array(run, "nodes");
	size_t i;

	printf("run %lld of maintenance %s cancelled\n", (long long)jint(run, "id"),
	       text_or(view, "name", "?"));
	for (i = 0; nodes && i < json_object_array_length(nodes); i++) {
		struct json_object *n = json_object_array_get_idx(nodes, i);

		if (strstr(text_or(n, "why", ""), "left as it was"))
			printf("%s is left as it was: clusterctl node resume %s when it is ready\n",
			       text_or(n, "node", "?"), text_or(n, "node", "?"));
	}
}

int cmd_maint_cancel(struct cd_client *c, char **argv, int argc, const struct ctl_opts *o)
{
	return simple(c, "maintenance.cancel", args1("name", argv[0]), show_cancelled);
}

static void show_removed(struct json_object *reply)
{
	printf("maintenance %s removed\n", text_or(reply, "name", "?"));
}

int cmd_maint_remove(struct cd_client *c, char **argv, int argc, const struct ctl_opts *o)
{
	return simple(c, "maintenance.remove", args1("name", argv[0]), show_removed);
}
