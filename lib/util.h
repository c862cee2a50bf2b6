/*
 * Small helpers shared by clusterd, clusterctl and the tools.
 */
#ifndef CD_UTIL_H
#define CD_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * In a function with "char *err, size_t errlen" parameters: say why in err
 * and return code. Files alias it as FAIL.
 */
#define CD_FAIL(code, ...)                                                                         \
	do {                                                                                       \
		snprintf(err, errlen, __VA_ARGS__);                                                \
		return (code);                                                                     \
	} while (0)

/* Milliseconds on CLOCK_MONOTONIC. */
uint64_t cd_now_ms(void);

/* Microseconds on CLOCK_MONOTONIC, for what may take less than a millisecond. */
uint64_t cd_now_us(void);

/* Milliseconds since the epoch on CLOCK_REALTIME (for timestamps only). */
uint64_t cd_wall_ms(void);

/* How cd_format_wall_ms() writes a time. */
enum cd_time_style {
	CD_TIME_LOCAL, /* "2026-11-02 14:03:07.250" in local time, for people */
	CD_TIME_UTC,   /* "2026-11-02T13:03:07.250Z": ISO 8601 in UTC, for reports */
};

/* Room for a time in either style, with the NUL. */
#define CD_TIME_LEN 32

/*
 * A cd_wall_ms() time as text into out (n bytes, CD_TIME_LEN is enough),
 * to the millisecond. Returns 0, or -EOVERFLOW with out "-" if it has no
 * such text (a year beyond the calendar's).
 */
int cd_format_wall_ms(uint64_t wall_ms, enum cd_time_style style, char *out, size_t n);

/*
 * A random request id: above 0 and below 2^63, so that it survives a JSON
 * int64 both ways. From getrandom(), else from the clock and pid.
 */
uint64_t cd_random_id(void);

/*
 * Replace path with len bytes of data crash-safely: write path.tmp, fsync it,
 * rename it over path, fsync the directory. Returns 0 or -errno.
 */
int cd_write_file_atomic(const char *path, const void *data, size_t len);

/*
 * Create path, which must not exist (-EEXIST), with len bytes of data and
 * exactly mode whatever the umask, and fsync it. A file left half-written
 * is removed. Returns 0 or -errno.
 */
int cd_write_file_new(const char *path, const void *data, size_t len, unsigned int mode);

/*
 * Read a whole file. On success *data is a new NUL-terminated buffer the
 * caller frees, *len its length without the NUL. Returns 0 or -errno.
 */
int cd_read_file(const char *path, char **data, size_t *len);

/* mkdir -p with mode for the missing parts. Returns 0 or -errno. */
int cd_mkdir_p(const char *path, unsigned int mode);

/* Hex SHA-256 of data into out (65 bytes with the NUL). */
void cd_sha256_hex(const void *data, size_t len, char out[65]);

/* Copy src into dst of size n, always NUL-terminated. Returns strlen(src). */
size_t cd_strlcpy(char *dst, const char *src, size_t n);

/* A name for nodes, properties and later objects: [A-Za-z0-9._-], 1..max. */
bool cd_valid_name(const char *s, size_t max);

/*
 * A name that becomes one component of a path (volumes, their files): a
 * valid name that does not start with '.', so never "." or "..".
 */
bool cd_valid_path_name(const char *s, size_t max);

/*
 * An absolute path of at most max bytes, without "." or ".." components
 * and without control characters.
 */
bool cd_valid_abs_path(const char *s, size_t max);

/* At most max bytes without control characters (empty is fine). */
bool cd_valid_text(const char *s, size_t max);

/*
 * A plain decimal number with at most three places ("4", "1.5", "0.125")
 * into *milli, in thousandths. No sign, space, exponent or unit, and no
 * bare point ("1." or ".5"). Returns 0, -EINVAL, or -ERANGE past 2^64.
 */
int cd_parse_milli(const char *s, uint64_t *milli);

/*
 * Give the C library's free heap back to the system, after a large
 * transient (a snapshot built, sent or parsed): RSS then shows what is
 * held, not the peak. Costs a few ms at some 100 MB; a no-op without glibc.
 */
void cd_heap_trim(void);

#ifdef CD_TEST_HOOKS
/*
 * Test aid (builds configured with --enable-test-hooks only): whether the
 * file $CD_TEST_HOLD_DIR/HOST-NAMESUFFIX exists, HOST being this host's
 * name. While it does, the step it names is held back; HOST-NAMESUFFIX.held
 * then says the step reached it (removed once it is not held).
 */
bool cd_test_held(const char *name, const char *suffix);
#endif

#endif
