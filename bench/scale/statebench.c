/*
 * What the replicated state costs at scale, measured in one process with
 * no daemon, no corosync and no libvirt:
 *
 *   statebench [-d DIR] [-t TRIES] VMS NODES
 *
 * builds a state of NODES nodes and VMS VMs, each with a production-sized
 * domain XML (domxml.h), through the changes clusterd applies
 * (cd_state_apply_from(): vm.add, vm.set, vm.start, then vm.place from the
 * coordinator and vm.report "running" from the node), leaving the last
 * PENDING VMs (100, or half of a smaller cluster) stopped and wanted
 * started. Then at that size it times:
 *
 *   add, prop     applying one more vm.add (then removed again) and one
 *                 property.set: TRIES tries each (default 200);
 *   text          cd_state_to_json() + its text + SHA-256: what a snapshot
 *                 or the state file costs, and the state's size;
 *   checksum      cd_state_checksum(), what a sync report's checksum costs:
 *                 the first (every record printed), then with one VM
 *                 changed before each;
 *   journal       cd_journal_append() + cd_journal_commit() (fdatasync) of
 *                 one property.set, TRIES tries, in a temporary directory
 *                 under DIR (default $TMPDIR or /var/tmp: put it on the disk
 *                 the state lives on, not on a tmpfs); snapshot, one
 *                 cd_journal_snapshot() (a compaction); copy, the
 *                 cd_state_copy() clusterd's main loop makes before handing
 *                 a compaction to its thread; save, cd_state_file_save() of
 *                 the whole state, what every batch cost before the journal;
 *   decide        what the coordinator does (clusterd/placement.c): the
 *                 policy adapter's input, cd_policy_decide(), an
 *                 explanation per start; a cold one (a fresh adapter reads
 *                 every VM's XML), the warm-up every member runs in slices
 *                 so that it need not (cd_policy_adapter_warm()), the first
 *                 decision after it, and 20 more;
 *   rss           VmRSS after building the state, and per VM; VmHWM at the
 *                 end.
 *
 * One line per figure, then one JSON line with all of them (run.sh reads
 * it). Times are milliseconds, percentiles nearest-rank. A state that
 * refuses a VM (its limits, core/state.h) stops the build there: the
 * figures are then for the size reached, and the JSON says "capped".
 * Timings on a shared machine are indications: never a test.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "bench/scale/domxml.h"
#include "bench/scale/pct.h"
#include "core/journal.h"
#include "core/policy_adapter.h"
#include "core/state.h"
#include "core/state_sum.h"
#include "core/state_file.h"
#include "lib/util.h"
#include "policy/policy.h"

#define XML_BUF 8192
#define DECIDE_TRIES 20
/* XMLs a member's warm-up reads per turn of its loop (clusterd/coordinator.c) */
#define BENCH_WARM_READS 64
#define WHOLE_TRIES 5 /* for what costs the whole state */
#define COORDINATOR 1 /* the lowest node id: the coordinator */

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* --- samples --- */

struct samples {
	double *v;
	size_t n;
};

/* Nearest-rank percentile p (1..100) of s; sorts s. */
static double pct(struct samples *s, unsigned p)
{
	return bench_pct(s->v, s->n, p);
}

/* The figures, in the order the JSON line gives them. */
struct figures {
	unsigned vms, nodes, pending, built;
	bool capped;
	double build_s, xml_bytes;
	double add_p50, add_p99, prop_p50, prop_p99;
	double sum_p50, sum_max, sum_cold, text_p50;
	size_t json_bytes;
	double jrn_p50, jrn_p99, snap_ms, copy_ms, save_p50;
	double decide_cold, warm_ms, warm_slice_max, decide_first, decide_p50, decide_p99;
	double adapter_p50;
	size_t starts;
	double rss_mb, rss_per_vm, hwm_mb;
};

static struct figures fig;

static void report(const char *what, struct samples *s, double *p50, double *p99)
{
	*p50 = pct(s, 50);
	*p99 = pct(s, 99);
	printf("%-10s p50 %9.3f ms  p99 %9.3f ms  (%zu tries)\n", what, *p50, *p99, s->n);
	fflush(stdout);
}

static void die(const char *what, const char *err)
{
	fprintf(stderr, "statebench: %s: %s\n", what, err);
	exit(1);
}

/* A kB figure of /proc/self/status, in MiB. */
static double status_mb(const char *key)
{
	char line[256];
	size_t klen = strlen(key);
	double mb = 0;
	FILE *f = fopen("/proc/self/status", "r");

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (strncmp(line, key, klen) == 0 && line[klen] == ':') {
			mb = strtod(line + klen + 1, NULL) / 1024.0;
			break;
		}
	fclose(f);
	return mb;
}

/* --- changes --- */

static struct json_object *change(const char *op, const char *name)
{
	struct json_object *c = json_object_new_object();

	json_object_object_add(c, "op", json_object_new_string(op));
	if (name)
		json_object_object_add(c, "name", json_object_new_string(name));
	return c;
}

static void add_str(struct json_object *c, const char *key, const char *value)
{
	json_object_object_add(c, key, json_object_new_string(value));
}

static void add_int(struct json_object *c, const char *key, uint64_t value)
{
	json_object_object_add(c, key, json_object_new_int64((int64_t)value));
}

/* Apply c from sender and put it; 0 or what the state said. */
static int apply(struct cd_state *s, struct json_object *c, uint32_t sender, char *err,
		 size_t errlen)
{
	int rc = cd_state_apply_from(s, c, sender, err, errlen);

	json_object_put(c);
	return rc;
}

static void must(struct cd_state *s, struct json_object *c, uint32_t sender)
{
	char err[512], what[128];

	snprintf(what, sizeof(what), "%s", json_object_to_json_string(c));
	if (apply(s, c, sender, err, sizeof(err)) < 0)
		die(what, err);
}

static void vm_name(char *buf, size_t len, unsigned i)
{
	snprintf(buf, len, "vm%05u", i);
}

static unsigned vm_vcpus(unsigned i)
{
	return 1 + i % 4;
}

static unsigned vm_memory(unsigned i)
{
	return 512 * (1 + i % 8);
}

/* vm.add of VM i, its XML written into xml (XML_BUF bytes); *len its length. */
static struct json_object *vm_add(unsigned i, char *xml, size_t *len)
{
	struct json_object *c;
	char name[32];

	vm_name(name, sizeof(name), i);
	*len = bench_domxml(xml, XML_BUF, name, i, vm_vcpus(i), vm_memory(i));
	if (*len == 0)
		die(name, "the domain XML does not fit its buffer");
	c = change("vm.add", name);
	add_str(c, "xml", xml);
	add_int(c, "vcpus", vm_vcpus(i));
	add_int(c, "memory_mb", vm_memory(i));
	return c;
}

static void vm_set(struct cd_state *s, const char *name, const char *key, const char *value)
{
	struct json_object *c = change("vm.set", name);

	add_str(c, "key", key);
	add_str(c, "value", value);
	must(s, c, 0);
}

/*
 * M nodes joined in one sync round, each with room for its share of the
 * VMs and half as much again (vCPUs at the default 4 per core).
 */
static void build_nodes(struct cd_state *s, unsigned m, unsigned n)
{
	struct cd_node_info *ni = calloc(m, sizeof(*ni));
	uint64_t vcpus = 0, mem = 0;
	unsigned i;

	if (!ni)
		die("nodes", "out of memory");
	for (i = 0; i < n; i++) {
		vcpus += vm_vcpus(i);
		mem += vm_memory(i);
	}
	for (i = 0; i < m; i++) {
		ni[i].id = i + 1;
		snprintf(ni[i].name, sizeof(ni[i].name), "node%u", i + 1);
		snprintf(ni[i].addrs[0], sizeof(ni[i].addrs[0]), "192.0.2.%u", i + 1);
		ni[i].n_addrs = 1;
		ni[i].cap.cores = (uint32_t)(vcpus * 3 / 2 / 4 / m + 8);
		ni[i].cap.memory_mb = mem * 3 / 2 / m + 8192;
		cd_strlcpy(ni[i].cap.cpu_model, "Haswell-noTSX", sizeof(ni[i].cap.cpu_model));
		cd_strlcpy(ni[i].cap.cpu_models[0], "Haswell-noTSX", CD_CPU_MODEL_MAX + 1);
		cd_strlcpy(ni[i].cap.cpu_models[1], "Westmere", CD_CPU_MODEL_MAX + 1);
		cd_strlcpy(ni[i].cap.cpu_models[2], "qemu64", CD_CPU_MODEL_MAX + 1);
		ni[i].cap.n_cpu_models = 3;
	}
	cd_state_init(s);
	cd_state_sync_finish(s, ni, m, 1, 0);
	free(ni);
}

/* VM i's settings, as admins set some: owners, classes, priorities. */
static void vm_settings(struct cd_state *s, const char *name, unsigned i, unsigned m)
{
	char v[64];

	if (i % 4 == 0 && m > 1) {
		snprintf(v, sizeof(v), "node%u,node%u", 1 + i % m, 1 + (i + 1) % m);
		vm_set(s, name, "preferred-owners", v);
	}
	if (i % 10 == 0) {
		snprintf(v, sizeof(v), "class%u:soft", i / 10 % 50);
		vm_set(s, name, "anti-affinity", v);
	}
	if (i % 7 == 0)
		vm_set(s, name, "priority", i % 2 ? "high" : "low");
}

/* Node a running VM is on: its first preferred owner, else round robin. */
static uint32_t vm_node(unsigned i, unsigned m)
{
	return 1 + i % m;
}

/*
 * The state: every VM added, set up and started; all but the last
 * fig.pending placed and running. Returns the VMs built.
 */
static unsigned build(struct cd_state *s, unsigned n, unsigned m)
{
	char *xml = malloc(XML_BUF), err[512], name[32];
	unsigned i, built;
	double t0 = now_ms(), xml_total = 0;
	size_t len;

	if (!xml)
		die("build", "out of memory");
	build_nodes(s, m, n);
	for (i = 0; i < n; i++) {
		if (apply(s, vm_add(i, xml, &len), 0, err, sizeof(err)) < 0) {
			printf("the state refuses VM %u: %s\n", i + 1, err);
			fig.capped = true;
			break;
		}
		xml_total += (double)len;
		vm_name(name, sizeof(name), i);
		vm_settings(s, name, i, m);
		must(s, change("vm.start", name), 0);
	}
	built = i;
	fig.pending = built < 200 ? built / 2 : 100;
	for (i = 0; i + fig.pending < built; i++) {
		struct json_object *c;
		const struct cd_vm *vm;
		uint32_t node = vm_node(i, m);

		vm_name(name, sizeof(name), i);
		c = change("vm.place", name);
		add_int(c, "node", node);
		must(s, c, COORDINATOR);
		vm = cd_state_vm(s, name);
		c = change("vm.report", name);
		add_int(c, "node", node);
		add_int(c, "action_id", vm->action_id);
		add_str(c, "result", "running");
		must(s, c, node);
	}
	fig.build_s = (now_ms() - t0) / 1e3;
	fig.xml_bytes = built ? xml_total / built : 0;
	free(xml);
	return built;
}

/* --- measurements --- */

static void time_changes(struct cd_state *s, unsigned tries)
{
	struct samples add = {calloc(tries, sizeof(double)), 0};
	struct samples prop = {calloc(tries, sizeof(double)), 0};
	char *xml = malloc(XML_BUF), err[512], name[32], v[32];
	unsigned k;

	if (!add.v || !prop.v || !xml)
		die("changes", "out of memory");
	for (k = 0; k < tries; k++) {
		unsigned i = fig.vms + 1000000 + k; /* a name no VM of the build has */
		size_t len;
		struct json_object *c = vm_add(i, xml, &len);
		double t0 = now_ms();
		int rc = cd_state_apply_from(s, c, 0, err, sizeof(err));

		add.v[add.n++] = now_ms() - t0;
		json_object_put(c);
		if (rc < 0)
			die("vm.add", err);
		vm_name(name, sizeof(name), i);
		must(s, change("vm.remove", name), 0);

		c = change("property.set", NULL);
		add_str(c, "key", "bench-key");
		snprintf(v, sizeof(v), "%u", k);
		add_str(c, "value", v);
		t0 = now_ms();
		rc = cd_state_apply_from(s, c, 0, err, sizeof(err));
		prop.v[prop.n++] = now_ms() - t0;
		json_object_put(c);
		if (rc < 0)
			die("property.set", err);
	}
	report("vm.add", &add, &fig.add_p50, &fig.add_p99);
	report("prop.set", &prop, &fig.prop_p50, &fig.prop_p99);
	free(add.v);
	free(prop.v);
	free(xml);
}

static void time_checksum(struct cd_state *s)
{
	double v[WHOLE_TRIES];
	struct samples sm = {v, 0};
	char sum[65], want[65];
	double t0;
	unsigned k;

	/* the whole text, as a snapshot or the state file has it */
	for (k = 0; k < WHOLE_TRIES; k++) {
		struct json_object *o;
		const char *t;

		t0 = now_ms();
		o = cd_state_to_json(s);
		t = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
		fig.json_bytes = strlen(t);
		cd_sha256_hex(t, fig.json_bytes, want);
		json_object_put(o);
		sm.v[sm.n++] = now_ms() - t0;
	}
	fig.text_p50 = pct(&sm, 50);
	/* the checksum: first every record printed, then from the prints */
	t0 = now_ms();
	if (cd_state_checksum(s, sum) < 0 || strcmp(sum, want))
		die("checksum", "not the text's");
	fig.sum_cold = now_ms() - t0;
	sm.n = 0;
	for (k = 0; k < WHOLE_TRIES; k++) {
		/* one VM changed between two, as after a change */
		s->vms[k % s->n_vms]->fail_count++;
		t0 = now_ms();
		cd_state_checksum(s, sum);
		sm.v[sm.n++] = now_ms() - t0;
		s->vms[k % s->n_vms]->fail_count--;
	}
	fig.sum_p50 = pct(&sm, 50);
	fig.sum_max = pct(&sm, 100);
	printf("text       p50 %9.3f ms  (cd_state_to_json() + its text + SHA-256: %zu bytes)\n",
	       fig.text_p50, fig.json_bytes);
	printf("checksum   p50 %9.3f ms  max %9.3f ms  (one VM changed; the first, every "
	       "record printed: %.3f ms)\n",
	       fig.sum_p50, fig.sum_max, fig.sum_cold);
}

/* Remove dir and the files in it (the journal's and the state file). */
static void remove_dir(const char *dir)
{
	char path[PATH_MAX];
	struct dirent *e;
	DIR *d = opendir(dir);

	if (!d)
		return;
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0 &&
		    snprintf(path, sizeof(path), "%s/%s", dir, e->d_name) < (int)sizeof(path))
			unlink(path);
	closedir(d);
	rmdir(dir);
}

static void time_copy(const struct cd_state *s)
{
	struct cd_state copy;
	double t0 = now_ms();

	memset(&copy, 0, sizeof(copy));
	if (cd_state_copy(&copy, s) < 0)
		die("copy", "out of memory");
	fig.copy_ms = now_ms() - t0;
	cd_state_free(&copy);
}

static void time_save(const struct cd_state *s, const char *dir)
{
	double v[WHOLE_TRIES];
	struct samples sm = {v, 0};
	char path[PATH_MAX], err[512];
	unsigned k;

	if (snprintf(path, sizeof(path), "%s/whole-state", dir) >= (int)sizeof(path))
		die(dir, "name too long");
	for (k = 0; k < WHOLE_TRIES; k++) {
		double t0 = now_ms();

		if (cd_state_file_save(path, s, err, sizeof(err)) < 0)
			die("cd_state_file_save", err);
		sm.v[sm.n++] = now_ms() - t0;
	}
	fig.save_p50 = pct(&sm, 50);
}

static void time_journal(struct cd_state *s, const char *base, unsigned tries)
{
	struct samples jr = {calloc(tries, sizeof(double)), 0};
	struct cd_journal j;
	struct cd_journal_report rep;
	struct cd_state empty;
	char dir[PATH_MAX], err[512], v[32];
	double t0;
	unsigned k;

	snprintf(dir, sizeof(dir), "%s/statebench-XXXXXX", base);
	if (!jr.v || !mkdtemp(dir))
		die(base, "cannot make a temporary directory");
	memset(&empty, 0, sizeof(empty));
	if (cd_journal_open(&j, dir, &empty, &rep, err, sizeof(err)) < 0)
		die("cd_journal_open", err);
	cd_state_free(&empty);
	t0 = now_ms();
	if (cd_journal_snapshot(&j, s, err, sizeof(err)) < 0)
		die("cd_journal_snapshot", err);
	fig.snap_ms = now_ms() - t0;
	for (k = 0; k < tries; k++) {
		struct json_object *c = change("property.set", NULL);

		add_str(c, "key", "bench-journal");
		snprintf(v, sizeof(v), "%u", k);
		add_str(c, "value", v);
		if (cd_state_apply_from(s, c, 0, err, sizeof(err)) < 0)
			die("property.set", err);
		t0 = now_ms();
		if (cd_journal_append(&j, c, 0, s->version) < 0 ||
		    cd_journal_commit(&j, err, sizeof(err)) < 0)
			die("journal", err);
		jr.v[jr.n++] = now_ms() - t0;
		json_object_put(c);
	}
	cd_journal_close(&j);
	time_copy(s);
	time_save(s, dir);
	remove_dir(dir);
	report("journal", &jr, &fig.jrn_p50, &fig.jrn_p99);
	printf("snapshot   %9.3f ms (one compaction)  copy %9.3f ms (its main-loop part)\n",
	       fig.snap_ms, fig.copy_ms);
	printf("save       p50 %9.3f ms  (the whole state file): %.0fx one journal commit\n",
	       fig.save_p50, fig.jrn_p50 > 0 ? fig.save_p50 / fig.jrn_p50 : 0);
	free(jr.v);
}

/*
 * One decision as the coordinator makes it (clusterd/placement.c); *adapter
 * gets the part spent building the policy's input.
 */
static double decide_once(const struct cd_state *s, double *adapter)
{
	struct cd_policy_input in;
	struct cd_policy_result res;
	char why[512];
	double t0 = now_ms();
	size_t i;

	if (cd_policy_adapter_input(s, &in) < 0)
		die("policy", "out of memory");
	*adapter = now_ms() - t0;
	memset(&res, 0, sizeof(res));
	if (cd_policy_decide(&in, &res) < 0)
		die("cd_policy_decide", res.error);
	fig.starts = 0;
	for (i = 0; i < res.n_actions; i++)
		if (res.actions[i].type == CD_ACT_START) {
			cd_policy_explain_vm(&in, &res, res.actions[i].vm, why, sizeof(why));
			fig.starts++;
		}
	cd_policy_result_free(&res);
	cd_policy_adapter_input_free(&in);
	return now_ms() - t0;
}

static void time_decide(const struct cd_state *s)
{
	double v[DECIDE_TRIES], a[DECIDE_TRIES], first_adapter;
	struct samples sm = {v, 0}, ad = {a, 0};
	double t0, t1;
	size_t left;
	unsigned k;

	/* A fresh adapter reads every XML: a coordinator that never warmed up. */
	fig.decide_cold = decide_once(s, &first_adapter);
	/* What every member does on its loop (clusterd/coordinator.c), then decides first. */
	cd_policy_adapter_fini();
	t0 = now_ms();
	do {
		t1 = now_ms();
		left = cd_policy_adapter_warm(s, BENCH_WARM_READS);
		if (now_ms() - t1 > fig.warm_slice_max)
			fig.warm_slice_max = now_ms() - t1;
	} while (left > 0);
	fig.warm_ms = now_ms() - t0;
	fig.decide_first = decide_once(s, &first_adapter);
	for (k = 0; k < DECIDE_TRIES; k++) {
		sm.v[sm.n++] = decide_once(s, &ad.v[ad.n]);
		ad.n++;
	}
	fig.adapter_p50 = pct(&ad, 50);
	printf("decide     cold  %9.3f ms (a fresh adapter reads every XML)  %zu starts of %u "
	       "pending\n",
	       fig.decide_cold, fig.starts, fig.pending);
	printf("warm-up    %9.3f ms in slices of %d XMLs (the longest %.3f ms), then\n",
	       fig.warm_ms, BENCH_WARM_READS, fig.warm_slice_max);
	printf("decide     first %9.3f ms (a new coordinator that warmed up)\n", fig.decide_first);
	report("decide", &sm, &fig.decide_p50, &fig.decide_p99);
	printf("adapter    p50 %9.3f ms  (of the decision: the policy's input from the state)\n",
	       fig.adapter_p50);
	cd_policy_adapter_fini();
}

static void print_json(void)
{
	printf("{\"vms\":%u,\"nodes\":%u,\"built\":%u,\"capped\":%s,\"pending\":%u,"
	       "\"build_s\":%.3f,\"xml_bytes\":%.0f,\"vm_struct_bytes\":%zu,"
	       "\"add_p50_ms\":%.4f,\"add_p99_ms\":%.4f,\"prop_p50_ms\":%.4f,\"prop_p99_ms\":%.4f,"
	       "\"checksum_p50_ms\":%.3f,\"checksum_max_ms\":%.3f,\"checksum_cold_ms\":%.3f,"
	       "\"text_p50_ms\":%.3f,\"state_json_bytes\":%zu,"
	       "\"journal_p50_ms\":%.4f,\"journal_p99_ms\":%.4f,\"snapshot_ms\":%.3f,"
	       "\"copy_ms\":%.3f,\"save_p50_ms\":%.3f,\"save_vs_journal\":%.1f,"
	       "\"decide_cold_ms\":%.3f,\"warm_ms\":%.3f,\"warm_slice_max_ms\":%.3f,"
	       "\"decide_first_ms\":%.3f,\"decide_p50_ms\":%.3f,\"decide_p99_ms\":%.3f,"
	       "\"adapter_p50_ms\":%.3f,"
	       "\"starts\":%zu,\"rss_mb\":%.1f,\"rss_bytes_per_vm\":%.0f,\"hwm_mb\":%.1f}\n",
	       fig.vms, fig.nodes, fig.built, fig.capped ? "true" : "false", fig.pending,
	       fig.build_s, fig.xml_bytes, sizeof(struct cd_vm), fig.add_p50, fig.add_p99,
	       fig.prop_p50, fig.prop_p99, fig.sum_p50, fig.sum_max, fig.sum_cold, fig.text_p50,
	       fig.json_bytes, fig.jrn_p50, fig.jrn_p99, fig.snap_ms, fig.copy_ms, fig.save_p50,
	       fig.jrn_p50 > 0 ? fig.save_p50 / fig.jrn_p50 : 0, fig.decide_cold, fig.warm_ms,
	       fig.warm_slice_max, fig.decide_first, fig.decide_p50, fig.decide_p99,
	       fig.adapter_p50, fig.starts, fig.rss_mb, fig.rss_per_vm, fig.hwm_mb);
}

static unsigned count(const char *s, unsigned max, const char *what)
{
	char *end;
	unsigned long v = strtoul(s, &end, 10);

	if (*s == '\0' || *end != '\0' || v == 0 || v > max) {
		fprintf(stderr, "statebench: bad %s '%s' (1 to %u)\n", what, s, max);
		exit(2);
	}
	return (unsigned)v;
}

static void usage(void)
{
	fprintf(stderr, "usage: statebench [-d DIR] [-t TRIES] VMS NODES\n");
	exit(2);
}

int main(int argc, char **argv)
{
	const char *dir = getenv("TMPDIR") ? getenv("TMPDIR") : "/var/tmp";
	unsigned tries = 200;
	struct cd_state s;
	double rss0;
	int opt;

	while ((opt = getopt(argc, argv, "d:t:h")) != -1) {
		switch (opt) {
		case 'd':
			dir = optarg;
			break;
		case 't':
			tries = count(optarg, 100000, "tries");
			break;
		default:
			usage();
		}
	}
	if (argc - optind != 2)
		usage();
	fig.vms = count(argv[optind], 1000000, "VM count");
	fig.nodes = count(argv[optind + 1], CD_MAX_NODES, "node count");
	rss0 = status_mb("VmRSS");
	fig.built = build(&s, fig.vms, fig.nodes);
	fig.rss_mb = status_mb("VmRSS");
	fig.rss_per_vm = fig.built ? (fig.rss_mb - rss0) * 1048576.0 / fig.built : 0;
	printf("state      %u VMs (%u pending) on %u nodes, XML %.0f bytes a VM, built in %.1f s\n",
	       fig.built, fig.pending, fig.nodes, fig.xml_bytes, fig.build_s);
	printf("rss        %.1f MiB, %.0f bytes a VM (struct cd_vm: %zu bytes)\n", fig.rss_mb,
	       fig.rss_per_vm, sizeof(struct cd_vm));
	fflush(stdout);
	if (fig.capped) {
		/* Room for the vm.add tries: one pending VM goes. */
		char name[32];

		vm_name(name, sizeof(name), fig.built - 1);
		must(&s, change("vm.remove", name), 0);
		fig.pending--;
	}
	time_changes(&s, tries);
	time_checksum(&s);
	time_journal(&s, dir, tries);
	time_decide(&s);
	fig.hwm_mb = status_mb("VmHWM");
	printf("peak rss   %.1f MiB\n", fig.hwm_mb);
	print_json();
	cd_state_free(&s);
	return 0;
}
