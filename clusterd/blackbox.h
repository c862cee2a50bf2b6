/*
 * clusterd's blackbox: libqb's QB_LOG_BLACKBOX ring of recent messages at
 * debug level, whatever the log file's level, written to a file in
 * STATE_DIR/blackbox when clusterd crashes (SIGSEGV, SIGBUS, SIGABRT,
 * SIGFPE, SIGILL: then it dies of the same signal), on SIGUSR1, and for
 * clusterctl debug dump (debugdump.h). Files are named by core/dump.h's
 * cd_blackbox_name(); the CD_BLACKBOX_KEEP newest of each kind are kept.
 */
#ifndef CD_BLACKBOX_H
#define CD_BLACKBOX_H

#include <stddef.h>

/*
 * Size the ring (ring_bytes), turn it on at debug level, make the
 * directory, prune old files and install the crash handlers. Returns 0 or
 * -errno (the directory; the ring works without it).
 */
int cd_blackbox_init(const char *state_dir, size_t ring_bytes);

/* The node name in the files' names from now on (until then the host name). */
void cd_blackbox_set_node(const char *name);

/*
 * Write the ring now as a file of kind ("dump", "signal"): 0 with its path
 * in path (len bytes), or -errno. Older files of the kind are pruned.
 */
int cd_blackbox_write(const char *kind, char *path, size_t len);

/*
 * A written blackbox file as text, as qb-blackbox prints it: *text is a
 * new NUL-terminated buffer the caller frees, *len its length. Returns 0
 * or -errno.
 */
int cd_blackbox_text(const char *path, char **text, size_t *len);

#endif
