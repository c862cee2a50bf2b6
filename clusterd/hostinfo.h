/* What this host offers: cores, memory, CPU models. */
#ifndef CD_HOSTINFO_H
#define CD_HOSTINFO_H

#include <qb/qbloop.h>

#include "core/state.h"

/*
 * Fill cap from the host (sysinfo; the CPU models libvirt gave
 * cd_hostinfo_probe_cpus(), or /proc/cpuinfo's model name and no list
 * until it did). Never fails, never blocks.
 */
void cd_hostinfo_capacity(struct cd_capacity *cap);

/*
 * Fill f's libvirt and QEMU versions, which libvirt told with the CPU
 * models (0 until it did); corosync's facts come from corosync
 * (membership.c).
 */
void cd_hostinfo_facts(struct cd_node_facts *f);

/*
 * Ask libvirt, through the VM agent (cd_vm_agent_init() first), which CPU
 * models this host can run, until it answers: again every little while if
 * a call fails. ready is called once from the loop, when the first call
 * returned (answered or failed) or after wait_ms, whichever comes first:
 * the node's information
 * goes to the cluster when it joins, so it joins with the models if
 * libvirt answers in time. call_timeout_ms bounds each libvirt call.
 * late is called from the loop if libvirt answers only after ready was
 * called: the node joined without the models, which must follow.
 */
void cd_hostinfo_probe_cpus(qb_loop_t *loop, int call_timeout_ms, int wait_ms, void (*ready)(void),
			    void (*late)(void));

#endif
