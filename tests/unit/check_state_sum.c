/*
 * The state checksum: nodes compare it with each other and with the sums
 * saved state files carry, so it must stay exactly the SHA-256 of the
 * state's JSON printed plain. Hashed here with OpenSSL directly, apart from
 * the code under test.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "check_common.h"
#include "check_fixture.h"
#include "core/state_file.h"
#include "core/state_sum.h"
#include "lib/util.h"

/* The hex SHA-256 of s's JSON printed plain, as the checksum was always taken. */
static void expected(const struct cd_state *s, char out[65])
{
	struct json_object *o = cd_state_to_json(s);
	const char *t = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n, i;

	ck_assert_int_eq(EVP_Digest(t, strlen(t), md, &n, EVP_sha256(), NULL), 1);
	ck_assert_uint_eq(n, 32);
	for (i = 0; i < n; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
	json_object_put(o);
}

START_TEST(test_sum_is_sha256_of_json)
{
	struct cd_state empty, full;
	char want[65], got[65];

	cd_state_init(&empty);
	expected(&empty, want);
	ck_assert_int_eq(cd_state_checksum(&empty, got), 0);
	ck_assert_str_eq(got, want);

	fixture_full_state(&full);
	expected(&full, want);
	ck_assert_int_eq(cd_state_checksum(&full, got), 0);
	ck_assert_str_eq(got, want);
	cd_state_free(&full);
	cd_state_free(&empty);
}
END_TEST

/* The text handed out is the text hashed. */
START_TEST(test_text)
{
	struct cd_state s;
	struct cd_state_text t;
	char *text, sum[65];

	fixture_full_state(&s);
	text = fixture_text(&s);
	ck_assert_int_eq(cd_state_text(&s, &t), 0);
	ck_assert_uint_eq(t.len, strlen(t.text));
	ck_assert_str_eq(t.text, text);
	cd_sha256_hex(t.text, t.len, sum);
	ck_assert_str_eq(t.sum, sum);
	cd_state_text_free(&t);
	ck_assert_ptr_null(t.json);
	cd_state_text_free(NULL);
	free(text);
	cd_state_free(&s);
}
END_TEST

/* A saved state file is headed by the state's checksum. */
START_TEST(test_file_header)
{
	char dir[] = "/tmp/check_state_sum.XXXXXX", path[64], head[128], err[256], *data;
	struct cd_state s;
	char sum[65];
	size_t len;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/snap", dir);
	fixture_full_state(&s);
	ck_assert_int_eq(cd_state_checksum(&s, sum), 0);
	ck_assert_int_eq(cd_state_file_save(path, &s, err, sizeof(err)), 0);
	ck_assert_int_eq(cd_read_file(path, &data, &len), 0);
	snprintf(head, sizeof(head), "clusterd-state 1 %s\n", sum);
	ck_assert_uint_gt(len, strlen(head));
	ck_assert_mem_eq(data, head, strlen(head));
	free(data);
	unlink(path);
	rmdir(dir);
	cd_state_free(&s);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("state_sum");

	add_tcase(s, test_sum_is_sha256_of_json);
	add_tcase(s, test_text);
	add_tcase(s, test_file_header);
	return run_suite(s);
}
