/*
 * Domain XML checked with libvirt's own parser and schema (vm_agent.h:
 * cd_vm_agent_validate), in libvirt's test driver in this process: nothing
 * is defined anywhere, and no libvirtd is needed.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

#include <clusterd/result.h>

#include "agents/vm_agent.h"
#include "lib/util.h"

/* libvirt prints errors to stderr by default; we report them ourselves. */
static void quiet_errors(void *data, virErrorPtr e)
{
}

int cd_vm_agent_validate(const char *xml, char *name, size_t name_len, char *uuid, uint32_t *vcpus,
			 uint64_t *memory_mb, char *err, size_t errlen)
{
	virConnectPtr c;
	virDomainPtr d;
	virDomainInfo info;
	int rc = 0;

	virSetErrorFunc(NULL, quiet_errors);
	c = virConnectOpen("test:///default");
	if (!c) {
		snprintf(err, errlen, "cannot open libvirt's test driver: %s",
			 cd_agent_last_error());
		return CD_ERR_INVALID;
	}
	d = virDomainDefineXMLFlags(c, xml, VIR_DOMAIN_DEFINE_VALIDATE);
	if (!d) {
		char m[400], *p;

		/* libvirt's schema errors span lines: one line for a person. */
		cd_strlcpy(m, cd_agent_last_error(), sizeof(m));
		for (p = m; (p = strchr(p, '\n'));)
			*p = p[1] ? ';' : '\0';
		snprintf(err, errlen, "invalid domain XML: %s", m);
		virConnectClose(c);
		return CD_ERR_INVALID;
	}
	if (virDomainGetInfo(d, &info) < 0 || virDomainGetUUIDString(d, uuid) < 0) {
		snprintf(err, errlen, "cannot read the domain XML: %s", cd_agent_last_error());
		rc = CD_ERR_INVALID;
	} else {
		cd_strlcpy(name, virDomainGetName(d), name_len);
		*vcpus = info.nrVirtCpu;
		*memory_mb = (info.maxMem + 1023) / 1024;
	}
	virDomainUndefine(d);
	virDomainFree(d);
	virConnectClose(c);
	return rc;
}
