#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <time.h>

#include "check_common.h"
#include "lib/looptimer.h"

static qb_loop_t *loop;

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* A timer that fired: which, when it was due, and when it ran. */
struct fired {
	int id;
	uint64_t due, ran;
};

#define MAX_FIRED 4096
static struct fired fired[MAX_FIRED];
static int n_fired, stop_after;

struct tmr {
	int id;
	uint64_t due;
	qb_loop_timer_handle h;
};

static void on_timer(void *data)
{
	struct tmr *t = data;

	ck_assert_int_lt(n_fired, MAX_FIRED);
	fired[n_fired].id = t->id;
	fired[n_fired].due = t->due;
	fired[n_fired].ran = now_ns();
	if (++n_fired == stop_after)
		qb_loop_stop(loop);
}

static bool timed_out;

static void on_guard(void *data)
{
	timed_out = true;
	qb_loop_stop(loop);
}

/* Run the loop until stop_after timers fired; the guard is a deadline, not a measure. */
static void run_until(int n)
{
	qb_loop_timer_handle guard;

	stop_after = n;
	timed_out = false;
	ck_assert_int_eq(cd_timer_add(loop, QB_LOOP_LOW, TEST_MS(20000) * 1000000ull, NULL,
				      on_guard, &guard),
			 0);
	qb_loop_run(loop);
	cd_timer_del(loop, guard);
	ck_assert_msg(!timed_out, "only %d of %d timers fired", n_fired, n);
}

static void add(struct tmr *t, int id, enum qb_loop_priority p, uint64_t ms)
{
	t->id = id;
	t->due = now_ns() + ms * 1000000ull;
	ck_assert_int_eq(cd_timer_add(loop, p, ms * 1000000ull, t, on_timer, &t->h), 0);
}

static void setup(void)
{
	loop = qb_loop_create();
	ck_assert_ptr_nonnull(loop);
	n_fired = 0;
}

static void teardown(void)
{
	cd_loop_destroy(loop);
	loop = NULL;
}

/* Timers run in the order they are due, never before. */
START_TEST(test_order_and_never_early)
{
	struct tmr t[3];
	int i;

	add(&t[0], 0, QB_LOOP_MED, 30);
	add(&t[1], 1, QB_LOOP_MED, 10);
	add(&t[2], 2, QB_LOOP_MED, 20);
	ck_assert(cd_timer_is_running(loop, t[0].h));
	run_until(3);
	ck_assert_int_eq(fired[0].id, 1);
	ck_assert_int_eq(fired[1].id, 2);
	ck_assert_int_eq(fired[2].id, 0);
	for (i = 0; i < 3; i++)
		ck_assert_uint_ge(fired[i].ran, fired[i].due);
	/* Ran: its handle names nothing now. */
	ck_assert(!cd_timer_is_running(loop, t[0].h));
	ck_assert_int_eq(cd_timer_del(loop, t[0].h), -ENOENT);
}
END_TEST

/*
 * A deleted timer never runs; a handle is of one timer only: deleting
 * again, or with the handle of a timer whose slot a later one took,
 * touches nothing.
 */
START_TEST(test_delete)
{
	struct tmr a, b, c;

	add(&a, 0, QB_LOOP_MED, 5);
	add(&b, 1, QB_LOOP_MED, 10);
	ck_assert_int_eq(cd_timer_del(loop, a.h), 0);
	ck_assert_int_eq(cd_timer_del(loop, a.h), -ENOENT);
	ck_assert(!cd_timer_is_running(loop, a.h));
	/* c takes a's slot; a's handle is not c's. */
	add(&c, 2, QB_LOOP_MED, 15);
	ck_assert_uint_ne(c.h, a.h);
	ck_assert_int_eq(cd_timer_del(loop, a.h), -ENOENT);
	ck_assert(cd_timer_is_running(loop, c.h));
	ck_assert_int_eq(cd_timer_del(loop, 0), -ENOENT);
	ck_assert_int_eq(cd_timer_del(loop, ~0ull), -ENOENT);
	run_until(2);
	ck_assert_int_eq(fired[0].id, 1);
	ck_assert_int_eq(fired[1].id, 2);
	/* The earliest deleted: the next still runs. */
	n_fired = 0;
	add(&a, 3, QB_LOOP_MED, 1);
	add(&b, 4, QB_LOOP_MED, 20);
	ck_assert_int_eq(cd_timer_del(loop, a.h), 0);
	run_until(1);
	ck_assert_int_eq(fired[0].id, 4);
}
END_TEST

static struct tmr victim;

static void delete_victim(void *data)
{
	ck_assert_int_eq(cd_timer_del(loop, victim.h), 0);
	on_timer(data);
}

/*
 * Two timers due together: the high-priority one runs first and deletes
 * the other, which had expired and waited for its turn: it never runs.
 */
START_TEST(test_delete_expired_not_yet_run)
{
	struct tmr killer = {.id = 1}, later;

	victim.id = 0;
	ck_assert_int_eq(cd_timer_add(loop, QB_LOOP_LOW, 0, &victim, on_timer, &victim.h), 0);
	ck_assert_int_eq(cd_timer_add(loop, QB_LOOP_HIGH, 0, &killer, delete_victim, &killer.h), 0);
	add(&later, 2, QB_LOOP_LOW, 30);
	run_until(2);
	ck_assert_int_eq(fired[0].id, 1);
	ck_assert_int_eq(fired[1].id, 2);
}
END_TEST

static int periodic_left;
static qb_loop_timer_handle periodic_h;

static void periodic(void *data)
{
	static struct tmr t = {.id = 7};

	on_timer(&t);
	if (--periodic_left > 0)
		ck_assert_int_eq(
			cd_timer_add(loop, QB_LOOP_HIGH, 2000000ull, NULL, periodic, &periodic_h),
			0);
}

/* A timer added again from its own function, as the ticks are. */
START_TEST(test_periodic)
{
	periodic_left = 25;
	ck_assert_int_eq(cd_timer_add(loop, QB_LOOP_HIGH, 0, NULL, periodic, &periodic_h), 0);
	run_until(25);
	ck_assert_int_eq(periodic_left, 0);
}
END_TEST

/*
 * Many timers due in any order, some deleted: every other one runs once,
 * in the order they are due, and none before its time.
 */
START_TEST(test_many)
{
	enum { N = 2000 };
	static struct tmr t[N];
	static bool deleted[N], seen[N];
	unsigned int seed = 4242;
	int i, kept = 0;

	for (i = 0; i < N; i++) {
		add(&t[i], i, (enum qb_loop_priority)(rand_r(&seed) % 3),
		    (uint64_t)(rand_r(&seed) % 60));
		deleted[i] = seen[i] = false;
	}
	for (i = 0; i < N; i++)
		if (rand_r(&seed) % 2) {
			ck_assert_int_eq(cd_timer_del(loop, t[i].h), 0);
			deleted[i] = true;
		} else
			kept++;
	run_until(kept);
	for (i = 0; i < n_fired; i++) {
		ck_assert(!deleted[fired[i].id]);
		ck_assert(!seen[fired[i].id]);
		seen[fired[i].id] = true;
		ck_assert_uint_ge(fired[i].ran, fired[i].due);
	}
	ck_assert_int_eq(n_fired, kept);
}
END_TEST

static void *add_from_thread(void *arg)
{
	static struct tmr t = {.id = 9};

	t.due = now_ns() + 5000000ull;
	ck_assert_int_eq(cd_timer_add(loop, QB_LOOP_MED, 5000000ull, &t, on_timer, &t.h), 0);
	return NULL;
}

/* A timer added from another thread wakes the sleeping loop. */
START_TEST(test_other_thread)
{
	pthread_t th;

	ck_assert_int_eq(pthread_create(&th, NULL, add_from_thread, NULL), 0);
	ck_assert_int_eq(pthread_join(th, NULL), 0);
	run_until(1);
	ck_assert_int_eq(fired[0].id, 9);
}
END_TEST

/* A destroyed loop's timers go with it; a new loop's run. */
START_TEST(test_loop_destroyed)
{
	struct tmr a, b;

	add(&a, 0, QB_LOOP_MED, 1);
	cd_loop_destroy(loop);
	ck_assert(!cd_timer_is_running(loop, a.h));
	loop = qb_loop_create();
	ck_assert_ptr_nonnull(loop);
	add(&b, 1, QB_LOOP_MED, 1);
	run_until(1);
	ck_assert_int_eq(fired[0].id, 1);
	ck_assert_int_eq(cd_timer_add(NULL, QB_LOOP_MED, 0, NULL, on_timer, NULL), -EINVAL);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("looptimer");
	TCase *tc = tcase_create("timers");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_order_and_never_early);
	tcase_add_test(tc, test_delete);
	tcase_add_test(tc, test_delete_expired_not_yet_run);
	tcase_add_test(tc, test_periodic);
	tcase_add_test(tc, test_many);
	tcase_add_test(tc, test_other_thread);
	tcase_add_test(tc, test_loop_destroyed);
	suite_add_tcase(s, tc);
	return run_suite(s);
}
