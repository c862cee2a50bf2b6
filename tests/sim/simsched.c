#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "tests/sim/simsched.h"

struct sim_thread {
	struct csvfs_sched *s;
	pthread_t tid;
	void (*fn)(void *arg);
	void *arg;
	int id, daemon, done, sleeping;
	uint64_t wake;
};

struct csvfs_sched {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct sim_thread threads[CSVFS_SCHED_MAX_THREADS];
	int n;
	int running; /* the thread allowed to run; -1 when all are done */
	int active;  /* inside csvfs_sched_run */
	int stopping;
	uint64_t now, rng;
};

static __thread struct sim_thread *self;

struct csvfs_sched *csvfs_sched_new(uint64_t seed)
{
	struct csvfs_sched *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	pthread_mutex_init(&s->mu, NULL);
	pthread_cond_init(&s->cv, NULL);
	s->rng = seed;
	s->running = -1;
	/* Virtual time starts far from zero, like a monotonic clock. */
	s->now = 1000000;
	return s;
}

void csvfs_sched_free(struct csvfs_sched *s)
{
	if (!s)
		return;
	pthread_mutex_destroy(&s->mu);
	pthread_cond_destroy(&s->cv);
	free(s);
}

/* splitmix64: small, good enough, and the same everywhere. */
uint64_t csvfs_sched_rand(struct csvfs_sched *s)
{
	uint64_t z = (s->rng += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

int csvfs_sched_spawn(struct csvfs_sched *s, void (*fn)(void *arg), void *arg, int daemon)
{
	struct sim_thread *t;

	if (s->n >= CSVFS_SCHED_MAX_THREADS)
		return -EAGAIN;
	t = &s->threads[s->n];
	memset(t, 0, sizeof(*t));
	t->s = s;
	t->fn = fn;
	t->arg = arg;
	t->id = s->n++;
	t->daemon = daemon;
	return 0;
}

static int primaries_done(const struct csvfs_sched *s)
{
	int i;

	for (i = 0; i < s->n; i++)
		if (!s->threads[i].daemon && !s->threads[i].done)
			return 0;
	return 1;
}

/* Wake sleepers due by now; with force, every sleeper. */
static int wake_due(struct csvfs_sched *s, int force)
{
	int i, woken = 0;

	for (i = 0; i < s->n; i++) {
		struct sim_thread *t = &s->threads[i];

		if (!t->done && t->sleeping && (force || t->wake <= s->now)) {
			t->sleeping = 0;
			woken++;
		}
	}
	return woken;
}

/* Choose who runs next; called with mu held. */
static void pick(struct csvfs_sched *s)
{
	int i, runnable, k;
	uint64_t earliest;

	for (;;) {
		if (!s->stopping && primaries_done(s)) {
			s->stopping = 1;
			wake_due(s, 1);
		}
		runnable = 0;
		earliest = UINT64_MAX;
		for (i = 0; i < s->n; i++) {
			struct sim_thread *t = &s->threads[i];

			if (t->done)
				continue;
			if (!t->sleeping)
				runnable++;
			else if (t->wake < earliest)
				earliest = t->wake;
		}
		if (runnable > 0)
			break;
		if (earliest == UINT64_MAX) {
			s->running = -1;
			return;
		}
		s->now = earliest;
		wake_due(s, 0);
	}
	k = (int)(csvfs_sched_rand(s) % (uint64_t)runnable);
	for (i = 0; i < s->n; i++) {
		struct sim_thread *t = &s->threads[i];

		if (t->done || t->sleeping)
			continue;
		if (k-- == 0) {
			s->running = i;
			return;
		}
	}
}

/* Hand the baton on and wait until it comes back; called with mu held. */
static void switch_away(struct csvfs_sched *s)
{
	pick(s);
	pthread_cond_broadcast(&s->cv);
	while (s->running != self->id)
		pthread_cond_wait(&s->cv, &s->mu);
}

static void *trampoline(void *arg)
{
	struct sim_thread *t = arg;
	struct csvfs_sched *s = t->s;

	self = t;
	pthread_mutex_lock(&s->mu);
	while (s->running != t->id)
		pthread_cond_wait(&s->cv, &s->mu);
	pthread_mutex_unlock(&s->mu);
	t->fn(t->arg);
	pthread_mutex_lock(&s->mu);
	t->done = 1;
	pick(s);
	pthread_cond_broadcast(&s->cv);
	pthread_mutex_unlock(&s->mu);
	return NULL;
}

void csvfs_sched_run(struct csvfs_sched *s)
{
	int i;

	s->active = 1;
	s->stopping = 0;
	for (i = 0; i < s->n; i++)
		pthread_create(&s->threads[i].tid, NULL, trampoline, &s->threads[i]);
	pthread_mutex_lock(&s->mu);
	pick(s);
	pthread_cond_broadcast(&s->cv);
	while (s->running != -1)
		pthread_cond_wait(&s->cv, &s->mu);
	pthread_mutex_unlock(&s->mu);
	for (i = 0; i < s->n; i++)
		pthread_join(s->threads[i].tid, NULL);
	s->n = 0;
	s->active = 0;
	s->stopping = 0;
}

static int in_run(const struct csvfs_sched *s)
{
	return s->active && self && self->s == s;
}

void csvfs_sched_yield(struct csvfs_sched *s)
{
	if (!in_run(s))
		return;
	pthread_mutex_lock(&s->mu);
	switch_away(s);
	pthread_mutex_unlock(&s->mu);
}

void csvfs_sched_sleep(struct csvfs_sched *s, uint64_t ms)
{
	if (!in_run(s)) {
		s->now += ms;
		return;
	}
	pthread_mutex_lock(&s->mu);
	if (!s->stopping) {
		self->sleeping = 1;
		self->wake = s->now + ms;
	}
	switch_away(s);
	pthread_mutex_unlock(&s->mu);
}

uint64_t csvfs_sched_now(struct csvfs_sched *s)
{
	return s->now;
}

int csvfs_sched_stopping(struct csvfs_sched *s)
{
	return s->stopping;
}

static uint64_t clock_now(void *ctx)
{
	struct csvfs_sim_clock *c = ctx;

	return csvfs_sched_now(c->sched) + c->offset;
}

static void clock_sleep(void *ctx, uint64_t ms)
{
	struct csvfs_sim_clock *c = ctx;

	csvfs_sched_sleep(c->sched, ms);
}

static uint64_t clock_random(void *ctx)
{
	struct csvfs_sim_clock *c = ctx;

	return csvfs_sched_rand(c->sched);
}

void csvfs_sim_clock_init(struct csvfs_sim_clock *c, struct csvfs_sched *s, uint64_t offset)
{
	c->env.now_ms = clock_now;
	c->env.sleep_ms = clock_sleep;
	c->env.random = clock_random;
	c->env.ctx = c;
	c->sched = s;
	c->offset = offset;
}
