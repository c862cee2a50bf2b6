/*
 * clusterctl maintenance's words (cli/maint_text.c): --nodes as clusterd
 * takes it, times and durations, the list row, a run's line and its nodes'
 * lines. No clusterd needed: the views are written here. Times in UTC.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "check_common.h"
#include "cli/maint_text.h"

static char line[1024];

/* 2026-12-24 02:00:00 UTC */
#define T0 1798077600000ull

static struct json_object *parse(const char *text)
{
	struct json_object *o = json_tokener_parse(text);

	ck_assert_msg(o != NULL, "bad JSON in the test: %s", text);
	return o;
}

#define RUN_NODES                                                                                  \
	"\"nodes\": [{\"node\": \"node1\", \"outcome\": \"done\", \"began_ms\": 1798077600000, "   \
	"\"ended_ms\": 1798077660000, \"why\": \"\"}, {\"node\": \"node2\", \"outcome\": "         \
	"\"active\", \"began_ms\": 1798077660000, \"ended_ms\": 0, \"why\": \"\"}, {\"node\": "    \
	"\"node3\", \"outcome\": \"pending\", \"began_ms\": 0, \"ended_ms\": 0, \"why\": \"\"}]"
#define RUNNING                                                                                    \
	"{\"id\": 12, \"outcome\": \"running\", \"began_ms\": 1798077600000, \"ended_ms\": 0, "    \
	"\"idx\": 1, \"phase\": \"drain\", \"phase_ms\": 1798077670000, \"failed\": 0, "           \
	"\"why\": \"\", " RUN_NODES "}"

START_TEST(test_nodes_arg)
{
	struct json_object *a = maint_nodes_arg("all");

	ck_assert_str_eq(json_object_get_string(a), "all");
	json_object_put(a);
	a = maint_nodes_arg("node1,node2,node3");
	ck_assert(json_object_is_type(a, json_type_array));
	ck_assert_uint_eq(json_object_array_length(a), 3);
	ck_assert_str_eq(json_object_get_string(json_object_array_get_idx(a, 2)), "node3");
	json_object_put(a);
	a = maint_nodes_arg("node1");
	ck_assert_uint_eq(json_object_array_length(a), 1);
	json_object_put(a);
}
END_TEST

START_TEST(test_times)
{
	char buf[32];

	ck_assert_str_eq(maint_time(T0, buf, sizeof(buf)), "2026-12-24 02:00:00");
	ck_assert_str_eq(maint_time(0, buf, sizeof(buf)), "-");
	ck_assert_str_eq(maint_duration(4 * 3600000ull, buf, sizeof(buf)), "4h");
	ck_assert_str_eq(maint_duration(90 * 60000ull, buf, sizeof(buf)), "1h30m");
	ck_assert_str_eq(maint_duration(45000, buf, sizeof(buf)), "45s");
	ck_assert_str_eq(maint_duration(0, buf, sizeof(buf)), "-");
}
END_TEST

START_TEST(test_list_row)
{
	struct json_object *v = parse(
		"{\"name\": \"weekly\", \"nodes\": [\"node1\", \"node2\"], \"schedule_text\": "
		"\"every sun 02:00\", \"next\": \"2026-12-27T02:00:00+00:00\", \"run\": {\"id\": 3, "
		"\"outcome\": \"failed\", \"ended_ms\": 1798077600000, \"idx\": 1, " RUN_NODES
		"}}");

	ck_assert_ptr_nonnull(strstr(maint_list_header(line, sizeof(line)), "LAST-RUN"));
	maint_list_row(v, line, sizeof(line));
	ck_assert_msg(strstr(line, "weekly") && strstr(line, "node1,node2") &&
			      strstr(line, "every sun 02:00") &&
			      strstr(line, "2026-12-27 02:00 ") &&
			      strstr(line, "failed 2026-12-24 02:00:00"),
		      "%s", line);
	json_object_put(v);
	v = parse("{\"name\": \"once\", \"nodes\": \"all\", \"schedule_text\": \"at x\", "
		  "\"next\": null, \"run\": " RUNNING "}");
	maint_list_row(v, line, sizeof(line));
	ck_assert_msg(strstr(line, "all") && strstr(line, "running (node2: drain)"), "%s", line);
	json_object_put(v);
	v = parse("{\"name\": \"new\", \"nodes\": \"all\", \"schedule_text\": \"at x\", "
		  "\"next\": null}");
	maint_list_row(v, line, sizeof(line));
	ck_assert_msg(strstr(line, "new") && line[strlen(line) - 1] == '-', "%s", line);
	json_object_put(v);
}
END_TEST

START_TEST(test_run_lines)
{
	struct json_object *r = parse(RUNNING);

	ck_assert_str_eq(maint_run_line(r, line, sizeof(line)),
			 "run 12 running since 2026-12-24 02:00:00: node2 (2 of 3), phase drain "
			 "since 2026-12-24 02:01:10");
	maint_node_line(r, 1, line, sizeof(line));
	ck_assert_msg(strncmp(line, "node2", 5) == 0 && strstr(line, "active: drain"), "%s", line);
	maint_node_line(r, 0, line, sizeof(line));
	ck_assert_msg(strstr(line, "done") && strstr(line, "2026-12-24 02:01:00"), "%s", line);
	json_object_put(r);
	r = parse("{\"id\": 9, \"outcome\": \"window\", \"began_ms\": 1798077600000, "
		  "\"ended_ms\": 1798092000000, \"failed\": 1, \"why\": \"the window ended\", "
		  "\"nodes\": []}");
	ck_assert_str_eq(maint_run_line(r, line, sizeof(line)),
			 "run 9 window, 2026-12-24 02:00:00 to 2026-12-24 06:00:00, 1 node(s) "
			 "failed: the window ended");
	json_object_put(r);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("maint_text");

	setenv("TZ", "UTC", 1);
	tzset();
	add_tcase(s, test_nodes_arg);
	add_tcase(s, test_times);
	add_tcase(s, test_list_row);
	add_tcase(s, test_run_lines);
	return run_suite(s);
}
