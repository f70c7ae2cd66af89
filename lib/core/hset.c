/* A set of 64-bit hashes: open addressing, 0 stands for an empty slot. */
#include <stdlib.h>
#include <string.h>

#include "core/rk.h"

uint64_t
rk_hash2(const char *a, const char *b)
{
	uint64_t h = 14695981039346656037ULL;
	const char *s;

	for (s = a; *s != '\0'; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	h *= 1099511628211ULL;		/* the NUL between a and b */
	for (s = b; s != NULL && *s != '\0'; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h ? h : 1;
}

/* the slot that holds h, or the empty one where it would go */
static uint64_t *
slot(const struct rk_hset *s, uint64_t h)
{
	size_t i;

	for (i = h & (s->cap - 1); s->v[i] != 0; i = (i + 1) & (s->cap - 1))
		if (s->v[i] == h)
			break;
	return &s->v[i];
}

int
rk_hset_add(struct rk_hset *s, uint64_t h)
{
	uint64_t *p;

	if (2 * (s->n + 1) > s->cap) {
		struct rk_hset t = { NULL, 0, s->cap ? 2 * s->cap : 1024 };

		t.v = rk_xmalloc(t.cap * sizeof(*t.v));
		memset(t.v, 0, t.cap * sizeof(*t.v));
		for (size_t i = 0; i < s->cap; i++)
			if (s->v[i] != 0)
				*slot(&t, s->v[i]) = s->v[i], t.n++;
		free(s->v);
		*s = t;
	}
	if (*(p = slot(s, h)) == h)
		return 1;
	*p = h;
	s->n++;
	return 0;
}

int
rk_hset_has(const struct rk_hset *s, uint64_t h)
{
	return s->cap != 0 && *slot(s, h) == h;
}

void
rk_hset_free(struct rk_hset *s)
{
	free(s->v);
	s->v = NULL;
	s->n = s->cap = 0;
}
