/*
 * clusterctl: cluster properties and the event log.
 */
#include "config.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
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