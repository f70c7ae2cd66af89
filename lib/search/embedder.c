/*
 * Embeddings through rk-embed(1), run as a child filter: texts go in as
 * plain lines, {"text","embedding"} records come back in the same order.
 * The caller hands over texts one at a time and hears of each vector as
 * it arrives.  At most WINDOW texts are in flight, and both pipes are
 * served by one poll() loop, so neither fills while the other waits.
 * Keys never pass through here: rk-embed reads them from its environment.
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/rk.h"
#include "llm/llm.h"		/* rk_sbuf */
#include "search/search.h"

#define WINDOW		1024	/* texts sent and not yet answered */
#define OUT_HIGH	65536	/* bytes queued before we stop asking */

struct embed_run {
	struct rk_chain c;
	rk_text_fn *next;
	rk_vector_fn *got;
	void	*arg;
	struct rk_sbuf out, in;	/* to rk-embed, from it */
	uint64_t *sent;		/* hash of each text in flight, a ring */
	size_t	 nsent, nrecv;
	int	 eof;		/* no more texts */
	int	 ended;		/* rk-embed closed its output early */
	volatile sig_atomic_t *stop;
	float	*v;
	size_t	 vcap;
};

/* drop the first n bytes */
static void
consumed(struct rk_sbuf *b, size_t n)
{
	if (n == 0)
		return;
	memmove(b->s, b->s + n, b->len - n);
	b->len -= n;
}

/*
 * One line of text (rk-embed --lines: even one starting with '{'):
 * controls become spaces, as a chunk's newlines would split it.
 */
static char *
as_line(const char *text)
{
	size_t n = strlen(text);
	char *s = rk_xmalloc(n + 2), *p = s;

	if (n == 0)
		*p++ = ' ';
	for (; *text; text++)
		*p++ = (unsigned char)*text < 0x20 || *text == 0x7f ? ' ' :
		    *text;
	*p = '\0';
	return s;
}

static int
queue_texts(struct embed_run *r, struct rk_error *e)
{
	while (!r->eof && r->nsent - r->nrecv < WINDOW &&
	    r->out.len < OUT_HIGH) {
		char *text = NULL, *line;
		int rc = r->next(r->arg, r->nsent, &text, e);

		if (rc == 0) {
			r->eof = 1;
			break;
		}
		if (rc != 1)
			return rc;
		line = as_line(text);
		free(text);
		r->sent[r->nsent++ % WINDOW] = rk_hash2(line, "");
		rk_sbuf_add(&r->out, line, strlen(line));
		rk_sbuf_add(&r->out, "\n", 1);
		free(line);
	}
	return 0;
}

static int
vector_of(struct embed_run *r, const json_t *a, size_t *dim,
    struct rk_error *e)
{
	size_t i;
	json_t *x;

	*dim = json_array_size(a);
	if (*dim == 0 || *dim > RK_VEC_DIM_MAX)
		return rk_error_set(e, RK_EXIT_PROVIDER, "rk-embed: an "
		    "embedding of %zu dimensions", *dim);
	if (*dim > r->vcap) {
		r->vcap = *dim;
		r->v = rk_xrealloc(r->v, r->vcap * sizeof(*r->v));
	}
	json_array_foreach(a, i, x) {
		if (!json_is_number(x) || !isfinite(json_number_value(x)))
			return rk_error_set(e, RK_EXIT_PROVIDER, "rk-embed: "
			    "an embedding holds a value that is not a finite "
			    "number");
		r->v[i] = (float)json_number_value(x);
	}
	return 0;
}

static int
received(struct embed_run *r, const char *line, size_t len,
    struct rk_error *e)
{
	json_t *rec = json_loadb(line, len, 0, NULL);
	const char *text = rec ? rk_get_string(rec, "text") : NULL;
	size_t dim;
	int rc;

	if (rec != NULL && rk_has_error(rec)) {
		rc = rk_error_set(e, rk_error_status(rec) > RK_EXIT_FAILED ?
		    rk_error_status(rec) : RK_EXIT_PROVIDER, "rk-embed: %s",
		    rk_get_string(json_object_get(rec, "error"), "message"));
	} else if (text == NULL || r->nrecv == r->nsent ||
	    rk_hash2(text, "") != r->sent[r->nrecv % WINDOW])
		rc = rk_error_set(e, RK_EXIT_INTERNAL, "rk-embed wrote a "
		    "record for a text we did not send");
	else if ((rc = vector_of(r, json_object_get(rec, "embedding"), &dim,
	    e)) == 0)
		rc = r->got(r->arg, r->nrecv++, r->v, dim, e);
	json_decref(rec);
	return rc;
}

static int
read_lines(struct embed_run *r, struct rk_error *e)
{
	char chunk[65536], *nl;
	ssize_t n = read(r->c.out, chunk, sizeof(chunk));
	size_t off = 0;
	int rc = 0;

	if (n == 0) {
		r->ended = 1;
		return rk_error_set(e, RK_EXIT_PROVIDER, "rk-embed ended "
		    "after %zu of %zu texts", r->nrecv, r->nsent);
	}
	if (n < 0)
		return errno == EINTR ? 0 : rk_error_set(e, RK_EXIT_IO,
		    "rk-embed: %s", strerror(errno));
	rk_sbuf_add(&r->in, chunk, (size_t)n);
	while (rc == 0 && (nl = memchr(r->in.s + off, '\n',
	    r->in.len - off)) != NULL) {
		size_t len = (size_t)(nl - (r->in.s + off));

		rc = received(r, r->in.s + off, len, e);
		off += len + 1;
	}
	consumed(&r->in, off);
	return rc;
}

static int
write_some(struct embed_run *r, struct rk_error *e)
{
	ssize_t n = write(r->c.in, r->out.s, r->out.len);

	if (n < 0 && errno == EPIPE) {
		/* it ended: what it wrote before is still to be read */
		r->eof = 1;
		r->out.len = 0;
		return 0;
	}
	if (n < 0)
		return errno == EINTR || errno == EAGAIN ? 0 :
		    rk_error_set(e, RK_EXIT_PROVIDER, "rk-embed: %s",
		    strerror(errno));
	consumed(&r->out, (size_t)n);
	return 0;
}

static int
pump(struct embed_run *r, struct rk_error *e)
{
	struct pollfd pfd[2];
	int rc;

	while (!r->eof || r->nrecv < r->nsent) {
		if ((rc = queue_texts(r, e)) != 0)
			return rc;
		if (r->eof && r->out.len == 0 && r->c.in != -1) {
			close(r->c.in);
			r->c.in = -1;
		}
		if (r->eof && r->nrecv == r->nsent)
			break;
		pfd[0] = (struct pollfd){ r->c.out, POLLIN, 0 };
		pfd[1] = (struct pollfd){ r->out.len > 0 ? r->c.in : -1,
		    POLLOUT, 0 };
		if (r->stop != NULL && *r->stop)
			return rk_error_set(e, RK_EXIT_IO, "interrupted");
		if (poll(pfd, 2, -1) == -1) {
			if (errno == EINTR)
				continue;
			return rk_error_set(e, RK_EXIT_IO, "poll: %s",
			    strerror(errno));
		}
		if ((pfd[1].revents & (POLLOUT | POLLERR)) &&
		    (rc = write_some(r, e)) != 0)
			return rc;
		if ((pfd[0].revents & (POLLIN | POLLHUP)) &&
		    (rc = read_lines(r, e)) != 0)
			return rc;
	}
	return 0;
}

static char **
embed_argv(const struct rk_embed_opts *o, char *dims, char *jobs)
{
	char **v = rk_xmalloc(13 * sizeof(*v));
	size_t n = 0;

	v[n++] = "rk-embed";
	v[n++] = "--lines";
	if (o->model != NULL)
		v[n++] = "-m", v[n++] = (char *)o->model;
	if (o->provider != NULL)
		v[n++] = "--provider", v[n++] = (char *)o->provider;
	if (o->base_url != NULL)
		v[n++] = "--base-url", v[n++] = (char *)o->base_url;
	if (o->dimensions > 0) {
		snprintf(dims, 24, "%ld", o->dimensions);
		v[n++] = "--dimensions", v[n++] = dims;
	}
	if (o->jobs > 0) {
		snprintf(jobs, 24, "%ld", o->jobs);
		v[n++] = "-P", v[n++] = jobs;
	}
	v[n] = NULL;
	return v;
}

/*
 * Embed the texts next() gives (1 and a text to free, 0 at the end, or
 * an RK_EXIT_* code) and hand each vector to got() in the same order.
 * 0, or the first failure's code with e set; rk-embed's own exit status
 * if it failed without saying why in a record.
 */
int
rk_embed_pipe(const struct rk_embed_opts *o, rk_text_fn *next,
    rk_vector_fn *got, void *arg, struct rk_error *e)
{
	struct embed_run r;
	char dims[24], jobs[24], **argv = embed_argv(o, dims, jobs);
	char **const argvs[] = { argv };
	int rc, st;

	memset(&r, 0, sizeof(r));
	r.next = next;
	r.got = got;
	r.arg = arg;
	r.stop = o->stop;
	r.sent = rk_xmalloc(WINDOW * sizeof(*r.sent));
	e->code = 0;
	signal(SIGPIPE, SIG_IGN);
	if ((rc = rk_chain_start(&r.c, argvs, 1, e)) == 0) {
		fcntl(r.c.in, F_SETFL, O_NONBLOCK);
		rc = pump(&r, e);
		/* a failure of ours ends rk-embed at its next write */
		st = rk_chain_wait(&r.c);
		if (st > RK_EXIT_INTERNAL)	/* not one of ours: 127 */
			rc = rk_error_set(e, RK_EXIT_CONFIG, "cannot run "
			    "rk-embed (exit %d)", st);
		else if (r.ended && st > RK_EXIT_FAILED)
			e->code = rc = st;
		else if (rc == 0 && st != 0)
			rc = rk_error_set(e, st, "rk-embed failed (exit %d)",
			    st);
	}
	free(argv);
	free(r.sent);
	rk_sbuf_free(&r.out);
	rk_sbuf_free(&r.in);
	free(r.v);
	return rc;
}

struct collect {
	char *const *texts;
	size_t	 n, dim;
	float	*v;
};

static int
collect_text(void *arg, size_t i, char **text, struct rk_error *e)
{
	struct collect *c = arg;

	if (i >= c->n)
		return 0;
	*text = rk_xstrdup(c->texts[i]);
	return 1;
}

static int
collect_vector(void *arg, size_t i, const float *v, size_t dim,
    struct rk_error *e)
{
	struct collect *c = arg;

	if (c->v == NULL) {
		c->dim = dim;
		c->v = rk_xmalloc(c->n * dim * sizeof(*c->v));
	} else if (dim != c->dim)
		return rk_error_set(e, RK_EXIT_PROVIDER, "rk-embed gave "
		    "vectors of %zu and of %zu dimensions", c->dim, dim);
	memcpy(c->v + i * dim, v, dim * sizeof(*v));
	return 0;
}

/* n texts' vectors, one after another in *vecs (free it) */
int
rk_embed_pipe_texts(const struct rk_embed_opts *o, char *const *texts, size_t n,
    float **vecs, size_t *dim, struct rk_error *e)
{
	struct collect c = { texts, n, 0, NULL };
	int rc = rk_embed_pipe(o, collect_text, collect_vector, &c, e);

	if (rc != 0) {
		free(c.v);
		c.v = NULL;
	}
	*vecs = c.v;
	*dim = c.dim;
	return rc;
}
