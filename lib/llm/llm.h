/*
 * HTTP for rk-llm: libcurl, loaded with dlopen(3) on first use so that runs
 * which make no HTTP call (the offline model, cache hits) never pay for
 * loading it; many transfers in flight over one multi handle, with
 * connection reuse; connect, idle (since the last byte) and total timeouts;
 * server-sent events.
 */
#ifndef RK_LLM_H
#define RK_LLM_H

#define CURL_DISABLE_TYPECHECK
#include <curl/curl.h>		/* types and constants only: see curl_dl.c */
#include <stddef.h>
#include <time.h>

#include "core/rk.h"

/* curl_dl.c: the few libcurl functions we call, resolved with dlsym(3) */
struct rk_curl {
	CURLcode	(*global_init)(long);
	CURL		*(*easy_init)(void);
	CURLcode	(*easy_setopt)(CURL *, CURLoption, ...);
	CURLcode	(*easy_getinfo)(CURL *, CURLINFO, ...);
	void		(*easy_cleanup)(CURL *);
	const char	*(*easy_strerror)(CURLcode);
	CURLM		*(*multi_init)(void);
	CURLMcode	(*multi_setopt)(CURLM *, CURLMoption, ...);
	CURLMcode	(*multi_add_handle)(CURLM *, CURL *);
	CURLMcode	(*multi_remove_handle)(CURLM *, CURL *);
	CURLMcode	(*multi_perform)(CURLM *, int *);
	CURLMcode	(*multi_poll)(CURLM *, struct curl_waitfd *,
			    unsigned int, int, int *);
	CURLMsg		*(*multi_info_read)(CURLM *, int *);
	CURLMcode	(*multi_cleanup)(CURLM *);
	struct curl_slist *(*slist_append)(struct curl_slist *, const char *);
	void		(*slist_free_all)(struct curl_slist *);
	time_t		(*getdate)(const char *, const time_t *);
};

extern struct rk_curl rk_curl;

int	rk_curl_load(char *err, size_t errsize);	/* 0, or -1 + why */

/* sbuf.c: a growing string */
struct rk_sbuf {
	char	*s;
	size_t	 len, cap;
};

void	rk_sbuf_add(struct rk_sbuf *, const char *, size_t);
void	rk_sbuf_free(struct rk_sbuf *);

/* sse.c: text/event-stream, fed in pieces of any size */
struct rk_sse {
	struct rk_sbuf	 line;		/* the line being read */
	struct rk_sbuf	 event;		/* "event:" of the event being read */
	struct rk_sbuf	 data;		/* its "data:" lines joined by \n */
	int		 cr;		/* the last byte was \r */
	int		 any;		/* a field seen since the last event */
	size_t		 max;		/* bound on one event */
	/* one event; non-zero stops the stream */
	int		(*cb)(void *, const char *event, const char *data);
	void		*arg;
};

void	rk_sse_init(struct rk_sse *, size_t max,
	    int (*cb)(void *, const char *, const char *), void *arg);
int	rk_sse_feed(struct rk_sse *, const char *, size_t);	/* 0 or -1 */
void	rk_sse_free(struct rk_sse *);

/* http.c: transfers */
enum rk_xfer_result {
	RK_X_OK,		/* a complete response (any status) */
	RK_X_CONNECT,		/* could not connect or send: retryable */
	RK_X_CONNECT_TIMEOUT,
	RK_X_IDLE_TIMEOUT,
	RK_X_TOTAL_TIMEOUT,
	RK_X_CUT,		/* the connection broke mid-response */
	RK_X_TOO_BIG,		/* over rk_limits.response */
	RK_X_ABORTED,		/* on_data asked to stop */
	RK_X_OTHER
};

struct rk_xfer {
	/* in */
	char		*url;
	char		*body;
	struct curl_slist *headers;
	/* called with each piece of the body of a 2xx response; non-zero
	   aborts.  Without it the body is kept in resp */
	int		(*on_data)(struct rk_xfer *, const char *, size_t);
	void		*ud;
	double		 total_ms;	/* total timeout of this transfer */
	/* out */
	long		 status;
	double		 retry_after_ms;	/* -1 if the server sent none */
	int		 is_sse;	/* Content-Type: text/event-stream */
	struct rk_sbuf	 resp;
	enum rk_xfer_result result;
	char		 errbuf[CURL_ERROR_SIZE];
	size_t		 nbytes;	/* body bytes received */
	size_t		 o_max;		/* bound on resp */
	/* private */
	CURL		*easy;
	double		 t_start, t_last;
	struct rk_xfer	*next;
};

struct rk_http_opts {
	double	connect_ms, idle_ms;
	long	max_conns;
	size_t	max_response;
	const char *ca_path;
};

struct rk_http;

struct rk_http *rk_http_new(const struct rk_http_opts *, char *err, size_t);
void	 rk_http_free(struct rk_http *);
int	 rk_http_start(struct rk_http *, struct rk_xfer *);	/* 0 or -1 */
/* wait up to timeout_ms for progress (or fd readable), then do the work */
void	 rk_http_run(struct rk_http *, int timeout_ms, int fd);
struct rk_xfer *rk_http_done(struct rk_http *);	/* a finished one, or NULL */
int	 rk_http_active(const struct rk_http *);
void	 rk_xfer_free(struct rk_xfer *);

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

#include <jansson.h>

#include "llm/llm.h"

struct rk_call {
	/* in */
	const json_t	*rec;		/* the record (borrowed) */
	const json_t	*req;		/* its request (borrowed) */
	/* out */
	char		*text;		/* the reply, malloc'd */
	char		*model;		/* the model that answered */
	long		 in, out;	/* tokens */
	int		 estimated;	/* usage we counted, not the server's */
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
int	 rk_provider_known(const char *provider, char *err, size_t);
const struct rk_dialect *rk_provider_dialect(const char *provider);

/* provider_common.c: what the dialects share */
long	 rk_estimate_tokens(const char *text);
void	 rk_call_fail(struct rk_call *, const char *code, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));
void	 rk_call_clear(struct rk_call *);
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
int	 rk_http_retryable(long status);
char	*rk_json_error_message(const char *, size_t);

/* replies.c: canned replies for tests, by question */
struct rk_error;
struct rk_replies;

struct rk_replies *rk_replies_load(const char *path, struct rk_error *);
void	 rk_replies_free(struct rk_replies *);
long	 rk_replies_find(const struct rk_replies *, const char *text,
	    int quoted, const json_t **replies);
const char *rk_replies_pick(const json_t *replies, long k);
size_t	 rk_replies_count(const struct rk_replies *);

/*
 * Budgets for rk-llm: wall time waiting for the model, tokens, or dollars,
 * per record (a record is one reasoning run, and rk think runs one rk-llm
 * per step, so what a record has spent is what its steps record), plus the
 * price table that turns tokens into dollars.
 */

#include <jansson.h>

enum rk_budget_kind { RK_BUDGET_NONE, RK_BUDGET_MS, RK_BUDGET_TOKENS,
    RK_BUDGET_USD };

struct rk_budget {
	enum rk_budget_kind kind;
	double		 limit;	/* ms, tokens or USD */
};

struct rk_price {
	char	*pattern;	/* fnmatch(3) pattern of model names */
	double	 in, out;	/* USD per token */
	long	 window;	/* context window in tokens, 0 if unknown */
};

struct rk_prices {
	struct rk_price	*v;
	size_t		 n;
};

/* "30s", "5m", "1h", "2000t", "$0.50" (or "0.50$"): 0 or -1 */
int	 rk_budget_parse(const char *, struct rk_budget *);
/* what the record's steps have spent (cached steps cost nothing) */
double	 rk_budget_spent(const struct rk_budget *, const json_t *rec,
	    const struct rk_prices *);
/* the built-in table, then the user's, which wins; -1 + err on a bad line */
int	 rk_prices_load(struct rk_prices *, char *err, size_t errsize);
void	 rk_prices_free(struct rk_prices *);
const struct rk_price *rk_price_find(const struct rk_prices *,
	    const char *model);
double	 rk_price_cost(const struct rk_prices *, const char *model, long in,
	    long out, int *known);

/*
 * rk-llm's response cache: replies by the SHA-256 of the canonical request
 * (provider, base URL, model, messages, parameters, sample index; never
 * the key), in SQLite with WAL and a busy timeout so that many rk-llm
 * processes can share one file.
 */

#include <jansson.h>

#define RK_CACHE_KEY	65	/* SHA-256 (libmd) in hex, and a NUL */

struct rk_cache;

struct rk_cache *rk_cache_open(const char *path, double ttl_s, char *err,
	    size_t errsize);
void	 rk_cache_close(struct rk_cache *);
/* a new reference to the stored reply, or NULL */
json_t	*rk_cache_get(struct rk_cache *, const char *key);
int	 rk_cache_put(struct rk_cache *, const char *key, const json_t *val);
/* bytes (a vector) in place of a reply */
void	*rk_cache_get_blob(struct rk_cache *, const char *key, size_t *len);
int	 rk_cache_put_blob(struct rk_cache *, const char *key, const void *,
	    size_t len);
/* the key of a canonical JSON object (sorted keys, compact) */
void	 rk_cache_key(const json_t *canon, char out[RK_CACHE_KEY]);

/*
 * rk-llm's work: run.c answers records (steps, failures, the budget and
 * context-window policy, the offline model in turn, start-up failures);
 * sched.c runs HTTP requests (a window of records filled by a reader
 * thread, -P transfers at once, retries with backoff, the cache).  Each
 * run returns the highest exit status its records earned (see core/rk.h);
 * main() decides.
 */
struct rk_llm_opts {
	long		 parallel, retries;
	double		 connect_ms, idle_ms, total_ms, retry_ms;
	double		 rps;		/* requests started a second, 0: any */
	int		 stream, unordered;
	int		 echo;		/* streamed text to stderr */
	int		 progress;	/* the step waited for, on stderr */
	long		 steps;		/* the most a run has, for progress */
	struct rk_budget budget;
	/* what a run reports as it goes (a record failed, a retry, a reply
	   the cache could not keep, stdout lost) for its caller to say; code
	   is the RK_EXIT_* it calls for, 0 for none; NULL: said nowhere */
	void		(*say)(int code, const char *msg);
};

/* client.c: the message to o->say, if there is one */
void	 rk_say(const struct rk_llm_opts *, int code, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));

struct rk_llm {
	struct rk_llm_opts	 o;
	const struct rk_provider *provider;	/* the offline model, or NULL */
	struct rk_endpoint	 ep;		/* else this HTTP endpoint */
	struct rk_prices	 prices;
	struct rk_cache		*cache;		/* NULL: none */
	int			 status;	/* the highest so far */
};

/* the records read from fd, answered, written to out: an exit status */
int	 rk_llm_run_mock(struct rk_llm *, int fd, FILE *out);
int	 rk_llm_run_http(struct rk_llm *, int fd, FILE *out);
/* rk-llm could not start: every record that asks for a step gets this error */
int	 rk_llm_run_failed(struct rk_llm *, int fd, FILE *out, int status,
	    const char *code, const char *msg);

/* attempt.c: one HTTP attempt, for sched.c and embed.c */
int	 rk_attempt_http(struct rk_http **, const struct rk_llm_opts *,
	    char *err, size_t errsize);
int	 rk_attempt_outcome(struct rk_call *, const struct rk_xfer *,
	    const struct rk_llm_opts *, const struct rk_endpoint *,
	    char *(*message)(const char *, size_t));
double	 rk_attempt_retry(struct rk_call *, const struct rk_llm_opts *,
	    int attempt, double elapsed_ms, const struct rk_xfer *);

/* client.c: rk-llm's and rk-embed's command lines */
#define RK_CACHE_TTL_MS	86400000	/* a day */
extern const struct rk_llm_opts rk_llm_defaults;
int	 rk_duration_arg(const char *what, const char *v, double *ms,
	    struct rk_error *);
int	 rk_llm_env_times(struct rk_llm_opts *, double *ttl_ms,
	    struct rk_error *);
int	 rk_env_flag(const char *name, struct rk_error *);	/* 0, 1, -1 */
struct rk_cache *rk_cache_open_user(const char *path, double ttl_ms,
	    char *err, size_t errsize);

/* the settings both tools take, from the environment and options */
struct rk_client {
	const char	*provider, *base_url, *model, *cache_path;
	const char	*parallel, *retries;	/* as given */
	const char	*parallel_by, *retries_by;	/* named in errors */
	double		 ttl_ms;
	int		 no_cache;
	struct rk_llm_opts o;
};

/* their long options' ids, for the tools' tables; a tool's own after */
enum { RK_CL_BASE = RK_OPT_OWN, RK_CL_CACHE, RK_CL_TTL, RK_CL_CONNECT,
    RK_CL_IDLE, RK_CL_MOCK, RK_CL_NOCACHE, RK_CL_PROVIDER, RK_CL_RETRIES,
    RK_CL_RETRYTIME, RK_CL_TIMEOUT, RK_CL_OWN };

/* the rows of their option tables that read the same in both */
#define RK_CL_OPT_BASE	{ RK_CL_BASE, "base-url", required_argument, "url", \
			    "the provider's API endpoint" }
#define RK_CL_OPT_CACHE	{ RK_CL_CACHE, "cache", required_argument, "file", \
			    "the response cache" }
#define RK_CL_OPT_TTL	{ RK_CL_TTL, "cache-ttl", required_argument, "time", \
			    "how long a cached reply serves; default 24h" }
#define RK_CL_OPT_CONNECT { RK_CL_CONNECT, "connect-timeout", \
			    required_argument, "time", \
			    "to connect; default 10s" }
#define RK_CL_OPT_IDLE	{ RK_CL_IDLE, "idle-timeout", required_argument, \
			    "time", "with nothing received; default 60s" }
#define RK_CL_OPT_NOCACHE { RK_CL_NOCACHE, "no-cache", no_argument, NULL, \
			    "neither read nor write the cache" }
#define RK_CL_OPT_RETRIES { RK_CL_RETRIES, "retries", required_argument, \
			    "n", "retries of a failed request; default 4" }
#define RK_CL_OPT_RETRYTIME { RK_CL_RETRYTIME, "retry-time", \
			    required_argument, "time", \
			    "the most time spent retrying; default 2m" }
#define RK_CL_OPT_TIMEOUT { RK_CL_TIMEOUT, "timeout", required_argument, \
			    "time", "for a whole request; default 10m" }

/* the names of a tool's variables for them */
struct rk_client_env {
	const char	*provider, *base_url, *model;
};

int	 rk_client_init(struct rk_client *, const char *argv0,
	    const struct rk_client_env *, struct rk_error *);
int	 rk_client_option(struct rk_client *, int ch, const char *arg,
	    struct rk_error *);
int	 rk_client_check(struct rk_client *, struct rk_error *);
struct rk_cache *rk_client_cache(const struct rk_client *);
void	 rk_say_stderr(int code, const char *msg);

/* run.c, for sched.c */
void	 rk_llm_succeed(struct rk_llm *, json_t *rec, json_t *steps,
	    struct rk_call *, double ms_llm);
void	 rk_llm_fail(struct rk_llm *, json_t *rec, struct rk_call *,
	    int status);
int	 rk_llm_budget_check(struct rk_llm *, struct rk_call *,
	    const char *model, long *max_tokens, double *total_ms);
int	 rk_llm_window_check(struct rk_llm *, struct rk_call *,
	    const char *model, long *max_tokens);

/*
 * Embeddings (embed.c): texts to vectors through an OpenAI-compatible
 * /embeddings endpoint or Ollama's /api/embed, E->batch texts a request,
 * -P requests at once, retried and cached as rk-llm's replies are; or
 * offline (the "mock" provider), a hashed bag of words.
 */
enum rk_embed_api { RK_EMBED_OPENAI, RK_EMBED_OLLAMA, RK_EMBED_HASH };

struct rk_embedder {
	/* set by the caller */
	struct rk_llm_opts o;		/* -P, retries, timeouts */
	long		 batch;		/* texts a request, >= 1 */
	long		 dimensions;	/* asked of OpenAI, checked; 0: any */
	struct rk_cache	*cache;		/* NULL: none */
	/* set by rk_embed_setup */
	enum rk_embed_api api;
	struct rk_endpoint ep;		/* but for RK_EMBED_HASH */
	size_t		 dim;		/* of every vector so far, 0 before */
	struct rk_http	*http;		/* made on the first request */
	char		 http_err[256];
};

struct rk_embedding {
	const char	*text;		/* in, borrowed */
	float		*v;		/* E->dim floats, malloc'd, or NULL */
	int		 cached;	/* v came from the cache */
	int		 status;	/* a failure's RK_EXIT_*, else 0 */
	char		*code, *msg;	/* and its error */
};

/* provider "mock" or an HTTP preset; api "openai", "ollama" or NULL (by
   the provider): 0, or -1 with a message in err (never a key) */
int	 rk_embed_setup(struct rk_embedder *, const char *provider,
	    const char *base_url, const char *model, const char *api,
	    char *err, size_t errsize);
void	 rk_embed_free(struct rk_embedder *);
const char *rk_embed_default_model(const char *provider);
/* vectors for v[0..n): the highest status of their failures, or 0 */
int	 rk_embed_run(struct rk_embedder *, struct rk_embedding *v, size_t n);
void	 rk_embedding_clear(struct rk_embedding *);
void	 rk_embed_hash(const char *text, size_t dim, float *out);
/* "[0.1,-2.5e-7,...]", each number read back is the same float32 */
void	 rk_embed_text(const float *, size_t dim, struct rk_sbuf *);
/* embed_filter.c: rk-embed, stdin to stdout; field NULL: text or query;
   lines: every line a text, none a record */
int	 rk_embed_filter(struct rk_embedder *, const char *field, int lines);

#endif
