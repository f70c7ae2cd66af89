/*
 * The ThinkTools as data: protocols (steps with prompt templates) and
 * profiles (chains of protocols with conditions), loaded from YAML files
 * and checked before anything runs.  See rk-protocol(5).
 */
#ifndef RK_THINK_H
#define RK_THINK_H

#include <jansson.h>

struct rk_bpe;
struct rk_error;

/* template.c */

enum tnode_kind { T_TEXT, T_VAR, T_IF };

struct tnode {
	enum tnode_kind	 kind;
	char		*text;		/* literal text, or a variable name */
	struct tnode	*then, *els;	/* T_IF branches */
	struct tnode	*next;
	int		 line, col;	/* where the tag starts, in the file */
};

/* {{#if}} blocks nest at most this deep. */
#define TMPL_MAX_DEPTH	32

/* A variable's value for rendering: NULL or "" means unset. */
typedef const char *(*tmpl_lookup)(void *arg, const char *name);
/* Whether a variable may appear at all; checked at load time. */
typedef int (*tmpl_known)(void *arg, const char *name);

struct tnode	*tmpl_compile(const char *src, int line, int col,
		    char **err);
int		 tmpl_check(const struct tnode *, tmpl_known, void *arg,
		    const char **bad, int *line, int *col);
void		 tmpl_free(struct tnode *);
char		*tmpl_render(const struct tnode *, tmpl_lookup, void *arg);

/* protocol.c */

enum out_kind { OUT_TEXT, OUT_LIST, OUT_VERDICT, OUT_ANSWER };

/*
 * The protocol that turns a chain's findings into an answer: profiles end
 * with it, and it follows a protocol run alone that has no answer step.
 */
#define RK_CONCLUDE	"conclude"

/* What a definition may hold; see rk-protocol(5). */
#define RK_MAX_STEPS	64	/* steps of a protocol */
#define RK_MAX_LINKS	64	/* links of a profile's chain */
#define RK_MAX_PROFILES	1000	/* profiles in a file */

/*
 * Defaults: the confidence a step, protocol or profile must reach, and a
 * step's temperature.
 */
#define RK_MIN_CONFIDENCE	0.7
#define RK_TEMPERATURE		0.7

struct rk_step {
	char		*id;
	char		*action;
	enum out_kind	 output;
	char		*prompt_src, *compact_src;
	struct tnode	*prompt, *compact;
	char		**depends_on;
	size_t		 ndeps;
	double		 min_confidence;
	long		 min_items, max_items;
	long		 max_tokens;
	double		 temperature;
	int		 optional;
};

struct rk_protocol {
	char		*id, *name, *description, *strategy, *input, *file;
	char		*system_src;
	struct tnode	*system;
	long		 version;
	double		 min_confidence;
	struct rk_step	*steps;
	size_t		 nsteps;
};

enum cond_kind { C_ALWAYS, C_CONF, C_VERDICT };

struct rk_cond {
	enum cond_kind	 kind;
	char		 op[3];		/* < <= > >= == != */
	double		 value;
	char		*verdict;
	char		*text;		/* as written, for traces */
};

struct rk_link {
	char		*protocol;
	char		*input;		/* "question" or "protocol.step" */
	struct rk_cond	 when;
	double		 temperature;	/* NAN: not overridden */
	long		 max_tokens;	/* 0: not overridden */
	double		 min_confidence; /* NAN: not overridden */
};

struct rk_profile {
	char		*id, *name, *description, *file;
	double		 min_confidence;
	long		 token_budget;
	struct rk_link	*chain;
	size_t		 nchain;
};

struct rk_catalog {
	struct rk_protocol	**protocols;
	size_t			  nprotocols;
	struct rk_profile	**profiles;
	size_t			  nprofiles;
	char			**dirs;
	size_t			  ndirs;
	int			  lazy;	/* load protocols only when used */
	int			  profiles_loaded;
};

/* What a name names; a protocol before a profile of the same name. */
enum { RK_KIND_NONE, RK_KIND_PROTOCOL, RK_KIND_PROFILE };

struct rk_catalog	*rk_catalog_new(void);
void			 rk_catalog_free(struct rk_catalog *);
int	 rk_valid_name(const char *);
int	 rk_catalog_load_all(struct rk_catalog *, struct rk_error *);
int	 rk_catalog_load_file(struct rk_catalog *, const char *path,
	    struct rk_error *);
int	 rk_catalog_kind(struct rk_catalog *, const char *name,
	    struct rk_error *);		/* RK_KIND_*, -1 on error */
struct rk_protocol *rk_catalog_protocol(struct rk_catalog *, const char *,
	    struct rk_error *);
struct rk_profile *rk_catalog_profile(struct rk_catalog *, const char *,
	    struct rk_error *);
int	 rk_catalog_check_profile(struct rk_catalog *, struct rk_profile *,
	    struct rk_error *);
const struct rk_step *rk_protocol_step(const struct rk_protocol *,
	    const char *id);
json_t	*rk_protocol_json(const struct rk_protocol *);
json_t	*rk_profile_json(const struct rk_profile *);
int	 rk_cond_parse(const char *, struct rk_cond *);
int	 rk_cond_eval(const struct rk_cond *, double conf, const char *verdict);
const char *rk_out_kind_name(enum out_kind);
struct rk_protocol *rk_catalog_conclusion(struct rk_catalog *,
	    const struct rk_protocol *);
long	 rk_catalog_steps(struct rk_catalog *, const char *name, int kind,
	    int perf, struct rk_error *);

/* runner.c: the next step of a record */

struct rk_runner {
	struct rk_catalog	*catalog;
	const char		*profile;	/* run this profile, */
	const char		*protocol;	/* or this protocol, */
					/* or what the record names */
	int			 perf;		/* compact prompts, */
					/* no optional steps */
	double			 load_ms;	/* recorded in requests */
	long			 context_tokens; /* budget for passages */
	const char		*bpe_name;	/* the encoding counting them */
	const struct rk_bpe	*bpe;		/* opened on first use */
};

/*
 * Each returns 0 or an RK_EXIT_* code with err set; a record that cannot go
 * on carries the error too (its code, message and status).
 */
int	 rk_runner_init(struct rk_runner *, struct rk_error *);
int	 rk_runner_next(struct rk_runner *, json_t *rec, struct rk_error *);

/* reply.c: a model's reply -> the step's structured output */

double	 rk_reply_confidence(const char *text, int *found);
json_t	*rk_reply_parse(const char *text, enum out_kind);
int	 rk_out_kind_parse(const char *, enum out_kind *);
char	*rk_output_text(const json_t *output);
const char *rk_line_label(const char *line, const char *word);

/*
 * answer.c: the answer stated in a model's text ("Answer: 18", "#### 18",
 * "\boxed{18}", "The answer is 18." ...; for a numeric question, else the
 * last number), malloc'd, or NULL if none; and the canonical form of an
 * answer, malloc'd, for comparing: "1000" for "$1,000.00", "yes", "B".
 */
char	*rk_answer_extract(const char *text, int numeric);
char	*rk_answer_normalize(const char *answer);

/*
 * vote.c: self-consistency.  Samples are records with a "sample" member
 * {group, index, of, offset}; their steps run at the step's temperature
 * plus the offset.  rk_vote() turns the samples of one group into the
 * vote's record; rk_vote_more() says how many more samples to send (0:
 * the vote is over, early or not).
 */
enum rk_vote_method { RK_VOTE_MAJORITY, RK_VOTE_CONFIDENCE, RK_VOTE_CISC,
    RK_VOTE_UNANIMOUS };

struct rk_vote_opts {
	enum rk_vote_method method;
	long	samples;	/* the most samples of a question */
	long	min_samples;	/* taken before an early stop */
	double	threshold;	/* the leader's share that stops early */
	double	spread;		/* temperatures: base - spread .. + spread */
};

void	 rk_vote_defaults(struct rk_vote_opts *);
int	 rk_vote_method_parse(const char *, enum rk_vote_method *);
const char *rk_vote_method_name(enum rk_vote_method);
double	 rk_sample_offset(long index, long of, double spread);
json_t	*rk_sample_new(const json_t *rec, const char *group, long index,
	    const struct rk_vote_opts *);
const char *rk_sample_group(const json_t *rec);	/* or the record's id */
json_t	*rk_vote(const json_t *samples, const struct rk_vote_opts *);
long	 rk_vote_more(const json_t *samples, const struct rk_vote_opts *);

/*
 * bench.c: benchmarks of profiles.  A dataset is JSONL {id, question,
 * answer} (GSM8K's "#### N" answers and multiple choice with "choices"
 * and a letter too); results are kept by dataset, question, profile,
 * model and samples so that a run resumes.
 */
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

struct rk_bench_item {
	char	*id, *question, *gold;
	int	 choice;	/* multiple choice: the gold is a letter */
	size_t	 pos;		/* in the dataset, while sampling */
};

struct rk_bench_set {
	struct rk_bench_item	*v;
	size_t			 n;
};

enum rk_bench_score { RK_SCORE_AUTO, RK_SCORE_NUMERIC, RK_SCORE_CHOICE,
    RK_SCORE_EXACT };

int	 rk_bench_load(struct rk_bench_set *, const char *path,
	    struct rk_error *);
void	 rk_bench_free(struct rk_bench_set *);
void	 rk_bench_sample(struct rk_bench_set *, size_t n, uint64_t seed);
int	 rk_bench_score_parse(const char *, enum rk_bench_score *);
char	*rk_bench_answer(const json_t *rec, const struct rk_bench_item *);
int	 rk_bench_correct(enum rk_bench_score, const char *answer,
	    const struct rk_bench_item *);

int	 rk_scorer_run(const char *cmd, const char *const *answers,
	    const char *const *golds, size_t n, int *verdicts,
	    struct rk_error *);

struct rk_result {
	const char	*dataset, *qid, *profile, *model;	/* the key */
	long		 samples;
	char		*answer;	/* the caller's */
	const char	*run;
	int		 correct, failed;	/* correct -1: not yet scored */
	double		 agreement, cost, ms;
	long		 in, out;
};

/* the results table of rk-bench; it must not move while it is open */
struct rk_results {
	struct rk_db	 db;
	sqlite3_stmt	*get, *put, *rescore;
};

int	 rk_results_open(struct rk_results *, const char *path,
	    struct rk_error *);
void	 rk_results_close(struct rk_results *);
int	 rk_results_get(struct rk_results *, struct rk_result *);
int	 rk_results_put(struct rk_results *, const struct rk_result *);
int	 rk_results_rescored(struct rk_results *, const struct rk_result *,
	    size_t);
int	 rk_results_forget(struct rk_results *, const struct rk_result *);

struct rk_bench_stats {
	long	questions, correct, failed;
	double	accuracy, lo, hi;	/* and its 95 % interval (Wilson) */
	double	agreement, in, out;	/* means per question */
	double	cost, p50, p95;
};

struct rk_prices;

void	 rk_bench_usage(const json_t *samples, const struct rk_prices *,
	    struct rk_result *);
void	 rk_bench_stats(const struct rk_result *, size_t n,
	    struct rk_bench_stats *);
void	 rk_bench_print(FILE *, int fmt, const char *profile,
	    const struct rk_bench_stats *, int voted);

/*
 * runs.c: questions through one pipeline of the filters, up to jobs at a
 * time (rk-bench, rk-compare).  A task is a question for a profile or
 * protocol (kind "profile" or "protocol"); one marked skip is done
 * already.  finished() hears of each task done: its record (the vote's,
 * with samples), the samples and the milliseconds it took; a non-zero
 * return (e set) stops the run.
 */
struct rk_sbuf;

struct rk_contenders {
	char		**name;
	const char	**kind;
	size_t		  n;
	long		  steps;	/* the most any of them takes */
};

int	 rk_runs_profiles(struct rk_contenders *, const char *list,
	    struct rk_error *);
void	 rk_runs_profiles_free(struct rk_contenders *);

struct rk_run_task {
	const char	*question, *profile, *kind;
	int		 skip;
	json_t		*rec, *samples;		/* while in flight */
	long		 sent;
	double		 t0;
};

struct rk_runs {
	struct rk_run_task	*tasks;
	size_t			 ntasks;
	long			 jobs;
	const struct rk_vote_opts *vote;
	int			 mock;
	int			(*finished)(void *arg, size_t task,
				    const json_t *rec, const json_t *samples,
				    double ms, struct rk_error *);
	void			*arg;
	size_t			 done;		/* tasks done, skipped too */
	/* the scheduler's own */
	struct rk_chain		 chain;
	struct rk_sbuf		*outq, *inq;
	size_t			 next, inflight;
	json_t			*by_group;	/* sample group -> task */
};

int	 rk_runs_run(struct rk_runs *, long steps, struct rk_error *);

/*
 * report.c: runs as plain text for people.  Nothing here changes a record.
 */

#include <stdio.h>

#include <jansson.h>

#include "store/store.h"

struct rk_style {
	int	width;		/* wrap lines at this many columns */
	int	bold;		/* bold headers: a terminal, no NO_COLOR */
};

/* the style for fp: its width and boldness if it is a terminal */
void	 rk_style_for(FILE *, struct rk_style *);

/* the whole report of one run */
void	 rk_report(FILE *, const json_t *rec, const struct rk_style *);

/* one line of a listing, and the header line above the first */
void	 rk_report_header(FILE *, const struct rk_style *);
void	 rk_report_row(FILE *, const struct rk_run *,
	    const struct rk_style *);

/* a listing line as a JSON object */
json_t	*rk_run_json(const struct rk_run *);

/* batch.c: a file of questions as the records of a batch */

/* an item as text: a string as it is, a whole number in decimal */
const char *rk_batch_item_text(const json_t *item, char *buf, size_t size);
/* rec with the batch (unless NULL) and the item set; returns rec */
json_t	*rk_batch_tag(json_t *rec, const char *batch, json_t *item);
/*
 * The record of line lineno of a question file, tagged with the batch and
 * the item: a text line (jsonl 0) is the query; a JSON object (jsonl 1)
 * {"id":..,"question":"..", ...} gives the item (lineno without an id)
 * and the query, its other members go along.  *item is set either way (a
 * new reference).  0, or RK_EXIT_INPUT with *rec NULL, *code the error
 * code ("not-object", "bad-id", "bad-field", "no-question") and e->msg
 * what is wrong.
 */
int	 rk_batch_question(const char *batch, int jsonl, const char *line,
	    size_t len, size_t lineno, json_t **rec, json_t **item,
	    const char **code, struct rk_error *e);

#endif
