/* What a move's target can tell of itself (peer_facts.h). */
#include "config.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>
#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

#include <clusterd/result.h>

#include "agents/peer_facts.h"
#include "agents/vm_agent.h"

/* Whether the CPU cpu_xml runs on the target for domain type virttype. */
static void compare_cpu(virConnectPtr c, const char *virttype, const char *cpu_xml,
			struct json_object *out)
{
	int r = virConnectCompareHypervisorCPU(c, NULL, NULL, NULL, virttype, cpu_xml, 0);
	const char *verdict = r == VIR_CPU_COMPARE_IDENTICAL || r == VIR_CPU_COMPARE_SUPERSET
				      ? "yes"
			      : r == VIR_CPU_COMPARE_INCOMPATIBLE ? "no"
								  : "unknown";
	char text[256];

	json_object_object_add(out, "cpu", json_object_new_string(verdict));
	if (r == VIR_CPU_COMPARE_INCOMPATIBLE)
		snprintf(text, sizeof(text),
			 "libvirt there finds the CPU incompatible (domain "
			 "type %s)",
			 virttype);
	else if (r < 0)
		snprintf(text, sizeof(text), "cannot compare the CPU there: %s",
			 cd_agent_last_error());
	else
		return;
	json_object_object_add(out, "cpu_text", json_object_new_string(text));
}

/* The names in req's key that the target lacks (or has down), by look(c, name). */
static void missing(virConnectPtr c, struct json_object *req, const char *key, bool network,
		    struct json_object *out, const char *out_key)
{
	struct json_object *arr, *miss = json_object_new_array();
	size_t i;

	if (json_object_object_get_ex(req, key, &arr) && json_object_is_type(arr, json_type_array))
		for (i = 0; i < json_object_array_length(arr); i++) {
			const char *n = json_object_get_string(json_object_array_get_idx(arr, i));
			int active = -1, code;

			if (!n)
				continue;
			if (network) {
				virNetworkPtr p = virNetworkLookupByName(c, n);

				if (p) {
					active = virNetworkIsActive(p);
					virNetworkFree(p);
				}
			} else {
				virInterfacePtr p = virInterfaceLookupByName(c, n);

				if (p) {
					active = virInterfaceIsActive(p);
					virInterfaceFree(p);
				}
			}
			code = virGetLastErrorCode();
			/* Only a clear "no such" or "down" counts: an unsupported look is no
			 * verdict. */
			if (active == 0 || (active < 0 && (code == VIR_ERR_NO_INTERFACE ||
							   code == VIR_ERR_NO_NETWORK)))
				json_object_array_add(miss, json_object_new_string(n));
			virResetLastError();
		}
	json_object_object_add(out, out_key, miss);
}

int cd_peer_facts_run(const char *uri, const char *req_text, char **out, char *err, size_t errlen)
{
	struct json_object *req = json_tokener_parse(req_text), *ans, *v;
	virConnectPtr c;

	*out = NULL;
	if (!req || !json_object_is_type(req, json_type_object)) {
		json_object_put(req);
		snprintf(err, errlen, "the question is no JSON object");
		return CD_ERR_INVALID;
	}
	c = virConnectOpen(uri);
	if (!c) {
		snprintf(err, errlen, "cannot reach the target's libvirtd (%s): %s", uri,
			 cd_agent_last_error());
		json_object_put(req);
		return CD_ERR_NO_DAEMON;
	}
	ans = json_object_new_object();
	if (json_object_object_get_ex(req, "cpu", &v) && json_object_get_string(v)) {
		struct json_object *t;
		const char *type = json_object_object_get_ex(req, "virttype", &t)
					   ? json_object_get_string(t)
					   : "kvm";

		compare_cpu(c, type ? type : "kvm", json_object_get_string(v), ans);
	} else {
		/* No <cpu>: QEMU's default CPU, which every host runs. */
		json_object_object_add(ans, "cpu", json_object_new_string("yes"));
	}
	missing(c, req, "bridges", false, ans, "missing_bridges");
	missing(c, req, "networks", true, ans, "missing_networks");
	virConnectClose(c);
	*out = strdup(json_object_to_json_string_ext(ans, JSON_C_TO_STRING_PLAIN));
	json_object_put(ans);
	json_object_put(req);
	if (!*out) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	return 0;
}
