/*
 * clusterctl debug dump's archive (cli/dump_archive.h): written with
 * libarchive, read back with it; the default name; the --json result.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <archive.h>
#include <archive_entry.h>

#include "check_common.h"
#include "cli/dump_archive.h"

START_TEST(test_write_read)
{
	char dir[256], path[300], err[256], buf[64];
	struct dump_archive *a;
	struct archive *r;
	struct archive_entry *e;
	int n = 0;

	tmpdir_make(dir, sizeof(dir), "check_dump_archive");
	snprintf(path, sizeof(path), "%s/d.tar.gz", dir);
	ck_assert_int_eq(dump_archive_open(&a, path, "d", err, sizeof(err)), 0);
	ck_assert_int_eq(dump_archive_begin(a, "node1-blackbox.txt", 10, err, sizeof(err)), 0);
	ck_assert_int_eq(dump_archive_data(a, "01234", 5, err, sizeof(err)), 0);
	ck_assert_int_eq(dump_archive_data(a, "56789", 5, err, sizeof(err)), 0);
	ck_assert_int_eq(dump_archive_add(a, "summary.json", "{}", 2, err, sizeof(err)), 0);
	ck_assert_int_eq(dump_archive_close(a, err, sizeof(err)), 0);
	ck_assert_int_eq(dump_archive_close(NULL, err, sizeof(err)), 0);

	r = archive_read_new();
	archive_read_support_filter_gzip(r);
	archive_read_support_format_tar(r);
	ck_assert_int_eq(archive_read_open_filename(r, path, 10240), ARCHIVE_OK);
	while (archive_read_next_header(r, &e) == ARCHIVE_OK) {
		la_ssize_t got = archive_read_data(r, buf, sizeof(buf));

		if (n == 0) {
			ck_assert_str_eq(archive_entry_pathname(e), "d/node1-blackbox.txt");
			ck_assert_int_eq(got, 10);
			ck_assert_int_eq(memcmp(buf, "0123456789", 10), 0);
		} else {
			ck_assert_str_eq(archive_entry_pathname(e), "d/summary.json");
			ck_assert_int_eq(got, 2);
		}
		n++;
	}
	ck_assert_int_eq(n, 2);
	ck_assert_int_eq(archive_filter_code(r, 0), ARCHIVE_FILTER_GZIP);
	archive_read_free(r);
	tmpdir_remove(dir);
}
END_TEST

START_TEST(test_open_fails)
{
	struct dump_archive *a;
	char err[256];

	ck_assert_int_lt(dump_archive_open(&a, "/nonexistent/dir/x.tar.gz", "x", err, sizeof(err)),
			 0);
	ck_assert_ptr_null(a);
	ck_assert_ptr_nonnull(strstr(err, "cannot write /nonexistent/dir/x.tar.gz"));
}
END_TEST

START_TEST(test_names)
{
	char buf[64];

	dump_default_name(buf, sizeof(buf), 1709214307089ull);
	ck_assert_str_eq(buf, "clusterd-dump-20240229T134507Z.tar.gz");
}
END_TEST

START_TEST(test_result)
{
	const char *summary =
		"{\"dump\":7,\"nodes\":[{\"node\":\"node1\",\"nodeid\":1,\"ok\":true,\"bytes\":120,"
		"\"status\":{}},{\"node\":\"node2\",\"nodeid\":2,\"ok\":false,\"bytes\":0,"
		"\"error\":\"x\"}],\"missing\":[{\"node\":\"node3\",\"reason\":\"not a member\"}]}";
	struct json_object *s = json_tokener_parse(summary),
			   *r = dump_result_json("/t/d.tar.gz", s);

	ck_assert_str_eq(json_object_to_json_string_ext(r, JSON_C_TO_STRING_PLAIN |
								   JSON_C_TO_STRING_NOSLASHESCAPE),
			 "{\"archive\":\"/t/d.tar.gz\",\"nodes\":[{\"node\":\"node1\",\"ok\":true,"
			 "\"bytes\":120},{\"node\":\"node2\",\"ok\":false,\"bytes\":0}],"
			 "\"missing\":[\"node3\"]}");
	json_object_put(r);
	json_object_put(s);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("dump_archive");

	add_tcase(s, test_write_read);
	add_tcase(s, test_open_fails);
	add_tcase(s, test_names);
	add_tcase(s, test_result);
	return run_suite(s);
}
