/*
 * clusterctl: cluster properties and the event log.
 */
#include "config.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <clusterd/client.h>
#include <clusterd/result.h>

#include "cli/clusterctl.h"
#include "lib/util.h"

static void show_property(struct json_object *o)
{
	printf("%s\n", jstr(o, "value"));
}

int cmd_property_get(struct cd_client *c, char **argv, int argc, const struct ctl_opts *o)
{
	return simple(c, "property.get", args1("key", argv[0]), show_property);
}

int cmd_property_set(struct cd_client *c, char **argv, int argc, const struct ctl_opts *o)
{
	return simple(c, "property.set", args2("key", argv[0], "value", argv[1]), NULL);
}

int cmd_property_delete(struct cd_client *c, char **argv, int argc, const struct ctl_opts *o)
{
	return simple(c, "property.delete", args1("key", argv[0]), NULL);
}

static void show_property_list(struct json_object *o)
{
	struct json_object *p = NULL;

	json_object_object_get_ex(o, "properties", &p);
	if (!p)
		return;
	json_object_object_foreach(p, k, v)
		printf("%s=%s\n", k, json_object_get_string(v));
}

int cmd_property_list(struct cd_client *c, char **argv, int argc, const struct ctl_opts *o)
{
	return simple(c, "property.list", NULL, show_property_list);
}

static void print_events(struct json_object *o)
{
	struct json_object *a = NULL;
	size_t i;

	json_object_object_get_ex(o, "events", &a);
	for (i = 0; a && i < json_object_array_length(a); i++) {
		struct json_object *e = json_object_array_get_idx(a, i);
		char ts[CD_TIME_LEN];

		cd_format_wall_ms((uint64_t)jint(e, "time_ms"), CD_TIME_LOCAL, ts, sizeof(ts));
		if (opt.json)
			printf("%s\n", json_object_to_json_string_ext(e, JSON_C_TO_STRING_PLAIN));
		else
			printf("%s  %-7s %-12s %s\n", ts, jstr(e, "kind"), jstr(e, "subject"),
			       jstr(e, "text"));
	}
	fflush(stdout);
}

/* With --follow: print new events as they come, until interrupted. */
int cmd_events(struct cd_client *c, char **argv, int argc, const struct ctl_opts *o)
{
	bool follow = o->follow;
	int64_t since = 0;
	int rc;

	do {
		struct json_object *a = json_object_new_object(), *reply;

		json_object_object_add(a, "since", json_object_new_int64(since));
		rc = call(c, "events", a, &reply);
		json_object_put(a);
		if (rc < 0) {
			json_object_put(reply);
			return rc;
		}
		if (opt.json && !follow)
			print_json(reply);
		else
			print_events(reply);
		since = jint(reply, "last");
		json_object_put(reply);
		if (follow)
			nanosleep(&(struct timespec){.tv_nsec = 200 * 1000 * 1000}, NULL);
	} while (follow);
	return 0;
}
/*
 * One line a check ("ok   NAME  TEXT"), its fix below it when it is not
 * ok; the worst verdict decides the exit code.
 */
static void print_check(struct json_object *e)
{
	const char *v = jstr(e, "verdict") ? jstr(e, "verdict") : "?";
	const char *fix = jstr(e, "fix");

	printf("%-5s %-16s %s\n", strcmp(v, "fail") == 0 ? "FAIL" : v, jstr(e, "name"),
	       jstr(e, "text") ? jstr(e, "text") : "");
	if (fix && fix[0])
		printf("%-5s %-16s fix: %s\n", "", "", fix);
}

int cmd_cluster_check(struct cd_client *c, char **argv, int argc, const struct ctl_opts *o)
{
	struct json_object *reply = NULL, *a = NULL;
	const char *verdict;
	size_t i, fails = 0, warns = 0;
	int rc = call(c, "cluster.check", NULL, &reply);

	if (rc < 0) {
		json_object_put(reply);
		return rc;
	}
	json_object_object_get_ex(reply, "checks", &a);
	for (i = 0; a && i < json_object_array_length(a); i++) {
		const char *v = jstr(json_object_array_get_idx(a, i), "verdict");

		fails += v && strcmp(v, "fail") == 0;
		warns += v && strcmp(v, "warn") == 0;
	}
	if (opt.json) {
		print_json(reply);
	} else {
		for (i = 0; a && i < json_object_array_length(a); i++)
			print_check(json_object_array_get_idx(a, i));
		if (!jbool(reply, "quorate"))
			printf("\nThis node has no quorum: what it knows of the cluster may be old.\n");
		printf("\n%zu check%s failed, %zu warning%s\n", fails, fails == 1 ? "" : "s", warns,
		       warns == 1 ? "" : "s");
	}
	verdict = jstr(reply, "verdict");
	rc = verdict && strcmp(verdict, "fail") == 0 ? CD_ERR_CHECK_FAILED : 0;
	json_object_put(reply);
	return rc;
}
