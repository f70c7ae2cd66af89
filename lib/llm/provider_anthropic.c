/*
 * The Anthropic Messages dialect: the system prompt is a top-level field,
 * max_tokens is required, and streams have named events ending with
 * message_stop (no [DONE]).
 */
#include <stdlib.h>
#include <string.h>

#include "core/rk.h"
#include "llm/llm.h"

static json_t *
body(const json_t *req, const char *model, long max_tokens, int stream)
{
	const json_t *all = json_object_get(req, "messages"), *m;
	json_t *msgs, *b;
	char *sys = NULL;
	size_t i;

	if (!json_is_array(all) || json_array_size(all) == 0)
		return NULL;
	msgs = json_array();
	json_array_foreach(all, i, m) {
		const char *role = rk_get_string(m, "role");
		const char *text = rk_get_string(m, "content");

		if (role != NULL && strcmp(role, "system") == 0) {
			char *t;

			rk_asprintf(&t, "%s%s%s", sys ? sys : "",
			    sys ? "\n\n" : "", text ? text : "");
			free(sys);
			sys = t;
		} else
			json_array_append(msgs, (json_t *)m);
	}
	b = json_pack("{s:s, s:I, s:o}", "model", model, "max_tokens",
	    (json_int_t)(max_tokens > 0 ? max_tokens : 1024), "messages", msgs);
	if (b == NULL) {
		free(sys);
		return NULL;
	}
	if (sys != NULL)
		json_object_set_new(b, "system", json_string(sys));
	free(sys);
	if (json_is_number(json_object_get(req, "temperature")))
		json_object_set(b, "temperature",
		    json_object_get(req, "temperature"));
	if (stream)
		json_object_set_new(b, "stream", json_true());
	return b;
}

static struct curl_slist *
headers(const char *key)
{
	struct curl_slist *h = NULL;

	h = rk_curl.slist_append(h, "content-type: application/json");
	h = rk_curl.slist_append(h, "anthropic-version: 2023-06-01");
	h = rk_curl.slist_append(h, "Expect:");
	if (key != NULL)
		h = rk_header_secret(h, "x-api-key: ", key);
	return h;
}

static int
response(struct rk_call *c, const char *s, size_t n)
{
	json_t *j = json_loadb(s, n, 0, NULL);
	const json_t *u;
	int rc = -1;

	if (!json_is_object(j))
		rk_call_fail(c, "bad-response", "the reply is not JSON");
	else if (json_is_object(json_object_get(j, "error")))
		rk_call_api_error(c, json_object_get(j, "error"),
		    "the server answered with an error");
	else if (rk_call_text(c, json_object_get(j, "content")) == -1)
		rk_call_fail(c, "bad-response", "the reply has no content");
	else {
		rk_call_model(c, j);
		u = json_object_get(j, "usage");
		rk_call_usage(c, json_object_get(u, "input_tokens"),
		    json_object_get(u, "output_tokens"));
		c->done = 1;
		rc = 0;
	}
	json_decref(j);
	return rc;
}

static int
event(struct rk_call *c, const char *name, const char *data)
{
	json_t *j = json_loads(data, 0, NULL);
	const char *type = rk_get_string(j, "type");
	const json_t *d, *m, *u;
	int rc = 0;

	if (type == NULL)
		type = name;
	if (j == NULL) {
		rk_call_fail(c, "bad-response", "a stream event is not JSON");
		return -1;
	}
	if (strcmp(type, "message_start") == 0) {
		m = json_object_get(j, "message");
		rk_call_model(c, m);
		/* output_tokens here is a placeholder: only input counts */
		rk_call_usage(c, json_object_get(json_object_get(m, "usage"),
		    "input_tokens"), NULL);
	} else if (strcmp(type, "content_block_delta") == 0) {
		d = json_object_get(j, "delta");
		if (json_is_string(json_object_get(d, "text")))
			rk_call_text(c, json_object_get(d, "text"));
	} else if (strcmp(type, "message_delta") == 0) {
		/* cumulative, and it may carry the final input_tokens too (a
		   web search adds to them): the last usage wins */
		u = json_object_get(j, "usage");
		rk_call_usage(c, json_object_get(u, "input_tokens"),
		    json_object_get(u, "output_tokens"));
	} else if (strcmp(type, "message_stop") == 0)
		c->done = 1;
	else if (strcmp(type, "error") == 0) {
		rk_call_api_error(c, json_object_get(j, "error"),
		    "the stream carried an error");
		rc = -1;
	}
	json_decref(j);
	return rc;
}

const struct rk_dialect rk_dialect_anthropic = {
	"anthropic", "/messages", body, headers, response, event,
	rk_json_error_message
};
