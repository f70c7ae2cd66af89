/*
 * Snippets for people: a short excerpt of a hit's text around the first
 * place a query term occurs, white space folded, each occurrence of a
 * query term (as the analyzer sees it: "sleeping" matches "sleep")
 * between two marks.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/rk.h"
#include "search/search.h"

#define SNIP_TERMS	64	/* query terms looked for */
#define SNIP_SPANS	64	/* marked places in one snippet */

struct terms {
	char	*v[SNIP_TERMS];
	size_t	 n;
};

struct spans {
	const struct terms *t;
	size_t	 lo, hi;	/* the window */
	size_t	 start[SNIP_SPANS], end[SNIP_SPANS];
	size_t	 n;
	size_t	 first;		/* of any term, or SIZE_MAX */
};

static int
is_term(const struct terms *t, const char *term, size_t len)
{
	for (size_t i = 0; i < t->n; i++)
		if (strlen(t->v[i]) == len && memcmp(t->v[i], term, len) == 0)
			return 1;
	return 0;
}

static int
add_term(void *arg, const char *surface, size_t slen, const char *term,
    size_t tlen, size_t start, size_t end)
{
	struct terms *t = arg;

	(void)surface, (void)slen, (void)start, (void)end;
	if (t->n < SNIP_TERMS && !is_term(t, term, tlen)) {
		t->v[t->n] = rk_xmalloc(tlen + 1);
		memcpy(t->v[t->n], term, tlen);
		t->v[t->n++][tlen] = '\0';
	}
	return 0;
}

/* the first occurrence, or those inside the window */
static int
find_span(void *arg, const char *surface, size_t slen, const char *term,
    size_t tlen, size_t start, size_t end)
{
	struct spans *s = arg;

	(void)surface, (void)slen;
	if (!is_term(s->t, term, tlen))
		return 0;
	if (s->first == SIZE_MAX)
		s->first = start;
	if (start >= s->lo && end <= s->hi && s->n < SNIP_SPANS) {
		s->start[s->n] = start;
		s->end[s->n++] = end;
	}
	return s->hi == SIZE_MAX || start >= s->hi;	/* found, or past */
}

static int
space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* [lo, hi) of about width bytes from a word start before first */
static void
window(const char *text, size_t len, size_t first, size_t width,
    size_t *lo, size_t *hi)
{
	size_t a = first == SIZE_MAX || first < width / 4 ? 0 :
	    first - width / 4;

	while (a > 0 && !space(text[a - 1]))
		a--;
	*lo = a;
	if (len - a <= width) {
		*hi = len;
		return;
	}
	*hi = a + width;
	while (*hi > a && !space(text[*hi]))
		(*hi)--;
	if (*hi == a)	/* one long word: cut at a character */
		for (*hi = a + width; (text[*hi] & 0xc0) == 0x80; (*hi)--)
			;
}

static void
put(char **p, const char *s)
{
	*p = stpcpy(*p, s);
}

/*
 * About width bytes of text around the first query term, the terms
 * between on and off, "..." where text was left out.  Free it.
 */
char *
rk_snippet(const struct rk_analyzer *an, const char *query, const char *text,
    size_t width, const char *on, const char *off)
{
	struct terms t = { .n = 0 };
	struct spans s = { .t = &t, .lo = 0, .hi = SIZE_MAX,
	    .first = SIZE_MAX };
	size_t len = strlen(text), k = 0, lo, hi;
	char *out, *p;

	rk_analyze(an, query, strlen(query), add_term, &t);
	rk_analyze(an, text, len, find_span, &s);
	window(text, len, s.first, width, &lo, &hi);
	/* again over the window alone: offsets from lo */
	s.n = 0;
	s.lo = 0;
	s.hi = hi - lo;
	rk_analyze(an, text + lo, hi - lo, find_span, &s);
	s.lo = lo;
	s.hi = hi;
	p = out = rk_xmalloc(s.hi - s.lo + SNIP_SPANS * (strlen(on) +
	    strlen(off)) + 8);
	if (s.lo > 0)
		put(&p, "...");
	for (size_t i = s.lo; i < s.hi; i++) {
		if (k < s.n && i == s.lo + s.start[k])
			put(&p, on);
		if (!space(text[i]))
			*p++ = text[i];
		else if (p > out && p[-1] != ' ')
			*p++ = ' ';
		if (k < s.n && i + 1 == s.lo + s.end[k]) {
			put(&p, off);
			k++;
		}
	}
	while (p > out && p[-1] == ' ')
		p--;
	*p = '\0';
	if (s.hi < len)
		put(&p, "...");
	for (size_t i = 0; i < t.n; i++)
		free(t.v[i]);
	return out;
}
