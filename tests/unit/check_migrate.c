/*
 * The pure parts of agents/migrate.c, fed by hand: the flags and
 * parameters of a migration, a job's statistics as JSON, a dirty rate
 * record. (The calls themselves run in check_vm_agent.c against libvirt's
 * test driver; a real migration needs two libvirtds: the lab.)
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>
#include <libvirt/libvirt.h>

#include "agents/migrate.h"
#include "check_common.h"
#include "lib/util.h"

static const unsigned int base_flags =
	VIR_MIGRATE_LIVE | VIR_MIGRATE_PEER2PEER | VIR_MIGRATE_ABORT_ON_ERROR;

START_TEST(test_build_defaults)
{
	struct cd_migrate_params p;
	virTypedParameterPtr params;
	unsigned int flags;
	int n;

	memset(&p, 0, sizeof(p));
	cd_strlcpy(p.peer_uri, "qemu+tcp://node3/system", sizeof(p.peer_uri));
	p.parallel = 1; /* one connection: no parallel migration */
	p.max_downtime_ms = 300;
	ck_assert_int_eq(cd_migrate_build(&p, &params, &n, &flags), 0);
	ck_assert_uint_eq(flags, base_flags);
	ck_assert_int_eq(n, 0);
	virTypedParamsFree(params, n);
}
END_TEST

START_TEST(test_build_all)
{
	struct cd_migrate_params p;
	virTypedParameterPtr params;
	unsigned long long bw = 0;
	const char *uri = NULL;
	unsigned int flags;
	int n, conns = 0;

	memset(&p, 0, sizeof(p));
	cd_strlcpy(p.peer_uri, "qemu+tcp://node3/system", sizeof(p.peer_uri));
	cd_strlcpy(p.migrate_uri, "tcp://198.18.0.13", sizeof(p.migrate_uri));
	p.bandwidth_mib = 500;
	p.parallel = 4;
	p.auto_converge = true;
	p.tls = true;
	ck_assert_int_eq(cd_migrate_build(&p, &params, &n, &flags), 0);
	ck_assert_uint_eq(flags, base_flags | VIR_MIGRATE_AUTO_CONVERGE | VIR_MIGRATE_TLS |
					 VIR_MIGRATE_PARALLEL);
	ck_assert_int_eq(n, 3);
	ck_assert_int_eq(virTypedParamsGetString(params, n, VIR_MIGRATE_PARAM_URI, &uri), 1);
	ck_assert_str_eq(uri, "tcp://198.18.0.13");
	ck_assert_int_eq(virTypedParamsGetULLong(params, n, VIR_MIGRATE_PARAM_BANDWIDTH, &bw), 1);
	ck_assert_uint_eq(bw, 500);
	ck_assert_int_eq(
		virTypedParamsGetInt(params, n, VIR_MIGRATE_PARAM_PARALLEL_CONNECTIONS, &conns), 1);
	ck_assert_int_eq(conns, 4);
	/* The target is the call's dconnuri, never a parameter. */
	ck_assert_ptr_null(virTypedParamsGet(params, n, VIR_MIGRATE_PARAM_DEST_NAME));
	virTypedParamsFree(params, n);
}
END_TEST

/* The JSON text as an object (the test frees it with json_object_put). */
static struct json_object *parse(char *text)
{
	struct json_object *o;

	ck_assert_ptr_nonnull(text);
	o = json_tokener_parse(text);
	ck_assert_msg(o && json_object_is_type(o, json_type_object), "%s", text);
	free(text);
	return o;
}

static long long get_int(struct json_object *o, const char *key)
{
	struct json_object *v;

	ck_assert_msg(json_object_object_get_ex(o, key, &v), "no %s in %s", key,
		      json_object_to_json_string(o));
	return json_object_get_int64(v);
}

static const char *get_str(struct json_object *o, const char *key)
{
	struct json_object *v;

	ck_assert_msg(json_object_object_get_ex(o, key, &v), "no %s", key);
	return json_object_get_string(v);
}

static bool has(struct json_object *o, const char *key)
{
	return json_object_object_get_ex(o, key, NULL);
}

/* A migration under way, as libvirt reports it; data_remaining left out. */
START_TEST(test_job_stats_running)
{
	virTypedParameterPtr params = NULL;
	int n = 0, max = 0;
	struct json_object *o;

	ck_assert_int_eq(virTypedParamsAddInt(&params, &n, &max, VIR_DOMAIN_JOB_OPERATION,
					      VIR_DOMAIN_JOB_OPERATION_MIGRATION_OUT),
			 0);
	virTypedParamsAddULLong(&params, &n, &max, VIR_DOMAIN_JOB_TIME_ELAPSED, 1500);
	virTypedParamsAddULLong(&params, &n, &max, VIR_DOMAIN_JOB_DATA_TOTAL, 4000);
	virTypedParamsAddULLong(&params, &n, &max, VIR_DOMAIN_JOB_DATA_PROCESSED, 1000);
	virTypedParamsAddULLong(&params, &n, &max, VIR_DOMAIN_JOB_MEMORY_TOTAL, 3000);
	virTypedParamsAddULLong(&params, &n, &max, VIR_DOMAIN_JOB_MEMORY_DIRTY_RATE, 250);
	virTypedParamsAddULLong(&params, &n, &max, VIR_DOMAIN_JOB_MEMORY_PAGE_SIZE, 4096);
	virTypedParamsAddULLong(&params, &n, &max, VIR_DOMAIN_JOB_MEMORY_ITERATION, 2);
	virTypedParamsAddULLong(&params, &n, &max, VIR_DOMAIN_JOB_DOWNTIME, 40);
	virTypedParamsAddInt(&params, &n, &max, VIR_DOMAIN_JOB_AUTO_CONVERGE_THROTTLE, 20);
	o = parse(cd_job_stats_json(VIR_DOMAIN_JOB_UNBOUNDED, params, n));
	ck_assert_str_eq(get_str(o, "type"), "unbounded");
	ck_assert_str_eq(get_str(o, "operation"), "migration-out");
	ck_assert_int_eq(get_int(o, "time_elapsed_ms"), 1500);
	ck_assert_int_eq(get_int(o, "data_total"), 4000);
	ck_assert_int_eq(get_int(o, "data_processed"), 1000);
	ck_assert_int_eq(get_int(o, "memory_total"), 3000);
	ck_assert_int_eq(get_int(o, "memory_dirty_rate"), 250);
	ck_assert_int_eq(get_int(o, "memory_page_size"), 4096);
	ck_assert_int_eq(get_int(o, "dirty_bytes_per_s"), 250 * 4096);
	ck_assert_int_eq(get_int(o, "memory_iteration"), 2);
	ck_assert_int_eq(get_int(o, "downtime_ms"), 40);
	ck_assert_int_eq(get_int(o, "auto_converge_throttle"), 20);
	ck_assert_int_eq(get_int(o, "percent"), 25);
	/* Not given, not made up. */
	ck_assert(!has(o, "data_remaining"));
	ck_assert(!has(o, "time_remaining_ms"));
	ck_assert(!has(o, "setup_time_ms"));
	json_object_put(o);
	virTypedParamsFree(params, n);
}
END_TEST

/* No total, no percent; a dirty rate without a page size, no bytes. */
START_TEST(test_job_stats_partial)
{
	virTypedParameterPtr params = NULL;
	int n = 0, max = 0;
	struct json_object *o;

	virTypedParamsAddULLong(&params, &n, &max, VIR_DOMAIN_JOB_DATA_TOTAL, 0);
	virTypedParamsAddULLong(&params, &n, &max, VIR_DOMAIN_JOB_DATA_PROCESSED, 0);
	virTypedParamsAddULLong(&params, &n, &max, VIR_DOMAIN_JOB_MEMORY_DIRTY_RATE, 10);
	virTypedParamsAddULLong(&params, &n, &max, VIR_DOMAIN_JOB_SETUP_TIME, 7);
	o = parse(cd_job_stats_json(VIR_DOMAIN_JOB_COMPLETED, params, n));
	ck_assert_str_eq(get_str(o, "type"), "completed");
	ck_assert(!has(o, "operation"));
	ck_assert(!has(o, "percent"));
	ck_assert(!has(o, "dirty_bytes_per_s"));
	ck_assert_int_eq(get_int(o, "setup_time_ms"), 7);
	json_object_put(o);
	virTypedParamsFree(params, n);

	/* No job at all: the type alone. */
	o = parse(cd_job_stats_json(VIR_DOMAIN_JOB_NONE, NULL, 0));
	ck_assert_str_eq(get_str(o, "type"), "none");
	ck_assert_int_eq(json_object_object_length(o), 1);
	json_object_put(o);
	o = parse(cd_job_stats_json(VIR_DOMAIN_JOB_CANCELLED, NULL, 0));
	ck_assert_str_eq(get_str(o, "type"), "cancelled");
	json_object_put(o);
}
END_TEST

START_TEST(test_dirty_rate_parse)
{
	virTypedParameterPtr params = NULL;
	int n = 0, max = 0;
	struct cd_dirty_rate r;

	cd_dirty_rate_parse(NULL, 0, &r);
	ck_assert_int_eq(r.calc_status, -1);
	ck_assert_int_eq(r.start_time, -1);
	ck_assert_int_eq(r.period_s, -1);
	ck_assert_int_eq(r.mbps, -1);
	virTypedParamsAddInt(&params, &n, &max, "dirtyrate.calc_status",
			     VIR_DOMAIN_DIRTYRATE_MEASURED);
	virTypedParamsAddLLong(&params, &n, &max, "dirtyrate.calc_start_time", 12345);
	virTypedParamsAddInt(&params, &n, &max, "dirtyrate.calc_period", 2);
	virTypedParamsAddLLong(&params, &n, &max, "dirtyrate.megabytes_per_second", 87);
	cd_dirty_rate_parse(params, n, &r);
	ck_assert_int_eq(r.calc_status, VIR_DOMAIN_DIRTYRATE_MEASURED);
	ck_assert_int_eq(r.start_time, 12345);
	ck_assert_int_eq(r.period_s, 2);
	ck_assert_int_eq(r.mbps, 87);
	virTypedParamsFree(params, n);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("migrate");

	/* libvirt's typed parameters use its per-thread error, set up here. */
	if (virInitialize() < 0)
		return 1;
	add_tcase(s, test_build_defaults);
	add_tcase(s, test_build_all);
	add_tcase(s, test_job_stats_running);
	add_tcase(s, test_job_stats_partial);
	add_tcase(s, test_dirty_rate_parse);
	return run_suite(s);
}
