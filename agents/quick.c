/* Quick migration's libvirt side: arguments, answers, progress (quick.h). */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <json-c/json.h>

#include <clusterd/result.h>

#include "agents/migrate.h"
#include "agents/quick.h"
#include "agents/vm_agent.h"
#include "lib/util.h"

/* --- pure --- */

static bool is_sha(const char *s)
{
	size_t i;

	for (i = 0; s[i]; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return i == 64;
}

#define BAD(...)                                                                                   \
	do {                                                                                       \
		snprintf(a->bad, sizeof(a->bad), __VA_ARGS__);                                     \
		return CD_ERR_INVALID;                                                             \
	} while (0)

int cd_quick_args_set(struct cd_quick_args *a, const char *name, const char *path,
		      const char *fifo_dir, uint64_t action_id, uint64_t want_len,
		      const char *want_sha, int follow_timeout_ms, int timeout_ms)
{
	char fifo[sizeof(a->fifo_dir) + 80];

	memset(a, 0, sizeof(*a));
	a->action_id = action_id;
	a->want_len = want_len;
	a->follow_timeout_ms = follow_timeout_ms;
	a->timeout_ms = timeout_ms;
	/* The name names the FIFO. */
	if (!name || !cd_valid_path_name(name, 63))
		BAD("not a domain name this agent can save or restore");
	if (!path || path[0] != '/' ||
	    cd_strlcpy(a->path, path, sizeof(a->path)) >= sizeof(a->path))
		BAD("the state file's path is not absolute or too long");
	if (timeout_ms <= 0)
		BAD("no time for the call");
	if (!fifo_dir)
		return 0; /* a save: nothing more */
	if (fifo_dir[0] != '/' ||
	    cd_strlcpy(a->fifo_dir, fifo_dir, sizeof(a->fifo_dir)) >= sizeof(a->fifo_dir) ||
	    cd_quick_fifo_path(fifo_dir, name, fifo, sizeof(fifo)) < 0)
		BAD("the FIFO's directory is not absolute or too long");
	if (want_sha && want_sha[0] && !is_sha(want_sha))
		BAD("the recorded checksum is no SHA-256");
	if (want_sha)
		cd_strlcpy(a->want_sha, want_sha, sizeof(a->want_sha));
	if (follow_timeout_ms <= 0)
		BAD("no time to wait for the save");
	return 0;
}

int cd_quick_fifo_path(const char *dir, const char *name, char *out, size_t outlen)
{
	int n = snprintf(out, outlen, "%s/%s.restore", dir, name);

	return n < 0 || (size_t)n >= outlen ? -ENAMETOOLONG : 0;
}

char *cd_quick_result_json(uint64_t length, const char *sha, const char *ms_key, uint64_t ms)
{
	struct json_object *o = json_object_new_object();
	char *text;

	if (!o)
		return NULL;
	json_object_object_add(o, "length", json_object_new_int64((int64_t)length));
	json_object_object_add(o, "sha256", json_object_new_string(sha));
	json_object_object_add(o, ms_key, json_object_new_int64((int64_t)ms));
	text = strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
	json_object_put(o);
	return text;
}

int cd_quick_qmp_reply(const char *reply, struct json_object **whole, struct json_object **ret,
		       char *err, size_t errlen)
{
	struct json_object *e, *desc;

	*ret = NULL;
	*whole = reply ? json_tokener_parse(reply) : NULL;
	if (*whole && json_object_object_get_ex(*whole, "return", ret))
		return 0;
	if (*whole && json_object_object_get_ex(*whole, "error", &e) &&
	    json_object_object_get_ex(e, "desc", &desc))
		snprintf(err, errlen, "%s", json_object_get_string(desc));
	else
		snprintf(err, errlen, "not a QMP reply");
	json_object_put(*whole);
	*whole = NULL;
	return CD_ERR_INVALID;
}

enum cd_quick_mig cd_quick_mig_state(const struct json_object *ret, char *err, size_t errlen)
{
	struct json_object *v;
	const char *status;

	/* Before the first migration QEMU answers {}: nothing under way. */
	if (!json_object_object_get_ex(ret, "status", &v)) {
		snprintf(err, errlen, "no migration under way");
		return CD_QUICK_MIG_FAILED;
	}
	status = json_object_get_string(v);
	if (strcmp(status, "completed") == 0)
		return CD_QUICK_MIG_DONE;
	if (strcmp(status, "failed") != 0 && strcmp(status, "cancelled") != 0 &&
	    strcmp(status, "cancelling") != 0)
		return CD_QUICK_MIG_ACTIVE;
	if (json_object_object_get_ex(ret, "error-desc", &v))
		snprintf(err, errlen, "migration %s: %s", status, json_object_get_string(v));
	else
		snprintf(err, errlen, "migration %s", status);
	return CD_QUICK_MIG_FAILED;
}

/* --- the progress table --- */

#define PROGRESS_SLOTS 32

static struct {
	pthread_mutex_t lock;
	struct {
		bool used, restore;
		char name[64];
		volatile uint64_t bytes;
		volatile int cancel; /* a save called off (cd_vm_agent_save_cancel) */
		volatile int *stop;  /* a restore's reader, stopped by cd_vm_agent_restore_cancel */
	} slot[PROGRESS_SLOTS];
} progress = {.lock = PTHREAD_MUTEX_INITIALIZER};

volatile uint64_t *cd_quick_progress_begin(const char *name, bool restore)
{
	volatile uint64_t *counter = NULL;
	size_t i;

	pthread_mutex_lock(&progress.lock);
	for (i = 0; i < PROGRESS_SLOTS && !counter; i++)
		if (!progress.slot[i].used) {
			progress.slot[i].used = true;
			progress.slot[i].restore = restore;
			cd_strlcpy(progress.slot[i].name, name, sizeof(progress.slot[i].name));
			progress.slot[i].bytes = 0;
			progress.slot[i].cancel = 0;
			progress.slot[i].stop = NULL;
			counter = &progress.slot[i].bytes;
		}
	pthread_mutex_unlock(&progress.lock);
	return counter;
}

void cd_quick_progress_end(volatile uint64_t *counter)
{
	size_t i;

	pthread_mutex_lock(&progress.lock);
	for (i = 0; i < PROGRESS_SLOTS; i++)
		if (&progress.slot[i].bytes == counter)
			progress.slot[i].used = false;
	pthread_mutex_unlock(&progress.lock);
}

uint64_t cd_quick_progress(const char *name, bool restore)
{
	uint64_t bytes = 0;
	size_t i;

	pthread_mutex_lock(&progress.lock);
	for (i = 0; i < PROGRESS_SLOTS; i++)
		if (progress.slot[i].used && progress.slot[i].restore == restore &&
		    strcmp(progress.slot[i].name, name) == 0)
			bytes = progress.slot[i].bytes;
	pthread_mutex_unlock(&progress.lock);
	return bytes;
}

void cd_vm_agent_save_cancel(const char *name)
{
	size_t i;

	pthread_mutex_lock(&progress.lock);
	for (i = 0; i < PROGRESS_SLOTS; i++)
		if (progress.slot[i].used && !progress.slot[i].restore &&
		    strcmp(progress.slot[i].name, name) == 0)
			progress.slot[i].cancel = 1;
	pthread_mutex_unlock(&progress.lock);
}

void cd_quick_progress_stop(volatile uint64_t *counter, volatile int *stop)
{
	size_t i;

	pthread_mutex_lock(&progress.lock);
	for (i = 0; i < PROGRESS_SLOTS; i++)
		if (progress.slot[i].used && &progress.slot[i].bytes == counter)
			progress.slot[i].stop = stop;
	pthread_mutex_unlock(&progress.lock);
}

void cd_vm_agent_restore_cancel(const char *name)
{
	size_t i;

	pthread_mutex_lock(&progress.lock);
	for (i = 0; i < PROGRESS_SLOTS; i++)
		if (progress.slot[i].used && progress.slot[i].restore &&
		    strcmp(progress.slot[i].name, name) == 0 && progress.slot[i].stop)
			*progress.slot[i].stop = 1;
	pthread_mutex_unlock(&progress.lock);
}

bool cd_quick_cancelled(volatile uint64_t *counter)
{
	bool yes = false;
	size_t i;

	pthread_mutex_lock(&progress.lock);
	for (i = 0; i < PROGRESS_SLOTS; i++)
		if (progress.slot[i].used && &progress.slot[i].bytes == counter)
			yes = progress.slot[i].cancel != 0;
	pthread_mutex_unlock(&progress.lock);
	return yes;
}

uint64_t cd_vm_agent_save_progress(const char *name)
{
	return cd_quick_progress(name, false);
}

uint64_t cd_vm_agent_restore_progress(const char *name)
{
	return cd_quick_progress(name, true);
}

/* --- shared by the save and the restore --- */

int cd_quick_open_state(const char *path, int flags, int *fd, uint64_t *size, char *err,
			size_t errlen)
{
	struct stat st;
	uint64_t bytes = 0;

	*fd = open(path, flags | O_DIRECT | O_CLOEXEC);
	if (*fd < 0) {
		snprintf(err, errlen, "cannot open the state file %s: %s", path, strerror(errno));
		return CD_ERR_INVALID;
	}
	if (fstat(*fd, &st) == 0 && S_ISREG(st.st_mode))
		bytes = (uint64_t)st.st_size;
	else if (fstat(*fd, &st) < 0 || !S_ISBLK(st.st_mode) ||
		 ioctl(*fd, BLKGETSIZE64, &bytes) < 0)
		bytes = 0;
	if (bytes == 0) {
		snprintf(err, errlen, "the state file %s has no size", path);
		close(*fd);
		*fd = -1;
		return CD_ERR_INVALID;
	}
	*size = bytes;
	return 0;
}

void cd_quick_pipe_size(int fd)
{
	int size;

	/* Over /proc/sys/fs/pipe-max-size only with CAP_SYS_RESOURCE: then less. */
	for (size = 1 << 20; size >= 1 << 16; size /= 2)
		if (fcntl(fd, F_SETPIPE_SZ, size) >= 0)
			return;
}

/* --- the calls (vm_agent.h) --- */

/*
 * Arguments that cannot be used still make a job: its done says why
 * (a->bad), as the contract has these calls fail only for memory.
 */
int cd_vm_agent_save(const char *name, const char *path, uint64_t action_id, bool precopy,
		     bool await_reader, int timeout_ms, cd_agent_done_fn done, void *ctx)
{
	struct cd_mig_args *a = calloc(1, sizeof(*a));
	int rc;

	if (!a)
		return -ENOMEM;
	cd_quick_args_set(&a->quick, name, path, NULL, action_id, 0, NULL, 0, timeout_ms);
	a->quick.precopy = precopy;
	a->quick.await_reader = await_reader;
	rc = cd_agent_start_job(CD_AGENT_SAVE, name, NULL, NULL, a, timeout_ms, done, ctx);
	free(a);
	return rc;
}

int cd_vm_agent_restore(const char *name, const char *path, const char *fifo_dir,
			uint64_t action_id, uint64_t want_len, const char *want_sha,
			int follow_timeout_ms, int timeout_ms, cd_agent_done_fn done, void *ctx)
{
	struct cd_mig_args *a = calloc(1, sizeof(*a));
	int rc;

	if (!a)
		return -ENOMEM;
	cd_quick_args_set(&a->quick, name, path, fifo_dir ? fifo_dir : "", action_id, want_len,
			  want_sha, follow_timeout_ms, timeout_ms);
	rc = cd_agent_start_job(CD_AGENT_RESTORE, name, NULL, NULL, a, timeout_ms, done, ctx);
	free(a);
	return rc;
}
