/*
 * The analyzer: splits UTF-8 text into words, lowercases and folds Latin
 * diacritics, optionally drops English stopwords and stems with one of
 * Snowball's stemmers (libstemmer; "stem" is English, Porter2).  It is
 * also registered as the FTS5 tokenizer "rk", so the index and our query
 * code see exactly the same terms.
 *
 * A word is a run of letters and digits (ASCII alphanumerics and every
 * code point outside the punctuation, symbol and space blocks listed in
 * is_sep()).  An apostrophe between letters and a '.' or ',' between
 * digits stay inside a word ("don't", "3.5"); a trailing "'s" is dropped.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libstemmer.h>

#include "core/rk.h"
#include "search/search.h"

/*
 * English function words: articles, pronouns, auxiliaries, prepositions,
 * conjunctions and a few adverbs.  Lucene's 33 words alone scored lower on
 * SciFact's train queries and on Vaswani (bench/retrieval/RESULTS).
 * Sorted for bsearch.
 */
static const char *const stopwords[] = {
	"a", "about", "above", "after", "again", "against", "all", "am", "an",
	"and", "any", "are", "as", "at", "be", "because", "been", "before",
	"being", "below", "between", "both", "but", "by", "can", "could",
	"did", "do", "does", "doing", "down", "during", "each", "few", "for",
	"from", "further", "had", "has", "have", "having", "he", "her",
	"here", "hers", "herself", "him", "himself", "his", "how", "i", "if",
	"in", "into", "is", "it", "its", "itself", "just", "me", "more",
	"most", "my", "myself", "no", "nor", "not", "now", "of", "off", "on",
	"once", "only", "or", "other", "our", "ours", "ourselves", "out",
	"over", "own", "same", "she", "should", "so", "some", "such", "than",
	"that", "the", "their", "theirs", "them", "themselves", "then",
	"there", "these", "they", "this", "those", "through", "to", "too",
	"under", "until", "up", "very", "was", "we", "were", "what", "when",
	"where", "which", "while", "who", "whom", "why", "will", "with",
	"would", "you", "your", "yours", "yourself", "yourselves",
};

int
rk_stopword(const char *w, size_t len)
{
	size_t lo = 0, hi = sizeof(stopwords) / sizeof(*stopwords);

	/* every stopword starts with one of these letters */
	if (len > 10 || len == 0 || strchr("abcdefhijmnostuvwy", w[0]) == NULL)
		return 0;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		const char *s = stopwords[mid];
		size_t sl = strlen(s);
		int c = memcmp(w, s, len < sl ? len : sl);

		if (c == 0)
			c = len < sl ? -1 : len > sl;
		if (c == 0)
			return 1;
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return 0;
}

/* decode one UTF-8 sequence (input is valid UTF-8 or treated bytewise) */
static uint32_t
decode(const unsigned char *s, const unsigned char *e, size_t *n)
{
	uint32_t c = s[0];
	size_t len, i;

	if (c < 0x80) {
		*n = 1;
		return c;
	}
	if (c >= 0xc2 && c <= 0xdf)
		len = 2, c &= 0x1f;
	else if (c >= 0xe0 && c <= 0xef)
		len = 3, c &= 0x0f;
	else if (c >= 0xf0 && c <= 0xf4)
		len = 4, c &= 0x07;
	else {
		*n = 1;
		return 0xfffd;
	}
	if ((size_t)(e - s) < len) {
		*n = 1;
		return 0xfffd;
	}
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80) {
			*n = 1;
			return 0xfffd;
		}
		c = c << 6 | (s[i] & 0x3f);
	}
	*n = len;
	return c;
}

/* punctuation, symbols, spaces and controls: everything that ends a word */
static int
is_sep(uint32_t c)
{
	if (c < 0x80)
		return !((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9'));
	if (c < 0xc0)
		return c != 0xaa && c != 0xb5 && c != 0xba;
	return c == 0xd7 || c == 0xf7 ||
	    (c >= 0x2000 && c <= 0x206f) ||	/* general punctuation */
	    (c >= 0x20a0 && c <= 0x20cf) ||	/* currency */
	    (c >= 0x2190 && c <= 0x23ff) ||	/* arrows, operators */
	    (c >= 0x2500 && c <= 0x27bf) ||	/* box, shapes, dingbats */
	    (c >= 0x27c0 && c <= 0x2bff) ||	/* more arrows and maths */
	    (c >= 0x2e00 && c <= 0x2e7f) ||	/* supplemental punct. */
	    (c >= 0x3000 && c <= 0x3004) || (c >= 0x3008 && c <= 0x303f) ||
	    (c >= 0xfe10 && c <= 0xfe1f) || (c >= 0xfe30 && c <= 0xfe6f) ||
	    c == 0xfeff || c == 0xfffd ||
	    (c >= 0xff00 && c <= 0xff0f) || (c >= 0xff1a && c <= 0xff20) ||
	    (c >= 0xff3b && c <= 0xff40) || (c >= 0xff5b && c <= 0xff65) ||
	    (c >= 0x1f000 && c <= 0x1faff);
}

/* Latin-1 lowercase letters without their diacritics, from U+00DF */
static const char *const latin1_fold[] = {
	"ss", "a", "a", "a", "a", "a", "a", "ae", "c", "e", "e", "e", "e",
	"i", "i", "i", "i", "d", "n", "o", "o", "o", "o", "o", NULL, "o",
	"u", "u", "u", "u", "y", "th", "y",
};

/* lowercase and fold one code point into out; returns bytes written */
static size_t
fold(uint32_t c, char *out)
{
	if (c >= 'A' && c <= 'Z') {
		out[0] = c + 32;
		return 1;
	}
	if (c < 0x80) {
		out[0] = c;
		return 1;
	}
	if (c >= 0x300 && c <= 0x36f)
		return 0;			/* combining diacritics */
	if (c >= 0xc0 && c <= 0xde && c != 0xd7)
		c += 0x20;
	if (c >= 0xdf && c <= 0xff && c != 0xf7) {
		const char *f = latin1_fold[c - 0xdf];

		memcpy(out, f, strlen(f));
		return strlen(f);
	}
	if (c >= 0x100 && c <= 0x17f) {		/* Latin Extended-A */
		static const char base[] = "aaaaaaccccccccddddeeeeeeeeee"
		    "gggggggghhhhiiiiiiiiiijjjjkkkllllllllllnnnnnnnnnoooooo"
		    "oorrrrrrssssssssttttttuuuuuuuuuuuuwwyyyzzzzzzs";

		out[0] = base[c - 0x100];
		return 1;
	}
	if ((c >= 0x391 && c <= 0x3a9) || (c >= 0x410 && c <= 0x42f))
		c += 0x20;			/* Greek, Cyrillic */
	else if (c >= 0x400 && c <= 0x40f)
		c += 0x50;
	else if (c == 0x3c2)
		c = 0x3c3;			/* final sigma */
	if (c < 0x800) {
		out[0] = 0xc0 | c >> 6;
		out[1] = 0x80 | (c & 0x3f);
		return 2;
	}
	if (c < 0x10000) {
		out[0] = 0xe0 | c >> 12;
		out[1] = 0x80 | ((c >> 6) & 0x3f);
		out[2] = 0x80 | (c & 0x3f);
		return 3;
	}
	out[0] = 0xf0 | c >> 18;
	out[1] = 0x80 | ((c >> 12) & 0x3f);
	out[2] = 0x80 | ((c >> 6) & 0x3f);
	out[3] = 0x80 | (c & 0x3f);
	return 4;
}

static int
is_digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

static int
is_alpha(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c >= 0x80;
}

/* stemmer 1 is English; n > 1 is the one at n - 2 in libstemmer's list */
static const char *
stemmer_name(int stem)
{
	return stem == 1 ? "english" : sb_stemmer_list()[stem - 2];
}

/*
 * A libstemmer stemmer is not reentrant: each thread keeps its own, for
 * the last language it used.
 */
static _Thread_local struct sb_stemmer *st;
static pthread_once_t st_once = PTHREAD_ONCE_INIT;

/* at exit: the exiting thread's stemmer, which would look lost */
static void
free_stemmer(void)
{
	sb_stemmer_delete(st);
	st = NULL;
}

static void
free_stemmer_at_exit(void)
{
	atexit(free_stemmer);
}

/* stem in place */
static size_t
stem_word(int stem, char *w, size_t n, size_t cap)
{
	static _Thread_local int cur;
	const sb_symbol *out;
	size_t len;

	if (st == NULL || cur != stem) {
		pthread_once(&st_once, free_stemmer_at_exit);
		sb_stemmer_delete(st);
		st = sb_stemmer_new(stemmer_name(stem), NULL);
		cur = stem;
		if (st == NULL)
			return n;
	}
	if ((out = sb_stemmer_stem(st, (const sb_symbol *)w, (int)n)) == NULL)
		return n;
	len = (size_t)sb_stemmer_length(st);
	if (len == 0 || len > cap)
		return n;
	memcpy(w, out, len);
	return len;
}

/* emit one word: fold it, drop 's, stopwords, stem, call back */
static int
word(const struct rk_analyzer *an, const unsigned char *s, size_t len,
    size_t start, rk_token_fn *fn, void *arg)
{
	char buf[RK_TOKEN_MAX + 8], term[RK_TOKEN_MAX + 8];
	const unsigned char *p = s, *e = s + len;
	size_t n = 0, k, tl;

	while (p < e) {
		uint32_t c = decode(p, e, &k);

		p += k;
		if (n + 4 > RK_TOKEN_MAX)
			return 0;		/* too long to be a word */
		if (c == 0x2019)
			c = '\'';
		n += fold(c, buf + n);
	}
	if (n >= 2 && buf[n - 1] == 's' && buf[n - 2] == '\'')
		n -= 2;
	if (n == 0)
		return 0;
	if (an->stop && rk_stopword(buf, n))
		return 0;
	memcpy(term, buf, n);
	tl = n;
	if (an->stem && n > 2)	/* as Porter's own code: "is" stays */
		tl = stem_word(an->stem, term, n, RK_TOKEN_MAX);
	return fn(arg, buf, n, term, tl, start, start + len);
}

int
rk_analyze(const struct rk_analyzer *an, const char *text, size_t len,
    rk_token_fn *fn, void *arg)
{
	const unsigned char *s = (const unsigned char *)text, *e = s + len;
	const unsigned char *p = s, *w = NULL;
	int rc;

	while (p < e) {
		size_t k;
		uint32_t c = *p < 0x80 ? (k = 1, *p) : decode(p, e, &k);

		if (!is_sep(c)) {
			if (w == NULL)
				w = p;
			p += k;
			continue;
		}
		/* joiners: l'l, d.d, d,d */
		if (w != NULL && p + k < e && p > w) {
			unsigned char prev = p[-1], next = p[k];

			if (((c == '\'' || c == 0x2019) && is_alpha(prev) &&
			    is_alpha(next)) || ((c == '.' || c == ',') &&
			    is_digit(prev) && is_digit(next))) {
				p += k;
				continue;
			}
		}
		if (w != NULL) {
			if ((rc = word(an, w, p - w, w - s, fn, arg)) != 0)
				return rc;
			w = NULL;
		}
		p += k;
	}
	if (w != NULL)
		return word(an, w, p - w, w - s, fn, arg);
	return 0;
}

/* a stemmer's number (see stemmer_name()), 0 if none */
static int
stemmer(const char *name)
{
	const char **l = sb_stemmer_list();

	if (strcmp(name, "stem") == 0 || strcmp(name, "english") == 0)
		return 1;
	for (int i = 0; l[i] != NULL; i++)
		if (strcmp(l[i], name) == 0)
			return i + 2;
	return 0;
}

/* one word of a spec: "stem", a stemmer's name, "stop" or "none" */
static int
analyzer_word(const char *w, struct rk_analyzer *an)
{
	int st;

	if (strcmp(w, "stop") == 0)
		an->stop = 1;
	else if ((st = stemmer(w)) != 0)
		an->stem = st;
	else if (strcmp(w, "none") != 0)
		return -1;
	return 0;
}

/* "stem,stop", "french", "stop", "none"...: comma-separated words */
int
rk_analyzer_parse(const char *spec, struct rk_analyzer *an)
{
	char *copy = rk_xstrdup(spec), *p = copy, *w;
	int rc = 0;

	an->stop = an->stem = 0;
	while ((w = strsep(&p, ",")) != NULL)
		if (analyzer_word(w, an) == -1)
			rc = -1;
	free(copy);
	return rc;
}

void
rk_analyzer_format(const struct rk_analyzer *an, char *buf, size_t size)
{
	const char *st = an->stem == 0 ? NULL : an->stem == 1 ? "stem" :
	    stemmer_name(an->stem);

	snprintf(buf, size, "%s%s%s", st ? st : "", st && an->stop ? "," : "",
	    an->stop ? "stop" : st ? "" : "none");
}

/* The FTS5 tokenizer "rk": tokenize='rk stem,stop' */

struct tok {
	struct rk_analyzer an;
	uint64_t *counter;	/* tokens emitted for documents */
};

struct tokctx {
	void	*ctx;
	int	(*x)(void *, int, const char *, int, int, int);
	uint64_t n;
};

static int
tok_create(void *pctx, const char **argv, int argc, Fts5Tokenizer **out)
{
	struct tok *t = calloc(1, sizeof(*t));

	if (t == NULL)
		return SQLITE_NOMEM;
	t->counter = pctx;
	/* tokenize='rk stem stop': the analyzer spec, one word per option */
	for (int i = 0; i < argc; i++)
		if (analyzer_word(argv[i], &t->an) == -1) {
			free(t);
			return SQLITE_ERROR;
		}
	*out = (Fts5Tokenizer *)t;
	return SQLITE_OK;
}

static void
tok_delete(Fts5Tokenizer *t)
{
	free(t);
}

static int
tok_emit(void *arg, const char *surface, size_t slen, const char *term,
    size_t tlen, size_t start, size_t end)
{
	struct tokctx *c = arg;

	(void)surface, (void)slen;
	c->n++;
	return c->x(c->ctx, 0, term, (int)tlen, (int)start, (int)end);
}

static int
tok_tokenize(Fts5Tokenizer *tk, void *ctx, int flags, const char *text,
    int len, int (*x)(void *, int, const char *, int, int, int))
{
	struct tok *t = (struct tok *)tk;
	struct tokctx c = { ctx, x, 0 };
	int rc;

	rc = rk_analyze(&t->an, text, len, tok_emit, &c);
	if ((flags & FTS5_TOKENIZE_DOCUMENT) && t->counter != NULL)
		*t->counter += c.n;
	return rc;
}

/* the FTS5 API of db, or NULL */
fts5_api *
rk_fts5_api(sqlite3 *db)
{
	fts5_api *api = NULL;
	sqlite3_stmt *st;

	if (sqlite3_prepare_v2(db, "SELECT fts5(?1)", -1, &st, NULL) !=
	    SQLITE_OK)
		return NULL;
	sqlite3_bind_pointer(st, 1, &api, "fts5_api_ptr", NULL);
	sqlite3_step(st);
	sqlite3_finalize(st);
	return api;
}

/*
 * Register the tokenizer on db; counter (may be NULL) is incremented by
 * the number of tokens of every document FTS5 indexes.  The FTS5 API, or
 * NULL.
 */
fts5_api *
rk_fts5_register(sqlite3 *db, uint64_t *counter)
{
	static fts5_tokenizer tk = { tok_create, tok_delete, tok_tokenize };
	fts5_api *api = rk_fts5_api(db);

	if (api == NULL || api->xCreateTokenizer(api, "rk", counter, &tk,
	    NULL) != SQLITE_OK)
		return NULL;
	return api;
}
