/* csvfs lease acquire, release and show. */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>

#include <clusterd/result.h>

#include "csvfs/tool.h"

/* Open the volume and find the lease guarding name; prints errors. */
static int open_lease(struct tool_vol *t, char **argv, uint32_t *lease)
{
	char what[96];
	int rc;

	rc = tool_open(t, argv[0], 0);
	if (rc < 0)
		return rc;
	rc = csvfs_lease_lookup(&t->vol, argv[1], lease);
	if (rc < 0) {
		snprintf(what, sizeof(what), "lease %s", argv[1]);
		tool_fail(rc, what);
		tool_close(t);
	}
	return rc;
}

/* Acquire or release: both need the volume, the lease and --slot. */
static int change(char **argv, int acquire)
{
	struct csvfs_busy busy;
	struct csvfs_leader l;
	struct csvfs_host h;
	struct tool_vol t;
	uint32_t lease;
	char what[96];
	int rc;

	rc = open_lease(&t, argv, &lease);
	if (rc < 0)
		return rc;
	rc = tool_attach(&t, &h);
	if (rc < 0)
		goto out_close;
	snprintf(what, sizeof(what), "lease %s", argv[1]);
	if (!acquire) {
		rc = csvfs_lease_release(&t.vol, &h, lease);
		if (rc == CD_ERR_NOT_FOUND)
			fprintf(stderr, "csvfs: %s is not held by host %u\n", what, h.slot);
		else if (rc < 0)
			tool_fail(rc, what);
		else
			printf("released %s (host %u)\n", what, h.slot);
		goto out_close;
	}
	/* Deciding that a silent holder is dead takes the expiry time: say so. */
	if (csvfs_lease_read(&t.vol, lease, &l) == 0 && !(l.flags & CSVFS_LEADER_FREE) &&
	    !csvfs_leader_is(&l, &h))
		fprintf(stderr,
			"csvfs: %s is held by host %u: watching its host lease (up to %u ms)\n",
			what, l.owner, t.vol.timing.expiry_ms);
	rc = csvfs_lease_acquire(&t.vol, &h, lease, argv[1],
				 cmdline_opts.shared ? CSVFS_LEASE_SHARED : 0, &busy);
	if (rc == -EBUSY)
		tool_busy(what, &busy);
	else if (rc < 0)
		tool_fail(rc, what);
	else if (csvfs_lease_read(&t.vol, lease, &l) == 0)
		printf("acquired %s %s (version %" PRIu64 ") for host %u\n", what,
		       cmdline_opts.shared ? "shared" : "exclusively", l.lver, h.slot);
out_close:
	tool_close(&t);
	return rc;
}

int cmd_lease_acquire(char **argv, int argc)
{
	return change(argv, 1);
}

int cmd_lease_release(char **argv, int argc)
{
	return change(argv, 0);
}

static void print_lease(struct json_object *o)
{
	struct json_object *ballots;
	size_t i;

	print_lease_line(o, 1);
	if (!json_object_object_get_ex(o, "ballots", &ballots))
		return;
	printf("\n%-5s %-8s %8s %12s %12s %5s %s\n", "SLOT", "STATUS", "VERSION", "MBAL", "BAL",
	       "INP", "MODE");
	for (i = 0; i < json_object_array_length(ballots); i++) {
		struct json_object *b = json_object_array_get_idx(ballots, i);

		printf("%-5lld %-8s %8lld %12lld %12lld %5lld %s\n",
		       (long long)tool_jint(b, "slot"), tool_jstr(b, "status"),
		       (long long)tool_jint(b, "version"), (long long)tool_jint(b, "mbal"),
		       (long long)tool_jint(b, "bal"), (long long)tool_jint(b, "inp"),
		       tool_jstr(b, "mode"));
	}
}

static int lease_json(struct csvfs_vol *v, char **argv, struct json_object **o)
{
	uint32_t lease;
	int rc = csvfs_lease_lookup(v, argv[1], &lease);

	return rc < 0 ? rc : csvfs_report_lease(v, lease, cmdline_opts.ballots, o);
}

int cmd_lease_show(char **argv, int argc)
{
	char what[96];

	snprintf(what, sizeof(what), "lease %s", argv[1]);
	return tool_view(argv, what, lease_json, print_lease);
}
