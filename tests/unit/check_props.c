#include "config.h"

#include <string.h>

#include <clusterd/result.h>

#include "check_common.h"
#include "core/props.h"
#include "core/state.h"

static void set(struct cd_state *s, const char *key, const char *value)
{
	struct json_object *c = json_object_new_object();
	char err[256];

	json_object_object_add(c, "op", json_object_new_string("property.set"));
	json_object_object_add(c, "key", json_object_new_string(key));
	json_object_object_add(c, "value", json_object_new_string(value));
	ck_assert_msg(cd_state_apply(s, c, err, sizeof(err)) == 0, "%s=%s: %s", key, value, err);
	json_object_put(c);
}

static bool accepted(const char *key, const char *value)
{
	char err[256] = "";

	return cd_props_check(key, value, err, sizeof(err)) == 0;
}

START_TEST(test_defaults_parse_and_apply_when_unset)
{
	struct cd_state s;
	uint64_t v;
	int id;

	for (id = 0; id < CD_PROPS_N; id++) {
		const struct cd_props_def *d = cd_props_def_of((enum cd_props_id)id);

		ck_assert_ptr_eq(cd_props_def(d->key), d);
		ck_assert_msg(cd_props_parse(d, d->dflt, &v) == 0, "default of %s", d->key);
	}
	cd_state_init(&s);
	ck_assert_uint_eq(cd_props_get(&s, CD_PROPS_FAILOVER_CONFIRM),
			  CD_CONFIRM_LEASE | CD_CONFIRM_FENCE);
	ck_assert_uint_eq(cd_props_get(&s, CD_PROPS_FAILOVER_GRACE_MS), 0);
	ck_assert_uint_eq(cd_props_get(&s, CD_PROPS_FLAP_LIMIT), CD_FLAP_LIMIT);
	ck_assert_uint_eq(cd_props_get(&s, CD_PROPS_QUORUM_LOSS_POLICY), CD_QUORUM_LOSS_STOP);
	cd_state_free(&s);
}
END_TEST

START_TEST(test_typed_values_once_set)
{
	struct cd_state s;

	cd_state_init(&s);
	set(&s, "failover-confirm", "lease");
	ck_assert_uint_eq(cd_props_get(&s, CD_PROPS_FAILOVER_CONFIRM), CD_CONFIRM_LEASE);
	set(&s, "failover-confirm", "fence");
	ck_assert_uint_eq(cd_props_get(&s, CD_PROPS_FAILOVER_CONFIRM), CD_CONFIRM_FENCE);
	set(&s, "failover-confirm", "fence,lease");
	ck_assert_uint_eq(cd_props_get(&s, CD_PROPS_FAILOVER_CONFIRM),
			  CD_CONFIRM_LEASE | CD_CONFIRM_FENCE);
	set(&s, "failover-grace-ms", "20000");
	ck_assert_uint_eq(cd_props_get(&s, CD_PROPS_FAILOVER_GRACE_MS), 20000);
	set(&s, "flap-limit", "0");
	ck_assert_uint_eq(cd_props_get(&s, CD_PROPS_FLAP_LIMIT), 0);
	set(&s, "quorum-loss-policy", "freeze");
	ck_assert_uint_eq(cd_props_get(&s, CD_PROPS_QUORUM_LOSS_POLICY), CD_QUORUM_LOSS_FREEZE);
	/* The admins' own keys are plain strings clusterd does not judge. */
	set(&s, "motd", "-- closed on Sundays --");
	ck_assert_str_eq(cd_state_prop(&s, "motd"), "-- closed on Sundays --");
	cd_state_free(&s);
}
END_TEST

/* What was accepted before the table stays accepted; the rest stays refused. */
START_TEST(test_validation)
{
	char err[256];

	ck_assert(accepted("failover-grace-ms", "0"));
	ck_assert(accepted("failover-grace-ms", "3600000"));
	ck_assert(accepted("failover-grace-ms", "007"));
	ck_assert(!accepted("failover-grace-ms", "3600001"));
	ck_assert(!accepted("failover-grace-ms", "-1"));
	ck_assert(!accepted("failover-grace-ms", "+1"));
	ck_assert(!accepted("failover-grace-ms", " 1"));
	ck_assert(!accepted("failover-grace-ms", "5s"));
	ck_assert(!accepted("failover-grace-ms", ""));
	ck_assert(!accepted("failover-grace-ms", "99999999999999999999999"));
	ck_assert(accepted("flap-limit", "3"));
	ck_assert(!accepted("flap-limit", "4"));
	ck_assert(accepted("failover-confirm", "lease,fence"));
	ck_assert(!accepted("failover-confirm", "leases"));
	ck_assert(!accepted("failover-confirm", "Lease"));
	ck_assert(accepted("quorum-loss-policy", "stop"));
	ck_assert(!accepted("quorum-loss-policy", "pause"));
	ck_assert(accepted("no-such-property", "anything at all"));
	ck_assert_ptr_null(cd_props_def("motd"));

	ck_assert_int_eq(cd_props_check("quorum-loss-policy", "pause", err, sizeof(err)),
			 CD_ERR_INVALID);
	ck_assert_str_eq(err, "invalid value 'pause' for quorum-loss-policy (stop or freeze)");
	ck_assert_int_eq(cd_props_check("flap-limit", "9", err, sizeof(err)), CD_ERR_INVALID);
	ck_assert_str_eq(err, "invalid value '9' for flap-limit (a count, 0 (off) to 3)");
}
END_TEST

/* migration-network: an IPv4 network, and the first of a node's addresses in it. */
START_TEST(test_migration_network)
{
	static const char addrs[][64] = {"10.0.0.7", "198.18.0.3", "198.18.1.3"};
	const struct cd_props_def *d = cd_props_def("migration-network");
	struct cd_state s;
	char err[128];
	uint64_t v;

	ck_assert_ptr_nonnull(d);
	cd_state_init(&s);
	ck_assert_uint_eq(cd_props_get(&s, CD_PROPS_MIGRATION_NETWORK), 0);
	ck_assert_int_eq(cd_props_parse(d, "198.18.0.0/24", &v), 0);
	ck_assert_int_eq(cd_props_cidr4_pick(v, addrs, 3), 1);
	ck_assert_int_eq(cd_props_parse(d, "198.18.1.0/24", &v), 0);
	ck_assert_int_eq(cd_props_cidr4_pick(v, addrs, 3), 2);
	ck_assert_int_eq(cd_props_parse(d, "0.0.0.0/1", &v), 0);
	ck_assert_int_eq(cd_props_cidr4_pick(v, addrs, 3), 0);
	ck_assert_int_eq(cd_props_parse(d, "172.16.0.0/12", &v), 0);
	ck_assert_int_eq(cd_props_cidr4_pick(v, addrs, 3), -1);
	ck_assert_int_eq(cd_props_parse(d, "198.18.0.3/32", &v), 0);
	ck_assert_int_eq(cd_props_cidr4_pick(v, addrs, 3), 1);
	ck_assert_int_eq(cd_props_parse(d, "none", &v), 0);
	ck_assert_uint_eq(v, 0);
	ck_assert_int_eq(cd_props_cidr4_pick(0, addrs, 3), -1);
	ck_assert_int_eq(cd_props_check("migration-network", "198.18.0.0", err, sizeof(err)),
			 CD_ERR_INVALID);
	ck_assert(strstr(err, "IPv4 network"));
	ck_assert_int_eq(cd_props_check("migration-network", "198.18.0.0/33", err, sizeof(err)),
			 CD_ERR_INVALID);
	ck_assert_int_eq(cd_props_check("migration-network", "256.1.1.1/8", err, sizeof(err)),
			 CD_ERR_INVALID);
	ck_assert_int_eq(cd_props_check("migration-network", "fd00::/8", err, sizeof(err)),
			 CD_ERR_INVALID);
	ck_assert_int_eq(cd_props_check("migration-network", " 1.2.3.4/8", err, sizeof(err)),
			 CD_ERR_INVALID);
	set(&s, "migration-network", "198.18.0.0/24");
	ck_assert_uint_eq(cd_props_get(&s, CD_PROPS_MIGRATION_NETWORK),
			  (uint64_t)0xc6120000u << 8 | 24);
	cd_state_free(&s);
}
END_TEST

/* cpu-overcommit: vCPUs per host core, 1 to 64 with up to 3 places, in thousandths. */
START_TEST(test_cpu_overcommit)
{
	/* Below 1, above 64, past 3 places, and anything but plain decimal digits. */
	static const char *const refused[] = {
		"0",
		"0.999",
		"64.001",
		"65",
		"1.",
		".5",
		"1.2345",
		"-1",
		"+2",
		"1,5",
		" 2",
		"2 ",
		"2x",
		"",
		"1e1",
		"0x10",
		"99999999999999999999999",
	};
	struct json_object *c;
	struct cd_state s;
	char err[256];
	size_t i;

	cd_state_init(&s);
	ck_assert_uint_eq(cd_props_get(&s, CD_PROPS_CPU_OVERCOMMIT), 4000);
	set(&s, "cpu-overcommit", "1");
	ck_assert_uint_eq(cd_props_get(&s, CD_PROPS_CPU_OVERCOMMIT), 1000);
	set(&s, "cpu-overcommit", "1.5");
	ck_assert_uint_eq(cd_props_get(&s, CD_PROPS_CPU_OVERCOMMIT), 1500);
	set(&s, "cpu-overcommit", "2.125");
	ck_assert_uint_eq(cd_props_get(&s, CD_PROPS_CPU_OVERCOMMIT), 2125);
	set(&s, "cpu-overcommit", "64.000");
	ck_assert_uint_eq(cd_props_get(&s, CD_PROPS_CPU_OVERCOMMIT), 64000);
	for (i = 0; i < sizeof(refused) / sizeof(refused[0]); i++)
		ck_assert_msg(!accepted("cpu-overcommit", refused[i]), "'%s' accepted", refused[i]);
	ck_assert_int_eq(cd_props_check("cpu-overcommit", "0.5", err, sizeof(err)), CD_ERR_INVALID);
	ck_assert_str_eq(err, "invalid value '0.5' for cpu-overcommit (vCPUs per host core, 1 to "
			      "64, up to 3 decimal places (1.5))");

	/* property.set refuses it and keeps the value it had. */
	c = json_object_new_object();
	json_object_object_add(c, "op", json_object_new_string("property.set"));
	json_object_object_add(c, "key", json_object_new_string("cpu-overcommit"));
	json_object_object_add(c, "value", json_object_new_string("lots"));
	ck_assert_int_eq(cd_state_apply(&s, c, err, sizeof(err)), CD_ERR_INVALID);
	ck_assert_ptr_nonnull(strstr(err, "invalid value 'lots' for cpu-overcommit"));
	json_object_put(c);
	ck_assert_str_eq(cd_state_prop(&s, "cpu-overcommit"), "64.000");
	cd_state_free(&s);
}
END_TEST

/* shutdown-policy: drain (the default), save or stop. */
START_TEST(test_shutdown_policy)
{
	struct cd_state s;
	char err[256];

	cd_state_init(&s);
	ck_assert_uint_eq(cd_props_get(&s, CD_PROPS_SHUTDOWN_POLICY), CD_SHUTDOWN_DRAIN);
	set(&s, "shutdown-policy", "save");
	ck_assert_uint_eq(cd_props_get(&s, CD_PROPS_SHUTDOWN_POLICY), CD_SHUTDOWN_SAVE);
	set(&s, "shutdown-policy", "stop");
	ck_assert_uint_eq(cd_props_get(&s, CD_PROPS_SHUTDOWN_POLICY), CD_SHUTDOWN_STOP);
	set(&s, "shutdown-policy", "drain");
	ck_assert_uint_eq(cd_props_get(&s, CD_PROPS_SHUTDOWN_POLICY), CD_SHUTDOWN_DRAIN);
	ck_assert_int_eq(cd_props_check("shutdown-policy", "hibernate", err, sizeof(err)),
			 CD_ERR_INVALID);
	ck_assert_str_eq(err,
			 "invalid value 'hibernate' for shutdown-policy (drain, save or stop)");
	cd_state_free(&s);
}
END_TEST

/* state-volume: a volume name, or none (the default): cd_props_get_name(). */
START_TEST(test_state_volume)
{
	const struct cd_props_def *d = cd_props_def("state-volume");
	struct cd_state s;
	char err[256];
	uint64_t v;

	ck_assert_ptr_nonnull(d);
	ck_assert_int_eq(d->type, CD_PROPS_NAME);
	cd_state_init(&s);
	ck_assert_ptr_null(cd_props_get_name(&s, CD_PROPS_STATE_VOLUME));
	ck_assert_uint_eq(cd_props_get(&s, CD_PROPS_STATE_VOLUME), 0);
	ck_assert_int_eq(cd_props_parse(d, "none", &v), 0);
	ck_assert_uint_eq(v, 0);
	ck_assert_int_eq(cd_props_parse(d, "vol-2.fast_a", &v), 0);
	ck_assert_uint_eq(v, 1);
	ck_assert(accepted("state-volume", "A"));
	ck_assert(accepted("state-volume", "vol1"));
	ck_assert(!accepted("state-volume", ""));
	ck_assert(!accepted("state-volume", "vol 1"));
	ck_assert(!accepted("state-volume", "vol/1"));
	ck_assert(!accepted("state-volume", "../x"));
	ck_assert(accepted("state-volume", "a23456789012345678901234567890123456789012345678901"
					   "234567890123"));
	ck_assert(!accepted("state-volume", "a23456789012345678901234567890123456789012345678901"
					    "2345678901234"));
	ck_assert_int_eq(cd_props_check("state-volume", "my vol", err, sizeof(err)),
			 CD_ERR_INVALID);
	ck_assert_ptr_nonnull(
		strstr(err, "invalid value 'my vol' for state-volume (a volume name"));
	set(&s, "state-volume", "vol2");
	ck_assert_str_eq(cd_props_get_name(&s, CD_PROPS_STATE_VOLUME), "vol2");
	ck_assert_uint_eq(cd_props_get(&s, CD_PROPS_STATE_VOLUME), 1);
	set(&s, "state-volume", "none");
	ck_assert_ptr_null(cd_props_get_name(&s, CD_PROPS_STATE_VOLUME));
	cd_state_free(&s);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("props");

	add_tcase(s, test_defaults_parse_and_apply_when_unset);
	add_tcase(s, test_typed_values_once_set);
	add_tcase(s, test_validation);
	add_tcase(s, test_migration_network);
	add_tcase(s, test_cpu_overcommit);
	add_tcase(s, test_shutdown_policy);
	add_tcase(s, test_state_volume);
	return run_suite(s);
}
