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

/* What the daemon would see, by node id (1 to 3). */
struct world {
	bool reachable[4];
	bool clock_known[4];
	int64_t clock[4];
	int sees[4];
	unsigned held; /* host leases held, a bit per node id */
};

static bool w_reachable(uint32_t id, void *ctx)
{
	return id < 4 && ((struct world *)ctx)->reachable[id];
}

static int w_clock(uint32_t id, int64_t *off, void *ctx)
{
	struct world *w = ctx;

	if (id >= 4 || !w->clock_known[id])
		return -1;
	*off = w->clock[id];
	return 0;
}

static int w_sees(const struct cd_volume *v, uint32_t id, void *ctx)
{
	return id < 4 ? ((struct world *)ctx)->sees[id] : -1;
}

static bool w_held(uint32_t id, void *ctx)
{
	return (((struct world *)ctx)->held >> id) & 1;
}

/* Three healthy members: the same facts, clocks in step, nothing placed. */
static void healthy(struct cd_state *s, struct world *w)
{
	size_t i;

	fixture_three_nodes(s);
	memset(w, 0, sizeof(*w));
	for (i = 0; i < s->n_nodes; i++) {
		struct cd_node_facts *f = &s->nodes[i].info.facts;
		uint32_t id = s->nodes[i].info.id;

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
				    .reachable = w_reachable,
				    .clock = w_clock,
				    .sees_volume = w_sees,
				    .ctx = w};

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
	cd_state_free(&s);
}
END_TEST

START_TEST(test_unreachable_node)
{
	struct cd_state s;
	struct world w;
	struct cd_check_result r[CD_CHECK_N];

	healthy(&s, &w);
	fence_all(&s);
	w.reachable[2] = false;
	/* Its old facts are not held against it. */
	s.nodes[1].info.facts.crypto_cipher[0] = '\0';
	w.clock[2] = 99999;
	run(&s, &w, r);
	ck_assert_int_eq(r[CD_CHECK_MEMBERS].verdict, CD_CHECK_FAIL);
	ck_assert_str_eq(r[CD_CHECK_MEMBERS].text, "node2 is not reachable (not a member)");
	ck_assert_int_eq(r[CD_CHECK_CRYPTO].verdict, CD_CHECK_OK);
	ck_assert_int_eq(r[CD_CHECK_CLOCKS].verdict, CD_CHECK_OK);
	ck_assert_int_eq(cd_check_worst(r, CD_CHECK_N), CD_CHECK_FAIL);
	cd_state_free(&s);
}
END_TEST

START_TEST(test_corosync_differs)
{
	struct cd_state s;
	struct world w;
	struct cd_check_result r[CD_CHECK_N];

	healthy(&s, &w);
	fence_all(&s);
	cd_strlcpy(s.nodes[2].info.facts.corosync_sha256, SHA_B, 65);
	run(&s, &w, r);
	ck_assert_int_eq(r[CD_CHECK_COROSYNC].verdict, CD_CHECK_FAIL);
	ck_assert_str_eq(
		r[CD_CHECK_COROSYNC].text,
		"node3's corosync configuration (totem, nodelist, quorum) differs from node1's "
		"(SHA-256 bbbbbbbbbbbb against aaaaaaaaaaaa)");
	ck_assert(strstr(r[CD_CHECK_COROSYNC].fix, "corosync-cfgtool -R"));
	/* Not told (an older clusterd): a warning. */
	cd_strlcpy(s.nodes[2].info.facts.corosync_sha256, "", 65);
	run(&s, &w, r);
	ck_assert_int_eq(r[CD_CHECK_COROSYNC].verdict, CD_CHECK_WARN);
	cd_state_free(&s);
}
END_TEST

START_TEST(test_crypto_off)
{
	struct cd_state s;
	struct world w;
	struct cd_check_result r[CD_CHECK_N];

	healthy(&s, &w);
	fence_all(&s);
	cd_strlcpy(s.nodes[0].info.facts.crypto_cipher, "none", 16);
	run(&s, &w, r);
	ck_assert_int_eq(r[CD_CHECK_CRYPTO].verdict, CD_CHECK_FAIL);
	ck_assert(strstr(r[CD_CHECK_CRYPTO].text, "node1 runs corosync without crypto"));
	ck_assert(strstr(r[CD_CHECK_CRYPTO].fix, "crypto_cipher: aes256"));
	cd_state_free(&s);
	healthy(&s, &w);
	cd_strlcpy(s.nodes[1].info.facts.crypto_hash, "none", 16);
	run(&s, &w, r);
	ck_assert_int_eq(r[CD_CHECK_CRYPTO].verdict, CD_CHECK_FAIL);
	cd_state_free(&s);
}
END_TEST

START_TEST(test_clocks)
{
	struct cd_state s;
	struct world w;
	struct cd_check_result r[CD_CHECK_N];

	healthy(&s, &w);
	fence_all(&s);
	w.clock[2] = 500;
	w.clock[3] = -500;
	run(&s, &w, r);
	ck_assert_int_eq(r[CD_CHECK_CLOCKS].verdict, CD_CHECK_OK);
	w.clock[2] = 501;
	run(&s, &w, r);
	ck_assert_int_eq(r[CD_CHECK_CLOCKS].verdict, CD_CHECK_WARN);
	ck_assert_str_eq(r[CD_CHECK_CLOCKS].text, "node2's clock is 501 ms ahead of this node's");
	ck_assert(strstr(r[CD_CHECK_CLOCKS].fix, "NTP"));
	w.clock[3] = -5001;
	run(&s, &w, r);
	ck_assert_int_eq(r[CD_CHECK_CLOCKS].verdict, CD_CHECK_FAIL);
	ck_assert(strstr(r[CD_CHECK_CLOCKS].text, "node3's clock is 5001 ms behind this node's"));
	/* Not measured: a warning, and no word of NTP. */
	w.clock[2] = w.clock[3] = 0;
	w.clock_known[3] = false;
	run(&s, &w, r);
	ck_assert_int_eq(r[CD_CHECK_CLOCKS].verdict, CD_CHECK_WARN);
	ck_assert_ptr_null(strstr(r[CD_CHECK_CLOCKS].fix, "NTP"));
	cd_state_free(&s);
}
END_TEST

START_TEST(test_versions)
{
	struct cd_state s;
	struct world w;
	struct cd_check_result r[CD_CHECK_N];

	healthy(&s, &w);
	fence_all(&s);
	s.nodes[1].info.facts.libvirt_version = 9000005; /* another micro: fine */
	run(&s, &w, r);
	ck_assert_int_eq(r[CD_CHECK_VERSIONS].verdict, CD_CHECK_OK);
	s.nodes[2].info.facts.qemu_version = 8001000;
	run(&s, &w, r);
	ck_assert_int_eq(r[CD_CHECK_VERSIONS].verdict, CD_CHECK_WARN);
	ck_assert_str_eq(r[CD_CHECK_VERSIONS].text, "node3 runs QEMU 8.1.0, node1 QEMU 7.2.0");
	s.nodes[1].info.facts.libvirt_version = 0;
	run(&s, &w, r);
	ck_assert_int_eq(r[CD_CHECK_VERSIONS].verdict, CD_CHECK_FAIL);
	ck_assert(strstr(r[CD_CHECK_VERSIONS].text, "node2 has told no libvirt version"));
	cd_state_free(&s);
}
END_TEST

START_TEST(test_volumes)
{
	struct cd_state s;
	struct world w;
	struct cd_check_result r[CD_CHECK_N];

	healthy(&s, &w);
	must(&s, "{\"op\":\"volume.add\",\"name\":\"vol1\",\"device\":\"/dev/loop3\","
		 "\"uuid\":\"" VOL_UUID "\",\"hosts\":8,\"expiry_ms\":10000,"
		 "\"renewal_ms\":1250}");
	run(&s, &w, r);
	ck_assert_int_eq(r[CD_CHECK_VOLUMES].verdict, CD_CHECK_OK);
	/* Every node holds its host lease: the failover check is satisfied by them. */
	ck_assert_int_eq(r[CD_CHECK_FAILOVER].verdict, CD_CHECK_OK);
	w.sees[3] = 0;
	w.held &= ~(1u << 3);
	run(&s, &w, r);
	ck_assert_int_eq(r[CD_CHECK_VOLUMES].verdict, CD_CHECK_FAIL);
	ck_assert(strstr(r[CD_CHECK_VOLUMES].text, "node3 does not see volume vol1 (/dev/loop3"));
	ck_assert_int_eq(r[CD_CHECK_FAILOVER].verdict, CD_CHECK_WARN);
	ck_assert(strstr(r[CD_CHECK_FAILOVER].text, "node3 has no fence device and holds no volume "
						    "host lease"));
	w.sees[3] = -1;
	run(&s, &w, r);
	ck_assert_int_eq(r[CD_CHECK_VOLUMES].verdict, CD_CHECK_WARN);
	cd_state_free(&s);
}
END_TEST

START_TEST(test_failover)
{
	struct cd_state s;
	struct world w;
	struct cd_check_result r[CD_CHECK_N];

	healthy(&s, &w);
	must(&s, "{\"op\":\"vm.add\",\"name\":\"web\",\"xml\":\"<domain><name>web"
		 "</name><uuid>6f1d7c2e-0b6a-4f6e-9d1e-3a5b7c9d0e1f</uuid><devices>"
		 "</devices></domain>\",\"vcpus\":1,\"memory_mb\":128}");
	must(&s, "{\"op\":\"vm.start\",\"name\":\"web\"}");
	must(&s, "{\"op\":\"vm.place\",\"name\":\"web\",\"node\":2}");
	run(&s, &w, r);
	ck_assert_int_eq(r[CD_CHECK_FAILOVER].verdict, CD_CHECK_FAIL);
	ck_assert(strstr(r[CD_CHECK_FAILOVER].text,
			 "VM web has no failover path: node2 has no fence device and the cluster "
			 "has no shared volume"));
	ck_assert(strstr(r[CD_CHECK_FAILOVER].fix, "clusterctl fence add"));
	fence_all(&s);
	run(&s, &w, r);
	ck_assert_int_eq(r[CD_CHECK_FAILOVER].verdict, CD_CHECK_OK);
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
	add_tcase(s, test_unreachable_node);
	add_tcase(s, test_corosync_differs);
	add_tcase(s, test_crypto_off);
	add_tcase(s, test_clocks);
	add_tcase(s, test_versions);
	add_tcase(s, test_volumes);
	add_tcase(s, test_failover);
	add_tcase(s, test_version_str);
	return run_suite(s);
}
