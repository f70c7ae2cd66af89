/*
 * Validating JSON text in one pass, without building it: accepts exactly
 * what json_loadb(..., JSON_REJECT_DUPLICATES) accepts (RFC 8259 syntax,
 * an object or array at the top, strict UTF-8, no raw control character,
 * no \u0000, no lone surrogate, integers that fit in a long long, reals
 * that do not overflow, at most 2048 levels of values, no key twice in an
 * object).  On the way it notes where the values near the top begin and
 * end, so that the light record path (light.c) takes a line apart
 * without reading it a second time.
 *
 * No recursion, and every byte is looked at a bounded number of times.
 * Runs of plain string bytes are skipped 16 at a time with SSE2, which
 * every x86-64 has, 8 at a time elsewhere.  A key is compared only with
 * the keys of its object that share its fingerprint's bit in a 64-bit
 * set; once its object has SCAN_KEYS keys they go in a hash table with a
 * random seed, keyed by their depth, and leave it when their object
 * closes.  Records have small objects, kept in arrays on the stack.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "core/rk.h"

#define MAX_DEPTH	2048	/* jansson's JSON_PARSER_MAX_DEPTH */
#define SCAN_KEYS	16	/* keys of an object before it is hashed */
#define STACK_DEPTH	32	/* levels held without allocating */
#define STACK_KEYS	64	/* keys of the open objects, likewise */
#define NO_SPAN		SIZE_MAX

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define LITTLE_ENDIAN_WORDS 1
#endif

struct key {
	size_t		 off, len;	/* in the text or the decoded keys */
	int		 decoded;
	size_t		 depth;		/* of its object */
	uint64_t	 fp;		/* its fingerprint, unseeded */
	uint64_t	 hash;		/* seeded, if its object is hashed */
	size_t		 slot;		/* in the table, likewise */
};

struct object {
	size_t		 base;		/* its first key */
	size_t		 declen;	/* the decoded keys when it opened */
	size_t		 span;		/* its own span, or NO_SPAN */
	uint64_t	 seen;		/* a bit per key fingerprint */
	char		 open;		/* '{' or '[' */
	int		 hashed;
};

struct jv {
	const char	*s;
	size_t		 len, i;
	struct key	*keys;		/* of the objects open, in order */
	size_t		 nkeys, capkeys;
	size_t		*tab;		/* 1 + index in keys, 0 for empty */
	size_t		 cap, ntab;
	char		*dec;		/* keys with escapes, decoded */
	size_t		 declen, deccap;
	uint64_t	 seed;
	struct object	*obj;		/* the values open */
	size_t		 capobj;
	struct rk_jspans *sp;		/* the spans noted, or NULL */
	int		 haskey;	/* the next value is a member's: */
	size_t		 kstart, klen;	/* its key */
	struct key	*stack_keys;	/* where keys and obj start */
	struct object	*stack_obj;
};

static int
is_ws(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static void
skip_more_ws(struct jv *v)
{
	while (v->i < v->len && is_ws(v->s[v->i]))
		v->i++;
}

/* Records have no white space: one test for that, inline. */
#define skip_ws(v) do {							\
	if ((v)->i < (v)->len && (unsigned char)(v)->s[(v)->i] <= ' ')	\
		skip_more_ws(v);					\
} while (0)

static int
hex4(const char *s, unsigned *cp)
{
	*cp = 0;
	for (int k = 0; k < 4; k++) {
		unsigned c = (unsigned char)s[k], d;

		if (c >= '0' && c <= '9')
			d = c - '0';
		else if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f')
			d = (c | 0x20) - 'a' + 10;
		else
			return -1;
		*cp = *cp << 4 | d;
	}
	return 0;
}

static void
put_bytes(struct jv *v, const char *p, size_t n)
{
	if (n == 0)
		return;
	if (v->declen + n > v->deccap) {
		v->deccap = v->deccap ? v->deccap * 2 + n : 256 + n;
		v->dec = rk_xrealloc(v->dec, v->deccap);
	}
	memcpy(v->dec + v->declen, p, n);
	v->declen += n;
}

/* Code point cp as UTF-8 in b; its length. */
static size_t
utf8_encode(unsigned cp, char b[4])
{
	if (cp < 0x80) {
		b[0] = cp;
		return 1;
	}
	if (cp < 0x800) {
		b[0] = 0xc0 | cp >> 6, b[1] = 0x80 | (cp & 0x3f);
		return 2;
	}
	if (cp < 0x10000) {
		b[0] = 0xe0 | cp >> 12, b[1] = 0x80 | (cp >> 6 & 0x3f),
		    b[2] = 0x80 | (cp & 0x3f);
		return 3;
	}
	b[0] = 0xf0 | cp >> 18, b[1] = 0x80 | (cp >> 12 & 0x3f),
	    b[2] = 0x80 | (cp >> 6 & 0x3f), b[3] = 0x80 | (cp & 0x3f);
	return 4;
}

/* Append code point cp as UTF-8 to the decoded keys. */
static void
put_utf8(struct jv *v, unsigned cp)
{
	char b[4];

	put_bytes(v, b, utf8_encode(cp, b));
}

/*
 * The escape whose backslash is s[0], of n bytes at most: its length, 0
 * if it is not a valid one, and its character in *cp.
 */
static size_t
unescape(const char *s, size_t n, unsigned *cp)
{
	unsigned lo;

	if (n < 2)
		return 0;
	if (s[1] != 'u') {
		switch (s[1]) {
		case '"': case '\\': case '/': *cp = s[1]; break;
		case 'b': *cp = '\b'; break;
		case 'f': *cp = '\f'; break;
		case 'n': *cp = '\n'; break;
		case 'r': *cp = '\r'; break;
		case 't': *cp = '\t'; break;
		default: return 0;
		}
		return 2;
	}
	if (n < 6 || hex4(s + 2, cp) == -1 || *cp == 0 ||
	    (*cp >= 0xdc00 && *cp <= 0xdfff))
		return 0;
	if (*cp < 0xd800 || *cp > 0xdbff)
		return 6;
	if (n < 12 || s[6] != '\\' || s[7] != 'u' || hex4(s + 8, &lo) == -1 ||
	    lo < 0xdc00 || lo > 0xdfff)
		return 0;
	*cp = 0x10000 + ((*cp - 0xd800) << 10) + (lo - 0xdc00);
	return 12;
}

/*
 * An escape after the backslash at s[i]; returns its length, 0 if it is
 * not a valid one.  With dec, its character is added to the decoded keys.
 */
static size_t
escape(struct jv *v, size_t i, int dec)
{
	unsigned cp;
	size_t n = unescape(v->s + i, v->len - i, &cp);

	if (n != 0 && dec)
		put_utf8(v, cp);
	return n;
}

/*
 * The bytes of w that a string cannot skip over ('"', '\\', a control
 * character, any byte of a multibyte character) as a mask of their high
 * bits; exact up to the first one, which is all the caller uses.
 */
static uint64_t
special(uint64_t w)
{
	const uint64_t ones = 0x0101010101010101ULL, high = ones * 0x80;
	uint64_t q = w ^ (ones * '"'), b = w ^ (ones * '\\');

	return (((q - ones) & ~q) | ((b - ones) & ~b) |
	    ((w - ones * 0x20) & ~w) | w) & high;
}

/* Past the bytes from s[i] on that need no attention in a string. */
static size_t
plain(const char *s, size_t i, size_t len)
{
	uint64_t w, m;

#ifdef __SSE2__
	const __m128i quote = _mm_set1_epi8('"'), bslash = _mm_set1_epi8('\\');
	const __m128i space = _mm_set1_epi8(' ');

	for (; len - i >= 16; i += 16) {
		__m128i b = _mm_loadu_si128((const __m128i *)(s + i));
		/* signed: the bytes of a multibyte character are below ' ' */
		unsigned bits = _mm_movemask_epi8(_mm_or_si128(_mm_or_si128(
		    _mm_cmpeq_epi8(b, quote), _mm_cmpeq_epi8(b, bslash)),
		    _mm_cmplt_epi8(b, space)));

		if (bits != 0)
			return i + __builtin_ctz(bits);
	}
#endif
	for (; len - i >= 8; i += 8) {
		memcpy(&w, s + i, 8);
		if ((m = special(w)) != 0) {
#ifdef LITTLE_ENDIAN_WORDS
			return i + __builtin_ctzll(m) / 8;
#else
			return i;
#endif
		}
	}
	return i;
}

/*
 * The string at s[i] == '"'; 0 if it is not a valid one.  With k (a key),
 * k gets where its text is: between the quotes if it has no escape,
 * decoded otherwise.
 */
static int
slow_string(struct jv *v, struct key *k)
{
	const char *s = v->s;
	size_t i = v->i + 1, n, start = i, dstart = v->declen;
	int esc = 0;

	for (;;) {
		n = plain(s, i, v->len);
		if (esc)
			put_bytes(v, s + i, n - i);
		if ((i = n) >= v->len)
			return 0;
		if (s[i] == '"')
			break;
		if ((unsigned char)s[i] < 0x20)
			return 0;
		if (s[i] == '\\') {
			if (k != NULL && !esc) {
				/* from here on the key is decoded */
				put_bytes(v, s + start, i - start);
				esc = 1;
			}
			if ((n = escape(v, i, k != NULL)) == 0)
				return 0;
			i += n;
			continue;
		}
		if ((n = rk_utf8_char(s + i, v->len - i)) == 0)
			return 0;
		if (esc)
			put_bytes(v, s + i, n);
		i += n;
	}
	if (k != NULL) {
		k->decoded = esc;
		k->off = esc ? dstart : start;
		k->len = esc ? v->declen - dstart : i - start;
	}
	v->i = i + 1;
	return 1;
}

/* string(), inline for the common string: no escape, all ASCII. */
static inline int
string(struct jv *v, struct key *k)
{
	size_t end = plain(v->s, v->i + 1, v->len);

	if (end >= v->len || v->s[end] != '"')
		return slow_string(v, k);
	if (k != NULL) {
		k->decoded = 0;
		k->off = v->i + 1;
		k->len = end - v->i - 1;
	}
	v->i = end + 1;
	return 1;
}

static const char *
key_text(const struct jv *v, const struct key *k)
{
	return k->decoded ? v->dec + k->off : v->s + k->off;
}

static int
same_key(const struct jv *v, const struct key *a, const struct key *b)
{
	return a->len == b->len && memcmp(key_text(v, a), key_text(v, b),
	    a->len) == 0;
}

/*
 * A cheap function of a key's text, for telling most keys apart without
 * comparing them: its first and last eight bytes and its length.
 */
static uint64_t
fingerprint(const struct jv *v, const struct key *k)
{
	const char *p = key_text(v, k);
	uint64_t a = 0, b = 0;
	size_t n = k->len;

	if (n >= 8) {
		memcpy(&a, p, 8);
		memcpy(&b, p + n - 8, 8);
#ifdef LITTLE_ENDIAN_WORDS
	} else if (n > 0 && !k->decoded && v->len - k->off >= 8) {
		/* the key's bytes and what follows it, which is cut off */
		memcpy(&a, p, 8);
		a &= ~0ULL >> (64 - 8 * n);
#endif
	} else
		for (size_t j = n; j > 0; j--)	/* as a little-endian load */
			a = a << 8 | (unsigned char)p[j - 1];
	return (a ^ (b << 7 | b >> 57) ^ n) * 0x9e3779b97f4a7c15ULL;
}

static uint64_t
hash(const struct jv *v, const struct key *k)
{
	const unsigned char *p = (const unsigned char *)key_text(v, k);
	uint64_t h = v->seed ^ (k->depth * 0x9e3779b97f4a7c15ULL), w;
	size_t n = k->len;

	for (; n >= 8; p += 8, n -= 8) {
		memcpy(&w, p, 8);
		h = (h ^ w) * 0xff51afd7ed558ccdULL;
		h ^= h >> 32;
	}
	for (w = k->len; n > 0; n--)
		w = w << 8 | p[n - 1];
	h = (h ^ w) * 0xc4ceb9fe1a85ec53ULL;
	return h ^ h >> 29;
}

/* The slot that holds a key equal to k, or the empty one it would take. */
static size_t
find(const struct jv *v, const struct key *k)
{
	size_t at;

	for (at = k->hash & (v->cap - 1); v->tab[at] != 0;
	    at = (at + 1) & (v->cap - 1)) {
		const struct key *o = &v->keys[v->tab[at] - 1];

		if (o->hash == k->hash && o->depth == k->depth &&
		    same_key(v, o, k))
			break;
	}
	return at;
}

static void
insert(struct jv *v, size_t j)
{
	size_t at = find(v, &v->keys[j]);

	if (v->tab[at] == 0) {
		v->tab[at] = j + 1;
		v->keys[j].slot = at;
		v->ntab++;
	}
}

/*
 * Room for one more key in the table, rebuilt with the keys of the hashed
 * objects in the order they came, so that closing an object can undo its
 * insertions (see drop_keys).
 */
static void
reserve(struct jv *v)
{
	if (v->ntab + 1 <= v->cap / 2)
		return;
	v->cap = v->cap ? v->cap * 2 : 64;
	free(v->tab);
	v->tab = rk_xmalloc(v->cap * sizeof(*v->tab));
	memset(v->tab, 0, v->cap * sizeof(*v->tab));
	v->ntab = 0;
	for (size_t j = 0; j < v->nkeys; j++)
		if (v->obj[v->keys[j].depth - 1].hashed)
			insert(v, j);
}

/* An object with many keys: they go in the table. */
static void
hash_object(struct jv *v, struct object *o)
{
	size_t j;

	if (v->cap == 0)
		v->seed = (uint64_t)arc4random() << 32 | arc4random();
	for (j = o->base; j < v->nkeys; j++)
		v->keys[j].hash = hash(v, &v->keys[j]);
	o->hashed = 1;
	for (j = o->base; j < v->nkeys; j++) {
		reserve(v);
		insert(v, j);
	}
}

/*
 * Room for n items in an array that starts in the struct (at stack) and
 * moves to the heap when it outgrows it.
 */
static void *
grow(void *p, const void *stack, size_t *cap, size_t n, size_t size)
{
	size_t was = *cap;

	if (n <= was)
		return p;
	*cap = was * 2 > n ? was * 2 : n;
	if (p != stack)
		return rk_xrealloc(p, *cap * size);
	return memcpy(rk_xmalloc(*cap * size), p, was * size);
}

/*
 * Add the key just read into keys[nkeys] to the object at depth; 0 if that
 * object has it already.
 */
static int
add_key(struct jv *v, size_t depth)
{
	struct object *o = &v->obj[depth - 1];
	struct key *k = &v->keys[v->nkeys];

	k->depth = depth;
	if (!o->hashed) {
		uint64_t bit;

		k->fp = fingerprint(v, k);
		bit = 1ULL << (k->fp >> 58);
		if (o->seen & bit)
			for (size_t j = o->base; j < v->nkeys; j++)
				if (v->keys[j].fp == k->fp &&
				    same_key(v, &v->keys[j], k))
					return 0;
		o->seen |= bit;
		if (v->nkeys - o->base >= SCAN_KEYS)
			hash_object(v, o);
	}
	if (o->hashed) {
		reserve(v);
		k->hash = hash(v, k);
		if (v->tab[find(v, k)] != 0)
			return 0;
		insert(v, v->nkeys);
	}
	v->nkeys++;
	return 1;
}

/*
 * The object at depth closes: its keys go.  Undoing linear-probing
 * insertions newest first leaves the table as it was before them.
 */
static void
drop_keys(struct jv *v, size_t depth)
{
	struct object *o = &v->obj[depth - 1];

	if (o->hashed)
		for (size_t j = v->nkeys; j > o->base; j--) {
			v->tab[v->keys[j - 1].slot] = 0;
			v->ntab--;
		}
	v->nkeys = o->base;
	v->declen = o->declen;
}

/* A number jansson reads as too big, ruled on by jansson itself. */
static int
number_fits(const char *s, size_t n)
{
	json_t *j = json_loadb(s, n, JSON_DECODE_ANY, NULL);

	json_decref(j);
	return j != NULL;
}

static size_t
digits(const char *s, size_t i, size_t len)
{
	size_t j = i;

	while (j < len && s[j] >= '0' && s[j] <= '9')
		j++;
	return j - i;
}

/*
 * A number; 0 if it is not one.  Those near the edge of what a long long
 * or a double holds (19 digits, or a decimal exponent of 308) are left to
 * jansson; those clearly beyond it are refused here.
 */
static int
number(struct jv *v)
{
	const char *s = v->s;
	size_t start = v->i, i = start, nint, nfrac = 0, lead = 0;
	long long e = 0;
	int real = 0, eneg = 0;

	if (s[i] == '-')
		i++;
	if ((nint = digits(s, i, v->len)) == 0 || (s[i] == '0' && nint > 1))
		return 0;
	i += nint;
	if (i < v->len && s[i] == '.') {
		if ((nfrac = digits(s, ++i, v->len)) == 0)
			return 0;
		if (s[start + (s[start] == '-')] == '0')
			while (lead < nfrac && s[i + lead] == '0')
				lead++;
		i += nfrac;
		real = 1;
	}
	if (i < v->len && (s[i] == 'e' || s[i] == 'E')) {
		size_t nexp;

		if (++i < v->len && (s[i] == '+' || s[i] == '-'))
			eneg = s[i++] == '-';
		if ((nexp = digits(s, i, v->len)) == 0)
			return 0;
		for (size_t j = 0; j < nexp; j++)
			if (e < 1000000000)
				e = e * 10 + (s[i + j] - '0');
		i += nexp;
		real = 1;
	}
	v->i = i;
	if (!real)
		return nint < 19 || (nint == 19 && number_fits(s + start,
		    i - start));
	if (s[start + (s[start] == '-')] == '0' && lead == nfrac)
		return 1;	/* zero */
	/* the decimal exponent of the first significant digit */
	e = (eneg ? -e : e) + (s[start + (s[start] == '-')] != '0' ?
	    (long long)nint - 1 : -(long long)lead - 1);
	return e < 308 || (e == 308 && number_fits(s + start, i - start));
}

static int
literal(struct jv *v, const char *word, size_t n)
{
	if (v->len - v->i < n || memcmp(v->s + v->i, word, n) != 0)
		return 0;
	v->i += n;
	return 1;
}

/* A scalar at s[i]; 0 if it is not a valid one. */
static int
scalar(struct jv *v)
{
	char c = v->s[v->i];

	if (c == '"')
		return string(v, NULL);
	if (c == '-' || (c >= '0' && c <= '9'))
		return number(v);
	if (c == 't')
		return literal(v, "true", 4);
	if (c == 'f')
		return literal(v, "false", 5);
	return c == 'n' && literal(v, "null", 4);
}

/* After '{' or ',' in an object: a key, its colon, up to the value. */
static int
member_key(struct jv *v, size_t depth)
{
	skip_ws(v);
	v->kstart = v->i;
	if (v->nkeys == v->capkeys)
		v->keys = grow(v->keys, v->stack_keys, &v->capkeys,
		    v->nkeys + 1, sizeof(*v->keys));
	if (v->i >= v->len || v->s[v->i] != '"' ||
	    !string(v, &v->keys[v->nkeys]) || !add_key(v, depth))
		return 0;
	v->klen = v->i - v->kstart - 2;
	v->haskey = 1;
	skip_ws(v);
	if (v->i >= v->len || v->s[v->i] != ':')
		return 0;
	v->i++;
	return 1;
}

/* The value at s[i], at depth, begins: its span if it is noted. */
static size_t
span_begin(struct jv *v, size_t depth)
{
	struct rk_jspans *sp = v->sp;
	struct rk_jspan *p;

	if (sp == NULL || depth == 0 || depth > sp->depth)
		return NO_SPAN;
	if (sp->n == sp->cap)
		sp->v = grow(sp->v, sp->own, &sp->cap, sp->n + 1,
		    sizeof(*sp->v));
	p = &sp->v[sp->n];
	p->key = v->haskey ? v->s + v->kstart + 1 : NULL;
	p->keylen = v->haskey ? v->klen : 0;
	p->start = v->haskey ? v->kstart : v->i;
	p->vstart = v->i;
	p->vend = 0;
	p->depth = depth;
	return sp->n++;
}

static void
span_end(struct jv *v, size_t span)
{
	if (span != NO_SPAN)
		v->sp->v[span].vend = v->i;
}

/* An object or array opens at s[i], at depth. */
static void
open_value(struct jv *v, size_t depth, size_t span)
{
	v->obj = grow(v->obj, v->stack_obj, &v->capobj, depth + 1,
	    sizeof(*v->obj));
	v->obj[depth] = (struct object){ .base = v->nkeys,
	    .declen = v->declen, .span = span, .open = v->s[v->i] };
	v->i++;
	v->haskey = 0;
}

/* the bracket that closes c */
static char
closer(char c)
{
	return c == '{' ? '}' : ']';
}

static int
validate(struct jv *v)
{
	size_t depth = 0, span;

	skip_ws(v);
	if (v->i >= v->len || (v->s[v->i] != '{' && v->s[v->i] != '['))
		return 0;
	for (;;) {
		/* a value */
		skip_ws(v);
		if (v->i >= v->len || depth == MAX_DEPTH)
			return 0;
		span = span_begin(v, depth);
		if (v->s[v->i] == '{' || v->s[v->i] == '[') {
			open_value(v, depth++, span);
			skip_ws(v);
			if (v->i < v->len &&
			    v->s[v->i] == closer(v->obj[depth - 1].open)) {
				v->i++;		/* {} or [] */
				depth--;
				span_end(v, span);
			} else if (v->obj[depth - 1].open == '[' ||
			    member_key(v, depth))
				continue;
			else
				return 0;
		} else if (scalar(v))
			span_end(v, span);
		else
			return 0;
		/* after a value: close what ends here, then a comma */
		for (;;) {
			struct object *o;

			skip_ws(v);
			if (depth == 0)
				return v->i == v->len;
			if (v->i >= v->len)
				return 0;
			o = &v->obj[depth - 1];
			if (v->s[v->i] == closer(o->open)) {
				v->i++;
				span_end(v, o->span);
				drop_keys(v, depth--);
				continue;
			}
			if (v->s[v->i++] != ',')
				return 0;
			if (o->open == '[')
				v->haskey = 0;
			else if (!member_key(v, depth))
				return 0;
			break;
		}
	}
}

/*
 * Is s[0..len) JSON as jansson takes it?  With sp, the spans of the values
 * down to sp->depth (1: the members or elements of the top value, 2:
 * theirs too, ...) go in sp->v in the order the values begin; that is the
 * caller's array of sp->cap spans until more are needed, then one to free
 * with rk_jspans_free().  On invalid text sp->n is 0.
 */
int
rk_json_scan(const char *s, size_t len, struct rk_jspans *sp)
{
	struct key keys[STACK_KEYS];
	struct object obj[STACK_DEPTH];
	struct jv v = { .s = s, .len = len, .keys = keys, .capkeys = STACK_KEYS,
	    .obj = obj, .capobj = STACK_DEPTH, .sp = sp, .stack_keys = keys,
	    .stack_obj = obj };
	int ok;

	if (sp != NULL) {
		sp->own = sp->v;
		sp->n = 0;
	}
	ok = validate(&v);
	if (v.keys != v.stack_keys)
		free(v.keys);
	if (v.obj != v.stack_obj)
		free(v.obj);
	free(v.tab);
	free(v.dec);
	if (!ok && sp != NULL)
		sp->n = 0;
	return ok;
}

void
rk_jspans_free(struct rk_jspans *sp)
{
	if (sp->v != sp->own)
		free(sp->v);
	sp->v = sp->own;
	sp->n = 0;
}

int
rk_json_valid(const char *s, size_t len)
{
	return rk_json_scan(s, len, NULL);
}

/*
 * Values built from text rk_json_scan() has accepted, which needs no
 * checking again: several times cheaper than json_loadb(), whose lexer
 * checks every byte once more.  NULL leaves the value to jansson: nested
 * deeper than BUILD_DEPTH, or a number strtod() reads otherwise (a locale
 * whose decimal point is not '.').
 */
#define BUILD_DEPTH	64

struct build {
	const char	*s;
	size_t		 len, i;
	char		*dec;		/* the last string with escapes */
	size_t		 declen, deccap;
};

static void
build_ws(struct build *b)
{
	while (b->i < b->len && is_ws(b->s[b->i]))
		b->i++;
}

static void
build_put(struct build *b, const char *p, size_t n)
{
	if (n == 0)
		return;
	if (b->declen + n > b->deccap) {
		b->deccap = b->deccap * 2 + n + 64;
		b->dec = rk_xrealloc(b->dec, b->deccap);
	}
	memcpy(b->dec + b->declen, p, n);
	b->declen += n;
}

/*
 * The string at s[i] == '"': its text in *p, between the quotes if it has
 * no escape, decoded into b->dec otherwise; (size_t)-1 if it is cut off.
 */
static size_t
build_string(struct build *b, const char **p)
{
	const char *s = b->s;
	size_t i = b->i + 1, j = i, n;
	unsigned cp;
	char u[4];

	while (j < b->len && s[j] != '"' && s[j] != '\\')
		j++;
	if (j < b->len && s[j] == '"') {
		*p = s + i;
		b->i = j + 1;
		return j - i;
	}
	b->declen = 0;
	for (;;) {
		build_put(b, s + i, j - i);
		if (j >= b->len)
			return (size_t)-1;
		if (s[j] == '"')
			break;
		if ((n = unescape(s + j, b->len - j, &cp)) == 0)
			return (size_t)-1;
		build_put(b, u, utf8_encode(cp, u));
		i = j += n;
		while (j < b->len && s[j] != '"' && s[j] != '\\')
			j++;
	}
	*p = b->dec;
	b->i = j + 1;
	return b->declen;
}

static int
number_byte(char c)
{
	return (c >= '0' && c <= '9') || c == '-' || c == '+' || c == '.' ||
	    c == 'e' || c == 'E';
}

static json_t *
build_number(struct build *b)
{
	const char *v = b->s + b->i;
	size_t n = 0;
	int integral = 1;
	char *end;
	json_t *j;

	for (; b->i + n < b->len && number_byte(v[n]); n++)
		if (v[n] == '.' || v[n] == 'e' || v[n] == 'E')
			integral = 0;
	if (n == 0)
		return NULL;
	if (integral)
		j = json_integer(strtoll(v, &end, 10));
	else
		j = json_real(strtod(v, &end));
	if (end != v + n) {
		json_decref(j);
		return NULL;
	}
	b->i += n;
	return j;
}

static json_t *build_value(struct build *, int);

/* The object or array whose bracket is at s[i]. */
static json_t *
build_container(struct build *b, int depth)
{
	int obj = b->s[b->i] == '{';
	json_t *c = obj ? json_object() : json_array(), *v;
	const char *k = NULL;
	char *kcopy = NULL;
	size_t klen = 0;

	b->i++;
	build_ws(b);
	if (b->i < b->len && b->s[b->i] == (obj ? '}' : ']')) {
		b->i++;
		return c;
	}
	for (;;) {
		build_ws(b);
		if (obj) {
			if (b->i >= b->len || b->s[b->i] != '"' ||
			    (klen = build_string(b, &k)) == (size_t)-1)
				goto fail;
			/* the value may decode its strings into b->dec */
			if (k == b->dec)
				k = kcopy = memcpy(rk_xmalloc(klen + 1), k,
				    klen);
			build_ws(b);
			if (b->i >= b->len || b->s[b->i++] != ':')
				goto fail;
		}
		if ((v = build_value(b, depth + 1)) == NULL)
			goto fail;
		if (obj)
			json_object_setn_new_nocheck(c, k, klen, v);
		else
			json_array_append_new(c, v);
		free(kcopy);
		kcopy = NULL;
		build_ws(b);
		if (b->i >= b->len)
			goto fail;
		if (b->s[b->i++] != ',')
			return c;
	}
fail:
	free(kcopy);
	json_decref(c);
	return NULL;
}

static json_t *
build_value(struct build *b, int depth)
{
	const char *p;
	size_t n;

	build_ws(b);
	if (b->i >= b->len)
		return NULL;
	switch (b->s[b->i]) {
	case '{':
	case '[':
		return depth < BUILD_DEPTH ? build_container(b, depth) : NULL;
	case '"':
		n = build_string(b, &p);
		return n == (size_t)-1 ? NULL : json_stringn_nocheck(p, n);
	case 't':
		b->i += 4;
		return json_true();
	case 'f':
		b->i += 5;
		return json_false();
	case 'n':
		b->i += 4;
		return json_null();
	default:
		return build_number(b);
	}
}

/*
 * The value s[0..len), which rk_json_scan() has accepted (alone, or as a
 * part of the text it scanned), as jansson would decode it; NULL when it
 * is left to json_loadb().
 */
json_t *
rk_json_build(const char *s, size_t len)
{
	struct build b = { .s = s, .len = len };
	json_t *v = build_value(&b, 0);

	free(b.dec);
	if (v != NULL && (build_ws(&b), b.i != len)) {
		json_decref(v);
		v = NULL;
	}
	return v;
}
