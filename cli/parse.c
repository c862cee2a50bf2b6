/*
 * clusterctl's command line: the global options, the command's words, then
 * the command's own options and its arguments in any order, up to "--"
 * (see ctl_parse() in clusterctl.h). Nothing here talks to clusterd.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "cli/clusterctl.h"
#include "lib/corosync_conf.h"

/* Where an option is taken besides the commands whose opts name it. */
#define BEFORE_COMMAND (1u << 30) /* before the command's words */
#define IN_COMMAND (1u << 31)	  /* among any command's options */

/* getopt_long()'s codes for the options that have no short form. */
enum {
	FORCE = 256,
	SHARED,
	FOLLOW,
	XML,
	XML_FILE,
	MAP,
	MODE,
	CHECK,
	WAIT,
	CANCEL,
	SAVE,
	DRY_RUN,
	ABORT,
	STATUS,
	FAILBACK,
	NODES,
	AT,
	EVERY,
	PRE,
	POST,
	MAX_FAILED,
	WINDOW,
	LIMIT,
	HOSTS,
	TOKEN,
	OUT,
	SSH,
	NODE,
	COPY_DISKS,
	OUTPUT,
	CA,
	FETCH,
	AS,
	DISCARD_SAVED
};

/*
 * Every option: where it is taken (BEFORE_COMMAND, IN_COMMAND, or the
 * CTL_OPT_ bit a command's opts name it by), its getopt_long() entry, and
 * the member of struct ctl_opts it sets: a bool for an option without a
 * value, a const char * for one with a value (--timeout aside). No command
 * takes both forms of --xml, nor of --nodes (maintenance add's node names,
 * cluster create's hosts).
 */
struct ctl_option {
	uint64_t where;
	struct option def;
	size_t member;
};

/* clang-format off */
static const struct ctl_option options[] = {
	{BEFORE_COMMAND | IN_COMMAND, {"json", no_argument, NULL, 'j'},
	 offsetof(struct ctl_opts, json)},
	{BEFORE_COMMAND | IN_COMMAND, {"timeout", required_argument, NULL, 't'}, 0},
	{BEFORE_COMMAND | IN_COMMAND, {"help", no_argument, NULL, 'h'}, 0},
	{BEFORE_COMMAND, {"version", no_argument, NULL, 'V'}, 0},
	{CTL_OPT_FORCE, {"force", no_argument, NULL, FORCE}, offsetof(struct ctl_opts, force)},
	{CTL_OPT_SHARED, {"shared", no_argument, NULL, SHARED}, offsetof(struct ctl_opts, shared)},
	{CTL_OPT_FOLLOW, {"follow", no_argument, NULL, FOLLOW}, offsetof(struct ctl_opts, follow)},
	{CTL_OPT_XML, {"xml", no_argument, NULL, XML}, offsetof(struct ctl_opts, xml)},
	{CTL_OPT_XML_FILE, {"xml", required_argument, NULL, XML_FILE},
	 offsetof(struct ctl_opts, xml_file)},
	{CTL_OPT_MAP, {"map", required_argument, NULL, MAP}, offsetof(struct ctl_opts, map)},
	{CTL_OPT_MODE, {"mode", required_argument, NULL, MODE}, offsetof(struct ctl_opts, mode)},
	{CTL_OPT_CHECK, {"check", no_argument, NULL, CHECK}, offsetof(struct ctl_opts, check)},
	{CTL_OPT_WAIT, {"wait", no_argument, NULL, WAIT}, offsetof(struct ctl_opts, wait)},
	{CTL_OPT_CANCEL, {"cancel", no_argument, NULL, CANCEL}, offsetof(struct ctl_opts, cancel)},
	{CTL_OPT_SAVE, {"save", no_argument, NULL, SAVE}, offsetof(struct ctl_opts, save)},
	{CTL_OPT_DRY_RUN, {"dry-run", no_argument, NULL, DRY_RUN},
	 offsetof(struct ctl_opts, dry_run)},
	{CTL_OPT_ABORT, {"abort", no_argument, NULL, ABORT}, offsetof(struct ctl_opts, abort_moves)},
	{CTL_OPT_STATUS, {"status", no_argument, NULL, STATUS}, offsetof(struct ctl_opts, status)},
	{CTL_OPT_FAILBACK, {"failback", required_argument, NULL, FAILBACK},
	 offsetof(struct ctl_opts, failback)},
	{CTL_OPT_NODES, {"nodes", required_argument, NULL, NODES}, offsetof(struct ctl_opts, nodes)},
	{CTL_OPT_AT, {"at", required_argument, NULL, AT}, offsetof(struct ctl_opts, at)},
	{CTL_OPT_EVERY, {"every", required_argument, NULL, EVERY}, offsetof(struct ctl_opts, every)},
	{CTL_OPT_PRE, {"pre", required_argument, NULL, PRE}, offsetof(struct ctl_opts, pre)},
	{CTL_OPT_POST, {"post", required_argument, NULL, POST}, offsetof(struct ctl_opts, post)},
	{CTL_OPT_MAX_FAILED, {"max-failed-nodes", required_argument, NULL, MAX_FAILED},
	 offsetof(struct ctl_opts, max_failed)},
	{CTL_OPT_WINDOW, {"window", required_argument, NULL, WINDOW},
	 offsetof(struct ctl_opts, window)},
	{CTL_OPT_LIMIT, {"limit", required_argument, NULL, LIMIT}, offsetof(struct ctl_opts, limit)},
	{CTL_OPT_HOSTS, {"nodes", required_argument, NULL, HOSTS}, offsetof(struct ctl_opts, hosts)},
	{CTL_OPT_TOKEN, {"token", required_argument, NULL, TOKEN}, offsetof(struct ctl_opts, token)},
	{CTL_OPT_OUT, {"out", required_argument, NULL, OUT}, offsetof(struct ctl_opts, out)},
	{CTL_OPT_SSH, {"ssh", no_argument, NULL, SSH}, offsetof(struct ctl_opts, ssh)},
	{CTL_OPT_NODE, {"node", required_argument, NULL, NODE}, offsetof(struct ctl_opts, node)},
	{CTL_OPT_COPY_DISKS, {"copy-disks", required_argument, NULL, COPY_DISKS},
	 offsetof(struct ctl_opts, copy_disks)},
	{CTL_OPT_OUTPUT, {"output", required_argument, NULL, OUTPUT},
	 offsetof(struct ctl_opts, output)},
	{CTL_OPT_CA, {"ca", required_argument, NULL, CA}, offsetof(struct ctl_opts, ca)},
	{CTL_OPT_FETCH, {"fetch", no_argument, NULL, FETCH}, offsetof(struct ctl_opts, fetch)},
	{CTL_OPT_AS, {"as", required_argument, NULL, AS}, offsetof(struct ctl_opts, as)},
	{CTL_OPT_DISCARD_SAVED, {"discard-saved", no_argument, NULL, DISCARD_SAVED},
	 offsetof(struct ctl_opts, discard_saved)},
};
/* clang-format on */
#define N_OPTIONS (sizeof(options) / sizeof(options[0]))

/*
 * The options whose value is one of a few words, and the words ("|"
 * between them): another value is a usage error before anything is sent.
 */
static const struct {
	int val;
	const char *words;
} option_words[] = {
	{FAILBACK, "now|policy|never"},
};
#define N_OPTION_WORDS (sizeof(option_words) / sizeof(option_words[0]))

/*
 * Options that rule others out, that need another, and the arguments
 * beyond max_args, on one command line of command (NULL: of any): a
 * command's opts allow each alone, not together.
 */
static const struct {
	const char *command;
	uint64_t opt, excludes, needs;
	int max_args;
	const char *why;
} exclusive[] = {
	{"node add", CTL_OPT_FETCH, 0, CTL_OPT_SSH, CTL_MAX_ARGS,
	 "--fetch leaves the new host's files for it to fetch: it goes with --ssh"},
	{"vm move", CTL_OPT_CANCEL, CTL_OPT_MODE | CTL_OPT_CHECK, 0, 1,
	 "--cancel takes the VM's name only, without NODE, --mode or --check"},
	{NULL, CTL_OPT_CHECK, CTL_OPT_WAIT, 0, CTL_MAX_ARGS,
	 "--check only asks: there is no move to --wait for"},
	{NULL, CTL_OPT_SAVE, CTL_OPT_FORCE, 0, CTL_MAX_ARGS,
	 "--save keeps the VM's memory to restore it, --force powers it off: not both"},
	{"node drain", CTL_OPT_CANCEL,
	 CTL_OPT_MODE | CTL_OPT_WAIT | CTL_OPT_DRY_RUN | CTL_OPT_STATUS, 0, CTL_MAX_ARGS,
	 "--cancel stops the drain: not with --mode, --wait, --dry-run or --status"},
	{NULL, CTL_OPT_ABORT, 0, CTL_OPT_CANCEL, CTL_MAX_ARGS,
	 "--abort goes with --cancel (it cancels the running moves too)"},
	{"node drain", CTL_OPT_STATUS, CTL_OPT_MODE | CTL_OPT_WAIT | CTL_OPT_DRY_RUN, 0,
	 CTL_MAX_ARGS, "--status only shows the drain: not with --mode, --wait or --dry-run"},
	{"node drain", CTL_OPT_DRY_RUN, CTL_OPT_WAIT, 0, CTL_MAX_ARGS,
	 "--dry-run only plans: there is no drain to --wait for"},
	{"maintenance add", CTL_OPT_AT, CTL_OPT_EVERY, 0, CTL_MAX_ARGS,
	 "--at runs it once, --every repeatedly: not both"},
	{"vm import", CTL_OPT_CHECK, CTL_OPT_COPY_DISKS, 0, CTL_MAX_ARGS,
	 "--check only asks: there are no disks to --copy-disks"},
};
#define N_EXCLUSIVE (sizeof(exclusive) / sizeof(exclusive[0]))

/* Options of which command needs one (the others of the set, exclusive[] rules out). */
static const struct {
	const char *command;
	uint64_t any;
	const char *why;
} needs_one[] = {
	{"maintenance add", CTL_OPT_AT | CTL_OPT_EVERY,
	 "when: --at TIME (once) or --every SCHEDULE (repeatedly)"},
};
#define N_NEEDS_ONE (sizeof(needs_one) / sizeof(needs_one[0]))

/* Arguments that must be a given word (the argument at index arg of command). */
static const struct {
	const char *command;
	int arg;
	const char *word;
	const char *why;
} literal_args[] = {
	{"maintenance run", 1, "now", "say 'now': maintenance run NAME now"},
};
#define N_LITERAL_ARGS (sizeof(literal_args) / sizeof(literal_args[0]))

/* The most nodes a maintenance schedule names (core/maint.h's CD_MAINT_NODES). */
#define MAINT_NODES 32

/*
 * Whether the value arg of option val has its shape; the rest of what it
 * means clusterd checks.
 */
static bool valid_value(int val, const char *arg, FILE *err)
{
	char *end;
	unsigned long k;
	size_t n = 1;
	const char *p;

	if (val == MAX_FAILED) {
		k = strtoul(arg, &end, 10);
		if (arg[0] >= '0' && arg[0] <= '9' && !*end && k >= 1 && k <= MAINT_NODES)
			return true;
		fprintf(err, "clusterctl: --max-failed-nodes takes 1 to %d, not '%s'\n",
			MAINT_NODES, arg);
		return false;
	}
	if (val == LIMIT) {
		errno = 0;
		k = strtoul(arg, &end, 10);
		if (arg[0] >= '0' && arg[0] <= '9' && !*end && k >= 1 && errno == 0)
			return true;
		fprintf(err, "clusterctl: --limit takes a positive number, not '%s'\n", arg);
		return false;
	}
	if (val == TOKEN) {
		k = strtoul(arg, &end, 10);
		if (arg[0] >= '0' && arg[0] <= '9' && !*end && k >= CD_CC_TOKEN_MIN_MS &&
		    k <= CD_CC_TOKEN_MAX_MS)
			return true;
		fprintf(err, "clusterctl: --token takes %u to %u ms, not '%s'\n",
			CD_CC_TOKEN_MIN_MS, CD_CC_TOKEN_MAX_MS, arg);
		return false;
	}
	if (val == NODES && strcmp(arg, "all") != 0) {
		for (p = arg; *p; p++)
			n += *p == ',';
		if (!*arg || arg[0] == ',' || p[-1] == ',' || strstr(arg, ",,") ||
		    n > MAINT_NODES) {
			fprintf(err,
				"clusterctl: --nodes takes all or 1 to %d node names separated by "
				"commas, not '%s'\n",
				MAINT_NODES, arg);
			return false;
		}
	}
	return true;
}

/* The getopt_long() table of the options whose where shares a bit with mask. */
static void select_options(uint64_t mask, struct option out[N_OPTIONS + 1])
{
	size_t i, n = 0;

	for (i = 0; i < N_OPTIONS; i++)
		if (options[i].where & mask)
			out[n++] = options[i].def;
	out[n] = (struct option){NULL, 0, NULL, 0};
}

/* The option getopt_long() returned as c (one of the table's). */
static const struct ctl_option *find_option(int c)
{
	size_t i = 0;

	while (i + 1 < N_OPTIONS && options[i].def.val != c)
		i++;
	return &options[i];
}

/* Whether arg is one of words ("a|b|c"). */
static bool one_of(const char *arg, const char *words)
{
	size_t len = strlen(arg), k;

	for (;;) {
		k = strcspn(words, "|");
		if (k == len && strncmp(words, arg, k) == 0)
			return true;
		if (!words[k])
			return false;
		words += k + 1;
	}
}

/* Set the option d, given with the value arg, in o. Returns 0 or -1 (said on err). */
static int set_option(const struct ctl_option *d, char *arg, struct ctl_opts *o, FILE *err)
{
	char *end;
	double t;
	size_t i;

	for (i = 0; i < N_OPTION_WORDS; i++) {
		if (option_words[i].val == d->def.val && !one_of(arg, option_words[i].words)) {
			fprintf(err, "clusterctl: --%s takes %s, not '%s'\n", d->def.name,
				option_words[i].words, arg);
			return -1;
		}
	}

	if (!valid_value(d->def.val, arg, err))
		return -1;
	if (d->def.val == 't') {
		t = strtod(arg, &end);
		if (*end || !(t > 0 && t <= 3600)) {
			fprintf(err, "clusterctl: --timeout takes seconds (0-3600]\n");
			return -1;
		}
		o->timeout_ms = (int)(t * 1000);
		o->timeout_given = true;
	} else if (d->def.has_arg) {
		*(const char **)((char *)o + d->member) = arg;
	} else {
		*(bool *)((char *)o + d->member) = true;
	}
	return 0;
}

/* The options before the command: getopt_long() says what is wrong with them. */
static enum ctl_parse_result parse_global(int argc, char **argv, struct ctl_opts *o, FILE *err)
{
	struct option longopts[N_OPTIONS + 1];
	int c;

	select_options(BEFORE_COMMAND, longopts);
	optind = 0;
	opterr = 1;
	/* "+": they end at the command's first word. */
	while ((c = getopt_long(argc, argv, "+jt:hV", longopts, NULL)) != -1) {
		if (c == 'h')
			return CTL_PARSE_HELP;
		if (c == 'V')
			return CTL_PARSE_VERSION;
		if (c == '?' || c == ':')
			return CTL_PARSE_USAGE;
		if (set_option(find_option(c), optarg, o, err) < 0)
			return CTL_PARSE_ERROR;
	}
	return CTL_PARSE_RUN;
}

/* "group name" of cmd into buf. */
static void command_words(const struct command *cmd, char *buf, size_t n)
{
	snprintf(buf, n, "%s%s%s", cmd->group ? cmd->group : "", cmd->group ? " " : "", cmd->name);
}

/* The command whose words argv begins with; *nwords: how many words. */
static const struct command *find_command(const struct command *table, size_t n, int argc,
					  char **argv, int *nwords)
{
	size_t i;

	for (i = 0; i < n; i++) {
		char words[64], *w, *save = NULL;
		int k = 0, ok = 1;

		command_words(&table[i], words, sizeof(words));
		for (w = strtok_r(words, " ", &save); w && ok; w = strtok_r(NULL, " ", &save), k++)
			ok = k < argc && strcmp(argv[k], w) == 0;
		if (ok) {
			*nwords = k;
			return &table[i];
		}
	}
	return NULL;
}

static void add_arg(struct ctl_invocation *inv, char *arg)
{
	if (inv->argc < CTL_MAX_ARGS)
		inv->argv[inv->argc] = arg;
	inv->argc++;
}

/* word: what was given for the option getopt_long() refused with c. */
static void bad_option(const struct command *cmd, int c, const char *word, FILE *err)
{
	char name[64];

	command_words(cmd, name, sizeof(name));
	if (c == ':')
		fprintf(err, "clusterctl: %s: option '%s' needs a value\n", name, word);
	else if (optopt && strncmp(word, "--", 2) == 0)
		fprintf(err, "clusterctl: %s: option '%.*s' takes no value\n", name,
			(int)strcspn(word, "="), word);
	else
		fprintf(err,
			"clusterctl: %s: unknown option '%s' (an argument that begins with '-' "
			"goes after '--')\n",
			name, word);
}

/* Whether the options seen and the arguments go together; if not, says why on err. */
static bool compatible(const struct ctl_invocation *inv, uint64_t seen, FILE *err)
{
	char name[64];
	size_t i;

	command_words(inv->cmd, name, sizeof(name));
	for (i = 0; i < N_EXCLUSIVE; i++) {
		if (!(seen & exclusive[i].opt) ||
		    (exclusive[i].command && strcmp(exclusive[i].command, name) != 0) ||
		    (!(seen & exclusive[i].excludes) && !(exclusive[i].needs & ~seen) &&
		     inv->argc <= exclusive[i].max_args))
			continue;
		fprintf(err, "clusterctl: %s: %s\n", name, exclusive[i].why);
		return false;
	}
	for (i = 0; i < N_NEEDS_ONE; i++) {
		if (strcmp(needs_one[i].command, name) != 0 || (seen & needs_one[i].any))
			continue;
		fprintf(err, "clusterctl: %s: %s\n", name, needs_one[i].why);
		return false;
	}
	for (i = 0; i < N_LITERAL_ARGS; i++) {
		if (strcmp(literal_args[i].command, name) != 0 ||
		    inv->argc <= literal_args[i].arg ||
		    strcmp(inv->argv[literal_args[i].arg], literal_args[i].word) == 0)
			continue;
		fprintf(err, "clusterctl: %s: %s\n", name, literal_args[i].why);
		return false;
	}
	return true;
}

/*
 * The command's options and arguments; argv[0] is the command's last word
 * (getopt_long() skips it as the program's name).
 */
static enum ctl_parse_result parse_command(int argc, char **argv, struct ctl_invocation *inv,
					   FILE *err)
{
	const struct command *cmd = inv->cmd;
	struct option longopts[N_OPTIONS + 1];
	uint64_t seen = 0;
	int c, at;

	select_options(IN_COMMAND | cmd->opts, longopts);
	optind = 0;
	opterr = 0;
	/*
	 * "-": arguments come back in their order as 1, so options may stand
	 * between them; ":": a missing value comes back as ':'.
	 */
	for (;;) {
		at = optind ? optind : 1;
		c = getopt_long(argc, argv, "-:jt:h", longopts, NULL);
		if (c == -1)
			break;
		if (c == 1) {
			add_arg(inv, optarg);
			continue;
		}
		if (c == 'h')
			return CTL_PARSE_CMD_HELP;
		if (c == '?' || c == ':') {
			bad_option(cmd, c, at < argc ? argv[at] : "", err);
			goto usage;
		}
		if (set_option(find_option(c), optarg, &inv->opts, err) < 0)
			return CTL_PARSE_ERROR;
		seen |= find_option(c)->where;
	}
	/* After "--": arguments, whatever they look like. */
	while (optind < argc)
		add_arg(inv, argv[optind++]);
	if (inv->argc >= cmd->min_args && inv->argc <= cmd->max_args && !(cmd->required & ~seen) &&
	    compatible(inv, seen, err))
		return CTL_PARSE_RUN;
usage:
	fprintf(err, "clusterctl: usage: clusterctl %s\n", cmd->usage);
	return CTL_PARSE_ERROR;
}

enum ctl_parse_result ctl_parse(const struct command *table, size_t n, int argc, char **argv,
				struct ctl_invocation *inv, FILE *err)
{
	enum ctl_parse_result r;
	int nwords = 0;

	memset(inv, 0, sizeof(*inv));
	inv->opts.timeout_ms = 15000;
	r = parse_global(argc, argv, &inv->opts, err);
	if (r != CTL_PARSE_RUN)
		return r;
	argv += optind;
	argc -= optind;
	if (argc < 1)
		return CTL_PARSE_USAGE;
	inv->cmd = find_command(table, n, argc, argv, &nwords);
#ifndef CD_TEST_HOOKS
	if (!inv->cmd && argc >= 2 && strcmp(argv[0], "debug") == 0 &&
	    (strcmp(argv[1], "volume-stall") == 0 || strcmp(argv[1], "state-diverge") == 0)) {
		fprintf(err,
			"clusterctl: debug %s is a test aid, not in this build "
			"(configure --enable-test-hooks)\n",
			argv[1]);
		return CTL_PARSE_ERROR;
	}
#endif
	if (!inv->cmd) {
		fprintf(err, "clusterctl: unknown command '%s%s%s' (try clusterctl --help)\n",
			argv[0], argc >= 2 ? " " : "", argc >= 2 ? argv[1] : "");
		return CTL_PARSE_ERROR;
	}
	return parse_command(argc - nwords + 1, argv + nwords - 1, inv, err);
}
