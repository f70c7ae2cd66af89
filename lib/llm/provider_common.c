/*
 * What the OpenAI and Anthropic dialects share: usage with a fallback
 * estimate, reply text from a string or an array of parts, API errors.
 */
#include <stdlib.h>
#include <string.h>

#include "core/rk.h"
#include "token/token.h"
#include "llm/llm.h"

/* Where no tokenizer table can be had: about four bytes a token. */
long
rk_estimate_tokens(const char *text)
{
	return text ? (long)(strlen(text) + 3) / 4 : 0;
}

void
rk_call_fail(struct rk_call *c, const char *code, const char *fmt, ...)
{
	va_list ap;

	free(c->errcode);
	free(c->errmsg);
	c->errcode = rk_xstrdup(code);
	va_start(ap, fmt);
	rk_vasprintf(&c->errmsg, fmt, ap);
	va_end(ap);
}

void
rk_call_clear(struct rk_call *c)
{
	free(c->text);
	free(c->model);
	free(c->errcode);
	free(c->errmsg);
	rk_sbuf_free(&c->acc);
	memset(c, 0, sizeof(*c));
}

/* Token counts as the server sent them (either may be absent). */
void
rk_call_usage(struct rk_call *c, const json_t *in, const json_t *out)
{
	if (json_is_integer(in)) {
		c->in = (long)json_integer_value(in);
		c->have_in = 1;
	}
	if (json_is_integer(out)) {
		c->out = (long)json_integer_value(out);
		c->have_out = 1;
	}
}

/*
 * Tokens of a text by the model's BPE encoding when it has a known one,
 * else by cl100k_base (close enough for most models); by bytes / 4 when
 * the tables are not installed.
 */
long
rk_count_tokens(const char *model, const char *text)
{
	const struct rk_bpe *b = NULL;

	if (text == NULL)
		return 0;
	if (model != NULL && rk_bpe_encoding_for(model) != NULL)
		b = rk_bpe_get(model);
	if (b == NULL)
		b = rk_bpe_get("cl100k_base");
	return b ? (long)rk_bpe_count(b, text, strlen(text), 0) :
	    rk_estimate_tokens(text);
}

/* the messages' tokens, plus 4 a message for the roles and separators */
long
rk_count_request_tokens(const char *model, const json_t *req)
{
	const json_t *m;
	long n = 0;
	size_t i;

	json_array_foreach(json_object_get(req, "messages"), i, m)
		n += 4 + rk_count_tokens(model, rk_get_string(m, "content"));
	return n;
}

/* Counts the server did not send are estimated, and marked so. */
void
rk_call_finish_usage(struct rk_call *c, const char *model)
{
	if (!c->have_in)
		c->in = rk_count_request_tokens(model, c->req);
	if (!c->have_out)
		c->out = rk_count_tokens(model, c->text ? c->text : c->acc.s);
	c->estimated = !c->have_in || !c->have_out;
}

/* the model the reply object j names, if no earlier part named one */
void
rk_call_model(struct rk_call *c, const json_t *j)
{
	const char *m = rk_get_string(j, "model");

	if (m != NULL && c->model == NULL)
		c->model = rk_xstrdup(m);
}

/* A string, or an array of {"type":"text","text":...} parts. */
int
rk_call_text(struct rk_call *c, const json_t *content)
{
	const json_t *part;
	size_t i;

	if (json_is_string(content)) {
		rk_sbuf_add(&c->acc, json_string_value(content),
		    json_string_length(content));
		return 0;
	}
	if (!json_is_array(content))
		return -1;
	json_array_foreach(content, i, part) {
		const char *type = rk_get_string(part, "type");
		const json_t *t = json_object_get(part, "text");

		if (type != NULL && strcmp(type, "text") == 0 &&
		    json_is_string(t))
			rk_sbuf_add(&c->acc, json_string_value(t),
			    json_string_length(t));
	}
	return 0;
}

/* What may pass on a retry: a timeout, a conflict, a rate limit, 5xx. */
int
rk_http_retryable(long status)
{
	return status == 408 || status == 409 || status == 429 ||
	    status >= 500;
}

/*
 * {"message":...,"type":...,"code":...} from either API; code may be a
 * string or an HTTP status (OpenRouter).  Overload, rate and server errors
 * may pass on a retry; the rest are the request's fault.
 */
void
rk_call_api_error(struct rk_call *c, const json_t *err, const char *what)
{
	const char *type = rk_get_string(err, "type");
	const char *code = rk_get_string(err, "code");
	const char *msg = rk_get_string(err, "message");
	const json_t *num = json_object_get(err, "code");
	char status[24];

	if (json_is_string(err))
		msg = json_string_value(err);
	if (json_is_integer(num)) {
		snprintf(status, sizeof(status), "%" JSON_INTEGER_FORMAT,
		    json_integer_value(num));
		code = status;
	}
	if (type == NULL)
		type = code ? code : "error";
	c->retryable = strcmp(type, "overloaded_error") == 0 ||
	    strcmp(type, "rate_limit_error") == 0 ||
	    strcmp(type, "api_error") == 0 ||
	    strcmp(type, "server_error") == 0 ||
	    (json_is_integer(num) && rk_http_retryable(
	    (long)json_integer_value(num)));
	rk_call_fail(c, "api-error", "%s (%s): %s", what, code ? code : type,
	    msg ? msg : type);
}

/* The message in an error body of either API, or NULL. */
char *
rk_json_error_message(const char *body, size_t len)
{
	json_t *j = json_loadb(body, len, 0, NULL);
	const json_t *e = json_object_get(j, "error");
	const char *m = json_is_string(e) ? json_string_value(e) :
	    rk_get_string(e, "message");
	char *s = NULL;

	if (m == NULL)
		m = rk_get_string(j, "message");
	if (m != NULL)
		s = rk_xstrdup(m);
	json_decref(j);
	return s;
}

/* Append "<name><key>" to h, leaving no copy of the key in our memory. */
struct curl_slist *
rk_header_secret(struct curl_slist *h, const char *name, const char *key)
{
	char *a;

	rk_asprintf(&a, "%s%s", name, key);
	h = rk_curl.slist_append(h, a);
	explicit_bzero(a, strlen(a));
	free(a);
	return h;
}
