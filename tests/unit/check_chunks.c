#include "config.h"

#include <errno.h>
#include <string.h>

#include <clusterd/result.h>

#include "check_common.h"
#include "core/chunks.h"
#include "lib/util.h"

#define SMALL 1024u /* CD_CHUNK_SIZE_MIN: small snapshots of several chunks */
#define MAXC 16

struct chunk {
	struct cd_chunk_hdr h;
	const void *p;
	size_t len;
};

/* A snapshot cut into chunks: its bytes, its sender and its chunks in order. */
struct snap {
	unsigned char *buf;
	size_t len;
	struct cd_chunks_tx tx;
	struct chunk c[MAXC];
	uint32_t n;
};

static unsigned char *random_buf(size_t len, unsigned seed)
{
	unsigned char *b = malloc(len ? len : 1);
	size_t i;

	ck_assert_ptr_nonnull(b);
	srand(seed);
	for (i = 0; i < len; i++)
		b[i] = (unsigned char)rand();
	return b;
}

static struct cd_chunk_id snap_id(uint64_t round, uint32_t step)
{
	struct cd_chunk_id id = {.round = round, .sender = 2, .step = step, .version = {3, 41}};

	return id;
}

static void snap_make(struct snap *s, size_t len, uint32_t size, uint64_t round, uint32_t step)
{
	struct cd_chunk_id id = snap_id(round, step);

	memset(s, 0, sizeof(*s));
	s->buf = random_buf(len, (unsigned)(len + round));
	s->len = len;
	ck_assert_int_eq(cd_chunks_tx_init(&s->tx, &id, s->buf, len, size, NULL), 0);
	while (s->n < MAXC &&
	       cd_chunks_tx_next(&s->tx, &s->c[s->n].h, &s->c[s->n].p, &s->c[s->n].len) == 1)
		s->n++;
	ck_assert_uint_eq(s->n, s->tx.count);
}

static void snap_free(struct snap *s)
{
	free(s->buf);
}

static int add(struct cd_chunks_rx *rx, const struct chunk *c)
{
	char err[256] = "";

	return cd_chunks_rx_add(rx, &c->h, c->p, c->len, err, sizeof(err));
}

/* rx took the whole of s: take it and compare. */
static void assert_took(struct cd_chunks_rx *rx, const struct snap *s)
{
	char *buf;
	size_t len;

	ck_assert_int_eq(rx->phase, CD_CHUNKS_RX_COMPLETE);
	ck_assert_int_eq(cd_chunks_rx_missing(rx, NULL, 0), 0);
	ck_assert_int_eq(cd_chunks_rx_take(rx, &buf, &len), 0);
	ck_assert_uint_eq(len, s->len);
	ck_assert(memcmp(buf, s->buf, len) == 0);
	ck_assert_int_eq(buf[len], '\0');
	free(buf);
	ck_assert_int_eq(cd_chunks_rx_take(rx, &buf, &len), -EAGAIN);
}

/* Each size through the wire form and back, in order. */
START_TEST(test_round_trip)
{
	const size_t c = CD_CHUNK_SIZE_DEFAULT;
	const size_t sizes[] = {0, 1, c - 1, c, c + 1, 5 * c + c / 2};
	const uint32_t counts[] = {1, 1, 1, 1, 2, 6};
	size_t k;

	for (k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
		struct cd_chunks_rx rx;
		struct snap s;
		uint32_t i;

		snap_make(&s, sizes[k], 0, 7, 1);
		ck_assert_uint_eq(s.n, counts[k]);
		cd_chunks_rx_init(&rx, 0);
		cd_chunks_rx_expect(&rx, 7, 1, 2);
		for (i = 0; i < s.n; i++) {
			unsigned char *wire = malloc(CD_CHUNK_HDR_LEN + s.c[i].len);
			struct cd_chunk_hdr h;
			const void *bytes;
			char err[256];

			ck_assert_ptr_nonnull(wire);
			cd_chunk_hdr_encode(&s.c[i].h, wire);
			if (s.c[i].len)
				memcpy(wire + CD_CHUNK_HDR_LEN, s.c[i].p, s.c[i].len);
			ck_assert_int_eq(cd_chunk_decode(wire, CD_CHUNK_HDR_LEN + s.c[i].len, &h,
							 &bytes, err, sizeof(err)),
					 0);
			ck_assert(memcmp(&h, &s.c[i].h, sizeof(h)) == 0);
			ck_assert_int_eq(cd_chunks_rx_add(&rx, &h, bytes, h.len, err, sizeof(err)),
					 i + 1 < s.n ? CD_CHUNKS_MORE : CD_CHUNKS_COMPLETE);
			free(wire);
		}
		assert_took(&rx, &s);
		cd_chunks_rx_free(&rx);
		snap_free(&s);
	}
}
END_TEST

/* Shuffled, each twice: duplicates are ignored, complete once. */
START_TEST(test_shuffled_with_duplicates)
{
	uint32_t order[] = {4, 1, 1, 5, 0, 4, 3, 0, 2, 5, 3};
	struct cd_chunks_rx rx;
	struct snap s;
	size_t i;
	int complete = 0, rc;

	snap_make(&s, 5 * SMALL + SMALL / 2, SMALL, 9, 0);
	ck_assert_uint_eq(s.n, 6);
	cd_chunks_rx_init(&rx, 0);
	cd_chunks_rx_expect(&rx, 9, 0, 2);
	for (i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
		rc = add(&rx, &s.c[order[i]]);
		ck_assert(rc == CD_CHUNKS_MORE || rc == CD_CHUNKS_IGNORED ||
			  rc == CD_CHUNKS_COMPLETE);
		complete += rc == CD_CHUNKS_COMPLETE;
		if (i == 2 || i == 5 || i == 7)
			ck_assert_int_eq(rc, CD_CHUNKS_IGNORED);
	}
	ck_assert_int_eq(complete, 1);
	ck_assert_int_eq(rc, CD_CHUNKS_IGNORED); /* the last was a duplicate after complete */
	assert_took(&rx, &s);
	/* Once handed out, its chunks change nothing. */
	ck_assert_int_eq(add(&rx, &s.c[0]), CD_CHUNKS_IGNORED);
	ck_assert_str_eq(cd_chunks_rx_phase_to_str(rx.phase), "taken");
	cd_chunks_rx_free(&rx);
	snap_free(&s);
}
END_TEST

START_TEST(test_missing)
{
	struct cd_chunks_rx rx;
	struct snap s;
	uint32_t out[8], i;

	snap_make(&s, 5 * SMALL + 1, SMALL, 9, 0);
	cd_chunks_rx_init(&rx, 0);
	ck_assert_int_eq(cd_chunks_rx_missing(&rx, out, 8), -ENODATA);
	cd_chunks_rx_expect(&rx, 9, 0, 2);
	ck_assert_int_eq(cd_chunks_rx_missing(&rx, out, 8), -ENODATA);
	ck_assert_int_eq(add(&rx, &s.c[0]), CD_CHUNKS_MORE);
	ck_assert_int_eq(add(&rx, &s.c[5]), CD_CHUNKS_MORE);
	ck_assert_int_eq(cd_chunks_rx_missing(&rx, out, 8), 4);
	for (i = 0; i < 4; i++)
		ck_assert_uint_eq(out[i], i + 1);
	/* Fewer room than missing: the first ones, and how many in all. */
	memset(out, 0xff, sizeof(out));
	ck_assert_int_eq(cd_chunks_rx_missing(&rx, out, 2), 4);
	ck_assert_uint_eq(out[0], 1);
	ck_assert_uint_eq(out[1], 2);
	ck_assert_uint_eq(out[2], UINT32_MAX);
	ck_assert_int_eq(add(&rx, &s.c[1]), CD_CHUNKS_MORE);
	ck_assert_int_eq(add(&rx, &s.c[2]), CD_CHUNKS_MORE);
	ck_assert_int_eq(add(&rx, &s.c[4]), CD_CHUNKS_MORE);
	ck_assert_int_eq(cd_chunks_rx_missing(&rx, out, 8), 1);
	ck_assert_uint_eq(out[0], 3);
	ck_assert_int_eq(rx.phase, CD_CHUNKS_RX_ASSEMBLING);
	ck_assert_int_eq(add(&rx, &s.c[3]), CD_CHUNKS_COMPLETE);
	assert_took(&rx, &s);
	cd_chunks_rx_free(&rx);
	snap_free(&s);
}
END_TEST

START_TEST(test_flipped_byte)
{
	struct cd_chunks_rx rx;
	struct snap s;
	struct chunk bad;
	unsigned char copy[SMALL];
	char err[256] = "";

	snap_make(&s, 2 * SMALL, SMALL, 9, 0);
	cd_chunks_rx_init(&rx, 0);
	cd_chunks_rx_expect(&rx, 9, 0, 2);
	ck_assert_int_eq(add(&rx, &s.c[0]), CD_CHUNKS_MORE);
	bad = s.c[1];
	memcpy(copy, bad.p, bad.len);
	copy[100] ^= 0x01;
	bad.p = copy;
	ck_assert_int_eq(cd_chunks_rx_add(&rx, &bad.h, bad.p, bad.len, err, sizeof(err)),
			 CD_ERR_CORRUPT);
	ck_assert_ptr_nonnull(strstr(err, "checksum"));
	ck_assert_int_eq(cd_chunks_rx_missing(&rx, NULL, 0), 1);
	/* Asked again, it comes right. */
	ck_assert_int_eq(add(&rx, &s.c[1]), CD_CHUNKS_COMPLETE);
	assert_took(&rx, &s);
	cd_chunks_rx_free(&rx);
	snap_free(&s);
}
END_TEST

/* c with one thing changed must be refused with rc, the assembly left alone. */
static void assert_refused(struct cd_chunks_rx *rx, const struct chunk *c, int rc)
{
	char err[256] = "";

	ck_assert_int_eq(cd_chunks_rx_add(rx, &c->h, c->p, c->len, err, sizeof(err)), rc);
	ck_assert_str_ne(err, "");
}

START_TEST(test_inconsistent_headers)
{
	struct cd_chunks_rx rx;
	struct snap s;
	struct chunk c;
	uint32_t n_have;

	snap_make(&s, 3 * SMALL + 10, SMALL, 9, 0);
	ck_assert_uint_eq(s.n, 4);
	cd_chunks_rx_init(&rx, 0);
	cd_chunks_rx_expect(&rx, 9, 0, 2);
	/* On its own: a count that does not fit total and size, out of range. */
	c = s.c[1];
	c.h.count = 5;
	assert_refused(&rx, &c, CD_ERR_PROTOCOL);
	c = s.c[1];
	c.h.chunk_size = 100;
	assert_refused(&rx, &c, CD_ERR_PROTOCOL);
	ck_assert_int_eq(rx.phase, CD_CHUNKS_RX_WAITING);
	ck_assert_int_eq(add(&rx, &s.c[0]), CD_CHUNKS_MORE);
	n_have = rx.n_have;
	/* Against the earlier chunks. */
	c = s.c[1];
	c.h.count = 3;
	assert_refused(&rx, &c, CD_ERR_PROTOCOL);
	c = s.c[1];
	c.h.total--;
	assert_refused(&rx, &c, CD_ERR_PROTOCOL);
	c = s.c[1];
	c.h.id.version.seq++;
	assert_refused(&rx, &c, CD_ERR_PROTOCOL);
	c = s.c[1];
	c.h.total_sha256[0] = c.h.total_sha256[0] == 'a' ? 'b' : 'a';
	assert_refused(&rx, &c, CD_ERR_PROTOCOL);
	/* The index and the length. */
	c = s.c[1];
	c.h.index = 4;
	assert_refused(&rx, &c, CD_ERR_PROTOCOL);
	c = s.c[3]; /* the last, 10 bytes: claims to be a middle one */
	c.h.index = 2;
	assert_refused(&rx, &c, CD_ERR_PROTOCOL);
	c = s.c[1];
	c.len--;
	assert_refused(&rx, &c, CD_ERR_PROTOCOL);
	c = s.c[1];
	c.h.len--;
	c.len--;
	assert_refused(&rx, &c, CD_ERR_PROTOCOL);
	ck_assert_uint_eq(rx.n_have, n_have);
	ck_assert_int_eq(add(&rx, &s.c[1]), CD_CHUNKS_MORE);
	ck_assert_int_eq(add(&rx, &s.c[2]), CD_CHUNKS_MORE);
	ck_assert_int_eq(add(&rx, &s.c[3]), CD_CHUNKS_COMPLETE);
	assert_took(&rx, &s);
	cd_chunks_rx_free(&rx);
	snap_free(&s);
}
END_TEST

/* Only the awaited round, step and sender count; awaiting another starts over. */
START_TEST(test_rounds)
{
	struct snap old, cur, next, step2;
	struct cd_chunks_rx rx;
	struct chunk c;

	snap_make(&old, 2 * SMALL, SMALL, 1, 0);
	snap_make(&cur, 2 * SMALL, SMALL, 2, 0);
	snap_make(&next, 3 * SMALL, SMALL, 3, 0);
	snap_make(&step2, 2 * SMALL, SMALL, 3, 1);
	cd_chunks_rx_init(&rx, 0);
	/* Nothing awaited: nothing taken. */
	ck_assert_int_eq(add(&rx, &cur.c[0]), CD_CHUNKS_IGNORED);
	cd_chunks_rx_expect(&rx, 2, 0, 2);
	ck_assert_int_eq(add(&rx, &old.c[0]), CD_CHUNKS_IGNORED);
	ck_assert_int_eq(add(&rx, &cur.c[0]), CD_CHUNKS_MORE);
	c = cur.c[1];
	c.h.id.sender = 3;
	ck_assert_int_eq(add(&rx, &c), CD_CHUNKS_IGNORED);
	ck_assert_int_eq(add(&rx, &old.c[1]), CD_CHUNKS_IGNORED);
	/* The same again keeps the assembly. */
	cd_chunks_rx_expect(&rx, 2, 0, 2);
	ck_assert_int_eq(cd_chunks_rx_missing(&rx, NULL, 0), 1);
	/* A newer round: the assembly starts over, the older one's chunks are ignored. */
	cd_chunks_rx_expect(&rx, 3, 0, 2);
	ck_assert_int_eq(cd_chunks_rx_missing(&rx, NULL, 0), -ENODATA);
	ck_assert_int_eq(add(&rx, &next.c[2]), CD_CHUNKS_MORE);
	ck_assert_int_eq(add(&rx, &cur.c[1]), CD_CHUNKS_IGNORED);
	ck_assert_int_eq(add(&rx, &next.c[0]), CD_CHUNKS_MORE);
	/* The round's next step (another sender, or the same again): over again. */
	cd_chunks_rx_expect(&rx, 3, 1, 2);
	ck_assert_int_eq(add(&rx, &next.c[1]), CD_CHUNKS_IGNORED);
	ck_assert_int_eq(add(&rx, &step2.c[1]), CD_CHUNKS_MORE);
	ck_assert_int_eq(add(&rx, &step2.c[0]), CD_CHUNKS_COMPLETE);
	assert_took(&rx, &step2);
	cd_chunks_rx_free(&rx);
	ck_assert_int_eq(rx.phase, CD_CHUNKS_RX_IDLE);
	snap_free(&old);
	snap_free(&cur);
	snap_free(&next);
	snap_free(&step2);
}
END_TEST

START_TEST(test_cap)
{
	struct snap at, above;
	struct cd_chunks_rx rx;
	char err[256] = "";

	snap_make(&at, 4 * SMALL, SMALL, 5, 0);
	snap_make(&above, 4 * SMALL + 1, SMALL, 6, 0);
	cd_chunks_rx_init(&rx, 4 * SMALL);
	cd_chunks_rx_expect(&rx, 6, 0, 2);
	ck_assert_int_eq(cd_chunks_rx_add(&rx, &above.c[0].h, above.c[0].p, above.c[0].len, err,
					  sizeof(err)),
			 -EMSGSIZE);
	ck_assert_ptr_nonnull(strstr(err, "cap"));
	ck_assert_int_eq(rx.phase, CD_CHUNKS_RX_WAITING);
	ck_assert_ptr_null(rx.buf);
	cd_chunks_rx_expect(&rx, 5, 0, 2);
	ck_assert_int_eq(add(&rx, &at.c[0]), CD_CHUNKS_MORE);
	cd_chunks_rx_free(&rx);
	ck_assert_uint_eq(rx.cap, 4 * SMALL);
	cd_chunks_rx_init(&rx, 0);
	ck_assert_uint_eq(rx.cap, CD_CHUNKS_CAP_DEFAULT);
	snap_free(&at);
	snap_free(&above);
}
END_TEST

/* Every chunk matches its own checksum, the whole does not match the header's. */
START_TEST(test_whole_mismatch)
{
	struct cd_chunks_rx rx;
	struct snap s;
	struct chunk c[3];
	char err[256] = "";
	uint32_t i;

	snap_make(&s, 3 * SMALL, SMALL, 4, 0);
	for (i = 0; i < 3; i++) {
		c[i] = s.c[i];
		cd_sha256_hex("something else", 14, c[i].h.total_sha256);
	}
	cd_chunks_rx_init(&rx, 0);
	cd_chunks_rx_expect(&rx, 4, 0, 2);
	ck_assert_int_eq(add(&rx, &c[2]), CD_CHUNKS_MORE);
	ck_assert_int_eq(add(&rx, &c[0]), CD_CHUNKS_MORE);
	ck_assert_int_eq(cd_chunks_rx_add(&rx, &c[1].h, c[1].p, c[1].len, err, sizeof(err)),
			 CD_ERR_CORRUPT);
	ck_assert_ptr_nonnull(strstr(err, "do not match"));
	/* Started over, still awaited: the right chunks complete it. */
	ck_assert_int_eq(rx.phase, CD_CHUNKS_RX_WAITING);
	ck_assert_int_eq(cd_chunks_rx_missing(&rx, NULL, 0), -ENODATA);
	for (i = 0; i < 3; i++)
		ck_assert_int_eq(add(&rx, &s.c[i]), i < 2 ? CD_CHUNKS_MORE : CD_CHUNKS_COMPLETE);
	assert_took(&rx, &s);
	cd_chunks_rx_free(&rx);
	snap_free(&s);
}
END_TEST

START_TEST(test_wire_checks)
{
	unsigned char wire[CD_CHUNK_HDR_LEN + 4] = {0}, bad[sizeof(wire)];
	struct cd_chunk_hdr h = {.id = {.round = 1, .sender = 2, .step = 3, .version = {4, 5}},
				 .count = 1,
				 .total = 4,
				 .chunk_size = SMALL,
				 .len = 4};
	const void *bytes;
	char err[256];

	cd_sha256_hex("abcd", 4, h.total_sha256);
	cd_sha256_hex("abcd", 4, h.chunk_sha256);
	cd_chunk_hdr_encode(&h, wire);
	memcpy(wire + CD_CHUNK_HDR_LEN, "abcd", 4);
	ck_assert_int_eq(wire[0], 'C');
	ck_assert_int_eq(wire[3], '1');
	ck_assert_int_eq(cd_chunk_decode(wire, sizeof(wire), &h, &bytes, err, sizeof(err)), 0);
	ck_assert_ptr_eq(bytes, wire + CD_CHUNK_HDR_LEN);
	ck_assert_uint_eq(h.id.version.seq, 5);
	ck_assert_int_eq(cd_chunk_decode(wire, CD_CHUNK_HDR_LEN - 1, &h, &bytes, err, sizeof(err)),
			 CD_ERR_PROTOCOL);
	ck_assert_int_eq(cd_chunk_decode(wire, sizeof(wire) - 1, &h, &bytes, err, sizeof(err)),
			 CD_ERR_PROTOCOL);
	memcpy(bad, wire, sizeof(bad));
	bad[0] = 'X';
	ck_assert_int_eq(cd_chunk_decode(bad, sizeof(bad), &h, &bytes, err, sizeof(err)),
			 CD_ERR_PROTOCOL);
	ck_assert(!h.zstd);
	memcpy(bad, wire, sizeof(bad));
	bad[4] = 2; /* a packed chunk */
	ck_assert_int_eq(cd_chunk_decode(bad, sizeof(bad), &h, &bytes, err, sizeof(err)), 0);
	ck_assert(h.zstd);
	bad[4] = 3;
	ck_assert_int_eq(cd_chunk_decode(bad, sizeof(bad), &h, &bytes, err, sizeof(err)),
			 CD_ERR_VERSION);
	memcpy(bad, wire, sizeof(bad));
	bad[64] = 'G';
	ck_assert_int_eq(cd_chunk_decode(bad, sizeof(bad), &h, &bytes, err, sizeof(err)),
			 CD_ERR_PROTOCOL);
}
END_TEST

START_TEST(test_tx)
{
	struct cd_chunk_id id = snap_id(1, 0);
	struct cd_chunks_tx tx;
	struct cd_chunk_hdr h, again;
	unsigned char *buf = random_buf(3 * SMALL, 1);
	/* A whole checksum the caller has already is taken as it is. */
	const char known[] = "00000000000000000000000000000000000000000000000000000000000000ff";
	const void *p, *q;
	char sum[65];
	size_t len;

	ck_assert_int_eq(cd_chunks_tx_init(&tx, &id, buf, 3 * SMALL, SMALL - 1, NULL), -EINVAL);
	ck_assert_int_eq(cd_chunks_tx_init(&tx, &id, buf, 3 * SMALL, CD_CHUNK_SIZE_MAX + 1, NULL),
			 -EINVAL);
	ck_assert_int_eq(cd_chunks_tx_init(&tx, &id, buf, 3 * SMALL, 0, NULL), 0);
	ck_assert_uint_eq(tx.chunk_size, CD_CHUNK_SIZE_DEFAULT);
	ck_assert_int_eq(cd_chunks_tx_init(&tx, &id, buf, 3 * SMALL, SMALL, known), 0);
	ck_assert_str_eq(tx.total_sha256, known);
	ck_assert_int_eq(cd_chunks_tx_init(&tx, &id, buf, 3 * SMALL, SMALL, NULL), 0);
	cd_sha256_hex(buf, 3 * SMALL, sum);
	ck_assert_str_eq(tx.total_sha256, sum);
	ck_assert_int_eq(cd_chunks_tx_next(&tx, &h, &p, &len), 1);
	ck_assert_str_eq(h.total_sha256, sum);
	ck_assert_int_eq(cd_chunks_tx_next(&tx, &h, &p, &len), 1);
	ck_assert_uint_eq(h.index, 1);
	ck_assert_ptr_eq(p, buf + SMALL);
	ck_assert_int_eq(cd_chunks_tx_next(&tx, &h, &p, &len), 1);
	ck_assert_int_eq(cd_chunks_tx_next(&tx, &h, &p, &len), 0);
	/* A resend gives the same chunk again. */
	ck_assert_int_eq(cd_chunks_tx_seek(&tx, 3), -ERANGE);
	ck_assert_int_eq(cd_chunks_tx_seek(&tx, 1), 0);
	ck_assert_int_eq(cd_chunks_tx_next(&tx, &again, &q, &len), 1);
	ck_assert_uint_eq(again.index, 1);
	ck_assert_ptr_eq(q, buf + SMALL);
	ck_assert_uint_eq(len, SMALL);
	ck_assert_uint_eq(cd_chunks_count(0, SMALL), 1);
	ck_assert_uint_eq(cd_chunks_count(SMALL + 1, SMALL), 2);
	ck_assert_uint_eq(cd_chunks_count(1ull << 60, SMALL), 0);
	ck_assert_str_eq(cd_chunks_result_to_str(CD_CHUNKS_COMPLETE), "complete");
	free(buf);
}
END_TEST

/* Text much like a state's JSON: domain XML, over and over, a little different each time. */
static char *xmlish(size_t len)
{
	char *t = malloc(len + 1);
	size_t n = 0;
	unsigned i = 0;

	ck_assert_ptr_nonnull(t);
	while (n < len) {
		char piece[160];
		int k = snprintf(piece, sizeof(piece),
				 "{\"name\":\"vm%u\",\"xml\":\"<domain type='kvm'><name>vm%u</name>"
				 "<memory unit='MiB'>%u</memory></domain>\"},",
				 i, i, 512 + i % 7);

		memcpy(t + n, piece, n + (size_t)k <= len ? (size_t)k : len - n);
		n += (size_t)k;
		i++;
	}
	t[len] = '\0';
	return t;
}

/* The chunks of tx, each through its wire form, into rx: the last result. */
static int send_wire(struct cd_chunks_tx *tx, struct cd_chunks_rx *rx, uint32_t *n, char *err,
		     size_t errlen)
{
	struct cd_chunk_hdr h, back;
	const void *p, *bytes;
	size_t len;
	int rc = CD_CHUNKS_MORE;

	*n = 0;
	while (cd_chunks_tx_next(tx, &h, &p, &len) == 1) {
		unsigned char *wire = malloc(CD_CHUNK_HDR_LEN + len);

		ck_assert_ptr_nonnull(wire);
		cd_chunk_hdr_encode(&h, wire);
		memcpy(wire + CD_CHUNK_HDR_LEN, p, len);
		ck_assert_int_eq(wire[4], h.zstd ? 2 : 1);
		ck_assert_int_eq(
			cd_chunk_decode(wire, CD_CHUNK_HDR_LEN + len, &back, &bytes, err, errlen),
			0);
		ck_assert(back.zstd == h.zstd);
		rc = cd_chunks_rx_add(rx, &back, bytes, back.len, err, errlen);
		free(wire);
		(*n)++;
	}
	return rc;
}

/* A packed snapshot goes as far fewer chunks and comes out as its text, checked by its hash. */
START_TEST(test_zstd_round_trip)
{
	const size_t len = 64 * SMALL;
	struct cd_chunk_id id = snap_id(9, 2);
	char *text = xmlish(len), sum[65], err[256] = "", *buf;
	struct cd_chunks_tx tx;
	struct cd_chunks_rx rx;
	uint32_t n;
	size_t got;

	ck_assert_int_eq(cd_chunks_tx_init_zstd(&tx, &id, text, len, SMALL, NULL), 0);
	cd_sha256_hex(text, len, sum);
	ck_assert_str_eq(tx.total_sha256, sum);
	ck_assert(tx.zstd);
	ck_assert_uint_lt(tx.len, len / 8);
	ck_assert_uint_lt(tx.count, 8);
	cd_chunks_rx_init(&rx, 0);
	cd_chunks_rx_expect(&rx, 9, 2, 2);
	ck_assert_int_eq(send_wire(&tx, &rx, &n, err, sizeof(err)), CD_CHUNKS_COMPLETE);
	ck_assert_uint_eq(n, tx.count);
	ck_assert_int_eq(cd_chunks_rx_take(&rx, &buf, &got), 0);
	ck_assert_uint_eq(got, len);
	ck_assert(memcmp(buf, text, len) == 0);
	ck_assert_int_eq(buf[len], '\0');
	free(buf);
	cd_chunks_tx_free(&tx);
	ck_assert_ptr_null(tx.packed);
	ck_assert_int_eq(
		cd_chunks_tx_next(&tx, &(struct cd_chunk_hdr){0}, &(const void *){0}, &got), 0);
	/* An empty text packs too. */
	ck_assert_int_eq(cd_chunks_tx_init_zstd(&tx, &id, NULL, 0, SMALL, NULL), 0);
	cd_chunks_rx_expect(&rx, 9, 3, 2);
	id.step = 3;
	tx.id = id;
	ck_assert_int_eq(send_wire(&tx, &rx, &n, err, sizeof(err)), CD_CHUNKS_COMPLETE);
	ck_assert_int_eq(cd_chunks_rx_take(&rx, &buf, &got), 0);
	ck_assert_uint_eq(got, 0);
	free(buf);
	cd_chunks_tx_free(&tx);
	cd_chunks_rx_free(&rx);
	free(text);
}
END_TEST

/*
 * A packed snapshot that is wrong once whole: no zstd frame, a text above
 * the cap, a text that is not the one its hash names. Each chunk matched
 * its own checksum; each time the assembly starts over, still awaited.
 */
START_TEST(test_zstd_wrong_whole)
{
	const size_t len = 16 * SMALL;
	const char other[] = "00000000000000000000000000000000000000000000000000000000000000ff";
	struct cd_chunk_id id = snap_id(4, 0);
	char *text = xmlish(len), err[256] = "";
	struct cd_chunks_tx tx;
	struct cd_chunks_rx rx;
	struct snap plain;
	uint32_t i, n;

	/* Plain random bytes said to be packed. */
	snap_make(&plain, 3 * SMALL, SMALL, 4, 0);
	cd_chunks_rx_init(&rx, 0);
	cd_chunks_rx_expect(&rx, 4, 0, 2);
	for (i = 0; i < plain.n; i++) {
		struct cd_chunk_hdr h = plain.c[i].h;

		h.zstd = true;
		ck_assert_int_eq(
			cd_chunks_rx_add(&rx, &h, plain.c[i].p, plain.c[i].len, err, sizeof(err)),
			i + 1 < plain.n ? CD_CHUNKS_MORE : CD_ERR_CORRUPT);
	}
	ck_assert_ptr_nonnull(strstr(err, "no zstd frame"));
	ck_assert_int_eq(rx.phase, CD_CHUNKS_RX_WAITING);
	ck_assert_ptr_null(rx.buf);
	/* Packed and plain chunks in one snapshot. */
	ck_assert_int_eq(add(&rx, &plain.c[0]), CD_CHUNKS_MORE);
	{
		struct cd_chunk_hdr h = plain.c[1].h;

		h.zstd = true;
		ck_assert_int_eq(
			cd_chunks_rx_add(&rx, &h, plain.c[1].p, plain.c[1].len, err, sizeof(err)),
			CD_ERR_PROTOCOL);
	}
	cd_chunks_rx_free(&rx);

	/* Small packed, too large unpacked. */
	ck_assert_int_eq(cd_chunks_tx_init_zstd(&tx, &id, text, len, SMALL, NULL), 0);
	cd_chunks_rx_init(&rx, len - 1);
	cd_chunks_rx_expect(&rx, 4, 0, 2);
	ck_assert_int_eq(send_wire(&tx, &rx, &n, err, sizeof(err)), -EMSGSIZE);
	ck_assert_ptr_nonnull(strstr(err, "unpacked"));
	ck_assert_int_eq(rx.phase, CD_CHUNKS_RX_WAITING);
	cd_chunks_tx_free(&tx);
	cd_chunks_rx_free(&rx);

	/* Unpacks, but to another text than its hash names. */
	ck_assert_int_eq(cd_chunks_tx_init_zstd(&tx, &id, text, len, SMALL, other), 0);
	ck_assert_str_eq(tx.total_sha256, other);
	cd_chunks_rx_init(&rx, 0);
	cd_chunks_rx_expect(&rx, 4, 0, 2);
	ck_assert_int_eq(send_wire(&tx, &rx, &n, err, sizeof(err)), CD_ERR_CORRUPT);
	ck_assert_ptr_nonnull(strstr(err, "do not match"));
	ck_assert_int_eq(rx.phase, CD_CHUNKS_RX_WAITING);
	cd_chunks_tx_free(&tx);
	cd_chunks_rx_free(&rx);
	snap_free(&plain);
	free(text);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("chunks");

	add_tcase(s, test_round_trip);
	add_tcase(s, test_shuffled_with_duplicates);
	add_tcase(s, test_missing);
	add_tcase(s, test_flipped_byte);
	add_tcase(s, test_inconsistent_headers);
	add_tcase(s, test_rounds);
	add_tcase(s, test_cap);
	add_tcase(s, test_whole_mismatch);
	add_tcase(s, test_wire_checks);
	add_tcase(s, test_tx);
	add_tcase(s, test_zstd_round_trip);
	add_tcase(s, test_zstd_wrong_whole);
	return run_suite(s);
}
