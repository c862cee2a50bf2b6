/*
 * Fence devices in the state: parameters and plug maps as JSON objects,
 * what fence.add accepts of them, the one-line forms they replace (the
 * admin's --map, states written before) and an old state loading.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <clusterd/result.h>

#include "agents/fence_proto.h"
#include "check_common.h"
#include "check_fixture.h"
#include "core/fencedev.h"
#include "core/fencedev_text.h"
#include "core/state.h"
#include "core/state_file.h"
#include "lib/util.h"

static char err[256];

static const char *plain(const struct json_object *o)
{
	return o ? json_object_to_json_string_ext((struct json_object *)o, JSON_C_TO_STRING_PLAIN)
		 : "(none)";
}

static int apply(struct cd_state *s, const char *change)
{
	return fixture_apply(s, change, err, sizeof(err));
}

/* --- the one-line forms --- */

START_TEST(test_params_from_text)
{
	struct json_object *o;

	ck_assert_int_eq(cd_fencedev_params_from_text("ip=10.0.0.1  username=admin\tpassword='a "
						      "b=c' lanplus=1 empty= cipher=\"3\"",
						      &o, err, sizeof(err)),
			 0);
	ck_assert_str_eq(plain(o), "{\"ip\":\"10.0.0.1\",\"username\":\"admin\",\"password\":\"a "
				   "b=c\",\"lanplus\":\"1\",\"empty\":\"\",\"cipher\":\"3\"}");
	json_object_put(o);
	ck_assert_int_eq(cd_fencedev_params_from_text("  ", &o, err, sizeof(err)), 0);
	ck_assert_str_eq(plain(o), "{}");
	json_object_put(o);
}
END_TEST

START_TEST(test_params_from_text_errors)
{
	static const struct {
		const char *text;
		int rc;
	} bad[] = {
		{"novalue", CD_ERR_INVALID},
		{"=x", CD_ERR_INVALID},
		{"a b=1", CD_ERR_INVALID},
		{"a=1 a=2", CD_ERR_EXISTS},
		{"action=off", CD_ERR_INVALID},
		{"option=off", CD_ERR_INVALID},
		{"k\x01y=1", CD_ERR_INVALID},
		{"a='open", CD_ERR_INVALID},
		{"a='x'b", CD_ERR_INVALID},
		{"a=\"x\ny\"", CD_ERR_INVALID},
		{"a=x\nb=y", CD_ERR_INVALID},
		{"a=x\rb=y", CD_ERR_INVALID},
		{"a123456789a123456789a123456789a123456789a123456789a123456789a12345=1",
		 CD_ERR_INVALID},
	};
	struct json_object *o = (void *)1;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		ck_assert_msg(cd_fencedev_params_from_text(bad[i].text, &o, err, sizeof(err)) ==
				      bad[i].rc,
			      "%zu: %s", i, bad[i].text);
		ck_assert_ptr_null(o);
		ck_assert(*err);
	}
	/* An error names the place, never a value. */
	ck_assert_int_eq(
		cd_fencedev_params_from_text("password=hunter2 junk", &o, err, sizeof(err)),
		CD_ERR_INVALID);
	ck_assert_ptr_null(strstr(err, "hunter2"));
	ck_assert_ptr_nonnull(strstr(err, "character"));
}
END_TEST

START_TEST(test_map_from_text_strict)
{
	static const struct {
		const char *text;
		int rc;
	} bad[] = {
		{"node1", CD_ERR_INVALID},	    {"node1=1,", CD_ERR_INVALID},
		{",node1=1", CD_ERR_INVALID},	    {"=1", CD_ERR_INVALID},
		{"node 1=1", CD_ERR_INVALID},	    {"node1:1", CD_ERR_INVALID},
		{"node1=1,node1=2", CD_ERR_EXISTS}, {"node1=a\nb", CD_ERR_INVALID},
	};
	struct json_object *o = (void *)1;
	char big[CD_FENCEDEV_MAP_TEXT_MAX + 16];
	size_t i;

	ck_assert_int_eq(
		cd_fencedev_map_from_text("node1=1,node2=2,n3=a=b,n4=", true, &o, err, sizeof(err)),
		0);
	ck_assert_str_eq(plain(o), "{\"node1\":\"1\",\"node2\":\"2\",\"n3\":\"a=b\",\"n4\":\"\"}");
	json_object_put(o);
	/* Empty: no map, every node is its own plug. */
	ck_assert_int_eq(cd_fencedev_map_from_text("", true, &o, err, sizeof(err)), 0);
	ck_assert_ptr_null(o);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		o = (void *)1;
		ck_assert_msg(cd_fencedev_map_from_text(bad[i].text, true, &o, err, sizeof(err)) ==
				      bad[i].rc,
			      "%zu: %s", i, bad[i].text);
		ck_assert_ptr_null(o);
	}
	/* A plug and the whole map have their limits. */
	memset(big, 'p', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	memcpy(big, "n1=", 3);
	big[3 + CD_FENCEDEV_PLUG_MAX + 1] = '\0';
	ck_assert_int_eq(cd_fencedev_map_from_text(big, true, &o, err, sizeof(err)),
			 CD_ERR_INVALID);
	ck_assert_ptr_nonnull(strstr(err, "longer than"));
	big[3 + CD_FENCEDEV_PLUG_MAX] = '\0';
	ck_assert_int_eq(cd_fencedev_map_from_text(big, true, &o, err, sizeof(err)), 0);
	json_object_put(o);
	/* Entries "n000=p" to one byte more than the limit. */
	for (i = 0; i < CD_FENCEDEV_MAP_TEXT_MAX; i += 7)
		snprintf(big + i, sizeof(big) - i, "n%03zu=p,", i / 7);
	big[CD_FENCEDEV_MAP_TEXT_MAX + 1] = '\0';
	if (big[CD_FENCEDEV_MAP_TEXT_MAX] == ',' || big[CD_FENCEDEV_MAP_TEXT_MAX] == '=')
		big[CD_FENCEDEV_MAP_TEXT_MAX] = 'p';
	ck_assert_int_eq(cd_fencedev_map_from_text(big, true, &o, err, sizeof(err)),
			 CD_ERR_INVALID);
}
END_TEST

/* An old state's map fences the nodes the old lookup found, with the plug it found. */
START_TEST(test_map_from_text_old)
{
	struct json_object *o;
	char big[300];

	ck_assert_int_eq(cd_fencedev_map_from_text("node1=1,junk,node1=9,bad name=3,node2=,=x,"
						   "node3=a\nb,node4=4",
						   false, &o, err, sizeof(err)),
			 0);
	ck_assert_str_eq(plain(o), "{\"node1\":\"1\",\"node2\":\"\",\"node4\":\"4\"}");
	json_object_put(o);
	/* A map that matched no node still matches none. */
	ck_assert_int_eq(cd_fencedev_map_from_text("node1:1", false, &o, err, sizeof(err)), 0);
	ck_assert_str_eq(plain(o), "{}");
	json_object_put(o);
	ck_assert_int_eq(cd_fencedev_map_from_text("", false, &o, err, sizeof(err)), 0);
	ck_assert_ptr_null(o);
	/* A long plug was cut where it was looked up. */
	memset(big, 'p', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	memcpy(big, "n1=", 3);
	ck_assert_int_eq(cd_fencedev_map_from_text(big, false, &o, err, sizeof(err)), 0);
	ck_assert_uint_eq(strlen(json_object_get_string(json_object_object_get(o, "n1"))),
			  CD_FENCEDEV_PLUG_MAX);
	json_object_put(o);
}
END_TEST

/* --- fence.add --- */

START_TEST(test_add_checks)
{
	static const struct {
		const char *change;
		const char *why;
	} bad[] = {
		{"\"params\":\"ip=1\"", "not a JSON object"},
		{"\"params\":[]", "not a JSON object"},
		{"\"params\":{\"ip\":1}", "not a string"},
		{"\"params\":{\"a b\":\"1\"}", "bad parameter name"},
		{"\"params\":{\"action\":\"on\"}", "set per call"},
		{"\"params\":{\"ip\":\"1\\n2\"}", "line break"},
		{"\"map\":\"node1=1\"", "not a JSON object"},
		{"\"map\":{\"node 1\":\"1\"}", "bad node name"},
		{"\"map\":{\"node1\":1}", "not a string"},
		{"\"map\":{\"node1\":\"a\\rb\"}", "line break"},
		{"\"map\":{\"node1\":\"a\\u0000b\"}", "not a string"},
	};
	struct cd_state s;
	struct json_object *c, *p;
	char change[512], value[CD_FENCEDEV_PARAMS_TEXT_MAX + 2];
	size_t i;

	cd_state_init(&s);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(change, sizeof(change),
			 "{\"op\":\"fence.add\",\"name\":\"d\",\"agent\":\"fence_lab\",%s}",
			 bad[i].change);
		ck_assert_msg(apply(&s, change) == CD_ERR_INVALID, "%s accepted", bad[i].change);
		ck_assert_msg(strstr(err, bad[i].why), "%s: %s", bad[i].change, err);
	}
	ck_assert_uint_eq(s.n_fencedevs, 0);

	/* The limit is today's: the parameters as key=value words, 1023 bytes. */
	c = json_tokener_parse("{\"op\":\"fence.add\",\"name\":\"d\",\"agent\":\"fence_lab\"}");
	p = json_object_new_object();
	memset(value, 'v', sizeof(value) - 1);
	value[CD_FENCEDEV_PARAMS_TEXT_MAX - 1] = '\0'; /* "k=" and the value: one too many */
	json_object_object_add(p, "k", json_object_new_string(value));
	json_object_object_add(c, "params", p);
	ck_assert_int_eq(cd_state_apply(&s, c, err, sizeof(err)), CD_ERR_INVALID);
	ck_assert_ptr_nonnull(strstr(err, "fence device parameters too long"));
	value[CD_FENCEDEV_PARAMS_TEXT_MAX - 2] = '\0';
	json_object_object_add(p, "k", json_object_new_string(value));
	ck_assert_msg(cd_state_apply(&s, c, err, sizeof(err)) == 0, "%s", err);
	json_object_put(c);

	/* Absent and null: no parameters, and every node by its own name. */
	ck_assert_int_eq(
		apply(&s,
		      "{\"op\":\"fence.add\",\"name\":\"e\",\"agent\":\"fence_lab\",\"map\":null}"),
		0);
	ck_assert_str_eq(plain(s.fencedevs[1].params), "{}");
	ck_assert_ptr_null(s.fencedevs[1].map);
	ck_assert_int_eq(apply(&s, "{\"op\":\"fence.remove\",\"name\":\"d\"}"), 0);
	ck_assert_uint_eq(s.n_fencedevs, 1);
	ck_assert_str_eq(s.fencedevs[0].name, "e");
	cd_state_free(&s);
}
END_TEST

START_TEST(test_plug)
{
	struct cd_state s, copy;
	const struct cd_fencedev *d;
	char plug[128];

	cd_state_init(&s);
	ck_assert_int_eq(apply(&s, "{\"op\":\"fence.add\",\"name\":\"pdu\",\"agent\":\"fence_lab\","
				   "\"params\":{\"ip\":\"10.0.0.9\"},"
				   "\"map\":{\"node1\":\"3\",\"node2\":\"\"}}"),
			 0);
	ck_assert_int_eq(
		apply(&s, "{\"op\":\"fence.add\",\"name\":\"all\",\"agent\":\"fence_lab\"}"), 0);
	/* A copy shares nothing: the original may go. */
	ck_assert_int_eq(cd_state_copy(&copy, &s), 0);
	cd_state_free(&s);
	d = cd_state_fencedev(&copy, "pdu");
	ck_assert_str_eq(cd_fencedev_plug(d, "node1", plug, sizeof(plug)), "3");
	ck_assert_str_eq(cd_fencedev_plug(d, "node2", plug, sizeof(plug)), "");
	ck_assert_ptr_null(cd_fencedev_plug(d, "node3", plug, sizeof(plug)));
	d = cd_state_fencedev(&copy, "all");
	ck_assert_str_eq(cd_fencedev_plug(d, "node3", plug, sizeof(plug)), "node3");
	cd_state_free(&copy);
}
END_TEST

/* --- an old state --- */

/* A state as the version before wrote it: parameters and map as strings. */
static const char old_state[] =
	"{\"format\":1,\"version\":{\"epoch\":3,\"seq\":7},\"nodes\":[],\"properties\":{},"
	"\"fence_devices\":["
	"{\"name\":\"ipmi\",\"agent\":\"fence_ipmilan\","
	"\"params\":\"ip='10.0.0.9' username='admin' password=\\\"it's x\\\" lanplus='1'\","
	"\"map\":\"node1=1,node2=2\"},"
	"{\"name\":\"lab\",\"agent\":\"/usr/sbin/fence_lab\",\"params\":\"\",\"map\":\"\"}]}";

static const char new_devices[] =
	"[{\"name\":\"ipmi\",\"agent\":\"fence_ipmilan\",\"params\":{\"ip\":\"10.0.0.9\","
	"\"username\":\"admin\",\"password\":\"it's x\",\"lanplus\":\"1\"},\"map\":{\"node1\":\"1\","
	"\"node2\":\"2\"}},{\"name\":\"lab\",\"agent\":\"\\/usr\\/sbin\\/fence_lab\",\"params\":{}}]";

static void check_converted(const struct cd_state *s)
{
	struct json_object *o = cd_state_to_json(s), *devs;
	struct cd_fence_params *p;
	char *text;
	size_t len;

	ck_assert_uint_eq(s->n_fencedevs, 2);
	ck_assert(json_object_object_get_ex(o, "fence_devices", &devs));
	ck_assert_str_eq(plain(devs), new_devices);
	json_object_put(o);
	/* What the agent reads: the lines it read when the state held the text. */
	ck_assert_int_eq(cd_fence_params_from_json(s->fencedevs[0].params, &p, err, sizeof(err)),
			 0);
	ck_assert_int_eq(cd_fence_stdin_text(p, CD_FENCE_OFF, "2", &text, &len, err, sizeof(err)),
			 0);
	ck_assert_str_eq(text, "ip=10.0.0.9\nusername=admin\npassword=it's x\nlanplus=1\n"
			       "action=off\nplug=2\n");
	cd_fence_wipe_free(text);
	cd_fence_params_free(p);
}

START_TEST(test_old_snapshot_loads)
{
	struct json_object *o = json_tokener_parse(old_state), *again;
	struct cd_state s, back;

	ck_assert_ptr_nonnull(o);
	ck_assert_msg(cd_state_from_json(&s, o, err, sizeof(err)) == 0, "%s", err);
	json_object_put(o);
	check_converted(&s);
	/* Written again, it is in the new form and format and loads as it is. */
	again = cd_state_to_json(&s);
	ck_assert_int_eq(json_object_get_int(json_object_object_get(again, "format")), 2);
	ck_assert_msg(cd_state_from_json(&back, again, err, sizeof(err)) == 0, "%s", err);
	check_converted(&back);
	json_object_put(again);
	cd_state_free(&back);
	cd_state_free(&s);

	/* Old text that never was valid is refused, with the device named. */
	o = json_tokener_parse("{\"format\":1,\"version\":{\"epoch\":1,\"seq\":0},\"nodes\":[],"
			       "\"properties\":{},\"fence_devices\":[{\"name\":\"x\",\"agent\":"
			       "\"fence_lab\",\"params\":\"a='open\",\"map\":\"\"}]}");
	ck_assert_int_eq(cd_state_from_json(&s, o, err, sizeof(err)), CD_ERR_CORRUPT);
	ck_assert_ptr_nonnull(strstr(err, "fence device 0"));
	json_object_put(o);
}
END_TEST

START_TEST(test_old_state_file_loads)
{
	char path[] = "/tmp/check_fencedev.XXXXXX", sum[65], *buf;
	size_t hlen = strlen("clusterd-state 1 ") + 64 + 1, len = strlen(old_state);
	struct cd_state s;
	int fd = mkstemp(path);

	ck_assert_int_ge(fd, 0);
	close(fd);
	buf = malloc(hlen + len + 1);
	ck_assert_ptr_nonnull(buf);
	cd_sha256_hex(old_state, len, sum);
	snprintf(buf, hlen + len + 1, "clusterd-state 1 %s\n%s", sum, old_state);
	ck_assert_int_eq(cd_write_file_atomic(path, buf, hlen + len), 0);
	free(buf);
	ck_assert_msg(cd_state_file_load(path, &s, err, sizeof(err)) == 0, "%s", err);
	check_converted(&s);
	ck_assert_uint_eq(s.version.epoch, 3);
	cd_state_free(&s);
	unlink(path);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("fencedev");

	add_tcase(s, test_params_from_text);
	add_tcase(s, test_params_from_text_errors);
	add_tcase(s, test_map_from_text_strict);
	add_tcase(s, test_map_from_text_old);
	add_tcase(s, test_add_checks);
	add_tcase(s, test_plug);
	add_tcase(s, test_old_snapshot_loads);
	add_tcase(s, test_old_state_file_loads);
	return run_suite(s);
}
