/*
 * Server-sent events (the WHATWG event-stream format) as both LLM APIs use
 * them: "event:" names (Anthropic), "data:" lines, a blank line ends an
 * event; lines end in \n, \r\n or \r, and a read may end anywhere, even
 * between the \r and \n of one separator or inside a UTF-8 sequence.
 */
#include <stdlib.h>
#include <string.h>

#include "core/rk.h"
#include "llm/llm.h"

void
rk_sse_init(struct rk_sse *s, size_t max,
    int (*cb)(void *, const char *, const char *), void *arg)
{
	memset(s, 0, sizeof(*s));
	s->max = max;
	s->cb = cb;
	s->arg = arg;
}

void
rk_sse_free(struct rk_sse *s)
{
	rk_sbuf_free(&s->line);
	rk_sbuf_free(&s->event);
	rk_sbuf_free(&s->data);
}

static int
dispatch(struct rk_sse *s)
{
	int rc = 0;

	if (s->any && s->data.len > 0)
		rc = s->cb(s->arg, s->event.len ? s->event.s : "message",
		    s->data.s);
	s->event.len = s->data.len = 0;
	s->any = 0;
	return rc;
}

static int
line(struct rk_sse *s, const char *p, size_t n)
{
	const char *colon, *v;
	size_t fn, vn;

	if (n == 0)
		return dispatch(s);
	if (p[0] == ':')
		return 0;		/* a comment */
	colon = memchr(p, ':', n);
	fn = colon ? (size_t)(colon - p) : n;
	v = colon ? colon + 1 : p + n;
	vn = n - (size_t)(v - p);
	if (vn > 0 && *v == ' ')
		v++, vn--;
	if (fn == 4 && memcmp(p, "data", 4) == 0) {
		if (s->data.len > 0)
			rk_sbuf_add(&s->data, "\n", 1);
		rk_sbuf_add(&s->data, v, vn);
		s->any = 1;
	} else if (fn == 5 && memcmp(p, "event", 5) == 0) {
		s->event.len = 0;
		rk_sbuf_add(&s->event, v, vn);
		s->any = 1;
	}
	return 0;			/* id:, retry: and the rest ignored */
}

int
rk_sse_feed(struct rk_sse *s, const char *p, size_t n)
{
	size_t i = 0, j;

	while (i < n) {
		if (s->cr && p[i] == '\n') {
			s->cr = 0;
			i++;
			continue;
		}
		s->cr = 0;
		for (j = i; j < n && p[j] != '\r' && p[j] != '\n'; j++)
			;
		if (j > i) {
			if (s->line.len + (j - i) + s->data.len > s->max)
				return -1;
			rk_sbuf_add(&s->line, p + i, j - i);
		}
		if (j == n)
			break;
		s->cr = p[j] == '\r';
		if (line(s, s->line.s ? s->line.s : "", s->line.len))
			return -1;
		s->line.len = 0;
		i = j + 1;
	}
	return 0;
}
