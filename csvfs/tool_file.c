/* csvfs file create, list, remove and resize. */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>

#include <clusterd/result.h>

#include "csvfs/tool.h"

enum file_op { FILE_CREATE, FILE_REMOVE, FILE_RESIZE };

static const char *const done_str[] = {
	[FILE_CREATE] = "created",
	[FILE_REMOVE] = "removed",
	[FILE_RESIZE] = "resized",
};

static int file_error(int rc, const char *name, const struct csvfs_busy *busy, uint64_t size)
{
	char what[96];

	snprintf(what, sizeof(what), "file %s", name);
	if (rc == -EBUSY) {
		fprintf(stderr, "csvfs: %s: %s is held by host %u%s\n", what,
			busy->lease == CSVFS_META_LEASE ? "the metadata lease" : "its lease",
			busy->slot, busy->shared ? " (shared)" : "");
		return rc;
	}
	if (rc == -ENOSPC) {
		fprintf(stderr, "csvfs: %s: no room for %" PRIu64 " bytes%s\n", what, size,
			" (files grow in place only)");
		return rc;
	}
	if (rc == CD_ERR_EXISTS) {
		fprintf(stderr, "csvfs: %s exists already\n", what);
		return rc;
	}
	return tool_fail(rc, what);
}

static int change(char **argv, enum file_op op)
{
	struct csvfs_busy busy = {0};
	struct csvfs_file f = {0};
	struct csvfs_host h;
	struct tool_vol t;
	uint64_t size = 0;
	int rc;

	if (op != FILE_REMOVE && tool_parse_size(argv[2], &size) < 0) {
		fprintf(stderr, "csvfs: SIZE takes bytes, or a number with K, M, G or T\n");
		return CD_ERR_INVALID;
	}
	rc = tool_open(&t, argv[0], 0);
	if (rc < 0)
		return rc;
	rc = tool_attach(&t, &h);
	if (rc < 0)
		goto out_close;
	switch (op) {
	case FILE_CREATE:
		rc = csvfs_file_create(&t.vol, &h, argv[1], size, &f, &busy);
		break;
	case FILE_REMOVE:
		rc = csvfs_file_remove(&t.vol, &h, argv[1], &busy);
		break;
	case FILE_RESIZE:
		rc = csvfs_file_resize(&t.vol, &h, argv[1], size, &f, &busy);
		break;
	}
	if (rc < 0)
		file_error(rc, argv[1], &busy, size);
	else if (op == FILE_REMOVE)
		printf("%s file %s\n", done_str[op], argv[1]);
	else
		printf("%s file %s: %" PRIu64 " bytes at offset %" PRIu64 ", lease %u\n",
		       done_str[op], f.name, f.size, f.offset, f.index + 1);
out_close:
	tool_close(&t);
	return rc;
}

int cmd_file_create(char **argv, int argc)
{
	return change(argv, FILE_CREATE);
}

int cmd_file_remove(char **argv, int argc)
{
	return change(argv, FILE_REMOVE);
}

int cmd_file_resize(char **argv, int argc)
{
	return change(argv, FILE_RESIZE);
}

static int files_json(struct csvfs_vol *v, char **argv, struct json_object **o)
{
	return csvfs_report_files(v, o);
}

int cmd_file_list(char **argv, int argc)
{
	return tool_view(argv, "metadata", files_json, print_files);
}
