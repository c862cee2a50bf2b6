/*
 * Divergence checks of the replicated state (core/statecheck.h): the
 * coordinator asks every state_check_interval_ms; every member hashes a
 * copy of its state in a thread and multicasts its sum; once every
 * member's sum of the round is in, a member whose sum is not the verdict
 * says so and takes the state again. Never silent: every check that finds
 * a divergence is an event on every member.
 */
#ifndef CD_STATECHECK_CLUSTERD_H
#define CD_STATECHECK_CLUSTERD_H

#include <stdint.h>

#include <qb/qbloop.h>

#include "core/msg.h"

/* Checks every interval_ms (0: never). */
void cd_statecheck_init(qb_loop_t *loop, uint64_t interval_ms);
void cd_statecheck_fini(void);

/* A check, a sum, delivered in the current round while it is done. */
void cd_statecheck_on_check(const struct cd_msg *msg);
void cd_statecheck_on_sum(const struct cd_msg *msg);

/* A new sync round: the check under way is dropped. */
void cd_statecheck_round(void);

/* Ask for a check now (on the coordinator; elsewhere nothing). */
void cd_statecheck_now(void);

#endif
