/* Helpers shared by the csvfs tool's commands. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <clusterd/result.h>

#include "csvfs/tool.h"

int tool_fail(int rc, const char *what)
{
	const char *why = cd_strerror(rc);

	if (rc == -ENODATA)
		why = "not a csvfs volume";
	else if (rc == CD_ERR_CORRUPT)
		why = "damaged (checksum or format check failed; see csvfs check)";
	else if (rc == -ESTALE)
		why = "the host slot was taken over by another host";
	fprintf(stderr, "csvfs: %s: %s\n", what, why);
	return rc;
}

int tool_busy(const char *what, const struct csvfs_busy *b)
{
	fprintf(stderr, "csvfs: %s is held by host %u%s\n", what, b->slot,
		b->shared ? " (shared)" : "");
	return -EBUSY;
}

int tool_open(struct tool_vol *t, const char *device, int readonly)
{
	int rc;

	memset(t, 0, sizeof(*t));
	t->device = device;
	rc = csvfs_disk_open(device, readonly, &t->disk);
	if (rc == -EINVAL)
		fprintf(stderr, "csvfs: %s: cannot open with O_DIRECT (tmpfs?)\n", device);
	if (rc < 0)
		return rc == -EINVAL ? rc : tool_fail(rc, device);
	rc = csvfs_vol_open(&t->vol, t->disk, &csvfs_env_real);
	if (rc < 0) {
		tool_fail(rc, device);
		csvfs_disk_close(t->disk);
		t->disk = NULL;
	}
	return rc;
}

void tool_close(struct tool_vol *t)
{
	if (!t)
		return;
	csvfs_disk_close(t->disk);
	t->disk = NULL;
}

int tool_attach(struct tool_vol *t, struct csvfs_host *h)
{
	char what[64];
	int rc = csvfs_host_attach(&t->vol, cmdline_opts.slot, cmdline_opts.owner, h);

	snprintf(what, sizeof(what), "host slot %u", cmdline_opts.slot);
	if (rc == CD_ERR_NOT_FOUND)
		fprintf(stderr, "csvfs: %s has not joined (run csvfs host join)\n", what);
	else if (rc == -EPERM)
		fprintf(stderr, "csvfs: %s is joined by another owner than %s\n", what,
			cmdline_opts.owner);
	else if (rc < 0)
		tool_fail(rc, what);
	return rc;
}

void tool_print_json(struct json_object *o)
{
	printf("%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY |
								 JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
}

int tool_show(struct json_object *o, void (*text)(struct json_object *o))
{
	if (cmdline_opts.json) {
		tool_print_json(o);
		return 0;
	}
	text(o);
	json_object_put(o);
	return 0;
}

int tool_view(char **argv, const char *what,
	      int (*build)(struct csvfs_vol *v, char **argv, struct json_object **o),
	      void (*text)(struct json_object *o))
{
	struct json_object *o;
	struct tool_vol t;
	int rc;

	rc = tool_open(&t, argv[0], 1);
	if (rc < 0)
		return rc;
	rc = build(&t.vol, argv, &o);
	tool_close(&t);
	if (rc < 0)
		return tool_fail(rc, what ? what : argv[0]);
	return tool_show(o, text);
}

const char *tool_jstr(struct json_object *o, const char *key)
{
	struct json_object *v;

	if (!json_object_object_get_ex(o, key, &v) || json_object_is_type(v, json_type_null))
		return NULL;
	return json_object_get_string(v);
}

int64_t tool_jint(struct json_object *o, const char *key)
{
	struct json_object *v;

	if (!json_object_object_get_ex(o, key, &v))
		return 0;
	return json_object_get_int64(v);
}

int tool_parse_size(const char *s, uint64_t *out)
{
	static const char units[] = "KMGT";
	unsigned long long v;
	const char *u;
	char *end;
	int shift;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s || *s == '-')
		return CD_ERR_INVALID;
	if (*end) {
		u = strchr(units, *end);
		if (!u || end[1])
			return CD_ERR_INVALID;
		shift = 10 * (int)(u - units + 1);
		if (v > (UINT64_MAX >> shift))
			return CD_ERR_INVALID;
		v <<= shift;
	}
	*out = v;
	return 0;
}
