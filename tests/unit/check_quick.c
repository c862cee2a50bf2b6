/*
 * The pure parts of quick migration's libvirt side (agents/quick.c): the
 * arguments, the answer's JSON, QMP replies and the migration's state,
 * the progress table. (The calls' error paths run in check_vm_agent.c
 * against libvirt's test driver, which has no QEMU monitor; a real save
 * and restore need QEMU: the lab.)
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include <clusterd/result.h>

#include "agents/quick.h"
#include "agents/vm_agent.h"
#include "check_common.h"
#include "lib/util.h"

static const char sha[] = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";

START_TEST(test_args)
{
	/* NULL path or dir: one too long. */
	static const struct {
		const char *name, *path, *dir, *sha;
		int follow, timeout;
		const char *why;
	} bad[] = {
		{"../vm1", "/s", "/d", NULL, 5000, 60000, "domain name"},
		{"", "/s", "/d", NULL, 5000, 60000, "domain name"},
		{"vm1", "s", "/d", NULL, 5000, 60000, "path"},
		{"vm1", NULL, "/d", NULL, 5000, 60000, "path"},
		{"vm1", "/s", NULL, NULL, 5000, 60000, "directory"},
		{"vm1", "/s", "", NULL, 5000, 60000, "directory"},
		{"vm1", "/s", "/d", "ABCD", 5000, 60000, "SHA-256"},
		{"vm1", "/s", "/d", NULL, 0, 60000, "wait"},
		{"vm1", "/s", "/d", NULL, 5000, 0, "no time"},
	};
	struct cd_quick_args a;
	char longer[300];
	size_t i;

	ck_assert_int_eq(cd_quick_args_set(&a, "vm1", "/run/csvfs/vol/vm1.state", "/run/clusterd",
					   7, 4096, sha, 5000, 60000),
			 0);
	ck_assert_str_eq(a.path, "/run/csvfs/vol/vm1.state");
	ck_assert_str_eq(a.fifo_dir, "/run/clusterd");
	ck_assert_uint_eq(a.action_id, 7);
	ck_assert_uint_eq(a.want_len, 4096);
	ck_assert_str_eq(a.want_sha, sha);
	ck_assert_int_eq(a.follow_timeout_ms, 5000);
	ck_assert_int_eq(a.timeout_ms, 60000);
	ck_assert_str_eq(a.bad, "");
	/* Nothing recorded yet: the head's values count. */
	ck_assert_int_eq(cd_quick_args_set(&a, "vm1", "/s", "/d", 7, 0, NULL, 5000, 60000), 0);
	ck_assert_str_eq(a.want_sha, "");
	/* A save needs no FIFO and no follow timeout. */
	ck_assert_int_eq(cd_quick_args_set(&a, "vm1", "/s", NULL, 7, 0, NULL, 0, 60000), 0);
	memset(longer, 'x', sizeof(longer) - 1);
	longer[0] = '/';
	longer[sizeof(longer) - 1] = '\0';

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const char *path = bad[i].path ? bad[i].path : longer;
		const char *dir = bad[i].dir ? bad[i].dir : longer;

		ck_assert_int_eq(cd_quick_args_set(&a, bad[i].name, path, dir, 7, 0, bad[i].sha,
						   bad[i].follow, bad[i].timeout),
				 CD_ERR_INVALID);
		ck_assert_msg(strstr(a.bad, bad[i].why), "case %zu: %s", i, a.bad);
	}
}
END_TEST

START_TEST(test_fifo_path)
{
	char out[32];

	ck_assert_int_eq(cd_quick_fifo_path("/run/cd", "vm1", out, sizeof(out)), 0);
	ck_assert_str_eq(out, "/run/cd/vm1.restore");
	ck_assert_int_eq(cd_quick_fifo_path("/run/clusterd/fifo-dir", "vm1", out, sizeof(out)),
			 -ENAMETOOLONG);
}
END_TEST

START_TEST(test_result_json)
{
	char *text = cd_quick_result_json(282ull << 20, sha, "downtime_ms", 1700);
	struct json_object *o = json_tokener_parse(text), *v;

	ck_assert_ptr_nonnull(o);
	ck_assert(json_object_object_get_ex(o, "length", &v));
	ck_assert_int_eq(json_object_get_int64(v), 282ll << 20);
	ck_assert(json_object_object_get_ex(o, "sha256", &v));
	ck_assert_str_eq(json_object_get_string(v), sha);
	ck_assert(json_object_object_get_ex(o, "downtime_ms", &v));
	ck_assert_int_eq(json_object_get_int64(v), 1700);
	ck_assert_int_eq(json_object_object_length(o), 3);
	json_object_put(o);
	free(text);
}
END_TEST

START_TEST(test_qmp_reply)
{
	struct json_object *whole, *ret;
	char err[128];

	ck_assert_int_eq(cd_quick_qmp_reply("{\"return\": {}, \"id\": \"libvirt-42\"}", &whole,
					    &ret, err, sizeof(err)),
			 0);
	ck_assert_ptr_nonnull(ret);
	json_object_put(whole);
	ck_assert_int_eq(cd_quick_qmp_reply("{\"id\": \"libvirt-43\", \"error\": {\"class\": "
					    "\"GenericError\", \"desc\": \"No fd named cdsave\"}}",
					    &whole, &ret, err, sizeof(err)),
			 CD_ERR_INVALID);
	ck_assert_str_eq(err, "No fd named cdsave");
	ck_assert_ptr_null(whole);
	ck_assert_ptr_null(ret);
	ck_assert_int_eq(cd_quick_qmp_reply("not json", &whole, &ret, err, sizeof(err)),
			 CD_ERR_INVALID);
	ck_assert_str_eq(err, "not a QMP reply");
	ck_assert_int_eq(cd_quick_qmp_reply(NULL, &whole, &ret, err, sizeof(err)), CD_ERR_INVALID);
}
END_TEST

/* query-migrate's "return" as text, as a state. */
static enum cd_quick_mig state_of(const char *ret_text, char *err, size_t errlen)
{
	struct json_object *ret = json_tokener_parse(ret_text);
	enum cd_quick_mig st;

	ck_assert_ptr_nonnull(ret);
	err[0] = '\0';
	st = cd_quick_mig_state(ret, err, errlen);
	json_object_put(ret);
	return st;
}

START_TEST(test_mig_state)
{
	char err[128];

	ck_assert_int_eq(state_of("{\"status\": \"setup\"}", err, sizeof(err)),
			 CD_QUICK_MIG_ACTIVE);
	ck_assert_int_eq(state_of("{\"status\": \"active\", \"ram\": {\"transferred\": 1}}", err,
				  sizeof(err)),
			 CD_QUICK_MIG_ACTIVE);
	ck_assert_int_eq(state_of("{\"status\": \"device\"}", err, sizeof(err)),
			 CD_QUICK_MIG_ACTIVE);
	ck_assert_int_eq(
		state_of("{\"status\": \"completed\", \"total-time\": 1711}", err, sizeof(err)),
		CD_QUICK_MIG_DONE);
	ck_assert_int_eq(state_of("{\"status\": \"failed\", \"error-desc\": "
				  "\"Unable to write to file: Broken pipe\"}",
				  err, sizeof(err)),
			 CD_QUICK_MIG_FAILED);
	ck_assert_str_eq(err, "migration failed: Unable to write to file: Broken pipe");
	ck_assert_int_eq(state_of("{\"status\": \"cancelled\"}", err, sizeof(err)),
			 CD_QUICK_MIG_FAILED);
	ck_assert_str_eq(err, "migration cancelled");
	/* No migration at all: QEMU answers {}. */
	ck_assert_int_eq(state_of("{}", err, sizeof(err)), CD_QUICK_MIG_FAILED);
}
END_TEST

START_TEST(test_progress)
{
	volatile uint64_t *s = cd_quick_progress_begin("vm1", false);
	volatile uint64_t *r = cd_quick_progress_begin("vm1", true), *all[40];
	size_t i, n = 0;

	ck_assert(s != NULL);
	ck_assert(r != NULL);
	*s = 4096;
	*r = 1024;
	ck_assert_uint_eq(cd_vm_agent_save_progress("vm1"), 4096);
	ck_assert_uint_eq(cd_vm_agent_restore_progress("vm1"), 1024);
	ck_assert_uint_eq(cd_vm_agent_save_progress("vm2"), 0);
	cd_quick_progress_end(s);
	ck_assert_uint_eq(cd_vm_agent_save_progress("vm1"), 0);
	ck_assert_uint_eq(cd_vm_agent_restore_progress("vm1"), 1024);
	cd_quick_progress_end(r);
	ck_assert_uint_eq(cd_vm_agent_restore_progress("vm1"), 0);
	/* A full table: no counter, and nobody sees that progress. */
	for (i = 0; i < 40; i++)
		if ((all[i] = cd_quick_progress_begin("many", false)))
			n++;
	ck_assert_uint_lt(n, 40);
	ck_assert(all[39] == NULL);
	for (i = 0; i < 40; i++)
		cd_quick_progress_end(all[i]);
	cd_quick_progress_end(NULL);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("quick");

	add_tcase(s, test_args);
	add_tcase(s, test_fifo_path);
	add_tcase(s, test_result_json);
	add_tcase(s, test_qmp_reply);
	add_tcase(s, test_mig_state);
	add_tcase(s, test_progress);
	return run_suite(s);
}
