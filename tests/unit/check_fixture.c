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
