/*
 * The BPE encoder, with the tables of the build ($RK_TOKENIZER_DIR):
 * decode(encode(x)) == x for any bytes, the count is the number of ids,
 * and on a text that is one piece for both pre-tokenizers (lower-case
 * letters, so no split), the ids are those of a slow reference merge
 * written here from tiktoken's definition: the piece itself if it is a
 * token, else bytes merged pair by pair, lowest rank first, leftmost on
 * ties.  The first byte picks the encoding and the flags.
 */
#include <stdlib.h>
#include <string.h>

#include "core/rk.h"
#include "token/token.h"
#include "fuzz.h"

#define SLOTS	(1u << 20)

struct ranks {
	struct rk_bpe	*bpe;
	uint32_t	*slot;		/* rank + 1, 0 empty */
};

static struct ranks enc[2];

static uint32_t
hash(const unsigned char *p, size_t n)
{
	uint32_t h = 2166136261u;

	while (n-- > 0)
		h = (h ^ *p++) * 16777619u;
	return h;
}

/* the rank of bytes p[0..n), or UINT32_MAX */
static uint32_t
rank_of(const struct ranks *r, const unsigned char *p, size_t n)
{
	for (uint32_t i = hash(p, n) & (SLOTS - 1);; i = (i + 1) & (SLOTS -
	    1)) {
		const char *t;
		size_t tn;

		if (r->slot[i] == 0)
			return UINT32_MAX;
		t = rk_bpe_token(r->bpe, r->slot[i] - 1, &tn);
		if (tn == n && memcmp(t, p, n) == 0)
			return r->slot[i] - 1;
	}
}

/* every ordinary token, ids 0 up to the first gap */
static void
load(struct ranks *r, const char *name)
{
	const char *t;
	size_t n;

	r->bpe = rk_bpe_open(name);
	FUZZ_CHECK(r->bpe != NULL, "%s (set RK_TOKENIZER_DIR)",
	    rk_bpe_error());
	r->slot = calloc(SLOTS, sizeof(*r->slot));
	FUZZ_CHECK(r->slot != NULL, "out of memory");
	for (uint32_t id = 0; (t = rk_bpe_token(r->bpe, id, &n)) != NULL;
	    id++) {
		uint32_t i = hash((const unsigned char *)t, n) & (SLOTS - 1);

		while (r->slot[i] != 0)
			i = (i + 1) & (SLOTS - 1);
		r->slot[i] = id + 1;
	}
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	rk_init("fuzz-bpe", NULL);
	load(&enc[0], "cl100k_base");
	load(&enc[1], "o200k_base");
	return 0;
}

/* tiktoken's byte_pair_merge over p[0..n), the ids appended to out */
static size_t
reference(const struct ranks *r, const unsigned char *p, size_t n,
    uint32_t *out)
{
	size_t *start = rk_xmalloc((n + 1) * sizeof(*start)), parts = n, k;
	uint32_t whole = rank_of(r, p, n);

	if (whole != UINT32_MAX) {
		free(start);
		out[0] = whole;
		return 1;
	}
	for (k = 0; k <= n; k++)
		start[k] = k;
	for (;;) {
		uint32_t best = UINT32_MAX, rk;
		size_t at = 0;

		for (k = 0; k + 1 < parts; k++) {
			rk = rank_of(r, p + start[k], start[k + 2] - start[k]);
			if (rk < best)
				best = rk, at = k;
		}
		if (best == UINT32_MAX)
			break;
		memmove(start + at + 1, start + at + 2, (parts - at - 1) *
		    sizeof(*start));
		parts--;
	}
	for (k = 0; k < parts; k++)
		out[k] = rank_of(r, p + start[k], start[k + 1] - start[k]);
	free(start);
	return parts;
}

/* the input as lower-case letters: a, b, ... and é, ß, 中, の */
static size_t
letters(const uint8_t *data, size_t size, unsigned char *out)
{
	static const char *extra[] = { "\xc3\xa9", "\xc3\x9f", "\xe4\xb8\xad",
	    "\xe3\x81\xae" };
	size_t n = 0;

	for (size_t i = 0; i < size; i++) {
		unsigned v = data[i] % 30;

		if (v < 26)
			out[n++] = 'a' + v;
		else {
			memcpy(out + n, extra[v - 26], strlen(extra[v - 26]));
			n += strlen(extra[v - 26]);
		}
	}
	return n;
}

static void
round_trip(const struct ranks *r, const uint8_t *data, size_t size,
    int flags)
{
	struct rk_bpe_ids ids = { 0 };
	size_t n = rk_bpe_encode(r->bpe, (const char *)data, size, flags,
	    &ids), len;
	char *back;

	FUZZ_CHECK(n == ids.n, "encode said %zu of %zu", n, ids.n);
	FUZZ_CHECK(rk_bpe_count(r->bpe, (const char *)data, size, flags) ==
	    n, "count differs from encode");
	back = rk_bpe_decode(r->bpe, ids.v, ids.n, &len);
	FUZZ_CHECK(back != NULL && len == size && memcmp(back, data,
	    size) == 0, "decode(encode(x)) != x");
	free(back);
	free(ids.v);
}

static void
same_as_reference(const struct ranks *r, const uint8_t *data, size_t size)
{
	unsigned char *text = rk_xmalloc(3 * size + 1);
	size_t n = letters(data, size, text), m;
	uint32_t *want = rk_xmalloc((n + 1) * sizeof(*want));
	struct rk_bpe_ids ids = { 0 };

	if (n > 0) {
		m = reference(r, text, n, want);
		rk_bpe_encode(r->bpe, (const char *)text, n, 0, &ids);
		FUZZ_CHECK(ids.n == m && memcmp(ids.v, want, m *
		    sizeof(*want)) == 0, "%s: not the reference's %zu ids "
		    "for %.*s", rk_bpe_name(r->bpe), m, (int)n, text);
	}
	free(ids.v);
	free(want);
	free(text);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct ranks *r;

	if (size < 1)
		return 0;
	r = &enc[data[0] & 1];
	round_trip(r, data + 1, size - 1, data[0] & 2 ? RK_BPE_SPECIAL : 0);
	/* the reference is cubic: short texts, past SMALL_PIECE still */
	if (data[0] & 4 && size <= 400)
		same_as_reference(r, data + 1, size - 1);
	return 0;
}
