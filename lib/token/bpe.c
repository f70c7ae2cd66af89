/*
 * Byte-pair encoding, token for token the same as OpenAI's tiktoken for
 * cl100k_base and o200k_base.
 *
 * Text is first split into pieces by a pre-tokenizer: tiktoken uses a
 * regular expression (the pat_str of each encoding, quoted at
 * pieces_cl100k() and pieces_o200k()); here each is a hand-written scanner
 * that returns the same leftmost-first match.  Character classes come from
 * bpe_ucd.c (tools/gen-unicode.sh).  A piece that is a token is that token;
 * otherwise it starts as single bytes, and the adjacent pair whose
 * concatenation has the lowest rank is merged, leftmost first on equal
 * ranks, until no pair is a token.  Short pieces do that by scanning an
 * array (as tiktoken does); long ones keep the pairs in a heap, so one
 * megabyte of one letter costs O(n log n), not O(n^2).
 *
 * The rank table is a file built by rk_bpe_compile() and mapped read-only:
 * a header; the rank of every 1- and 2-byte string (NONE if it is not a
 * token), which the merges ask for most; an open addressing hash table of
 * nslots slots, each with the first 8 bytes of its token, so that most
 * lookups read one cache line; off[nranks + 1] (token r is
 * bytes[off[r]..off[r + 1])); the token bytes.  The build writes it in its
 * own byte order, and the header says which.
 */
#include <sys/mman.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "token/token.h"
#include "core/rk.h"

extern const uint16_t rk_bpe_ucd_stage1[4352];
extern const uint8_t rk_bpe_ucd_stage2[];

#define NONE		UINT32_MAX
#define SMALL_PIECE	128	/* longer pieces merge with a heap */

struct special {
	const char	*text;
	uint32_t	 id;
};

enum pattern { PAT_CL100K, PAT_O200K };

struct encoding {
	const char		*name;
	enum pattern		 pat;
	const struct special	*specials;
	size_t			 nspecials;
};

/* openai/tiktoken tiktoken_ext/openai_public.py */
static const struct special cl100k_specials[] = {
	{ "<|endoftext|>", 100257 },
	{ "<|fim_prefix|>", 100258 },
	{ "<|fim_middle|>", 100259 },
	{ "<|fim_suffix|>", 100260 },
	{ "<|endofprompt|>", 100276 },
};
static const struct special o200k_specials[] = {
	{ "<|endoftext|>", 199999 },
	{ "<|endofprompt|>", 200018 },
};
static const struct encoding encodings[] = {
	{ "cl100k_base", PAT_CL100K, cl100k_specials, 5 },
	{ "o200k_base", PAT_O200K, o200k_specials, 2 },
};
#define NENC (sizeof(encodings) / sizeof(encodings[0]))

/* tiktoken/model.py: exact names, then prefixes */
static const char *const model_names[][2] = {
	{ "o1", "o200k_base" }, { "o3", "o200k_base" },
	{ "o4-mini", "o200k_base" }, { "gpt-5", "o200k_base" },
	{ "gpt-4.1", "o200k_base" }, { "gpt-4o", "o200k_base" },
	{ "gpt-4", "cl100k_base" }, { "gpt-3.5-turbo", "cl100k_base" },
	{ "gpt-3.5", "cl100k_base" }, { "gpt-35-turbo", "cl100k_base" },
	{ "davinci-002", "cl100k_base" }, { "babbage-002", "cl100k_base" },
	{ "text-embedding-ada-002", "cl100k_base" },
	{ "text-embedding-3-small", "cl100k_base" },
	{ "text-embedding-3-large", "cl100k_base" },
};
static const char *const model_prefixes[][2] = {
	{ "o1-", "o200k_base" }, { "o3-", "o200k_base" },
	{ "o4-mini-", "o200k_base" }, { "gpt-5-", "o200k_base" },
	{ "gpt-4.1-", "o200k_base" },
	{ "chatgpt-4o-", "o200k_base" }, { "gpt-4o-", "o200k_base" },
	{ "gpt-4-", "cl100k_base" }, { "gpt-3.5-turbo-", "cl100k_base" },
	{ "gpt-35-turbo-", "cl100k_base" }, { "ft:gpt-4o", "o200k_base" },
	{ "ft:gpt-4", "cl100k_base" }, { "ft:gpt-3.5-turbo", "cl100k_base" },
	{ "ft:davinci-002", "cl100k_base" },
	{ "ft:babbage-002", "cl100k_base" },
};

#define MAGIC "RKBPE03\n"
#define NSHORT (65536 + 256)	/* 2-byte strings by p[0] << 8 | p[1], bytes */

struct header {
	char		magic[8];
	uint32_t	order;		/* 0x01020304 as the writer stored it */
	uint32_t	nranks;
	uint32_t	nslots;		/* a power of two */
	uint32_t	nbytes;
	uint32_t	maxlen;		/* longest token, at most 255 */
	uint32_t	unused;
};

struct slot {
	uint64_t	key;		/* first8() of the token */
	uint32_t	rank;		/* rank + 1; 0: empty */
	uint32_t	lentag;		/* length, and hash bits above it */
};

struct rk_bpe {
	const struct encoding	*enc;
	void			*map;
	size_t			 maplen;
	const uint32_t		*short_rank;	/* [65536 + 256] */
	const struct slot	*slot;
	const uint32_t		*off;
	const unsigned char	*bytes;
	uint32_t		 nranks, mask, maxlen;
	size_t			 small;	/* pieces up to this merge by scan */
};

static _Thread_local char errbuf[512];	/* each thread's last error */

static void
seterr(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(errbuf, sizeof(errbuf), fmt, ap);
	va_end(ap);
}

const char *
rk_bpe_error(void)
{
	return errbuf;
}

/* ---- hashing token bytes: the same functions build and read the table */

/* the first 8 bytes of p[0..n), zero-padded */
static inline uint64_t
first8(const unsigned char *p, size_t n)
{
	uint64_t w = 0;

	if (n >= 8) {
		memcpy(&w, p, 8);
		return w;
	}
	for (size_t i = 0; i < n; i++)
		w |= (uint64_t)p[i] << (8 * i);
	return w;
}

static inline uint64_t
hash_key(uint64_t k8, const unsigned char *p, size_t n)
{
	uint64_t h = (k8 ^ (n * 0x9e3779b97f4a7c15ull)) * 0xff51afd7ed558ccdull;
	size_t i;

	for (i = 8; i < n; i += 8) {
		uint64_t w = first8(p + i, n - i);

		h = (h ^ (h >> 32) ^ w) * 0xc4ceb9fe1a85ec53ull;
	}
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ull;
	return h ^ (h >> 29);
}

static inline uint32_t
lookup(const struct rk_bpe *b, const unsigned char *p, size_t n)
{
	const struct slot *s;
	uint64_t k8, h;
	uint32_t i, lt;

	if (n <= 2)
		return n == 2 ? b->short_rank[p[0] << 8 | p[1]] :
		    b->short_rank[65536 + p[0]];
	if (n > b->maxlen)
		return NONE;
	k8 = first8(p, n);
	h = hash_key(k8, p, n);
	lt = (uint32_t)n | (uint32_t)(h >> 40) << 8;
	for (i = (uint32_t)h & b->mask; (s = &b->slot[i])->rank != 0;
	    i = (i + 1) & b->mask)
		if (s->key == k8 && s->lentag == lt && (n <= 8 ||
		    memcmp(b->bytes + b->off[s->rank - 1] + 8, p + 8,
		    n - 8) == 0))
			return s->rank - 1;
	return NONE;
}

/* ---- characters */

enum { C_L = 1, C_N = 2, C_WS = 4, C_UP = 8, C_LO = 16 };

/* by UCD class: other, Lu, Ll, Lt, Lm, Lo, M, N, White_Space */
static const uint8_t class_flags[9] = {
	0, C_L | C_UP, C_L | C_LO, C_L | C_UP, C_L | C_UP | C_LO,
	C_L | C_UP | C_LO, C_UP | C_LO, C_N, C_WS,
};

struct ch {
	uint32_t	cp;
	unsigned	len;
	unsigned	fl;
};

/* the character at s[i], i < n, in valid UTF-8 */
static inline struct ch
char_at(const unsigned char *s, size_t i, size_t n)
{
	struct ch c;
	unsigned b = s[i];

	if (b < 0x80) {
		c.cp = b;
		c.len = 1;
	} else if (b < 0xe0 && i + 1 < n) {
		c.cp = (b & 0x1f) << 6 | (s[i + 1] & 0x3f);
		c.len = 2;
	} else if (b < 0xf0 && i + 2 < n) {
		c.cp = (b & 0x0f) << 12 | (s[i + 1] & 0x3f) << 6 |
		    (s[i + 2] & 0x3f);
		c.len = 3;
	} else if (i + 3 < n) {
		c.cp = (b & 0x07) << 18 | (s[i + 1] & 0x3f) << 12 |
		    (s[i + 2] & 0x3f) << 6 | (s[i + 3] & 0x3f);
		c.len = 4;
	} else {
		c.cp = 0xfffd;
		c.len = 1;
	}
	c.fl = c.cp > 0x10ffff ? 0 : class_flags[rk_bpe_ucd_stage2[
	    rk_bpe_ucd_stage1[c.cp >> 8] * 256u + (c.cp & 255)]];
	return c;
}

static inline size_t
prev_boundary(const unsigned char *s, size_t i)
{
	do
		i--;
	while (i > 0 && (s[i] & 0xc0) == 0x80);
	return i;
}


/* (?i:'s|'t|'re|'ve|'m|'ll|'d) at s[i]: its end, or i.  Under (?i) the
   regex crate's simple case folding also lets U+017F (long s) match s. */
static inline size_t
contraction(const unsigned char *s, size_t i, size_t n)
{
	unsigned a, b;

	if (i + 1 >= n || s[i] != '\'')
		return i;
	a = s[i + 1] | 0x20;
	if (a == 's' || a == 't' || a == 'm' || a == 'd')
		return i + 2;
	if (s[i + 1] == 0xc5 && i + 2 < n && s[i + 2] == 0xbf)
		return i + 3;
	if (i + 2 >= n)
		return i;
	b = s[i + 2] | 0x20;
	if ((a == 'l' && b == 'l') || (a == 'v' && b == 'e') ||
	    (a == 'r' && b == 'e'))
		return i + 3;
	return i;
}

/* up to max characters from i that have a flag of want */
static inline size_t
run_of_at_most(const unsigned char *s, size_t i, size_t n, unsigned want,
    size_t max)
{
	for (; i < n && max > 0; max--) {
		struct ch c = char_at(s, i, n);

		if (!(c.fl & want))
			break;
		i += c.len;
	}
	return i;
}

static inline size_t
run_of(const unsigned char *s, size_t i, size_t n, unsigned want)
{
	return run_of_at_most(s, i, n, want, SIZE_MAX);
}

/* characters that are none of \s \p{L} \p{N} */
static inline size_t
run_of_other(const unsigned char *s, size_t i, size_t n)
{
	while (i < n) {
		struct ch c = char_at(s, i, n);

		if (c.fl & (C_L | C_N | C_WS))
			break;
		i += c.len;
	}
	return i;
}

/*
 * Whitespace at s[i] (c): the last three or four alternatives.
 * cl100k: \s++$ | \s*[\r\n] | \s+(?!\S) | \s
 * o200k:  \s*[\r\n]+ | \s+(?!\S) | \s+
 */
static inline size_t
whitespace(const unsigned char *s, size_t i, size_t n, struct ch c,
    enum pattern pat)
{
	size_t j = i, last = i, nl = SIZE_MAX;
	unsigned nch = 0;

	while (j < n) {
		struct ch d = char_at(s, j, n);

		if (!(d.fl & C_WS))
			break;
		if (d.cp == '\r' || d.cp == '\n')
			nl = j;
		last = j;
		j += d.len;
		nch++;
	}
	if (pat == PAT_CL100K && j == n)
		return j;
	if (nl != SIZE_MAX)
		return nl + 1;
	if (j == n)
		return j;
	if (nch >= 2)
		return last;
	return i + c.len;
}

/*
 * ' ?[^\s\p{L}\p{N}]+' from i, where c is, and the line breaks (with
 * slash, and slashes) after it: 1 and its end in *e; 0 if c is white
 * space not followed by such a character
 */
static inline int
punctuation(const unsigned char *s, size_t i, size_t n, struct ch c,
    int slash, size_t *e)
{
	size_t k = i;

	if (c.cp == ' ' && i + 1 < n &&
	    !(char_at(s, i + 1, n).fl & (C_L | C_N | C_WS)))
		k = i + 1;
	if (k == i && (c.fl & C_WS))
		return 0;
	*e = run_of_other(s, k, n);
	while (*e < n && (s[*e] == '\r' || s[*e] == '\n' ||
	    (slash && s[*e] == '/')))
		(*e)++;
	return 1;
}

/*
 * cl100k_base, as tiktoken (openai_public.py) has it:
 * '(?i:[sdmt]|ll|ve|re) | [^\r\n\p{L}\p{N}]?+\p{L}++ | \p{N}{1,3}+ |
 *  ?[^\s\p{L}\p{N}]++[\r\n]*+ | \s++$ | \s*[\r\n] | \s+(?!\S) | \s
 */
static size_t
piece_cl100k(const unsigned char *s, size_t i, size_t n)
{
	struct ch c = char_at(s, i, n);
	size_t e;

	if ((e = contraction(s, i, n)) != i)
		return e;
	if (c.fl & C_L)
		return run_of(s, i + c.len, n, C_L);
	if (!(c.fl & C_N) && c.cp != '\r' && c.cp != '\n' &&
	    i + c.len < n && (char_at(s, i + c.len, n).fl & C_L))
		return run_of(s, i + c.len, n, C_L);
	if (c.fl & C_N)
		return run_of_at_most(s, i, n, C_N, 3);	/* \p{N}{1,3} */
	if (punctuation(s, i, n, c, 0, &e))
		return e;
	return whitespace(s, i, n, c, PAT_CL100K);
}

/* [\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+ from st, with
   the backtracking of the regex; 0 if it cannot match there */
static inline size_t
o200k_lower_word(const unsigned char *s, size_t st, size_t n)
{
	size_t u = run_of(s, st, n, C_UP), k = u;

	for (;;) {
		if (k < n) {
			struct ch c = char_at(s, k, n);

			if (c.fl & C_LO)
				return run_of(s, k + c.len, n, C_LO);
		}
		if (k == st)
			return 0;
		k = prev_boundary(s, k);
	}
}

/*
 * o200k_base:
 * [^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+
 *     (?i:'s|'t|'re|'ve|'m|'ll|'d)? |
 * [^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*
 *     (?i:'s|'t|'re|'ve|'m|'ll|'d)? |
 * \p{N}{1,3} |  ?[^\s\p{L}\p{N}]+[\r\n/]* | \s*[\r\n]+ | \s+(?!\S) | \s+
 */
static size_t
piece_o200k(const unsigned char *s, size_t i, size_t n)
{
	struct ch c = char_at(s, i, n);
	int prefix = !(c.fl & (C_L | C_N)) && c.cp != '\r' && c.cp != '\n';
	size_t e, u;

	if (prefix && (e = o200k_lower_word(s, i + c.len, n)) != 0)
		return contraction(s, e, n);
	if ((c.fl & (C_UP | C_LO)) &&
	    (e = o200k_lower_word(s, i, n)) != 0)
		return contraction(s, e, n);
	if (prefix && (u = run_of(s, i + c.len, n, C_UP)) > i + c.len)
		return contraction(s, run_of(s, u, n, C_LO), n);
	if (c.fl & C_UP)
		return contraction(s, run_of(s, run_of(s, i, n, C_UP), n,
		    C_LO), n);
	if (c.fl & C_N)
		return run_of_at_most(s, i, n, C_N, 3);	/* \p{N}{1,3} */
	if (punctuation(s, i, n, c, 1, &e))
		return e;
	return whitespace(s, i, n, c, PAT_O200K);
}

/* ---- merging */

struct sink {
	struct rk_bpe_ids	*ids;	/* NULL: only count */
	size_t			 count;
	size_t			 last;	/* tokens of the last piece */
	int			 failed;	/* a piece too long to merge */
};

static void
push(struct sink *k, uint32_t id)
{
	struct rk_bpe_ids *v = k->ids;

	k->count++;
	if (v == NULL)
		return;
	if (v->n == v->cap) {
		v->cap = v->cap ? v->cap * 2 : 256;
		v->v = rk_xrealloc(v->v, v->cap * sizeof(*v->v));
	}
	v->v[v->n++] = id;
}

/* the tiktoken loop: scan for the lowest pair, merge it, repeat */
static void
merge_small(const struct rk_bpe *b, const unsigned char *p, size_t n,
    struct sink *k)
{
	uint32_t pos[SMALL_PIECE + 1], rk[SMALL_PIECE];
	size_t m = n, i, best;
	uint32_t min;

	for (i = 0; i <= n; i++)
		pos[i] = i;
	for (i = 0; i + 1 < m; i++)
		rk[i] = lookup(b, p + i, 2);
	while (m > 1) {
		min = NONE;
		best = 0;
		for (i = 0; i + 1 < m; i++)
			if (rk[i] < min) {
				min = rk[i];
				best = i;
			}
		if (min == NONE)
			break;
		/* parts best and best + 1 become one */
		memmove(pos + best + 1, pos + best + 2,
		    (m - best - 1) * sizeof(*pos));
		if (best + 3 <= m)
			memmove(rk + best + 1, rk + best + 2,
			    (m - best - 3) * sizeof(*rk));
		m--;
		rk[best] = best + 1 < m ? lookup(b, p + pos[best],
		    pos[best + 2] - pos[best]) : NONE;
		if (best > 0)
			rk[best - 1] = lookup(b, p + pos[best - 1],
			    pos[best + 1] - pos[best - 1]);
	}
	k->last = m;
	if (k->ids == NULL) {
		k->count += m;
		return;
	}
	for (i = 0; i < m; i++)
		push(k, lookup(b, p + pos[i], pos[i + 1] - pos[i]));
}

/*
 * The same merges for long pieces.  Parts are a linked list of start
 * offsets; each part's pair with its successor has a rank, and the parts
 * with a mergeable pair sit in a binary heap ordered by (rank, offset), so
 * the top is always the pair tiktoken would pick.
 */
struct heap {
	uint32_t	*nxt, *prv, *rank, *where, *h;
	size_t		 len;
};

static inline int
before(const struct heap *q, uint32_t a, uint32_t b)
{
	uint64_t ka = (uint64_t)q->rank[a] << 32 | a;
	uint64_t kb = (uint64_t)q->rank[b] << 32 | b;

	return ka < kb;
}

static void
sift(struct heap *q, size_t i)
{
	uint32_t x = q->h[i];

	while (i > 0 && before(q, x, q->h[(i - 1) / 2])) {
		q->h[i] = q->h[(i - 1) / 2];
		q->where[q->h[i]] = i;
		i = (i - 1) / 2;
	}
	for (;;) {
		size_t c = 2 * i + 1;

		if (c >= q->len)
			break;
		if (c + 1 < q->len && before(q, q->h[c + 1], q->h[c]))
			c++;
		if (!before(q, q->h[c], x))
			break;
		q->h[i] = q->h[c];
		q->where[q->h[i]] = i;
		i = c;
	}
	q->h[i] = x;
	q->where[x] = i;
}

/* part a's pair changed to rank r: insert, move or remove it */
static void
update(struct heap *q, uint32_t a, uint32_t r)
{
	size_t i = q->where[a];

	q->rank[a] = r;
	if (i == NONE) {
		if (r == NONE)
			return;
		q->h[q->len] = a;
		sift(q, q->len++);
		return;
	}
	if (r == NONE) {
		uint32_t last = q->h[--q->len];

		q->where[a] = NONE;
		if (i < q->len) {
			q->h[i] = last;
			q->where[last] = i;
			sift(q, i);
		}
		return;
	}
	sift(q, i);
}

static void
merge_heap(const struct rk_bpe *b, const unsigned char *p, size_t n,
    struct sink *k)
{
	struct heap q;
	uint32_t *mem, a, c, nn;
	size_t i, m = n;

	if (n >= NONE) {	/* offsets are 32 bits */
		seterr("a piece of %zu bytes is over 4G", n);
		k->failed = 1;
		return;
	}
	mem = rk_xmalloc(5 * (n + 1) * sizeof(*mem));
	q.nxt = mem;
	q.prv = mem + (n + 1);
	q.rank = mem + 2 * (n + 1);
	q.where = mem + 3 * (n + 1);
	q.h = mem + 4 * (n + 1);
	q.len = 0;
	for (i = 0; i < n; i++) {
		q.nxt[i] = i + 1;
		q.prv[i] = i - 1;
		q.where[i] = NONE;
		q.rank[i] = NONE;
	}
	for (i = 0; i + 1 < n; i++)
		update(&q, i, lookup(b, p + i, 2));
	while (q.len > 0) {
		a = q.h[0];
		c = q.nxt[a];		/* absorbed into a */
		nn = q.nxt[c];
		update(&q, c, NONE);
		q.nxt[a] = nn;
		if (nn < n)
			q.prv[nn] = a;
		m--;
		update(&q, a, nn < n ? lookup(b, p + a,
		    (nn < n ? q.nxt[nn] : n) - a) : NONE);
		if (a > 0) {
			uint32_t pa = q.prv[a];

			update(&q, pa, lookup(b, p + pa, nn - pa));
		}
	}
	k->last = m;
	if (k->ids == NULL)
		k->count += m;
	else
		for (a = 0; a < n; a = q.nxt[a])
			push(k, lookup(b, p + a, q.nxt[a] - a));
	free(mem);
}

static void
bpe_piece(const struct rk_bpe *b, const unsigned char *p, size_t n,
    struct sink *k)
{
	uint32_t r;

	if ((r = lookup(b, p, n)) != NONE) {
		k->last = 1;
		push(k, r);
	} else if (n <= b->small)
		merge_small(b, p, n, k);
	else
		merge_heap(b, p, n, k);
}

/* ordinary text, valid UTF-8 */
static void
encode_ordinary(const struct rk_bpe *b, const unsigned char *s, size_t n,
    struct sink *k)
{
	size_t i = 0, e;

	while (i < n) {
		e = b->enc->pat == PAT_CL100K ? piece_cl100k(s, i, n) :
		    piece_o200k(s, i, n);
		bpe_piece(b, s + i, e - i, k);
		i = e;
	}
}

/* the first special token in s[0..n), if any */
static const struct special *
find_special(const struct rk_bpe *b, const unsigned char *s, size_t n,
    size_t *at)
{
	const unsigned char *p = s, *end = s + n;

	while ((p = memchr(p, '<', end - p)) != NULL) {
		for (size_t j = 0; j < b->enc->nspecials; j++) {
			const struct special *sp = &b->enc->specials[j];
			size_t len = strlen(sp->text);

			if ((size_t)(end - p) >= len &&
			    memcmp(p, sp->text, len) == 0) {
				*at = p - s;
				return sp;
			}
		}
		p++;
	}
	return NULL;
}

static void
encode_valid(const struct rk_bpe *b, const unsigned char *s, size_t n,
    int flags, struct sink *k)
{
	const struct special *sp;
	size_t at;

	k->last = 0;
	if (!(flags & RK_BPE_SPECIAL)) {
		encode_ordinary(b, s, n, k);
		return;
	}
	while ((sp = find_special(b, s, n, &at)) != NULL) {
		encode_ordinary(b, s, at, k);
		push(k, sp->id);
		k->last = 0;
		s += at + strlen(sp->text);
		n -= at + strlen(sp->text);
	}
	encode_ordinary(b, s, n, k);
}

static int
all_space(const struct rk_bpe *b, uint32_t id)
{
	size_t len, i;
	const char *t = rk_bpe_token(b, id, &len);

	if (t == NULL || id >= b->nranks)
		return 0;
	for (i = 0; i < len; i++)
		if (t[i] != ' ' && t[i] != '\n' && t[i] != '\t')
			return 0;
	return 1;
}

/*
 * Not UTF-8: tiktoken's _encode_bytes().  Encode the valid prefix, take
 * back the tokens of its last piece (and all-whitespace tokens before
 * them), and run the byte merge over their bytes and all the rest.
 */
static void
encode_bytes(const struct rk_bpe *b, const unsigned char *s, size_t n,
    size_t valid, int flags, struct sink *k)
{
	struct rk_bpe_ids own = { 0 }, *ids = k->ids ? k->ids : &own;
	struct sink sub = { ids, 0, 0, 0 };
	size_t start = ids->n, lp, i, len = 0, tail = 0;
	unsigned char *buf;

	encode_valid(b, s, valid, flags, &sub);
	lp = sub.last;
	if (lp > 0 && all_space(b, ids->v[ids->n - lp]))
		while (lp < ids->n - start && all_space(b,
		    ids->v[ids->n - lp - 1]))
			lp++;
	for (i = ids->n - lp; i < ids->n; i++) {
		rk_bpe_token(b, ids->v[i], &len);
		tail += len;
	}
	buf = rk_xmalloc(tail + n - valid);
	tail = 0;
	for (i = ids->n - lp; i < ids->n; i++) {
		const char *t = rk_bpe_token(b, ids->v[i], &len);

		memcpy(buf + tail, t, len);
		tail += len;
	}
	memcpy(buf + tail, s + valid, n - valid);
	ids->n -= lp;
	sub.count -= lp;
	bpe_piece(b, buf, tail + n - valid, &sub);
	free(buf);
	k->count += sub.count;
	k->failed |= sub.failed;
	free(own.v);
}

size_t
rk_bpe_encode(const struct rk_bpe *b, const char *text, size_t len,
    int flags, struct rk_bpe_ids *ids)
{
	const unsigned char *s = (const unsigned char *)text;
	struct sink k = { ids, 0, 0, 0 };
	size_t valid = rk_utf8_prefix(text, len);

	if (valid == len)
		encode_valid(b, s, len, flags, &k);
	else
		encode_bytes(b, s, len, valid, flags, &k);
	return k.failed ? RK_BPE_FAILED : k.count;
}

size_t
rk_bpe_count(const struct rk_bpe *b, const char *text, size_t len,
    int flags)
{
	return rk_bpe_encode(b, text, len, flags, NULL);
}

const char *
rk_bpe_token(const struct rk_bpe *b, uint32_t id, size_t *len)
{
	if (id < b->nranks) {
		*len = b->off[id + 1] - b->off[id];
		return (const char *)b->bytes + b->off[id];
	}
	for (size_t j = 0; j < b->enc->nspecials; j++)
		if (b->enc->specials[j].id == id) {
			*len = strlen(b->enc->specials[j].text);
			return b->enc->specials[j].text;
		}
	return NULL;
}

char *
rk_bpe_decode(const struct rk_bpe *b, const uint32_t *ids, size_t n,
    size_t *len)
{
	size_t i, total = 0, l;
	char *out;

	for (i = 0; i < n; i++) {
		if (rk_bpe_token(b, ids[i], &l) == NULL) {
			seterr("%u: not a token id of %s", ids[i],
			    b->enc->name);
			return NULL;
		}
		total += l;
	}
	out = rk_xmalloc(total + 1);
	for (i = 0, total = 0; i < n; i++) {
		const char *t = rk_bpe_token(b, ids[i], &l);

		memcpy(out + total, t, l);
		total += l;
	}
	out[total] = '\0';
	*len = total;
	return out;
}

/* ---- opening */

const char *
rk_bpe_encoding_for(const char *name)
{
	size_t i;

	for (i = 0; i < NENC; i++)
		if (strcmp(name, encodings[i].name) == 0)
			return encodings[i].name;
	for (i = 0; i < sizeof(model_names) / sizeof(model_names[0]); i++)
		if (strcmp(name, model_names[i][0]) == 0)
			return model_names[i][1];
	for (i = 0; i < sizeof(model_prefixes) / sizeof(model_prefixes[0]);
	    i++)
		if (strncmp(name, model_prefixes[i][0],
		    strlen(model_prefixes[i][0])) == 0)
			return model_prefixes[i][1];
	return NULL;
}

const char *
rk_bpe_name(const struct rk_bpe *b)
{
	return b->enc->name;
}

static char *
table_path(const char *enc)
{
	const char *dir = rk_getenv("RK_TOKENIZER_DIR");
	char *exe, *path;

	if (dir != NULL) {
		rk_asprintf(&path, "%s/%s.bpe", dir, enc);
		return path;
	}
	if ((exe = rk_exe_dir()) == NULL)
		exe = rk_xstrdup(".");
	rk_asprintf(&path, "%s/../share/reasonkit/tokenizer/%s.bpe", exe,
	    enc);
	free(exe);
	return path;
}

struct rk_bpe *
rk_bpe_open(const char *name)
{
	const char *encname = rk_bpe_encoding_for(name);
	const struct header *h;
	struct rk_bpe *b;
	struct stat st;
	char *path;
	size_t i, want;
	int fd;

	if (encname == NULL) {
		seterr("%s: unknown encoding or model (known encodings: "
		    "cl100k_base, o200k_base)", name);
		errno = ENOENT;
		return NULL;
	}
	b = rk_xmalloc(sizeof(*b));
	memset(b, 0, sizeof(*b));
	for (i = 0; i < NENC; i++)
		if (strcmp(encname, encodings[i].name) == 0)
			b->enc = &encodings[i];
	path = table_path(encname);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1 ||
	    fstat(fd, &st) == -1) {
		seterr("%s: %s", path, strerror(errno));
		goto fail;
	}
	b->maplen = st.st_size;
	if (b->maplen < sizeof(*h)) {
		seterr("%s: not a token table", path);
		goto fail;
	}
	b->map = mmap(NULL, b->maplen, PROT_READ, MAP_PRIVATE, fd, 0);
	if (b->map == MAP_FAILED) {
		seterr("%s: %s", path, strerror(errno));
		b->map = NULL;
		goto fail;
	}
	close(fd);
	fd = -1;
	h = b->map;
	want = sizeof(*h) + 4 * NSHORT +
	    sizeof(struct slot) * (size_t)h->nslots +
	    4 * ((size_t)h->nranks + 1) + h->nbytes;
	if (memcmp(h->magic, MAGIC, 8) != 0 || h->order != 0x01020304 ||
	    h->nslots == 0 || (h->nslots & (h->nslots - 1)) != 0 ||
	    h->nranks >= h->nslots || h->maxlen > 255 || b->maplen != want) {
		seterr("%s: not a token table of this build", path);
		goto fail;
	}
	b->nranks = h->nranks;
	b->mask = h->nslots - 1;
	b->maxlen = h->maxlen;
	b->short_rank = (const uint32_t *)(h + 1);
	b->slot = (const struct slot *)(b->short_rank + NSHORT);
	b->off = (const uint32_t *)(b->slot + h->nslots);
	b->bytes = (const unsigned char *)(b->off + h->nranks + 1);
	if (b->off[b->nranks] != h->nbytes) {
		seterr("%s: not a token table of this build", path);
		goto fail;
	}
	b->small = SMALL_PIECE;
	if (rk_getenv("RK_BPE_HEAP") != NULL)	/* tests: always the heap */
		b->small = 1;
	free(path);
	return b;
fail:
	if (fd != -1)
		close(fd);
	free(path);
	rk_bpe_close(b);
	errno = EINVAL;
	return NULL;
}

void
rk_bpe_close(struct rk_bpe *b)
{
	if (b == NULL)
		return;
	if (b->map != NULL)
		munmap(b->map, b->maplen);
	free(b);
}

const struct rk_bpe *
rk_bpe_get(const char *name)
{
	static struct rk_bpe *opened[NENC];
	const char *enc = rk_bpe_encoding_for(name);
	size_t i;

	for (i = 0; enc != NULL && i < NENC; i++)
		if (strcmp(enc, encodings[i].name) == 0) {
			if (opened[i] == NULL)
				opened[i] = rk_bpe_open(enc);
			return opened[i];
		}
	return rk_bpe_open(name);	/* sets the error */
}

/* ---- building the table */

static int
b64val(int c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

/* decode base64 s[0..n) into out; returns the length or -1 */
static long
b64decode(const char *s, size_t n, unsigned char *out)
{
	unsigned acc = 0, bits = 0;
	long len = 0;
	size_t i;

	for (i = 0; i < n && s[i] != '='; i++) {
		int v = b64val((unsigned char)s[i]);

		if (v < 0)
			return -1;
		acc = acc << 6 | v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[len++] = acc >> bits & 0xff;
		}
	}
	return len;
}

int
rk_bpe_compile(const char *in, const char *out)
{
	struct header h;
	FILE *fp = NULL, *op = NULL;
	char *line = NULL, *sp, *tmp = NULL;
	size_t cap = 0, bcap = 1 << 20, ocap = 1 << 16, i;
	uint32_t *off = NULL, short_rank[NSHORT];
	struct slot *slot = NULL;
	unsigned char *bytes = NULL;
	ssize_t len;
	int rc = -1;

	memset(&h, 0, sizeof(h));
	memcpy(h.magic, MAGIC, 8);
	h.order = 0x01020304;
	if ((fp = fopen(in, "r")) == NULL) {
		seterr("%s: %s", in, strerror(errno));
		goto done;
	}
	bytes = rk_xmalloc(bcap);
	off = rk_xmalloc(ocap * sizeof(*off));
	off[0] = 0;
	while ((len = getline(&line, &cap, fp)) != -1) {
		long r, n;
		char *end;

		line[strcspn(line, "\r\n")] = '\0';
		if ((sp = strchr(line, ' ')) == NULL) {
			seterr("%s:%u: no rank", in, h.nranks + 1);
			goto done;
		}
		errno = 0;
		r = strtol(sp + 1, &end, 10);
		if (errno || r != (long)h.nranks || *end != '\0') {
			seterr("%s:%u: rank %s is not %u: ranks must be 0, 1, "
			    "2, ...", in, h.nranks + 1, sp + 1, h.nranks);
			goto done;
		}
		if (h.nbytes + (size_t)(sp - line) > bcap) {
			bcap *= 2;
			bytes = rk_xrealloc(bytes, bcap);
		}
		if ((n = b64decode(line, sp - line, bytes + h.nbytes)) <= 0) {
			seterr("%s:%u: bad base64", in, h.nranks + 1);
			goto done;
		}
		h.nbytes += n;
		if (n > (long)h.maxlen)
			h.maxlen = n;
		if (h.nranks + 2 > ocap) {
			ocap *= 2;
			off = rk_xrealloc(off, ocap * sizeof(*off));
		}
		off[++h.nranks] = h.nbytes;
	}
	if (ferror(fp) || h.nranks == 0) {
		seterr("%s: %s", in, ferror(fp) ? strerror(errno) : "empty");
		goto done;
	}
	if (h.maxlen > 255) {
		seterr("%s: a token of %u bytes, over 255", in, h.maxlen);
		goto done;
	}
	/* a load under 1/2 keeps probes short */
	for (h.nslots = 1; h.nslots < 2 * h.nranks; h.nslots *= 2)
		;
	slot = calloc(h.nslots, sizeof(*slot));
	for (i = 0; i < NSHORT; i++)
		short_rank[i] = NONE;
	if (slot == NULL) {
		seterr("%s: %s", out, strerror(errno));
		goto done;
	}
	for (uint32_t r = 0; r < h.nranks; r++) {
		const unsigned char *t = bytes + off[r];
		uint32_t n = off[r + 1] - off[r];
		uint64_t k8 = first8(t, n), hv = hash_key(k8, t, n);
		uint32_t lt = n | (uint32_t)(hv >> 40) << 8;

		for (i = (uint32_t)hv & (h.nslots - 1); slot[i].rank != 0;
		    i = (i + 1) & (h.nslots - 1)) {
			uint32_t o = slot[i].rank - 1;

			if (off[o + 1] - off[o] == n &&
			    memcmp(bytes + off[o], t, n) == 0) {
				seterr("%s:%u: token of rank %u again", in,
				    r + 1, o);
				goto done;
			}
		}
		if (n <= 2)
			short_rank[n == 2 ? t[0] << 8 | t[1] :
			    65536 + t[0]] = r;
		slot[i].key = k8;
		slot[i].rank = r + 1;
		slot[i].lentag = lt;
	}
	rk_asprintf(&tmp, "%s.tmp", out);
	if ((op = fopen(tmp, "w")) == NULL ||
	    fwrite(&h, sizeof(h), 1, op) != 1 ||
	    fwrite(short_rank, sizeof(*short_rank), NSHORT, op) != NSHORT ||
	    fwrite(slot, sizeof(*slot), h.nslots, op) != h.nslots ||
	    fwrite(off, sizeof(*off), h.nranks + 1, op) != h.nranks + 1 ||
	    fwrite(bytes, 1, h.nbytes, op) != h.nbytes ||
	    fclose(op) == EOF) {
		seterr("%s: %s", tmp, strerror(errno));
		op = NULL;
		goto done;
	}
	op = NULL;
	if (rename(tmp, out) == -1) {
		seterr("%s: %s", out, strerror(errno));
		goto done;
	}
	rc = 0;
done:
	if (op != NULL)
		fclose(op);
	if (rc == -1 && tmp != NULL)
		unlink(tmp);
	if (fp != NULL)
		fclose(fp);
	free(tmp);
	free(line);
	free(bytes);
	free(off);
	free(slot);
	return rc;
}
