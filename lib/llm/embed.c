/*
 * Embeddings: texts to vectors.  Over HTTP, through an OpenAI-compatible
 * /embeddings endpoint or Ollama's /api/embed, with rk-llm's presets and
 * key rules (provider_config.c), its transfers, retries and timeouts
 * (http.c, attempt.c) and its cache (cache.c): the texts not in the cache
 * go out --batch to a request, -P requests at once.  Offline, a hashed bag
 * of words (embed_text.c, what the fake server answers too).
 *
 * A reply is taken only whole: one vector per text, each of the same
 * length (--dimensions, or the first vector's), every number finite as a
 * float32.  Anything else fails the texts of its request, and nothing of
 * it is cached.
 */
#include <math.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>

#include "core/rk.h"
#include "llm/llm.h"

#define HASH_DIM	64	/* the offline model's default dimensions */

/* the two wire formats */
static json_t *
openai_body(const struct rk_embedder *E, json_t *input)
{
	json_t *b = json_pack("{s:s, s:o, s:s}", "model", E->ep.model, "input",
	    input, "encoding_format", "float");

	if (E->dimensions > 0)
		json_object_set_new(b, "dimensions",
		    json_integer(E->dimensions));
	return b;
}

/*
 * {"data": [{"index": i, "embedding": [...]}, ...]}: each vector goes
 * where its index says, the order of data[] is no matter (a server
 * without indexes gives them in order); an index repeated or out of
 * range fails the reply.
 */
static int
openai_vectors(const json_t *reply, size_t n, const json_t **out, char *msg,
    size_t size)
{
	const json_t *data = json_object_get(reply, "data"), *d;
	char *seen;
	size_t i;
	int rc = 0;

	if (!json_is_array(data)) {
		snprintf(msg, size, "the reply has no data array");
		return -1;
	}
	if (json_array_size(data) != n) {
		snprintf(msg, size, "the reply has %zu vectors for %zu texts",
		    json_array_size(data), n);
		return -1;
	}
	seen = rk_xmalloc(n);
	memset(seen, 0, n);
	json_array_foreach(data, i, d) {
		const json_t *ix = json_object_get(d, "index");
		json_int_t k = ix == NULL ? (json_int_t)i :
		    json_integer_value(ix);

		if (ix != NULL && !json_is_integer(ix))
			snprintf(msg, size, "the reply's vector %zu has an "
			    "index that is not an integer", i);
		else if (k < 0 || (size_t)k >= n)
			snprintf(msg, size, "the reply's vector %zu has index "
			    "%lld, not 0 to %zu", i, (long long)k, n - 1);
		else if (seen[k])
			snprintf(msg, size, "the reply's vector %zu repeats "
			    "index %lld", i, (long long)k);
		else {
			seen[k] = 1;
			out[k] = json_object_get(d, "embedding");
			continue;
		}
		rc = -1;
		break;
	}
	free(seen);
	return rc;
}

static json_t *
ollama_body(const struct rk_embedder *E, json_t *input)
{
	return json_pack("{s:s, s:o}", "model", E->ep.model, "input", input);
}

/* {"embeddings": [[...], ...]} in the order of the texts */
static int
ollama_vectors(const json_t *reply, size_t n, const json_t **out, char *msg,
    size_t size)
{
	const json_t *v = json_object_get(reply, "embeddings");

	if (!json_is_array(v)) {
		snprintf(msg, size, "the reply has no embeddings array");
		return -1;
	}
	if (json_array_size(v) != n) {
		snprintf(msg, size, "the reply has %zu vectors for %zu texts",
		    json_array_size(v), n);
		return -1;
	}
	for (size_t i = 0; i < n; i++)
		out[i] = json_array_get(v, i);
	return 0;
}

static const struct embed_api {
	const char	*name;
	json_t		*(*body)(const struct rk_embedder *, json_t *input);
	int		(*vectors)(const json_t *, size_t, const json_t **,
			    char *, size_t);
} apis[] = {
	[RK_EMBED_OPENAI] = { "openai", openai_body, openai_vectors },
	[RK_EMBED_OLLAMA] = { "ollama", ollama_body, ollama_vectors },
};

int
rk_embed_setup(struct rk_embedder *E, const char *provider,
    const char *base_url, const char *model, const char *api, char *err,
    size_t errsize)
{
	if (model == NULL)
		model = rk_embed_default_model(provider);
	if (api == NULL)
		api = strcmp(provider, "ollama") == 0 ? "ollama" : "openai";
	if (strcmp(api, "openai") == 0)
		E->api = RK_EMBED_OPENAI;
	else if (strcmp(api, "ollama") == 0)
		E->api = RK_EMBED_OLLAMA;
	else {
		snprintf(err, errsize, "--api: not openai or ollama: '%s'",
		    api);
		return -1;
	}
	if (strcmp(provider, "mock") == 0) {
		E->api = RK_EMBED_HASH;
		E->dim = E->dimensions > 0 ? (size_t)E->dimensions : HASH_DIM;
		return 0;
	}
	if (rk_provider_known(provider, err, errsize) == -1)
		return -1;
	/* before the model: no -m would help */
	if (rk_provider_dialect(provider) != &rk_dialect_openai) {
		snprintf(err, errsize, "%s: no embeddings API (use openai, "
		    "ollama or an OpenAI-compatible server)", provider);
		return -1;
	}
	if (model == NULL) {
		snprintf(err, errsize, "%s: no embedding model: use -m or "
		    "RK_EMBED_MODEL", provider);
		return -1;
	}
	return rk_endpoint_setup(&E->ep, provider, base_url, model, err,
	    errsize);
}

void
rk_embed_free(struct rk_embedder *E)
{
	rk_http_free(E->http);
	rk_endpoint_free(&E->ep);
	E->http = NULL;
}

void
rk_embedding_clear(struct rk_embedding *e)
{
	free(e->v);
	free(e->code);
	free(e->msg);
	e->v = NULL;
	e->code = e->msg = NULL;
	e->cached = e->status = 0;
}

static void
embedding_fail(struct rk_embedding *e, int status, const char *code,
    const char *msg)
{
	rk_embedding_clear(e);
	e->status = status;
	e->code = rk_xstrdup(code);
	e->msg = rk_xstrdup(msg);
}

/* The request URL: Ollama's API is /api/embed at the server's root. */
static char *
request_url(const struct rk_embedder *E)
{
	const char *b = E->ep.base_url;
	size_t n = strlen(b);
	char *u;

	if (E->api == RK_EMBED_OPENAI) {
		rk_asprintf(&u, "%s/embeddings", b);
		return u;
	}
	if (n >= 3 && strcmp(b + n - 3, "/v1") == 0)
		n -= 3;
	rk_asprintf(&u, "%.*s/api/embed", (int)n, b);
	return u;
}

/* The cache key of a text: provider, base URL, model, dimensions, text. */
static void
cache_key(const struct rk_embedder *E, const char *text,
    char key[RK_CACHE_KEY])
{
	json_t *k = json_pack("{s:s, s:s, s:s, s:s, s:I, s:s}", "kind",
	    "embedding", "provider", E->ep.provider, "base_url",
	    E->ep.base_url, "model", E->ep.model, "dimensions",
	    (json_int_t)E->dimensions, "text", text);

	rk_cache_key(k, key);
	json_decref(k);
}

/* the texts of one request */
struct batch {
	struct rk_embedding **e;
	char		(*keys)[RK_CACHE_KEY];	/* theirs, or NULL */
	size_t		 n;
	int		 attempt, done;
	double		 t_first, t_ready;
	struct rk_call	 c;		/* a failure's code and message */
	struct rk_xfer	*x;
};

struct run {
	struct rk_embedder *E;
	struct batch	*b;
	size_t		 nb;
	int		 status;
};

/* the vector a reply holds for one text, into v: 0, or -1 + why */
static int
take_vector(const json_t *a, size_t want, size_t k, float **v, char *msg,
    size_t size)
{
	const json_t *x;
	size_t i;

	if (!json_is_array(a)) {
		snprintf(msg, size, "the reply's vector %zu is not an array",
		    k);
		return -1;
	}
	if (json_array_size(a) == 0) {
		snprintf(msg, size, "the reply's vector %zu is empty", k);
		return -1;
	}
	if (want > 0 && json_array_size(a) != want) {
		snprintf(msg, size, "the reply's vector %zu has %zu numbers, "
		    "not %zu", k, json_array_size(a), want);
		return -1;
	}
	*v = rk_xmalloc(json_array_size(a) * sizeof(**v));
	json_array_foreach(a, i, x) {
		float f = (float)json_number_value(x);

		if (!json_is_number(x) || !isfinite(f)) {
			snprintf(msg, size, "the reply's vector %zu, number "
			    "%zu: %s", k, i, json_is_number(x) ?
			    "not finite as a float32" : "not a number");
			free(*v);
			*v = NULL;
			return -1;
		}
		(*v)[i] = f;
	}
	return 0;
}

/* A 2xx reply: its vectors to their texts (and the cache), or -1. */
static int
take_reply(struct run *R, struct batch *b, const struct rk_xfer *x)
{
	struct rk_embedder *E = R->E;
	const json_t **vs = rk_xmalloc(b->n * sizeof(*vs));
	float **got = rk_xmalloc(b->n * sizeof(*got));
	json_t *reply = json_loadb(x->resp.s ? x->resp.s : "", x->resp.len, 0,
	    NULL);
	char msg[256] = "the reply is not JSON";
	size_t i, k = 0, want = E->dimensions > 0 ? (size_t)E->dimensions :
	    E->dim;
	int rc = -1;

	memset(vs, 0, b->n * sizeof(*vs));
	if (reply != NULL && apis[E->api].vectors(reply, b->n, vs, msg,
	    sizeof(msg)) == 0) {
		if (want == 0)	/* the first vector's length, for them all */
			want = json_array_size(vs[0]);
		for (k = 0; k < b->n; k++)
			if (take_vector(vs[k], want, k, &got[k], msg,
			    sizeof(msg)) == -1)
				break;
	}
	if (reply != NULL && k == b->n) {
		E->dim = want;
		for (i = 0; i < b->n; i++) {
			b->e[i]->v = got[i];
			if (b->keys != NULL && E->cache != NULL &&
			    rk_cache_put_blob(E->cache, b->keys[i], got[i],
			    E->dim * sizeof(float)) == -1)
				rk_say(&E->o, 0, "cache: cannot store a "
				    "vector");
		}
		rc = 0;
	} else {
		for (i = 0; i < k; i++)
			free(got[i]);
		rk_call_fail(&b->c, "bad-response", "%s: %s", x->url, msg);
	}
	json_decref(reply);
	free(vs);
	free(got);
	return rc;
}

static void
batch_fail(struct run *R, struct batch *b, int status)
{
	for (size_t i = 0; i < b->n; i++)
		embedding_fail(b->e[i], status, b->c.errcode, b->c.errmsg);
	if (status > R->status)
		R->status = status;
	b->done = 1;
}

static void
launch(struct run *R, struct batch *b, double now)
{
	struct rk_embedder *E = R->E;
	json_t *input = json_array(), *body;
	struct rk_xfer *x;

	rk_call_clear(&b->c);
	if (rk_attempt_http(&E->http, &E->o, E->http_err,
	    sizeof(E->http_err)) == -1) {
		rk_call_fail(&b->c, "no-http", "%s", E->http_err);
		batch_fail(R, b, RK_EXIT_PROVIDER);
		return;
	}
	for (size_t i = 0; i < b->n; i++)
		json_array_append_new(input, json_string(b->e[i]->text));
	body = apis[E->api].body(E, input);
	x = rk_xmalloc(sizeof(*x));
	memset(x, 0, sizeof(*x));
	x->url = request_url(E);
	x->body = json_dumps(body, JSON_COMPACT);
	json_decref(body);
	x->headers = rk_dialect_openai.headers(E->ep.key);
	x->total_ms = E->o.total_ms;
	x->ud = b;
	b->attempt++;
	if (b->attempt == 1)
		b->t_first = now;
	if (rk_http_start(E->http, x) == -1) {
		rk_xfer_free(x);
		rk_call_fail(&b->c, "no-http", "cannot start a transfer");
		batch_fail(R, b, RK_EXIT_PROVIDER);
		return;
	}
	b->x = x;
}

static void
complete(struct run *R, struct batch *b, struct rk_xfer *x, double now)
{
	struct rk_embedder *E = R->E;
	double d;

	b->x = NULL;
	if (rk_attempt_outcome(&b->c, x, &E->o, &E->ep,
	    rk_json_error_message) == 0) {
		if (take_reply(R, b, x) == 0)
			b->done = 1;
		else
			batch_fail(R, b, RK_EXIT_PROVIDER);
	} else if ((d = rk_attempt_retry(&b->c, &E->o, b->attempt,
	    now - b->t_first, x)) >= 0) {
		rk_say(&E->o, 0, "embeddings of %zu text%s: %s; attempt %d "
		    "of %ld, next in %.2f s", b->n, b->n == 1 ? "" : "s",
		    b->c.errmsg, b->attempt, E->o.retries + 1, d / 1000);
		b->t_ready = now + d;
	} else
		batch_fail(R, b, RK_EXIT_PROVIDER);
	rk_xfer_free(x);
}

/* Start what may start: 1 while some batch is not done, and when next. */
static int
schedule(struct run *R, double now, double *next)
{
	int active = rk_http_active(R->E->http), left = 0;

	*next = -1;
	for (size_t i = 0; i < R->nb; i++) {
		struct batch *b = &R->b[i];

		if (b->done)
			continue;
		if (b->x == NULL && b->t_ready <= now &&
		    active < R->E->o.parallel) {
			launch(R, b, now);
			active = rk_http_active(R->E->http);
		} else if (b->x == NULL && b->t_ready > now &&
		    (*next < 0 || b->t_ready < *next))
			*next = b->t_ready;	/* a retry's wait */
		left |= !b->done;
	}
	return left;
}

static void
transfers(struct run *R)
{
	struct rk_xfer *x;
	double now, next;

	while (schedule(R, now = rk_now_ms(), &next)) {
		int t = next < 0 ? 50 : (int)(next - now) + 1;

		if (rk_http_active(R->E->http) > 0)
			rk_http_run(R->E->http, t < 50 ? t : 50, -1);
		else
			poll(NULL, 0, t);
		now = rk_now_ms();
		while ((x = rk_http_done(R->E->http)) != NULL)
			complete(R, x->ud, x, now);
	}
}

/*
 * An empty text fails alone, unsent: no embeddings API takes one (OpenAI
 * refuses the whole request).  1 if e is one.
 */
static int
empty_text(struct rk_embedding *e, int *status)
{
	if (e->text[0] != '\0')
		return 0;
	embedding_fail(e, RK_EXIT_INPUT, "empty-text", "an empty text: "
	    "nothing to embed");
	if (*status < RK_EXIT_INPUT)
		*status = RK_EXIT_INPUT;
	return 1;
}

/*
 * Whether a cached vector of len bytes is one a reply could have given:
 * of the length asked for (or of the others'), every number finite.  A
 * damaged cache wrote nan or inf, which JSON has not.
 */
static int
cached_ok(const struct rk_embedder *E, const float *v, size_t len)
{
	size_t want = E->dimensions > 0 ? (size_t)E->dimensions : E->dim;

	if (len == 0 || len % sizeof(float) != 0 ||
	    (want != 0 && len != want * sizeof(float)))
		return 0;
	for (size_t i = 0; i < len / sizeof(float); i++)
		if (!isfinite(v[i]))
			return 0;
	return 1;
}

/* The texts not answered from the cache, into batches of E->batch. */
static void
plan(struct run *R, struct rk_embedding *v, size_t n,
    char (*keys)[RK_CACHE_KEY])
{
	struct rk_embedder *E = R->E;
	size_t len;

	R->b = rk_xmalloc((n / (size_t)E->batch + 1) * sizeof(*R->b));
	for (size_t i = 0; i < n; i++) {
		struct batch *b;

		rk_embedding_clear(&v[i]);
		if (empty_text(&v[i], &R->status))
			continue;
		if (keys != NULL) {
			cache_key(E, v[i].text, keys[i]);
			v[i].v = rk_cache_get_blob(E->cache, keys[i], &len);
			if (v[i].v != NULL && cached_ok(E, v[i].v, len)) {
				E->dim = len / sizeof(float);
				v[i].cached = 1;
				continue;
			}
			free(v[i].v);
			v[i].v = NULL;
		}
		b = &R->b[R->nb];
		if (R->nb == 0 || b[-1].n == (size_t)E->batch) {
			memset(b, 0, sizeof(*b));
			b->e = rk_xmalloc((size_t)E->batch * sizeof(*b->e));
			b->keys = rk_xmalloc((size_t)E->batch *
			    sizeof(*b->keys));
			R->nb++;
		} else
			b--;
		b->e[b->n] = &v[i];
		if (keys != NULL)
			memcpy(b->keys[b->n], keys[i], RK_CACHE_KEY);
		b->n++;
	}
	for (size_t i = 0; keys == NULL && i < R->nb; i++) {
		free(R->b[i].keys);
		R->b[i].keys = NULL;
	}
}

/*
 * Each text of v[0..n) gets its vector (E->dim floats) or its failure: the
 * highest status of the failures, or 0.
 */
int
rk_embed_run(struct rk_embedder *E, struct rk_embedding *v, size_t n)
{
	struct run R = { E, NULL, 0, 0 };
	char (*keys)[RK_CACHE_KEY] = NULL;

	if (E->api == RK_EMBED_HASH) {
		for (size_t i = 0; i < n; i++) {
			rk_embedding_clear(&v[i]);
			if (empty_text(&v[i], &R.status))
				continue;
			v[i].v = rk_xmalloc(E->dim * sizeof(float));
			rk_embed_hash(v[i].text, E->dim, v[i].v);
		}
		return R.status;
	}
	if (E->cache != NULL && n > 0)
		keys = rk_xmalloc(n * sizeof(*keys));
	plan(&R, v, n, keys);
	free(keys);
	transfers(&R);
	for (size_t i = 0; i < R.nb; i++) {
		rk_call_clear(&R.b[i].c);
		free(R.b[i].e);
		free(R.b[i].keys);
	}
	free(R.b);
	return R.status;
}
