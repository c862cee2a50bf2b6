#include "config.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "console/metrics.h"
#include "lib/jsonget.h"

/* --- the families --- */

enum fam {
	F_UP,
	F_JOINED,
	F_QUORATE,
	F_SYNCED,
	F_EXPECTED_VOTES,
	F_TOTAL_VOTES,
	F_QUORUM,
	F_NODES,
	F_MEMBERS,
	F_NODE_ONLINE,
	F_NODE_MEMBER,
	F_NODE_STATE,
	F_COORDINATOR,
	F_STATE_EPOCH,
	F_STATE_SEQ,
	F_DECISION,
	F_SYNC_ROUNDS,
	F_SYNC_ROUNDS_STARTED,
	F_SYNC_ROUND_DURATION,
	F_SYNC_ROUND_LAST,
	F_FENCE_ATTEMPTS,
	F_FENCE_DURATION,
	F_MOVES,
	F_MOVE_DURATION,
	F_MOVE_DOWNTIME,
	F_VMS,
	F_VM_STATE,
	F_VM_RUNNING,
	F_VM_MOVING,
	F_VM_LAST_MOVE,
	F_VM_LAST_MOVE_DURATION,
	F_VM_LAST_MOVE_DOWNTIME,
	F_LEASE_VALID,
	F_LEASE_VALID_FOR,
	F_METADATA_LEASE,
	F_LEASE_RENEWALS,
	F_LEASE_LATENCY,
	F_LEASE_LATENCY_MAX,
	F_LEASE_LATENCY_LAST,
	F__COUNT
};

static const struct family {
	const char *name, *type, *help;
} fams[F__COUNT] = {
	[F_UP] = {"clusterd_up", "gauge", "Whether the local clusterd answered (1) or not (0)."},
	[F_JOINED] = {"clusterd_joined", "gauge", "Whether this node has joined the cluster."},
	[F_QUORATE] = {"clusterd_quorate", "gauge", "Whether this node's partition is quorate."},
	[F_SYNCED] = {"clusterd_synced", "gauge",
		      "Whether this node's state is synchronised with its partition's."},
	[F_EXPECTED_VOTES] = {"clusterd_quorum_expected_votes", "gauge",
			      "Votes the cluster expects (corosync votequorum)."},
	[F_TOTAL_VOTES] = {"clusterd_quorum_total_votes", "gauge",
			   "Votes present in this node's partition."},
	[F_QUORUM] = {"clusterd_quorum_votes", "gauge", "Votes needed for quorum."},
	[F_NODES] = {"clusterd_nodes", "gauge", "Nodes configured in the cluster."},
	[F_MEMBERS] = {"clusterd_members", "gauge", "Nodes this node sees as members."},
	[F_NODE_ONLINE] = {"clusterd_node_online", "gauge",
			   "Whether the node is online as seen from this node."},
	[F_NODE_MEMBER] = {"clusterd_node_member", "gauge",
			   "Whether the node is in this node's membership."},
	[F_NODE_STATE] = {"clusterd_node_state", "gauge",
			  "The node's state as seen from this node (1 for its state)."},
	[F_COORDINATOR] = {"clusterd_coordinator", "gauge",
			   "The coordinator of this node's partition (1 for it)."},
	[F_STATE_EPOCH] = {"clusterd_state_epoch", "gauge",
			   "The epoch of this node's copy of the replicated state."},
	[F_STATE_SEQ] = {"clusterd_state_seq", "gauge",
			 "The change sequence of this node's copy of the replicated state."},
	[F_DECISION] = {"clusterd_decision_seconds", "gauge",
			"What the coordinator's recent policy decisions took (this node "
			"only, while coordinator)."},
	[F_SYNC_ROUNDS] = {"clusterd_sync_rounds_total", "counter",
			   "Sync rounds completed since clusterd started."},
	[F_SYNC_ROUNDS_STARTED] = {"clusterd_sync_rounds_started_total", "counter",
				   "Sync rounds begun since clusterd started."},
	[F_SYNC_ROUND_DURATION] = {"clusterd_sync_round_duration_seconds", "summary",
				   "Time from a sync round's start to its end."},
	[F_SYNC_ROUND_LAST] = {"clusterd_sync_round_last_seconds", "gauge",
			       "How long the last completed sync round took."},
	[F_FENCE_ATTEMPTS] = {"clusterd_fence_attempts_total", "counter",
			      "Power fencing of lost nodes run from this node since clusterd "
			      "started, by outcome."},
	[F_FENCE_DURATION] = {"clusterd_fence_duration_seconds", "histogram",
			      "Duration of the power fencing run from this node (the agent's "
			      "retries included), whatever its outcome."},
	[F_MOVES] = {"clusterd_moves_total", "counter",
		     "VM moves ended since clusterd started, by mode and outcome."},
	[F_MOVE_DURATION] = {"clusterd_move_duration_seconds", "histogram",
			     "Duration of the moves that moved their VM and were timed."},
	[F_MOVE_DOWNTIME] = {"clusterd_move_downtime_seconds", "histogram",
			     "Downtime (libvirt's, or the pause of a quick move) of the moves "
			     "that moved their VM and were timed."},
	[F_VMS] = {"clusterd_vms", "gauge", "VMs by state."},
	[F_VM_STATE] = {"clusterd_vm_state", "gauge", "The VM's state (1 for its state)."},
	[F_VM_RUNNING] = {"clusterd_vm_running", "gauge",
			  "Whether the VM runs, and on which node (node is empty for none)."},
	[F_VM_MOVING] = {"clusterd_vm_moving", "gauge", "Whether a move of the VM is under way."},
	[F_VM_LAST_MOVE] = {"clusterd_vm_last_move", "gauge",
			    "The VM's last move: its mode and outcome (1)."},
	[F_VM_LAST_MOVE_DURATION] = {"clusterd_vm_last_move_duration_seconds", "gauge",
				     "Duration of the VM's last move, when it was timed."},
	[F_VM_LAST_MOVE_DOWNTIME] = {"clusterd_vm_last_move_downtime_seconds", "gauge",
				     "Downtime of the VM's last move, when it was timed."},
	[F_LEASE_VALID] = {"clusterd_lease_valid", "gauge",
			   "Whether this node holds its host lease on the volume."},
	[F_LEASE_VALID_FOR] = {"clusterd_lease_valid_for_seconds", "gauge",
			       "How long this node's host lease on the volume stays valid "
			       "without a renewal."},
	[F_METADATA_LEASE] = {"clusterd_volume_metadata_lease", "gauge",
			      "Whether this node holds the volume's metadata lease "
			      "(coordinates the volume)."},
	[F_LEASE_RENEWALS] = {"clusterd_lease_renewals_total", "counter",
			      "Host lease renewals on the volume since clusterd started, by "
			      "result."},
	[F_LEASE_LATENCY] = {"clusterd_lease_renew_latency_seconds", "histogram",
			     "Time the host lease renewals on the volume took, failed ones "
			     "included."},
	[F_LEASE_LATENCY_MAX] = {"clusterd_lease_renew_latency_max_seconds", "gauge",
				 "The longest host lease renewal on the volume since clusterd "
				 "started."},
	[F_LEASE_LATENCY_LAST] = {"clusterd_lease_renew_latency_last_seconds", "gauge",
				  "The last host lease renewal on the volume."},
};

/* The VM states, each counted even at 0 (core/vm.h). */
static const char *const vm_states[] = {"stopped",  "starting", "running",
					"stopping", "failed",	"migrating"};

/* --- the writer --- */

struct writer {
	FILE *f;
	bool headed[F__COUNT];
};

char *cn_metrics_escape(const char *s, char *out, size_t n)
{
	size_t o = 0;

	if (n == 0)
		return out;
	for (; *s; s++) {
		const char *rep = *s == '\\'   ? "\\\\"
				  : *s == '"'  ? "\\\""
				  : *s == '\n' ? "\\n"
					       : NULL;
		size_t k = rep ? 2 : 1;

		if (o + k >= n)
			break;
		if (rep)
			memcpy(out + o, rep, 2);
		else
			out[o] = *s;
		o += k;
	}
	out[o] = '\0';
	return out;
}

/*
 * One sample of family fam: its name with suffix, the labels (name, value
 * pairs up to a NULL name) and value, the family's HELP and TYPE first if
 * not said yet.
 */
static void vsample(struct writer *w, enum fam fam, const char *suffix, const char *value,
		    va_list ap)
{
	const char *k;
	bool first = true;

	if (!w->headed[fam]) {
		fprintf(w->f, "# HELP %s %s\n# TYPE %s %s\n", fams[fam].name, fams[fam].help,
			fams[fam].name, fams[fam].type);
		w->headed[fam] = true;
	}
	fprintf(w->f, "%s%s", fams[fam].name, suffix);
	while ((k = va_arg(ap, const char *))) {
		const char *v = va_arg(ap, const char *);
		char esc[1024];

		fprintf(w->f, "%s%s=\"%s\"", first ? "{" : ",", k,
			cn_metrics_escape(v ? v : "", esc, sizeof(esc)));
		first = false;
	}
	fprintf(w->f, "%s %s\n", first ? "" : "}", value);
}

/* One sample of vsample(), its value already text; labels as there, up to a NULL name. */
static void sample(struct writer *w, enum fam fam, const char *suffix, const char *value, ...)
{
	va_list ap;

	va_start(ap, value);
	vsample(w, fam, suffix, value, ap);
	va_end(ap);
}

/*
 * A sample's value as text, returned by value so that a call can format it
 * in place: sample(w, fam, "", num(n).s, NULL). The text lives until the
 * end of the statement.
 */
struct val {
	char s[32];
};

/* A whole number. */
static struct val num(uint64_t v)
{
	struct val t;

	snprintf(t.s, sizeof(t.s), "%" PRIu64, v);
	return t;
}

/* Milliseconds, as seconds: exact, no floating point. */
static struct val secs_ms(uint64_t ms)
{
	struct val t;

	snprintf(t.s, sizeof(t.s), "%" PRIu64 ".%03" PRIu64, ms / 1000, ms % 1000);
	return t;
}

/* Microseconds, as seconds. */
static struct val secs_us(uint64_t us)
{
	struct val t;

	snprintf(t.s, sizeof(t.s), "%" PRIu64 ".%06" PRIu64, us / 1000000, us % 1000000);
	return t;
}

/*
 * A whole number of 10^-digits seconds (digits 3 or 6) as a bucket's le:
 * the shortest exact decimal ("0.00025", "1", "2.5").
 */
static struct val secs_le(uint64_t v, unsigned digits)
{
	uint64_t scale = digits == 6 ? 1000000 : 1000, frac = v % scale;
	struct val t;
	size_t n;

	if (!frac) {
		snprintf(t.s, sizeof(t.s), "%" PRIu64, v / scale);
		return t;
	}
	snprintf(t.s, sizeof(t.s), "%" PRIu64 ".%0*" PRIu64, v / scale, (int)digits, frac);
	for (n = strlen(t.s); t.s[n - 1] == '0'; n--)
		t.s[n - 1] = '\0';
	return t;
}

/* A number of seconds that need not be whole. */
static struct val secs_f(double v)
{
	struct val t;

	snprintf(t.s, sizeof(t.s), "%.6f", v);
	return t;
}

/* --- reading what clusterd said --- */

static struct json_object *member(const struct json_object *o, const char *key)
{
	struct json_object *v = NULL;

	if (!o || !json_object_is_type(o, json_type_object))
		return NULL;
	json_object_object_get_ex(o, key, &v);
	return v;
}

static struct json_object *obj(const struct json_object *o, const char *key)
{
	struct json_object *v = member(o, key);

	return v && json_object_is_type(v, json_type_object) ? v : NULL;
}

static struct json_object *arr(const struct json_object *o, const char *key)
{
	struct json_object *v = member(o, key);

	return v && json_object_is_type(v, json_type_array) ? v : NULL;
}

/* A number (whole or not) member: 0, or -1 if absent or not a number. */
static int get_num(const struct json_object *o, const char *key, double *out)
{
	struct json_object *v = member(o, key);

	if (!v ||
	    !(json_object_is_type(v, json_type_int) || json_object_is_type(v, json_type_double)))
		return -1;
	*out = json_object_get_double(v);
	return 0;
}

static size_t len_of(const struct json_object *a)
{
	return a && json_object_is_type(a, json_type_array) ? json_object_array_length(a) : 0;
}

/* The i-th element of a, if it is an object. */
static struct json_object *elem(const struct json_object *a, size_t i)
{
	struct json_object *e = json_object_array_get_idx(a, i);

	return e && json_object_is_type(e, json_type_object) ? e : NULL;
}

static void gauge_bool(struct writer *w, enum fam fam, const struct json_object *o, const char *key)
{
	bool b;

	if (cd_jget_bool(o, key, &b) == 0)
		sample(w, fam, "", num(b).s, NULL);
}

static void gauge_u(struct writer *w, enum fam fam, const struct json_object *o, const char *key)
{
	uint64_t v;

	if (cd_jget_u64(o, key, &v) == 0)
		sample(w, fam, "", num(v).s, NULL);
}

/*
 * Whether h is a histogram as clusterd gives it (lib/histogram.h): "sum",
 * "count", and "buckets" of ascending "le" with cumulative "count"s no
 * more than the whole count. A partial or disordered one would mislead,
 * so it is said whole or not at all.
 */
static bool hist_ok(const struct json_object *h)
{
	struct json_object *b = arr(h, "buckets");
	uint64_t sum, count, le, c, prev_le = 0, prev_c = 0;
	size_t i, n = len_of(b);

	if (!b || cd_jget_u64(h, "sum", &sum) < 0 || cd_jget_u64(h, "count", &count) < 0)
		return false;
	for (i = 0; i < n; i++) {
		if (cd_jget_u64(elem(b, i), "le", &le) < 0 ||
		    cd_jget_u64(elem(b, i), "count", &c) < 0 || (i && le <= prev_le) ||
		    c < prev_c || c > count)
			return false;
		prev_le = le;
		prev_c = c;
	}
	return true;
}

/*
 * Histogram h (values in 10^-digits seconds: 3 for ms, 6 for µs) as
 * fam's _bucket samples (+Inf last), _sum and _count, labelled k="v"
 * before le (k NULL for no label). Nothing if h is not a histogram.
 */
static void histogram(struct writer *w, enum fam fam, const struct json_object *h, unsigned digits,
		      const char *k, const char *v)
{
	struct json_object *b = arr(h, "buckets");
	size_t i, n = len_of(b);
	uint64_t le, c, sum, count;

	if (!hist_ok(h))
		return;
	cd_jget_u64(h, "sum", &sum);
	cd_jget_u64(h, "count", &count);
	for (i = 0; i <= n; i++) {
		struct val lt, ct;

		if (i < n) {
			cd_jget_u64(elem(b, i), "le", &le);
			cd_jget_u64(elem(b, i), "count", &c);
			lt = secs_le(le, digits);
		} else {
			snprintf(lt.s, sizeof(lt.s), "+Inf");
			c = count;
		}
		ct = num(c);
		if (k)
			sample(w, fam, "_bucket", ct.s, k, v, "le", lt.s, NULL);
		else
			sample(w, fam, "_bucket", ct.s, "le", lt.s, NULL);
	}
	sample(w, fam, "_sum", digits == 6 ? secs_us(sum).s : secs_ms(sum).s, k, v, NULL);
	sample(w, fam, "_count", num(count).s, k, v, NULL);
}

/* --- the metrics --- */

static void cluster(struct writer *w, const struct json_object *st)
{
	struct json_object *ver = obj(st, "version"), *dec = obj(st, "decisions");
	const char *coord = cd_jget_str(st, "coordinator_name");
	static const char *const stats[] = {"last", "median", "max"};
	size_t i;

	gauge_bool(w, F_JOINED, st, "joined");
	gauge_bool(w, F_QUORATE, st, "quorate");
	gauge_bool(w, F_SYNCED, st, "synced");
	gauge_u(w, F_EXPECTED_VOTES, st, "expected_votes");
	gauge_u(w, F_TOTAL_VOTES, st, "total_votes");
	gauge_u(w, F_QUORUM, st, "quorum");
	if (coord)
		sample(w, F_COORDINATOR, "", "1", "node", coord, NULL);
	gauge_u(w, F_STATE_EPOCH, ver, "epoch");
	gauge_u(w, F_STATE_SEQ, ver, "seq");
	for (i = 0; dec && i < sizeof(stats) / sizeof(stats[0]); i++) {
		char key[16];
		double ms;

		snprintf(key, sizeof(key), "%s_ms", stats[i]);
		if (get_num(dec, key, &ms) == 0)
			sample(w, F_DECISION, "", secs_f(ms / 1000.0).s, "stat", stats[i], NULL);
	}
}

static void nodes(struct writer *w, const struct json_object *st)
{
	struct json_object *a = arr(st, "nodes");
	size_t i, n = len_of(a), members = 0;
	bool b;

	if (!a)
		return;
	sample(w, F_NODES, "", num(n).s, NULL);
	for (i = 0; i < n; i++)
		members += cd_jget_bool(elem(a, i), "reachable", &b) == 0 && b;
	sample(w, F_MEMBERS, "", num(members).s, NULL);
	for (i = 0; i < n; i++) {
		const char *name = cd_jget_str(elem(a, i), "name"),
			   *state = cd_jget_str(elem(a, i), "state");

		if (name && state)
			sample(w, F_NODE_ONLINE, "", num(strcmp(state, "online") == 0).s, "node",
			       name, NULL);
	}
	for (i = 0; i < n; i++) {
		const char *name = cd_jget_str(elem(a, i), "name");

		if (name && cd_jget_bool(elem(a, i), "reachable", &b) == 0)
			sample(w, F_NODE_MEMBER, "", num(b).s, "node", name, NULL);
	}
	for (i = 0; i < n; i++) {
		const char *name = cd_jget_str(elem(a, i), "name"),
			   *state = cd_jget_str(elem(a, i), "state");

		if (name && state)
			sample(w, F_NODE_STATE, "", "1", "node", name, "state", state, NULL);
	}
}

/* The counters clusterd keeps since it started (its status's "counters"). */
static void counters(struct writer *w, const struct json_object *st)
{
	struct json_object *c = obj(st, "counters"), *sync = obj(c, "sync_rounds");
	struct json_object *fence = obj(c, "fence"), *moves = arr(c, "moves");
	struct json_object *timed = arr(c, "move_durations");
	static const char *const outcomes[] = {"success", "failure"};
	size_t i, n = len_of(moves), nt = len_of(timed);
	uint64_t v, k;

	gauge_u(w, F_SYNC_ROUNDS, sync, "completed");
	gauge_u(w, F_SYNC_ROUNDS_STARTED, sync, "started");
	if (cd_jget_u64(sync, "total_ms", &v) == 0 && cd_jget_u64(sync, "completed", &k) == 0) {
		sample(w, F_SYNC_ROUND_DURATION, "_sum", secs_ms(v).s, NULL);
		sample(w, F_SYNC_ROUND_DURATION, "_count", num(k).s, NULL);
	}
	if (cd_jget_u64(sync, "last_ms", &v) == 0)
		sample(w, F_SYNC_ROUND_LAST, "", secs_ms(v).s, NULL);
	for (i = 0; i < sizeof(outcomes) / sizeof(outcomes[0]); i++)
		if (cd_jget_u64(fence, outcomes[i], &v) == 0)
			sample(w, F_FENCE_ATTEMPTS, "", num(v).s, "outcome", outcomes[i], NULL);
	histogram(w, F_FENCE_DURATION, obj(fence, "duration_ms"), 3, NULL, NULL);
	for (i = 0; i < n; i++) {
		const char *mode = cd_jget_str(elem(moves, i), "mode"),
			   *outcome = cd_jget_str(elem(moves, i), "outcome");

		if (mode && outcome && cd_jget_u64(elem(moves, i), "count", &v) == 0)
			sample(w, F_MOVES, "", num(v).s, "mode", mode, "outcome", outcome, NULL);
	}
	/* Timed moves are those that moved: one histogram of each per mode. */
	for (i = 0; i < nt; i++) {
		const char *mode = cd_jget_str(elem(timed, i), "mode");

		if (mode)
			histogram(w, F_MOVE_DURATION, obj(elem(timed, i), "total_ms"), 3, "mode",
				  mode);
	}
	for (i = 0; i < nt; i++) {
		const char *mode = cd_jget_str(elem(timed, i), "mode");

		if (mode)
			histogram(w, F_MOVE_DOWNTIME, obj(elem(timed, i), "downtime_ms"), 3, "mode",
				  mode);
	}
}

static bool known_state(const char *s)
{
	size_t i;

	for (i = 0; i < sizeof(vm_states) / sizeof(vm_states[0]); i++)
		if (strcmp(s, vm_states[i]) == 0)
			return true;
	return false;
}

/* clusterd_vms{state}: every known state, then any other in the order first seen. */
static void vm_counts(struct writer *w, const struct json_object *vms)
{
	size_t i, j, n = len_of(vms);

	for (i = 0; i < sizeof(vm_states) / sizeof(vm_states[0]); i++) {
		uint64_t c = 0;

		for (j = 0; j < n; j++) {
			const char *s = cd_jget_str(elem(vms, j), "state");

			c += s && strcmp(s, vm_states[i]) == 0;
		}
		sample(w, F_VMS, "", num(c).s, "state", vm_states[i], NULL);
	}
	for (i = 0; i < n; i++) {
		const char *s = cd_jget_str(elem(vms, i), "state");
		uint64_t c = 0;
		bool seen = false;

		if (!s || known_state(s))
			continue;
		for (j = 0; j < i && !seen; j++) {
			const char *t = cd_jget_str(elem(vms, j), "state");

			seen = t && strcmp(s, t) == 0;
		}
		for (j = i; j < n && !seen; j++) {
			const char *t = cd_jget_str(elem(vms, j), "state");

			c += t && strcmp(s, t) == 0;
		}
		if (!seen)
			sample(w, F_VMS, "", num(c).s, "state", s, NULL);
	}
}

static void vms_each(struct writer *w, const struct json_object *vms)
{
	size_t i, n = len_of(vms);

	for (i = 0; i < n; i++) {
		const char *name = cd_jget_str(elem(vms, i), "name"),
			   *state = cd_jget_str(elem(vms, i), "state");

		if (name && state)
			sample(w, F_VM_STATE, "", "1", "vm", name, "state", state, NULL);
	}
	for (i = 0; i < n; i++) {
		const char *name = cd_jget_str(elem(vms, i), "name"),
			   *state = cd_jget_str(elem(vms, i), "state"),
			   *node = cd_jget_str(elem(vms, i), "node_name");

		if (name && state)
			sample(w, F_VM_RUNNING, "", num(strcmp(state, "running") == 0).s, "vm",
			       name, "node", node ? node : "", NULL);
	}
	for (i = 0; i < n; i++) {
		struct json_object *mv = member(elem(vms, i), "move");
		const char *name = cd_jget_str(elem(vms, i), "name");

		if (name)
			sample(w, F_VM_MOVING, "",
			       num(mv && json_object_is_type(mv, json_type_object)).s, "vm", name,
			       NULL);
	}
}

/* What each VM's last move was, and took when it was timed. */
static void vms_last_move(struct writer *w, const struct json_object *vms)
{
	static const struct {
		enum fam fam;
		const char *key;
	} timed[] = {{F_VM_LAST_MOVE_DURATION, "total_ms"},
		     {F_VM_LAST_MOVE_DOWNTIME, "downtime_ms"}};
	size_t i, t, n = len_of(vms);

	for (i = 0; i < n; i++) {
		struct json_object *lm = obj(elem(vms, i), "last_move");
		const char *name = cd_jget_str(elem(vms, i), "name"),
			   *mode = cd_jget_str(lm, "mode"), *outcome = cd_jget_str(lm, "outcome");

		if (name && mode && outcome)
			sample(w, F_VM_LAST_MOVE, "", "1", "vm", name, "mode", mode, "outcome",
			       outcome, NULL);
	}
	for (t = 0; t < sizeof(timed) / sizeof(timed[0]); t++)
		for (i = 0; i < n; i++) {
			struct json_object *lm = obj(elem(vms, i), "last_move");
			const char *name = cd_jget_str(elem(vms, i), "name"),
				   *mode = cd_jget_str(lm, "mode");
			uint64_t ms, total;

			/* 0 total: not timed (cd_vm_last_move). */
			if (name && mode && cd_jget_u64(lm, "total_ms", &total) == 0 && total &&
			    cd_jget_u64(lm, timed[t].key, &ms) == 0)
				sample(w, timed[t].fam, "", secs_ms(ms).s, "vm", name, "mode", mode,
				       NULL);
		}
}

/* This node's host lease on each volume (volume.list's "local"). */
static void leases(struct writer *w, const struct json_object *vols)
{
	size_t i, n = len_of(vols);
	uint64_t v, k;

	for (i = 0; i < n; i++) {
		const char *name = cd_jget_str(elem(vols, i), "name");
		bool b;

		if (name && cd_jget_bool(obj(elem(vols, i), "local"), "host_lease_valid", &b) == 0)
			sample(w, F_LEASE_VALID, "", num(b).s, "volume", name, NULL);
	}
	for (i = 0; i < n; i++) {
		const char *name = cd_jget_str(elem(vols, i), "name");

		if (name && cd_jget_u64(obj(elem(vols, i), "local"), "valid_for_ms", &v) == 0)
			sample(w, F_LEASE_VALID_FOR, "", secs_ms(v).s, "volume", name, NULL);
	}
	for (i = 0; i < n; i++) {
		const char *name = cd_jget_str(elem(vols, i), "name");
		bool b;

		if (name && cd_jget_bool(obj(elem(vols, i), "local"), "metadata_lease", &b) == 0)
			sample(w, F_METADATA_LEASE, "", num(b).s, "volume", name, NULL);
	}
	for (i = 0; i < n; i++) {
		struct json_object *l = obj(elem(vols, i), "local");
		const char *name = cd_jget_str(elem(vols, i), "name");

		if (name && cd_jget_u64(l, "renewals", &v) == 0)
			sample(w, F_LEASE_RENEWALS, "", num(v).s, "volume", name, "result", "ok",
			       NULL);
		if (name && cd_jget_u64(l, "renew_failures", &v) == 0)
			sample(w, F_LEASE_RENEWALS, "", num(v).s, "volume", name, "result",
			       "failed", NULL);
	}
	for (i = 0; i < n; i++) {
		const char *name = cd_jget_str(elem(vols, i), "name");

		/* Every renewal is timed, the failed ones too. */
		if (name)
			histogram(w, F_LEASE_LATENCY,
				  obj(obj(elem(vols, i), "local"), "renew_latency_us"), 6, "volume",
				  name);
	}
	for (i = 0; i < n; i++) {
		struct json_object *lat = obj(obj(elem(vols, i), "local"), "renew_latency_us");
		const char *name = cd_jget_str(elem(vols, i), "name");

		if (name && cd_jget_u64(lat, "max", &k) == 0)
			sample(w, F_LEASE_LATENCY_MAX, "", secs_us(k).s, "volume", name, NULL);
	}
	for (i = 0; i < n; i++) {
		struct json_object *lat = obj(obj(elem(vols, i), "local"), "renew_latency_us");
		const char *name = cd_jget_str(elem(vols, i), "name");

		if (name && cd_jget_u64(lat, "last", &k) == 0)
			sample(w, F_LEASE_LATENCY_LAST, "", secs_us(k).s, "volume", name, NULL);
	}
}

char *cn_metrics_format(const struct json_object *status, const struct json_object *vms,
			const struct json_object *volumes, size_t *len)
{
	struct writer w = {0};
	char *buf = NULL;
	size_t size = 0;

	w.f = open_memstream(&buf, &size);
	if (!w.f)
		return NULL;
	sample(&w, F_UP, "", num(status != NULL).s, NULL);
	if (status) {
		cluster(&w, status);
		nodes(&w, status);
		counters(&w, status);
		if (vms && json_object_is_type(vms, json_type_array)) {
			vm_counts(&w, vms);
			vms_each(&w, vms);
			vms_last_move(&w, vms);
		}
		leases(&w, volumes);
	}
	if (fclose(w.f) != 0) {
		free(buf);
		return NULL;
	}
	*len = size;
	return buf;
}
