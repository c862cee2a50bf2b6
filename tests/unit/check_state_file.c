#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <clusterd/result.h>

#include "check_common.h"
#include "core/state_file.h"
#include "lib/util.h"

static char dir[] = "/tmp/check_state_file.XXXXXX";
static char path[256];

static void setup(void)
{
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/state.json", dir);
}

static void teardown(void)
{
	char tmp[300];

	unlink(path);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	unlink(tmp);
	rmdir(dir);
}

static void sample(struct cd_state *s)
{
	struct json_object *c =
		json_tokener_parse("{\"op\":\"property.set\",\"key\":\"answer\",\"value\":\"42\"}");
	char err[256];

	cd_state_init(s);
	ck_assert_int_eq(cd_state_apply(s, c, err, sizeof(err)), 0);
	json_object_put(c);
}

START_TEST(test_save_load)
{
	struct cd_state s, back;
	char err[256];

	sample(&s);
	ck_assert_int_eq(cd_state_file_save(path, &s, err, sizeof(err)), 0);
	ck_assert_int_eq(cd_state_file_load(path, &back, err, sizeof(err)), 0);
	ck_assert_str_eq(cd_state_prop(&back, "answer"), "42");
	ck_assert_uint_eq(back.version.seq, 1);
	cd_state_free(&s);
	cd_state_free(&back);
}
END_TEST

START_TEST(test_missing_file)
{
	struct cd_state s;
	char err[256];

	ck_assert_int_eq(cd_state_file_load(path, &s, err, sizeof(err)), -ENOENT);
}
END_TEST

/* Every single-byte corruption and every truncation is detected. */
START_TEST(test_corruption_detected)
{
	struct cd_state s, back;
	char err[256], *data;
	size_t len, i;

	sample(&s);
	ck_assert_int_eq(cd_state_file_save(path, &s, err, sizeof(err)), 0);
	ck_assert_int_eq(cd_read_file(path, &data, &len), 0);
	for (i = 0; i < len; i++) {
		data[i] ^= 0x20;
		ck_assert_int_eq(cd_write_file_atomic(path, data, len), 0);
		ck_assert_msg(cd_state_file_load(path, &back, err, sizeof(err)) < 0,
			      "flip at %zu accepted", i);
		data[i] ^= 0x20;
	}
	for (i = 0; i < len; i++) {
		ck_assert_int_eq(cd_write_file_atomic(path, data, i), 0);
		ck_assert_msg(cd_state_file_load(path, &back, err, sizeof(err)) < 0,
			      "truncation at %zu accepted", i);
	}
	free(data);
	cd_state_free(&s);
}
END_TEST

/* Write body as a saved state with a good checksum. */
static void write_state(const char *body)
{
	char sum[65], *buf;
	size_t hlen = strlen("clusterd-state 1 ") + 64 + 1;

	buf = malloc(hlen + strlen(body) + 1);
	ck_assert_ptr_nonnull(buf);
	cd_sha256_hex(body, strlen(body), sum);
	snprintf(buf, hlen + strlen(body) + 1, "clusterd-state 1 %s\n%s", sum, body);
	ck_assert_int_eq(cd_write_file_atomic(path, buf, strlen(buf)), 0);
	free(buf);
}

/*
 * A saved state passes its checksum yet holds what no change would have
 * made: it is refused at load like a snapshot would be.
 */
START_TEST(test_loaded_state_checked)
{
	static const char *bad[] = {
		"{\"format\":1,\"version\":{\"epoch\":1,\"seq\":0},\"nodes\":[],"
		"\"properties\":{\"flap-limit\":\"9\"}}",
		"{\"format\":1,\"version\":{\"epoch\":1,\"seq\":0},\"nodes\":[],"
		"\"properties\":{},\"volumes\":[{\"name\":\"../x\",\"device\":\"/dev/loop3\","
		"\"uuid\":\"u1\",\"hosts\":8,\"expiry_ms\":10000,\"renewal_ms\":1250,"
		"\"coordinator\":0,\"meta_generation\":0,\"files\":[],\"requests\":[],"
		"\"results\":[]}]}",
	};
	const char *good = "{\"format\":1,\"version\":{\"epoch\":1,\"seq\":0},\"nodes\":[],"
			   "\"properties\":{},\"volumes\":[{\"name\":\"x\",\"device\":"
			   "\"/dev/loop3\",\"uuid\":\"u1\",\"hosts\":8,\"expiry_ms\":10000,"
			   "\"renewal_ms\":1250,\"coordinator\":0,\"meta_generation\":0,"
			   "\"files\":[],\"requests\":[],\"results\":[]}]}";
	struct cd_state back;
	char err[256];
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		write_state(bad[i]);
		ck_assert_int_eq(cd_state_file_load(path, &back, err, sizeof(err)), CD_ERR_CORRUPT);
		ck_assert_uint_eq(back.n_volumes, 0);
		ck_assert_uint_eq(back.n_props, 0);
	}
	write_state(good);
	ck_assert_msg(cd_state_file_load(path, &back, err, sizeof(err)) == 0, "%s", err);
	ck_assert_uint_eq(back.n_volumes, 1);
	cd_state_free(&back);
}
END_TEST

/*
 * A saved state carries the current format; one of the format before
 * (fence parameters and map as strings) loads, converted; a newer one is
 * refused, not misread.
 */
START_TEST(test_format_version)
{
	static const char *old = "{\"format\":1,\"version\":{\"epoch\":2,\"seq\":5},\"nodes\":[],"
				 "\"properties\":{},\"fence_devices\":[{\"name\":\"pdu\",\"agent\":"
				 "\"fence_lab\",\"params\":\"ip=10.0.0.9\",\"map\":\"node1=3\"}]}";
	static const char *newer = "{\"format\":3,\"version\":{\"epoch\":2,\"seq\":5},\"nodes\":[],"
				   "\"properties\":{}}";
	struct json_object *o, *f;
	struct cd_state s, back;
	char err[256], *data, plug[16];
	size_t len;

	ck_assert_int_eq(CD_STATE_FORMAT, 2);
	sample(&s);
	ck_assert_int_eq(cd_state_file_save(path, &s, err, sizeof(err)), 0);
	ck_assert_int_eq(cd_read_file(path, &data, &len), 0);
	o = json_tokener_parse(strchr(data, '\n') + 1);
	ck_assert_ptr_nonnull(o);
	ck_assert(json_object_object_get_ex(o, "format", &f));
	ck_assert_int_eq(json_object_get_int(f), CD_STATE_FORMAT);
	json_object_put(o);
	free(data);
	cd_state_free(&s);

	write_state(old);
	ck_assert_msg(cd_state_file_load(path, &back, err, sizeof(err)) == 0, "%s", err);
	ck_assert_uint_eq(back.version.epoch, 2);
	ck_assert_uint_eq(back.n_fencedevs, 1);
	ck_assert_str_eq(
		json_object_get_string(json_object_object_get(back.fencedevs[0].params, "ip")),
		"10.0.0.9");
	ck_assert_str_eq(cd_fencedev_plug(&back.fencedevs[0], "node1", plug, sizeof(plug)), "3");
	/* Saved again, it is of the current format. */
	ck_assert_int_eq(cd_state_file_save(path, &back, err, sizeof(err)), 0);
	cd_state_free(&back);
	ck_assert_int_eq(cd_read_file(path, &data, &len), 0);
	ck_assert_ptr_nonnull(strstr(data, "{\"format\":2,"));
	free(data);

	write_state(newer);
	ck_assert_int_eq(cd_state_file_load(path, &back, err, sizeof(err)), CD_ERR_VERSION);
	ck_assert_ptr_nonnull(strstr(err, "format 3 is not supported"));
	ck_assert_uint_eq(back.version.epoch, 0);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("state_file");
	TCase *tc = tcase_create("file");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_save_load);
	tcase_add_test(tc, test_missing_file);
	tcase_add_test(tc, test_corruption_detected);
	tcase_add_test(tc, test_loaded_state_checked);
	tcase_add_test(tc, test_format_version);
	suite_add_tcase(s, tc);
	return run_suite(s);
}
