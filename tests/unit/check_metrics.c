/*
 * The console's metrics formatter (console/metrics.h): JSON as clusterd
 * answers it in, Prometheus text out.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check_common.h"
#include "console/metrics.h"
#include "lib/histogram.h"
#include "lib/jsonget.h"

static struct json_object *parse(const char *text)
{
	struct json_object *o = json_tokener_parse(text);

	ck_assert_msg(o != NULL, "bad test JSON: %s", text);
	return o;
}

/* The text for status, vms and volumes given as JSON text (NULL: none). */
static char *format(const char *status, const char *vms, const char *volumes)
{
	struct json_object *s = status ? parse(status) : NULL, *v = vms ? parse(vms) : NULL;
	struct json_object *vol = volumes ? parse(volumes) : NULL;
	size_t len;
	char *out = cn_metrics_format(s, v, vol, &len);

	ck_assert_ptr_nonnull(out);
	ck_assert_uint_eq(strlen(out), len);
	json_object_put(s);
	json_object_put(v);
	json_object_put(vol);
	return out;
}

/* Whether text holds line as a whole line. */
static bool has_line(const char *text, const char *line)
{
	size_t n = strlen(line);
	const char *p = text;

	while ((p = strstr(p, line))) {
		if ((p == text || p[-1] == '\n') && p[n] == '\n')
			return true;
		p++;
	}
	return false;
}

/* Each of lines, up to NULL, is a whole line of text. */
static void has_lines(const char *text, const char *const *lines)
{
	for (; *lines; lines++)
		ck_assert_msg(has_line(text, *lines), "no line \"%s\" in:\n%s", *lines, text);
}

/* None of parts, up to NULL, is in text. */
static void lacks(const char *text, const char *const *parts)
{
	for (; *parts; parts++)
		ck_assert_msg(!strstr(text, *parts), "\"%s\" in:\n%s", *parts, text);
}

static size_t count(const char *text, const char *needle)
{
	size_t c = 0;
	const char *p = text;

	while ((p = strstr(p, needle))) {
		c++;
		p += strlen(needle);
	}
	return c;
}

/*
 * Every line is a HELP, a TYPE or a sample; each family's HELP and TYPE
 * come once, before its samples, and its samples together.
 */
static void check_shape(const char *text)
{
	char fam[128] = "", seen[64][128];
	size_t n_seen = 0, i;
	const char *p = text;

	ck_assert(*text);
	ck_assert(text[strlen(text) - 1] == '\n');
	while (*p) {
		const char *eol = strchr(p, '\n');
		char line[2048];

		ck_assert_ptr_nonnull(eol);
		ck_assert_uint_lt((size_t)(eol - p), sizeof(line));
		memcpy(line, p, (size_t)(eol - p));
		line[eol - p] = '\0';
		if (strncmp(line, "# HELP ", 7) == 0) {
			char name[128];

			ck_assert_int_eq(sscanf(line + 7, "%127s", name), 1);
			for (i = 0; i < n_seen; i++)
				ck_assert_msg(strcmp(seen[i], name) != 0, "family %s twice", name);
			ck_assert_uint_lt(n_seen, 64);
			snprintf(seen[n_seen++], sizeof(seen[0]), "%s", name);
			snprintf(fam, sizeof(fam), "%s", name);
			ck_assert_msg(strncmp(name, "clusterd_", 9) == 0, "%s", name);
		} else if (strncmp(line, "# TYPE ", 7) == 0) {
			char name[128], type[32];

			ck_assert_int_eq(sscanf(line + 7, "%127s %31s", name, type), 2);
			ck_assert_str_eq(name, fam);
			ck_assert_msg(!strcmp(type, "gauge") || !strcmp(type, "counter") ||
					      !strcmp(type, "summary") ||
					      !strcmp(type, "histogram"),
				      "%s", type);
		} else {
			size_t k = strlen(fam);

			ck_assert_msg(k && strncmp(line, fam, k) == 0 &&
					      (line[k] == ' ' || line[k] == '{' || line[k] == '_'),
				      "sample outside its family %s: %s", fam, line);
			ck_assert_ptr_nonnull(strrchr(line, ' '));
		}
		p = eol + 1;
	}
}

static const char *const status_full =
	"{\"joined\":true,\"quorate\":true,\"synced\":true,\"coordinator_name\":\"node1\","
	"\"version\":{\"epoch\":3,\"seq\":42},\"expected_votes\":3,\"total_votes\":2,"
	"\"quorum\":2,\"decisions\":{\"count\":4,\"last_ms\":0.5,\"median_ms\":0.25,"
	"\"max_ms\":2},"
	"\"nodes\":[{\"name\":\"node1\",\"state\":\"online\",\"reachable\":true},"
	"{\"name\":\"node2\",\"state\":\"draining\",\"reachable\":true},"
	"{\"name\":\"node3\",\"state\":\"offline\",\"reachable\":false}],"
	"\"counters\":{\"moves\":[{\"mode\":\"live\",\"outcome\":\"moved\",\"count\":5,"
	"\"timed\":4,\"total_ms\":12345,\"downtime_ms\":120},{\"mode\":\"cold\","
	"\"outcome\":\"failed\",\"count\":1,\"timed\":0,\"total_ms\":0,\"downtime_ms\":0}],"
	"\"move_durations\":[{\"mode\":\"live\",\"total_ms\":{\"sum\":12345,\"count\":4,"
	"\"buckets\":[{\"le\":1000,\"count\":0},{\"le\":2500,\"count\":1},"
	"{\"le\":5000,\"count\":4}]},\"downtime_ms\":{\"sum\":120,\"count\":4,"
	"\"buckets\":[{\"le\":25,\"count\":2},{\"le\":50,\"count\":4}]}}],"
	"\"fence\":{\"success\":2,\"failure\":1,\"duration_ms\":{\"sum\":9000,"
	"\"count\":3,\"buckets\":[{\"le\":1000,\"count\":0},{\"le\":5000,"
	"\"count\":3}]}},\"sync_rounds\":{\"started\":7,"
	"\"completed\":6,\"total_ms\":1500,\"last_ms\":250}}}";

static const char *const vms_full =
	"[{\"name\":\"web\",\"state\":\"running\",\"node_name\":\"node2\",\"move\":null,"
	"\"last_move\":{\"mode\":\"live\",\"outcome\":\"moved\",\"total_ms\":2500,"
	"\"downtime_ms\":31}},"
	"{\"name\":\"db\",\"state\":\"migrating\",\"node_name\":\"node1\",\"move\":{},"
	"\"last_move\":null},"
	"{\"name\":\"off\",\"state\":\"stopped\",\"node_name\":null}]";

static const char *const vols_full =
	"[{\"name\":\"vol1\",\"local\":{\"host_lease_valid\":true,\"valid_for_ms\":3500,"
	"\"metadata_lease\":false,\"renewals\":100,\"renew_failures\":2,"
	"\"renew_latency_us\":{\"last\":850,\"max\":20000,\"sum\":123456,\"count\":102,"
	"\"buckets\":[{\"le\":250,\"count\":10},{\"le\":1000,\"count\":100},"
	"{\"le\":25000,\"count\":102}]}}},"
	"{\"name\":\"vol2\"}]";

START_TEST(test_full)
{
	static const char *const want[] = {
		"clusterd_up 1",
		"clusterd_quorate 1",
		"clusterd_quorum_votes 2",
		"clusterd_nodes 3",
		"clusterd_members 2",
		"clusterd_node_online{node=\"node1\"} 1",
		"clusterd_node_online{node=\"node2\"} 0",
		"clusterd_node_member{node=\"node3\"} 0",
		"clusterd_node_state{node=\"node2\",state=\"draining\"} 1",
		"clusterd_coordinator{node=\"node1\"} 1",
		"clusterd_state_seq 42",
		"clusterd_decision_seconds{stat=\"max\"} 0.002000",
		"clusterd_sync_rounds_total 6",
		"clusterd_sync_rounds_started_total 7",
		"clusterd_sync_round_duration_seconds_sum 1.500",
		"clusterd_sync_round_duration_seconds_count 6",
		"clusterd_sync_round_last_seconds 0.250",
		"clusterd_fence_attempts_total{outcome=\"success\"} 2",
		"clusterd_fence_attempts_total{outcome=\"failure\"} 1",
		"clusterd_moves_total{mode=\"live\",outcome=\"moved\"} 5",
		"clusterd_moves_total{mode=\"cold\",outcome=\"failed\"} 1",
		"clusterd_fence_duration_seconds_bucket{le=\"1\"} 0",
		"clusterd_fence_duration_seconds_bucket{le=\"5\"} 3",
		"clusterd_fence_duration_seconds_bucket{le=\"+Inf\"} 3",
		"clusterd_fence_duration_seconds_sum 9.000",
		"clusterd_fence_duration_seconds_count 3",
		"clusterd_move_duration_seconds_bucket{mode=\"live\",le=\"1\"} 0",
		"clusterd_move_duration_seconds_bucket{mode=\"live\",le=\"2.5\"} 1",
		"clusterd_move_duration_seconds_bucket{mode=\"live\",le=\"5\"} 4",
		"clusterd_move_duration_seconds_bucket{mode=\"live\",le=\"+Inf\"} 4",
		"clusterd_move_duration_seconds_sum{mode=\"live\"} 12.345",
		"clusterd_move_duration_seconds_count{mode=\"live\"} 4",
		"clusterd_move_downtime_seconds_bucket{mode=\"live\",le=\"0.025\"} 2",
		"clusterd_move_downtime_seconds_bucket{mode=\"live\",le=\"0.05\"} 4",
		"clusterd_move_downtime_seconds_bucket{mode=\"live\",le=\"+Inf\"} 4",
		"clusterd_move_downtime_seconds_sum{mode=\"live\"} 0.120",
		"clusterd_move_downtime_seconds_count{mode=\"live\"} 4",
		"clusterd_vms{state=\"running\"} 1",
		"clusterd_vms{state=\"migrating\"} 1",
		"clusterd_vms{state=\"failed\"} 0",
		"clusterd_vm_state{vm=\"web\",state=\"running\"} 1",
		"clusterd_vm_running{vm=\"web\",node=\"node2\"} 1",
		"clusterd_vm_running{vm=\"db\",node=\"node1\"} 0",
		"clusterd_vm_running{vm=\"off\",node=\"\"} 0",
		"clusterd_vm_moving{vm=\"db\"} 1",
		"clusterd_vm_moving{vm=\"web\"} 0",
		"clusterd_vm_last_move{vm=\"web\",mode=\"live\",outcome=\"moved\"} 1",
		"clusterd_vm_last_move_duration_seconds{vm=\"web\",mode=\"live\"} 2.500",
		"clusterd_vm_last_move_downtime_seconds{vm=\"web\",mode=\"live\"} 0.031",
		"clusterd_lease_valid{volume=\"vol1\"} 1",
		"clusterd_lease_valid_for_seconds{volume=\"vol1\"} 3.500",
		"clusterd_volume_metadata_lease{volume=\"vol1\"} 0",
		"clusterd_lease_renewals_total{volume=\"vol1\",result=\"ok\"} 100",
		"clusterd_lease_renewals_total{volume=\"vol1\",result=\"failed\"} 2",
		"clusterd_lease_renew_latency_seconds_bucket{volume=\"vol1\",le=\"0.00025\"} 10",
		"clusterd_lease_renew_latency_seconds_bucket{volume=\"vol1\",le=\"0.001\"} 100",
		"clusterd_lease_renew_latency_seconds_bucket{volume=\"vol1\",le=\"0.025\"} 102",
		"clusterd_lease_renew_latency_seconds_bucket{volume=\"vol1\",le=\"+Inf\"} 102",
		"clusterd_lease_renew_latency_seconds_sum{volume=\"vol1\"} 0.123456",
		"clusterd_lease_renew_latency_seconds_count{volume=\"vol1\"} 102",
		"clusterd_lease_renew_latency_max_seconds{volume=\"vol1\"} 0.020000",
		"clusterd_lease_renew_latency_last_seconds{volume=\"vol1\"} 0.000850",
		NULL,
	};
	static const char *const never[] = {
		"clusterd_move_duration_seconds_sum{mode=\"cold\"}",
		/* vol2 says nothing of its lease here: no sample. */
		"vol2",
		NULL,
	};
	char *t = format(status_full, vms_full, vols_full);

	check_shape(t);
	has_lines(t, want);
	lacks(t, never);
	/* One HELP and one TYPE per family. */
	ck_assert_uint_eq(count(t, "# HELP clusterd_vms "), 1);
	ck_assert_uint_eq(count(t, "# TYPE clusterd_vms gauge\n"), 1);
	ck_assert_uint_eq(count(t, "# TYPE clusterd_move_duration_seconds histogram\n"), 1);
	ck_assert_uint_eq(count(t, "# TYPE clusterd_move_downtime_seconds histogram\n"), 1);
	ck_assert_uint_eq(count(t, "# TYPE clusterd_fence_duration_seconds histogram\n"), 1);
	ck_assert_uint_eq(count(t, "# TYPE clusterd_lease_renew_latency_seconds histogram\n"), 1);
	ck_assert_uint_eq(count(t, "# TYPE clusterd_moves_total counter\n"), 1);
	ck_assert_uint_eq(count(t, "# HELP "), count(t, "# TYPE "));
	free(t);
}
END_TEST

/*
 * A histogram as clusterd keeps it (lib/histogram.h), through its JSON,
 * to the text: a value on a bound in that bound's bucket, one above every
 * bound only in +Inf, the buckets in order, then _sum and _count.
 */
START_TEST(test_histogram_text)
{
	struct cd_hist h;
	struct json_object *vols = json_object_new_array(), *v = json_object_new_object();
	struct json_object *local = json_object_new_object(), *st = parse("{}");
	const char *b1, *b2, *inf, *sum, *cnt;
	size_t len;
	char *t;

	cd_hist_init(&h, &cd_hist_renew_us);
	cd_hist_observe(&h, 250);
	cd_hist_observe(&h, 251);
	cd_hist_observe(&h, 3000000);
	json_object_object_add(local, "renew_latency_us", cd_hist_to_json(&h));
	json_object_object_add(v, "name", json_object_new_string("v"));
	json_object_object_add(v, "local", local);
	json_object_array_add(vols, v);
	t = cn_metrics_format(st, NULL, vols, &len);
	ck_assert_ptr_nonnull(t);
	check_shape(t);
	b1 = strstr(
		t,
		"\nclusterd_lease_renew_latency_seconds_bucket{volume=\"v\",le=\"0.00025\"} 1\n");
	b2 = strstr(
		t, "\nclusterd_lease_renew_latency_seconds_bucket{volume=\"v\",le=\"0.0005\"} 2\n");
	inf = strstr(t,
		     "\nclusterd_lease_renew_latency_seconds_bucket{volume=\"v\",le=\"+Inf\"} 3\n");
	sum = strstr(t, "\nclusterd_lease_renew_latency_seconds_sum{volume=\"v\"} 3.000501\n");
	cnt = strstr(t, "\nclusterd_lease_renew_latency_seconds_count{volume=\"v\"} 3\n");
	ck_assert_msg(b1 && b2 && inf && sum && cnt, "%s", t);
	ck_assert(b1 < b2 && b2 < inf && inf < sum && sum < cnt);
	ck_assert(has_line(t,
			   "clusterd_lease_renew_latency_seconds_bucket{volume=\"v\",le=\"1\"} 2"));
	ck_assert(has_line(
		t, "clusterd_lease_renew_latency_seconds_bucket{volume=\"v\",le=\"2.5\"} 2"));
	/* Every bound of the set, and +Inf. */
	ck_assert_uint_eq(count(t, "clusterd_lease_renew_latency_seconds_bucket{"),
			  cd_hist_renew_us.n + 1);
	free(t);
	json_object_put(st);
	json_object_put(vols);
}
END_TEST

/*
 * A histogram that is not one (bounds out of order, counts falling or
 * above the total, fields missing) is left out whole.
 */
START_TEST(test_histogram_bad)
{
	static const char *const bad[] = {
		"{\"sum\":1,\"count\":2,\"buckets\":[{\"le\":50,\"count\":1},{\"le\":10,\"count\":2}]}",
		"{\"sum\":1,\"count\":2,\"buckets\":[{\"le\":10,\"count\":1},{\"le\":10,\"count\":2}]}",
		"{\"sum\":1,\"count\":2,\"buckets\":[{\"le\":10,\"count\":2},{\"le\":50,\"count\":1}]}",
		"{\"sum\":1,\"count\":2,\"buckets\":[{\"le\":10,\"count\":3}]}",
		"{\"sum\":1,\"buckets\":[]}",
		"{\"count\":1,\"buckets\":[]}",
		"{\"sum\":1,\"count\":1,\"buckets\":{}}",
		"{\"sum\":1,\"count\":1,\"buckets\":[{\"le\":10}]}",
		"{\"sum\":1,\"count\":1,\"buckets\":[7]}",
		"{\"sum\":1,\"count\":1,\"buckets\":[{\"le\":-1,\"count\":0}]}",
		"[]",
	};
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char st[512];
		char *t;

		snprintf(st, sizeof(st),
			 "{\"counters\":{\"fence\":{\"success\":1,\"duration_ms\":%s},"
			 "\"move_durations\":[{\"mode\":\"quick\",\"total_ms\":{\"sum\":1,"
			 "\"count\":0,\"buckets\":[]}}]}}",
			 bad[i]);
		t = format(st, NULL, NULL);
		check_shape(t);
		ck_assert_msg(!strstr(t, "clusterd_fence_duration_seconds"), "%s:\n%s", bad[i], t);
		ck_assert(has_line(t, "clusterd_fence_attempts_total{outcome=\"success\"} 1"));
		/* No bucket but +Inf is still a histogram. */
		ck_assert(has_line(
			t, "clusterd_move_duration_seconds_bucket{mode=\"quick\",le=\"+Inf\"} 0"));
		ck_assert(has_line(t, "clusterd_move_duration_seconds_sum{mode=\"quick\"} 0.001"));
		ck_assert(!strstr(t, "clusterd_move_downtime_seconds"));
		free(t);
	}
}
END_TEST

/* clusterd did not answer: up is 0, and nothing else is said. */
START_TEST(test_down)
{
	char *t = format(NULL, vms_full, vols_full);

	check_shape(t);
	ck_assert(has_line(t, "clusterd_up 0"));
	ck_assert_uint_eq(count(t, "\n"), 3);
	free(t);
}
END_TEST

/* A cluster with nothing in it: every VM state at 0, no node or volume samples. */
START_TEST(test_empty)
{
	static const char *const want[] = {
		"clusterd_up 1",
		"clusterd_nodes 0",
		"clusterd_members 0",
		"clusterd_vms{state=\"stopped\"} 0",
		"clusterd_vms{state=\"migrating\"} 0",
		NULL,
	};
	static const char *const never[] = {
		"clusterd_node_online",
		"clusterd_moves_total",
		"clusterd_lease",
		"clusterd_vm_state",
		NULL,
	};
	char *t = format("{\"nodes\":[],\"counters\":{\"moves\":[]}}", "[]", "[]");

	check_shape(t);
	has_lines(t, want);
	lacks(t, never);
	free(t);
}
END_TEST

/* Fields missing or of the wrong type leave out what needs them, nothing else. */
START_TEST(test_missing_fields)
{
	static const char *const want[] = {
		"clusterd_up 1",
		"clusterd_nodes 5",
		"clusterd_members 1",
		"clusterd_node_online{node=\"n2\"} 1",
		"clusterd_sync_rounds_total 3",
		/* The VM with a state but no name still counts. */
		"clusterd_vms{state=\"running\"} 2",
		"clusterd_vm_running{vm=\"b\",node=\"\"} 1",
		"clusterd_vm_moving{vm=\"a\"} 0",
		"clusterd_vm_last_move{vm=\"b\",mode=\"live\",outcome=\"moved\"} 1",
		"clusterd_lease_renewals_total{volume=\"v\",result=\"ok\"} 5",
		NULL,
	};
	static const char *const never[] = {
		"clusterd_quorate",
		"clusterd_quorum_expected_votes",
		"clusterd_quorum_total_votes",
		"clusterd_state_epoch",
		"clusterd_decision_seconds",
		"clusterd_coordinator",
		"node=\"n1\"",
		"clusterd_moves_total",
		"clusterd_fence_attempts_total",
		"clusterd_sync_round_duration_seconds",
		"clusterd_vm_state{vm=\"a\"",
		"clusterd_vm_running{vm=\"a\"",
		/* Not timed (total_ms 0): no duration. */
		"clusterd_vm_last_move_duration_seconds",
		"clusterd_vm_last_move_downtime_seconds",
		"result=\"failed\"",
		"clusterd_lease_valid",
		/* A sum without count and buckets is no histogram. */
		"clusterd_lease_renew_latency_seconds",
		NULL,
	};
	char *t = format("{\"quorate\":\"yes\",\"expected_votes\":-1,\"total_votes\":2.5,"
			 "\"nodes\":[{\"name\":\"n1\"},{\"state\":\"online\"},7,null,"
			 "{\"name\":\"n2\",\"state\":\"online\",\"reachable\":true}],"
			 "\"version\":[],\"decisions\":null,\"counters\":{\"moves\":"
			 "[{\"mode\":\"live\"},{\"outcome\":\"moved\",\"count\":1},"
			 "{\"mode\":\"quick\",\"outcome\":\"moved\",\"count\":\"2\"}],"
			 "\"fence\":{\"success\":true},\"sync_rounds\":{\"completed\":3}}}",
			 "[{\"name\":\"a\"},{\"state\":\"running\"},{\"name\":\"b\",\"state\":"
			 "\"running\",\"last_move\":{\"mode\":\"live\",\"outcome\":\"moved\","
			 "\"total_ms\":0,\"downtime_ms\":5}},\"x\",null]",
			 "[{\"name\":\"v\",\"local\":{\"renewals\":5,\"renew_latency_us\":"
			 "{\"sum\":10}}},{\"local\":{\"renewals\":1}},3]");

	check_shape(t);
	has_lines(t, want);
	lacks(t, never);
	free(t);
	/* Not objects or arrays where they should be. */
	t = format("{\"nodes\":{},\"counters\":[]}", "{}", "{}");
	check_shape(t);
	ck_assert(has_line(t, "clusterd_up 1"));
	ck_assert(!strstr(t, "clusterd_nodes"));
	ck_assert(!strstr(t, "clusterd_vms"));
	free(t);
	t = format("[]", NULL, NULL);
	check_shape(t);
	ck_assert(has_line(t, "clusterd_up 1"));
	free(t);
}
END_TEST

/* A VM name with a quote, a backslash, a newline, braces and non-ASCII. */
START_TEST(test_odd_names)
{
	static const char *const want[] = {
		"clusterd_node_online{node=\"n\\\"1\"} 1",
		"clusterd_vm_state{vm=\"we\\\"b\\\\1\\n{x=\\\"y\\\"} \xc3\xa9\","
		"state=\"odd\\nstate\"} 1",
		"clusterd_vm_running{vm=\"we\\\"b\\\\1\\n{x=\\\"y\\\"} \xc3\xa9\","
		"node=\"n\\\"1\"} 0",
		/* A state nobody knew of is counted after the known ones. */
		"clusterd_vms{state=\"odd\\nstate\"} 1",
		"clusterd_vms{state=\"running\"} 0",
		NULL,
	};
	char *t = format(
		"{\"nodes\":[{\"name\":\"n\\\"1\",\"state\":\"online\","
		"\"reachable\":true}]}",
		"[{\"name\":\"we\\\"b\\\\1\\n{x=\\\"y\\\"} \\u00e9\",\"state\":\"odd\\nstate\","
		"\"node_name\":\"n\\\"1\"}]",
		NULL);

	check_shape(t);
	has_lines(t, want);
	free(t);
}
END_TEST

START_TEST(test_escape)
{
	char out[16];

	ck_assert_str_eq(cn_metrics_escape("plain", out, sizeof(out)), "plain");
	ck_assert_str_eq(cn_metrics_escape("a\\b", out, sizeof(out)), "a\\\\b");
	ck_assert_str_eq(cn_metrics_escape("a\"b", out, sizeof(out)), "a\\\"b");
	ck_assert_str_eq(cn_metrics_escape("a\nb", out, sizeof(out)), "a\\nb");
	ck_assert_str_eq(cn_metrics_escape("", out, sizeof(out)), "");
	/* Truncated, never half an escape. */
	ck_assert_str_eq(cn_metrics_escape("abcdefghijklmn\"", out, sizeof(out)), "abcdefghijklmn");
	ck_assert_str_eq(cn_metrics_escape("abcdefghijklmno", out, sizeof(out)), "abcdefghijklmno");
	ck_assert_str_eq(cn_metrics_escape("x", out, 1), "");
}
END_TEST

/* Unknown states are counted once each, in the order first seen. */
START_TEST(test_unknown_states)
{
	char *t = format("{}",
			 "[{\"state\":\"zeta\"},{\"state\":\"alpha\"},{\"state\":\"zeta\"},"
			 "{\"state\":\"running\"}]",
			 NULL);
	const char *z = strstr(t, "clusterd_vms{state=\"zeta\"} 2\n"),
		   *a = strstr(t, "clusterd_vms{state=\"alpha\"} 1\n");

	check_shape(t);
	ck_assert_ptr_nonnull(z);
	ck_assert_ptr_nonnull(a);
	ck_assert(z < a);
	ck_assert_uint_eq(count(t, "state=\"zeta\""), 1);
	free(t);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("metrics");

	add_tcase(s, test_full);
	add_tcase(s, test_histogram_text);
	add_tcase(s, test_histogram_bad);
	add_tcase(s, test_down);
	add_tcase(s, test_empty);
	add_tcase(s, test_missing_fields);
	add_tcase(s, test_odd_names);
	add_tcase(s, test_escape);
	add_tcase(s, test_unknown_states);
	return run_suite(s);
}
