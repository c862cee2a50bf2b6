#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <clusterd/result.h>

#include "check_common.h"
#include "csvfs/paxos_lease.h"
#include "tests/sim/simcluster.h"

#define EXPIRY 800u
#define LEASE 1u
#define MAX_HOLDS 64

static struct csvfs_sim_cluster c;

static void cluster(uint64_t seed, uint32_t hosts, uint32_t sector_size)
{
	struct csvfs_sim_opts o = {.seed = seed,
				   .sector_size = sector_size,
				   .hosts = hosts,
				   .files = 4,
				   .expiry_ms = EXPIRY,
				   .disk_size = 8u << 20};
	ck_assert_int_eq(csvfs_sim_cluster_init(&c, &o), 0);
	ck_assert_int_eq(csvfs_sim_join_all(&c), 0);
}

static struct csvfs_sim_host *host(uint32_t slot)
{
	return &c.hosts[slot - 1];
}

static uint64_t now(void)
{
	return csvfs_sim_now(&c);
}

static int acquire(uint32_t slot, uint32_t flags, struct csvfs_busy *busy)
{
	struct csvfs_sim_host *h = host(slot);

	return csvfs_lease_acquire(&h->vol, &h->host, LEASE, "vm1", flags, busy);
}

static int release(uint32_t slot)
{
	return csvfs_lease_release(&host(slot)->vol, &host(slot)->host, LEASE);
}

static struct csvfs_leader leader(void)
{
	struct csvfs_leader l;

	ck_assert_int_eq(csvfs_lease_read(&c.admin, LEASE, &l), 0);
	return l;
}

/* Keep every host's lease alive while the test's primary threads run. */
static void spawn_renewers(void)
{
	uint32_t i;

	for (i = 0; i < c.nhosts; i++)
		csvfs_sched_spawn(c.sched, csvfs_sim_renewer, &c.hosts[i], 1);
}

START_TEST(test_acquire_release)
{
	struct csvfs_leader l;

	cluster(1, 3, 512);
	l = leader();
	ck_assert(l.flags & CSVFS_LEADER_FREE);
	ck_assert_uint_eq(l.lver, 0);
	ck_assert_int_eq(acquire(1, 0, NULL), 0);
	l = leader();
	ck_assert(csvfs_leader_is(&l, &host(1)->host));
	ck_assert_uint_eq(l.lver, 1);
	ck_assert_str_eq(l.name, "vm1");
	/* Held already: nothing changes. */
	ck_assert_int_eq(acquire(1, 0, NULL), 0);
	ck_assert_uint_eq(leader().lver, 1);
	ck_assert_int_eq(release(2), CD_ERR_NOT_FOUND);
	ck_assert_int_eq(release(1), 0);
	ck_assert(leader().flags & CSVFS_LEADER_FREE);
	ck_assert_int_eq(release(1), CD_ERR_NOT_FOUND);
	/* Free: the next host gets it at once, in the next version. */
	ck_assert_int_eq(acquire(2, 0, NULL), 0);
	l = leader();
	ck_assert_uint_eq(l.owner, 2);
	ck_assert_uint_eq(l.lver, 2);
	ck_assert_int_eq(csvfs_lease_acquire(&c.admin, &host(1)->host, 99, "x", 0, NULL),
			 CD_ERR_INVALID);
	csvfs_sim_cluster_free(&c);
}
END_TEST

/* One acquisition, run as a simulated thread. */
struct attempt {
	uint32_t slot, flags;
	int rc;
	struct csvfs_busy busy;
	uint64_t took;
};

static void attempt_fn(void *arg)
{
	struct attempt *a = arg;
	uint64_t t0 = now();

	a->rc = acquire(a->slot, a->flags, &a->busy);
	a->took = now() - t0;
}

/* Run a while every host renews (unless renewing is 0). */
static void run_attempt(struct attempt *a, int renewing)
{
	if (renewing)
		spawn_renewers();
	csvfs_sched_spawn(c.sched, attempt_fn, a, 0);
	csvfs_sched_run(c.sched);
}

START_TEST(test_held_by_live_host)
{
	struct attempt a = {.slot = 2};

	cluster(2, 2, 4096);
	ck_assert_int_eq(acquire(1, 0, NULL), 0);
	run_attempt(&a, 1);
	ck_assert_int_eq(a.rc, -EBUSY);
	ck_assert_uint_eq(a.busy.slot, 1);
	ck_assert_uint_eq(a.busy.lease, LEASE);
	ck_assert_int_eq(a.busy.shared, 0);
	ck_assert_uint_lt(a.took, EXPIRY);
	ck_assert_uint_eq(leader().owner, 1);
	csvfs_sim_cluster_free(&c);
}
END_TEST

START_TEST(test_taken_over_after_owner_died)
{
	struct attempt a = {.slot = 2};
	uint64_t died;

	cluster(3, 2, 512);
	ck_assert_int_eq(acquire(1, 0, NULL), 0);
	/* Host 1 stops renewing now; only host 2 renews. */
	died = now();
	csvfs_sched_spawn(c.sched, csvfs_sim_renewer, host(2), 1);
	run_attempt(&a, 0);
	ck_assert_int_eq(a.rc, 0);
	ck_assert_uint_ge(a.took, EXPIRY);
	ck_assert_uint_ge(now() - died, EXPIRY);
	ck_assert_uint_ge(now(), csvfs_sim_valid_until(host(1)) + host(1)->vol.timing.io_ms);
	ck_assert_uint_eq(leader().owner, 2);
	ck_assert_uint_eq(leader().lver, 2);
	csvfs_sim_cluster_free(&c);
}
END_TEST

static uint32_t hint_asked;

static int hint_slot1_dead(void *arg, uint32_t slot)
{
	(void)arg;
	hint_asked = slot;
	return slot == 1;
}

static int hint_nobody_dead(void *arg, uint32_t slot)
{
	(void)arg;
	(void)slot;
	return 0;
}

/*
 * The caller's own watch already saw the owner dead: the lease is taken
 * over without watching it for the expiry again. A hint that knows nothing
 * changes nothing: a live owner still keeps its lease.
 */
START_TEST(test_taken_over_at_once_when_owner_seen_dead)
{
	struct attempt a = {.slot = 2};

	cluster(13, 2, 512);
	ck_assert_int_eq(acquire(1, 0, NULL), 0);
	host(2)->vol.seen_dead = hint_slot1_dead;
	hint_asked = 0;
	csvfs_sched_spawn(c.sched, csvfs_sim_renewer, host(2), 1);
	run_attempt(&a, 0);
	ck_assert_int_eq(a.rc, 0);
	ck_assert_uint_eq(hint_asked, 1);
	ck_assert_uint_lt(a.took, EXPIRY / 4);
	ck_assert_uint_eq(leader().owner, 2);
	csvfs_sim_cluster_free(&c);

	cluster(14, 2, 512);
	ck_assert_int_eq(acquire(1, 0, NULL), 0);
	host(2)->vol.seen_dead = hint_nobody_dead;
	a = (struct attempt){.slot = 2};
	run_attempt(&a, 1);
	ck_assert_int_eq(a.rc, -EBUSY);
	ck_assert_uint_eq(leader().owner, 1);
	csvfs_sim_cluster_free(&c);
}
END_TEST

/*
 * A released host slot frees its leases at once, and so does a newer
 * incarnation of it (rejoin).
 */
static void taken_over_at_once(uint64_t seed, int rejoin)
{
	struct attempt a = {.slot = 2};

	cluster(seed, 2, 512);
	ck_assert_int_eq(acquire(1, 0, NULL), 0);
	ck_assert_int_eq(csvfs_host_release(&host(1)->vol, &host(1)->host), 0);
	if (rejoin) {
		ck_assert_int_eq(csvfs_sim_join(host(1)), 0);
		ck_assert_uint_eq(host(1)->host.generation, 2);
	}
	run_attempt(&a, 0);
	ck_assert_int_eq(a.rc, 0);
	ck_assert_uint_lt(a.took, EXPIRY / 4);
	ck_assert_uint_eq(leader().owner, 2);
	csvfs_sim_cluster_free(&c);
}

START_TEST(test_taken_over_at_once_after_host_release)
{
	taken_over_at_once(4, 0);
}
END_TEST

START_TEST(test_taken_over_at_once_after_owner_rejoined)
{
	taken_over_at_once(5, 1);
}
END_TEST

START_TEST(test_shared)
{
	struct attempt excl = {.slot = 3}, shared = {.slot = 2, .flags = CSVFS_LEASE_SHARED};
	struct csvfs_lease_state st;

	cluster(6, 3, 512);
	ck_assert_int_eq(acquire(1, CSVFS_LEASE_SHARED, NULL), 0);
	ck_assert_int_eq(acquire(2, CSVFS_LEASE_SHARED, NULL), 0);
	ck_assert(leader().flags & CSVFS_LEADER_FREE);
	ck_assert_int_eq(csvfs_lease_inspect(&c.admin, LEASE, &st), 0);
	ck_assert(st.ballot[0].mode & CSVFS_MODE_SHARED);
	ck_assert(st.ballot[1].mode & CSVFS_MODE_SHARED);
	/* Host 3 wants it exclusively while 1 and 2 share it and live. */
	run_attempt(&excl, 1);
	ck_assert_int_eq(excl.rc, -EBUSY);
	ck_assert_int_eq(excl.busy.shared, 1);
	ck_assert(leader().flags & CSVFS_LEADER_FREE);
	ck_assert_int_eq(release(1), 0);
	ck_assert_int_eq(release(2), 0);
	ck_assert_int_eq(release(2), CD_ERR_NOT_FOUND);
	ck_assert_int_eq(acquire(3, 0, NULL), 0);
	/* Now shared is refused while host 3 holds it and lives. */
	run_attempt(&shared, 1);
	ck_assert_int_eq(shared.rc, -EBUSY);
	ck_assert_uint_eq(shared.busy.slot, 3);
	ck_assert_int_eq(shared.busy.shared, 0);
	csvfs_sim_cluster_free(&c);
}
END_TEST

/* A dead shared holder does not block an exclusive one for ever. */
START_TEST(test_dead_shared_holder_expires)
{
	struct attempt a = {.slot = 2};

	cluster(7, 2, 512);
	ck_assert_int_eq(acquire(1, CSVFS_LEASE_SHARED, NULL), 0);
	csvfs_sched_spawn(c.sched, csvfs_sim_renewer, host(2), 1);
	run_attempt(&a, 0);
	ck_assert_int_eq(a.rc, 0);
	ck_assert_uint_ge(a.took, EXPIRY);
	csvfs_sim_cluster_free(&c);
}
END_TEST

/* The leader only repeats what the ballots decided: lose it, lose nothing. */
START_TEST(test_damaged_leader_relearned_from_ballots)
{
	struct attempt a = {.slot = 2};
	struct csvfs_leader l;
	uint8_t *data;

	cluster(8, 2, 512);
	ck_assert_int_eq(acquire(1, 0, NULL), 0);
	data = csvfs_simdisk_data(c.medium);
	data[csvfs_lease_off(&c.admin, LEASE) + 40] ^= 0x10;
	ck_assert_int_eq(csvfs_lease_read(&c.admin, LEASE, &l), CD_ERR_CORRUPT);
	run_attempt(&a, 1);
	ck_assert_int_eq(a.rc, -EBUSY);
	ck_assert_uint_eq(a.busy.slot, 1);
	/* Host 2 wrote the decision back. */
	l = leader();
	ck_assert_uint_eq(l.owner, 1);
	ck_assert_uint_eq(l.lver, 1);
	csvfs_sim_cluster_free(&c);
}
END_TEST

/* Another host's damaged ballot sector counts as never written. */
START_TEST(test_damaged_ballot_skipped)
{
	struct attempt a = {.slot = 2};
	uint8_t *data;

	cluster(9, 3, 512);
	ck_assert_int_eq(acquire(3, 0, NULL), 0);
	ck_assert_int_eq(release(3), 0);
	data = csvfs_simdisk_data(c.medium);
	data[csvfs_lease_off(&c.admin, LEASE) + 3 * 512 + 100] ^= 0x01;
	run_attempt(&a, 1);
	ck_assert_int_eq(a.rc, 0);
	ck_assert_uint_eq(leader().owner, 2);
	csvfs_sim_cluster_free(&c);
}
END_TEST

/*
 * Contention, over many seeded interleavings. Each contender acquires
 * (cycles times: hold a while, release, pause) while every host renews
 * its host lease. A hold lasts from the acquisition until the holder
 * released it or, at the latest, until its host lease ended. Checked:
 * no two holds overlap; without faults or crashes, exactly one of the
 * single-shot contenders wins and the others are told who holds it.
 */
struct scenario {
	uint32_t hosts;
	uint32_t sector_size;
	int cycles;	  /* 0: a single attempt, held to the end */
	int faults;	  /* I/O errors, lost writes, stale reads, delays */
	int crash;	  /* one host crashes at a random write */
	int tear_sectors; /* its last write may cut a sector */
};

struct hold {
	uint32_t slot;
	uint64_t from, to;
};

static const struct scenario *sc;
static struct hold holds[MAX_HOLDS];
static int nholds;
static int result[CSVFS_SIM_MAX_HOSTS];
static struct csvfs_busy busy[CSVFS_SIM_MAX_HOSTS];

static uint64_t valid_end(const struct csvfs_sim_host *h)
{
	return csvfs_sim_valid_until(h);
}

static void end_hold(int i, uint64_t at)
{
	const struct csvfs_sim_host *h = host(holds[i].slot);

	holds[i].to = at < valid_end(h) ? at : valid_end(h);
}

static void contender(void *arg)
{
	struct csvfs_sim_host *h = arg;
	uint32_t r = h->vol.timing.renewal_ms;
	int n, i, rc = 0;

	/* Some start together, some a little apart. */
	if (csvfs_random(&h->clock.env) % 2)
		csvfs_sleep(&h->clock.env, csvfs_random(&h->clock.env) % r);
	for (n = 0; n < (sc->cycles ? sc->cycles : 1); n++) {
		rc = csvfs_lease_acquire(&h->vol, &h->host, LEASE, "vm1", 0, &busy[h->slot - 1]);
		if (rc == 0 && nholds < MAX_HOLDS) {
			i = nholds++;
			holds[i].slot = h->slot;
			holds[i].from = now();
			holds[i].to = UINT64_MAX; /* open until released */
			if (!sc->cycles)
				break;
			csvfs_sleep(&h->clock.env, csvfs_random(&h->clock.env) % (2 * r));
			/* Stop using it before the release is written. */
			end_hold(i, now());
			release(h->slot);
		}
		csvfs_sleep(&h->clock.env, csvfs_random(&h->clock.env) % (2 * r));
	}
	result[h->slot - 1] = rc;
}

static void set_faults(uint64_t seed)
{
	struct csvfs_sim_faults f = {.crash_after = -1};
	uint32_t i, victim;

	if (sc->faults) {
		f.eio_pct = 2;
		f.lost_pct = 2;
		f.stale_pct = 50;
		f.delay_ms = host(1)->vol.timing.io_ms / 4;
	}
	for (i = 0; i < c.nhosts; i++)
		csvfs_simdisk_set_faults(c.hosts[i].disk, &f);
	if (sc->crash) {
		victim = (uint32_t)(csvfs_sched_rand(c.sched) % c.nhosts);
		f.crash_after = (int64_t)(csvfs_sched_rand(c.sched) % 80);
		f.tear_sectors = sc->tear_sectors;
		csvfs_simdisk_set_faults(c.hosts[victim].disk, &f);
	}
}

static void check_holds(uint64_t seed)
{
	int i, j;

	for (i = 0; i < nholds; i++)
		if (holds[i].to == UINT64_MAX)
			end_hold(i, UINT64_MAX);
	for (i = 0; i < nholds; i++) {
		for (j = 0; j < nholds; j++) {
			if (i == j || holds[i].from >= holds[i].to || holds[j].from >= holds[j].to)
				continue;
			ck_assert_msg(holds[i].to <= holds[j].from || holds[j].to <= holds[i].from,
				      "seed %llu: host %u held [%llu, %llu), host %u [%llu, %llu)",
				      (unsigned long long)seed, holds[i].slot,
				      (unsigned long long)holds[i].from,
				      (unsigned long long)holds[i].to, holds[j].slot,
				      (unsigned long long)holds[j].from,
				      (unsigned long long)holds[j].to);
		}
	}
}

/* Without faults, a single round has one winner; the others know it. */
static void check_one_winner(uint64_t seed)
{
	uint32_t i, winner = 0;
	int wins = 0;

	for (i = 0; i < c.nhosts; i++) {
		if (result[i] == 0) {
			wins++;
			winner = i + 1;
		}
	}
	ck_assert_msg(wins == 1, "seed %llu: %d winners", (unsigned long long)seed, wins);
	for (i = 0; i < c.nhosts; i++) {
		if (result[i] == 0)
			continue;
		ck_assert_msg(result[i] == -EBUSY && busy[i].slot == winner,
			      "seed %llu: host %u: rc %d, busy by %u, winner %u",
			      (unsigned long long)seed, i + 1, result[i], busy[i].slot, winner);
	}
}

static void run_seeds(const struct scenario *s, uint64_t seeds)
{
	uint64_t seed;
	uint32_t i;

	sc = s;
	for (seed = 0; seed < seeds; seed++) {
		cluster(seed * 7919 + s->hosts, s->hosts, s->sector_size);
		nholds = 0;
		memset(result, 0, sizeof(result));
		memset(busy, 0, sizeof(busy));
		set_faults(seed);
		spawn_renewers();
		for (i = 0; i < c.nhosts; i++)
			csvfs_sched_spawn(c.sched, contender, &c.hosts[i], 0);
		csvfs_sched_run(c.sched);
		check_holds(seed);
		if (!s->faults && !s->crash && !s->cycles)
			check_one_winner(seed);
		csvfs_sim_cluster_free(&c);
	}
}

START_TEST(test_two_contenders_one_wins)
{
	struct scenario s = {.hosts = 2, .sector_size = 512};

	run_seeds(&s, 300);
}
END_TEST

START_TEST(test_three_contenders_one_wins)
{
	struct scenario s = {.hosts = 3, .sector_size = 4096};

	run_seeds(&s, 300);
}
END_TEST

START_TEST(test_contenders_with_faults)
{
	struct scenario s = {.hosts = 3, .sector_size = 512, .faults = 1};

	run_seeds(&s, 200);
}
END_TEST

START_TEST(test_contenders_with_a_crash)
{
	struct scenario s = {.hosts = 3, .sector_size = 512, .crash = 1, .tear_sectors = 1};

	run_seeds(&s, 200);
}
END_TEST

START_TEST(test_cycles_with_faults_and_a_crash)
{
	struct scenario s = {.hosts = 3, .sector_size = 512, .cycles = 4, .faults = 1, .crash = 1};

	run_seeds(&s, 100);
}
END_TEST

/* The same seed replays the same interleaving, step by step. */
START_TEST(test_same_seed_same_run)
{
	struct scenario s = {.hosts = 3, .sector_size = 512, .cycles = 3, .faults = 1};
	struct hold first[MAX_HOLDS];
	int n;

	run_seeds(&s, 1);
	n = nholds;
	memcpy(first, holds, sizeof(first));
	run_seeds(&s, 1);
	ck_assert_int_eq(nholds, n);
	ck_assert_mem_eq(holds, first, sizeof(first));
}
END_TEST

int main(void)
{
	Suite *s = suite_create("csvfs_paxos_lease");

	add_tcase(s, test_acquire_release);
	add_tcase(s, test_held_by_live_host);
	add_tcase(s, test_taken_over_after_owner_died);
	add_tcase(s, test_taken_over_at_once_after_host_release);
	add_tcase(s, test_taken_over_at_once_after_owner_rejoined);
	add_tcase(s, test_shared);
	add_tcase(s, test_dead_shared_holder_expires);
	add_tcase(s, test_taken_over_at_once_when_owner_seen_dead);
	add_tcase(s, test_damaged_leader_relearned_from_ballots);
	add_tcase(s, test_damaged_ballot_skipped);
	add_tcase(s, test_two_contenders_one_wins);
	add_tcase(s, test_three_contenders_one_wins);
	add_tcase(s, test_contenders_with_faults);
	add_tcase(s, test_contenders_with_a_crash);
	add_tcase(s, test_cycles_with_faults_and_a_crash);
	add_tcase(s, test_same_seed_same_run);
	return run_suite(s);
}
