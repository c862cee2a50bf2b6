/*
 * clusterctl's parts that need no clusterd: its command line (options
 * anywhere after the command's words, "--", the errors), the exit codes
 * of its own and the time format of its events.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <clusterd/result.h>

#include "check_common.h"
#include "cli/clusterctl.h"
#include "lib/util.h"

/* Commands shaped like clusterctl's own (the parser needs no functions). */
static const struct command table[] = {
	{NULL, "status", 0, 0, 0, 0, "status", NULL},
	{NULL, "events", 0, 0, CTL_OPT_FOLLOW, 0, "events [--follow]", NULL},
	{"property", "set", 2, 2, 0, 0, "property set KEY VALUE", NULL},
	{"vm", "add", 1, 1, CTL_OPT_XML_FILE, CTL_OPT_XML_FILE, "vm add NAME --xml FILE", NULL},
	{"vm", "list", 0, 0, CTL_OPT_LIMIT, 0, "vm list [--limit N]", NULL},
	{"vm", "show", 1, 1, CTL_OPT_XML, 0, "vm show NAME [--xml]", NULL},
	{"vm", "stop", 1, 1, CTL_OPT_FORCE | CTL_OPT_SAVE, 0, "vm stop NAME [--force | --save]",
	 NULL},
	{"vm", "remove", 1, 1, CTL_OPT_DISCARD_SAVED, 0, "vm remove NAME [--discard-saved]", NULL},
	{"vm", "move", 1, 2, CTL_OPT_MODE | CTL_OPT_CHECK | CTL_OPT_WAIT | CTL_OPT_CANCEL, 0,
	 "vm move NAME [NODE] [--mode live|quick|cold] [--check | --wait]", NULL},
	{"volume lease", "acquire", 2, 2, CTL_OPT_SHARED, 0,
	 "volume lease acquire VOL FILE [--shared]", NULL},
	{"volume lease", "release", 2, 2, 0, 0, "volume lease release VOL FILE", NULL},
	{"fence", "add", 2, 24, CTL_OPT_MAP, 0, "fence add NAME AGENT [KEY=VALUE...] [--map MAP]",
	 NULL},
	{"node", "drain", 1, 1,
	 CTL_OPT_MODE | CTL_OPT_WAIT | CTL_OPT_DRY_RUN | CTL_OPT_CANCEL | CTL_OPT_ABORT |
		 CTL_OPT_STATUS,
	 0, "node drain NODE [--mode M] [--dry-run | --wait]", NULL},
	{"node", "resume", 1, 1, CTL_OPT_FAILBACK, 0, "node resume NODE [--failback W]", NULL},
	{"maintenance", "add", 1, 1,
	 CTL_OPT_NODES | CTL_OPT_AT | CTL_OPT_EVERY | CTL_OPT_MODE | CTL_OPT_PRE | CTL_OPT_POST |
		 CTL_OPT_MAX_FAILED | CTL_OPT_WINDOW,
	 CTL_OPT_NODES, "maintenance add NAME --nodes LIST (--at TIME | --every SCHEDULE)", NULL},
	{"maintenance", "run", 2, 2, 0, 0, "maintenance run NAME now", NULL},
	{"cluster", "create", 1, 1, CTL_OPT_HOSTS | CTL_OPT_TOKEN | CTL_OPT_OUT | CTL_OPT_SSH,
	 CTL_OPT_HOSTS, "cluster create NAME --nodes HOSTS [--token MS] [--out DIR] [--ssh]", NULL,
	 true},
};

static struct ctl_invocation inv;
static char *err_text; /* what the last parse said */

/* Parse line, its words split at spaces, as clusterctl's argv. */
static enum ctl_parse_result parse(const char *line)
{
	static char prog[] = "clusterctl", buf[512];
	static char *argv[40];
	enum ctl_parse_result r;
	char *w, *save = NULL;
	size_t len;
	FILE *err;
	int argc = 0;

	free(err_text);
	err = open_memstream(&err_text, &len);
	ck_assert_ptr_nonnull(err);
	cd_strlcpy(buf, line, sizeof(buf));
	argv[argc++] = prog;
	for (w = strtok_r(buf, " ", &save); w; w = strtok_r(NULL, " ", &save))
		argv[argc++] = w;
	argv[argc] = NULL;
	r = ctl_parse(table, sizeof(table) / sizeof(table[0]), argc, argv, &inv, err);
	ck_assert_int_eq(fclose(err), 0);
	return r;
}

/* line parses to command cmd ("group name") with the arguments args (space-separated). */
static void parses_to(const char *line, const char *cmd, const char *args)
{
	char words[512] = "";
	int i;

	ck_assert_msg(parse(line) == CTL_PARSE_RUN, "'%s': %s", line, err_text);
	ck_assert_str_eq(err_text, "");
	snprintf(words, sizeof(words), "%s%s%s", inv.cmd->group ? inv.cmd->group : "",
		 inv.cmd->group ? " " : "", inv.cmd->name);
	ck_assert_str_eq(words, cmd);
	words[0] = '\0';
	for (i = 0; i < inv.argc; i++)
		snprintf(words + strlen(words), sizeof(words) - strlen(words), "%s%s", i ? " " : "",
			 inv.argv[i]);
	ck_assert_str_eq(words, args);
	ck_assert_ptr_null(inv.argv[inv.argc]);
}

/* line is refused with a message holding each of the NULL-terminated says. */
static void refused_with(const char *line, const char **says)
{
	ck_assert_msg(parse(line) == CTL_PARSE_ERROR, "'%s' parsed", line);
	for (; *says; says++)
		ck_assert_msg(strstr(err_text, *says), "'%s' said '%s', not '%s'", line, err_text,
			      *says);
}

/* REFUSED(line, "what the message says", ...) */
#define REFUSED(line, ...) refused_with(line, (const char *[]){__VA_ARGS__, NULL})

START_TEST(test_options_anywhere)
{
	parses_to("vm stop --force web1", "vm stop", "web1");
	ck_assert(inv.opts.force);
	parses_to("vm stop web1 --force", "vm stop", "web1");
	ck_assert(inv.opts.force);
	parses_to("vm stop web1", "vm stop", "web1");
	ck_assert(!inv.opts.force);
	parses_to("volume lease acquire vol1 --shared d1", "volume lease acquire", "vol1 d1");
	ck_assert(inv.opts.shared);
	parses_to("events --follow", "events", "");
	ck_assert(inv.opts.follow);
	/* The same name, with a value for one command and without for another. */
	parses_to("vm add --xml /tmp/web1.xml web1", "vm add", "web1");
	ck_assert_str_eq(inv.opts.xml_file, "/tmp/web1.xml");
	parses_to("vm add web1 --xml=/tmp/w.xml", "vm add", "web1");
	ck_assert_str_eq(inv.opts.xml_file, "/tmp/w.xml");
	parses_to("vm show web1 --xml", "vm show", "web1");
	ck_assert(inv.opts.xml);
	ck_assert_ptr_null(inv.opts.xml_file);
	/* Among KEY=VALUE words; given twice, the last counts. */
	parses_to("fence add --map n1=1 ipmi fence_ipmilan ip=10.0.0.9 --map n1=1,n2=2 password=-",
		  "fence add", "ipmi fence_ipmilan ip=10.0.0.9 password=-");
	ck_assert_str_eq(inv.opts.map, "n1=1,n2=2");
	/* A lone '-' is an argument. */
	parses_to("property set motd -", "property set", "motd -");
}
END_TEST

START_TEST(test_global_options)
{
	parses_to("status", "status", "");
	ck_assert(!inv.opts.json);
	ck_assert_int_eq(inv.opts.timeout_ms, 15000);
	parses_to("--json --timeout 2 status", "status", "");
	ck_assert(inv.opts.json);
	ck_assert_int_eq(inv.opts.timeout_ms, 2000);
	parses_to("status --json --timeout 0.5", "status", "");
	ck_assert(inv.opts.json);
	ck_assert_int_eq(inv.opts.timeout_ms, 500);
	parses_to("vm stop web1 -j", "vm stop", "web1");
	ck_assert(inv.opts.json);
	parses_to("-t 3 property set --json motd hello", "property set", "motd hello");
	ck_assert(inv.opts.json);
	ck_assert_int_eq(inv.opts.timeout_ms, 3000);
	REFUSED("--timeout 0 status", "--timeout takes seconds");
	REFUSED("status --timeout 3601", "--timeout takes seconds");
	REFUSED("status --timeout nan", "--timeout takes seconds");
	/* Global options end at the command's first word. */
	ck_assert_int_eq(parse("--help"), CTL_PARSE_HELP);
	ck_assert_int_eq(parse("--version status"), CTL_PARSE_VERSION);
	ck_assert_int_eq(parse(""), CTL_PARSE_USAGE);
	ck_assert_int_eq(parse("--json"), CTL_PARSE_USAGE);
	ck_assert_int_eq(parse("--bogus status"), CTL_PARSE_USAGE);
	/* Not between the command's words. */
	REFUSED("vm --json stop web1", "unknown command 'vm --json'");
}
END_TEST

START_TEST(test_double_dash)
{
	parses_to("property set motd -- --json", "property set", "motd --json");
	ck_assert(!inv.opts.json);
	parses_to("property set motd -- -1", "property set", "motd -1");
	parses_to("property set -- motd -1", "property set", "motd -1");
	parses_to("--json property set motd -- --", "property set", "motd --");
	ck_assert(inv.opts.json);
	/* Options before it still count. */
	parses_to("vm stop --force -- --web1", "vm stop", "--web1");
	ck_assert(inv.opts.force);
	parses_to("fence add x fence_x --map n1=1 -- opt=--y --map", "fence add",
		  "x fence_x opt=--y --map");
	ck_assert_str_eq(inv.opts.map, "n1=1");
}
END_TEST

START_TEST(test_unknown_option)
{
	REFUSED("property set motd -1", "clusterctl: property set: unknown option '-1'",
		"goes after '--'", "usage: clusterctl property set KEY VALUE");
	REFUSED("property set motd --json-ish", "unknown option '--json-ish'");
	/* Another command's option. */
	REFUSED("vm stop web1 --shared", "vm stop: unknown option '--shared'",
		"usage: clusterctl vm stop NAME [--force | --save]");
	REFUSED("volume lease release vol1 d1 --shared",
		"volume lease release: unknown option '--shared'");
	REFUSED("status -x", "status: unknown option '-x'");
	REFUSED("vm stop --force=yes web1", "vm stop: option '--force' takes no value");
}
END_TEST

START_TEST(test_missing_value)
{
	REFUSED("vm add web1 --xml", "vm add: option '--xml' needs a value",
		"usage: clusterctl vm add NAME --xml FILE");
	REFUSED("fence add x fence_x --map", "fence add: option '--map' needs a value");
	REFUSED("status --timeout", "status: option '--timeout' needs a value");
	/* An option the command cannot do without. */
	REFUSED("vm add web1", "usage: clusterctl vm add NAME --xml FILE");
}
END_TEST

START_TEST(test_arguments_and_commands)
{
	REFUSED("vm stop", "usage: clusterctl vm stop NAME [--force | --save]");
	REFUSED("vm stop --force", "usage: clusterctl vm stop NAME [--force | --save]");
	REFUSED("vm stop web1 web2", "usage: clusterctl vm stop NAME [--force | --save]");
	REFUSED("events x", "usage: clusterctl events [--follow]");
	REFUSED("nosuch thing", "unknown command 'nosuch thing'");
	REFUSED("vm", "unknown command 'vm'");
#ifndef CD_TEST_HOOKS
	REFUSED("debug volume-stall vol1 on",
		"debug volume-stall is a test aid, not in this build");
#endif
	ck_assert_int_eq(parse("vm stop --help"), CTL_PARSE_CMD_HELP);
	ck_assert_str_eq(inv.cmd->usage, "vm stop NAME [--force | --save]");
	/* After "--", --help is an argument too. */
	parses_to("vm stop -- --help", "vm stop", "--help");
}
END_TEST

/*
 * vm move: a target or none, --mode with its value (clusterd checks the
 * value), --check, --json, anywhere after the words; the options are its own.
 */
START_TEST(test_vm_move)
{
	parses_to("vm move web1 --check", "vm move", "web1");
	ck_assert(inv.opts.check);
	ck_assert_ptr_null(inv.opts.mode);
	parses_to("vm move --mode cold web1 node2 --check --json", "vm move", "web1 node2");
	ck_assert_str_eq(inv.opts.mode, "cold");
	ck_assert(inv.opts.check);
	ck_assert(inv.opts.json);
	parses_to("vm move web1 --mode=quick node3", "vm move", "web1 node3");
	ck_assert_str_eq(inv.opts.mode, "quick");
	ck_assert(!inv.opts.check);
	parses_to("vm move web1 --mode live --mode fast", "vm move", "web1");
	ck_assert_str_eq(inv.opts.mode, "fast");
	parses_to("vm move --check -- -web1", "vm move", "-web1");
	REFUSED("vm move web1 --mode", "vm move: option '--mode' needs a value");
	REFUSED("vm move web1 --check=yes", "vm move: option '--check' takes no value");
	REFUSED("vm move --check", "usage: clusterctl vm move NAME [NODE]");
	REFUSED("vm move web1 node2 node3 --check", "usage: clusterctl vm move NAME [NODE]");
	REFUSED("vm move web1 --force", "vm move: unknown option '--force'");
	REFUSED("vm stop web1 --check", "vm stop: unknown option '--check'");
	REFUSED("vm stop web1 --mode cold", "vm stop: unknown option '--mode'");
}
END_TEST

/*
 * vm move --wait follows a move, --cancel stops one: --cancel names the VM
 * only, and --check, which moves nothing, has nothing to wait for.
 */
START_TEST(test_vm_move_wait_cancel)
{
	parses_to("vm move web1 node3 --wait --mode live", "vm move", "web1 node3");
	ck_assert(inv.opts.wait);
	ck_assert(!inv.opts.cancel);
	ck_assert(!inv.opts.check);
	parses_to("vm move --wait --json web1", "vm move", "web1");
	ck_assert(inv.opts.wait);
	ck_assert(inv.opts.json);
	parses_to("vm move web1 --cancel", "vm move", "web1");
	ck_assert(inv.opts.cancel);
	ck_assert(!inv.opts.wait);
	parses_to("vm move --cancel --wait web1 --json", "vm move", "web1");
	ck_assert(inv.opts.cancel);
	ck_assert(inv.opts.wait);
	REFUSED("vm move web1 node3 --cancel",
		"clusterctl: vm move: --cancel takes the VM's name only, without NODE, --mode or "
		"--check",
		"usage: clusterctl vm move NAME [NODE]");
	REFUSED("vm move web1 --cancel --mode cold", "vm move: --cancel takes the VM's name only");
	REFUSED("vm move --check web1 --cancel", "vm move: --cancel takes the VM's name only");
	REFUSED("vm move web1 --check --wait", "vm move: --check only asks");
	REFUSED("vm move web1 --wait=yes", "vm move: option '--wait' takes no value");
	REFUSED("vm move --cancel", "usage: clusterctl vm move NAME [NODE]");
	REFUSED("vm stop web1 --cancel", "vm stop: unknown option '--cancel'");
	REFUSED("vm stop web1 --wait", "vm stop: unknown option '--wait'");
}
END_TEST

/*
 * vm stop --save: its node saves it into a state file; --force powers it
 * off without its memory, so not both. The option is vm stop's own.
 */
START_TEST(test_vm_stop_save)
{
	parses_to("vm stop web1 --save", "vm stop", "web1");
	ck_assert(inv.opts.save && !inv.opts.force);
	parses_to("vm stop --save --json web1", "vm stop", "web1");
	ck_assert(inv.opts.save && inv.opts.json);
	parses_to("vm stop web1", "vm stop", "web1");
	ck_assert(!inv.opts.save);
	/* Before "--" it counts, after it it is an argument. */
	parses_to("vm stop --save -- --web1", "vm stop", "--web1");
	ck_assert(inv.opts.save);
	parses_to("vm stop -- --save", "vm stop", "--save");
	ck_assert(!inv.opts.save);
	REFUSED("vm stop web1 --save --force",
		"clusterctl: vm stop: --save keeps the VM's memory to restore it, --force powers "
		"it off: not both",
		"usage: clusterctl vm stop NAME [--force | --save]");
	REFUSED("vm stop --force web1 --save", "vm stop: --save keeps the VM's memory");
	REFUSED("vm stop web1 --save=yes", "vm stop: option '--save' takes no value");
	REFUSED("vm stop --save", "usage: clusterctl vm stop NAME [--force | --save]");
	REFUSED("vm move web1 --save", "vm move: unknown option '--save'");
	REFUSED("vm show web1 --save", "vm show: unknown option '--save'");
}
END_TEST

/* vm remove --discard-saved: vm remove's own, a flag without a value. */
START_TEST(test_vm_remove_discard_saved)
{
	parses_to("vm remove web1", "vm remove", "web1");
	ck_assert(!inv.opts.discard_saved);
	parses_to("vm remove web1 --discard-saved", "vm remove", "web1");
	ck_assert(inv.opts.discard_saved);
	parses_to("vm remove --discard-saved --json web1", "vm remove", "web1");
	ck_assert(inv.opts.discard_saved && inv.opts.json);
	parses_to("vm remove -- --discard-saved", "vm remove", "--discard-saved");
	ck_assert(!inv.opts.discard_saved);
	REFUSED("vm remove web1 --discard-saved=yes",
		"vm remove: option '--discard-saved' takes no value");
	REFUSED("vm remove --discard-saved", "usage: clusterctl vm remove NAME [--discard-saved]");
	REFUSED("vm stop web1 --discard-saved", "vm stop: unknown option '--discard-saved'");
}
END_TEST

/*
 * node drain: the plan alone (--dry-run), the drain (--wait follows it,
 * --timeout bounds the wait), its cancel (--abort only with --cancel), its
 * status; node resume --failback takes one of three words.
 */
START_TEST(test_node_drain)
{
	parses_to("node drain node2 --dry-run --mode quick", "node drain", "node2");
	ck_assert(inv.opts.dry_run && !inv.opts.wait);
	ck_assert_str_eq(inv.opts.mode, "quick");
	parses_to("node drain --wait node2 --json", "node drain", "node2");
	ck_assert(inv.opts.wait && inv.opts.json && !inv.opts.timeout_given);
	parses_to("node drain node2 --wait --timeout 90", "node drain", "node2");
	ck_assert(inv.opts.timeout_given);
	ck_assert_int_eq(inv.opts.timeout_ms, 90000);
	parses_to("--timeout 2 node drain node2", "node drain", "node2");
	ck_assert(inv.opts.timeout_given);
	parses_to("node drain node2 --cancel --abort", "node drain", "node2");
	ck_assert(inv.opts.cancel && inv.opts.abort_moves);
	parses_to("node drain node2 --cancel", "node drain", "node2");
	ck_assert(inv.opts.cancel && !inv.opts.abort_moves);
	parses_to("node drain node2 --status --json", "node drain", "node2");
	ck_assert(inv.opts.status);
	REFUSED("node drain node2 --cancel --dry-run",
		"clusterctl: node drain: --cancel stops the drain: not with --mode, --wait, "
		"--dry-run or --status",
		"usage: clusterctl node drain NODE");
	REFUSED("node drain node2 --cancel --wait", "node drain: --cancel stops the drain");
	REFUSED("node drain node2 --mode cold --cancel", "node drain: --cancel stops the drain");
	REFUSED("node drain node2 --abort", "node drain: --abort goes with --cancel");
	REFUSED("node drain node2 --wait --abort", "node drain: --abort goes with --cancel");
	REFUSED("node drain node2 --status --wait", "node drain: --status only shows the drain");
	REFUSED("node drain node2 --dry-run --wait", "node drain: --dry-run only plans");
	REFUSED("node drain node2 node3", "usage: clusterctl node drain NODE");
	REFUSED("node drain node2 --failback now", "node drain: unknown option '--failback'");
	/* --abort, --dry-run and --status are node drain's own. */
	REFUSED("vm move web1 --cancel --abort", "vm move: unknown option '--abort'");
	REFUSED("vm move web1 --dry-run", "vm move: unknown option '--dry-run'");
}
END_TEST

START_TEST(test_node_resume)
{
	parses_to("node resume node2", "node resume", "node2");
	ck_assert_ptr_null(inv.opts.failback);
	parses_to("node resume --failback now node2", "node resume", "node2");
	ck_assert_str_eq(inv.opts.failback, "now");
	parses_to("node resume node2 --failback=policy", "node resume", "node2");
	ck_assert_str_eq(inv.opts.failback, "policy");
	parses_to("node resume node2 --failback never", "node resume", "node2");
	ck_assert_str_eq(inv.opts.failback, "never");
	REFUSED("node resume node2 --failback soon",
		"clusterctl: --failback takes now|policy|never, not 'soon'");
	REFUSED("node resume node2 --failback no", "--failback takes now|policy|never");
	REFUSED("node resume node2 --failback nowx", "--failback takes now|policy|never");
	REFUSED("node resume node2 --failback=", "--failback takes now|policy|never");
	REFUSED("node resume node2 --failback", "node resume: option '--failback' needs a value");
	REFUSED("node resume node2 --abort", "node resume: unknown option '--abort'");
}
END_TEST

/* maintenance add: --nodes and one of --at, --every; the shapes of the values; run NAME now. */
START_TEST(test_maintenance)
{
	parses_to("maintenance add weekly --nodes node1,node2 --every=daily --mode quick --pre "
		  "/usr/local/bin/upgrade --post true --max-failed-nodes 2 --window 4h",
		  "maintenance add", "weekly");
	ck_assert_str_eq(inv.opts.nodes, "node1,node2");
	ck_assert_str_eq(inv.opts.every, "daily");
	ck_assert_ptr_null(inv.opts.at);
	ck_assert_str_eq(inv.opts.mode, "quick");
	ck_assert_str_eq(inv.opts.pre, "/usr/local/bin/upgrade");
	ck_assert_str_eq(inv.opts.post, "true");
	ck_assert_str_eq(inv.opts.max_failed, "2");
	ck_assert_str_eq(inv.opts.window, "4h");
	parses_to("maintenance add once --at +2h --nodes all --json", "maintenance add", "once");
	ck_assert_str_eq(inv.opts.at, "+2h");
	ck_assert_str_eq(inv.opts.nodes, "all");
	REFUSED("maintenance add once --at +2h", "usage: clusterctl maintenance add NAME");
	REFUSED("maintenance add once --nodes all",
		"maintenance add: when: --at TIME (once) or --every SCHEDULE (repeatedly)");
	REFUSED("maintenance add once --nodes all --at +1h --every=daily",
		"maintenance add: --at runs it once, --every repeatedly: not both");
	REFUSED("maintenance add once --nodes all --at +1h --max-failed-nodes 0",
		"--max-failed-nodes takes 1 to 32, not '0'");
	REFUSED("maintenance add once --nodes all --at +1h --max-failed-nodes 2x",
		"--max-failed-nodes takes 1 to 32");
	REFUSED("maintenance add once --nodes a,,b --at +1h", "--nodes takes all or 1 to 32");
	REFUSED("maintenance add once --nodes a, --at +1h", "--nodes takes all or 1 to 32");
	REFUSED("maintenance add once --nodes ,a --at +1h", "--nodes takes all or 1 to 32");
	parses_to("maintenance run weekly now", "maintenance run", "weekly now");
	REFUSED("maintenance run weekly", "usage: clusterctl maintenance run NAME now");
	REFUSED("maintenance run weekly later", "maintenance run: say 'now'");
}
END_TEST

/* vm list --limit: a positive number; no other command takes it. */
START_TEST(test_vm_list_limit)
{
	parses_to("vm list", "vm list", "");
	ck_assert_ptr_null(inv.opts.limit);
	parses_to("vm list --limit 20 --json", "vm list", "");
	ck_assert_str_eq(inv.opts.limit, "20");
	ck_assert(inv.opts.json);
	parses_to("--json vm list --limit=1", "vm list", "");
	ck_assert_str_eq(inv.opts.limit, "1");
	REFUSED("vm list --limit 0", "clusterctl: --limit takes a positive number, not '0'");
	REFUSED("vm list --limit -3", "--limit takes a positive number, not '-3'");
	REFUSED("vm list --limit 5x", "--limit takes a positive number, not '5x'");
	REFUSED("vm list --limit 99999999999999999999999", "--limit takes a positive number");
	REFUSED("vm list --limit", "vm list: option '--limit' needs a value");
	REFUSED("vm list web1", "usage: clusterctl vm list [--limit N]");
	REFUSED("vm show web1 --limit 3", "vm show: unknown option '--limit'");
}
END_TEST

/* A check's refusal and an unsupported request have exit codes of their own. */
START_TEST(test_exit_codes)
{
	ck_assert_int_eq(cd_exit_code(CD_ERR_REFUSED), CD_EXIT_REFUSED);
	ck_assert_int_eq(cd_exit_code(-EOPNOTSUPP), CD_EXIT_UNSUPPORTED);
	ck_assert_int_eq(CD_EXIT_REFUSED, 9);
	ck_assert_int_eq(CD_EXIT_UNSUPPORTED, 10);
	ck_assert_str_eq(cd_strerror(CD_ERR_REFUSED),
			 "refused: the check found reasons against it");
}
END_TEST

/* clusterctl events prints local time; csvfs reports print UTC. */
START_TEST(test_time_format)
{
	char t[CD_TIME_LEN];

	setenv("TZ", "UTC", 1);
	tzset();
	ck_assert_int_eq(cd_format_wall_ms(1700000000123ull, CD_TIME_LOCAL, t, sizeof(t)), 0);
	ck_assert_str_eq(t, "2023-11-14 22:13:20.123");
	ck_assert_int_eq(cd_format_wall_ms(1700000000005ull, CD_TIME_UTC, t, sizeof(t)), 0);
	ck_assert_str_eq(t, "2023-11-14T22:13:20.005Z");
	setenv("TZ", "CET-1", 1);
	tzset();
	ck_assert_int_eq(cd_format_wall_ms(1700000000123ull, CD_TIME_LOCAL, t, sizeof(t)), 0);
	ck_assert_str_eq(t, "2023-11-14 23:13:20.123");
	ck_assert_int_eq(cd_format_wall_ms(0, CD_TIME_UTC, t, sizeof(t)), 0);
	ck_assert_str_eq(t, "1970-01-01T00:00:00.000Z");
}
END_TEST

/*
 * cluster create's --nodes is its own (hosts, NAME=ADDRESS, checked by
 * the command), not maintenance add's; --token is checked here.
 */
START_TEST(test_cluster_create)
{
	parses_to("cluster create prod --nodes hv1=192.0.2.1,hv2 --token 1000 --out /tmp/x --ssh",
		  "cluster create", "prod");
	ck_assert_str_eq(inv.opts.hosts, "hv1=192.0.2.1,hv2");
	ck_assert_ptr_null(inv.opts.nodes);
	ck_assert_str_eq(inv.opts.token, "1000");
	ck_assert_str_eq(inv.opts.out, "/tmp/x");
	ck_assert(inv.opts.ssh);
	ck_assert(inv.cmd->no_daemon);
	parses_to("cluster create --nodes a,b prod", "cluster create", "prod");
	ck_assert_ptr_null(inv.opts.token);
	ck_assert(!inv.opts.ssh);
	REFUSED("cluster create prod", "usage: clusterctl cluster create");
	REFUSED("cluster create prod --nodes a,b --token 99", "--token takes 100 to 60000 ms");
	REFUSED("cluster create prod --nodes a,b --token 60001", "--token takes 100 to 60000 ms");
	REFUSED("cluster create prod --nodes a,b --token 1e3", "--token takes");
	REFUSED("cluster create prod --nodes a,b --wait", "unknown option '--wait'");
	REFUSED("maintenance add m --token 1000 --nodes a --at 12:00", "unknown option '--token'");
	/* Other commands still need clusterd. */
	parses_to("vm list", "vm list", "");
	ck_assert(!inv.cmd->no_daemon);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("clusterctl");

	add_tcase(s, test_options_anywhere);
	add_tcase(s, test_global_options);
	add_tcase(s, test_double_dash);
	add_tcase(s, test_unknown_option);
	add_tcase(s, test_missing_value);
	add_tcase(s, test_arguments_and_commands);
	add_tcase(s, test_vm_move);
	add_tcase(s, test_vm_move_wait_cancel);
	add_tcase(s, test_vm_stop_save);
	add_tcase(s, test_vm_remove_discard_saved);
	add_tcase(s, test_node_drain);
	add_tcase(s, test_node_resume);
	add_tcase(s, test_maintenance);
	add_tcase(s, test_vm_list_limit);
	add_tcase(s, test_cluster_create);
	add_tcase(s, test_exit_codes);
	add_tcase(s, test_time_format);
	return run_suite(s);
}
