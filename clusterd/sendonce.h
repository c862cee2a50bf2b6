/*
 * Changes a loop sends again and again until the state shows them (the
 * drains' and the maintenance runs' steps): each is sent once per key, not
 * again while it is on its way, and after a refusal not again before a
 * pause, so a refused change is not sent in a tight loop.
 */
#ifndef CD_SENDONCE_H
#define CD_SENDONCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

#define CD_SENDONCE_KEY_MAX 159

struct cd_sendonce_entry;

struct cd_sendonce {
	const char *what;	   /* for the log: "drain", "maintenance" */
	uint64_t refused_pause_ms; /* a refused key is not sent again before this */
	struct cd_sendonce_entry *e;
	size_t n;
};

/* Whether key's change is on its way (sent, not yet applied or refused). */
bool cd_sendonce_pending(struct cd_sendonce *o, const char *key);

/* Whether key may be sent now: nothing on its way, no pause after a refusal running. */
bool cd_sendonce_may(struct cd_sendonce *o, const char *key);

/* Send change c (taken) under key if it may be sent now. */
void cd_sendonce_send(struct cd_sendonce *o, const char *key, struct json_object *c);

/* Forget everything (at shutdown: no answer comes any more). */
void cd_sendonce_fini(struct cd_sendonce *o);

#endif
