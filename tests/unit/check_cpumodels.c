#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <clusterd/result.h>

#include "check_common.h"
#include "core/cpumodels.h"
#include "core/policy_adapter.h"
#include "policy/policy.h"

static char err[256];

/*
 * The CPU part of `virsh domcapabilities --virttype qemu` on an AMD EPYC
 * host without /dev/kvm (TCG), in libvirt's format (formatdomaincaps):
 * a host-model with its features, custom models usable or not.
 */
static const char *domcaps =
	"<domainCapabilities>\n"
	"  <path>/usr/bin/qemu-system-x86_64</path>\n"
	"  <domain>qemu</domain>\n"
	"  <machine>pc-q35-8.2</machine>\n"
	"  <arch>x86_64</arch>\n"
	"  <vcpu max='4096'/>\n"
	"  <cpu>\n"
	"    <mode name='host-passthrough' supported='yes'>\n"
	"      <enum name='hostPassthroughMigratable'><value>off</value></enum>\n"
	"    </mode>\n"
	"    <mode name='maximum' supported='yes'/>\n"
	"    <mode name='host-model' supported='yes'>\n"
	"      <model fallback='forbid'>EPYC-Rome</model>\n"
	"      <vendor>AMD</vendor>\n"
	"      <maxphysaddr mode='passthrough' limit='48'/>\n"
	"      <feature policy='require' name='x2apic'/>\n"
	"      <feature policy='disable' name='svm'/>\n"
	"    </mode>\n"
	"    <mode name='custom' supported='yes'>\n"
	"      <model usable='yes' vendor='unknown'>qemu64</model>\n"
	"      <model usable='yes' vendor='unknown'>qemu32</model>\n"
	"      <model usable='no' vendor='AMD'>phenom</model>\n"
	"      <blockers model='phenom'><feature name='3dnow'/></blockers>\n"
	"      <model usable='yes' vendor='Intel'>Opteron_G1</model>\n"
	"      <model usable='yes' vendor='AMD'>EPYC-Rome</model>\n"
	"      <model usable='no' vendor='Intel'>Skylake-Server-IBRS</model>\n"
	"      <model usable='unknown' vendor='Intel'>Haswell</model>\n"
	"      <model usable='yes' vendor='AMD' deprecated='no'>EPYC</model>\n"
	"    </mode>\n"
	"  </cpu>\n"
	"  <devices/>\n"
	"</domainCapabilities>\n";

START_TEST(test_host)
{
	struct cd_capacity cap;
	char type[16];
	size_t dropped;

	memset(&cap, 0, sizeof(cap));
	strcpy(cap.cpu_model, "AMD EPYC 7B13");
	ck_assert_int_eq(
		cd_host_cpus_read(domcaps, &cap, &dropped, type, sizeof(type), err, sizeof(err)),
		0);
	ck_assert_str_eq(type, "qemu");
	ck_assert_str_eq(cap.cpu_model, "EPYC-Rome");
	ck_assert_uint_eq(dropped, 0);
	/* The host model first, then the usable ones in order, each once. */
	ck_assert_uint_eq(cap.n_cpu_models, 5);
	ck_assert_str_eq(cap.cpu_models[0], "EPYC-Rome");
	ck_assert_str_eq(cap.cpu_models[1], "qemu64");
	ck_assert_str_eq(cap.cpu_models[2], "qemu32");
	ck_assert_str_eq(cap.cpu_models[3], "Opteron_G1");
	ck_assert_str_eq(cap.cpu_models[4], "EPYC");
}
END_TEST

/* No host-model: the name stays as it was and the list holds custom models only. */
START_TEST(test_host_no_host_model)
{
	const char *xml = "<domainCapabilities><domain>kvm</domain><cpu>"
			  "<mode name='host-model' supported='no'/>"
			  "<mode name='custom' supported='yes'>"
			  "<model usable='yes'>qemu64</model></mode></cpu></domainCapabilities>";
	struct cd_capacity cap;
	char type[16];
	size_t dropped;

	memset(&cap, 0, sizeof(cap));
	strcpy(cap.cpu_model, "Intel Xeon");
	ck_assert_int_eq(
		cd_host_cpus_read(xml, &cap, &dropped, type, sizeof(type), err, sizeof(err)), 0);
	ck_assert_str_eq(type, "kvm");
	ck_assert_str_eq(cap.cpu_model, "Intel Xeon");
	ck_assert_uint_eq(cap.n_cpu_models, 1);
	ck_assert_str_eq(cap.cpu_models[0], "qemu64");
}
END_TEST

START_TEST(test_host_cap_and_bad)
{
	char xml[16384] = "<domainCapabilities><cpu><mode name='custom' supported='yes'>";
	struct cd_capacity cap;
	char type[16];
	size_t dropped;
	int i;

	for (i = 0; i < CD_CPU_MODELS_MAX + 3; i++)
		snprintf(xml + strlen(xml), sizeof(xml) - strlen(xml),
			 "<model usable='yes'>m%d</model>", i);
	strcat(xml, "</mode></cpu></domainCapabilities>");
	memset(&cap, 0, sizeof(cap));
	ck_assert_int_eq(
		cd_host_cpus_read(xml, &cap, &dropped, type, sizeof(type), err, sizeof(err)), 0);
	ck_assert_uint_eq(cap.n_cpu_models, CD_CPU_MODELS_MAX);
	ck_assert_uint_eq(dropped, 3);
	ck_assert_str_eq(cap.cpu_models[CD_CPU_MODELS_MAX - 1], "m63");

	ck_assert_int_eq(cd_host_cpus_read("<domainCapabilities>", &cap, &dropped, type,
					   sizeof(type), err, sizeof(err)),
			 CD_ERR_INVALID);
	ck_assert_int_eq(cd_host_cpus_read("<domainCapabilities><cpu><mode name='custom' "
					   "supported='yes'><model usable='yes'>a b</model>"
					   "</mode></cpu></domainCapabilities>",
					   &cap, &dropped, type, sizeof(type), err, sizeof(err)),
			 CD_ERR_INVALID);
	ck_assert_uint_eq(cap.n_cpu_models, 0);
}
END_TEST

static enum cd_vm_cpu_mode vm_mode(const char *xml, char *model)
{
	struct cd_vm_cpu cpu;

	ck_assert_int_eq(cd_vm_cpu_read(xml, &cpu, err, sizeof(err)), 0);
	strcpy(model, cpu.model);
	return cpu.mode;
}

START_TEST(test_vm)
{
	char m[CD_CPU_MODEL_MAX + 1];
	struct cd_vm_cpu cpu;

	/* As the lab's guests have it. */
	ck_assert_int_eq(vm_mode("<domain type='qemu'><name>a</name>"
				 "<cpu mode='custom' match='exact' check='none'>"
				 "<model fallback='forbid'>qemu64</model></cpu></domain>",
				 m),
			 CD_VM_CPU_CUSTOM);
	ck_assert_str_eq(m, "qemu64");
	/* QEMU emulates it (TCG): no host's CPU limits it, even a KVM host's short list. */
	ck_assert_int_eq(cd_vm_cpu_read("<domain type='qemu'><cpu><model>qemu64</model></cpu>"
					"</domain>",
					&cpu, err, sizeof(err)),
			 0);
	ck_assert(cpu.emulated);
	ck_assert_str_eq(cd_vm_cpu_need(&cpu, NULL), "");
	ck_assert_int_eq(cd_vm_cpu_read("<domain type='kvm'><cpu><model>qemu64</model></cpu>"
					"</domain>",
					&cpu, err, sizeof(err)),
			 0);
	ck_assert(!cpu.emulated);
	ck_assert_str_eq(cd_vm_cpu_need(&cpu, NULL), "qemu64");
	ck_assert_int_eq(vm_mode("<domain><cpu><model>EPYC</model></cpu></domain>", m),
			 CD_VM_CPU_CUSTOM);
	ck_assert_str_eq(m, "EPYC");
	ck_assert_int_eq(vm_mode("<domain><name>a</name></domain>", m), CD_VM_CPU_NONE);
	ck_assert_int_eq(vm_mode("<domain><cpu><topology sockets='1' cores='2' threads='1'/>"
				 "</cpu></domain>",
				 m),
			 CD_VM_CPU_NONE);
	ck_assert_int_eq(
		vm_mode("<domain><cpu mode='host-passthrough' check='none' migratable='on'/></domain>",
			m),
		CD_VM_CPU_PASSTHROUGH);
	ck_assert_int_eq(vm_mode("<domain><cpu mode='maximum'/></domain>", m),
			 CD_VM_CPU_PASSTHROUGH);
	ck_assert_int_eq(
		vm_mode("<domain><cpu mode='host-model'><model>X</model></cpu></domain>", m),
		CD_VM_CPU_HOST_MODEL);
	ck_assert_str_eq(m, "");
	ck_assert_int_eq(
		cd_vm_cpu_read("<domain><cpu mode='odd'/></domain>", &cpu, err, sizeof(err)),
		CD_ERR_INVALID);
	ck_assert_int_eq(cd_vm_cpu_read("<domain><cpu>", &cpu, err, sizeof(err)), CD_ERR_INVALID);
}
END_TEST

START_TEST(test_vm_need)
{
	struct cd_vm_cpu custom = {CD_VM_CPU_CUSTOM, "EPYC"}, host = {CD_VM_CPU_HOST_MODEL, ""},
			 pass = {CD_VM_CPU_PASSTHROUGH, ""}, none = {CD_VM_CPU_NONE, ""};
	struct cd_capacity rome, unknown, no_host;

	memset(&rome, 0, sizeof(rome));
	strcpy(rome.cpu_model, "EPYC-Rome");
	strcpy(rome.cpu_models[0], "EPYC-Rome");
	strcpy(rome.cpu_models[1], "EPYC");
	rome.n_cpu_models = 2;
	memset(&unknown, 0, sizeof(unknown));
	strcpy(unknown.cpu_model, "AMD EPYC 7B13");
	no_host = rome;
	strcpy(no_host.cpu_model, "AMD EPYC 7B13");

	ck_assert_str_eq(cd_vm_cpu_need(&custom, NULL), "EPYC");
	ck_assert_str_eq(cd_vm_cpu_need(&custom, &rome), "EPYC");
	ck_assert_str_eq(cd_vm_cpu_need(&none, &rome), "");
	ck_assert_str_eq(cd_vm_cpu_need(&host, NULL), "");
	ck_assert_str_eq(cd_vm_cpu_need(&pass, NULL), "");
	ck_assert_str_eq(cd_vm_cpu_need(&host, &rome), "EPYC-Rome");
	ck_assert_str_eq(cd_vm_cpu_need(&pass, &rome), "EPYC-Rome");
	ck_assert_str_eq(cd_vm_cpu_need(&pass, &unknown), "");
	ck_assert_str_eq(cd_vm_cpu_need(&pass, &no_host), "");

	/* cpu=cluster-baseline: whatever the XML says, any node will do. */
	custom.baseline = host.baseline = pass.baseline = true;
	ck_assert_str_eq(cd_vm_cpu_need(&custom, NULL), "");
	ck_assert_str_eq(cd_vm_cpu_need(&custom, &rome), "");
	ck_assert_str_eq(cd_vm_cpu_need(&host, &rome), "");
	ck_assert_str_eq(cd_vm_cpu_need(&pass, &rome), "");
}
END_TEST

/*
 * End to end on the policy: a node's models from its domain capabilities,
 * the VM's from its XML; a node that lacks the model is excluded and the
 * explanation says so; a node whose models are unknown is admitted.
 */
START_TEST(test_policy_rule)
{
	static struct cd_policy_node nodes[3];
	static struct cd_policy_vm vm;
	struct cd_policy_input in = {.nodes = nodes, .n_nodes = 3, .vms = &vm, .n_vms = 1};
	struct cd_capacity cap;
	struct cd_vm_cpu cpu;
	char type[16], buf[1024];
	size_t dropped;
	uint32_t i;

	memset(nodes, 0, sizeof(nodes));
	memset(&vm, 0, sizeof(vm));
	memset(&cap, 0, sizeof(cap));
	ck_assert_int_eq(
		cd_host_cpus_read(domcaps, &cap, &dropped, type, sizeof(type), err, sizeof(err)),
		0);
	for (i = 0; i < 3; i++) {
		nodes[i].id = i + 1;
		snprintf(nodes[i].name, sizeof(nodes[i].name), "node%u", i + 1);
		nodes[i].state = CD_PNODE_ONLINE;
		nodes[i].cores = 8;
		nodes[i].memory_mb = 8192;
	}
	/* node1: the EPYC-Rome host; node2: an old host; node3: not known yet. */
	for (i = 0; i < cap.n_cpu_models; i++)
		strcpy(nodes[0].cpu_models[i], cap.cpu_models[i]);
	nodes[0].n_cpu_models = cap.n_cpu_models;
	strcpy(nodes[1].cpu_models[0], "Opteron_G1");
	nodes[1].n_cpu_models = 1;
	nodes[2].cpu_models_unknown = true;
	nodes[2].state = CD_PNODE_MAINTENANCE;

	ck_assert_int_eq(cd_vm_cpu_read("<domain><cpu><model>EPYC</model></cpu></domain>", &cpu,
					err, sizeof(err)),
			 0);
	strcpy(vm.name, "web1");
	vm.vcpus = 2;
	vm.memory_mb = 1024;
	strcpy(vm.cpu_model, cd_vm_cpu_need(&cpu, NULL));
	vm.priority = CD_PPRIO_MEDIUM;
	vm.target = CD_TARGET_STARTED;
	vm.preferred[0] = 2; /* the node that cannot run EPYC */
	vm.n_preferred = 1;
	vm.state = CD_PVM_STOPPED;
	ck_assert_int_eq(cd_policy_explain(&in, "web1", buf, sizeof(buf)), 0);
	ck_assert_msg(strstr(buf, "node2 does not support CPU model EPYC"), "%s", buf);
	ck_assert_msg(strstr(buf, "node1"), "%s", buf);

	/* Only node2 and the unknown node3 online: node3 is admitted. */
	nodes[0].state = CD_PNODE_MAINTENANCE;
	nodes[2].state = CD_PNODE_ONLINE;
	ck_assert_int_eq(cd_policy_explain(&in, "web1", buf, sizeof(buf)), 0);
	ck_assert_msg(strstr(buf, "node3") && !strstr(buf, "node3 does not support"), "%s", buf);
}
END_TEST

/* --- the policy adapter reads each VM's XML once --- */

static void vm_add(struct cd_state *s, const char *name, int n, const char *cpu)
{
	struct json_object *c = json_object_new_object();
	char xml[512];

	snprintf(xml, sizeof(xml),
		 "<domain type='kvm'><name>%s</name>"
		 "<uuid>00000000-0000-4000-8000-%012d</uuid>%s</domain>",
		 name, n, cpu);
	json_object_object_add(c, "op", json_object_new_string("vm.add"));
	json_object_object_add(c, "name", json_object_new_string(name));
	json_object_object_add(c, "xml", json_object_new_string(xml));
	json_object_object_add(c, "vcpus", json_object_new_int(1));
	json_object_object_add(c, "memory_mb", json_object_new_int(64));
	ck_assert_msg(cd_state_apply(s, c, err, sizeof(err)) == 0, "%s", err);
	json_object_put(c);
}

static void vm_remove(struct cd_state *s, const char *name)
{
	struct json_object *c = json_object_new_object();

	json_object_object_add(c, "op", json_object_new_string("vm.remove"));
	json_object_object_add(c, "name", json_object_new_string(name));
	ck_assert_msg(cd_state_apply(s, c, err, sizeof(err)) == 0, "%s", err);
	json_object_put(c);
}

/* Redefine VM name in place: its XML with from replaced by to, in a new string. */
static void vm_set_xml(struct cd_state *s, const char *name, const char *from, const char *to)
{
	struct cd_vm *v = (struct cd_vm *)cd_state_vm(s, name);
	const char *p;
	char *x;

	ck_assert_ptr_nonnull(v);
	p = strstr(v->xml, from);
	ck_assert_ptr_nonnull(p);
	x = malloc(strlen(v->xml) - strlen(from) + strlen(to) + 1);
	ck_assert_ptr_nonnull(x);
	sprintf(x, "%.*s%s%s", (int)(p - v->xml), v->xml, to, p + strlen(from));
	free(v->xml);
	v->xml = x;
}

/*
 * Build the adapter's input and check every VM's CPU model against a
 * fresh read of its XML. Returns how many XMLs the adapter read for it.
 */
static uint64_t check_input(const struct cd_state *s)
{
	uint64_t before = cd_policy_adapter_xml_reads();
	struct cd_policy_input in;
	size_t i;

	ck_assert_int_eq(cd_policy_adapter_input(s, &in), 0);
	ck_assert_uint_eq(in.n_vms, s->n_vms);
	for (i = 0; i < s->n_vms; i++) {
		const struct cd_vm *v = s->vms[i];
		const struct cd_node *where =
			v->state == CD_VM_RUNNING ? cd_state_node_by_id(s, v->node) : NULL;
		struct cd_vm_cpu cpu;
		const char *need = "";

		if (cd_vm_cpu_read(v->xml, &cpu, err, sizeof(err)) == 0) {
			cpu.baseline = v->cpu_baseline;
			need = cd_vm_cpu_need(&cpu, where ? &where->info.cap : NULL);
		}
		ck_assert_str_eq(in.vms[i].name, v->name);
		ck_assert_msg(strcmp(in.vms[i].cpu_model, need) == 0, "%s: %s, fresh %s", v->name,
			      in.vms[i].cpu_model, need);
	}
	cd_policy_adapter_input_free(&in);
	return cd_policy_adapter_xml_reads() - before;
}

static const char *input_model(const struct cd_state *s, const char *name)
{
	static char model[CD_POLICY_CPU_MAX + 1];
	struct cd_policy_input in;
	size_t i;

	model[0] = '\0';
	ck_assert_int_eq(cd_policy_adapter_input(s, &in), 0);
	for (i = 0; i < in.n_vms; i++)
		if (strcmp(in.vms[i].name, name) == 0)
			strcpy(model, in.vms[i].cpu_model);
	cd_policy_adapter_input_free(&in);
	return model;
}

/*
 * node1, the EPYC-Rome host of domcaps, and node2, whose models are not
 * known; VM f (host-model) runs on node1, so it needs node1's host model.
 */
static void adapter_state(struct cd_state *s)
{
	struct cd_node_info m[2];
	struct cd_vm *f;
	size_t dropped;
	char type[16];

	memset(m, 0, sizeof(m));
	m[0].id = 1;
	strcpy(m[0].name, "node1");
	ck_assert_int_eq(cd_host_cpus_read(domcaps, &m[0].cap, &dropped, type, sizeof(type), err,
					   sizeof(err)),
			 0);
	m[1].id = 2;
	strcpy(m[1].name, "node2");
	cd_state_init(s);
	cd_state_sync_finish(s, m, 2, 1, 0);
	cd_policy_adapter_fini();
	vm_add(s, "f", 6, "<cpu mode='host-model'/>");
	f = (struct cd_vm *)cd_state_vm(s, "f");
	f->state = CD_VM_RUNNING;
	f->node = 1;
}

START_TEST(test_adapter_cache)
{
	struct cd_state s;
	struct cd_vm *host;

	adapter_state(&s);
	vm_add(&s, "b", 2, "<cpu><model>EPYC-Rome</model></cpu>");
	vm_add(&s, "d", 4, "");
	vm_add(&s, "h", 8, "<cpu mode='bogus'/>");
	host = (struct cd_vm *)cd_state_vm(&s, "f"); /* where f is now the others are in */

	/* The first time every XML is read, then none while none changes. */
	ck_assert_uint_eq(check_input(&s), 4);
	ck_assert_uint_eq(check_input(&s), 0);
	ck_assert_str_eq(input_model(&s, "b"), "EPYC-Rome");
	ck_assert_str_eq(input_model(&s, "f"), "EPYC-Rome");
	ck_assert_str_eq(input_model(&s, "h"), "");

	/* Redefined with an XML of the same length: read again. */
	vm_set_xml(&s, "b", "EPYC-Rome", "Opteron_G");
	ck_assert_uint_eq(check_input(&s), 1);
	ck_assert_str_eq(input_model(&s, "b"), "Opteron_G");
	/* Now QEMU emulates it: no model needed. */
	vm_set_xml(&s, "b", "'kvm'", "'qemu'");
	ck_assert_uint_eq(check_input(&s), 1);
	ck_assert_str_eq(input_model(&s, "b"), "");

	/* What the cache keeps is the XML's answer; where the VM runs is asked each time. */
	host->node = 2;
	ck_assert_uint_eq(check_input(&s), 0);
	ck_assert_str_eq(input_model(&s, "f"), "");

	/* Removed, added, and redefined under the same name: only the new ones are read. */
	vm_remove(&s, "d");
	vm_add(&s, "a", 1, "<cpu><model>qemu64</model></cpu>");
	vm_add(&s, "e", 5, "<cpu><model>qemu32</model></cpu>");
	vm_remove(&s, "h");
	vm_add(&s, "h", 9, "<cpu><model>EPYC</model></cpu>");
	ck_assert_uint_eq(check_input(&s), 3);
	ck_assert_str_eq(input_model(&s, "h"), "EPYC");
	ck_assert_uint_eq(check_input(&s), 0);

	/* After fini everything is read again. */
	cd_policy_adapter_fini();
	ck_assert_uint_eq(check_input(&s), s.n_vms);
	cd_policy_adapter_fini();
	cd_state_free(&s);
}
END_TEST

/* The adapter asks the VM's setting each time, and its XML once. */
START_TEST(test_adapter_baseline)
{
	struct cd_state s;
	struct json_object *c;

	adapter_state(&s);
	vm_add(&s, "b", 2, "<cpu><model>Icelake-Server</model></cpu>");
	ck_assert_uint_eq(check_input(&s), 2);
	ck_assert_str_eq(input_model(&s, "b"), "Icelake-Server");
	ck_assert_str_eq(input_model(&s, "f"), "EPYC-Rome");

	c = json_tokener_parse("{\"op\":\"vm.set\",\"name\":\"b\",\"key\":\"cpu\","
			       "\"value\":\"cluster-baseline\"}");
	ck_assert_int_eq(cd_state_apply(&s, c, err, sizeof(err)), 0);
	json_object_put(c);
	((struct cd_vm *)cd_state_vm(&s, "f"))->cpu_baseline = true;
	ck_assert_uint_eq(check_input(&s), 0);
	ck_assert_str_eq(input_model(&s, "b"), "");
	ck_assert_str_eq(input_model(&s, "f"), "");
	cd_policy_adapter_fini();
	cd_state_free(&s);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("cpumodels");

	add_tcase(s, test_host);
	add_tcase(s, test_host_no_host_model);
	add_tcase(s, test_host_cap_and_bad);
	add_tcase(s, test_vm);
	add_tcase(s, test_vm_need);
	add_tcase(s, test_policy_rule);
	add_tcase(s, test_adapter_cache);
	add_tcase(s, test_adapter_baseline);
	return run_suite(s);
}
