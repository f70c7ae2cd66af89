/*
 * Self-consistency: a question is run several times ("samples", each at
 * its own temperature), and the samples vote on the answer.  A sample is
 * an ordinary record with a "sample" member naming its group (the
 * question's vote), its index and its temperature offset; answers are
 * compared in their canonical form (rk_answer_normalize), so "$1,000" and
 * "1000" are one answer.  See rk-vote(1).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/rk.h"
#include "think/think.h"

#define EPS	1e-9

static const char *method_names[] = { "majority", "confidence", "cisc",
    "unanimous" };

int
rk_vote_method_parse(const char *s, enum rk_vote_method *m)
{
	for (size_t i = 0; i < sizeof(method_names) / sizeof(*method_names);
	    i++)
		if (strcmp(s, method_names[i]) == 0) {
			*m = (enum rk_vote_method)i;
			return 0;
		}
	return -1;
}

const char *
rk_vote_method_name(enum rk_vote_method m)
{
	return method_names[m];
}

void
rk_vote_defaults(struct rk_vote_opts *o)
{
	o->method = RK_VOTE_MAJORITY;
	o->samples = 5;
	o->min_samples = 3;
	o->threshold = 0.8;
	o->spread = 0.2;
}

/*
 * Sample i's temperature offset: 0 for the first, then alternately below
 * and above, evenly out to the spread, so that any first few samples
 * cover the range: 0, -s/2, +s/2, -s, +s for five.
 */
double
rk_sample_offset(long index, long of, double spread)
{
	long k = (index + 1) / 2, m = of / 2;

	if (index <= 0 || m == 0)
		return 0;
	return rk_round((index % 2 ? -1 : 1) * spread * (double)k /
	    (double)m, 3);
}

json_t *
rk_sample_new(const json_t *rec, const char *group, long index,
    const struct rk_vote_opts *o)
{
	json_t *s = json_deep_copy(rec);
	char id[27];

	rk_ulid(id);
	json_object_set_new(s, "id", json_string(id));
	json_object_set_new(s, "sample", json_pack("{s:s, s:I, s:I, s:f}",
	    "group", group, "index", (json_int_t)index, "of",
	    (json_int_t)o->samples, "offset",
	    rk_sample_offset(index, o->samples, o->spread)));
	return s;
}

const char *
rk_sample_group(const json_t *rec)
{
	const char *g = rk_get_string(json_object_get(rec, "sample"),
	    "group");

	return g ? g : rk_get_string(rec, "id");
}

/* The confidence of a sample's answer: its answer step's, or the run's. */
static double
answer_confidence(const json_t *rec)
{
	const json_t *steps = json_object_get(rec, "steps"), *s;
	size_t i = json_array_size(steps);

	while (i-- > 0) {
		s = json_array_get(steps, i);
		if (json_is_number(json_object_get(s, "confidence")) &&
		    rk_get_string(json_object_get(s, "output"), "type") &&
		    strcmp(rk_get_string(json_object_get(s, "output"), "type"),
		    "answer") == 0)
			return rk_get_number(s, "confidence", 0);
	}
	return rk_get_number(json_object_get(rec, "result"), "confidence", 0);
}

/* One distinct answer and what the samples gave it. */
struct ballot {
	char		*canon;
	const json_t	*best;		/* its most confident sample */
	long		 count;
	double		 confsum;
};

struct tally {
	struct ballot	*b;
	size_t		 n;
	long		 samples, votes;
};

static void
tally_add(struct tally *t, const json_t *rec)
{
	const char *answer = rk_get_string(rec, "answer");
	double conf = answer_confidence(rec);
	struct ballot *b = NULL;
	char *canon;

	t->samples++;
	if (rk_has_error(rec) || answer == NULL || *answer == '\0')
		return;
	t->votes++;
	canon = rk_answer_normalize(answer);
	for (size_t i = 0; i < t->n && b == NULL; i++)
		if (strcmp(t->b[i].canon, canon) == 0)
			b = &t->b[i];
	if (b == NULL) {
		t->b = rk_xrealloc(t->b, (t->n + 1) * sizeof(*t->b));
		b = &t->b[t->n++];
		memset(b, 0, sizeof(*b));
		b->canon = canon;
	} else
		free(canon);
	if (b->best == NULL || conf > answer_confidence(b->best))
		b->best = rec;
	b->count++;
	b->confsum += conf;
}

static void
tally_free(struct tally *t)
{
	for (size_t i = 0; i < t->n; i++)
		free(t->b[i].canon);
	free(t->b);
}

/* The leading answer under the method; the first to get there on a tie. */
static const struct ballot *
leader(const struct tally *t, enum rk_vote_method m)
{
	const struct ballot *best = NULL;

	for (size_t i = 0; i < t->n; i++) {
		const struct ballot *b = &t->b[i];
		int by_count = m == RK_VOTE_MAJORITY || m == RK_VOTE_UNANIMOUS;

		if (best == NULL || (by_count ? b->count > best->count ||
		    (b->count == best->count && b->confsum > best->confsum +
		    EPS) : b->confsum > best->confsum + EPS))
			best = b;
	}
	return best;
}

static void
tally_samples(struct tally *t, const json_t *samples)
{
	const json_t *rec;
	size_t i;

	memset(t, 0, sizeof(*t));
	json_array_foreach(samples, i, rec)
		tally_add(t, rec);
}

/*
 * How many more samples to send: 0 when the vote is over.  Below the
 * minimum, up to it; else none once the leader's share of the samples
 * reaches the threshold, or else the fewest that could take it there.
 */
long
rk_vote_more(const json_t *samples, const struct rk_vote_opts *o)
{
	struct tally t;
	const struct ballot *b;
	long left, c, k;
	double need;

	tally_samples(&t, samples);
	b = leader(&t, o->method);
	c = b ? b->count : 0;
	left = o->samples - t.samples;
	tally_free(&t);
	if (left <= 0)
		return 0;
	if (t.samples < o->min_samples)
		return o->min_samples - t.samples < left ?
		    o->min_samples - t.samples : left;
	need = o->threshold * (double)t.samples - (double)c;
	if (need <= EPS)
		return 0;
	if (o->threshold >= 1 - EPS)
		return left;
	k = (long)ceil(need / (1 - o->threshold) - EPS);
	return k < 1 ? 1 : k > left ? left : k;
}

static json_t *
sample_runs(const json_t *samples, json_t **usage)
{
	json_t *runs = json_array(), *rec, *s;
	json_int_t in = 0, out = 0;
	size_t i, j;

	json_array_foreach(samples, i, rec) {
		const json_t *sm = json_object_get(rec, "sample");

		json_array_foreach(json_object_get(rec, "steps"), j, s) {
			in += json_integer_value(json_object_get(
			    json_object_get(s, "usage"), "in"));
			out += json_integer_value(json_object_get(
			    json_object_get(s, "usage"), "out"));
		}
		json_array_append_new(runs, json_pack("{s:O?, s:O?, s:f, s:O?}",
		    "id", json_object_get(rec, "id"),
		    "answer", json_object_get(rec, "answer"),
		    "confidence", answer_confidence(rec),
		    "temperature", json_object_get(sm, "temperature")));
	}
	*usage = json_pack("{s:I, s:I}", "in", in, "out", out);
	return runs;
}

/* The vote's confidence: the share of the votes, or CISC's product. */
static double
vote_confidence(const struct tally *t, const struct ballot *b,
    enum rk_vote_method m)
{
	double total = 0, agreement = (double)b->count / (double)t->votes;

	for (size_t i = 0; i < t->n; i++)
		total += t->b[i].confsum;
	switch (m) {
	case RK_VOTE_CONFIDENCE:
		return total > 0 ? b->confsum / total : 0;
	case RK_VOTE_CISC:
		return b->confsum / (double)b->count * agreement;
	case RK_VOTE_MAJORITY:
	case RK_VOTE_UNANIMOUS:
		break;
	}
	return agreement;
}

/* The members of the run every sample shares, from the first. */
static json_t *
vote_record(const json_t *samples)
{
	static const char *keep[] = { "rk", "query", "profile", "protocol",
	    "context", "parent", "batch", "item", NULL };
	const json_t *first = json_array_get(samples, 0);
	json_t *v = json_object();

	for (const char **k = keep; *k; k++)
		if (json_object_get(first, *k) != NULL)
			json_object_set(v, *k, json_object_get(first, *k));
	json_object_set_new(v, "id", json_string(rk_sample_group(first)));
	return v;
}

/*
 * The vote over the samples of one question: a new record with the
 * winning answer, the "vote" member and each sample's run linked.
 */
json_t *
rk_vote(const json_t *samples, const struct rk_vote_opts *o)
{
	json_t *v = vote_record(samples), *usage, *runs;
	struct tally t;
	const struct ballot *b;
	double conf = 0, min;
	int ok;

	tally_samples(&t, samples);
	b = leader(&t, o->method);
	if (b != NULL && o->method == RK_VOTE_UNANIMOUS && b->count !=
	    t.votes)
		b = NULL;
	runs = sample_runs(samples, &usage);
	if (b != NULL) {
		conf = rk_round(vote_confidence(&t, b, o->method), 4);
		json_object_set(v, "answer", json_object_get(b->best,
		    "answer"));
		if (json_object_get(b->best, "conclusion") != NULL)
			json_object_set(v, "conclusion",
			    json_object_get(b->best, "conclusion"));
	}
	json_object_set_new(v, "vote", json_pack("{s:s?, s:f, s:I, s:I, s:b, "
	    "s:s, s:f, s:o, s:o}", "answer", b ? b->canon : NULL,
	    "agreement", b && t.votes ? rk_round((double)b->count /
	    (double)t.votes, 4) : 0, "votes", (json_int_t)(b ? b->count : 0),
	    "samples", (json_int_t)t.samples,
	    "early_stopped", t.samples < o->samples && b != NULL &&
	    rk_vote_more(samples, o) == 0,
	    "method", rk_vote_method_name(o->method), "confidence", conf,
	    "usage", usage, "runs", runs));
	min = rk_get_number(json_object_get(json_array_get(samples, 0),
	    "result"), "min_confidence", 0);
	ok = b != NULL && conf >= min;
	json_object_set_new(v, "result", json_pack("{s:f, s:f, s:b}",
	    "confidence", conf, "min_confidence", min, "pass", ok));
	if (b == NULL)
		rk_set_error(v, "rk-vote", t.votes ? "no-agreement" :
		    "no-answer", "%s", t.votes ? "the samples do not agree" :
		    "no sample has an answer");
	tally_free(&t);
	return v;
}
