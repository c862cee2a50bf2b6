/*
 * clusterctl: the command line for clusterd.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <clusterd/client.h>
#include <clusterd/result.h>

#include "agents/fence_proto.h"
#include "cli/fence_args.h"
#include "lib/util.h"

static struct {
	int json;
	int timeout_ms;
} opt = {.timeout_ms = 15000};

struct command {
	const char *group; /* NULL for top-level commands */
	const char *name;
	int min_args, max_args;
	const char *usage;
	int (*fn)(struct cd_client *c, char **argv, int argc);
};

static void print_json(struct json_object *o)
{
	printf("%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY |
							     JSON_C_TO_STRING_NOSLASHESCAPE));
}

static const char *jstr(struct json_object *o, const char *key)
{
	struct json_object *v;

	if (!json_object_object_get_ex(o, key, &v) || json_object_is_type(v, json_type_null))
		return NULL;
	return json_object_get_string(v);
}

static int64_t jint(struct json_object *o, const char *key)
{
	struct json_object *v;

	if (!json_object_object_get_ex(o, key, &v))
		return 0;
	return json_object_get_int64(v);
}

static int jbool(struct json_object *o, const char *key)
{
	struct json_object *v;

	return json_object_object_get_ex(o, key, &v) && json_object_get_boolean(v);
}

/*
 * One call, with the retries a user expects: while the cluster is
 * re-synchronising after a membership change, a change is retried until
 * the --timeout. Prints the error line on failure.
 */
static int call(struct cd_client *c, const char *cmd, struct json_object *args,
		struct json_object **reply)
{
	uint64_t deadline = cd_now_ms() + (uint64_t)opt.timeout_ms;
	int rc;

	for (;;) {
		uint64_t now = cd_now_ms();
		int left = now < deadline ? (int)(deadline - now) : 1;

		rc = cd_client_call(c, cmd, args, left, reply);
		if ((rc != CD_ERR_SYNCING && rc != CD_ERR_NOT_JOINED) || cd_now_ms() >= deadline)
			break;
		json_object_put(*reply);
		nanosleep(&(struct timespec){.tv_nsec = 100 * 1000 * 1000}, NULL);
	}
	if (rc < 0) {
		const char *e = jstr(*reply, "error");

		if (opt.json)
			print_json(*reply);
		fprintf(stderr, "clusterctl: %s\n", e ? e : cd_strerror(rc));
	}
	return rc;
}

/* Run cmd; print the reply as JSON if asked, else hand it to show(). */
static int simple(struct cd_client *c, const char *cmd, struct json_object *args,
		  void (*show)(struct json_object *reply))
{
	struct json_object *reply;
	int rc = call(c, cmd, args, &reply);

	if (rc == 0) {
		if (opt.json)
			print_json(reply);
		else if (show)
			show(reply);
	}
	json_object_put(reply);
	json_object_put(args);
	return rc;
}

static struct json_object *args1(const char *k, const char *v)
{
	struct json_object *a = json_object_new_object();

	json_object_object_add(a, k, json_object_new_string(v));
	return a;
}

static void format_mb(char *buf, size_t n, int64_t mb)
{
	if (mb >= 1024)
		snprintf(buf, n, "%.1f GiB", (double)mb / 1024.0);
	else
		snprintf(buf, n, "%lld MiB", (long long)mb);
}

static void print_node_table(struct json_object *nodes)
{
	size_t i;

	printf("%-16s %5s  %-12s %5s  %10s  %s\n", "NODE", "ID", "STATE", "CORES", "MEMORY",
	       "CPU");
	for (i = 0; i < json_object_array_length(nodes); i++) {
		struct json_object *n = json_object_array_get_idx(nodes, i), *cap = NULL;
		char mem[32];

		json_object_object_get_ex(n, "capacity", &cap);
		format_mb(mem, sizeof(mem), jint(cap, "memory_mb"));
		printf("%-16s %5lld  %-12s %5lld  %10s  %s%s\n", jstr(n, "name"),
		       (long long)jint(n, "id"), jstr(n, "state"), (long long)jint(cap, "cores"),
		       mem, jstr(cap, "cpu_model") ? jstr(cap, "cpu_model") : "",
		       jbool(n, "local") ? "  (this node)" : "");
	}
}

static void show_status(struct json_object *o)
{
	struct json_object *v = NULL, *nodes = NULL;
	const char *cn = jstr(o, "coordinator_name");

	json_object_object_get_ex(o, "version", &v);
	json_object_object_get_ex(o, "nodes", &nodes);
	printf("Cluster:     %s\n", jstr(o, "cluster_name") ? jstr(o, "cluster_name") : "-");
	printf("Quorum:      %s (%lld of %lld votes, %lld needed)\n",
	       jbool(o, "quorate") ? "quorate" : "NOT QUORATE: changes are refused",
	       (long long)jint(o, "total_votes"), (long long)jint(o, "expected_votes"),
	       (long long)jint(o, "quorum"));
	if (cn)
		printf("Coordinator: %s (id %lld)\n", cn, (long long)jint(o, "coordinator"));
	else
		printf("Coordinator: none\n");
	printf("State:       version %lld.%lld, %s\n", (long long)jint(v, "epoch"),
	       (long long)jint(v, "seq"),
	       jbool(o, "synced") ? "synchronised" : jstr(o, "sync_phase"));
	printf("\n");
	if (nodes)
		print_node_table(nodes);
}

static int cmd_status(struct cd_client *c, char **argv, int argc)
{
	return simple(c, "status", NULL, show_status);
}

static void show_node_list(struct json_object *o)
{
	struct json_object *nodes = NULL;

	json_object_object_get_ex(o, "nodes", &nodes);
	if (nodes)
		print_node_table(nodes);
}

static int cmd_node_list(struct cd_client *c, char **argv, int argc)
{
	return simple(c, "node.list", NULL, show_node_list);
}

static void show_node(struct json_object *n)
{
	struct json_object *cap = NULL, *addrs = NULL;
	char mem[32];
	size_t i;

	json_object_object_get_ex(n, "capacity", &cap);
	json_object_object_get_ex(n, "addresses", &addrs);
	format_mb(mem, sizeof(mem), jint(cap, "memory_mb"));
	printf("Name:        %s\n", jstr(n, "name"));
	printf("Id:          %lld\n", (long long)jint(n, "id"));
	printf("State:       %s%s\n", jstr(n, "state"),
	       jbool(n, "maintenance") ? " (maintenance set)" : "");
	printf("Addresses:  ");
	for (i = 0; addrs && i < json_object_array_length(addrs); i++)
		printf(" %s", json_object_get_string(json_object_array_get_idx(addrs, i)));
	printf("\nCores:       %lld\nMemory:      %s\nCPU model:   %s\n",
	       (long long)jint(cap, "cores"), mem, jstr(cap, "cpu_model"));
}

static int cmd_node_show(struct cd_client *c, char **argv, int argc)
{
	return simple(c, "node.show", args1("node", argv[0]), show_node);
}

static int cmd_node_maintenance(struct cd_client *c, char **argv, int argc)
{
	struct json_object *a;
	int on;

	if (strcmp(argv[1], "on") == 0)
		on = 1;
	else if (strcmp(argv[1], "off") == 0)
		on = 0;
	else {
		fprintf(stderr, "clusterctl: node maintenance takes 'on' or 'off'\n");
		return CD_ERR_INVALID;
	}
	a = args1("node", argv[0]);
	json_object_object_add(a, "on", json_object_new_boolean(on));
	return simple(c, "node.maintenance", a, NULL);
}

static int cmd_node_remove(struct cd_client *c, char **argv, int argc)
{
	return simple(c, "node.remove", args1("node", argv[0]), NULL);
}

static int cmd_node_quarantine(struct cd_client *c, char **argv, int argc)
{
	struct json_object *a;

	if (strcmp(argv[1], "on") != 0 && strcmp(argv[1], "off") != 0) {
		fprintf(stderr, "clusterctl: node quarantine takes 'on' or 'off'\n");
		return CD_ERR_INVALID;
	}
	a = args1("node", argv[0]);
	json_object_object_add(a, "on", json_object_new_boolean(strcmp(argv[1], "on") == 0));
	return simple(c, "node.quarantine", a, NULL);
}

static int cmd_node_confirm_dead(struct cd_client *c, char **argv, int argc)
{
	return simple(c, "node.confirm_dead", args1("node", argv[0]), NULL);
}

static void show_property(struct json_object *o)
{
	printf("%s\n", jstr(o, "value"));
}

static int cmd_property_get(struct cd_client *c, char **argv, int argc)
{
	return simple(c, "property.get", args1("key", argv[0]), show_property);
}

static int cmd_property_set(struct cd_client *c, char **argv, int argc)
{
	struct json_object *a = args1("key", argv[0]);

	json_object_object_add(a, "value", json_object_new_string(argv[1]));
	return simple(c, "property.set", a, NULL);
}

static int cmd_property_delete(struct cd_client *c, char **argv, int argc)
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

static int cmd_property_list(struct cd_client *c, char **argv, int argc)
{
	return simple(c, "property.list", NULL, show_property_list);
}

/* --- vm --- */

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
	       jstr_or(v, "node_name", "-"), jstr(v, "priority"), (long long)jint(v, "vcpus"),
	       mem, jstr(v, "target"));
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

static int cmd_vm_list(struct cd_client *c, char **argv, int argc)
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
	       jstr_or(v, "anti_affinity", NULL) ? (jbool(v, "anti_affinity_hard") ? " (hard)"
										      : " (soft)")
						 : "");
	printf("Failback:         %s\n", jstr(v, "failback"));
	printf("Move mode:        %s\n", jstr(v, "move_mode"));
	printf("Failures:         %lld\n", (long long)jint(v, "fail_count"));
	if (jstr_or(v, "last_error", NULL))
		printf("Last error:       %s\n", jstr(v, "last_error"));
}

static void show_vm_xml(struct json_object *v)
{
	printf("%s", jstr(v, "xml"));
}

static int cmd_vm_show(struct cd_client *c, char **argv, int argc)
{
	if (argc == 2 && strcmp(argv[1], "--xml") != 0) {
		fprintf(stderr, "clusterctl: usage: clusterctl vm show NAME [--xml]\n");
		return CD_ERR_INVALID;
	}
	return simple(c, "vm.show", args1("name", argv[0]), argc == 2 ? show_vm_xml : show_vm);
}

static void show_explain(struct json_object *v)
{
	printf("%s\n", jstr(v, "explanation"));
	if (jstr_or(v, "last_error", NULL))
		printf("last error: %s\n", jstr(v, "last_error"));
}

static int cmd_vm_explain(struct cd_client *c, char **argv, int argc)
{
	return simple(c, "vm.explain", args1("name", argv[0]), show_explain);
}

static int cmd_vm_add(struct cd_client *c, char **argv, int argc)
{
	struct json_object *a;
	char *xml;
	size_t len;
	int rc;

	if (strcmp(argv[1], "--xml") != 0) {
		fprintf(stderr, "clusterctl: usage: clusterctl vm add NAME --xml FILE\n");
		return CD_ERR_INVALID;
	}
	rc = cd_read_file(argv[2], &xml, &len);
	if (rc < 0) {
		fprintf(stderr, "clusterctl: cannot read %s: %s\n", argv[2], cd_strerror(rc));
		return rc == -ENOENT ? CD_ERR_INVALID : rc;
	}
	a = args1("name", argv[0]);
	json_object_object_add(a, "xml", json_object_new_string(xml));
	free(xml);
	return simple(c, "vm.add", a, NULL);
}

static int cmd_vm_remove(struct cd_client *c, char **argv, int argc)
{
	return simple(c, "vm.remove", args1("name", argv[0]), NULL);
}

static int cmd_vm_start(struct cd_client *c, char **argv, int argc)
{
	return simple(c, "vm.start", args1("name", argv[0]), NULL);
}

static int cmd_vm_stop(struct cd_client *c, char **argv, int argc)
{
	struct json_object *a;

	if (argc == 2 && strcmp(argv[1], "--force") != 0) {
		fprintf(stderr, "clusterctl: usage: clusterctl vm stop NAME [--force]\n");
		return CD_ERR_INVALID;
	}
	a = args1("name", argv[0]);
	json_object_object_add(a, "force", json_object_new_boolean(argc == 2));
	return simple(c, "vm.stop", a, NULL);
}

/* Each KEY=VALUE is one change; the first refused one stops the rest. */
static int cmd_vm_set(struct cd_client *c, char **argv, int argc)
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

/* --- volume --- */

/* "10G", "512M", "4096": bytes. Returns 0 or CD_ERR_INVALID. */
static int parse_size(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;
	uint64_t mul = 1;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s)
		return CD_ERR_INVALID;
	switch (*end) {
	case 'k': case 'K': mul = 1ull << 10; end++; break;
	case 'm': case 'M': mul = 1ull << 20; end++; break;
	case 'g': case 'G': mul = 1ull << 30; end++; break;
	case 't': case 'T': mul = 1ull << 40; end++; break;
	default: break;
	}
	if (*end == 'i' || *end == 'B')
		end += (*end == 'i' && end[1] == 'B') ? 2 : 1;
	if (*end || v == 0 || v > UINT64_MAX / mul)
		return CD_ERR_INVALID;
	*out = v * mul;
	return 0;
}

static void format_bytes(char *buf, size_t n, uint64_t b)
{
	if (b >= (1ull << 30))
		snprintf(buf, n, "%.1f GiB", (double)b / (double)(1ull << 30));
	else if (b >= (1ull << 20))
		snprintf(buf, n, "%.1f MiB", (double)b / (double)(1ull << 20));
	else
		snprintf(buf, n, "%llu B", (unsigned long long)b);
}

static void print_files(struct json_object *v)
{
	struct json_object *files = NULL, *local = NULL, *exp = NULL;
	size_t i, k;

	json_object_object_get_ex(v, "files", &files);
	json_object_object_get_ex(v, "local", &local);
	if (local)
		json_object_object_get_ex(local, "exposed", &exp);
	printf("%-24s %12s %14s  %s\n", "FILE", "SIZE", "OFFSET", "PATH");
	for (i = 0; files && i < json_object_array_length(files); i++) {
		struct json_object *f = json_object_array_get_idx(files, i);
		const char *path = "-";
		char size[32];

		for (k = 0; exp && k < json_object_array_length(exp); k++) {
			struct json_object *e = json_object_array_get_idx(exp, k);

			if (strcmp(jstr(e, "file"), jstr(f, "name")) == 0)
				path = jstr(e, "path");
		}
		format_bytes(size, sizeof(size), (uint64_t)jint(f, "size"));
		printf("%-24s %12s %14lld  %s\n", jstr(f, "name"), size, (long long)jint(f, "offset"),
		       path);
	}
}

static void show_volume(struct json_object *v)
{
	struct json_object *local = NULL;

	json_object_object_get_ex(v, "local", &local);
	printf("Volume:       %s\nDevice:       %s\nUUID:         %s\n", jstr(v, "name"),
	       jstr(v, "device"), jstr(v, "uuid"));
	printf("Host slots:   %lld (lease expiry %lld ms, renewal %lld ms)\n",
	       (long long)jint(v, "hosts"), (long long)jint(v, "expiry_ms"),
	       (long long)jint(v, "renewal_ms"));
	printf("Coordinator:  node %lld (holds the metadata lease)\n",
	       (long long)jint(v, "coordinator"));
	if (local)
		printf("This node:    host lease %s (%lld ms left), metadata lease %s\n",
		       jbool(local, "host_lease_valid") ? "valid" : "NOT VALID",
		       (long long)jint(local, "valid_for_ms"),
		       jbool(local, "metadata_lease") ? "held" : "not held");
	printf("\n");
	print_files(v);
}

static void show_volume_list(struct json_object *o)
{
	struct json_object *vols = NULL;
	size_t i;

	json_object_object_get_ex(o, "volumes", &vols);
	printf("%-16s %-24s %6s %6s  %s\n", "VOLUME", "DEVICE", "FILES", "COORD", "HOST LEASE");
	for (i = 0; vols && i < json_object_array_length(vols); i++) {
		struct json_object *v = json_object_array_get_idx(vols, i), *f = NULL, *l = NULL;

		json_object_object_get_ex(v, "files", &f);
		json_object_object_get_ex(v, "local", &l);
		printf("%-16s %-24s %6zu %6lld  %s\n", jstr(v, "name"), jstr(v, "device"),
		       f ? json_object_array_length(f) : 0, (long long)jint(v, "coordinator"),
		       l && jbool(l, "host_lease_valid") ? "valid" : "not valid");
	}
}

static int cmd_volume_add(struct cd_client *c, char **argv, int argc)
{
	struct json_object *a = args1("name", argv[0]);

	json_object_object_add(a, "device", json_object_new_string(argv[1]));
	return simple(c, "volume.add", a, NULL);
}

static int cmd_volume_remove(struct cd_client *c, char **argv, int argc)
{
	return simple(c, "volume.remove", args1("name", argv[0]), NULL);
}

static int cmd_volume_list(struct cd_client *c, char **argv, int argc)
{
	return simple(c, "volume.list", NULL, show_volume_list);
}

static int cmd_volume_show(struct cd_client *c, char **argv, int argc)
{
	return simple(c, "volume.show", args1("name", argv[0]), show_volume);
}

static int cmd_file_list(struct cd_client *c, char **argv, int argc)
{
	return simple(c, "volume.show", args1("name", argv[0]), print_files);
}

static int file_op(struct cd_client *c, const char *fop, char **argv, int argc)
{
	struct json_object *a = args1("name", argv[0]);
	uint64_t size;

	json_object_object_add(a, "fop", json_object_new_string(fop));
	json_object_object_add(a, "file", json_object_new_string(argv[1]));
	if (argc > 2) {
		if (parse_size(argv[2], &size) < 0) {
			fprintf(stderr, "clusterctl: bad size '%s' (e.g. 512M, 10G)\n", argv[2]);
			json_object_put(a);
			return CD_ERR_INVALID;
		}
		json_object_object_add(a, "size", json_object_new_int64((int64_t)size));
	}
	json_object_object_add(a, "timeout_ms",
			       json_object_new_int(opt.timeout_ms > 1000 ? opt.timeout_ms - 500
									 : opt.timeout_ms));
	{
		/*
		 * One id for this request, the same on every retry: the cluster
		 * carries it out once and answers a retry with the first answer.
		 */
		json_object_object_add(a, "request_id",
				       json_object_new_int64((int64_t)cd_random_id()));
	}
	return simple(c, "volume.file", a, NULL);
}

static int cmd_file_create(struct cd_client *c, char **argv, int argc)
{
	return file_op(c, "create", argv, argc);
}

static int cmd_file_remove(struct cd_client *c, char **argv, int argc)
{
	return file_op(c, "remove", argv, argc);
}

static int cmd_file_resize(struct cd_client *c, char **argv, int argc)
{
	return file_op(c, "resize", argv, argc);
}

static int lease_op(struct cd_client *c, bool acquire, char **argv, int argc)
{
	struct json_object *a = args1("name", argv[0]);

	if (argc == 3 && (!acquire || strcmp(argv[2], "--shared") != 0)) {
		fprintf(stderr, "clusterctl: usage: clusterctl volume lease acquire VOL FILE "
				"[--shared]\n");
		json_object_put(a);
		return CD_ERR_INVALID;
	}
	json_object_object_add(a, "file", json_object_new_string(argv[1]));
	json_object_object_add(a, "acquire", json_object_new_boolean(acquire));
	json_object_object_add(a, "shared", json_object_new_boolean(argc == 3));
	return simple(c, "volume.lease", a, NULL);
}

static int cmd_lease_acquire(struct cd_client *c, char **argv, int argc)
{
	return lease_op(c, true, argv, argc);
}

static int cmd_lease_release(struct cd_client *c, char **argv, int argc)
{
	return lease_op(c, false, argv, argc);
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
static int cmd_events(struct cd_client *c, char **argv, int argc)
{
	int follow = argc == 1 && strcmp(argv[0], "--follow") == 0;
	int64_t since = 0;
	int rc;

	if (argc == 1 && !follow) {
		fprintf(stderr, "clusterctl: usage: clusterctl events [--follow]\n");
		return CD_ERR_INVALID;
	}
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

/* --- fence --- */

/*
 * fence add NAME AGENT [KEY=VALUE...] [--map NODE=PLUG,...]
 * A secret's value may be "-" (standard input) or "@FILE": see
 * cli/fence_args.h.
 */
static int cmd_fence_add(struct cd_client *c, char **argv, int argc)
{
	struct json_object *a = args1("name", argv[0]);
	const char *words[24];
	char *params, err[512];
	size_t n = 0;
	int i, rc;

	json_object_object_add(a, "agent", json_object_new_string(argv[1]));
	for (i = 2; i < argc; i++) {
		if (strcmp(argv[i], "--map") == 0 && i + 1 < argc) {
			json_object_object_add(a, "map", json_object_new_string(argv[++i]));
			continue;
		}
		if (n < sizeof(words) / sizeof(words[0]))
			words[n++] = argv[i];
	}
	rc = cd_fence_args_text(words, n, stdin, stderr, &params, err, sizeof(err));
	if (rc < 0) {
		fprintf(stderr, "clusterctl: %s\n", err);
		json_object_put(a);
		return rc;
	}
	json_object_object_add(a, "params", json_object_new_string(params));
	cd_fence_wipe_free(params);
	return simple(c, "fence.add", a, NULL);
}

static int cmd_fence_remove(struct cd_client *c, char **argv, int argc)
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
		char n[256] = "";
		size_t k;

		json_object_object_get_ex(d, "nodes", &nodes);
		for (k = 0; nodes && k < json_object_array_length(nodes); k++)
			snprintf(n + strlen(n), sizeof(n) - strlen(n), "%s%s", k ? "," : "",
				 json_object_get_string(json_object_array_get_idx(nodes, k)));
		printf("%-16s %-20s %-24s %s\n", jstr(d, "name"), jstr(d, "agent"), n[0] ? n : "-",
		       jstr(d, "params"));
	}
}

static int cmd_fence_list(struct cd_client *c, char **argv, int argc)
{
	return simple(c, "fence.list", NULL, show_fence_list);
}

static void show_fence_test(struct json_object *o)
{
	printf("ok: power %s (exit %lld, %lld attempt(s))\n", jstr(o, "power"),
	       (long long)jint(o, "exit_status"), (long long)jint(o, "attempts"));
}

static int cmd_fence_test(struct cd_client *c, char **argv, int argc)
{
	struct json_object *a = args1("name", argv[0]);

	if (argc == 2)
		json_object_object_add(a, "node", json_object_new_string(argv[1]));
	return simple(c, "fence.test", a, show_fence_test);
}

#ifdef CD_TEST_HOOKS
static int cmd_debug_stall(struct cd_client *c, char **argv, int argc)
{
	struct json_object *a = args1("name", argv[0]);
	const char *mode = strcmp(argv[1], "on") == 0 ? "stall" : argv[1];

	if (strcmp(mode, "stall") != 0 && strcmp(mode, "error") != 0 &&
	    strcmp(mode, "off") != 0) {
		fprintf(stderr, "clusterctl: debug volume-stall takes on (renewals stall), "
				"error (every I/O fails) or off\n");
		json_object_put(a);
		return CD_ERR_INVALID;
	}
	json_object_object_add(a, "mode", json_object_new_string(mode));
	return simple(c, "debug.volume_stall", a, NULL);
}
#endif

static const struct command commands[] = {
	{NULL, "status", 0, 0, "status", cmd_status},
	{NULL, "events", 0, 1, "events [--follow]", cmd_events},
	{"node", "list", 0, 0, "node list", cmd_node_list},
	{"node", "show", 1, 1, "node show NODE", cmd_node_show},
	{"node", "maintenance", 2, 2, "node maintenance NODE on|off", cmd_node_maintenance},
	{"node", "remove", 1, 1, "node remove NODE", cmd_node_remove},
	{"node", "quarantine", 2, 2, "node quarantine NODE on|off", cmd_node_quarantine},
	{"node", "confirm-dead", 1, 1, "node confirm-dead NODE (you vouch it is powered off)",
	 cmd_node_confirm_dead},
	{"property", "set", 2, 2, "property set KEY VALUE", cmd_property_set},
	{"property", "get", 1, 1, "property get KEY", cmd_property_get},
	{"property", "list", 0, 0, "property list", cmd_property_list},
	{"property", "delete", 1, 1, "property delete KEY", cmd_property_delete},
	{"vm", "add", 3, 3, "vm add NAME --xml FILE", cmd_vm_add},
	{"vm", "remove", 1, 1, "vm remove NAME", cmd_vm_remove},
	{"vm", "list", 0, 0, "vm list", cmd_vm_list},
	{"vm", "show", 1, 2, "vm show NAME [--xml]", cmd_vm_show},
	{"vm", "start", 1, 1, "vm start NAME", cmd_vm_start},
	{"vm", "stop", 1, 2, "vm stop NAME [--force]", cmd_vm_stop},
	{"vm", "set", 2, 16,
	 "vm set NAME KEY=VALUE... (priority=high|medium|low|no-auto-start, "
	 "preferred-owners=N1,N2, possible-owners=N1,N2, anti-affinity=CLASS[:hard|:soft], "
	 "failback=never|immediately|HH:MM-HH:MM, move-mode=live|quick|cold)",
	 cmd_vm_set},
	{"vm", "explain", 1, 1, "vm explain NAME", cmd_vm_explain},
	{"volume", "add", 2, 2, "volume add NAME DEVICE", cmd_volume_add},
	{"volume", "remove", 1, 1, "volume remove NAME", cmd_volume_remove},
	{"volume", "list", 0, 0, "volume list", cmd_volume_list},
	{"volume", "show", 1, 1, "volume show NAME", cmd_volume_show},
	{"volume file", "create", 3, 3, "volume file create VOL NAME SIZE", cmd_file_create},
	{"volume file", "remove", 2, 2, "volume file remove VOL NAME", cmd_file_remove},
	{"volume file", "resize", 3, 3, "volume file resize VOL NAME SIZE", cmd_file_resize},
	{"volume file", "list", 1, 1, "volume file list VOL", cmd_file_list},
	{"volume lease", "acquire", 2, 3, "volume lease acquire VOL FILE [--shared]",
	 cmd_lease_acquire},
	{"volume lease", "release", 2, 2, "volume lease release VOL FILE", cmd_lease_release},
	{"fence", "add", 2, 24,
	 "fence add NAME AGENT [KEY=VALUE...] [--map NODE=PLUG,...] "
	 "(password=- reads it from stdin, password=@FILE from FILE)",
	 cmd_fence_add},
	{"fence", "remove", 1, 1, "fence remove NAME", cmd_fence_remove},
	{"fence", "list", 0, 0, "fence list", cmd_fence_list},
	{"fence", "test", 1, 2, "fence test NAME [NODE] (status of NODE, or monitor)",
	 cmd_fence_test},
#ifdef CD_TEST_HOOKS
	{"debug", "volume-stall", 2, 2,
	 "debug volume-stall VOL on|error|off (test aid: on stalls host-lease renewals, "
	 "error fails every I/O; only in builds configured with "
	 "--enable-test-hooks)",
	 cmd_debug_stall},
#endif
};
#define N_COMMANDS (sizeof(commands) / sizeof(commands[0]))

static void usage(FILE *f)
{
	size_t i;

	fprintf(f, "usage: clusterctl [--json] [--timeout SECONDS] COMMAND [ARGS]\n\ncommands:\n");
	for (i = 0; i < N_COMMANDS; i++)
		fprintf(f, "  %s\n", commands[i].usage);
	fprintf(f, "\nexit codes: 0 ok, 1 failure, 2 usage, 3 no quorum, 4 not found,\n"
		   "            5 invalid argument, 6 clusterd unreachable or denied, 7 timeout,\n"
		   "            8 lease held by another live host\n"
		   "see clusterctl(8)\n");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"json", no_argument, NULL, 'j'},
		{"timeout", required_argument, NULL, 't'},
		{"help", no_argument, NULL, 'h'},
		{"version", no_argument, NULL, 'V'},
		{NULL, 0, NULL, 0},
	};
	const struct command *cmd = NULL;
	struct cd_client *client;
	char *end, err[512];
	double t;
	size_t i;
	int c, rc, nargs;

	/* "+": options stop at the command, so "property set k -1" works. */
	while ((c = getopt_long(argc, argv, "+jt:hV", opts, NULL)) != -1) {
		switch (c) {
		case 'j':
			opt.json = 1;
			break;
		case 't':
			t = strtod(optarg, &end);
			if (*end || t <= 0 || t > 3600) {
				fprintf(stderr, "clusterctl: --timeout takes seconds (0-3600]\n");
				return CD_EXIT_USAGE;
			}
			opt.timeout_ms = (int)(t * 1000);
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			printf("clusterctl %s\n", PACKAGE_VERSION);
			return 0;
		default:
			usage(stderr);
			return CD_EXIT_USAGE;
		}
	}
	argv += optind;
	argc -= optind;
	/* Allow --json after the command too: clusterctl status --json. */
	for (i = 0; i < (size_t)argc; i++) {
		if (strcmp(argv[i], "--json") == 0) {
			opt.json = 1;
			memmove(&argv[i], &argv[i + 1], (size_t)(argc - (int)i - 1) * sizeof(*argv));
			argc--;
			i--;
		}
	}
	if (argc < 1) {
		usage(stderr);
		return CD_EXIT_USAGE;
	}
	for (i = 0; i < N_COMMANDS && !cmd; i++) {
		char words[64], *w, *save = NULL;
		int k = 0, ok = 1;

		snprintf(words, sizeof(words), "%s%s%s", commands[i].group ? commands[i].group : "",
			 commands[i].group ? " " : "", commands[i].name);
		for (w = strtok_r(words, " ", &save); w && ok; w = strtok_r(NULL, " ", &save), k++)
			ok = k < argc && strcmp(argv[k], w) == 0;
		if (ok) {
			cmd = &commands[i];
			nargs = k;
		}
	}
#ifndef CD_TEST_HOOKS
	if (!cmd && argc >= 2 && strcmp(argv[0], "debug") == 0 &&
	    strcmp(argv[1], "volume-stall") == 0) {
		fprintf(stderr, "clusterctl: debug volume-stall is a test aid, not in this build "
				"(configure --enable-test-hooks)\n");
		return CD_EXIT_USAGE;
	}
#endif
	if (!cmd) {
		fprintf(stderr, "clusterctl: unknown command '%s%s%s' (try clusterctl --help)\n",
			argv[0], argc >= 2 ? " " : "", argc >= 2 ? argv[1] : "");
		return CD_EXIT_USAGE;
	}
	argv += nargs;
	argc -= nargs;
	if (argc < cmd->min_args || argc > cmd->max_args) {
		fprintf(stderr, "clusterctl: usage: clusterctl %s\n", cmd->usage);
		return CD_EXIT_USAGE;
	}
	rc = cd_client_connect(&client, err, sizeof(err));
	if (rc < 0) {
		fprintf(stderr, "clusterctl: %s\n", err);
		return cd_exit_code(rc);
	}
	rc = cmd->fn(client, argv, argc);
	cd_client_close(client);
	return cd_exit_code(rc);
}
