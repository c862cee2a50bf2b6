/*
 * What a move's target can tell of itself: asked of its libvirtd over its
 * own connection, in the calling agent job's thread (vm_agent.c), never
 * on the connection the node's own VMs use.
 */
#ifndef CD_PEER_FACTS_H
#define CD_PEER_FACTS_H

#include <stddef.h>

/*
 * Open uri and answer req (core/move_peer.h: virttype, cpu, bridges,
 * networks) as JSON text in *out (malloc'd): {"cpu": "yes"|"no"|"unknown",
 * "cpu_text": ..., "missing_bridges": [...], "missing_networks": [...]}.
 * Returns 0, or a negative code with err set (uri not reached, req not JSON).
 */
int cd_peer_facts_run(const char *uri, const char *req, char **out, char *err, size_t errlen);

#endif
