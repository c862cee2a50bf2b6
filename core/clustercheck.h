/*
 * `clusterctl cluster check`: what the cluster's set-up lacks, each check
 * a verdict (ok, warn, fail) with what was found and what to do. Pure: the
 * daemon hands in the state, the failover paths (failpath.h) and what only
 * it can see (membership, clock offsets, volume visibility) as callbacks.
 *
 * The checks, in order:
 *   members          every node of the state is a current member
 *   nodelist         every node of corosync's nodelist has joined: a node
 *                    configured there that is not a member and that the
 *                    state has never held fails when the members have no
 *                    vote to spare (quorum is lost, or lost with one more
 *                    member gone), and warns otherwise: its vote counts in
 *                    the expected votes, so the cluster tolerates fewer
 *                    failures than its nodelist suggests
 *   corosync-config  every member's corosync runs the same totem, nodelist
 *                    and quorum settings (their SHA-256 is the same)
 *   crypto           corosync's crypto_cipher and crypto_hash are on (not
 *                    "none") on every member
 *   clocks           every member's wall clock is within
 *                    CD_CHECK_CLOCK_WARN_MS (warn) or CD_CHECK_CLOCK_FAIL_MS
 *                    (fail) of this node's, each offset told with its age;
 *                    one older than clock_max_age_ms counts as not known
 *                    (warn)
 *   versions         every member told its libvirt and QEMU versions
 *                    (fail if not), the same major.minor (warn if not:
 *                    migration to an older one may fail)
 *   volumes          every member sees each shared volume with its UUID
 *   failover         every placed VM has a failover path (fail if not);
 *                    every node's death can be confirmed (warn if not)
 * A node that is not a member is reported by the first check only: what
 * the state holds of it is old.
 */
#ifndef CD_CLUSTERCHECK_H
#define CD_CLUSTERCHECK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

#include "core/failpath.h"
#include "core/state.h"

/*
 * Clock offsets: corosync and the leases use monotonic time only, but the
 * logs, events, failure periods, failback windows and maintenance schedules
 * use the wall clock of whichever node writes them; half a second makes
 * the events of two nodes read out of order, five seconds makes a
 * failover-grace or a failure period end early on one node.
 */
#define CD_CHECK_CLOCK_WARN_MS 500
#define CD_CHECK_CLOCK_FAIL_MS 5000

/*
 * How old a clock offset may be and still count. The members stamp their
 * wall clock on every state check (state_check_interval_ms) and every sync
 * report, so an offset is at most one interval old while the checks run;
 * twice the interval lets one round be late or lost. At least
 * CD_CHECK_CLOCK_AGE_MIN_MS (a short interval's round may be slow on a
 * large state), at most CD_CHECK_CLOCK_AGE_MAX_MS: a clock without NTP
 * strays some 50 ppm, under 200 ms an hour, so an hour-old offset still
 * tells; an older one may predate a clock set by hand or a stopped NTP
 * client. With state checks off (interval 0) offsets come from membership
 * changes only, and the bound is CD_CHECK_CLOCK_AGE_MAX_MS.
 */
#define CD_CHECK_CLOCK_AGE_MIN_MS 60000
#define CD_CHECK_CLOCK_AGE_MAX_MS 3600000
uint64_t cd_check_clock_max_age_ms(uint64_t state_check_interval_ms);

enum cd_check_verdict { CD_CHECK_OK, CD_CHECK_WARN, CD_CHECK_FAIL };
const char *cd_check_verdict_to_str(enum cd_check_verdict v);

#define CD_CHECK_TEXT_MAX 1024
#define CD_CHECK_FIX_MAX 512

struct cd_check_result {
	const char *name;
	enum cd_check_verdict verdict;
	char text[CD_CHECK_TEXT_MAX]; /* what was found, one or more sentences */
	char fix[CD_CHECK_FIX_MAX];   /* what to do; "" when ok */
};

enum cd_check_id {
	CD_CHECK_MEMBERS,
	CD_CHECK_NODELIST,
	CD_CHECK_COROSYNC,
	CD_CHECK_CRYPTO,
	CD_CHECK_CLOCKS,
	CD_CHECK_VERSIONS,
	CD_CHECK_VOLUMES,
	CD_CHECK_FAILOVER,
	CD_CHECK_N
};

struct cd_check_input {
	const struct cd_state *s;
	const struct cd_failpath *fp;
	/* This node's id: its clock is the one the others are measured against. */
	uint32_t local_id;
	/* Whether node id is a current member (reachable from this node). */
	bool (*reachable)(uint32_t id, void *ctx);
	/*
	 * Node id's wall clock minus this node's in *offset_ms, measured
	 * *age_ms ago: 0, or -1 when not measured.
	 */
	int (*clock)(uint32_t id, int64_t *offset_ms, uint64_t *age_ms, void *ctx);
	/* An offset older than this counts as not measured (cd_check_clock_max_age_ms()). */
	uint64_t clock_max_age_ms;
	/*
	 * Whether node id sees volume vol with the volume's UUID: 1 yes, 0
	 * no, -1 this node cannot tell (it cannot read the volume itself).
	 */
	int (*sees_volume)(const struct cd_volume *vol, uint32_t id, void *ctx);
	void *ctx;
	/*
	 * corosync's nodelist as this node's corosync runs it (id, name and
	 * addresses of each node; n_nodelist < 0: it could not be read), and
	 * its quorum: whether this node's partition is quorate, the votes
	 * of its members and the votes quorum needs (0, 0: not known).
	 */
	const struct cd_node_info *nodelist;
	int n_nodelist;
	bool quorate;
	uint32_t total_votes, quorum_votes;
};

/* Run every check into out[CD_CHECK_N]. */
void cd_check_run(const struct cd_check_input *in, struct cd_check_result *out);

/* The worst verdict of the n results. */
enum cd_check_verdict cd_check_worst(const struct cd_check_result *r, size_t n);

/*
 * {"checks": [{"name", "verdict", "text", "fix"}], "verdict"} of the n
 * results. A new object.
 */
struct json_object *cd_check_to_json(const struct cd_check_result *r, size_t n);

/* A duration in ms as text in buf ("350 ms", "42 s", "5 min", "3 h"), for an age. */
const char *cd_check_age_str(uint64_t ms, char *buf, size_t len);

/* A libvirt-encoded version (major * 1e6 + minor * 1e3 + micro) as "M.m.u" in buf. */
const char *cd_check_version_str(uint64_t v, char *buf, size_t len);

#endif
