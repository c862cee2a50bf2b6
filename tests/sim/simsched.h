/*
 * A deterministic scheduler for the unit tests: simulated hosts run as
 * threads, but only one at a time, and at every scheduling point (each
 * simulated disk request, each sleep) a seeded random choice says who runs
 * next. Time is virtual: it advances only when every thread sleeps, to the
 * earliest wake-up. The same seed gives the same interleaving, and
 * thousands of interleavings of the real lease code run in seconds.
 *
 * Outside csvfs_sched_run (single-threaded tests) yields do nothing and a
 * sleep just moves the virtual clock on.
 */
#ifndef TESTS_SIM_SIMSCHED_H
#define TESTS_SIM_SIMSCHED_H

#include <stdint.h>

#include "csvfs/env.h"

#define CSVFS_SCHED_MAX_THREADS 16

struct csvfs_sched;

/* Returns NULL on allocation failure. Free with csvfs_sched_free. */
struct csvfs_sched *csvfs_sched_new(uint64_t seed);
void csvfs_sched_free(struct csvfs_sched *s);

/*
 * Add a thread for the next run. A daemon (daemon = 1) is a background
 * loop: once every other thread has finished, csvfs_sched_stopping() turns
 * true and its sleeps return at once. Returns 0 or -EAGAIN (too many).
 */
int csvfs_sched_spawn(struct csvfs_sched *s, void (*fn)(void *arg), void *arg, int daemon);

/* Run every spawned thread to its end; then forget them. */
void csvfs_sched_run(struct csvfs_sched *s);

/* Scheduling points, for simulated threads (no-ops outside a run). */
void csvfs_sched_yield(struct csvfs_sched *s);
void csvfs_sched_sleep(struct csvfs_sched *s, uint64_t ms);

uint64_t csvfs_sched_now(struct csvfs_sched *s);
uint64_t csvfs_sched_rand(struct csvfs_sched *s);
int csvfs_sched_stopping(struct csvfs_sched *s);

/* The environment of one simulated host: the virtual clock plus offset. */
struct csvfs_sim_clock {
	struct csvfs_env env;
	struct csvfs_sched *sched;
	uint64_t offset; /* hosts' clocks differ: nothing may compare them */
};

void csvfs_sim_clock_init(struct csvfs_sim_clock *c, struct csvfs_sched *s, uint64_t offset);

#endif
