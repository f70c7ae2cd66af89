/*
 * The built-in offline model.  Its replies are deterministic functions of
 * the question, protocol, step and chain link, shaped like a real model's
 * (numbered items, a verdict line, a confidence line) so that parsing,
 * conditions and traces are exercised for real.  RK_MOCK_CONFIDENCE fixes
 * the confidence it states; RK_MOCK_DELAY (ms) makes it slow;
 * RK_MOCK_REPLIES names canned answers by question (see replies.c).
 */
#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "core/rk.h"
#include "llm/llm.h"

static uint64_t
fnv1a(uint64_t h, const char *s)
{
	for (; s && *s; s++)
		h = (h ^ (unsigned char)*s) * 0x100000001b3ULL;
	return (h ^ 0xff) * 0x100000001b3ULL;
}

static const char *labels[] = { "Cost", "Time to value", "People and skills",
    "Risk", "Technology", "Customers", "Regulation", "Operations",
    "Strategy", "Ethics", "Evidence", "Incentives" };
static const char *angles[] = { "changes the cost of", "sets the pace of",
    "depends on the people behind", "adds risk to", "constrains",
    "shapes how users see", "limits what is allowed for", "must be run day "
    "to day for", "decides the long-term value of", "raises fair questions "
    "about", "needs evidence before", "rewards or punishes" };
static const char *findings[] = { "the benefit is real but arrives late",
    "most of the cost is hidden in operations",
    "the claim holds only under a stated assumption",
    "two of the premises support each other circularly",
    "the evidence is suggestive, not conclusive",
    "a smaller first step would test it cheaply",
    "the strongest objection is about scale",
    "independent sources broadly agree" };

static int
is_filler(const char *w, size_t n)
{
	static const char *fill[] = { "should", "would", "could", "which",
	    "what", "there", "their", "about", "whether", "where", "when",
	    "does", "with", "into", "from", "that", "this", "have", NULL };

	for (const char **f = fill; *f; f++)
		if (strlen(*f) == n && strncasecmp(w, *f, n) == 0)
			return 1;
	return 0;
}

/* The question's longest real word: enough to make replies differ. */
static void
topic(const char *q, char *out, size_t size)
{
	size_t best = 0;

	strlcpy(out, "the question", size);
	while (q && *q) {
		size_t n = 0;

		while (q[n] && (isalnum((unsigned char)q[n]) || q[n] == '-'))
			n++;
		if (n > best && n < size && !is_filler(q, n)) {
			best = n;
			for (size_t i = 0; i < n; i++)
				out[i] = tolower((unsigned char)q[i]);
			out[n] = '\0';
		}
		q += n ? n : 1;
	}
}

static char *
append(char *s, const char *fmt, ...)
{
	va_list ap;
	char *add, *t;

	va_start(ap, fmt);
	rk_vasprintf(&add, fmt, ap);
	va_end(ap);
	rk_asprintf(&t, "%s%s", s, add);
	free(s);
	free(add);
	return t;
}

/* The first "12 * 7", "3+4", "10 / 4" in q: 1 and its value in *v. */
static int
arithmetic(const char *q, double *v)
{
	const char *p, *rhs;
	double a, b;
	char *end;

	for (; *q; q++) {
		if (!isdigit((unsigned char)*q))
			continue;
		a = strtod(q, &end);
		for (p = end; *p == ' '; p++)
			;
		if (*p == '\0' || strchr("+-*x/", *p) == NULL)
			continue;
		rhs = p + 1 + strspn(p + 1, " ");
		if (!isdigit((unsigned char)*rhs))
			continue;
		b = strtod(rhs, &end);
		*v = *p == '+' ? a + b : *p == '-' ? a - b : *p == '/' ?
		    (b != 0 ? a / b : 0) : a * b;
		return 1;
	}
	return 0;
}

/*
 * The offline model's answer: depends on the question alone.  Arithmetic
 * in it is worked out; a question that starts like a yes/no question gets
 * yes or no; one with numbers, a number; any other, a recommendation.
 */
static char *
mock_answer(const char *q, const char *t)
{
	static const char *yn[] = { "is", "are", "should", "can", "does",
	    "do", "will", "would", "could", "has", "have", "was", "were",
	    "did", "shall", "may", "must", NULL };
	static const char *advice[] = { "Start with a small, reversible "
	    "trial", "Wait until the evidence is stronger", "Go ahead, in "
	    "stages", "Keep the current approach for now" };
	uint64_t h = fnv1a(0xcbf29ce484222325ULL, q);
	double v;
	size_t n;
	char *s;

	while (q != NULL && *q != '\0' && !isalnum((unsigned char)*q))
		q++;
	n = strcspn(q ? q : "", " ?");
	if (q != NULL && arithmetic(q, &v))
		rk_asprintf(&s, "%.10g", v);
	else if (q != NULL && strpbrk(q, "0123456789") != NULL)
		rk_asprintf(&s, "%llu", (unsigned long long)(h % 100));
	else {
		for (const char **w = yn; q != NULL && *w; w++)
			if (strlen(*w) == n && strncasecmp(q, *w, n) == 0)
				return rk_xstrdup(h >> 7 & 1 ? "Yes" : "No");
		rk_asprintf(&s, "%s on %s", advice[h % 4], t);
	}
	return s;
}

/*
 * The most items a list reply has, whatever a record asks: a hand-made
 * "min_items":10000 or 2^62 must not make the reply cost more.
 */
#define MOCK_MAX_ITEMS	50

static long
items_asked(const json_t *req, const char *key)
{
	json_int_t n = json_integer_value(json_object_get(req, key));

	return n < 0 ? 0 : n > MOCK_MAX_ITEMS ? MOCK_MAX_ITEMS : (long)n;
}

static char *
reply(const json_t *rec, const json_t *req, uint64_t h, double conf)
{
	const char *out = rk_get_string(req, "output");
	long lo = items_asked(req, "min_items");
	long hi = items_asked(req, "max_items");
	char t[48], *s = rk_xstrdup("");

	topic(rk_get_string(rec, "query"), t, sizeof(t));
	if (out && strcmp(out, "list") == 0) {
		long n = lo < 1 ? 3 : lo + (long)(h % (hi >= lo ? hi - lo + 1 :
		    1));

		for (long i = 0; i < n; i++) {
			s = append(s, "%ld. %s: %s %s\n", i + 1,
			    labels[((h >> 8) + i * 5) % 12], t,
			    angles[((h >> 20) + i * 7) % 12]);
		}
	} else if (out && strcmp(out, "verdict") == 0) {
		static const char *v[] = { "pass", "conditional", "fail" };

		s = append(s, "Verdict: %s\nOn %s, %s; %s.\n",
		    v[(h >> 16) % 3], t, findings[h % 8],
		    findings[(h + 3) % 8]);
	} else if (out && strcmp(out, "answer") == 0) {
		char *a = mock_answer(rk_get_string(rec, "query"), t);

		s = append(s, "On %s, %s, and %s.\nAnswer: %s\n", t,
		    findings[h % 8], findings[(h + 3) % 8], a);
		free(a);
	} else {
		s = append(s, "On %s:\n- %s.\n- %s.\n- %s.\n", t,
		    findings[h % 8], findings[(h + 3) % 8],
		    findings[(h + 5) % 8]);
	}
	return append(s, "\nConfidence: %.2f\n", conf);
}

/* The canned reply to an answer step of this sample, or NULL. */
static const char *
canned(const struct rk_call *c, struct rk_error *e)
{
	static struct rk_replies *r;
	static int tried;
	const char *path = rk_getenv("RK_MOCK_REPLIES");
	const char *out = rk_get_string(c->req, "output");
	const json_t *rs;

	if (path == NULL || out == NULL || strcmp(out, "answer") != 0)
		return NULL;
	if (!tried++ && (r = rk_replies_load(path, e)) == NULL)
		return NULL;
	if (rk_replies_find(r, rk_get_string(c->rec, "query"), 0, &rs) < 0)
		return NULL;
	return rk_replies_pick(rs, (long)json_integer_value(json_object_get(
	    c->req, "sample")));
}

static void
delay(void)
{
	const char *v = rk_getenv("RK_MOCK_DELAY");
	long ms;

	if (v != NULL && rk_parse_uint(v, 600000, &ms) == 0 && ms > 0) {
		struct timespec ts = { ms / 1000, ms % 1000 * 1000000L };

		nanosleep(&ts, NULL);
	}
}

static int
mock_call(struct rk_call *c)
{
	const char *fixed = rk_getenv("RK_MOCK_CONFIDENCE");
	uint64_t h = 0xcbf29ce484222325ULL;
	double conf;
	char link[24];
	const char *text;
	struct rk_error e = { 0, "" };

	h = fnv1a(h, rk_get_string(c->rec, "query"));
	h = fnv1a(h, rk_get_string(c->req, "protocol"));
	h = fnv1a(h, rk_get_string(c->req, "step"));
	snprintf(link, sizeof(link), "%lld", (long long)json_integer_value(
	    json_object_get(c->req, "link")));
	h = fnv1a(h, link);
	conf = 0.70 + (double)(h % 26) / 100;
	if (fixed != NULL && (rk_parse_double(fixed, &conf) == -1 ||
	    conf < 0 || conf > 1)) {
		rk_call_fail(c, "bad-config", "RK_MOCK_CONFIDENCE: not a "
		    "number from 0 to 1: '%s'", fixed);
		return -1;
	}
	if ((text = canned(c, &e)) == NULL && e.code != 0) {
		rk_call_fail(c, "bad-config", "RK_MOCK_REPLIES: %s", e.msg);
		return -1;
	}
	delay();
	c->text = text ? rk_xstrdup(text) : reply(c->rec, c->req, h, conf);
	c->model = rk_xstrdup("mock-1");
	/* counted as a cl100k_base model would bill them */
	c->in = rk_count_request_tokens("mock-1", c->req);
	c->out = rk_count_tokens("mock-1", c->text);
	c->estimated = 1;
	return 0;
}

const struct rk_provider rk_mock_provider = { "mock", mock_call };
