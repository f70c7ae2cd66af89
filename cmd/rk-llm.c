/*
 * rk-llm: fulfil each record's pending request against a model provider,
 * parse the reply into the step's structured output and append the step.
 *
 * The offline mock answers in turn, record by record.  HTTP providers run
 * up to -P requests at once over one libcurl multi handle (loaded only
 * when a request is really sent), while a reader thread keeps a bounded
 * window of records filled; records leave in input order (or as they
 * finish, with -u).
 */
#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/rk.h"
#include "llm/llm.h"
#include "think/think.h"

static struct {
	const char	*provider, *base_url, *model, *cache_path;
	long		 parallel, retries;
	double		 connect_ms, idle_ms, total_ms, retry_ms;
	double		 rps, ttl_s;
	int		 stream, unordered, no_cache, echo;
	struct rk_budget budget;
} opt = {
	.parallel = 4, .retries = 4, .connect_ms = 10000, .idle_ms = 60000,
	.total_ms = 600000, .retry_ms = 120000, .ttl_s = 86400,
};

static const struct rk_provider *provider;	/* the mock, or NULL */
static struct rk_endpoint ep;
static struct rk_prices prices;
static struct rk_cache *cache;

static void
usage(FILE *fp, int status)
{
	fprintf(fp, "usage: rk-llm [-u] [-m model] [-P jobs] [--base-url url] "
	    "[--budget limit]\n"
	    "              [--cache file] [--cache-ttl time] "
	    "[--connect-timeout time]\n"
	    "              [--idle-timeout time] [--mock] [--no-cache] "
	    "[--no-stream]\n"
	    "              [--provider name] [--retries n] [--retry-time time] "
	    "[--rps rate]\n"
	    "              [--stream] [--timeout time]\n");
	exit(status);
}

/* "1.5" (seconds), "250ms", "30s", "5m", "1h", "1d" -> milliseconds */
static int
parse_duration(const char *s, double *ms)
{
	char num[64];
	size_t n = strlen(s);
	double mul = 1000, v;

	if (n == 0 || n >= sizeof(num))
		return -1;
	strlcpy(num, s, sizeof(num));
	if (n > 2 && strcmp(s + n - 2, "ms") == 0) {
		mul = 1;
		num[n - 2] = '\0';
	} else
		switch (s[n - 1]) {
		case 's': mul = 1000; num[n - 1] = '\0'; break;
		case 'm': mul = 60000; num[n - 1] = '\0'; break;
		case 'h': mul = 3600000; num[n - 1] = '\0'; break;
		case 'd': mul = 86400000; num[n - 1] = '\0'; break;
		default: break;
		}
	if (rk_parse_double(num, &v) == -1 || v < 0 || v > 1e9)
		return -1;
	*ms = v * mul;
	return 0;
}

static void
set_duration(const char *what, const char *v, double *ms)
{
	if (v != NULL && parse_duration(v, ms) == -1)
		errx(RK_EXIT_USAGE, "%s: not a time such as 30, 2.5s, 500ms or "
		    "5m: '%s'", what, v);
}

static void
set_count(const char *what, const char *v, long max, long *n)
{
	if (v != NULL && rk_parse_uint(v, max, n) == -1)
		errx(RK_EXIT_USAGE, "%s: not a number from 0 to %ld: '%s'",
		    what, max, v);
}

static int
env_bool(const char *name)
{
	const char *v = rk_getenv(name);

	if (v == NULL || strcmp(v, "0") == 0 || strcmp(v, "no") == 0)
		return 0;
	if (strcmp(v, "1") == 0 || strcmp(v, "yes") == 0)
		return 1;
	errx(RK_EXIT_USAGE, "%s: not 0 or 1: '%s'", name, v);
}

/* ---- one step ---------------------------------------------------------- */

static json_t *
make_step(const json_t *req, struct rk_call *c, double ms_llm)
{
	double t0 = rk_now_ms();
	const char *kind = rk_get_string(req, "output");
	enum out_kind k = OUT_TEXT;
	json_t *step, *conf;
	int found;
	double v;

	if (kind != NULL)
		rk_out_kind_parse(kind, &k);
	v = rk_reply_confidence(c->text, &found);
	conf = found ? json_real(v) : json_null();
	step = json_pack("{s:O?, s:s, s:O?, s:o, s:o, s:s, s:s, "
	    "s:{s:I, s:I, s:b}, s:b}",
	    "protocol", json_object_get(req, "protocol"),
	    "step", rk_get_string(req, "step") ? rk_get_string(req, "step") : "",
	    "link", json_object_get(req, "link"),
	    "output", rk_reply_parse(c->text, k),
	    "confidence", conf,
	    "text", c->text, "model", c->model ? c->model :
	    provider ? provider->name : ep.model,
	    "usage", "in", (json_int_t)c->in, "out", (json_int_t)c->out,
	    "estimated", c->estimated, "cached", c->cached);
	if (json_is_number(json_object_get(req, "min_confidence")))
		json_object_set(step, "min_confidence",
		    json_object_get(req, "min_confidence"));
	if (c->truncated)
		json_object_set_new(step, "truncated", json_true());
	json_object_set_new(step, "ms", json_pack("{s:f, s:f, s:f, s:f}",
	    "load", rk_get_number(json_object_get(req, "ms"), "load", 0),
	    "prompt", rk_get_number(json_object_get(req, "ms"), "render", 0),
	    "llm", rk_round(ms_llm, 3),
	    "parse", rk_round(rk_now_ms() - t0, 3)));
	return step;
}

/* The step goes to steps: the record's own, or new steps of a light one. */
static void
succeed_into(json_t *rec, json_t *steps, struct rk_call *c, double ms_llm)
{
	json_t *req = json_object_get(rec, "request");

	json_array_append_new(steps, make_step(req, c, ms_llm));
	json_object_del(rec, "request");
}

static void
succeed(json_t *rec, struct rk_call *c, double ms_llm)
{
	succeed_into(rec, rk_steps(rec), c, ms_llm);
}

/*
 * A failed request stays in the record beside the error, so that the
 * failed records can be retried by removing the error and running again.
 */
static void
fail(json_t *rec, struct rk_call *c, int status)
{
	rk_fail_record(rec, status, c->errcode, "%s", c->errmsg);
}

/*
 * What the budget leaves for this request: 0 and *max_tokens / *total_ms
 * narrowed, or -1 with the call failed (code "budget").
 */
static int
budget_check(struct rk_call *c, const char *model, long *max_tokens,
    double *total_ms)
{
	const struct rk_budget *b = &opt.budget;
	double left, in;
	long cap = -1;

	if (b->kind == RK_BUDGET_NONE)
		return 0;
	left = b->limit - rk_budget_spent(b, c->rec, &prices);
	in = (double)rk_count_request_tokens(model, c->req);
	switch (b->kind) {
	case RK_BUDGET_TOKENS:
		cap = (long)(left - in);
		break;
	case RK_BUDGET_USD: {
		const struct rk_price *p = rk_price_find(&prices, model);

		if (p != NULL && p->out > 0)
			cap = (long)((left - in * p->in) / p->out);
		else if (left > 0)
			cap = LONG_MAX;
		break;
	}
	case RK_BUDGET_MS:
		if (left > 0 && (*total_ms <= 0 || left < *total_ms))
			*total_ms = left;
		cap = left >= 100 ? LONG_MAX : 0;
		break;
	default:
		break;
	}
	if (cap < 16) {
		static const char *unit[] = { "", "ms", "tokens", "USD" };

		rk_call_fail(c, "budget", "budget spent: %.6g of %.6g %s used, "
		    "too little left for a reply (--budget, RK_BUDGET)",
		    b->limit - left, b->limit, unit[b->kind]);
		return -1;
	}
	/* without a max_tokens of its own, the server's default (often
	   4096) applies, and a larger one might be refused */
	if (b->kind != RK_BUDGET_MS && (*max_tokens > 0 ? cap < *max_tokens :
	    cap < 4096))
		*max_tokens = cap;
	return 0;
}

/*
 * A request whose prompt cannot fit the model's context window (from the
 * price table) is refused before it is sent; one whose reply might not fit
 * gets a smaller max_tokens.
 */
static int
window_check(struct rk_call *c, const char *model, long *max_tokens)
{
	const struct rk_price *p = rk_price_find(&prices, model);
	long in, room;

	if (p == NULL || p->window <= 0)
		return 0;
	in = rk_count_request_tokens(model, c->req);
	room = p->window - in;
	if (room < 16) {
		rk_call_fail(c, "context-window", "request of %ld prompt "
		    "tokens does not fit the %ld-token context window of %s "
		    "(prices.tsv)", in, p->window, model);
		return -1;
	}
	if (*max_tokens > room)
		*max_tokens = room;
	return 0;
}

/* ---- the offline mock: one record at a time ---------------------------- */

/* steps: where the new step goes (NULL: the record's own steps) */
static void
mock_process(json_t *rec, json_t *steps)
{
	json_t *req = json_object_get(rec, "request");
	struct rk_call c;
	long max_tokens = 0;
	double t0, total = 0;

	if (rk_has_error(rec) || !json_is_object(req))
		return;
	memset(&c, 0, sizeof(c));
	c.rec = rec;
	c.req = req;
	t0 = rk_now_ms();
	if (budget_check(&c, "mock-1", &max_tokens, &total) == -1)
		fail(rec, &c, RK_EXIT_FAILED);
	else if (provider->call(&c) == -1)
		fail(rec, &c, RK_EXIT_PROVIDER);
	else
		succeed_into(rec, steps ? steps : rk_steps(rec), &c,
		    rk_now_ms() - t0);
	rk_call_clear(&c);
}

/*
 * A record taken lightly (see jscan.c): its request and small members are
 * parsed, its earlier steps only as far as a budget needs them, and the
 * rest of the line is copied.  -1: take it in full.
 */
static int
mock_light(const char *line, size_t len)
{
	static const char *budget_keys[] = { "cached", "usage", "ms", "model",
	    NULL };
	struct rk_light l;
	int pass;

	if (rk_light_open(&l, line, len, opt.budget.kind != RK_BUDGET_NONE ?
	    budget_keys : NULL) == -1)
		return -1;
	pass = rk_has_error(l.rec) ||
	    !json_is_object(json_object_get(l.rec, "request"));
	if (!pass) {
		l.more_steps = json_array();
		mock_process(l.rec, l.more_steps);
		if (json_array_size(l.more_steps) == 0) {
			json_decref(l.more_steps);
			l.more_steps = NULL;
		}
	}
	return rk_light_finish(stdout, &l, pass);
}

static void
run_mock(void)
{
	struct rk_reader *r = rk_reader_fd(STDIN_FILENO, "stdin");
	const char *line;
	json_t *rec;
	size_t len;
	int obj;

	while ((line = rk_read_raw(r, &len, &obj)) != NULL) {
		if (obj && mock_light(line, len) == 0)
			continue;
		rec = rk_reader_record(r);
		mock_process(rec, NULL);
		if (rk_write(stdout, rec) == -1)
			err(RK_EXIT_IO, "stdout");
		json_decref(rec);
	}
	rk_exit_status(rk_reader_status(r));
	rk_reader_free(r);
}

/* ---- HTTP: a window of records, a reader thread, the transfer loop ----- */

enum { S_EMPTY, S_NEW, S_WAIT, S_RUN, S_DONE, S_GONE };

struct slot {
	json_t		*rec;
	int		 state;
	struct rk_call	 c;
	struct rk_xfer	*x;
	struct rk_sse	 sse;
	int		 attempt;
	double		 t_first, t_ready;
	long		 max_tokens;
	double		 total_ms;
	int		 cacheable;
	char		 key[RK_CACHE_KEY];
	size_t		 echoed;
};

static struct {
	pthread_mutex_t	 mu;
	pthread_cond_t	 cv;
	struct slot	*v;
	size_t		 cap, head, count;
	int		 eof;
	int		 wake[2];
} win = { .mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER };

static struct rk_http *http;
static char http_err[256];
static double next_start;

static void
wake(void)
{
	char c = 1;

	while (write(win.wake[1], &c, 1) == -1 && errno == EINTR)
		;
}

static void *
reader(void *arg)
{
	struct rk_reader *r = rk_reader_new(stdin, "stdin");
	json_t *rec;

	while ((rec = rk_read(r)) != NULL) {
		pthread_mutex_lock(&win.mu);
		while (win.count == win.cap)
			pthread_cond_wait(&win.cv, &win.mu);
		win.v[(win.head + win.count) % win.cap].rec = rec;
		win.v[(win.head + win.count) % win.cap].state = S_NEW;
		win.count++;
		pthread_mutex_unlock(&win.mu);
		wake();
	}
	rk_exit_status(rk_reader_status(r));
	rk_reader_free(r);
	pthread_mutex_lock(&win.mu);
	win.eof = 1;
	pthread_mutex_unlock(&win.mu);
	wake();
	return NULL;
}

static json_t *
canonical(const struct slot *s)
{
	const json_t *req = s->c.req;
	json_t *k = json_pack("{s:i, s:s, s:s, s:s, s:O}", "v", 1,
	    "provider", ep.provider, "base_url", ep.base_url, "model",
	    ep.model, "messages", json_object_get(req, "messages"));

	if (k == NULL)
		return NULL;
	json_object_set_new(k, "max_tokens", json_integer(
	    json_integer_value(json_object_get(req, "max_tokens"))));
	if (json_is_number(json_object_get(req, "temperature")))
		json_object_set(k, "temperature",
		    json_object_get(req, "temperature"));
	json_object_set_new(k, "sample", json_integer(json_integer_value(
	    json_object_get(req, "sample"))));
	return k;
}

static void
slot_reset_call(struct slot *s)
{
	const json_t *rec = s->c.rec, *req = s->c.req;

	rk_call_clear(&s->c);
	s->c.rec = rec;
	s->c.req = req;
	s->echoed = 0;
}

/* A new record: pass it, answer it from the cache, or queue it. */
static void
prepare(struct slot *s, double now)
{
	json_t *req = json_object_get(s->rec, "request"), *hit, *k, *b;

	s->state = S_DONE;
	if (rk_has_error(s->rec) || !json_is_object(req))
		return;
	memset(&s->c, 0, sizeof(s->c));
	s->c.rec = s->rec;
	s->c.req = req;
	s->attempt = 0;
	s->max_tokens = (long)json_integer_value(json_object_get(req,
	    "max_tokens"));
	s->total_ms = opt.total_ms;
	if ((b = ep.dialect->body(req, ep.model, s->max_tokens, 0)) == NULL) {
		rk_call_fail(&s->c, "bad-request", "the request has no "
		    "messages (a non-empty array of {role, content})");
		fail(s->rec, &s->c, RK_EXIT_INPUT);
		rk_call_clear(&s->c);
		return;
	}
	json_decref(b);
	s->cacheable = cache != NULL && (k = canonical(s)) != NULL;
	if (s->cacheable) {
		rk_cache_key(k, s->key);
		json_decref(k);
		if ((hit = rk_cache_get(cache, s->key)) != NULL) {
			s->c.text = rk_xstrdup(rk_get_string(hit, "text") ?
			    rk_get_string(hit, "text") : "");
			s->c.model = rk_xstrdup(rk_get_string(hit, "model") ?
			    rk_get_string(hit, "model") : ep.model);
			s->c.in = (long)rk_get_number(hit, "in", 0);
			s->c.out = (long)rk_get_number(hit, "out", 0);
			s->c.estimated = json_is_true(json_object_get(hit,
			    "estimated"));
			s->c.cached = 1;
			json_decref(hit);
			succeed(s->rec, &s->c, 0);
			rk_call_clear(&s->c);
			return;
		}
	}
	if (budget_check(&s->c, ep.model, &s->max_tokens, &s->total_ms)
	    == -1 || window_check(&s->c, ep.model, &s->max_tokens) == -1) {
		fail(s->rec, &s->c, RK_EXIT_FAILED);
		rk_call_clear(&s->c);
		return;
	}
	if (s->max_tokens != json_integer_value(json_object_get(req,
	    "max_tokens")))
		s->cacheable = 0;	/* a narrowed reply is not the reply */
	s->t_first = s->t_ready = now;
	s->state = S_WAIT;
}

static int
on_event(void *arg, const char *event, const char *data)
{
	struct slot *s = arg;

	if (ep.dialect->event(&s->c, event, data) == -1)
		return -1;
	if (s->c.acc.len > rk_limits.response) {
		rk_call_fail(&s->c, "too-big", "the reply is over the limit "
		    "of %zu bytes (RK_MAX_RESPONSE)", rk_limits.response);
		return -1;
	}
	if (opt.echo && s->c.acc.len > s->echoed) {
		fwrite(s->c.acc.s + s->echoed, 1, s->c.acc.len - s->echoed,
		    stderr);
		s->echoed = s->c.acc.len;
	}
	return 0;
}

static int
on_data(struct rk_xfer *x, const char *p, size_t n)
{
	struct slot *s = x->ud;

	if (!x->is_sse) {		/* e.g. a JSON error with 200 */
		if (x->resp.len + n > rk_limits.response)
			return -1;
		rk_sbuf_add(&x->resp, p, n);
		return 0;
	}
	return rk_sse_feed(&s->sse, p, n);
}

static void
launch(struct slot *s, double now)
{
	struct rk_xfer *x;
	json_t *b;

	if (http == NULL) {
		struct rk_http_opts o = { opt.connect_ms, opt.idle_ms,
		    opt.parallel, rk_limits.response, rk_getenv("RK_CA_FILE") };

		if (http_err[0] == '\0')
			http = rk_http_new(&o, http_err, sizeof(http_err));
		if (http == NULL) {
			rk_call_fail(&s->c, "no-http", "%s", http_err);
			fail(s->rec, &s->c, RK_EXIT_PROVIDER);
			rk_call_clear(&s->c);
			s->state = S_DONE;
			return;
		}
	}
	slot_reset_call(s);
	x = rk_xmalloc(sizeof(*x));
	memset(x, 0, sizeof(*x));
	rk_asprintf(&x->url, "%s%s", ep.base_url, ep.dialect->path);
	if ((b = ep.dialect->body(s->c.req, ep.model, s->max_tokens,
	    opt.stream)) == NULL || (x->body = json_dumps(b, JSON_COMPACT)) ==
	    NULL) {
		json_decref(b);
		rk_xfer_free(x);
		rk_call_fail(&s->c, "bad-request", "cannot write the request");
		fail(s->rec, &s->c, RK_EXIT_FAILED);
		rk_call_clear(&s->c);
		s->state = S_DONE;
		return;
	}
	json_decref(b);
	x->headers = ep.dialect->headers(ep.key);
	x->total_ms = s->total_ms;
	x->ud = s;
	if (opt.stream) {
		x->on_data = on_data;
		rk_sse_free(&s->sse);
		rk_sse_init(&s->sse, rk_limits.response, on_event, s);
	}
	s->attempt++;
	s->x = x;
	if (rk_http_start(http, x) == -1) {
		rk_call_fail(&s->c, "no-http", "cannot start a transfer");
		fail(s->rec, &s->c, RK_EXIT_PROVIDER);
		rk_call_clear(&s->c);
		rk_xfer_free(x);
		s->x = NULL;
		s->state = S_DONE;
		return;
	}
	s->state = S_RUN;
	if (opt.rps > 0)
		next_start = (next_start > now ? next_start : now) +
		    1000 / opt.rps;
}

/* The outcome of one attempt, into s->c: 0 done, -1 failed. */
static int
outcome(struct slot *s, struct rk_xfer *x)
{
	struct rk_call *c = &s->c;
	const char *url = x->url;

	switch (x->result) {
	case RK_X_OK:
		break;
	case RK_X_ABORTED:
		if (c->errcode == NULL)
			rk_call_fail(c, "bad-response", "%s: the event stream "
			    "is malformed or over the limit", url);
		if (c->acc.len > 0) {
			/* text arrived, then an error: kept as for a cut
			   stream, and not retried (it was already shown) */
			c->retryable = 0;
			c->truncated = strcmp(c->errcode, "too-big") != 0;
		}
		return -1;
	case RK_X_CONNECT:
		rk_call_fail(c, "connect", "%s: %s", url, x->errbuf[0] ?
		    x->errbuf : "cannot connect");
		c->retryable = 1;
		return -1;
	case RK_X_CONNECT_TIMEOUT:
		rk_call_fail(c, "timeout-connect", "%s: no connection within "
		    "%.3g s (--connect-timeout, RK_CONNECT_TIMEOUT)", url,
		    opt.connect_ms / 1000);
		c->retryable = 1;
		return -1;
	case RK_X_IDLE_TIMEOUT:
		rk_call_fail(c, "timeout-idle", "%s: nothing received for "
		    "%.3g s (--idle-timeout, RK_IDLE_TIMEOUT)", url,
		    opt.idle_ms / 1000);
		c->truncated = c->acc.len > 0;
		return -1;
	case RK_X_TOTAL_TIMEOUT:
		rk_call_fail(c, "timeout-total", "%s: no complete reply within "
		    "%.3g s (--timeout, RK_TIMEOUT, or the time budget)", url,
		    x->total_ms / 1000);
		c->truncated = c->acc.len > 0;
		return -1;
	case RK_X_CUT:
		if (opt.stream) {
			rk_call_fail(c, "truncated", "%s: the stream was cut "
			    "before its end", url);
			c->truncated = 1;
		} else {
			rk_call_fail(c, "connect", "%s: the connection broke "
			    "during the reply", url);
			c->retryable = 1;
		}
		return -1;
	case RK_X_TOO_BIG:
		rk_call_fail(c, "too-big", "%s: the reply is over the limit of "
		    "%zu bytes (RK_MAX_RESPONSE)", url, rk_limits.response);
		return -1;
	default:
		rk_call_fail(c, "http", "%s: %s", url, x->errbuf[0] ?
		    x->errbuf : "transfer failed");
		return -1;
	}
	if (x->status < 200 || x->status > 299) {
		char *m = ep.dialect->error_message(x->resp.s ? x->resp.s : "",
		    x->resp.len);
		char code[16];

		snprintf(code, sizeof(code), "http-%ld", x->status);
		rk_call_fail(c, code, "%s: HTTP %ld%s%s%s%s%s", url, x->status,
		    m ? ": " : "", m ? m : "",
		    (x->status == 401 || x->status == 403) && ep.withheld ?
		    "; note: " : "",
		    (x->status == 401 || x->status == 403) && ep.withheld ?
		    ep.withheld : "",
		    (x->status == 401 || x->status == 403) && ep.withheld ?
		    " is sent only to its vendor's host; use RK_API_KEY for "
		    "this base URL" : "");
		free(m);
		c->retryable = rk_http_retryable(x->status);
		return -1;
	}
	if (opt.stream && x->is_sse) {
		if (!c->done) {
			rk_call_fail(c, "truncated", "%s: the stream ended "
			    "before its end marker", url);
			c->truncated = 1;
			return -1;
		}
	} else if (ep.dialect->response(c, x->resp.s ? x->resp.s : "",
	    x->resp.len) == -1)
		return -1;
	c->text = rk_xstrdup(c->acc.s ? c->acc.s : "");
	return 0;
}

static double
backoff(const struct slot *s, const struct rk_xfer *x)
{
	double cap = 500;

	if (x->retry_after_ms >= 0)
		return x->retry_after_ms;
	for (int i = 1; i < s->attempt && cap < 30000; i++)
		cap *= 2;
	if (cap > 30000)
		cap = 30000;
	return (double)arc4random_uniform((uint32_t)cap + 1);
}

/* add why we stopped retrying to the call's message */
static void
give_up(struct rk_call *c, const char *fmt, ...)
{
	char *code = rk_xstrdup(c->errcode), *msg = rk_xstrdup(c->errmsg);
	char *why;
	va_list ap;

	va_start(ap, fmt);
	rk_vasprintf(&why, fmt, ap);
	va_end(ap);
	rk_call_fail(c, code, "%s; %s", msg, why);
	free(code);
	free(msg);
	free(why);
}

static void
complete(struct slot *s, struct rk_xfer *x, double now)
{
	struct rk_call *c = &s->c;
	json_t *e, *v;

	s->x = NULL;
	if (outcome(s, x) == 0) {
		if (c->model == NULL)
			c->model = rk_xstrdup(ep.model);
		rk_call_finish_usage(c, c->model);
		if (s->cacheable) {
			v = json_pack("{s:s, s:s, s:I, s:I, s:b}", "text",
			    c->text, "model", c->model, "in", (json_int_t)c->in,
			    "out", (json_int_t)c->out, "estimated",
			    c->estimated);
			if (rk_cache_put(cache, s->key, v) == -1)
				warnx("cache: cannot store a reply");
			json_decref(v);
		}
		succeed(s->rec, c, now - s->t_first);
		rk_call_clear(c);
		rk_xfer_free(x);
		s->state = S_DONE;
		return;
	}
	if (c->retryable && s->attempt <= opt.retries) {
		double d = backoff(s, x);

		if (now + d - s->t_first <= opt.retry_ms) {
			warnx("%s: %s; attempt %d of %ld, next in %.2f s",
			    rk_get_string(s->rec, "id"), c->errmsg, s->attempt,
			    opt.retries + 1, d / 1000);
			s->t_ready = now + d;
			s->state = S_WAIT;
			rk_xfer_free(x);
			return;
		}
		give_up(c, "giving up: the next attempt would pass the retry "
		    "time of %.3g s (--retry-time, RK_RETRY_TIME)",
		    opt.retry_ms / 1000);
	} else if (c->retryable)
		give_up(c, "giving up after %d attempt%s (--retries, "
		    "RK_RETRIES)", s->attempt, s->attempt == 1 ? "" : "s");
	fail(s->rec, c, RK_EXIT_PROVIDER);
	e = json_object_get(s->rec, "error");
	json_object_set_new(e, "attempts", json_integer(s->attempt));
	if (c->truncated) {
		json_object_set_new(e, "truncated", json_true());
		json_object_set_new(e, "partial", json_string(c->acc.s ?
		    c->acc.s : ""));
	}
	if (opt.echo && s->echoed > 0)
		fputc('\n', stderr);
	rk_call_clear(c);
	rk_xfer_free(x);
	s->state = S_DONE;
}

static void
emit(struct slot *s)
{
	if (rk_write(stdout, s->rec) == -1)
		err(RK_EXIT_IO, "stdout");
	if (opt.unordered && fflush(stdout) == EOF)
		err(RK_EXIT_IO, "stdout");
	json_decref(s->rec);
	s->rec = NULL;
	rk_sse_free(&s->sse);
	s->state = S_GONE;
}

static void
run_http(void)
{
	pthread_t th;
	size_t i, n;
	int eof, rc;

	win.cap = (size_t)opt.parallel * 4 + 16;
	win.v = rk_xmalloc(win.cap * sizeof(*win.v));
	memset(win.v, 0, win.cap * sizeof(*win.v));
	if (pipe(win.wake) == -1)
		err(RK_EXIT_INTERNAL, "pipe");
	fcntl(win.wake[0], F_SETFL, O_NONBLOCK);
	if ((rc = pthread_create(&th, NULL, reader, NULL)) != 0)
		errc(RK_EXIT_INTERNAL, rc, "thread");
	for (;;) {
		double now = rk_now_ms(), next = -1;
		int active = rk_http_active(http), timeout;
		struct rk_xfer *x;
		char buf[64];

		pthread_mutex_lock(&win.mu);
		n = win.count;
		eof = win.eof;
		pthread_mutex_unlock(&win.mu);

		for (i = 0; i < n; i++) {
			struct slot *s = &win.v[(win.head + i) % win.cap];

			if (s->state == S_NEW)
				prepare(s, now);
			if (s->state != S_WAIT)
				continue;
			if (s->t_ready <= now && active < opt.parallel &&
			    (opt.rps <= 0 || next_start <= now)) {
				launch(s, now);
				active = rk_http_active(http);
			} else if (active < opt.parallel) {
				double t = s->t_ready > next_start ?
				    s->t_ready : next_start;

				if (next < 0 || t < next)
					next = t;
			}
		}
		/* records leave in order, or as they finish with -u */
		for (i = 0; i < n; i++) {
			struct slot *s = &win.v[(win.head + i) % win.cap];

			if (s->state == S_DONE && (opt.unordered || i == 0 ||
			    win.v[(win.head + i - 1) % win.cap].state ==
			    S_GONE))
				emit(s);
			else if (!opt.unordered && s->state != S_GONE)
				break;
		}
		pthread_mutex_lock(&win.mu);
		while (win.count > 0 && win.v[win.head].state == S_GONE) {
			win.v[win.head].state = S_EMPTY;
			win.head = (win.head + 1) % win.cap;
			win.count--;
			n--;
		}
		pthread_cond_signal(&win.cv);
		pthread_mutex_unlock(&win.mu);
		if (eof && n == 0)
			break;

		timeout = active > 0 ? 50 : -1;
		if (next >= 0) {
			int t = (int)(next - now) + 1;

			if (timeout < 0 || t < timeout)
				timeout = t < 0 ? 0 : t;
		}
		if (active > 0)
			rk_http_run(http, timeout, win.wake[0]);
		else {
			struct pollfd p = { win.wake[0], POLLIN, 0 };

			poll(&p, 1, timeout);
		}
		while (read(win.wake[0], buf, sizeof(buf)) > 0)
			;
		now = rk_now_ms();
		while (http != NULL && (x = rk_http_done(http)) != NULL)
			complete(x->ud, x, now);
	}
	pthread_join(th, NULL);
	close(win.wake[0]);
	close(win.wake[1]);
	free(win.v);
}

int
main(int argc, char *argv[])
{
	enum { O_BASE = 256, O_BUDGET, O_CACHE, O_TTL, O_CONNECT, O_IDLE,
	    O_MOCK, O_NOCACHE, O_NOSTREAM, O_PROVIDER, O_RETRIES, O_RETRYTIME,
	    O_RPS, O_STREAM, O_TIMEOUT };
	static const struct option longopts[] = {
		{ "base-url", required_argument, NULL, O_BASE },
		{ "budget", required_argument, NULL, O_BUDGET },
		{ "cache", required_argument, NULL, O_CACHE },
		{ "cache-ttl", required_argument, NULL, O_TTL },
		{ "connect-timeout", required_argument, NULL, O_CONNECT },
		{ "help", no_argument, NULL, 'h' },
		{ "idle-timeout", required_argument, NULL, O_IDLE },
		{ "mock", no_argument, NULL, O_MOCK },
		{ "no-cache", no_argument, NULL, O_NOCACHE },
		{ "no-stream", no_argument, NULL, O_NOSTREAM },
		{ "provider", required_argument, NULL, O_PROVIDER },
		{ "retries", required_argument, NULL, O_RETRIES },
		{ "retry-time", required_argument, NULL, O_RETRYTIME },
		{ "rps", required_argument, NULL, O_RPS },
		{ "stream", no_argument, NULL, O_STREAM },
		{ "timeout", required_argument, NULL, O_TIMEOUT },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 }
	};
	const char *budget = rk_getenv("RK_BUDGET");
	const char *parallel = rk_getenv("RK_PARALLEL");
	const char *retries = rk_getenv("RK_RETRIES");
	const char *rps = rk_getenv("RK_RPS");
	char errbuf[512];
	double ttl_ms;
	int ch;

	rk_init(argv[0]);
	opt.provider = rk_getenv("RK_PROVIDER");
	opt.base_url = rk_getenv("RK_BASE_URL");
	opt.model = rk_getenv("RK_MODEL");
	opt.cache_path = rk_getenv("RK_CACHE_DB");
	opt.stream = env_bool("RK_STREAM");
	opt.unordered = env_bool("RK_UNORDERED");
	opt.no_cache = env_bool("RK_NO_CACHE");
	set_duration("RK_CONNECT_TIMEOUT", rk_getenv("RK_CONNECT_TIMEOUT"),
	    &opt.connect_ms);
	set_duration("RK_IDLE_TIMEOUT", rk_getenv("RK_IDLE_TIMEOUT"),
	    &opt.idle_ms);
	set_duration("RK_TIMEOUT", rk_getenv("RK_TIMEOUT"), &opt.total_ms);
	set_duration("RK_RETRY_TIME", rk_getenv("RK_RETRY_TIME"),
	    &opt.retry_ms);
	ttl_ms = opt.ttl_s * 1000;
	set_duration("RK_CACHE_TTL", rk_getenv("RK_CACHE_TTL"), &ttl_ms);
	while ((ch = getopt_long(argc, argv, "hm:P:uV", longopts, NULL)) != -1)
		switch (ch) {
		case 'h': usage(stdout, RK_EXIT_OK); break;
		case 'm': opt.model = optarg; break;
		case 'P': parallel = optarg; break;
		case 'u': opt.unordered = 1; break;
		case 'V': rk_version(); break;
		case O_BASE: opt.base_url = optarg; break;
		case O_BUDGET: budget = optarg; break;
		case O_CACHE: opt.cache_path = optarg; break;
		case O_TTL: set_duration("--cache-ttl", optarg, &ttl_ms); break;
		case O_CONNECT:
			set_duration("--connect-timeout", optarg,
			    &opt.connect_ms);
			break;
		case O_IDLE:
			set_duration("--idle-timeout", optarg, &opt.idle_ms);
			break;
		case O_MOCK: opt.provider = "mock"; break;
		case O_NOCACHE: opt.no_cache = 1; break;
		case O_NOSTREAM: opt.stream = 0; break;
		case O_PROVIDER: opt.provider = optarg; break;
		case O_RETRIES: retries = optarg; break;
		case O_RETRYTIME:
			set_duration("--retry-time", optarg, &opt.retry_ms);
			break;
		case O_RPS: rps = optarg; break;
		case O_STREAM: opt.stream = 1; break;
		case O_TIMEOUT:
			set_duration("--timeout", optarg, &opt.total_ms);
			break;
		default: usage(stderr, RK_EXIT_USAGE);
		}
	if (optind != argc)
		usage(stderr, RK_EXIT_USAGE);
	opt.ttl_s = ttl_ms / 1000;
	set_count("-P", parallel, rk_limits.concurrency, &opt.parallel);
	if (opt.parallel < 1)
		errx(RK_EXIT_USAGE, "-P: not a number from 1 to %ld: '%s'",
		    rk_limits.concurrency, parallel);
	set_count("--retries", retries, 100, &opt.retries);
	if (rps != NULL && (rk_parse_double(rps, &opt.rps) == -1 ||
	    opt.rps <= 0 || opt.rps > 1e6))
		errx(RK_EXIT_USAGE, "--rps: not a positive number: '%s'", rps);
	if (budget != NULL && rk_budget_parse(budget, &opt.budget) == -1)
		errx(RK_EXIT_USAGE, "--budget: not a limit such as 30s, 5m, "
		    "2000t or $0.50: '%s'", budget);
	if (opt.provider == NULL)
		errx(RK_EXIT_CONFIG, "no model provider configured: set "
		    "RK_PROVIDER, or use --mock for the built-in offline model "
		    "(see rk-llm(1))");
	/* prices and context windows; the offline model needs neither */
	if ((opt.budget.kind == RK_BUDGET_USD ||
	    strcmp(opt.provider, "mock") != 0) &&
	    rk_prices_load(&prices, errbuf, sizeof(errbuf)) == -1)
		errx(RK_EXIT_CONFIG, "%s", errbuf);
	if (strcmp(opt.provider, "mock") == 0) {
		provider = &rk_mock_provider;
		run_mock();
		rk_prices_free(&prices);
		return rk_finish();
	}
	if (rk_endpoint_setup(&ep, opt.provider, opt.base_url, opt.model,
	    errbuf, sizeof(errbuf)) == -1)
		errx(RK_EXIT_CONFIG, "%s", errbuf);
	if (opt.budget.kind == RK_BUDGET_USD &&
	    rk_price_find(&prices, ep.model) == NULL)
		errx(RK_EXIT_CONFIG, "no price for model '%s' in prices.tsv: "
		    "add a line to $XDG_CONFIG_HOME/reasonkit/prices.tsv, or "
		    "use a token or time budget", ep.model);
	opt.echo = opt.stream && isatty(STDERR_FILENO);
	if (!opt.no_cache) {
		char *path = opt.cache_path ? rk_xstrdup(opt.cache_path) :
		    rk_xdg_path("CACHE", "responses.db");

		if ((cache = rk_cache_open(path, opt.ttl_s, errbuf,
		    sizeof(errbuf))) == NULL)
			warnx("cache: %s; going on without it", errbuf);
		free(path);
	}
	run_http();
	rk_cache_close(cache);
	rk_http_free(http);
	rk_endpoint_free(&ep);
	rk_prices_free(&prices);
	return rk_finish();
}
