/*
 * One HTTP attempt, as rk-llm (sched.c) and rk-embed (embed.c) both see
 * it: the transfer made on first use, what a finished transfer means for
 * the call (a failure's code and message, and whether it may pass on a
 * retry), and when to try again.
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/rk.h"
#include "llm/llm.h"

/*
 * *h, made on first use for o's timeouts and -P: 0, or -1 with the reason
 * in err, which also stops later tries (err[0] set).
 */
int
rk_attempt_http(struct rk_http **h, const struct rk_llm_opts *o, char *err,
    size_t errsize)
{
	struct rk_http_opts ho = { o->connect_ms, o->idle_ms, o->parallel,
	    rk_limits.response, rk_getenv("RK_CA_FILE") };

	if (*h == NULL && err[0] == '\0')
		*h = rk_http_new(&ho, err, errsize);
	return *h != NULL ? 0 : -1;
}

/* An HTTP error status: the server's message, and a hint about keys. */
static void
http_status(struct rk_call *c, const struct rk_xfer *x,
    const struct rk_endpoint *ep, char *(*message)(const char *, size_t))
{
	char *m = message(x->resp.s ? x->resp.s : "", x->resp.len);
	int denied = (x->status == 401 || x->status == 403) &&
	    ep->withheld != NULL;
	char code[16];

	snprintf(code, sizeof(code), "http-%ld", x->status);
	rk_call_fail(c, code, "%s: HTTP %ld%s%s%s%s%s", x->url, x->status,
	    m ? ": " : "", m ? m : "", denied ? "; note: " : "",
	    denied ? ep->withheld : "", denied ? " is sent only to its "
	    "vendor's host; use RK_API_KEY for this base URL" : "");
	free(m);
	c->retryable = rk_http_retryable(x->status);
}

/*
 * What a finished transfer means: 0 for a whole 2xx reply (the caller
 * reads it), or -1 with the call failed.  message reads the server's
 * error body.
 */
int
rk_attempt_outcome(struct rk_call *c, const struct rk_xfer *x,
    const struct rk_llm_opts *o, const struct rk_endpoint *ep,
    char *(*message)(const char *, size_t))
{
	const char *url = x->url;

	switch (x->result) {
	case RK_X_OK:
		break;
	case RK_X_ABORTED:
		if (c->errcode == NULL)
			rk_call_fail(c, "bad-response", "%s: the event stream "
			    "is malformed or over the limit", url);
		if (c->acc.len > 0) {
			/* text arrived, then an error: kept as for a cut
			   stream, and not retried (it was already shown) */
			c->retryable = 0;
			c->truncated = strcmp(c->errcode, "too-big") != 0;
		}
		return -1;
	case RK_X_CONNECT:
		rk_call_fail(c, "connect", "%s: %s", url, x->errbuf[0] ?
		    x->errbuf : "cannot connect");
		c->retryable = 1;
		return -1;
	case RK_X_CONNECT_TIMEOUT:
		rk_call_fail(c, "timeout-connect", "%s: no connection within "
		    "%.3g s (--connect-timeout, RK_CONNECT_TIMEOUT)", url,
		    o->connect_ms / 1000);
		c->retryable = 1;
		return -1;
	case RK_X_IDLE_TIMEOUT:
		rk_call_fail(c, "timeout-idle", "%s: nothing received for "
		    "%.3g s (--idle-timeout, RK_IDLE_TIMEOUT)", url,
		    o->idle_ms / 1000);
		c->truncated = c->acc.len > 0;
		return -1;
	case RK_X_TOTAL_TIMEOUT:
		rk_call_fail(c, "timeout-total", "%s: no complete reply within "
		    "%.3g s (--timeout, RK_TIMEOUT, or the time budget)", url,
		    x->total_ms / 1000);
		c->truncated = c->acc.len > 0;
		return -1;
	case RK_X_CUT:
		if (o->stream) {
			rk_call_fail(c, "truncated", "%s: the stream was cut "
			    "before its end", url);
			c->truncated = 1;
		} else {
			rk_call_fail(c, "connect", "%s: the connection broke "
			    "during the reply", url);
			c->retryable = 1;
		}
		return -1;
	case RK_X_TOO_BIG:
		rk_call_fail(c, "too-big", "%s: the reply is over the limit of "
		    "%zu bytes (RK_MAX_RESPONSE)", url, rk_limits.response);
		return -1;
	default:
		rk_call_fail(c, "http", "%s: %s", url, x->errbuf[0] ?
		    x->errbuf : "transfer failed");
		return -1;
	}
	if (x->status < 200 || x->status > 299) {
		http_status(c, x, ep, message);
		return -1;
	}
	return 0;
}

/* The server's Retry-After, or a random wait under a doubling cap. */
static double
backoff(int attempt, const struct rk_xfer *x)
{
	double cap = 500;

	if (x->retry_after_ms >= 0)
		return x->retry_after_ms;
	for (int i = 1; i < attempt && cap < 30000; i++)
		cap *= 2;
	if (cap > 30000)
		cap = 30000;
	return (double)arc4random_uniform((uint32_t)cap + 1);
}

/* add why we stopped retrying to the call's message */
static void
give_up(struct rk_call *c, const char *fmt, ...)
{
	char *code = rk_xstrdup(c->errcode), *msg = rk_xstrdup(c->errmsg);
	char *why;
	va_list ap;

	va_start(ap, fmt);
	rk_vasprintf(&why, fmt, ap);
	va_end(ap);
	rk_call_fail(c, code, "%s; %s", msg, why);
	free(code);
	free(msg);
	free(why);
}

/*
 * After failed attempt number attempt, elapsed_ms after the first began:
 * the wait before the next, or -1 if there is none (the call's message
 * then says why, when it could have passed on a retry).
 */
double
rk_attempt_retry(struct rk_call *c, const struct rk_llm_opts *o, int attempt,
    double elapsed_ms, const struct rk_xfer *x)
{
	double d;

	if (!c->retryable)
		return -1;
	if (attempt > o->retries) {
		give_up(c, "giving up after %d attempt%s (--retries, "
		    "RK_RETRIES)", attempt, attempt == 1 ? "" : "s");
		return -1;
	}
	d = backoff(attempt, x);
	if (elapsed_ms + d > o->retry_ms) {
		give_up(c, "giving up: the next attempt would pass the retry "
		    "time of %.3g s (--retry-time, RK_RETRY_TIME)",
		    o->retry_ms / 1000);
		return -1;
	}
	return d;
}
