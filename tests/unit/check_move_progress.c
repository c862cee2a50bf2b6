/*
 * vm move's words (cli/move_progress.c): the progress line from a
 * vm.move.status reply, the line that ends a move, and the exit code of
 * each outcome. No clusterd needed: the replies are written here.
 */
#include "config.h"

#include <string.h>

#include <clusterd/result.h>

#include "check_common.h"
#include "cli/move_progress.h"

static char line[512];

/* The reply text as JSON; the caller puts it. */
static struct json_object *parse(const char *text)
{
	struct json_object *o = json_tokener_parse(text);

	ck_assert_msg(o != NULL, "bad JSON in the test: %s", text);
	return o;
}

/* The progress line of the status text, cut at width. */
static const char *progress(const char *text, size_t width)
{
	struct json_object *st = parse(text);

	move_progress_line(st, width, line, sizeof(line));
	json_object_put(st);
	return line;
}

#define MOVING(phase, progress)                                                                    \
	"{\"vm\": \"web1\", \"state\": \"migrating\", \"node\": \"node1\", "                       \
	"\"move\": {\"source\": \"node1\", \"target\": \"node3\", \"mode\": \"live\", "            \
	"\"phase\": \"" phase "\", \"action_id\": 42, \"elapsed_ms\": 1200}, "                     \
	"\"progress\": " progress ", \"last_move\": null}"

START_TEST(test_no_progress_yet)
{
	ck_assert_str_eq(progress(MOVING("sharing", "null"), 0), "web1 node1 -> node3  sharing");
	ck_assert_str_eq(progress(MOVING("receiving", "{}"), 0), "web1 node1 -> node3  receiving");
	/* Accepted, not begun yet (or ended, its last move not written yet). */
	ck_assert_str_eq(progress("{\"vm\": \"web1\", \"state\": \"running\", \"move\": null}", 0),
			 "web1  running");
	/* What could not be read is said. */
	ck_assert_str_eq(progress("{\"vm\": \"web1\", \"move\": {\"source\": \"node1\", "
				  "\"target\": \"node3\", \"phase\": \"copying\"}, "
				  "\"progress\": null, \"progress_error\": \"libvirt timed out\"}",
				  0),
			 "web1 node1 -> node3  copying  (no statistics: libvirt timed out)");
}
END_TEST

START_TEST(test_copying)
{
	ck_assert_str_eq(
		progress(MOVING("copying", "{\"type\": \"unbounded\", \"percent\": 56, "
					   "\"dirty_bytes_per_s\": 12897485, \"downtime_ms\": 45, "
					   "\"time_remaining_ms\": 2500, \"memory_total\": 1000}"),
			 0),
		"web1 node1 -> node3  copying  [#########.......] 56%  dirty 12.3 MiB/s  "
		"downtime ~45 ms  left 3 s");
	/* Without libvirt's percent: the memory sent of its total, rounded down. */
	ck_assert_str_eq(
		progress(MOVING("copying", "{\"memory_total\": 1000, \"memory_processed\": 999}"),
			 0),
		"web1 node1 -> node3  copying  [################] 99%");
	ck_assert_str_eq(progress(MOVING("copying", "{\"percent\": 0}"), 0),
			 "web1 node1 -> node3  copying  [................] 0%");
	ck_assert_str_eq(progress(MOVING("settling", "{\"percent\": 100.0}"), 0),
			 "web1 node1 -> node3  settling  [################] 100%");
	/* Cut to the terminal's width. */
	ck_assert_str_eq(progress(MOVING("copying", "{\"percent\": 56}"), 24),
			 "web1 node1 -> node3  cop");
}
END_TEST

START_TEST(test_unknown_remaining_time)
{
	ck_assert_str_eq(
		progress(MOVING("copying", "{\"percent\": 12.5, "
					   "\"dirty_bytes_per_s\": 0, \"downtime_ms\": 300}"),
			 0),
		"web1 node1 -> node3  copying  [##..............] 12%  dirty 0.0 MiB/s  "
		"downtime ~300 ms");
	/* Statistics without a percent or a total: no bar. */
	ck_assert_str_eq(progress(MOVING("copying", "{\"time_remaining_ms\": 1}"), 0),
			 "web1 node1 -> node3  copying  left 1 s");
}
END_TEST

#define QUICK(phase, progress)                                                                     \
	"{\"vm\": \"web1\", \"state\": \"migrating\", \"node\": \"node1\", "                       \
	"\"move\": {\"source\": \"node1\", \"target\": \"node3\", \"mode\": \"quick\", "           \
	"\"phase\": \"" phase "\", \"action_id\": 42, \"state_volume\": \"vol1\", "                \
	"\"state_file\": \"web1.vmstate\"}, \"progress\": " progress ", \"last_move\": null}"

/* A quick move: the MiB saved of its memory and restored, from its state file. */
START_TEST(test_quick)
{
	ck_assert_str_eq(
		progress(QUICK("saving", "{\"type\": \"quick\", \"saved_bytes\": "
					 "536870912, \"restored_bytes\": 268435456, "
					 "\"memory_bytes\": 2147483648, \"complete\": false}"),
			 0),
		"web1 node1 -> node3  saving  saved 512/2048 MiB  restored 256 MiB");
	/* The image ends shorter than the memory: complete says so. */
	ck_assert_str_eq(progress(QUICK("restoring", "{\"type\": \"quick\", \"saved_bytes\": "
						     "1992294400, \"restored_bytes\": 1992294400, "
						     "\"memory_bytes\": 2147483648, "
						     "\"complete\": true}"),
				  0),
			 "web1 node1 -> node3  restoring  saved 1900/2048 MiB, complete  "
			 "restored 1900 MiB");
	ck_assert_str_eq(
		progress(QUICK("saving", "{\"type\": \"quick\", \"saved_bytes\": 0, "
					 "\"restored_bytes\": 0, \"memory_bytes\": 1048576, "
					 "\"complete\": false}"),
			 0),
		"web1 node1 -> node3  saving  saved 0/1 MiB  restored 0 MiB");
	/* The state file not readable (yet): the phase alone. */
	ck_assert_str_eq(progress(QUICK("saving", "null"), 0), "web1 node1 -> node3  saving");
	ck_assert_str_eq(progress(QUICK("resuming", "{\"type\": \"quick\"}"), 0),
			 "web1 node1 -> node3  resuming");
	/* A live move's figures are not a quick move's. */
	ck_assert_str_eq(progress(QUICK("saving", "{\"type\": \"quick\", \"percent\": 50, "
						  "\"saved_bytes\": 1048576}"),
				  0),
			 "web1 node1 -> node3  saving  saved 1 MiB");
	ck_assert_str_eq(progress(QUICK("saving", "{\"type\": \"quick\", \"saved_bytes\": "
						  "536870912, \"memory_bytes\": 2147483648}"),
				  30),
			 "web1 node1 -> node3  saving  s");
}
END_TEST

/* A quick move's change: the phase, or a percent more saved or restored. */
START_TEST(test_quick_change_key)
{
	const char *texts[] = {
		QUICK("saving", "{\"type\": \"quick\", \"saved_bytes\": 1000, "
				"\"restored_bytes\": 0, \"memory_bytes\": 100000}"),
		QUICK("saving", "{\"type\": \"quick\", \"saved_bytes\": 1500, "
				"\"restored_bytes\": 0, \"memory_bytes\": 100000}"),
		QUICK("saving", "{\"type\": \"quick\", \"saved_bytes\": 2000, "
				"\"restored_bytes\": 0, \"memory_bytes\": 100000}"),
		QUICK("saving", "{\"type\": \"quick\", \"saved_bytes\": 2000, "
				"\"restored_bytes\": 1000, \"memory_bytes\": 100000}"),
		QUICK("restoring", "{\"type\": \"quick\", \"saved_bytes\": 2000, "
				   "\"restored_bytes\": 1000, \"memory_bytes\": 100000}"),
	};
	char keys[5][128];
	size_t i;

	for (i = 0; i < 5; i++) {
		struct json_object *st = parse(texts[i]);

		move_change_key(st, keys[i], sizeof(keys[i]));
		json_object_put(st);
	}
	ck_assert_str_eq(keys[0], keys[1]);
	ck_assert_str_ne(keys[1], keys[2]);
	ck_assert_str_ne(keys[2], keys[3]);
	ck_assert_str_ne(keys[3], keys[4]);
}
END_TEST

/* A change is what a wait reports: the phase or the percent, not the clock. */
START_TEST(test_change_key)
{
	struct json_object *a =
		parse(MOVING("copying", "{\"percent\": 56, \"time_remaining_ms\": 9}"));
	struct json_object *b =
		parse(MOVING("copying", "{\"percent\": 56, \"time_remaining_ms\": 1}"));
	struct json_object *d = parse(MOVING("copying", "{\"percent\": 57}"));
	struct json_object *e = parse(MOVING("settling", "{\"percent\": 57}"));
	char ka[128], kb[128], kd[128], ke[128];

	move_change_key(a, ka, sizeof(ka));
	move_change_key(b, kb, sizeof(kb));
	move_change_key(d, kd, sizeof(kd));
	move_change_key(e, ke, sizeof(ke));
	ck_assert_str_eq(ka, kb);
	ck_assert_str_ne(kb, kd);
	ck_assert_str_ne(kd, ke);
	json_object_put(a);
	json_object_put(b);
	json_object_put(d);
	json_object_put(e);
}
END_TEST

/* The percent of the move of the status text (move_percent()). */
static int percent(const char *text)
{
	struct json_object *st = parse(text);
	int pct = move_percent(st);

	json_object_put(st);
	return pct;
}

START_TEST(test_percent)
{
	/* A live move: libvirt's percent, else the memory sent of its total. */
	ck_assert_int_eq(percent(MOVING("copying", "{\"percent\": 42}")), 42);
	ck_assert_int_eq(percent(MOVING("copying", "{\"percent\": 42.9}")), 42);
	ck_assert_int_eq(percent(MOVING("copying", "{\"memory_processed\": 420, "
						   "\"memory_total\": 1000}")),
			 42);
	ck_assert_int_eq(percent(MOVING("copying", "{\"memory_processed\": 420, "
						   "\"memory_total\": 0}")),
			 -1);
	/* A quick move: the percent saved, until the target restores. */
	ck_assert_int_eq(percent(QUICK("saving", "{\"type\": \"quick\", \"saved_bytes\": "
						 "536870912, \"restored_bytes\": 0, "
						 "\"memory_bytes\": 2147483648}")),
			 25);
	ck_assert_int_eq(percent(QUICK("restoring", "{\"type\": \"quick\", \"saved_bytes\": "
						    "2147483648, \"restored_bytes\": 1610612736, "
						    "\"memory_bytes\": 2147483648}")),
			 75);
	ck_assert_int_eq(percent(QUICK("saving", "{\"type\": \"quick\", \"saved_bytes\": "
						 "1048576}")),
			 -1);
	/* No progress: not copying yet, statistics not readable, or no move. */
	ck_assert_int_eq(percent(MOVING("sharing", "null")), -1);
	ck_assert_int_eq(percent(MOVING("receiving", "{}")), -1);
	ck_assert_int_eq(percent(QUICK("saving", "null")), -1);
	ck_assert_int_eq(percent("{\"vm\": \"web1\", \"state\": \"running\", \"move\": null}"), -1);
}
END_TEST

/* The move ended when the last move is this one. */
START_TEST(test_ended)
{
	struct json_object *moving = parse(MOVING("copying", "null"));
	struct json_object *done = parse("{\"vm\": \"web1\", \"move\": null, \"last_move\": "
					 "{\"action_id\": 42, \"outcome\": \"moved\"}}");

	ck_assert_ptr_nonnull(move_of(moving));
	ck_assert_ptr_null(move_ended(moving, 42));
	ck_assert_ptr_null(move_of(done));
	ck_assert_ptr_nonnull(move_ended(done, 42));
	ck_assert_ptr_null(move_ended(done, 41));
	json_object_put(moving);
	json_object_put(done);
}
END_TEST

/* The end line and the exit code of last_move's text. */
static int ended(const char *text)
{
	struct json_object *last = parse(text);
	int rc;

	move_end_line("web1", last, line, sizeof(line));
	rc = cd_exit_code(move_outcome_result(last));
	json_object_put(last);
	return rc;
}

START_TEST(test_outcomes)
{
	ck_assert_int_eq(ended("{\"action_id\": 42, \"outcome\": \"moved\", \"source\": \"node1\", "
			       "\"target\": \"node3\", \"mode\": \"live\", \"error\": null, "
			       "\"downtime_ms\": 38, \"total_ms\": 4230}"),
			 0);
	ck_assert_str_eq(line, "web1: moved to node3 in 4.2 s (libvirt downtime 38 ms)");
	ck_assert_int_eq(ended("{\"outcome\": \"moved\", \"source\": \"node1\", "
			       "\"target\": \"node3\", \"mode\": \"cold\", \"total_ms\": 9000}"),
			 0);
	ck_assert_str_eq(
		line, "web1: restarted on node3 (a cold move: shut down on node1, started there)");

	ck_assert_int_eq(ended("{\"outcome\": \"stayed\", \"source\": \"node1\", \"target\": "
			       "\"node3\", \"error\": \"migration timed out\"}"),
			 11);
	ck_assert_str_eq(line, "web1: the move failed: migration timed out; it runs on node1");
	ck_assert_int_eq(ended("{\"outcome\": \"stayed\", \"source\": \"node1\", \"error\": null}"),
			 11);
	ck_assert_str_eq(line, "web1: the move did not happen; it runs on node1");

	ck_assert_int_eq(ended("{\"outcome\": \"cancelled\", \"source\": \"node1\", "
			       "\"target\": \"node3\", \"error\": null}"),
			 11);
	ck_assert_str_eq(line, "web1: move cancelled; it runs on node1");

	ck_assert_int_eq(ended("{\"outcome\": \"failed\", \"source\": \"node1\", \"target\": "
			       "\"node3\", \"error\": \"the source died\"}"),
			 12);
	ck_assert_str_eq(
		line, "web1: the move failed and the VM is restarted elsewhere: the source died");
	ck_assert_int_eq(ended("{\"outcome\": \"failed\"}"), 12);
	ck_assert_str_eq(line, "web1: the move failed and the VM is restarted elsewhere");

	/* A quick move's downtime is the outage, pause to running again (0: not measured). */
	ck_assert_int_eq(ended("{\"outcome\": \"moved\", \"source\": \"node1\", "
			       "\"target\": \"node3\", \"mode\": \"quick\", "
			       "\"downtime_ms\": 820, \"total_ms\": 3100}"),
			 0);
	ck_assert_str_eq(line, "web1: moved to node3 in 3.1 s (outage 820 ms)");
	ck_assert_int_eq(ended("{\"outcome\": \"moved\", \"target\": \"node3\", "
			       "\"mode\": \"quick\", \"downtime_ms\": 0, \"total_ms\": 3100}"),
			 0);
	ck_assert_str_eq(line, "web1: moved to node3 in 3.1 s");

	/* Saved: it runs nowhere until the cluster places it and it is restored there. */
	ck_assert_int_eq(ended("{\"outcome\": \"saved\", \"source\": \"node1\", "
			       "\"target\": \"node3\", \"mode\": \"quick\", \"error\": \"\"}"),
			 13);
	ck_assert_str_eq(line,
			 "web1: the VM was saved; it is restored where the cluster places it");
	ck_assert_int_eq(ended("{\"outcome\": \"saved\", \"source\": \"node1\", "
			       "\"target\": \"node3\", \"mode\": \"quick\", "
			       "\"error\": \"the target died\"}"),
			 13);
	ck_assert_str_eq(line, "web1: the VM was saved (the move did not finish: the target died); "
			       "it is restored where the cluster places it");

	/* An outcome of a newer clusterd is a failure, not a success. */
	ck_assert_int_eq(ended("{\"outcome\": \"teleported\"}"), CD_EXIT_FAILURE);
	ck_assert_ptr_nonnull(strstr(line, "'teleported'"));
}
END_TEST

START_TEST(test_exit_codes)
{
	ck_assert_int_eq(CD_EXIT_MOVE_STAYED, 11);
	ck_assert_int_eq(CD_EXIT_MOVE_FAILED, 12);
	ck_assert_int_eq(cd_exit_code(CD_ERR_MOVE_STAYED), CD_EXIT_MOVE_STAYED);
	ck_assert_int_eq(cd_exit_code(CD_ERR_MOVE_FAILED), CD_EXIT_MOVE_FAILED);
	ck_assert_int_eq(CD_EXIT_MOVE_SAVED, 13);
	ck_assert_int_eq(cd_exit_code(CD_ERR_MOVE_SAVED), CD_EXIT_MOVE_SAVED);
	ck_assert_str_eq(cd_strerror(CD_ERR_MOVE_SAVED),
			 "the VM was saved: it is restored where the cluster places it");
	ck_assert_str_eq(cd_strerror(CD_ERR_MOVE_STAYED),
			 "the move did not happen: the VM runs where it ran");
	ck_assert_str_eq(cd_strerror(CD_ERR_MOVE_FAILED),
			 "the move failed; the VM is being restarted by failover");
}
END_TEST

int main(void)
{
	Suite *s = suite_create("move_progress");

	add_tcase(s, test_no_progress_yet);
	add_tcase(s, test_copying);
	add_tcase(s, test_unknown_remaining_time);
	add_tcase(s, test_quick);
	add_tcase(s, test_quick_change_key);
	add_tcase(s, test_change_key);
	add_tcase(s, test_percent);
	add_tcase(s, test_ended);
	add_tcase(s, test_outcomes);
	add_tcase(s, test_exit_codes);
	return run_suite(s);
}
