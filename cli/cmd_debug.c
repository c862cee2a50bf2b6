/*
 * clusterctl debug dump: every node's blackbox (its ring of recent debug
 * messages), status and state version, gathered by the local clusterd
 * over the cluster, into one .tar.gz (dump_archive.h).
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <clusterd/client.h>
#include <clusterd/result.h>

#include "cli/clusterctl.h"
#include "cli/dump_archive.h"
#include "lib/util.h"

/* Fetch node's text of dump id into the archive, bytes long: piece by piece. */
static int fetch_text(struct cd_client *c, struct dump_archive *ar, int64_t id, const char *node,
		      int64_t bytes, char *err, size_t errlen)
{
	struct json_object *args, *reply = NULL;
	char name[300];
	int64_t off = 0;
	int rc;

	snprintf(name, sizeof(name), "%s-blackbox.txt", node);
	rc = dump_archive_begin(ar, name, (uint64_t)bytes, err, errlen);
	while (rc == 0 && off < bytes) {
		const char *t;
		size_t len;

		args = json_object_new_object();
		json_object_object_add(args, "dump", json_object_new_int64(id));
		json_object_object_add(args, "node", json_object_new_string(node));
		json_object_object_add(args, "offset", json_object_new_int64(off));
		rc = call_quiet(c, "debug.dump_part", args, &reply);
		json_object_put(args);
		if (rc < 0) {
			snprintf(err, errlen, "node %s's text: %s", node,
				 jstr(reply, "error") ? jstr(reply, "error") : cd_strerror(rc));
			break;
		}
		t = jstr(reply, "text");
		len = t ? strlen(t) : 0;
		if (!len || off + (int64_t)len > bytes ||
		    jint(reply, "next") != off + (int64_t)len) {
			snprintf(err, errlen, "node %s's text: a piece out of place", node);
			rc = CD_ERR_PROTOCOL;
			break;
		}
		rc = dump_archive_data(ar, t, len, err, errlen);
		off += (int64_t)len;
		json_object_put(reply);
		reply = NULL;
	}
	json_object_put(reply);
	return rc;
}

/* The archive: per node its text and status, then the summary. */
static int write_archive(struct cd_client *c, const char *path, struct json_object *summary,
			 char *err, size_t errlen)
{
	struct json_object *nodes, *e, *st;
	struct dump_archive *ar;
	char top[512], name[300];
	const char *base = strrchr(path, '/'), *text;
	size_t i, len;
	int rc;

	snprintf(top, sizeof(top), "%s", base ? base + 1 : path);
	len = strlen(top);
	if (len > 7 && strcmp(top + len - 7, ".tar.gz") == 0)
		top[len - 7] = '\0';
	rc = dump_archive_open(&ar, path, top, err, errlen);
	if (rc < 0)
		return rc;
	json_object_object_get_ex(summary, "nodes", &nodes);
	for (i = 0; rc == 0 && nodes && i < json_object_array_length(nodes); i++) {
		e = json_object_array_get_idx(nodes, i);
		if (jbool(e, "ok"))
			rc = fetch_text(c, ar, jint(summary, "dump"), jstr(e, "node"),
					jint(e, "bytes"), err, errlen);
		if (rc < 0)
			break;
		/* Its status as clusterctl status --json shows it, and its state version. */
		st = json_object_new_object();
		json_object_object_add(st, "version",
				       json_object_get(json_object_object_get(e, "version")));
		json_object_object_add(st, "status",
				       json_object_get(json_object_object_get(e, "status")));
		if (jstr(e, "error"))
			json_object_object_add(st, "error",
					       json_object_new_string(jstr(e, "error")));
		text = json_object_to_json_string_ext(st, JSON_C_TO_STRING_PRETTY);
		snprintf(name, sizeof(name), "%s-status.json", jstr(e, "node"));
		rc = dump_archive_add(ar, name, text, strlen(text), err, errlen);
		json_object_put(st);
	}
	if (rc == 0) {
		text = json_object_to_json_string_ext(summary, JSON_C_TO_STRING_PRETTY);
		rc = dump_archive_add(ar, "summary.json", text, strlen(text), err, errlen);
	}
	if (dump_archive_close(ar, err, errlen) < 0 && rc == 0)
		rc = -EIO;
	if (rc < 0)
		unlink(path);
	return rc;
}

static void say_result(const char *path, struct json_object *summary)
{
	struct json_object *arr, *e;
	size_t i;

	printf("%s\n", path);
	if (json_object_object_get_ex(summary, "nodes", &arr))
		for (i = 0; i < json_object_array_length(arr); i++) {
			e = json_object_array_get_idx(arr, i);
			if (jbool(e, "ok"))
				fprintf(stderr, "  %s: %lld bytes%s\n", jstr(e, "node"),
					(long long)jint(e, "bytes"),
					jbool(e, "truncated") ? " (the most recent part)" : "");
			else
				fprintf(stderr, "  %s: no blackbox: %s\n", jstr(e, "node"),
					jstr(e, "error") ? jstr(e, "error") : "?");
		}
	if (json_object_object_get_ex(summary, "missing", &arr))
		for (i = 0; i < json_object_array_length(arr); i++) {
			e = json_object_array_get_idx(arr, i);
			fprintf(stderr, "  %s: MISSING: %s\n", jstr(e, "node"), jstr(e, "reason"));
		}
}

int cmd_debug_dump(struct cd_client *c, char **argv, int argc, const struct ctl_opts *o)
{
	struct json_object *args = json_object_new_object(), *reply = NULL, *res;
	char path[512], err[512];
	int64_t deadline = 15000;
	int rc;

	if (o->output)
		snprintf(path, sizeof(path), "%s", o->output);
	else
		dump_default_name(path, sizeof(path), cd_wall_ms());
	/* The members' answers are awaited for --timeout less a second for the rest. */
	if (o->timeout_given)
		deadline = o->timeout_ms > 2000 ? o->timeout_ms - 1000 : 1000;
	if (deadline > 120000)
		deadline = 120000;
	json_object_object_add(args, "deadline_ms", json_object_new_int64(deadline));
	rc = cd_client_call(c, "debug.dump", args, (int)deadline + 15000, &reply);
	json_object_put(args);
	if (rc < 0) {
		say_error(rc, reply);
		json_object_put(reply);
		return rc;
	}
	rc = write_archive(c, path, reply, err, sizeof(err));
	if (rc < 0) {
		fprintf(stderr, "clusterctl: %s\n", err);
		json_object_put(reply);
		return rc;
	}
	if (o->json) {
		res = dump_result_json(path, reply);
		print_json(res);
		json_object_put(res);
	} else {
		say_result(path, reply);
	}
	json_object_put(reply);
	return 0;
}
