/*
 * The golden tests of the placement policy: for every cases/NAME.in, decide
 * and compare the actions (and the explanations the case asks for) with
 * cases/NAME.out.
 *
 *   run_golden [-u] [CASES_DIR]
 *
 * CASES_DIR defaults to $srcdir/tests/golden/cases (make check exports
 * srcdir). -u writes the .out files instead of comparing: review the diff
 * before committing it, the point of a golden file is that a person agreed
 * with it.
 *
 * Each case is also decided with its nodes and VMs in reverse order: the
 * result must not change, since the coordinator's input order is whatever
 * the replicated state happens to hold.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <clusterd/result.h>

#include "lib/util.h"
#include "policy/policy_text.h"

/* Decide t and write the outcome into a new string the caller frees. */
static int render(const struct cd_policy_text *t, char **text, char *err, size_t errlen)
{
	struct cd_policy_result res;
	size_t len;
	FILE *f;
	int rc;

	*text = NULL;
	rc = cd_policy_decide(&t->in, &res);
	if (rc) {
		snprintf(err, errlen, "decide: %s", res.error[0] ? res.error : cd_strerror(rc));
		return rc;
	}
	f = open_memstream(text, &len);
	if (!f) {
		cd_policy_result_free(&res);
		return -errno;
	}
	rc = cd_policy_text_write(f, t, &res);
	if (fclose(f) && rc == 0)
		rc = -EIO;
	cd_policy_result_free(&res);
	if (rc)
		snprintf(err, errlen, "write: %s", cd_strerror(rc));
	return rc;
}

/*
 * The same case with nodes and VMs reversed. The explain indices follow
 * their VMs. Returns 0 or -ENOMEM; caller frees *r with cd_policy_text_free.
 */
static int reversed(const struct cd_policy_text *t, struct cd_policy_text *r)
{
	size_t i, nn = t->in.n_nodes, nv = t->in.n_vms;

	memset(r, 0, sizeof(*r));
	r->nodes = calloc(nn ? nn : 1, sizeof(*r->nodes));
	r->vms = calloc(nv ? nv : 1, sizeof(*r->vms));
	r->explain = calloc(t->n_explain ? t->n_explain : 1, sizeof(*r->explain));
	if (!r->nodes || !r->vms || !r->explain)
		return -ENOMEM;
	for (i = 0; i < nn; i++)
		r->nodes[i] = t->nodes[nn - 1 - i];
	for (i = 0; i < nv; i++)
		r->vms[i] = t->vms[nv - 1 - i];
	for (i = 0; i < t->n_explain; i++)
		r->explain[i] = nv - 1 - t->explain[i];
	r->n_explain = t->n_explain;
	/* Everything else of the input (time, cpu-overcommit) as it was. */
	r->in = t->in;
	r->in.nodes = r->nodes;
	r->in.vms = r->vms;
	return 0;
}

/* Print both texts with line numbers, marking the lines that differ. */
static void show_diff(const char *want, const char *got)
{
	unsigned int line = 1;

	printf("    line  expected | got\n");
	while (*want || *got) {
		size_t wl = strcspn(want, "\n"), gl = strcspn(got, "\n");
		int same = wl == gl && memcmp(want, got, wl) == 0;

		printf("  %s %4u  %.*s\n", same ? " " : "-", line, (int)wl, want);
		if (!same)
			printf("  + %4u  %.*s\n", line, (int)gl, got);
		want += wl + (want[wl] == '\n');
		got += gl + (got[gl] == '\n');
		line++;
	}
}

/* Returns 0 if the case passes (or was written with -u), 1 if it fails. */
static int run_case(const char *dir, const char *name, int update)
{
	char *in_path = NULL, *out_path = NULL, err[512];
	char *input = NULL, *want = NULL, *got = NULL, *got_rev = NULL;
	struct cd_policy_text t, rev;
	size_t len;
	int rc, failed = 1;

	memset(&rev, 0, sizeof(rev));
	memset(&t, 0, sizeof(t));
	if (asprintf(&in_path, "%s/%s", dir, name) < 0 ||
	    asprintf(&out_path, "%s/%.*s.out", dir, (int)strlen(name) - 3, name) < 0) {
		printf("FAIL %s: out of memory\n", name);
		return 1;
	}
	rc = cd_read_file(in_path, &input, &len);
	if (rc) {
		printf("FAIL %s: %s\n", in_path, cd_strerror(rc));
		goto out;
	}
	rc = cd_policy_text_parse(input, &t, err, sizeof(err));
	if (rc == 0)
		rc = render(&t, &got, err, sizeof(err));
	if (rc) {
		printf("FAIL %s: %s\n", in_path, err);
		goto out;
	}
	if (update) {
		rc = cd_write_file_atomic(out_path, got, strlen(got));
		printf("%s %s\n", rc ? "FAIL" : "WROTE", out_path);
		failed = rc != 0;
		goto out;
	}
	rc = cd_read_file(out_path, &want, &len);
	if (rc) {
		printf("FAIL %s: %s (run_golden -u writes it)\n", out_path, cd_strerror(rc));
		goto out;
	}
	if (strcmp(want, got) != 0) {
		printf("FAIL %s: the actions differ from %s\n", in_path, out_path);
		show_diff(want, got);
		goto out;
	}
	rc = reversed(&t, &rev);
	if (rc == 0)
		rc = render(&rev, &got_rev, err, sizeof(err));
	if (rc || strcmp(got, got_rev) != 0) {
		printf("FAIL %s: the result depends on the input order\n", in_path);
		if (rc == 0)
			show_diff(got, got_rev);
		goto out;
	}
	printf("PASS %s\n", name);
	failed = 0;
out:
	cd_policy_text_free(&rev);
	cd_policy_text_free(&t);
	free(got_rev);
	free(got);
	free(want);
	free(input);
	free(out_path);
	free(in_path);
	return failed;
}

static int is_case(const struct dirent *d)
{
	size_t n = strlen(d->d_name);

	return n > 3 && strcmp(d->d_name + n - 3, ".in") == 0;
}

int main(int argc, char **argv)
{
	char dflt[PATH_MAX];
	const char *dir, *srcdir = getenv("srcdir");
	struct dirent **cases;
	int update = 0, opt, n, i, failed = 0;

	while ((opt = getopt(argc, argv, "u")) != -1) {
		if (opt != 'u') {
			fprintf(stderr, "usage: %s [-u] [CASES_DIR]\n", argv[0]);
			return 2;
		}
		update = 1;
	}
	snprintf(dflt, sizeof(dflt), "%s/tests/golden/cases", srcdir ? srcdir : ".");
	dir = optind < argc ? argv[optind] : dflt;
	n = scandir(dir, &cases, is_case, alphasort);
	if (n < 0) {
		fprintf(stderr, "%s: %s\n", dir, strerror(errno));
		return 1;
	}
	for (i = 0; i < n; i++) {
		failed += run_case(dir, cases[i]->d_name, update);
		free(cases[i]);
	}
	free(cases);
	printf("%d passed, %d failed\n", n - failed, failed);
	if (n == 0) {
		fprintf(stderr, "%s: no cases found\n", dir);
		return 1;
	}
	return failed ? 1 : 0;
}
