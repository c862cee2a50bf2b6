/* Set-up shared by the unit tests of the replicated state (check_fixture.h). */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "check_common.h"
#include "check_fixture.h"

int fixture_apply_from(struct cd_state *s, uint32_t sender, const char *change, char *err,
		       size_t errlen)
{
	struct json_object *o = json_tokener_parse(change);
	int rc;

	ck_assert_msg(o != NULL, "bad test JSON %s", change);
	err[0] = '\0';
	rc = cd_state_apply_from(s, o, sender, err, errlen);
	json_object_put(o);
	return rc;
}

int fixture_apply(struct cd_state *s, const char *change, char *err, size_t errlen)
{
	return fixture_apply_from(s, 0, change, err, errlen);
}

void fixture_three_nodes(struct cd_state *s)
{
	struct cd_node_info m[3];
	int i;

	memset(m, 0, sizeof(m));
	for (i = 0; i < 3; i++) {
		m[i].id = (uint32_t)i + 1;
		snprintf(m[i].name, sizeof(m[i].name), "node%d", i + 1);
		strcpy(m[i].cap.cpu_model, "qemu64");
	}
	cd_state_init(s);
	cd_state_sync_finish(s, m, 3, 1, 0);
}

void fixture_node4_left(struct cd_state *s)
{
	struct cd_node_info m[4];
	int i;

	memset(m, 0, sizeof(m));
	for (i = 0; i < 4; i++) {
		m[i].id = (uint32_t)i + 1;
		snprintf(m[i].name, sizeof(m[i].name), "node%d", i + 1);
	}
	cd_state_init(s);
	cd_state_sync_finish(s, m, 4, 1, 0);
	cd_state_sync_finish(s, m, 3, 2, 0);
}

/* Apply change to s; a refusal fails the test. */
static void fixture_must_apply(struct cd_state *s, const char *change)
{
	char err[512];

	ck_assert_msg(fixture_apply(s, change, err, sizeof(err)) == 0, "%s: %s", change, err);
}

#define WEB_XML                                                                                    \
	"<domain><name>web</name><uuid>6f1d7c2e-0b6a-4f6e-9d1e-3a5b7c9d0e1f</uuid><devices>"       \
	"<interface type='bridge'><mac address='52:54:00:aa:bb:01'/></interface>"                  \
	"</devices></domain>"
#define VOL_UUID "00112233-4455-6677-8899-aabbccddeeff"

void fixture_full_state(struct cd_state *s)
{
	fixture_three_nodes(s);
	fixture_must_apply(s, "{\"op\":\"property.set\",\"key\":\"failover-grace-ms\","
			      "\"value\":\"20000\"}");
	fixture_must_apply(s, "{\"op\":\"property.set\",\"key\":\"k\",\"value\":\"v\"}");
	fixture_must_apply(s, "{\"op\":\"vm.add\",\"name\":\"web\",\"xml\":\"" WEB_XML "\","
			      "\"vcpus\":1,\"memory_mb\":512}");
	fixture_must_apply(s, "{\"op\":\"vm.set\",\"name\":\"web\",\"key\":"
			      "\"preferred-owners\",\"value\":\"node1\"}");
	fixture_must_apply(s, "{\"op\":\"fence.add\",\"name\":\"dev1\",\"agent\":\"fence_lab\","
			      "\"params\":{\"a\":\"b\"},\"map\":{\"node1\":\"p1\"}}");
	fixture_must_apply(s, "{\"op\":\"volume.add\",\"name\":\"vol1\",\"device\":"
			      "\"/dev/loop3\",\"uuid\":\"" VOL_UUID "\",\"hosts\":8,"
			      "\"expiry_ms\":10000,\"renewal_ms\":1250}");
	fixture_must_apply(s, "{\"op\":\"volume.request\",\"name\":\"vol1\",\"id\":7,"
			      "\"node\":1,\"fop\":\"create\",\"file\":\"disk1\","
			      "\"size\":16777216}");
	fixture_must_apply(s, "{\"op\":\"volume.done\",\"name\":\"vol1\",\"id\":9,\"rc\":-1004,"
			      "\"error\":\"bad\",\"meta_generation\":2,\"files\":["
			      "{\"name\":\"disk0\",\"index\":0,\"size\":1048576,\"offset\":5242880,"
			      "\"alloc\":1048576,\"generation\":1},"
			      "{\"name\":\"disk2\",\"index\":1,\"size\":2097152,\"offset\":6291456,"
			      "\"alloc\":2097152,\"generation\":1}]}");
	ck_assert_uint_eq(s->volumes[0].n_files, 2);
	ck_assert_uint_eq(s->volumes[0].n_reqs, 1);
	ck_assert_uint_eq(s->volumes[0].n_results, 1);
}

char *fixture_text(const struct cd_state *s)
{
	struct json_object *o = cd_state_to_json(s);
	char *t = strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));

	json_object_put(o);
	ck_assert_ptr_nonnull(t);
	return t;
}
