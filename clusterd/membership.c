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
#include "clusterd/quorumview.h"
#include "clusterd/sync.h"
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

	struct cpg_ring_id ring;     /* last totem configuration */
	bool have_group;	     /* a group confchg was seen */
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
} m = {.cpg_fd = -1, .quorum_fd = -1};

static void reconnect_cb(void *data);
static void disconnect(void);
static void quorum_wait_cb(void *data);

static const char *cs_str(cs_error_t e)
{
	return cs_strerror(e);
}

static void drop_sendq(void)
{
	struct sendq_item *it;

	while ((it = m.sendq)) {
		m.sendq = it->next;
		free(it);
	}
	m.sendq_tail = &m.sendq;
}

static void new_round(void)
{
	uint64_t token;

	/*
	 * Wait for the ring id too: a process that just joined learns it from
	 * the initial totem configuration, which may come after the group's.
	 */
	if (!m.have_group || m.ring.seq == 0)
		return;
	token = cd_sync_round_token(m.ring.nodeid, m.ring.seq, m.members, m.pids, m.n_members);
	qb_log(LOG_INFO, "configuration changed: ring %u/%llu, %zu members, round %016llx",
	       m.ring.nodeid, (unsigned long long)m.ring.seq, m.n_members,
	       (unsigned long long)token);
	m.quorum_late = false;
	/*
	 * What is still queued here was never handed to corosync: it belongs
	 * to the old configuration, whose clients are told to retry.
	 */
	drop_sendq();
	if (!cd_membership_quorum_current()) {
		qb_loop_timer_del(m.loop, m.quorum_timer);
		qb_loop_timer_add(m.loop, QB_LOOP_MED, QUORUM_WAIT_MS * 1000000ull, NULL,
				  quorum_wait_cb, &m.quorum_timer);
	}
	m.ops->confchg(token, m.members, m.n_members);
}

static void cpg_deliver_cb(cpg_handle_t h, const struct cpg_name *group, uint32_t nodeid,
			   uint32_t pid, void *msg, size_t len)
{
	m.ops->deliver(nodeid, msg, len);
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
	m.n_members = n_members < CPG_MEMBERS_MAX ? n_members : CPG_MEMBERS_MAX;
	for (i = 0; i < m.n_members; i++) {
		m.members[i] = members[i].nodeid;
		m.pids[i] = members[i].pid;
	}
	m.have_group = true;
	new_round();
}

static void cpg_totem_cb(cpg_handle_t h, struct cpg_ring_id ring, uint32_t n,
			 const uint32_t *members)
{
	qb_log(LOG_DEBUG, "totem ring %u/%llu with %u nodes", ring.nodeid,
	       (unsigned long long)ring.seq, n);
	m.ring = ring;
	/*
	 * A ring change that leaves the group as it was still needs a round:
	 * the quorum may have changed with it.
	 */
	new_round();
}

static void quorum_cb(quorum_handle_t h, uint32_t quorate, struct quorum_ring_id ring,
		      uint32_t n, const uint32_t *members)
{
	if (quorate != m.quorate || !m.quorum_known)
		qb_log(quorate ? LOG_NOTICE : LOG_WARNING, "quorum %s (ring %u/%llu, %u nodes)",
		       quorate ? "acquired" : "lost", ring.nodeid, (unsigned long long)ring.seq,
		       n);
	m.quorate = quorate;
	m.quorum_known = true;
	m.quorum_ring = ring;
	m.ops->quorum();
}

static struct cd_quorum_view view(void)
{
	struct cd_quorum_view v = {
		.joined = m.joined,
		.ring = {m.ring.nodeid, m.ring.seq},
		.known = m.quorum_known,
		.quorate = m.quorate,
		.report_ring = {m.quorum_ring.nodeid, m.quorum_ring.seq},
		.waited = m.quorum_late,
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
	if (!m.joined || cd_membership_quorum_current())
		return;
	qb_log(LOG_WARNING,
	       "no quorum report for ring %u/%llu after %d ms: inquorate until it comes",
	       m.ring.nodeid, (unsigned long long)m.ring.seq, QUORUM_WAIT_MS);
	m.quorum_late = true;
	m.ops->quorum();
}

static int32_t cpg_fd_cb(int32_t fd, int32_t revents, void *data)
{
	cs_error_t e;

	if (revents & (POLLERR | POLLHUP | POLLNVAL)) {
		e = CS_ERR_LIBRARY;
	} else {
		e = cpg_dispatch(m.cpg, CS_DISPATCH_ALL);
		if (e == CS_ERR_TRY_AGAIN)
			e = CS_OK;
	}
	if (e != CS_OK) {
		qb_log(LOG_ERR, "lost the connection to corosync (cpg: %s)", cs_str(e));
		disconnect();
		m.ops->lost();
		qb_loop_timer_add(m.loop, QB_LOOP_MED, RECONNECT_MS * 1000000ull, NULL,
				  reconnect_cb, &m.reconnect_timer);
		return -1; /* drop this poll entry */
	}
	m.ops->flush();
	return 0;
}

static int32_t quorum_fd_cb(int32_t fd, int32_t revents, void *data)
{
	cs_error_t e;

	if (revents & (POLLERR | POLLHUP | POLLNVAL))
		e = CS_ERR_LIBRARY;
	else
		e = quorum_dispatch(m.quorum, CS_DISPATCH_ALL);
	if (e != CS_OK && e != CS_ERR_TRY_AGAIN) {
		qb_log(LOG_ERR, "lost the connection to corosync (quorum: %s)", cs_str(e));
		m.quorum_fd = -1;
		return -1; /* cpg notices as well and reconnects everything */
	}
	return 0;
}

static void disconnect(void)
{
	if (m.cpg_fd >= 0)
		qb_loop_poll_del(m.loop, m.cpg_fd);
	if (m.quorum_fd >= 0)
		qb_loop_poll_del(m.loop, m.quorum_fd);
	m.cpg_fd = m.quorum_fd = -1;
	if (m.cpg)
		cpg_finalize(m.cpg);
	if (m.quorum)
		quorum_finalize(m.quorum);
	if (m.vq)
		votequorum_finalize(m.vq);
	if (m.cmap)
		cmap_finalize(m.cmap);
	m.cpg = 0;
	m.quorum = 0;
	m.vq = 0;
	m.cmap = 0;
	m.joined = false;
	m.have_group = false;
	m.quorate = false;
	m.quorum_known = false;
	m.n_members = 0;
	memset(&m.ring, 0, sizeof(m.ring));
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

	e = cmap_initialize(&m.cmap);
	if (e != CS_OK)
		goto fail;
	e = votequorum_initialize(&m.vq, NULL);
	if (e != CS_OK)
		goto fail;
	e = quorum_model_initialize(&m.quorum, QUORUM_MODEL_V1,
				    (quorum_model_data_t *)&quorum_model, &qtype, NULL);
	if (e != CS_OK)
		goto fail;
	if (qtype == 0)
		qb_log(LOG_WARNING, "corosync has no quorum provider: every partition is quorate; "
				    "configure corosync_votequorum");
	e = quorum_trackstart(m.quorum, CS_TRACK_CHANGES | CS_TRACK_CURRENT);
	if (e != CS_OK)
		goto fail;
	e = cpg_model_initialize(&m.cpg, CPG_MODEL_V1, (cpg_model_data_t *)&cpg_model, NULL);
	if (e != CS_OK)
		goto fail;
	e = cpg_local_get(m.cpg, &m.local_nodeid);
	if (e != CS_OK)
		goto fail;
	cd_strlcpy(group.value, CPG_GROUP, sizeof(group.value));
	group.length = (uint32_t)strlen(CPG_GROUP);
	e = cpg_join(m.cpg, &group);
	if (e != CS_OK)
		goto fail;
	cpg_fd_get(m.cpg, &m.cpg_fd);
	quorum_fd_get(m.quorum, &m.quorum_fd);
	qb_loop_poll_add(m.loop, QB_LOOP_HIGH, m.cpg_fd, POLLIN | POLLPRI, NULL, cpg_fd_cb);
	qb_loop_poll_add(m.loop, QB_LOOP_HIGH, m.quorum_fd, POLLIN | POLLPRI, NULL, quorum_fd_cb);
	m.joined = true;
	qb_log(LOG_NOTICE, "joined corosync as node %u", m.local_nodeid);
	return 0;
fail:
	qb_log(LOG_DEBUG, "corosync not available: %s", cs_str(e));
	disconnect();
	return -ENOTCONN;
}

static void reconnect_cb(void *data)
{
	if (connect_corosync() < 0)
		qb_loop_timer_add(m.loop, QB_LOOP_MED, RECONNECT_MS * 1000000ull, NULL,
				  reconnect_cb, &m.reconnect_timer);
}

int cd_membership_start(qb_loop_t *loop, const struct cd_membership_ops *ops)
{
	m.loop = loop;
	m.ops = ops;
	m.sendq_tail = &m.sendq;
	if (connect_corosync() < 0) {
		qb_log(LOG_WARNING, "corosync is not running yet; retrying every %d ms",
		       RECONNECT_MS);
		qb_loop_timer_add(m.loop, QB_LOOP_MED, RECONNECT_MS * 1000000ull, NULL,
				  reconnect_cb, &m.reconnect_timer);
	}
	return 0;
}

void cd_membership_stop(void)
{
	if (m.joined) {
		struct cpg_name group;

		cd_strlcpy(group.value, CPG_GROUP, sizeof(group.value));
		group.length = (uint32_t)strlen(CPG_GROUP);
		cpg_leave(m.cpg, &group);
	}
	disconnect();
}

/* Send what is queued, in order; on TRY_AGAIN keep it and retry shortly. */
static void flush_sendq(void *data)
{
	while (m.sendq && m.joined) {
		struct sendq_item *it = m.sendq;
		struct iovec iov = {.iov_base = it->data, .iov_len = it->len};
		cs_error_t e = cpg_mcast_joined(m.cpg, CPG_TYPE_AGREED, &iov, 1);

		if (e == CS_ERR_TRY_AGAIN) {
			qb_loop_timer_add(m.loop, QB_LOOP_HIGH, RESEND_MS * 1000000ull, NULL,
					  flush_sendq, &m.resend_timer);
			return;
		}
		if (e != CS_OK)
			qb_log(LOG_ERR, "cpg_mcast_joined failed: %s; message of %zu bytes dropped",
			       cs_str(e), it->len);
		m.sendq = it->next;
		if (!m.sendq)
			m.sendq_tail = &m.sendq;
		free(it);
	}
}

int cd_membership_send(const void *buf, size_t len)
{
	struct sendq_item *it;
	bool idle = m.sendq == NULL;

	if (!m.joined)
		return -ENOTCONN;
	it = malloc(sizeof(*it) + len);
	if (!it)
		return -ENOMEM;
	it->next = NULL;
	it->len = len;
	memcpy(it->data, buf, len);
	*m.sendq_tail = it;
	m.sendq_tail = &it->next;
	if (idle)
		flush_sendq(NULL);
	return 0;
}

bool cd_membership_joined(void)
{
	return m.joined;
}

uint32_t cd_membership_local_nodeid(void)
{
	return m.local_nodeid;
}

bool cd_membership_quorate(void)
{
	struct cd_quorum_view v = view();

	return cd_quorum_quorate(&v);
}

bool cd_membership_is_member(uint32_t nodeid)
{
	size_t i;

	for (i = 0; i < m.n_members; i++)
		if (m.members[i] == nodeid)
			return true;
	return false;
}

int cd_membership_local_info(struct cd_node_info *ni)
{
	char key[128], *s = NULL;
	uint32_t id, i, r;

	memset(ni, 0, sizeof(*ni));
	ni->id = m.local_nodeid;
	cd_hostinfo_capacity(&ni->cap);
	for (i = 0; m.cmap && i < 1024; i++) {
		snprintf(key, sizeof(key), "nodelist.node.%u.nodeid", i);
		if (cmap_get_uint32(m.cmap, key, &id) != CS_OK)
			break;
		if (id != m.local_nodeid)
			continue;
		snprintf(key, sizeof(key), "nodelist.node.%u.name", i);
		if (cmap_get_string(m.cmap, key, &s) == CS_OK) {
			cd_strlcpy(ni->name, s, sizeof(ni->name));
			free(s);
		}
		for (r = 0; r < CD_ADDRS_MAX; r++) {
			snprintf(key, sizeof(key), "nodelist.node.%u.ring%u_addr", i, r);
			if (cmap_get_string(m.cmap, key, &s) != CS_OK)
				continue;
			cd_strlcpy(ni->addrs[ni->n_addrs++], s, sizeof(ni->addrs[0]));
			free(s);
		}
		break;
	}
	if (!ni->name[0] || !cd_valid_name(ni->name, CD_NAME_MAX)) {
		struct utsname u;

		if (uname(&u) == 0 && cd_valid_name(u.nodename, CD_NAME_MAX))
			cd_strlcpy(ni->name, u.nodename, sizeof(ni->name));
		else
			snprintf(ni->name, sizeof(ni->name), "node%u", m.local_nodeid);
	}
	return 0;
}

int cd_membership_quorum_info(struct cd_quorum_info *qi)
{
	struct votequorum_info vi;
	char *s = NULL;

	memset(qi, 0, sizeof(*qi));
	if (!m.joined)
		return -ENOTCONN;
	if (cmap_get_string(m.cmap, "totem.cluster_name", &s) == CS_OK) {
		cd_strlcpy(qi->cluster_name, s, sizeof(qi->cluster_name));
		free(s);
	}
	if (votequorum_getinfo(m.vq, 0, &vi) == CS_OK) {
		qi->expected_votes = vi.node_expected_votes;
		qi->total_votes = vi.total_votes;
		qi->quorum = vi.quorum;
	}
	qi->ring_seq = m.ring.seq;
	qi->ring_node = m.ring.nodeid;
	return 0;
}
