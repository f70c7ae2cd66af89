/* A growing string, kept NUL-terminated. */
#include <stdlib.h>
#include <string.h>

#include "core/rk.h"
#include "llm/llm.h"

void
rk_sbuf_add(struct rk_sbuf *b, const char *p, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 256;

		while (cap < b->len + n + 1)
			cap *= 2;
		b->s = rk_xrealloc(b->s, cap);
		b->cap = cap;
	}
	if (n > 0)
		memcpy(b->s + b->len, p, n);
	b->len += n;
	b->s[b->len] = '\0';
}

void
rk_sbuf_free(struct rk_sbuf *b)
{
	free(b->s);
	memset(b, 0, sizeof(*b));
}
