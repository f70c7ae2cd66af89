/*
 * rk-llm's HTTP runs: up to -P requests at once over one libcurl multi
 * handle (loaded only when a request is really sent), while a reader
 * thread keeps a bounded window of records filled; records leave in input
 * order (or as they finish, with -u).  A request that fails in a way that
 * may pass is tried again after a backoff; a reply is stored in the cache.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/rk.h"
#include "llm/llm.h"

enum { S_EMPTY, S_NEW, S_WAIT, S_RUN, S_DONE, S_GONE };

struct sched;

struct slot {
	struct sched	*S;
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

/*
 * The window: a ring of slots that the reader thread fills and the main
 * thread empties.  Under mu: count, eof, read_status, stop, and the state
 * and record of a slot that is S_EMPTY or becoming S_NEW; the rest of a
 * slot after S_NEW belongs to the main thread alone.
 */
struct sched {
	struct rk_llm	*L;
	FILE		*out;
	int		 fd;		/* the input, read by the thread */
	pthread_mutex_t	 mu;
	pthread_cond_t	 cv;
	struct slot	*v;
	size_t		 cap, head, count;
	int		 eof;
	int		 read_status;	/* the reader's, at eof */
	int		 stop;		/* the main thread gave up */
	int		 wake[2];
	struct rk_http	*http;
	char		 http_err[256];
	double		 next_start;	/* for --rps */
	int		 shown;		/* the progress line is on stderr */
	double		 shown_at;
};

static void
wake(struct sched *S)
{
	char c = 1;

	while (write(S->wake[1], &c, 1) == -1 && errno == EINTR)
		;
}

/* The reader thread: it touches the window under mu, and nothing else. */
static void *
reader(void *arg)
{
	struct sched *S = arg;
	struct rk_reader *r = rk_reader_fd(S->fd, "stdin");
	json_t *rec;
	int stop = 0;

	while (!stop && (rec = rk_read(r)) != NULL) {
		pthread_mutex_lock(&S->mu);
		while (S->count == S->cap && !S->stop)
			pthread_cond_wait(&S->cv, &S->mu);
		if (!(stop = S->stop)) {
			S->v[(S->head + S->count) % S->cap].rec = rec;
			S->v[(S->head + S->count) % S->cap].state = S_NEW;
			S->count++;
		}
		pthread_mutex_unlock(&S->mu);
		if (stop)
			json_decref(rec);
		wake(S);
	}
	pthread_mutex_lock(&S->mu);
	S->read_status = rk_reader_status(r);
	S->eof = 1;
	pthread_mutex_unlock(&S->mu);
	rk_reader_free(r);
	wake(S);
	return NULL;
}

static json_t *
canonical(const struct slot *s)
{
	const struct rk_endpoint *ep = &s->S->L->ep;
	const json_t *req = s->c.req;
	json_t *k = json_pack("{s:i, s:s, s:s, s:s, s:O}", "v", 1,
	    "provider", ep->provider, "base_url", ep->base_url, "model",
	    ep->model, "messages", json_object_get(req, "messages"));

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
	struct rk_llm *L = s->S->L;
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
	s->total_ms = L->o.total_ms;
	if ((b = L->ep.dialect->body(req, L->ep.model, s->max_tokens,
	    0)) == NULL) {
		rk_call_fail(&s->c, "bad-request", "the request has no "
		    "messages (a non-empty array of {role, content})");
		rk_llm_fail(L, s->rec, &s->c, RK_EXIT_INPUT);
		rk_call_clear(&s->c);
		return;
	}
	json_decref(b);
	s->cacheable = L->cache != NULL && (k = canonical(s)) != NULL;
	if (s->cacheable) {
		rk_cache_key(k, s->key);
		json_decref(k);
		if ((hit = rk_cache_get(L->cache, s->key)) != NULL) {
			s->c.text = rk_xstrdup(rk_get_string(hit, "text") ?
			    rk_get_string(hit, "text") : "");
			s->c.model = rk_xstrdup(rk_get_string(hit, "model") ?
			    rk_get_string(hit, "model") : L->ep.model);
			s->c.in = (long)rk_get_number(hit, "in", 0);
			s->c.out = (long)rk_get_number(hit, "out", 0);
			s->c.estimated = json_is_true(json_object_get(hit,
			    "estimated"));
			s->c.cached = 1;
			json_decref(hit);
			rk_llm_succeed(L, s->rec, NULL, &s->c, 0);
			rk_call_clear(&s->c);
			return;
		}
	}
	if (rk_llm_budget_check(L, &s->c, L->ep.model, &s->max_tokens,
	    &s->total_ms) == -1 || rk_llm_window_check(L, &s->c, L->ep.model,
	    &s->max_tokens) == -1) {
		rk_llm_fail(L, s->rec, &s->c, RK_EXIT_FAILED);
		rk_call_clear(&s->c);
		return;
	}
	if (s->max_tokens != json_integer_value(json_object_get(req,
	    "max_tokens")))
		s->cacheable = 0;	/* a narrowed reply is not the reply */
	s->t_first = s->t_ready = now;
	s->state = S_WAIT;
}

/* "gigathink 2/3", or the protocol alone if the request has no index */
static void
step_label(const struct slot *s, char *buf, size_t size)
{
	const json_t *req = s->c.req;
	const char *proto = rk_get_string(req, "protocol");
	json_int_t i = json_integer_value(json_object_get(req, "index")),
	    of = s->S->L->o.steps;

	if (proto == NULL)
		proto = "?";
	if (i > 0 && of >= i)
		snprintf(buf, size, "%s %lld/%lld", proto, (long long)i,
		    (long long)of);
	else if (i > 0)
		snprintf(buf, size, "%s %lld", proto, (long long)i);
	else
		snprintf(buf, size, "%s", proto);
}

/* Erase the progress line, if one is shown. */
static void
progress_clear(struct sched *S)
{
	if (S->shown)
		fputs("\r\033[K", stderr);
	S->shown = 0;
}

/*
 * The progress line on a terminal: the oldest step waiting for the model
 * and how long it has waited, redrawn at most every 100 ms (the loop
 * wakes every 50 ms while transfers run), erased when nothing waits.
 * Nothing is drawn while a step's streamed text is on the line.
 */
static void
progress(struct sched *S, size_t n, double now)
{
	const struct slot *first = NULL;
	char label[160];
	size_t waiting = 0;

	if (!S->L->o.progress)
		return;
	for (size_t i = 0; i < n; i++) {
		const struct slot *s = &S->v[(S->head + i) % S->cap];

		if (s->state != S_WAIT && s->state != S_RUN)
			continue;
		if (s->echoed > 0)
			return;
		if (first == NULL)
			first = s;
		waiting++;
	}
	if (first == NULL) {
		progress_clear(S);
		return;
	}
	if (now - first->t_first < 100 || (S->shown && now - S->shown_at < 100))
		return;
	step_label(first, label, sizeof(label));
	if (waiting > 1)
		fprintf(stderr, "\r%s \302\267 %.1f s (%zu steps)\033[K",
		    label, (now - first->t_first) / 1000, waiting);
	else
		fprintf(stderr, "\r%s \302\267 %.1f s\033[K", label,
		    (now - first->t_first) / 1000);
	S->shown = 1;
	S->shown_at = now;
}

/* Before a step's streamed text: its name on a line of its own. */
static void
echo_header(struct slot *s)
{
	char label[160];

	progress_clear(s->S);
	step_label(s, label, sizeof(label));
	fprintf(stderr, "[%s \302\267 %s]\n", label,
	    rk_get_string(s->c.req, "step") ? rk_get_string(s->c.req,
	    "step") : "?");
}

static int
on_event(void *arg, const char *event, const char *data)
{
	struct slot *s = arg;
	struct rk_llm *L = s->S->L;

	if (L->ep.dialect->event(&s->c, event, data) == -1)
		return -1;
	if (s->c.acc.len > rk_limits.response) {
		rk_call_fail(&s->c, "too-big", "the reply is over the limit "
		    "of %zu bytes (RK_MAX_RESPONSE)", rk_limits.response);
		return -1;
	}
	if (L->o.echo && s->c.acc.len > s->echoed) {
		if (s->echoed == 0)
			echo_header(s);
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
	struct sched *S = s->S;
	struct rk_llm *L = S->L;
	struct rk_xfer *x;
	json_t *b;

	if (rk_attempt_http(&S->http, &L->o, S->http_err,
	    sizeof(S->http_err)) == -1) {
		rk_call_fail(&s->c, "no-http", "%s", S->http_err);
		rk_llm_fail(L, s->rec, &s->c, RK_EXIT_PROVIDER);
		rk_call_clear(&s->c);
		s->state = S_DONE;
		return;
	}
	slot_reset_call(s);
	x = rk_xmalloc(sizeof(*x));
	memset(x, 0, sizeof(*x));
	rk_asprintf(&x->url, "%s%s", L->ep.base_url, L->ep.dialect->path);
	if ((b = L->ep.dialect->body(s->c.req, L->ep.model, s->max_tokens,
	    L->o.stream)) == NULL || (x->body = json_dumps(b, JSON_COMPACT)) ==
	    NULL) {
		json_decref(b);
		rk_xfer_free(x);
		rk_call_fail(&s->c, "bad-request", "cannot write the request");
		rk_llm_fail(L, s->rec, &s->c, RK_EXIT_FAILED);
		rk_call_clear(&s->c);
		s->state = S_DONE;
		return;
	}
	json_decref(b);
	x->headers = L->ep.dialect->headers(L->ep.key);
	x->total_ms = s->total_ms;
	x->ud = s;
	if (L->o.stream) {
		x->on_data = on_data;
		rk_sse_free(&s->sse);
		rk_sse_init(&s->sse, rk_limits.response, on_event, s);
	}
	s->attempt++;
	s->x = x;
	if (rk_http_start(S->http, x) == -1) {
		rk_call_fail(&s->c, "no-http", "cannot start a transfer");
		rk_llm_fail(L, s->rec, &s->c, RK_EXIT_PROVIDER);
		rk_call_clear(&s->c);
		rk_xfer_free(x);
		s->x = NULL;
		s->state = S_DONE;
		return;
	}
	s->state = S_RUN;
	if (L->o.rps > 0)
		S->next_start = (S->next_start > now ? S->next_start : now) +
		    1000 / L->o.rps;
}

/* The outcome of one attempt, into s->c: 0 done, -1 failed. */
static int
outcome(struct slot *s, struct rk_xfer *x)
{
	struct rk_llm *L = s->S->L;
	struct rk_call *c = &s->c;
	const char *url = x->url;

	if (rk_attempt_outcome(c, x, &L->o, &L->ep,
	    L->ep.dialect->error_message) == -1)
		return -1;
	if (L->o.stream && x->is_sse) {
		if (!c->done) {
			rk_call_fail(c, "truncated", "%s: the stream ended "
			    "before its end marker", url);
			c->truncated = 1;
			return -1;
		}
	} else if (L->ep.dialect->response(c, x->resp.s ? x->resp.s : "",
	    x->resp.len) == -1)
		return -1;
	c->text = rk_xstrdup(c->acc.s ? c->acc.s : "");
	return 0;
}

/* After a step's streamed text: the end of its line. */
static void
echo_end(const struct slot *s)
{
	if (s->S->L->o.echo && s->echoed > 0 &&
	    s->c.acc.s[s->echoed - 1] != '\n')
		fputc('\n', stderr);
}

static void
complete(struct slot *s, struct rk_xfer *x, double now)
{
	struct rk_llm *L = s->S->L;
	struct rk_call *c = &s->c;
	json_t *e, *v;
	double d;

	s->x = NULL;
	if (outcome(s, x) == 0) {
		if (c->model == NULL)
			c->model = rk_xstrdup(L->ep.model);
		rk_call_finish_usage(c, c->model);
		if (s->cacheable) {
			v = json_pack("{s:s, s:s, s:I, s:I, s:b}", "text",
			    c->text, "model", c->model, "in", (json_int_t)c->in,
			    "out", (json_int_t)c->out, "estimated",
			    c->estimated);
			if (rk_cache_put(L->cache, s->key, v) == -1)
				rk_say(&L->o, 0, "cache: cannot store a reply");
			json_decref(v);
		}
		echo_end(s);
		rk_llm_succeed(L, s->rec, NULL, c, now - s->t_first);
		rk_call_clear(c);
		rk_xfer_free(x);
		s->state = S_DONE;
		return;
	}
	if ((d = rk_attempt_retry(c, &L->o, s->attempt, now - s->t_first,
	    x)) >= 0) {
		progress_clear(s->S);
		rk_say(&L->o, 0, "%s: %s; attempt %d of %ld, next in %.2f s",
		    rk_get_string(s->rec, "id"), c->errmsg, s->attempt,
		    L->o.retries + 1, d / 1000);
		s->t_ready = now + d;
		s->state = S_WAIT;
		rk_xfer_free(x);
		return;
	}
	rk_llm_fail(L, s->rec, c, RK_EXIT_PROVIDER);
	e = json_object_get(s->rec, "error");
	json_object_set_new(e, "attempts", json_integer(s->attempt));
	if (c->truncated) {
		json_object_set_new(e, "truncated", json_true());
		json_object_set_new(e, "partial", json_string(c->acc.s ?
		    c->acc.s : ""));
	}
	echo_end(s);
	rk_call_clear(c);
	rk_xfer_free(x);
	s->state = S_DONE;
}

/* 0, or -1 if the record cannot be written */
static int
emit(struct slot *s)
{
	int rc = rk_write(s->S->out, s->rec);

	json_decref(s->rec);
	s->rec = NULL;
	rk_sse_free(&s->sse);
	s->state = S_GONE;
	return rc;
}

/* Prepare new records and launch what may start; when the next may. */
static double
schedule(struct sched *S, size_t n, double now)
{
	struct rk_llm *L = S->L;
	int active = rk_http_active(S->http);
	double next = -1;

	for (size_t i = 0; i < n; i++) {
		struct slot *s = &S->v[(S->head + i) % S->cap];

		if (s->state == S_NEW)
			prepare(s, now);
		if (s->state != S_WAIT)
			continue;
		if (s->t_ready <= now && active < L->o.parallel &&
		    (L->o.rps <= 0 || S->next_start <= now)) {
			launch(s, now);
			active = rk_http_active(S->http);
		} else if (active < L->o.parallel) {
			double t = s->t_ready > S->next_start ? s->t_ready :
			    S->next_start;

			if (next < 0 || t < next)
				next = t;
		}
	}
	return next;
}

/* Records leave in order, or as they finish with -u: 0, or -1. */
static int
emit_done(struct sched *S, size_t n)
{
	int unordered = S->L->o.unordered;

	for (size_t i = 0; i < n; i++) {
		struct slot *s = &S->v[(S->head + i) % S->cap];

		if (s->state == S_DONE && (unordered || i == 0 ||
		    S->v[(S->head + i - 1) % S->cap].state == S_GONE)) {
			if (emit(s) == -1)
				return -1;
		} else if (!unordered && s->state != S_GONE)
			break;
	}
	return 0;
}

/* Free the slots that left at the head; the records still in the window. */
static size_t
retire(struct sched *S)
{
	size_t n;

	pthread_mutex_lock(&S->mu);
	while (S->count > 0 && S->v[S->head].state == S_GONE) {
		S->v[S->head].state = S_EMPTY;
		S->head = (S->head + 1) % S->cap;
		S->count--;
	}
	n = S->count;
	pthread_cond_signal(&S->cv);
	pthread_mutex_unlock(&S->mu);
	return n;
}

/* Wait for a transfer, a new record or the next start time (next). */
static void
await(struct sched *S, double now, double next)
{
	int active = rk_http_active(S->http), timeout = active > 0 ? 50 : -1;
	struct rk_xfer *x;
	char buf[64];

	if (next >= 0) {
		int t = (int)(next - now) + 1;

		if (timeout < 0 || t < timeout)
			timeout = t < 0 ? 0 : t;
	}
	if (active > 0)
		rk_http_run(S->http, timeout, S->wake[0]);
	else {
		struct pollfd p = { S->wake[0], POLLIN, 0 };

		poll(&p, 1, timeout);
	}
	while (read(S->wake[0], buf, sizeof(buf)) > 0)
		;
	now = rk_now_ms();
	while (S->http != NULL && (x = rk_http_done(S->http)) != NULL)
		complete(x->ud, x, now);
}

/* The transfer loop: 0 at the end of input, -1 if output failed. */
static int
loop(struct sched *S)
{
	for (;;) {
		double now = rk_now_ms(), next;
		size_t n;
		int eof;

		pthread_mutex_lock(&S->mu);
		n = S->count;
		eof = S->eof;
		pthread_mutex_unlock(&S->mu);
		next = schedule(S, n, now);
		progress(S, n, now);
		if (emit_done(S, n) == -1)
			return -1;
		if ((n = retire(S)) == 0 && eof)
			return 0;
		await(S, now, next);
	}
}

static void
sched_free(struct sched *S)
{
	for (size_t i = 0; i < S->cap; i++) {
		rk_call_clear(&S->v[i].c);
		rk_sse_free(&S->v[i].sse);
		json_decref(S->v[i].rec);
	}
	rk_http_free(S->http);
	close(S->wake[0]);
	close(S->wake[1]);
	pthread_mutex_destroy(&S->mu);
	pthread_cond_destroy(&S->cv);
	free(S->v);
	free(S);
}

int
rk_llm_run_http(struct rk_llm *L, int fd, FILE *out)
{
	struct sched *S = rk_xmalloc(sizeof(*S));
	pthread_t th;
	int rc;

	memset(S, 0, sizeof(*S));
	S->L = L;
	S->out = out;
	S->fd = fd;
	S->cap = (size_t)L->o.parallel * 4 + 16;
	S->v = rk_xmalloc(S->cap * sizeof(*S->v));
	memset(S->v, 0, S->cap * sizeof(*S->v));
	for (size_t i = 0; i < S->cap; i++)
		S->v[i].S = S;
	pthread_mutex_init(&S->mu, NULL);
	pthread_cond_init(&S->cv, NULL);
	S->wake[0] = S->wake[1] = -1;
	if (pipe(S->wake) == -1 || fcntl(S->wake[0], F_SETFL, O_NONBLOCK) ==
	    -1)
		rc = errno;
	else
		rc = pthread_create(&th, NULL, reader, S);
	if (rc != 0) {
		rk_say(&L->o, RK_EXIT_INTERNAL, "cannot start the reader: %s",
		    strerror(rc));
		sched_free(S);
		return RK_EXIT_INTERNAL;
	}
	rc = loop(S);
	progress_clear(S);
	if (rc == -1) {
		/* the reader may wait on its input for ever: leave it, and
		   the window it fills, to the process's exit */
		rk_say(&L->o, RK_EXIT_IO, "stdout: %s", strerror(errno));
		pthread_mutex_lock(&S->mu);
		S->stop = 1;
		pthread_cond_signal(&S->cv);
		pthread_mutex_unlock(&S->mu);
		pthread_detach(th);
		if (L->status < RK_EXIT_IO)
			L->status = RK_EXIT_IO;
		return L->status;
	}
	pthread_join(th, NULL);
	if (S->read_status > L->status)
		L->status = S->read_status;
	sched_free(S);
	return L->status;
}
