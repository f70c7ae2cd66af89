/*
 * Records taken lightly.  Records grow to tens of kilobytes over a run
 * while each stage changes a few small members, so a stage parses only the
 * members it reads and copies the rest of the line as it came.  The line
 * is validated as strictly as jansson would parse it, and the spans of its
 * members (and of its steps, when they are read) noted in the same pass
 * (jvalid.c); anything unusual is left to the full parse.
 */
#include <stdlib.h>
#include <string.h>

#include "core/rk.h"

/* Spans at most this deep: the record's members, steps, their members. */
#define STEP_MEMBER_DEPTH	3
#define LIGHT_SPANS		512	/* of them held on the stack */

static const struct rk_jspan *
member(const struct rk_jspan *m, size_t n, const char *key)
{
	size_t klen = strlen(key);

	for (size_t i = 0; i < n; i++)
		if (m[i].keylen == klen && memcmp(m[i].key, key, klen) == 0)
			return &m[i];
	return NULL;
}

/* The value in the span m of s, which rk_json_scan() has validated. */
static json_t *
parse_span(const char *s, const struct rk_jspan *m)
{
	json_t *v = rk_json_build(s + m->vstart, m->vend - m->vstart);

	return v != NULL ? v : json_loadb(s + m->vstart, m->vend - m->vstart,
	    JSON_DECODE_ANY, NULL);
}

/* The last element's end in the array s[start..end), or start+1 if empty. */
static size_t
array_end(const char *s, size_t start, size_t end, int *empty)
{
	size_t i = end - 1;	/* the ']' */

	while (i > start && (s[i - 1] == ' ' || s[i - 1] == '\n' ||
	    s[i - 1] == '\t' || s[i - 1] == '\r'))
		i--;
	*empty = s[i - 1] == '[';
	return i;
}

/* Past the span sp[i] and those inside its value. */
static size_t
next_span(const struct rk_jspan *sp, size_t n, size_t i)
{
	size_t depth = sp[i].depth;

	while (++i < n && sp[i].depth > depth)
		;
	return i;
}

/*
 * The step whose span is sp[i], its members those after it up to end,
 * parsed with only the members named in keys; NULL if it is not an object
 * or a key has an escape (the full parse reads those).
 */
static json_t *
light_step(const char *s, const struct rk_jspan *sp, size_t i, size_t end,
    const char **keys)
{
	json_t *step, *v;

	if (s[sp[i].vstart] != '{')
		return NULL;
	for (size_t j = i + 1; j < end; j++)
		if (memchr(sp[j].key, '\\', sp[j].keylen) != NULL)
			return NULL;
	step = json_object();
	for (const char **k = keys; *k; k++) {
		const struct rk_jspan *p = member(sp + i + 1, end - i - 1, *k);

		if (p == NULL)
			continue;
		if ((v = parse_span(s, p)) == NULL) {
			json_decref(step);
			return NULL;
		}
		json_object_set_new(step, *k, v);
	}
	return step;
}

/* The steps whose spans are sp[i..end), each read as light_step says. */
static json_t *
light_steps(const char *s, const struct rk_jspan *sp, size_t i, size_t end,
    const char **keys)
{
	json_t *steps = json_array(), *st;

	while (i < end) {
		size_t next = next_span(sp, end, i);

		if ((st = light_step(s, sp, i, next, keys)) == NULL) {
			json_decref(steps);
			return NULL;
		}
		json_array_append_new(steps, st);
		i = next;
	}
	return steps;
}

/*
 * The member sp[i], whose own spans end at end, into l->rec: "steps" as
 * light_steps says (with step_keys NULL, not read: a placeholder keeps its
 * place).  -1 if the record must be parsed in full.
 */
static int
light_member(struct rk_light *l, const struct rk_jspan *sp, size_t i,
    size_t end, const char **step_keys)
{
	const struct rk_jspan *p = &sp[i];
	json_t *v;
	char key[64];

	if (l->n == RK_LIGHT_MEMBERS || p->keylen >= sizeof(key) ||
	    memchr(p->key, '\\', p->keylen) != NULL)
		return -1;
	l->m[l->n++] = *p;
	memcpy(key, p->key, p->keylen);
	key[p->keylen] = '\0';
	if (strcmp(key, "steps") != 0)
		v = parse_span(l->line, p);
	else if (l->line[p->vstart] != '[')
		return -1;	/* steps to replace, not to append to */
	else if (step_keys == NULL)
		v = json_true();
	else
		v = light_steps(l->line, sp, i + 1, end, step_keys);
	if (v == NULL)
		return -1;
	json_object_set_new(l->rec, key, v);
	return 0;
}

/* A deep copy of the record rec without its steps. */
static json_t *
copy_but_steps(const json_t *rec)
{
	json_t *copy = json_object(), *v;
	const char *key;

	json_object_foreach((json_t *)rec, key, v)
		if (strcmp(key, "steps") != 0)
			json_object_set_new(copy, key, json_deep_copy(v));
	return copy;
}

/*
 * Every member but "steps" parsed; of each step only step_keys (with
 * step_keys NULL, steps are not read).  The caller may read and change
 * l->rec, except that steps are read-only: new steps go in l->more_steps.
 * -1: the line is not one we can take lightly; parse it in full.
 */
int
rk_light_open(struct rk_light *l, const char *line, size_t len,
    const char **step_keys)
{
	struct rk_jspan stack[LIGHT_SPANS];
	struct rk_jspans sp = { .v = stack, .cap = LIGHT_SPANS,
	    .depth = step_keys ? STEP_MEMBER_DEPTH : 1 };
	size_t i, next;

	memset(l, 0, sizeof(*l));
	l->line = line;
	l->len = len;
	if (!rk_json_scan(line, len, &sp))
		return -1;
	l->rec = json_object();
	for (i = 0; i < sp.n; i = next) {
		next = next_span(sp.v, sp.n, i);
		if (sp.v[i].key == NULL ||	/* an array */
		    light_member(l, sp.v, i, next, step_keys) == -1)
			goto full;
	}
	rk_jspans_free(&sp);
	/* hand-made records get their envelope from the full reader */
	if (!json_is_string(json_object_get(l->rec, "id")) ||
	    json_object_get(l->rec, "rk") == NULL) {
		rk_light_close(l);
		return -1;
	}
	l->before = copy_but_steps(l->rec);
	return 0;
full:
	rk_jspans_free(&sp);
	rk_light_close(l);
	return -1;
}

static int
changed(const struct rk_light *l, const char *key)
{
	if (strcmp(key, "steps") == 0)
		return 0;	/* read-only here */
	return !json_equal(json_object_get(l->rec, key),
	    json_object_get(l->before, key));
}

/*
 * A member of the record that goes after the line's members: new or
 * changed, but not steps when the line has them (new steps are appended
 * to the line's array).
 */
static int
written_after(const struct rk_light *l, const char *key)
{
	if (json_object_get(l->before, key) != NULL && !changed(l, key))
		return 0;
	return strcmp(key, "steps") != 0 ||
	    member(l->m, l->n, "steps") == NULL;
}

/*
 * The line again: unchanged members as they came, in their order, then the
 * new and changed ones.  Returns -1 if the record would be over the limit
 * (the caller then writes it in full, which makes it an error record).
 */
int
rk_light_write(FILE *fp, struct rk_light *l)
{
	const char *key;
	size_t total = 2;
	json_t *v;
	char **add, *more = NULL;
	size_t nadd = 0, k;
	int first = 1;

	add = calloc(json_object_size(l->rec) + 1, sizeof(char *));
	if (add == NULL)
		return -1;
	json_object_foreach(l->rec, key, v) {
		if (!written_after(l, key))
			continue;
		add[nadd] = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY |
		    JSON_REAL_PRECISION(15));
		if (add[nadd] == NULL)
			goto fail;
		total += strlen(key) + strlen(add[nadd++]) + 4;
	}
	for (k = 0; k < l->n; k++)
		total += l->m[k].vend - l->m[k].start + 1;
	if (total > rk_limits.record)
		goto fail;
	if (l->more_steps != NULL) {
		more = json_dumps(l->more_steps, JSON_COMPACT |
		    JSON_REAL_PRECISION(15));
		if (more == NULL)
			goto fail;
		total += strlen(more) + 12;
		if (total > rk_limits.record)
			goto fail;
	}
	putc_unlocked('{', fp);
	for (k = 0; k < l->n; k++) {
		const struct rk_jspan *p = &l->m[k];
		char name[64];

		memcpy(name, p->key, p->keylen);
		name[p->keylen] = '\0';
		if (json_object_get(l->rec, name) == NULL || changed(l, name))
			continue;	/* deleted or changed: written below */
		if (!first)
			putc_unlocked(',', fp);
		first = 0;
		if (more != NULL && strcmp(name, "steps") == 0) {
			int empty;
			size_t end = array_end(l->line, p->vstart,
			    p->vend, &empty);

			/* the old elements, then the new without its '[' */
			fwrite(l->line + p->start, 1, end - p->start, fp);
			fprintf(fp, "%s%s", empty ? "" : ",", more + 1);
			free(more);
			more = NULL;
			continue;
		}
		fwrite(l->line + p->start, 1, p->vend - p->start, fp);
	}
	if (more != NULL) {
		fprintf(fp, "%s\"steps\":%s", first ? "" : ",", more);
		free(more);
		first = 0;
	}
	nadd = 0;
	json_object_foreach(l->rec, key, v) {
		if (!written_after(l, key))
			continue;
		fprintf(fp, "%s\"%s\":%s", first ? "" : ",", key, add[nadd]);
		free(add[nadd++]);
		first = 0;
	}
	free(add);
	fputs("}\n", fp);
	return fflush(fp) == EOF || ferror(fp) ? -2 : 0;
fail:
	for (k = 0; k < nadd; k++)
		free(add[k]);
	free(add);
	free(more);
	return -1;
}

/*
 * Write the record on, as it came (pass) or with its changes, and close
 * it.  Returns 0; -1 if it must be written in full after all (see
 * rk_light_write); RK_EXIT_IO if it could not be written (errno says why).
 */
int
rk_light_finish(FILE *fp, struct rk_light *l, int pass)
{
	int rc = 0;

	if (pass) {
		if (fwrite(l->line, 1, l->len, fp) != l->len ||
		    putc_unlocked('\n', fp) == EOF || fflush(fp) == EOF)
			rc = -2;
	} else
		rc = rk_light_write(fp, l);
	if (rc == 0)
		rk_note_written(rk_has_error(l->rec) ? RK_EXIT_FAILED : 0);
	rk_light_close(l);
	return rc == -2 ? RK_EXIT_IO : rc;
}

void
rk_light_close(struct rk_light *l)
{
	json_decref(l->rec);
	json_decref(l->before);
	json_decref(l->more_steps);
	l->rec = l->before = l->more_steps = NULL;
}
