/*
 * udp-probe.c - poll the test guest's agent and measure what a client sees.
 *
 *   udp-probe HOST [--port 7070] [--interval-ms 1] [--duration-s S | --count N]
 *             [--timeout-ms 1000] [--gap-report-ms 100] [--json] [--verbose]
 *   udp-probe HOST --once [--port 7070] [--timeout-ms 1000] [--message TEXT]
 *
 * Run mode sends one datagram every interval (until the duration or count is
 * reached, or until SIGINT/SIGTERM), takes every reply, waits --timeout-ms at
 * the end for stragglers, then reports:
 *   - sent, answered, lost (never answered), late (answered after more than
 *     --timeout-ms), duplicates, send/ICMP errors, round trip times;
 *   - the longest gap between two consecutive replies, where it was (ms since
 *     the start, the probe sequence numbers, the boot ids either side), and
 *     every gap longer than --gap-report-ms;
 *   - every boot id seen (first/last reply, count, and the agent's uptime in
 *     its earliest answer: how long it listened before a probe reached it)
 *     and every change of boot
 *     id in arrival order; "interleaved" is 1 if a boot id came back after
 *     another had answered (two guests answering at once), "overlap_ms" is
 *     the longest time two boots' reply spans overlapped; "agent_restarts"
 *     counts agent seq going backwards within one boot.
 * Times are milliseconds since start_unix_ms (CLOCK_MONOTONIC based).
 * Exit status: 0 if any reply came, 1 if none, 2 on usage or socket errors.
 *
 * --once sends one datagram (TEXT, default "udp-probe once"), waits up to
 * --timeout-ms and prints the reply; exit 0 if answered, else 1.
 *
 * Build: gcc -O2 -Wall -Wextra -Werror -o udp-probe udp-probe.c -lm
 */
#define _GNU_SOURCE
#include <errno.h>
#include <math.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_BOOTS 64
#define MAX_CHANGES 1024
#define MAX_GAPS 4096

struct boot {
	char id[33];
	double first_ms, last_ms;
	unsigned long replies;
	/*
	 * The agent's up_ms in the earliest answer of this boot: how long the
	 * guest's agent had been listening before a probe reached it. Small
	 * when the network found the guest at once; -1 if never given.
	 */
	long long first_up_ms;
};

struct change {
	double at_ms, gap_ms;
	int from, to; /* indexes into boots[] */
	unsigned long probe_seq;
};

struct gap {
	double from_ms, to_ms;
	unsigned long from_seq, to_seq;
	int from_boot, to_boot;
};

static volatile sig_atomic_t stop;
static struct timespec t0;

static struct boot boots[MAX_BOOTS];
static int nboots;
static struct change changes[MAX_CHANGES];
static int nchanges;
static unsigned long changes_dropped;
static struct gap gaps[MAX_GAPS];
static int ngaps;
static unsigned long gaps_dropped;

static double *sent_ms; /* per probe seq: send time, NAN if never answered */
static unsigned char *answered;
static unsigned long nsent, cap;

static void on_signal(int sig)
{
	(void)sig;
	stop++; /* a second signal also cuts the final wait short */
}

static double now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)(t.tv_sec - t0.tv_sec) * 1e3 + (double)(t.tv_nsec - t0.tv_nsec) / 1e6;
}

static void usage(void)
{
	fprintf(stderr, "usage: udp-probe HOST [--port 7070] [--interval-ms 1] "
			"[--duration-s S | --count N]\n"
			"                 [--timeout-ms 1000] [--gap-report-ms 100] "
			"[--json] [--verbose]\n"
			"       udp-probe HOST --once [--port 7070] [--timeout-ms 1000] "
			"[--message TEXT]\n");
	exit(2);
}

static double num_arg(const char *s)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || *end || !(v >= 0) || isinf(v))
		usage();
	return v;
}

static int connect_to(const char *host, const char *port)
{
	struct addrinfo hints, *res, *ai;
	int s = -1, rc;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_DGRAM;
	rc = getaddrinfo(host, port, &hints, &res);
	if (rc) {
		fprintf(stderr, "udp-probe: %s: %s\n", host, gai_strerror(rc));
		exit(2);
	}
	for (ai = res; ai; ai = ai->ai_next) {
		s = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
			   ai->ai_protocol);
		if (s < 0)
			continue;
		if (connect(s, ai->ai_addr, ai->ai_addrlen) == 0)
			break;
		close(s);
		s = -1;
	}
	freeaddrinfo(res);
	if (s < 0) {
		fprintf(stderr, "udp-probe: cannot reach %s: %s\n", host, strerror(errno));
		exit(2);
	}
	return s;
}

/* Copy the value of " key=" in a reply line; the value of echo= is the rest. */
static int field(const char *line, const char *key, char *out, size_t outsz)
{
	size_t klen = strlen(key), n = 0;
	const char *p = line;

	for (;;) {
		if (!strncmp(p, key, klen) && p[klen] == '=')
			break;
		p = strchr(p, ' ');
		if (!p)
			return 0;
		p++;
	}
	p += klen + 1;
	if (strcmp(key, "echo"))
		while (p[n] && p[n] != ' ' && p[n] != '\n')
			n++;
	else
		while (p[n] && p[n] != '\n')
			n++;
	if (n >= outsz)
		n = outsz - 1;
	memcpy(out, p, n);
	out[n] = '\0';
	return 1;
}

static int boot_index(const char *id, double t)
{
	int i;

	for (i = 0; i < nboots; i++)
		if (!strcmp(boots[i].id, id))
			return i;
	if (nboots == MAX_BOOTS)
		return MAX_BOOTS - 1; /* absurd; lump the rest together */
	{
		size_t n = strnlen(id, sizeof(boots[nboots].id) - 1);

		memcpy(boots[nboots].id, id, n);
		boots[nboots].id[n] = '\0';
	}
	boots[nboots].first_ms = t;
	boots[nboots].last_ms = t;
	boots[nboots].first_up_ms = -1;
	return nboots++;
}

static int once(int s, double timeout_ms, const char *req)
{
	char buf[2048];
	struct pollfd pfd = {.fd = s, .events = POLLIN};
	double deadline = now_ms() + timeout_ms;

	if (send(s, req, strlen(req), 0) < 0) {
		fprintf(stderr, "udp-probe: send: %s\n", strerror(errno));
		return 1;
	}
	for (;;) {
		double left = deadline - now_ms();
		ssize_t n;

		if (left <= 0)
			return 1;
		if (poll(&pfd, 1, (int)ceil(left)) <= 0)
			continue;
		n = recv(s, buf, sizeof(buf) - 1, 0);
		if (n < 0)
			continue; /* ECONNREFUSED: nobody listening yet */
		buf[n] = '\0';
		fputs(buf, stdout);
		if (n == 0 || buf[n - 1] != '\n')
			putchar('\n');
		return 0;
	}
}

int main(int argc, char **argv)
{
	const char *host = NULL, *port = "7070", *message = "udp-probe once";
	double interval = 1, duration = -1, timeout = 1000, gap_report = 100;
	long count = -1;
	int json = 0, verbose = 0, do_once = 0, s, i;
	unsigned long replies = 0, dups = 0, late = 0, lost = 0, send_err = 0, icmp_err = 0,
		      foreign = 0, agent_restarts = 0;
	unsigned long long last_agent_seq = 0;
	double rtt_min = INFINITY, rtt_max = 0, rtt_sum = 0;
	double first_reply = NAN, last_reply = NAN, next_send, end_ms, sending_end = 0;
	unsigned long last_seq = 0;
	int last_boot = -1, interleaved = 0;
	double max_overlap = 0;
	struct gap maxgap = {0, 0, 0, 0, -1, -1};
	struct timespec rt0;
	long long start_unix_ms;
	struct sigaction sa;

	for (i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (!strcmp(a, "--json"))
			json = 1;
		else if (!strcmp(a, "--verbose") || !strcmp(a, "-v"))
			verbose = 1;
		else if (!strcmp(a, "--once"))
			do_once = 1;
		else if (a[0] == '-' && a[1] == '-' && i + 1 < argc) {
			const char *v = argv[++i];

			if (!strcmp(a, "--port"))
				port = v;
			else if (!strcmp(a, "--interval-ms"))
				interval = num_arg(v);
			else if (!strcmp(a, "--duration-s"))
				duration = num_arg(v);
			else if (!strcmp(a, "--count"))
				count = (long)num_arg(v);
			else if (!strcmp(a, "--timeout-ms"))
				timeout = num_arg(v);
			else if (!strcmp(a, "--gap-report-ms"))
				gap_report = num_arg(v);
			else if (!strcmp(a, "--message"))
				message = v;
			else
				usage();
		} else if (a[0] != '-' && !host)
			host = a;
		else
			usage();
	}
	if (!host || (duration >= 0 && count >= 0) || interval <= 0)
		usage();

	clock_gettime(CLOCK_MONOTONIC, &t0);
	clock_gettime(CLOCK_REALTIME, &rt0);
	start_unix_ms = (long long)rt0.tv_sec * 1000 + rt0.tv_nsec / 1000000;
	s = connect_to(host, port);
	if (do_once)
		return once(s, timeout, message);

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	next_send = 0;
	end_ms = duration >= 0 ? duration * 1e3 : INFINITY;
	for (;;) {
		double now = now_ms();
		int sending = !stop && now < end_ms && (count < 0 || nsent < (unsigned long)count);
		struct pollfd pfd = {.fd = s, .events = POLLIN};
		struct timespec pt;
		double wait;

		if (!sending) {
			if (sending_end == 0)
				sending_end = now;
			if (now >= sending_end + timeout || nsent == replies - dups || stop > 1)
				break;
		}
		if (sending && now >= next_send) {
			char req[64];
			int len;

			if (nsent == cap) {
				unsigned long ncap = cap ? cap * 2 : 65536;
				double *ns = realloc(sent_ms, ncap * sizeof(*ns));
				unsigned char *na;

				if (!ns) {
					fprintf(stderr, "udp-probe: out of memory\n");
					return 2;
				}
				sent_ms = ns;
				na = realloc(answered, ncap);
				if (!na) {
					fprintf(stderr, "udp-probe: out of memory\n");
					return 2;
				}
				answered = na;
				cap = ncap;
			}
			len = snprintf(req, sizeof(req), "probe %lu", nsent);
			sent_ms[nsent] = now;
			answered[nsent] = 0;
			if (send(s, req, (size_t)len, 0) < 0) {
				if (errno == ECONNREFUSED)
					icmp_err++;
				else
					send_err++;
			}
			nsent++;
			next_send += interval;
			/* after a stall (suspended, overloaded) do not burst */
			if (now - next_send > 100 * interval)
				next_send = now + interval;
		}

		wait = sending ? next_send - now_ms() : sending_end + timeout - now_ms();
		if (wait < 0)
			wait = 0;
		pt.tv_sec = (time_t)(wait / 1e3);
		pt.tv_nsec = (long)((wait - (double)pt.tv_sec * 1e3) * 1e6);
		if (ppoll(&pfd, 1, &pt, NULL) <= 0)
			continue;

		for (;;) {
			char buf[2048], val[128];
			unsigned long pseq;
			unsigned long long aseq = 0;
			ssize_t n = recv(s, buf, sizeof(buf) - 1, 0);
			double t, rtt;
			int b;

			if (n < 0) {
				if (errno == ECONNREFUSED) {
					icmp_err++;
					continue;
				}
				break;
			}
			t = now_ms();
			buf[n] = '\0';
			if (!field(buf, "echo", val, sizeof(val)) ||
			    sscanf(val, "probe %lu", &pseq) != 1 || pseq >= nsent ||
			    !field(buf, "boot", val, sizeof(val))) {
				foreign++;
				continue;
			}
			replies++;
			if (answered[pseq]) {
				dups++;
				continue;
			}
			answered[pseq] = 1;
			rtt = t - sent_ms[pseq];
			if (rtt > timeout)
				late++;
			rtt_sum += rtt;
			if (rtt < rtt_min)
				rtt_min = rtt;
			if (rtt > rtt_max)
				rtt_max = rtt;

			b = boot_index(val, t);
			boots[b].replies++;
			boots[b].last_ms = t;
			if (field(buf, "up_ms", val, sizeof(val))) {
				long long up = strtoll(val, NULL, 10);

				if (boots[b].first_up_ms < 0 || up < boots[b].first_up_ms)
					boots[b].first_up_ms = up;
			}
			if (field(buf, "seq", val, sizeof(val)))
				aseq = strtoull(val, NULL, 10);

			if (isnan(first_reply)) {
				first_reply = t;
			} else {
				double g = t - last_reply;
				struct gap cur = {last_reply, t, last_seq, pseq, last_boot, b};

				if (g > maxgap.to_ms - maxgap.from_ms)
					maxgap = cur;
				if (g > gap_report) {
					if (ngaps < MAX_GAPS)
						gaps[ngaps++] = cur;
					else
						gaps_dropped++;
					if (verbose)
						fprintf(stderr,
							"udp-probe: %.3f ms gap "
							"at %.3f ms\n",
							g, last_reply);
				}
				if (b != last_boot) {
					int k;

					for (k = 0; k < nchanges; k++)
						if (changes[k].from == b)
							interleaved = 1;
					if (nchanges < MAX_CHANGES)
						changes[nchanges++] =
							(struct change){t, g, last_boot, b, pseq};
					else
						changes_dropped++;
					if (verbose)
						fprintf(stderr,
							"udp-probe: boot %s -> %s "
							"at %.3f ms (gap %.3f ms)\n",
							boots[last_boot].id, boots[b].id, t, g);
				} else if (aseq <= last_agent_seq) {
					agent_restarts++;
					if (verbose)
						fprintf(stderr,
							"udp-probe: agent restarted "
							"at %.3f ms\n",
							t);
				}
			}
			last_reply = t;
			last_seq = pseq;
			last_boot = b;
			last_agent_seq = aseq;
		}
	}

	for (unsigned long k = 0; k < nsent; k++)
		if (!answered[k])
			lost++;
	for (i = 0; i < nboots; i++)
		for (int j = i + 1; j < nboots; j++) {
			double lo = fmax(boots[i].first_ms, boots[j].first_ms);
			double hi = fmin(boots[i].last_ms, boots[j].last_ms);

			if (hi - lo > max_overlap)
				max_overlap = hi - lo;
		}
	if (max_overlap > 0)
		interleaved = 1;
	{
		unsigned long answered_n = replies - dups;
		double avg = answered_n ? rtt_sum / (double)answered_n : 0;
		double mg = maxgap.to_ms - maxgap.from_ms;

		if (!answered_n)
			rtt_min = 0;
		if (json) {
			printf("{\"host\":\"%s\",\"port\":%s,\"interval_ms\":%g,"
			       "\"start_unix_ms\":%lld,\"end_ms\":%.3f,"
			       "\"sent\":%lu,\"answered\":%lu,\"lost\":%lu,"
			       "\"late\":%lu,\"duplicates\":%lu,"
			       "\"send_errors\":%lu,\"icmp_errors\":%lu,"
			       "\"foreign\":%lu,",
			       host, port, interval, start_unix_ms, sending_end, nsent, answered_n,
			       lost, late, dups, send_err, icmp_err, foreign);
			printf("\"rtt_ms\":{\"min\":%.3f,\"avg\":%.3f,\"max\":%.3f},", rtt_min, avg,
			       rtt_max);
			if (answered_n)
				printf("\"first_reply_ms\":%.3f,"
				       "\"last_reply_ms\":%.3f,",
				       first_reply, last_reply);
			else
				printf("\"first_reply_ms\":null,"
				       "\"last_reply_ms\":null,");
			printf("\"max_gap\":{\"ms\":%.3f,\"from_ms\":%.3f,"
			       "\"to_ms\":%.3f,\"from_seq\":%lu,\"to_seq\":%lu,"
			       "\"from_boot\":\"%s\",\"to_boot\":\"%s\"},",
			       mg, maxgap.from_ms, maxgap.to_ms, maxgap.from_seq, maxgap.to_seq,
			       maxgap.from_boot >= 0 ? boots[maxgap.from_boot].id : "",
			       maxgap.to_boot >= 0 ? boots[maxgap.to_boot].id : "");
			printf("\"gaps\":[");
			for (i = 0; i < ngaps; i++)
				printf("%s{\"ms\":%.3f,\"from_ms\":%.3f,"
				       "\"to_ms\":%.3f,\"boot_changed\":%s}",
				       i ? "," : "", gaps[i].to_ms - gaps[i].from_ms,
				       gaps[i].from_ms, gaps[i].to_ms,
				       gaps[i].from_boot != gaps[i].to_boot ? "true" : "false");
			printf("],\"gaps_dropped\":%lu,\"boots\":[", gaps_dropped);
			for (i = 0; i < nboots; i++)
				printf("%s{\"id\":\"%s\",\"first_ms\":%.3f,"
				       "\"last_ms\":%.3f,\"replies\":%lu,"
				       "\"first_up_ms\":%lld}",
				       i ? "," : "", boots[i].id, boots[i].first_ms,
				       boots[i].last_ms, boots[i].replies, boots[i].first_up_ms);
			printf("],\"boot_changes\":[");
			for (i = 0; i < nchanges; i++)
				printf("%s{\"at_ms\":%.3f,\"gap_ms\":%.3f,"
				       "\"from\":\"%s\",\"to\":\"%s\"}",
				       i ? "," : "", changes[i].at_ms, changes[i].gap_ms,
				       boots[changes[i].from].id, boots[changes[i].to].id);
			printf("],\"interleaved\":%s,\"overlap_ms\":%.3f,"
			       "\"agent_restarts\":%lu}\n",
			       interleaved ? "true" : "false", max_overlap, agent_restarts);
		} else {
			printf("host %s port %s interval_ms %g start_unix_ms %lld "
			       "end_ms %.3f\n",
			       host, port, interval, start_unix_ms, sending_end);
			printf("sent %lu answered %lu lost %lu late %lu "
			       "duplicates %lu send_errors %lu icmp_errors %lu "
			       "foreign %lu\n",
			       nsent, answered_n, lost, late, dups, send_err, icmp_err, foreign);
			printf("rtt_ms min %.3f avg %.3f max %.3f\n", rtt_min, avg, rtt_max);
			if (answered_n)
				printf("first_reply_ms %.3f last_reply_ms %.3f\n", first_reply,
				       last_reply);
			printf("max_gap_ms %.3f from_ms %.3f to_ms %.3f "
			       "from_seq %lu to_seq %lu\n",
			       mg, maxgap.from_ms, maxgap.to_ms, maxgap.from_seq, maxgap.to_seq);
			for (i = 0; i < ngaps; i++)
				printf("gap ms %.3f from_ms %.3f to_ms %.3f%s\n",
				       gaps[i].to_ms - gaps[i].from_ms, gaps[i].from_ms,
				       gaps[i].to_ms,
				       gaps[i].from_boot != gaps[i].to_boot ? " boot_changed" : "");
			for (i = 0; i < nboots; i++)
				printf("boot %s first_ms %.3f last_ms %.3f "
				       "replies %lu first_up_ms %lld\n",
				       boots[i].id, boots[i].first_ms, boots[i].last_ms,
				       boots[i].replies, boots[i].first_up_ms);
			for (i = 0; i < nchanges; i++)
				printf("boot_change at_ms %.3f gap_ms %.3f from %s "
				       "to %s\n",
				       changes[i].at_ms, changes[i].gap_ms,
				       boots[changes[i].from].id, boots[changes[i].to].id);
			printf("boots %d boot_changes %d interleaved %d "
			       "overlap_ms %.3f agent_restarts %lu\n",
			       nboots, nchanges, interleaved, max_overlap, agent_restarts);
		}
		return answered_n ? 0 : 1;
	}
}
