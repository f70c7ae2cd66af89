/*
 * A model's reply -> the step's structured output.  Models are asked to end
 * with "Confidence: X"; they also write "85%", "85" or "**Confidence:**
 * 0.85", and mention confidence earlier in the text, so the last statement
 * wins and any scale up to 100 is read as a fraction.
 */
#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/rk.h"
#include "think/think.h"

static const char *
ci_strstr(const char *hay, const char *needle)
{
	size_t n = strlen(needle);

	for (; *hay; hay++)
		if (strncasecmp(hay, needle, n) == 0)
			return hay;
	return NULL;
}

const char *
rk_out_kind_name(enum out_kind k)
{
	static const char *names[] = { "text", "list", "verdict", "answer" };

	return names[k];
}

int
rk_out_kind_parse(const char *s, enum out_kind *k)
{
	if (strcmp(s, "list") == 0)
		*k = OUT_LIST;
	else if (strcmp(s, "text") == 0)
		*k = OUT_TEXT;
	else if (strcmp(s, "verdict") == 0)
		*k = OUT_VERDICT;
	else if (strcmp(s, "answer") == 0)
		*k = OUT_ANSWER;
	else
		return -1;
	return 0;
}

/* Parse "X", "X%" or "X/1" after a "confidence" word; -1 if none. */
static double
number_after(const char *p)
{
	double v;
	char *end;

	while (*p && (isspace((unsigned char)*p) || strchr(":=*_-", *p) ||
	    isalpha((unsigned char)*p)) && *p != '\n')
		p++;
	if (!isdigit((unsigned char)*p))
		return -1;
	v = strtod(p, &end);
	if (*end == '%' || v > 1)
		v /= 100;
	if (!(v >= 0) || v > 1)
		return -1;
	return rk_round(v, 4);
}

double
rk_reply_confidence(const char *text, int *found)
{
	const char *p = text;
	double best = -1, v;

	while ((p = ci_strstr(p, "confidence")) != NULL) {
		p += 10;
		/* "confidence level: 0.8", "confidence score = 80%" */
		if ((v = number_after(p)) >= 0)
			best = v;
	}
	*found = best >= 0;
	return best >= 0 ? best : 0;
}

/*
 * If the line s starts with word, decorated or not ("**Confidence:**",
 * "## Verdict"), what follows the word; else NULL.
 */
const char *
rk_line_label(const char *s, const char *word)
{
	size_t n = strlen(word);

	while (*s == '*' || *s == '#' || *s == '_' || *s == ' ' || *s == '\t')
		s++;
	return strncasecmp(s, word, n) == 0 ? s + n : NULL;
}

static int
is_confidence_line(const char *s)
{
	return rk_line_label(s, "confidence") != NULL;
}

static int
is_verdict_line(const char *s)
{
	return rk_line_label(s, "verdict") != NULL;
}

static char *
trim(char *s)
{
	char *e;

	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

static int
is_answer_line(const char *s)
{
	return rk_line_label(s, "answer") != NULL ||
	    rk_line_label(s, "final answer") != NULL;
}

/* The reply without its confidence (and verdict or answer) lines, trimmed. */
static char *
body_text(const char *text, int (*drop)(const char *))
{
	char *copy = rk_xstrdup(text), *p = copy, *line, *out;
	size_t len = 0;

	out = rk_xmalloc(strlen(text) + 2);	/* the last line gets a \n too */
	while ((line = strsep(&p, "\n")) != NULL) {
		if (is_confidence_line(line) || (drop && drop(line)))
			continue;
		len += strlen(strcpy(out + len, line));
		out[len++] = '\n';
	}
	out[len] = '\0';
	free(copy);
	line = rk_xstrdup(trim(out));
	free(out);
	return line;
}

/* Where a list item starts: "1. x", "2) x", "- x", "* x", "• x". */
static const char *
item_start(const char *s)
{
	const char *p = s;

	if (isdigit((unsigned char)*p)) {
		while (isdigit((unsigned char)*p))
			p++;
		if ((*p == '.' || *p == ')') && (p[1] == ' ' || p[1] == '\t'))
			return p + 1;
		return NULL;
	}
	if ((*p == '-' || *p == '*' || *p == '+') && (p[1] == ' ' ||
	    p[1] == '\t'))
		return p + 1;
	if (strncmp(p, "\xe2\x80\xa2", 3) == 0)	/* U+2022 bullet */
		return p + 3;
	return NULL;
}

static void
push_item(json_t *items, char *item)
{
	if (item != NULL && *item)
		json_array_append_new(items, json_string(item));
	free(item);
}

/*
 * Numbered or bulleted lines start items; indented or following lines
 * continue the current one; blank and confidence lines end it; text
 * before the first item is a preamble and not an item.
 */
static json_t *
parse_list(const char *text)
{
	char *copy = rk_xstrdup(text), *p = copy, *line, *cur = NULL;
	json_t *items = json_array();

	while ((line = strsep(&p, "\n")) != NULL) {
		const char *start, *t = trim(line);

		if (*t == '\0' || is_confidence_line(t)) {
			push_item(items, cur);
			cur = NULL;
		} else if ((start = item_start(t)) != NULL) {
			push_item(items, cur);
			cur = rk_xstrdup(trim((char *)start));
		} else if (cur != NULL) {
			char *joined;

			rk_asprintf(&joined, "%s %s", cur, t);
			free(cur);
			cur = joined;
		}
	}
	push_item(items, cur);
	free(copy);
	return items;
}

/* The verdict line if there is one, else the first verdict word. */
static const char *
find_verdict(const char *text)
{
	static const char *words[] = { "conditional", "fail", "pass" };
	const char *line = ci_strstr(text, "verdict");
	const char *scope = line ? line : text;
	const char *best = NULL;
	size_t w, which = 0;

	for (w = 0; w < 3; w++) {
		const char *at = ci_strstr(scope, words[w]);

		if (line != NULL && at != NULL && memchr(line, '\n',
		    at - line) != NULL)
			at = NULL;	/* only on the verdict line */
		if (at != NULL && (best == NULL || at < best))
			best = at, which = w;
	}
	if (best == NULL && line != NULL)
		return find_verdict(line + 7);
	return best ? words[which] : "unknown";
}

/* The last non-blank line of s, for an answer nobody labelled. */
static char *
last_line(const char *s)
{
	const char *e = s + strlen(s), *b;
	char *line;

	while (e > s && (e[-1] == '\n' || e[-1] == ' '))
		e--;
	for (b = e; b > s && b[-1] != '\n'; b--)
		;
	line = rk_xmalloc(e - b + 1);
	memcpy(line, b, e - b);
	line[e - b] = '\0';
	return line;
}

/* "conclusion" is the reply without its answer and confidence lines. */
static json_t *
answer_output(const char *text)
{
	char *answer = rk_answer_extract(text, 0);
	char *body = body_text(text, is_answer_line);
	json_t *out;

	if (answer == NULL)
		answer = last_line(body);
	out = json_pack("{s:s, s:s, s:s}", "type", "answer", "answer", answer,
	    "conclusion", body);
	free(answer);
	free(body);
	return out;
}

json_t *
rk_reply_parse(const char *text, enum out_kind kind)
{
	char *body;
	json_t *out;

	switch (kind) {
	case OUT_LIST:
		return json_pack("{s:s, s:o}", "type", "list", "items",
		    parse_list(text));
	case OUT_VERDICT:
		body = body_text(text, is_verdict_line);
		out = json_pack("{s:s, s:s, s:s}", "type", "verdict",
		    "verdict", find_verdict(text), "reason", body);
		free(body);
		return out;
	case OUT_TEXT:
	case OUT_ANSWER:
		break;
	}
	if (kind == OUT_ANSWER)
		return answer_output(text);
	body = body_text(text, NULL);
	out = json_pack("{s:s, s:s}", "type", "text", "text", body);
	free(body);
	return out;
}

/* A step's output as text for the next prompt. */
char *
rk_output_text(const json_t *output)
{
	const char *type = rk_get_string(output, "type");
	json_t *items, *v;
	char *s = NULL, *t;
	size_t i;

	if (type == NULL)
		return rk_xstrdup("");
	if (strcmp(type, "list") == 0 &&
	    json_is_array(items = json_object_get(output, "items"))) {
		s = rk_xstrdup("");
		json_array_foreach(items, i, v) {
			rk_asprintf(&t, "%s%zu. %s\n", s, i + 1,
			    json_string_value(v) ? json_string_value(v) : "");
			free(s);
			s = t;
		}
		return s;
	}
	if (strcmp(type, "answer") == 0) {
		rk_asprintf(&s, "%s\nAnswer: %s",
		    rk_get_string(output, "conclusion") ?
		    rk_get_string(output, "conclusion") : "",
		    rk_get_string(output, "answer") ?
		    rk_get_string(output, "answer") : "");
		return s;
	}
	if (strcmp(type, "verdict") == 0) {
		rk_asprintf(&s, "Verdict: %s\n%s",
		    rk_get_string(output, "verdict"),
		    rk_get_string(output, "reason") ?
		    rk_get_string(output, "reason") : "");
		return s;
	}
	return rk_xstrdup(rk_get_string(output, "text") ?
	    rk_get_string(output, "text") : "");
}
