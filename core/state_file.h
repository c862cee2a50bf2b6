/*
 * The state on disk: one file, replaced crash-safely on every change.
 *
 *     clusterd-state 1 <sha256 of the body>\n
 *     <body: the canonical JSON of the state>
 *
 * A torn or altered file fails the checksum and is refused, never half-read.
 */
#ifndef CD_STATE_FILE_H
#define CD_STATE_FILE_H

#include "core/state.h"

/* Returns 0 or -errno, err set. */
int cd_state_file_save(const char *path, const struct cd_state *s, char *err, size_t errlen);

/*
 * Fill the empty s from path. Returns 0, -ENOENT if there is no file,
 * CD_ERR_CORRUPT, CD_ERR_VERSION or -errno, err set.
 */
int cd_state_file_load(const char *path, struct cd_state *s, char *err, size_t errlen);

#endif
