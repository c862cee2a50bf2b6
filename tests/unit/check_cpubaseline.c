/*
 * The cluster's CPU baseline, its pure parts (core/cpubaseline.h): a
 * node's host CPU from libvirt's domain capabilities, and the domain XML
 * with the baseline in place of its <cpu>.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <clusterd/result.h>

#include "check_common.h"
#include "core/cpubaseline.h"
#include "core/cpumodels.h"
#include "core/state.h"

static char err[256];

/*
 * The CPU part of `virsh domcapabilities` (libvirt 9.0, KVM) on an Intel
 * Skylake client host: host-model supported, with required and disabled
 * features and a maxphysaddr.
 */
static const char *kvm_caps =
	"<domainCapabilities>\n"
	"  <path>/usr/bin/qemu-system-x86_64</path>\n"
	"  <domain>kvm</domain>\n"
	"  <machine>pc-i440fx-7.2</machine>\n"
	"  <arch>x86_64</arch>\n"
	"  <vcpu max='255'/>\n"
	"  <iothreads supported='yes'/>\n"
	"  <cpu>\n"
	"    <mode name='host-passthrough' supported='yes'>\n"
	"      <enum name='hostPassthroughMigratable'>\n"
	"        <value>on</value>\n"
	"        <value>off</value>\n"
	"      </enum>\n"
	"    </mode>\n"
	"    <mode name='maximum' supported='yes'>\n"
	"      <enum name='maximumMigratable'>\n"
	"        <value>on</value>\n"
	"        <value>off</value>\n"
	"      </enum>\n"
	"    </mode>\n"
	"    <mode name='host-model' supported='yes'>\n"
	"      <model fallback='forbid'>Skylake-Client-IBRS</model>\n"
	"      <vendor>Intel</vendor>\n"
	"      <maxphysaddr mode='passthrough' limit='39'/>\n"
	"      <feature policy='require' name='ss'/>\n"
	"      <feature policy='require' name='vmx'/>\n"
	"      <feature policy='require' name='pdcm'/>\n"
	"      <feature policy='require' name='hypervisor'/>\n"
	"      <feature policy='require' name='tsc_adjust'/>\n"
	"      <feature policy='require' name='clflushopt'/>\n"
	"      <feature policy='require' name='umip'/>\n"
	"      <feature policy='require' name='md-clear'/>\n"
	"      <feature policy='require' name='stibp'/>\n"
	"      <feature policy='require' name='arch-capabilities'/>\n"
	"      <feature policy='require' name='ssbd'/>\n"
	"      <feature policy='require' name='xsaves'/>\n"
	"      <feature policy='require' name='pdpe1gb'/>\n"
	"      <feature policy='require' name='ibpb'/>\n"
	"      <feature policy='require' name='ibrs'/>\n"
	"      <feature policy='require' name='amd-stibp'/>\n"
	"      <feature policy='require' name='amd-ssbd'/>\n"
	"      <feature policy='require' name='rdctl-no'/>\n"
	"      <feature policy='require' name='ibrs-all'/>\n"
	"      <feature policy='require' name='skip-l1dfl-vmentry'/>\n"
	"      <feature policy='require' name='mds-no'/>\n"
	"      <feature policy='require' name='pschange-mc-no'/>\n"
	"      <feature policy='disable' name='hle'/>\n"
	"      <feature policy='disable' name='rtm'/>\n"
	"      <feature policy='disable' name='mpx'/>\n"
	"    </mode>\n"
	"    <mode name='custom' supported='yes'>\n"
	"      <model usable='yes' vendor='unknown'>qemu64</model>\n"
	"      <model usable='yes' vendor='Intel'>Skylake-Client-IBRS</model>\n"
	"      <model usable='no' vendor='Intel'>Icelake-Server</model>\n"
	"      <blockers model='Icelake-Server'>\n"
	"        <feature name='avx512f'/>\n"
	"      </blockers>\n"
	"    </mode>\n"
	"  </cpu>\n"
	"  <devices/>\n"
	"</domainCapabilities>\n";

/*
 * `virsh domcapabilities --virttype qemu` (TCG) where libvirt cannot
 * express the host's CPU as a host model: host-model unsupported.
 */
static const char *tcg_caps =
	"<domainCapabilities>\n"
	"  <path>/usr/bin/qemu-system-x86_64</path>\n"
	"  <domain>qemu</domain>\n"
	"  <machine>pc-i440fx-7.2</machine>\n"
	"  <arch>x86_64</arch>\n"
	"  <vcpu max='255'/>\n"
	"  <cpu>\n"
	"    <mode name='host-passthrough' supported='no'/>\n"
	"    <mode name='maximum' supported='yes'>\n"
	"      <enum name='maximumMigratable'><value>on</value><value>off</value></enum>\n"
	"    </mode>\n"
	"    <mode name='host-model' supported='no'/>\n"
	"    <mode name='custom' supported='yes'>\n"
	"      <model usable='yes' vendor='unknown'>qemu64</model>\n"
	"    </mode>\n"
	"  </cpu>\n"
	"</domainCapabilities>\n";

START_TEST(test_host_cpu_kvm)
{
	char out[CD_HOST_CPU_XML_MAX + 1];
	struct cd_vm_cpu cpu;

	ck_assert_int_eq(cd_host_cpu_xml(kvm_caps, out, sizeof(out), err, sizeof(err)), 1);
	ck_assert_msg(strncmp(out,
			      "<cpu mode=\"custom\" match=\"exact\">"
			      "<model fallback=\"forbid\">Skylake-Client-IBRS</model>"
			      "<vendor>Intel</vendor>"
			      "<feature policy=\"require\" name=\"ss\"/>"
			      "<feature policy=\"require\" name=\"vmx\"/>",
			      180) == 0,
		      "%s", out);
	/* Disabled features stay disabled: the host lacks them. */
	ck_assert_ptr_nonnull(strstr(out, "<feature policy=\"disable\" name=\"mpx\"/></cpu>"));
	ck_assert_ptr_null(strstr(out, "maxphysaddr"));
	ck_assert_ptr_null(strstr(out, "Icelake"));
	ck_assert_ptr_null(strchr(out, '\n'));
	/* It is a CPU definition as a domain has it. */
	{
		char *dom = NULL;

		ck_assert_int_eq(cd_xml_replace_cpu("<domain type='kvm'/>", out, &dom), 0);
		ck_assert_int_eq(cd_vm_cpu_read(dom, &cpu, err, sizeof(err)), 0);
		ck_assert_int_eq(cpu.mode, CD_VM_CPU_CUSTOM);
		ck_assert_str_eq(cpu.model, "Skylake-Client-IBRS");
		free(dom);
	}
}
END_TEST

START_TEST(test_host_cpu_none_and_bad)
{
	char out[CD_HOST_CPU_XML_MAX + 1] = "stale", small[64];

	/* TCG without a host model: none, and no error. */
	ck_assert_int_eq(cd_host_cpu_xml(tcg_caps, out, sizeof(out), err, sizeof(err)), 0);
	ck_assert_str_eq(out, "");
	/* A host-model without a model names no CPU either. */
	ck_assert_int_eq(cd_host_cpu_xml("<domainCapabilities><cpu><mode name='host-model' "
					 "supported='yes'><vendor>AMD</vendor></mode></cpu>"
					 "</domainCapabilities>",
					 out, sizeof(out), err, sizeof(err)),
			 0);
	ck_assert_str_eq(out, "");
	/* Text is escaped as XML wants it. */
	ck_assert_int_eq(cd_host_cpu_xml("<domainCapabilities><cpu><mode name='host-model' "
					 "supported='yes'><model>a&amp;b</model></mode></cpu>"
					 "</domainCapabilities>",
					 out, sizeof(out), err, sizeof(err)),
			 1);
	ck_assert_str_eq(out, "<cpu mode=\"custom\" match=\"exact\">"
			      "<model fallback=\"forbid\">a&amp;b</model></cpu>");
	/* Too long for what is kept, or no XML: an error. */
	ck_assert_int_eq(cd_host_cpu_xml(kvm_caps, small, sizeof(small), err, sizeof(err)),
			 CD_ERR_INVALID);
	ck_assert_str_eq(small, "");
	ck_assert_ptr_nonnull(strstr(err, "more than the 63 kept"));
	ck_assert_int_eq(
		cd_host_cpu_xml("<domainCapabilities>", out, sizeof(out), err, sizeof(err)),
		CD_ERR_INVALID);
	ck_assert_int_eq(cd_host_cpu_xml(NULL, out, sizeof(out), err, sizeof(err)), CD_ERR_INVALID);
}
END_TEST

/* What libvirt's virConnectBaselineHypervisorCPU answers (its own layout). */
static const char *baseline = "<cpu mode='custom' match='exact'>\n"
			      "  <model fallback='forbid'>Skylake-Client-noTSX-IBRS</model>\n"
			      "  <vendor>Intel</vendor>\n"
			      "  <feature policy='require' name='ss'/>\n"
			      "  <feature policy='disable' name='mpx'/>\n"
			      "</cpu>\n";

START_TEST(test_replace_cpu)
{
	const char *with = "<domain type='kvm'>\n"
			   "  <name>web1</name>\n"
			   "  <vcpu>2</vcpu>\n"
			   "  <cpu mode='host-passthrough' check='none'>\n"
			   "    <model>EPYC</model>\n"
			   "    <topology sockets='1' cores='2' threads='1'/>\n"
			   "    <feature policy='require' name='svm'/>\n"
			   "    <numa><cell id='0' cpus='0-1' memory='1024' unit='MiB'/></numa>\n"
			   "  </cpu>\n"
			   "  <os><type arch='x86_64'>hvm</type></os>\n"
			   "</domain>\n";
	struct cd_vm_cpu cpu;
	char *out = NULL;

	ck_assert_int_eq(cd_xml_replace_cpu(with, baseline, &out), 0);
	ck_assert_int_eq(cd_vm_cpu_read(out, &cpu, err, sizeof(err)), 0);
	ck_assert_int_eq(cpu.mode, CD_VM_CPU_CUSTOM);
	ck_assert_str_eq(cpu.model, "Skylake-Client-noTSX-IBRS");
	/* The CPU is the baseline's; the VM's shape is its own. */
	ck_assert_ptr_null(strstr(out, "host-passthrough"));
	ck_assert_ptr_null(strstr(out, "EPYC"));
	ck_assert_ptr_null(strstr(out, "svm"));
	ck_assert_ptr_null(strstr(out, "check="));
	ck_assert_ptr_nonnull(strstr(out, "<topology sockets=\"1\" cores=\"2\" threads=\"1\"/>"));
	ck_assert_ptr_nonnull(strstr(out, "<cell id=\"0\""));
	ck_assert_ptr_nonnull(strstr(out, "<feature policy=\"disable\" name=\"mpx\"/>"));
	/* One <cpu>, and the rest as it was. */
	ck_assert_ptr_null(strstr(strstr(out, "<cpu") + 1, "<cpu"));
	ck_assert_ptr_nonnull(strstr(out, "<name>web1</name>"));
	ck_assert_ptr_nonnull(strstr(out, "<type arch=\"x86_64\">hvm</type>"));
	ck_assert_ptr_null(strstr(out, "<?xml"));
	free(out);

	/* Without a <cpu>: the baseline is added. */
	ck_assert_int_eq(cd_xml_replace_cpu("<domain type='kvm'><name>db</name><vcpu>1</vcpu>"
					    "</domain>",
					    baseline, &out),
			 0);
	ck_assert_int_eq(cd_vm_cpu_read(out, &cpu, err, sizeof(err)), 0);
	ck_assert_int_eq(cpu.mode, CD_VM_CPU_CUSTOM);
	ck_assert_str_eq(cpu.model, "Skylake-Client-noTSX-IBRS");
	ck_assert_ptr_nonnull(strstr(out, "<name>db</name>"));
	free(out);
}
END_TEST

START_TEST(test_replace_cpu_bad)
{
	char *out = (char *)"untouched";

	ck_assert_int_eq(cd_xml_replace_cpu("<domain type='kvm'>", baseline, &out), CD_ERR_INVALID);
	ck_assert_ptr_null(out);
	ck_assert_int_eq(cd_xml_replace_cpu("<network/>", baseline, &out), CD_ERR_INVALID);
	ck_assert_int_eq(cd_xml_replace_cpu("<domain/>", "<model>X</model>", &out), CD_ERR_INVALID);
	ck_assert_int_eq(cd_xml_replace_cpu("<domain/>", "", &out), CD_ERR_INVALID);
	ck_assert_int_eq(cd_xml_replace_cpu(NULL, baseline, &out), CD_ERR_INVALID);
	ck_assert_ptr_null(out);
}
END_TEST

START_TEST(test_domain_cpu_target)
{
	char arch[32], type[16];

	ck_assert_int_eq(cd_domain_cpu_target("<domain type='kvm'><os><type arch='x86_64' "
					      "machine='q35'>hvm</type></os></domain>",
					      arch, sizeof(arch), type, sizeof(type), err,
					      sizeof(err)),
			 0);
	ck_assert_str_eq(arch, "x86_64");
	ck_assert_str_eq(type, "kvm");
	/* No arch: libvirt takes the host's. */
	ck_assert_int_eq(cd_domain_cpu_target("<domain type='qemu'><os><type>hvm</type></os>"
					      "</domain>",
					      arch, sizeof(arch), type, sizeof(type), err,
					      sizeof(err)),
			 0);
	ck_assert_str_eq(arch, "");
	ck_assert_str_eq(type, "qemu");
	ck_assert_int_eq(cd_domain_cpu_target("<domain><os/></domain>", arch, sizeof(arch), type,
					      sizeof(type), err, sizeof(err)),
			 CD_ERR_INVALID);
	ck_assert_int_eq(cd_domain_cpu_target("<domain type='kvm'><os><type arch='"
					      "an-architecture-name-far-too-long-to-keep'>hvm"
					      "</type></os></domain>",
					      arch, sizeof(arch), type, sizeof(type), err,
					      sizeof(err)),
			 CD_ERR_INVALID);
	ck_assert_int_eq(cd_domain_cpu_target("<domain", arch, sizeof(arch), type, sizeof(type),
					      err, sizeof(err)),
			 CD_ERR_INVALID);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("cpubaseline");

	add_tcase(s, test_host_cpu_kvm);
	add_tcase(s, test_host_cpu_none_and_bad);
	add_tcase(s, test_replace_cpu);
	add_tcase(s, test_replace_cpu_bad);
	add_tcase(s, test_domain_cpu_target);
	return run_suite(s);
}
