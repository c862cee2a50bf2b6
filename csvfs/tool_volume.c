/* csvfs format, inspect and check. */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <clusterd/result.h>

#include "csvfs/tool.h"

#define MIB (1024.0 * 1024.0)

int cmd_format(char **argv, int argc)
{
	struct csvfs_format_opts fo = {
		.name = cmdline_opts.name,
		.hosts = cmdline_opts.hosts,
		.files = cmdline_opts.files,
		.sector_size = cmdline_opts.sector_size,
		.expiry_ms = cmdline_opts.expiry_ms,
		.renewal_ms = cmdline_opts.interval_ms,
		.force = cmdline_opts.force,
	};
	struct csvfs_disk *disk;
	struct csvfs_sb sb;
	char uuid[37];
	int rc;

	if (cmdline_opts.sector_size && cmdline_opts.sector_size != 512 &&
	    cmdline_opts.sector_size != 4096) {
		fprintf(stderr, "csvfs: --sector-size takes 512 or 4096\n");
		return CD_ERR_INVALID;
	}
	rc = csvfs_disk_open(argv[0], 0, &disk);
	if (rc < 0)
		return tool_fail(rc, argv[0]);
	rc = csvfs_format(disk, &csvfs_env_real, &fo, &sb);
	csvfs_disk_close(disk);
	if (rc == CD_ERR_EXISTS) {
		fprintf(stderr, "csvfs: %s holds a csvfs volume already (--force overwrites it)\n",
			argv[0]);
		return rc;
	}
	if (rc == CD_ERR_INVALID) {
		fprintf(stderr, "csvfs: invalid format options: a name of [A-Za-z0-9._-] up to 63 "
				"characters, a sector size the device supports, and an interval "
				"at most 5/16 of the expiry\n");
		return rc;
	}
	if (rc == -ENOSPC) {
		fprintf(stderr, "csvfs: %s is too small for %u hosts and %u files\n", argv[0],
			cmdline_opts.hosts,
			cmdline_opts.files ? cmdline_opts.files : CSVFS_DEFAULT_FILES);
		return rc;
	}
	if (rc < 0)
		return tool_fail(rc, argv[0]);
	csvfs_uuid_str(sb.uuid, uuid);
	printf("formatted %s on %s: uuid %s, %u host slots, %u files, sector size %u, "
	       "%.0f MiB for data\n",
	       sb.name, argv[0], uuid, sb.max_hosts, sb.max_files, sb.sector_size,
	       (double)(sb.data_end - sb.data_off) / MIB);
	return 0;
}

static void print_volume(struct json_object *o)
{
	struct json_object *t = NULL, *l = NULL;

	json_object_object_get_ex(o, "timing", &t);
	json_object_object_get_ex(o, "layout", &l);
	printf("Volume:    %s (uuid %s)\n", tool_jstr(o, "name"), tool_jstr(o, "uuid"));
	printf("Format:    version %lld, sector size %lld, %lld host slots, %lld files\n",
	       (long long)tool_jint(o, "version"), (long long)tool_jint(o, "sector_size"),
	       (long long)tool_jint(o, "hosts"), (long long)tool_jint(o, "max_files"));
	printf("Timing:    host leases expire after %lld ms without renewal; renewal every "
	       "%lld ms;\n           a host stops using its leases %lld ms after its last "
	       "renewal\n",
	       (long long)tool_jint(t, "expiry_ms"), (long long)tool_jint(t, "renewal_ms"),
	       (long long)tool_jint(t, "use_ms"));
	printf("Layout:    hosts @%lld, leases @%lld (%lld bytes each), metadata @%lld "
	       "(2 x %lld),\n           data @%lld..%lld\n",
	       (long long)tool_jint(l, "host_offset"), (long long)tool_jint(l, "lease_offset"),
	       (long long)tool_jint(l, "lease_size"), (long long)tool_jint(l, "meta_offset"),
	       (long long)tool_jint(l, "meta_copy_size"), (long long)tool_jint(l, "data_offset"),
	       (long long)tool_jint(l, "data_end"));
	printf("Created:   %s\n", tool_jstr(o, "created"));
}

static void print_hosts(struct json_object *a)
{
	size_t i;

	printf("\n%-5s %-9s %-20s %10s %10s  %s\n", "SLOT", "STATE", "OWNER", "GENERATION",
	       "COUNTER", "LAST RENEWAL (its clock)");
	for (i = 0; i < json_object_array_length(a); i++) {
		struct json_object *h = json_object_array_get_idx(a, i);
		const char *owner = tool_jstr(h, "owner");

		if (!owner) {
			printf("%-5lld %-9s\n", (long long)tool_jint(h, "slot"),
			       tool_jstr(h, "state"));
			continue;
		}
		printf("%-5lld %-9s %-20s %10lld %10lld  %s\n", (long long)tool_jint(h, "slot"),
		       tool_jstr(h, "state"), owner, (long long)tool_jint(h, "generation"),
		       (long long)tool_jint(h, "counter"), tool_jstr(h, "last_renewal"));
	}
}

void print_lease_line(struct json_object *l, int header)
{
	struct json_object *shared = NULL;
	char holders[256] = "", one[32];
	size_t i;

	if (header)
		printf("%-6s %-24s %8s %-8s %6s  %s\n", "LEASE", "NAME", "VERSION", "STATE",
		       "OWNER", "SHARED");
	json_object_object_get_ex(l, "shared", &shared);
	for (i = 0; shared && i < json_object_array_length(shared); i++) {
		struct json_object *h = json_object_array_get_idx(shared, i);
		int stale = json_object_get_boolean(json_object_object_get(h, "stale"));

		snprintf(one, sizeof(one), "%s%lld%s", i ? "," : "",
			 (long long)tool_jint(h, "slot"), stale ? "(stale)" : "");
		strncat(holders, one, sizeof(holders) - strlen(holders) - 1);
	}
	if (strcmp(tool_jstr(l, "state"), "held") == 0)
		snprintf(one, sizeof(one), "%lld", (long long)tool_jint(l, "owner"));
	else
		snprintf(one, sizeof(one), "-");
	printf("%-6lld %-24s %8lld %-8s %6s  %s\n", (long long)tool_jint(l, "lease"),
	       tool_jstr(l, "name"), (long long)tool_jint(l, "version"), tool_jstr(l, "state"), one,
	       holders[0] ? holders : "-");
}

void print_files(struct json_object *meta)
{
	struct json_object *files = NULL;
	size_t i;

	json_object_object_get_ex(meta, "files", &files);
	printf("%-24s %14s %14s %6s %6s %5s  %s\n", "FILE", "SIZE", "OFFSET", "LEASE", "OWNER",
	       "GEN", "CREATED");
	for (i = 0; files && i < json_object_array_length(files); i++) {
		struct json_object *f = json_object_array_get_idx(files, i);

		printf("%-24s %14lld %14lld %6lld %6lld %5lld  %s\n", tool_jstr(f, "name"),
		       (long long)tool_jint(f, "size"), (long long)tool_jint(f, "offset"),
		       (long long)tool_jint(f, "lease"), (long long)tool_jint(f, "owner"),
		       (long long)tool_jint(f, "generation"), tool_jstr(f, "created"));
	}
}

static void print_inspect(struct json_object *o)
{
	struct json_object *part;
	size_t i;

	print_volume(o);
	if (json_object_object_get_ex(o, "host_slots", &part))
		print_hosts(part);
	printf("\n");
	if (json_object_object_get_ex(o, "leases", &part))
		for (i = 0; i < json_object_array_length(part); i++)
			print_lease_line(json_object_array_get_idx(part, i), i == 0);
	if (json_object_object_get_ex(o, "metadata", &part)) {
		printf("\nMetadata:  generation %lld in copy %s, %.0f MiB free\n",
		       (long long)tool_jint(part, "generation"), tool_jstr(part, "copy"),
		       (double)tool_jint(part, "free_bytes") / MIB);
		print_files(part);
	}
}

static int inspect_json(struct csvfs_vol *v, char **argv, struct json_object **o)
{
	return csvfs_report_inspect(v, o);
}

int cmd_inspect(char **argv, int argc)
{
	return tool_view(argv, NULL, inspect_json, print_inspect);
}

static const char *const finding_str[] = {
	[CSVFS_FINDING_NOTE] = "note",
	[CSVFS_FINDING_DAMAGE] = "damage",
};

static void found_text(void *ctx, enum csvfs_finding kind, const char *where, const char *msg)
{
	printf("%s: %s: %s\n", finding_str[kind], where, msg);
}

static void found_json(void *ctx, enum csvfs_finding kind, const char *where, const char *msg)
{
	struct json_object *f = json_object_new_object();

	json_object_object_add(f, "kind", json_object_new_string(finding_str[kind]));
	json_object_object_add(f, "where", json_object_new_string(where));
	json_object_object_add(f, "message", json_object_new_string(msg));
	json_object_array_add(ctx, f);
}

int cmd_check(char **argv, int argc)
{
	struct json_object *findings = json_object_new_array(), *o;
	struct csvfs_check_counts counts;
	struct tool_vol t;
	int rc;

	rc = tool_open(&t, argv[0], 1);
	if (rc < 0) {
		json_object_put(findings);
		return rc;
	}
	rc = csvfs_check(&t.vol, cmdline_opts.json ? found_json : found_text, findings, &counts);
	if (rc < 0) {
		tool_close(&t);
		json_object_put(findings);
		return tool_fail(rc, argv[0]);
	}
	if (cmdline_opts.json) {
		o = json_object_new_object();
		json_object_object_add(o, "volume", json_object_new_string(t.vol.sb.name));
		json_object_object_add(o, "damaged", json_object_new_boolean(counts.damage > 0));
		json_object_object_add(o, "findings", findings);
		tool_print_json(o);
	} else {
		json_object_put(findings);
		printf("%s: %s (%u damaged, %u notes)\n", t.vol.sb.name,
		       counts.damage ? "DAMAGED" : "ok", counts.damage, counts.notes);
	}
	tool_close(&t);
	return counts.damage ? CD_ERR_CORRUPT : 0;
}
