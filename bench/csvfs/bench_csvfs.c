/*
 * csvfs side of bench/csvfs/run.sh: the lease operations timed inside one
 * process (libcsvfs calls, no process start-up), on a real device.
 *
 *   bench_csvfs join DEV --slot N [--rounds R] [--owner NAME]
 *       R times: csvfs_host_join on slot N, then csvfs_host_release (not
 *       timed). The slot must be free or released. Prints "join ...".
 *   bench_csvfs latency DEV --slot N --lease NAME [--rounds R]
 *       Attach to slot N (a `csvfs host join` process renews it), then one
 *       untimed warm-up round and R timed rounds of csvfs_lease_acquire
 *       and csvfs_lease_release on the lease guarding NAME (a file, or
 *       csvfs.meta). Prints "acquire ..." and "release ...".
 *   bench_csvfs takeover DEV --slot N --lease NAME
 *       Attach to slot N, print "ready", wait for a line on stdin, then
 *       call csvfs_lease_acquire until it succeeds (every 20 ms after an
 *       -EBUSY). Prints "acquired_at_us=WALL attempts=K wait_ms=MS", WALL
 *       being CLOCK_REALTIME in microseconds at success.
 *
 * Timing lines: see stats.h. Exit 0, 1 on a failure, 2 on a bad command.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <clusterd/result.h>

#include "bench/csvfs/stats.h"
#include "csvfs/csvfs.h"

static struct bench_samples s_a, s_b;

static int fail(int rc, const char *what)
{
	fprintf(stderr, "bench_csvfs: %s: %s\n", what, cd_strerror(rc));
	return 1;
}

static void usage(void)
{
	fprintf(stderr, "usage: bench_csvfs join DEV --slot N [--rounds R] [--owner NAME]\n"
			"       bench_csvfs latency DEV --slot N --lease NAME [--rounds R]\n"
			"       bench_csvfs takeover DEV --slot N --lease NAME\n");
	exit(2);
}

static int cmd_join(struct csvfs_vol *v, unsigned slot, unsigned rounds, const char *owner)
{
	struct csvfs_host_rec busy;
	struct csvfs_host h;
	unsigned i;
	int rc;

	s_a.name = "join";
	for (i = 0; i < rounds; i++) {
		double t0 = bench_mono_ms();

		rc = csvfs_host_join(v, slot, owner, &h, &busy);
		if (rc < 0)
			return fail(rc, "host join");
		bench_add(&s_a, bench_mono_ms() - t0);
		rc = csvfs_host_release(v, &h);
		if (rc < 0)
			return fail(rc, "host release");
	}
	printf("expiry_ms=%u join_delay_ms=%u\n", v->timing.expiry_ms,
	       csvfs_timing_join_delay(&v->timing));
	bench_print(&s_a);
	return 0;
}

static int one_round(struct csvfs_vol *v, const struct csvfs_host *h, uint32_t lease,
		     const char *name, int timed)
{
	struct csvfs_busy busy;
	double t0, t1, t2;
	int rc;

	t0 = bench_mono_ms();
	rc = csvfs_lease_acquire(v, h, lease, name, 0, &busy);
	t1 = bench_mono_ms();
	if (rc == -EBUSY) {
		fprintf(stderr, "bench_csvfs: lease %s is held by host %u\n", name, busy.slot);
		return 1;
	}
	if (rc < 0)
		return fail(rc, "lease acquire");
	rc = csvfs_lease_release(v, h, lease);
	t2 = bench_mono_ms();
	if (rc < 0)
		return fail(rc, "lease release");
	if (timed) {
		bench_add(&s_a, t1 - t0);
		bench_add(&s_b, t2 - t1);
	}
	return 0;
}

static int cmd_latency(struct csvfs_vol *v, unsigned slot, const char *name, unsigned rounds)
{
	struct csvfs_host h;
	uint32_t lease;
	unsigned i;
	int rc;

	rc = csvfs_host_attach(v, slot, NULL, &h);
	if (rc < 0)
		return fail(rc, "host attach (is `csvfs host join` running for the slot?)");
	rc = csvfs_lease_lookup(v, name, &lease);
	if (rc < 0)
		return fail(rc, "lease lookup");
	s_a.name = "acquire";
	s_b.name = "release";
	if (one_round(v, &h, lease, name, 0))
		return 1;
	for (i = 0; i < rounds; i++)
		if (one_round(v, &h, lease, name, 1))
			return 1;
	printf("expiry_ms=%u sector_size=%u max_hosts=%u lease_bytes=%llu\n", v->timing.expiry_ms,
	       v->sb.sector_size, v->sb.max_hosts, (unsigned long long)v->sb.lease_stride);
	bench_print(&s_a);
	bench_print(&s_b);
	return 0;
}

static int cmd_takeover(struct csvfs_vol *v, unsigned slot, const char *name)
{
	struct csvfs_busy busy;
	struct csvfs_host h;
	unsigned attempts = 0;
	uint32_t lease;
	double t0;
	int rc;

	rc = csvfs_host_attach(v, slot, NULL, &h);
	if (rc < 0)
		return fail(rc, "host attach (is `csvfs host join` running for the slot?)");
	rc = csvfs_lease_lookup(v, name, &lease);
	if (rc < 0)
		return fail(rc, "lease lookup");
	if (bench_wait_go() < 0)
		return 1;
	t0 = bench_mono_ms();
	for (;;) {
		attempts++;
		rc = csvfs_lease_acquire(v, &h, lease, name, 0, &busy);
		if (rc == 0)
			break;
		if (rc != -EBUSY && rc != CD_ERR_TIMEOUT)
			return fail(rc, "lease acquire");
		bench_sleep_ms(20);
	}
	printf("acquired_at_us=%llu attempts=%u wait_ms=%.1f\n", bench_wall_us(), attempts,
	       bench_mono_ms() - t0);
	return 0;
}

int main(int argc, char **argv)
{
	const char *cmd, *dev, *lease = NULL, *owner = "bench";
	struct csvfs_disk *disk;
	struct csvfs_vol vol;
	unsigned slot = 0, rounds = 50;
	int i, rc;

	if (argc < 3)
		usage();
	cmd = argv[1];
	dev = argv[2];
	for (i = 3; i < argc; i++) {
		if (i + 1 >= argc)
			usage();
		if (strcmp(argv[i], "--slot") == 0)
			slot = bench_count(argv[++i], "slot");
		else if (strcmp(argv[i], "--rounds") == 0)
			rounds = bench_count(argv[++i], "rounds");
		else if (strcmp(argv[i], "--lease") == 0)
			lease = argv[++i];
		else if (strcmp(argv[i], "--owner") == 0)
			owner = argv[++i];
		else
			usage();
	}
	if (slot == 0)
		usage();
	rc = csvfs_disk_open(dev, 0, &disk);
	if (rc < 0)
		return fail(rc, dev);
	rc = csvfs_vol_open(&vol, disk, &csvfs_env_real);
	if (rc < 0) {
		csvfs_disk_close(disk);
		return fail(rc, dev);
	}
	if (strcmp(cmd, "join") == 0)
		rc = cmd_join(&vol, slot, rounds, owner);
	else if (strcmp(cmd, "latency") == 0 && lease)
		rc = cmd_latency(&vol, slot, lease, rounds);
	else if (strcmp(cmd, "takeover") == 0 && lease)
		rc = cmd_takeover(&vol, slot, lease);
	else
		usage();
	csvfs_disk_close(disk);
	return rc;
}
