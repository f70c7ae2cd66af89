/*
 * The text report of a run, and the lines of a listing.  Text from the
 * model is wrapped at word boundaries with a hanging indent; control
 * characters in it are dropped so a reply cannot drive the terminal.
 */
#include <sys/ioctl.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/rk.h"
#include "think/think.h"

#define LABEL	10		/* width of the label column */

void
rk_style_for(FILE *fp, struct rk_style *style)
{
	struct winsize ws;
	int fd = fileno(fp);

	style->width = 80;
	style->bold = 0;
	if (fd < 0 || !isatty(fd))
		return;
	style->bold = rk_getenv("NO_COLOR") == NULL;
	if (ioctl(fd, TIOCGWINSZ, &ws) == 0 && ws.ws_col >= 40)
		style->width = ws.ws_col > 200 ? 200 : ws.ws_col;
}

/* s in a new string, each control character a blank */
static char *
clean(const char *s)
{
	char *c = rk_xstrdup(s), *p;

	for (p = c; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = ' ';
	return c;
}

static void
bold(FILE *fp, const struct rk_style *style, const char *s)
{
	char *c = clean(s);

	if (style->bold)
		fprintf(fp, "\033[1m%s\033[0m", c);
	else
		fputs(c, fp);
	free(c);
}

/* columns taken by n bytes of UTF-8 (one per code point) */
static int
columns(const char *s, size_t n)
{
	int c = 0;

	while (n-- > 0)
		if ((*s++ & 0xc0) != 0x80)
			c++;
	return c;
}

/*
 * Print text from column *col, wrapping at style->width; lines after the
 * first start at column indent, and a newline in text starts a new line.
 * No line gets trailing blanks.  *col is left where the text ended.
 */
static void
wrap(FILE *fp, const struct rk_style *style, const char *text, int indent,
    int *col)
{
	const char *p = text;
	int started = 0, w;
	size_t n;

	while (*p != '\0') {
		if (*p == '\n') {
			fputc('\n', fp);
			*col = started = 0;
			p++;
			continue;
		}
		if ((unsigned char)*p <= ' ' || *p == 0x7f) {
			p++;
			continue;
		}
		for (n = 0; (unsigned char)p[n] > ' ' && p[n] != 0x7f; n++)
			;
		w = columns(p, n);
		if (started && *col + 1 + w > style->width) {
			fputc('\n', fp);
			*col = started = 0;
		}
		if (*col == 0) {
			fprintf(fp, "%*s", indent, "");
			*col = indent;
		} else if (started) {
			fputc(' ', fp);
			(*col)++;
		}
		fwrite(p, 1, n, fp);
		*col += w;
		started = 1;
		p += n;
	}
}

static void
endline(FILE *fp, int *col)
{
	if (*col > 0)
		fputc('\n', fp);
	*col = 0;
}

/* "label     text", the text wrapped under itself */
static void
field(FILE *fp, const struct rk_style *style, const char *label,
    const char *text)
{
	int col;

	bold(fp, style, label);
	col = strlen(label);
	wrap(fp, style, text, LABEL, &col);
	endline(fp, &col);
}

static const char *
str_or(const json_t *obj, const char *key, const char *dflt)
{
	const char *s = rk_get_string(obj, key);

	return s != NULL ? s : dflt;
}

static void
fmt_ms(char *buf, size_t size, double ms)
{
	if (fabs(ms) >= 1e9)
		snprintf(buf, size, "%.3g s", ms / 1000);
	else if (fabs(ms) >= 1000)
		snprintf(buf, size, "%.2f s", ms / 1000);
	else
		snprintf(buf, size, "%.2f ms", ms);
}

static void
fmt_conf(char *buf, size_t size, double c)
{
	if (isnan(c))
		strlcpy(buf, "-", size);
	else if (fabs(c) >= 1e6)
		snprintf(buf, size, "%.3g", c);
	else
		snprintf(buf, size, "%.2f", c);
}

static void
report_output(FILE *fp, const struct rk_style *style, const json_t *step)
{
	const json_t *out = json_object_get(step, "output"), *items, *item;
	const char *type = rk_get_string(out, "type"), *s;
	size_t i, n;
	int col = 0, digits;
	char *line;

	if (type != NULL && strcmp(type, "list") == 0) {
		items = json_object_get(out, "items");
		n = json_array_size(items);
		if (n == 0)
			fputs("    (no items)\n", fp);
		for (digits = 1; n >= 10; n /= 10)
			digits++;
		json_array_foreach(items, i, item) {
			col = fprintf(fp, "    %*zu.", digits, i + 1);
			if ((s = json_string_value(item)) != NULL) {
				fputc(' ', fp);
				col++;
				wrap(fp, style, s, col, &col);
			} else if (!json_is_null(item)) {
				line = json_dumps(item, JSON_COMPACT |
				    JSON_ENCODE_ANY);
				fputc(' ', fp);
				col++;
				wrap(fp, style, line ? line : "", col, &col);
				free(line);
			}
			endline(fp, &col);
		}
	} else if (type != NULL && strcmp(type, "verdict") == 0) {
		rk_asprintf(&line, "verdict: %s%s%s",
		    str_or(out, "verdict", "none"),
		    rk_get_string(out, "reason") ? " - " : "",
		    str_or(out, "reason", ""));
		fputs("    ", fp);
		col = 4;
		wrap(fp, style, line, 4, &col);
		endline(fp, &col);
		free(line);
	} else {
		if ((s = rk_get_string(out, "text")) == NULL &&
		    (s = rk_get_string(step, "text")) == NULL)
			return;
		wrap(fp, style, s, 4, &col);
		endline(fp, &col);
	}
}

static void
report_steps(FILE *fp, const struct rk_style *style, const json_t *rec)
{
	const json_t *step;
	const char *proto, *last = NULL, *name;
	char conf[32], *line;
	size_t i;
	int col;

	json_array_foreach(json_object_get(rec, "steps"), i, step) {
		proto = rk_get_string(step, "protocol");
		if (i == 0 || (proto ? last == NULL || strcmp(proto, last) :
		    last != NULL)) {
			fputc('\n', fp);
			bold(fp, style, proto ? proto : "(no protocol)");
			fputc('\n', fp);
		}
		last = proto;
		fmt_conf(conf, sizeof(conf), rk_get_number(step, "confidence",
		    NAN));
		name = rk_get_string(step, "step");
		rk_asprintf(&line, "%s (confidence %s%s)", name ? name : "step",
		    conf, json_is_true(json_object_get(step, "cached")) ?
		    ", cached" : "");
		fputs("  ", fp);
		col = 2;
		wrap(fp, style, line, 4, &col);
		endline(fp, &col);
		free(line);
		report_output(fp, style, step);
	}
}

static void
report_skipped(FILE *fp, const struct rk_style *style, const json_t *rec)
{
	const json_t *skipped = json_object_get(rec, "skipped"), *sk, *link;
	const char *proto, *when;
	char *line, at[32];
	size_t i;
	int col;

	if (json_array_size(skipped) == 0)
		return;
	fputc('\n', fp);
	bold(fp, style, "skipped");
	fputc('\n', fp);
	json_array_foreach(skipped, i, sk) {
		at[0] = '\0';
		proto = rk_get_string(sk, "protocol");
		when = rk_get_string(sk, "when");
		if (json_is_integer(link = json_object_get(sk, "link")))
			snprintf(at, sizeof(at), " at link %lld",
			    (long long)json_integer_value(link));
		rk_asprintf(&line, "%s%s%s%s", proto ? proto : "(no protocol)",
		    at, when ? ", when " : "", when ? when : "");
		fputs("  ", fp);
		col = 2;
		wrap(fp, style, line, 4, &col);
		endline(fp, &col);
		free(line);
	}
}

static void
report_context(FILE *fp, const struct rk_style *style, const json_t *rec)
{
	const json_t *ctx = json_object_get(rec, "context"), *c;
	char *docs = NULL, *line;
	size_t i, len = 0, n = json_array_size(ctx);

	if (n == 0)
		return;
	json_array_foreach(ctx, i, c)
		if (rk_get_string(c, "doc") != NULL)
			rk_list_add(&docs, &len, ", ", rk_get_string(c, "doc"));
	rk_asprintf(&line, "%zu passage%s%s%s", n, n == 1 ? "" : "s",
	    docs ? " from " : "", docs ? docs : "");
	field(fp, style, "context   ", line);
	free(line);
	free(docs);
}

/*
 * The confidence and the minimum with as many decimals as it takes to see
 * which decides: 0.7973 is not shown as 0.80 beside a minimum of 0.80.
 */
static void
fmt_conf_min(char *conf, char *min, size_t size, double c, double m)
{
	fmt_conf(conf, size, c);
	fmt_conf(min, size, m);
	if (isnan(c) || isnan(m) || fabs(c) >= 1e6 || fabs(m) >= 1e6 ||
	    (c < m) == (strtod(conf, NULL) < strtod(min, NULL)))
		return;
	snprintf(conf, size, "%.4f", c);
	snprintf(min, size, "%.4f", m);
}

static void
report_result(FILE *fp, const struct rk_style *style, const json_t *rec,
    const struct rk_run *run)
{
	char conf[32], min[32], *line;
	const char *verdict;

	fmt_conf_min(conf, min, sizeof(conf), run->confidence,
	    run->min_confidence);
	if (json_is_object(json_object_get(rec, "result"))) {
		verdict = run->pass == 1 ? "pass: " : run->pass == 0 ?
		    "FAIL: " : "";
		rk_asprintf(&line, "%sconfidence %s%s%s, %ld step%s", verdict,
		    conf, isnan(run->min_confidence) ? "" : ", minimum ",
		    isnan(run->min_confidence) ? "" : min, run->steps,
		    run->steps == 1 ? "" : "s");
	} else
		rk_asprintf(&line, "%s: mean confidence %s over %ld step%s",
		    strcmp(run->status, "failed") == 0 ? "none" : "none yet",
		    conf, run->steps, run->steps == 1 ? "" : "s");
	field(fp, style, "result    ", line);
	free(line);
}

void
rk_report(FILE *fp, const json_t *rec, const struct rk_style *style)
{
	const json_t *err = json_object_get(rec, "error"), *step, *req;
	struct rk_run run;
	char *line, *models = NULL, llm[32], rest[32];
	const char *s;
	size_t i, len = 0;

	rk_run_summary(rec, &run);
	rk_asprintf(&line, "run %s", run.id ? run.id : "(no id)");
	bold(fp, style, line);
	fputc('\n', fp);
	free(line);
	rk_asprintf(&line, "%.10s %.8s UTC", run.created, run.created + 11);
	field(fp, style, "date      ", line);
	free(line);
	field(fp, style, "status    ", run.status);
	if ((s = rk_get_string(rec, "parent")) != NULL)
		field(fp, style, "continues ", s);
	if (run.query != NULL)
		field(fp, style, "question  ", run.query);
	if ((s = rk_get_string(rec, "answer")) != NULL)
		field(fp, style, "answer    ", s);
	if ((s = rk_get_string(rec, "conclusion")) != NULL)
		field(fp, style, "reasons   ", s);
	if ((s = rk_get_string(rec, "profile")) != NULL)
		field(fp, style, "profile   ", s);
	else if ((s = rk_get_string(rec, "protocol")) != NULL)
		field(fp, style, "protocol  ", s);
	json_array_foreach(json_object_get(rec, "steps"), i, step)
		if ((s = rk_get_string(step, "model")) != NULL)
			rk_list_add(&models, &len, ", ", s);
	if (models != NULL)
		field(fp, style, "model     ", models);
	free(models);
	report_context(fp, style, rec);
	req = json_object_get(rec, "request");
	if (json_is_object(req) && !rk_has_error(rec)) {
		rk_asprintf(&line, "%s: %s", str_or(req, "protocol", "?"),
		    str_or(req, "step", "?"));
		field(fp, style, "next      ", line);
		free(line);
	}

	report_steps(fp, style, rec);
	report_skipped(fp, style, rec);

	fputc('\n', fp);
	if (err != NULL && !json_is_null(err)) {
		if (json_is_object(err))
			rk_asprintf(&line, "%s: %s: %s",
			    str_or(err, "stage", "?"), str_or(err, "code", "?"),
			    str_or(err, "message", "?"));
		else
			line = json_dumps(err, JSON_COMPACT | JSON_ENCODE_ANY);
		field(fp, style, "error     ", line ? line : "?");
		free(line);
	}
	report_result(fp, style, rec, &run);
	rk_asprintf(&line, "%lld in, %lld out%s", run.tokens_in,
	    run.tokens_out, run.estimated == 2 ? ", estimated" :
	    run.estimated == 1 ? ", partly estimated" : "");
	field(fp, style, "tokens    ", line);
	free(line);
	fmt_ms(llm, sizeof(llm), run.llm_ms);
	fmt_ms(rest, sizeof(rest), run.other_ms);
	rk_asprintf(&line, "%s waiting for the model, %s the rest", llm, rest);
	field(fp, style, "time      ", line);
	free(line);
	rk_run_clear(&run);
}

/* s cut to at most max columns, "..." marking a cut */
static void
put_cut(FILE *fp, const char *s, int max)
{
	size_t n;
	int col = 0;

	if (columns(s, strlen(s)) <= max) {
		fputs(s, fp);
		return;
	}
	for (n = 0; s[n] != '\0'; n++)
		if ((s[n] & 0xc0) != 0x80 && col++ == max - 3)
			break;
	fwrite(s, 1, n, fp);
	fputs("...", fp);
}

void
rk_report_header(FILE *fp, const struct rk_style *style)
{
	bold(fp, style, "ID                          DATE              "
	    "PROFILE      STATUS      CONF  TOKENS  QUESTION");
	fputc('\n', fp);
}

void
rk_report_row(FILE *fp, const struct rk_run *run,
    const struct rk_style *style)
{
	char conf[32], *id, *profile, *query;
	int col;

	/* one line each: control characters become blanks */
	id = clean(run->id ? run->id : "-");
	profile = clean(run->profile ? run->profile : "-");
	query = clean(run->query ? run->query : "-");
	fmt_conf(conf, sizeof(conf), run->confidence);
	col = fprintf(fp, "%-26s  %.10s %.5s  %-11s  %-10s  %4s  %6lld  ",
	    id, run->created, run->created + 11, profile, run->status, conf,
	    run->tokens_in + run->tokens_out);
	put_cut(fp, query, style->width - col > 40 ? style->width - col : 40);
	fputc('\n', fp);
	free(id);
	free(profile);
	free(query);
}

static json_t *
real_or_null(double v)
{
	v = rk_round(v, 4);
	return isfinite(v) ? json_real(v) : json_null();
}

json_t *
rk_run_json(const struct rk_run *run)
{
	static const char *const est[] = { "none", "some", "all" };
	json_t *protocols = json_array();
	const char *p = run->protocols ? run->protocols : "";
	size_t n;

	while (*p != '\0') {
		n = strcspn(p, " ");
		if (n > 0)
			json_array_append_new(protocols, json_stringn(p, n));
		p += n;
		p += *p == ' ';
	}
	return json_pack("{s:s?, s:s, s:s?, s:s?, s:o, s:s, s:o, s:o, s:o,"
	    " s:{s:I, s:I, s:s}, s:{s:o, s:o}, s:I}",
	    "id", run->id, "created", run->created, "query", run->query,
	    "profile", run->profile, "protocols", protocols,
	    "status", run->status, "confidence", real_or_null(run->confidence),
	    "pass", run->pass < 0 ? json_null() : json_boolean(run->pass),
	    "min_confidence", real_or_null(run->min_confidence),
	    "tokens", "in", (json_int_t)run->tokens_in,
	    "out", (json_int_t)run->tokens_out,
	    "estimated", est[run->estimated >= 0 && run->estimated <= 2 ?
	    run->estimated : 0],
	    "ms", "llm", real_or_null(rk_round(run->llm_ms, 3)),
	    "other", real_or_null(rk_round(run->other_ms, 3)),
	    "steps", (json_int_t)run->steps);
}
