#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <clusterd/result.h>

#include "core/state_file.h"
#include "core/state_sum.h"
#include "lib/util.h"

#define MAGIC "clusterd-state 1 "

int cd_state_file_save(const char *path, const struct cd_state *s, char *err, size_t errlen)
{
	size_t hlen = strlen(MAGIC) + 64 + 1, blen;
	struct cd_state_text t;
	char *buf;
	int rc;

	rc = cd_state_text(s, &t);
	buf = rc == 0 ? malloc(hlen + t.len) : NULL;
	if (!buf) {
		cd_state_text_free(&t);
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	snprintf(buf, hlen + 1, "%s%s\n", MAGIC, t.sum);
	memcpy(buf + hlen, t.text, t.len);
	blen = t.len;
	cd_state_text_free(&t);
	rc = cd_write_file_atomic(path, buf, hlen + blen);
	free(buf);
	if (rc < 0)
		snprintf(err, errlen, "writing %s: %s", path, strerror(-rc));
	return rc;
}

int cd_state_file_load(const char *path, struct cd_state *s, char *err, size_t errlen)
{
	size_t len, hlen = strlen(MAGIC) + 64 + 1;
	char *buf, sum[65];
	struct json_object *o;
	int rc;

	cd_state_init(s);
	rc = cd_read_file(path, &buf, &len);
	if (rc < 0) {
		snprintf(err, errlen, "reading %s: %s", path, strerror(-rc));
		return rc;
	}
	if (len < hlen || strncmp(buf, "clusterd-state ", 15) != 0 || buf[hlen - 1] != '\n') {
		snprintf(err, errlen, "%s is not a clusterd state file", path);
		rc = CD_ERR_CORRUPT;
		goto out;
	}
	if (strncmp(buf, MAGIC, strlen(MAGIC)) != 0) {
		snprintf(err, errlen, "%s has an unsupported format version", path);
		rc = CD_ERR_VERSION;
		goto out;
	}
	/* The cap on a snapshot holds for a saved state too: the same state. */
	if (len - hlen > CD_STATE_JSON_MAX) {
		snprintf(err, errlen, "%s holds %zu bytes of state, above the cap of %d", path,
			 len - hlen, CD_STATE_JSON_MAX);
		rc = CD_ERR_CORRUPT;
		goto out;
	}
	cd_sha256_hex(buf + hlen, len - hlen, sum);
	if (memcmp(sum, buf + strlen(MAGIC), 64) != 0) {
		snprintf(err, errlen, "%s fails its checksum", path);
		rc = CD_ERR_CORRUPT;
		goto out;
	}
	o = json_tokener_parse(buf + hlen);
	if (!o) {
		snprintf(err, errlen, "%s: body is not JSON", path);
		rc = CD_ERR_CORRUPT;
		goto out;
	}
	rc = cd_state_from_json(s, o, err, errlen);
	json_object_put(o);
out:
	free(buf);
	return rc;
}
