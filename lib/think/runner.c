/*
 * Where a record stands in the chain it runs, and the request for its next
 * step.  Everything is read from the record itself (its steps, skipped
 * links and request), so any number of runners can take turns on it.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/rk.h"
#include "token/token.h"
#include "think/think.h"

/* Where a record is: the chain it runs and what has happened so far. */
struct state {
	struct rk_runner	*run;
	struct rk_error		*err;
	json_t			*rec;
	json_t			*steps;		/* borrowed */
	struct rk_profile	*profile;	/* NULL: single protocol */
	const char		*protocol;	/* when single */
	json_t			*last;		/* last step or NULL */
	long			 last_link;
};

struct vars {
	struct state		*st;
	const struct rk_protocol *p;
	const struct rk_step	*s;
	long			 link;
	char			*input;
	char			*context;
	char			 num[2][16];
	char			*scratch[16];
	int			 nscratch;
};

static const json_t *
find_step(json_t *steps, const char *protocol, const char *step, long link)
{
	const json_t *found = NULL, *s;
	size_t i;

	json_array_foreach(steps, i, s) {
		if (strcmp(rk_get_string(s, "protocol") ?
		    rk_get_string(s, "protocol") : "", protocol) != 0 ||
		    strcmp(rk_get_string(s, "step") ?
		    rk_get_string(s, "step") : "", step) != 0)
			continue;
		if (link < 0 || json_integer_value(json_object_get(s,
		    "link")) == link)
			found = s;
	}
	return found;
}

static char *
render_context(struct rk_runner *run, json_t *ctx, long *used)
{
	char *out = rk_xstrdup(""), *t, *line;
	long tokens = 0, n;
	json_t *h;
	size_t i;

	*used = 0;
	if (!json_is_array(ctx) || json_array_size(ctx) == 0)
		return out;
	json_array_foreach(ctx, i, h) {
		const char *doc = rk_get_string(h, "doc");
		const char *text = rk_get_string(h, "text");

		if (text == NULL)
			continue;
		rk_asprintf(&line, "[%zu] (%s) %s\n", i + 1, doc ? doc : "?",
		    text);
		n = (long)rk_bpe_count(run->bpe, line, strlen(line), 0);
		if (tokens + n > run->context_tokens) {
			free(line);
			break;		/* best first: the rest rank lower */
		}
		tokens += n;
		rk_asprintf(&t, "%s%s", out, line);
		free(out);
		free(line);
		out = t;
		(*used)++;
	}
	if (*out != '\0')
		out[strlen(out) - 1] = '\0';	/* the template ends the line */
	return out;
}

/*
 * The key outputs of the chain so far: the last step of every link before
 * this one, each under its protocol and step.
 */
static char *
findings(json_t *steps, long link)
{
	char *out = rk_xstrdup(""), *text, *t;
	const json_t *s, *next;
	size_t i, n = json_array_size(steps);
	long l;

	for (i = 0; i < n; i++) {
		s = json_array_get(steps, i);
		next = json_array_get(steps, i + 1);
		l = json_integer_value(json_object_get(s, "link"));
		if (l == link || (next != NULL && json_integer_value(
		    json_object_get(next, "link")) == l))
			continue;
		text = rk_output_text(json_object_get(s, "output"));
		rk_asprintf(&t, "%s[%s.%s]\n%s\n", out,
		    rk_get_string(s, "protocol") ?
		    rk_get_string(s, "protocol") : "?",
		    rk_get_string(s, "step") ? rk_get_string(s, "step") : "?",
		    text);
		free(text);
		free(out);
		out = t;
	}
	if (*out != '\0')
		out[strlen(out) - 1] = '\0';	/* the template ends the line */
	return out;
}

static const char *
lookup(void *arg, const char *name)
{
	struct vars *v = arg;
	const json_t *s;

	if (strcmp(name, "question") == 0)
		return rk_get_string(v->st->rec, "query");
	if (strcmp(name, "input") == 0 || strcmp(name, v->p->input) == 0)
		return v->input;
	if (strcmp(name, "context") == 0)
		return v->context;
	if (strcmp(name, "min_items") == 0)
		return v->num[0];
	if (strcmp(name, "max_items") == 0)
		return v->num[1];
	if (strcmp(name, "findings") == 0 && v->nscratch < 16)
		return v->scratch[v->nscratch++] = findings(v->st->steps,
		    v->link);
	s = find_step(v->st->steps, v->p->id, name, v->link);
	if (s == NULL || v->nscratch == 16)
		return NULL;
	return v->scratch[v->nscratch++] =
	    rk_output_text(json_object_get(s, "output"));
}

/* A link's input: the question, or an earlier step's output. */
static char *
link_input(struct state *st, long link)
{
	const char *q = rk_get_string(st->rec, "query");
	const char *in, *dot;
	const json_t *s;
	char proto[65];

	if (st->profile == NULL) {
		/* a protocol chained by hand takes the previous output */
		s = st->last;
		if (s != NULL && json_integer_value(json_object_get(s,
		    "link")) != link)
			return rk_output_text(json_object_get(s, "output"));
		for (size_t i = json_array_size(st->steps); i-- > 0; ) {
			s = json_array_get(st->steps, i);
			if (json_integer_value(json_object_get(s, "link")) <
			    link)
				return rk_output_text(json_object_get(s,
				    "output"));
		}
		return rk_xstrdup(q ? q : "");
	}
	in = st->profile->chain[link].input;
	if ((dot = strchr(in, '.')) != NULL && (size_t)(dot - in) <
	    sizeof(proto)) {
		memcpy(proto, in, dot - in);
		proto[dot - in] = '\0';
		if ((s = find_step(st->steps, proto, dot + 1, -1)) != NULL)
			return rk_output_text(json_object_get(s, "output"));
	}
	return rk_xstrdup(q ? q : "");
}

static double
num_or(double v, double dflt)
{
	return isnan(v) ? dflt : v;
}

/*
 * A sample of a self-consistency vote (rk-vote(1)) runs every step at the
 * step's temperature moved by the sample's offset, and records the last.
 */
static double
sample_temperature(json_t *rec, double base)
{
	json_t *sample = json_object_get(rec, "sample");
	double t;

	if (!json_is_object(sample))
		return base;
	t = rk_round(base + rk_get_number(sample, "offset", 0), 3);
	t = t < 0 ? 0 : t > 2 ? 2 : t;
	json_object_set_new(sample, "temperature", json_real(t));
	return t;
}

static int	fail(struct state *, const char *, int, const char *);

/* The step's number in the run and the most the run can have, for progress. */
static void
set_position(const struct state *st, json_t *req)
{
	json_int_t index = (json_int_t)json_array_size(st->steps) + 1;

	json_object_set_new(req, "index", json_integer(index));
}

static int
make_request(struct state *st, const struct rk_protocol *p,
    const struct rk_step *s, long link)
{
	const struct rk_link *l = st->profile ? &st->profile->chain[link] :
	    NULL;
	struct vars v = { .st = st, .p = p, .s = s, .link = link };
	double t0 = rk_now_ms();
	json_t *req, *msgs = json_array();
	char *sys = NULL, *user;
	long used;

	if (json_array_size(json_object_get(st->rec, "context")) > 0 &&
	    st->run->bpe == NULL &&
	    (st->run->bpe = rk_bpe_get(st->run->bpe_name)) == NULL)
		return fail(st, "encoding", RK_EXIT_CONFIG, rk_bpe_error());
	v.input = link_input(st, link);
	v.context = render_context(st->run, json_object_get(st->rec,
	    "context"), &used);
	snprintf(v.num[0], sizeof(v.num[0]), "%ld", s->min_items);
	snprintf(v.num[1], sizeof(v.num[1]), "%ld", s->max_items);
	if (p->system != NULL)
		sys = tmpl_render(p->system, lookup, &v);
	user = tmpl_render(st->run->perf && s->compact ? s->compact : s->prompt,
	    lookup, &v);
	if (sys != NULL)
		json_array_append_new(msgs, json_pack("{s:s, s:s}", "role",
		    "system", "content", sys));
	json_array_append_new(msgs, json_pack("{s:s, s:s}", "role", "user",
	    "content", user));
	req = json_pack("{s:s, s:s, s:I, s:s, s:s, s:o, s:I, s:f, s:f}",
	    "protocol", p->id, "step", s->id, "link", (json_int_t)link,
	    "action", s->action, "output", rk_out_kind_name(s->output),
	    "messages", msgs,
	    "max_tokens", (json_int_t)(l && l->max_tokens ? l->max_tokens :
	    s->max_tokens),
	    "temperature", sample_temperature(st->rec, l ?
	    num_or(l->temperature, s->temperature) : s->temperature),
	    "min_confidence", l ? num_or(l->min_confidence,
	    s->min_confidence) : s->min_confidence);
	if (json_array_size(json_object_get(st->rec, "context")) > 0)
		json_object_set_new(req, "context_used", json_integer(used));
	if (s->output == OUT_LIST) {
		json_object_set_new(req, "min_items",
		    json_integer(s->min_items));
		json_object_set_new(req, "max_items",
		    json_integer(s->max_items));
	}
	if (json_is_object(json_object_get(st->rec, "sample")))
		json_object_set(req, "sample", json_object_get(json_object_get(
		    st->rec, "sample"), "index"));
	set_position(st, req);
	json_object_set_new(req, "ms", json_pack("{s:f, s:f}", "load",
	    rk_round(st->run->load_ms, 3), "render",
	    rk_round(rk_now_ms() - t0, 3)));
	json_object_set_new(st->rec, "request", req);
	free(sys);
	free(user);
	free(v.input);
	free(v.context);
	for (int i = 0; i < v.nscratch; i++)
		free(v.scratch[i]);
	return 0;
}

/* The first step at or after index i that this mode runs, or -1. */
static long
runnable_step(const struct rk_protocol *p, long i, int perf)
{
	for (; i < (long)p->nsteps; i++)
		if (!(perf && p->steps[i].optional))
			return i;
	return -1;
}

/* The last answer step's answer and conclusion, as the run's. */
static void
lift_answer(struct state *st)
{
	const json_t *s, *out;
	size_t i = json_array_size(st->steps);

	while (i-- > 0) {
		s = json_array_get(st->steps, i);
		out = json_object_get(s, "output");
		if (rk_get_string(out, "type") == NULL ||
		    strcmp(rk_get_string(out, "type"), "answer") != 0)
			continue;
		json_object_set(st->rec, "answer", json_object_get(out,
		    "answer"));
		json_object_set(st->rec, "conclusion", json_object_get(out,
		    "conclusion"));
		return;
	}
}

static void
set_result(struct state *st)
{
	double sum = 0, min;
	size_t i, n = 0;
	json_t *s;

	json_array_foreach(st->steps, i, s) {
		json_t *c = json_object_get(s, "confidence");

		if (json_is_number(c)) {
			sum += json_number_value(c);
			n++;
		}
	}
	if (st->profile != NULL)
		min = st->profile->min_confidence;
	else {
		struct rk_protocol *p = rk_catalog_protocol(st->run->catalog,
		    st->protocol, NULL);

		min = p ? p->min_confidence : RK_MIN_CONFIDENCE;
	}
	sum = n ? rk_round(sum / n, 4) : 0;
	lift_answer(st);
	json_object_set_new(st->rec, "result", json_pack("{s:f, s:f, s:b, s:I}",
	    "confidence", sum, "min_confidence", min, "pass", n && sum >= min,
	    "steps", (json_int_t)json_array_size(st->steps)));
}

/* The record cannot go on: it carries the error, and so does st->err. */
static int
fail(struct state *st, const char *code, int status, const char *msg)
{
	rk_record_error(st->rec, status, code, msg);
	return rk_error_set(st->err, status, "%s", msg);
}

/* Continue the current link, or start the first link whose 'when' holds. */
static int
next_in_profile(struct state *st)
{
	json_t *skipped = json_object_get(st->rec, "skipped");
	long cursor = st->last_link, j;
	const json_t *sk;
	size_t i;
	struct rk_error e;

	json_array_foreach(skipped, i, sk) {
		long l = json_integer_value(json_object_get(sk, "link"));

		if (l > cursor)
			cursor = l;
	}
	if (st->last != NULL && cursor == st->last_link &&
	    st->last_link < (long)st->profile->nchain) {
		const char *pid = st->profile->chain[st->last_link].protocol;
		struct rk_protocol *p = rk_catalog_protocol(st->run->catalog,
		    pid, &e);
		long si;

		if (p == NULL)
			return fail(st, "unknown-protocol", e.code, e.msg);
		for (si = 0; si < (long)p->nsteps; si++)
			if (strcmp(p->steps[si].id,
			    rk_get_string(st->last, "step") ?
			    rk_get_string(st->last, "step") : "") == 0)
				break;
		if ((si = runnable_step(p, si + 1, st->run->perf)) >= 0) {
			return make_request(st, p, &p->steps[si],
			    st->last_link);
		}
	}
	for (j = cursor + 1; j < (long)st->profile->nchain; j++) {
		const struct rk_link *l = &st->profile->chain[j];
		double conf = st->last ? rk_get_number(st->last, "confidence",
		    0) : -1;
		const char *verdict = st->last ? rk_get_string(json_object_get(
		    st->last, "output"), "verdict") : NULL;
		struct rk_protocol *p;
		long si;

		if (!rk_cond_eval(&l->when, conf, verdict)) {
			if (!json_is_array(skipped)) {
				skipped = json_array();
				json_object_set_new(st->rec, "skipped",
				    skipped);
			}
			json_array_append_new(skipped, json_pack("{s:s, s:I, "
			    "s:s}", "protocol", l->protocol, "link",
			    (json_int_t)j, "when", l->when.text));
			continue;
		}
		if ((p = rk_catalog_protocol(st->run->catalog, l->protocol,
		    &e)) == NULL)
			return fail(st, "unknown-protocol", e.code, e.msg);
		if ((si = runnable_step(p, 0, st->run->perf)) >= 0) {
			return make_request(st, p, &p->steps[si], j);
		}
	}
	set_result(st);
	return 0;
}

/* The step after the record's last one in p. */
static long
step_after_last(const struct state *st, const struct rk_protocol *p)
{
	const char *id = rk_get_string(st->last, "step");
	const struct rk_step *s = rk_protocol_step(p, id ? id : "");

	return s ? s - p->steps + 1 : (long)p->nsteps;
}

/* The protocol of the last step before the record's last link, or "". */
static const char *
protocol_before_last(const struct state *st)
{
	const json_t *s;
	size_t i = json_array_size(st->steps);

	while (i-- > 0) {
		s = json_array_get(st->steps, i);
		if (json_integer_value(json_object_get(s, "link")) !=
		    st->last_link)
			return rk_get_string(s, "protocol") ?
			    rk_get_string(s, "protocol") : "";
	}
	return "";
}

/*
 * One protocol: continue it, or chain it after whatever ran before; then
 * its conclusion, unless it has an answer of its own.
 */
static int
next_in_protocol(struct state *st)
{
	struct rk_protocol *p, *conc;
	long link = 0, si = 0;
	const char *lp;
	struct rk_error e;

	if ((p = rk_catalog_protocol(st->run->catalog, st->protocol, &e)) ==
	    NULL)
		return fail(st, "unknown-protocol", e.code, e.msg);
	conc = rk_catalog_conclusion(st->run->catalog, p);
	if (st->last != NULL) {
		lp = rk_get_string(st->last, "protocol");
		link = st->last_link;
		if (lp != NULL && strcmp(lp, p->id) == 0)
			si = step_after_last(st, p);
		else if (lp != NULL && conc != NULL &&
		    strcmp(lp, conc->id) == 0 &&
		    strcmp(protocol_before_last(st), p->id) == 0) {
			p = conc;
			conc = NULL;
			si = step_after_last(st, p);
		} else
			link++;
	}
	if ((si = runnable_step(p, si, st->run->perf)) >= 0)
		return make_request(st, p, &p->steps[si], link);
	if (conc != NULL && (si = runnable_step(conc, 0, st->run->perf)) >= 0)
		return make_request(st, conc, &conc->steps[si], link + 1);
	set_result(st);
	return 0;
}

/*
 * Passages are packed into prompts up to a token budget, counted with the
 * encoding of $RK_MODEL when it is known (cl100k_base otherwise).
 */
int
rk_runner_init(struct rk_runner *run, struct rk_error *err)
{
	const char *v = rk_getenv("RK_CONTEXT_TOKENS");
	const char *enc = rk_getenv("RK_MODEL") ?
	    rk_bpe_encoding_for(rk_getenv("RK_MODEL")) : NULL;

	run->context_tokens = 2000;
	if (v != NULL && rk_parse_uint(v, 10000000, &run->context_tokens) == -1)
		return rk_error_set(err, RK_EXIT_USAGE, "RK_CONTEXT_TOKENS: "
		    "not a number: '%s'", v);
	run->bpe_name = enc ? enc : "cl100k_base";
	return 0;
}

int
rk_runner_next(struct rk_runner *run, json_t *rec, struct rk_error *err)
{
	struct state st = { .run = run, .err = err, .rec = rec,
	    .last_link = -1 };
	const char *prof = run->profile, *proto = run->protocol;
	size_t n;
	struct rk_error e;

	if (rk_has_error(rec) || json_object_get(rec, "request") != NULL)
		return 0;
	if (!json_is_string(json_object_get(rec, "query")))
		return fail(&st, "no-query", RK_EXIT_CONFIG,
		    "record has no query");
	if (prof == NULL && proto == NULL) {
		prof = rk_get_string(rec, "profile");
		proto = rk_get_string(rec, "protocol");
	}
	if (prof == NULL && proto == NULL)
		return fail(&st, "no-protocol", RK_EXIT_CONFIG,
		    "no protocol or profile given");
	if (json_object_get(rec, "profile") == NULL &&
	    json_object_get(rec, "protocol") == NULL)
		json_object_set_new(rec, prof ? "profile" : "protocol",
		    json_string(prof ? prof : proto));
	if (prof != NULL && (st.profile = rk_catalog_profile(run->catalog, prof,
	    &e)) == NULL)
		return fail(&st, "unknown-profile", e.code, e.msg);
	st.protocol = proto;
	st.steps = rk_steps(rec);
	if ((n = json_array_size(st.steps)) > 0) {
		st.last = json_array_get(st.steps, n - 1);
		st.last_link = json_integer_value(json_object_get(st.last,
		    "link"));
	}
	if (st.profile != NULL)
		return next_in_profile(&st);
	return next_in_protocol(&st);
}

