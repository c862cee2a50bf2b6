/*
 * clusterctl: fence devices.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include <clusterd/client.h>
#include <clusterd/result.h>

#include "agents/fence_proto.h"
#include "cli/clusterctl.h"
#include "cli/fence_args.h"

/*
 * fence add NAME AGENT [KEY=VALUE...] [--map NODE=PLUG,...]
 * A secret's value may be "-" (standard input) or "@FILE": see
 * cli/fence_args.h.
 */
int cmd_fence_add(struct cd_client *c, char **argv, int argc, const struct ctl_opts *o)
{
	struct json_object *a = args2("name", argv[0], "agent", argv[1]), *params;
	const char *words[24];
	char err[512];
	size_t n = 0;
	int i, rc;

	/* The map as the admin wrote it: clusterd parses it (fencedev_text.h). */
	if (o->map)
		json_object_object_add(a, "map", json_object_new_string(o->map));
	for (i = 2; i < argc && n < sizeof(words) / sizeof(words[0]); i++)
		words[n++] = argv[i];
	rc = cd_fence_args_json(words, n, stdin, stderr, &params, err, sizeof(err));
	if (rc < 0) {
		fprintf(stderr, "clusterctl: %s\n", err);
		json_object_put(a);
		return rc;
	}
	json_object_object_add(a, "params", params);
	return simple(c, "fence.add", a, NULL);
}

int cmd_fence_remove(struct cd_client *c, char **argv, int argc, const struct ctl_opts *o)
{
	return simple(c, "fence.remove", args1("name", argv[0]), NULL);
}

static void show_fence_list(struct json_object *o)
{
	struct json_object *a = NULL;
	size_t i;

	json_object_object_get_ex(o, "fence_devices", &a);
	printf("%-16s %-20s %-24s %s\n", "DEVICE", "AGENT", "NODES", "PARAMETERS");
	for (i = 0; a && i < json_object_array_length(a); i++) {
		struct json_object *d = json_object_array_get_idx(a, i), *nodes = NULL;
		struct json_object *params = NULL;
		char n[256] = "";
		size_t k;

		json_object_object_get_ex(d, "nodes", &nodes);
		for (k = 0; nodes && k < json_object_array_length(nodes); k++)
			snprintf(n + strlen(n), sizeof(n) - strlen(n), "%s%s", k ? "," : "",
				 json_object_get_string(json_object_array_get_idx(nodes, k)));
		printf("%-16s %-20s %-24s ", jstr(d, "name"), jstr(d, "agent"), n[0] ? n : "-");
		/* key=value words in their order; clusterd masked the secrets. */
		k = 0;
		if (json_object_object_get_ex(d, "params", &params) &&
		    json_object_is_type(params, json_type_object)) {
			json_object_object_foreach(params, key, v)
				printf("%s%s=%s", k++ ? " " : "", key, json_object_get_string(v));
		}
		putchar('\n');
	}
}

int cmd_fence_list(struct cd_client *c, char **argv, int argc, const struct ctl_opts *o)
{
	return simple(c, "fence.list", NULL, show_fence_list);
}

static void show_fence_test(struct json_object *o)
{
	printf("ok: power %s (exit %lld, %lld attempt(s))\n", jstr(o, "power"),
	       (long long)jint(o, "exit_status"), (long long)jint(o, "attempts"));
}

int cmd_fence_test(struct cd_client *c, char **argv, int argc, const struct ctl_opts *o)
{
	struct json_object *a = args1("name", argv[0]);

	if (argc == 2)
		json_object_object_add(a, "node", json_object_new_string(argv[1]));
	return simple(c, "fence.test", a, show_fence_test);
}
