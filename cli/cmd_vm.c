/*
 * clusterctl: virtual machines.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <clusterd/client.h>
#include <clusterd/result.h>

#include "cli/clusterctl.h"
#include "lib/util.h"

static const char *jstr_or(struct json_object *o, const char *key, const char *def)
{
	const char *v = jstr(o, key);

	return v && *v ? v : def;
}

static void print_vm_row(struct json_object *v)
{
	char mem[32];

	format_mb(mem, sizeof(mem), jint(v, "memory_mb"));
	printf("%-20s %-10s %-12s %-14s %5lld  %10s  %s\n", jstr(v, "name"), jstr(v, "state"),
	       jstr_or(v, "node_name", "-"), jstr(v, "priority"), (long long)jint(v, "vcpus"), mem,
	       jstr(v, "target"));
}

static void show_vm_list(struct json_object *o)
{
	struct json_object *vms = NULL;
	size_t i;

	json_object_object_get_ex(o, "vms", &vms);
	printf("%-20s %-10s %-12s %-14s %5s  %10s  %s\n", "VM", "STATE", "NODE", "PRIORITY",
	       "VCPUS", "MEMORY", "TARGET");
	for (i = 0; vms && i < json_object_array_length(vms); i++)
		print_vm_row(json_object_array_get_idx(vms, i));
}

int cmd_vm_list(struct cd_client *c, char **argv, int argc, const struct ctl_opts *o)
{
	return simple(c, "vm.list", NULL, show_vm_list);
}

static void join_names(struct json_object *o, const char *key, char *buf, size_t n)
{
	struct json_object *a = NULL;
	size_t i;

	buf[0] = '\0';
	json_object_object_get_ex(o, key, &a);
	for (i = 0; a && i < json_object_array_length(a); i++)
		snprintf(buf + strlen(buf), n - strlen(buf), "%s%s", i ? "," : "",
			 json_object_get_string(json_object_array_get_idx(a, i)));
	if (!buf[0])
		snprintf(buf, n, "-");
}

/* The move under way and the last one, if the VM has them. */
static void show_moves(struct json_object *v)
{
	struct json_object *m = NULL;
	const char *error;

	if (json_object_object_get_ex(v, "move", &m) && json_object_is_type(m, json_type_object))
		printf("Move:             %s -> %s (%s), %s\n", jstr_or(m, "source", "?"),
		       jstr_or(m, "target", "?"), jstr_or(m, "mode", "?"),
		       jstr_or(m, "phase", "?"));
	if (!json_object_object_get_ex(v, "last_move", &m) ||
	    !json_object_is_type(m, json_type_object))
		return;
	error = jstr_or(m, "error", NULL);
	printf("Last move:        %s %s -> %s (%s)%s%s\n", jstr_or(m, "outcome", "?"),
	       jstr_or(m, "source", "?"), jstr_or(m, "target", "?"), jstr_or(m, "mode", "?"),
	       error ? ": " : "", error ? error : "");
}

static void show_vm(struct json_object *v)
{
	char mem[32], pref[512], poss[512], macs[1024];

	format_mb(mem, sizeof(mem), jint(v, "memory_mb"));
	join_names(v, "macs", macs, sizeof(macs));
	join_names(v, "preferred_owners", pref, sizeof(pref));
	join_names(v, "possible_owners", poss, sizeof(poss));
	printf("Name:             %s\n", jstr(v, "name"));
	printf("UUID:             %s\n", jstr_or(v, "uuid", "-"));
	printf("MAC addresses:    %s\n", macs);
	printf("State:            %s%s%s\n", jstr(v, "state"), jstr(v, "node_name") ? " on " : "",
	       jstr_or(v, "node_name", ""));
	printf("Target:           %s\n", jstr(v, "target"));
	printf("vCPUs, memory:    %lld, %s\n", (long long)jint(v, "vcpus"), mem);
	printf("Priority:         %s\n", jstr(v, "priority"));
	printf("Preferred owners: %s\n", pref);
	printf("Possible owners:  %s\n", poss);
	printf("Anti-affinity:    %s%s\n", jstr_or(v, "anti_affinity", "-"),
	       jstr_or(v, "anti_affinity", NULL)
		       ? (jbool(v, "anti_affinity_hard") ? " (hard)" : " (soft)")
		       : "");
	printf("Failback:         %s\n", jstr(v, "failback"));
	printf("Move mode:        %s (post-copy %s, live fallback %s)\n", jstr(v, "move_mode"),
	       jstr_or(v, "postcopy", "never"), jstr_or(v, "live_fallback", "quick"));
	printf("CPU:              %s\n", jstr_or(v, "cpu", "as-defined"));
	show_moves(v);
	printf("Failures:         %lld\n", (long long)jint(v, "fail_count"));
	if (jstr_or(v, "last_error", NULL))
		printf("Last error:       %s\n", jstr(v, "last_error"));
}

static void show_vm_xml(struct json_object *v)
{
	printf("%s", jstr(v, "xml"));
}

/* With --xml: the domain XML only. */
int cmd_vm_show(struct cd_client *c, char **argv, int argc, const struct ctl_opts *o)
{
	return simple(c, "vm.show", args1("name", argv[0]), o->xml ? show_vm_xml : show_vm);
}

static void show_explain(struct json_object *v)
{
	printf("%s\n", jstr(v, "explanation"));
	if (jstr_or(v, "last_error", NULL))
		printf("last error: %s\n", jstr(v, "last_error"));
}

int cmd_vm_explain(struct cd_client *c, char **argv, int argc, const struct ctl_opts *o)
{
	return simple(c, "vm.explain", args1("name", argv[0]), show_explain);
}

/* vm add NAME --xml FILE (the parser requires --xml). */
int cmd_vm_add(struct cd_client *c, char **argv, int argc, const struct ctl_opts *o)
{
	struct json_object *a;
	char *xml;
	size_t len;
	int rc;

	rc = cd_read_file(o->xml_file, &xml, &len);
	if (rc < 0) {
		fprintf(stderr, "clusterctl: cannot read %s: %s\n", o->xml_file, cd_strerror(rc));
		return rc == -ENOENT ? CD_ERR_INVALID : rc;
	}
	a = args1("name", argv[0]);
	json_object_object_add(a, "xml", json_object_new_string(xml));
	free(xml);
	return simple(c, "vm.add", a, NULL);
}

int cmd_vm_remove(struct cd_client *c, char **argv, int argc, const struct ctl_opts *o)
{
	return simple(c, "vm.remove", args1("name", argv[0]), NULL);
}

int cmd_vm_start(struct cd_client *c, char **argv, int argc, const struct ctl_opts *o)
{
	return simple(c, "vm.start", args1("name", argv[0]), NULL);
}

int cmd_vm_stop(struct cd_client *c, char **argv, int argc, const struct ctl_opts *o)
{
	struct json_object *a = args1("name", argv[0]);

	json_object_object_add(a, "force", json_object_new_boolean(o->force));
	return simple(c, "vm.stop", a, NULL);
}

/* Each KEY=VALUE is one change; the first refused one stops the rest. */
int cmd_vm_set(struct cd_client *c, char **argv, int argc, const struct ctl_opts *o)
{
	int i, rc = 0;

	for (i = 1; i < argc && rc == 0; i++) {
		char *eq = strchr(argv[i], '=');
		struct json_object *a;

		if (!eq || eq == argv[i]) {
			fprintf(stderr, "clusterctl: vm set takes KEY=VALUE, not '%s'\n", argv[i]);
			return CD_ERR_INVALID;
		}
		*eq = '\0';
		a = args1("name", argv[0]);
		json_object_object_add(a, "key", json_object_new_string(argv[i]));
		json_object_object_add(a, "value", json_object_new_string(eq + 1));
		rc = simple(c, "vm.set", a, NULL);
	}
	return rc;
}
