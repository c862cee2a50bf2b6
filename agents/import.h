/*
 * What an import (clusterctl vm import) asks of this node's libvirtd: a
 * domain's definition as the cluster will store it, and, once the cluster
 * has it, the end of libvirt's own persistent definition. Run in an agent
 * job's thread (vm_agent.c), on the node's connection.
 */
#ifndef CD_AGENT_IMPORT_H
#define CD_AGENT_IMPORT_H

#include <stddef.h>

#include <libvirt/libvirt.h>

/*
 * Domain d's definition as JSON text in *out (malloc'd): {"xml": the
 * domain's XML (a running domain's as it runs, in the form a migration
 * sends; an inactive one's persistent definition), "active": whether it
 * runs, "persistent", "managed_save": libvirt holds a saved memory image
 * of it}. Returns 0, or CD_ERR_INVALID with err set.
 */
int cd_agent_import_read(virDomainPtr d, char **out, char *err, size_t errlen);

/*
 * Remove d's persistent definition, if it has one: a running domain runs
 * on as a transient one, as every cluster VM does (vm_agent.c start(): the
 * cluster's XML is the truth); an inactive one is gone from libvirt. A
 * UEFI variable store is kept. Returns 0, or CD_ERR_INVALID with err set.
 */
int cd_agent_import_undefine(virDomainPtr d, char *err, size_t errlen);

#endif
