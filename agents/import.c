#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>
#include <libvirt/virterror.h>

#include <clusterd/result.h>

#include "agents/import.h"
#include "agents/vm_agent.h"

int cd_agent_import_read(virDomainPtr d, char **out, char *err, size_t errlen)
{
	int active = virDomainIsActive(d), persistent = virDomainIsPersistent(d);
	int saved = active == 1 ? 0 : virDomainHasManagedSaveImage(d, 0);
	/*
	 * A running domain as it runs (a migration's form: no runtime-only
	 * parts), not a persistent definition that may differ from it; an
	 * inactive one as libvirt would start it.
	 */
	unsigned flags = VIR_DOMAIN_XML_SECURE |
			 (active == 1 ? VIR_DOMAIN_XML_MIGRATABLE : VIR_DOMAIN_XML_INACTIVE);
	char *xml;
	struct json_object *o;

	*out = NULL;
	if (active < 0 || persistent < 0) {
		snprintf(err, errlen, "cannot read the domain's state: %s", cd_agent_last_error());
		return CD_ERR_INVALID;
	}
	xml = virDomainGetXMLDesc(d, flags);
	if (!xml) {
		snprintf(err, errlen, "cannot read the domain XML: %s", cd_agent_last_error());
		return CD_ERR_INVALID;
	}
	o = json_object_new_object();
	json_object_object_add(o, "xml", json_object_new_string(xml));
	json_object_object_add(o, "active", json_object_new_boolean(active == 1));
	json_object_object_add(o, "persistent", json_object_new_boolean(persistent == 1));
	json_object_object_add(o, "managed_save", json_object_new_boolean(saved == 1));
	*out = strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
	json_object_put(o);
	free(xml);
	virResetLastError();
	if (!*out) {
		snprintf(err, errlen, "out of memory");
		return CD_ERR_INVALID;
	}
	return 0;
}

int cd_agent_import_undefine(virDomainPtr d, char *err, size_t errlen)
{
	unsigned flags = VIR_DOMAIN_UNDEFINE_KEEP_NVRAM | VIR_DOMAIN_UNDEFINE_SNAPSHOTS_METADATA |
			 VIR_DOMAIN_UNDEFINE_CHECKPOINTS_METADATA;

	if (virDomainIsPersistent(d) != 1)
		return 0;
	if (virDomainUndefineFlags(d, flags) < 0) {
		snprintf(err, errlen, "cannot remove libvirt's definition: %s",
			 cd_agent_last_error());
		return CD_ERR_INVALID;
	}
	return 0;
}
