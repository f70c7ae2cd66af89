/*
 * The OpenAI Chat Completions dialect, spoken by OpenAI and by most other
 * servers (OpenRouter, Groq, Ollama, vLLM, llama.cpp, LM Studio, ...).
 */
#include <stdlib.h>
#include <string.h>

#include "core/rk.h"
#include "llm/llm.h"

/*
 * OpenAI's reasoning models take max_completion_tokens instead of
 * max_tokens, and refuse a temperature.
 */
static int
reasoning_model(const char *m)
{
	static const char *pre[] = { "o1", "o3", "o4", "gpt-5", NULL };

	for (const char **p = pre; *p; p++)
		if (strncmp(m, *p, strlen(*p)) == 0)
			return 1;
	return 0;
}

static json_t *
body(const json_t *req, const char *model, long max_tokens, int stream)
{
	const json_t *msgs = json_object_get(req, "messages");
	json_t *b;
	int r = reasoning_model(model);

	if (!json_is_array(msgs) || json_array_size(msgs) == 0 ||
	    (b = json_pack("{s:s, s:O}", "model", model, "messages", msgs)) ==
	    NULL)
		return NULL;
	if (max_tokens > 0)
		json_object_set_new(b, r ? "max_completion_tokens" :
		    "max_tokens", json_integer(max_tokens));
	if (!r && json_is_number(json_object_get(req, "temperature")))
		json_object_set(b, "temperature",
		    json_object_get(req, "temperature"));
	if (stream) {
		json_object_set_new(b, "stream", json_true());
		json_object_set_new(b, "stream_options",
		    json_pack("{s:b}", "include_usage", 1));
	}
	return b;
}

static struct curl_slist *
headers(const char *key)
{
	struct curl_slist *h = NULL;

	h = rk_curl.slist_append(h, "Content-Type: application/json");
	h = rk_curl.slist_append(h, "Expect:");
	if (key != NULL)
		h = rk_header_secret(h, "Authorization: Bearer ", key);
	return h;
}

static int
response(struct rk_call *c, const char *s, size_t n)
{
	json_t *j = json_loadb(s, n, 0, NULL);
	const json_t *msg;
	int rc = -1;

	if (!json_is_object(j))
		rk_call_fail(c, "bad-response", "the reply is not JSON");
	else if (json_object_get(j, "error") != NULL &&
	    !json_is_null(json_object_get(j, "error")))
		rk_call_api_error(c, json_object_get(j, "error"),
		    "the server answered with an error");
	else if ((msg = json_object_get(json_array_get(json_object_get(j,
	    "choices"), 0), "message")) == NULL ||
	    (rk_call_text(c, json_object_get(msg, "content")) == -1 &&
	    !json_is_null(json_object_get(msg, "content"))))
		rk_call_fail(c, "bad-response", "the reply has no "
		    "choices[0].message.content");
	else {
		const json_t *u = json_object_get(j, "usage");

		rk_call_model(c, j);
		rk_call_usage(c, json_object_get(u, "prompt_tokens"),
		    json_object_get(u, "completion_tokens"));
		c->done = 1;
		rc = 0;
	}
	json_decref(j);
	return rc;
}

/*
 * The usage of a chunk: "usage" (with stream_options.include_usage), or
 * where some vendors put it instead (Groq: x_groq.usage in the last chunk).
 */
static const json_t *
chunk_usage(const json_t *j)
{
	const json_t *u = json_object_get(j, "usage");

	if (!json_is_object(u))
		u = json_object_get(json_object_get(j, "x_groq"), "usage");
	return json_is_object(u) ? u : NULL;
}

static int
event(struct rk_call *c, const char *name, const char *data)
{
	json_t *j;
	const json_t *delta, *u, *e;

	if (strcmp(data, "[DONE]") == 0) {
		c->done = 1;
		return 0;
	}
	if ((j = json_loads(data, 0, NULL)) == NULL) {
		rk_call_fail(c, "bad-response", "a stream event is not JSON");
		return -1;
	}
	/* an error object in a chunk, or an "event: error" */
	if ((e = json_object_get(j, "error")) == NULL &&
	    strcmp(name, "error") == 0)
		e = j;
	if (e != NULL && !json_is_null(e)) {
		rk_call_api_error(c, e, "the stream carried an error");
		json_decref(j);
		return -1;
	}
	rk_call_model(c, j);
	delta = json_object_get(json_array_get(json_object_get(j, "choices"),
	    0), "delta");
	if (json_is_string(json_object_get(delta, "content")))
		rk_call_text(c, json_object_get(delta, "content"));
	if ((u = chunk_usage(j)) != NULL)
		rk_call_usage(c, json_object_get(u, "prompt_tokens"),
		    json_object_get(u, "completion_tokens"));
	json_decref(j);
	return 0;
}

const struct rk_dialect rk_dialect_openai = {
	"openai", "/chat/completions", body, headers, response, event,
	rk_json_error_message
};
