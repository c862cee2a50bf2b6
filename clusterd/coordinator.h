/*
 * The coordinator's work: run the placement policy over the replicated
 * state and send its decisions through the cluster, and move the VMs of
 * a lost node once it is known dead. Only the coordinator (lowest node id
 * of the quorate partition) does this; every member holds the same state,
 * so another takes over at once when it goes. coordinator_int.h says
 * which file does what.
 */
#ifndef CD_COORDINATOR_H
#define CD_COORDINATOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <qb/qbloop.h>

int cd_coordinator_init(qb_loop_t *loop);
/* After the loop stopped: frees what the coordinator keeps. */
void cd_coordinator_fini(void);

/* The state changed: decide again if this node coordinates. */
void cd_coordinator_state_changed(void);

/*
 * What this node's recent decisions cost, when it is the coordinator (the
 * placement policy, drains and maintenance runs over the whole state),
 * of up to the last CD_DECISIONS_KEPT, in microseconds: the last, the
 * median and the longest by the clock, and the median and the longest of
 * the CPU time the loop's thread spent on them (the clock's figure less
 * the time other processes had the CPU meanwhile). Returns how many are
 * kept (0 when this node has not decided as coordinator yet).
 */
#define CD_DECISIONS_KEPT 64
struct cd_decision_costs {
	uint64_t last_us, median_us, max_us;
	uint64_t cpu_median_us, cpu_max_us;
};
size_t cd_coordinator_decisions(struct cd_decision_costs *c);

/*
 * Why VM name is where it is, in words; with start, what an admin's start
 * of it would do (where it would start, or why nowhere). Returns 0 or
 * CD_ERR_NOT_FOUND.
 */
int cd_coordinator_explain(const char *name, bool start, char *buf, size_t len);

#endif
