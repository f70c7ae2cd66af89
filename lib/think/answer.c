/*
 * The answer in a model's text, and a canonical form to compare answers.
 *
 * Models state an answer in many ways: "Answer: 18", "Final answer: 18",
 * "**Answer:** 18", "#### 18" (GSM8K), "\boxed{18}", "The answer is 18."
 * or "A: 18", often after restating intermediate results.  The strongest
 * kind of statement wins, and of one kind the last; for a numeric question
 * the last number in the text is the fallback.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/rk.h"
#include "think/think.h"

#define MAX_ANSWER	1000	/* bytes kept of a stated answer */

/* Kinds of statement, strongest first. */
enum stated { S_FINAL, S_ANSWER, S_HASHES, S_BOXED, S_IS, S_A, S_NKINDS };

struct span {
	const char	*p;
	size_t		 len;
};

static int
is_space(int c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

static const char *
line_end(const char *p)
{
	const char *e = strchr(p, '\n');

	return e ? e : p + strlen(p);
}

/* Markdown around a label: "**", "_", "#", "-", ">", blanks. */
static const char *
skip_decoration(const char *p, const char *end)
{
	while (p < end && (is_space(*p) || strchr("*_#->`", *p)))
		p++;
	return p;
}

/*
 * If the line at p starts with the label word (decorated or not) followed
 * by a colon, or by nothing at all (a heading), the value after it.
 */
static const char *
after_label(const char *p, const char *end, const char *word, int heading)
{
	size_t n = strlen(word);

	p = skip_decoration(p, end);
	if ((size_t)(end - p) < n || strncasecmp(p, word, n) != 0)
		return NULL;
	p += n;
	while (p < end && (*p == '*' || *p == '_'))
		p++;
	if (p < end && *p == ':')
		return p + 1;
	if (heading && skip_decoration(p, end) == end)
		return end;
	return NULL;
}

/* A value on its own line after a heading such as "## Final answer". */
static struct span
value_from(const char *p, const char *end)
{
	struct span v;

	p = skip_decoration(p, end);
	if (p == end && *end == '\n') {
		p = end + 1;
		while (*p == '\n' || is_space(*p))
			p++;
		end = line_end(p);
	}
	v.p = p;
	v.len = end - p;
	return v;
}

/* "\boxed{...}" with nested braces; its contents or a NULL span. */
static struct span
boxed(const char *p)
{
	struct span v = { NULL, 0 };
	int depth = 1;
	const char *q = p + 7;

	for (; *q && depth > 0; q++)
		if (*q == '{')
			depth++;
		else if (*q == '}')
			depth--;
	if (depth == 0) {
		v.p = p + 7;
		v.len = q - 1 - v.p;
	}
	return v;
}

/* "... the answer is X." up to the end of the sentence. */
static struct span
answer_is(const char *p, const char *end)
{
	struct span v;
	const char *q;

	p += 13;
	while (p < end && (is_space(*p) || *p == ':'))
		p++;
	for (q = p; q < end; q++)
		if (strchr(".!?", *q) && (q + 1 == end || is_space(q[1])))
			break;
	v.p = p;
	v.len = q - p;
	return v;
}

static void
scan_line(const char *p, const char *end, struct span found[S_NKINDS])
{
	const char *v, *q;

	if ((v = after_label(p, end, "final answer", 1)) != NULL)
		found[S_FINAL] = value_from(v, end);
	else if ((v = after_label(p, end, "answer", 1)) != NULL)
		found[S_ANSWER] = value_from(v, end);
	else if ((v = after_label(p, end, "a", 0)) != NULL)
		found[S_A] = value_from(v, end);
	q = p;
	while (q < end && is_space(*q))
		q++;
	if (end - q > 5 && strncmp(q, "####", 4) == 0 && is_space(q[4]))
		found[S_HASHES] = value_from(q + 4, end);
	for (q = p; q + 7 <= end; q++) {
		struct span b;

		if (strncmp(q, "\\boxed{", 7) == 0 &&
		    (b = boxed(q)).p != NULL)
			found[S_BOXED] = b;
	}
	for (q = p; q + 13 <= end; q++)
		if (strncasecmp(q, "the answer is", 13) == 0 && (q == p ||
		    !isalpha((unsigned char)q[-1])))
			found[S_IS] = answer_is(q, end);
}

/* Wrappers models put around an answer: bold, code, $...$, \boxed{}. */
static struct span
unwrap(struct span v)
{
	static const char *pairs[][2] = {
		{ "**", "**" }, { "*", "*" }, { "__", "__" }, { "`", "`" },
		{ "$", "$" }, { "\\(", "\\)" }, { "\\[", "\\]" },
		{ "\\boxed{", "}" }, { "\\text{", "}" }, { "\"", "\"" },
	};
	size_t i, a, b;
	int again = 1;

	while (again) {
		again = 0;
		while (v.len > 0 && (is_space(*v.p) || *v.p == '\n'))
			v.p++, v.len--;
		while (v.len > 0 && (is_space(v.p[v.len - 1]) ||
		    v.p[v.len - 1] == '\n'))
			v.len--;
		if (v.len > 1 && v.p[v.len - 1] == '.')
			v.len--, again = 1;
		for (i = 0; i < sizeof(pairs) / sizeof(pairs[0]); i++) {
			a = strlen(pairs[i][0]);
			b = strlen(pairs[i][1]);
			if (v.len >= a + b &&
			    strncmp(v.p, pairs[i][0], a) == 0 &&
			    strncmp(v.p + v.len - b, pairs[i][1], b) == 0) {
				v.p += a;
				v.len -= a + b;
				again = 1;
			}
		}
	}
	return v;
}

/*
 * A number at p: optional sign (also U+2212), optional currency, digits
 * with optional thousands commas, optional decimals.  Its length, or 0.
 */
static size_t
number_at(const char *p, const char *end, const char *start)
{
	const char *q = p, *d;

	if (q > start && (isalnum((unsigned char)q[-1]) || q[-1] == '.' ||
	    q[-1] == ','))
		return 0;
	if (*q == '$')		/* "$-2" as well as "-$2" */
		q++;
	if (*q == '-' || *q == '+')
		q++;
	else if (end - q >= 3 && strncmp(q, "\xe2\x88\x92", 3) == 0)
		q += 3;
	if (q < end && *q == '$')
		q++;
	if (q == end || !isdigit((unsigned char)*q))
		return 0;
	while (q < end && isdigit((unsigned char)*q))
		q++;
	while (end - q >= 4 && *q == ',' && isdigit((unsigned char)q[1]) &&
	    isdigit((unsigned char)q[2]) && isdigit((unsigned char)q[3]) &&
	    (end - q == 4 || !isdigit((unsigned char)q[4])))
		q += 4;
	if (end - q >= 2 && *q == '.' && isdigit((unsigned char)q[1])) {
		for (d = q + 1; d < end && isdigit((unsigned char)*d); d++)
			;
		q = d;
	}
	return q - p;
}

/*
 * The first (or last) number in v, as written; lines that start with
 * skip_label (such as "Confidence: 0.8") are not searched.
 */
static struct span
find_number(struct span v, int last, const char *skip_label)
{
	struct span n = { NULL, 0 };
	const char *line, *p, *end = v.p + v.len, *eol;
	size_t len;

	for (line = v.p; line < end; line = eol + 1) {
		if ((eol = memchr(line, '\n', end - line)) == NULL)
			eol = end;
		if (skip_label != NULL && rk_line_label(line, skip_label))
			continue;
		for (p = line; p < eol; p++) {
			if ((len = number_at(p, eol, v.p)) == 0)
				continue;
			n.p = p;
			n.len = len;
			if (!last)
				return n;
			p += len - 1;
		}
	}
	return n;
}

static char *
number_text(struct span n)
{
	char *s = rk_xmalloc(n.len + 1), *o = s;
	size_t i;

	for (i = 0; i < n.len; i++)
		if (n.p[i] != '$' && n.p[i] != '+')
			*o++ = n.p[i];
	*o = '\0';
	return s;
}

/* A numeric answer from a statement: after its last "=", the first number. */
static char *
numeric_value(struct span v)
{
	const char *eq;
	struct span n;

	while ((eq = memchr(v.p, '=', v.len)) != NULL) {
		v.len -= eq + 1 - v.p;
		v.p = eq + 1;
	}
	n = find_number(v, 0, NULL);
	return n.p ? number_text(n) : NULL;
}

char *
rk_answer_extract(const char *text, int numeric)
{
	struct span found[S_NKINDS], v, whole;
	const char *p, *end;
	char *s;
	int k;

	if (text == NULL)
		return NULL;
	memset(found, 0, sizeof(found));
	for (p = text; *p; p = *end ? end + 1 : end) {
		end = line_end(p);
		scan_line(p, end, found);
	}
	for (k = 0; k < S_NKINDS; k++) {
		if (found[k].p == NULL)
			continue;
		v = unwrap(found[k]);
		if (numeric) {
			if ((s = numeric_value(v)) != NULL)
				return s;
			continue;
		}
		if (v.len == 0)
			continue;
		if (v.len > MAX_ANSWER)
			v.len = rk_utf8_prefix(v.p, MAX_ANSWER);
		s = rk_xmalloc(v.len + 1);
		memcpy(s, v.p, v.len);
		s[v.len] = '\0';
		return s;
	}
	if (!numeric)
		return NULL;
	whole.p = text;
	whole.len = strlen(text);
	v = find_number(whole, 1, "confidence");
	return v.p ? number_text(v) : NULL;
}

/*
 * Canonical forms: numbers as plain decimals ("$1,000.50" -> "1000.5",
 * "18.0" -> "18", "-0" -> "0"), "yes"/"no", an upper-case choice letter,
 * otherwise lower-case text with single blanks and no final punctuation.
 */

/* digits of a number without commas, leading or trailing zeros */
static char *
canonical_number(const char *p, size_t len)
{
	char *s = rk_xmalloc(len + 3), *o = s, *dot;
	const char *end = p + len;
	int neg = 0;

	if (*p == '$')
		p++;
	if (*p == '-' || *p == '+')
		neg = *p++ == '-';
	else if (strncmp(p, "\xe2\x88\x92", 3) == 0)
		neg = 1, p += 3;
	if (*p == '$')
		p++;
	if (neg)
		*o++ = '-';
	while (p < end - 1 && *p == '0' && isdigit((unsigned char)p[1]))
		p++;
	for (; p < end; p++)
		if (*p != ',')
			*o++ = *p;
	*o = '\0';
	if ((dot = strchr(s, '.')) != NULL) {
		while (o > dot + 1 && o[-1] == '0')
			*--o = '\0';
		if (o == dot + 1)
			*--o = '\0';
	}
	if (strcmp(s, "-0") == 0)
		memmove(s, s + 1, 2);
	return s;
}

/* "18", "$18.00", "18 dollars", "50%", "-3.5": the number's length. */
static size_t
whole_number(const char *s, size_t *numlen)
{
	const char *end = s + strlen(s), *p;
	size_t n = number_at(s, end, s);

	if (n == 0)
		return 0;
	*numlen = n;
	p = s + n;
	if (*p == '%')
		p++;
	else if (*p == ' ') {	/* one word of unit */
		for (p++; isalpha((unsigned char)*p); p++)
			;
		if (p == s + n + 1)
			return 0;
	}
	return *p == '\0' ? n : 0;
}

/* "B", "(b)", "B)", "B.", "B: 14", "Option B", "choice (c)": 'B', 'C'. */
static int
choice_letter(const char *s)
{
	const char *p = s;
	int c, paren = 0;

	if (strncasecmp(p, "option ", 7) == 0 ||
	    strncasecmp(p, "choice ", 7) == 0)
		p += 7;
	if (*p == '(')
		p++, paren = 1;
	c = toupper((unsigned char)*p++);
	if (c < 'A' || c > 'J')
		return 0;
	if (*p == ')' || (!paren && (*p == '.' || *p == ':')))
		p++;
	else if (paren)
		return 0;
	if (*p == '\0' || (*p == ' ' && p[-1] != (char)c &&
	    p[-1] != (char)tolower(c)))
		return c;
	return 0;
}

static const char *
yes_no(const char *s)
{
	if (strncasecmp(s, "yes", 3) == 0 && !isalnum((unsigned char)s[3]))
		return "yes";
	if (strncasecmp(s, "no", 2) == 0 && !isalnum((unsigned char)s[2]))
		return "no";
	return NULL;
}

static char *
canonical_text(const char *s)
{
	char *out = rk_xmalloc(strlen(s) + 1), *o = out;

	for (; *s; s++) {
		if (isspace((unsigned char)*s)) {
			if (o > out && o[-1] != ' ')
				*o++ = ' ';
		} else
			*o++ = tolower((unsigned char)*s);
	}
	while (o > out && (o[-1] == ' ' || strchr(".!?", o[-1])))
		o--;
	*o = '\0';
	return out;
}

char *
rk_answer_normalize(const char *answer)
{
	struct span v;
	char *s, *out;
	const char *yn;
	size_t n, numlen;
	int c;

	if (answer == NULL)
		return NULL;
	v.p = answer;
	v.len = strlen(answer);
	v = unwrap(v);
	s = rk_xmalloc(v.len + 1);
	memcpy(s, v.p, v.len);
	s[v.len] = '\0';
	if ((n = whole_number(s, &numlen)) > 0)
		out = canonical_number(s, numlen);
	else if ((yn = yes_no(s)) != NULL)
		out = rk_xstrdup(yn);
	else if ((c = choice_letter(s)) != 0) {
		out = rk_xmalloc(2);
		out[0] = c;
		out[1] = '\0';
	} else
		out = canonical_text(s);
	free(s);
	return out;
}
