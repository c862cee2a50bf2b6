/*
 * The state checksum: the hex SHA-256 of the state's canonical text, its
 * JSON (cd_state_to_json()) printed plain. Sync reports and divergence
 * checks carry it and compare it across nodes, snapshots carry it for their
 * whole, and a saved state file heads its body with it (state_file.h): so
 * what is hashed must never change, or nodes of two builds disagree and
 * saved files fail their checksum.
 */
#ifndef CD_STATE_SUM_H
#define CD_STATE_SUM_H

#include <stddef.h>

#include <json-c/json.h>

#include "core/state.h"

/* A state's canonical text and its checksum. */
struct cd_state_text {
	char *text; /* len bytes and a NUL, owned */
	size_t len;
	char sum[65]; /* hex SHA-256 of text */
};

/*
 * Fill t with s's canonical text and its checksum, for a caller that
 * writes the text it hashed. Returns 0 or -ENOMEM; the caller
 * cd_state_text_free()s t either way. Put together from the VM records'
 * prints, as cd_state_checksum() is (below).
 */
int cd_state_text(const struct cd_state *s, struct cd_state_text *t);

/* Release what t holds. */
void cd_state_text_free(struct cd_state_text *t);

/*
 * s's checksum into out. Returns 0, or -ENOMEM with out empty.
 * The state's text is hashed as it is put together, never whole: each VM
 * record keeps its own JSON as printed last (struct cd_vm print, not
 * state), printed again only if the record changed since. So s's VM
 * records are written to, for their prints alone: never from two threads
 * at once (a copy of s, cd_state_copy(), may go to another thread).
 */
int cd_state_checksum(const struct cd_state *s, char out[65]);

#endif
