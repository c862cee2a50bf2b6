#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include <clusterd/result.h>

#include "agents/fence_proto.h"
#include "cli/fence_args.h"

/*
 * One line of f into *out (a new string, without its line break). what
 * names the source in errors. Returns 0, CD_ERR_INVALID or -errno.
 */
static int read_line(FILE *f, const char *key, const char *what, char **out, char *err,
		     size_t errlen)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;

	*out = NULL;
	errno = 0;
	n = getline(&line, &cap, f);
	if (n < 0) {
		int e = errno;

		free(line);
		if (e) {
			snprintf(err, errlen, "%s=: cannot read %s: %s", key, what, strerror(e));
			return -e;
		}
		snprintf(err, errlen, "%s=: nothing to read on %s", key, what);
		return CD_ERR_INVALID;
	}
	while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
		line[--n] = '\0';
	if (n == 0) {
		free(line);
		snprintf(err, errlen, "%s=: the line read from %s is empty", key, what);
		return CD_ERR_INVALID;
	}
	*out = line;
	return 0;
}

/* Read from a terminal: a prompt on stderr, and the secret not echoed. */
static int read_tty(FILE *in, const char *key, char **out, char *err, size_t errlen)
{
	struct termios old, quiet;
	bool restore = false;
	int rc;

	fprintf(stderr, "%s: ", key);
	fflush(stderr);
	if (tcgetattr(fileno(in), &old) == 0) {
		quiet = old;
		quiet.c_lflag &= ~(tcflag_t)ECHO;
		restore = tcsetattr(fileno(in), TCSAFLUSH, &quiet) == 0;
	}
	rc = read_line(in, key, "standard input", out, err, errlen);
	if (restore) {
		tcsetattr(fileno(in), TCSAFLUSH, &old);
		fputc('\n', stderr);
	}
	return rc;
}

static int read_secret_file(const char *key, const char *path, char **out, char *err, size_t errlen)
{
	FILE *f = fopen(path, "re");
	int rc, c;

	*out = NULL;
	if (!f) {
		rc = -errno;
		snprintf(err, errlen, "%s=@%s: %s", key, path, strerror(-rc));
		return rc;
	}
	rc = read_line(f, key, path, out, err, errlen);
	if (rc < 0)
		goto close_file;
	/*
	 * More than one line is most likely the wrong file; taking its first
	 * line would configure a password nobody meant.
	 */
	while ((c = fgetc(f)) != EOF) {
		if (!isspace(c)) {
			snprintf(err, errlen, "%s=@%s: the file holds more than one line", key,
				 path);
			rc = CD_ERR_INVALID;
			cd_fence_wipe_free(*out);
			*out = NULL;
			break;
		}
	}
close_file:
	fclose(f);
	return rc;
}

int cd_fence_secret_read(const char *key, const char *spec, FILE *in, char **value, bool *visible,
			 char *err, size_t errlen)
{
	*value = NULL;
	*visible = false;
	if (strcmp(spec, "-") == 0) {
		if (isatty(fileno(in)))
			return read_tty(in, key, value, err, errlen);
		return read_line(in, key, "standard input", value, err, errlen);
	}
	if (spec[0] == '@')
		return read_secret_file(key, spec + 1, value, err, errlen);
	*visible = true;
	*value = strdup(spec);
	if (!*value) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	return 0;
}

/* One word "KEY=VALUE" into p; *stdin_used says whether in was read already. */
static int add_word(struct cd_fence_params *p, const char *word, FILE *in, FILE *warn,
		    bool *stdin_used, char *err, size_t errlen)
{
	const char *eq = strchr(word, '=');
	char *key, *value = NULL;
	bool visible = false;
	int rc;

	if (!eq || eq == word) {
		snprintf(err, errlen, "fence add takes KEY=VALUE, not '%s'", word);
		return CD_ERR_INVALID;
	}
	key = strndup(word, (size_t)(eq - word));
	if (!key) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	if (cd_fence_param_is_secret(key)) {
		if (strcmp(eq + 1, "-") == 0 && *stdin_used) {
			snprintf(err, errlen,
				 "%s=-: only one parameter can be read from standard input", key);
			rc = CD_ERR_INVALID;
			goto free_key;
		}
		if (strcmp(eq + 1, "-") == 0)
			*stdin_used = true;
		rc = cd_fence_secret_read(key, eq + 1, in, &value, &visible, err, errlen);
		if (rc == 0 && visible)
			fprintf(warn,
				"clusterctl: warning: %s= given on the command line is visible to "
				"every local user in the process list; use %s=- (standard input) "
				"or %s=@FILE\n",
				key, key, key);
	} else {
		value = strdup(eq + 1);
		rc = value ? 0 : -ENOMEM;
		if (rc < 0)
			snprintf(err, errlen, "out of memory");
	}
	if (rc == 0)
		rc = cd_fence_params_add(p, key, value, err, errlen);
	cd_fence_wipe_free(value);
free_key:
	free(key);
	return rc;
}

int cd_fence_args_json(const char *const *words, size_t n, FILE *in, FILE *warn,
		       struct json_object **params, char *err, size_t errlen)
{
	struct cd_fence_params *p = cd_fence_params_new();
	bool stdin_used = false;
	size_t i;
	int rc = 0;

	*params = NULL;
	if (!p) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	for (i = 0; i < n && rc == 0; i++)
		rc = add_word(p, words[i], in, warn, &stdin_used, err, errlen);
	if (rc == 0) {
		*params = cd_fence_params_to_json(p, false);
		if (!*params) {
			snprintf(err, errlen, "out of memory");
			rc = -ENOMEM;
		}
	}
	cd_fence_params_free(p);
	return rc;
}
