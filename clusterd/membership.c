#include "config.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>

#include <corosync/cmap.h>
#include <corosync/cpg.h>
#include <corosync/quorum.h>
#include <corosync/votequorum.h>
#include <qb/qblog.h>

#include "clusterd/hostinfo.h"
#include "clusterd/membership.h"
#include "core/quorumview.h"
#include "core/sync.h"
#include "lib/looptimer.h"
#include "lib/util.h"

#define CPG_GROUP "clusterd"
#define RECONNECT_MS 1000
#define RESEND_MS 5
#define QUORUM_WAIT_MS 2000

struct sendq_item {
	struct sendq_item *next;
	size_t len;
	char data[];
};

static struct {
	qb_loop_t *loop;
	const struct cd_membership_ops *ops;
	cpg_handle_t cpg;
	quorum_handle_t quorum;
	votequorum_handle_t vq;
	cmap_handle_t cmap;
	int cpg_fd, quorum_fd;
	bool joined;
	uint32_t local_nodeid;

	struct cpg_ring_id ring; /* last totem configuration */
	bool have_group;	 /* a group confchg was seen */
	uint32_t members[CPG_MEMBERS_MAX];
	uint32_t pids[CPG_MEMBERS_MAX];
	size_t n_members;

	bool quorate;
	bool quorum_known;
	struct quorum_ring_id quorum_ring;
	qb_loop_timer_handle quorum_timer;
	bool quorum_late; /* no report for this ring in time: the round goes on, inquorate */

	struct sendq_item *sendq, **sendq_tail;
	qb_loop_timer_handle resend_timer, reconnect_timer;

	/* corosync's facts (state.h), read at connect and every FACTS_MS, not per report */
	struct cd_node_facts facts;
	qb_loop_timer_handle facts_timer;
} membership = {.cpg_fd = -1, .quorum_fd = -1};

/*
 * How often corosync's configuration is read again: a reload
 * (corosync-cfgtool -R) shows in the cluster check within a minute.
 */
#define FACTS_MS 60000

static void reconnect_cb(void *data);
static bool read_corosync_facts(void);
static void facts_tick(void *data);
static void disconnect(void);
static void quorum_wait_cb(void *data);

static const char *cs_str(cs_error_t e)
{
	return cs_strerror(e);
}

static void drop_sendq(void)
{
	struct sendq_item *it;

	while ((it = membership.sendq)) {
		membership.sendq = it->next;
		free(it);
	}
	membership.sendq_tail = &membership.sendq;
}

static void new_round(void)
{
	uint64_t token;

	/*
	 * Wait for the ring id too: a process that just joined learns it from
	 * the initial totem configuration, which may come after the group's.
	 */
	if (!membership.have_group || membership.ring.seq == 0)
		return;
	token = cd_sync_round_token(membership.ring.nodeid, membership.ring.seq, membership.members,
				    membership.pids, membership.n_members);
	qb_log(LOG_INFO, "configuration changed: ring %u/%llu, %zu members, round %016llx",
	       membership.ring.nodeid, (unsigned long long)membership.ring.seq,
	       membership.n_members, (unsigned long long)token);
	membership.quorum_late = false;
	/*
	 * What is still queued here was never handed to corosync: it belongs
	 * to the old configuration, whose clients are told to retry.
	 */
	drop_sendq();
	if (!cd_membership_quorum_current()) {
		cd_timer_del(membership.loop, membership.quorum_timer);
		cd_timer_add(membership.loop, QB_LOOP_MED, QUORUM_WAIT_MS * 1000000ull, NULL,
			     quorum_wait_cb, &membership.quorum_timer);
	}
	membership.ops->confchg(token, membership.members, membership.n_members);
}

static void cpg_deliver_cb(cpg_handle_t h, const struct cpg_name *group, uint32_t nodeid,
			   uint32_t pid, void *msg, size_t len)
{
	membership.ops->deliver(nodeid, msg, len);
}

static void cpg_confchg_cb(cpg_handle_t h, const struct cpg_name *group,
			   const struct cpg_address *members, size_t n_members,
			   const struct cpg_address *left, size_t n_left,
			   const struct cpg_address *joined, size_t n_joined)
{
	size_t i;

	for (i = 0; i < n_left; i++)
		qb_log(LOG_NOTICE, "node %u (pid %u) left the group (reason %u)", left[i].nodeid,
		       left[i].pid, left[i].reason);
	for (i = 0; i < n_joined; i++)
		qb_log(LOG_NOTICE, "node %u (pid %u) joined the group", joined[i].nodeid,
		       joined[i].pid);
	membership.n_members = n_members < CPG_MEMBERS_MAX ? n_members : CPG_MEMBERS_MAX;
	for (i = 0; i < membership.n_members; i++) {
		membership.members[i] = members[i].nodeid;
		membership.pids[i] = members[i].pid;
	}
	membership.have_group = true;
	new_round();
}

static void cpg_totem_cb(cpg_handle_t h, struct cpg_ring_id ring, uint32_t n,
			 const uint32_t *members)
{
	qb_log(LOG_DEBUG, "totem ring %u/%llu with %u nodes", ring.nodeid,
	       (unsigned long long)ring.seq, n);
	membership.ring = ring;
	/*
	 * A ring change that leaves the group as it was still needs a round:
	 * the quorum may have changed with it.
	 */
	new_round();
}

static void quorum_cb(quorum_handle_t h, uint32_t quorate, struct quorum_ring_id ring, uint32_t n,
		      const uint32_t *members)
{
	if (quorate != membership.quorate || !membership.quorum_known)
		qb_log(quorate ? LOG_NOTICE : LOG_WARNING, "quorum %s (ring %u/%llu, %u nodes)",
		       quorate ? "acquired" : "lost", ring.nodeid, (unsigned long long)ring.seq, n);
	membership.quorate = quorate;
	membership.quorum_known = true;
	membership.quorum_ring = ring;
	membership.ops->quorum();
}

static struct cd_quorum_view view(void)
{
	struct cd_quorum_view v = {
		.joined = membership.joined,
		.ring = {membership.ring.nodeid, membership.ring.seq},
		.known = membership.quorum_known,
		.quorate = membership.quorate,
		.report_ring = {membership.quorum_ring.nodeid, membership.quorum_ring.seq},
		.waited = membership.quorum_late,
	};

	return v;
}

bool cd_membership_quorum_current(void)
{
	struct cd_quorum_view v = view();

	return cd_quorum_settled(&v);
}

/*
 * The quorum service should report every ring. If its report is late, the
 * sync round goes on rather than stall, but as inquorate: the last report
 * is for another ring and may be stale (this node may be the minority now).
 * The report, when it comes, makes the node quorate if it says so.
 */
static void quorum_wait_cb(void *data)
{
	if (!membership.joined || cd_membership_quorum_current())
		return;
	qb_log(LOG_WARNING,
	       "no quorum report for ring %u/%llu after %d ms: inquorate until it comes",
	       membership.ring.nodeid, (unsigned long long)membership.ring.seq, QUORUM_WAIT_MS);
	membership.quorum_late = true;
	membership.ops->quorum();
}

static int32_t cpg_fd_cb(int32_t fd, int32_t revents, void *data)
{
	cs_error_t e;

	if (revents & (POLLERR | POLLHUP | POLLNVAL)) {
		e = CS_ERR_LIBRARY;
	} else {
		e = cpg_dispatch(membership.cpg, CS_DISPATCH_ALL);
		if (e == CS_ERR_TRY_AGAIN)
			e = CS_OK;
	}
	if (e != CS_OK) {
		qb_log(LOG_ERR, "lost the connection to corosync (cpg: %s)", cs_str(e));
		disconnect();
		membership.ops->lost();
		cd_timer_add(membership.loop, QB_LOOP_MED, RECONNECT_MS * 1000000ull, NULL,
			     reconnect_cb, &membership.reconnect_timer);
		return -1; /* drop this poll entry */
	}
	membership.ops->flush();
	return 0;
}

static int32_t quorum_fd_cb(int32_t fd, int32_t revents, void *data)
{
	cs_error_t e;

	if (revents & (POLLERR | POLLHUP | POLLNVAL))
		e = CS_ERR_LIBRARY;
	else
		e = quorum_dispatch(membership.quorum, CS_DISPATCH_ALL);
	if (e != CS_OK && e != CS_ERR_TRY_AGAIN) {
		qb_log(LOG_ERR, "lost the connection to corosync (quorum: %s)", cs_str(e));
		membership.quorum_fd = -1;
		return -1; /* cpg notices as well and reconnects everything */
	}
	return 0;
}

static void disconnect(void)
{
	if (membership.cpg_fd >= 0)
		qb_loop_poll_del(membership.loop, membership.cpg_fd);
	if (membership.quorum_fd >= 0)
		qb_loop_poll_del(membership.loop, membership.quorum_fd);
	membership.cpg_fd = membership.quorum_fd = -1;
	if (membership.cpg)
		cpg_finalize(membership.cpg);
	if (membership.quorum)
		quorum_finalize(membership.quorum);
	if (membership.vq)
		votequorum_finalize(membership.vq);
	if (membership.cmap)
		cmap_finalize(membership.cmap);
	membership.cpg = 0;
	membership.quorum = 0;
	membership.vq = 0;
	membership.cmap = 0;
	membership.joined = false;
	membership.have_group = false;
	membership.quorate = false;
	membership.quorum_known = false;
	membership.n_members = 0;
	memset(&membership.ring, 0, sizeof(membership.ring));
	drop_sendq();
}

static int connect_corosync(void)
{
	cpg_model_v1_data_t cpg_model = {
		.model = CPG_MODEL_V1,
		.cpg_deliver_fn = cpg_deliver_cb,
		.cpg_confchg_fn = cpg_confchg_cb,
		.cpg_totem_confchg_fn = cpg_totem_cb,
		.flags = CPG_MODEL_V1_DELIVER_INITIAL_TOTEM_CONF,
	};
	quorum_model_v1_data_t quorum_model = {
		.model = QUORUM_MODEL_V1,
		.quorum_notify_fn = quorum_cb,
	};
	struct cpg_name group;
	uint32_t qtype = 0;
	cs_error_t e;

	e = cmap_initialize(&membership.cmap);
	if (e != CS_OK)
		goto fail;
	read_corosync_facts();
	e = votequorum_initialize(&membership.vq, NULL);
	if (e != CS_OK)
		goto fail;
	e = quorum_model_initialize(&membership.quorum, QUORUM_MODEL_V1,
				    (quorum_model_data_t *)&quorum_model, &qtype, NULL);
	if (e != CS_OK)
		goto fail;
	if (qtype == 0)
		qb_log(LOG_WARNING, "corosync has no quorum provider: every partition is quorate; "
				    "configure corosync_votequorum");
	e = quorum_trackstart(membership.quorum, CS_TRACK_CHANGES | CS_TRACK_CURRENT);
	if (e != CS_OK)
		goto fail;
	e = cpg_model_initialize(&membership.cpg, CPG_MODEL_V1, (cpg_model_data_t *)&cpg_model,
				 NULL);
	if (e != CS_OK)
		goto fail;
	e = cpg_local_get(membership.cpg, &membership.local_nodeid);
	if (e != CS_OK)
		goto fail;
	cd_strlcpy(group.value, CPG_GROUP, sizeof(group.value));
	group.length = (uint32_t)strlen(CPG_GROUP);
	e = cpg_join(membership.cpg, &group);
	if (e != CS_OK)
		goto fail;
	cpg_fd_get(membership.cpg, &membership.cpg_fd);
	quorum_fd_get(membership.quorum, &membership.quorum_fd);
	qb_loop_poll_add(membership.loop, QB_LOOP_HIGH, membership.cpg_fd, POLLIN | POLLPRI, NULL,
			 cpg_fd_cb);
	qb_loop_poll_add(membership.loop, QB_LOOP_HIGH, membership.quorum_fd, POLLIN | POLLPRI,
			 NULL, quorum_fd_cb);
	membership.joined = true;
	qb_log(LOG_NOTICE, "joined corosync as node %u", membership.local_nodeid);
	return 0;
fail:
	qb_log(LOG_DEBUG, "corosync not available: %s", cs_str(e));
	disconnect();
	return -ENOTCONN;
}

static void reconnect_cb(void *data)
{
	if (connect_corosync() < 0)
		cd_timer_add(membership.loop, QB_LOOP_MED, RECONNECT_MS * 1000000ull, NULL,
			     reconnect_cb, &membership.reconnect_timer);
}

int cd_membership_start(qb_loop_t *loop, const struct cd_membership_ops *ops)
{
	membership.loop = loop;
	membership.ops = ops;
	membership.sendq_tail = &membership.sendq;
	if (connect_corosync() < 0) {
		qb_log(LOG_WARNING, "corosync is not running yet; retrying every %d ms",
		       RECONNECT_MS);
		cd_timer_add(membership.loop, QB_LOOP_MED, RECONNECT_MS * 1000000ull, NULL,
			     reconnect_cb, &membership.reconnect_timer);
	}
	cd_timer_add(membership.loop, QB_LOOP_LOW, FACTS_MS * 1000000ull, NULL, facts_tick,
		     &membership.facts_timer);
	return 0;
}

void cd_membership_stop(void)
{
	if (membership.joined) {
		struct cpg_name group;

		cd_strlcpy(group.value, CPG_GROUP, sizeof(group.value));
		group.length = (uint32_t)strlen(CPG_GROUP);
		cpg_leave(membership.cpg, &group);
	}
	cd_timer_del(membership.loop, membership.facts_timer);
	disconnect();
}

/* Send what is queued, in order; on TRY_AGAIN keep it and retry shortly. */
static void flush_sendq(void *data)
{
	while (membership.sendq && membership.joined) {
		struct sendq_item *it = membership.sendq;
		struct iovec iov = {.iov_base = it->data, .iov_len = it->len};
		cs_error_t e = cpg_mcast_joined(membership.cpg, CPG_TYPE_AGREED, &iov, 1);

		if (e == CS_ERR_TRY_AGAIN) {
			cd_timer_add(membership.loop, QB_LOOP_HIGH, RESEND_MS * 1000000ull, NULL,
				     flush_sendq, &membership.resend_timer);
			return;
		}
		if (e != CS_OK)
			qb_log(LOG_ERR, "cpg_mcast_joined failed: %s; message of %zu bytes dropped",
			       cs_str(e), it->len);
		membership.sendq = it->next;
		if (!membership.sendq)
			membership.sendq_tail = &membership.sendq;
		free(it);
	}
}

int cd_membership_send(const void *buf, size_t len)
{
	struct sendq_item *it;
	bool idle = membership.sendq == NULL;

	if (!membership.joined)
		return -ENOTCONN;
	it = malloc(sizeof(*it) + len);
	if (!it)
		return -ENOMEM;
	it->next = NULL;
	it->len = len;
	memcpy(it->data, buf, len);
	*membership.sendq_tail = it;
	membership.sendq_tail = &it->next;
	if (idle)
		flush_sendq(NULL);
	return 0;
}

bool cd_membership_joined(void)
{
	return membership.joined;
}

uint32_t cd_membership_local_nodeid(void)
{
	return membership.local_nodeid;
}

bool cd_membership_quorate(void)
{
	struct cd_quorum_view v = view();

	return cd_quorum_quorate(&v);
}

bool cd_membership_is_member(uint32_t nodeid)
{
	size_t i;

	for (i = 0; i < membership.n_members; i++)
		if (membership.members[i] == nodeid)
			return true;
	return false;
}

/*
 * corosync's crypto setting key (totem.crypto_cipher or totem.crypto_hash)
 * into out: its value, "none" when unset (corosync's default), "" when
 * corosync cannot be asked.
 */
static void crypto_setting(const char *key, char *out, size_t len)
{
	char *s = NULL;

	out[0] = '\0';
	if (!membership.cmap)
		return;
	if (cmap_get_string(membership.cmap, key, &s) != CS_OK) {
		cd_strlcpy(out, "none", len);
		return;
	}
	if (cd_valid_name(s, len - 1))
		cd_strlcpy(out, s, len);
	free(s);
}

/* The lines of config_digest(), at most: a large cluster's nodelist is some 5 lines a node. */
#define DIGEST_MAX_KEYS 1024

static int cmp_lines(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Each key under prefix as a line "key=HEX OF ITS VALUE", added to lines. */
static void digest_keys(const char *prefix, char **lines, size_t *n)
{
	char key[CMAP_KEYNAME_MAXLEN + 1];
	cmap_iter_handle_t it;
	cmap_value_types_t type;
	size_t len, i;

	if (cmap_iter_init(membership.cmap, prefix, &it) != CS_OK)
		return;
	while (*n < DIGEST_MAX_KEYS &&
	       cmap_iter_next(membership.cmap, it, key, &len, &type) == CS_OK) {
		size_t klen = strlen(key);
		unsigned char *v;
		char *line;

		/*
		 * What corosync fills in for this node itself: where in the
		 * nodelist it is, and the address it binds (its own, from the
		 * nodelist, unless configured).
		 */
		if (strcmp(key, "nodelist.local_node_pos") == 0 || len > 4096 ||
		    (klen > 12 && strcmp(key + klen - 12, ".bindnetaddr") == 0))
			continue;
		v = malloc(len + 1);
		line = malloc(klen + 2 + 2 * len + 1);
		if (!v || !line || cmap_get(membership.cmap, key, v, &len, &type) != CS_OK) {
			free(v);
			free(line);
			continue;
		}
		memcpy(line, key, klen);
		line[klen] = '=';
		for (i = 0; i < len; i++)
			snprintf(line + klen + 1 + 2 * i, 3, "%02x", v[i]);
		line[klen + 1 + 2 * len] = '\0';
		free(v);
		lines[(*n)++] = line;
	}
	cmap_iter_finalize(membership.cmap, it);
}

/*
 * The SHA-256 of corosync's configuration as it runs it: every key of the
 * totem, nodelist and quorum sections with its value, sorted, but for
 * the two corosync sets per node (nodelist.local_node_pos and each
 * interface's bindnetaddr). What must be alike on every node is there;
 * what may differ (logging, the system section's state directory,
 * comments) is not. "" when corosync cannot be asked.
 */
static void config_digest(char out[65])
{
	static const char *const prefixes[] = {"totem.", "nodelist.", "quorum."};
	char **lines = calloc(DIGEST_MAX_KEYS, sizeof(*lines)), *all = NULL;
	size_t n = 0, total = 0, i, off = 0;

	out[0] = '\0';
	if (!lines || !membership.cmap)
		goto out_free;
	for (i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++)
		digest_keys(prefixes[i], lines, &n);
	if (n == 0)
		goto out_free;
	qsort(lines, n, sizeof(*lines), cmp_lines);
	for (i = 0; i < n; i++)
		total += strlen(lines[i]) + 1;
	all = malloc(total);
	if (!all)
		goto out_free;
	for (i = 0; i < n; i++) {
		size_t l = strlen(lines[i]);

		memcpy(all + off, lines[i], l);
		all[off + l] = '\n';
		off += l + 1;
	}
	cd_sha256_hex(all, total, out);
out_free:
	free(all);
	for (i = 0; lines && i < n; i++)
		free(lines[i]);
	free(lines);
}

/* Read corosync's facts again; true if they changed. */
static bool read_corosync_facts(void)
{
	struct cd_node_facts f;

	memset(&f, 0, sizeof(f));
	config_digest(f.corosync_sha256);
	crypto_setting("totem.crypto_cipher", f.crypto_cipher, sizeof(f.crypto_cipher));
	crypto_setting("totem.crypto_hash", f.crypto_hash, sizeof(f.crypto_hash));
	if (memcmp(&f, &membership.facts, sizeof(f)) == 0)
		return false;
	membership.facts = f;
	return true;
}

static void facts_tick(void *data)
{
	if (membership.cmap && read_corosync_facts() && membership.ops->info_changed)
		membership.ops->info_changed();
	cd_timer_add(membership.loop, QB_LOOP_LOW, FACTS_MS * 1000000ull, NULL, facts_tick,
		     &membership.facts_timer);
}

/*
 * Entry pos of corosync's nodelist into ni: its id, name and ring
 * addresses (the rest untouched). -ENOENT past the last entry.
 */
static int nodelist_entry(uint32_t pos, struct cd_node_info *ni)
{
	char key[128], *s = NULL;
	uint32_t r;

	snprintf(key, sizeof(key), "nodelist.node.%u.nodeid", pos);
	if (!membership.cmap || cmap_get_uint32(membership.cmap, key, &ni->id) != CS_OK)
		return -ENOENT;
	ni->name[0] = '\0';
	snprintf(key, sizeof(key), "nodelist.node.%u.name", pos);
	if (cmap_get_string(membership.cmap, key, &s) == CS_OK) {
		cd_strlcpy(ni->name, s, sizeof(ni->name));
		free(s);
		if (!cd_valid_name(ni->name, CD_NAME_MAX))
			ni->name[0] = '\0';
	}
	ni->n_addrs = 0;
	for (r = 0; r < CD_ADDRS_MAX; r++) {
		snprintf(key, sizeof(key), "nodelist.node.%u.ring%u_addr", pos, r);
		if (cmap_get_string(membership.cmap, key, &s) != CS_OK)
			continue;
		cd_strlcpy(ni->addrs[ni->n_addrs++], s, sizeof(ni->addrs[0]));
		free(s);
	}
	return 0;
}

int cd_membership_nodelist(struct cd_node_info *out, size_t max)
{
	size_t n = 0;

	if (!membership.cmap)
		return -ENOTCONN;
	for (; n < max; n++) {
		memset(&out[n], 0, sizeof(out[n]));
		if (nodelist_entry(n, &out[n]) < 0)
			break;
	}
	return (int)n;
}

int cd_membership_local_info(struct cd_node_info *ni)
{
	uint32_t i;

	memset(ni, 0, sizeof(*ni));
	cd_hostinfo_capacity(&ni->cap);
	cd_hostinfo_facts(&ni->facts);
	cd_strlcpy(ni->facts.corosync_sha256, membership.facts.corosync_sha256,
		   sizeof(ni->facts.corosync_sha256));
	cd_strlcpy(ni->facts.crypto_cipher, membership.facts.crypto_cipher,
		   sizeof(ni->facts.crypto_cipher));
	cd_strlcpy(ni->facts.crypto_hash, membership.facts.crypto_hash,
		   sizeof(ni->facts.crypto_hash));
	for (i = 0; i < 1024; i++) {
		struct cd_node_info e;

		memset(&e, 0, sizeof(e));
		if (nodelist_entry(i, &e) < 0)
			break;
		if (e.id != membership.local_nodeid)
			continue;
		memcpy(ni->name, e.name, sizeof(ni->name));
		memcpy(ni->addrs, e.addrs, sizeof(ni->addrs));
		ni->n_addrs = e.n_addrs;
		break;
	}
	ni->id = membership.local_nodeid;
	if (!ni->name[0]) {
		struct utsname u;

		if (uname(&u) == 0 && cd_valid_name(u.nodename, CD_NAME_MAX))
			cd_strlcpy(ni->name, u.nodename, sizeof(ni->name));
		else
			snprintf(ni->name, sizeof(ni->name), "node%u", membership.local_nodeid);
	}
	return 0;
}

int cd_membership_quorum_info(struct cd_quorum_info *qi)
{
	struct votequorum_info vi;
	char *s = NULL;

	memset(qi, 0, sizeof(*qi));
	if (!membership.joined)
		return -ENOTCONN;
	if (cmap_get_string(membership.cmap, "totem.cluster_name", &s) == CS_OK) {
		cd_strlcpy(qi->cluster_name, s, sizeof(qi->cluster_name));
		free(s);
	}
	if (votequorum_getinfo(membership.vq, 0, &vi) == CS_OK) {
		qi->expected_votes = vi.node_expected_votes;
		qi->total_votes = vi.total_votes;
		qi->quorum = vi.quorum;
	}
	qi->ring_seq = membership.ring.seq;
	qi->ring_node = membership.ring.nodeid;
	return 0;
}
