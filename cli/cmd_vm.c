/*
 * clusterctl: virtual machines.
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <clusterd/client.h>
#include <clusterd/result.h>

#include "cli/clusterctl.h"
#include "cli/text.h"
#include "lib/jsonget.h"
#include "lib/util.h"

static const char *jstr_or(struct json_object *o, const char *key, const char *def)
{
	const char *v = jstr(o, key);

	return v && *v ? v : def;
}

static void print_vm_row(struct json_object *v, int width)
{
	char mem[32], state[96];

	format_mb(mem, sizeof(mem), jint(v, "memory_mb"));
	printf("%-20s %-*s %-12s %-14s %5lld  %10s  %s\n", jstr(v, "name"), width,
	       text_vm_state(v, state, sizeof(state)), jstr_or(v, "node_name", "-"),
	       jstr(v, "priority"), (long long)jint(v, "vcpus"), mem, jstr(v, "target"));
}

static void show_vm_list(struct json_object *o)
{
	struct json_object *vms = NULL;
	char state[96];
	int width = 10;
	size_t i;

	json_object_object_get_ex(o, "vms", &vms);
	/* A lost node's VMs widen the state column rather than push the rest out of line. */
	for (i = 0; vms && i < json_object_array_length(vms); i++) {
		int w = (int)strlen(
			text_vm_state(json_object_array_get_idx(vms, i), state, sizeof(state)));

		if (w > width)
			width = w;
	}
	printf("%-20s %-*s %-12s %-14s %5s  %10s  %s\n", "VM", width, "STATE", "NODE", "PRIORITY",
	       "VCPUS", "MEMORY", "TARGET");
	for (i = 0; vms && i < json_object_array_length(vms); i++)
		print_vm_row(json_object_array_get_idx(vms, i), width);
}

/* The VMs a page asks for: clusterd's default, or fewer when --limit wants fewer. */
#define VM_PAGE 500

/*
 * clusterd answers the VMs a page at a time (vm.list's "next"): follow the
 * pages until the last, or until --limit has its N, and print them as one
 * list, {"vms": [...]} with --json, as an answer of all VMs at once was.
 */
int cmd_vm_list(struct cd_client *c, char **argv, int argc, const struct ctl_opts *o)
{
	size_t limit = o->limit ? (size_t)strtoull(o->limit, NULL, 10) : SIZE_MAX, got = 0, want, i;
	struct json_object *all = json_object_new_array(), *reply, *args, *vms, *list;
	char after[64] = "";
	int64_t total = 0;
	const char *next;
	int rc;

	do {
		args = json_object_new_object();
		if (after[0])
			json_object_object_add(args, "after", json_object_new_string(after));
		want = limit - got < VM_PAGE ? limit - got : VM_PAGE;
		json_object_object_add(args, "limit", json_object_new_int64((int64_t)want));
		rc = call(c, "vm.list", args, &reply);
		json_object_put(args);
		if (rc < 0) {
			json_object_put(reply);
			json_object_put(all);
			return rc;
		}
		vms = NULL;
		json_object_object_get_ex(reply, "vms", &vms);
		for (i = 0; vms && i < json_object_array_length(vms) && got < limit; i++, got++)
			json_object_array_add(all,
					      json_object_get(json_object_array_get_idx(vms, i)));
		total = jint(reply, "total");
		next = jstr(reply, "next");
		/*
		 * No next (the last page, or an older clusterd that answers all
		 * VMs at once), an empty page or a next that does not move on
		 * ends the walk: it cannot go round forever.
		 */
		if (!vms || !json_object_array_length(vms) || !next || strcmp(next, after) <= 0)
			next = NULL;
		else
			cd_strlcpy(after, next, sizeof(after));
		json_object_put(reply);
	} while (next && got < limit);
	list = json_object_new_object();
	json_object_object_add(list, "vms", all);
	if (o->json)
		print_json(list);
	else
		show_vm_list(list);
	if (!o->json && total > (int64_t)got && o->limit)
		fprintf(stderr, "clusterctl: %lld more VM%s not shown (--limit %s of %lld)\n",
			(long long)(total - (int64_t)got), total - (int64_t)got == 1 ? "" : "s",
			o->limit, (long long)total);
	json_object_put(list);
	return 0;
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

/* The object member key of o, or NULL if absent, null or not an object. */
static struct json_object *jobj(struct json_object *o, const char *key)
{
	struct json_object *v;

	if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_object))
		return NULL;
	return v;
}

/* The move under way and the last one, if the VM has them. */
static void show_moves(struct json_object *v)
{
	struct json_object *m;
	const char *error;
	uint64_t dirty;

	if ((m = jobj(v, "move"))) {
		printf("Move:             %s -> %s (%s), %s", jstr_or(m, "source", "?"),
		       jstr_or(m, "target", "?"), jstr_or(m, "mode", "?"),
		       jstr_or(m, "phase", "?"));
		/* A quick move's memory goes through this file. */
		if (jstr_or(m, "state_file", NULL))
			printf(", state file %s/%s", jstr_or(m, "state_volume", "?"),
			       jstr(m, "state_file"));
		putchar('\n');
	}
	if (!(m = jobj(v, "last_move")))
		return;
	error = jstr_or(m, "error", NULL);
	printf("Last move:        %s %s -> %s (%s)", jstr_or(m, "outcome", "?"),
	       jstr_or(m, "source", "?"), jstr_or(m, "target", "?"), jstr_or(m, "mode", "?"));
	/* What its source measured before the copy, when it did (the drain plan counts it). */
	if (cd_jget_u64(m, "dirty_mib_s", &dirty) == 0)
		printf(", dirtied %" PRIu64 " MiB/s before the copy", dirty);
	printf("%s%s\n", error ? ": " : "", error ? error : "");
}

/*
 * The VM's saved state (vm stop --save, or a quick move that ended saved),
 * which its next start restores, and a save under way. saved_on: the name
 * of the node that saved it.
 */
static void show_saved(struct json_object *v, const char *saved_on)
{
	struct json_object *sv = jobj(v, "saved");
	char size[32], when[CD_TIME_LEN];
	const char *sha;

	if (jbool(v, "stop_save"))
		printf("Saving:           into %s/%s (vm stop --save)\n",
		       jstr_or(v, "save_volume", "?"), jstr_or(v, "save_file", "?"));
	if (!sv)
		return;
	/* Rounded to the nearest MiB. */
	format_mb(size, sizeof(size), (jint(sv, "length") + (1 << 19)) >> 20);
	if (cd_format_wall_ms((uint64_t)jint(sv, "saved_ms"), CD_TIME_LOCAL, when, sizeof(when)) <
	    0)
		snprintf(when, sizeof(when), "?");
	sha = jstr_or(sv, "sha256", "?");
	printf("Saved:            %s/%s, %s, sha256 %.12s%s, on %s at %s\n",
	       jstr_or(sv, "volume", "?"), jstr_or(sv, "file", "?"), size, sha,
	       strlen(sha) > 12 ? "..." : "", saved_on, when);
}

/* v: vm.show's reply; saved_on: the name of the node its saved state is from. */
static void show_vm(struct json_object *v, const char *saved_on)
{
	char mem[32], pref[512], poss[512], macs[1024], state[96];

	format_mb(mem, sizeof(mem), jint(v, "memory_mb"));
	join_names(v, "macs", macs, sizeof(macs));
	join_names(v, "preferred_owners", pref, sizeof(pref));
	join_names(v, "possible_owners", poss, sizeof(poss));
	printf("Name:             %s\n", jstr(v, "name"));
	printf("UUID:             %s\n", jstr_or(v, "uuid", "-"));
	printf("MAC addresses:    %s\n", macs);
	if (jbool(v, "node_lost")) {
		printf("State:            %s, recorded as %s there\n",
		       text_vm_state(v, state, sizeof(state)), jstr_or(v, "state", "?"));
		printf("Failover:         waits for %s\n", jstr_or(v, "waits_for", "?"));
	} else {
		printf("State:            %s%s%s\n", jstr(v, "state"),
		       jstr(v, "node_name") ? " on " : "", jstr_or(v, "node_name", ""));
	}
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
	show_saved(v, saved_on);
	printf("Failures:         %lld\n", (long long)jint(v, "fail_count"));
	if (jstr_or(v, "last_error", NULL))
		printf("Last error:       %s\n", jstr(v, "last_error"));
}

static void show_vm_xml(struct json_object *v)
{
	printf("%s", jstr(v, "xml"));
}

/*
 * The name of the node whose id is id into buf (n bytes), asked of
 * clusterd; "node ID" if it cannot say.
 */
static void node_name(struct cd_client *c, int64_t id, char *buf, size_t n)
{
	struct json_object *reply = NULL, *nodes = NULL, *node;
	size_t i;

	snprintf(buf, n, "node %lld", (long long)id);
	if (call_quiet(c, "node.list", NULL, &reply) == 0 &&
	    json_object_object_get_ex(reply, "nodes", &nodes) &&
	    json_object_is_type(nodes, json_type_array)) {
		for (i = 0; i < json_object_array_length(nodes); i++) {
			node = json_object_array_get_idx(nodes, i);
			if (jint(node, "id") == id && jstr(node, "name"))
				snprintf(buf, n, "%s", jstr(node, "name"));
		}
	}
	json_object_put(reply);
}

/* With --xml: the domain XML only; with --json: the reply. */
int cmd_vm_show(struct cd_client *c, char **argv, int argc, const struct ctl_opts *o)
{
	struct json_object *a, *reply = NULL, *sv;
	char saved_on[80] = "?";
	int rc;

	if (o->xml || o->json)
		return simple(c, "vm.show", args1("name", argv[0]), o->xml ? show_vm_xml : NULL);
	a = args1("name", argv[0]);
	rc = call(c, "vm.show", a, &reply);
	json_object_put(a);
	if (rc == 0) {
		/* The saved state records a node id: the name is node.list's. */
		if ((sv = jobj(reply, "saved")))
			node_name(c, jint(sv, "node"), saved_on, sizeof(saved_on));
		show_vm(reply, saved_on);
	}
	json_object_put(reply);
	return rc;
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

/* What vm remove did with the VM's saved state: its file removed, or what to run. */
static void show_removed(struct json_object *reply)
{
	const char *w = jstr(reply, "warning");

	if (!jstr(reply, "state_file"))
		return;
	if (jbool(reply, "state_file_removed"))
		printf("Saved state discarded: %s/%s removed\n", jstr(reply, "state_volume"),
		       jstr(reply, "state_file"));
	else
		fprintf(stderr, "clusterctl: warning: %s\n",
			w ? w : "its state file is not removed");
}

/*
 * vm remove NAME [--discard-saved]: a VM with a saved state only with
 * --discard-saved (clusterd refuses it otherwise), which removes its
 * state file too.
 */
int cmd_vm_remove(struct cd_client *c, char **argv, int argc, const struct ctl_opts *o)
{
	struct json_object *a = args1("name", argv[0]);

	if (o->discard_saved) {
		json_object_object_add(a, "discard_saved", json_object_new_boolean(true));
		json_object_object_add(a, "timeout_ms",
				       json_object_new_int(opt.timeout_ms > 1000
								   ? opt.timeout_ms - 500
								   : opt.timeout_ms));
	}
	return simple(c, "vm.remove", a, show_removed);
}

/* vm start NAME [--check]: --check says where it would start, or why nowhere, and starts nothing.
 */
int cmd_vm_start(struct cd_client *c, char **argv, int argc, const struct ctl_opts *o)
{
	struct json_object *a = args1("name", argv[0]);

	if (!o->check)
		return simple(c, "vm.start", a, NULL);
	json_object_object_add(a, "start", json_object_new_boolean(true));
	return simple(c, "vm.explain", a, show_explain);
}

/*
 * vm stop NAME [--force | --save] (the parser rules out both): with
 * --save its node saves it into a state file that vm start restores.
 */
int cmd_vm_stop(struct cd_client *c, char **argv, int argc, const struct ctl_opts *o)
{
	struct json_object *a = args1("name", argv[0]);

	json_object_object_add(a, "force", json_object_new_boolean(o->force));
	if (o->save)
		json_object_object_add(a, "save", json_object_new_boolean(true));
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
