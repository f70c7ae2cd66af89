/*
 * rk-llm's records: the step made of a reply, a failure in the record, the
 * budget and context-window policy; the offline model answering in turn;
 * every record failed when rk-llm cannot start.  HTTP runs: sched.c.
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "core/rk.h"
#include "llm/llm.h"
#include "think/think.h"

static void
raise_status(struct rk_llm *L, int status)
{
	if (status > L->status)
		L->status = status;
}

static json_t *
make_step(struct rk_llm *L, const json_t *req, struct rk_call *c,
    double ms_llm)
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
	    "step", rk_get_string(req, "step") ?
	    rk_get_string(req, "step") : "",
	    "link", json_object_get(req, "link"),
	    "output", rk_reply_parse(c->text, k),
	    "confidence", conf,
	    "text", c->text, "model", c->model ? c->model :
	    L->provider ? L->provider->name : L->ep.model,
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

/*
 * The step goes to steps: the record's own (NULL), or new steps of a light
 * one.
 */
void
rk_llm_succeed(struct rk_llm *L, json_t *rec, json_t *steps,
    struct rk_call *c, double ms_llm)
{
	if (steps == NULL)
		steps = rk_steps(rec);
	json_t *req = json_object_get(rec, "request");

	json_array_append_new(steps, make_step(L, req, c, ms_llm));
	json_object_del(rec, "request");
}

/*
 * A failed request stays in the record beside the error, so that the
 * failed records can be retried by removing the error and running again.
 */
void
rk_llm_fail(struct rk_llm *L, json_t *rec, struct rk_call *c, int status)
{
	rk_record_error(rec, status, c->errcode, c->errmsg);
	rk_say(&L->o, status, "%s: %s", rk_get_string(rec, "id"), c->errmsg);
	raise_status(L, status);
}

/*
 * What the budget leaves for this request: 0 and *max_tokens / *total_ms
 * narrowed, or -1 with the call failed (code "budget").
 */
int
rk_llm_budget_check(struct rk_llm *L, struct rk_call *c, const char *model,
    long *max_tokens, double *total_ms)
{
	const struct rk_budget *b = &L->o.budget;
	double left, in;
	long cap = -1;

	if (b->kind == RK_BUDGET_NONE)
		return 0;
	left = b->limit - rk_budget_spent(b, c->rec, &L->prices);
	in = (double)rk_count_request_tokens(model, c->req);
	switch (b->kind) {
	case RK_BUDGET_TOKENS:
		cap = (long)(left - in);
		break;
	case RK_BUDGET_USD: {
		const struct rk_price *p = rk_price_find(&L->prices, model);

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
int
rk_llm_window_check(struct rk_llm *L, struct rk_call *c, const char *model,
    long *max_tokens)
{
	const struct rk_price *p = rk_price_find(&L->prices, model);
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

/* The offline model, one record at a time.  steps: as rk_llm_succeed() */
static void
mock_process(struct rk_llm *L, json_t *rec, json_t *steps)
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
	if (rk_llm_budget_check(L, &c, "mock-1", &max_tokens, &total) == -1)
		rk_llm_fail(L, rec, &c, RK_EXIT_FAILED);
	else if (L->provider->call(&c) == -1)
		rk_llm_fail(L, rec, &c, RK_EXIT_PROVIDER);
	else
		rk_llm_succeed(L, rec, steps, &c, rk_now_ms() - t0);
	rk_call_clear(&c);
}

/*
 * A record taken lightly (see jscan.c): its request and small members are
 * parsed, its earlier steps only as far as a budget needs them, and the
 * rest of the line is copied.  -1: take it in full.
 */
static int
mock_light(struct rk_llm *L, const char *line, size_t len, FILE *out)
{
	static const char *budget_keys[] = { "cached", "usage", "ms", "model",
	    NULL };
	struct rk_light l;
	int pass;

	if (rk_light_open(&l, line, len, L->o.budget.kind != RK_BUDGET_NONE ?
	    budget_keys : NULL) == -1)
		return -1;
	pass = rk_has_error(l.rec) ||
	    !json_is_object(json_object_get(l.rec, "request"));
	if (!pass) {
		l.more_steps = json_array();
		mock_process(L, l.rec, l.more_steps);
		if (json_array_size(l.more_steps) == 0) {
			json_decref(l.more_steps);
			l.more_steps = NULL;
		}
	}
	return rk_light_finish(out, &l, pass);
}

int
rk_llm_run_mock(struct rk_llm *L, int fd, FILE *out)
{
	struct rk_reader *r = rk_reader_fd(fd, "stdin");
	const char *line;
	json_t *rec;
	size_t len;
	int obj, rc;

	while ((line = rk_read_raw(r, &len, &obj)) != NULL) {
		if (obj && (rc = mock_light(L, line, len, out)) != -1) {
			if (rc == 0)
				continue;
			break;		/* -2: cannot write */
		}
		rec = rk_reader_record(r);
		mock_process(L, rec, NULL);
		rc = rk_write(out, rec);
		json_decref(rec);
		if (rc == -1)
			break;
	}
	raise_status(L, rk_reader_status(r));
	rk_reader_free(r);
	if (line != NULL) {
		rk_say(&L->o, RK_EXIT_IO, "stdout: %s", strerror(errno));
		raise_status(L, RK_EXIT_IO);
	}
	return L->status;
}

/*
 * rk-llm could not start (a bad base URL, no key, a bad price table): each
 * record that asks for a step gets the error, so that no question is lost
 * in a pipeline; the others pass.  The exit status is status.
 */
int
rk_llm_run_failed(struct rk_llm *L, int fd, FILE *out, int status,
    const char *code, const char *msg)
{
	struct rk_reader *r = rk_reader_fd(fd, "stdin");
	json_t *rec;
	int rc = 0;

	while (rc != -1 && (rec = rk_read(r)) != NULL) {
		if (!rk_has_error(rec) &&
		    json_is_object(json_object_get(rec, "request")))
			rk_set_error(rec, rk_progname, code, "%s", msg);
		rc = rk_write(out, rec);
		json_decref(rec);
	}
	if (rk_reader_status(r) > status)
		status = rk_reader_status(r);
	rk_reader_free(r);
	if (rc == -1) {
		rk_say(&L->o, RK_EXIT_IO, "stdout: %s", strerror(errno));
		return RK_EXIT_IO > status ? RK_EXIT_IO : status;
	}
	return status;
}
