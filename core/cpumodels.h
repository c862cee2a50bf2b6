/*
 * CPU models, as libvirt names them, on both sides of the policy's CPU
 * rule: the models a host can run (from libvirt's domain capabilities) and
 * the model a VM needs (from its domain XML). Names are libvirt's CPU map
 * names ("EPYC-Rome", "qemu64"), never the marketing name of
 * /proc/cpuinfo, so that the two sides compare.
 *
 * Pure: libxml2 only, no libvirt, no I/O.
 */
#ifndef CD_CPUMODELS_H
#define CD_CPUMODELS_H

#include <stdbool.h>
#include <stddef.h>

#include "core/state.h"

/*
 * Read libvirt's domain capabilities XML (virConnectGetDomainCapabilities)
 * into cap: cpu_model becomes the host-model CPU's name when libvirt offers
 * one (left as it was otherwise), cpu_models the host-model name first, then
 * every custom model libvirt marks usable='yes', each once, in libvirt's
 * order, at most CD_CPU_MODELS_MAX. *dropped counts the usable models left
 * out beyond that cap; virt_type gets the domain type the capabilities are
 * for ("kvm", "qemu"). Returns 0, or CD_ERR_INVALID with err set when the
 * XML does not parse or names a model that is no valid name.
 */
int cd_host_cpus_read(const char *domcaps, struct cd_capacity *cap, size_t *dropped,
		      char *virt_type, size_t type_len, char *err, size_t errlen);

/*
 * How a VM's <cpu> asks for its CPU (libvirt's mode attribute):
 *   NONE         no <cpu>, or one without a <model>: QEMU's default CPU,
 *                which every host runs;
 *   CUSTOM       <model>X</model>: the host must list X as usable;
 *   HOST_MODEL   libvirt turns the host's own model into a custom CPU at
 *                start: any host can start it, and a running VM can only
 *                move to a host that runs that model;
 *   PASSTHROUGH  host-passthrough or maximum: the host's CPU as it is; any
 *                host can start it, a running VM should only move between
 *                hosts of the same host model.
 */
enum cd_vm_cpu_mode {
	CD_VM_CPU_NONE,
	CD_VM_CPU_CUSTOM,
	CD_VM_CPU_HOST_MODEL,
	CD_VM_CPU_PASSTHROUGH,
};

struct cd_vm_cpu {
	enum cd_vm_cpu_mode mode;
	char model[CD_CPU_MODEL_MAX + 1]; /* for CD_VM_CPU_CUSTOM; "" otherwise */
	/*
	 * <domain type='qemu'>: QEMU emulates the CPU (TCG) whatever the host
	 * has, so no host's CPU limits where it runs. A host that offers KVM
	 * lists the models its CPU runs under KVM, which say nothing of these.
	 */
	bool emulated;
	/*
	 * Not from the XML: the VM is set to cpu=cluster-baseline (vm.h), so
	 * each start gives it a CPU every node runs, whatever its <cpu> says.
	 * The caller sets it after cd_vm_cpu_read().
	 */
	bool baseline;
};

/*
 * Read the <cpu> of domain XML xml. Returns 0, or CD_ERR_INVALID with err
 * set when the XML does not parse, the mode is unknown or the model is no
 * valid name.
 */
int cd_vm_cpu_read(const char *xml, struct cd_vm_cpu *cpu, char *err, size_t errlen);

/*
 * The CPU model the policy requires of the node a VM goes to, "" for none.
 * where is the capacity of the node the VM runs on, NULL if it runs
 * nowhere. A custom model is always required. A host-model or
 * host-passthrough VM can start on any host, so it requires nothing while
 * it runs nowhere; while it runs it may only move to a node that lists the
 * host model of the node it runs on (for host-passthrough the live
 * migration's own CPU comparison is the exact check: a node that runs
 * that model as a custom one passes this rule). Nothing either if that
 * node's host model is not known, if QEMU emulates the VM's CPU, or for a
 * cluster-baseline VM (cpu->baseline): its CPU is one every node runs, and
 * a live move's preflight asks the target's libvirt about the CPU it runs
 * with. Returns a string of cpu or where.
 */
const char *cd_vm_cpu_need(const struct cd_vm_cpu *cpu, const struct cd_capacity *where);

#endif
