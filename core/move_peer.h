/*
 * What a move asks of its target's libvirt, and what it answered. Pure:
 * libxml2 and json-c, no libvirt. The daemon's agent asks (agents/peer_facts.c);
 * this turns a VM's domain XML into the question and the answer into the
 * preflight's facts (move_check.h).
 */
#ifndef CD_MOVE_PEER_H
#define CD_MOVE_PEER_H

#include <stddef.h>

#include <json-c/json.h>

#include "core/move_check.h"

#define CD_MOVE_PEER_MAX 16	 /* bridges or networks one VM names */
#define CD_MOVE_PEER_NAME_MAX 63 /* a bridge's or a network's name */

/*
 * The question, as JSON: {"virttype": "kvm"|"qemu", "cpu": "<cpu ...>...</cpu>"
 * (absent: the VM names no CPU), "bridges": [...], "networks": [...]}.
 * Returns a new object, or NULL with err set when xml does not parse.
 */
struct json_object *cd_move_peer_ask(const char *xml, char *err, size_t errlen);

/* The answer, kept for the facts' pointers. */
struct cd_move_peer_answer {
	enum cd_move_cpu cpu;
	char cpu_text[256];
	char missing[CD_MOVE_PEER_MAX * 2][CD_MOVE_PEER_NAME_MAX + 16];
	const char *missing_ptrs[CD_MOVE_PEER_MAX * 2];
	size_t n_missing;
};

/*
 * Read the agent's answer, JSON text {"cpu": "yes"|"no"|"unknown",
 * "cpu_text": "...", "missing_bridges": [...], "missing_networks": [...]}.
 * Returns 0, or CD_ERR_INVALID when it does not parse.
 */
int cd_move_peer_answer_read(const char *json, struct cd_move_peer_answer *a);

/* Point facts at a's (a must outlive the facts' use). */
void cd_move_peer_answer_facts(const struct cd_move_peer_answer *a, struct cd_move_facts *facts);

#endif
