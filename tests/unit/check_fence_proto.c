/*
 * The fence-agents interface (agents/fence_proto.c), which does no I/O:
 * parameters from and to JSON, the stdin text an agent reads, what its exit
 * code means, and the masking of secrets in its output. The runner that
 * starts agents is tested in check_fence.c.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <clusterd/result.h>

#include "agents/fence_proto.h"
#include "check_common.h"
#include "check_fence_common.h"

static char err[256];

/* The set for the parameters in JSON text, which must be valid. */
static struct cd_fence_params *params_of(const char *text)
{
	struct json_object *o = jparse(text);
	struct cd_fence_params *p;

	ck_assert_msg(cd_fence_params_from_json(o, &p, err, sizeof(err)) == 0, "%s: %s", text, err);
	json_object_put(o);
	return p;
}

START_TEST(test_params_from_json)
{
	struct cd_fence_params *p;

	p = params_of(
		"{\"ip\":\"10.0.0.1\",\"username\":\"admin\",\"password\":\"a b=c 'x' \\\"y\\\"\","
		"\"lanplus\":\"1\",\"empty\":\"\"}");
	ck_assert_uint_eq(p->n, 5);
	/* In the object's order: the agent reads them as they were given. */
	ck_assert_str_eq(p->v[0].key, "ip");
	ck_assert_str_eq(p->v[1].key, "username");
	ck_assert_str_eq(p->v[2].key, "password");
	ck_assert_str_eq(p->v[4].key, "empty");
	ck_assert_str_eq(cd_fence_params_get(p, "password"), "a b=c 'x' \"y\"");
	ck_assert_str_eq(cd_fence_params_get(p, "empty"), "");
	ck_assert_ptr_null(cd_fence_params_get(p, "port"));
	cd_fence_params_free(p);

	/* NULL and {} are no parameters. */
	ck_assert_int_eq(cd_fence_params_from_json(NULL, &p, err, sizeof(err)), 0);
	ck_assert_uint_eq(p->n, 0);
	cd_fence_params_free(p);
	p = params_of("{}");
	ck_assert_uint_eq(p->n, 0);
	cd_fence_params_free(p);
	cd_fence_params_free(NULL);
}
END_TEST

START_TEST(test_params_from_json_errors)
{
	static const char *const bad[] = {
		"\"ip=1\"",
		"[\"ip\",\"1\"]",
		"{\"ip\":1}",
		"{\"ip\":null}",
		"{\"ip\":[\"1\"]}",
		"{\"a b\":\"1\"}",
		"{\"\":\"1\"}",
		"{\"a=b\":\"1\"}",
		"{\"action\":\"off\"}",
		"{\"option\":\"off\"}",
		"{\"k\\u0001y\":\"1\"}",
		"{\"a\":\"x\\ny\"}",
		"{\"a\":\"x\\ry\"}",
		"{\"a\":\"x\\u0000y\"}",
		"{\"a123456789a123456789a123456789a123456789a123456789a123456789a12345\":\"1\"}",
	};
	struct cd_fence_params *p = (struct cd_fence_params *)1;
	struct json_object *o;
	char many[CD_FENCE_PARAMS_MAX * 16 + 16];
	size_t i, n = 0;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		o = jparse(bad[i]);
		err[0] = '\0';
		ck_assert_msg(cd_fence_params_from_json(o, &p, err, sizeof(err)) == CD_ERR_INVALID,
			      "%zu: %s", i, bad[i]);
		ck_assert_ptr_null(p);
		ck_assert(*err);
		json_object_put(o);
	}
	/* An error names the key, never a value. */
	o = jparse("{\"password\":\"" PASSWORD "\\n\"}");
	ck_assert_int_eq(cd_fence_params_from_json(o, &p, err, sizeof(err)), CD_ERR_INVALID);
	ck_assert_ptr_null(strstr(err, PASSWORD));
	ck_assert_ptr_nonnull(strstr(err, "password"));
	json_object_put(o);
	/* One more than CD_FENCE_PARAMS_MAX. */
	n += (size_t)sprintf(many, "{");
	for (i = 0; i <= CD_FENCE_PARAMS_MAX; i++)
		n += (size_t)sprintf(many + n, "%s\"k%zu\":\"v\"", i ? "," : "", i);
	sprintf(many + n, "}");
	o = jparse(many);
	ck_assert_int_eq(cd_fence_params_from_json(o, &p, err, sizeof(err)), CD_ERR_INVALID);
	json_object_put(o);
}
END_TEST

START_TEST(test_params_to_json)
{
	struct cd_fence_params *p =
		params_of("{\"ip\":\"10.0.0.9\",\"password\":\"" PASSWORD "\",\"passwd\":\"x\","
			  "\"snmp_priv_passwd\":\"y\",\"community\":\"pub\",\"api_token\":\"t\","
			  "\"login\":\"admin\"}");
	struct json_object *o = cd_fence_params_to_json(p, true);

	/* The secrets hidden as fence list always hid them; the order kept. */
	ck_assert_str_eq(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN),
			 "{\"ip\":\"10.0.0.9\",\"password\":\"****\",\"passwd\":\"****\","
			 "\"snmp_priv_passwd\":\"****\",\"community\":\"****\",\"api_token\":"
			 "\"****\",\"login\":\"admin\"}");
	json_object_put(o);
	o = cd_fence_params_to_json(p, false);
	ck_assert_ptr_nonnull(strstr(json_object_to_json_string(o), PASSWORD));
	json_object_put(o);
	cd_fence_params_free(p);
	o = cd_fence_params_to_json(NULL, true);
	ck_assert_str_eq(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN), "{}");
	json_object_put(o);
}
END_TEST

START_TEST(test_param_check)
{
	struct cd_fence_params *p = cd_fence_params_new();
	char big[CD_FENCE_VALUE_MAX + 2];
	int i;

	ck_assert_int_eq(cd_fence_params_add(p, "ip", "1.2.3.4", err, sizeof(err)), 0);
	ck_assert_int_eq(cd_fence_params_add(p, "ip", "5.6.7.8", err, sizeof(err)), CD_ERR_EXISTS);
	ck_assert_int_eq(cd_fence_params_add(p, "a=b", "1", err, sizeof(err)), CD_ERR_INVALID);
	ck_assert_int_eq(cd_fence_params_add(p, "a\nb", "1", err, sizeof(err)), CD_ERR_INVALID);
	ck_assert_int_eq(cd_fence_params_add(p, "", "1", err, sizeof(err)), CD_ERR_INVALID);
	ck_assert_int_eq(cd_fence_params_add(p, "x", "1\nplug=evil", err, sizeof(err)),
			 CD_ERR_INVALID);
	ck_assert_ptr_null(strstr(err, "evil"));
	memset(big, 'v', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	ck_assert_int_eq(cd_fence_params_add(p, "big", big, err, sizeof(err)), CD_ERR_INVALID);
	big[CD_FENCE_VALUE_MAX] = '\0';
	ck_assert_int_eq(cd_fence_params_add(p, "big", big, err, sizeof(err)), 0);
	for (i = 2; i < CD_FENCE_PARAMS_MAX; i++) {
		char k[16];

		snprintf(k, sizeof(k), "k%d", i);
		ck_assert_int_eq(cd_fence_params_add(p, k, "v", err, sizeof(err)), 0);
	}
	ck_assert_int_eq(cd_fence_params_add(p, "one_more", "v", err, sizeof(err)), CD_ERR_INVALID);
	cd_fence_params_free(p);

	ck_assert(cd_fence_param_is_secret("password"));
	ck_assert(cd_fence_param_is_secret("passwd"));
	ck_assert(cd_fence_param_is_secret("snmp_priv_passwd"));
	ck_assert(cd_fence_param_is_secret("community"));
	ck_assert(cd_fence_param_is_secret("secret_key"));
	ck_assert(!cd_fence_param_is_secret("username"));
	ck_assert(!cd_fence_param_is_secret("ip"));
}
END_TEST

START_TEST(test_stdin_text)
{
	struct cd_fence_params *p;
	char *text;
	size_t len;

	/* The same lines the agent read when the state held the parameters as text. */
	p = params_of("{\"ip\":\"10.0.0.9\",\"username\":\"admin\",\"password\":\"" PASSWORD "\"}");
	ck_assert_int_eq(
		cd_fence_stdin_text(p, CD_FENCE_OFF, "node2", &text, &len, err, sizeof(err)), 0);
	ck_assert_str_eq(text, "ip=10.0.0.9\nusername=admin\npassword=" PASSWORD
			       "\naction=off\nplug=node2\n");
	ck_assert_uint_eq(len, strlen(text));
	cd_fence_wipe_free(text);

	/* No plug: no plug line (single-plug devices such as IPMI). */
	ck_assert_int_eq(cd_fence_stdin_text(p, CD_FENCE_STATUS, "", &text, &len, err, sizeof(err)),
			 0);
	ck_assert_str_eq(text,
			 "ip=10.0.0.9\nusername=admin\npassword=" PASSWORD "\naction=status\n");
	cd_fence_wipe_free(text);

	ck_assert_int_eq(
		cd_fence_stdin_text(NULL, CD_FENCE_METADATA, NULL, &text, &len, err, sizeof(err)),
		0);
	ck_assert_str_eq(text, "action=metadata\n");
	cd_fence_wipe_free(text);

	/* A plug cannot smuggle in a line of its own. */
	ck_assert_int_eq(cd_fence_stdin_text(p, CD_FENCE_ON, "n2\naction=off", &text, &len, err,
					     sizeof(err)),
			 CD_ERR_INVALID);
	ck_assert_ptr_null(text);
	cd_fence_params_free(p);
}
END_TEST

START_TEST(test_interpret)
{
	static const struct {
		enum cd_fence_action a;
		int exit_status;
		int rc;
		enum cd_fence_power power;
	} t[] = {
		{CD_FENCE_OFF, 0, 0, CD_FENCE_POWER_UNKNOWN},
		{CD_FENCE_OFF, 1, -EIO, CD_FENCE_POWER_UNKNOWN},
		{CD_FENCE_OFF, 2, -EIO, CD_FENCE_POWER_UNKNOWN},
		{CD_FENCE_ON, 0, 0, CD_FENCE_POWER_UNKNOWN},
		{CD_FENCE_ON, 1, -EIO, CD_FENCE_POWER_UNKNOWN},
		{CD_FENCE_REBOOT, 0, 0, CD_FENCE_POWER_UNKNOWN},
		{CD_FENCE_REBOOT, 1, -EIO, CD_FENCE_POWER_UNKNOWN},
		{CD_FENCE_STATUS, 0, 0, CD_FENCE_POWER_ON},
		{CD_FENCE_STATUS, 2, 0, CD_FENCE_POWER_OFF},
		{CD_FENCE_STATUS, 1, -EIO, CD_FENCE_POWER_UNKNOWN},
		{CD_FENCE_STATUS, 3, -EIO, CD_FENCE_POWER_UNKNOWN},
		{CD_FENCE_MONITOR, 0, 0, CD_FENCE_POWER_ON},
		{CD_FENCE_MONITOR, 2, 0, CD_FENCE_POWER_OFF},
		{CD_FENCE_MONITOR, 1, -EIO, CD_FENCE_POWER_UNKNOWN},
		{CD_FENCE_LIST, 0, 0, CD_FENCE_POWER_UNKNOWN},
		{CD_FENCE_LIST, 1, -EIO, CD_FENCE_POWER_UNKNOWN},
		{CD_FENCE_METADATA, 0, 0, CD_FENCE_POWER_UNKNOWN},
		{CD_FENCE_METADATA, 2, -EIO, CD_FENCE_POWER_UNKNOWN},
	};
	enum cd_fence_power power;
	enum cd_fence_action a;
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		ck_assert_int_eq(cd_fence_interpret(t[i].a, t[i].exit_status, &power), t[i].rc);
		ck_assert_int_eq(power, t[i].power);
	}
	for (a = CD_FENCE_OFF; a <= CD_FENCE_METADATA; a++) {
		enum cd_fence_action back;

		ck_assert_int_eq(cd_fence_action_from_str(cd_fence_action_to_str(a), &back), 0);
		ck_assert_int_eq(back, a);
	}
	ck_assert_int_eq(cd_fence_action_from_str("OFF", &a), CD_ERR_INVALID);
	ck_assert_int_eq(cd_fence_action_from_str("", &a), CD_ERR_INVALID);
	ck_assert_int_eq(cd_fence_action_from_str(NULL, &a), CD_ERR_INVALID);
}
END_TEST

START_TEST(test_mask)
{
	struct cd_fence_params *p;
	const char in[] = "login admin with " PASSWORD "!\0rest";
	char *m;

	p = params_of("{\"username\":\"admin\",\"password\":\"" PASSWORD
		      "\",\"community\":\"pub\"}");
	m = cd_fence_mask(in, sizeof(in) - 1, false, p);
	ck_assert_str_eq(m, "login admin with ****! rest");
	free(m);
	/* Cut short in the middle of the password: the start of it goes too. */
	m = cd_fence_mask(in, strlen("login admin with s3c"), true, p);
	ck_assert_str_eq(m, "login admin with ****");
	free(m);
	m = cd_fence_mask(in, strlen("login admin with s3c"), false, p);
	ck_assert_str_eq(m, "login admin with s3c");
	free(m);
	m = cd_fence_mask("pub" PASSWORD PASSWORD "public",
			  strlen("pub" PASSWORD PASSWORD "public"), false, p);
	ck_assert_str_eq(m, "****************lic");
	free(m);
	m = cd_fence_mask("", 0, true, p);
	ck_assert_str_eq(m, "");
	free(m);
	cd_fence_params_free(p);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("fence_proto");

	add_tcase(s, test_params_from_json);
	add_tcase(s, test_params_from_json_errors);
	add_tcase(s, test_params_to_json);
	add_tcase(s, test_param_check);
	add_tcase(s, test_stdin_text);
	add_tcase(s, test_interpret);
	add_tcase(s, test_mask);
	return run_suite(s);
}
