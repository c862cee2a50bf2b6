/*
 * Work on a copy of the state in a thread, off the main loop: for what
 * takes long on a large state (writing a snapshot, hashing it), so that the
 * loop goes on delivering and applying changes meanwhile.
 *
 * The job gets its own copy of the state, made on the main loop when it
 * starts; the thread reads only that copy and writes only what its
 * work function's context names. The main loop polls for the end (a
 * timer, or where it looks anyway); the job's done function then runs on
 * the main loop, after the thread was joined, and the copy is freed. One
 * job at a time per struct cd_offloop.
 */
#ifndef CD_OFFLOOP_H
#define CD_OFFLOOP_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>

#include "core/state.h"

/* In the thread: the work on the copy. */
typedef void (*cd_offloop_work_fn)(const struct cd_state *copy, void *ctx);
/* On the main loop, once the work is done: its results are ctx's to read. */
typedef void (*cd_offloop_done_fn)(const struct cd_state *copy, void *ctx);

/* A zeroed struct is an idle job. */
struct cd_offloop {
	struct cd_state copy; /* the thread's while the job runs */
	cd_offloop_work_fn work;
	cd_offloop_done_fn done;
	void *ctx;
	pthread_t thread;
	atomic_bool finished;
	bool running;
};

/*
 * Copy s and run work(copy, ctx) on the copy in a new thread, with every
 * signal blocked (signals stay the main loop's); done(copy, ctx) follows
 * on the main loop from cd_offloop_poll(). Returns 0, -EBUSY (a job is
 * under way), or -errno (the copy or the thread failed: nothing runs).
 */
int cd_offloop_start(struct cd_offloop *j, const struct cd_state *s, cd_offloop_work_fn work,
		     cd_offloop_done_fn done, void *ctx);

/* Whether a job was started and not yet polled to its end. */
bool cd_offloop_running(const struct cd_offloop *j);

/*
 * The job's end: if its thread is done (or, with wait, once it is), join
 * it, call its done function and free the copy. Returns true once no job
 * is under way (also when there was none), false while it still runs.
 */
bool cd_offloop_poll(struct cd_offloop *j, bool wait);

/* Wait for a job under way and drop it: its done function is not called. */
void cd_offloop_cancel(struct cd_offloop *j);

#endif
