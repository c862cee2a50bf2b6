/*
 * clusterctl: the cluster's status and its nodes.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include <clusterd/client.h>
#include <clusterd/result.h>

#include "cli/clusterctl.h"

static void print_node_table(struct json_object *nodes)
{
	size_t i;

	printf("%-16s %5s  %-12s %5s  %10s  %s\n", "NODE", "ID", "STATE", "CORES", "MEMORY", "CPU");
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

/* The drains and maintenance runs under way, a line each. */
static void print_under_way(struct json_object *o)
{
	struct json_object *u = NULL, *d = NULL, *m = NULL;
	size_t i;

	json_object_object_get_ex(o, "under_way", &u);
	json_object_object_get_ex(u, "drains", &d);
	json_object_object_get_ex(u, "maintenance", &m);
	for (i = 0; d && i < json_object_array_length(d); i++) {
		struct json_object *e = json_object_array_get_idx(d, i);

		printf("Drain:       %s (drain %lld, %s first; clusterctl node drain %s --status)\n",
		       jstr(e, "node"), (long long)jint(e, "id"), jstr(e, "mode"), jstr(e, "node"));
	}
	for (i = 0; m && i < json_object_array_length(m); i++) {
		struct json_object *e = json_object_array_get_idx(m, i);

		printf("Maintenance: %s, run %lld: %s at %s, %lld of %lld nodes done\n",
		       jstr(e, "name"), (long long)jint(e, "run"), jstr(e, "node"),
		       jstr(e, "phase"), (long long)jint(e, "done"), (long long)jint(e, "of"));
	}
}

/*
 * The VMs whose node's death the cluster cannot confirm (core/failpath.h),
 * a warning line for each such node: "Warning: 2 VMs have no failover path
 * (vm1, vm2): node3 has no fence device and holds no volume host lease",
 * and one for the VMs with other reasons.
 */
static void print_failover_warnings(struct json_object *o)
{
	struct json_object *vms = NULL, *nodes = NULL;
	size_t i, k, shown = 0;
	long long total = jint(o, "no_failover_path_count");

	json_object_object_get_ex(o, "no_failover_path", &vms);
	json_object_object_get_ex(o, "unconfirmable_nodes", &nodes);
	for (i = 0; vms && nodes && i < json_object_array_length(nodes); i++) {
		struct json_object *n = json_object_array_get_idx(nodes, i);
		const char *name = jstr(n, "node");
		long long count = jint(n, "vms");
		size_t listed = 0;

		if (count <= 0 || !name)
			continue;
		printf("Warning:     %lld VM%s %s no failover path (", count, count == 1 ? "" : "s",
		       count == 1 ? "has" : "have");
		for (k = 0; k < json_object_array_length(vms); k++) {
			struct json_object *v = json_object_array_get_idx(vms, k);

			if (!jstr(v, "node") || strcmp(jstr(v, "node"), name) != 0 ||
			    strcmp(jstr(v, "reason") ? jstr(v, "reason") : "", "node") != 0)
				continue;
			printf("%s%s", listed ? ", " : "", jstr(v, "vm"));
			listed++;
		}
		if ((long long)listed < count)
			printf("%s...", listed ? ", " : "");
		printf("): %s %s\n", name, jstr(n, "text") ? jstr(n, "text") : "");
		shown += (size_t)count;
	}
	if (total > (long long)shown)
		printf("Warning:     %lld more VM%s no failover path (clusterctl cluster check)\n",
		       total - (long long)shown, total - (long long)shown == 1 ? " has" : "s have");
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
	print_under_way(o);
	print_failover_warnings(o);
	printf("\n");
	if (nodes)
		print_node_table(nodes);
}

int cmd_status(struct cd_client *c, char **argv, int argc, const struct ctl_opts *o)
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

int cmd_node_list(struct cd_client *c, char **argv, int argc, const struct ctl_opts *o)
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

int cmd_node_show(struct cd_client *c, char **argv, int argc, const struct ctl_opts *o)
{
	return simple(c, "node.show", args1("node", argv[0]), show_node);
}

int cmd_node_maintenance(struct cd_client *c, char **argv, int argc, const struct ctl_opts *o)
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

int cmd_node_quarantine(struct cd_client *c, char **argv, int argc, const struct ctl_opts *o)
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

int cmd_node_confirm_dead(struct cd_client *c, char **argv, int argc, const struct ctl_opts *o)
{
	return simple(c, "node.confirm_dead", args1("node", argv[0]), NULL);
}
#ifdef CD_TEST_HOOKS
int cmd_debug_diverge(struct cd_client *c, char **argv, int argc, const struct ctl_opts *o)
{
	return simple(c, "debug.state_diverge", NULL, NULL);
}
#endif
