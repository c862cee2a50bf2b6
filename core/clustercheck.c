/* The checks of `clusterctl cluster check` (clustercheck.h). */
#include "config.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clustercheck.h"
#include "lib/util.h"

const char *cd_check_verdict_to_str(enum cd_check_verdict v)
{
	switch (v) {
	case CD_CHECK_OK:
		return "ok";
	case CD_CHECK_WARN:
		return "warn";
	case CD_CHECK_FAIL:
		return "fail";
	}
	return "?";
}

const char *cd_check_version_str(uint64_t v, char *buf, size_t len)
{
	snprintf(buf, len, "%" PRIu64 ".%" PRIu64 ".%" PRIu64, v / 1000000, v / 1000 % 1000,
		 v % 1000);
	return buf;
}

const char *cd_check_age_str(uint64_t ms, char *buf, size_t len)
{
	if (ms < 1000)
		snprintf(buf, len, "%" PRIu64 " ms", ms);
	else if (ms < 120000)
		snprintf(buf, len, "%" PRIu64 " s", ms / 1000);
	else if (ms < 120 * 60000)
		snprintf(buf, len, "%" PRIu64 " min", ms / 60000);
	else
		snprintf(buf, len, "%" PRIu64 " h", ms / 3600000);
	return buf;
}

uint64_t cd_check_clock_max_age_ms(uint64_t state_check_interval_ms)
{
	uint64_t b = 2 * state_check_interval_ms;

	if (!state_check_interval_ms || b > CD_CHECK_CLOCK_AGE_MAX_MS)
		return CD_CHECK_CLOCK_AGE_MAX_MS;
	return b < CD_CHECK_CLOCK_AGE_MIN_MS ? CD_CHECK_CLOCK_AGE_MIN_MS : b;
}

/* Append one finding to r's text ("; " between), raising its verdict to at least v. */
static void __attribute__((format(printf, 3, 4)))
finding(struct cd_check_result *r, enum cd_check_verdict v, const char *fmt, ...)
{
	size_t len = strlen(r->text);
	va_list ap;

	if (v > r->verdict)
		r->verdict = v;
	if (len && len + 2 < sizeof(r->text)) {
		memcpy(r->text + len, "; ", 3);
		len += 2;
	}
	if (len >= sizeof(r->text) - 1)
		return;
	va_start(ap, fmt);
	vsnprintf(r->text + len, sizeof(r->text) - len, fmt, ap);
	va_end(ap);
}

/* The fix of a check: the first one given for its worst finding wins. */
static void fix(struct cd_check_result *r, const char *text)
{
	if (!r->fix[0])
		cd_strlcpy(r->fix, text, sizeof(r->fix));
}

/* r is ok with text if nothing was found. */
static void ok_unless_found(struct cd_check_result *r, const char *text)
{
	if (r->verdict == CD_CHECK_OK) {
		cd_strlcpy(r->text, text, sizeof(r->text));
		r->fix[0] = '\0';
	}
}

static bool member(const struct cd_check_input *in, const struct cd_node *n)
{
	return in->reachable && in->reachable(n->info.id, in->ctx);
}

static void check_members(const struct cd_check_input *in, struct cd_check_result *r)
{
	const struct cd_state *s = in->s;
	size_t i;

	if (s->n_nodes == 0)
		finding(r, CD_CHECK_FAIL, "the cluster knows no node yet");
	for (i = 0; i < s->n_nodes; i++) {
		const struct cd_node *n = &s->nodes[i];

		if (member(in, n))
			continue;
		finding(r, CD_CHECK_FAIL, "%s is not reachable (%s)", n->info.name,
			n->dead ? "known dead" : "not a member");
		fix(r, "start corosync and clusterd on the node, or check its network; a node "
		       "that is gone for good: 'clusterctl node remove NODE'");
	}
	if (s->n_nodes == 0)
		fix(r, "start clusterd on every node ('clusterctl status' says whether it joined)");
	ok_unless_found(r, "every node is a member");
}

/*
 * Whether the members have a vote to spare: quorum holds and survives the
 * loss of one more member (a vote each, corosync's default).
 */
static bool votes_to_spare(const struct cd_check_input *in)
{
	if (!in->quorate)
		return false;
	return !in->quorum_votes || in->total_votes > in->quorum_votes;
}

/* What the members' votes allow, after the nodes that never joined. */
static void quorum_finding(const struct cd_check_input *in, struct cd_check_result *r)
{
	enum cd_check_verdict v = r->verdict;

	if (!in->quorate)
		finding(r, v, "this node's partition has no quorum");
	else if (!in->quorum_votes)
		finding(r, v, "quorum holds");
	else if (in->total_votes > in->quorum_votes)
		finding(r, v,
			"quorum holds: the members have %" PRIu32 " votes, quorum needs %" PRIu32,
			in->total_votes, in->quorum_votes);
	else
		finding(r, v,
			"the members have %" PRIu32 " votes and quorum needs %" PRIu32
			": one more member lost stops the cluster",
			in->total_votes, in->quorum_votes);
}

/* A node of corosync's nodelist as "NAME (node id N, ADDRESS)" in buf. */
static const char *configured_name(const struct cd_node_info *c, char *buf, size_t len)
{
	const char *addr = c->n_addrs ? c->addrs[0] : "";
	const char *sep = c->n_addrs ? ", " : "";

	if (c->name[0])
		snprintf(buf, len, "%s (node id %" PRIu32 "%s%s)", c->name, c->id, sep, addr);
	else
		snprintf(buf, len, "node id %" PRIu32 "%s%s%s", c->id, c->n_addrs ? " (" : "", addr,
			 c->n_addrs ? ")" : "");
	return buf;
}

static void check_nodelist(const struct cd_check_input *in, struct cd_check_result *r)
{
	enum cd_check_verdict v = votes_to_spare(in) ? CD_CHECK_WARN : CD_CHECK_FAIL;
	char name[CD_NAME_MAX + CD_ADDR_MAX + 32];
	bool never = false;
	int i;

	if (in->n_nodelist < 0) {
		finding(r, CD_CHECK_WARN, "corosync's nodelist could not be read on this node");
		fix(r, "check that corosync runs on this node ('corosync-cfgtool -s')");
		return;
	}
	for (i = 0; i < in->n_nodelist; i++) {
		const struct cd_node_info *c = &in->nodelist[i];

		if (cd_state_node_by_id(in->s, c->id) ||
		    (in->reachable && in->reachable(c->id, in->ctx)))
			continue;
		never = true;
		finding(r, v, "%s is in corosync's nodelist but has never joined the cluster",
			configured_name(c, name, sizeof(name)));
	}
	if (never) {
		quorum_finding(in, r);
		fix(r, "start corosync and clusterd on that node, it joins by itself; a node not "
		       "meant to be in the cluster: remove it from the nodelist of corosync.conf "
		       "on every node, then 'corosync-cfgtool -R' on one");
	}
	ok_unless_found(r, in->n_nodelist ? "every node of corosync's nodelist has joined"
					  : "corosync's nodelist names no node");
}

static void check_corosync(const struct cd_check_input *in, struct cd_check_result *r)
{
	const struct cd_state *s = in->s;
	const char *first = NULL, *first_node = NULL;
	size_t i;

	for (i = 0; i < s->n_nodes; i++) {
		const struct cd_node *n = &s->nodes[i];
		const char *h = n->info.facts.corosync_sha256;

		if (!member(in, n))
			continue;
		if (!h[0]) {
			finding(r, CD_CHECK_WARN,
				"%s has not told the digest of its corosync configuration",
				n->info.name);
			fix(r, "upgrade clusterd on that node");
			continue;
		}
		if (!first) {
			first = h;
			first_node = n->info.name;
		} else if (strcmp(first, h) != 0) {
			finding(r, CD_CHECK_FAIL,
				"%s's corosync configuration (totem, nodelist, quorum) differs from "
				"%s's (SHA-256 %.12s against %.12s)",
				n->info.name, first_node, h, first);
		}
	}
	if (r->verdict == CD_CHECK_FAIL) {
		r->fix[0] = '\0';
		fix(r,
		    "make the totem, nodelist and quorum sections of corosync.conf alike on every "
		    "node, then 'corosync-cfgtool -R' on one");
	}
	ok_unless_found(r, "corosync's configuration is the same on every member");
}

static bool crypto_off(const char *v)
{
	return strcmp(v, "none") == 0;
}

static void check_crypto(const struct cd_check_input *in, struct cd_check_result *r)
{
	const struct cd_state *s = in->s;
	size_t i;

	for (i = 0; i < s->n_nodes; i++) {
		const struct cd_node_facts *f = &s->nodes[i].info.facts;
		const char *name = s->nodes[i].info.name;

		if (!member(in, &s->nodes[i]))
			continue;
		if (!f->crypto_cipher[0] || !f->crypto_hash[0])
			finding(r, CD_CHECK_WARN, "%s has not told its corosync crypto settings",
				name);
		else if (crypto_off(f->crypto_cipher) || crypto_off(f->crypto_hash))
			finding(r, CD_CHECK_FAIL,
				"%s runs corosync without crypto (crypto_cipher %s, crypto_hash %s): "
				"anyone on its network can join or forge cluster messages",
				name, f->crypto_cipher, f->crypto_hash);
	}
	if (r->verdict == CD_CHECK_FAIL)
		fix(r, "set crypto_cipher: aes256 and crypto_hash: sha256 in corosync.conf's totem "
		       "section, with the same /etc/corosync/authkey on every node ('clusterctl "
		       "cluster create' writes both), then restart corosync node by node");
	else if (r->verdict == CD_CHECK_WARN)
		fix(r, "upgrade clusterd on that node");
	ok_unless_found(r, "corosync's crypto is on on every member");
}

/* Append "NODE +N ms (measured AGE ago)" to list, ", " between. */
static void in_step(char *list, size_t len, const char *node, int64_t off, uint64_t age)
{
	size_t l = strlen(list);
	char a[32];

	if (l + 3 >= len)
		return;
	snprintf(list + l, len - l, "%s%s %+" PRId64 " ms (measured %s ago)", l ? ", " : "", node,
		 off, cd_check_age_str(age, a, sizeof(a)));
}

/* The finding of one member's clock, measured age ms ago; true if it strays. */
static bool clock_finding(const struct cd_check_input *in, const struct cd_node *n, int64_t off,
			  uint64_t age, char *list, size_t len, struct cd_check_result *r)
{
	uint64_t mag = (uint64_t)(off < 0 ? -off : off);
	char a[32];

	cd_check_age_str(age, a, sizeof(a));
	if (age > in->clock_max_age_ms) {
		finding(r, CD_CHECK_WARN,
			"%s's clock was last measured %s ago (%+" PRId64 " ms then), too long "
			"ago to tell",
			n->info.name, a, off);
		fix(r, "the members measure each other's clocks at every state check: set "
		       "state_check_interval_ms in clusterd.conf to a few minutes (not 0) and see "
		       "that 'clusterctl events' shows no failed state check");
		return false;
	}
	if (mag <= CD_CHECK_CLOCK_WARN_MS) {
		if (n->info.id != in->local_id)
			in_step(list, len, n->info.name, off, age);
		return false;
	}
	finding(r, mag > CD_CHECK_CLOCK_FAIL_MS ? CD_CHECK_FAIL : CD_CHECK_WARN,
		"%s's clock is %" PRIu64 " ms %s this node's (measured %s ago)", n->info.name, mag,
		off < 0 ? "behind" : "ahead of", a);
	return true;
}

static void check_clocks(const struct cd_check_input *in, struct cd_check_result *r)
{
	const struct cd_state *s = in->s;
	char list[CD_CHECK_TEXT_MAX] = "";
	bool skew = false;
	size_t i;

	for (i = 0; i < s->n_nodes; i++) {
		const struct cd_node *n = &s->nodes[i];
		int64_t off = 0;
		uint64_t age = 0;

		if (!member(in, n))
			continue;
		if (!in->clock || in->clock(n->info.id, &off, &age, in->ctx) < 0) {
			finding(r, CD_CHECK_WARN, "%s's clock was not measured", n->info.name);
			fix(r, "run 'clusterctl cluster check' again after the next membership "
			       "change, or on that node");
			continue;
		}
		skew |= clock_finding(in, n, off, age, list, sizeof(list), r);
	}
	if (skew) {
		r->fix[0] = '\0';
		fix(r, "run an NTP client (chrony or systemd-timesyncd) on every node against the "
		       "same servers");
	}
	if (r->verdict != CD_CHECK_OK) {
		if (list[0])
			finding(r, CD_CHECK_OK, "in step: %s", list);
		return;
	}
	snprintf(r->text, sizeof(r->text),
		 "every member's clock is within 500 ms of this node's%s%s", list[0] ? ": " : "",
		 list);
}

static void check_versions(const struct cd_check_input *in, struct cd_check_result *r)
{
	const struct cd_state *s = in->s;
	const struct cd_node *first = NULL;
	char a[32], b[32];
	size_t i;

	for (i = 0; i < s->n_nodes; i++) {
		const struct cd_node *n = &s->nodes[i];
		const struct cd_node_facts *f = &n->info.facts, *ff;

		if (!member(in, n))
			continue;
		if (!f->libvirt_version || !f->qemu_version) {
			finding(r, CD_CHECK_FAIL, "%s has told no %s version", n->info.name,
				!f->libvirt_version ? "libvirt" : "QEMU");
			fix(r, "start libvirtd on that node and check clusterd's libvirt_uri: "
			       "clusterd asks it again every few seconds");
			continue;
		}
		if (!first) {
			first = n;
			continue;
		}
		ff = &first->info.facts;
		if (f->libvirt_version / 1000 != ff->libvirt_version / 1000)
			finding(r, CD_CHECK_WARN, "%s runs libvirt %s, %s libvirt %s", n->info.name,
				cd_check_version_str(f->libvirt_version, a, sizeof(a)),
				first->info.name,
				cd_check_version_str(ff->libvirt_version, b, sizeof(b)));
		if (f->qemu_version / 1000 != ff->qemu_version / 1000)
			finding(r, CD_CHECK_WARN, "%s runs QEMU %s, %s QEMU %s", n->info.name,
				cd_check_version_str(f->qemu_version, a, sizeof(a)),
				first->info.name,
				cd_check_version_str(ff->qemu_version, b, sizeof(b)));
	}
	if (r->verdict == CD_CHECK_WARN)
		fix(r, "install the same libvirt and QEMU on every node: a VM moved to an older "
		       "QEMU may not start or restore there");
	if (r->verdict == CD_CHECK_OK && first)
		snprintf(r->text, sizeof(r->text), "every member runs libvirt %s and QEMU %s",
			 cd_check_version_str(first->info.facts.libvirt_version / 1000 * 1000, a,
					      sizeof(a)),
			 cd_check_version_str(first->info.facts.qemu_version / 1000 * 1000, b,
					      sizeof(b)));
	if (!first)
		ok_unless_found(r, "no member to compare");
}

static void check_volumes(const struct cd_check_input *in, struct cd_check_result *r)
{
	const struct cd_state *s = in->s;
	size_t v, i;

	for (v = 0; v < s->n_volumes; v++) {
		const struct cd_volume *vol = &s->volumes[v];

		for (i = 0; i < s->n_nodes; i++) {
			const struct cd_node *n = &s->nodes[i];
			int seen;

			if (!member(in, n))
				continue;
			seen = in->sees_volume ? in->sees_volume(vol, n->info.id, in->ctx) : -1;
			if (seen == 0)
				finding(r, CD_CHECK_FAIL,
					"%s does not see volume %s (%s, UUID %s) or has not joined "
					"its host leases",
					n->info.name, vol->name, vol->device, vol->uuid);
			else if (seen < 0)
				finding(r, CD_CHECK_WARN,
					"whether %s sees volume %s cannot be told from here",
					n->info.name, vol->name);
		}
	}
	if (r->verdict == CD_CHECK_FAIL)
		fix(r, "make the LUN reachable on that node at the same path (iSCSI/FC login, "
		       "multipath); 'csvfs show DEVICE' there must print the volume's UUID; "
		       "clusterd's log there says why it cannot join");
	else if (r->verdict == CD_CHECK_WARN)
		fix(r, "run 'clusterctl cluster check' on a node that sees the volume");
	ok_unless_found(r, s->n_volumes ? "every member sees every shared volume with its UUID"
					: "no shared volume");
}

static void check_failover(const struct cd_check_input *in, struct cd_check_result *r)
{
	const struct cd_failpath *fp = in->fp;
	size_t i;

	for (i = 0; fp && i < fp->n_vms; i++) {
		const struct cd_failpath_vm *v = &fp->vms[i];
		const struct cd_failpath_node *n = cd_failpath_node(fp, v->node);
		const char *node = n ? n->name : "?";

		switch (v->gap) {
		case CD_VGAP_NODE:
			finding(r, CD_CHECK_FAIL, "VM %s has no failover path: %s %s", v->name,
				node, n ? cd_death_gap_text(n->gap) : "");
			if (n)
				fix(r, cd_death_gap_fix(n->gap));
			break;
		case CD_VGAP_LOCAL_DISK:
			finding(r, CD_CHECK_FAIL,
				"VM %s has no failover path: its disk %s is not on a shared volume "
				"(only %s has it)",
				v->name, v->detail, node);
			fix(r, "put the VM's disks on a shared volume ('clusterctl volume file "
			       "create') and point its XML at /run/csvfs/VOLUME/FILE");
			break;
		case CD_VGAP_OWNERS:
			finding(r, CD_CHECK_FAIL,
				"VM %s has no failover path: its possible owners are %s alone",
				v->name, node);
			fix(r, "add nodes to its possible owners ('clusterctl vm set VM "
			       "possible-owners N1,N2')");
			break;
		case CD_VGAP_BAD_XML:
			finding(r, CD_CHECK_FAIL, "VM %s: its disks cannot be read (%s)", v->name,
				v->detail);
			fix(r, "check its XML ('clusterctl vm show VM')");
			break;
		}
	}
	for (i = 0; fp && i < fp->n_nodes; i++) {
		const struct cd_failpath_node *n = &fp->nodes[i];

		if (n->paths || n->n_vms)
			continue;
		finding(r, CD_CHECK_WARN,
			"%s %s: VMs placed there later would have no failover "
			"path",
			n->name, cd_death_gap_text(n->gap));
		fix(r, cd_death_gap_fix(n->gap));
	}
	ok_unless_found(r, "every VM has a failover path and every node's death can be confirmed");
}

void cd_check_run(const struct cd_check_input *in, struct cd_check_result *out)
{
	static const char *const names[CD_CHECK_N] = {
		[CD_CHECK_MEMBERS] = "members",
		[CD_CHECK_NODELIST] = "nodelist",
		[CD_CHECK_COROSYNC] = "corosync-config",
		[CD_CHECK_CRYPTO] = "crypto",
		[CD_CHECK_CLOCKS] = "clocks",
		[CD_CHECK_VERSIONS] = "versions",
		[CD_CHECK_VOLUMES] = "volumes",
		[CD_CHECK_FAILOVER] = "failover",
	};
	size_t i;

	memset(out, 0, CD_CHECK_N * sizeof(*out));
	for (i = 0; i < CD_CHECK_N; i++)
		out[i].name = names[i];
	check_members(in, &out[CD_CHECK_MEMBERS]);
	check_nodelist(in, &out[CD_CHECK_NODELIST]);
	check_corosync(in, &out[CD_CHECK_COROSYNC]);
	check_crypto(in, &out[CD_CHECK_CRYPTO]);
	check_clocks(in, &out[CD_CHECK_CLOCKS]);
	check_versions(in, &out[CD_CHECK_VERSIONS]);
	check_volumes(in, &out[CD_CHECK_VOLUMES]);
	check_failover(in, &out[CD_CHECK_FAILOVER]);
}

enum cd_check_verdict cd_check_worst(const struct cd_check_result *r, size_t n)
{
	enum cd_check_verdict w = CD_CHECK_OK;
	size_t i;

	for (i = 0; i < n; i++)
		if (r[i].verdict > w)
			w = r[i].verdict;
	return w;
}

struct json_object *cd_check_to_json(const struct cd_check_result *r, size_t n)
{
	struct json_object *o = json_object_new_object(), *a = json_object_new_array();
	size_t i;

	for (i = 0; i < n; i++) {
		struct json_object *e = json_object_new_object();

		json_object_object_add(e, "name", json_object_new_string(r[i].name));
		json_object_object_add(
			e, "verdict",
			json_object_new_string(cd_check_verdict_to_str(r[i].verdict)));
		json_object_object_add(e, "text", json_object_new_string(r[i].text));
		json_object_object_add(e, "fix", json_object_new_string(r[i].fix));
		json_object_array_add(a, e);
	}
	json_object_object_add(o, "checks", a);
	json_object_object_add(
		o, "verdict",
		json_object_new_string(cd_check_verdict_to_str(cd_check_worst(r, n))));
	return o;
}
