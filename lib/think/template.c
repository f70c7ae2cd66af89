/*
 * Prompt templates: {{name}}, {{#if name}}...{{else}}...{{/if}} (nestable).
 * Compiled once when a protocol is loaded, so that a typo in a variable is
 * an error at load time, not a hole in a prompt.  A block tag alone on its
 * line takes its newline with it, so conditional lines leave no blank line.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/rk.h"
#include "think/think.h"

struct cursor {
	const char	*p;
	int		 line, col;
	char		*err;
};

enum tag { TAG_VAR, TAG_IF, TAG_ELSE, TAG_END, TAG_EOF };

static void
advance(struct cursor *c, size_t n)
{
	while (n-- > 0 && *c->p) {
		if (*c->p++ == '\n') {
			c->line++;
			c->col = 1;
		} else
			c->col++;
	}
}

static struct tnode *
new_tnode(enum tnode_kind kind, char *text, int line, int col)
{
	struct tnode *n = rk_xmalloc(sizeof(*n));

	memset(n, 0, sizeof(*n));
	n->kind = kind;
	n->text = text;
	n->line = line;
	n->col = col;
	return n;
}

static void
syntax(struct cursor *c, int line, int col, const char *msg)
{
	if (c->err == NULL)
		rk_asprintf(&c->err, "%d:%d: %s", line, col, msg);
}

/* Read the tag at c->p ("{{"); sets *name for VAR and IF. */
static enum tag
read_tag(struct cursor *c, char **name)
{
	const char *s = c->p + 2, *e = strstr(s, "}}"), *w;
	enum tag t = TAG_VAR;
	size_t n;

	*name = NULL;
	if (e == NULL) {
		syntax(c, c->line, c->col, "unclosed '{{'");
		return TAG_EOF;
	}
	while (s < e && isspace((unsigned char)*s))
		s++;
	if (strncmp(s, "#if", 3) == 0 && s + 3 < e &&
	    isspace((unsigned char)s[3])) {
		t = TAG_IF;
		for (s += 3; s < e && isspace((unsigned char)*s); s++)
			;
	} else if (strncmp(s, "else", 4) == 0)
		t = TAG_ELSE, s += 4;
	else if (strncmp(s, "/if", 3) == 0)
		t = TAG_END, s += 3;
	for (w = s; w < e && (isalnum((unsigned char)*w) || *w == '_' ||
	    *w == '.'); w++)
		;
	n = w - s;
	while (w < e && isspace((unsigned char)*w))
		w++;
	if (w != e || ((t == TAG_VAR || t == TAG_IF) && n == 0) ||
	    ((t == TAG_ELSE || t == TAG_END) && n != 0)) {
		syntax(c, c->line, c->col, "bad tag: expected {{name}}, "
		    "{{#if name}}, {{else}} or {{/if}}");
		return TAG_EOF;
	}
	if (n > 0)
		*name = rk_xstrndup(s, n);
	return t;
}

static void
too_deep(struct cursor *c, int line, int col)
{
	char msg[64];

	snprintf(msg, sizeof(msg), "{{#if}} nested more than %d deep",
	    TMPL_MAX_DEPTH);
	syntax(c, line, col, msg);
}

/* A block tag alone on its line swallows the line's end. */
static void
skip_standalone(struct cursor *c, int at_line_start)
{
	if (at_line_start && *c->p == '\n')
		advance(c, 1);
}

/*
 * Parse nodes up to {{else}}, {{/if}} or the end; returns which.  depth
 * counts the {{#if}} blocks around (rendering recurses as deep).
 */
static enum tag
parse_seq(struct cursor *c, struct tnode **out, int depth)
{
	struct tnode **tail = out;

	*out = NULL;
	while (*c->p != '\0' && c->err == NULL) {
		const char *open = strstr(c->p, "{{");
		size_t len = open ? (size_t)(open - c->p) : strlen(c->p);
		int line, col, bol;
		enum tag t;
		char *name;

		if (len > 0) {
			*tail = new_tnode(T_TEXT, rk_xstrndup(c->p, len),
			    c->line, c->col);
			tail = &(*tail)->next;
			advance(c, len);
			continue;
		}
		line = c->line, col = c->col;
		bol = col == 1;
		t = read_tag(c, &name);
		if (t == TAG_EOF)
			break;
		advance(c, strstr(c->p, "}}") + 2 - c->p);
		if (t == TAG_ELSE || t == TAG_END) {
			skip_standalone(c, bol);
			return t;
		}
		*tail = new_tnode(t == TAG_IF ? T_IF : T_VAR, name, line, col);
		if (t == TAG_IF && depth == TMPL_MAX_DEPTH) {
			too_deep(c, line, col);
			break;
		}
		if (t == TAG_IF) {
			skip_standalone(c, bol);
			t = parse_seq(c, &(*tail)->then, depth + 1);
			if (t == TAG_ELSE)
				t = parse_seq(c, &(*tail)->els, depth + 1);
			if (t != TAG_END)
				syntax(c, line, col, "{{#if}} without {{/if}}");
		}
		tail = &(*tail)->next;
	}
	return TAG_EOF;
}

struct tnode *
tmpl_compile(const char *src, int line, int col, char **err)
{
	struct cursor c = { src, line, col, NULL };
	struct tnode *root;
	enum tag t = parse_seq(&c, &root, 0);

	if (c.err == NULL && t != TAG_EOF)
		syntax(&c, c.line, c.col, t == TAG_ELSE ?
		    "{{else}} outside {{#if}}" : "{{/if}} without {{#if}}");
	if (c.err != NULL) {
		tmpl_free(root);
		*err = c.err;
		return NULL;
	}
	*err = NULL;
	return root;
}

int
tmpl_check(const struct tnode *n, tmpl_known known, void *arg,
    const char **bad, int *line, int *col)
{
	for (; n != NULL; n = n->next) {
		if (n->kind != T_TEXT && !known(arg, n->text)) {
			*bad = n->text;
			*line = n->line;
			*col = n->col;
			return -1;
		}
		if (n->kind == T_IF &&
		    (tmpl_check(n->then, known, arg, bad, line, col) == -1 ||
		    tmpl_check(n->els, known, arg, bad, line, col) == -1))
			return -1;
	}
	return 0;
}

void
tmpl_free(struct tnode *n)
{
	while (n != NULL) {
		struct tnode *next = n->next;

		tmpl_free(n->then);
		tmpl_free(n->els);
		free(n->text);
		free(n);
		n = next;
	}
}

struct sbuf {
	char	*p;
	size_t	 len, cap;
};

static void
sbuf_add(struct sbuf *b, const char *s)
{
	size_t n = strlen(s);

	if (b->len + n + 1 > b->cap) {
		b->cap = (b->len + n + 1) * 2;
		b->p = rk_xrealloc(b->p, b->cap);
	}
	memcpy(b->p + b->len, s, n + 1);
	b->len += n;
}

static void
render(const struct tnode *n, tmpl_lookup lookup, void *arg, struct sbuf *b)
{
	for (; n != NULL; n = n->next) {
		const char *v;

		switch (n->kind) {
		case T_TEXT:
			sbuf_add(b, n->text);
			break;
		case T_VAR:
			if ((v = lookup(arg, n->text)) != NULL)
				sbuf_add(b, v);
			break;
		case T_IF:
			v = lookup(arg, n->text);
			render(v && *v ? n->then : n->els, lookup, arg, b);
			break;
		}
	}
}

char *
tmpl_render(const struct tnode *n, tmpl_lookup lookup, void *arg)
{
	struct sbuf b = { NULL, 0, 0 };

	sbuf_add(&b, "");
	render(n, lookup, arg, &b);
	return b.p;
}
