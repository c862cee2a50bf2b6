/*
 * clusterctl: shared volumes, their files and disk leases (and the test
 * builds' volume-stall).
 */
#include "config.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <clusterd/client.h>
#include <clusterd/result.h>

#include "cli/clusterctl.h"
#include "lib/util.h"

/* "10G", "512M", "4096": bytes. Returns 0 or CD_ERR_INVALID. */
static int parse_size(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;
	uint64_t mul = 1;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s)
		return CD_ERR_INVALID;
	switch (*end) {
	/* clang-format off */
	case 'k': case 'K': mul = 1ull << 10; end++; break;
	case 'm': case 'M': mul = 1ull << 20; end++; break;
	case 'g': case 'G': mul = 1ull << 30; end++; break;
	case 't': case 'T': mul = 1ull << 40; end++; break;
	default: break;
	}
	/* clang-format on */
	if (*end == 'i' || *end == 'B')
		end += (*end == 'i' && end[1] == 'B') ? 2 : 1;
	if (*end || v == 0 || v > UINT64_MAX / mul)
		return CD_ERR_INVALID;
	*out = v * mul;
	return 0;
}

static void format_bytes(char *buf, size_t n, uint64_t b)
{
	if (b >= (1ull << 30))
		snprintf(buf, n, "%.1f GiB", (double)b / (double)(1ull << 30));
	else if (b >= (1ull << 20))
		snprintf(buf, n, "%.1f MiB", (double)b / (double)(1ull << 20));
	else
		snprintf(buf, n, "%llu B", (unsigned long long)b);
}

static void print_files(struct json_object *v)
{
	struct json_object *files = NULL, *local = NULL, *exp = NULL;
	size_t i, k;

	json_object_object_get_ex(v, "files", &files);
	json_object_object_get_ex(v, "local", &local);
	if (local)
		json_object_object_get_ex(local, "exposed", &exp);
	printf("%-24s %12s %14s  %s\n", "FILE", "SIZE", "OFFSET", "PATH");
	for (i = 0; files && i < json_object_array_length(files); i++) {
		struct json_object *f = json_object_array_get_idx(files, i);
		const char *path = "-";
		char size[32];

		for (k = 0; exp && k < json_object_array_length(exp); k++) {
			struct json_object *e = json_object_array_get_idx(exp, k);

			if (strcmp(jstr(e, "file"), jstr(f, "name")) == 0)
				path = jstr(e, "path");
		}
		format_bytes(size, sizeof(size), (uint64_t)jint(f, "size"));
		printf("%-24s %12s %14lld  %s\n", jstr(f, "name"), size,
		       (long long)jint(f, "offset"), path);
	}
}

static void show_volume(struct json_object *v)
{
	struct json_object *local = NULL;

	json_object_object_get_ex(v, "local", &local);
	printf("Volume:       %s\nDevice:       %s\nUUID:         %s\n", jstr(v, "name"),
	       jstr(v, "device"), jstr(v, "uuid"));
	printf("Host slots:   %lld (lease expiry %lld ms, renewal %lld ms)\n",
	       (long long)jint(v, "hosts"), (long long)jint(v, "expiry_ms"),
	       (long long)jint(v, "renewal_ms"));
	printf("Coordinator:  node %lld (holds the metadata lease)\n",
	       (long long)jint(v, "coordinator"));
	if (local)
		printf("This node:    host lease %s (%lld ms left), metadata lease %s\n",
		       jbool(local, "host_lease_valid") ? "valid" : "NOT VALID",
		       (long long)jint(local, "valid_for_ms"),
		       jbool(local, "metadata_lease") ? "held" : "not held");
	printf("\n");
	print_files(v);
}

static void show_volume_list(struct json_object *o)
{
	struct json_object *vols = NULL;
	size_t i;

	json_object_object_get_ex(o, "volumes", &vols);
	printf("%-16s %-24s %6s %6s  %s\n", "VOLUME", "DEVICE", "FILES", "COORD", "HOST LEASE");
	for (i = 0; vols && i < json_object_array_length(vols); i++) {
		struct json_object *v = json_object_array_get_idx(vols, i), *f = NULL, *l = NULL;

		json_object_object_get_ex(v, "files", &f);
		json_object_object_get_ex(v, "local", &l);
		printf("%-16s %-24s %6zu %6lld  %s\n", jstr(v, "name"), jstr(v, "device"),
		       f ? json_object_array_length(f) : 0, (long long)jint(v, "coordinator"),
		       l && jbool(l, "host_lease_valid") ? "valid" : "not valid");
	}
}

int cmd_volume_add(struct cd_client *c, char **argv, int argc, const struct ctl_opts *o)
{
	return simple(c, "volume.add", args2("name", argv[0], "device", argv[1]), NULL);
}

int cmd_volume_remove(struct cd_client *c, char **argv, int argc, const struct ctl_opts *o)
{
	return simple(c, "volume.remove", args1("name", argv[0]), NULL);
}

int cmd_volume_list(struct cd_client *c, char **argv, int argc, const struct ctl_opts *o)
{
	return simple(c, "volume.list", NULL, show_volume_list);
}

int cmd_volume_show(struct cd_client *c, char **argv, int argc, const struct ctl_opts *o)
{
	return simple(c, "volume.show", args1("name", argv[0]), show_volume);
}

int cmd_file_list(struct cd_client *c, char **argv, int argc, const struct ctl_opts *o)
{
	return simple(c, "volume.show", args1("name", argv[0]), print_files);
}

static int file_op(struct cd_client *c, const char *fop, char **argv, int argc)
{
	struct json_object *a = args1("name", argv[0]);
	uint64_t size;

	json_object_object_add(a, "fop", json_object_new_string(fop));
	json_object_object_add(a, "file", json_object_new_string(argv[1]));
	if (argc > 2) {
		if (parse_size(argv[2], &size) < 0) {
			fprintf(stderr, "clusterctl: bad size '%s' (e.g. 512M, 10G)\n", argv[2]);
			json_object_put(a);
			return CD_ERR_INVALID;
		}
		json_object_object_add(a, "size", json_object_new_int64((int64_t)size));
	}
	json_object_object_add(
		a, "timeout_ms",
		json_object_new_int(opt.timeout_ms > 1000 ? opt.timeout_ms - 500 : opt.timeout_ms));
	{
		/*
		 * One id for this request, the same on every retry: the cluster
		 * carries it out once and answers a retry with the first answer.
		 */
		json_object_object_add(a, "request_id",
				       json_object_new_int64((int64_t)cd_random_id()));
	}
	return simple(c, "volume.file", a, NULL);
}

int cmd_file_create(struct cd_client *c, char **argv, int argc, const struct ctl_opts *o)
{
	return file_op(c, "create", argv, argc);
}

int cmd_file_remove(struct cd_client *c, char **argv, int argc, const struct ctl_opts *o)
{
	return file_op(c, "remove", argv, argc);
}

int cmd_file_resize(struct cd_client *c, char **argv, int argc, const struct ctl_opts *o)
{
	return file_op(c, "resize", argv, argc);
}

/* shared: --shared (acquire only). */
static int lease_op(struct cd_client *c, bool acquire, bool shared, char **argv)
{
	struct json_object *a = args2("name", argv[0], "file", argv[1]);

	json_object_object_add(a, "acquire", json_object_new_boolean(acquire));
	json_object_object_add(a, "shared", json_object_new_boolean(shared));
	return simple(c, "volume.lease", a, NULL);
}

int cmd_lease_acquire(struct cd_client *c, char **argv, int argc, const struct ctl_opts *o)
{
	return lease_op(c, true, o->shared, argv);
}

int cmd_lease_release(struct cd_client *c, char **argv, int argc, const struct ctl_opts *o)
{
	return lease_op(c, false, false, argv);
}

#ifdef CD_TEST_HOOKS
int cmd_debug_stall(struct cd_client *c, char **argv, int argc, const struct ctl_opts *o)
{
	struct json_object *a = args1("name", argv[0]);
	const char *mode = strcmp(argv[1], "on") == 0 ? "stall" : argv[1];

	if (strcmp(mode, "stall") != 0 && strcmp(mode, "error") != 0 && strcmp(mode, "off") != 0) {
		fprintf(stderr, "clusterctl: debug volume-stall takes on (renewals stall), "
				"error (every I/O fails) or off\n");
		json_object_put(a);
		return CD_ERR_INVALID;
	}
	json_object_object_add(a, "mode", json_object_new_string(mode));
	return simple(c, "debug.volume_stall", a, NULL);
}
#endif