/*
 * sanlock side of bench/csvfs/run.sh: the same operations as bench_csvfs,
 * through libsanlock (requests to the sanlock daemon on this node, which
 * does the disk I/O), timed inside one process.
 *
 * libsanlock.so.1 (Debian package libsanlock1, pulled in by sanlock) is
 * loaded with dlopen, so building this needs no sanlock headers; its
 * structures are only handled through pointers that the library's own
 * string parsers fill in.
 *
 *   bench_sanlock join LOCKSPACE [--io-timeout S] [--rounds R]
 *       R times: sanlock_add_lockspace_timeout (LOCKSPACE as for
 *       "sanlock client add_lockspace -s", with the host id), then
 *       sanlock_rem_lockspace (not timed). Prints "join ...".
 *   bench_sanlock latency RESOURCE [--rounds R]
 *       Register with the daemon, then one untimed warm-up round and R
 *       timed rounds of sanlock_acquire and sanlock_release (RESOURCE as
 *       for "sanlock client acquire -r"). Prints "acquire ..." and
 *       "release ...".
 *   bench_sanlock takeover RESOURCE
 *       Register, print "ready", wait for a line on stdin, then call
 *       sanlock_acquire until it succeeds (every 20 ms after a failure
 *       that means "held": -243 IDLIVE, -244 OWNED, -247 OWNED_RETRY).
 *       Prints "acquired_at_us=WALL attempts=K wait_ms=MS".
 *
 * Exit 0, 1 on a failure, 2 on a bad command, 77 without libsanlock.
 */
#include "config.h"

#include <dlfcn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench/csvfs/stats.h"

/* From sanlock_rv.h (sanlock 3.x). */
#define SANLK_ACQUIRE_IDLIVE -243
#define SANLK_ACQUIRE_OWNED -244
#define SANLK_ACQUIRE_OWNED_RETRY -247

/* Opaque here: only the library looks inside. */
struct sanlk_resource;
struct sanlk_lockspace;
struct sanlk_options;

static int (*sl_register)(void);
static int (*sl_acquire)(int sock, int pid, uint32_t flags, int res_count,
			 struct sanlk_resource *res_args[], struct sanlk_options *opt_in);
static int (*sl_release)(int sock, int pid, uint32_t flags, int res_count,
			 struct sanlk_resource *res_args[]);
static int (*sl_str_to_res)(char *str, struct sanlk_resource **res_ret);
static int (*sl_str_to_lockspace)(char *str, struct sanlk_lockspace *ls);
static int (*sl_add_lockspace_timeout)(struct sanlk_lockspace *ls, uint32_t flags,
				       uint32_t io_timeout);
static int (*sl_rem_lockspace)(struct sanlk_lockspace *ls, uint32_t flags);

static struct bench_samples s_a, s_b;

static void usage(void)
{
	fprintf(stderr, "usage: bench_sanlock join LOCKSPACE [--io-timeout S] [--rounds R]\n"
			"       bench_sanlock latency RESOURCE [--rounds R]\n"
			"       bench_sanlock takeover RESOURCE\n");
	exit(2);
}

static void *sym(void *lib, const char *name)
{
	void *p = dlsym(lib, name);

	if (!p) {
		fprintf(stderr, "bench_sanlock: libsanlock has no %s\n", name);
		exit(77);
	}
	return p;
}

static void load(void)
{
	void *lib = dlopen("libsanlock.so.1", RTLD_NOW);

	if (!lib) {
		fprintf(stderr, "bench_sanlock: %s (apt-get install sanlock)\n", dlerror());
		exit(77);
	}
	/* POSIX: a data pointer from dlsym converts to a function pointer. */
	*(void **)&sl_register = sym(lib, "sanlock_register");
	*(void **)&sl_acquire = sym(lib, "sanlock_acquire");
	*(void **)&sl_release = sym(lib, "sanlock_release");
	*(void **)&sl_str_to_res = sym(lib, "sanlock_str_to_res");
	*(void **)&sl_str_to_lockspace = sym(lib, "sanlock_str_to_lockspace");
	*(void **)&sl_add_lockspace_timeout = sym(lib, "sanlock_add_lockspace_timeout");
	*(void **)&sl_rem_lockspace = sym(lib, "sanlock_rem_lockspace");
}

static int fail(int rc, const char *what)
{
	fprintf(stderr, "bench_sanlock: %s: error %d\n", what, rc);
	return 1;
}

static int cmd_join(char *spec, unsigned io_timeout, unsigned rounds)
{
	/* struct sanlk_lockspace is 1104 bytes in sanlock 3.x: room to spare. */
	static uint64_t ls_buf[4096 / sizeof(uint64_t)];
	struct sanlk_lockspace *ls = (struct sanlk_lockspace *)ls_buf;
	unsigned i;
	int rc;

	rc = sl_str_to_lockspace(spec, ls);
	if (rc < 0)
		return fail(rc, "lockspace string");
	s_a.name = "join";
	for (i = 0; i < rounds; i++) {
		double t0 = bench_mono_ms();

		rc = sl_add_lockspace_timeout(ls, 0, io_timeout);
		if (rc < 0)
			return fail(rc, "add_lockspace");
		bench_add(&s_a, bench_mono_ms() - t0);
		rc = sl_rem_lockspace(ls, 0);
		if (rc < 0)
			return fail(rc, "rem_lockspace");
	}
	printf("io_timeout_s=%u\n", io_timeout);
	bench_print(&s_a);
	return 0;
}

static int reg(char *spec, struct sanlk_resource **res)
{
	int sock, rc;

	rc = sl_str_to_res(spec, res);
	if (rc < 0) {
		fail(rc, "resource string");
		return -1;
	}
	sock = sl_register();
	if (sock < 0)
		fail(sock, "register (is the sanlock daemon running here?)");
	return sock;
}

static int one_round(int sock, struct sanlk_resource **res, int timed)
{
	double t0, t1, t2;
	int rc;

	t0 = bench_mono_ms();
	rc = sl_acquire(sock, -1, 0, 1, res, NULL);
	t1 = bench_mono_ms();
	if (rc < 0)
		return fail(rc, "acquire");
	rc = sl_release(sock, -1, 0, 1, res);
	t2 = bench_mono_ms();
	if (rc < 0)
		return fail(rc, "release");
	if (timed) {
		bench_add(&s_a, t1 - t0);
		bench_add(&s_b, t2 - t1);
	}
	return 0;
}

static int cmd_latency(char *spec, unsigned rounds)
{
	struct sanlk_resource *res;
	unsigned i;
	int sock = reg(spec, &res);

	if (sock < 0)
		return 1;
	s_a.name = "acquire";
	s_b.name = "release";
	if (one_round(sock, &res, 0))
		return 1;
	for (i = 0; i < rounds; i++)
		if (one_round(sock, &res, 1))
			return 1;
	bench_print(&s_a);
	bench_print(&s_b);
	return 0;
}

static int cmd_takeover(char *spec)
{
	struct sanlk_resource *res;
	unsigned attempts = 0;
	double t0;
	int rc, sock = reg(spec, &res);

	if (sock < 0)
		return 1;
	if (bench_wait_go() < 0)
		return 1;
	t0 = bench_mono_ms();
	for (;;) {
		attempts++;
		rc = sl_acquire(sock, -1, 0, 1, &res, NULL);
		if (rc == 0)
			break;
		if (rc != SANLK_ACQUIRE_IDLIVE && rc != SANLK_ACQUIRE_OWNED &&
		    rc != SANLK_ACQUIRE_OWNED_RETRY)
			return fail(rc, "acquire");
		bench_sleep_ms(20);
	}
	printf("acquired_at_us=%llu attempts=%u wait_ms=%.1f\n", bench_wall_us(), attempts,
	       bench_mono_ms() - t0);
	return 0;
}

int main(int argc, char **argv)
{
	unsigned io_timeout = 10, rounds = 50;
	char *cmd, *spec;
	int i;

	if (argc < 3)
		usage();
	cmd = argv[1];
	spec = argv[2];
	for (i = 3; i < argc; i++) {
		if (i + 1 >= argc)
			usage();
		if (strcmp(argv[i], "--io-timeout") == 0)
			io_timeout = bench_count(argv[++i], "io timeout");
		else if (strcmp(argv[i], "--rounds") == 0)
			rounds = bench_count(argv[++i], "rounds");
		else
			usage();
	}
	load();
	if (strcmp(cmd, "join") == 0)
		return cmd_join(spec, io_timeout, rounds);
	if (strcmp(cmd, "latency") == 0)
		return cmd_latency(spec, rounds);
	if (strcmp(cmd, "takeover") == 0)
		return cmd_takeover(spec);
	usage();
	return 2;
}
