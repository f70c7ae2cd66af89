/*
 * rk-fakellm: a fake OpenAI- and Anthropic-compatible model server for the
 * tests.  It listens on 127.0.0.1 only, on a free port it prints, serves
 * each connection in its own thread (keep-alive), logs every request as a
 * line of NDJSON, and misbehaves on demand: the scenario comes from the
 * model name ("fake/429-then-ok") or an X-Fake-Scenario header.
 *
 *	rk-fakellm [-B] [-d delay_ms] [-k key] [-l log] [-p port] [-r replies]
 *
 * -k makes every request but Ollama's carry the key (OpenAI's
 * "Authorization: Bearer key", Anthropic's x-api-key), else 401.
 * -p asks for a port (to make fixtures whose cache keys hold the URL);
 * tests take the free one it picks without it.
 * With -r, a request that quotes a question of the replies file (see
 * lib/llm/replies.c) gets that question's next canned reply.
 * With -B it also prints the port of a "black hole" that accepts and
 * never answers (https:// to it never finishes connecting).
 *
 * Scenarios: ok, echo, no-usage, split-frames, crlf, err-json-200,
 * 429-then-ok, 429-ms-then-ok, 429-date-then-ok, 500-then-ok, 503-then-ok, 529-then-ok,
 * overloaded-in-stream, 429-always, 500-always, 401, 403, 400-context,
 * 404-model, stall-after-headers, slow-drip[:ms], drop-mid-stream,
 * slow:ms, chaos.  "-then-ok" counts attempts per distinct request body.
 * As real servers send them: usage-late (Anthropic: the final usage in
 * message_delta, larger than message_start's; OpenAI: Groq's x_groq.usage
 * in the last chunk), error-after-text (half the text, then an in-stream
 * error: Anthropic's "event: error", an OpenRouter-style error object with
 * a numeric code in a chunk; whole: that error object with status 200),
 * event-error-after-text (OpenAI dialect: "event: error").  A "+split"
 * suffix sends any reply in 7-byte writes.  Embeddings (OpenAI's
 * /v1/embeddings, Ollama's /api/embed) refuse what the real APIs refuse,
 * with their statuses and error bodies (embed_fault()), and give the
 * models' own dimensions; their scenarios: embed_reply().  The log (-l)
 * has a line per request (its body, or "raw" if not JSON), which the
 * tests count and read.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <err.h>
#include <errno.h>
#include <math.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "core/rk.h"
#include "llm/llm.h"

#define MAXHEAD	65536
#define MAXBODY	(8 << 20)

static FILE *logfp;
static long delay_ms;
static const char *want_key;	/* -k */
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static long seq;
static struct rk_replies *canned;
static long *canned_seen;	/* requests so far, per canned question */

/* attempts per request: a small open-addressing table of body hashes */
#define NSEEN 65536
static struct { uint64_t h; int n; } seen[NSEEN];

static int
attempt_of(uint64_t h)
{
	size_t i = h % NSEEN;
	int n;

	pthread_mutex_lock(&mu);
	while (seen[i].h != 0 && seen[i].h != h)
		i = (i + 1) % NSEEN;
	seen[i].h = h;
	n = ++seen[i].n;
	pthread_mutex_unlock(&mu);
	return n;
}

static uint64_t
fnv(const char *s, size_t n, uint64_t h)
{
	for (size_t i = 0; i < n; i++)
		h = (h ^ (unsigned char)s[i]) * 0x100000001b3ULL;
	return h | 1;
}

static void
sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, ms % 1000 * 1000000L };

	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

struct conn {
	int	 fd;
	long	 id;		/* the connection's number, for the log */
	char	 buf[MAXHEAD];
	size_t	 len;
};

static int
sendall(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t k = send(fd, p, n, MSG_NOSIGNAL);

		if (k <= 0) {
			if (k == -1 && errno == EINTR)
				continue;
			return -1;
		}
		p += k;
		n -= (size_t)k;
	}
	return 0;
}

static int
sendf(int fd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int
sendf(int fd, const char *fmt, ...)
{
	va_list ap;
	char *s;
	int n, rc;

	va_start(ap, fmt);
	n = rk_vasprintf(&s, fmt, ap);
	va_end(ap);
	if (n < 0)
		return -1;
	rc = sendall(fd, s, (size_t)n);
	free(s);
	return rc;
}

/* one HTTP chunk in one write, so that each is one segment */
static int
chunk(int fd, const char *p, size_t n)
{
	char *b;
	int k, rc;

	if (n == 0)
		return 0;
	b = rk_xmalloc(n + 32);
	k = snprintf(b, 32, "%zx\r\n", n);
	memcpy(b + k, p, n);
	memcpy(b + k + n, "\r\n", 2);
	rc = sendall(fd, b, (size_t)k + n + 2);
	free(b);
	return rc;
}

struct req {
	char	 method[16], path[256];
	char	 scenario[64], auth[512], apikey[512], ctype[128];
	long	 latency;
	char	*body;
	size_t	 blen;
	json_t	*json;
	int	 anthropic, stream, attempt;
	int	 embed;		/* 1 OpenAI embeddings, 2 Ollama's */
	int	 split;		/* 7-byte writes */
	int	 late;		/* usage-late */
	long	 conn;
	const char *model;
};

/* The reply text: numbered points, a verdict and a confidence. */
static char *
reply_text(const struct req *r, int utf8)
{
	static const char *pts[] = { "cost", "time", "people", "risk",
	    "technology", "customers", "rules", "operations", "strategy",
	    "evidence" };
	const json_t *m = json_object_get(r->json, "messages");
	const char *q = json_string_value(json_object_get(json_array_get(m,
	    json_array_size(m) - 1), "content"));
	uint64_t h = fnv(q ? q : "", q ? strlen(q) : 0, 0xcbf29ce484222325ULL);
	char *s = NULL;
	size_t n = 0;
	FILE *fp = open_memstream(&s, &n);

	for (int i = 0; i < 10; i++)
		fprintf(fp, "%d. %s%s matters for this question\n", i + 1,
		    pts[(h + (uint64_t)i) % 10], utf8 && i == 2 ?
		    " (caf\xc3\xa9 \xe2\x98\x95)" : "");
	fprintf(fp, "Verdict: pass\nConfidence: 0.%02d\n",
	    (int)(80 + h % 15));
	fclose(fp);
	return s;
}

/* The next canned reply to the question the request quotes, or NULL. */
static char *
canned_text(const struct req *r)
{
	const json_t *m = json_object_get(r->json, "messages"), *rs;
	const char *q = json_string_value(json_object_get(json_array_get(m,
	    json_array_size(m) - 1), "content"));
	long i = rk_replies_find(canned, q, 1, &rs), k;

	if (i < 0)
		return NULL;
	pthread_mutex_lock(&mu);
	k = canned_seen[i]++;
	pthread_mutex_unlock(&mu);
	return strdup(rk_replies_pick(rs, k));
}

static char *
echo_text(const struct req *r)
{
	json_t *o = json_pack("{s:s, s:O, s:{s:O, s:O}}", "model",
	    r->model ? r->model : "", "messages",
	    json_object_get(r->json, "messages"), "options",
	    "max_tokens", json_object_get(r->json, "max_tokens") ?
	    json_object_get(r->json, "max_tokens") : json_null(),
	    "temperature", json_object_get(r->json, "temperature") ?
	    json_object_get(r->json, "temperature") : json_null());
	char *s = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);

	json_decref(o);
	return s;
}

static void
log_request(const struct req *r)
{
	json_t *o;

	if (logfp == NULL)
		return;
	o = json_pack("{s:I, s:I, s:s, s:s, s:s, s:i, s:s?, s:s?, s:s?, s:b, "
	    "s:s?, s:O?}", "n", (json_int_t)0, "conn", (json_int_t)r->conn,
	    "method", r->method, "path", r->path,
	    "scenario", r->scenario, "attempt", r->attempt,
	    "authorization", r->auth[0] ? r->auth : NULL,
	    "x-api-key", r->apikey[0] ? r->apikey : NULL,
	    "content-type", r->ctype[0] ? r->ctype : NULL, "stream", r->stream,
	    "model", r->model, "body", r->json);
	if (r->json == NULL && r->blen > 0)	/* what was sent, not JSON */
		json_object_set_new(o, "raw", json_stringn(r->body, r->blen));
	pthread_mutex_lock(&mu);
	json_object_set_new(o, "n", json_integer(++seq));
	json_dumpf(o, logfp, JSON_COMPACT);
	fputc('\n', logfp);
	fflush(logfp);
	pthread_mutex_unlock(&mu);
	json_decref(o);
}

static int
send_json(int fd, int status, const char *extra, const char *body)
{
	static const struct { int s; const char *t; } st[] = { { 200, "OK" },
	    { 400, "Bad Request" }, { 401, "Unauthorized" },
	    { 403, "Forbidden" }, { 404, "Not Found" },
	    { 429, "Too Many Requests" }, { 500, "Internal Server Error" },
	    { 503, "Service Unavailable" }, { 529, "Overloaded" } };
	const char *text = "Status";

	for (size_t i = 0; i < sizeof(st) / sizeof(st[0]); i++)
		if (st[i].s == status)
			text = st[i].t;
	return sendf(fd, "HTTP/1.1 %d %s\r\nContent-Type: application/json\r\n"
	    "Content-Length: %zu\r\n%s\r\n%s", status, text, strlen(body),
	    extra ? extra : "", body);
}

/* the error body of the request's API: Anthropic's, Ollama's or OpenAI's */
static int
send_error(int fd, const struct req *r, int status, const char *type,
    const char *code, const char *msg, const char *extra)
{
	json_t *o;
	char *b;
	int rc;

	if (r->anthropic)
		o = json_pack("{s:s, s:{s:s, s:s}}", "type", "error", "error",
		    "type", type, "message", msg);
	else if (r->embed == 2)
		o = json_pack("{s:s}", "error", msg);
	else
		o = json_pack("{s:{s:s, s:s, s:n, s:s?}}", "error", "message",
		    msg, "type", type, "param", "code", code);
	b = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	if (b == NULL)
		return -1;
	rc = send_json(fd, status, extra, b);
	free(b);
	return rc;
}

/* a 200 JSON reply in 7-byte writes: lines, fields and UTF-8 split */
static int
send_split(int fd, const char *body)
{
	size_t n = strlen(body);
	int rc;

	rc = sendf(fd, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
	    "Content-Length: %zu\r\n\r\n", n);
	for (size_t k = 0; k < n && rc == 0; k += 7) {
		rc = sendall(fd, body + k, n - k < 7 ? n - k : 7);
		sleep_ms(1);
	}
	return rc;
}

/* Anthropic's usage as its web search replies end it */
static json_t *
late_usage(int in)
{
	return json_pack("{s:i, s:i, s:i, s:i, s:{s:i}}", "input_tokens", in,
	    "cache_creation_input_tokens", 0, "cache_read_input_tokens", 0,
	    "output_tokens", 15, "server_tool_use", "web_search_requests", 1);
}

static int
send_whole(int fd, const struct req *r, const char *text, int usage)
{
	json_t *o;
	char *b;
	int rc;

	if (r->anthropic) {
		o = json_pack("{s:s, s:s, s:s, s:s, s:[{s:s, s:s}], s:s}",
		    "id", "msg_fake", "type", "message", "role", "assistant",
		    "model", r->model ? r->model : "fake", "content", "type",
		    "text", "text", text, "stop_reason", "end_turn");
		if (usage)
			json_object_set_new(o, "usage", r->late ?
			    late_usage(10423) : json_pack("{s:i, s:i}",
			    "input_tokens", 25, "output_tokens", 15));
	} else {
		o = json_pack("{s:s, s:s, s:i, s:s, s:[{s:i, s:{s:s, s:s}, "
		    "s:s}]}", "id", "chatcmpl-fake", "object", "chat.completion",
		    "created", 1747148049, "model", r->model ? r->model : "fake",
		    "choices", "index", 0, "message", "role", "assistant",
		    "content", text, "finish_reason", "stop");
		if (usage)
			json_object_set_new(o, "usage", json_pack("{s:i, s:i, "
			    "s:i}", "prompt_tokens", r->late ? 61 : 54,
			    "completion_tokens", r->late ? 23 : 20,
			    "total_tokens", r->late ? 84 : 74));
	}
	b = json_dumps(o, JSON_COMPACT);
	rc = r->split ? send_split(fd, b) : send_json(fd, 200, NULL, b);
	free(b);
	json_decref(o);
	return rc;
}

/* the events of a stream, each a complete "event:/data:" text */
struct events {
	char	**v;
	size_t	  n;
};

static void
ev_add(struct events *e, const char *name, json_t *data, const char *raw)
{
	char *d = raw ? strdup(raw) : json_dumps(data, JSON_COMPACT), *s;

	if (name != NULL)
		rk_asprintf(&s, "event: %s\ndata: %s\n\n", name, d);
	else
		rk_asprintf(&s, "data: %s\n\n", d);
	free(d);
	json_decref(data);
	e->v = realloc(e->v, (e->n + 1) * sizeof(*e->v));
	e->v[e->n++] = s;
}

/* split the text into pieces of a few words */
static void
stream_events(const struct req *r, const char *text, int usage,
    struct events *e)
{
	const char *m = r->model ? r->model : "fake";
	const char *p = text;

	if (r->anthropic) {
		json_t *ms = json_pack("{s:s, s:{s:s, s:s, s:s, s:[], s:s}}",
		    "type", "message_start", "message", "id", "msg_fake", "type",
		    "message", "role", "assistant", "content", "model", m);

		if (usage)
			json_object_set_new(json_object_get(ms, "message"),
			    "usage", json_pack("{s:i, s:i}", "input_tokens",
			    r->late ? 2039 : 25, "output_tokens", 1));
		ev_add(e, "message_start", ms, NULL);
		ev_add(e, "content_block_start", NULL, "{\"type\":"
		    "\"content_block_start\",\"index\":0,\"content_block\":"
		    "{\"type\":\"text\",\"text\":\"\"}}");
		ev_add(e, "ping", NULL, "{\"type\": \"ping\"}");
	} else
		ev_add(e, NULL, json_pack("{s:s, s:s, s:i, s:s, s:[{s:i, "
		    "s:{s:s, s:s}, s:n}], s:n}", "id", "chatcmpl-fake",
		    "object", "chat.completion.chunk", "created", 1747148049,
		    "model", m, "choices", "index", 0, "delta", "role",
		    "assistant", "content", "", "finish_reason", "usage"),
		    NULL);
	while (*p) {
		size_t n = 0;
		int words = 0;
		char *piece;

		while (p[n] && words < 3)
			if (p[n++] == ' ')
				words++;
		piece = strndup(p, n);
		if (r->anthropic)
			ev_add(e, "content_block_delta", json_pack("{s:s, s:i, "
			    "s:{s:s, s:s}}", "type", "content_block_delta",
			    "index", 0, "delta", "type", "text_delta", "text",
			    piece), NULL);
		else
			ev_add(e, NULL, json_pack("{s:s, s:s, s:i, s:s, "
			    "s:[{s:i, s:{s:s}, s:n}], s:n}", "id",
			    "chatcmpl-fake", "object", "chat.completion.chunk",
			    "created", 1747148049, "model", m, "choices",
			    "index", 0, "delta", "content", piece,
			    "finish_reason", "usage"), NULL);
		free(piece);
		p += n;
	}
	if (r->anthropic) {
		ev_add(e, "content_block_stop", NULL, "{\"type\":"
		    "\"content_block_stop\",\"index\":0}");
		ev_add(e, "message_delta", usage ? json_pack("{s:s, s:{s:s, "
		    "s:n}, s:o}", "type", "message_delta", "delta",
		    "stop_reason", "end_turn", "stop_sequence", "usage",
		    r->late ? late_usage(10423) : json_pack("{s:i}",
		    "output_tokens", 15)) : json_pack("{s:s, s:{s:s, s:n}}",
		    "type", "message_delta", "delta", "stop_reason",
		    "end_turn", "stop_sequence"), NULL);
		ev_add(e, "message_stop", NULL, "{\"type\":\"message_stop\"}");
	} else if (r->late && usage) {
		/* Groq: no usage chunk; the last one carries x_groq.usage */
		ev_add(e, NULL, json_pack("{s:s, s:s, s:i, s:s, s:[{s:i, "
		    "s:{}, s:s}], s:{s:s, s:{s:f, s:i, s:i, s:i}}}", "id",
		    "chatcmpl-fake", "object", "chat.completion.chunk",
		    "created", 1747148049, "model", m, "choices", "index", 0,
		    "delta", "finish_reason", "stop", "x_groq", "id", "req_fake",
		    "usage", "queue_time", 0.012, "prompt_tokens", 61,
		    "completion_tokens", 23, "total_tokens", 84), NULL);
		ev_add(e, NULL, NULL, "[DONE]");
	} else {
		ev_add(e, NULL, json_pack("{s:s, s:s, s:i, s:s, s:[{s:i, "
		    "s:{}, s:s}], s:n}", "id", "chatcmpl-fake", "object",
		    "chat.completion.chunk", "created", 1747148049, "model", m,
		    "choices", "index", 0, "delta", "finish_reason", "stop",
		    "usage"), NULL);
		if (usage)
			ev_add(e, NULL, json_pack("{s:s, s:s, s:i, s:s, s:[], "
			    "s:{s:i, s:i, s:i}}", "id", "chatcmpl-fake",
			    "object", "chat.completion.chunk", "created",
			    1747148049, "model", m, "choices", "usage",
			    "prompt_tokens", 54, "completion_tokens", 20,
			    "total_tokens", 74), NULL);
		ev_add(e, NULL, NULL, "[DONE]");
	}
}

static void
ev_free(struct events *e)
{
	for (size_t i = 0; i < e->n; i++)
		free(e->v[i]);
	free(e->v);
}

static char *
crlf(const char *s)
{
	char *o = malloc(strlen(s) * 2 + 1), *q = o;

	for (; *s; s++) {
		if (*s == '\n')
			*q++ = '\r';
		*q++ = *s;
	}
	*q = '\0';
	return o;
}

static int
stream_head(int fd)
{
	return sendf(fd, "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream; "
	    "charset=utf-8\r\nTransfer-Encoding: chunked\r\n"
	    "Cache-Control: no-cache\r\n\r\n");
}

/* wait until the client goes away (or a minute passes) */
static void
hang(int fd)
{
	struct pollfd p = { fd, POLLIN, 0 };
	char b[256];

	for (int i = 0; i < 600; i++)
		if (poll(&p, 1, 100) > 0 && recv(fd, b, sizeof(b), 0) <= 0)
			return;
}

/* a pseudo-random unit vector, no number 0, seeded by the text */
static void
dense(const char *text, size_t dim, float *v)
{
	uint64_t x = fnv(text, strlen(text), 0xcbf29ce484222325ULL);
	double sum = 0;

	for (size_t i = 0; i < dim; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		v[i] = (float)((double)(x >> 11) / 9007199254740992.0 - 0.5);
		sum += (double)v[i] * v[i];
	}
	for (size_t i = 0; i < dim; i++)
		v[i] = (float)(v[i] / sqrt(sum));
}

/* one vector of the hashed bag of words, "[...]", into fp */
static void
embed_vector(FILE *fp, const char *text, size_t dim, const char *sc,
    int first, int last)
{
	float *v = calloc(dim, sizeof(*v));
	size_t n = strcmp(sc, "embed-empty") == 0 ? 0 :
	    dim - (last && strcmp(sc, "embed-dims") == 0);

	if (strcmp(sc, "embed-dense") == 0)
		dense(text, dim, v);
	else
		rk_embed_hash(text, dim, v);
	fputc('[', fp);
	for (size_t i = 0; i < n; i++) {
		if (i > 0)
			fputc(',', fp);
		if (first && i == 0 && strcmp(sc, "embed-nan") == 0)
			fputs("NaN", fp);
		else if (first && i == 0 && strcmp(sc, "embed-big") == 0)
			fputs("1e39", fp);
		else if (first && i == 0 && strcmp(sc, "embed-string") == 0)
			fputs("\"0.5\"", fp);
		else
			fprintf(fp, "%.9g", (double)v[i]);
	}
	fputc(']', fp);
	free(v);
}

/*
 * The embedding models the fake knows, with their own dimensions and the
 * most a request's "dimensions" may ask (0: it may not ask; OpenAI's
 * text-embedding-3 and Ollama's newer models can shorten their vectors).
 * Any other model gives 64 and may be asked for any number.
 */
static const struct emodel {
	const char	*name;
	json_int_t	 dim, max;
} emodels[] = {
	{ "text-embedding-3-small", 1536, 1536 },
	{ "text-embedding-3-large", 3072, 3072 },
	{ "text-embedding-ada-002", 1536, 0 },
	{ "nomic-embed-text", 768, 768 },
	{ "mxbai-embed-large", 1024, 1024 },
	{ "all-minilm", 384, 384 },
	{ "BAAI/bge-small-en-v1.5", 384, 0 },
}, any_model = { "", 64, INT32_MAX };

static const struct emodel *
emodel(const char *name)
{
	size_t n = strcspn(name, ":");	/* an Ollama tag: ":latest" */

	for (size_t i = 0; i < sizeof(emodels) / sizeof(*emodels); i++)
		if (strlen(emodels[i].name) == n &&
		    strncmp(emodels[i].name, name, n) == 0)
			return &emodels[i];
	return &any_model;
}

#define OPENAI_NOT_JSON "We could not parse the JSON body of your " \
	"request. (HINT: This likely means you aren't using your HTTP " \
	"library correctly. The OpenAI API expects a JSON payload, but what " \
	"was sent was not valid JSON. If you have trouble figuring out how " \
	"to fix this, please contact us through our help center at " \
	"help.openai.com.)"
#define OPENAI_NO_KEY "You didn't provide an API key. You need to " \
	"provide your API key in an Authorization header using Bearer auth " \
	"(i.e. Authorization: Bearer YOUR_KEY)."
#define OPENAI_BAD_INPUT "'$.input' is invalid. Please check the API " \
	"reference: https://platform.openai.com/docs/api-reference."

/* OpenAI's input: a text, or 1 to 2048 of them, none empty */
static int
openai_input_ok(const json_t *in)
{
	const json_t *t;
	size_t i;

	if (json_is_string(in))
		return json_string_length(in) > 0;
	if (!json_is_array(in) || json_array_size(in) == 0 ||
	    json_array_size(in) > 2048)
		return 0;
	json_array_foreach(in, i, t)
		if (!json_is_string(t) || json_string_length(t) == 0)
			return 0;
	return 1;
}

/* the member of o that is not one of names[], or NULL */
static const char *
unknown_member(json_t *o, const char *const *names, size_t n)
{
	const char *k;
	json_t *v;
	size_t i;

	json_object_foreach(o, k, v) {
		for (i = 0; i < n && strcmp(k, names[i]) != 0; i++)
			;
		if (i == n)
			return k;
	}
	return NULL;
}

/*
 * What OpenAI's /v1/embeddings answers a request it refuses: its status,
 * the message in msg; 0 for a good request.  The fake serves floats only
 * (the real API would send base64 strings on request).
 */
static int
openai_embed_fault(const struct req *r, char *msg, size_t size)
{
	static const char *const names[] = { "model", "input", "dimensions",
	    "encoding_format", "user" };
	const json_t *m = json_object_get(r->json, "model");
	const json_t *d = json_object_get(r->json, "dimensions");
	const json_t *f = json_object_get(r->json, "encoding_format");
	const char *k;

	if (strncasecmp(r->ctype, "application/json", 16) != 0 ||
	    !json_is_object(r->json))
		snprintf(msg, size, "%s", OPENAI_NOT_JSON);
	else if ((k = unknown_member(r->json, names, 5)) != NULL)
		snprintf(msg, size, "Unrecognized request argument supplied: "
		    "%s", k);
	else if (m == NULL)
		snprintf(msg, size, "you must provide a model parameter");
	else if (!json_is_string(m))
		snprintf(msg, size, "Invalid type for 'model': expected a "
		    "string, but got %s instead.", json_is_integer(m) ?
		    "an integer" : "another type");
	else if (json_object_get(r->json, "input") == NULL)
		snprintf(msg, size, "'input' is a required property");
	else if (!openai_input_ok(json_object_get(r->json, "input")))
		snprintf(msg, size, "%s", OPENAI_BAD_INPUT);
	else if (f != NULL && (!json_is_string(f) ||
	    strcmp(json_string_value(f), "float") != 0))
		snprintf(msg, size, "Invalid value for 'encoding_format': the "
		    "fake serves 'float' only.");
	else if (d != NULL && (!json_is_integer(d) ||
	    json_integer_value(d) < 1))
		snprintf(msg, size, "Invalid value for 'dimensions': expected "
		    "an integer of 1 or more.");
	else if (d != NULL && emodel(json_string_value(m))->max == 0)
		snprintf(msg, size, "This model does not support specifying "
		    "dimensions.");
	else if (d != NULL && json_integer_value(d) >
	    emodel(json_string_value(m))->max)
		snprintf(msg, size, "Invalid value for 'dimensions': %s has at "
		    "most %lld.", json_string_value(m),
		    (long long)emodel(json_string_value(m))->max);
	else
		return 0;
	return 400;
}

/* JSON's name of a value's type, as Go's encoding/json says it */
static const char *
go_type(const json_t *v)
{
	return json_is_object(v) ? "object" : json_is_array(v) ? "array" :
	    json_is_string(v) ? "string" : json_is_number(v) ? "number" :
	    json_is_boolean(v) ? "bool" : "null";
}

/* an array of strings only */
static int
strings_only(const json_t *a)
{
	const json_t *t;
	size_t i;

	if (!json_is_array(a))
		return 0;
	json_array_foreach(a, i, t)
		if (!json_is_string(t))
			return 0;
	return 1;
}

/* v is of Go's type gotype, as Ollama's EmbedRequest takes it */
static int
go_type_ok(const json_t *v, const char *gotype)
{
	if (strcmp(gotype, "string") == 0)
		return json_is_string(v);
	if (strcmp(gotype, "bool") == 0)
		return json_is_boolean(v);
	if (strcmp(gotype, "int") == 0)
		return json_is_integer(v);
	if (strcmp(gotype, "api.Duration") == 0)	/* "5m" or seconds */
		return json_is_string(v) || json_is_number(v);
	return json_is_object(v);
}

/*
 * What Ollama's /api/embed answers a request it refuses (server/routes.go,
 * EmbedHandler): its status, the message in msg; 0 for a good request.
 * Members it does not know it ignores, as Go's JSON decoder does.
 */
static int
ollama_embed_fault(const struct req *r, char *msg, size_t size)
{
	/* members and their Go types */
	static const char *const f[] = { "model", "string", "truncate",
	    "bool", "options", "map[string]interface {}", "dimensions", "int",
	    "keep_alive", "api.Duration" };
	const json_t *in = json_object_get(r->json, "input"), *v;

	if (r->blen == 0) {
		snprintf(msg, size, "missing request body");
		return 400;
	}
	if (!json_is_object(r->json)) {
		snprintf(msg, size, "invalid character in the JSON body");
		return 400;
	}
	for (size_t i = 0; i < sizeof(f) / sizeof(*f); i += 2)
		if ((v = json_object_get(r->json, f[i])) != NULL &&
		    !json_is_null(v) && !go_type_ok(v, f[i + 1])) {
			snprintf(msg, size, "json: cannot unmarshal %s into Go "
			    "struct field EmbedRequest.%s of type %s",
			    go_type(v), f[i], f[i + 1]);
			return 400;
		}
	if (r->model == NULL || r->model[0] == '\0') {
		snprintf(msg, size, "model '' not found");
		return 404;
	}
	if (in != NULL && !json_is_null(in) && !json_is_string(in) &&
	    !strings_only(in)) {
		snprintf(msg, size, "invalid input type");
		return 400;
	}
	return 0;
}

/* what the embeddings API answers a request it refuses, or 0 */
static int
embed_fault(const struct req *r, char *msg, size_t size)
{
	return r->embed == 1 ? openai_embed_fault(r, msg, size) :
	    ollama_embed_fault(r, msg, size);
}

/* the texts of a good request: an array, the caller's to free */
static json_t *
embed_texts(const struct req *r)
{
	json_t *in = json_object_get(r->json, "input");

	if (json_is_array(in))
		return json_incref(in);
	/* Ollama: an empty text, or none, loads the model and embeds none */
	return json_string_length(in) > 0 ? json_pack("[O]", in) : json_array();
}

/* the vectors' length: what the model has, or "dimensions" shortens */
static size_t
embed_dim(const struct req *r)
{
	json_int_t d = json_integer_value(json_object_get(r->json,
	    "dimensions")), own = emodel(r->model)->dim;

	if (r->embed == 1)
		return (size_t)(d > 0 ? d : own);
	return (size_t)(d > 0 && d < own ? d : own);	/* Ollama's rule */
}

/* words, for the usage: the fake's tokens */
static size_t
embed_tokens(const json_t *texts)
{
	const json_t *t;
	size_t i, n = 0;

	json_array_foreach(texts, i, t)
		for (const char *p = json_string_value(t); *p; p++)
			n += !isspace((unsigned char)*p) && (p[1] == '\0' ||
			    isspace((unsigned char)p[1]));
	return n;
}

/*
 * A good request's reply: OpenAI's {object, data: [{object, index,
 * embedding}], model, usage} or Ollama's {model, embeddings,
 * total_duration, load_duration, prompt_eval_count}; each vector a hashed
 * bag of words (lib/llm/embed_text.c).  Scenarios: embed-count (a vector
 * short), embed-dims (the last one a number short), embed-empty (each one
 * []), embed-nan, embed-big (1e39, no float32), embed-string (a number as
 * a string), embed-missing (no vectors), embed-shuffle (OpenAI: data in
 * reverse order, right indexes), embed-index-dup (the last index repeats
 * the first), embed-index-range (the last index one past the end),
 * embed-jitter (each reply after 0 to 39 ms, by the request), embed-dense
 * (pseudo-random vectors with no zeros, for benchmarks).
 */
static char *
embed_reply(const struct req *r, const json_t *texts, const char *sc)
{
	size_t n = json_array_size(texts), dim = embed_dim(r);
	size_t sent = n - (n > 0 && strcmp(sc, "embed-count") == 0);
	int shuffle = strcmp(sc, "embed-shuffle") == 0;
	int missing = strcmp(sc, "embed-missing") == 0;
	char *b = NULL, *model = json_dumps(json_object_get(r->json, "model"),
	    JSON_ENCODE_ANY);
	size_t blen = 0;
	FILE *fp = open_memstream(&b, &blen);

	fputs(r->embed == 1 ? "{\"object\":\"list\"" : "{\"model\":", fp);
	if (r->embed == 2)
		fputs(model, fp);
	if (!missing)
		fputs(r->embed == 1 ? ",\"data\":[" : ",\"embeddings\":[", fp);
	for (size_t k = 0; !missing && k < sent; k++) {
		size_t i = shuffle ? sent - 1 - k : k, ix = i;

		if (k > 0)
			fputc(',', fp);
		if (k == sent - 1 && k > 0 &&
		    strcmp(sc, "embed-index-dup") == 0)
			ix = 0;	/* the first's */
		if (k == sent - 1 && strcmp(sc, "embed-index-range") == 0)
			ix = sent;	/* one past the end */
		if (r->embed == 1)
			fprintf(fp, "{\"object\":\"embedding\",\"index\":%zu,"
			    "\"embedding\":", ix);
		embed_vector(fp, json_string_value(json_array_get(texts, i)),
		    dim, sc, i == 0, i == sent - 1);
		if (r->embed == 1)
			fputc('}', fp);
	}
	if (!missing)
		fputc(']', fp);
	if (r->embed == 1)
		fprintf(fp, ",\"model\":%s,\"usage\":{\"prompt_tokens\":%zu,"
		    "\"total_tokens\":%zu}}", model, embed_tokens(texts),
		    embed_tokens(texts));
	else if (n > 0)
		fprintf(fp, ",\"total_duration\":%zu,\"load_duration\":1019500,"
		    "\"prompt_eval_count\":%zu}", 14143917 + 1000 * n,
		    embed_tokens(texts));
	else
		fputc('}', fp);
	fclose(fp);
	free(model);
	return b;
}

/* a good request to /v1/embeddings (OpenAI) or /api/embed (Ollama) */
static int
serve_embed(int fd, const struct req *r, const char *sc)
{
	char *b;
	json_t *texts;
	int rc;

	if (strcmp(sc, "embed-jitter") == 0)
		sleep_ms((long)(fnv(r->body, r->blen, 0xcbf29ce484222325ULL) %
		    40));
	texts = embed_texts(r);
	b = embed_reply(r, texts, sc);
	json_decref(texts);
	rc = send_json(fd, 200, NULL, b);
	free(b);
	return rc;
}

/*
 * With -k, the key a request must carry: "Authorization: Bearer <key>",
 * or Anthropic's x-api-key; Ollama's own API takes none.
 */
static int
key_ok(const struct req *r)
{
	if (r->embed == 2)
		return 1;
	if (r->anthropic)
		return strcmp(r->apikey, want_key) == 0;
	return strncmp(r->auth, "Bearer ", 7) == 0 &&
	    strcmp(r->auth + 7, want_key) == 0;
}

#define ANTHROPIC_OVERLOADED "event: error\ndata: {\"type\":\"error\"," \
	"\"error\":{\"type\":\"overloaded_error\",\"message\":" \
	"\"Overloaded\"}}\n\n"
#define OPENROUTER_ERROR "{\"error\":{\"message\":\"Provider returned " \
	"error\",\"code\":502,\"metadata\":{\"provider_name\":\"Fake\"}}}"

/* -1: close the connection afterwards */
static int
serve(int fd, struct req *r)
{
	const char *sc = r->scenario;
	const char *err_ev = NULL;	/* the in-stream error event */
	char *text, *plus;
	struct events ev = { NULL, 0 };
	long drip = 0;
	int usage = 1, rc = 0, utf8 = 0, cr = 0, drop = 0, err_at = -1;
	int half = 0, st;
	uint64_t h = fnv(r->body, r->blen, 0xcbf29ce484222325ULL);
	char msg[512];

	if (want_key != NULL && !key_ok(r))
		return send_error(fd, r, 401, r->anthropic ?
		    "authentication_error" : "invalid_request_error",
		    r->anthropic || r->auth[0] == '\0' ? NULL :
		    "invalid_api_key", r->anthropic ? "invalid x-api-key" :
		    r->auth[0] == '\0' ? OPENAI_NO_KEY :
		    "Incorrect API key provided.", NULL);
	if (r->embed && (st = embed_fault(r, msg, sizeof(msg))) != 0)
		return send_error(fd, r, st, "invalid_request_error", NULL,
		    msg, NULL);
	if ((plus = strstr(r->scenario, "+split")) != NULL) {
		*plus = '\0';
		r->split = 1;
	}
	r->late = strcmp(sc, "usage-late") == 0;

	if (strncmp(sc, "slow:", 5) == 0)
		sleep_ms(atol(sc + 5));
	if (strcmp(sc, "chaos") == 0) {
		static const char *pick[] = { "500-then-ok", "429-ms-then-ok",
		    "400-context", "drop-mid-stream", "ok", "ok", "ok", "ok" };

		sc = pick[(h >> 7) % 8];
		if (strcmp(sc, "drop-mid-stream") == 0 && !r->stream)
			sc = "503-then-ok";
	}
	if (strcmp(sc, "401") == 0)
		return send_error(fd, r, 401, r->anthropic ?
		    "authentication_error" : "invalid_request_error",
		    "invalid_api_key", "Incorrect API key provided", NULL);
	if (strcmp(sc, "403") == 0)
		return send_error(fd, r, 403, "permission_error", NULL,
		    "Not allowed", NULL);
	if (strcmp(sc, "404-model") == 0)
		return send_error(fd, r, 404, "not_found_error",
		    "model_not_found", "The model does not exist", NULL);
	if (strcmp(sc, "400-context") == 0)
		return send_error(fd, r, 400, "invalid_request_error",
		    "context_length_exceeded", "This model's maximum context "
		    "length is 8192 tokens. However, your messages resulted in "
		    "9001 tokens.", NULL);
	if (strcmp(sc, "429-always") == 0 || (strcmp(sc, "429-then-ok") == 0
	    && r->attempt == 1))
		return send_error(fd, r, 429, "rate_limit_error",
		    "rate_limit_exceeded", "Rate limit reached",
		    "retry-after: 1\r\n");
	if (strcmp(sc, "429-date-then-ok") == 0 && r->attempt == 1) {
		char h[96];
		time_t t = time(NULL) + 1;
		struct tm tm;

		strftime(h, sizeof(h), "retry-after: %a, %d %b %Y %H:%M:%S "
		    "GMT\r\n", gmtime_r(&t, &tm));
		return send_error(fd, r, 429, "rate_limit_error",
		    "rate_limit_exceeded", "Rate limit reached", h);
	}
	if (strcmp(sc, "429-ms-then-ok") == 0 && r->attempt == 1)
		return send_error(fd, r, 429, "rate_limit_error",
		    "rate_limit_exceeded", "Rate limit reached",
		    "retry-after: 30\r\nretry-after-ms: 100\r\n");
	if (strcmp(sc, "500-always") == 0 || (strcmp(sc, "500-then-ok") == 0
	    && r->attempt == 1))
		return send_error(fd, r, 500, "api_error", NULL,
		    "The server had an error", NULL);
	if (strcmp(sc, "503-then-ok") == 0 && r->attempt == 1)
		return send_error(fd, r, 503, "api_error", NULL,
		    "Service unavailable", NULL);
	if (strcmp(sc, "529-then-ok") == 0 && r->attempt == 1)
		return send_error(fd, r, 529, "overloaded_error", NULL,
		    "Overloaded", NULL);
	if (strcmp(sc, "err-json-200") == 0)
		return send_json(fd, 200, NULL, r->anthropic ?
		    "{\"type\":\"error\",\"error\":{\"type\":"
		    "\"invalid_request_error\",\"message\":\"bad things\"}}" :
		    "{\"error\":{\"message\":\"bad things\",\"type\":"
		    "\"invalid_request_error\",\"code\":null}}");
	if (strcmp(sc, "stall-after-headers") == 0) {
		if (r->stream)
			stream_head(fd);
		else
			sendf(fd, "HTTP/1.1 200 OK\r\nContent-Type: "
			    "application/json\r\nContent-Length: 100\r\n\r\n");
		hang(fd);
		return -1;
	}
	if (r->embed)
		return serve_embed(fd, r, sc);
	if (strcmp(sc, "no-usage") == 0)
		usage = 0;
	else if (strcmp(sc, "split-frames") == 0)
		r->split = utf8 = 1;
	else if (strcmp(sc, "crlf") == 0)
		cr = 1;
	else if (strcmp(sc, "drop-mid-stream") == 0)
		drop = 1;
	else if (strncmp(sc, "slow-drip", 9) == 0)
		drip = sc[9] == ':' ? atol(sc + 10) : 300;
	else if (strcmp(sc, "overloaded-in-stream") == 0 && r->attempt == 1) {
		err_at = 1;
		err_ev = r->anthropic ? ANTHROPIC_OVERLOADED :
		    "data: {\"error\":{\"message\":\"Overloaded\",\"type\":"
		    "\"server_error\"}}\n\n";
	} else if (strcmp(sc, "error-after-text") == 0) {
		half = 1;
		err_ev = r->anthropic ? ANTHROPIC_OVERLOADED : "data: "
		    OPENROUTER_ERROR "\n\n";
	} else if (strcmp(sc, "event-error-after-text") == 0) {
		half = 1;
		err_ev = "event: error\ndata: " OPENROUTER_ERROR "\n\n";
	}
	if (strcmp(sc, "echo") == 0)
		text = echo_text(r);
	else if ((text = canned_text(r)) == NULL)
		text = reply_text(r, utf8);
	if (!r->stream && half) {
		free(text);
		return send_json(fd, 200, NULL, r->anthropic ? "{\"type\":"
		    "\"error\",\"error\":{\"type\":\"overloaded_error\","
		    "\"message\":\"Overloaded\"}}" : OPENROUTER_ERROR);
	}
	if (!r->stream) {
		if (drop) {
			sendf(fd, "HTTP/1.1 200 OK\r\nContent-Type: application/"
			    "json\r\nContent-Length: 500\r\n\r\n{\"id\":");
			free(text);
			return -1;
		}
		rc = send_whole(fd, r, text, usage);
		free(text);
		return rc;
	}
	stream_events(r, text, usage, &ev);
	free(text);
	if (half)
		err_at = (int)ev.n / 2;
	if (stream_head(fd) == -1) {
		ev_free(&ev);
		return -1;
	}
	for (size_t i = 0; i < ev.n && rc == 0; i++) {
		char *e = cr ? crlf(ev.v[i]) : strdup(ev.v[i]);
		size_t n = strlen(e);

		if ((int)i == err_at) {
			free(e);
			e = strdup(err_ev);
			n = strlen(e);
		}
		if (drop && i == ev.n / 2) {
			/* half an event, then the connection goes */
			chunk(fd, e, n / 2);
			free(e);
			ev_free(&ev);
			return -1;
		}
		if (r->split) {
			/* 7-byte pieces split lines, fields and UTF-8 */
			for (size_t k = 0; k < n && rc == 0; k += 7) {
				rc = chunk(fd, e + k, n - k < 7 ? n - k : 7);
				sleep_ms(1);
			}
		} else
			rc = chunk(fd, e, n);
		free(e);
		if ((int)i == err_at)
			break;
		if (drip > 0)
			sleep_ms(drip);
	}
	ev_free(&ev);
	if (rc == 0)
		rc = sendall(fd, "0\r\n\r\n", 5);
	return rc;
}

static void
header(struct req *r, const char *name, const char *v)
{
	if (strcasecmp(name, "authorization") == 0)
		snprintf(r->auth, sizeof(r->auth), "%s", v);
	else if (strcasecmp(name, "x-api-key") == 0)
		snprintf(r->apikey, sizeof(r->apikey), "%s", v);
	else if (strcasecmp(name, "content-type") == 0)
		snprintf(r->ctype, sizeof(r->ctype), "%s", v);
	else if (strcasecmp(name, "x-fake-scenario") == 0)
		snprintf(r->scenario, sizeof(r->scenario), "%s", v);
	else if (strcasecmp(name, "x-fake-latency") == 0)
		r->latency = atol(v);
	else if (strcasecmp(name, "content-length") == 0)
		r->blen = (size_t)atol(v);
}

static char *
find_crlf2(char *p, size_t n)
{
	for (size_t i = 0; i + 4 <= n; i++)
		if (memcmp(p + i, "\r\n\r\n", 4) == 0)
			return p + i;
	return NULL;
}

/* read one request; 0 ok, -1 closed or bad */
static int
read_request(struct conn *c, struct req *r)
{
	char *end, *line, *save = NULL;
	size_t hlen, have;

	while ((end = find_crlf2(c->buf, c->len)) == NULL) {
		ssize_t k;

		if (c->len == sizeof(c->buf) - 1)
			return -1;
		k = recv(c->fd, c->buf + c->len, sizeof(c->buf) - 1 - c->len,
		    0);
		if (k <= 0)
			return -1;
		c->len += (size_t)k;
	}
	*end = '\0';
	hlen = (size_t)(end - c->buf) + 4;
	line = strtok_r(c->buf, "\r\n", &save);
	if (line == NULL || sscanf(line, "%15s %255s", r->method, r->path) != 2)
		return -1;
	while ((line = strtok_r(NULL, "\r\n", &save)) != NULL) {
		char *colon = strchr(line, ':');

		if (colon == NULL)
			continue;
		*colon++ = '\0';
		while (*colon == ' ')
			colon++;
		header(r, line, colon);
	}
	if (r->blen > MAXBODY)
		return -1;
	r->body = malloc(r->blen + 1);
	have = c->len - hlen < r->blen ? c->len - hlen : r->blen;
	memcpy(r->body, c->buf + hlen, have);
	memmove(c->buf, c->buf + hlen + have, c->len - hlen - have);
	c->len -= hlen + have;
	while (have < r->blen) {
		ssize_t k = recv(c->fd, r->body + have, r->blen - have, 0);

		if (k <= 0)
			return -1;
		have += (size_t)k;
	}
	r->body[r->blen] = '\0';
	return 0;
}

static void *
connection(void *arg)
{
	struct conn *c = arg;

	for (;;) {
		struct req r;
		const char *m;
		int rc;

		memset(&r, 0, sizeof(r));
		r.conn = c->id;
		if (read_request(c, &r) == -1) {
			free(r.body);
			break;
		}
		r.json = json_loadb(r.body, r.blen, 0, NULL);
		r.model = json_string_value(json_object_get(r.json, "model"));
		r.stream = json_is_true(json_object_get(r.json, "stream"));
		r.anthropic = strlen(r.path) >= 9 &&
		    strcmp(r.path + strlen(r.path) - 9, "/messages") == 0;
		r.embed = strlen(r.path) >= 11 && strcmp(r.path +
		    strlen(r.path) - 11, "/embeddings") == 0 ? 1 :
		    strcmp(r.path, "/api/embed") == 0 ? 2 : 0;
		if (r.scenario[0] == '\0') {
			m = r.model && strncmp(r.model, "fake/", 5) == 0 ?
			    r.model + 5 : "ok";
			snprintf(r.scenario, sizeof(r.scenario), "%s", m);
		}
		r.attempt = attempt_of(fnv(r.scenario, strlen(r.scenario),
		    fnv(r.body, r.blen, 0xcbf29ce484222325ULL)));
		log_request(&r);
		if (delay_ms + r.latency > 0)
			sleep_ms(delay_ms + r.latency);
		if (strcmp(r.method, "GET") == 0 &&
		    strstr(r.path, "/models") != NULL)
			rc = send_json(c->fd, 200, NULL, "{\"object\":\"list\","
			    "\"data\":[{\"id\":\"fake/ok\",\"object\":"
			    "\"model\"},{\"id\":\"gpt-4o-mini\"},{\"id\":"
			    "\"claude-sonnet-4-5\"},{\"id\":\"fake-unpriced\"}]}");
		else if (strcmp(r.method, "POST") != 0 || (r.json == NULL &&
		    !r.embed) ||
		    (!r.anthropic && !r.embed && strstr(r.path,
		    "/chat/completions") == NULL))
			rc = send_json(c->fd, 404, NULL, "{\"error\":{\"message"
			    "\":\"no such endpoint\",\"type\":"
			    "\"invalid_request_error\"}}");
		else
			rc = serve(c->fd, &r);
		json_decref(r.json);
		free(r.body);
		if (rc == -1)
			break;
	}
	close(c->fd);
	free(c);
	return NULL;
}

/*
 * A port on 127.0.0.1 that accepts connections and never says a word: for
 * https:// the TLS handshake, part of connecting, never ends, so a client's
 * connect timeout fires.
 */
static void *
hole_conn(void *arg)
{
	int fd = (int)(intptr_t)arg;

	hang(fd);
	close(fd);
	return NULL;
}

static void *
hole_accept(void *arg)
{
	int s = (int)(intptr_t)arg;

	for (;;) {
		int fd = accept(s, NULL, NULL);
		pthread_t th;

		if (fd == -1)
			continue;
		if (pthread_create(&th, NULL, hole_conn, (void *)(intptr_t)fd)
		    != 0)
			close(fd);
		else
			pthread_detach(th);
	}
	return NULL;
}

static int
black_hole(void)
{
	struct sockaddr_in sa;
	socklen_t len = sizeof(sa);
	int s = socket(AF_INET, SOCK_STREAM, 0);
	pthread_t th;

	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (s == -1 || bind(s, (struct sockaddr *)&sa, sizeof(sa)) == -1 ||
	    listen(s, 16) == -1 ||
	    getsockname(s, (struct sockaddr *)&sa, &len) == -1 ||
	    pthread_create(&th, NULL, hole_accept, (void *)(intptr_t)s) != 0)
		err(1, "black hole");
	pthread_detach(th);
	return ntohs(sa.sin_port);
}

int
main(int argc, char *argv[])
{
	struct sockaddr_in sa;
	socklen_t len = sizeof(sa);
	pthread_attr_t attr;
	int s, ch, one = 1, blackhole = 0, port = 0;
	long nconns = 0;

	struct rk_error e;

	while ((ch = getopt(argc, argv, "Bd:k:l:p:r:")) != -1)
		switch (ch) {
		case 'B':
			blackhole = 1;
			break;
		case 'd':
			delay_ms = atol(optarg);
			break;
		case 'k':
			want_key = optarg;
			break;
		case 'p':
			port = atoi(optarg);
			break;
		case 'l':
			if ((logfp = fopen(optarg, "a")) == NULL)
				err(1, "%s", optarg);
			break;
		case 'r':
			if ((canned = rk_replies_load(optarg, &e)) == NULL)
				errx(1, "%s", e.msg);
			canned_seen = calloc(rk_replies_count(canned) + 1,
			    sizeof(*canned_seen));
			break;
		default:
			fprintf(stderr, "usage: rk-fakellm [-B] [-d delay_ms] "
			    "[-k key] [-l log] [-p port] [-r replies]\n");
			return 2;
		}
	signal(SIGPIPE, SIG_IGN);
	if ((s = socket(AF_INET, SOCK_STREAM, 0)) == -1)
		err(1, "socket");
	setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);	/* never elsewhere */
	sa.sin_port = htons((uint16_t)port);
	if (bind(s, (struct sockaddr *)&sa, sizeof(sa)) == -1 ||
	    listen(s, 128) == -1 ||
	    getsockname(s, (struct sockaddr *)&sa, &len) == -1)
		err(1, "127.0.0.1");
	printf("%d\n", ntohs(sa.sin_port));
	if (blackhole)
		printf("%d\n", black_hole());
	fflush(stdout);
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	for (;;) {
		struct conn *c;
		pthread_t th;
		int fd = accept(s, NULL, NULL);

		if (fd == -1) {
			if (errno == EINTR || errno == ECONNABORTED ||
			    errno == EMFILE)
				continue;
			err(1, "accept");
		}
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		c = calloc(1, sizeof(*c));
		c->fd = fd;
		c->id = ++nconns;
		if (pthread_create(&th, &attr, connection, c) != 0) {
			close(fd);
			free(c);
		}
	}
}
