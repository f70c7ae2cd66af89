/*
 * Canned replies for tests: a JSONL file of {"question": Q, "replies":
 * [TEXT, ...]}.  The offline model (RK_MOCK_REPLIES) answers sample i of
 * question Q with reply i (cycling); the fake server (rk-fakellm -r)
 * answers the k-th request that quotes Q with reply k.  So a test knows
 * every answer, every vote and every request in advance.
 */
#include <stdlib.h>
#include <string.h>

#include "core/rk.h"
#include "llm/llm.h"

struct canned {
	char	*question;
	json_t	*replies;	/* array of strings, not empty */
};

struct rk_replies {
	struct canned	*v;
	size_t		 n;
};

static int
add_line(struct rk_replies *r, const char *line, size_t lineno,
    const char *path, struct rk_error *e)
{
	json_error_t je;
	json_t *o = json_loads(line, 0, &je), *rs;
	const char *q = rk_get_string(o, "question");
	size_t i;
	json_t *t;

	rs = json_object_get(o, "replies");
	if (q == NULL || !json_is_array(rs) || json_array_size(rs) == 0) {
		json_decref(o);
		return rk_error_set(e, RK_EXIT_INPUT,
		    "%s:%zu: not {\"question\": text, \"replies\": "
		    "[text, ...]}", path, lineno);
	}
	json_array_foreach(rs, i, t)
		if (!json_is_string(t)) {
			json_decref(o);
			return rk_error_set(e, RK_EXIT_INPUT, "%s:%zu: a reply "
			    "that is not text", path, lineno);
		}
	r->v = rk_xrealloc(r->v, (r->n + 1) * sizeof(*r->v));
	r->v[r->n].question = rk_xstrdup(q);
	r->v[r->n++].replies = json_incref(rs);
	json_decref(o);
	return 0;
}

struct rk_replies *
rk_replies_load(const char *path, struct rk_error *e)
{
	struct rk_replies *r = rk_xmalloc(sizeof(*r));
	FILE *fp = fopen(path, "r");
	char *line = NULL;
	size_t size = 0, lineno = 0;
	int rc = 0;

	memset(r, 0, sizeof(*r));
	if (fp == NULL) {
		rk_error_set(e, RK_EXIT_IO, "%s: cannot read", path);
		free(r);
		return NULL;
	}
	while (rc == 0 && getline(&line, &size, fp) != -1)
		if (++lineno, strspn(line, " \t\r\n") != strlen(line))
			rc = add_line(r, line, lineno, path, e);
	free(line);
	fclose(fp);
	if (rc != 0) {
		rk_replies_free(r);
		return NULL;
	}
	return r;
}

void
rk_replies_free(struct rk_replies *r)
{
	if (r == NULL)
		return;
	for (size_t i = 0; i < r->n; i++) {
		free(r->v[i].question);
		json_decref(r->v[i].replies);
	}
	free(r->v);
	free(r);
}

/*
 * The replies to a question: its own (exact), or with quoted set, those
 * of the longest question the text quotes.  -1 if none; else the index
 * of the question, and its replies (borrowed) in *replies.
 */
long
rk_replies_find(const struct rk_replies *r, const char *text, int quoted,
    const json_t **replies)
{
	long best = -1;

	for (size_t i = 0; r != NULL && text != NULL && i < r->n; i++) {
		if (quoted ? strstr(text, r->v[i].question) == NULL :
		    strcmp(text, r->v[i].question) != 0)
			continue;
		if (best < 0 || strlen(r->v[i].question) >
		    strlen(r->v[best].question))
			best = (long)i;
	}
	if (best >= 0)
		*replies = r->v[best].replies;
	return best;
}

size_t
rk_replies_count(const struct rk_replies *r)
{
	return r ? r->n : 0;
}

const char *
rk_replies_pick(const json_t *replies, long k)
{
	size_t n = json_array_size(replies);

	return n ? json_string_value(json_array_get(replies, (size_t)k % n)) :
	    NULL;
}
