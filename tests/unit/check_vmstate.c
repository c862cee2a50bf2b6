/*
 * A VM's state file (agents/vmstate.c): its blocks, libvirt's header, and
 * the streaming writer and reader on a regular file with O_DIRECT, in a
 * directory of the build tree (/tmp may be tmpfs, which refuses O_DIRECT;
 * there the streaming tests say so and pass without running). Throughput
 * is printed, never asserted.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>

#include <clusterd/result.h>

#include "agents/vmstate.h"
#include "check_common.h"
#include "lib/util.h"

#define MIB (1u << 20)

static char dir[512], path[600];

/* --- the pure parts --- */

START_TEST(test_head_round_trip)
{
	struct cd_vmstate_head h = {.action_id = 42, .length = 123456789, .complete = true}, g;
	struct cd_vmstate_tail t = {.action_id = 42, .read = 4096, .done = true}, u;
	uint8_t b[CD_VMSTATE_BLOCK];

	memset(h.sha256, 'a', 64);
	h.sha256[64] = '\0';
	cd_vmstate_head_encode(&h, b);
	ck_assert_int_eq(cd_vmstate_head_decode(b, &g), 0);
	ck_assert_uint_eq(g.action_id, 42);
	ck_assert_uint_eq(g.length, 123456789);
	ck_assert(g.complete && !g.failed);
	ck_assert_str_eq(g.sha256, h.sha256);

	h.complete = false;
	h.failed = true;
	cd_vmstate_head_encode(&h, b);
	ck_assert_int_eq(cd_vmstate_head_decode(b, &g), 0);
	ck_assert(!g.complete && g.failed);
	ck_assert_str_eq(g.sha256, "");

	cd_vmstate_tail_encode(&t, b);
	ck_assert_int_eq(cd_vmstate_tail_decode(b, &u), 0);
	ck_assert_uint_eq(u.action_id, 42);
	ck_assert_uint_eq(u.read, 4096);
	ck_assert(u.done);
	/* A tail is no head, nor the other way round. */
	ck_assert_int_eq(cd_vmstate_head_decode(b, &g), CD_ERR_CORRUPT);
}
END_TEST

START_TEST(test_head_checks)
{
	struct cd_vmstate_head h = {.action_id = 7, .length = 8192}, g;
	uint8_t b[CD_VMSTATE_BLOCK];
	size_t i;

	/* Every used byte counts. */
	for (i = 0; i < 128; i++) {
		cd_vmstate_head_encode(&h, b);
		b[i] ^= 0x10;
		ck_assert_int_ne(cd_vmstate_head_decode(b, &g), 0);
	}
	cd_vmstate_head_encode(&h, b);
	b[20] ^= 1; /* the action id */
	ck_assert_int_eq(cd_vmstate_head_decode(b, &g), CD_ERR_CORRUPT);
	cd_vmstate_head_encode(&h, b);
	b[8] = 2; /* another version */
	ck_assert_int_eq(cd_vmstate_head_decode(b, &g), CD_ERR_VERSION);
	memset(b, 0, sizeof(b));
	ck_assert_int_eq(cd_vmstate_head_decode(b, &g), CD_ERR_CORRUPT);
}
END_TEST

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

START_TEST(test_libvirt_prefix)
{
	static const char xml[] = "<domain type='kvm'><name>vm1</name></domain>";
	uint8_t *p, *q;
	size_t len, qlen, i;
	char *big;

	ck_assert_int_eq(cd_vmstate_libvirt_prefix(xml, &p, &len), 0);
	ck_assert_uint_eq(len, 4096);
	ck_assert_mem_eq(p, "LibvirtQemudSave", 16);
	ck_assert_uint_eq(le32(p + 16), 2);	    /* version */
	ck_assert_uint_eq(le32(p + 20), 4096 - 92); /* data_len */
	ck_assert_uint_eq(le32(p + 24), 1);	    /* was_running */
	ck_assert_uint_eq(le32(p + 28), 0);	    /* format: raw */
	ck_assert_uint_eq(le32(p + 32), 0);	    /* no cookie */
	for (i = 36; i < 92; i++)
		ck_assert_uint_eq(p[i], 0);
	ck_assert_str_eq((const char *)p + 92, xml);
	for (i = 92 + sizeof(xml); i < len; i++)
		ck_assert_uint_eq(p[i], 0);

	/* A longer XML: the next multiple of the block, still the NUL. */
	big = malloc(5000);
	memset(big, 'x', 4999);
	big[4999] = '\0';
	ck_assert_int_eq(cd_vmstate_libvirt_prefix(big, &q, &qlen), 0);
	ck_assert_uint_eq(qlen, 8192);
	ck_assert_uint_eq(le32(q + 20), 8192 - 92);
	ck_assert_uint_eq(q[92 + 4999], 0);
	free(q);
	/* Exactly filling a block with its NUL: no extra block. */
	big[4096 - 92 - 1] = '\0';
	ck_assert_int_eq(cd_vmstate_libvirt_prefix(big, &q, &qlen), 0);
	ck_assert_uint_eq(qlen, 4096);
	free(q);
	free(big);
	free(p);
}
END_TEST

/* --- streaming: a feeder and a consumer around the writer and reader --- */

static EVP_MD_CTX *md_new(void)
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();

	ck_assert_ptr_nonnull(md);
	ck_assert_int_eq(EVP_DigestInit_ex(md, EVP_sha256(), NULL), 1);
	return md;
}

/* md's digest as hex into out; md freed. */
static void md_done(EVP_MD_CTX *md, char out[65])
{
	uint8_t d[EVP_MAX_MD_SIZE];
	unsigned int n = 0;

	EVP_DigestFinal_ex(md, d, &n);
	EVP_MD_CTX_free(md);
	for (unsigned int i = 0; i < 32; i++)
		snprintf(out + 2 * i, 3, "%02x", d[i]);
}

/* Makes dir and path (a file of size bytes); 1 if O_DIRECT is refused here. */
static int make_file(uint64_t size)
{
	const char *top = getenv("top_builddir");
	int fd;

	snprintf(dir, sizeof(dir), "%s/check_vmstate.XXXXXX", top ? top : ".");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/state", dir);
	fd = open(path, O_CREAT | O_RDWR | O_CLOEXEC, 0600);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(ftruncate(fd, (off_t)size), 0);
	close(fd);
	fd = open(path, O_RDWR | O_DIRECT | O_CLOEXEC);
	if (fd < 0 && errno == EINVAL) {
		fprintf(stderr, "SKIP: %s refuses O_DIRECT (tmpfs?)\n", dir);
		tmpdir_remove(dir);
		return 1;
	}
	ck_assert_int_ge(fd, 0);
	close(fd);
	return 0;
}

static int open_direct(int flags)
{
	int fd = open(path, flags | O_DIRECT | O_CLOEXEC);

	ck_assert_int_ge(fd, 0);
	return fd;
}

/*
 * Writes len bytes into fd (the prefix is the writer's own), or with fd
 * -1 hashes the prefix and those bytes instead: the independent hash,
 * made before the run so that the run measures the writer alone.
 */
struct feeder {
	int fd;
	uint64_t len;
	uint64_t stall_at;    /* stop sending here and wait for release (0: never) */
	volatile int release; /* then close without sending the rest */
	const uint8_t *prefix;
	size_t prefix_len;
	char sha[65]; /* of prefix and data */
	pthread_t t;
};

static void *feeder_thread(void *arg)
{
	struct feeder *f = arg;
	EVP_MD_CTX *md = md_new();
	uint8_t *chunk = malloc(MIB);
	uint64_t sent = 0, x = 0x9e3779b97f4a7c15ull;
	size_t i;

	bool hash = f->fd < 0;
	char sha[65];

	EVP_DigestUpdate(md, f->prefix, f->prefix_len);
	for (i = 0; i < MIB / 8; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		memcpy(chunk + 8 * i, &x, 8);
	}
	while (sent < f->len) {
		size_t k = f->len - sent < MIB ? (size_t)(f->len - sent) : MIB, off = 0;

		if (f->stall_at && sent + k > f->stall_at)
			k = (size_t)(f->stall_at - sent);
		memcpy(chunk, &sent, sizeof(sent)); /* no two chunks alike */
		if (hash)
			EVP_DigestUpdate(md, chunk, k);
		while (!hash && off < k) {
			ssize_t w = write(f->fd, chunk + off, k - off);

			if (w < 0 && errno == EINTR)
				continue;
			if (w <= 0)
				goto out;
			off += (size_t)w;
		}
		sent += k;
		if (!hash && f->stall_at && sent == f->stall_at) {
			while (!f->release)
				poll(NULL, 0, 5);
			break;
		}
	}
out:
	md_done(md, sha);
	if (hash)
		memcpy(f->sha, sha, sizeof(sha));
	free(chunk);
	if (!hash)
		close(f->fd);
	return NULL;
}

/* Reads fd to its end (or stop_after bytes, then closes it); hashes it. */
struct consumer {
	int fd;
	uint64_t stop_after; /* 0: read to the end */
	uint64_t got;
	char sha[65];
	pthread_t t;
};

static void *consumer_thread(void *arg)
{
	struct consumer *c = arg;
	EVP_MD_CTX *md = md_new();
	uint8_t *buf = malloc(MIB);
	ssize_t r;

	while ((r = read(c->fd, buf, MIB)) != 0) {
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			break;
		EVP_DigestUpdate(md, buf, (size_t)r);
		c->got += (uint64_t)r;
		if (c->stop_after && c->got >= c->stop_after)
			break;
	}
	md_done(md, c->sha);
	free(buf);
	close(c->fd);
	return NULL;
}

/*
 * A pipe whose one end (*their_fd, the reading end if they_read) goes to
 * fn(arg) in a new thread *t; returns our end.
 */
static int pipe_to_thread(int *their_fd, bool they_read, void *(*fn)(void *), void *arg,
			  pthread_t *t)
{
	int p[2];

	ck_assert_int_eq(pipe2(p, O_CLOEXEC), 0);
	fcntl(p[1], F_SETPIPE_SZ, (int)MIB); /* as the agent does; less is fine */
	*their_fd = they_read ? p[0] : p[1];
	ck_assert_int_eq(pthread_create(t, NULL, fn, arg), 0);
	return they_read ? p[1] : p[0];
}

/* What a writer or reader of a test gives back, and its thread. */
struct outcome {
	volatile int stop;
	volatile uint64_t progress;
	char err[256];
	int rc;
	double secs;
	pthread_t t;
};

/* The writer's side of a test: a feeder into a pipe, cd_vmstate_write out of it. */
struct save {
	uint64_t action_id, dev_size, data_len;
	uint64_t stall_at;
	struct feeder f;
	uint8_t *prefix;
	size_t prefix_len;
	uint64_t len;
	char sha[65];
	struct outcome o;
};

static void save_run(struct save *s)
{
	int in, fd = open_direct(O_RDWR);
	uint64_t t0;

	ck_assert_int_eq(cd_vmstate_libvirt_prefix("<domain/>", &s->prefix, &s->prefix_len), 0);
	s->f.fd = -1;
	s->f.len = s->data_len;
	s->f.prefix = s->prefix;
	s->f.prefix_len = s->prefix_len;
	feeder_thread(&s->f);
	s->f.stall_at = s->stall_at;
	in = pipe_to_thread(&s->f.fd, false, feeder_thread, &s->f, &s->f.t);
	t0 = cd_now_ms();
	s->o.rc = cd_vmstate_write(fd, s->dev_size, s->action_id, s->prefix, s->prefix_len, in,
				   &s->o.stop, &s->o.progress, &s->len, s->sha, s->o.err,
				   sizeof(s->o.err));
	s->o.secs = (double)(cd_now_ms() - t0) / 1000.0;
	s->f.release = 1;
	close(in); /* a feeder the writer left behind gets EPIPE */
	pthread_join(s->f.t, NULL);
	close(fd);
	free(s->prefix);
}

static void *save_thread(void *arg)
{
	save_run(arg);
	return NULL;
}

/* The reader's side: cd_vmstate_read into a pipe, a consumer out of it. */
struct restore {
	uint64_t action_id, dev_size, want_len, stop_after;
	const char *want_sha;
	int follow_ms;
	struct consumer c;
	struct outcome o;
};

static void restore_run(struct restore *r)
{
	int out, fd = open_direct(O_RDWR);
	uint64_t t0;

	r->c.stop_after = r->stop_after;
	out = pipe_to_thread(&r->c.fd, true, consumer_thread, &r->c, &r->c.t);
	t0 = cd_now_ms();
	r->o.rc = cd_vmstate_read(fd, r->dev_size, r->action_id, r->want_len, r->want_sha, out,
				  r->follow_ms, &r->o.stop, &r->o.progress, r->o.err,
				  sizeof(r->o.err));
	r->o.secs = (double)(cd_now_ms() - t0) / 1000.0;
	close(out);
	pthread_join(r->c.t, NULL);
	close(fd);
}

static void *restore_thread(void *arg)
{
	restore_run(arg);
	return NULL;
}

static void save_init(struct save *s, uint64_t action_id, uint64_t dev_size, uint64_t data)
{
	memset(s, 0, sizeof(*s));
	s->action_id = action_id;
	s->dev_size = dev_size;
	s->data_len = data;
}

/* The head on the disk says the writer of action_id gave up. */
static void assert_given_up(uint64_t action_id)
{
	struct cd_vmstate_head h;
	int fd = open_direct(O_RDONLY);

	ck_assert_int_eq(cd_vmstate_peek(fd, &h, NULL), 0);
	close(fd);
	ck_assert(h.failed && !h.complete);
	ck_assert_uint_eq(h.action_id, action_id);
}

/* A whole image of data bytes after the header: written, its verdict checked. */
static void save_whole(struct save *s, uint64_t action_id, uint64_t data)
{
	save_init(s, action_id, 2 * CD_VMSTATE_OVERHEAD + data + 2 * MIB, data);
	save_run(s);
	ck_assert_msg(s->o.rc == 0, "write: %s", s->o.err);
	ck_assert_uint_eq(s->len, 4096 + data);
	ck_assert_uint_eq(s->o.progress, s->len);
	ck_assert_str_eq(s->sha, s->f.sha);
}

static void restore_init(struct restore *r, const struct save *s, uint64_t action_id)
{
	memset(r, 0, sizeof(*r));
	r->action_id = action_id;
	r->dev_size = s->dev_size;
	r->follow_ms = TEST_MS(30000);
}

START_TEST(test_write_read_whole)
{
	uint64_t data = 256ull * MIB + 1234; /* the last block is partial */
	struct cd_vmstate_head h;
	struct cd_vmstate_tail t;
	struct restore r;
	struct save s;
	int fd;

	if (make_file(2 * CD_VMSTATE_OVERHEAD + data + 2 * MIB))
		return;
	save_whole(&s, 11, data);
	fprintf(stderr, "vmstate write: %llu MiB in %.2f s: %.0f MiB/s\n",
		(unsigned long long)(s.len / MIB), s.o.secs, (double)s.len / MIB / s.o.secs);
	fd = open_direct(O_RDONLY);
	ck_assert_int_eq(cd_vmstate_peek(fd, &h, &t), 0);
	close(fd);
	ck_assert(h.complete && !h.failed);
	ck_assert_uint_eq(h.length, s.len);
	ck_assert_str_eq(h.sha256, s.sha);

	restore_init(&r, &s, 11);
	r.want_len = s.len;
	r.want_sha = s.sha;
	restore_run(&r);
	ck_assert_msg(r.o.rc == 0, "read: %s", r.o.err);
	fprintf(stderr, "vmstate read: %llu MiB in %.2f s: %.0f MiB/s\n",
		(unsigned long long)(s.len / MIB), r.o.secs, (double)s.len / MIB / r.o.secs);
	ck_assert_uint_eq(r.c.got, s.len);
	ck_assert_str_eq(r.c.sha, s.sha);
	ck_assert_uint_eq(r.o.progress, s.len);
	fd = open_direct(O_RDONLY);
	ck_assert_int_eq(cd_vmstate_peek(fd, &h, &t), 0);
	close(fd);
	ck_assert(t.done);
	ck_assert_uint_eq(t.action_id, 11);
	ck_assert_uint_eq(t.read, s.len);
	tmpdir_remove(dir);
}
END_TEST

START_TEST(test_reader_follows_writer)
{
	uint64_t data = 48ull * MIB + 100;
	struct restore r;
	struct save s;

	save_init(&s, 12, 2 * CD_VMSTATE_OVERHEAD + data + 2 * MIB, data);
	if (make_file(s.dev_size))
		return;
	/* The reader first: it waits for a head that is not there yet. */
	restore_init(&r, &s, 12);
	ck_assert_int_eq(pthread_create(&r.o.t, NULL, restore_thread, &r), 0);
	poll(NULL, 0, 50);
	ck_assert_int_eq(pthread_create(&s.o.t, NULL, save_thread, &s), 0);
	pthread_join(s.o.t, NULL);
	pthread_join(r.o.t, NULL);
	ck_assert_msg(s.o.rc == 0, "write: %s", s.o.err);
	ck_assert_msg(r.o.rc == 0, "read: %s", r.o.err);
	ck_assert_str_eq(s.sha, s.f.sha);
	ck_assert_str_eq(r.c.sha, s.sha);
	ck_assert_uint_eq(r.c.got, s.len);
	tmpdir_remove(dir);
}
END_TEST

/* A flipped byte of the image on the disk, at off from the image's start. */
static void flip(uint64_t off)
{
	int fd = open(path, O_RDWR | O_CLOEXEC);
	uint8_t b;

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(pread(fd, &b, 1, (off_t)(CD_VMSTATE_DATA_OFF + off)), 1);
	b ^= 0x01;
	ck_assert_int_eq(pwrite(fd, &b, 1, (off_t)(CD_VMSTATE_DATA_OFF + off)), 1);
	ck_assert_int_eq(fsync(fd), 0);
	close(fd);
}

START_TEST(test_read_checks)
{
	uint64_t data = 6ull * MIB + 4096;
	struct restore r;
	struct save s;

	if (make_file(2 * CD_VMSTATE_OVERHEAD + data + 2 * MIB))
		return;
	save_whole(&s, 21, data);

	/* What the cluster recorded is not this image. */
	restore_init(&r, &s, 21);
	r.want_sha = "0000000000000000000000000000000000000000000000000000000000000000";
	restore_run(&r);
	ck_assert_int_eq(r.o.rc, CD_ERR_CORRUPT);
	restore_init(&r, &s, 21);
	r.want_len = s.len + 1;
	restore_run(&r);
	ck_assert_int_eq(r.o.rc, CD_ERR_CORRUPT);

	/* The image of another save: it never becomes ours. */
	restore_init(&r, &s, 22);
	r.follow_ms = 200;
	restore_run(&r);
	ck_assert_msg(r.o.rc == CD_ERR_CORRUPT, "%d %s", r.o.rc, r.o.err);

	/* Whoever stops reading ends the read. */
	restore_init(&r, &s, 21);
	r.stop_after = MIB;
	restore_run(&r);
	ck_assert_msg(r.o.rc == CD_ERR_INVALID, "%d %s", r.o.rc, r.o.err);

	/* A byte changed on the disk: passed on, but found out at the end. */
	flip(5 * MIB + 17);
	restore_init(&r, &s, 21);
	restore_run(&r);
	ck_assert_msg(r.o.rc == CD_ERR_CORRUPT, "%d %s", r.o.rc, r.o.err);
	ck_assert_uint_eq(r.c.got, s.len);
	tmpdir_remove(dir);
}
END_TEST

START_TEST(test_file_too_small)
{
	struct restore r;
	struct save s;
	int fd;

	save_init(&s, 31, CD_VMSTATE_OVERHEAD + 2 * MIB, 8 * MIB);
	if (make_file(s.dev_size))
		return;
	save_run(&s);
	ck_assert_int_eq(s.o.rc, CD_ERR_INVALID);
	ck_assert_ptr_nonnull(strstr(s.o.err, "too small"));
	fd = open(path, O_RDONLY | O_CLOEXEC);
	ck_assert_int_eq(lseek(fd, 0, SEEK_END), (off_t)s.dev_size); /* nothing past it */
	close(fd);
	assert_given_up(31);

	restore_init(&r, &s, 31);
	restore_run(&r);
	ck_assert_msg(r.o.rc == CD_ERR_CORRUPT, "%d %s", r.o.rc, r.o.err);
	tmpdir_remove(dir);
}
END_TEST

START_TEST(test_writer_stalls)
{
	struct restore r;
	struct save s;

	save_init(&s, 41, 2 * CD_VMSTATE_OVERHEAD + 64 * MIB, 32 * MIB);
	s.stall_at = 8 * MIB; /* then the stream stops, and stays open */
	if (make_file(s.dev_size))
		return;
	restore_init(&r, &s, 41);
	r.follow_ms = 300;
	ck_assert_int_eq(pthread_create(&s.o.t, NULL, save_thread, &s), 0);
	restore_run(&r);
	ck_assert_msg(r.o.rc == CD_ERR_TIMEOUT, "%d %s", r.o.rc, r.o.err);
	ck_assert_uint_le(r.c.got, 8 * MIB + 4096);

	/* The save's owner gives up: the writer stops and marks the image failed. */
	s.o.stop = 1;
	pthread_join(s.o.t, NULL);
	ck_assert_int_eq(s.o.rc, CD_ERR_INVALID);
	assert_given_up(41);
	tmpdir_remove(dir);
}
END_TEST

START_TEST(test_mark_failed)
{
	struct cd_vmstate_head h;
	struct save s;
	int fd;

	if (make_file(2 * CD_VMSTATE_OVERHEAD + 4 * MIB))
		return;
	save_whole(&s, 51, MIB);
	fd = open_direct(O_RDWR);
	ck_assert_int_eq(cd_vmstate_mark_failed(fd, 51), 0);
	ck_assert_int_eq(cd_vmstate_peek(fd, &h, NULL), 0);
	close(fd);
	ck_assert_uint_eq(h.length, s.len); /* kept, for progress */
	assert_given_up(51);
	tmpdir_remove(dir);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("vmstate");

	signal(SIGPIPE, SIG_IGN); /* as in clusterd: EPIPE instead */
	add_tcase(s, test_head_round_trip);
	add_tcase(s, test_head_checks);
	add_tcase(s, test_libvirt_prefix);
	add_tcase(s, test_write_read_whole);
	add_tcase(s, test_reader_follows_writer);
	add_tcase(s, test_read_checks);
	add_tcase(s, test_file_too_small);
	add_tcase(s, test_writer_stalls);
	add_tcase(s, test_mark_failed);
	return run_suite(s);
}
