/*
 * clusterctl: the command line for clusterd. This file holds main(), the
 * command table and the calls to clusterd; parse.c reads the command line,
 * cmd_*.c hold the commands.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include <clusterd/client.h>
#include <clusterd/ipc.h>
#include <clusterd/result.h>

#include "cli/clusterctl.h"
#include "lib/util.h"

struct ctl_opts opt;

void print_json(struct json_object *o)
{
	printf("%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY |
								 JSON_C_TO_STRING_NOSLASHESCAPE));
}

void print_event(const char *event, struct json_object *o)
{
	struct json_object *e = json_object_new_object();

	json_object_object_add(e, "event", json_object_new_string(event));
	if (o) {
		json_object_object_foreach(o, k, v)
			json_object_object_add(e, k, json_object_get(v));
	}
	printf("%s\n", json_object_to_json_string_ext(e, JSON_C_TO_STRING_PLAIN |
								 JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(e);
}

void say_answer(const char *event, struct json_object *answer, const char *line,
		const struct ctl_opts *o)
{
	if (o->json && o->wait)
		print_event(event, answer);
	else if (o->json)
		print_json(answer);
	else
		printf("%s\n", line);
	fflush(stdout);
}

size_t terminal_width(void)
{
	struct winsize ws;

	if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) < 0 || ws.ws_col < 20)
		return 79;
	return (size_t)ws.ws_col - 1;
}

const char *jstr(struct json_object *o, const char *key)
{
	struct json_object *v;

	if (!json_object_object_get_ex(o, key, &v) || json_object_is_type(v, json_type_null))
		return NULL;
	return json_object_get_string(v);
}

int64_t jint(struct json_object *o, const char *key)
{
	struct json_object *v;

	if (!json_object_object_get_ex(o, key, &v))
		return 0;
	return json_object_get_int64(v);
}

int jbool(struct json_object *o, const char *key)
{
	struct json_object *v;

	return json_object_object_get_ex(o, key, &v) && json_object_get_boolean(v);
}

/*
 * One call, with the retries a user expects: while the cluster is
 * re-synchronising after a membership change, a change is retried until
 * the --timeout.
 */
int call_quiet(struct cd_client *c, const char *cmd, struct json_object *args,
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
	return rc;
}

void say_error(int rc, struct json_object *reply)
{
	const char *e = jstr(reply, "error");

	if (opt.json)
		print_json(reply);
	fprintf(stderr, "clusterctl: %s\n", e ? e : cd_strerror(rc));
}

/* call_quiet(), and the error line on failure. */
int call(struct cd_client *c, const char *cmd, struct json_object *args, struct json_object **reply)
{
	int rc = call_quiet(c, cmd, args, reply);

	if (rc < 0)
		say_error(rc, *reply);
	return rc;
}

/* Run cmd; print the reply as JSON if asked, else hand it to show(). */
int simple(struct cd_client *c, const char *cmd, struct json_object *args,
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

struct json_object *args1(const char *k, const char *v)
{
	struct json_object *a = json_object_new_object();

	json_object_object_add(a, k, json_object_new_string(v));
	return a;
}

struct json_object *args2(const char *k1, const char *v1, const char *k2, const char *v2)
{
	struct json_object *a = args1(k1, v1);

	json_object_object_add(a, k2, json_object_new_string(v2));
	return a;
}

void format_mb(char *buf, size_t n, int64_t mb)
{
	if (mb >= 1024)
		snprintf(buf, n, "%.1f GiB", (double)mb / 1024.0);
	else
		snprintf(buf, n, "%lld MiB", (long long)mb);
}

/*
 * The message size to ask clusterd for (clusterd/ipc.h): the commands
 * whose answers stay well under CD_IPC_SMALL_MSG (a VM's largest XML is a
 * quarter of it) take that, so that clusterd need not set up 8 MiB rings
 * on its loop for them (some 36 ms each); the lists, the events and the
 * drains' plans take CD_IPC_MAX_MSG.
 */
static size_t answer_size(const struct command *c)
{
	static const char *const small[][2] = {
		{NULL, "status"},	{"property", "set"}, {"property", "get"},
		{"property", "delete"}, {"vm", "add"},	     {"vm", "remove"},
		{"vm", "show"},		{"vm", "start"},     {"vm", "stop"},
		{"vm", "set"},		{"vm", "explain"},   {"vm", "move"},
		{"vm", "import"},	{"node", "show"},    {"node", "maintenance"},
		{"node", "quarantine"}, {"node", "resume"},  {"cluster", "check"},
	};
	size_t i;

	for (i = 0; i < sizeof(small) / sizeof(small[0]); i++)
		if (!strcmp(c->name, small[i][1]) &&
		    (c->group ? small[i][0] && !strcmp(c->group, small[i][0]) : !small[i][0]))
			return CD_IPC_SMALL_MSG;
	return CD_IPC_MAX_MSG;
}

/* Every command: its words, how many arguments, which options, what it does. */
static const struct command commands[] = {
	{NULL, "status", 0, 0, 0, 0, "status", cmd_status},
	{NULL, "events", 0, 0, CTL_OPT_FOLLOW, 0, "events [--follow]", cmd_events},
	{"node", "list", 0, 0, 0, 0, "node list", cmd_node_list},
	{"node", "show", 1, 1, 0, 0, "node show NODE", cmd_node_show},
	{"node", "maintenance", 2, 2, 0, 0, "node maintenance NODE on|off", cmd_node_maintenance},
	{"node", "add", 1, 1, CTL_OPT_CA | CTL_OPT_OUT | CTL_OPT_SSH | CTL_OPT_FETCH, 0,
	 "node add HOST [--ca DIR] [--out DIR] [--ssh [--fetch]] (HOST: NAME or NAME=ADDRESS; "
	 "run on a member: adds HOST to corosync.conf and makes its files under DIR, default "
	 "./add-NAME; --ssh: copies corosync.conf to the members and the files to HOST, then "
	 "corosync-cfgtool -R; --fetch: HOST fetches its files, as cluster join does)",
	 cmd_node_add, true},
	{"node", "remove", 1, 1, CTL_OPT_SSH | CTL_OPT_FORCE, 0,
	 "node remove NODE [--ssh] [--force] (NODE stopped: forgets its record and takes it out "
	 "of corosync.conf here; --ssh: on every member too, then corosync-cfgtool -R; --force: "
	 "its VMs go to failover as if it were confirmed dead)",
	 cmd_node_remove},
	{"node", "quarantine", 2, 2, 0, 0, "node quarantine NODE on|off", cmd_node_quarantine},
	{"node", "confirm-dead", 1, 1, 0, 0, "node confirm-dead NODE (you vouch it is powered off)",
	 cmd_node_confirm_dead},
	{"node", "drain", 1, 1,
	 CTL_OPT_MODE | CTL_OPT_WAIT | CTL_OPT_DRY_RUN | CTL_OPT_CANCEL | CTL_OPT_ABORT |
		 CTL_OPT_STATUS,
	 0,
	 "node drain NODE [--mode live|quick|cold] [--dry-run | --wait [--timeout SECONDS]]; "
	 "node drain NODE --cancel [--abort]; node drain NODE --status (moves every VM off "
	 "NODE and leaves it in maintenance; --dry-run: only the plan)",
	 cmd_node_drain},
	{"node", "resume", 1, 1, CTL_OPT_FAILBACK, 0,
	 "node resume NODE [--failback now|policy|never] (NODE takes VMs again)", cmd_node_resume},
	{"maintenance", "add", 1, 1,
	 CTL_OPT_NODES | CTL_OPT_AT | CTL_OPT_EVERY | CTL_OPT_MODE | CTL_OPT_PRE | CTL_OPT_POST |
		 CTL_OPT_MAX_FAILED | CTL_OPT_WINDOW,
	 CTL_OPT_NODES,
	 "maintenance add NAME --nodes N1,N2,...|all (--at TIME | --every SCHEDULE) "
	 "[--mode live|quick|cold] [--pre CMD] [--post CMD] [--max-failed-nodes K] "
	 "[--window DURATION] (services the nodes one at a time)",
	 cmd_maint_add},
	{"maintenance", "list", 0, 0, 0, 0, "maintenance list", cmd_maint_list},
	{"maintenance", "show", 1, 1, 0, 0, "maintenance show NAME", cmd_maint_show},
	{"maintenance", "run", 2, 2, 0, 0, "maintenance run NAME now", cmd_maint_run},
	{"maintenance", "cancel", 1, 1, 0, 0,
	 "maintenance cancel NAME (the node being serviced is left as it is)", cmd_maint_cancel},
	{"maintenance", "remove", 1, 1, 0, 0, "maintenance remove NAME", cmd_maint_remove},
	{"cluster", "create", 1, 1, CTL_OPT_HOSTS | CTL_OPT_TOKEN | CTL_OPT_OUT | CTL_OPT_SSH,
	 CTL_OPT_HOSTS,
	 "cluster create NAME --nodes HOST1,HOST2,... [--token MS] [--out DIR] [--ssh] "
	 "(HOST: NAME or NAME=ADDRESS; writes each node's corosync.conf, authkey and "
	 "certificates under DIR, default ./NAME; --ssh: also copies them to the nodes as root; "
	 "no clusterd needed)",
	 cmd_cluster_create, true},
	{"cluster", "join", 1, 1, CTL_OPT_CA | CTL_OPT_AS | CTL_OPT_OUT, CTL_OPT_CA,
	 "cluster join HOST --ca DIR [--as NAME[=ADDRESS]] [--out DIR] (run on a new host as "
	 "root: member HOST does node add for it over ssh, DIR being its CA's there; the files "
	 "are fetched and put in place here)",
	 cmd_cluster_join, true},
	{"cluster", "leave", 0, 0, CTL_OPT_AS | CTL_OPT_FORCE, 0,
	 "cluster leave [--as NAME] [--force] (run on a member: stops and disables clusterd and "
	 "corosync here, then another member does node remove --ssh for it over ssh)",
	 cmd_cluster_leave, true},
	{"cluster", "check", 0, 0, 0, 0,
	 "cluster check (every node a member, every node of corosync's nodelist joined, "
	 "corosync.conf alike, crypto on, clocks in step, "
	 "libvirt and QEMU versions, shared volumes seen by every node, a failover path for "
	 "every VM: each ok, warn or FAIL with a fix; exit code 1 if one fails)",
	 cmd_cluster_check},
	{"property", "set", 2, 2, 0, 0, "property set KEY VALUE", cmd_property_set},
	{"property", "get", 1, 1, 0, 0, "property get KEY", cmd_property_get},
	{"property", "list", 0, 0, 0, 0, "property list", cmd_property_list},
	{"property", "delete", 1, 1, 0, 0, "property delete KEY", cmd_property_delete},
	{"vm", "add", 1, 1, CTL_OPT_XML_FILE, CTL_OPT_XML_FILE, "vm add NAME --xml FILE",
	 cmd_vm_add},
	{"vm", "remove", 1, 1, CTL_OPT_DISCARD_SAVED, 0, "vm remove NAME [--discard-saved]",
	 cmd_vm_remove},
	{"vm", "list", 0, 0, CTL_OPT_LIMIT, 0, "vm list [--limit N] (--limit: the first N only)",
	 cmd_vm_list},
	{"vm", "show", 1, 1, CTL_OPT_XML, 0, "vm show NAME [--xml]", cmd_vm_show},
	{"vm", "start", 1, 1, CTL_OPT_CHECK, 0,
	 "vm start NAME [--check] (a saved VM is restored; --check: where it would start)",
	 cmd_vm_start},
	{"vm", "stop", 1, 1, CTL_OPT_FORCE | CTL_OPT_SAVE, 0,
	 "vm stop NAME [--force | --save] (--save: into a state file that vm start restores)",
	 cmd_vm_stop},
	{"vm", "set", 2, 16, 0, 0,
	 "vm set NAME KEY=VALUE... (priority=high|medium|low|no-auto-start, "
	 "preferred-owners=N1,N2, possible-owners=N1,N2, anti-affinity=CLASS[:hard|:soft], "
	 "failback=never|immediately|HH:MM-HH:MM, move-mode=live|quick|cold, "
	 "postcopy=allowed|never, live-fallback=quick|none, cpu=as-defined|cluster-baseline)",
	 cmd_vm_set},
	{"vm", "explain", 1, 1, 0, 0, "vm explain NAME", cmd_vm_explain},
	{"vm", "import", 1, 1, CTL_OPT_NODE | CTL_OPT_CHECK | CTL_OPT_COPY_DISKS, CTL_OPT_NODE,
	 "vm import DOMAIN --node NODE [--check] [--copy-disks VOLUME] (make NODE's libvirt "
	 "domain a cluster VM; a running one is adopted, not restarted; --copy-disks runs on "
	 "NODE)",
	 cmd_vm_import},
	{"vm", "move", 1, 2, CTL_OPT_MODE | CTL_OPT_CHECK | CTL_OPT_WAIT | CTL_OPT_CANCEL, 0,
	 "vm move NAME [NODE] [--mode live|quick|cold] [--check | --wait]; "
	 "vm move NAME --cancel [--wait] (--check: only say what stands in the move's way; "
	 "--wait: follow the move to its end)",
	 cmd_vm_move},
	{"volume", "add", 2, 2, 0, 0, "volume add NAME DEVICE", cmd_volume_add},
	{"volume", "remove", 1, 1, 0, 0, "volume remove NAME", cmd_volume_remove},
	{"volume", "list", 0, 0, 0, 0, "volume list", cmd_volume_list},
	{"volume", "show", 1, 1, 0, 0, "volume show NAME", cmd_volume_show},
	{"volume file", "create", 3, 3, 0, 0, "volume file create VOL NAME SIZE", cmd_file_create},
	{"volume file", "remove", 2, 2, 0, 0, "volume file remove VOL NAME", cmd_file_remove},
	{"volume file", "resize", 3, 3, 0, 0, "volume file resize VOL NAME SIZE", cmd_file_resize},
	{"volume file", "list", 1, 1, 0, 0, "volume file list VOL", cmd_file_list},
	{"volume lease", "acquire", 2, 2, CTL_OPT_SHARED, 0,
	 "volume lease acquire VOL FILE [--shared]", cmd_lease_acquire},
	{"volume lease", "release", 2, 2, 0, 0, "volume lease release VOL FILE", cmd_lease_release},
	{"fence", "add", 2, 24, CTL_OPT_MAP, 0,
	 "fence add NAME AGENT [KEY=VALUE...] [--map NODE=PLUG,...] "
	 "(password=- reads it from stdin, password=@FILE from FILE)",
	 cmd_fence_add},
	{"fence", "remove", 1, 1, 0, 0, "fence remove NAME", cmd_fence_remove},
	{"fence", "list", 0, 0, 0, 0, "fence list", cmd_fence_list},
	{"fence", "test", 1, 2, 0, 0, "fence test NAME [NODE] (status of NODE, or monitor)",
	 cmd_fence_test},
	{"debug", "dump", 0, 0, CTL_OPT_OUTPUT, 0,
	 "debug dump [--output FILE.tar.gz] (every node's blackbox of recent debug messages, "
	 "status and state version in one archive; nodes that do not answer are listed as "
	 "missing)",
	 cmd_debug_dump},
#ifdef CD_TEST_HOOKS
	{"debug", "volume-stall", 2, 2, 0, 0,
	 "debug volume-stall VOL on|error|off (test aid: on stalls host-lease renewals, "
	 "error fails every I/O; only in builds configured with "
	 "--enable-test-hooks)",
	 cmd_debug_stall},
	{"debug", "state-diverge", 0, 0, 0, 0,
	 "debug state-diverge (test aid: changes this node's state without a change, as a bug "
	 "would; only in builds configured with --enable-test-hooks)",
	 cmd_debug_diverge},
#endif
};
#define N_COMMANDS (sizeof(commands) / sizeof(commands[0]))

static void usage(FILE *f)
{
	size_t i;

	fprintf(f, "usage: clusterctl [--json] [--timeout SECONDS] COMMAND [ARGS] [-- ARGS]\n\n"
		   "commands:\n");
	for (i = 0; i < N_COMMANDS; i++)
		fprintf(f, "  %s\n", commands[i].usage);
	fprintf(f, "\nA command's options (--json and --timeout too) may stand anywhere after its\n"
		   "words; an argument that begins with '-' goes after '--':\n"
		   "  clusterctl property set KEY -- -1\n");
	fprintf(f, "\nexit codes: 0 ok, 1 failure, 2 usage, 3 no quorum, 4 not found,\n"
		   "            5 invalid argument, 6 clusterd unreachable or denied, 7 timeout,\n"
		   "            8 lease held by another live host, 9 refused by a check,\n"
		   "            10 not supported by this version, 11 the move did not happen,\n"
		   "            12 the move failed (failover restarts the VM),\n"
		   "            13 the VM was saved (restored where the cluster places it),\n"
		   "            14 the drain ended blocked, 15 the drain was cancelled\n"
		   "see clusterctl(8)\n");
}

int main(int argc, char **argv)
{
	struct ctl_invocation inv;
	struct cd_client *client;
	char err[512];
	int rc;

	switch (ctl_parse(commands, N_COMMANDS, argc, argv, &inv, stderr)) {
	case CTL_PARSE_RUN:
		break;
	case CTL_PARSE_HELP:
		usage(stdout);
		return 0;
	case CTL_PARSE_CMD_HELP:
		printf("usage: clusterctl %s\n", inv.cmd->usage);
		return 0;
	case CTL_PARSE_VERSION:
		printf("clusterctl %s\n", PACKAGE_VERSION);
		return 0;
	case CTL_PARSE_USAGE:
		usage(stderr);
		return CD_EXIT_USAGE;
	case CTL_PARSE_ERROR:
		return CD_EXIT_USAGE;
	}
	opt = inv.opts;
	if (inv.cmd->no_daemon)
		return cd_exit_code(inv.cmd->fn(NULL, inv.argv, inv.argc, &opt));
	rc = cd_client_connect_sized(&client, answer_size(inv.cmd), err, sizeof(err));
	if (rc < 0) {
		fprintf(stderr, "clusterctl: %s\n", err);
		return cd_exit_code(rc);
	}
	rc = inv.cmd->fn(client, inv.argv, inv.argc, &opt);
	cd_client_close(client);
	return cd_exit_code(rc);
}
