/* Work on a copy of the state in a thread (offloop.h). */
#include "config.h"

#include <errno.h>
#include <signal.h>

#include "clusterd/offloop.h"

static void *run(void *arg)
{
	struct cd_offloop *j = arg;

	j->work(&j->copy, j->ctx);
	atomic_store(&j->finished, true);
	return NULL;
}

int cd_offloop_start(struct cd_offloop *j, const struct cd_state *s, cd_offloop_work_fn work,
		     cd_offloop_done_fn done, void *ctx)
{
	sigset_t all, old;
	int rc;

	if (j->running)
		return -EBUSY;
	cd_state_init(&j->copy);
	rc = cd_state_copy(&j->copy, s);
	if (rc < 0) {
		cd_state_free(&j->copy);
		return rc;
	}
	j->work = work;
	j->done = done;
	j->ctx = ctx;
	atomic_store(&j->finished, false);
	/* Signals stay the main loop's. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	rc = pthread_create(&j->thread, NULL, run, j);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc != 0) {
		cd_state_free(&j->copy);
		return -rc;
	}
	j->running = true;
	return 0;
}

bool cd_offloop_running(const struct cd_offloop *j)
{
	return j->running;
}

/* Join the job's thread; true if there was one. */
static bool join(struct cd_offloop *j, bool wait)
{
	if (!j->running || (!wait && !atomic_load(&j->finished)))
		return false;
	pthread_join(j->thread, NULL);
	j->running = false;
	return true;
}

bool cd_offloop_poll(struct cd_offloop *j, bool wait)
{
	if (!join(j, wait))
		return !j->running;
	j->done(&j->copy, j->ctx);
	cd_state_free(&j->copy);
	return true;
}

void cd_offloop_cancel(struct cd_offloop *j)
{
	if (join(j, true))
		cd_state_free(&j->copy);
}
