/*
 * node drain's words (cli/drain_progress.c): the plan table and its
 * summary, the per-VM lines of a node.drain.status reply, which VMs
 * changed between two polls, how a drain ended and its exit code, and the
 * answer of node.resume. No clusterd needed: the replies are written here.
 */
#include "config.h"

#include <string.h>

#include <clusterd/result.h>

#include "check_common.h"
#include "cli/drain_progress.h"
#include "cli/text.h"

static char line[1024];

/* The reply text as JSON; the caller puts it. */
static struct json_object *parse(const char *text)
{
	struct json_object *o = json_tokener_parse(text);

	ck_assert_msg(o != NULL, "bad JSON in the test: %s", text);
	return o;
}

/* The entry i of the array key of o. */
static struct json_object *entry(struct json_object *o, const char *key, size_t i)
{
	struct json_object *list = text_array(o, key);

	ck_assert_ptr_nonnull(list);
	return json_object_array_get_idx(list, i);
}

#define PLAN                                                                                       \
	"{\"node\": \"node2\", \"id\": 41, \"dry_run\": false, \"mode\": \"live\", "               \
	"\"parallel\": 2, \"bandwidth_mib_s\": 95, \"bandwidth_measured\": true, "                 \
	"\"margin\": 4, \"dirty_mib_s\": 10, \"dirty_measured\": false, \"dirty_vm\": null, "      \
	"\"eta_s\": 34, \"blocked\": false, \"plan\": ["                                           \
	"{\"vm\": \"web1\", \"priority\": \"high\", \"vcpus\": 1, \"memory_mb\": 512, "            \
	"\"target\": \"node3\", \"method\": \"live\", \"expected_s\": 12, \"blocker\": null}, "    \
	"{\"vm\": \"db1\", \"priority\": \"medium\", \"target\": \"node1\", "                      \
	"\"method\": \"quick\", \"expected_s\": 130, \"blocker\": null}]}"

#define BLOCKED_PLAN                                                                               \
	"{\"node\": \"node2\", \"dry_run\": true, \"mode\": \"live\", \"parallel\": 1, "           \
	"\"bandwidth_mib_s\": 50, \"bandwidth_measured\": false, \"eta_s\": 12, "                  \
	"\"blocked\": true, \"plan\": ["                                                           \
	"{\"vm\": \"web1\", \"priority\": \"high\", \"target\": \"node3\", \"method\": \"live\", " \
	"\"expected_s\": 12, \"blocker\": null}, "                                                 \
	"{\"vm\": \"big\", \"priority\": \"no-auto-start\", \"target\": null, "                    \
	"\"method\": \"cold\", \"expected_s\": 0, "                                                \
	"\"blocker\": \"fits nowhere: node1 is in maintenance\"}]}"

START_TEST(test_plan_table)
{
	struct json_object *a = parse(PLAN), *b = parse(BLOCKED_PLAN);

	ck_assert_str_eq(drain_plan_header(line, sizeof(line)),
			 "ORDER  VM               PRIORITY      TARGET           METHOD "
			 "  EXPECTED  BLOCKER");
	ck_assert_str_eq(drain_plan_row(entry(a, "plan", 0), 1, line, sizeof(line)),
			 "    1  web1             high          node3            live         "
			 "12 s  -");
	/* Long times in minutes. */
	ck_assert_str_eq(drain_plan_row(entry(a, "plan", 1), 2, line, sizeof(line)),
			 "    2  db1              medium        node1            quick  "
			 "2 min 10 s  -");
	/* A VM that can move nowhere: no target, no time, the blocker. */
	ck_assert_str_eq(drain_plan_row(entry(b, "plan", 1), 2, line, sizeof(line)),
			 "    2  big              no-auto-start -                cold            "
			 "-  fits nowhere: node1 is in maintenance");
	ck_assert_ptr_null(drain_blocker_line(entry(b, "plan", 0), line, sizeof(line)));
	ck_assert_str_eq(drain_blocker_line(entry(b, "plan", 1), line, sizeof(line)),
			 "big: fits nowhere: node1 is in maintenance");
	json_object_put(a);
	json_object_put(b);
}
END_TEST

START_TEST(test_plan_summary)
{
	struct json_object *a = parse(PLAN), *b = parse(BLOCKED_PLAN);

	ck_assert_str_eq(drain_plan_summary(a, line, sizeof(line)),
			 "node2: 2 VMs, 2 at a time (95 MiB/s measured / (4 x 10 MiB/s dirtied, "
			 "assumed)), about 34 s");
	/* Without the dirty rate (an older clusterd): the bandwidth alone. */
	ck_assert_str_eq(drain_plan_summary(b, line, sizeof(line)),
			 "node2: 2 VMs, 1 at a time (50 MiB/s, assumed), about 12 s; 1 VM blocked");
	ck_assert_str_eq(drain_started_line(a, line, sizeof(line)),
			 "drain 41 of node2 started: 2 VMs, 2 at a time, about 34 s");
	/* The VM whose measured dirty rate binds is named. */
	json_object_object_add(a, "dirty_mib_s", json_object_new_int(50));
	json_object_object_add(a, "dirty_measured", json_object_new_boolean(true));
	json_object_object_add(a, "dirty_vm", json_object_new_string("db1"));
	ck_assert_str_eq(drain_plan_summary(a, line, sizeof(line)),
			 "node2: 2 VMs, 2 at a time (95 MiB/s measured / (4 x 50 MiB/s dirtied by "
			 "db1, measured)), about 34 s");
	json_object_put(a);
	json_object_put(b);
}
END_TEST

#define STATUS(state, vms)                                                                         \
	"{\"node\": \"node2\", \"id\": 41, \"state\": \"" state "\", \"mode\": \"live\", "         \
	"\"begun_ms\": 1000000, \"ended_ms\": 0, \"why\": \"\", \"parallel\": 2, "                 \
	"\"eta_s\": 20, \"node_state\": \"maintenance\", \"vms\": [" vms "]}"

#define WEB1(state, method, phase, percent)                                                        \
	"{\"vm\": \"web1\", \"priority\": \"high\", \"state\": \"" state "\", "                    \
	"\"method\": \"" method "\", \"tries\": 1, \"phase\": \"" phase "\", "                     \
	"\"percent\": " percent ", \"target\": \"node3\", \"why\": \"\"}"

#define DB1(state, why)                                                                            \
	"{\"vm\": \"db1\", \"priority\": \"low\", \"state\": \"" state "\", "                      \
	"\"method\": \"cold\", \"tries\": 3, \"phase\": \"\", \"percent\": -1, "                   \
	"\"target\": null, \"why\": \"" why "\"}"

START_TEST(test_vm_lines)
{
	struct json_object *st = parse(STATUS(
		"running", WEB1("moving", "live", "copying", "37") ", " DB1(
				   "blocked", "cold-restart=never: the ladder stops before cold")));

	ck_assert_str_eq(
		drain_status_header(line, sizeof(line)),
		"VM               METHOD STATE    PHASE      PERCENT  TARGET           WHY");
	ck_assert_str_eq(drain_vm_line(entry(st, "vms", 0), 0, line, sizeof(line)),
			 "web1             live   moving   copying        37%  node3");
	ck_assert_str_eq(drain_vm_line(entry(st, "vms", 1), 0, line, sizeof(line)),
			 "db1              cold   blocked  -                -  -                "
			 "cold-restart=never: the ladder stops before cold");
	/* Cut to the terminal's width. */
	ck_assert_str_eq(drain_vm_line(entry(st, "vms", 1), 31, line, sizeof(line)),
			 "db1              cold   blocked");
	ck_assert_str_eq(drain_overall_line(st, 0, line, sizeof(line)),
			 "node2: drain 41 running, 0/2 moved, 1 blocked, about 20 s left, 2 at a "
			 "time");
	/* Where "2 at a time" came from, after the time left (a narrow terminal cuts it). */
	json_object_object_add(st, "bandwidth_mib_s", json_object_new_int(400));
	json_object_object_add(st, "bandwidth_measured", json_object_new_boolean(true));
	json_object_object_add(st, "dirty_mib_s", json_object_new_int(50));
	json_object_object_add(st, "dirty_measured", json_object_new_boolean(true));
	json_object_object_add(st, "dirty_vm", json_object_new_string("db1"));
	ck_assert_str_eq(drain_overall_line(st, 0, line, sizeof(line)),
			 "node2: drain 41 running, 0/2 moved, 1 blocked, about 20 s left, 2 at a "
			 "time (400 MiB/s measured / (4 x 50 MiB/s dirtied by db1, measured))");
	ck_assert_str_eq(drain_overall_line(st, 64, line, sizeof(line)),
			 "node2: drain 41 running, 0/2 moved, 1 blocked, about 20 s left,");
	json_object_put(st);
}
END_TEST

START_TEST(test_vm_line_percent)
{
	struct json_object *st =
		parse(STATUS("running", WEB1("moving", "quick", "saving",
					     "-1") ", " WEB1("moved", "live", "", "100")));

	/* Unknown while moving, and not shown once moved. */
	ck_assert_str_eq(drain_vm_line(entry(st, "vms", 0), 0, line, sizeof(line)),
			 "web1             quick  moving   saving           -  node3");
	ck_assert_str_eq(drain_vm_line(entry(st, "vms", 1), 0, line, sizeof(line)),
			 "web1             live   moved    -                -  node3");
	json_object_put(st);
}
END_TEST

/*
 * clusterctl fills in the -1 of clusterd's answer from vm.move.status: the
 * line shows it, and a percent filled in is no news off a terminal.
 */
START_TEST(test_vm_line_percent_filled)
{
	struct json_object *before =
		parse(STATUS("running", WEB1("moving", "live", "copying", "-1")));
	struct json_object *st = parse(STATUS("running", WEB1("moving", "live", "copying", "-1")));

	json_object_object_add(entry(st, "vms", 0), "percent", json_object_new_int(42));
	ck_assert_str_eq(drain_vm_line(entry(st, "vms", 0), 0, line, sizeof(line)),
			 "web1             live   moving   copying        42%  node3");
	ck_assert(!drain_vm_changed(before, entry(st, "vms", 0)));
	json_object_put(before);
	json_object_put(st);
}
END_TEST

/* Which VM lines are news: a new VM, or its state or method changed; not its percent. */
START_TEST(test_changed)
{
	struct json_object *a = parse(
		STATUS("running", WEB1("moving", "live", "copying", "10") ", " DB1("waiting", "")));
	struct json_object *b = parse(
		STATUS("running", WEB1("moving", "live", "copying", "80") ", " DB1("waiting", "")));
	struct json_object *c = parse(
		STATUS("running", WEB1("moving", "quick", "saving", "5") ", " DB1("moving", "")));
	struct json_object *d = parse(STATUS("drained", WEB1("moved", "quick", "", "-1")));

	ck_assert(drain_vm_changed(NULL, entry(a, "vms", 0)));
	ck_assert(drain_vm_changed(NULL, entry(a, "vms", 1)));
	ck_assert(!drain_vm_changed(a, entry(b, "vms", 0)));
	ck_assert(!drain_vm_changed(a, entry(b, "vms", 1)));
	/* Up the ladder: live to quick. */
	ck_assert(drain_vm_changed(b, entry(c, "vms", 0)));
	ck_assert(drain_vm_changed(b, entry(c, "vms", 1)));
	ck_assert(drain_vm_changed(c, entry(d, "vms", 0)));
	/* A VM the poll before did not list. */
	ck_assert(drain_vm_changed(d, entry(c, "vms", 1)));
	json_object_put(a);
	json_object_put(b);
	json_object_put(c);
	json_object_put(d);
}
END_TEST

/* The end line and the exit code of a status text. */
static int ended(const char *text)
{
	struct json_object *st = parse(text);
	int rc;

	drain_end_line(st, line, sizeof(line));
	rc = cd_exit_code(drain_state_result(st));
	json_object_put(st);
	return rc;
}

START_TEST(test_end)
{
	ck_assert_int_eq(ended("{\"node\": \"node2\", \"id\": 41, \"state\": \"drained\", "
			       "\"begun_ms\": 1000000, \"ended_ms\": 1041400, \"why\": \"\", "
			       "\"vms\": [" WEB1("moved", "live", "", "100") "]}"),
			 0);
	ck_assert_str_eq(line, "drain 41 of node2 done: 1 of 1 VMs moved in 41 s; node2 stays in "
			       "maintenance until clusterctl node resume node2");
	ck_assert_int_eq(ended("{\"node\": \"node2\", \"id\": 41, \"state\": \"blocked\", "
			       "\"begun_ms\": 1000000, \"ended_ms\": 1130000, "
			       "\"why\": \"db1 can move nowhere\", \"vms\": [" WEB1(
				       "moved", "live", "", "100") ", " DB1("blocked", "") "]}"),
			 14);
	ck_assert_str_eq(line, "drain 41 of node2 ended blocked: 1 of 2 VMs moved in 2 min 10 s; "
			       "db1 can move nowhere; node2 stays in maintenance until clusterctl "
			       "node resume node2");
	ck_assert_int_eq(ended("{\"node\": \"node2\", \"id\": 41, \"state\": \"cancelled\", "
			       "\"begun_ms\": 1000000, \"ended_ms\": 0, \"why\": \"cancelled by "
			       "root\", \"vms\": []}"),
			 15);
	ck_assert_str_eq(line, "drain 41 of node2 cancelled: 0 of 0 VMs moved; cancelled by root; "
			       "node2 stays in maintenance until clusterctl node resume node2");
	/* A wait that stopped while it runs gave up waiting. */
	ck_assert_int_eq(ended(STATUS("running", WEB1("moving", "live", "copying", "3"))), 7);
	ck_assert_str_eq(line, "drain 41 of node2 still running: 0 of 1 VMs moved");
	/* The record was cleared (node resume) under the wait. */
	ck_assert_int_eq(ended("{\"node\": \"node2\", \"state\": \"none\", \"vms\": []}"), 4);
	ck_assert_str_eq(line, "node2: no drain (a node resume clears it)");
	/* A state of a newer clusterd is a failure, not a success. */
	ck_assert_int_eq(ended("{\"node\": \"node2\", \"id\": 7, \"state\": \"teleported\"}"),
			 CD_EXIT_FAILURE);
	ck_assert_str_eq(line, "drain 7 of node2 is 'teleported', which this clusterctl does not "
			       "know");
}
END_TEST

START_TEST(test_no_drain)
{
	struct json_object *st = parse("{\"node\": \"node2\", \"id\": 0, \"state\": \"none\", "
				       "\"vms\": []}");

	ck_assert_str_eq(drain_overall_line(st, 0, line, sizeof(line)), "node2: no drain");
	json_object_put(st);
	st = parse(STATUS("cancelled", DB1("waiting", "")));
	ck_assert_str_eq(drain_overall_line(st, 0, line, sizeof(line)),
			 "node2: drain 41 cancelled, 0/1 moved");
	json_object_put(st);
}
END_TEST

START_TEST(test_resume)
{
	struct json_object *a = parse("{\"node\": \"node2\", \"failback\": \"now\", "
				      "\"returning\": [\"web1\", \"db1\"]}");
	struct json_object *b = parse("{\"node\": \"node2\", \"failback\": \"never\", "
				      "\"returning\": []}");

	ck_assert_str_eq(drain_resume_line(a, line, sizeof(line)),
			 "node2 takes VMs again (failback now); moving back now: web1, db1");
	ck_assert_str_eq(drain_resume_line(b, line, sizeof(line)),
			 "node2 takes VMs again (failback never); no VM moves back now");
	json_object_put(a);
	json_object_put(b);
}
END_TEST

START_TEST(test_exit_codes)
{
	ck_assert_int_eq(CD_EXIT_DRAIN_BLOCKED, 14);
	ck_assert_int_eq(CD_EXIT_DRAIN_CANCELLED, 15);
	ck_assert_int_eq(cd_exit_code(CD_ERR_DRAIN_BLOCKED), CD_EXIT_DRAIN_BLOCKED);
	ck_assert_int_eq(cd_exit_code(CD_ERR_DRAIN_CANCELLED), CD_EXIT_DRAIN_CANCELLED);
	ck_assert_str_eq(cd_strerror(CD_ERR_DRAIN_BLOCKED),
			 "the drain ended blocked: some VM can move nowhere");
	ck_assert_str_eq(cd_strerror(CD_ERR_DRAIN_CANCELLED), "the drain was cancelled");
}
END_TEST

int main(void)
{
	Suite *s = suite_create("drain_progress");

	add_tcase(s, test_plan_table);
	add_tcase(s, test_plan_summary);
	add_tcase(s, test_vm_lines);
	add_tcase(s, test_vm_line_percent);
	add_tcase(s, test_vm_line_percent_filled);
	add_tcase(s, test_changed);
	add_tcase(s, test_end);
	add_tcase(s, test_no_drain);
	add_tcase(s, test_resume);
	add_tcase(s, test_exit_codes);
	return run_suite(s);
}
