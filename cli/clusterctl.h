/*
 * clusterctl's parts: main(), the command table and the calls to clusterd
 * (clusterctl.c), the command line parser (parse.c) and the commands by
 * subject (cmd_*.c).
 */
#ifndef CD_CLUSTERCTL_H
#define CD_CLUSTERCTL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <json-c/json.h>

struct cd_client;

/* The options of one command line: the global ones and the command's own. */
struct ctl_opts {
	bool json;	      /* --json */
	int timeout_ms;	      /* --timeout SECONDS */
	bool timeout_given;   /* --timeout was given (node drain --wait gives up after it) */
	bool force;	      /* vm stop --force */
	bool save;	      /* vm stop --save */
	bool shared;	      /* volume lease acquire --shared */
	bool follow;	      /* events --follow */
	bool xml;	      /* vm show --xml */
	const char *xml_file; /* vm add --xml FILE */
	const char *map;      /* fence add --map NODE=PLUG,... */
	const char *mode;     /* vm move, node drain --mode live|quick|cold */
	bool check;	      /* vm move --check */
	bool wait;	      /* vm move, node drain --wait */
	bool cancel;	      /* vm move, node drain --cancel */
	bool dry_run;	      /* node drain --dry-run */
	bool abort_moves;     /* node drain --cancel --abort */
	bool status;	      /* node drain --status */
	const char *failback; /* node resume --failback now|policy|never */
	/* maintenance add */
	const char *nodes;	/* --nodes N1,N2,...|all */
	const char *at;		/* --at TIME */
	const char *every;	/* --every SCHEDULE */
	const char *pre;	/* --pre CMD */
	const char *post;	/* --post CMD */
	const char *max_failed; /* --max-failed-nodes K (checked: 1 to 32) */
	const char *window;	/* --window DURATION */
	const char *limit;	/* vm list --limit N (checked: a positive number) */
	/* cluster create */
	const char *hosts; /* --nodes HOST1,HOST2,... */
	const char *token; /* --token MS (checked: a number in corosync_conf.h's range) */
	const char *out;   /* --out DIR */
	bool ssh;	   /* --ssh */
	/* vm import */
	const char *node;	/* --node NODE */
	const char *copy_disks; /* --copy-disks VOLUME */
	/* debug dump */
	const char *output; /* --output FILE.tar.gz */
	/* node add, cluster join and leave */
	const char *ca; /* --ca DIR (the CA's ca.crt and ca.key) */
	bool fetch;	/* node add --fetch (the new host fetches its files: cluster join) */
	const char *as; /* --as NAME[=ADDRESS] (this host) */
	/* vm remove */
	bool discard_saved; /* --discard-saved (its saved state is lost, its file removed) */
};

/*
 * The options a command takes besides --json, --timeout and --help (which
 * every command takes): struct command's opts, and required for those it
 * cannot do without.
 */
#define CTL_OPT_FORCE (UINT64_C(1) << 0)
#define CTL_OPT_SHARED (UINT64_C(1) << 1)
#define CTL_OPT_FOLLOW (UINT64_C(1) << 2)
#define CTL_OPT_XML (UINT64_C(1) << 3)	    /* --xml alone */
#define CTL_OPT_XML_FILE (UINT64_C(1) << 4) /* --xml FILE */
#define CTL_OPT_MAP (UINT64_C(1) << 5)
#define CTL_OPT_MODE (UINT64_C(1) << 6)
#define CTL_OPT_CHECK (UINT64_C(1) << 7)
#define CTL_OPT_WAIT (UINT64_C(1) << 8)
#define CTL_OPT_CANCEL (UINT64_C(1) << 9)
#define CTL_OPT_SAVE (UINT64_C(1) << 10)
#define CTL_OPT_DRY_RUN (UINT64_C(1) << 11)
#define CTL_OPT_ABORT (UINT64_C(1) << 12)
#define CTL_OPT_STATUS (UINT64_C(1) << 13)
#define CTL_OPT_FAILBACK (UINT64_C(1) << 14)
#define CTL_OPT_NODES (UINT64_C(1) << 15)
#define CTL_OPT_AT (UINT64_C(1) << 16)
#define CTL_OPT_EVERY (UINT64_C(1) << 17)
#define CTL_OPT_PRE (UINT64_C(1) << 18)
#define CTL_OPT_POST (UINT64_C(1) << 19)
#define CTL_OPT_MAX_FAILED (UINT64_C(1) << 20)
#define CTL_OPT_WINDOW (UINT64_C(1) << 21)
#define CTL_OPT_LIMIT (UINT64_C(1) << 22)
#define CTL_OPT_HOSTS (UINT64_C(1) << 23) /* --nodes HOST,... (cluster create's) */
#define CTL_OPT_TOKEN (UINT64_C(1) << 24)
#define CTL_OPT_OUT (UINT64_C(1) << 25)
#define CTL_OPT_SSH (UINT64_C(1) << 26)
#define CTL_OPT_NODE (UINT64_C(1) << 27)
#define CTL_OPT_COPY_DISKS (UINT64_C(1) << 28)
#define CTL_OPT_OUTPUT (UINT64_C(1) << 29) /* --output FILE */
#define CTL_OPT_CA (UINT64_C(1) << 30)
#define CTL_OPT_FETCH (UINT64_C(1) << 31)
#define CTL_OPT_AS (UINT64_C(1) << 32)
#define CTL_OPT_DISCARD_SAVED (UINT64_C(1) << 33)

/* The most arguments a command takes (after its words, without options). */
#define CTL_MAX_ARGS 24

struct command {
	const char *group; /* NULL for top-level commands; may be two words */
	const char *name;
	int min_args, max_args; /* max_args <= CTL_MAX_ARGS */
	uint64_t opts, required;
	const char *usage;
	/* argv: the argc arguments; o: the options given. */
	int (*fn)(struct cd_client *c, char **argv, int argc, const struct ctl_opts *o);
	/* Runs without clusterd (before the cluster exists): fn gets c NULL. */
	bool no_daemon;
};

/* One command line, parsed. */
struct ctl_invocation {
	const struct command *cmd;
	char *argv[CTL_MAX_ARGS + 1]; /* the arguments, NULL-terminated */
	int argc;
	struct ctl_opts opts;
};

enum ctl_parse_result {
	CTL_PARSE_RUN,	    /* run inv->cmd */
	CTL_PARSE_HELP,	    /* --help before the command: the usage on stdout */
	CTL_PARSE_CMD_HELP, /* --help after it: inv->cmd's usage on stdout */
	CTL_PARSE_VERSION,  /* --version */
	CTL_PARSE_USAGE,    /* no command, or a bad option before it: the usage on stderr */
	CTL_PARSE_ERROR,    /* a bad command line, said on err */
};

/*
 * Parse argv (argc words, argv[0] the program) against the n commands of
 * table into inv:
 *
 *     clusterctl [GLOBAL OPTIONS] COMMAND WORDS [OPTIONS AND ARGUMENTS] [-- ARGUMENTS]
 *
 * Global options (--json, --timeout SECONDS, --help, --version) stop at the
 * first word that is not one. After the command's words, its options may
 * stand anywhere among its arguments; "--" ends them, so that an argument
 * that begins with '-' goes after it. Unless the result is CTL_PARSE_RUN
 * or CTL_PARSE_CMD_HELP, inv->cmd may be NULL. Errors are written to err,
 * except those getopt itself writes to stderr for a bad global option.
 * Uses getopt_long(): not reentrant.
 */
enum ctl_parse_result ctl_parse(const struct command *table, size_t n, int argc, char **argv,
				struct ctl_invocation *inv, FILE *err);

/* The options main() parsed, for call() and the printers. */
extern struct ctl_opts opt;

/* Calls to clusterd and JSON helpers (clusterctl.c). */
void print_json(struct json_object *o);
const char *jstr(struct json_object *o, const char *key);
int64_t jint(struct json_object *o, const char *key);
int jbool(struct json_object *o, const char *key);
int call(struct cd_client *c, const char *cmd, struct json_object *args,
	 struct json_object **reply);
/*
 * call() that leaves the failure to the caller: say_error() says it as
 * call() would (reply is the failed call's).
 */
int call_quiet(struct cd_client *c, const char *cmd, struct json_object *args,
	       struct json_object **reply);
void say_error(int rc, struct json_object *reply);
int simple(struct cd_client *c, const char *cmd, struct json_object *args,
	   void (*show)(struct json_object *reply));
/* The arguments {k: v} and {k1: v1, k2: v2}. */
struct json_object *args1(const char *k, const char *v);
struct json_object *args2(const char *k1, const char *v1, const char *k2, const char *v2);
void format_mb(char *buf, size_t n, int64_t mb);
/* One JSON line: {"event": event, and o's members (o may be NULL)}. */
void print_event(const char *event, struct json_object *o);
/*
 * clusterd's answer to a command that may go on to --wait: with --json and
 * --wait, the first JSON line (event), with --json alone the answer, else
 * line.
 */
void say_answer(const char *event, struct json_object *answer, const char *line,
		const struct ctl_opts *o);
/* The terminal's width, less one column so that a line never wraps. */
size_t terminal_width(void);

/* The commands: each returns 0 or a negative result code. */
#define CTL_COMMAND(fn) int fn(struct cd_client *c, char **argv, int argc, const struct ctl_opts *o)

/* cmd_node.c */
CTL_COMMAND(cmd_status);
CTL_COMMAND(cmd_node_list);
CTL_COMMAND(cmd_node_show);
CTL_COMMAND(cmd_node_maintenance);
CTL_COMMAND(cmd_node_quarantine);
CTL_COMMAND(cmd_node_confirm_dead);
/* cmd_drain.c */
CTL_COMMAND(cmd_node_drain);
CTL_COMMAND(cmd_node_resume);
/* cmd_maint.c */
CTL_COMMAND(cmd_maint_add);
CTL_COMMAND(cmd_maint_list);
CTL_COMMAND(cmd_maint_show);
CTL_COMMAND(cmd_maint_run);
CTL_COMMAND(cmd_maint_cancel);
CTL_COMMAND(cmd_maint_remove);
/* cmd_debug.c */
CTL_COMMAND(cmd_debug_dump);
/* cmd_cluster.c */
CTL_COMMAND(cmd_events);
CTL_COMMAND(cmd_cluster_check);
/* cmd_member.c */
CTL_COMMAND(cmd_node_add);
CTL_COMMAND(cmd_node_remove);
CTL_COMMAND(cmd_cluster_join);
CTL_COMMAND(cmd_cluster_leave);
/* cmd_create.c */
CTL_COMMAND(cmd_cluster_create);
CTL_COMMAND(cmd_property_get);
CTL_COMMAND(cmd_property_set);
CTL_COMMAND(cmd_property_delete);
CTL_COMMAND(cmd_property_list);
/* cmd_vm.c */
CTL_COMMAND(cmd_vm_add);
CTL_COMMAND(cmd_vm_remove);
CTL_COMMAND(cmd_vm_list);
CTL_COMMAND(cmd_vm_show);
CTL_COMMAND(cmd_vm_start);
CTL_COMMAND(cmd_vm_stop);
CTL_COMMAND(cmd_vm_set);
CTL_COMMAND(cmd_vm_explain);
/* cmd_move.c */
CTL_COMMAND(cmd_vm_move);
/* cmd_import.c */
CTL_COMMAND(cmd_vm_import);
/* cmd_volume.c */
CTL_COMMAND(cmd_volume_add);
CTL_COMMAND(cmd_volume_remove);
CTL_COMMAND(cmd_volume_list);
CTL_COMMAND(cmd_volume_show);
CTL_COMMAND(cmd_file_create);
CTL_COMMAND(cmd_file_remove);
CTL_COMMAND(cmd_file_resize);
CTL_COMMAND(cmd_file_list);
CTL_COMMAND(cmd_lease_acquire);
CTL_COMMAND(cmd_lease_release);
#ifdef CD_TEST_HOOKS
CTL_COMMAND(cmd_debug_stall);
CTL_COMMAND(cmd_debug_diverge);
#endif
/* cmd_fence.c */
CTL_COMMAND(cmd_fence_add);
CTL_COMMAND(cmd_fence_remove);
CTL_COMMAND(cmd_fence_list);
CTL_COMMAND(cmd_fence_test);

#endif
