/*
 * Loading and checking protocol and profile definitions.  Every mistake a
 * user can make in a file is reported as file:line:col before anything
 * runs: unknown or missing keys, bad values, references to steps or
 * protocols that do not exist, dependency cycles, bad conditions, unknown
 * template variables.
 */
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/rk.h"
#include "think/think.h"
#include "think/ydoc.h"

static const char *actions[] = { "generate", "analyze", "synthesize",
    "validate", "critique", "decide", "cross_reference", "conclude", NULL };
static const char *strategies[] = { "expansive", "deductive", "analytical",
    "adversarial", "verification", "decision", "empirical", NULL };

struct ctx {
	const char	*file;
	char		*err;
};

static int
bad(struct ctx *x, const struct ynode *n, const char *fmt, ...)
{
	va_list ap;
	char *msg;

	if (x->err != NULL)
		return -1;
	va_start(ap, fmt);
	rk_vasprintf(&msg, fmt, ap);
	va_end(ap);
	rk_asprintf(&x->err, "%s:%d:%d: %s", x->file, n ? n->line : 1,
	    n ? n->col : 1, msg);
	free(msg);
	return -1;
}

static int
in_list(const char *s, const char **list)
{
	for (; *list; list++)
		if (strcmp(s, *list) == 0)
			return 1;
	return 0;
}

int
rk_valid_name(const char *s)
{
	size_t n = strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789_-");

	return n > 0 && n <= 64 && s[0] != '-' && strlen(s) == n;
}

/* Keys a mapping may have; anything else is a typo worth reporting. */
static int
check_keys(struct ctx *x, const struct ynode *map, const char **allowed,
    const char *what)
{
	for (const struct ynode *n = map->child; n; n = n->next)
		if (!in_list(n->key, allowed)) {
			struct ynode at = { .line = n->key_line,
			    .col = n->key_col };

			return bad(x, &at, "unknown key '%s' in %s", n->key,
			    what);
		}
	return 0;
}

/* The number of items of a sequence or mapping. */
static size_t
items(const struct ynode *n)
{
	size_t i = 0;

	for (n = n->child; n != NULL; n = n->next)
		i++;
	return i;
}

static int
want_map(struct ctx *x, const struct ynode *n, const char *what)
{
	if (n == NULL || n->kind != YMAP)
		return bad(x, n, "%s must be a mapping", what);
	return 0;
}

static const struct ynode *
scalar(struct ctx *x, const struct ynode *map, const char *key, int required)
{
	const struct ynode *n = ymap_get(map, key);

	if (n == NULL) {
		if (required)
			bad(x, map, "missing '%s'", key);
		return NULL;
	}
	if (n->kind != YSCALAR) {
		bad(x, n, "'%s' must be a single value", key);
		return NULL;
	}
	return n;
}

static char *
get_str(struct ctx *x, const struct ynode *map, const char *key,
    int required, const char *dflt)
{
	const struct ynode *n = scalar(x, map, key, required);

	if (n == NULL)
		return dflt ? rk_xstrdup(dflt) : NULL;
	return rk_xstrdup(n->value);
}

static char *
get_name(struct ctx *x, const struct ynode *map, const char *key,
    int required)
{
	const struct ynode *n = scalar(x, map, key, required);

	if (n == NULL)
		return NULL;
	if (!rk_valid_name(n->value)) {
		bad(x, n, "'%s' must be a name of a-z, 0-9, '_' and '-': '%s'",
		    key, n->value);
		return NULL;
	}
	return rk_xstrdup(n->value);
}

static double
get_real(struct ctx *x, const struct ynode *map, const char *key,
    double lo, double hi, double dflt)
{
	const struct ynode *n = scalar(x, map, key, 0);
	double v;

	if (n == NULL)
		return dflt;
	if (rk_parse_double(n->value, &v) == -1 || v < lo || v > hi) {
		bad(x, n, "'%s' must be a number from %g to %g", key, lo, hi);
		return dflt;
	}
	return v;
}

static long
get_long(struct ctx *x, const struct ynode *map, const char *key, long lo,
    long hi, long dflt)
{
	const struct ynode *n = scalar(x, map, key, 0);
	long v;

	if (n == NULL)
		return dflt;
	if (rk_parse_uint(n->value, hi, &v) == -1 || v < lo) {
		bad(x, n, "'%s' must be a whole number from %ld to %ld", key,
		    lo, hi);
		return dflt;
	}
	return v;
}

static int
get_bool(struct ctx *x, const struct ynode *map, const char *key)
{
	const struct ynode *n = scalar(x, map, key, 0);

	if (n == NULL)
		return 0;
	if (strcmp(n->value, "true") == 0)
		return 1;
	if (strcmp(n->value, "false") != 0)
		bad(x, n, "'%s' must be true or false", key);
	return 0;
}

/* Block scalars start on the line after their indicator. */
static struct tnode *
get_template(struct ctx *x, const struct ynode *map, const char *key,
    int required, char **src)
{
	const struct ynode *n = scalar(x, map, key, required);
	struct tnode *t;
	char *err;

	*src = NULL;
	if (n == NULL)
		return NULL;
	t = tmpl_compile(n->value, n->line + n->block, n->block ? 1 : n->col,
	    &err);
	if (t == NULL) {
		if (err == NULL)	/* an empty template */
			bad(x, n, "'%s' must not be empty", key);
		else if (x->err == NULL)
			rk_asprintf(&x->err, "%s:%s", x->file, err);
		free(err);
		return NULL;
	}
	*src = rk_xstrdup(n->value);
	return t;
}

static enum out_kind
default_output(const char *action)
{
	if (strcmp(action, "generate") == 0 ||
	    strcmp(action, "critique") == 0 ||
	    strcmp(action, "cross_reference") == 0)
		return OUT_LIST;
	if (strcmp(action, "validate") == 0 || strcmp(action, "decide") == 0)
		return OUT_VERDICT;
	if (strcmp(action, "conclude") == 0)
		return OUT_ANSWER;
	return OUT_TEXT;
}

static void
free_step(struct rk_step *s)
{
	free(s->id);
	free(s->action);
	free(s->prompt_src);
	free(s->compact_src);
	tmpl_free(s->prompt);
	tmpl_free(s->compact);
	for (size_t i = 0; i < s->ndeps; i++)
		free(s->depends_on[i]);
	free(s->depends_on);
}

static void
free_protocol(struct rk_protocol *p)
{
	if (p == NULL)
		return;
	for (size_t i = 0; i < p->nsteps; i++)
		free_step(&p->steps[i]);
	free(p->steps);
	free(p->id);
	free(p->name);
	free(p->description);
	free(p->strategy);
	free(p->input);
	free(p->file);
	free(p->system_src);
	tmpl_free(p->system);
	free(p);
}

static int
load_deps(struct ctx *x, const struct ynode *sn, struct rk_step *s)
{
	const struct ynode *d = ymap_get(sn, "depends_on"), *n;

	if (d == NULL)
		return 0;
	if (d->kind == YSCALAR) {
		s->depends_on = rk_xmalloc(sizeof(char *));
		s->depends_on[s->ndeps++] = rk_xstrdup(d->value);
		return 0;
	}
	if (d->kind != YSEQ)
		return bad(x, d, "'depends_on' must be a step id or a list");
	s->depends_on = rk_xmalloc(items(d) * sizeof(char *));
	for (n = d->child; n; n = n->next) {
		if (n->kind != YSCALAR)
			return bad(x, n, "'depends_on' items must be step ids");
		s->depends_on[s->ndeps++] = rk_xstrdup(n->value);
	}
	return 0;
}

static int
load_step(struct ctx *x, const struct ynode *sn, struct rk_step *s)
{
	static const char *keys[] = { "id", "action", "output", "prompt",
	    "compact", "depends_on", "min_confidence", "min_items",
	    "max_items", "max_tokens", "temperature", "optional", NULL };
	const struct ynode *n;

	if (want_map(x, sn, "a step") == -1 ||
	    check_keys(x, sn, keys, "a step") == -1)
		return -1;
	s->id = get_name(x, sn, "id", 1);
	s->action = get_str(x, sn, "action", 1, NULL);
	if (s->action != NULL && !in_list(s->action, actions))
		return bad(x, ymap_get(sn, "action"), "unknown action '%s' "
		    "(generate, analyze, synthesize, validate, critique, "
		    "decide, cross_reference, conclude)", s->action);
	s->output = s->action ? default_output(s->action) : OUT_TEXT;
	if ((n = scalar(x, sn, "output", 0)) != NULL &&
	    rk_out_kind_parse(n->value, &s->output) == -1)
		return bad(x, n, "'output' must be list, text or verdict");
	s->prompt = get_template(x, sn, "prompt", 1, &s->prompt_src);
	s->compact = get_template(x, sn, "compact", 0, &s->compact_src);
	s->min_confidence = get_real(x, sn, "min_confidence", 0, 1,
	    RK_MIN_CONFIDENCE);
	s->min_items = get_long(x, sn, "min_items", 1, 100, 3);
	s->max_items = get_long(x, sn, "max_items", 1, 100, 10);
	s->max_tokens = get_long(x, sn, "max_tokens", 1, 1000000, 800);
	s->temperature = get_real(x, sn, "temperature", 0, 2, RK_TEMPERATURE);
	s->optional = get_bool(x, sn, "optional");
	if (x->err == NULL && s->min_items > s->max_items)
		return bad(x, ymap_get(sn, "min_items"),
		    "'min_items' is above 'max_items'");
	if (load_deps(x, sn, s) == -1)
		return -1;
	return x->err ? -1 : 0;
}

static int
step_index(const struct rk_protocol *p, const char *id, size_t upto)
{
	for (size_t i = 0; i < upto; i++)
		if (p->steps[i].id && strcmp(p->steps[i].id, id) == 0)
			return i;
	return -1;
}

/* DFS over depends_on: 0 white, 1 on the stack, 2 done. */
static int
has_cycle(const struct rk_protocol *p, size_t i, int *color)
{
	color[i] = 1;
	for (size_t d = 0; d < p->steps[i].ndeps; d++) {
		int j = step_index(p, p->steps[i].depends_on[d], p->nsteps);

		if (j < 0 || color[j] == 2)
			continue;
		if (color[j] == 1 || has_cycle(p, j, color))
			return 1;
	}
	color[i] = 2;
	return 0;
}

static int
check_deps(struct ctx *x, const struct rk_protocol *p, const struct ynode *seq)
{
	const struct ynode *sn = seq->child;
	int *color = calloc(p->nsteps, sizeof(int));

	if (color == NULL)
		return bad(x, seq, "out of memory");
	for (size_t i = 0; i < p->nsteps; i++, sn = sn->next) {
		const struct ynode *at = ymap_get(sn, "depends_on");

		if (has_cycle(p, i, color)) {
			free(color);
			return bad(x, at, "step '%s': dependency cycle",
			    p->steps[i].id);
		}
		for (size_t d = 0; d < p->steps[i].ndeps; d++) {
			const char *dep = p->steps[i].depends_on[d];

			if (step_index(p, dep, p->nsteps) < 0) {
				free(color);
				return bad(x, at, "step '%s' depends on "
				    "unknown step '%s'", p->steps[i].id, dep);
			}
			if (step_index(p, dep, i) < 0) {
				free(color);
				return bad(x, at, "step '%s' depends on '%s', "
				    "which runs after it", p->steps[i].id, dep);
			}
		}
	}
	free(color);
	return 0;
}

struct known_arg {
	const struct rk_protocol	*p;
	const struct rk_step		*s;
};

/* What a step's template may name; see rk-protocol(5). */
static int
known_var(void *arg, const char *name)
{
	const struct known_arg *k = arg;

	if (strcmp(name, "question") == 0 || strcmp(name, "context") == 0 ||
	    strcmp(name, "input") == 0 || strcmp(name, k->p->input) == 0 ||
	    strcmp(name, "findings") == 0)
		return 1;
	if (k->s == NULL)
		return 0;
	if (strcmp(name, "min_items") == 0 || strcmp(name, "max_items") == 0)
		return 1;
	for (size_t i = 0; i < k->s->ndeps; i++)
		if (strcmp(name, k->s->depends_on[i]) == 0)
			return 1;
	return 0;
}

static int
check_vars(struct ctx *x, const struct rk_protocol *p, const struct tnode *t,
    const struct rk_step *s)
{
	struct known_arg k = { p, s };
	const char *name;
	int line, col;

	if (tmpl_check(t, known_var, &k, &name, &line, &col) == 0)
		return 0;
	struct ynode at = { .line = line, .col = col };
	if (s != NULL && step_index(p, name, p->nsteps) >= 0)
		return bad(x, &at, "step '%s' uses '{{%s}}' but does not "
		    "depend on it", s->id, name);
	return bad(x, &at, "unknown template variable '{{%s}}'", name);
}

static int
load_steps(struct ctx *x, struct rk_protocol *p, const struct ynode *seq)
{
	size_t n;

	if (seq == NULL || seq->kind != YSEQ || seq->child == NULL)
		return bad(x, seq, "'steps' must be a non-empty list");
	if ((n = items(seq)) > RK_MAX_STEPS)
		return bad(x, seq, "more than %d steps", RK_MAX_STEPS);
	p->steps = calloc(n, sizeof(*p->steps));
	if (p->steps == NULL)
		return bad(x, seq, "out of memory");
	for (const struct ynode *s = seq->child; s; s = s->next) {
		struct rk_step *st = &p->steps[p->nsteps++];

		if (load_step(x, s, st) == -1)
			return -1;
		if (step_index(p, st->id, p->nsteps - 1) >= 0)
			return bad(x, ymap_get(s, "id"), "duplicate step id "
			    "'%s'", st->id);
	}
	if (check_deps(x, p, seq) == -1)
		return -1;
	for (size_t i = 0; i < p->nsteps; i++)
		if (check_vars(x, p, p->steps[i].prompt, &p->steps[i]) == -1 ||
		    check_vars(x, p, p->steps[i].compact, &p->steps[i]) == -1)
			return -1;
	return check_vars(x, p, p->system, NULL);
}

static const char *
base_name(const char *path, char *buf, size_t size)
{
	const char *b = strrchr(path, '/');
	char *dot;

	strlcpy(buf, b ? b + 1 : path, size);
	if ((dot = strrchr(buf, '.')) != NULL)
		*dot = '\0';
	return buf;
}

static struct rk_protocol *
load_protocol(struct ctx *x, const struct ynode *root)
{
	static const char *keys[] = { "id", "name", "version", "description",
	    "strategy", "input", "system", "min_confidence", "steps", NULL };
	struct rk_protocol *p;
	char stem[256];

	if (want_map(x, root, "a protocol file") == -1 ||
	    check_keys(x, root, keys, "a protocol") == -1)
		return NULL;
	p = rk_xmalloc(sizeof(*p));
	memset(p, 0, sizeof(*p));
	p->file = rk_xstrdup(x->file);
	p->id = get_name(x, root, "id", 1);
	p->name = get_str(x, root, "name", 0, p->id ? p->id : "");
	p->description = get_str(x, root, "description", 1, NULL);
	p->strategy = get_str(x, root, "strategy", 0, "analytical");
	p->input = get_name(x, root, "input", 0);
	if (p->input == NULL && x->err == NULL)
		p->input = rk_xstrdup("query");
	p->version = get_long(x, root, "version", 1, 1000000, 1);
	p->min_confidence = get_real(x, root, "min_confidence", 0, 1,
	    RK_MIN_CONFIDENCE);
	if (x->err == NULL && !in_list(p->strategy, strategies))
		bad(x, ymap_get(root, "strategy"), "unknown strategy '%s'",
		    p->strategy);
	if (x->err == NULL && strcmp(p->id, base_name(x->file, stem,
	    sizeof(stem))) != 0)
		bad(x, ymap_get(root, "id"), "protocol '%s' must be in a file "
		    "named %s.yaml", p->id, p->id);
	if (x->err == NULL)
		p->system = get_template(x, root, "system", 0, &p->system_src);
	if (x->err == NULL)
		load_steps(x, p, ymap_get(root, "steps"));
	if (x->err != NULL) {
		free_protocol(p);
		return NULL;
	}
	return p;
}

/* Conditions: "always", "confidence OP NUMBER", "verdict ==|!= WORD". */
int
rk_cond_parse(const char *text, struct rk_cond *c)
{
	char subj[16], op[3], val[32];
	int n = 0;

	memset(c, 0, sizeof(*c));
	c->kind = C_ALWAYS;
	c->text = rk_xstrdup(text);
	if (strcmp(text, "always") == 0)
		return 0;
	if (sscanf(text, " %15[a-z] %2[<>=!] %31s %n", subj, op, val,
	    &n) != 3 || text[n] != '\0')
		return -1;
	strlcpy(c->op, op, sizeof(c->op));
	if (strcmp(subj, "confidence") == 0) {
		c->kind = C_CONF;
		if (!in_list(op, (const char *[]){ "<", "<=", ">", ">=", NULL })
		    || rk_parse_double(val, &c->value) == -1 || c->value < 0 ||
		    c->value > 1)
			return -1;
		return 0;
	}
	if (strcmp(subj, "verdict") == 0) {
		c->kind = C_VERDICT;
		c->verdict = rk_xstrdup(val);
		if (!in_list(op, (const char *[]){ "==", "!=", NULL }) ||
		    !in_list(val, (const char *[]){ "pass", "conditional",
		    "fail", NULL }))
			return -1;
		return 0;
	}
	return -1;
}

/* conf < 0 means no step has run yet: "confidence <" holds, ">" not. */
int
rk_cond_eval(const struct rk_cond *c, double conf, const char *verdict)
{
	int eq;

	switch (c->kind) {
	case C_ALWAYS:
		return 1;
	case C_CONF:
		if (conf < 0)
			return c->op[0] == '<';
		if (strcmp(c->op, "<") == 0)
			return conf < c->value;
		if (strcmp(c->op, "<=") == 0)
			return conf <= c->value;
		if (strcmp(c->op, ">") == 0)
			return conf > c->value;
		return conf >= c->value;
	case C_VERDICT:
		eq = verdict != NULL && strcmp(verdict, c->verdict) == 0;
		return c->op[0] == '=' ? eq : !eq;
	}
	return 0;
}

static void
free_profile(struct rk_profile *p)
{
	if (p == NULL)
		return;
	for (size_t i = 0; i < p->nchain; i++) {
		free(p->chain[i].protocol);
		free(p->chain[i].input);
		free(p->chain[i].when.text);
		free(p->chain[i].when.verdict);
	}
	free(p->chain);
	free(p->id);
	free(p->name);
	free(p->description);
	free(p->file);
	free(p);
}

static int
load_link(struct ctx *x, const struct ynode *ln, struct rk_link *l)
{
	static const char *keys[] = { "protocol", "input", "when",
	    "temperature", "max_tokens", "min_confidence", NULL };
	const struct ynode *w;

	if (want_map(x, ln, "a chain link") == -1 ||
	    check_keys(x, ln, keys, "a chain link") == -1)
		return -1;
	l->protocol = get_name(x, ln, "protocol", 1);
	l->input = get_str(x, ln, "input", 0, "question");
	l->temperature = get_real(x, ln, "temperature", 0, 2, NAN);
	l->max_tokens = get_long(x, ln, "max_tokens", 1, 1000000, 0);
	l->min_confidence = get_real(x, ln, "min_confidence", 0, 1, NAN);
	if ((w = scalar(x, ln, "when", 0)) != NULL) {
		if (rk_cond_parse(w->value, &l->when) == -1)
			return bad(x, w, "bad condition '%s' (expected "
			    "'confidence < 0.9', 'verdict == fail' or "
			    "'always')", w->value);
	} else
		rk_cond_parse("always", &l->when);
	return x->err ? -1 : 0;
}

static struct rk_profile *
load_profile(struct ctx *x, const struct ynode *pn)
{
	static const char *keys[] = { "id", "name", "description",
	    "min_confidence", "token_budget", "chain", NULL };
	const struct ynode *chain;
	struct rk_profile *p;
	size_t n;

	if (want_map(x, pn, "a profile") == -1 ||
	    check_keys(x, pn, keys, "a profile") == -1)
		return NULL;
	p = rk_xmalloc(sizeof(*p));
	memset(p, 0, sizeof(*p));
	p->file = rk_xstrdup(x->file);
	p->id = get_name(x, pn, "id", 1);
	p->name = get_str(x, pn, "name", 0, p->id ? p->id : "");
	p->description = get_str(x, pn, "description", 1, NULL);
	p->min_confidence = get_real(x, pn, "min_confidence", 0, 1,
	    RK_MIN_CONFIDENCE);
	p->token_budget = get_long(x, pn, "token_budget", 1, 100000000, 0);
	chain = ymap_get(pn, "chain");
	if (x->err == NULL && (chain == NULL || chain->kind != YSEQ ||
	    chain->child == NULL))
		bad(x, chain ? chain : pn, "'chain' must be a non-empty list");
	if (x->err == NULL && (n = items(chain)) > RK_MAX_LINKS)
		bad(x, chain, "more than %d links", RK_MAX_LINKS);
	if (x->err == NULL) {
		p->chain = rk_xmalloc(n * sizeof(*p->chain));
		memset(p->chain, 0, n * sizeof(*p->chain));
		for (const struct ynode *l = chain->child; l; l = l->next)
			if (load_link(x, l, &p->chain[p->nchain++]) == -1)
				break;
	}
	if (x->err != NULL) {
		free_profile(p);
		return NULL;
	}
	return p;
}

struct rk_catalog *
rk_catalog_new(void)
{
	struct rk_catalog *c = rk_xmalloc(sizeof(*c));
	const char *path = rk_getenv("RK_PROTOCOL_PATH");
	char *dir, *exe;

	memset(c, 0, sizeof(*c));
	c->dirs = rk_xmalloc(64 * sizeof(char *));
	if (path != NULL) {
		char *copy = rk_xstrdup(path), *p = copy, *tok;

		while ((tok = strsep(&p, ":")) != NULL && c->ndirs < 64)
			if (*tok)
				c->dirs[c->ndirs++] = rk_xstrdup(tok);
		free(copy);
		return c;
	}
	if ((exe = rk_exe_dir()) != NULL) {
		rk_asprintf(&dir, "%s/../share/reasonkit/protocols", exe);
		c->dirs[c->ndirs++] = dir;
		free(exe);
	}
	c->dirs[c->ndirs++] = rk_xdg_path("CONFIG", "protocols");
	return c;
}

void
rk_catalog_free(struct rk_catalog *c)
{
	if (c == NULL)
		return;
	for (size_t i = 0; i < c->nprotocols; i++)
		free_protocol(c->protocols[i]);
	for (size_t i = 0; i < c->nprofiles; i++)
		free_profile(c->profiles[i]);
	for (size_t i = 0; i < c->ndirs; i++)
		free(c->dirs[i]);
	free(c->protocols);
	free(c->profiles);
	free(c->dirs);
	free(c);
}

/* A later definition of the same id replaces the earlier one. */
static void
add_protocol(struct rk_catalog *c, struct rk_protocol *p)
{
	for (size_t i = 0; i < c->nprotocols; i++)
		if (strcmp(c->protocols[i]->id, p->id) == 0) {
			free_protocol(c->protocols[i]);
			c->protocols[i] = p;
			return;
		}
	c->protocols = rk_xrealloc(c->protocols,
	    (c->nprotocols + 1) * sizeof(p));
	c->protocols[c->nprotocols++] = p;
}

static void
add_profile(struct rk_catalog *c, struct rk_profile *p)
{
	for (size_t i = 0; i < c->nprofiles; i++)
		if (strcmp(c->profiles[i]->id, p->id) == 0) {
			free_profile(c->profiles[i]);
			c->profiles[i] = p;
			return;
		}
	c->profiles = rk_xrealloc(c->profiles, (c->nprofiles + 1) * sizeof(p));
	c->profiles[c->nprofiles++] = p;
}

static int
load_profiles(struct ctx *x, struct rk_catalog *c, const struct ynode *root)
{
	static const char *keys[] = { "profiles", NULL };
	const struct ynode *seq = ymap_get(root, "profiles");

	if (check_keys(x, root, keys, "a profiles file") == -1)
		return -1;
	if (seq == NULL || seq->kind != YSEQ)
		return bad(x, seq ? seq : root, "'profiles' must be a list");
	if (items(seq) > RK_MAX_PROFILES)
		return bad(x, seq, "more than %d profiles", RK_MAX_PROFILES);
	for (const struct ynode *n = seq->child; n; n = n->next) {
		struct rk_profile *p = load_profile(x, n);

		if (p == NULL)
			return -1;
		for (size_t i = 0; i < c->nprofiles; i++)
			if (strcmp(c->profiles[i]->id, p->id) == 0 &&
			    strcmp(c->profiles[i]->file, p->file) == 0) {
				free_profile(p);
				return bad(x, ymap_get(n, "id"), "duplicate "
				    "profile id");
			}
		add_profile(c, p);
	}
	return 0;
}

/* err gets msg, which is freed; returns -1 */
static int
report(struct rk_error *err, char *msg)
{
	rk_error_set(err, RK_EXIT_CONFIG, "%s", msg);
	free(msg);
	return -1;
}

/* A file with a top-level 'profiles' key holds profiles; else a protocol. */
int
rk_catalog_load_file(struct rk_catalog *c, const char *path,
    struct rk_error *err)
{
	struct ctx x = { path, NULL };
	struct ynode *root = ydoc_load(path, &x.err);
	struct rk_protocol *p;

	if (root == NULL)
		return report(err, x.err);
	if (root->kind == YMAP && ymap_get(root, "profiles") != NULL)
		load_profiles(&x, c, root);
	else if ((p = load_protocol(&x, root)) != NULL)
		add_protocol(c, p);
	ydoc_free(root);
	return x.err ? report(err, x.err) : 0;
}

static int
is_yaml(const char *name)
{
	size_t n = strlen(name);

	return name[0] != '.' && ((n > 5 && strcmp(name + n - 5, ".yaml") == 0)
	    || (n > 4 && strcmp(name + n - 4, ".yml") == 0));
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every *.yaml in every directory, in order; a missing dir is no error. */
int
rk_catalog_load_all(struct rk_catalog *c, struct rk_error *err)
{
	for (size_t d = 0; d < c->ndirs; d++) {
		DIR *dp = opendir(c->dirs[d]);
		struct dirent *de;
		char **names = NULL;
		size_t n = 0;
		int rc = 0;

		if (dp == NULL)
			continue;
		while ((de = readdir(dp)) != NULL)
			if (is_yaml(de->d_name)) {
				names = rk_xrealloc(names, (n + 1) *
				    sizeof(char *));
				rk_asprintf(&names[n++], "%s/%s", c->dirs[d],
				    de->d_name);
			}
		closedir(dp);
		qsort(names, n, sizeof(char *), cmp_str);
		for (size_t i = 0; i < n; i++) {
			if (rc == 0 && rk_catalog_load_file(c, names[i], err))
				rc = -1;
			free(names[i]);
		}
		free(names);
		if (rc == -1)
			return -1;
	}
	return 0;
}

static struct rk_protocol *
loaded_protocol(const struct rk_catalog *c, const char *name)
{
	for (size_t i = 0; i < c->nprotocols; i++)
		if (strcmp(c->protocols[i]->id, name) == 0)
			return c->protocols[i];
	return NULL;
}

static struct rk_profile *
loaded_profile(const struct rk_catalog *c, const char *name)
{
	for (size_t i = 0; i < c->nprofiles; i++)
		if (strcmp(c->profiles[i]->id, name) == 0)
			return c->profiles[i];
	return NULL;
}

/* The file that defines protocol name, last on the path first, or NULL. */
static char *
protocol_file(const struct rk_catalog *c, const char *name)
{
	char *path;

	for (size_t d = c->ndirs; d-- > 0; ) {
		rk_asprintf(&path, "%s/%s.yaml", c->dirs[d], name);
		if (access(path, F_OK) == 0)
			return path;
		free(path);
	}
	return NULL;
}

/* The profiles.yaml of every directory, once. */
static int
load_profiles_files(struct rk_catalog *c, struct rk_error *err)
{
	char *path;
	int rc = 0;

	if (c->nprofiles > 0 || c->profiles_loaded)
		return 0;
	c->profiles_loaded = 1;
	for (size_t d = 0; d < c->ndirs && rc == 0; d++) {
		rk_asprintf(&path, "%s/profiles.yaml", c->dirs[d]);
		if (access(path, F_OK) == 0)
			rc = rk_catalog_load_file(c, path, err);
		free(path);
	}
	return rc;
}

int
rk_catalog_kind(struct rk_catalog *c, const char *name, struct rk_error *err)
{
	char *path;

	if (!rk_valid_name(name))
		return RK_KIND_NONE;
	if (loaded_protocol(c, name) != NULL)
		return RK_KIND_PROTOCOL;
	if ((path = protocol_file(c, name)) != NULL) {
		free(path);
		return RK_KIND_PROTOCOL;
	}
	if (load_profiles_files(c, err) == -1)
		return -1;
	return loaded_profile(c, name) ? RK_KIND_PROFILE : RK_KIND_NONE;
}

/* Levenshtein distance of two names, each at most 64 bytes. */
static size_t
distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), row[65], prev, cur;

	if (la > 64 || lb > 64)
		return SIZE_MAX;
	for (size_t j = 0; j <= lb; j++)
		row[j] = j;
	for (size_t i = 1; i <= la; i++) {
		prev = row[0];
		row[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			cur = prev + (a[i - 1] != b[j - 1]);
			if (row[j] + 1 < cur)
				cur = row[j] + 1;
			if (row[j - 1] + 1 < cur)
				cur = row[j - 1] + 1;
			prev = row[j];
			row[j] = cur;
		}
	}
	return row[lb];
}

struct near {
	const char	*name;
	char		 best[65];
	size_t		 dist;
};

/* A near miss is at most two edits away, and fewer than the name has. */
static void
consider(struct near *n, const char *cand)
{
	size_t d = distance(n->name, cand);

	if (d <= 2 && d < strlen(n->name) && (d < n->dist || (d == n->dist &&
	    strcmp(cand, n->best) < 0))) {
		n->dist = d;
		strlcpy(n->best, cand, sizeof(n->best));
	}
}

static void
near_protocols(const struct rk_catalog *c, struct near *n)
{
	for (size_t d = 0; d < c->ndirs; d++) {
		DIR *dp = opendir(c->dirs[d]);
		struct dirent *de;
		char stem[256];

		if (dp == NULL)
			continue;
		while ((de = readdir(dp)) != NULL) {
			size_t len = strlen(de->d_name);

			if (len <= 5 || len - 5 >= sizeof(stem) ||
			    strcmp(de->d_name + len - 5, ".yaml") != 0)
				continue;
			memcpy(stem, de->d_name, len - 5);
			stem[len - 5] = '\0';
			if (strcmp(stem, "profiles") != 0 &&
			    rk_valid_name(stem))
				consider(n, stem);
		}
		closedir(dp);
	}
}

/*
 * What to say of a name that is not a protocol (kind RK_KIND_PROTOCOL) or
 * not a profile: that it is the other kind, or the name it is near.
 */
static int
not_found(struct rk_catalog *c, const char *name, int kind,
    struct rk_error *err)
{
	const char *what = kind == RK_KIND_PROTOCOL ? "protocol" : "profile";
	struct near n = { name, "", SIZE_MAX };
	int other = rk_catalog_kind(c, name, NULL);

	if (kind == RK_KIND_PROTOCOL && other == RK_KIND_PROFILE)
		return rk_error_set(err, RK_EXIT_CONFIG, "%s is a profile, "
		    "not a protocol: use -p %s", name, name);
	if (kind == RK_KIND_PROFILE && other == RK_KIND_PROTOCOL)
		return rk_error_set(err, RK_EXIT_CONFIG, "%s is a protocol, "
		    "not a profile", name);
	if (kind == RK_KIND_PROTOCOL)
		near_protocols(c, &n);
	else
		for (size_t i = 0; i < c->nprofiles; i++)
			consider(&n, c->profiles[i]->id);
	if (n.dist != SIZE_MAX)
		return rk_error_set(err, RK_EXIT_CONFIG, "unknown %s '%s': did "
		    "you mean %s?", what, name, n.best);
	return rk_error_set(err, RK_EXIT_CONFIG, "unknown %s '%s' (rk-parse -l "
	    "lists them)", what, name);
}

struct rk_protocol *
rk_catalog_protocol(struct rk_catalog *c, const char *name,
    struct rk_error *err)
{
	struct rk_protocol *p;
	char *path;
	int rc;

	if (!rk_valid_name(name)) {
		rk_error_set(err, RK_EXIT_CONFIG, "bad protocol name '%s'",
		    name);
		return NULL;
	}
	if ((p = loaded_protocol(c, name)) != NULL)
		return p;
	if ((path = protocol_file(c, name)) == NULL) {
		not_found(c, name, RK_KIND_PROTOCOL, err);
		return NULL;
	}
	rc = rk_catalog_load_file(c, path, err);
	if (rc == 0 && (p = loaded_protocol(c, name)) == NULL)
		rk_error_set(err, RK_EXIT_CONFIG, "%s: not a protocol", path);
	free(path);
	return p;
}

/*
 * The conclusion to run after p alone, if p does not end with an answer of
 * its own and the catalog has one.
 */
struct rk_protocol *
rk_catalog_conclusion(struct rk_catalog *c, const struct rk_protocol *p)
{
	if (strcmp(p->id, RK_CONCLUDE) == 0 || (p->nsteps > 0 &&
	    p->steps[p->nsteps - 1].output == OUT_ANSWER))
		return NULL;
	return rk_catalog_protocol(c, RK_CONCLUDE, NULL);
}

static long
count_steps(const struct rk_protocol *p, int perf)
{
	long n = 0;

	for (size_t i = 0; p != NULL && i < p->nsteps; i++)
		n += !(perf && p->steps[i].optional);
	return n;
}

/*
 * The most steps a protocol (with its conclusion) or a profile can run:
 * the length of its pipeline.  kind says which name is, or is RK_KIND_NONE
 * for either; -1 with err set if there is none.
 */
long
rk_catalog_steps(struct rk_catalog *c, const char *name, int kind, int perf,
    struct rk_error *err)
{
	struct rk_protocol *p;
	struct rk_profile *f;
	long n = 0;

	if (kind == RK_KIND_NONE &&
	    (kind = rk_catalog_kind(c, name, err)) == -1)
		return -1;
	if (kind == RK_KIND_PROTOCOL) {
		if ((p = rk_catalog_protocol(c, name, err)) == NULL)
			return -1;
		return count_steps(p, perf) + count_steps(
		    rk_catalog_conclusion(c, p), perf);
	}
	if ((f = rk_catalog_profile(c, name, err)) == NULL)
		return -1;
	for (size_t i = 0; i < f->nchain; i++)
		n += count_steps(rk_catalog_protocol(c, f->chain[i].protocol,
		    NULL), perf);
	return n;
}

/* Resolve a link's input: "question", or "protocol.step" run earlier. */
static int
check_input(struct rk_catalog *c, const struct rk_profile *p, size_t i,
    struct rk_error *err)
{
	const char *in = p->chain[i].input, *dot = strchr(in, '.');
	char proto[65];

	if (strcmp(in, "question") == 0)
		return 0;
	if (dot == NULL || (size_t)(dot - in) >= sizeof(proto))
		goto bad;
	memcpy(proto, in, dot - in);
	proto[dot - in] = '\0';
	for (size_t j = 0; j < i; j++) {
		struct rk_protocol *pr;

		if (strcmp(p->chain[j].protocol, proto) != 0)
			continue;
		if ((pr = rk_catalog_protocol(c, proto, err)) == NULL)
			return -1;
		if (rk_protocol_step(pr, dot + 1) != NULL)
			return 0;
	}
bad:
	rk_error_set(err, RK_EXIT_CONFIG, "%s: profile '%s', link %zu: input "
	    "'%s' is not 'question' or protocol.step of an earlier link",
	    p->file, p->id, i + 1, in);
	return -1;
}

int
rk_catalog_check_profile(struct rk_catalog *c, struct rk_profile *p,
    struct rk_error *err)
{
	for (size_t i = 0; i < p->nchain; i++) {
		struct rk_error e;

		if (rk_catalog_protocol(c, p->chain[i].protocol, &e) == NULL) {
			rk_error_set(err, e.code, "%s: profile '%s': %s",
			    p->file, p->id, e.msg);
			return -1;
		}
		if (check_input(c, p, i, err) == -1)
			return -1;
	}
	return 0;
}

struct rk_profile *
rk_catalog_profile(struct rk_catalog *c, const char *name,
    struct rk_error *err)
{
	struct rk_profile *p;

	if (!rk_valid_name(name)) {
		rk_error_set(err, RK_EXIT_CONFIG, "bad profile name '%s'",
		    name);
		return NULL;
	}
	if (load_profiles_files(c, err) == -1)
		return NULL;
	if ((p = loaded_profile(c, name)) == NULL) {
		not_found(c, name, RK_KIND_PROFILE, err);
		return NULL;
	}
	return !c->lazy && rk_catalog_check_profile(c, p, err) ? NULL : p;
}

const struct rk_step *
rk_protocol_step(const struct rk_protocol *p, const char *id)
{
	int i = step_index(p, id, p->nsteps);

	return i < 0 ? NULL : &p->steps[i];
}

static json_t *
str_array(char **v, size_t n)
{
	json_t *a = json_array();

	for (size_t i = 0; i < n; i++)
		json_array_append_new(a, json_string(v[i]));
	return a;
}

json_t *
rk_protocol_json(const struct rk_protocol *p)
{
	json_t *steps = json_array();

	for (size_t i = 0; i < p->nsteps; i++) {
		const struct rk_step *s = &p->steps[i];
		json_t *o = json_pack("{s:s, s:s, s:s, s:o, s:f, s:I, s:f, s:b,"
		    " s:s}", "id", s->id, "action", s->action, "output",
		    rk_out_kind_name(s->output), "depends_on",
		    str_array(s->depends_on, s->ndeps), "min_confidence",
		    s->min_confidence, "max_tokens", (json_int_t)s->max_tokens,
		    "temperature", s->temperature, "optional", s->optional,
		    "prompt", s->prompt_src);

		if (s->output == OUT_LIST) {
			json_object_set_new(o, "min_items",
			    json_integer(s->min_items));
			json_object_set_new(o, "max_items",
			    json_integer(s->max_items));
		}
		if (s->compact_src != NULL)
			json_object_set_new(o, "compact",
			    json_string(s->compact_src));
		json_array_append_new(steps, o);
	}
	return json_pack("{s:s, s:s, s:I, s:s, s:s, s:s, s:f, s:s?, s:s, s:o}",
	    "id", p->id, "name", p->name, "version", (json_int_t)p->version,
	    "description", p->description, "strategy", p->strategy, "input",
	    p->input, "min_confidence", p->min_confidence, "system",
	    p->system_src, "file", p->file, "steps", steps);
}

json_t *
rk_profile_json(const struct rk_profile *p)
{
	json_t *chain = json_array();

	for (size_t i = 0; i < p->nchain; i++) {
		const struct rk_link *l = &p->chain[i];
		json_t *o = json_pack("{s:s, s:s, s:s}", "protocol",
		    l->protocol, "input", l->input, "when", l->when.text);

		if (!isnan(l->temperature))
			json_object_set_new(o, "temperature",
			    json_real(l->temperature));
		if (l->max_tokens > 0)
			json_object_set_new(o, "max_tokens",
			    json_integer(l->max_tokens));
		if (!isnan(l->min_confidence))
			json_object_set_new(o, "min_confidence",
			    json_real(l->min_confidence));
		json_array_append_new(chain, o);
	}
	return json_pack("{s:s, s:s, s:s, s:f, s:I, s:s, s:o}", "id", p->id,
	    "name", p->name, "description", p->description, "min_confidence",
	    p->min_confidence, "token_budget", (json_int_t)p->token_budget,
	    "file", p->file, "chain", chain);
}
