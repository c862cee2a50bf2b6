/*
 * The policy adapter keeps what it read of each VM's domain XML from call
 * to call (policy_adapter.h). These tests change a state in every way a
 * VM can change and check that the next input, and the decision made on
 * it, is exactly what an adapter that never saw the state before gives.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <clusterd/result.h>

#include "check_common.h"
#include "core/policy_adapter.h"
#include "policy/policy.h"

static char err[256];

static void apply(struct cd_state *s, const char *fmt, ...)
{
	struct json_object *c;
	char buf[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	c = json_tokener_parse(buf);
	ck_assert_ptr_nonnull(c);
	ck_assert_msg(cd_state_apply(s, c, err, sizeof(err)) == 0, "%s: %s", buf, err);
	json_object_put(c);
}

/* A domain XML asking for CPU model cpu ("" for none). */
static void vm_add(struct cd_state *s, const char *name, int n, const char *cpu)
{
	char model[128] = "";

	if (cpu[0])
		snprintf(model, sizeof(model), "<cpu><model>%s</model></cpu>", cpu);
	apply(s,
	      "{\"op\":\"vm.add\",\"name\":\"%s\",\"vcpus\":2,\"memory_mb\":1024,"
	      "\"xml\":\"<domain type='kvm'><name>%s</name>"
	      "<uuid>00000000-0000-4000-8000-%012d</uuid>%s</domain>\"}",
	      name, name, n, model);
}

static struct cd_vm *vm_of(struct cd_state *s, const char *name)
{
	struct cd_vm *v = (struct cd_vm *)cd_state_vm(s, name);

	ck_assert_ptr_nonnull(v);
	return v;
}

/*
 * Three nodes with known CPU models, so that what the adapter reads of
 * the XML decides where a VM can go; VMs a to h, the first five running.
 */
static void make_state(struct cd_state *s)
{
	static const char *models[3][2] = {
		{"EPYC-Rome", "EPYC"}, {"Skylake-Server", "Haswell"}, {"EPYC", "Haswell"}};
	static const char *cpus[] = {"EPYC",	       "",	  "Haswell",  "EPYC-Rome", "",
				     "Skylake-Server", "Haswell", "EPYC-Rome"};
	struct cd_node_info m[3];
	char name[8];
	int i, k;

	memset(m, 0, sizeof(m));
	for (i = 0; i < 3; i++) {
		m[i].id = (uint32_t)i + 1;
		snprintf(m[i].name, sizeof(m[i].name), "node%d", i + 1);
		m[i].cap.cores = 8;
		m[i].cap.memory_mb = 4096;
		for (k = 0; k < 2; k++)
			strcpy(m[i].cap.cpu_models[k], models[i][k]);
		m[i].cap.n_cpu_models = 2;
	}
	cd_state_init(s);
	cd_state_sync_finish(s, m, 3, 1, 0);
	for (i = 0; i < 8; i++) {
		snprintf(name, sizeof(name), "%c", 'a' + i);
		vm_add(s, name, i + 1, cpus[i]);
		apply(s, "{\"op\":\"vm.start\",\"name\":\"%s\"}", name);
		if (i < 5) {
			vm_of(s, name)->state = CD_VM_RUNNING;
			vm_of(s, name)->node = (uint32_t)(i % 3) + 1;
		}
	}
	apply(s, "{\"op\":\"vm.set\",\"name\":\"f\",\"key\":\"preferred-owners\","
		 "\"value\":\"node2,node1\"}");
}

/* Remove VM name, stopped first if it runs. */
static void vm_remove(struct cd_state *s, const char *name)
{
	vm_of(s, name)->state = CD_VM_STOPPED;
	vm_of(s, name)->node = 0;
	vm_of(s, name)->target_started = false;
	apply(s, "{\"op\":\"vm.remove\",\"name\":\"%s\"}", name);
}

/* The input for s and the decision on it; free both with done(). */
static void decide(const struct cd_state *s, struct cd_policy_input *in,
		   struct cd_policy_result *res)
{
	ck_assert_int_eq(cd_policy_adapter_input(s, in), 0);
	memset(res, 0, sizeof(*res));
	ck_assert_int_eq(cd_policy_decide(in, res), 0);
}

static void done(struct cd_policy_input *in, struct cd_policy_result *res)
{
	cd_policy_result_free(res);
	cd_policy_adapter_input_free(in);
}

/*
 * The adapter as it is (warm), then a fresh one, on s: the same input
 * byte for byte (both are built in zeroed memory), the same actions and
 * the same explanation of every VM. Leaves the adapter fresh and warm.
 */
static void check_same_as_fresh(const struct cd_state *s)
{
	struct cd_policy_input a, b;
	struct cd_policy_result ra, rb;
	char wa[512], wb[512];
	size_t i;

	decide(s, &a, &ra);
	cd_policy_adapter_fini();
	decide(s, &b, &rb);
	ck_assert_uint_eq(a.n_vms, b.n_vms);
	ck_assert_uint_eq(a.n_nodes, b.n_nodes);
	for (i = 0; i < a.n_vms; i++)
		ck_assert_msg(memcmp(&a.vms[i], &b.vms[i], sizeof(a.vms[i])) == 0,
			      "VM %s: the cached input is not the fresh one (cpu %s, fresh %s)",
			      b.vms[i].name, a.vms[i].cpu_model, b.vms[i].cpu_model);
	ck_assert_int_eq(memcmp(a.nodes, b.nodes, a.n_nodes * sizeof(*a.nodes)), 0);
	ck_assert_uint_eq(ra.n_actions, rb.n_actions);
	for (i = 0; i < ra.n_actions; i++) {
		ck_assert_int_eq(ra.actions[i].type, rb.actions[i].type);
		ck_assert_uint_eq(ra.actions[i].vm, rb.actions[i].vm);
		ck_assert_uint_eq(ra.actions[i].from, rb.actions[i].from);
		ck_assert_uint_eq(ra.actions[i].to, rb.actions[i].to);
	}
	for (i = 0; i < a.n_vms; i++) {
		cd_policy_explain_vm(&a, &ra, i, wa, sizeof(wa));
		cd_policy_explain_vm(&b, &rb, i, wb, sizeof(wb));
		ck_assert_str_eq(wa, wb);
	}
	done(&a, &ra);
	done(&b, &rb);
}

static const char *model_of(const struct cd_state *s, const char *name)
{
	static char model[CD_POLICY_CPU_MAX + 1];
	const struct cd_vm *v = cd_state_vm(s, name);
	struct cd_policy_input in;

	ck_assert_int_eq(cd_policy_adapter_input(s, &in), 0);
	/* The input's VMs are the state's, in its order. */
	strcpy(model, v ? in.vms[cd_state_vm_index(s, name)].cpu_model : "");
	cd_policy_adapter_input_free(&in);
	return model;
}

/* Replace from with to (as long) in VM name's XML where it is, as a new XML of the state. */
static void xml_in_place(struct cd_state *s, const char *name, const char *from, const char *to)
{
	struct cd_vm *v = vm_of(s, name);
	char *p = strstr(v->xml, from);

	ck_assert_ptr_nonnull(p);
	ck_assert_uint_eq(strlen(from), strlen(to));
	memcpy(p, to, strlen(to));
	v->xml_stamp = cd_vm_xml_stamp();
}

/* One VM changes at a time: settings, XML, state; each decision as a fresh adapter's. */
START_TEST(test_change_one_vm)
{
	struct cd_state s;
	struct cd_policy_input in;
	struct cd_policy_result res;
	uint64_t reads;

	make_state(&s);
	cd_policy_adapter_fini();
	check_same_as_fresh(&s);
	reads = cd_policy_adapter_xml_reads();
	decide(&s, &in, &res);
	done(&in, &res);
	ck_assert_uint_eq(cd_policy_adapter_xml_reads(), reads);

	/* Settings. */
	apply(&s, "{\"op\":\"vm.set\",\"name\":\"g\",\"key\":\"preferred-owners\","
		  "\"value\":\"node3\"}");
	check_same_as_fresh(&s);
	apply(&s,
	      "{\"op\":\"vm.set\",\"name\":\"b\",\"key\":\"cpu\",\"value\":\"cluster-baseline\"}");
	apply(&s, "{\"op\":\"vm.set\",\"name\":\"h\",\"key\":\"priority\",\"value\":\"high\"}");
	check_same_as_fresh(&s);

	/*
	 * The XML, rewritten where it is (its address stays, as when a freed
	 * XML's memory is given to the next one): its new stamp says so.
	 */
	ck_assert_str_eq(model_of(&s, "h"), "EPYC-Rome");
	reads = cd_policy_adapter_xml_reads();
	xml_in_place(&s, "h", "EPYC-Rome", "Opteron_G");
	ck_assert_str_eq(model_of(&s, "h"), "Opteron_G");
	ck_assert_uint_eq(cd_policy_adapter_xml_reads(), reads + 1);
	check_same_as_fresh(&s);
	xml_in_place(&s, "f", "Skylake-Server", "Skylake-Client"); /* no node runs it */
	ck_assert_str_eq(model_of(&s, "f"), "Skylake-Client");
	check_same_as_fresh(&s);

	/* The state: one fails, one stops, one is wanted stopped, a node dies. */
	vm_of(&s, "c")->state = CD_VM_FAILED;
	vm_of(&s, "c")->failed_on = vm_of(&s, "c")->node;
	vm_of(&s, "c")->fail_count = 3;
	vm_of(&s, "c")->node = 0;
	check_same_as_fresh(&s);
	vm_of(&s, "d")->state = CD_VM_STOPPED;
	vm_of(&s, "d")->node = 0;
	apply(&s, "{\"op\":\"vm.stop\",\"name\":\"e\"}");
	check_same_as_fresh(&s);
	((struct cd_node *)cd_state_node_by_id(&s, 1))->member = false;
	((struct cd_node *)cd_state_node_by_id(&s, 1))->dead = true;
	check_same_as_fresh(&s);

	cd_policy_adapter_fini();
	cd_state_free(&s);
}
END_TEST

/*
 * The cache is keyed by the VM's name: a VM removed and added again under
 * its name, one renamed (removed, added under another name with the same
 * XML), a state copied (every XML at a new address) and one freed and
 * built again (addresses reused).
 */
START_TEST(test_remove_rename_copy)
{
	struct cd_state s, copy;
	uint64_t reads;

	make_state(&s);
	cd_policy_adapter_fini();
	check_same_as_fresh(&s);
	ck_assert_str_eq(model_of(&s, "c"), "Haswell");

	/* Removed and added again, with an XML of the same length: read again. */
	vm_remove(&s, "c");
	check_same_as_fresh(&s);
	ck_assert_str_eq(model_of(&s, "c"), "");
	reads = cd_policy_adapter_xml_reads();
	vm_add(&s, "c", 3, "EPYC-v2");
	apply(&s, "{\"op\":\"vm.start\",\"name\":\"c\"}");
	ck_assert_str_eq(model_of(&s, "c"), "EPYC-v2");
	ck_assert_uint_eq(cd_policy_adapter_xml_reads(), reads + 1);
	vm_remove(&s, "c");
	vm_add(&s, "c", 3, "Haswell-v1");
	apply(&s, "{\"op\":\"vm.start\",\"name\":\"c\"}");
	ck_assert_str_eq(model_of(&s, "c"), "Haswell-v1");
	check_same_as_fresh(&s);

	/* Renamed: f's entry goes, ff is read. */
	vm_remove(&s, "f");
	vm_add(&s, "ff", 6, "Skylake-Server");
	apply(&s, "{\"op\":\"vm.start\",\"name\":\"ff\"}");
	reads = cd_policy_adapter_xml_reads();
	ck_assert_str_eq(model_of(&s, "ff"), "Skylake-Server");
	ck_assert_uint_eq(cd_policy_adapter_xml_reads(), reads + 1);
	ck_assert_str_eq(model_of(&s, "f"), "");
	check_same_as_fresh(&s);

	/* A copy: every XML elsewhere but the same, so none is read again. */
	ck_assert_int_eq(cd_state_copy(&copy, &s), 0);
	check_same_as_fresh(&s); /* leaves the adapter warm on s */
	reads = cd_policy_adapter_xml_reads();
	ck_assert_str_eq(model_of(&copy, "h"), "EPYC-Rome");
	ck_assert_uint_eq(cd_policy_adapter_xml_reads(), reads);
	check_same_as_fresh(&copy);

	/* The copy freed and the state built again, differently, in the memory it left. */
	cd_state_free(&copy);
	cd_state_free(&s);
	make_state(&s);
	xml_in_place(&s, "h", "EPYC-Rome", "Opteron_G");
	ck_assert_str_eq(model_of(&s, "h"), "Opteron_G");
	check_same_as_fresh(&s);

	cd_policy_adapter_fini();
	cd_state_free(&s);
}
END_TEST

/* A warm-up reads at most what it is given, and then the input reads only the rest. */
START_TEST(test_warm)
{
	struct cd_state s;
	struct cd_policy_input in;
	uint64_t reads;

	make_state(&s);
	cd_policy_adapter_fini();
	/* b and e have no <cpu>: their XML is "read" without a parse, but read all the same. */
	reads = cd_policy_adapter_xml_reads();
	ck_assert_uint_eq(cd_policy_adapter_warm(&s, 3), s.n_vms - 3);
	ck_assert_uint_eq(cd_policy_adapter_xml_reads(), reads + 3);
	ck_assert_uint_eq(cd_policy_adapter_warm(&s, 0), s.n_vms - 3);
	ck_assert_int_eq(cd_policy_adapter_input(&s, &in), 0);
	cd_policy_adapter_input_free(&in);
	ck_assert_uint_eq(cd_policy_adapter_xml_reads(), reads + s.n_vms);
	ck_assert_uint_eq(cd_policy_adapter_warm(&s, 0), 0);

	/* A new VM, warmed up: the input reads nothing. */
	vm_add(&s, "i", 9, "EPYC");
	vm_remove(&s, "a");
	ck_assert_uint_eq(cd_policy_adapter_warm(&s, 0), 1);
	ck_assert_uint_eq(cd_policy_adapter_warm(&s, 64), 0);
	reads = cd_policy_adapter_xml_reads();
	check_same_as_fresh(&s);
	ck_assert_uint_eq(cd_policy_adapter_xml_reads(), reads + s.n_vms);

	cd_policy_adapter_fini();
	cd_state_free(&s);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("policy_adapter");

	add_tcase(s, test_change_one_vm);
	add_tcase(s, test_remove_rename_copy);
	add_tcase(s, test_warm);
	return run_suite(s);
}
