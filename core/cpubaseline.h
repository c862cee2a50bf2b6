/*
 * The cluster's CPU baseline (vm set cpu=cluster-baseline), its pure parts:
 * each node's host CPU as libvirt's domain capabilities give it, written
 * as a CPU definition libvirt's virConnectBaselineHypervisorCPU takes, and
 * the domain XML with the baseline in place of its own <cpu>. The agent
 * (agents/cpubaseline.c) asks libvirt for the baseline itself.
 *
 * Pure: libxml2 only, no libvirt, no I/O.
 */
#ifndef CD_CPUBASELINE_H
#define CD_CPUBASELINE_H

#include <stddef.h>

/*
 * This host's CPU from libvirt's domain capabilities XML
 * (virConnectGetDomainCapabilities): the host-model CPU, when libvirt
 * supports it there (<mode name='host-model' supported='yes'>), with its
 * model, vendor and features (each with its policy: required, or
 * disabled as the model has it but the host lacks it), written into out
 * as <cpu mode="custom" match="exact">...</cpu> on one line. Returns 1
 * with out set, 0 with out "" if libvirt offers no host-model CPU (TCG
 * may not), or CD_ERR_INVALID with err set if the XML does not parse or
 * the definition does not fit in outlen.
 */
int cd_host_cpu_xml(const char *domcaps, char *out, size_t outlen, char *err, size_t errlen);

/*
 * What libvirt needs besides the CPUs to compute a baseline for domain
 * XML xml: its domain type ("kvm", "qemu") into virttype and its
 * architecture (<os><type arch=...>) into arch, "" if the XML names none.
 * Returns 0, or CD_ERR_INVALID with err set if the XML does not parse, is
 * no <domain> or names no type, or a value does not fit.
 */
int cd_domain_cpu_target(const char *xml, char *arch, size_t arch_len, char *virttype,
			 size_t type_len, char *err, size_t errlen);

/*
 * domain_xml with cpu_xml (a <cpu> element, as the baseline gives it) in
 * place of its <cpu>, or added if it has none. The CPU's mode, match,
 * model, vendor and features are cpu_xml's; what else the old <cpu> held
 * (topology, NUMA cells, cache, maxphysaddr) stays, for it is the VM's
 * shape and not the host's CPU. *out gets the new XML (caller frees).
 * Returns 0, CD_ERR_INVALID if either XML does not parse or is not a
 * <domain> and a <cpu>, or -ENOMEM.
 */
int cd_xml_replace_cpu(const char *domain_xml, const char *cpu_xml, char **out);

#endif
