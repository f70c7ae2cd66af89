/*
 * Finding the members of a JSON object, and the elements of an array,
 * without building them: a scan that only follows strings and nesting.
 * Records grow to tens of kilobytes over a run while each stage changes a
 * few small members, so stages parse what they read and copy the rest of
 * the line as it came.  The scan assumes well-formed JSON: a line taken
 * lightly is first validated as strictly as jansson would (jvalid.c), and
 * callers fall back to a full parse when the scan fails.
 */
#include <stdlib.h>
#include <string.h>

#include "core/rk.h"

static size_t
skip_ws(const char *s, size_t i, size_t len)
{
	while (i < len && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' ||
	    s[i] == '\r'))
		i++;
	return i;
}

/* s[i] is '"'; returns the index just past the closing quote, or 0. */
static size_t
skip_string(const char *s, size_t i, size_t len)
{
	for (i++; i < len; i++) {
		const char *q = memchr(s + i, '"', len - i);
		size_t bs = 0;

		if (q == NULL)
			return 0;
		i = q - s;
		while (bs < i && s[i - 1 - bs] == '\\')
			bs++;
		if (bs % 2 == 0)
			return i + 1;
	}
	return 0;
}

/* Past one value starting at s[i] (after white space), or 0. */
static size_t
skip_value(const char *s, size_t i, size_t len)
{
	size_t depth = 0;

	for (; i < len; i++) {
		switch (s[i]) {
		case '"':
			if ((i = skip_string(s, i, len)) == 0)
				return 0;
			if (depth == 0)
				return i;
			i--;
			break;
		case '{': case '[':
			depth++;
			break;
		case '}': case ']':
			if (depth == 0)
				return i;	/* end of a scalar */
			if (--depth == 0)
				return i + 1;
			break;
		case ',':
			if (depth == 0)
				return i;
			break;
		default:
			break;
		}
	}
	return depth == 0 ? i : 0;
}

/*
 * After an item ending at s[i]: 0 at the closing bracket, 1 with *next at
 * the following item, -1 if neither a comma nor close comes.
 */
static int
next_item(const char *s, size_t i, size_t len, char close, size_t *next)
{
	i = skip_ws(s, i, len);
	if (i < len && s[i] == close)
		return 0;
	if (i >= len || s[i] != ',')
		return -1;
	*next = skip_ws(s, i + 1, len);
	return 1;
}

int
rk_jscan_object(const char *s, size_t len, struct rk_jspan *m, size_t max,
    size_t *n)
{
	size_t i = skip_ws(s, 0, len);
	int more;

	*n = 0;
	if (i >= len || s[i] != '{')
		return -1;
	i = skip_ws(s, i + 1, len);
	if (i < len && s[i] == '}')
		return 0;
	while (i < len) {
		size_t kend, vstart, vend;

		if (s[i] != '"' || (kend = skip_string(s, i, len)) == 0)
			return -1;
		vstart = skip_ws(s, kend, len);
		if (vstart >= len || s[vstart] != ':')
			return -1;
		vstart = skip_ws(s, vstart + 1, len);
		if ((vend = skip_value(s, vstart, len)) == 0 || vend == vstart)
			return -1;
		if (*n == max)
			return -1;
		m[*n].key = s + i + 1;
		m[*n].keylen = kend - i - 2;
		m[*n].start = i;
		m[*n].vstart = vstart;
		m[*n].vend = vend;
		(*n)++;
		if ((more = next_item(s, vend, len, '}', &i)) <= 0)
			return more;
	}
	return -1;
}

const struct rk_jspan *
rk_jscan_get(const struct rk_jspan *m, size_t n, const char *key)
{
	size_t klen = strlen(key);

	for (size_t i = 0; i < n; i++)
		if (m[i].keylen == klen && memcmp(m[i].key, key, klen) == 0)
			return &m[i];
	return NULL;
}

json_t *
rk_jscan_parse(const char *s, const struct rk_jspan *m)
{
	if (m == NULL)
		return NULL;
	return json_loadb(s + m->vstart, m->vend - m->vstart,
	    JSON_DECODE_ANY, NULL);
}

/* The last element's end in the array s[start..end), or start+1 if empty. */
size_t
rk_jscan_array_end(const char *s, size_t start, size_t end, int *empty)
{
	size_t i = end - 1;	/* the ']' */

	while (i > start && (s[i - 1] == ' ' || s[i - 1] == '\n' ||
	    s[i - 1] == '\t' || s[i - 1] == '\r'))
		i--;
	*empty = s[i - 1] == '[';
	return i;
}

int
rk_jscan_array(const char *s, size_t start, size_t end, struct rk_jspan *e,
    size_t max, size_t *n)
{
	size_t i = skip_ws(s, start + 1, end);
	int more;

	*n = 0;
	if (s[start] != '[')
		return -1;
	if (i < end && s[i] == ']')
		return 0;
	while (i < end) {
		size_t vend = skip_value(s, i, end);

		if (vend == 0 || vend == i || *n == max)
			return -1;
		e[*n].key = NULL;
		e[*n].keylen = 0;
		e[*n].start = e[*n].vstart = i;
		e[*n].vend = vend;
		(*n)++;
		if ((more = next_item(s, vend, end, ']', &i)) <= 0)
			return more;
	}
	return -1;
}

/* Parse a step element, keeping only the members named in keys. */
static json_t *
light_step(const char *s, const struct rk_jspan *e, const char **keys)
{
	struct rk_jspan m[RK_JSCAN_MAX];
	json_t *step = json_object(), *v;
	size_t n;

	if (rk_jscan_object(s + e->vstart, e->vend - e->vstart, m,
	    RK_JSCAN_MAX, &n) == -1) {
		json_decref(step);
		return NULL;
	}
	for (const char **k = keys; *k; k++) {
		const struct rk_jspan *p = rk_jscan_get(m, n, *k);

		if (p == NULL)
			continue;
		if ((v = json_loadb(s + e->vstart + p->vstart,
		    p->vend - p->vstart, JSON_DECODE_ANY, NULL)) == NULL) {
			json_decref(step);
			return NULL;
		}
		json_object_set_new(step, *k, v);
	}
	return step;
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
	struct rk_jspan e[4096];
	size_t ne;

	memset(l, 0, sizeof(*l));
	l->line = line;
	l->len = len;
	if (!rk_json_valid(line, len) ||
	    rk_jscan_object(line, len, l->m, RK_JSCAN_MAX, &l->n) == -1)
		return -1;
	l->rec = json_object();
	for (size_t i = 0; i < l->n; i++) {
		const struct rk_jspan *p = &l->m[i];
		json_t *v, *steps;
		char key[64];

		if (p->keylen >= sizeof(key) || memchr(p->key, '\\',
		    p->keylen) != NULL)
			goto full;
		memcpy(key, p->key, p->keylen);
		key[p->keylen] = '\0';
		if (json_object_get(l->rec, key) != NULL)
			goto full;	/* duplicate keys: let jansson refuse */
		if (strcmp(key, "steps") != 0) {
			if ((v = rk_jscan_parse(line, p)) == NULL)
				goto full;
			json_object_set_new(l->rec, key, v);
			continue;
		}
		if (line[p->vstart] != '[')
			goto full;	/* steps to replace, not to append to */
		if (step_keys == NULL) {
			/* not read at all: a placeholder keeps its place */
			json_object_set_new(l->rec, key, json_true());
			continue;
		}
		if (rk_jscan_array(line, p->vstart, p->vend, e, 4096, &ne))
			goto full;
		steps = json_array();
		json_object_set_new(l->rec, key, steps);
		for (size_t j = 0; j < ne; j++) {
			json_t *st = light_step(line, &e[j], step_keys);

			if (st == NULL)
				goto full;
			json_array_append_new(steps, st);
		}
	}
	/* hand-made records get their envelope from the full reader */
	if (!json_is_string(json_object_get(l->rec, "id")) ||
	    json_object_get(l->rec, "rk") == NULL)
		goto full;
	l->before = json_deep_copy(l->rec);
	json_object_del(l->before, "steps");
	return 0;
full:
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
	    rk_jscan_get(l->m, l->n, "steps") == NULL;
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
			size_t end = rk_jscan_array_end(l->line, p->vstart,
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
