/*
 * Questions through one pipeline of the ordinary filters (rk-bench(1),
 * rk-compare(1)): rk-prompt | rk-llm | rk-prompt ..., as many stages as
 * the longest profile needs.  Each task is a question for a profile; up to
 * jobs tasks are in flight, the samples of a self-consistency vote added
 * as the vote needs them, and the caller hears of each finished task with
 * its record, its samples and the time it took.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/rk.h"
#include "llm/llm.h"
#include "think/think.h"

/*
 * The profiles (or protocols) of a comma-separated list, checked: their
 * names, their kinds ("profile" or "protocol") and the most steps any of
 * them takes.
 */
int
rk_runs_profiles(struct rk_contenders *c, const char *list,
    struct rk_error *e)
{
	struct rk_catalog *cat = rk_catalog_new();
	char *s = rk_xstrdup(list), *save = NULL;
	int rc = 0;

	memset(c, 0, sizeof(*c));
	for (char *w = strtok_r(s, ",", &save); w != NULL && rc == 0;
	    w = strtok_r(NULL, ",", &save)) {
		long n;

		if ((n = rk_catalog_steps(cat, w, RK_KIND_NONE, 0, e)) < 0) {
			rc = e != NULL ? e->code : RK_EXIT_CONFIG;
			break;
		}
		c->steps = n > c->steps ? n : c->steps;
		c->name = rk_xrealloc(c->name, (c->n + 1) * sizeof(*c->name));
		c->kind = rk_xrealloc(c->kind, (c->n + 1) * sizeof(*c->kind));
		c->kind[c->n] = rk_catalog_profile(cat, w, NULL) ? "profile" :
		    "protocol";
		c->name[c->n++] = rk_xstrdup(w);
	}
	free(s);
	rk_catalog_free(cat);
	if (rc == 0 && c->n == 0)
		rc = rk_error_set(e, RK_EXIT_USAGE, "-p: no profile");
	return rc;
}

void
rk_runs_profiles_free(struct rk_contenders *c)
{
	for (size_t i = 0; i < c->n; i++)
		free(c->name[i]);
	free(c->name);
	free(c->kind);
	memset(c, 0, sizeof(*c));
}

/*
 * The stages are the caller's siblings: its own directory goes first on
 * PATH, as rk(1) does, so that build/bin/rk-bench runs build/bin's
 * stages, not whatever PATH finds (or nothing).
 */
static void
siblings_first(void)
{
	char *dir = rk_exe_dir(), *path;
	const char *old = getenv("PATH");

	if (dir == NULL)
		return;
	rk_asprintf(&path, "%s%s%s", dir, old != NULL ? ":" : "",
	    old != NULL ? old : "");
	setenv("PATH", path, 1);
	free(path);
	free(dir);
}

/* rk-prompt, then rk-llm | rk-prompt for each step */
static int
pipeline(struct rk_runs *r, long steps, struct rk_error *e)
{
	char jobs[24], *prompt[] = { "rk-prompt", NULL };
	char *llm[] = { "rk-llm", "-u", "-P", jobs, r->mock ? "--mock" :
	    NULL, NULL };
	char ***argvs = rk_xmalloc((size_t)(2 * steps + 1) * sizeof(*argvs));
	long most = r->jobs * r->vote->samples;
	int rc;

	/*
	 * -P is the user's own limit, over the default one.  -u: a reply
	 * goes on as soon as it is done, not after those sent before it,
	 * so that its question's slot is free at once (the tasks are
	 * matched by their ids, not their order).
	 */
	snprintf(jobs, sizeof(jobs), "%ld", most);
	if (most > rk_limits.concurrency)
		setenv("RK_MAX_CONCURRENCY", jobs, 1);
	siblings_first();
	argvs[0] = prompt;
	for (long i = 0; i < steps; i++)
		argvs[2 * i + 1] = llm, argvs[2 * i + 2] = prompt;
	r->chain = (struct rk_chain){ -1, -1, NULL, 0 };
	rc = rk_chain_start(&r->chain, argvs, (size_t)(2 * steps + 1), e);
	free(argvs);
	if (rc == 0)
		fcntl(r->chain.in, F_SETFL, O_NONBLOCK);
	return rc;
}

static void
send_record(struct rk_runs *r, const json_t *rec)
{
	char *s = json_dumps(rec, JSON_COMPACT);

	rk_sbuf_add(r->outq, s, strlen(s));
	rk_sbuf_add(r->outq, "\n", 1);
	free(s);
}

static void
send_samples(struct rk_runs *r, struct rk_run_task *k, long n)
{
	for (long i = 0; i < n && r->vote->samples == 1; i++)
		send_record(r, k->rec);
	for (long i = 0; i < n && r->vote->samples > 1; i++) {
		json_t *s = rk_sample_new(k->rec, rk_get_string(k->rec, "id"),
		    k->sent + i, r->vote);

		send_record(r, s);
		json_decref(s);
	}
	k->sent += n;
}

static int
finish(struct rk_runs *r, size_t t, struct rk_error *e)
{
	struct rk_run_task *k = &r->tasks[t];
	json_t *rec = r->vote->samples > 1 ? rk_vote(k->samples, r->vote) :
	    json_incref(json_array_get(k->samples, 0));
	int rc;

	r->inflight--;
	r->done++;
	rc = r->finished(r->arg, t, rec, k->samples, rk_round(rk_now_ms() -
	    k->t0, 3), e);
	json_decref(rec);
	json_decref(k->samples);
	json_decref(k->rec);
	k->samples = k->rec = NULL;
	return rc;
}

static int
received(struct rk_runs *r, const char *line, size_t len, struct rk_error *e)
{
	json_t *rec = json_loadb(line, len, 0, NULL);
	const char *g = rec ? rk_sample_group(rec) : NULL;
	json_t *ix = json_object_get(r->by_group, g ? g : "");
	struct rk_run_task *k;
	long more;

	if (rec == NULL || ix == NULL) {
		json_decref(rec);
		return rk_error_set(e, RK_EXIT_INTERNAL, "the pipeline wrote a "
		    "record that is not one of ours");
	}
	k = &r->tasks[json_integer_value(ix)];
	json_array_append_new(k->samples, rec);
	if ((long)json_array_size(k->samples) < k->sent)
		return 0;
	more = r->vote->samples > 1 ? rk_vote_more(k->samples, r->vote) : 0;
	if (more == 0)
		return finish(r, (size_t)json_integer_value(ix), e);
	send_samples(r, k, more);
	return 0;
}

static void
start_tasks(struct rk_runs *r)
{
	while (r->inflight < (size_t)r->jobs && r->next < r->ntasks) {
		size_t t = r->next++;
		struct rk_run_task *k = &r->tasks[t];

		if (k->skip) {
			r->done++;
			continue;
		}
		k->rec = rk_record_new(k->question);
		json_object_set_new(k->rec, k->kind, json_string(k->profile));
		json_object_set_new(r->by_group, rk_get_string(k->rec, "id"),
		    json_integer((json_int_t)t));
		k->samples = json_array();
		k->t0 = rk_now_ms();
		r->inflight++;
		send_samples(r, k, r->vote->samples > 1 ?
		    rk_vote_more(k->samples, r->vote) : 1);
	}
}

static int
read_records(struct rk_runs *r, struct rk_error *e)
{
	char buf[65536], *nl;
	ssize_t n = read(r->chain.out, buf, sizeof(buf));
	size_t start = 0, from = r->inq->len;	/* the rest was scanned */
	int rc = 0;

	if (n == 0)
		return rk_error_set(e, RK_EXIT_INTERNAL, "the pipeline ended "
		    "early");
	if (n < 0)
		return errno == EINTR || errno == EAGAIN ? 0 :
		    rk_error_set(e, RK_EXIT_IO, "pipeline: %s",
		    strerror(errno));
	rk_sbuf_add(r->inq, buf, (size_t)n);
	while (rc == 0 && (nl = memchr(r->inq->s + from, '\n', r->inq->len -
	    from)) != NULL) {
		size_t i = (size_t)(nl - r->inq->s);

		rc = received(r, r->inq->s + start, i - start, e);
		start = from = i + 1;
	}
	memmove(r->inq->s, r->inq->s + start, r->inq->len - start);
	r->inq->len -= start;
	return rc;
}

static int
write_records(struct rk_runs *r, struct rk_error *e)
{
	ssize_t n = write(r->chain.in, r->outq->s, r->outq->len);

	if (n < 0 && errno != EAGAIN && errno != EINTR)
		return rk_error_set(e, RK_EXIT_IO, "pipeline: %s",
		    strerror(errno));
	if (n > 0) {
		memmove(r->outq->s, r->outq->s + n, r->outq->len - (size_t)n);
		r->outq->len -= (size_t)n;
	}
	return 0;
}

static int
loop(struct rk_runs *r, struct rk_error *e)
{
	struct pollfd p[2];
	int rc = 0;

	start_tasks(r);
	while (rc == 0 && r->done < r->ntasks) {
		p[0] = (struct pollfd){ r->chain.out, POLLIN, 0 };
		p[1] = (struct pollfd){ r->chain.in, r->outq->len ? POLLOUT : 0,
		    0 };
		if (poll(p, 2, -1) == -1 && errno != EINTR)
			return rk_error_set(e, RK_EXIT_IO, "poll: %s",
			    strerror(errno));
		if (p[1].revents & (POLLOUT | POLLERR))
			rc = write_records(r, e);
		if (rc == 0 && p[0].revents & (POLLIN | POLLHUP))
			rc = read_records(r, e);
		start_tasks(r);
	}
	return rc;
}

/*
 * Run the tasks not skipped through a pipeline of steps stages: 0, an
 * error (e set), or RK_EXIT_FAILED when a stage of the pipeline failed.
 */
int
rk_runs_run(struct rk_runs *r, long steps, struct rk_error *e)
{
	size_t todo = 0;
	int rc;

	for (size_t t = 0; t < r->ntasks; t++)
		todo += !r->tasks[t].skip;
	r->next = r->done = r->inflight = 0;
	if (todo == 0)
		return 0;
	signal(SIGPIPE, SIG_IGN);
	if ((rc = pipeline(r, steps, e)) != 0)
		return rc;
	r->by_group = json_object();
	r->outq = rk_xmalloc(sizeof(*r->outq));
	r->inq = rk_xmalloc(sizeof(*r->inq));
	memset(r->outq, 0, sizeof(*r->outq));
	memset(r->inq, 0, sizeof(*r->inq));
	rc = loop(r, e);
	json_decref(r->by_group);
	rk_sbuf_free(r->outq);
	rk_sbuf_free(r->inq);
	free(r->outq);
	free(r->inq);
	if (rc == 0 && rk_chain_wait(&r->chain) != 0)
		rc = rk_error_set(e, RK_EXIT_FAILED, "a stage of the pipeline "
		    "failed");
	return rc;
}
