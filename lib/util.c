#include "config.h"

#include <errno.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <sys/random.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "lib/util.h"

uint64_t cd_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

uint64_t cd_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

uint64_t cd_wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

int cd_format_wall_ms(uint64_t wall_ms, enum cd_time_style style, char *out, size_t n)
{
	time_t secs = (time_t)(wall_ms / 1000);
	int utc = style == CD_TIME_UTC;
	struct tm tm;
	char buf[CD_TIME_LEN];

	if (!(utc ? gmtime_r(&secs, &tm) : localtime_r(&secs, &tm)) ||
	    !strftime(buf, sizeof(buf), utc ? "%Y-%m-%dT%H:%M:%S" : "%Y-%m-%d %H:%M:%S", &tm)) {
		snprintf(out, n, "-");
		return -EOVERFLOW;
	}
	snprintf(out, n, "%s.%03u%s", buf, (unsigned)(wall_ms % 1000), utc ? "Z" : "");
	return 0;
}

static int write_all(int fd, const char *p, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Unless rc already failed: write data to fd and fsync it. Closes fd. Returns 0 or -errno. */
static int write_sync_close(int fd, const void *data, size_t len, int rc)
{
	if (rc == 0)
		rc = write_all(fd, data, len);
	if (rc == 0 && fsync(fd) < 0)
		rc = -errno;
	if (close(fd) < 0 && rc == 0)
		rc = -errno;
	return rc;
}

int cd_write_file_atomic(const char *path, const void *data, size_t len)
{
	char tmp[PATH_MAX], dir[PATH_MAX];
	int fd, dfd, rc;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	rc = write_sync_close(fd, data, len, 0);
	if (rc < 0)
		goto out_unlink;
	if (rename(tmp, path) < 0) {
		rc = -errno;
		goto out_unlink;
	}
	/* The rename is durable only once the directory entry is. */
	cd_strlcpy(dir, path, sizeof(dir));
	dfd = open(dirname(dir), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return -errno;
	if (fsync(dfd) < 0)
		rc = -errno;
	close(dfd);
	return rc;

out_unlink:
	unlink(tmp);
	return rc;
}

int cd_write_file_new(const char *path, const void *data, size_t len, unsigned int mode)
{
	int fd, rc;

	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	rc = write_sync_close(fd, data, len, fchmod(fd, (mode_t)mode) < 0 ? -errno : 0);
	if (rc < 0)
		unlink(path);
	return rc;
}

int cd_read_file(const char *path, char **data, size_t *len)
{
	struct stat st;
	char *buf;
	size_t got = 0;
	int fd, rc = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0) {
		rc = -errno;
		goto out_close;
	}
	buf = malloc((size_t)st.st_size + 1);
	if (!buf) {
		rc = -ENOMEM;
		goto out_close;
	}
	while (got < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + got, (size_t)st.st_size - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = -errno;
			free(buf);
			goto out_close;
		}
		if (n == 0)
			break;
		got += (size_t)n;
	}
	buf[got] = '\0';
	*data = buf;
	*len = got;
out_close:
	close(fd);
	return rc;
}

int cd_mkdir_p(const char *path, unsigned int mode)
{
	char buf[PATH_MAX];
	char *p;

	if (cd_strlcpy(buf, path, sizeof(buf)) >= sizeof(buf))
		return -ENAMETOOLONG;
	for (p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, mode) < 0 && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(buf, mode) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

void cd_sha256_hex(const void *data, size_t len, char out[65])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0, i;

	EVP_Digest(data, len, md, &mdlen, EVP_sha256(), NULL);
	for (i = 0; i < mdlen && i < 32; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
	out[64] = '\0';
}

size_t cd_strlcpy(char *dst, const char *src, size_t n)
{
	size_t len = strlen(src);

	if (n > 0) {
		size_t c = len < n - 1 ? len : n - 1;

		memcpy(dst, src, c);
		dst[c] = '\0';
	}
	return len;
}

bool cd_valid_name(const char *s, size_t max)
{
	size_t i;

	if (!s || !*s)
		return false;
	for (i = 0; s[i]; i++) {
		char c = s[i];

		if (i >= max)
			return false;
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '.' || c == '_' || c == '-'))
			return false;
	}
	return true;
}

bool cd_valid_path_name(const char *s, size_t max)
{
	/* A leading dot covers "." and "..", and hides nothing from ls. */
	return cd_valid_name(s, max) && s[0] != '.';
}

bool cd_valid_abs_path(const char *s, size_t max)
{
	const char *c;
	size_t len;

	if (!s || s[0] != '/' || strlen(s) > max)
		return false;
	for (c = s; *c; c++)
		if ((unsigned char)*c < 0x20 || *c == 0x7f)
			return false;
	for (c = s; *c; c += len) {
		while (*c == '/')
			c++;
		len = strcspn(c, "/");
		if ((len == 1 && c[0] == '.') || (len == 2 && c[0] == '.' && c[1] == '.'))
			return false;
	}
	return true;
}

bool cd_valid_text(const char *s, size_t max)
{
	size_t i;

	if (!s)
		return false;
	for (i = 0; s[i]; i++)
		if (i >= max || (unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return false;
	return true;
}

uint64_t cd_random_id(void)
{
	uint64_t id = 0;

	while (id == 0) {
		if (getrandom(&id, sizeof(id), 0) != sizeof(id))
			id = cd_wall_ms() ^ ((uint64_t)getpid() << 40);
		id &= 0x7fffffffffffffffull;
	}
	return id;
}

int cd_parse_milli(const char *s, uint64_t *milli)
{
	uint64_t whole = 0, frac = 0;
	int places = 0;

	if (*s < '0' || *s > '9')
		return -EINVAL;
	for (; *s >= '0' && *s <= '9'; s++) {
		if (whole > (UINT64_MAX / 1000 - 999) / 10)
			return -ERANGE;
		whole = whole * 10 + (uint64_t)(*s - '0');
	}
	if (*s == '.') {
		for (s++; *s >= '0' && *s <= '9' && places < 3; s++, places++)
			frac = frac * 10 + (uint64_t)(*s - '0');
		if (places == 0)
			return -EINVAL;
	}
	if (*s)
		return -EINVAL;
	for (; places < 3; places++)
		frac *= 10;
	*milli = whole * 1000 + frac;
	return 0;
}

void cd_heap_trim(void)
{
#ifdef __GLIBC__
	malloc_trim(0);
#endif
}

#ifdef CD_TEST_HOOKS
bool cd_test_held(const char *name, const char *suffix)
{
	const char *dir = getenv("CD_TEST_HOLD_DIR");
	char host[64] = "", path[512], held[520];
	int fd;

	if (!dir || gethostname(host, sizeof(host) - 1) < 0)
		return false;
	snprintf(path, sizeof(path), "%s/%s-%s%s", dir, host, name, suffix);
	snprintf(held, sizeof(held), "%s.held", path);
	if (access(path, F_OK) < 0) {
		unlink(held);
		return false;
	}
	fd = open(held, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
	if (fd >= 0)
		close(fd);
	return true;
}
#endif
