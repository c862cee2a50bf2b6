#include "config.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <clusterd/result.h>

#include "core/cpumodels.h"
#include "core/xmlquery.h"
#include "lib/util.h"

/*
 * Parse xml once and run each query in turn (cd_xml_each_text). Returns 0,
 * an fn's error, or CD_ERR_INVALID with err set if the XML does not parse.
 */
static int each_text(const char *xml, const struct cd_xml_query *q, size_t n_q, void *ctx,
		     char *err, size_t errlen)
{
	xmlDocPtr doc = cd_xml_parse(xml);
	int rc;

	if (!doc) {
		snprintf(err, errlen, "the XML does not parse");
		return CD_ERR_INVALID;
	}
	rc = cd_xml_each_text(doc, q, n_q, ctx, "the XML's CPU", err, errlen);
	xmlFreeDoc(doc);
	return rc;
}

static int check_model(const char *model, char *err, size_t errlen)
{
	if (cd_valid_name(model, CD_CPU_MODEL_MAX))
		return 0;
	snprintf(err, errlen, "CPU model '%.*s' is no valid name", CD_CPU_MODEL_MAX, model);
	return CD_ERR_INVALID;
}

/* --- the host: domain capabilities --- */

struct host_read {
	struct cd_capacity *cap;
	char *virt_type;
	size_t type_len;
	bool host_model; /* libvirt named one: it is cap->cpu_models[0] */
	size_t dropped;
};

static int add_model(const char *model, void *ctx, char *err, size_t errlen)
{
	struct host_read *h = ctx;
	struct cd_capacity *cap = h->cap;
	uint32_t i;

	if (check_model(model, err, errlen) < 0)
		return CD_ERR_INVALID;
	for (i = 0; i < cap->n_cpu_models; i++)
		if (strcmp(cap->cpu_models[i], model) == 0)
			return 0;
	if (cap->n_cpu_models == CD_CPU_MODELS_MAX) {
		h->dropped++;
		return 0;
	}
	cd_strlcpy(cap->cpu_models[cap->n_cpu_models++], model, sizeof(cap->cpu_models[0]));
	return 0;
}

static int add_host_model(const char *model, void *ctx, char *err, size_t errlen)
{
	struct host_read *h = ctx;
	int rc = add_model(model, ctx, err, errlen);

	h->host_model = rc == 0;
	return rc < 0 ? rc : 1; /* one host model */
}

static int read_type(const char *type, void *ctx, char *err, size_t errlen)
{
	struct host_read *h = ctx;

	cd_strlcpy(h->virt_type, type, h->type_len);
	return 1;
}

int cd_host_cpus_read(const char *domcaps, struct cd_capacity *cap, size_t *dropped,
		      char *virt_type, size_t type_len, char *err, size_t errlen)
{
	/* The host model first: it is the node's own model, [0] of its list. */
	static const struct cd_xml_query q[] = {
		{"/domainCapabilities/domain", read_type},
		{"/domainCapabilities/cpu/mode[@name='host-model' and @supported='yes']/model",
		 add_host_model},
		{"/domainCapabilities/cpu/mode[@name='custom' and @supported='yes']"
		 "/model[@usable='yes']",
		 add_model},
	};
	struct host_read h = {.cap = cap, .virt_type = virt_type, .type_len = type_len};
	int rc;

	*dropped = 0;
	cd_strlcpy(virt_type, "", type_len);
	cap->n_cpu_models = 0;
	memset(cap->cpu_models, 0, sizeof(cap->cpu_models));
	rc = each_text(domcaps, q, 3, &h, err, errlen);
	if (rc < 0) {
		cap->n_cpu_models = 0;
		return rc;
	}
	if (h.host_model)
		cd_strlcpy(cap->cpu_model, cap->cpu_models[0], sizeof(cap->cpu_model));
	*dropped = h.dropped;
	return 0;
}

/* --- a VM: its domain XML --- */

static int read_mode(const char *mode, void *ctx, char *err, size_t errlen)
{
	static const struct {
		const char *name;
		enum cd_vm_cpu_mode mode;
	} modes[] = {
		{"custom", CD_VM_CPU_CUSTOM},
		{"host-model", CD_VM_CPU_HOST_MODEL},
		{"host-passthrough", CD_VM_CPU_PASSTHROUGH},
		{"maximum", CD_VM_CPU_PASSTHROUGH},
	};
	struct cd_vm_cpu *cpu = ctx;
	size_t i;

	for (i = 0; i < sizeof(modes) / sizeof(modes[0]); i++)
		if (strcmp(modes[i].name, mode) == 0) {
			cpu->mode = modes[i].mode;
			return 0;
		}
	snprintf(err, errlen, "unknown CPU mode '%.32s'", mode);
	return CD_ERR_INVALID;
}

static int read_model(const char *model, void *ctx, char *err, size_t errlen)
{
	struct cd_vm_cpu *cpu = ctx;

	if (check_model(model, err, errlen) < 0)
		return CD_ERR_INVALID;
	cd_strlcpy(cpu->model, model, sizeof(cpu->model));
	return 1; /* libvirt allows one <model>: the first is it */
}

static int read_domain_type(const char *type, void *ctx, char *err, size_t errlen)
{
	struct cd_vm_cpu *cpu = ctx;

	(void)err;
	(void)errlen;
	cpu->emulated = strcmp(type, "qemu") == 0;
	return 1;
}

int cd_vm_cpu_read(const char *xml, struct cd_vm_cpu *cpu, char *err, size_t errlen)
{
	static const struct cd_xml_query q[] = {
		{"/domain/cpu/@mode", read_mode},
		{"/domain/cpu/model", read_model},
		{"/domain/@type", read_domain_type},
	};
	int rc;

	memset(cpu, 0, sizeof(*cpu));
	/* Most domains have no <cpu>: the coordinator asks for every VM often. */
	if (!strstr(xml, "<cpu"))
		return 0;
	/* Without a mode attribute libvirt reads <cpu> as custom. */
	cpu->mode = CD_VM_CPU_CUSTOM;
	rc = each_text(xml, q, 3, cpu, err, errlen);
	if (rc < 0) {
		memset(cpu, 0, sizeof(*cpu));
		return rc;
	}
	/* host-model and host-passthrough ignore a <model>; libvirt fills it in. */
	if (cpu->mode != CD_VM_CPU_CUSTOM)
		cpu->model[0] = '\0';
	/* A custom <cpu> without a model (topology only) is QEMU's default CPU. */
	if (cpu->mode == CD_VM_CPU_CUSTOM && !cpu->model[0])
		cpu->mode = CD_VM_CPU_NONE;
	return 0;
}

const char *cd_vm_cpu_need(const struct cd_vm_cpu *cpu, const struct cd_capacity *where)
{
	if (cpu->emulated || cpu->baseline)
		return "";
	switch (cpu->mode) {
	case CD_VM_CPU_NONE:
		return "";
	case CD_VM_CPU_CUSTOM:
		return cpu->model;
	case CD_VM_CPU_HOST_MODEL:
	case CD_VM_CPU_PASSTHROUGH:
		break;
	}
	/* [0] is the host model only if libvirt named one: then cpu_model is it. */
	if (!where || !where->n_cpu_models || strcmp(where->cpu_models[0], where->cpu_model) != 0)
		return "";
	return where->cpu_model;
}
