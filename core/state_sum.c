/* The state checksum (state_sum.h). */
#include "config.h"

#include <errno.h>
#include <string.h>

#include "core/state_sum.h"
#include "lib/util.h"

int cd_state_text(const struct cd_state *s, struct cd_state_text *t)
{
	memset(t, 0, sizeof(*t));
	t->json = cd_state_to_json(s);
	if (!t->json)
		return -ENOMEM;
	t->text = json_object_to_json_string_ext(t->json, JSON_C_TO_STRING_PLAIN);
	if (!t->text)
		return -ENOMEM;
	t->len = strlen(t->text);
	cd_sha256_hex(t->text, t->len, t->sum);
	return 0;
}

void cd_state_text_free(struct cd_state_text *t)
{
	if (!t)
		return;
	json_object_put(t->json);
	memset(t, 0, sizeof(*t));
}

int cd_state_checksum(const struct cd_state *s, char out[65])
{
	struct cd_state_text t;
	int rc = cd_state_text(s, &t);

	if (rc == 0)
		memcpy(out, t.sum, sizeof(t.sum));
	else
		out[0] = '\0';
	cd_state_text_free(&t);
	return rc;
}
