/* YAML file -> ynode tree with positions, on top of libyaml's events */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

#include "rk.h"
#include "ydoc.h"

struct loader {
	yaml_parser_t	 parser;
	const char	*path;
	char		*err;
};

static void
fail(struct loader *l, size_t line, size_t col, const char *msg)
{
	if (l->err == NULL)
		rk_asprintf(&l->err, "%s:%zu:%zu: %s", l->path, line + 1,
		    col + 1, msg);
}

static int
next_event(struct loader *l, yaml_event_t *ev)
{
	char msg[256];

	if (yaml_parser_parse(&l->parser, ev))
		return 0;
	snprintf(msg, sizeof(msg), "%s%s%s",
	    l->parser.problem ? l->parser.problem : "syntax error",
	    l->parser.context ? " " : "",
	    l->parser.context ? l->parser.context : "");
	fail(l, l->parser.problem_mark.line, l->parser.problem_mark.column,
	    msg);
	return -1;
}

static struct ynode *
new_node(enum ynode_kind kind, const yaml_mark_t *m)
{
	struct ynode *n = rk_xmalloc(sizeof(*n));

	memset(n, 0, sizeof(*n));
	n->kind = kind;
	n->line = m->line + 1;
	n->col = m->column + 1;
	return n;
}

static struct ynode *parse_node(struct loader *, yaml_event_t *);

/* Children until the matching end event; maps alternate key and value. */
static int
parse_children(struct loader *l, struct ynode *parent)
{
	struct ynode **tail = &parent->child;
	yaml_event_t ev;

	for (;;) {
		if (next_event(l, &ev) == -1)
			return -1;
		if (ev.type == YAML_MAPPING_END_EVENT ||
		    ev.type == YAML_SEQUENCE_END_EVENT) {
			yaml_event_delete(&ev);
			return 0;
		}
		if (parent->kind == YMAP) {
			char *key;
			int kl = ev.start_mark.line + 1;
			int kc = ev.start_mark.column + 1;

			if (ev.type != YAML_SCALAR_EVENT) {
				fail(l, ev.start_mark.line,
				    ev.start_mark.column, "keys must be plain "
				    "words");
				yaml_event_delete(&ev);
				return -1;
			}
			key = rk_xstrdup((char *)ev.data.scalar.value);
			for (struct ynode *s = parent->child; s; s = s->next)
				if (strcmp(s->key, key) == 0) {
					fail(l, ev.start_mark.line,
					    ev.start_mark.column,
					    "duplicate key");
					free(key);
					yaml_event_delete(&ev);
					return -1;
				}
			yaml_event_delete(&ev);
			if (next_event(l, &ev) == -1) {
				free(key);
				return -1;
			}
			*tail = parse_node(l, &ev);
			if (*tail == NULL) {
				free(key);
				return -1;
			}
			(*tail)->key = key;
			(*tail)->key_line = kl;
			(*tail)->key_col = kc;
		} else if ((*tail = parse_node(l, &ev)) == NULL)
			return -1;
		tail = &(*tail)->next;
	}
}

/* Consumes ev. */
static struct ynode *
parse_node(struct loader *l, yaml_event_t *ev)
{
	struct ynode *n = NULL;

	switch (ev->type) {
	case YAML_SCALAR_EVENT:
		n = new_node(YSCALAR, &ev->start_mark);
		n->value = rk_xstrdup((char *)ev->data.scalar.value);
		n->block = ev->data.scalar.style == YAML_LITERAL_SCALAR_STYLE ||
		    ev->data.scalar.style == YAML_FOLDED_SCALAR_STYLE;
		break;
	case YAML_MAPPING_START_EVENT:
	case YAML_SEQUENCE_START_EVENT:
		n = new_node(ev->type == YAML_MAPPING_START_EVENT ? YMAP : YSEQ,
		    &ev->start_mark);
		if (parse_children(l, n) == -1) {
			ydoc_free(n);
			n = NULL;
		}
		break;
	case YAML_ALIAS_EVENT:
		fail(l, ev->start_mark.line, ev->start_mark.column,
		    "aliases are not supported");
		break;
	default:
		fail(l, ev->start_mark.line, ev->start_mark.column,
		    "unexpected YAML event");
		break;
	}
	yaml_event_delete(ev);
	return n;
}

struct ynode *
ydoc_load(const char *path, char **err)
{
	struct loader l = { .path = path };
	struct ynode *root = NULL;
	yaml_event_t ev;
	FILE *fp;

	*err = NULL;
	if ((fp = fopen(path, "r")) == NULL) {
		rk_asprintf(err, "%s: %s", path, strerror(errno));
		return NULL;
	}
	yaml_parser_initialize(&l.parser);
	yaml_parser_set_input_file(&l.parser, fp);
	/* stream start, document start, the root, document end */
	for (int i = 0; i < 2; i++) {
		if (next_event(&l, &ev) == -1)
			goto out;
		if (ev.type == YAML_STREAM_END_EVENT) {
			fail(&l, 0, 0, "empty file");
			yaml_event_delete(&ev);
			goto out;
		}
		yaml_event_delete(&ev);
	}
	if (next_event(&l, &ev) == -1)
		goto out;
	if ((root = parse_node(&l, &ev)) == NULL)
		goto out;
	if (next_event(&l, &ev) == -1)
		goto out;
	yaml_event_delete(&ev);
	if (next_event(&l, &ev) == -1)
		goto out;
	if (ev.type != YAML_STREAM_END_EVENT)
		fail(&l, ev.start_mark.line, ev.start_mark.column,
		    "only one YAML document per file");
	yaml_event_delete(&ev);
out:
	yaml_parser_delete(&l.parser);
	fclose(fp);
	if (l.err != NULL) {
		ydoc_free(root);
		*err = l.err;
		return NULL;
	}
	return root;
}

void
ydoc_free(struct ynode *n)
{
	while (n != NULL) {
		struct ynode *next = n->next;

		ydoc_free(n->child);
		free(n->value);
		free(n->key);
		free(n);
		n = next;
	}
}

struct ynode *
ymap_get(const struct ynode *map, const char *key)
{
	if (map == NULL || map->kind != YMAP)
		return NULL;
	for (struct ynode *n = map->child; n != NULL; n = n->next)
		if (strcmp(n->key, key) == 0)
			return n;
	return NULL;
}
