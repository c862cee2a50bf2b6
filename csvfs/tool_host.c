/* csvfs host join, renew, release and status. */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <clusterd/result.h>

#include "csvfs/tool.h"
#include "lib/util.h"

static volatile sig_atomic_t stop_signalled;

static void on_signal(int sig)
{
	stop_signalled = 1;
}

/* The owner name: --owner, else the host name. */
static const char *owner_name(char *buf, size_t n)
{
	if (cmdline_opts.owner)
		return cmdline_opts.owner;
	if (gethostname(buf, n) < 0 || !cd_valid_name(buf, CSVFS_NAME_LEN - 1))
		cd_strlcpy(buf, "unknown", n);
	return buf;
}

/*
 * The holder's own rule may be stricter than the volume's (a shorter
 * expiry makes it stop sooner), never looser: readers use the volume's.
 */
static int holder_timing(const struct csvfs_vol *v, struct csvfs_timing *t)
{
	uint32_t e = cmdline_opts.expiry_ms ? cmdline_opts.expiry_ms : v->timing.expiry_ms;
	uint32_t r = cmdline_opts.interval_ms ? cmdline_opts.interval_ms : v->timing.renewal_ms;

	if (e > v->timing.expiry_ms) {
		fprintf(stderr, "csvfs: --expiry-ms may not exceed the volume's %" PRIu32 " ms\n",
			v->timing.expiry_ms);
		return CD_ERR_INVALID;
	}
	if (csvfs_timing_init(t, e, r) < 0) {
		csvfs_timing_init(t, e, 0);
		fprintf(stderr, "csvfs: --interval-ms must be at most %" PRIu32 " ms\n",
			t->use_ms / 2);
		return CD_ERR_INVALID;
	}
	return 0;
}

static void sleep_until(uint64_t when)
{
	uint64_t now = cd_now_ms();
	struct timespec ts;

	if (now >= when)
		return;
	ts.tv_sec = (time_t)((when - now) / 1000);
	ts.tv_nsec = (long)((when - now) % 1000) * 1000000;
	/* A signal ends the sleep early; the caller looks at stop_signalled. */
	nanosleep(&ts, NULL);
}

static int renew_loop(struct tool_vol *t, struct csvfs_host *h)
{
	uint64_t next = cd_now_ms() + t->vol.timing.renewal_ms;
	int rc, failing = 0;

	while (!stop_signalled) {
		sleep_until(next);
		if (stop_signalled)
			break;
		next = cd_now_ms() + t->vol.timing.renewal_ms;
		rc = csvfs_host_renew(&t->vol, h);
		if (rc == 0) {
			if (failing)
				fprintf(stderr, "csvfs: slot %u: renewing again\n", h->slot);
			failing = 0;
			continue;
		}
		if (rc == -ESTALE)
			return tool_fail(rc, "host slot");
		if (!csvfs_host_valid(&t->vol, h)) {
			fprintf(stderr,
				"csvfs: slot %u: host lease lost (no renewal counted for %u ms): "
				"its leases must not be used any more\n",
				h->slot, t->vol.timing.use_ms);
			return CD_ERR_TIMEOUT;
		}
		if (!failing)
			fprintf(stderr, "csvfs: slot %u: renewal failed: %s\n", h->slot,
				rc == CD_ERR_TIMEOUT ? "too slow to count" : cd_strerror(rc));
		failing = 1;
	}
	return 0;
}

int cmd_host_join(char **argv, int argc)
{
	struct sigaction sa = {.sa_handler = on_signal};
	struct csvfs_host_rec busy;
	struct csvfs_timing holder;
	struct csvfs_host h;
	struct tool_vol t;
	char host[CSVFS_NAME_LEN], what[32];
	int rc;

	rc = tool_open(&t, argv[0], 0);
	if (rc < 0)
		return rc;
	rc = holder_timing(&t.vol, &holder);
	if (rc < 0)
		goto out_close;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	snprintf(what, sizeof(what), "host slot %u", cmdline_opts.slot);
	rc = csvfs_host_join(&t.vol, cmdline_opts.slot, owner_name(host, sizeof(host)), &h, &busy);
	if (rc == -EBUSY) {
		fprintf(stderr, "csvfs: %s is held by %s (alive)\n", what,
			busy.owner[0] ? busy.owner : "another host");
		goto out_close;
	}
	if (rc < 0) {
		tool_fail(rc, what);
		goto out_close;
	}
	/* Readers keep the volume's rule; from now on this host is only a holder. */
	t.vol.timing = holder;
	printf("joined slot %u of %s as %s (generation %" PRIu64 "), renewing every %u ms\n",
	       h.slot, t.vol.sb.name, h.owner, h.generation, holder.renewal_ms);
	fflush(stdout);
	rc = renew_loop(&t, &h);
	if (rc == 0)
		fprintf(stderr,
			"csvfs: slot %u: stopped renewing; its leases expire %u ms after the last "
			"renewal unless released with csvfs host release\n",
			h.slot, holder.expiry_ms);
out_close:
	tool_close(&t);
	return rc;
}

/* Attach to --slot and run fn on it (renew or release). */
static int on_slot(char **argv, int (*fn)(struct csvfs_vol *v, struct csvfs_host *h),
		   const char *done)
{
	struct csvfs_host h;
	struct tool_vol t;
	char what[32];
	int rc;

	rc = tool_open(&t, argv[0], 0);
	if (rc < 0)
		return rc;
	rc = tool_attach(&t, &h);
	if (rc == 0) {
		snprintf(what, sizeof(what), "host slot %u", cmdline_opts.slot);
		rc = fn(&t.vol, &h);
		if (rc < 0)
			tool_fail(rc, what);
		else
			printf("%s %s (generation %" PRIu64 ", counter %" PRIu64 ")\n", what, done,
			       h.generation, h.counter);
	}
	tool_close(&t);
	return rc;
}

int cmd_host_renew(char **argv, int argc)
{
	return on_slot(argv, csvfs_host_renew, "renewed");
}

int cmd_host_release(char **argv, int argc)
{
	return on_slot(argv, csvfs_host_release, "released");
}

static void print_status(struct json_object *o)
{
	printf("host slot %lld: %s\n", (long long)tool_jint(o, "slot"), tool_jstr(o, "liveness"));
}

static int status_json(struct csvfs_vol *v, char **argv, struct json_object **o)
{
	enum csvfs_liveness l;
	int rc = csvfs_watch_wait(v, cmdline_opts.slot, 0, &l);

	if (rc < 0)
		return rc;
	*o = json_object_new_object();
	json_object_object_add(*o, "slot", json_object_new_int((int)cmdline_opts.slot));
	json_object_object_add(*o, "liveness", json_object_new_string(csvfs_liveness_str(l)));
	return 0;
}

int cmd_host_status(char **argv, int argc)
{
	return tool_view(argv, NULL, status_json, print_status);
}
