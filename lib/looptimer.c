/*
 * Timers on a libqb loop that let it sleep: see looptimer.h.
 */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "lib/looptimer.h"

/* The loops with timers at once: clusterd has one, a test a few. */
#define MAX_LOOPS 8

enum slot_state {
	SLOT_FREE,
	SLOT_ARMED, /* in its heap */
};

#define N_PRIOS (QB_LOOP_HIGH + 1)

/* A loop's timers of one priority: a heap behind a timerfd polled at that priority. */
struct theap {
	qb_loop_t *l;
	enum qb_loop_priority p;
	bool open;	  /* fd made and polled */
	bool dispatching; /* in on_fd(), which arms the fd once its timers ran */
	int fd;
	uint32_t *heap; /* slot indices, earliest expiry first */
	size_t n, cap;
};

struct tloop {
	qb_loop_t *l; /* NULL: this entry is unused */
	struct theap pr[N_PRIOS];
};

struct slot {
	uint32_t gen; /* a handle's upper half: a freed slot's next timer has another */
	enum slot_state state;
	struct theap *tl;
	uint64_t expire; /* CLOCK_MONOTONIC, ns */
	void *data;
	qb_loop_timer_dispatch_fn fn;
	size_t hpos;	    /* its place in tl->heap while armed */
	uint32_t next_free; /* index + 1 of the next free slot; 0 ends the list */
};

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static struct tloop loops[MAX_LOOPS];
static struct slot *slots;
static uint32_t n_slots, cap_slots, free_head;

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static qb_loop_timer_handle handle_of(uint32_t i)
{
	return (uint64_t)slots[i].gen << 32 | (uint64_t)(i + 1);
}

/* The slot handle h names, or NULL if it names none now. */
static struct slot *slot_of(qb_loop_timer_handle h, uint32_t *idx)
{
	uint32_t i = (uint32_t)h;

	if (i == 0 || i > n_slots)
		return NULL;
	i--;
	if (slots[i].state == SLOT_FREE || slots[i].gen != (uint32_t)(h >> 32))
		return NULL;
	*idx = i;
	return &slots[i];
}

static int slot_new(uint32_t *idx)
{
	uint32_t i;

	if (free_head) {
		i = free_head - 1;
		free_head = slots[i].next_free;
	} else {
		if (n_slots == cap_slots) {
			uint32_t cap = cap_slots ? cap_slots * 2 : 64;
			struct slot *s;

			if (cap <= cap_slots)
				return -ENOMEM;
			s = realloc(slots, cap * sizeof(*s));
			if (!s)
				return -ENOMEM;
			slots = s;
			cap_slots = cap;
		}
		i = n_slots++;
		slots[i].gen = 1;
	}
	*idx = i;
	return 0;
}

static void slot_free(uint32_t i)
{
	struct slot *s = &slots[i];

	s->state = SLOT_FREE;
	s->tl = NULL;
	s->data = NULL;
	s->fn = NULL;
	if (++s->gen == 0)
		s->gen = 1;
	s->next_free = free_head;
	free_head = i + 1;
}

/* --- a loop's heap --- */

static bool earlier(uint32_t a, uint32_t b)
{
	return slots[a].expire < slots[b].expire;
}

static void heap_set(struct theap *tl, size_t pos, uint32_t i)
{
	tl->heap[pos] = i;
	slots[i].hpos = pos;
}

static void sift_up(struct theap *tl, size_t pos)
{
	uint32_t i = tl->heap[pos];

	while (pos > 0 && earlier(i, tl->heap[(pos - 1) / 2])) {
		heap_set(tl, pos, tl->heap[(pos - 1) / 2]);
		pos = (pos - 1) / 2;
	}
	heap_set(tl, pos, i);
}

static void sift_down(struct theap *tl, size_t pos)
{
	uint32_t i = tl->heap[pos];

	for (;;) {
		size_t c = 2 * pos + 1;

		if (c >= tl->n)
			break;
		if (c + 1 < tl->n && earlier(tl->heap[c + 1], tl->heap[c]))
			c++;
		if (!earlier(tl->heap[c], i))
			break;
		heap_set(tl, pos, tl->heap[c]);
		pos = c;
	}
	heap_set(tl, pos, i);
}

static int heap_push(struct theap *tl, uint32_t i)
{
	if (tl->n == tl->cap) {
		size_t cap = tl->cap ? tl->cap * 2 : 16;
		uint32_t *h = realloc(tl->heap, cap * sizeof(*h));

		if (!h)
			return -ENOMEM;
		tl->heap = h;
		tl->cap = cap;
	}
	heap_set(tl, tl->n++, i);
	sift_up(tl, tl->n - 1);
	return 0;
}

static void heap_remove(struct theap *tl, size_t pos)
{
	uint32_t last = tl->heap[--tl->n];

	if (pos == tl->n)
		return;
	heap_set(tl, pos, last);
	if (pos > 0 && earlier(last, tl->heap[(pos - 1) / 2]))
		sift_up(tl, pos);
	else
		sift_down(tl, pos);
}

/* The timerfd set to the earliest expiry, or disarmed when there is none. */
static void arm(struct theap *tl)
{
	struct itimerspec its;

	memset(&its, 0, sizeof(its));
	if (tl->n) {
		uint64_t e = slots[tl->heap[0]].expire;

		/* An expiry of 0 would disarm: the clock is never there. */
		if (e == 0)
			e = 1;
		its.it_value.tv_sec = (time_t)(e / 1000000000ull);
		its.it_value.tv_nsec = (long)(e % 1000000000ull);
	}
	timerfd_settime(tl->fd, TFD_TIMER_ABSTIME, &its, NULL);
}

/* --- expiry --- */

/*
 * The timers due, each run here, in the order they were due: this is a
 * dispatch of the loop at their priority already. A job per timer would
 * wait for the loop's next turn, which may sleep first. Timers added
 * while these run are due after now, and wait for the timerfd.
 */
static int32_t on_fd(int32_t fd, int32_t revents, void *data)
{
	struct theap *tl = data;
	uint64_t ticks, now;
	ssize_t r;

	(void)revents;
	r = read(fd, &ticks, sizeof(ticks));
	(void)r;
	pthread_mutex_lock(&mu);
	now = now_ns();
	tl->dispatching = true;
	while (tl->n && slots[tl->heap[0]].expire <= now) {
		uint32_t i = tl->heap[0];
		qb_loop_timer_dispatch_fn fn = slots[i].fn;
		void *arg = slots[i].data;

		heap_remove(tl, 0);
		slot_free(i);
		pthread_mutex_unlock(&mu);
		fn(arg);
		pthread_mutex_lock(&mu);
		/* The loop may be gone (cd_loop_destroy() from fn): then tl is zeroed. */
		if (tl->l == NULL) {
			pthread_mutex_unlock(&mu);
			return -1;
		}
	}
	tl->dispatching = false;
	arm(tl);
	pthread_mutex_unlock(&mu);
	return 0;
}

static void loop_drop(struct tloop *t)
{
	int k;

	for (k = 0; k < N_PRIOS; k++) {
		struct theap *h = &t->pr[k];

		if (h->open) {
			qb_loop_poll_del(t->l, h->fd);
			close(h->fd);
		}
		free(h->heap);
	}
	memset(t, 0, sizeof(*t));
}

/* l's timers of priority p, made (with a timerfd polled in l) when create is set. */
static int loop_get(qb_loop_t *l, enum qb_loop_priority p, bool create, struct theap **out)
{
	struct tloop *t = NULL;
	struct theap *h;
	size_t k;
	int rc;

	for (k = 0; k < MAX_LOOPS; k++) {
		if (loops[k].l == l) {
			t = &loops[k];
			break;
		}
	}
	if (!t) {
		if (!create)
			return -ENOENT;
		for (k = 0; k < MAX_LOOPS && !t; k++)
			if (!loops[k].l)
				t = &loops[k];
		if (!t)
			return -EMFILE;
		t->l = l;
	}
	h = &t->pr[p];
	if (!h->open) {
		if (!create)
			return -ENOENT;
		h->fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
		if (h->fd < 0)
			return -errno;
		rc = qb_loop_poll_add(l, p, h->fd, POLLIN, h, on_fd);
		if (rc < 0) {
			close(h->fd);
			return rc;
		}
		h->open = true;
		h->l = l;
		h->p = p;
	}
	*out = h;
	return 0;
}

int cd_timer_add(qb_loop_t *l, enum qb_loop_priority p, uint64_t nsec, void *data,
		 qb_loop_timer_dispatch_fn fn, qb_loop_timer_handle *h)
{
	struct theap *tl = NULL;
	uint64_t now;
	uint32_t i = 0;
	int rc;

	if (!l || !fn || p < QB_LOOP_LOW || p > QB_LOOP_HIGH)
		return -EINVAL;
	pthread_mutex_lock(&mu);
	rc = loop_get(l, p, true, &tl);
	if (rc == 0)
		rc = slot_new(&i);
	if (rc < 0)
		goto out;
	now = now_ns();
	slots[i].state = SLOT_ARMED;
	slots[i].tl = tl;
	slots[i].expire = nsec > UINT64_MAX - now ? UINT64_MAX : now + nsec;
	slots[i].data = data;
	slots[i].fn = fn;
	rc = heap_push(tl, i);
	if (rc < 0) {
		slot_free(i);
		goto out;
	}
	if (tl->heap[0] == i && !tl->dispatching)
		arm(tl);
	if (h)
		*h = handle_of(i);
out:
	pthread_mutex_unlock(&mu);
	return rc;
}

int cd_timer_del(qb_loop_t *l, qb_loop_timer_handle h)
{
	struct slot *s;
	uint32_t i;
	int rc = -ENOENT;

	pthread_mutex_lock(&mu);
	s = slot_of(h, &i);
	if (s && s->tl->l == l) {
		struct theap *tl = s->tl;
		bool first = s->hpos == 0;

		heap_remove(tl, s->hpos);
		if (first && !tl->dispatching)
			arm(tl);
		slot_free(i);
		rc = 0;
	}
	pthread_mutex_unlock(&mu);
	return rc;
}

int cd_timer_is_running(qb_loop_t *l, qb_loop_timer_handle h)
{
	struct slot *s;
	uint32_t i;
	int on;

	pthread_mutex_lock(&mu);
	s = slot_of(h, &i);
	on = s && s->tl->l == l;
	pthread_mutex_unlock(&mu);
	return on;
}

void cd_loop_destroy(qb_loop_t *l)
{
	uint32_t i;
	size_t k;

	if (!l)
		return;
	pthread_mutex_lock(&mu);
	for (k = 0; k < MAX_LOOPS; k++) {
		if (loops[k].l != l)
			continue;
		for (i = 0; i < n_slots; i++)
			if (slots[i].state != SLOT_FREE && slots[i].tl->l == l)
				slot_free(i);
		loop_drop(&loops[k]);
	}
	pthread_mutex_unlock(&mu);
	qb_loop_destroy(l);
}
