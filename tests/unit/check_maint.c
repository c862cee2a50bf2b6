/*
 * Scheduled maintenance in the replicated state (core/maint.h): adding and
 * refusing schedules, run/cancel/remove, a whole run driven by
 * maintenance.step across three nodes with the hooks' reports, the history,
 * the JSON round trip, and the refusals of stale or misdirected hook reports.
 * Every refusal leaves the state as it was, to the byte.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <clusterd/result.h>

#include "check_common.h"
#include "check_fixture.h"
#include "core/maint.h"
#include "core/state.h"
#include "lib/util.h"

static char err[256];
static struct cd_state st;

static int applyf_from(uint32_t sender, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int applyf_from(uint32_t sender, const char *fmt, ...)
{
	char buf[4096];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	return fixture_apply_from(&st, sender, buf, err, sizeof(err));
}

#define APPLY(...) applyf_from(0, __VA_ARGS__)
#define MUST(...) ck_assert_msg(APPLY(__VA_ARGS__) == 0, "refused: %s", err)

/* The canonical JSON of st, as members compare it. */
static char *state_text(void)
{
	struct json_object *o = cd_state_to_json(&st);
	char *t = strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));

	json_object_put(o);
	return t;
}

/* Refused with code (sent by sender), and st is as it was, to the byte. */
static void refused(int code, uint32_t sender, const char *text)
{
	char *before = state_text(), *after;
	int rc = fixture_apply_from(&st, sender, text, err, sizeof(err));

	ck_assert_msg(rc == code, "%s: %d, not %d (%s)", text, rc, code, err);
	ck_assert_msg(err[0] != '\0', "no error text for %s", text);
	after = state_text();
	ck_assert_str_eq(before, after);
	free(before);
	free(after);
}

static const struct cd_maint *maint(const char *name)
{
	return cd_state_maint(&st, name);
}

static void setup(void)
{
	fixture_three_nodes(&st);
}

static void teardown(void)
{
	cd_state_free(&st);
}

#define ADD_WEEKLY                                                                                 \
	"{\"op\":\"maintenance.add\",\"name\":\"weekly\",\"nodes\":[\"node1\",\"node2\","          \
	"\"node3\"],\"schedule\":\"sun 02:00\",\"next_ms\":5000,\"mode\":\"quick\","               \
	"\"pre\":\"apt-get -y upgrade && reboot\",\"post\":\"true\",\"max_failed\":2,"             \
	"\"window_ms\":14400000}"

START_TEST(test_add_and_refusals)
{
	const struct cd_maint *m;
	int i;

	MUST(ADD_WEEKLY);
	m = maint("weekly");
	ck_assert_ptr_nonnull(m);
	ck_assert(m->every && !m->all_nodes);
	ck_assert_str_eq(m->schedule, "sun 02:00");
	ck_assert_uint_eq(m->n_nodes, 3);
	ck_assert_int_eq(m->mode, CD_MOVE_QUICK);
	ck_assert_uint_eq(m->max_failed, 2);
	ck_assert_uint_eq(m->window_ms, 14400000);
	ck_assert_uint_eq(m->next_ms, 5000);
	ck_assert_uint_eq(m->run.id, 0);
	/* Once, every node, the defaults. */
	MUST("{\"op\":\"maintenance.add\",\"name\":\"once\",\"nodes\":\"all\","
	     "\"at_ms\":7000,\"next_ms\":7000}");
	m = maint("once");
	ck_assert(!m->every && m->all_nodes && m->at_ms == 7000);
	ck_assert_int_eq(m->mode, CD_MOVE_LIVE);
	ck_assert_uint_eq(m->max_failed, 1);
	ck_assert_str_eq(m->pre, "");
	/* Sorted by name. */
	ck_assert_str_eq(st.maints[0].name, "once");
	ck_assert_str_eq(st.maints[1].name, "weekly");

	refused(CD_ERR_EXISTS, 0, ADD_WEEKLY);
	refused(CD_ERR_NOT_FOUND, 0,
		"{\"op\":\"maintenance.add\",\"name\":\"x\",\"nodes\":[\"node9\"],\"at_ms\":1}");
	refused(CD_ERR_INVALID, 0,
		"{\"op\":\"maintenance.add\",\"name\":\"x\",\"nodes\":[\"node1\",\"node1\"],"
		"\"at_ms\":1}");
	refused(CD_ERR_INVALID, 0,
		"{\"op\":\"maintenance.add\",\"name\":\"x\",\"nodes\":[],\"at_ms\":1}");
	refused(CD_ERR_INVALID, 0,
		"{\"op\":\"maintenance.add\",\"name\":\"x\",\"nodes\":\"some\",\"at_ms\":1}");
	refused(CD_ERR_INVALID, 0,
		"{\"op\":\"maintenance.add\",\"name\":\"x\",\"nodes\":\"all\",\"at_ms\":1,"
		"\"schedule\":\"daily 02:00\"}");
	refused(CD_ERR_INVALID, 0, "{\"op\":\"maintenance.add\",\"name\":\"x\",\"nodes\":\"all\"}");
	refused(CD_ERR_INVALID, 0,
		"{\"op\":\"maintenance.add\",\"name\":\"x\",\"nodes\":\"all\",\"at_ms\":1,"
		"\"mode\":\"warp\"}");
	refused(CD_ERR_INVALID, 0,
		"{\"op\":\"maintenance.add\",\"name\":\"x\",\"nodes\":\"all\",\"at_ms\":1,"
		"\"max_failed\":0}");
	refused(CD_ERR_INVALID, 0,
		"{\"op\":\"maintenance.add\",\"name\":\"x y\",\"nodes\":\"all\",\"at_ms\":1}");
	refused(CD_ERR_INVALID, 0,
		"{\"op\":\"maintenance.add\",\"name\":\"x\",\"nodes\":\"all\",\"at_ms\":1,"
		"\"pre\":\"a\\nb\"}");
	refused(CD_ERR_INVALID, 0,
		"{\"op\":\"maintenance.add\",\"name\":\"x\",\"nodes\":\"all\",\"at_ms\":1,"
		"\"window_ms\":-4}");
	/* Up to CD_MAINT_MAX. */
	for (i = 2; i < CD_MAINT_MAX; i++)
		MUST("{\"op\":\"maintenance.add\",\"name\":\"m%02d\",\"nodes\":\"all\","
		     "\"at_ms\":1}",
		     i);
	refused(CD_ERR_INVALID, 0,
		"{\"op\":\"maintenance.add\",\"name\":\"x\",\"nodes\":\"all\",\"at_ms\":1}");
	ck_assert_uint_eq(st.n_maints, CD_MAINT_MAX);
}
END_TEST

START_TEST(test_run_cancel_remove)
{
	const struct cd_maint *m;

	MUST(ADD_WEEKLY);
	refused(CD_ERR_NOT_FOUND, 0,
		"{\"op\":\"maintenance.run\",\"name\":\"nope\",\"wall_ms\":1}");
	refused(CD_ERR_INVALID, 0, "{\"op\":\"maintenance.run\",\"name\":\"weekly\"}");
	MUST("{\"op\":\"maintenance.run\",\"name\":\"weekly\",\"wall_ms\":9000}");
	m = maint("weekly");
	ck_assert_uint_eq(m->next_ms, 9000);
	refused(CD_ERR_INVALID, 0,
		"{\"op\":\"maintenance.cancel\",\"name\":\"weekly\",\"wall_ms\":9001}");
	MUST("{\"op\":\"maintenance.step\",\"name\":\"weekly\",\"begin\":true,"
	     "\"nodes\":[\"node1\",\"node2\"],\"wall_ms\":9100}");
	ck_assert_uint_eq(m->next_ms, 0);
	ck_assert_int_eq(m->run.outcome, CD_MRUN_RUNNING);
	refused(CD_ERR_EXISTS, 0,
		"{\"op\":\"maintenance.run\",\"name\":\"weekly\",\"wall_ms\":9200}");
	refused(CD_ERR_EXISTS, 0,
		"{\"op\":\"maintenance.step\",\"name\":\"weekly\",\"begin\":true,"
		"\"nodes\":[\"node1\"],\"wall_ms\":9200}");
	MUST("{\"op\":\"maintenance.cancel\",\"name\":\"weekly\",\"wall_ms\":9300,"
	     "\"next_ms\":99000}");
	ck_assert_int_eq(m->run.outcome, CD_MRUN_CANCELLED);
	ck_assert_uint_eq(m->run.ended_ms, 9300);
	ck_assert_uint_eq(m->next_ms, 99000);
	ck_assert_int_eq(m->run.nodes[0].outcome, CD_MNODE_SKIPPED);
	ck_assert_ptr_nonnull(strstr(m->run.nodes[0].why, "gate"));
	ck_assert_int_eq(m->run.nodes[1].outcome, CD_MNODE_SKIPPED);
	ck_assert_str_eq(m->run.why, "cancelled by an admin");
	/* Removing a running one: gone with its run. */
	MUST("{\"op\":\"maintenance.step\",\"name\":\"weekly\",\"begin\":true,"
	     "\"nodes\":[\"node3\"],\"wall_ms\":9400}");
	MUST("{\"op\":\"maintenance.remove\",\"name\":\"weekly\"}");
	ck_assert_ptr_null(maint("weekly"));
	ck_assert_uint_eq(st.n_maints, 0);
	refused(CD_ERR_NOT_FOUND, 0, "{\"op\":\"maintenance.remove\",\"name\":\"weekly\"}");
	refused(CD_ERR_INVALID, 0, "{\"op\":\"maintenance.remove\"}");
}
END_TEST

/* A step of run id of weekly: {"op", "name", "id", then more}. */
#define STEP "{\"op\":\"maintenance.step\",\"name\":\"weekly\",\"id\":%llu,"
#define HOOK "{\"op\":\"maintenance.hook\",\"name\":\"weekly\",\"id\":%llu,\"hook_id\":%llu,"

/* Services node (id nid) of the run through every phase; its pre ends with rc. */
static void service(unsigned long long id, uint32_t nid, int rc)
{
	const struct cd_maint_run *r = &maint("weekly")->run;
	unsigned long long hook;

	MUST(STEP "\"phase\":\"drain\",\"wall_ms\":100}", id);
	ck_assert_uint_eq(r->hook_id, 0);
	MUST(STEP "\"phase\":\"pre\",\"wall_ms\":200}", id);
	ck_assert_int_eq(r->phase, CD_MPHASE_PRE);
	ck_assert_uint_eq(r->phase_ms, 200);
	hook = r->hook_id;
	ck_assert_uint_ne(hook, 0);
	ck_assert_int_eq(r->hook_state, CD_MHOOK_NONE);
	ck_assert_int_eq(applyf_from(nid, HOOK "\"node\":%u,\"state\":\"started\",\"epoch\":1}", id,
				     hook, nid),
			 0);
	ck_assert_int_eq(r->hook_state, CD_MHOOK_STARTED);
	ck_assert_int_eq(applyf_from(nid,
				     HOOK "\"node\":%u,\"state\":\"done\",\"rc\":%d,"
					  "\"output\":\"line 1\\nend\"}",
				     id, hook, nid, rc),
			 0);
	ck_assert_int_eq(r->hook_state, CD_MHOOK_DONE);
	ck_assert_int_eq(r->hook_rc, rc);
	ck_assert_str_eq(r->hook_output, "line 1\nend");
	if (rc != 0) {
		MUST(STEP "\"node_outcome\":\"failed\",\"why\":\"pre exited %d\",\"wall_ms\":300,"
			  "\"next_ms\":777}",
		     id, rc);
		return;
	}
	MUST(STEP "\"phase\":\"back\",\"wall_ms\":300}", id);
	MUST(STEP "\"phase\":\"post\",\"wall_ms\":400}", id);
	ck_assert_uint_gt(r->hook_id, hook);
	MUST(STEP "\"phase\":\"resume\",\"wall_ms\":500}", id);
	MUST(STEP "\"node_outcome\":\"done\",\"wall_ms\":600,\"next_ms\":777}", id);
}

START_TEST(test_whole_run)
{
	const struct cd_maint *m;
	const struct cd_maint_run *r;
	unsigned long long id, first;
	int i;

	MUST(ADD_WEEKLY);
	m = maint("weekly");
	r = &m->run;
	MUST("{\"op\":\"maintenance.step\",\"name\":\"weekly\",\"begin\":true,\"id\":0,"
	     "\"nodes\":[\"node1\",\"node2\",\"node3\"],\"wall_ms\":50}");
	id = r->id;
	first = id;
	ck_assert_uint_eq(r->n_nodes, 3);
	ck_assert_uint_eq(r->idx, 0);
	ck_assert_int_eq(r->phase, CD_MPHASE_GATE);
	ck_assert_int_eq(r->nodes[0].outcome, CD_MNODE_ACTIVE);
	ck_assert_uint_eq(r->nodes[0].began_ms, 50);
	ck_assert_int_eq(r->nodes[1].outcome, CD_MNODE_PENDING);
	ck_assert_uint_eq(m->n_history, 0);
	refused(CD_ERR_INVALID, 0,
		"{\"op\":\"maintenance.step\",\"name\":\"weekly\",\"id\":99,"
		"\"phase\":\"drain\"}");
	refused(CD_ERR_INVALID, 0,
		"{\"op\":\"maintenance.step\",\"name\":\"weekly\",\"id\":1,"
		"\"phase\":\"nap\"}");
	refused(CD_ERR_INVALID, 0,
		"{\"op\":\"maintenance.step\",\"name\":\"weekly\",\"id\":1,"
		"\"phase\":\"drain\",\"end\":\"done\"}");

	service(id, 1, 0);
	ck_assert_int_eq(r->nodes[0].outcome, CD_MNODE_DONE);
	ck_assert_uint_eq(r->nodes[0].ended_ms, 600);
	ck_assert_uint_eq(r->idx, 1);
	ck_assert_int_eq(r->nodes[1].outcome, CD_MNODE_ACTIVE);
	ck_assert_int_eq(r->phase, CD_MPHASE_GATE);
	service(id, 2, 3);
	ck_assert_int_eq(r->nodes[1].outcome, CD_MNODE_FAILED);
	ck_assert_str_eq(r->nodes[1].why, "pre exited 3");
	ck_assert_uint_eq(r->failed, 1);
	ck_assert_uint_eq(r->idx, 2);
	service(id, 3, 0);
	ck_assert_int_eq(r->outcome, CD_MRUN_FAILED);
	ck_assert_uint_eq(r->ended_ms, 600);
	ck_assert_uint_eq(m->next_ms, 777);
	ck_assert_ptr_nonnull(strstr(r->why, "1 of 3"));
	refused(CD_ERR_INVALID, 0,
		"{\"op\":\"maintenance.step\",\"name\":\"weekly\",\"id\":1,"
		"\"phase\":\"drain\"}");

	/* More runs, ended by the coordinator: the history keeps the newest first, capped. */
	for (i = 0; i < CD_MAINT_HISTORY + 2; i++) {
		MUST("{\"op\":\"maintenance.step\",\"name\":\"weekly\",\"begin\":true,"
		     "\"nodes\":[\"node2\",\"node3\"],\"wall_ms\":%d}",
		     1000 + i);
		id = r->id;
		MUST(STEP "\"end\":\"window\",\"why\":\"the window ended\",\"next_ms\":%d,"
			  "\"wall_ms\":%d}",
		     id, 5000 + i, 2000 + i);
		ck_assert_int_eq(r->outcome, CD_MRUN_WINDOW);
		ck_assert_int_eq(r->nodes[0].outcome, CD_MNODE_SKIPPED);
		ck_assert_int_eq(r->nodes[1].outcome, CD_MNODE_SKIPPED);
		ck_assert_uint_eq(m->next_ms, 5000 + i);
		ck_assert_uint_eq(m->n_history,
				  i + 1 < CD_MAINT_HISTORY ? i + 1 : CD_MAINT_HISTORY);
		ck_assert_uint_eq(m->history[0].began_ms, i == 0 ? 50 : (uint64_t)(1000 + i - 1));
	}
	for (i = 1; i < (int)m->n_history; i++)
		ck_assert_uint_gt(m->history[i - 1].id, m->history[i].id);
	ck_assert_uint_gt(m->history[CD_MAINT_HISTORY - 1].id, first);
	refused(CD_ERR_INVALID, 0,
		"{\"op\":\"maintenance.step\",\"name\":\"weekly\",\"begin\":true,"
		"\"nodes\":[],\"wall_ms\":1}");
	refused(CD_ERR_NOT_FOUND, 0,
		"{\"op\":\"maintenance.step\",\"name\":\"weekly\",\"begin\":true,"
		"\"nodes\":[\"node7\"],\"wall_ms\":1}");
}
END_TEST

START_TEST(test_hook_refusals)
{
	const struct cd_maint_run *r;
	unsigned long long id, hook;
	char text[512];

	MUST(ADD_WEEKLY);
	r = &maint("weekly")->run;
	MUST("{\"op\":\"maintenance.step\",\"name\":\"weekly\",\"begin\":true,"
	     "\"nodes\":[\"node2\",\"node3\"],\"wall_ms\":50}");
	id = r->id;
	/* No hook asked for in the gate. */
	snprintf(text, sizeof(text), HOOK "\"node\":2,\"state\":\"started\",\"epoch\":1}", id,
		 (unsigned long long)0);
	refused(CD_ERR_INVALID, 2, text);
	MUST(STEP "\"phase\":\"pre\",\"wall_ms\":200}", id);
	hook = r->hook_id;
	/* A stale hook id. */
	snprintf(text, sizeof(text), HOOK "\"node\":2,\"state\":\"started\",\"epoch\":1}", id,
		 hook - 1);
	refused(CD_ERR_INVALID, 2, text);
	/* Another run. */
	snprintf(text, sizeof(text), HOOK "\"node\":2,\"state\":\"started\",\"epoch\":1}", id + 1,
		 hook);
	refused(CD_ERR_INVALID, 2, text);
	/* The wrong node: one that speaks for another, one that speaks for itself. */
	snprintf(text, sizeof(text), HOOK "\"node\":2,\"state\":\"started\",\"epoch\":1}", id,
		 hook);
	refused(CD_ERR_INVALID, 3, text);
	snprintf(text, sizeof(text), HOOK "\"node\":3,\"state\":\"started\",\"epoch\":1}", id,
		 hook);
	refused(CD_ERR_INVALID, 3, text);
	/* Malformed. */
	snprintf(text, sizeof(text), HOOK "\"node\":2,\"state\":\"begun\"}", id, hook);
	refused(CD_ERR_INVALID, 2, text);
	snprintf(text, sizeof(text), HOOK "\"node\":2,\"state\":\"done\",\"rc\":300}", id, hook);
	refused(CD_ERR_INVALID, 2, text);
	snprintf(text, sizeof(text),
		 HOOK "\"node\":2,\"state\":\"done\",\"rc\":0,\"output\":\"\\u0007\"}", id, hook);
	refused(CD_ERR_INVALID, 2, text);
	/* The right one, once each. */
	snprintf(text, sizeof(text), HOOK "\"node\":2,\"state\":\"started\",\"epoch\":4}", id,
		 hook);
	ck_assert_int_eq(fixture_apply_from(&st, 2, text, err, sizeof(err)), 0);
	ck_assert_uint_eq(r->hook_epoch, 4);
	refused(CD_ERR_INVALID, 2, text);
	snprintf(text, sizeof(text), HOOK "\"node\":2,\"state\":\"done\",\"rc\":-1}", id, hook);
	ck_assert_int_eq(fixture_apply_from(&st, 2, text, err, sizeof(err)), 0);
	ck_assert_int_eq(r->hook_rc, -1);
	refused(CD_ERR_INVALID, 2, text);
	/* A new phase asks a new hook: the old id is stale. */
	MUST(STEP "\"phase\":\"post\",\"wall_ms\":300}", id);
	ck_assert_uint_ne(r->hook_id, hook);
	ck_assert_int_eq(r->hook_state, CD_MHOOK_NONE);
	refused(CD_ERR_INVALID, 2, text);
}
END_TEST

/* to_json then from_json gives the same state, mid-run and with history; bad ones are refused. */
START_TEST(test_json_round_trip)
{
	struct json_object *o, *a, *m;
	struct cd_state back;
	char *t1, *t2;
	int rc;

	MUST(ADD_WEEKLY);
	MUST("{\"op\":\"maintenance.add\",\"name\":\"once\",\"nodes\":\"all\",\"at_ms\":7000,"
	     "\"next_ms\":7000,\"pre\":\"echo \\\"hi\\\"\"}");
	MUST("{\"op\":\"maintenance.step\",\"name\":\"weekly\",\"begin\":true,"
	     "\"nodes\":[\"node1\",\"node2\"],\"wall_ms\":50}");
	MUST("{\"op\":\"maintenance.cancel\",\"name\":\"weekly\",\"wall_ms\":60}");
	MUST("{\"op\":\"maintenance.step\",\"name\":\"weekly\",\"begin\":true,"
	     "\"nodes\":[\"node1\",\"node2\"],\"wall_ms\":70}");
	MUST(STEP "\"phase\":\"pre\",\"wall_ms\":80}", (unsigned long long)maint("weekly")->run.id);
	ck_assert_int_eq(applyf_from(1,
				     HOOK "\"node\":1,\"state\":\"done\",\"rc\":2,"
					  "\"output\":\"a\\tb\\n\"}",
				     (unsigned long long)maint("weekly")->run.id,
				     (unsigned long long)maint("weekly")->run.hook_id),
			 0);
	t1 = state_text();
	o = cd_state_to_json(&st);
	ck_assert_int_eq(cd_state_from_json(&back, o, err, sizeof(err)), 0);
	ck_assert_uint_eq(back.n_maints, 2);
	ck_assert_uint_eq(cd_state_maint(&back, "weekly")->n_history, 1);
	cd_state_free(&st);
	st = back;
	t2 = state_text();
	ck_assert_str_eq(t1, t2);
	free(t1);
	free(t2);
	ck_assert(json_object_object_get_ex(o, "maintenance", &a));
	/* Out of order. */
	m = json_object_get(json_object_array_get_idx(a, 0));
	json_object_array_put_idx(a, 0, json_object_get(json_object_array_get_idx(a, 1)));
	json_object_array_put_idx(a, 1, m);
	rc = cd_state_from_json(&back, o, err, sizeof(err));
	ck_assert_int_eq(rc, CD_ERR_CORRUPT);
	ck_assert_uint_eq(back.n_maints, 0);
	/* A run whose node index is past its nodes. */
	m = json_object_get(json_object_array_get_idx(a, 0));
	json_object_object_add(json_object_object_get(m, "run"), "idx", json_object_new_int(5));
	json_object_array_put_idx(a, 0, json_object_get(json_object_array_get_idx(a, 1)));
	json_object_array_put_idx(a, 1, m);
	ck_assert_int_eq(cd_state_from_json(&back, o, err, sizeof(err)), CD_ERR_CORRUPT);
	json_object_put(o);
	/* None: no member at all, and absent reads as none. */
	cd_state_free(&st);
	fixture_three_nodes(&st);
	o = cd_state_to_json(&st);
	ck_assert(!json_object_object_get_ex(o, "maintenance", NULL));
	ck_assert_int_eq(cd_state_from_json(&back, o, err, sizeof(err)), 0);
	ck_assert_uint_eq(back.n_maints, 0);
	cd_state_free(&back);
	json_object_put(o);
}
END_TEST

/* A copy is deep: changing the copy leaves the original as it was. */
START_TEST(test_copy)
{
	struct cd_state copy;

	MUST(ADD_WEEKLY);
	ck_assert_int_eq(cd_state_copy(&copy, &st), 0);
	ck_assert_uint_eq(copy.n_maints, 1);
	ck_assert_ptr_ne(copy.maints, st.maints);
	ck_assert_int_eq(fixture_apply(&copy, "{\"op\":\"maintenance.remove\",\"name\":\"weekly\"}",
				       err, sizeof(err)),
			 0);
	ck_assert_ptr_nonnull(maint("weekly"));
	cd_state_free(&copy);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("maint");

	add_fixture_tcase(s, test_add_and_refusals, setup, teardown);
	add_fixture_tcase(s, test_run_cancel_remove, setup, teardown);
	add_fixture_tcase(s, test_whole_run, setup, teardown);
	add_fixture_tcase(s, test_hook_refusals, setup, teardown);
	add_fixture_tcase(s, test_json_round_trip, setup, teardown);
	add_fixture_tcase(s, test_copy, setup, teardown);
	return run_suite(s);
}
