/*
 * clusterctl maintenance's words, from clusterd's views of schedules
 * (maintenance.list, maintenance.show): the list table, a run's line, a
 * line per node of a run, times and durations; and --nodes as the
 * argument clusterd takes. Pure: no clusterd needed.
 */
#ifndef CD_CLI_MAINT_TEXT_H
#define CD_CLI_MAINT_TEXT_H

#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

/* --nodes as clusterd takes it: "all", or an array of the names between commas. New reference. */
struct json_object *maint_nodes_arg(const char *text);

/* A wall time in ms as local "YYYY-MM-DD HH:MM:SS", or "-" for 0. Returns buf. */
const char *maint_time(uint64_t wall_ms, char *buf, size_t n);

/* A duration in ms as "4h", "1h30m", "90s" ("-" for 0). Returns buf. */
const char *maint_duration(uint64_t ms, char *buf, size_t n);

/* The list: its header, and the row of one view (NAME NODES SCHEDULE NEXT LAST-RUN). */
const char *maint_list_header(char *line, size_t n);
const char *maint_list_row(struct json_object *view, char *line, size_t n);

/*
 * A run in one line: "run 12 running since ...: node2 (2 of 3), phase drain
 * since ..." or "run 12 failed, ... to ...: why".
 */
const char *maint_run_line(struct json_object *run, char *line, size_t n);

/* Node i of run: name, outcome (with the phase if active), times, why. */
const char *maint_node_line(struct json_object *run, size_t i, char *line, size_t n);

#endif
