/*
 * The placement policy's view of the replicated state: its nodes and VMs
 * as policy/policy.h takes them, the time of day, and the cluster
 * property cpu-overcommit.
 *
 * Pure: the state and the policy's types, no loop, no replica, no I/O.
 * One thing lasts from call to call: what each VM's domain XML asks of
 * the CPU (cpumodels.h). Reading it takes a libxml2 parse, and the policy
 * is asked often about every VM while a VM's XML changes only when it is
 * defined again, so the adapter reads each XML once and keeps the answer
 * by VM name and a hash of the XML. It hashes an XML only when the record
 * does not show it unchanged (its address, xml_stamp and length, vm.h):
 * 50 MB of XML at 10,000 VMs would cost more than the rest of a decision.
 * That memory is this node's own: it is not in struct cd_state, so it is
 * never copied, serialized or part of the state's checksum.
 */
#ifndef CD_POLICY_ADAPTER_H
#define CD_POLICY_ADAPTER_H

#include <stddef.h>
#include <stdint.h>

#include "core/state.h"
#include "policy/policy.h"

/*
 * Build the policy's view of state s into in. The caller frees it with
 * cd_policy_adapter_input_free(). Returns 0 or -ENOMEM.
 */
int cd_policy_adapter_input(const struct cd_state *s, struct cd_policy_input *in);
void cd_policy_adapter_input_free(struct cd_policy_input *in);

/*
 * Read what the adapter reads of s's VMs' domain XML, at most max_reads
 * XMLs not read yet, and keep it for the next cd_policy_adapter_input()
 * (and forget the VMs s no longer holds). A member calls it off the
 * decision's path, a piece at a time, so that when it becomes the
 * coordinator its first decision does not read every XML. Returns how many
 * XMLs are still to read (0: none).
 */
size_t cd_policy_adapter_warm(const struct cd_state *s, size_t max_reads);

/* Forget what was read of the VMs' XML (at shutdown; the next call reads again). */
void cd_policy_adapter_fini(void);

/* How many domain XMLs the adapter has read since it started: for tests. */
uint64_t cd_policy_adapter_xml_reads(void);

#endif
