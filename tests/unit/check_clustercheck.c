/* The checks of `clusterctl cluster check`, from facts to verdicts (core/clustercheck.c). */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "check_common.h"
#include "check_fixture.h"
#include "core/clustercheck.h"
#include "core/failpath.h"
#include "core/state.h"
#include "lib/util.h"

#define SHA_A "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define SHA_B "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
#define VOL_UUID "00112233-4455-6677-8899-aabbccddeeff"

/* What the daemon would see, by node id (1 to 4). */
struct world {
	bool reachable[5];
	bool clock_known[5];
	int64_t clock[5];
	uint64_t clock_age[5];
	int sees[5];
	unsigned held; /* host leases held, a bit per node id */
	struct cd_node_info nodelist[4];
	int n_nodelist;
	bool quorate;
	uint32_t total_votes, quorum_votes;
};

static bool w_reachable(uint32_t id, void *ctx)
{
	return id < 5 && ((struct world *)ctx)->reachable[id];
}

static int w_clock(uint32_t id, int64_t *off, uint64_t *age, void *ctx)
{
	struct world *w = ctx;

	if (id >= 5 || !w->clock_known[id])
		return -1;
	*off = w->clock[id];
	*age = w->clock_age[id];
	return 0;
}

static int w_sees(const struct cd_volume *v, uint32_t id, void *ctx)
{
	return id < 5 ? ((struct world *)ctx)->sees[id] : -1;
}

static bool w_held(uint32_t id, void *ctx)
{
	return (((struct world *)ctx)->held >> id) & 1;
}

/* Node id in corosync's nodelist: named nodeID, at 198.18.0.1ID. */
static void configure(struct world *w, uint32_t id, bool named)
{
	struct cd_node_info *c = &w->nodelist[w->n_nodelist++];

	memset(c, 0, sizeof(*c));
	c->id = id;
	if (named)
		snprintf(c->name, sizeof(c->name), "node%u", id);
	snprintf(c->addrs[0], sizeof(c->addrs[0]), "198.18.0.1%u", id);
	c->n_addrs = 1;
}

/*
 * Three healthy members, all of corosync's nodelist: the same facts,
 * clocks in step, nothing placed, quorate with a vote to spare.
 */
static void healthy(struct cd_state *s, struct world *w)
{
	size_t i;

	fixture_three_nodes(s);
	memset(w, 0, sizeof(*w));
	w->quorate = true;
	w->total_votes = 3;
	w->quorum_votes = 2;
	for (i = 0; i < s->n_nodes; i++) {
		struct cd_node_facts *f = &s->nodes[i].info.facts;
		uint32_t id = s->nodes[i].info.id;

		configure(w, id, true);
		cd_strlcpy(f->corosync_sha256, SHA_A, sizeof(f->corosync_sha256));
		cd_strlcpy(f->crypto_cipher, "aes256", sizeof(f->crypto_cipher));
		cd_strlcpy(f->crypto_hash, "sha256", sizeof(f->crypto_hash));
		f->libvirt_version = 9000000;
		f->qemu_version = 7002000;
		w->reachable[id] = true;
		w->clock_known[id] = true;
		w->sees[id] = 1;
		w->held |= 1u << id;
	}
}

static void run(struct cd_state *s, struct world *w, struct cd_check_result *r)
{
	struct cd_failpath fp;
	struct cd_check_input in = {.s = s,
				    .fp = &fp,
				    .local_id = 1,
				    .reachable = w_reachable,
				    .clock = w_clock,
				    .clock_max_age_ms = 600000,
				    .sees_volume = w_sees,
				    .ctx = w,
				    .nodelist = w->nodelist,
				    .n_nodelist = w->n_nodelist,
				    .quorate = w->quorate,
				    .total_votes = w->total_votes,
				    .quorum_votes = w->quorum_votes};

	ck_assert_int_eq(cd_failpath_compute(s, "/run/csvfs", w_held, w, &fp), 0);
	cd_check_run(&in, r);
	cd_failpath_free(&fp);
}

static void must(struct cd_state *s, const char *change)
{
	char err[512];

	ck_assert_msg(fixture_apply(s, change, err, sizeof(err)) == 0, "%s: %s", change, err);
}

static void fence_all(struct cd_state *s)
{
	char err[256];

	ck_assert_int_eq(
		fixture_apply(s,
			      "{\"op\":\"fence.add\",\"name\":\"pdu\",\"agent\":\"fence_lab\","
			      "\"params\":{}}",
			      err, sizeof(err)),
		0);
}

START_TEST(test_all_ok)
{
	struct cd_state s;
	struct world w;
	struct cd_check_result r[CD_CHECK_N];
	struct json_object *o;
	size_t i;

	healthy(&s, &w);
	fence_all(&s);
	run(&s, &w, r);
	for (i = 0; i < CD_CHECK_N; i++) {
		ck_assert_msg(r[i].verdict == CD_CHECK_OK, "%s: %s", r[i].name, r[i].text);
		ck_assert_str_eq(r[i].fix, "");
	}
	ck_assert_str_eq(r[CD_CHECK_VERSIONS].text,
			 "every member runs libvirt 9.0.0 and QEMU 7.2.0");
	ck_assert_str_eq(r[CD_CHECK_VOLUMES].text, "no shared volume");
	ck_assert_int_eq(cd_check_worst(r, CD_CHECK_N), CD_CHECK_OK);
	o = cd_check_to_json(r, CD_CHECK_N);
	ck_assert_str_eq(json_object_get_string(json_object_object_get(o, "verdict")), "ok");
	ck_assert_uint_eq(json_object_array_length(json_object_object_get(o, "checks")),
			  CD_CHECK_N);
	json_object_put(o);
	cd_state_free(&s);
}
END_TEST

START_TEST(test_empty_state)
{
	struct cd_state s;
	struct world w;
	struct cd_check_result r[CD_CHECK_N];

	cd_state_init(&s);
	memset(&w, 0, sizeof(w));
	run(&s, &w, r);
	ck_assert_int_eq(r[CD_CHECK_MEMBERS].verdict, CD_CHECK_FAIL);
	ck_assert_str_ne(r[CD_CHECK_MEMBERS].fix, "");
	ck_assert_int_eq(r[CD_CHECK_FAILOVER].verdict, CD_CHECK_OK);
	ck_assert_int_eq(cd_check_worst(r, CD_CHECK_N), CD_CHECK_FAIL);
	cd_state_free(&s);
}
END_TEST

/* node2's and node3's clocks as measured (offset, age; known), and what the check says. */
static const struct clock_case {
	int64_t off2, off3;
	uint64_t age2, age3;
	bool known3;
	enum cd_check_verdict verdict;
	const char *text;
	const char *fix; /* a part of the fix, or NULL for none */
} clock_cases[] = {
	{500, -500, 1000, 30000, true, CD_CHECK_OK,
	 "every member's clock is within 500 ms of this node's: node2 +500 ms (measured 1 s "
	 "ago), node3 -500 ms (measured 30 s ago)",
	 NULL},
	{501, -500, 0, 0, true, CD_CHECK_WARN,
	 "node2's clock is 501 ms ahead of this node's (measured 0 ms ago); in step: node3 "
	 "-500 ms (measured 0 ms ago)",
	 "NTP"},
	{501, -5001, 0, 150000, true, CD_CHECK_FAIL,
	 "node2's clock is 501 ms ahead of this node's (measured 0 ms ago); node3's clock is "
	 "5001 ms behind this node's (measured 2 min ago)",
	 "NTP"},
	/* Not measured: a warning, and no word of NTP. */
	{0, 0, 0, 0, false, CD_CHECK_WARN,
	 "node3's clock was not measured; in step: node2 +0 ms (measured 0 ms ago)",
	 "membership change"},
	/* Measured too long ago (the bound is 600000 ms here): not known. */
	{3, -2, 600000, 600001, true, CD_CHECK_WARN,
	 "node3's clock was last measured 10 min ago (-2 ms then), too long ago to tell; in "
	 "step: node2 +3 ms (measured 10 min ago)",
	 "state_check_interval_ms"},
	/* A stray clock still says NTP, however old the other's. */
	{9000, 0, 0, 7200000, true, CD_CHECK_FAIL,
	 "node2's clock is 9000 ms ahead of this node's (measured 0 ms ago); node3's clock was "
	 "last measured 2 h ago (+0 ms then), too long ago to tell",
	 "NTP"},
};

START_TEST(test_clocks)
{
	const struct clock_case *c = &clock_cases[_i];
	struct cd_state s;
	struct world w;
	struct cd_check_result r[CD_CHECK_N];

	healthy(&s, &w);
	fence_all(&s);
	w.clock[2] = c->off2;
	w.clock[3] = c->off3;
	w.clock_age[2] = c->age2;
	w.clock_age[3] = c->age3;
	w.clock_known[3] = c->known3;
	run(&s, &w, r);
	ck_assert_int_eq(r[CD_CHECK_CLOCKS].verdict, c->verdict);
	ck_assert_str_eq(r[CD_CHECK_CLOCKS].text, c->text);
	if (c->fix)
		ck_assert_msg(strstr(r[CD_CHECK_CLOCKS].fix, c->fix), "%s", r[CD_CHECK_CLOCKS].fix);
	else
		ck_assert_str_eq(r[CD_CHECK_CLOCKS].fix, "");
	if (c->verdict != CD_CHECK_FAIL && strcmp(c->fix ? c->fix : "", "NTP") != 0)
		ck_assert_ptr_null(strstr(r[CD_CHECK_CLOCKS].fix, "NTP"));
	cd_state_free(&s);
}
END_TEST

START_TEST(test_clock_bounds)
{
	static const struct {
		uint64_t interval, bound;
	} b[] = {
		{0, CD_CHECK_CLOCK_AGE_MAX_MS},
		{1000, CD_CHECK_CLOCK_AGE_MIN_MS},
		{300000, 600000},
		{1800000, 3600000},
		{1800001, CD_CHECK_CLOCK_AGE_MAX_MS},
		{86400000, CD_CHECK_CLOCK_AGE_MAX_MS},
	};
	static const struct {
		uint64_t ms;
		const char *text;
	} t[] = {
		{0, "0 ms"},	   {999, "999 ms"},	 {1000, "1 s"},	   {119999, "119 s"},
		{120000, "2 min"}, {7199999, "119 min"}, {7200000, "2 h"}, {90000000, "25 h"},
	};
	char buf[32];
	size_t i;

	for (i = 0; i < sizeof(b) / sizeof(b[0]); i++)
		ck_assert_uint_eq(cd_check_clock_max_age_ms(b[i].interval), b[i].bound);
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		ck_assert_str_eq(cd_check_age_str(t[i].ms, buf, sizeof(buf)), t[i].text);
}
END_TEST

/*
 * corosync's nodelist against the state: node4 is configured (named or
 * not) and never joined, or joined just now, with the members' votes.
 */
static const struct nodelist_case {
	int node4; /* 0: not configured, 1: named, 2: unnamed, -1: nodelist unreadable */
	bool member4, quorate;
	uint32_t total, quorum;
	enum cd_check_verdict verdict;
	const char *text;
} nodelist_cases[] = {
	{0, false, true, 3, 2, CD_CHECK_OK, "every node of corosync's nodelist has joined"},
	{1, false, true, 3, 3, CD_CHECK_FAIL,
	 "node4 (node id 4, 198.18.0.14) is in corosync's nodelist but has never joined the "
	 "cluster; the members have 3 votes and quorum needs 3: one more member lost stops the "
	 "cluster"},
	{2, false, true, 4, 3, CD_CHECK_WARN,
	 "node id 4 (198.18.0.14) is in corosync's nodelist but has never joined the cluster; "
	 "quorum holds: the members have 4 votes, quorum needs 3"},
	{1, false, false, 1, 3, CD_CHECK_FAIL,
	 "node4 (node id 4, 198.18.0.14) is in corosync's nodelist but has never joined the "
	 "cluster; this node's partition has no quorum"},
	{1, false, true, 0, 0, CD_CHECK_WARN,
	 "node4 (node id 4, 198.18.0.14) is in corosync's nodelist but has never joined the "
	 "cluster; quorum holds"},
	/* A member the state does not hold yet: it is joining. */
	{1, true, true, 4, 3, CD_CHECK_OK, "every node of corosync's nodelist has joined"},
	{-1, false, true, 3, 2, CD_CHECK_WARN,
	 "corosync's nodelist could not be read on this node"},
};

START_TEST(test_nodelist)
{
	const struct nodelist_case *c = &nodelist_cases[_i];
	struct cd_state s;
	struct world w;
	struct cd_check_result r[CD_CHECK_N];

	healthy(&s, &w);
	fence_all(&s);
	if (c->node4 > 0)
		configure(&w, 4, c->node4 == 1);
	if (c->node4 < 0)
		w.n_nodelist = -1;
	w.reachable[4] = c->member4;
	w.quorate = c->quorate;
	w.total_votes = c->total;
	w.quorum_votes = c->quorum;
	run(&s, &w, r);
	ck_assert_int_eq(r[CD_CHECK_NODELIST].verdict, c->verdict);
	ck_assert_str_eq(r[CD_CHECK_NODELIST].text, c->text);
	if (c->node4 > 0 && c->verdict != CD_CHECK_OK)
		ck_assert(strstr(r[CD_CHECK_NODELIST].fix, "corosync-cfgtool -R"));
	/* The other checks know nothing of a node that never joined. */
	ck_assert_int_eq(r[CD_CHECK_MEMBERS].verdict, CD_CHECK_OK);
	cd_state_free(&s);
}
END_TEST

/* What each case of finding_cases changes in a healthy cluster (no fence device). */
static void node2_gone(struct cd_state *s, struct world *w)
{
	w->reachable[2] = false;
	/* Its old facts are not held against it. */
	s->nodes[1].info.facts.crypto_cipher[0] = '\0';
	w->clock[2] = 99999;
}

static void no_nodelist(struct cd_state *s, struct world *w)
{
	w->n_nodelist = 0;
}

static void node3_other_corosync(struct cd_state *s, struct world *w)
{
	cd_strlcpy(s->nodes[2].info.facts.corosync_sha256, SHA_B, 65);
}

static void node3_untold_corosync(struct cd_state *s, struct world *w)
{
	s->nodes[2].info.facts.corosync_sha256[0] = '\0';
}

static void node1_no_cipher(struct cd_state *s, struct world *w)
{
	cd_strlcpy(s->nodes[0].info.facts.crypto_cipher, "none", 16);
}

static void node2_no_hash(struct cd_state *s, struct world *w)
{
	cd_strlcpy(s->nodes[1].info.facts.crypto_hash, "none", 16);
}

static void node2_other_micro(struct cd_state *s, struct world *w)
{
	s->nodes[1].info.facts.libvirt_version = 9000005;
}

static void node3_other_qemu(struct cd_state *s, struct world *w)
{
	s->nodes[2].info.facts.qemu_version = 8001000;
}

static void node2_no_libvirt(struct cd_state *s, struct world *w)
{
	node3_other_qemu(s, w);
	s->nodes[1].info.facts.libvirt_version = 0;
}

static void volume(struct cd_state *s, struct world *w)
{
	must(s, "{\"op\":\"volume.add\",\"name\":\"vol1\",\"device\":\"/dev/loop3\","
		"\"uuid\":\"" VOL_UUID "\",\"hosts\":8,\"expiry_ms\":10000,"
		"\"renewal_ms\":1250}");
}

static void node3_blind(struct cd_state *s, struct world *w)
{
	volume(s, w);
	w->sees[3] = 0;
	w->held &= ~(1u << 3);
}

static void node3_untellable(struct cd_state *s, struct world *w)
{
	volume(s, w);
	w->sees[3] = -1;
}

static void web_on_node2(struct cd_state *s, struct world *w)
{
	must(s, "{\"op\":\"vm.add\",\"name\":\"web\",\"xml\":\"<domain><name>web"
		"</name><uuid>6f1d7c2e-0b6a-4f6e-9d1e-3a5b7c9d0e1f</uuid><devices>"
		"</devices></domain>\",\"vcpus\":1,\"memory_mb\":128}");
	must(s, "{\"op\":\"vm.start\",\"name\":\"web\"}");
	must(s, "{\"op\":\"vm.place\",\"name\":\"web\",\"node\":2}");
}

static void web_on_node2_fenced(struct cd_state *s, struct world *w)
{
	web_on_node2(s, w);
	fence_all(s);
}

/* One change to a healthy cluster and what one check says of it. */
static const struct finding_case {
	void (*change)(struct cd_state *s, struct world *w);
	enum cd_check_id check;
	enum cd_check_verdict verdict;
	const char *text; /* a part of the text */
	const char *fix;  /* a part of the fix, or NULL */
} finding_cases[] = {
	{node2_gone, CD_CHECK_MEMBERS, CD_CHECK_FAIL, "node2 is not reachable (not a member)",
	 "clusterctl node remove"},
	{node2_gone, CD_CHECK_CRYPTO, CD_CHECK_OK, "crypto is on on every member", NULL},
	{node2_gone, CD_CHECK_CLOCKS, CD_CHECK_OK, "within 500 ms", NULL},
	/* A node the state holds is the members check's, not the nodelist's. */
	{node2_gone, CD_CHECK_NODELIST, CD_CHECK_OK, "every node of corosync's nodelist has joined",
	 NULL},
	{no_nodelist, CD_CHECK_NODELIST, CD_CHECK_OK, "corosync's nodelist names no node", NULL},
	{node3_other_corosync, CD_CHECK_COROSYNC, CD_CHECK_FAIL,
	 "node3's corosync configuration (totem, nodelist, quorum) differs from node1's "
	 "(SHA-256 bbbbbbbbbbbb against aaaaaaaaaaaa)",
	 "corosync-cfgtool -R"},
	/* Not told (an older clusterd): a warning. */
	{node3_untold_corosync, CD_CHECK_COROSYNC, CD_CHECK_WARN,
	 "node3 has not told the digest of its corosync configuration", "upgrade clusterd"},
	{node1_no_cipher, CD_CHECK_CRYPTO, CD_CHECK_FAIL, "node1 runs corosync without crypto",
	 "crypto_cipher: aes256"},
	{node2_no_hash, CD_CHECK_CRYPTO, CD_CHECK_FAIL, "node2 runs corosync without crypto",
	 "crypto_cipher: aes256"},
	/* Another micro version is fine. */
	{node2_other_micro, CD_CHECK_VERSIONS, CD_CHECK_OK,
	 "every member runs libvirt 9.0.0 and QEMU 7.2.0", NULL},
	{node3_other_qemu, CD_CHECK_VERSIONS, CD_CHECK_WARN,
	 "node3 runs QEMU 8.1.0, node1 QEMU 7.2.0", "install the same libvirt and QEMU"},
	{node2_no_libvirt, CD_CHECK_VERSIONS, CD_CHECK_FAIL, "node2 has told no libvirt version",
	 "start libvirtd"},
	{volume, CD_CHECK_VOLUMES, CD_CHECK_OK, "every member sees every shared volume", NULL},
	/* Every node holds its host lease: the failover check is satisfied by them. */
	{volume, CD_CHECK_FAILOVER, CD_CHECK_OK, "every VM has a failover path", NULL},
	{node3_blind, CD_CHECK_VOLUMES, CD_CHECK_FAIL, "node3 does not see volume vol1 (/dev/loop3",
	 "csvfs show DEVICE"},
	{node3_blind, CD_CHECK_FAILOVER, CD_CHECK_WARN,
	 "node3 has no fence device and holds no volume host lease", "clusterctl fence add"},
	{node3_untellable, CD_CHECK_VOLUMES, CD_CHECK_WARN,
	 "whether node3 sees volume vol1 cannot be told from here", "on a node that sees"},
	{web_on_node2, CD_CHECK_FAILOVER, CD_CHECK_FAIL,
	 "VM web has no failover path: node2 has no fence device and the cluster has no shared "
	 "volume",
	 "clusterctl fence add"},
	{web_on_node2_fenced, CD_CHECK_FAILOVER, CD_CHECK_OK, "every VM has a failover path", NULL},
};

START_TEST(test_findings)
{
	const struct finding_case *c = &finding_cases[_i];
	struct cd_state s;
	struct world w;
	struct cd_check_result r[CD_CHECK_N], *f;

	healthy(&s, &w);
	c->change(&s, &w);
	run(&s, &w, r);
	f = &r[c->check];
	ck_assert_msg(f->verdict == c->verdict, "%s: %s, not %s: %s", f->name,
		      cd_check_verdict_to_str(f->verdict), cd_check_verdict_to_str(c->verdict),
		      f->text);
	ck_assert_msg(strstr(f->text, c->text), "%s: %s", f->name, f->text);
	if (c->fix)
		ck_assert_msg(strstr(f->fix, c->fix), "%s: %s", f->name, f->fix);
	else
		ck_assert_str_eq(f->fix, "");
	cd_state_free(&s);
}
END_TEST

START_TEST(test_version_str)
{
	char b[32];

	ck_assert_str_eq(cd_check_version_str(9000000, b, sizeof(b)), "9.0.0");
	ck_assert_str_eq(cd_check_version_str(10002003, b, sizeof(b)), "10.2.3");
	ck_assert_str_eq(cd_check_verdict_to_str(CD_CHECK_WARN), "warn");
}
END_TEST

int main(void)
{
	Suite *s = suite_create("clustercheck");

	add_tcase(s, test_all_ok);
	add_tcase(s, test_empty_state);
	add_table_tcase(s, test_findings, finding_cases);
	add_table_tcase(s, test_clocks, clock_cases);
	add_tcase(s, test_clock_bounds);
	add_table_tcase(s, test_nodelist, nodelist_cases);
	add_tcase(s, test_version_str);
	return run_suite(s);
}
