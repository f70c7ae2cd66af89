/*
 * Transfers over one curl multi handle: connections are reused between
 * requests to the same host, and our own loop enforces the idle timeout
 * (time since the last byte), which libcurl has no option for.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/rk.h"
#include "llm/llm.h"

struct rk_http {
	CURLM		*multi;
	struct rk_http_opts o;
	struct rk_xfer	*active;	/* in flight */
	struct rk_xfer	*done;		/* finished, not yet collected */
	int		 nactive;
};

struct rk_http *
rk_http_new(const struct rk_http_opts *o, char *err, size_t errsize)
{
	struct rk_http *h;

	if (rk_curl_load(err, errsize) == -1)
		return NULL;
	h = rk_xmalloc(sizeof(*h));
	memset(h, 0, sizeof(*h));
	h->o = *o;
	if ((h->multi = rk_curl.multi_init()) == NULL) {
		snprintf(err, errsize, "cannot start libcurl");
		free(h);
		return NULL;
	}
	rk_curl.multi_setopt(h->multi, CURLMOPT_MAX_TOTAL_CONNECTIONS,
	    o->max_conns);
	rk_curl.multi_setopt(h->multi, CURLMOPT_MAXCONNECTS, o->max_conns);
	return h;
}

void
rk_http_free(struct rk_http *h)
{
	if (h == NULL)
		return;
	rk_curl.multi_cleanup(h->multi);
	free(h);
}

void
rk_xfer_free(struct rk_xfer *x)
{
	if (x == NULL)
		return;
	if (x->easy != NULL)
		rk_curl.easy_cleanup(x->easy);
	if (x->headers != NULL)
		rk_curl.slist_free_all(x->headers);
	free(x->url);
	free(x->body);
	rk_sbuf_free(&x->resp);
	free(x);
}

int
rk_http_active(const struct rk_http *h)
{
	return h ? h->nactive : 0;
}

static size_t
on_header(char *p, size_t size, size_t n, void *arg)
{
	struct rk_xfer *x = arg;
	size_t len = size * n, k;
	char v[64];

	if (len > 5 && strncmp(p, "HTTP/", 5) == 0) {
		x->retry_after_ms = -1;		/* a new response */
		x->is_sse = 0;
		return len;
	}
	for (k = 0; k < len && p[k] != ':'; k++)
		;
	if (k == len)
		return len;
	{
		size_t s = k + 1, e = len;

		while (s < e && isspace((unsigned char)p[s]))
			s++;
		while (e > s && isspace((unsigned char)p[e - 1]))
			e--;
		if (e - s >= sizeof(v))
			return len;
		memcpy(v, p + s, e - s);
		v[e - s] = '\0';
	}
	if (k == 14 && strncasecmp(p, "retry-after-ms", k) == 0) {
		double d;

		if (rk_parse_double(v, &d) == 0 && d >= 0)
			x->retry_after_ms = d;
	} else if (k == 11 && strncasecmp(p, "retry-after", k) == 0) {
		double d;

		time_t t;

		/* seconds, or an HTTP date */
		if (x->retry_after_ms >= 0)
			;		/* retry-after-ms came first */
		else if (rk_parse_double(v, &d) == 0 && d >= 0)
			x->retry_after_ms = d * 1000;
		else if ((t = rk_curl.getdate(v, NULL)) != -1)
			x->retry_after_ms = t > time(NULL) ?
			    (double)(t - time(NULL)) * 1000 : 0;
	} else if (k == 12 && strncasecmp(p, "content-type", k) == 0)
		x->is_sse = strncasecmp(v, "text/event-stream", 17) == 0;
	return len;
}

static size_t
on_body(char *p, size_t size, size_t n, void *arg)
{
	struct rk_xfer *x = arg;
	size_t len = size * n;

	x->t_last = rk_now_ms();
	if (x->status == 0)
		rk_curl.easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE,
		    &x->status);
	x->nbytes += len;
	if (x->on_data != NULL && x->status >= 200 && x->status < 300) {
		if (x->on_data(x, p, len) != 0) {
			x->result = RK_X_ABORTED;
			return 0;
		}
		return len;
	}
	if (x->resp.len + len > x->o_max) {
		x->result = RK_X_TOO_BIG;
		return 0;
	}
	rk_sbuf_add(&x->resp, p, len);
	return len;
}

static int
is_loopback(const char *url)
{
	const char *h = strstr(url, "://");
	size_t n;

	if (h == NULL)
		return 0;
	h += 3;
	n = strcspn(h, ":/?#");
	return (n == 9 && strncasecmp(h, "localhost", 9) == 0) ||
	    strncmp(h, "127.", 4) == 0 || strncmp(h, "[::1]", 5) == 0;
}

int
rk_http_start(struct rk_http *h, struct rk_xfer *x)
{
	CURL *e;

	if ((e = rk_curl.easy_init()) == NULL)
		return -1;
	x->easy = e;
	x->status = 0;
	x->retry_after_ms = -1;
	x->result = RK_X_OK;
	x->nbytes = 0;
	x->errbuf[0] = '\0';
	x->resp.len = 0;
	x->o_max = h->o.max_response;
	x->t_start = x->t_last = rk_now_ms();
	rk_curl.easy_setopt(e, CURLOPT_URL, x->url);
	if (x->body != NULL) {
		rk_curl.easy_setopt(e, CURLOPT_POSTFIELDS, x->body);
		rk_curl.easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE,
		    (curl_off_t)strlen(x->body));
	}			/* else a GET */
	rk_curl.easy_setopt(e, CURLOPT_HTTPHEADER, x->headers);
	rk_curl.easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
	rk_curl.easy_setopt(e, CURLOPT_HEADERDATA, x);
	rk_curl.easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
	rk_curl.easy_setopt(e, CURLOPT_WRITEDATA, x);
	rk_curl.easy_setopt(e, CURLOPT_ERRORBUFFER, x->errbuf);
	rk_curl.easy_setopt(e, CURLOPT_PRIVATE, x);
	rk_curl.easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	/* a key must never follow a redirect to another host */
	rk_curl.easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
	rk_curl.easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
	rk_curl.easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 1L);
	rk_curl.easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 2L);
	rk_curl.easy_setopt(e, CURLOPT_ACCEPT_ENCODING, "");
	rk_curl.easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
	rk_curl.easy_setopt(e, CURLOPT_USERAGENT, "rk-llm/" RK_VERSION);
	if (is_loopback(x->url))		/* never through a proxy */
		rk_curl.easy_setopt(e, CURLOPT_NOPROXY, "*");
	if (h->o.ca_path != NULL)
		rk_curl.easy_setopt(e, CURLOPT_CAINFO, h->o.ca_path);
	if (h->o.connect_ms > 0)
		rk_curl.easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS,
		    (long)h->o.connect_ms);
	if (x->total_ms > 0)
		rk_curl.easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)x->total_ms);
	if (rk_curl.multi_add_handle(h->multi, e) != CURLM_OK) {
		rk_curl.easy_cleanup(e);
		x->easy = NULL;
		return -1;
	}
	x->next = h->active;
	h->active = x;
	h->nactive++;
	return 0;
}

static void
finish(struct rk_http *h, struct rk_xfer *x, enum rk_xfer_result r)
{
	struct rk_xfer **pp;

	for (pp = &h->active; *pp != NULL; pp = &(*pp)->next)
		if (*pp == x) {
			*pp = x->next;
			break;
		}
	h->nactive--;
	rk_curl.easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &x->status);
	rk_curl.multi_remove_handle(h->multi, x->easy);
	rk_curl.easy_cleanup(x->easy);
	x->easy = NULL;
	if (x->result == RK_X_OK)
		x->result = r;
	x->next = h->done;
	h->done = x;
}

static enum rk_xfer_result
classify(struct rk_xfer *x, CURLcode rc)
{
	switch (rc) {
	case CURLE_OK:
		return RK_X_OK;
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_RESOLVE_PROXY:
	case CURLE_COULDNT_CONNECT:
	case CURLE_SEND_ERROR:
	case CURLE_GOT_NOTHING:
		return RK_X_CONNECT;
	case CURLE_OPERATION_TIMEDOUT:
		/* not yet connected (TLS included for https)? */
		{
			curl_off_t c = 0;

			rk_curl.easy_getinfo(x->easy, strncmp(x->url, "https:",
			    6) == 0 ? CURLINFO_APPCONNECT_TIME_T :
			    CURLINFO_CONNECT_TIME_T, &c);
			return c == 0 && x->status == 0 && x->nbytes == 0 ?
			    RK_X_CONNECT_TIMEOUT : RK_X_TOTAL_TIMEOUT;
		}
	case CURLE_RECV_ERROR:
	case CURLE_PARTIAL_FILE:
		return x->status == 0 ? RK_X_CONNECT : RK_X_CUT;
	default:
		return RK_X_OTHER;
	}
}

void
rk_http_run(struct rk_http *h, int timeout_ms, int fd)
{
	struct curl_waitfd w = { fd, CURL_WAIT_POLLIN, 0 };
	struct rk_xfer *x, *nx;
	CURLMsg *m;
	double now;
	int running, left;

	rk_curl.multi_poll(h->multi, fd >= 0 ? &w : NULL, fd >= 0 ? 1 : 0,
	    timeout_ms, NULL);
	rk_curl.multi_perform(h->multi, &running);
	while ((m = rk_curl.multi_info_read(h->multi, &left)) != NULL) {
		if (m->msg != CURLMSG_DONE)
			continue;
		x = NULL;
		rk_curl.easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, &x);
		finish(h, x, classify(x, m->data.result));
	}
	if (h->o.idle_ms <= 0)
		return;
	now = rk_now_ms();
	for (x = h->active; x != NULL; x = nx) {
		nx = x->next;
		if (now - x->t_last > h->o.idle_ms) {
			x->result = RK_X_IDLE_TIMEOUT;
			finish(h, x, RK_X_IDLE_TIMEOUT);
		}
	}
}

struct rk_xfer *
rk_http_done(struct rk_http *h)
{
	struct rk_xfer *x = h->done;

	if (x != NULL) {
		h->done = x->next;
		x->next = NULL;
	}
	return x;
}
