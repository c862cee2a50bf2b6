/*
 * The VM agent: everything clusterd does to domains, through libvirt's C API.
 *
 * Every libvirt call runs in a thread of its own, never in the qb loop, and
 * has a deadline enforced from the loop: a call that hangs (a stuck
 * libvirtd) is reported as timed out and abandoned; its thread's late
 * result is dropped. libvirt's own events (domain lifecycle, connection
 * closed) come from a libvirt event thread and reach the loop through a
 * pipe. A lost connection is reopened at the next call.
 */
#ifndef CD_VM_AGENT_H
#define CD_VM_AGENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <qb/qbloop.h>

enum cd_agent_op {
	CD_AGENT_START,	       /* create the domain from XML (idempotent if running: not paused) */
	CD_AGENT_SHUTDOWN,     /* ask the guest to shut down; returns at once */
	CD_AGENT_DESTROY,      /* power off (idempotent if gone) */
	CD_AGENT_STATUS,       /* domain state plus QEMU process liveness */
	CD_AGENT_LIST,	       /* the names of the active domains */
	CD_AGENT_SUSPEND,      /* pause the vCPUs (idempotent if paused) */
	CD_AGENT_RESUME,       /* let paused vCPUs run again (idempotent if running) */
	CD_AGENT_XML,	       /* the running domain's XML as libvirt has it */
	CD_AGENT_DOMCAPS,      /* the host's domain capabilities (no domain: name unused) */
	CD_AGENT_PEER_FACTS,   /* what another node's libvirtd says of a move there */
	CD_AGENT_MIGRATE,      /* live migration to another node (cd_vm_agent_migrate) */
	CD_AGENT_ABORT_JOB,    /* abort the domain's libvirt job, e.g. a migration */
	CD_AGENT_JOB_STATS,    /* a job's progress (cd_vm_agent_job_stats) */
	CD_AGENT_PEER_STATUS,  /* its state on another node (cd_vm_agent_peer_status) */
	CD_AGENT_PEER_DESTROY, /* power it off on another node (cd_vm_agent_peer_destroy) */
	CD_AGENT_POSTCOPY,     /* switch its outgoing migration to post-copy */
	CD_AGENT_DIRTY_RATE,   /* how fast the guest dirties memory (cd_vm_agent_dirty_rate) */
	CD_AGENT_ANNOUNCE,     /* announce the guest's MACs to the network (after a move) */
	CD_AGENT_SAVE,	       /* save it into a state file (cd_vm_agent_save) */
	CD_AGENT_RESTORE,      /* restore it from a state file, paused (cd_vm_agent_restore) */
	CD_AGENT_DEFINITION,   /* an import: its definition, running or not (agents/import.h) */
	CD_AGENT_UNDEFINE,     /* an import: remove its persistent definition, if any */
};
const char *cd_agent_op_to_str(enum cd_agent_op op);

/* libvirt's last error message in the calling thread (the agent's files share it). */
const char *cd_agent_last_error(void);

enum cd_domain_status {
	CD_DOMAIN_RUNNING, /* active and its QEMU process alive */
	CD_DOMAIN_STOPPED, /* no such active domain */
	CD_DOMAIN_FAILED,  /* crashed, or active but QEMU is gone */
	CD_DOMAIN_UNKNOWN, /* the call failed: libvirt error or timeout */
};
const char *cd_domain_status_to_str(enum cd_domain_status s);

/*
 * The result of one call: rc 0 or negative (CD_ERR_TIMEOUT when the
 * deadline passed), the domain's status after the call, an error line,
 * for CD_AGENT_LIST the names of the active domains, one per line, and for
 * CD_AGENT_XML the running domain's XML (NULL if it does not run), for
 * CD_AGENT_DOMCAPS libvirt's domain capabilities XML for the domain type
 * this host runs ("kvm" if libvirt can, else "qemu", that is TCG).
 * paused: the domain is active but its vCPUs are paused (filled by
 * CD_AGENT_STATUS, SUSPEND, RESUME and the migration calls; false when
 * unknown). A paused domain whose QEMU lives is still CD_DOMAIN_RUNNING.
 */
struct cd_agent_result {
	int rc;
	enum cd_domain_status status;
	bool paused;
	const char *err;
	const char *names;
	const char *xml;
	/* DOMCAPS: libvirtd's and the hypervisor's versions (libvirt's encoding; 0 unknown) */
	uint64_t lib_version, hv_version;
};
typedef void (*cd_agent_done_fn)(void *ctx, const struct cd_agent_result *r);

/* A lifecycle event of a domain (name) on this node: the status it suggests. */
typedef void (*cd_agent_event_fn)(const char *name, enum cd_domain_status st);

/*
 * uri: libvirt's; pid_dir: where libvirt's QEMU driver keeps each domain's
 * pid file (qemu_pid_dir), to tell a live QEMU from a dead one.
 */
int cd_vm_agent_init(qb_loop_t *loop, const char *uri, const char *pid_dir,
		     cd_agent_event_fn on_event);
void cd_vm_agent_fini(void);

/*
 * Run op on domain name (xml is needed for START and is copied). done is
 * called from the loop exactly once. Returns 0 or -ENOMEM (done not called).
 */
int cd_vm_agent_call(enum cd_agent_op op, const char *name, const char *xml, int timeout_ms,
		     cd_agent_done_fn done, void *ctx);

/*
 * CD_AGENT_START of domain name from xml (copied), but with the CPU every
 * node runs: libvirt's baseline (virConnectBaselineHypervisorCPU, for the
 * XML's domain type and architecture, migratable features only) of the
 * n_cpus host CPU definitions cpus (copied; core/cpubaseline.h) in place
 * of the XML's <cpu> (agents/cpubaseline.c). A domain that runs already
 * keeps the CPU it has. If n_cpus is 0 or libvirt computes no baseline,
 * nothing is started and done gets CD_ERR_INVALID, "no CPU baseline: ...".
 * Returns 0 or -ENOMEM (done not called).
 */
int cd_vm_agent_start_baseline(const char *name, const char *xml, const char *const *cpus,
			       size_t n_cpus, int timeout_ms, cd_agent_done_fn done, void *ctx);

/*
 * Ask node's libvirtd at uri what a move there needs to know
 * (agents/peer_facts.h; req is core/move_peer.h's question as JSON text),
 * over a connection of its own. done gets the answer as JSON text in
 * r->xml, or rc < 0 with r->err (CD_ERR_TIMEOUT after timeout_ms).
 */
int cd_vm_agent_peer_facts(const char *node, const char *uri, const char *req, int timeout_ms,
			   cd_agent_done_fn done, void *ctx);

/* How a live migration is carried out (cd_vm_agent_migrate). */
struct cd_migrate_params {
	/* The target node's libvirtd (dconnuri), e.g. qemu+tcp://node3/system. */
	char peer_uri[256];
	/* Where QEMU sends memory, e.g. tcp://198.18.0.13; "" = libvirt's choice. */
	char migrate_uri[256];
	uint32_t max_downtime_ms; /* 0: libvirt's default */
	uint32_t bandwidth_mib;	  /* MiB/s, 0: unlimited */
	uint32_t parallel;	  /* parallel connections; 0 or 1: one */
	bool auto_converge;	  /* VIR_MIGRATE_AUTO_CONVERGE */
	bool tls;		  /* VIR_MIGRATE_TLS */
	bool postcopy;		  /* VIR_MIGRATE_POSTCOPY: may switch (CD_AGENT_POSTCOPY) */
};

/*
 * Live peer-to-peer migration of the local (transient) domain name to
 * p->peer_uri (agents/migrate.h says with which flags and parameters);
 * nothing is persisted or undefined. done gets rc 0 if libvirt reported
 * success, else CD_ERR_INVALID with err "migration failed: ..." (or
 * CD_ERR_TIMEOUT after timeout_ms, the migration going on), and, whatever
 * rc, the domain's state here after the call: r->status RUNNING (still
 * active here), STOPPED (gone) or UNKNOWN (the look failed), and r->paused.
 * The caller decides from those two, never from the message. Returns 0 or
 * -ENOMEM (done not called).
 */
int cd_vm_agent_migrate(const char *name, const struct cd_migrate_params *p, int timeout_ms,
			cd_agent_done_fn done, void *ctx);

/*
 * CD_AGENT_ABORT_JOB (cd_vm_agent_call): abort the local domain's job, a
 * migration out for instance. A domain with no job, or gone, is rc 0;
 * r->status and r->paused say its state afterwards.
 *
 * CD_AGENT_ANNOUNCE (cd_vm_agent_call): have QEMU announce the guest's MAC
 * addresses (RARP), as a start does; whether it worked is logged. rc 0
 * unless the domain is not there (CD_ERR_NOT_FOUND).
 */

/*
 * The progress of domain name's job (a migration out, in), as its libvirtd
 * sees it: uri NULL for this node's (the agent's connection), else another
 * node's, over a connection of its own. completed: the stats of the job
 * that ended last instead. done gets JSON text in r->xml
 * (agents/migrate.h: cd_job_stats_json), or rc < 0 with r->err:
 * CD_ERR_NOT_FOUND "no such active domain", CD_ERR_TIMEOUT after
 * timeout_ms. Returns 0 or -ENOMEM (done not called).
 */
int cd_vm_agent_job_stats(const char *name, const char *uri, bool completed, int timeout_ms,
			  cd_agent_done_fn done, void *ctx);

/*
 * The state of domain name on another node's libvirtd at uri, over a
 * connection of its own: r->status RUNNING (active), STOPPED (no such
 * domain, or inactive), or UNKNOWN with rc < 0 and r->err when the
 * connection or the call failed; r->paused. Returns 0 or -ENOMEM (done not
 * called).
 */
int cd_vm_agent_peer_status(const char *name, const char *uri, int timeout_ms,
			    cd_agent_done_fn done, void *ctx);

/*
 * Power domain name off at another node's libvirtd, uri (own connection):
 * a move's settling, when the copy there must go before the source
 * resumes. rc 0 once it is off there (or was); r->status its state after.
 */
int cd_vm_agent_peer_destroy(const char *name, const char *uri, int timeout_ms,
			     cd_agent_done_fn done, void *ctx);

/*
 * Measure how fast the guest of the local domain name dirties its memory,
 * over seconds (1 to 60): done gets {"megabytes_per_second": N,
 * "calc_period_s": S} as JSON text in r->xml, or CD_ERR_INVALID with r->err
 * saying why libvirt or QEMU could not (not every QEMU can, TCG may not).
 * timeout_ms must leave seconds + 2 s. Returns 0, -EINVAL (seconds out of
 * range) or -ENOMEM (done not called).
 */
int cd_vm_agent_dirty_rate(const char *name, int seconds, int timeout_ms, cd_agent_done_fn done,
			   void *ctx);

/*
 * Save the running local domain name into the state file at path (a block
 * device; agents/vmstate.h) for save action_id: pause its vCPUs, have QEMU
 * send its migration stream (bandwidth unlimited, no post-copy, no
 * multifd) into a pipe of ours through QMP, and write libvirt's image
 * header, the domain's migratable XML and the stream into the file while
 * hashing it (cd_vmstate_write). With precopy, the guest runs on during
 * QEMU's first pass over its memory (a reader following the file loads it
 * meanwhile) and is paused once that pass is over, or when what is left of
 * the file would no longer hold all of its memory again: the outage is the
 * rest. Without, it is paused first. With await_reader, the save waits
 * first (a few seconds at most) for a reader of the target to follow the
 * file (its block names action_id): the target's QEMU starts before the
 * guest is paused, not after. Once the image is complete and durable
 * the domain is powered off: done gets rc 0, r->status STOPPED, and
 * r->xml = {"length": N, "sha256": "...", "downtime_ms": pause to image
 * complete, or QEMU's own downtime if it converged and paused it itself}.
 * On any failure the migration is cancelled and a domain that
 * ran before is resumed: rc < 0 with r->err, and r->status / r->paused
 * say where it is; the caller decides from those, never from the message.
 * Returns 0 or -ENOMEM (done not called).
 */
int cd_vm_agent_save(const char *name, const char *path, uint64_t action_id, bool precopy,
		     bool await_reader, int timeout_ms, cd_agent_done_fn done, void *ctx);

/*
 * Restore domain name here, paused, from the state file at path for save
 * action_id, following the writer if it is still writing
 * (cd_vmstate_read into a FIFO made in fifo_dir, from which
 * virDomainRestoreFlags reads with VIR_DOMAIN_SAVE_PAUSED). want_len and
 * want_sha: what the cluster recorded (0 and NULL while the save still
 * runs). rc 0 only when the whole image was read and verified and the
 * domain is there, paused (r->status RUNNING, r->paused true), and r->xml
 * = {"length": N, "sha256": "...", "restore_ms": N}. A domain restored
 * from an image that fails its checks is powered off before done is
 * called: rc CD_ERR_CORRUPT; the writer's stall past follow_timeout_ms:
 * CD_ERR_TIMEOUT; other failures CD_ERR_INVALID. Whatever rc, r->status
 * is the domain's state here after the call. Returns 0 or -ENOMEM (done
 * not called).
 */
int cd_vm_agent_restore(const char *name, const char *path, const char *fifo_dir,
			uint64_t action_id, uint64_t want_len, const char *want_sha,
			int follow_timeout_ms, int timeout_ms, cd_agent_done_fn done, void *ctx);

/*
 * Bytes written by the save of name, or read by its restore, under way
 * here now (0 if none): for progress, from the loop, without libvirt.
 */
uint64_t cd_vm_agent_save_progress(const char *name);
/* Call the save of name under way here off (the VM resumes where it is); from the loop. */
void cd_vm_agent_save_cancel(const char *name);
/*
 * Call the restore of name under way here off: its reader stops, libvirt's
 * restore fails, and the copy (paused, it never ran) is powered off.
 */
void cd_vm_agent_restore_cancel(const char *name);
uint64_t cd_vm_agent_restore_progress(const char *name);

/*
 * Whether a start of domain name (NULL: of any domain) is under way here:
 * its libvirt call has not returned, even if it was reported timed out. A
 * start that timed out may still succeed: until its call returns, a domain
 * that is not running yet is not a VM that failed to start.
 */
bool cd_vm_agent_starting(const char *name);

/*
 * Validate domain XML with libvirt's own parser and schema (its test
 * driver, in this process: nothing is defined anywhere) and read what the
 * cluster needs from it. Blocking but local and quick: safe in the loop.
 * Returns 0 or CD_ERR_INVALID with err set.
 */
int cd_vm_agent_validate(const char *xml, char *name, size_t name_len, char *uuid, uint32_t *vcpus,
			 uint64_t *memory_mb, char *err, size_t errlen);

#endif
