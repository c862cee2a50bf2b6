/*
 * Shared parts of the csvfs tool: options, opening a device, printing,
 * and the commands (one file per group).
 */
#ifndef CSVFS_TOOL_H
#define CSVFS_TOOL_H

#include <stdint.h>

#include <json-c/json.h>

#include "csvfs/csvfs.h"

/* Exit codes, documented in csvfs(8). */
enum csvfs_exit {
	CSVFS_EXIT_OK = 0,
	CSVFS_EXIT_FAILURE = 1, /* anything not listed below */
	CSVFS_EXIT_USAGE = 2,
	CSVFS_EXIT_BUSY = 3,	  /* held by a live host */
	CSVFS_EXIT_NOT_FOUND = 4, /* no such file, lease, device or volume */
	CSVFS_EXIT_INVALID = 5,	  /* invalid argument, or exists already */
	CSVFS_EXIT_NO_SPACE = 6,
	CSVFS_EXIT_TIMEOUT = 7, /* host lease lost, or contention did not settle */
	CSVFS_EXIT_DAMAGED = 8, /* a checksum or format check failed */
	CSVFS_EXIT_IO = 9,
};

struct tool_opts {
	int json, force, shared, ballots;
	uint32_t slot, hosts, files, sector_size, expiry_ms, interval_ms;
	const char *name, *owner;
};

/* The options given on the command line (csvfs/tool_main.c parses them). */
extern struct tool_opts cmdline_opts;

/* One open device and volume. */
struct tool_vol {
	const char *device;
	struct csvfs_disk *disk;
	struct csvfs_vol vol;
};

/* Open device and its volume; prints the error. Returns 0 or a code. */
int tool_open(struct tool_vol *t, const char *device, int readonly);
/* Close what tool_open opened; accepts NULL and a t already closed. */
void tool_close(struct tool_vol *t);

/* Attach to --slot (someone else renews it); prints the error. */
int tool_attach(struct tool_vol *t, struct csvfs_host *h);

/* "csvfs: <what>: <why>" on stderr; returns rc. */
int tool_fail(int rc, const char *what);

/* "csvfs: <what> is held by host N[ (shared)]"; returns -EBUSY. */
int tool_busy(const char *what, const struct csvfs_busy *b);

/* Pretty JSON on stdout, then put o. */
void tool_print_json(struct json_object *o);

/* Show o as JSON with --json, else as text(o); puts o. Returns 0. */
int tool_show(struct json_object *o, void (*text)(struct json_object *o));

/*
 * A read command: open argv[0] read-only, describe it with build (given the
 * command's arguments), close it, show the description. Errors name what
 * (NULL: the device). Returns 0 or a code.
 */
int tool_view(char **argv, const char *what,
	      int (*build)(struct csvfs_vol *v, char **argv, struct json_object **o),
	      void (*text)(struct json_object *o));

/* JSON accessors that tolerate missing keys. */
const char *tool_jstr(struct json_object *o, const char *key);
int64_t tool_jint(struct json_object *o, const char *key);

/* A size such as 4096, 10M, 2G (binary units). Returns 0 or CD_ERR_INVALID. */
int tool_parse_size(const char *s, uint64_t *out);

/* One line of the lease table (with its header first if header). */
void print_lease_line(struct json_object *lease, int header);

/* The file table of a metadata description (csvfs_report_meta). */
void print_files(struct json_object *meta);

/* Commands: each returns 0 or a negative result code. */
int cmd_format(char **argv, int argc);
int cmd_inspect(char **argv, int argc);
int cmd_check(char **argv, int argc);
int cmd_host_join(char **argv, int argc);
int cmd_host_renew(char **argv, int argc);
int cmd_host_release(char **argv, int argc);
int cmd_host_status(char **argv, int argc);
int cmd_lease_acquire(char **argv, int argc);
int cmd_lease_release(char **argv, int argc);
int cmd_lease_show(char **argv, int argc);
int cmd_file_create(char **argv, int argc);
int cmd_file_list(char **argv, int argc);
int cmd_file_remove(char **argv, int argc);
int cmd_file_resize(char **argv, int argc);

#endif
