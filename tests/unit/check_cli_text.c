/* clusterctl's lines built from clusterd's JSON (cli/text.c). */
#include "config.h"

#include <string.h>

#include <json-c/json.h>

#include "check_common.h"
#include "cli/text.h"

static const char *state_of(const char *json, char *buf, size_t n)
{
	static char out[128];
	struct json_object *v = json_tokener_parse(json);

	ck_assert_ptr_nonnull(v);
	snprintf(out, sizeof(out), "%s", text_vm_state(v, buf, n));
	json_object_put(v);
	return out;
}

/* A VM on a lost node is "unknown (NODE lost)"; otherwise its recorded state. */
START_TEST(test_vm_state)
{
	char buf[64];

	ck_assert_str_eq(
		state_of("{\"state\":\"running\",\"node_name\":\"node1\"}", buf, sizeof(buf)),
		"running");
	ck_assert_str_eq(state_of("{\"state\":\"running\",\"node_name\":\"node1\","
				  "\"node_lost\":false}",
				  buf, sizeof(buf)),
			 "running");
	ck_assert_str_eq(state_of("{\"state\":\"running\",\"node_name\":\"node1\","
				  "\"node_lost\":true,\"waits_for\":\"node1 to be fenced by pdu\"}",
				  buf, sizeof(buf)),
			 "unknown (node1 lost)");
	ck_assert_str_eq(state_of("{\"state\":\"stopping\",\"node_lost\":true}", buf, sizeof(buf)),
			 "unknown (its node lost)");
	/* An older clusterd without a state: something to show all the same. */
	ck_assert_str_eq(state_of("{}", buf, sizeof(buf)), "?");
	/* Cut to the buffer, never past it. */
	ck_assert_str_eq(state_of("{\"node_lost\":true,\"node_name\":\"node1\"}", buf, 12),
			 "unknown (no");
}
END_TEST

int main(void)
{
	Suite *s = suite_create("cli_text");

	add_tcase(s, test_vm_state);
	return run_suite(s);
}
