/*
 * Stopping clusterd on a node: what the cluster property shutdown-policy
 * (core/props.h) has it do before it powers off what still runs there;
 * and, when clusterd starts again, the node's return from the drain that
 * its stop began.
 */
#ifndef CD_SHUTDOWN_H
#define CD_SHUTDOWN_H

#include <stdbool.h>

#include <qb/qbloop.h>

/*
 * A stop was asked for (SIGTERM): empty the node as shutdown-policy says,
 * then call then() once that is over, quorum is lost or time is up (then()
 * powers off what still runs and stops). false when there is nothing to
 * do first: then() is not called, the caller goes on itself.
 */
bool cd_shutdown_begin(qb_loop_t *loop, void (*then)(void));

/*
 * After every batch of changes (stopping: a stop was asked for): once this
 * node is in a quorate cluster, a drain that its last stop began is
 * resumed, once.
 */
void cd_shutdown_state_changed(bool stopping);

/* Frees what a stop kept; after cd_replica_fini() (whose callbacks may still come). */
void cd_shutdown_fini(void);

#endif
