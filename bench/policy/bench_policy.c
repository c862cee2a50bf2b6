/*
 * How long cd_policy_decide() takes on a large cluster: by default 32 nodes
 * and 10,000 VMs with mixed priorities, anti-affinity classes (hard and
 * soft), preferred and possible owners and CPU models, in two scenarios:
 *
 *   cold-start  every VM is stopped and must be placed (the most work);
 *   failback    the VMs run where a cold start put them while node 2 was
 *               down; node 2 is back and VMs that prefer it fail back;
 *   failover    the same, but node 1 is lost at the same time: its VMs are
 *               placed again first.
 *
 *   bench_policy [-n NODES] [-v VMS] [-r RUNS] [-c PERCENT]
 *
 * PERCENT is the cluster's capacity against the VMs' total demand (default
 * 100; below that the lowest priorities run short and get unplaced records).
 *
 * Prints min, median and max milliseconds per scenario. The inputs come
 * from a fixed seed, so runs are comparable.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <clusterd/result.h>

#include "policy/policy.h"

static uint64_t seed = 0x9e3779b97f4a7c15ull;

/* xorshift64: repeatable, and good enough to spread VMs about. */
static uint32_t rnd(uint32_t n)
{
	seed ^= seed << 13;
	seed ^= seed >> 7;
	seed ^= seed << 17;
	return (uint32_t)(seed % n);
}

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static void make_nodes(struct cd_policy_node *nodes, uint32_t n, uint32_t n_vms, uint32_t pct)
{
	uint32_t i;

	for (i = 0; i < n; i++) {
		struct cd_policy_node *node = &nodes[i];

		memset(node, 0, sizeof(*node));
		node->id = i + 1;
		snprintf(node->name, sizeof(node->name), "node%u", i + 1);
		node->state = i % 16 == 15 ? CD_PNODE_MAINTENANCE : CD_PNODE_ONLINE;
		/* Room for pct percent of the VMs' average demand (2 vCPUs, 2304 MiB). */
		node->cores = (uint32_t)((uint64_t)n_vms * 2 * pct / 100 / n);
		node->memory_mb = (uint64_t)n_vms * 2304 * pct / 100 / n;
		strcpy(node->cpu_models[0], i % 2 ? "Skylake" : "Haswell");
		strcpy(node->cpu_models[1], i % 2 ? "Haswell" : "qemu64");
		strcpy(node->cpu_models[2], "qemu64");
		node->n_cpu_models = i % 2 ? 3 : 2;
	}
}

/* n distinct random node ids into ids. */
static void pick_nodes(uint32_t *ids, uint32_t n, uint32_t n_nodes)
{
	uint32_t i, j;

	for (i = 0; i < n; i++) {
	again:
		ids[i] = rnd(n_nodes) + 1;
		for (j = 0; j < i; j++)
			if (ids[j] == ids[i])
				goto again;
	}
}

static void make_vms(struct cd_policy_vm *vms, uint32_t n, uint32_t n_nodes)
{
	static const uint64_t memory[] = {1024, 2048, 3840};
	uint32_t i, r;

	for (i = 0; i < n; i++) {
		struct cd_policy_vm *vm = &vms[i];

		memset(vm, 0, sizeof(*vm));
		snprintf(vm->name, sizeof(vm->name), "vm%05u", i);
		vm->vcpus = rnd(3) + 1;
		vm->memory_mb = memory[rnd(3)];
		vm->priority = (enum cd_policy_priority)rnd(CD_PPRIO__COUNT);
		vm->admin_start = rnd(2);
		vm->target = rnd(50) ? CD_TARGET_STARTED : CD_TARGET_STOPPED;
		r = rnd(10);
		if (r == 0)
			strcpy(vm->cpu_model, "Skylake");
		else if (r < 3)
			strcpy(vm->cpu_model, "Haswell");
		if (rnd(10) < 6) {
			vm->n_preferred = rnd(2) + 2;
			pick_nodes(vm->preferred, vm->n_preferred, n_nodes);
		}
		if (rnd(10) == 0) {
			vm->n_possible = 8;
			pick_nodes(vm->possible, vm->n_possible, n_nodes);
		}
		if (i % 2 == 0) {
			/* Classes of five VMs, every other one hard. */
			snprintf(vm->anti_class, sizeof(vm->anti_class), "class%u", i / 10);
			vm->anti = (i / 10) % 2 ? CD_ANTI_SOFT : CD_ANTI_HARD;
		}
		vm->failure_limit = 3;
		vm->failback.mode = rnd(2) ? CD_PFAILBACK_IMMEDIATELY : CD_PFAILBACK_NEVER;
	}
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static int bench(const char *name, const struct cd_policy_input *in, int runs)
{
	double *ms = calloc((size_t)runs, sizeof(*ms)), t0;
	size_t count[CD_ACT__COUNT] = {0}, i;
	struct cd_policy_result res;
	int r, rc = 0;

	if (!ms)
		return 1;
	for (r = 0; r < runs && rc == 0; r++) {
		t0 = now_ms();
		rc = cd_policy_decide(in, &res);
		ms[r] = now_ms() - t0;
		if (rc == 0 && r == runs - 1)
			for (i = 0; i < res.n_actions; i++)
				count[res.actions[i].type]++;
		cd_policy_result_free(&res);
	}
	if (rc) {
		fprintf(stderr, "%s: decide: %s %s\n", name, cd_strerror(rc), res.error);
		free(ms);
		return 1;
	}
	qsort(ms, (size_t)runs, sizeof(*ms), cmp_double);
	printf("%-11s %2zu nodes %6zu VMs  %d runs  min %7.2f ms  median %7.2f ms  max %7.2f ms"
	       "  (start %zu, stop %zu, migrate %zu, unplaced %zu)\n",
	       name, in->n_nodes, in->n_vms, runs, ms[0], ms[runs / 2], ms[runs - 1],
	       count[CD_ACT_START], count[CD_ACT_STOP], count[CD_ACT_MIGRATE],
	       count[CD_ACT_UNPLACED]);
	free(ms);
	return 0;
}

/*
 * Make the starts of res happen: the VMs run where decide put them. Then an
 * admin asks one VM in a hundred to stop.
 */
static void apply_starts(struct cd_policy_vm *vms, const struct cd_policy_result *res)
{
	size_t i;

	for (i = 0; i < res->n_actions; i++)
		if (res->actions[i].type == CD_ACT_START) {
			vms[res->actions[i].vm].state = CD_PVM_RUNNING;
			vms[res->actions[i].vm].node = res->actions[i].to;
			if (rnd(100) == 0)
				vms[res->actions[i].vm].target = CD_TARGET_STOPPED;
		}
}

int main(int argc, char **argv)
{
	struct cd_policy_node nodes[CD_POLICY_MAX_NODES];
	struct cd_policy_input in = {nodes, 0, NULL, 0, 12 * 60};
	struct cd_policy_result res;
	uint32_t n_nodes = 32, n_vms = 10000, pct = 100;
	struct cd_policy_vm *vms;
	int runs = 21, opt, rc;

	while ((opt = getopt(argc, argv, "n:v:r:c:")) != -1) {
		switch (opt) {
		case 'n':
			n_nodes = (uint32_t)atoi(optarg);
			break;
		case 'v':
			n_vms = (uint32_t)atoi(optarg);
			break;
		case 'r':
			runs = atoi(optarg);
			break;
		case 'c':
			pct = (uint32_t)atoi(optarg);
			break;
		default:
			fprintf(stderr, "usage: %s [-n NODES] [-v VMS] [-r RUNS] [-c PERCENT]\n",
				argv[0]);
			return 2;
		}
	}
	if (n_nodes < 2 || n_nodes > CD_POLICY_MAX_NODES || n_vms < 1 || runs < 1 || pct < 1) {
		fprintf(stderr, "need 2..%d nodes, 1 or more VMs, runs and percent\n",
			CD_POLICY_MAX_NODES);
		return 2;
	}
	vms = calloc(n_vms, sizeof(*vms));
	if (!vms)
		return 1;
	make_nodes(nodes, n_nodes, n_vms, pct);
	make_vms(vms, n_vms, n_nodes);
	in.n_nodes = n_nodes;
	in.vms = vms;
	in.n_vms = n_vms;
	rc = bench("cold-start", &in, runs);

	/* Start everything with node 2 down; then node 2 returns. */
	nodes[1].state = CD_PNODE_OFFLINE;
	if (rc == 0 && cd_policy_decide(&in, &res) == 0) {
		apply_starts(vms, &res);
		cd_policy_result_free(&res);
		nodes[1].state = CD_PNODE_ONLINE;
		rc = bench("failback", &in, runs);
		nodes[0].state = CD_PNODE_LOST;
		if (rc == 0)
			rc = bench("failover", &in, runs);
	}
	free(vms);
	return rc;
}
