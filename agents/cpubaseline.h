/*
 * The host's CPU and the cluster's CPU baseline, in the VM agent
 * (vm_agent.h: CD_AGENT_DOMCAPS, cd_vm_agent_start_baseline). The libvirt
 * calls run in the calling agent job's thread (vm_agent.c); what is done
 * with libvirt's answers is pure (core/cpubaseline.h).
 */
#ifndef CD_AGENTS_CPUBASELINE_H
#define CD_AGENTS_CPUBASELINE_H

#include <stddef.h>

#include <libvirt/libvirt.h>

#include "agents/vm_agent.h"

/* Host CPU definitions a start's baseline is computed from, copied for its job. */
struct cd_cpu_list {
	size_t n;
	char *cpu[];
};

/* A copy of the n CPU definitions cpus (n may be 0), or NULL if out of memory. */
struct cd_cpu_list *cd_cpu_list_new(const char *const *cpus, size_t n);
void cd_cpu_list_free(struct cd_cpu_list *l);

/* --- in an agent job's thread (vm_agent.c) --- */

/*
 * The domain capabilities for the domain type VMs get here, "kvm" if
 * libvirt can, else "qemu" (TCG): *out gets libvirt's XML (caller frees).
 * Returns 0 or CD_ERR_INVALID with err set.
 */
int cd_agent_domain_caps(virConnectPtr c, char **out, char *err, size_t errlen);

/*
 * Domain XML xml with the baseline of the host CPUs l in place of its
 * <cpu>: libvirt's virConnectBaselineHypervisorCPU for the XML's domain
 * type and architecture, migratable features only. *out gets the new XML
 * (caller frees). Returns 0, or CD_ERR_INVALID with err "no CPU baseline:
 * ..." when l is empty, libvirt computes none or the XML cannot take it.
 */
int cd_agent_baseline_xml(virConnectPtr c, const char *xml, const struct cd_cpu_list *l, char **out,
			  char *err, size_t errlen);

/*
 * vm_agent.c: a CD_AGENT_START job of domain name that starts it with the
 * baseline of cpus (taken over, freed whatever happens) instead of its
 * XML's own CPU.
 */
int cd_agent_start_baseline_job(const char *name, const char *xml, struct cd_cpu_list *cpus,
				int timeout_ms, cd_agent_done_fn done, void *ctx);

#endif
