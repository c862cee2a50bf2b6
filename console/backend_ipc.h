/*
 * The console's backend on a node: each call connects to the local
 * clusterd over its IPC (as clusterctl does), sends one command and
 * disconnects, so the server's threads share nothing.
 */
#ifndef CN_BACKEND_IPC_H
#define CN_BACKEND_IPC_H

#include "console/app.h"

/* How long one call may take, retries while clusterd syncs included. */
#define CN_IPC_TIMEOUT_MS 60000

/* The operations; their context is unused (NULL). */
extern const struct cn_backend_ops cn_backend_ipc_ops;

#endif
