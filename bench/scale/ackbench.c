/*
 * A change acknowledged end to end, as a client of clusterd sees it:
 *
 *   ackbench add DIR       vm.add of each NAME read from stdin (one per
 *                          line), its definition DIR/NAME.xml
 *   ackbench remove        vm.remove of each NAME read from stdin
 *   ackbench prop N        N property.set of the key bench.ack
 *
 * over one IPC connection to the local clusterd, one request at a time.
 * Each is timed from its send to its answer: clusterd answers a change
 * once it is delivered through corosync to every member, applied, and on
 * this node's disk (its journal committed), so this is the latency of an
 * acknowledged change. Prints one JSON line: the count, how many failed
 * (and the first error), p50, p99 and max in ms, the whole time and the
 * rate. Exit status 1 when any failed. A benchmark, never a test.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>

#include "bench/scale/pct.h"
#include "clusterd/client.h"
#include "lib/util.h"

#define CALL_TIMEOUT_MS 60000

struct samples {
	double *v;
	size_t n, cap;
	unsigned failed;
	char first_err[256];
};

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void add_sample(struct samples *s, double ms)
{
	if (s->n == s->cap) {
		s->cap = s->cap ? 2 * s->cap : 1024;
		s->v = realloc(s->v, s->cap * sizeof(*s->v));
		if (!s->v) {
			fprintf(stderr, "ackbench: out of memory\n");
			exit(2);
		}
	}
	s->v[s->n++] = ms;
}

/* One timed request; args is consumed. */
static void timed(struct cd_client *c, struct samples *s, const char *cmd, struct json_object *args)
{
	struct json_object *reply;
	double t = now_ms();
	int rc;

	rc = cd_client_call(c, cmd, args, CALL_TIMEOUT_MS, &reply);
	add_sample(s, now_ms() - t);
	if (rc != 0) {
		if (!s->failed++) {
			struct json_object *e;
			const char *why = json_object_object_get_ex(reply, "error", &e)
						  ? json_object_get_string(e)
						  : "no reason given";

			snprintf(s->first_err, sizeof(s->first_err), "%s: %s", cmd, why);
		}
	}
	json_object_put(reply);
	json_object_put(args);
}

/* Each NAME on stdin, as the command wants it. */
static void each_name(struct cd_client *c, struct samples *s, const char *cmd, const char *dir)
{
	char line[512], path[1024];

	while (fgets(line, sizeof(line), stdin)) {
		struct json_object *a = json_object_new_object();
		char *xml;
		size_t len;
		int rc;

		line[strcspn(line, "\r\n")] = '\0';
		if (!line[0]) {
			json_object_put(a);
			continue;
		}
		json_object_object_add(a, "name", json_object_new_string(line));
		if (dir) {
			snprintf(path, sizeof(path), "%s/%s.xml", dir, line);
			rc = cd_read_file(path, &xml, &len);
			if (rc < 0) {
				fprintf(stderr, "ackbench: cannot read %s: %s\n", path,
					strerror(-rc));
				exit(2);
			}
			json_object_object_add(a, "xml", json_object_new_string_len(xml, (int)len));
			free(xml);
		}
		timed(c, s, cmd, a);
	}
}

static int usage(void)
{
	fprintf(stderr, "usage: ackbench add DIR < NAMES\n"
			"       ackbench remove < NAMES\n"
			"       ackbench prop N\n");
	return 2;
}

int main(int argc, char **argv)
{
	struct samples s = {0};
	struct cd_client *c;
	const char *op;
	char err[256];
	double t0, total, p50, p99;
	int rc;

	if (argc < 2)
		return usage();
	rc = cd_client_connect(&c, err, sizeof(err));
	if (rc != 0) {
		fprintf(stderr, "ackbench: %s\n", err);
		return 2;
	}
	t0 = now_ms();
	if (!strcmp(argv[1], "add") && argc == 3) {
		op = "vm.add";
		each_name(c, &s, op, argv[2]);
	} else if (!strcmp(argv[1], "remove") && argc == 2) {
		op = "vm.remove";
		each_name(c, &s, op, NULL);
	} else if (!strcmp(argv[1], "prop") && argc == 3) {
		long n = strtol(argv[2], NULL, 10);
		char v[32];

		op = "property.set";
		for (long i = 0; i < n; i++) {
			struct json_object *a = json_object_new_object();

			snprintf(v, sizeof(v), "%ld", i);
			json_object_object_add(a, "key", json_object_new_string("bench.ack"));
			json_object_object_add(a, "value", json_object_new_string(v));
			timed(c, &s, op, a);
		}
	} else {
		cd_client_close(c);
		return usage();
	}
	total = now_ms() - t0;
	cd_client_close(c);
	p50 = bench_pct(s.v, s.n, 50);
	p99 = bench_pct(s.v, s.n, 99);
	printf("{\"op\": \"%s\", \"n\": %zu, \"failed\": %u, \"p50_ms\": %.3f, \"p99_ms\": %.3f, "
	       "\"max_ms\": %.3f, \"total_s\": %.3f, \"per_s\": %.1f",
	       op, s.n, s.failed, p50, p99, s.n ? s.v[s.n - 1] : 0, total / 1e3,
	       total > 0 ? s.n * 1e3 / total : 0);
	if (s.failed) {
		struct json_object *e = json_object_new_string(s.first_err);

		printf(", \"first_error\": %s", json_object_to_json_string(e));
		json_object_put(e);
	}
	printf("}\n");
	free(s.v);
	return s.failed ? 1 : 0;
}
