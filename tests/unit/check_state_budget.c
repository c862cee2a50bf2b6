/*
 * The size budget of core/state.h: the largest changes the rules allow fit
 * in a change message and apply, and the worst records (the longest fields,
 * numbers and free text that JSON escapes the most) take no more than their
 * share of a snapshot. What the rules refuse is tested in check_validate.c.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "check_common.h"
#include "check_fixture.h"
#include "core/fencedev.h"
#include "core/msg.h"
#include "core/state.h"

static char err[512];

/* The largest changes the rules allow fit in a change message, and apply. */
START_TEST(test_largest_changes_fit_a_message)
{
	struct cd_state s;
	struct json_object *c, *a;
	char *xml = malloc(CD_VM_XML_MAX + 1), name[64];
	void *buf;
	size_t len, i;

	/* A vm.add with the largest XML, every byte of it escaped. */
	memset(xml, '/', CD_VM_XML_MAX);
	xml[CD_VM_XML_MAX] = '\0';
	c = json_object_new_object();
	json_object_object_add(c, "op", json_object_new_string("vm.add"));
	json_object_object_add(
		c, "name",
		json_object_new_string(
			"nnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnn"));
	json_object_object_add(c, "vcpus", json_object_new_int(CD_VM_VCPUS_MAX));
	json_object_object_add(c, "memory_mb", json_object_new_int64(INT64_MAX));
	json_object_object_add(c, "xml", json_object_new_string(xml));
	ck_assert_int_eq(cd_msg_build(CD_MSG_CHANGE, 1, 1, 0, c, &buf, &len), 0);
	free(buf);
	json_object_put(c);
	free(xml);

	/* A volume.done with as many files as a volume holds, long names, big numbers. */
	fixture_full_state(&s);
	c = json_object_new_object();
	a = json_object_new_array();
	for (i = 0; i < CD_VOL_MAX_FILES; i++) {
		struct json_object *f = json_object_new_object();

		snprintf(name, sizeof(name), "f%062zu", i);
		json_object_object_add(f, "name", json_object_new_string(name));
		json_object_object_add(f, "index", json_object_new_int64((int64_t)i));
		json_object_object_add(f, "size", json_object_new_int64(1ll << 48));
		json_object_object_add(
			f, "offset", json_object_new_int64((1ll << 62) + (int64_t)i * (1ll << 48)));
		json_object_object_add(f, "alloc", json_object_new_int64(1ll << 48));
		json_object_object_add(f, "generation", json_object_new_int64(INT64_MAX));
		json_object_array_add(a, f);
	}
	json_object_object_add(c, "op", json_object_new_string("volume.done"));
	json_object_object_add(c, "name", json_object_new_string("vol1"));
	json_object_object_add(c, "id", json_object_new_int64(INT64_MAX));
	json_object_object_add(c, "rc", json_object_new_int(INT32_MIN));
	json_object_object_add(
		c, "error",
		json_object_new_string("a long error, longer than a result keeps: "
				       "0123456789012345678901234567890123456789012345678901234"
				       "5678901234567890123456789012345678901234567890123456789"));
	json_object_object_add(c, "meta_generation", json_object_new_int64(INT64_MAX));
	json_object_object_add(c, "files", a);
	ck_assert_int_eq(cd_msg_build(CD_MSG_CHANGE, 1, 1, 0, c, &buf, &len), 0);
	free(buf);
	ck_assert_msg(cd_state_apply(&s, c, err, sizeof(err)) == 0, "%s", err);
	ck_assert_uint_eq(s.volumes[0].n_files, CD_VOL_MAX_FILES);
	json_object_put(c);
	/* And the state with them is still a valid snapshot. */
	{
		struct cd_state back;
		struct json_object *o = cd_state_to_json(&s);

		ck_assert_int_eq(cd_msg_build(CD_MSG_SNAPSHOT, 1, 0, 1, o, &buf, &len), 0);
		free(buf);
		ck_assert_msg(cd_state_from_json(&back, o, err, sizeof(err)) == 0, "%s", err);
		cd_state_free(&back);
		json_object_put(o);
	}
	cd_state_free(&s);
}
END_TEST

static size_t json_len(struct json_object *o)
{
	size_t n = strlen(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));

	json_object_put(o);
	return n;
}

static size_t state_len(const struct cd_state *s)
{
	return json_len(cd_state_to_json(s));
}

/*
 * The size budget of state.h holds for the worst records: the longest
 * fields, numbers and free text that JSON escapes the most.
 */
START_TEST(test_worst_records_fit_the_budget)
{
	struct cd_state s;
	struct cd_node_info ni;
	struct cd_vm vm;
	struct cd_volume v;
	size_t i, empty, n;
	char ctl[8192], name[64];
	struct json_object *c, *o;
	int k;

	memset(ctl, 1, sizeof(ctl) - 1);
	ctl[sizeof(ctl) - 1] = '\0';
	memset(name, 'n', 63);
	name[63] = '\0';

	/* A VM, its XML apart. */
	memset(&vm, 0, sizeof(vm));
	memcpy(vm.name, name, 64);
	strcpy(vm.uuid, "6f1d7c2e-0b6a-4f6e-9d1e-3a5b7c9d0e1f");
	vm.vcpus = UINT32_MAX;
	vm.memory_mb = UINT64_MAX >> 1;
	vm.priority = CD_PRIO_NO_AUTO_START;
	{
		const char *owners[CD_VM_MAX_OWNERS];

		for (i = 0; i < CD_VM_MAX_OWNERS; i++)
			owners[i] = name;
		ck_assert_int_eq(
			cd_vm_owners_set(&vm.preferred, &vm.n_preferred, owners, CD_VM_MAX_OWNERS),
			0);
		ck_assert_int_eq(
			cd_vm_owners_set(&vm.possible, &vm.n_possible, owners, CD_VM_MAX_OWNERS),
			0);
	}
	memcpy(vm.anti_class, name, 64);
	vm.failback = CD_FAILBACK_WINDOW;
	vm.move_mode = CD_MOVE_QUICK;
	vm.state = CD_VM_MIGRATING;
	vm.node = vm.fail_count = vm.failed_on = UINT32_MAX;
	vm.action_id = vm.first_fail_ms = UINT64_MAX >> 1;
	memcpy(vm.last_error, ctl, CD_VM_ERROR_MAX);
	vm.xml = NULL;
	n = json_len(cd_vm_to_json(&vm));
	ck_assert_msg(n <= CD_VM_JSON_MAX, "a VM takes %zu bytes", n);
	cd_vm_free(&vm);

	/* A volume. */
	memset(&v, 0, sizeof(v));
	memcpy(v.name, name, 64);
	memset(v.device, '/', CD_VOL_DEVICE_MAX);
	memcpy(v.uuid, name, 39);
	v.hosts = v.expiry_ms = v.renewal_ms = v.coordinator = UINT32_MAX;
	v.meta_generation = UINT64_MAX >> 1;
	v.files = calloc(CD_VOL_MAX_FILES, sizeof(*v.files));
	v.n_files = CD_VOL_MAX_FILES;
	for (i = 0; i < CD_VOL_MAX_FILES; i++) {
		memcpy(v.files[i].name, name, 64);
		v.files[i].index = CD_VOL_MAX_FILES - 1;
		v.files[i].size = CD_VOL_FILE_SIZE_MAX;
		v.files[i].offset = v.files[i].alloc = v.files[i].generation = UINT64_MAX >> 1;
	}
	for (i = 0; i < CD_VOL_MAX_REQUESTS; i++) {
		v.reqs[i].id = UINT64_MAX >> 1;
		v.reqs[i].node = UINT32_MAX;
		v.reqs[i].op = CD_VREQ_CREATE;
		memcpy(v.reqs[i].file, name, 64);
		v.reqs[i].size = UINT64_MAX >> 1;
	}
	v.n_reqs = CD_VOL_MAX_REQUESTS;
	for (i = 0; i < CD_VOL_MAX_RESULTS; i++) {
		v.results[i].id = UINT64_MAX >> 1;
		v.results[i].rc = INT32_MIN;
		memcpy(v.results[i].error, ctl, CD_VOL_ERROR_MAX);
	}
	v.n_results = CD_VOL_MAX_RESULTS;
	n = json_len(cd_volume_to_json(&v));
	ck_assert_msg(n <= CD_VOLUME_JSON_MAX, "a volume takes %zu bytes", n);
	cd_volume_free(&v);

	/* A node, a fence device and a property, each added to an empty state. */
	cd_state_init(&s);
	empty = state_len(&s);
	memset(&ni, 0, sizeof(ni));
	ni.id = UINT32_MAX;
	memcpy(ni.name, name, 64);
	for (i = 0; i < CD_ADDRS_MAX; i++)
		memcpy(ni.addrs[i], ctl, CD_ADDR_MAX);
	ni.n_addrs = CD_ADDRS_MAX;
	ni.cap.cores = UINT32_MAX;
	ni.cap.memory_mb = UINT64_MAX >> 1;
	memcpy(ni.cap.cpu_model, ctl, CD_CPU_MODEL_MAX);
	for (i = 0; i < CD_CPU_MODELS_MAX; i++)
		memset(ni.cap.cpu_models[i], 'm', CD_CPU_MODEL_MAX);
	ni.cap.n_cpu_models = CD_CPU_MODELS_MAX;
	memset(ni.cap.host_cpu_xml, '/', CD_HOST_CPU_XML_MAX);
	cd_state_sync_finish(&s, &ni, 1, UINT64_MAX >> 1, UINT64_MAX >> 2);
	s.nodes[0].member = false;
	memcpy(s.nodes[0].dead_how, ctl, CD_DEAD_HOW_MAX);
	s.nodes[0].left_ms = s.nodes[0].quarantine_until = s.nodes[0].last_change = UINT64_MAX >> 1;
	for (i = 0; i < CD_FLAP_LIMIT; i++)
		s.nodes[0].rejoins[i] = UINT64_MAX >> 1;
	n = state_len(&s) - empty;
	ck_assert_msg(n <= CD_NODE_JSON_MAX, "a node takes %zu bytes", n);
	cd_state_free(&s);

	c = json_object_new_object();
	json_object_object_add(c, "op", json_object_new_string("fence.add"));
	json_object_object_add(c, "name", json_object_new_string(name));
	ctl[127] = '\0';
	memset(ctl, '/', 127);
	json_object_object_add(c, "agent", json_object_new_string(ctl));
	/*
	 * One value as long as the limit lets it be (the fewer the keys, the
	 * more of the bytes are value, escaped six times); plugs of as many
	 * nodes as fit, each as long as it may be.
	 */
	memset(ctl, 1, sizeof(ctl) - 1);
	ctl[CD_FENCEDEV_PARAMS_TEXT_MAX - 2] = '\0';
	o = json_object_new_object();
	json_object_object_add(o, "k", json_object_new_string(ctl));
	json_object_object_add(c, "params", o);
	o = json_object_new_object();
	for (i = 0, k = 0; k + 3 <= CD_FENCEDEV_MAP_TEXT_MAX; i++) {
		char node[2] = {(char)('a' + i), '\0'};
		int plug = CD_FENCEDEV_MAP_TEXT_MAX - k - (k ? 3 : 2);

		plug = plug > CD_FENCEDEV_PLUG_MAX ? CD_FENCEDEV_PLUG_MAX : plug;
		memset(ctl, 1, sizeof(ctl) - 1);
		ctl[plug] = '\0';
		json_object_object_add(o, node, json_object_new_string(ctl));
		k += (k ? 1 : 0) + 2 + plug;
	}
	json_object_object_add(c, "map", o);
	memset(ctl, 1, sizeof(ctl) - 1);
	cd_state_init(&s);
	ck_assert_msg(cd_state_apply(&s, c, err, sizeof(err)) == 0, "%s", err);
	json_object_put(c);
	n = state_len(&s) - empty;
	ck_assert_msg(n <= CD_FENCEDEV_JSON_MAX, "a fence device takes %zu bytes", n);
	cd_state_free(&s);

	cd_state_init(&s);
	c = json_object_new_object();
	json_object_object_add(c, "op", json_object_new_string("property.set"));
	memset(ctl, 'k', CD_PROP_KEY_MAX);
	ctl[CD_PROP_KEY_MAX] = '\0';
	json_object_object_add(c, "key", json_object_new_string(ctl));
	memset(ctl, 1, sizeof(ctl) - 1);
	ctl[CD_PROP_VALUE_MAX] = '\0';
	json_object_object_add(c, "value", json_object_new_string(ctl));
	ck_assert_msg(cd_state_apply(&s, c, err, sizeof(err)) == 0, "%s", err);
	json_object_put(c);
	n = state_len(&s) - empty;
	ck_assert_msg(n <= CD_PROP_JSON_MAX, "a property takes %zu bytes", n);
	cd_state_free(&s);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("state_budget");

	add_tcase(s, test_largest_changes_fit_a_message);
	add_tcase(s, test_worst_records_fit_the_budget);
	return run_suite(s);
}
