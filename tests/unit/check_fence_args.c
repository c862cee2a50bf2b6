/*
 * clusterctl fence add's parameters: secrets from standard input or a
 * file instead of argv, a warning for a secret given plainly, and an
 * object clusterd reads back to the same values.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <clusterd/result.h>

#include "agents/fence_proto.h"
#include "check_common.h"
#include "cli/fence_args.h"

#define SECRET "s3cret 'Pw"

static char err[512];
static char dir[64];

static void dir_setup(void)
{
	tmpdir_make(dir, sizeof(dir), "check_fence_args");
}

static void dir_teardown(void)
{
	tmpdir_remove(dir);
}

/* A file of the test's directory holding text; returns its path. */
static const char *file_with(const char *name, const char *text)
{
	static char path[128];

	tmpdir_writef(path, sizeof(path), dir, name, "%s", text);
	return path;
}

/* Standard input holding text (a memory stream; the caller closes it). */
static FILE *input(const char *text)
{
	FILE *f = fmemopen((void *)text, strlen(text), "r");

	ck_assert_ptr_nonnull(f);
	return f;
}

START_TEST(test_secret_plain)
{
	char *v;
	bool visible;
	FILE *in = input("");

	ck_assert_int_eq(
		cd_fence_secret_read("password", "hunter2", in, &v, &visible, err, sizeof(err)), 0);
	ck_assert_str_eq(v, "hunter2");
	ck_assert(visible);
	cd_fence_wipe_free(v);
	fclose(in);
}
END_TEST

START_TEST(test_secret_stdin)
{
	char *v;
	bool visible = true;
	FILE *in = input(SECRET "\n");

	ck_assert_int_eq(cd_fence_secret_read("password", "-", in, &v, &visible, err, sizeof(err)),
			 0);
	ck_assert_str_eq(v, SECRET);
	ck_assert(!visible);
	cd_fence_wipe_free(v);
	fclose(in);

	/* A CRLF line, and a last line without a line break. */
	in = input(SECRET "\r\n");
	ck_assert_int_eq(cd_fence_secret_read("passwd", "-", in, &v, &visible, err, sizeof(err)),
			 0);
	ck_assert_str_eq(v, SECRET);
	cd_fence_wipe_free(v);
	fclose(in);
	in = input(SECRET);
	ck_assert_int_eq(cd_fence_secret_read("passwd", "-", in, &v, &visible, err, sizeof(err)),
			 0);
	ck_assert_str_eq(v, SECRET);
	cd_fence_wipe_free(v);
	fclose(in);

	/* Nothing, or an empty line: an error, not an empty password. */
	in = input("");
	ck_assert_int_eq(cd_fence_secret_read("password", "-", in, &v, &visible, err, sizeof(err)),
			 CD_ERR_INVALID);
	ck_assert_ptr_null(v);
	ck_assert_ptr_nonnull(strstr(err, "standard input"));
	fclose(in);
	in = input("\n" SECRET "\n");
	ck_assert_int_eq(cd_fence_secret_read("password", "-", in, &v, &visible, err, sizeof(err)),
			 CD_ERR_INVALID);
	ck_assert_ptr_nonnull(strstr(err, "empty"));
	fclose(in);
}
END_TEST

START_TEST(test_secret_file)
{
	char spec[160];
	char *v;
	bool visible = true;
	FILE *in = input("not this\n");

	snprintf(spec, sizeof(spec), "@%s", file_with("pw", SECRET "\n"));
	ck_assert_int_eq(cd_fence_secret_read("password", spec, in, &v, &visible, err, sizeof(err)),
			 0);
	ck_assert_str_eq(v, SECRET);
	ck_assert(!visible);
	cd_fence_wipe_free(v);

	/* Trailing blank lines are fine; a second line is not. */
	snprintf(spec, sizeof(spec), "@%s", file_with("pw2", SECRET "\n\n  \n"));
	ck_assert_int_eq(cd_fence_secret_read("password", spec, in, &v, &visible, err, sizeof(err)),
			 0);
	ck_assert_str_eq(v, SECRET);
	cd_fence_wipe_free(v);
	snprintf(spec, sizeof(spec), "@%s", file_with("pw3", SECRET "\nother\n"));
	ck_assert_int_eq(cd_fence_secret_read("password", spec, in, &v, &visible, err, sizeof(err)),
			 CD_ERR_INVALID);
	ck_assert_ptr_null(v);
	ck_assert_ptr_nonnull(strstr(err, "more than one line"));
	ck_assert_ptr_null(strstr(err, SECRET));

	snprintf(spec, sizeof(spec), "@%s", file_with("empty", ""));
	ck_assert_int_eq(cd_fence_secret_read("password", spec, in, &v, &visible, err, sizeof(err)),
			 CD_ERR_INVALID);
	snprintf(spec, sizeof(spec), "@%s/missing", dir);
	ck_assert_int_eq(cd_fence_secret_read("password", spec, in, &v, &visible, err, sizeof(err)),
			 -ENOENT);
	ck_assert_ptr_nonnull(strstr(err, "missing"));
	fclose(in);
}
END_TEST

/* The parameters of words as JSON text, with standard input in_text; warnings into *warned. */
static int args_json(const char *const *words, size_t n, const char *in_text, char **text,
		     char **warned)
{
	FILE *in = input(in_text);
	size_t wlen;
	FILE *warn = open_memstream(warned, &wlen);
	struct json_object *o = (void *)1;
	int rc;

	ck_assert_ptr_nonnull(warn);
	*text = NULL;
	rc = cd_fence_args_json(words, n, in, warn, &o, err, sizeof(err));
	if (rc == 0)
		*text = strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
	else
		ck_assert_ptr_null(o);
	json_object_put(o);
	fclose(warn);
	fclose(in);
	return rc;
}

START_TEST(test_args_json_stdin)
{
	const char *words[] = {"ip=10.0.0.1", "username=admin", "password=-", "plug=-"};
	struct cd_fence_params *p;
	struct json_object *o;
	char *text, *warned;

	ck_assert_int_eq(args_json(words, 4, SECRET "\n", &text, &warned), 0);
	ck_assert_str_eq(text, "{\"ip\":\"10.0.0.1\",\"username\":\"admin\",\"password\":\""
			       "s3cret 'Pw\",\"plug\":\"-\"}");
	ck_assert_str_eq(warned, "");
	/* What clusterd reads back. */
	o = json_tokener_parse(text);
	ck_assert_int_eq(cd_fence_params_from_json(o, &p, err, sizeof(err)), 0);
	ck_assert_str_eq(cd_fence_params_get(p, "password"), SECRET);
	ck_assert_str_eq(cd_fence_params_get(p, "plug"), "-");
	cd_fence_params_free(p);
	json_object_put(o);
	cd_fence_wipe_free(text);
	free(warned);
}
END_TEST

START_TEST(test_args_json_plain_warns)
{
	const char *words[] = {"ip=10.0.0.1", "password=hunter2 x"};
	char *text, *warned;

	ck_assert_int_eq(args_json(words, 2, "", &text, &warned), 0);
	ck_assert_str_eq(text, "{\"ip\":\"10.0.0.1\",\"password\":\"hunter2 x\"}");
	ck_assert_ptr_nonnull(strstr(warned, "password="));
	ck_assert_ptr_nonnull(strstr(warned, "process list"));
	ck_assert_ptr_null(strstr(warned, "hunter2"));
	cd_fence_wipe_free(text);
	free(warned);
}
END_TEST

START_TEST(test_args_json_file)
{
	char word[160];
	const char *words[] = {"login=root", word};
	char *text, *warned;

	snprintf(word, sizeof(word), "passwd=@%s", file_with("pw", "a\"b\n"));
	ck_assert_int_eq(args_json(words, 2, "", &text, &warned), 0);
	ck_assert_str_eq(text, "{\"login\":\"root\",\"passwd\":\"a\\\"b\"}");
	ck_assert_str_eq(warned, "");
	cd_fence_wipe_free(text);
	free(warned);
}
END_TEST

START_TEST(test_args_json_errors)
{
	const char *two_stdin[] = {"password=-", "community=-"};
	const char *no_eq[] = {"ip"};
	const char *dup[] = {"ip=a", "ip=b"};
	const char *reserved[] = {"action=off"};
	const char *space[] = {"pass word=x"};
	char *text, *warned;

	ck_assert_int_eq(args_json(two_stdin, 2, "a\nb\n", &text, &warned), CD_ERR_INVALID);
	ck_assert_ptr_null(text);
	ck_assert_ptr_nonnull(strstr(err, "only one"));
	free(warned);
	ck_assert_int_eq(args_json(no_eq, 1, "", &text, &warned), CD_ERR_INVALID);
	free(warned);
	ck_assert_int_eq(args_json(dup, 2, "", &text, &warned), CD_ERR_EXISTS);
	free(warned);
	ck_assert_int_eq(args_json(reserved, 1, "", &text, &warned), CD_ERR_INVALID);
	free(warned);
	ck_assert_int_eq(args_json(space, 1, "", &text, &warned), CD_ERR_INVALID);
	free(warned);
	/* Both quote marks: an object carries them. */
	ck_assert_int_eq(args_json(two_stdin, 1, "it's \"x\"\n", &text, &warned), 0);
	ck_assert_str_eq(text, "{\"password\":\"it's \\\"x\\\"\"}");
	cd_fence_wipe_free(text);
	free(warned);
	/* No parameters at all: an empty object. */
	ck_assert_int_eq(args_json(NULL, 0, "", &text, &warned), 0);
	ck_assert_str_eq(text, "{}");
	cd_fence_wipe_free(text);
	free(warned);
}
END_TEST

#define add_dir_tcase(suite, fn) add_fixture_tcase(suite, fn, dir_setup, dir_teardown)

int main(void)
{
	Suite *s = suite_create("fence_args");

	add_tcase(s, test_secret_plain);
	add_tcase(s, test_secret_stdin);
	add_dir_tcase(s, test_secret_file);
	add_tcase(s, test_args_json_stdin);
	add_tcase(s, test_args_json_plain_warns);
	add_dir_tcase(s, test_args_json_file);
	add_tcase(s, test_args_json_errors);
	return run_suite(s);
}
