#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <clusterd/result.h>

#include "check_common.h"
#include "csvfs/delta_lease.h"
#include "tests/sim/simcluster.h"

#define EXPIRY 800u
#define SEEDS 150u

static struct csvfs_sim_cluster c;

static void cluster(uint64_t seed, uint32_t hosts)
{
	struct csvfs_sim_opts o = {.seed = seed,
				   .sector_size = 512,
				   .hosts = hosts,
				   .files = 4,
				   .expiry_ms = EXPIRY,
				   .disk_size = 8u << 20};

	ck_assert_int_eq(csvfs_sim_cluster_init(&c, &o), 0);
}

static struct csvfs_sim_host *host(uint32_t slot)
{
	return &c.hosts[slot - 1];
}

static uint64_t now(void)
{
	return csvfs_sim_now(&c);
}

START_TEST(test_join_renew_read)
{
	struct csvfs_host_rec r;
	struct csvfs_host *h = &host(1)->host;

	cluster(1, 2);
	ck_assert_int_eq(csvfs_host_read(&c.admin, 1, &r), -ENODATA);
	ck_assert_int_eq(csvfs_sim_join(host(1)), 0);
	ck_assert_int_eq(csvfs_host_read(&c.admin, 1, &r), 0);
	ck_assert_str_eq(r.owner, "host1");
	ck_assert_uint_eq(r.generation, 1);
	ck_assert_uint_eq(r.counter, h->counter);
	ck_assert(csvfs_host_valid(&host(1)->vol, h));
	ck_assert_int_eq(csvfs_host_renew(&host(1)->vol, h), 0);
	ck_assert_int_eq(csvfs_host_read(&c.admin, 1, &r), 0);
	ck_assert_uint_eq(r.counter, h->counter);
	ck_assert_uint_eq(csvfs_sim_valid_until(host(1)), now() + host(1)->vol.timing.use_ms);
	ck_assert_int_eq(csvfs_host_read(&c.admin, 0, &r), CD_ERR_INVALID);
	ck_assert_int_eq(csvfs_host_read(&c.admin, 3, &r), CD_ERR_INVALID);
	csvfs_sim_cluster_free(&c);
}
END_TEST

static int join_rc;
static struct csvfs_host_rec join_busy;
static uint64_t join_took;

/* Host 2 joins slot 1 as "intruder". */
static void join_slot1(void *arg)
{
	struct csvfs_sim_host *h = host(2);
	uint64_t t0 = now();

	join_rc = csvfs_host_join(&h->vol, 1, "intruder", &h->host, &join_busy);
	join_took = now() - t0;
}

START_TEST(test_join_busy_while_alive)
{
	cluster(2, 2);
	ck_assert_int_eq(csvfs_sim_join(host(1)), 0);
	csvfs_sched_spawn(c.sched, csvfs_sim_renewer, host(1), 1);
	csvfs_sched_spawn(c.sched, join_slot1, NULL, 0);
	csvfs_sched_run(c.sched);
	ck_assert_int_eq(join_rc, -EBUSY);
	ck_assert_str_eq(join_busy.owner, "host1");
	/* Seen alive within a couple of renewals, not after a whole expiry. */
	ck_assert_uint_lt(join_took, EXPIRY / 2);
	csvfs_sim_cluster_free(&c);
}
END_TEST

START_TEST(test_join_after_holder_died)
{
	struct csvfs_host_rec r;

	cluster(3, 2);
	ck_assert_int_eq(csvfs_sim_join(host(1)), 0);
	/* Host 1 renews no more: host 2 may take the slot only after the expiry. */
	join_slot1(NULL);
	ck_assert_int_eq(join_rc, 0);
	ck_assert_uint_ge(join_took, EXPIRY);
	ck_assert_int_eq(csvfs_host_read(&c.admin, 1, &r), 0);
	ck_assert_str_eq(r.owner, "intruder");
	ck_assert_uint_eq(r.generation, 2);
	csvfs_sim_cluster_free(&c);
}
END_TEST

START_TEST(test_join_released_slot_at_once)
{
	struct csvfs_host_rec r;

	cluster(4, 2);
	ck_assert_int_eq(csvfs_sim_join(host(1)), 0);
	ck_assert_int_eq(csvfs_host_release(&host(1)->vol, &host(1)->host), 0);
	join_slot1(NULL);
	ck_assert_int_eq(join_rc, 0);
	ck_assert_uint_lt(join_took, EXPIRY);
	ck_assert_int_eq(csvfs_host_read(&c.admin, 1, &r), 0);
	ck_assert_uint_eq(r.generation, 2);
	ck_assert_uint_eq(r.flags, 0);
	/* The old incarnation finds its slot gone. */
	ck_assert_int_eq(csvfs_host_renew(&host(1)->vol, &host(1)->host), -ESTALE);
	csvfs_sim_cluster_free(&c);
}
END_TEST

static int race_rc[3];

static void race(void *arg)
{
	struct csvfs_sim_host *h = arg;
	char owner[16];

	snprintf(owner, sizeof(owner), "racer%u", h->slot);
	race_rc[h->slot - 1] = csvfs_host_join(&h->vol, 1, owner, &h->host, NULL);
}

/* Three hosts join one free slot at once: exactly one gets it. */
START_TEST(test_racing_joiners_one_wins)
{
	uint64_t seed;
	int i, won;

	for (seed = 0; seed < SEEDS; seed++) {
		cluster(seed, 3);
		for (i = 0; i < 3; i++)
			csvfs_sched_spawn(c.sched, race, host((uint32_t)i + 1), 0);
		csvfs_sched_run(c.sched);
		for (i = 0, won = 0; i < 3; i++) {
			ck_assert_msg(race_rc[i] == 0 || race_rc[i] == -EBUSY, "seed %llu: rc %d",
				      (unsigned long long)seed, race_rc[i]);
			won += race_rc[i] == 0;
		}
		ck_assert_msg(won == 1, "seed %llu: %d winners", (unsigned long long)seed, won);
		csvfs_sim_cluster_free(&c);
	}
}
END_TEST

static enum csvfs_liveness poll(struct csvfs_watch *w)
{
	enum csvfs_liveness l;

	ck_assert_int_eq(csvfs_watch_poll(&c.admin, w, &l), 0);
	return l;
}

START_TEST(test_watch_alive_dead_gone)
{
	struct csvfs_sim_host *h;
	struct csvfs_watch w;

	cluster(5, 2);
	h = host(1);
	ck_assert_int_eq(csvfs_sim_join(h), 0);
	csvfs_watch_init(&w, 1, h->host.generation);
	ck_assert_int_eq(poll(&w), CSVFS_LIVE_UNKNOWN);
	ck_assert_int_eq(csvfs_host_renew(&h->vol, &h->host), 0);
	ck_assert_int_eq(poll(&w), CSVFS_LIVE_ALIVE);
	/* No change: dead only once a read issued E after first seeing it agrees. */
	csvfs_sleep(&c.admin_clock.env, EXPIRY - 1);
	ck_assert_int_eq(poll(&w), CSVFS_LIVE_UNKNOWN);
	csvfs_sleep(&c.admin_clock.env, 1);
	ck_assert_int_eq(poll(&w), CSVFS_LIVE_DEAD);
	/* Asked about an older incarnation: gone. */
	csvfs_watch_init(&w, 1, h->host.generation + 1);
	ck_assert_int_eq(poll(&w), CSVFS_LIVE_GONE);
	csvfs_watch_init(&w, 2, 0);
	ck_assert_int_eq(poll(&w), CSVFS_LIVE_FREE); /* never joined */
	ck_assert_int_eq(csvfs_host_release(&h->vol, &h->host), 0);
	csvfs_watch_init(&w, 1, 0);
	ck_assert_int_eq(poll(&w), CSVFS_LIVE_GONE);
	csvfs_sim_cluster_free(&c);
}
END_TEST

START_TEST(test_renew_after_expiry_refused)
{
	struct csvfs_sim_host *h;
	struct csvfs_host_rec before, after;

	cluster(6, 1);
	h = host(1);
	ck_assert_int_eq(csvfs_sim_join(h), 0);
	ck_assert_int_eq(csvfs_host_read(&c.admin, 1, &before), 0);
	csvfs_sleep(&h->clock.env, h->vol.timing.use_ms);
	ck_assert(!csvfs_host_valid(&h->vol, &h->host));
	ck_assert_int_eq(csvfs_host_renew(&h->vol, &h->host), CD_ERR_TIMEOUT);
	ck_assert_int_eq(csvfs_host_read(&c.admin, 1, &after), 0);
	ck_assert_uint_eq(after.counter, before.counter);
	csvfs_sim_cluster_free(&c);
}
END_TEST

START_TEST(test_slow_or_lost_renewal_does_not_count)
{
	struct csvfs_sim_faults slow = {.crash_after = -1}, lost = {.crash_after = -1};
	struct csvfs_sim_host *h;
	uint64_t until;

	cluster(7, 1);
	h = host(1);
	ck_assert_int_eq(csvfs_sim_join(h), 0);
	until = h->host.valid_until;
	lost.lost_pct = 100;
	csvfs_simdisk_set_faults(h->disk, &lost);
	ck_assert_int_eq(csvfs_host_renew(&h->vol, &h->host), -EIO);
	ck_assert_uint_eq(h->host.valid_until, until);
	/* Three requests of up to 2 T_io each: far longer than T_io in all. */
	slow.delay_ms = 2 * h->vol.timing.io_ms;
	csvfs_simdisk_set_faults(h->disk, &slow);
	ck_assert_int_eq(csvfs_host_renew(&h->vol, &h->host), CD_ERR_TIMEOUT);
	ck_assert_uint_eq(h->host.valid_until, until);
	csvfs_sim_cluster_free(&c);
}
END_TEST

START_TEST(test_attach)
{
	struct csvfs_host a;

	cluster(8, 2);
	ck_assert_int_eq(csvfs_host_attach(&c.admin, 1, NULL, &a), CD_ERR_NOT_FOUND);
	ck_assert_int_eq(csvfs_sim_join(host(1)), 0);
	ck_assert_int_eq(csvfs_host_attach(&c.admin, 1, "someone", &a), -EPERM);
	ck_assert_int_eq(csvfs_host_attach(&c.admin, 1, "host1", &a), 0);
	ck_assert_uint_eq(a.generation, host(1)->host.generation);
	ck_assert_uint_eq(a.valid_until, 0);
	/* An attachment renews for the process that holds the slot. */
	ck_assert_int_eq(csvfs_host_renew(&c.admin, &a), 0);
	ck_assert_int_eq(csvfs_host_release(&c.admin, &a), 0);
	ck_assert_int_eq(csvfs_host_attach(&c.admin, 1, NULL, &a), CD_ERR_NOT_FOUND);
	ck_assert_int_eq(csvfs_host_renew(&host(1)->vol, &host(1)->host), -ESTALE);
	csvfs_sim_cluster_free(&c);
}
END_TEST

/*
 * The timing rule, tested: a holder renews through a faulty path (I/O
 * errors, lost writes, slow and stale I/O) and crashes at a random point;
 * another host watches it. Whenever the watcher decides "dead", the holder
 * has stopped using its leases and its I/O has drained: its validity ended
 * at least T_io earlier, and it never gets valid again afterwards.
 */
static uint64_t dead_at;

static void watcher(void *arg)
{
	struct csvfs_sim_host *w = host(2);
	enum csvfs_liveness l = CSVFS_LIVE_ALIVE;
	uint64_t give_up = now() + 40 * EXPIRY;

	dead_at = 0;
	while (l == CSVFS_LIVE_ALIVE && now() < give_up) {
		if (csvfs_watch_wait(&w->vol, 1, host(1)->host.generation, &l) < 0)
			l = CSVFS_LIVE_ALIVE; /* an I/O error says nothing: watch again */
	}
	if (l == CSVFS_LIVE_DEAD) {
		dead_at = now();
		ck_assert_uint_le(csvfs_sim_valid_until(host(1)) + w->vol.timing.io_ms, dead_at);
	}
}

START_TEST(test_reader_never_sees_a_valid_holder_dead)
{
	struct csvfs_sim_faults f = {.eio_pct = 5, .lost_pct = 5, .stale_pct = 50};
	unsigned deaths = 0;
	uint64_t seed;

	for (seed = 0; seed < SEEDS; seed++) {
		cluster(seed, 2);
		ck_assert_int_eq(csvfs_sim_join(host(1)), 0);
		f.delay_ms = host(1)->vol.timing.io_ms / 3;
		f.crash_after = (int64_t)(csvfs_sched_rand(c.sched) % 300);
		csvfs_simdisk_set_faults(host(1)->disk, &f);
		f.crash_after = -1;
		csvfs_simdisk_set_faults(host(2)->disk, &f);
		csvfs_sched_spawn(c.sched, csvfs_sim_renewer, host(1), 1);
		csvfs_sched_spawn(c.sched, watcher, NULL, 0);
		csvfs_sched_run(c.sched);
		if (dead_at) {
			deaths++;
			/* Nothing the holder did later made it valid again. */
			ck_assert_uint_le(csvfs_sim_valid_until(host(1)) +
						  host(2)->vol.timing.io_ms,
					  dead_at);
		}
		csvfs_sim_cluster_free(&c);
	}
	/* Most holders crash or lose their lease within the run. */
	ck_assert_uint_gt(deaths, SEEDS / 2);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("csvfs_delta_lease");

	add_tcase(s, test_join_renew_read);
	add_tcase(s, test_join_busy_while_alive);
	add_tcase(s, test_join_after_holder_died);
	add_tcase(s, test_join_released_slot_at_once);
	add_tcase(s, test_racing_joiners_one_wins);
	add_tcase(s, test_watch_alive_dead_gone);
	add_tcase(s, test_renew_after_expiry_refused);
	add_tcase(s, test_slow_or_lost_renewal_does_not_count);
	add_tcase(s, test_attach);
	add_tcase(s, test_reader_never_sees_a_valid_holder_dead);
	return run_suite(s);
}
