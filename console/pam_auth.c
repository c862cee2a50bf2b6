#include "config.h"

#include <errno.h>
#include <grp.h>
#include <pthread.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>

#include <security/pam_appl.h>

#include "console/pam_auth.h"

/*
 * PAM's conversation: the password for a prompt that hides what is typed,
 * nothing for what is only shown. PAM frees the answers.
 */
static int converse(int n, const struct pam_message **msg, struct pam_response **resp, void *data)
{
	struct pam_response *r;
	int i;

	if (n <= 0 || n > PAM_MAX_NUM_MSG)
		return PAM_CONV_ERR;
	r = calloc((size_t)n, sizeof(*r));
	if (!r)
		return PAM_BUF_ERR;
	for (i = 0; i < n; i++) {
		if (msg[i]->msg_style != PAM_PROMPT_ECHO_OFF)
			continue;
		r[i].resp = strdup(data);
		if (!r[i].resp)
			goto fail;
	}
	*resp = r;
	return PAM_SUCCESS;
fail:
	for (i = 0; i < n; i++) {
		if (r[i].resp) {
			explicit_bzero(r[i].resp, strlen(r[i].resp));
			free(r[i].resp);
		}
	}
	free(r);
	return PAM_BUF_ERR;
}

/* Some PAM modules keep state that is not thread-safe: one login at a time. */
static pthread_mutex_t pam_lock = PTHREAD_MUTEX_INITIALIZER;

static int password_ok(void *ctx, const char *user, const char *password)
{
	struct pam_conv conv = {converse, (void *)password};
	pam_handle_t *h = NULL;
	int rc;

	(void)ctx;
	pthread_mutex_lock(&pam_lock);
	rc = pam_start(CN_PAM_SERVICE, user, &conv, &h);
	if (rc != PAM_SUCCESS) {
		pthread_mutex_unlock(&pam_lock);
		return -EIO;
	}
	rc = pam_authenticate(h, PAM_SILENT | PAM_DISALLOW_NULL_AUTHTOK);
	if (rc == PAM_SUCCESS)
		rc = pam_acct_mgmt(h, PAM_SILENT | PAM_DISALLOW_NULL_AUTHTOK);
	pam_end(h, rc);
	pthread_mutex_unlock(&pam_lock);
	return rc == PAM_SUCCESS ? 0 : -EACCES;
}

static int lookup(void *ctx, const char *user, const char *group, uid_t *uid, bool *member)
{
	struct passwd pw, *pwp = NULL;
	struct group gr, *grp = NULL;
	char buf[16384];
	gid_t groups[256], pgid;
	int n = 256, i;

	(void)ctx;
	*member = false;
	if (getpwnam_r(user, &pw, buf, sizeof(buf), &pwp) != 0 || !pwp)
		return -ENOENT;
	*uid = pw.pw_uid;
	pgid = pw.pw_gid;
	if (!group)
		return 0;
	if (getgrnam_r(group, &gr, buf, sizeof(buf), &grp) != 0 || !grp)
		return 0; /* no such group: root only */
	if (getgrouplist(user, pgid, groups, &n) < 0)
		return 0;
	for (i = 0; i < n; i++)
		if (groups[i] == gr.gr_gid)
			*member = true;
	return 0;
}

const struct cn_auth_ops cn_pam_auth_ops = {
	.password_ok = password_ok,
	.lookup = lookup,
};
