/*
 * Model providers for rk-llm.  A provider turns one pending request into a
 * reply text and usage; rk-llm does everything else (parsing the reply,
 * appending the step, errors in the record, retries, the cache, budgets).
 *
 * The offline mock answers synchronously through rk_provider.call.  HTTP
 * providers are a dialect (how to write the request and read the reply,
 * whole or streamed) plus an endpoint (base URL, model, key): see
 * provider_config.c for the presets and the rule for sending keys.
 */
#ifndef RK_PROVIDER_H
#define RK_PROVIDER_H

#include <jansson.h>

#include "http.h"

struct rk_call {
	/* in */
	const json_t	*rec;		/* the record (borrowed) */
	const json_t	*req;		/* its request (borrowed) */
	/* out */
	char		*text;		/* the reply, malloc'd */
	char		*model;		/* the model that answered */
	long		 in, out;	/* tokens */
	int		 estimated;	/* usage counted by us, not the server */
	int		 cached;
	int		 truncated;
	char		*errcode;	/* set on failure, with errmsg */
	char		*errmsg;
	/* HTTP providers */
	int		 retryable;	/* the failure may pass on a retry */
	struct rk_sbuf	 acc;		/* streamed text so far */
	int		 done;		/* the stream said it is complete */
	int		 have_in, have_out;	/* the server sent usage */
};

struct rk_provider {
	const char	*name;
	int		(*call)(struct rk_call *);	/* 0 or -1 */
};

extern const struct rk_provider rk_mock_provider;

/* an HTTP API dialect: provider_openai.c, provider_anthropic.c */
struct rk_dialect {
	const char	*name;
	const char	*path;		/* appended to the base URL */
	json_t		*(*body)(const json_t *req, const char *model,
			    long max_tokens, int stream);
	/* the headers, with the key if there is one (NULL: none) */
	struct curl_slist *(*headers)(const char *key);
	/* a whole (non-streamed) 2xx body: 0, or -1 with errcode set */
	int		(*response)(struct rk_call *, const char *, size_t);
	/* one server-sent event: 0 go on, -1 failed (errcode set) */
	int		(*event)(struct rk_call *, const char *event,
			    const char *data);
	/* the server's message in an error body, malloc'd, or NULL */
	char		*(*error_message)(const char *, size_t);
};

extern const struct rk_dialect rk_dialect_openai;
extern const struct rk_dialect rk_dialect_anthropic;

/* provider_config.c: presets, endpoints and keys */
struct rk_endpoint {
	const char		*provider;	/* preset name */
	const struct rk_dialect	*dialect;
	char			*base_url;	/* without a trailing / */
	char			*model;
	char			*key;		/* NULL: send none */
	const char		*key_from;	/* the variable it came from */
	const char		*withheld;	/* a key variable not sent */
	int			 local;		/* a local server preset */
};

/* 0, or -1 with a message in err (never containing a key) */
int	 rk_endpoint_setup(struct rk_endpoint *, const char *provider,
	    const char *base_url, const char *model, char *err, size_t);
void	 rk_endpoint_free(struct rk_endpoint *);
void	 rk_provider_list(FILE *);		/* the presets, for usage */

/* provider_common.c: what the dialects share */
void	 rk_call_usage(struct rk_call *, const json_t *in, const json_t *out);
void	 rk_call_finish_usage(struct rk_call *, const char *model);
void	 rk_call_model(struct rk_call *, const json_t *);
long	 rk_count_tokens(const char *model, const char *text);
long	 rk_count_request_tokens(const char *model, const json_t *req);
struct curl_slist *rk_header_secret(struct curl_slist *, const char *name,
	    const char *key);
int	 rk_call_text(struct rk_call *, const json_t *content);
void	 rk_call_api_error(struct rk_call *, const json_t *err,
	    const char *what);
char	*rk_json_error_message(const char *, size_t);

/* mock.c */
long	rk_estimate_tokens(const char *text);
void	rk_call_fail(struct rk_call *, const char *code, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));
void	rk_call_clear(struct rk_call *);

#endif
