/*
 * HTTP for rk-llm: libcurl, loaded with dlopen(3) on first use so that runs
 * which make no HTTP call (the offline model, cache hits) never pay for
 * loading it; many transfers in flight over one multi handle, with
 * connection reuse; connect, idle (since the last byte) and total timeouts;
 * server-sent events.
 */
#ifndef RK_HTTP_H
#define RK_HTTP_H

#define CURL_DISABLE_TYPECHECK
#include <curl/curl.h>		/* types and constants only: see curl_dl.c */
#include <stddef.h>
#include <time.h>

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
	CURLMcode	(*multi_poll)(CURLM *, struct curl_waitfd *, unsigned int,
			    int, int *);
	CURLMsg		*(*multi_info_read)(CURLM *, int *);
	CURLMcode	(*multi_cleanup)(CURLM *);
	struct curl_slist *(*slist_append)(struct curl_slist *, const char *);
	void		(*slist_free_all)(struct curl_slist *);
	time_t		(*getdate)(const char *, const time_t *);
};

extern struct rk_curl rk_curl;

int	rk_curl_load(char *err, size_t errsize);	/* 0, or -1 + why */
int	rk_curl_loaded(void);

/* a growing string */
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
	int		 any;		/* a field was seen since the last event */
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
const char *rk_xfer_result_name(enum rk_xfer_result);

#endif
