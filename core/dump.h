/*
 * clusterctl debug dump: the pure parts. A dump request goes to every
 * member over CPG; each answers with its blackbox (the ring of recent
 * debug messages, as text), its status and its state version, as one JSON
 * object sent in snapshot chunks (core/chunks.h) addressed to the
 * requester. Here: the request and answer encodings, the cut of a long
 * text to its most recent part, and the names and rotation of the
 * blackbox files a node writes (on a crash, a dump or SIGUSR1).
 */
#ifndef CD_DUMP_H
#define CD_DUMP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

#include "core/state.h"

/*
 * The most blackbox text one node sends: its most recent part, cut at a
 * line. The answer around it may be twice that (JSON escaping of every
 * newline and quote) and its status.
 */
#define CD_DUMP_TEXT_MAX (8u * 1024u * 1024u)
#define CD_DUMP_ANSWER_MAX (2u * CD_DUMP_TEXT_MAX + 1024u * 1024u)
/* The chunk step that marks a dump answer (a sync round's steps start at 1, but
 * dump chunks have their own message type and token). */
#define CD_DUMP_STEP 1u
/* How long the requester waits for the members' answers, unless told. */
#define CD_DUMP_DEADLINE_MS 15000u
#define CD_DUMP_DEADLINE_MAX_MS 120000u

/* The blackbox files a node keeps in STATE_DIR/blackbox, per kind. */
#define CD_BLACKBOX_PREFIX "clusterd-blackbox-"
#define CD_BLACKBOX_KEEP 5
/* The most bytes cd_blackbox_name() writes, its NUL included, for a node name of n bytes. */
#define CD_BLACKBOX_NAME_LEN(n) (sizeof(CD_BLACKBOX_PREFIX) + (n) + 32)

/* A dump's token is cd_msg_token(requester, dump id) (core/msg.h). */

/* The request's body: a new object, {"dump": id}. */
struct json_object *cd_dump_request_build(uint32_t id);

/*
 * Check a delivered request: its body and its token (round) agree, and the
 * token names its sender as the requester. Returns 0 with *id set, or
 * CD_ERR_PROTOCOL with err set.
 */
int cd_dump_request_parse(const struct json_object *body, uint64_t token, uint32_t sender,
			  uint32_t *id, char *err, size_t errlen);

/* One member's answer. */
struct cd_dump_answer {
	char node[CD_NAME_MAX + 1];
	uint32_t nodeid;
	struct cd_version version;
	struct json_object *status; /* owned: its clusterctl status --json, or NULL */
	char *text;		    /* owned: the blackbox as text (NUL-terminated) */
	size_t text_len;
	bool truncated;	 /* text is the most recent part only */
	char error[256]; /* why there is no text, or "" */
};

/*
 * The answer as JSON text: a new NUL-terminated buffer the caller frees,
 * *len its length. Returns NULL when out of memory.
 */
char *cd_dump_answer_build(const struct cd_dump_answer *a, size_t *len);

/*
 * Decode an answer's JSON text (len bytes). Fills a (release with
 * cd_dump_answer_clear()). Returns 0, or CD_ERR_PROTOCOL with err set and
 * a empty.
 */
int cd_dump_answer_parse(const char *text, size_t len, struct cd_dump_answer *a, char *err,
			 size_t errlen);

/* Release what a holds; NULL is fine. */
void cd_dump_answer_clear(struct cd_dump_answer *a);

/*
 * Where the most recent part of text (len bytes) that fits in cap bytes
 * begins: 0 if all fits, else the start of the first whole line within
 * the last cap bytes (or len - cap if that part holds no line break).
 */
size_t cd_dump_tail(const char *text, size_t len, size_t cap);

/*
 * A blackbox file's name into buf (size bytes): CD_BLACKBOX_PREFIX, the
 * node's name (characters other than letters, digits, '.', '_' and '-'
 * as '_'; "unknown" if empty), the UTC time of wall_ms as
 * YYYYMMDDTHHMMSS.mmmZ and the kind ("crash", "dump", "signal"), joined
 * by '-'. Async-signal-safe: the crash handler names its file with it.
 * Returns the name's length, or 0 if it does not fit.
 */
size_t cd_blackbox_name(char *buf, size_t size, const char *node, uint64_t wall_ms,
			const char *kind);

/*
 * Rotation: of the n names (a directory's entries), those of blackbox
 * files of kind, and of them all but the keep newest (by the time in the
 * name), are marked in remove[]. Other names are left alone. Returns how
 * many were marked.
 */
size_t cd_blackbox_prune(const char *const *names, size_t n, const char *kind, size_t keep,
			 bool *remove);

#endif
