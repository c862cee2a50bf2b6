/*
 * The console's authenticator on this host: passwords through PAM (service
 * CN_PAM_SERVICE, whose file includes the host's common-auth and
 * common-account), users and groups through the passwd and group
 * databases.
 */
#ifndef CN_PAM_AUTH_H
#define CN_PAM_AUTH_H

#include "console/login.h"

#define CN_PAM_SERVICE "clusterd-console"

/* The operations; their context is unused (NULL). */
extern const struct cn_auth_ops cn_pam_auth_ops;

#endif
