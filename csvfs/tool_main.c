/*
 * csvfs: format, inspect and check cluster shared volumes, and the
 * low-level lease and file commands operators and tests use. See csvfs(8).
 * This file parses the command line and maps results to exit codes; the
 * commands live in tool_*.c, the work in libcsvfs.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <clusterd/result.h>

#include "csvfs/tool.h"

struct tool_opts cmdline_opts;

/* Which options a command accepts: bit i is opt_defs[i]. */
enum {
	O_JSON = 1 << 0,
	O_FORCE = 1 << 1,
	O_SHARED = 1 << 2,
	O_BALLOTS = 1 << 3,
	O_SLOT = 1 << 4,
	O_HOSTS = 1 << 5,
	O_FILES = 1 << 6,
	O_SECTOR = 1 << 7,
	O_EXPIRY = 1 << 8,
	O_INTERVAL = 1 << 9,
	O_NAME = 1 << 10,
	O_OWNER = 1 << 11,
};

/* The one table of options: what each takes and where it goes. */
enum opt_kind { OPT_FLAG, OPT_NUM, OPT_STR };

static const struct opt_def {
	const char *name;
	enum opt_kind kind;
	void *target;
	uint32_t min, max;
} opt_defs[] = {
	{"json", OPT_FLAG, &cmdline_opts.json, 0, 0},
	{"force", OPT_FLAG, &cmdline_opts.force, 0, 0},
	{"shared", OPT_FLAG, &cmdline_opts.shared, 0, 0},
	{"ballots", OPT_FLAG, &cmdline_opts.ballots, 0, 0},
	{"slot", OPT_NUM, &cmdline_opts.slot, 1, CSVFS_MAX_HOSTS},
	{"hosts", OPT_NUM, &cmdline_opts.hosts, 1, CSVFS_MAX_HOSTS},
	{"files", OPT_NUM, &cmdline_opts.files, 1, CSVFS_MAX_FILES},
	{"sector-size", OPT_NUM, &cmdline_opts.sector_size, 512, 4096},
	{"expiry-ms", OPT_NUM, &cmdline_opts.expiry_ms, CSVFS_EXPIRY_MIN_MS, CSVFS_EXPIRY_MAX_MS},
	{"interval-ms", OPT_NUM, &cmdline_opts.interval_ms, 1, CSVFS_EXPIRY_MAX_MS},
	{"name", OPT_STR, &cmdline_opts.name, 0, 0},
	{"owner", OPT_STR, &cmdline_opts.owner, 0, 0},
};
#define N_OPTS (sizeof(opt_defs) / sizeof(opt_defs[0]))

struct command {
	const char *group; /* NULL for top-level commands */
	const char *name;
	int min_args, max_args;
	unsigned allowed, required;
	const char *usage;
	int (*fn)(char **argv, int argc);
};

static const struct command commands[] = {
	{NULL, "format", 1, 1,
	 O_NAME | O_HOSTS | O_FILES | O_SECTOR | O_EXPIRY | O_INTERVAL | O_FORCE, O_NAME | O_HOSTS,
	 "format DEVICE --name VOL --hosts N [--files N] [--sector-size 512|4096]\n"
	 "         [--expiry-ms E] [--interval-ms R] [--force]",
	 cmd_format},
	{NULL, "inspect", 1, 1, O_JSON, 0, "inspect DEVICE [--json]", cmd_inspect},
	{NULL, "check", 1, 1, O_JSON, 0, "check DEVICE [--json]", cmd_check},
	{"host", "join", 1, 1, O_SLOT | O_OWNER | O_INTERVAL | O_EXPIRY, O_SLOT,
	 "host join DEVICE --slot N [--owner NAME] [--interval-ms R] [--expiry-ms E]",
	 cmd_host_join},
	{"host", "renew", 1, 1, O_SLOT | O_OWNER, O_SLOT,
	 "host renew DEVICE --slot N [--owner NAME]", cmd_host_renew},
	{"host", "release", 1, 1, O_SLOT | O_OWNER, O_SLOT,
	 "host release DEVICE --slot N [--owner NAME]", cmd_host_release},
	{"host", "status", 1, 1, O_SLOT | O_JSON, O_SLOT, "host status DEVICE --slot N [--json]",
	 cmd_host_status},
	{"lease", "acquire", 2, 2, O_SLOT | O_SHARED | O_OWNER, O_SLOT,
	 "lease acquire DEVICE NAME --slot N [--shared]", cmd_lease_acquire},
	{"lease", "release", 2, 2, O_SLOT | O_OWNER, O_SLOT, "lease release DEVICE NAME --slot N",
	 cmd_lease_release},
	{"lease", "show", 2, 2, O_JSON | O_BALLOTS, 0,
	 "lease show DEVICE NAME [--ballots] [--json]", cmd_lease_show},
	{"file", "create", 3, 3, O_SLOT | O_OWNER, O_SLOT, "file create DEVICE NAME SIZE --slot N",
	 cmd_file_create},
	{"file", "list", 1, 1, O_JSON, 0, "file list DEVICE [--json]", cmd_file_list},
	{"file", "remove", 2, 2, O_SLOT | O_OWNER, O_SLOT, "file remove DEVICE NAME --slot N",
	 cmd_file_remove},
	{"file", "resize", 3, 3, O_SLOT | O_OWNER, O_SLOT, "file resize DEVICE NAME SIZE --slot N",
	 cmd_file_resize},
};
#define N_COMMANDS (sizeof(commands) / sizeof(commands[0]))

/* The one table from result codes to exit codes. */
static const struct {
	int rc;
	enum csvfs_exit code;
} exit_table[] = {
	{-EBUSY, CSVFS_EXIT_BUSY},
	{CD_ERR_NOT_FOUND, CSVFS_EXIT_NOT_FOUND},
	{-ENOENT, CSVFS_EXIT_NOT_FOUND},
	{-ENODATA, CSVFS_EXIT_NOT_FOUND},
	{CD_ERR_INVALID, CSVFS_EXIT_INVALID},
	{-EINVAL, CSVFS_EXIT_INVALID},
	{CD_ERR_EXISTS, CSVFS_EXIT_INVALID},
	{-ENOSPC, CSVFS_EXIT_NO_SPACE},
	{CD_ERR_TIMEOUT, CSVFS_EXIT_TIMEOUT},
	{-ETIMEDOUT, CSVFS_EXIT_TIMEOUT},
	{-ESTALE, CSVFS_EXIT_TIMEOUT},
	{CD_ERR_CORRUPT, CSVFS_EXIT_DAMAGED},
	{CD_ERR_VERSION, CSVFS_EXIT_DAMAGED},
	{-EIO, CSVFS_EXIT_IO},
};

static int exit_code(int rc)
{
	size_t i;

	if (rc == 0)
		return CSVFS_EXIT_OK;
	for (i = 0; i < sizeof(exit_table) / sizeof(exit_table[0]); i++)
		if (exit_table[i].rc == rc)
			return exit_table[i].code;
	return CSVFS_EXIT_FAILURE;
}

static void usage(FILE *f)
{
	size_t i;

	fprintf(f, "usage: csvfs COMMAND [ARGS] [OPTIONS]\n\ncommands:\n");
	for (i = 0; i < N_COMMANDS; i++)
		fprintf(f, "  csvfs %s\n", commands[i].usage);
	fprintf(f, "\nSIZE takes K, M, G, T (binary). exit codes: 0 ok, 1 failure, 2 usage,\n"
		   "3 held by a live host, 4 not found, 5 invalid, 6 no space, 7 timeout or\n"
		   "host lease lost, 8 damaged, 9 I/O error. See csvfs(8) and csvfs(5).\n");
}

static int parse_u32(const char *s, const struct opt_def *d)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end || end == s || v < d->min || v > d->max) {
		fprintf(stderr, "csvfs: --%s takes a number in [%" PRIu32 ", %" PRIu32 "]\n",
			d->name, d->min, d->max);
		return CD_ERR_INVALID;
	}
	*(uint32_t *)d->target = (uint32_t)v;
	return 0;
}

static int set_option(const struct opt_def *d, const char *arg)
{
	switch (d->kind) {
	case OPT_FLAG:
		*(int *)d->target = 1;
		return 0;
	case OPT_NUM:
		return parse_u32(arg, d);
	case OPT_STR:
		*(const char **)d->target = arg;
		return 0;
	}
	return CD_ERR_INVALID;
}

/* Parse options anywhere on the line; returns the option bits seen or CD_ERR_INVALID. */
static int parse_options(int argc, char **argv)
{
	enum { SHOW_HELP = 1, SHOW_VERSION };
	struct option longopts[N_OPTS + 3];
	int c, seen = 0, bad = 0;
	size_t i;

	for (i = 0; i < N_OPTS; i++) {
		longopts[i].name = opt_defs[i].name;
		longopts[i].has_arg =
			opt_defs[i].kind == OPT_FLAG ? no_argument : required_argument;
		longopts[i].flag = NULL;
		longopts[i].val = 256 + (int)i;
	}
	longopts[N_OPTS] = (struct option){"help", no_argument, NULL, SHOW_HELP};
	longopts[N_OPTS + 1] = (struct option){"version", no_argument, NULL, SHOW_VERSION};
	longopts[N_OPTS + 2] = (struct option){NULL, 0, NULL, 0};
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		if (c == SHOW_HELP) {
			usage(stdout);
			exit(0);
		}
		if (c == SHOW_VERSION) {
			printf("csvfs %s (on-disk format %u)\n", PACKAGE_VERSION, CSVFS_VERSION);
			exit(0);
		}
		if (c < 256)
			return CD_ERR_INVALID;
		if (set_option(&opt_defs[c - 256], optarg) < 0)
			bad = 1;
		seen |= 1 << (c - 256);
	}
	return bad ? CD_ERR_INVALID : seen;
}

static const struct command *find_command(int argc, char **argv, int *nwords)
{
	size_t i;

	for (i = 0; i < N_COMMANDS; i++) {
		const struct command *c = &commands[i];

		if (!c->group && argc >= 1 && strcmp(c->name, argv[0]) == 0) {
			*nwords = 1;
			return c;
		}
		if (c->group && argc >= 2 && strcmp(c->group, argv[0]) == 0 &&
		    strcmp(c->name, argv[1]) == 0) {
			*nwords = 2;
			return c;
		}
	}
	return NULL;
}

int main(int argc, char **argv)
{
	const struct command *cmd;
	int seen, nwords = 0;

	seen = parse_options(argc, argv);
	if (seen < 0) {
		fprintf(stderr, "csvfs: try csvfs --help\n");
		return CSVFS_EXIT_USAGE;
	}
	/* getopt_long moved the operands to the end. */
	argv += optind;
	argc -= optind;
	cmd = find_command(argc, argv, &nwords);
	if (!cmd) {
		if (argc == 0)
			usage(stderr);
		else
			fprintf(stderr, "csvfs: unknown command '%s%s%s' (try csvfs --help)\n",
				argv[0], argc >= 2 ? " " : "", argc >= 2 ? argv[1] : "");
		return CSVFS_EXIT_USAGE;
	}
	argv += nwords;
	argc -= nwords;
	if (argc < cmd->min_args || argc > cmd->max_args || (seen & ~(int)cmd->allowed) ||
	    (cmd->required & ~(unsigned)seen)) {
		fprintf(stderr, "csvfs: usage: csvfs %s\n", cmd->usage);
		return CSVFS_EXIT_USAGE;
	}
	return exit_code(cmd->fn(argv, argc));
}
