/* The host's CPU and the cluster's CPU baseline, in the VM agent (cpubaseline.h). */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

#include <clusterd/result.h>

#include "agents/cpubaseline.h"
#include "agents/vm_agent.h"
#include "core/cpubaseline.h"

struct cd_cpu_list *cd_cpu_list_new(const char *const *cpus, size_t n)
{
	struct cd_cpu_list *l = calloc(1, sizeof(*l) + n * sizeof(l->cpu[0]));

	if (!l)
		return NULL;
	for (l->n = 0; l->n < n; l->n++) {
		l->cpu[l->n] = strdup(cpus[l->n]);
		if (!l->cpu[l->n]) {
			cd_cpu_list_free(l);
			return NULL;
		}
	}
	return l;
}

void cd_cpu_list_free(struct cd_cpu_list *l)
{
	size_t i;

	if (!l)
		return;
	for (i = 0; i < l->n; i++)
		free(l->cpu[i]);
	free(l);
}

int cd_vm_agent_start_baseline(const char *name, const char *xml, const char *const *cpus,
			       size_t n_cpus, int timeout_ms, cd_agent_done_fn done, void *ctx)
{
	struct cd_cpu_list *l = cd_cpu_list_new(cpus, n_cpus);

	if (!l)
		return -ENOMEM;
	return cd_agent_start_baseline_job(name, xml, l, timeout_ms, done, ctx);
}

/* --- in an agent job's thread --- */

/*
 * KVM is asked first: libvirt refuses it at once where it cannot use it
 * (no /dev/kvm, or none libvirtd may open), and only then is this a TCG
 * host.
 */
int cd_agent_domain_caps(virConnectPtr c, char **out, char *err, size_t errlen)
{
	static const char *const types[] = {"kvm", "qemu"};
	size_t i;

	/* The XML's <domain> says which type answered. */
	for (i = 0; i < sizeof(types) / sizeof(types[0]) && !*out; i++)
		*out = virConnectGetDomainCapabilities(c, NULL, NULL, NULL, types[i], 0);
	if (!*out)
		snprintf(err, errlen, "cannot read the domain capabilities: %s",
			 cd_agent_last_error());
	virResetLastError();
	return *out ? 0 : CD_ERR_INVALID;
}

int cd_agent_baseline_xml(virConnectPtr c, const char *xml, const struct cd_cpu_list *l, char **out,
			  char *err, size_t errlen)
{
	char arch[32], type[16], why[200];
	char *cpu;
	int rc;

	*out = NULL;
	if (l->n == 0) {
		snprintf(err, errlen,
			 "no CPU baseline: no node of the cluster has told its host CPU");
		return CD_ERR_INVALID;
	}
	rc = cd_domain_cpu_target(xml, arch, sizeof(arch), type, sizeof(type), why, sizeof(why));
	if (rc < 0) {
		snprintf(err, errlen, "no CPU baseline: %s", why);
		return CD_ERR_INVALID;
	}
	/*
	 * Migratable: a feature that blocks migration (invtsc) would pin the
	 * VM to the node it starts on, which is what the baseline is for not
	 * to do.
	 */
	cpu = virConnectBaselineHypervisorCPU(c, NULL, arch[0] ? arch : NULL, NULL, type,
					      (const char **)l->cpu, (unsigned int)l->n,
					      VIR_CONNECT_BASELINE_CPU_MIGRATABLE);
	if (!cpu) {
		snprintf(err, errlen, "no CPU baseline: %s", cd_agent_last_error());
		virResetLastError();
		return CD_ERR_INVALID;
	}
	rc = cd_xml_replace_cpu(xml, cpu, out);
	free(cpu);
	if (rc < 0) {
		snprintf(err, errlen, "no CPU baseline: %s",
			 rc == -ENOMEM ? "out of memory" : "the domain XML cannot take it");
		return CD_ERR_INVALID;
	}
	return 0;
}
