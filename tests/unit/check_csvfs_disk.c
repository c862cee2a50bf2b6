/*
 * The real block I/O: O_DIRECT on a sparse file in /tmp, through the
 * library and through the csvfs tool. Where the file system refuses
 * O_DIRECT (tmpfs), the tests say so and pass without running.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <json-c/json.h>

#include <clusterd/result.h>

#include "check_common.h"
#include "csvfs/csvfs.h"

#define MIB (1u << 20)

static char dir[64], path[128];

/* A sparse 64 MiB file; 0, or 1 if O_DIRECT is refused here (test skipped). */
static int make_file(void)
{
	struct csvfs_disk *d;
	int fd, rc;

	snprintf(dir, sizeof(dir), "/tmp/check_csvfs_disk.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/lun", dir);
	fd = open(path, O_CREAT | O_RDWR | O_CLOEXEC, 0600);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(ftruncate(fd, 64 * MIB), 0);
	close(fd);
	rc = csvfs_disk_open(path, 0, &d);
	if (rc == -EINVAL) {
		fprintf(stderr, "SKIP: %s refuses O_DIRECT (tmpfs?)\n", dir);
		return 1;
	}
	ck_assert_int_eq(rc, 0);
	csvfs_disk_close(d);
	return 0;
}

static void remove_file(void)
{
	unlink(path);
	rmdir(dir);
}

START_TEST(test_requests_must_be_aligned)
{
	struct csvfs_disk *d;
	uint8_t *buf;

	if (make_file())
		return;
	ck_assert_int_eq(csvfs_disk_open(path, 0, &d), 0);
	ck_assert_uint_eq(d->size, 64 * MIB);
	ck_assert(d->sector_size == 512 || d->sector_size == 4096);
	buf = csvfs_io_alloc(2 * 4096);
	ck_assert_ptr_nonnull(buf);
	ck_assert_int_eq(csvfs_write(d, 4096, buf, 4096), 0);
	ck_assert_int_eq(csvfs_read(d, 4096, buf, 4096), 0);
	ck_assert_int_eq(csvfs_read(d, 100, buf, 4096), -EINVAL);
	ck_assert_int_eq(csvfs_read(d, 4096, buf + 1, 4096), -EINVAL);
	ck_assert_int_eq(csvfs_read(d, 4096, buf, 100), -EINVAL);
	ck_assert_int_eq(csvfs_read(d, 64 * MIB, buf, 4096), -ENOSPC);
	ck_assert_int_eq(csvfs_write_verified(d, 8192, buf, 4096), 0);
	free(buf);
	csvfs_disk_close(d);
	remove_file();
}
END_TEST

static int64_t jint(struct json_object *o, const char *k)
{
	struct json_object *v;

	ck_assert_msg(json_object_object_get_ex(o, k, &v), "no %s", k);
	return json_object_get_int64(v);
}

/* Format, use, inspect and check a volume through the library. */
START_TEST(test_library_on_a_real_file)
{
	struct csvfs_format_opts o = {.name = "real", .hosts = 3, .files = 16, .expiry_ms = 400};
	struct csvfs_check_counts counts;
	struct json_object *j, *a, *meta;
	struct csvfs_disk *d;
	struct csvfs_host h;
	struct csvfs_vol v;
	struct csvfs_file f;
	struct stat st;

	if (make_file())
		return;
	ck_assert_int_eq(csvfs_disk_open(path, 0, &d), 0);
	ck_assert_int_eq(csvfs_format(d, &csvfs_env_real, &o, NULL), 0);
	ck_assert_int_eq(csvfs_vol_open(&v, d, &csvfs_env_real), 0);
	ck_assert_int_eq(csvfs_host_join(&v, 1, "node1", &h, NULL), 0);
	ck_assert_int_eq(csvfs_file_create(&v, &h, "disk1", 5 * MIB, &f, NULL), 0);
	ck_assert_int_eq(csvfs_lease_acquire(&v, &h, f.index + 1, "disk1", 0, NULL), 0);
	ck_assert_int_eq(csvfs_report_inspect(&v, &j), 0);
	ck_assert_str_eq(json_object_get_string(json_object_object_get(j, "name")), "real");
	ck_assert_int_eq(jint(j, "hosts"), 3);
	a = json_object_object_get(j, "host_slots");
	ck_assert_uint_eq(json_object_array_length(a), 3);
	ck_assert_str_eq(json_object_get_string(
				 json_object_object_get(json_object_array_get_idx(a, 0), "state")),
			 "joined");
	a = json_object_object_get(j, "leases");
	ck_assert_uint_eq(json_object_array_length(a), 2); /* metadata lease and disk1's */
	meta = json_object_object_get(j, "metadata");
	ck_assert_int_eq(jint(meta, "generation"), 2);
	ck_assert_uint_eq(json_object_array_length(json_object_object_get(meta, "files")), 1);
	json_object_put(j);
	ck_assert_int_eq(csvfs_check(&v, NULL, NULL, &counts), 0);
	ck_assert_uint_eq(counts.damage + counts.notes, 0);
	ck_assert_int_eq(csvfs_host_release(&v, &h), 0);
	csvfs_disk_close(d);
	/* Still sparse: metadata and leases only. */
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_int_lt(st.st_blocks * 512, 8 * MIB);
	remove_file();
}
END_TEST

/* Run the csvfs tool; its stdout into out (if not NULL). Returns its exit code. */
static int tool(char *out, size_t n, const char *args)
{
	const char *top = getenv("top_builddir");
	char cmd[512];
	size_t got = 0;
	FILE *p;
	int status;

	snprintf(cmd, sizeof(cmd), "%s/csvfs/csvfs %s 2>/dev/null", top ? top : ".", args);
	p = popen(cmd, "r");
	ck_assert_ptr_nonnull(p);
	if (out) {
		got = fread(out, 1, n - 1, p);
		out[got] = '\0';
	} else {
		while (fgetc(p) != EOF)
			;
	}
	status = pclose(p);
	ck_assert(WIFEXITED(status));
	return WEXITSTATUS(status);
}

START_TEST(test_tool_format_inspect_check)
{
	static char out[1 << 16];
	struct json_object *j;
	char args[256];
	int fd;

	if (make_file())
		return;
	snprintf(args, sizeof(args), "format %s --name tooled --hosts 2 --files 8", path);
	ck_assert_int_eq(tool(NULL, 0, args), 0);
	ck_assert_int_eq(tool(NULL, 0, args), 5); /* exists: --force needed */
	snprintf(args, sizeof(args), "inspect %s --json", path);
	ck_assert_int_eq(tool(out, sizeof(out), args), 0);
	j = json_tokener_parse(out);
	ck_assert_ptr_nonnull(j);
	ck_assert_str_eq(json_object_get_string(json_object_object_get(j, "name")), "tooled");
	ck_assert_int_eq(jint(json_object_object_get(j, "timing"), "expiry_ms"), 8000);
	json_object_put(j);
	snprintf(args, sizeof(args), "check %s", path);
	ck_assert_int_eq(tool(out, sizeof(out), args), 0);
	ck_assert_ptr_nonnull(strstr(out, "tooled: ok"));
	/* No host has joined slot 1: the change is refused as "not found". */
	snprintf(args, sizeof(args), "file create %s disk1 1M --slot 1", path);
	ck_assert_int_eq(tool(NULL, 0, args), 4);
	snprintf(args, sizeof(args), "lease show %s nope", path);
	ck_assert_int_eq(tool(NULL, 0, args), 4);
	ck_assert_int_eq(tool(NULL, 0, "frobnicate"), 2);
	/* Damage one host-lease sector behind the tool's back. */
	fd = open(path, O_WRONLY | O_CLOEXEC);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(pwrite(fd, "x", 1, 4096 + 20), 1);
	ck_assert_int_eq(fsync(fd), 0);
	close(fd);
	snprintf(args, sizeof(args), "check %s --json", path);
	ck_assert_int_eq(tool(out, sizeof(out), args), 8);
	j = json_tokener_parse(out);
	ck_assert_ptr_nonnull(j);
	ck_assert(json_object_get_boolean(json_object_object_get(j, "damaged")));
	json_object_put(j);
	remove_file();
}
END_TEST

int main(void)
{
	Suite *s = suite_create("csvfs_disk");

	add_tcase(s, test_requests_must_be_aligned);
	add_tcase(s, test_library_on_a_real_file);
	add_tcase(s, test_tool_format_inspect_check);
	return run_suite(s);
}
