#include "config.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/sysinfo.h>
#include <unistd.h>

#include <qb/qblog.h>

#include "agents/vm_agent.h"
#include "core/cpubaseline.h"
#include "core/cpumodels.h"
#include "clusterd/hostinfo.h"
#include "lib/looptimer.h"
#include "lib/util.h"

/* Asked again this long after a failed libvirt call. */
#define PROBE_RETRY_MS 10000

static struct {
	qb_loop_t *loop;
	int call_timeout_ms;
	void (*ready)(void), (*late)(void);
	qb_loop_timer_handle wait_timer, retry_timer;
	bool known;			  /* libvirt answered: cpu below holds its models */
	bool failure_logged;		  /* said once per run of failures */
	struct cd_capacity cpu;		  /* cpu_model and cpu_models only */
	uint64_t lib_version, hv_version; /* libvirt's answer's */
} cpu_probe;

static void proc_cpu_model(struct cd_capacity *cap)
{
	char line[512];
	FILE *f;

	cd_strlcpy(cap->cpu_model, "unknown", sizeof(cap->cpu_model));
	f = fopen("/proc/cpuinfo", "re");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		char *colon = strchr(line, ':');

		if (strncmp(line, "model name", 10) != 0 || !colon)
			continue;
		colon++;
		while (*colon == ' ' || *colon == '\t')
			colon++;
		colon[strcspn(colon, "\n")] = '\0';
		cd_strlcpy(cap->cpu_model, colon, sizeof(cap->cpu_model));
		break;
	}
	fclose(f);
}

void cd_hostinfo_capacity(struct cd_capacity *cap)
{
	struct sysinfo si;
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	memset(cap, 0, sizeof(*cap));
	cap->cores = n > 0 ? (uint32_t)n : 1;
	if (sysinfo(&si) == 0)
		cap->memory_mb = (uint64_t)si.totalram * si.mem_unit / (1024 * 1024);
	proc_cpu_model(cap);
	if (!cpu_probe.known)
		return;
	/* libvirt named no host model: the marketing name stays, outside the list. */
	if (cpu_probe.cpu.cpu_model[0])
		cd_strlcpy(cap->cpu_model, cpu_probe.cpu.cpu_model, sizeof(cap->cpu_model));
	memcpy(cap->cpu_models, cpu_probe.cpu.cpu_models, sizeof(cap->cpu_models));
	cap->n_cpu_models = cpu_probe.cpu.n_cpu_models;
	cd_strlcpy(cap->host_cpu_xml, cpu_probe.cpu.host_cpu_xml, sizeof(cap->host_cpu_xml));
}

void cd_hostinfo_facts(struct cd_node_facts *f)
{
	f->libvirt_version = cpu_probe.known ? cpu_probe.lib_version : 0;
	f->qemu_version = cpu_probe.known ? cpu_probe.hv_version : 0;
}

static void call_ready(bool timer_pending)
{
	void (*ready)(void) = cpu_probe.ready;

	cpu_probe.ready = NULL;
	if (!ready)
		return;
	if (timer_pending)
		cd_timer_del(cpu_probe.loop, cpu_probe.wait_timer);
	ready();
}

static void wait_over(void *data)
{
	if (cpu_probe.ready)
		qb_log(LOG_WARNING, "libvirt has not told this host's CPU models yet: joining "
				    "without them (they go to the cluster at a later sync)");
	call_ready(false);
}

static void probe(void *data);

static void log_models(const char *virt_type, size_t dropped)
{
	char list[1024] = "";
	size_t len = 0;
	uint32_t i;

	for (i = 0; i < cpu_probe.cpu.n_cpu_models && len < sizeof(list); i++)
		len += (size_t)snprintf(list + len, sizeof(list) - len, "%s%s", i ? " " : "",
					cpu_probe.cpu.cpu_models[i]);
	qb_log(LOG_NOTICE, "CPU models from libvirt (domain type %s): host model %s; can run %s",
	       virt_type[0] ? virt_type : "unknown",
	       cpu_probe.cpu.cpu_model[0] ? cpu_probe.cpu.cpu_model : "none",
	       list[0] ? list : "none");
	if (dropped)
		qb_log(LOG_WARNING, "%zu more usable CPU models left out (at most %d a node)",
		       dropped, CD_CPU_MODELS_MAX);
}

/*
 * The host-model CPU the same answer gives, for the cluster's CPU
 * baseline (cpubaseline.h); without one this node gives none to it.
 */
static void host_cpu(const char *domcaps)
{
	char err[256];
	int rc = cd_host_cpu_xml(domcaps, cpu_probe.cpu.host_cpu_xml,
				 sizeof(cpu_probe.cpu.host_cpu_xml), err, sizeof(err));

	if (rc < 0)
		qb_log(LOG_WARNING, "this host's CPU is left out of CPU baselines: %s", err);
	else if (rc == 0)
		qb_log(LOG_INFO, "libvirt offers no host-model CPU here: this host's CPU is left "
				 "out of CPU baselines");
}

static void probe_done(void *ctx, const struct cd_agent_result *r)
{
	char err[256] = "", virt_type[16];
	size_t dropped = 0;
	int rc = r->rc;

	if (rc == 0) {
		memset(&cpu_probe.cpu, 0, sizeof(cpu_probe.cpu));
		rc = cd_host_cpus_read(r->xml ? r->xml : "", &cpu_probe.cpu, &dropped, virt_type,
				       sizeof(virt_type), err, sizeof(err));
	} else {
		cd_strlcpy(err, r->err ? r->err : "", sizeof(err));
	}
	if (rc < 0) {
		if (!cpu_probe.failure_logged)
			qb_log(LOG_WARNING,
			       "cannot read this host's CPU models from libvirt: %s; "
			       "asking again every %d s",
			       err, PROBE_RETRY_MS / 1000);
		cpu_probe.failure_logged = true;
		cd_timer_add(cpu_probe.loop, QB_LOOP_LOW, PROBE_RETRY_MS * 1000000ull, NULL, probe,
			     &cpu_probe.retry_timer);
		/* No answer soon: join without the models rather than wait. */
		call_ready(true);
		return;
	}
	cpu_probe.known = true;
	cpu_probe.lib_version = r->lib_version;
	cpu_probe.hv_version = r->hv_version;
	log_models(virt_type, dropped);
	host_cpu(r->xml);
	/* Joined without them (the wait was over, or a failed call said go). */
	if (!cpu_probe.ready && cpu_probe.late)
		cpu_probe.late();
	call_ready(true);
}

static void probe(void *data)
{
	if (cd_vm_agent_call(CD_AGENT_DOMCAPS, "this host", NULL, cpu_probe.call_timeout_ms,
			     probe_done, NULL) < 0)
		cd_timer_add(cpu_probe.loop, QB_LOOP_LOW, PROBE_RETRY_MS * 1000000ull, NULL, probe,
			     &cpu_probe.retry_timer);
}

void cd_hostinfo_probe_cpus(qb_loop_t *loop, int call_timeout_ms, int wait_ms, void (*ready)(void),
			    void (*late)(void))
{
	cpu_probe.loop = loop;
	cpu_probe.call_timeout_ms = call_timeout_ms;
	cpu_probe.ready = ready;
	cpu_probe.late = late;
	cd_timer_add(loop, QB_LOOP_HIGH, (uint64_t)wait_ms * 1000000ull, NULL, wait_over,
		     &cpu_probe.wait_timer);
	probe(NULL);
}
