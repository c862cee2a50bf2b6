#include "config.h"

#include <stdio.h>
#include <string.h>

#include <clusterd/result.h>

#include "check_common.h"
#include "core/state.h"

static struct json_object *change(const char *text)
{
	struct json_object *o = json_tokener_parse(text);

	ck_assert_ptr_nonnull(o);
	return o;
}

static int apply(struct cd_state *s, const char *text, char *err)
{
	struct json_object *o = change(text);
	int rc = cd_state_apply(s, o, err, 256);

	json_object_put(o);
	return rc;
}

static struct cd_node_info info(uint32_t id, const char *name)
{
	struct cd_node_info ni;

	memset(&ni, 0, sizeof(ni));
	ni.id = id;
	strcpy(ni.name, name);
	strcpy(ni.addrs[0], "198.18.0.1");
	ni.n_addrs = 1;
	ni.cap.cores = 4;
	ni.cap.memory_mb = 8192;
	strcpy(ni.cap.cpu_model, "qemu64");
	return ni;
}

START_TEST(test_property_set_get_delete)
{
	struct cd_state s;
	char err[256];

	cd_state_init(&s);
	ck_assert_int_eq(apply(&s, "{\"op\":\"property.set\",\"key\":\"b\",\"value\":\"2\"}", err),
			 0);
	ck_assert_int_eq(apply(&s, "{\"op\":\"property.set\",\"key\":\"a\",\"value\":\"1\"}", err),
			 0);
	ck_assert_int_eq(apply(&s, "{\"op\":\"property.set\",\"key\":\"b\",\"value\":\"3\"}", err),
			 0);
	ck_assert_uint_eq(s.version.seq, 3);
	ck_assert_uint_eq(s.n_props, 2);
	ck_assert_str_eq(s.props[0].key, "a"); /* kept sorted */
	ck_assert_str_eq(cd_state_prop(&s, "b"), "3");
	ck_assert_int_eq(apply(&s, "{\"op\":\"property.delete\",\"key\":\"a\"}", err), 0);
	ck_assert_ptr_null(cd_state_prop(&s, "a"));
	ck_assert_uint_eq(s.version.seq, 4);
	/* The properties clusterd reads take their documented values. */
	ck_assert_int_eq(apply(&s,
			       "{\"op\":\"property.set\",\"key\":\"quorum-loss-policy\","
			       "\"value\":\"freeze\"}",
			       err),
			 0);
	ck_assert_int_eq(apply(&s,
			       "{\"op\":\"property.set\",\"key\":\"failover-confirm\","
			       "\"value\":\"lease,fence\"}",
			       err),
			 0);
	ck_assert_int_eq(apply(&s,
			       "{\"op\":\"property.set\",\"key\":\"failover-grace-ms\","
			       "\"value\":\"20000\"}",
			       err),
			 0);
	ck_assert_int_eq(apply(&s,
			       "{\"op\":\"property.set\",\"key\":\"flap-limit\","
			       "\"value\":\"0\"}",
			       err),
			 0);
	cd_state_free(&s);
}
END_TEST

START_TEST(test_refused_changes_change_nothing)
{
	struct cd_state s;
	char err[256];
	static const char *bad[] = {
		"{\"op\":\"property.set\",\"key\":\"bad key\",\"value\":\"x\"}",
		"{\"op\":\"property.set\",\"key\":\"\",\"value\":\"x\"}",
		"{\"op\":\"property.set\",\"key\":\"k\"}",
		"{\"op\":\"property.set\",\"key\":\"k\",\"value\":5}",
		"{\"op\":\"property.delete\",\"key\":\"missing\"}",
		"{\"op\":\"property.set\",\"key\":\"quorum-loss-policy\",\"value\":\"pause\"}",
		"{\"op\":\"property.set\",\"key\":\"failover-confirm\",\"value\":\"leases\"}",
		"{\"op\":\"property.set\",\"key\":\"failover-grace-ms\",\"value\":\"5s\"}",
		"{\"op\":\"property.set\",\"key\":\"failover-grace-ms\",\"value\":\"-1\"}",
		"{\"op\":\"property.set\",\"key\":\"failover-grace-ms\",\"value\":\"3600001\"}",
		"{\"op\":\"property.set\",\"key\":\"flap-limit\",\"value\":\"4\"}",
		"{\"op\":\"node.maintenance\",\"node\":\"nobody\",\"on\":true}",
		"{\"op\":\"no.such.op\"}",
		"{\"key\":\"k\"}",
		"[1,2]",
	};
	size_t i;

	cd_state_init(&s);
	ck_assert_int_eq(apply(&s, "{\"op\":\"property.set\",\"key\":\"k\",\"value\":\"v\"}", err),
			 0);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		ck_assert_int_lt(apply(&s, bad[i], err), 0);
		ck_assert_msg(err[0] != '\0', "no error text for %s", bad[i]);
	}
	ck_assert_uint_eq(s.version.seq, 1);
	ck_assert_uint_eq(s.n_props, 1);
	ck_assert_str_eq(cd_state_prop(&s, "k"), "v");
	cd_state_free(&s);
}
END_TEST

START_TEST(test_value_size_limit)
{
	struct cd_state s;
	struct json_object *o = json_object_new_object();
	char err[256], *big = malloc(CD_PROP_VALUE_MAX + 2);

	memset(big, 'x', CD_PROP_VALUE_MAX + 1);
	big[CD_PROP_VALUE_MAX + 1] = '\0';
	cd_state_init(&s);
	json_object_object_add(o, "op", json_object_new_string("property.set"));
	json_object_object_add(o, "key", json_object_new_string("k"));
	json_object_object_add(o, "value", json_object_new_string(big));
	ck_assert_int_eq(cd_state_apply(&s, o, err, sizeof(err)), CD_ERR_INVALID);
	big[CD_PROP_VALUE_MAX] = '\0';
	json_object_object_add(o, "value", json_object_new_string(big));
	ck_assert_int_eq(cd_state_apply(&s, o, err, sizeof(err)), 0);
	json_object_put(o);
	free(big);
	cd_state_free(&s);
}
END_TEST

START_TEST(test_sync_finish_membership)
{
	struct cd_state s;
	struct cd_node_info m[3] = {info(3, "node3"), info(1, "node1"), info(2, "node2")};
	char err[256];

	cd_state_init(&s);
	cd_state_sync_finish(&s, m, 3, 1, 0);
	ck_assert_uint_eq(s.version.epoch, 1);
	ck_assert_uint_eq(s.version.seq, 0);
	ck_assert_uint_eq(s.n_nodes, 3);
	ck_assert_uint_eq(s.nodes[0].info.id, 1); /* sorted by id */
	ck_assert(cd_node_state(&s.nodes[2]) == CD_NODE_ONLINE);
	ck_assert_int_eq(
		apply(&s, "{\"op\":\"node.maintenance\",\"node\":\"node2\",\"on\":true}", err), 0);
	ck_assert(cd_node_state(cd_state_node_by_name(&s, "node2")) == CD_NODE_MAINTENANCE);

	/* Node 2 leaves: offline, its record and maintenance flag kept. */
	m[2] = m[1];
	cd_state_sync_finish(&s, m, 2, 2, 0);
	ck_assert_uint_eq(s.version.epoch, 2);
	ck_assert(cd_node_state(cd_state_node_by_id(&s, 2)) == CD_NODE_OFFLINE);
	ck_assert(cd_state_node_by_id(&s, 2)->maintenance);
	ck_assert_uint_eq(cd_state_node_by_id(&s, 2)->last_change, 2);
	ck_assert_uint_eq(cd_state_node_by_id(&s, 1)->last_change, 1);
	/* A member cannot be removed; an offline node can. */
	ck_assert_int_eq(apply(&s, "{\"op\":\"node.remove\",\"node\":\"node1\"}", err),
			 CD_ERR_INVALID);
	/* Node 2, gone, is declared dead; when it returns it is alive again. */
	ck_assert_int_eq(apply(&s, "{\"op\":\"node.dead\",\"node\":1,\"how\":\"lease\"}", err),
			 CD_ERR_INVALID); /* a member is not dead */
	ck_assert_int_eq(apply(&s, "{\"op\":\"node.dead\",\"node\":2,\"how\":\"lease\"}", err), 0);
	ck_assert(cd_node_state(cd_state_node_by_id(&s, 2)) == CD_NODE_FENCED);
	m[2] = info(2, "node2");
	cd_state_sync_finish(&s, m, 3, 3, 0);
	ck_assert(!cd_state_node_by_id(&s, 2)->dead);
	ck_assert(cd_node_state(cd_state_node_by_id(&s, 2)) != CD_NODE_FENCED);
	m[2] = m[1];
	cd_state_sync_finish(&s, m, 2, 4, 0);
	ck_assert_int_eq(apply(&s, "{\"op\":\"node.remove\",\"node\":\"node2\"}", err), 0);
	ck_assert_uint_eq(s.n_nodes, 2);
	cd_state_free(&s);
}
END_TEST

static char *to_text(const struct cd_state *s)
{
	struct json_object *o = cd_state_to_json(s);
	char *t = strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));

	json_object_put(o);
	return t;
}

START_TEST(test_flapping_node_quarantined)
{
	char err[256];
	struct cd_state s;
	struct cd_node_info all[2] = {info(1, "node1"), info(2, "node2")};
	uint64_t t = 1000000;
	int k;

	cd_state_init(&s);
	cd_state_sync_finish(&s, all, 2, 1, t);
	for (k = 1; k <= CD_FLAP_LIMIT; k++) {
		cd_state_sync_finish(&s, all, 1, 2 * k, t + 1000 * k); /* node 2 leaves */
		ck_assert(!cd_node_quarantined(cd_state_node_by_id(&s, 2), t + 1000 * k));
		cd_state_sync_finish(&s, all, 2, 2 * k + 1, t + 1000 * k + 500); /* and returns */
	}
	ck_assert(cd_node_quarantined(cd_state_node_by_id(&s, 2), t + 5000));
	ck_assert(!cd_node_quarantined(cd_state_node_by_id(&s, 2), t + 5000 + CD_QUARANTINE_MS));
	ck_assert(!cd_node_quarantined(cd_state_node_by_id(&s, 1), t + 5000));
	ck_assert(cd_node_state(cd_state_node_by_id(&s, 2)) == CD_NODE_ONLINE);
	cd_state_free(&s);

	/* Returns spread wider than the window are no flapping. */
	cd_state_init(&s);
	cd_state_sync_finish(&s, all, 2, 1, t);
	for (k = 1; k <= CD_FLAP_LIMIT; k++) {
		uint64_t when = t + (uint64_t)k * (CD_FLAP_WINDOW_MS / 2 + 1);

		cd_state_sync_finish(&s, all, 1, 2 * k, when);
		cd_state_sync_finish(&s, all, 2, 2 * k + 1, when + 500);
	}
	ck_assert(!cd_state_node_by_id(&s, 2)->quarantine_until);
	cd_state_free(&s);

	/* flap-limit 0: no quarantine, however often. */
	cd_state_init(&s);
	ck_assert_int_eq(
		apply(&s, "{\"op\":\"property.set\",\"key\":\"flap-limit\",\"value\":\"0\"}", err),
		0);
	cd_state_sync_finish(&s, all, 2, 1, t);
	for (k = 1; k <= 2 * CD_FLAP_LIMIT; k++) {
		cd_state_sync_finish(&s, all, 1, 2 * k, t + 1000 * k);
		cd_state_sync_finish(&s, all, 2, 2 * k + 1, t + 1000 * k + 500);
	}
	ck_assert(!cd_state_node_by_id(&s, 2)->quarantine_until);
	cd_state_free(&s);
}
END_TEST

START_TEST(test_json_roundtrip_is_canonical)
{
	struct cd_state s, back, copy;
	struct cd_node_info m[2] = {info(1, "node1"), info(2, "node2")};
	char err[256], *t1, *t2, *t3;
	struct json_object *o;

	cd_state_init(&s);
	cd_state_sync_finish(&s, m, 2, 7, 0);
	apply(&s, "{\"op\":\"property.set\",\"key\":\"z\",\"value\":\"\\\"quoted\\\"\"}", err);
	apply(&s, "{\"op\":\"property.set\",\"key\":\"a\",\"value\":\"1\"}", err);
	t1 = to_text(&s);
	o = json_tokener_parse(t1);
	ck_assert_int_eq(cd_state_from_json(&back, o, err, sizeof(err)), 0);
	json_object_put(o);
	t2 = to_text(&back);
	ck_assert_str_eq(t1, t2);
	ck_assert_int_eq(cd_state_copy(&copy, &back), 0);
	t3 = to_text(&copy);
	ck_assert_str_eq(t1, t3);
	ck_assert_uint_eq(back.version.epoch, 7);
	ck_assert_uint_eq(back.version.seq, 2);
	free(t1);
	free(t2);
	free(t3);
	cd_state_free(&s);
	cd_state_free(&back);
	cd_state_free(&copy);
}
END_TEST

START_TEST(test_from_json_rejects_bad_state)
{
	static const char *bad[] = {
		"{}",
		"{\"format\":3,\"version\":{\"epoch\":1,\"seq\":0},\"nodes\":[],\"properties\":{}}",
		"{\"format\":0,\"version\":{\"epoch\":1,\"seq\":0},\"nodes\":[],\"properties\":{}}",
		"{\"format\":1,\"version\":{\"epoch\":-1,\"seq\":0},\"nodes\":[],\"properties\":{}}",
		"{\"format\":1,\"version\":{\"epoch\":1,\"seq\":0},\"nodes\":{},\"properties\":{}}",
		"{\"format\":1,\"version\":{\"epoch\":1,\"seq\":0},\"nodes\":[{\"id\":0}],"
		"\"properties\":{}}",
		"{\"format\":1,\"version\":{\"epoch\":1,\"seq\":0},\"nodes\":[],\"properties\":{\"bad "
		"key\":\"v\"}}",
		"{\"format\":1,\"version\":{\"epoch\":1,\"seq\":0},\"nodes\":[],\"properties\":{\"k\":"
		"1}}",
		"{\"format\":1,\"version\":{\"epoch\":1,\"seq\":0},\"nodes\":[]}",
	};
	struct cd_state s;
	char err[256];
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct json_object *o = json_tokener_parse(bad[i]);

		ck_assert_ptr_nonnull(o);
		ck_assert_msg(cd_state_from_json(&s, o, err, sizeof(err)) < 0, "accepted %s",
			      bad[i]);
		ck_assert_uint_eq(s.n_nodes, 0);
		json_object_put(o);
	}
	{
		struct json_object *o = json_tokener_parse(bad[1]);

		ck_assert_int_eq(cd_state_from_json(&s, o, err, sizeof(err)), CD_ERR_VERSION);
		json_object_put(o);
		o = json_tokener_parse(bad[2]);
		ck_assert_int_eq(cd_state_from_json(&s, o, err, sizeof(err)), CD_ERR_VERSION);
		json_object_put(o);
	}
}
END_TEST

/*
 * A node's host CPU travels in its record when it has one; a record
 * without it (an older clusterd's) reads as none, and a bad one is refused.
 */
START_TEST(test_node_host_cpu_json)
{
	static const char *cpu = "<cpu mode=\"custom\" match=\"exact\"><model fallback="
				 "\"forbid\">EPYC-Rome</model><vendor>AMD</vendor></cpu>";
	struct cd_node_info ni = info(1, "node1"), back;
	struct json_object *o, *cap;
	char *big;

	o = cd_node_info_to_json(&ni);
	ck_assert(json_object_object_get_ex(o, "capacity", &cap));
	ck_assert(!json_object_object_get_ex(cap, "host_cpu_xml", NULL));
	ck_assert_int_eq(cd_node_info_from_json(&back, o), 0);
	ck_assert_str_eq(back.cap.host_cpu_xml, "");
	json_object_put(o);

	strcpy(ni.cap.host_cpu_xml, cpu);
	o = cd_node_info_to_json(&ni);
	ck_assert_int_eq(cd_node_info_from_json(&back, o), 0);
	ck_assert_str_eq(back.cap.host_cpu_xml, cpu);

	ck_assert(json_object_object_get_ex(o, "capacity", &cap));
	json_object_object_add(cap, "host_cpu_xml", json_object_new_string("<cpu>\n</cpu>"));
	ck_assert_int_eq(cd_node_info_from_json(&back, o), CD_ERR_INVALID);
	json_object_object_add(cap, "host_cpu_xml", json_object_new_int(1));
	ck_assert_int_eq(cd_node_info_from_json(&back, o), CD_ERR_INVALID);
	big = malloc(CD_HOST_CPU_XML_MAX + 2);
	memset(big, 'x', CD_HOST_CPU_XML_MAX + 1);
	big[CD_HOST_CPU_XML_MAX + 1] = '\0';
	json_object_object_add(cap, "host_cpu_xml", json_object_new_string(big));
	ck_assert_int_eq(cd_node_info_from_json(&back, o), CD_ERR_INVALID);
	big[CD_HOST_CPU_XML_MAX] = '\0';
	json_object_object_add(cap, "host_cpu_xml", json_object_new_string(big));
	ck_assert_int_eq(cd_node_info_from_json(&back, o), 0);
	ck_assert_uint_eq(strlen(back.cap.host_cpu_xml), CD_HOST_CPU_XML_MAX);
	free(big);
	json_object_put(o);
}
END_TEST

/*
 * A node's facts (for the cluster check) travel in its record when known;
 * a record without them (an older clusterd's) reads as none known, and a
 * bad one is refused.
 */
START_TEST(test_node_facts_json)
{
	struct cd_node_info ni = info(1, "node1"), back;
	struct json_object *o, *f;

	o = cd_node_info_to_json(&ni);
	ck_assert(!json_object_object_get_ex(o, "facts", NULL));
	json_object_put(o);

	memset(ni.facts.corosync_sha256, 'a', 64);
	strcpy(ni.facts.crypto_cipher, "aes256");
	strcpy(ni.facts.crypto_hash, "sha256");
	ni.facts.libvirt_version = 9000000;
	ni.facts.qemu_version = 7002000;
	o = cd_node_info_to_json(&ni);
	ck_assert_int_eq(cd_node_info_from_json(&back, o), 0);
	ck_assert_int_eq(memcmp(&back.facts, &ni.facts, sizeof(ni.facts)), 0);

	ck_assert(json_object_object_get_ex(o, "facts", &f));
	json_object_object_add(f, "corosync_sha256", json_object_new_string("abc"));
	ck_assert_int_eq(cd_node_info_from_json(&back, o), CD_ERR_INVALID);
	json_object_object_add(
		f, "corosync_sha256",
		json_object_new_string(
			"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"));
	ck_assert_int_eq(cd_node_info_from_json(&back, o), CD_ERR_INVALID);
	json_object_object_del(f, "corosync_sha256");
	json_object_object_add(f, "crypto_cipher", json_object_new_string("a b"));
	ck_assert_int_eq(cd_node_info_from_json(&back, o), CD_ERR_INVALID);
	json_object_object_add(f, "crypto_cipher", json_object_new_string("none"));
	json_object_object_add(f, "qemu_version", json_object_new_string("7"));
	ck_assert_int_eq(cd_node_info_from_json(&back, o), CD_ERR_INVALID);
	json_object_object_del(f, "qemu_version");
	ck_assert_int_eq(cd_node_info_from_json(&back, o), 0);
	ck_assert_str_eq(back.facts.corosync_sha256, "");
	ck_assert_str_eq(back.facts.crypto_cipher, "none");
	ck_assert_uint_eq(back.facts.qemu_version, 0);
	json_object_object_add(o, "facts", json_object_new_int(1));
	ck_assert_int_eq(cd_node_info_from_json(&back, o), CD_ERR_INVALID);
	json_object_put(o);
}
END_TEST

/* A file request retried with the same id is queued once and answered once. */
START_TEST(test_volume_request_once)
{
	struct cd_state s;
	char err[256];
	const struct cd_volume *v;

	cd_state_init(&s);
	ck_assert_int_eq(apply(&s,
			       "{\"op\":\"volume.add\",\"name\":\"vol1\","
			       "\"device\":\"/dev/lun\",\"uuid\":\"u1\",\"hosts\":8,"
			       "\"expiry_ms\":8000,\"renewal_ms\":1000}",
			       err),
			 0);
#define REQ                                                                                        \
	"{\"op\":\"volume.request\",\"name\":\"vol1\",\"id\":77,\"node\":1,\"fop\":\"create\","    \
	"\"file\":\"disk1\",\"size\":1048576}"
	ck_assert_int_eq(apply(&s, REQ, err), 0);
	ck_assert_int_eq(apply(&s, REQ, err), 0);
	v = cd_state_volume(&s, "vol1");
	ck_assert_uint_eq(v->n_reqs, 1);
	ck_assert_int_eq(apply(&s,
			       "{\"op\":\"volume.done\",\"name\":\"vol1\",\"id\":77,\"rc\":0,"
			       "\"error\":\"\",\"meta_generation\":1,\"files\":[]}",
			       err),
			 0);
	v = cd_state_volume(&s, "vol1");
	ck_assert_uint_eq(v->n_reqs, 0);
	ck_assert_ptr_nonnull(cd_volume_result(v, 77));
	/* A retry after the answer: not queued again, the first answer stands. */
	ck_assert_int_eq(apply(&s, REQ, err), 0);
	ck_assert_uint_eq(cd_state_volume(&s, "vol1")->n_reqs, 0);
	cd_state_free(&s);
}
END_TEST

/* What the VM transition hook was told, one line each. */
static char told[4][96];
static int n_told;

static void tell(void *ctx, const struct cd_vm_transition_rec *t)
{
	if (n_told < 4)
		snprintf(told[n_told], sizeof(told[0]), "%s %s->%s %s %u", t->vm->name,
			 cd_vm_state_to_str(t->from), cd_vm_state_to_str(t->to),
			 cd_vm_event_to_str(t->ev), (unsigned)t->node);
	n_told++;
}

#define VM_ADD(name, uuid)                                                                         \
	"{\"op\":\"vm.add\",\"name\":\"" name "\",\"vcpus\":1,\"memory_mb\":64,\"xml\":"           \
	"\"<domain><name>" name "</name><uuid>" uuid "</uuid></domain>\"}"

/* node.dead moves each VM of the dead node once, through the table, and no other. */
START_TEST(test_node_dead_transitions)
{
	struct cd_state s;
	struct cd_node_info m[2] = {info(1, "node1"), info(2, "node2")};
	char err[256];

	cd_state_init(&s);
	cd_state_sync_finish(&s, m, 2, 1, 0);
	ck_assert_int_eq(apply(&s, VM_ADD("a", "00000000-0000-4000-8000-00000000000a"), err), 0);
	ck_assert_int_eq(apply(&s, VM_ADD("b", "00000000-0000-4000-8000-00000000000b"), err), 0);
	ck_assert_int_eq(apply(&s, VM_ADD("c", "00000000-0000-4000-8000-00000000000c"), err), 0);
	ck_assert_int_eq(apply(&s, "{\"op\":\"vm.start\",\"name\":\"a\"}", err), 0);
	ck_assert_int_eq(apply(&s, "{\"op\":\"vm.start\",\"name\":\"b\"}", err), 0);
	ck_assert_int_eq(apply(&s, "{\"op\":\"vm.start\",\"name\":\"c\"}", err), 0);
	ck_assert_int_eq(apply(&s, "{\"op\":\"vm.place\",\"name\":\"a\",\"node\":2}", err), 0);
	ck_assert_int_eq(apply(&s, "{\"op\":\"vm.place\",\"name\":\"b\",\"node\":2}", err), 0);
	ck_assert_int_eq(apply(&s, "{\"op\":\"vm.place\",\"name\":\"c\",\"node\":1}", err), 0);
	ck_assert_int_eq(apply(&s,
			       "{\"op\":\"vm.report\",\"name\":\"b\",\"node\":2,"
			       "\"action_id\":0,\"result\":\"running\"}",
			       err),
			 0);
	s.vm_hook = tell;
	n_told = 0;
	cd_state_sync_finish(&s, m, 1, 2, 0);
	ck_assert_int_eq(apply(&s, "{\"op\":\"node.dead\",\"node\":1,\"how\":\"lease\"}", err),
			 CD_ERR_INVALID);
	ck_assert_int_eq(apply(&s, "{\"op\":\"node.dead\",\"node\":2,\"how\":\"fence:ipmi\"}", err),
			 0);
	ck_assert_int_eq(n_told, 2);
	ck_assert_str_eq(told[0], "a starting->stopped node dead 2");
	ck_assert_str_eq(told[1], "b running->stopped node dead 2");
	ck_assert_uint_eq(cd_state_vm(&s, "a")->node, 0);
	ck_assert_str_eq(cd_state_vm(&s, "b")->last_error,
			 "node node2 died (fence:ipmi); its VMs run elsewhere");
	ck_assert_int_eq(cd_state_vm(&s, "c")->state, CD_VM_STARTING);
	ck_assert_uint_eq(cd_state_vm(&s, "c")->node, 1);
	ck_assert_str_eq(cd_state_vm(&s, "c")->last_error, "");
	/* Said again: nothing of it runs there any more. */
	ck_assert_int_eq(apply(&s, "{\"op\":\"node.dead\",\"node\":2,\"how\":\"lease\"}", err), 0);
	ck_assert_int_eq(n_told, 2);
	cd_state_free(&s);
}
END_TEST

/*
 * node.remove: refused while a VM is on the node; with force, its VMs go
 * through the node-dead row first, then the record goes.
 */
START_TEST(test_node_remove_vms)
{
	struct cd_state s;
	struct cd_node_info m[3] = {info(1, "node1"), info(2, "node2"), info(3, "node3")};
	char err[256];

	cd_state_init(&s);
	cd_state_sync_finish(&s, m, 3, 1, 0);
	ck_assert_int_eq(apply(&s, VM_ADD("a", "00000000-0000-4000-8000-00000000000a"), err), 0);
	ck_assert_int_eq(apply(&s, VM_ADD("c", "00000000-0000-4000-8000-00000000000c"), err), 0);
	ck_assert_int_eq(apply(&s, "{\"op\":\"vm.start\",\"name\":\"a\"}", err), 0);
	ck_assert_int_eq(apply(&s, "{\"op\":\"vm.start\",\"name\":\"c\"}", err), 0);
	ck_assert_int_eq(apply(&s, "{\"op\":\"vm.place\",\"name\":\"a\",\"node\":2}", err), 0);
	ck_assert_int_eq(apply(&s, "{\"op\":\"vm.place\",\"name\":\"c\",\"node\":1}", err), 0);
	/* Nodes 2 and 3 leave. */
	cd_state_sync_finish(&s, m, 1, 2, 0);
	/* Node 3 holds no VM: removed. */
	ck_assert_int_eq(apply(&s, "{\"op\":\"node.remove\",\"node\":\"node3\"}", err), 0);
	ck_assert_ptr_null(cd_state_node_by_name(&s, "node3"));
	/* Node 2 holds a: refused, nothing changed. */
	ck_assert_int_eq(apply(&s, "{\"op\":\"node.remove\",\"node\":\"node2\"}", err),
			 CD_ERR_REFUSED);
	ck_assert_msg(strstr(err, "1 VM placed on it"), "%s", err);
	ck_assert_ptr_nonnull(cd_state_node_by_name(&s, "node2"));
	ck_assert_uint_eq(cd_state_vm(&s, "a")->node, 2);
	/* A member is refused even with force. */
	ck_assert_int_eq(
		apply(&s, "{\"op\":\"node.remove\",\"node\":\"node1\",\"force\":true}", err),
		CD_ERR_INVALID);
	ck_assert_uint_eq(cd_state_vm(&s, "c")->node, 1);
	/* force: a is stopped as on a dead node, the record goes; c stays. */
	ck_assert_int_eq(
		apply(&s, "{\"op\":\"node.remove\",\"node\":\"node2\",\"force\":true}", err), 0);
	ck_assert_ptr_null(cd_state_node_by_name(&s, "node2"));
	ck_assert_uint_eq(s.n_nodes, 1);
	ck_assert_uint_eq(cd_state_vm(&s, "a")->node, 0);
	ck_assert_int_eq(cd_state_vm(&s, "a")->state, CD_VM_STOPPED);
	ck_assert_str_eq(cd_state_vm(&s, "a")->last_error,
			 "node node2 died (removed); its VMs run elsewhere");
	ck_assert_uint_eq(cd_state_vm(&s, "c")->node, 1);
	cd_state_free(&s);
}
END_TEST

START_TEST(test_version_order)
{
	struct cd_version a = {1, 100}, b = {2, 0}, c = {2, 0};

	ck_assert_int_lt(cd_version_cmp(a, b), 0);
	ck_assert_int_gt(cd_version_cmp(b, a), 0);
	ck_assert_int_eq(cd_version_cmp(b, c), 0);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("state");

	add_tcase(s, test_property_set_get_delete);
	add_tcase(s, test_refused_changes_change_nothing);
	add_tcase(s, test_value_size_limit);
	add_tcase(s, test_node_host_cpu_json);
	add_tcase(s, test_node_facts_json);
	add_tcase(s, test_sync_finish_membership);
	add_tcase(s, test_flapping_node_quarantined);
	add_tcase(s, test_json_roundtrip_is_canonical);
	add_tcase(s, test_from_json_rejects_bad_state);
	add_tcase(s, test_version_order);
	add_tcase(s, test_volume_request_once);
	add_tcase(s, test_node_dead_transitions);
	add_tcase(s, test_node_remove_vms);
	return run_suite(s);
}
