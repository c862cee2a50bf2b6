/*
 * The walk every state table of the project shares: name arrays indexed by
 * an enum, and rows looked up by {state, event} (with an optional guard).
 *
 * A table is an array of a struct whose first member is a struct cd_fsm_row;
 * the rest (a guard, a handler) is the table's own. Its owner keeps the
 * decisions: what a row's handler does, how a move is logged.
 *
 *	static const struct my_row { struct cd_fsm_row r; my_fn *fn; } rows[] = ...;
 *	const struct my_row *row = cd_fsm_find(rows, N_OF(rows), sizeof(rows[0]),
 *					       state, ev, NULL, NULL);
 */
#ifndef CD_LIB_FSM_H
#define CD_LIB_FSM_H

#include <stdbool.h>
#include <stddef.h>

/* A row's "to" besides a state: the event is taken and the state stays. */
#define CD_FSM_KEEP (-1)
/* A row's "to" besides a state: the event is refused (a known cell, said so). */
#define CD_FSM_REFUSE (-2)

/* In state from, event ev moves to state to (or CD_FSM_KEEP, CD_FSM_REFUSE). */
struct cd_fsm_row {
	int from, ev, to;
};

/* A row's guard: whether the row applies (ctx: the caller's). */
typedef bool cd_fsm_guard_fn(const void *row, const void *ctx);

/*
 * The first row of rows (n of them, stride bytes apart) for {from, ev}
 * whose guard (if given) passes; NULL if none: an impossible cell.
 */
const void *cd_fsm_find(const void *rows, size_t n, size_t stride, int from, int ev,
			cd_fsm_guard_fn *guard, const void *ctx);

/* names[i], or "unknown" when i is out of range or names[i] is NULL. */
const char *cd_fsm_name(const char *const *names, size_t n, int i);

/* The index of s in names (n of them), or -1. */
int cd_fsm_index(const char *const *names, size_t n, const char *s);

#endif
