/*
 * agent.c - the clusterd test guest's agent.
 *
 * Runs inside the test guest (started and restarted by the initramfs's
 * /init) and gives the lab something to measure:
 *
 *  - a UDP echo service (port 7070): every datagram is answered with one line
 *      boot=<boot id> seq=<n> up_ms=<ms> dirtied_mb=<n> echo=<request head>
 *    <boot id> is 32 random hex digits made once per boot (kept in
 *    a file on the initramfs, so an agent restart keeps it and only a new
 *    boot changes it): a client sees a migrated guest keep its boot id and a
 *    restarted one change it.  seq counts replies since the agent started,
 *    up_ms is the time since the agent started, dirtied_mb the MiB the memory
 *    dirtier has rewritten so far.
 *  - a memory dirtier, set from the kernel command line:
 *      dirty_mb=N           allocate N MiB (touched once, so it is in use)
 *      dirty_rate_mbps=R    rewrite about R MiB of it per second (one write
 *                           per 4 KiB page); "max" = as fast as it can.
 *    Defaults 0: off.
 *    A request "!agent-exit" makes the agent exit (status 3) unanswered, so a
 *    test can check that /init restarts it (same boot id, seq from 1).
 *  - "READY <ip> boot=<id>" on stdout (the console) once it is listening,
 *    and "DIRTY allocated ..." once the dirtier's memory is in use.
 *
 * Options (for use outside the guest; the guest uses the defaults):
 *   --port N            UDP port (default 7070, or agent_port= on the cmdline)
 *   --cmdline FILE      read settings from FILE instead of /proc/cmdline
 *   --boot-id-file F    keep the boot id in F (created if absent)
 *   --dirty-mb N, --dirty-rate R   override the command line
 *
 * Build: gcc -static -O2 -Wall -Wextra -Werror -pthread -o agent agent.c
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define DEFAULT_PORT 7070
#define ECHO_MAX 64
#define PAGE 4096UL
#define TICK_NS 10000000L /* dirtier pacing: 10 ms */

static char boot_id[33];
static struct timespec t_start;
static atomic_ullong dirtied_pages;

struct dirty_conf {
	unsigned long mb;
	long rate; /* MiB/s; -1 = flat out; 0 = allocate only */
};

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf) - 1, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n > sizeof(buf) - 2)
		n = sizeof(buf) - 2;
	buf[n++] = '\n';
	/* one write per line: lines from both threads never interleave */
	if (write(STDOUT_FILENO, buf, (size_t)n) < 0) {
		/* nowhere to report it */
	}
}

static uint64_t ms_since(const struct timespec *t0)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (uint64_t)(now.tv_sec - t0->tv_sec) * 1000u +
	       (uint64_t)((now.tv_nsec - t0->tv_nsec) / 1000000L);
}

static int64_t ns_since(const struct timespec *t0)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (int64_t)(now.tv_sec - t0->tv_sec) * 1000000000LL + (now.tv_nsec - t0->tv_nsec);
}

static int read_all(const char *path, char *buf, size_t size)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	size_t got = 0;
	ssize_t n;

	if (fd < 0)
		return -1;
	while (got < size - 1 && (n = read(fd, buf + got, size - 1 - got)) > 0)
		got += (size_t)n;
	close(fd);
	buf[got] = '\0';
	return (int)got;
}

static int is_hex_id(const char *s)
{
	size_t i;

	for (i = 0; i < 32; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return 1;
}

static void make_boot_id(const char *file)
{
	unsigned char raw[16];
	char buf[64];
	struct timespec t;
	uint64_t mix;
	size_t i;
	int fd;

	if (file && read_all(file, buf, sizeof(buf)) >= 32 && is_hex_id(buf)) {
		memcpy(boot_id, buf, 32);
		boot_id[32] = '\0';
		return;
	}
	/*
	 * The /dev/urandom source without its wait: before the kernel's crng
	 * is ready (about 1 s after /init under TCG), reading /dev/urandom
	 * first runs the jitter entropy collector, which delayed READY by 1 s.
	 * An id that only has to differ between boots does not need that.
	 */
	if (getrandom(raw, sizeof(raw), GRND_INSECURE) != (ssize_t)sizeof(raw)) {
		fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
		if (fd < 0 || read(fd, raw, sizeof(raw)) != (ssize_t)sizeof(raw))
			memset(raw, 0, sizeof(raw));
		if (fd >= 0)
			close(fd);
	}
	/* and never the same id twice, even from an unseeded crng */
	clock_gettime(CLOCK_REALTIME, &t);
	mix = (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
	clock_gettime(CLOCK_MONOTONIC, &t);
	mix ^= ((uint64_t)t.tv_nsec << 32) ^ (uint64_t)t.tv_sec ^ ((uint64_t)getpid() << 48);
	for (i = 0; i < 8; i++)
		raw[i] ^= (unsigned char)(mix >> (8 * i));
	for (i = 0; i < sizeof(raw); i++)
		snprintf(boot_id + 2 * i, 3, "%02x", raw[i]);
	if (file) {
		char tmp[4096];

		snprintf(tmp, sizeof(tmp), "%s.tmp", file);
		fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		if (fd >= 0) {
			int ok = write(fd, boot_id, 32) == 32;

			close(fd);
			if (!ok || rename(tmp, file) < 0)
				unlink(tmp);
		}
	}
}

/* Value of KEY=... in a kernel command line, copied into out. */
static int cmdline_get(const char *cmdline, const char *key, char *out, size_t outsz)
{
	size_t klen = strlen(key);
	const char *p = cmdline;

	while (*p) {
		while (*p == ' ' || *p == '\n' || *p == '\t')
			p++;
		if (!strncmp(p, key, klen) && p[klen] == '=') {
			size_t n = 0;

			p += klen + 1;
			while (p[n] && p[n] != ' ' && p[n] != '\n' && p[n] != '\t')
				n++;
			if (n >= outsz)
				n = outsz - 1;
			memcpy(out, p, n);
			out[n] = '\0';
			return 1;
		}
		while (*p && *p != ' ' && *p != '\n' && *p != '\t')
			p++;
	}
	return 0;
}

static int parse_ulong(const char *s, unsigned long *v)
{
	char *end;

	errno = 0;
	*v = strtoul(s, &end, 10);
	return errno == 0 && end != s && *end == '\0' && s[0] != '-';
}

static int parse_rate(const char *s, long *v)
{
	unsigned long u;

	if (!strcmp(s, "max") || !strcmp(s, "-1")) {
		*v = -1;
		return 1;
	}
	if (!parse_ulong(s, &u) || u > 1000000)
		return 0;
	*v = (long)u;
	return 1;
}

/* Address to announce: ip= from the command line, else eth0's, else any. */
static void guest_ip(const char *cmdline, char *out, size_t outsz)
{
	struct ifaddrs *ifa, *i;
	char *slash;

	if (cmdline_get(cmdline, "ip", out, outsz)) {
		slash = strchr(out, '/');
		if (slash)
			*slash = '\0';
		if (*out)
			return;
	}
	snprintf(out, outsz, "0.0.0.0");
	if (getifaddrs(&ifa) < 0)
		return;
	for (i = ifa; i; i = i->ifa_next) {
		if (!i->ifa_addr || i->ifa_addr->sa_family != AF_INET ||
		    (i->ifa_flags & IFF_LOOPBACK))
			continue;
		inet_ntop(AF_INET, &((struct sockaddr_in *)i->ifa_addr)->sin_addr, out,
			  (socklen_t)outsz);
		if (!strcmp(i->ifa_name, "eth0"))
			break;
	}
	freeifaddrs(ifa);
}

static void ts_add_ns(struct timespec *t, long ns)
{
	t->tv_nsec += ns;
	while (t->tv_nsec >= 1000000000L) {
		t->tv_nsec -= 1000000000L;
		t->tv_sec++;
	}
}

static void *dirtier(void *arg)
{
	const struct dirty_conf *dc = arg;
	size_t npages = dc->mb * (1024 * 1024 / PAGE), i = 0;
	uint64_t pass = 1;
	unsigned char *mem;
	struct timespec next;
	double per_tick, credit = 0;

	/* never let the dirtier delay the echo replies */
	setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid), 19);

	mem = mmap(NULL, npages * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED) {
		say("DIRTY failed: cannot allocate %lu MiB: %s", dc->mb, strerror(errno));
		return NULL;
	}
	/* fill every page with non-zero data: migration must copy it all */
	for (i = 0; i < npages; i++)
		memset(mem + i * PAGE, (int)(i % 255) + 1, PAGE);
	say("DIRTY allocated %lu MiB rate=%ld MiB/s%s", dc->mb, dc->rate,
	    dc->rate < 0 ? " (max)" : "");
	if (dc->rate == 0)
		return NULL; /* memory in use, never rewritten */

	per_tick = (double)dc->rate * (1024.0 * 1024.0 / PAGE) * ((double)TICK_NS / 1e9);
	clock_gettime(CLOCK_MONOTONIC, &next);
	i = 0;
	for (;;) {
		size_t n;

		if (dc->rate < 0) {
			n = 256; /* 1 MiB at a time, flat out */
		} else {
			ts_add_ns(&next, TICK_NS);
			while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, NULL) ==
			       EINTR)
				;
			credit += per_tick;
			n = (size_t)credit;
			credit -= (double)n;
			/* after a long stall (migration pause), do not catch up */
			if (ns_since(&next) > 1000000000LL) {
				clock_gettime(CLOCK_MONOTONIC, &next);
				credit = 0;
			}
		}
		for (size_t k = 0; k < n; k++) {
			uint64_t *w = (uint64_t *)(mem + i * PAGE);

			w[(pass + i) % (PAGE / sizeof(*w))] = (pass << 32) | i | 1;
			if (++i == npages) {
				i = 0;
				pass++;
			}
		}
		atomic_fetch_add_explicit(&dirtied_pages, n, memory_order_relaxed);
	}
	return NULL;
}

static void usage(void)
{
	fprintf(stderr, "usage: agent [--port N] [--cmdline FILE] "
			"[--boot-id-file FILE] [--dirty-mb N] "
			"[--dirty-rate R|max]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	const char *cmdline_file = "/proc/cmdline", *boot_id_file = NULL;
	const char *opt_mb = NULL, *opt_rate = NULL, *opt_port = NULL;
	char cmdline[4096], val[64], ip[64];
	struct dirty_conf dc = {0, 0};
	struct sockaddr_in sin;
	unsigned long port = DEFAULT_PORT, u;
	unsigned long long seq = 0;
	int s, i, rcvbuf = 1 << 20;

	for (i = 1; i < argc; i++) {
		if (i + 1 >= argc)
			usage();
		if (!strcmp(argv[i], "--port"))
			opt_port = argv[++i];
		else if (!strcmp(argv[i], "--cmdline"))
			cmdline_file = argv[++i];
		else if (!strcmp(argv[i], "--boot-id-file"))
			boot_id_file = argv[++i];
		else if (!strcmp(argv[i], "--dirty-mb"))
			opt_mb = argv[++i];
		else if (!strcmp(argv[i], "--dirty-rate"))
			opt_rate = argv[++i];
		else
			usage();
	}

	clock_gettime(CLOCK_MONOTONIC, &t_start);
	signal(SIGPIPE, SIG_IGN);
	if (read_all(cmdline_file, cmdline, sizeof(cmdline)) < 0)
		cmdline[0] = '\0';

	if (cmdline_get(cmdline, "agent_port", val, sizeof(val)) && parse_ulong(val, &u))
		port = u;
	if (opt_port && !parse_ulong(opt_port, &port))
		usage();
	if (port == 0 || port > 65535)
		usage();

	if (cmdline_get(cmdline, "dirty_mb", val, sizeof(val)) && !parse_ulong(val, &dc.mb))
		say("agent: ignoring bad dirty_mb=%s", val);
	if (cmdline_get(cmdline, "dirty_rate_mbps", val, sizeof(val)) && !parse_rate(val, &dc.rate))
		say("agent: ignoring bad dirty_rate_mbps=%s", val);
	if (opt_mb && !parse_ulong(opt_mb, &dc.mb))
		usage();
	if (opt_rate && !parse_rate(opt_rate, &dc.rate))
		usage();

	make_boot_id(boot_id_file);

	s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (s < 0) {
		say("agent: socket: %s", strerror(errno));
		return 1;
	}
	setsockopt(s, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)port);
	sin.sin_addr.s_addr = htonl(INADDR_ANY);
	if (bind(s, (struct sockaddr *)&sin, sizeof(sin)) < 0) {
		say("agent: bind port %lu: %s", port, strerror(errno));
		return 1;
	}

	if (dc.mb > 0) {
		static struct dirty_conf dcs;
		pthread_t th;
		pthread_attr_t attr;

		dcs = dc;
		pthread_attr_init(&attr);
		pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
		if (pthread_create(&th, &attr, dirtier, &dcs) != 0)
			say("agent: cannot start the memory dirtier");
		pthread_attr_destroy(&attr);
	}

	guest_ip(cmdline, ip, sizeof(ip));
	say("agent: port=%lu dirty_mb=%lu dirty_rate_mbps=%ld", port, dc.mb, dc.rate);
	say("READY %s boot=%s", ip, boot_id);

	for (;;) {
		char req[2048], echo[ECHO_MAX + 1], reply[256];
		struct sockaddr_storage from;
		socklen_t fromlen = sizeof(from);
		ssize_t n = recvfrom(s, req, sizeof(req), 0, (struct sockaddr *)&from, &fromlen);
		size_t k;
		int len;

		if (n < 0) {
			if (errno == EINTR)
				continue;
			say("agent: recvfrom: %s", strerror(errno));
			sleep(1);
			continue;
		}
		for (k = 0; k < (size_t)n && k < ECHO_MAX; k++) {
			unsigned char c = (unsigned char)req[k];

			if (c == '\n' || c == '\r' || c == '\0')
				break;
			echo[k] = (c >= 0x20 && c < 0x7f) ? (char)c : '.';
		}
		echo[k] = '\0';
		/* lab hook: lets a test check that /init restarts the agent */
		if (!strcmp(echo, "!agent-exit")) {
			say("agent: exit requested");
			return 3;
		}
		len = snprintf(reply, sizeof(reply),
			       "boot=%s seq=%llu up_ms=%llu dirtied_mb=%llu "
			       "echo=%s\n",
			       boot_id, ++seq, (unsigned long long)ms_since(&t_start),
			       (unsigned long long)(atomic_load_explicit(&dirtied_pages,
									 memory_order_relaxed) /
						    (1024 * 1024 / PAGE)),
			       echo);
		if (len > 0 && (size_t)len >= sizeof(reply))
			len = sizeof(reply) - 1;
		if (len > 0)
			sendto(s, reply, (size_t)len, MSG_DONTWAIT, (struct sockaddr *)&from,
			       fromlen);
	}
}
