/*
 * A VM move in clusterctl's words: the progress line of a vm.move.status
 * reply, the line that says how the move ended and the result code of its
 * outcome. Pure: nothing here talks to clusterd or looks at a terminal.
 */
#ifndef CD_MOVE_PROGRESS_H
#define CD_MOVE_PROGRESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

/* The cells of the bar of memory sent. */
#define MOVE_BAR_CELLS 16

/*
 * The progress line of status (a vm.move.status reply) into buf (n bytes),
 * cut at width characters (0: not cut), such as (one line)
 *
 *   web1 node1 -> node3  copying  [#########.......] 56%
 *       dirty 12.3 MiB/s  downtime ~45 ms  left 3 s
 *
 * What the source's statistics do not say (all of it before the copy
 * starts) is left out. A quick move's progress (type "quick") is what its
 * state file says, such as
 *
 *   web1 node1 -> node3  saving  saved 512/2048 MiB  restored 256 MiB
 *
 * Returns buf.
 */
const char *move_progress_line(struct json_object *status, size_t width, char *buf, size_t n);

/*
 * What a wait reports when it changes, from status into buf (n bytes): the
 * VM's state, the move's phase and the percent sent (of a quick move: the
 * percents of its memory saved and restored).
 */
void move_change_key(struct json_object *status, char *buf, size_t n);

/*
 * The percent of the move of status (a vm.move.status reply), or -1 when
 * its progress does not say: of a live move the percent of the memory
 * sent; of a quick move the percent of the memory saved, and once the
 * target restores (restored_bytes > 0) the percent restored. Rounded down.
 */
int move_percent(struct json_object *status);

/* The move of status, or NULL when none is under way. */
struct json_object *move_of(struct json_object *status);

/* The last move of status if it is the move action_id, else NULL: that move ended. */
struct json_object *move_ended(struct json_object *status, int64_t action_id);

/*
 * How the move of vm ended, from last_move (vm.move.status's) into buf (n
 * bytes), such as "web1: moved to node3 in 4.2 s (libvirt downtime 38 ms)"
 * (of a quick move: "(outage 800 ms)", from pause to running again).
 * Returns buf.
 */
const char *move_end_line(const char *vm, struct json_object *last_move, char *buf, size_t n);

/*
 * The result of last_move's outcome: 0 when moved, CD_ERR_MOVE_STAYED when
 * it stayed or was cancelled, CD_ERR_MOVE_FAILED when failed,
 * CD_ERR_MOVE_SAVED when saved (it runs nowhere; its saved state is
 * restored where the cluster places it), and CD_ERR_PROTOCOL for an
 * outcome this version does not know.
 */
int move_outcome_result(struct json_object *last_move);

#endif
