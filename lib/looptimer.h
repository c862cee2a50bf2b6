/*
 * Timers on a libqb loop that let it sleep.
 *
 * libqb's loop sleeps in epoll_wait() until its next timer for a whole
 * number of milliseconds, rounded down. In the last millisecond before
 * each expiry it therefore polls without sleeping: some 150 times a
 * timer on this kind of machine. With the coordinator's 20 ms failover
 * tick that was 3-4 % of a core for every idle clusterd, a core and more
 * for 32 nodes on one machine, taken from corosync and the other nodes.
 *
 * These timers are called as qb's are, and run their function the same
 * way: as a job of the timer's priority in the loop's thread. They live
 * in a heap per loop behind one timerfd (CLOCK_MONOTONIC, armed to the
 * earliest expiry), which the loop polls like any descriptor: it wakes
 * once for each expiry, to the nanosecond.
 *
 * A handle names one timer once: deleting a timer that ran or was deleted
 * already is harmless, and a handle is never that of a later timer. Safe
 * to call from any thread; a timer's function runs in its loop's thread.
 * A loop that had timers is destroyed with cd_loop_destroy(), which drops
 * them and its timerfd first.
 */
#ifndef CD_LOOPTIMER_H
#define CD_LOOPTIMER_H

#include <stdint.h>

#include <qb/qbloop.h>

/*
 * Run fn(data) in loop l, at priority p, nsec nanoseconds from now; *h
 * names the timer. Returns 0, -ENOMEM, or a negative errno from the
 * timerfd or the loop.
 */
int cd_timer_add(qb_loop_t *l, enum qb_loop_priority p, uint64_t nsec, void *data,
		 qb_loop_timer_dispatch_fn fn, qb_loop_timer_handle *h);

/* The timer h will not run. 0, or -ENOENT if it ran, was deleted, or never was. */
int cd_timer_del(qb_loop_t *l, qb_loop_timer_handle h);

/* Whether timer h is still to run. */
int cd_timer_is_running(qb_loop_t *l, qb_loop_timer_handle h);

/* Drop l's timers and their timerfd, then qb_loop_destroy(l). */
void cd_loop_destroy(qb_loop_t *l);

#endif
