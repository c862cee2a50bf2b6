/*
 * The local IPC server clusterctl talks to (see include/clusterd/ipc.h).
 */
#ifndef CD_IPCS_H
#define CD_IPCS_H

#include <qb/qbloop.h>

/* Start serving; admin_group may be empty (root only). Returns 0 or -errno. */
int cd_ipcs_start(qb_loop_t *loop, const char *admin_group);
void cd_ipcs_stop(void);

#endif
