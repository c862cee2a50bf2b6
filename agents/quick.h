/*
 * Quick migration's libvirt side (vm_agent.h: cd_vm_agent_save,
 * cd_vm_agent_restore and their progress): a save has QEMU send its
 * migration stream into a pipe of ours through QMP and writes it into a
 * state file (vmstate.h); a restore hands libvirt a FIFO that the state
 * file's reader fills. The libvirt calls run in the calling agent job's
 * thread (vm_agent.c); what can be checked without QEMU is pure.
 */
#ifndef CD_QUICK_H
#define CD_QUICK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>
#include <libvirt/libvirt.h>

/* A save's or restore's own arguments, copied into its job (migrate.h: cd_mig_args). */
struct cd_quick_args {
	char path[256];	    /* the state file */
	char fifo_dir[256]; /* RESTORE: where its FIFO is made */
	uint64_t action_id;
	uint64_t want_len;     /* RESTORE: 0 if not known yet */
	char want_sha[65];     /* RESTORE: "" if not known yet */
	int follow_timeout_ms; /* RESTORE: the writer's longest stall */
	int timeout_ms;	       /* the job's deadline */
	bool precopy;	       /* SAVE: a first pass while the guest runs (cd_vm_agent_save) */
	bool await_reader;     /* SAVE: wait (a little) for the target's reader first */
	char bad[96];	       /* why the arguments cannot be used; "" if they can */
};

/* --- pure --- */

/*
 * Fill a from the call's arguments (want_sha may be NULL). 0, or
 * CD_ERR_INVALID with a->bad saying why: a name that cannot name a file,
 * a path or directory too long or not absolute, a want_sha that is no
 * SHA-256 in lower-case hex, a timeout not above 0.
 */
int cd_quick_args_set(struct cd_quick_args *a, const char *name, const char *path,
		      const char *fifo_dir, uint64_t action_id, uint64_t want_len,
		      const char *want_sha, int follow_timeout_ms, int timeout_ms);

/* The FIFO of name's restore in dir: 0, or -ENAMETOOLONG. */
int cd_quick_fifo_path(const char *dir, const char *name, char *out, size_t outlen);

/*
 * What a save or restore gives back: {"length": N, "sha256": "...",
 * ms_key: ms}. Returns malloc'd text (caller frees) or NULL if out of
 * memory.
 */
char *cd_quick_result_json(uint64_t length, const char *sha, const char *ms_key, uint64_t ms);

/*
 * A QMP reply: 0 with *ret its "return" member (borrowed from *whole,
 * which the caller puts), or CD_ERR_INVALID with err QMP's error
 * description (or "not a QMP reply").
 */
int cd_quick_qmp_reply(const char *reply, struct json_object **whole, struct json_object **ret,
		       char *err, size_t errlen);

enum cd_quick_mig {
	CD_QUICK_MIG_ACTIVE, /* setup, active, ...: not ended yet */
	CD_QUICK_MIG_DONE,   /* completed */
	CD_QUICK_MIG_FAILED, /* failed, cancelled: err says what QEMU said */
};

/* query-migrate's "return" as a state; err gets QEMU's error-desc if it failed. */
enum cd_quick_mig cd_quick_mig_state(const struct json_object *ret, char *err, size_t errlen);

/*
 * The progress table: a counter for name's save (restore false) or
 * restore, which its job's thread updates; NULL if the table is full
 * (then nobody sees its progress). Give it back with cd_quick_progress_end.
 * cd_quick_progress: its bytes now, 0 if there is none.
 */
volatile uint64_t *cd_quick_progress_begin(const char *name, bool restore);
void cd_quick_progress_end(volatile uint64_t *counter);
uint64_t cd_quick_progress(const char *name, bool restore);
/*
 * The stop flag of the restore counting into counter, which
 * cd_vm_agent_restore_cancel sets (unset by cd_quick_progress_end).
 */
void cd_quick_progress_stop(volatile uint64_t *counter, volatile int *stop);
/* Whether the save counting into counter was called off (cd_vm_agent_save_cancel). */
bool cd_quick_cancelled(volatile uint64_t *counter);

/* --- in an agent job's thread (vm_agent.c) --- */

/*
 * Open the state file at path (flags: O_RDONLY or O_RDWR; O_DIRECT and
 * O_CLOEXEC are added) and tell its size: a block device's, or a regular
 * file's. 0, or CD_ERR_INVALID with err set.
 */
int cd_quick_open_state(const char *path, int flags, int *fd, uint64_t *size, char *err,
			size_t errlen);

/* A pipe's (or FIFO's) buffer made 1 MiB, or as much as allowed. */
void cd_quick_pipe_size(int fd);

/*
 * CD_AGENT_SAVE of the local domain d (NULL: there is none) named name.
 * Returns 0 or a negative code with err set; *out the JSON answer
 * (malloc'd), note what to log. The caller fills in the domain's state
 * afterwards (gone if the save succeeded).
 */
int cd_quick_save(virDomainPtr d, const char *name, const struct cd_quick_args *a, char **out,
		  char *err, size_t errlen, char *note, size_t notelen);

/*
 * CD_AGENT_RESTORE of name over c; *d the domain's lookup before (NULL
 * if none), then after. As cd_quick_save otherwise.
 */
int cd_quick_restore(virConnectPtr c, const char *name, virDomainPtr *d,
		     const struct cd_quick_args *a, char **out, char *err, size_t errlen,
		     char *note, size_t notelen);

#endif
