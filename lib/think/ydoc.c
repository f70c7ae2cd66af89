/* YAML file -> ynode tree with positions, on top of libyaml's events */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <unistd.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <yaml.h>

#include "core/rk.h"
#include "think/ydoc.h"

#define YDOC_MAX_POS	(1 << 28)	/* a line or column read from a cache */

/*
 * libyaml spends most of a load scanning characters, so each file's tree is
 * cached in a flat binary form (positions included) in
 * $XDG_CACHE_HOME/reasonkit/yaml, keyed by the file's path, size, inode and
 * modification time.  The tree, not the checked result, is cached: every
 * load still checks it and reports the same file:line:col.  The cache is
 * private to the user (0700 directory, 0600 files); a cache file that does
 * not read back exactly is ignored.  RK_NO_YAML_CACHE=1 turns it off.
 */

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

static struct ynode *parse_node(struct loader *, yaml_event_t *, int);

/*
 * A mapping's next key, taken if the mapping does not have it yet: the
 * keys seen are kept in a hash (a JSON object) so that a mapping of many
 * keys is checked in linear time.
 */
static char *
new_key(struct loader *l, json_t *seen, yaml_event_t *ev)
{
	const char *key;

	if (ev->type != YAML_SCALAR_EVENT) {
		fail(l, ev->start_mark.line, ev->start_mark.column,
		    "keys must be plain words");
		return NULL;
	}
	key = (const char *)ev->data.scalar.value;
	if (json_object_get(seen, key) != NULL) {
		fail(l, ev->start_mark.line, ev->start_mark.column,
		    "duplicate key");
		return NULL;
	}
	json_object_set_new_nocheck(seen, key, json_true());
	return rk_xstrdup(key);
}

/* A mapping's item: its key event is ev, its value follows. */
static struct ynode *
parse_item(struct loader *l, json_t *seen, yaml_event_t *ev, int depth)
{
	int kl = ev->start_mark.line + 1, kc = ev->start_mark.column + 1;
	char *key = new_key(l, seen, ev);
	struct ynode *n;

	yaml_event_delete(ev);
	if (key == NULL)
		return NULL;
	if (next_event(l, ev) == -1 || (n = parse_node(l, ev, depth)) == NULL) {
		free(key);
		return NULL;
	}
	n->key = key;
	n->key_line = kl;
	n->key_col = kc;
	return n;
}

/* Children until the matching end event; maps alternate key and value. */
static int
parse_children(struct loader *l, struct ynode *parent, int depth)
{
	struct ynode **tail = &parent->child;
	json_t *seen = parent->kind == YMAP ? json_object() : NULL;
	yaml_event_t ev;
	int rc = -1;

	for (;;) {
		if (next_event(l, &ev) == -1)
			break;
		if (ev.type == YAML_MAPPING_END_EVENT ||
		    ev.type == YAML_SEQUENCE_END_EVENT) {
			yaml_event_delete(&ev);
			rc = 0;
			break;
		}
		*tail = parent->kind == YMAP ? parse_item(l, seen, &ev, depth) :
		    parse_node(l, &ev, depth);
		if (*tail == NULL)
			break;
		tail = &(*tail)->next;
	}
	json_decref(seen);
	return rc;
}

/* libyaml nests without bounds; we recurse, so we stop it. */
static void
too_deep(struct loader *l, const yaml_mark_t *m)
{
	char msg[64];

	snprintf(msg, sizeof(msg), "nested more than %d levels deep",
	    YDOC_MAX_DEPTH);
	fail(l, m->line, m->column, msg);
}

/* Consumes ev; the root is at depth 1, its children at 2, ... */
static struct ynode *
parse_node(struct loader *l, yaml_event_t *ev, int depth)
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
		if (depth > YDOC_MAX_DEPTH) {
			too_deep(l, &ev->start_mark);
			break;
		}
		n = new_node(ev->type == YAML_MAPPING_START_EVENT ? YMAP : YSEQ,
		    &ev->start_mark);
		if (parse_children(l, n, depth + 1) == -1) {
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

/*
 * Only a regular file is read: opening a FIFO without O_NONBLOCK would
 * wait for a writer forever, and a device may never end.
 */
static FILE *
open_regular(const char *path, char **err)
{
	struct stat st;
	FILE *fp;
	int fd;

	if ((fd = open(path, O_RDONLY | O_NONBLOCK)) == -1) {
		rk_asprintf(err, "%s: %s", path, strerror(errno));
		return NULL;
	}
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		rk_asprintf(err, "%s: not a regular file", path);
		close(fd);
		return NULL;
	}
	if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK) == -1 ||
	    (fp = fdopen(fd, "r")) == NULL) {
		rk_asprintf(err, "%s: %s", path, strerror(errno));
		close(fd);
		return NULL;
	}
	return fp;
}

static struct ynode *
parse_yaml(const char *path, char **err)
{
	struct loader l = { .path = path };
	struct ynode *root = NULL;
	yaml_event_t ev;
	FILE *fp;

	*err = NULL;
	if ((fp = open_regular(path, err)) == NULL)
		return NULL;
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
	if ((root = parse_node(&l, &ev, 1)) == NULL)
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
	if (n != NULL && n->arena != NULL) {
		free(n->arena);
		return;
	}
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

/* The cache file: a header, then the nodes in pre-order. */
struct cache_hdr {
	char		magic[8];	/* "rkyaml1\0" */
	uint64_t	size, ino;
	int64_t		sec, nsec;
	uint32_t	pathlen;	/* the path follows, then the tree */
};

struct buf {
	char	*p;
	size_t	 len, cap;
};

static void
put(struct buf *b, const void *data, size_t n)
{
	if (n == 0)
		return;
	if (b->len + n > b->cap) {
		b->cap = (b->len + n) * 2;
		b->p = rk_xrealloc(b->p, b->cap);
	}
	memcpy(b->p + b->len, data, n);
	b->len += n;
}

static void
put_str(struct buf *b, const char *s)
{
	uint32_t n = s ? strlen(s) + 1 : 0;

	put(b, &n, sizeof(n));
	put(b, s, n);
}

/* kind, block, line, col, key_line, key_col, children, key, value */
static void
put_tree(struct buf *b, const struct ynode *n)
{
	int32_t v[7] = { n->kind, n->block, n->line, n->col, n->key_line,
	    n->key_col, 0 };

	for (const struct ynode *c = n->child; c; c = c->next)
		v[6]++;
	put(b, v, sizeof(v));
	put_str(b, n->key);
	put_str(b, n->value);
	for (const struct ynode *c = n->child; c; c = c->next)
		put_tree(b, c);
}

/*
 * A cached tree is read in place: its nodes come from one array, its
 * strings stay in the copy of the file that follows it, and one free()
 * frees it all.
 */
struct reader {
	const char	*p, *end;
	int		 bad;
	struct ynode	*node;		/* the next free one */
	struct ynode	*last;		/* past the array */
};

static char *
get_str(struct reader *r)
{
	uint32_t n;
	char *s;

	if (r->end - r->p < (ptrdiff_t)sizeof(n)) {
		r->bad = 1;
		return NULL;
	}
	memcpy(&n, r->p, sizeof(n));
	r->p += sizeof(n);
	if (n == 0)
		return NULL;
	if (r->end - r->p < (ptrdiff_t)n || r->p[n - 1] != '\0') {
		r->bad = 1;
		return NULL;
	}
	s = (char *)r->p;
	r->p += n;
	return s;
}

static struct ynode *
get_tree(struct reader *r, int depth)
{
	struct ynode *n, **tail;
	int32_t v[7];

	if (r->end - r->p < (ptrdiff_t)sizeof(v)) {
		r->bad = 1;
		return NULL;
	}
	memcpy(v, r->p, sizeof(v));
	/* positions are added to (line + block): keep them far from overflow */
	for (int i = 2; i < 6; i++)
		if (v[i] < 0 || v[i] > YDOC_MAX_POS)
			r->bad = 1;
	if (r->bad || (v[1] != 0 && v[1] != 1)) {
		r->bad = 1;
		return NULL;
	}
	if (v[6] > 0 && depth > YDOC_MAX_DEPTH) {
		r->bad = 1;	/* deeper than a load would allow */
		return NULL;
	}
	if (r->node == r->last) {
		r->bad = 1;
		return NULL;
	}
	r->p += sizeof(v);
	n = r->node++;
	memset(n, 0, sizeof(*n));
	n->kind = v[0] == YMAP ? YMAP : v[0] == YSEQ ? YSEQ : YSCALAR;
	n->block = v[1];
	n->line = v[2];
	n->col = v[3];
	n->key_line = v[4];
	n->key_col = v[5];
	n->key = get_str(r);
	n->value = get_str(r);
	tail = &n->child;
	for (int32_t i = 0; i < v[6] && !r->bad; i++) {
		*tail = get_tree(r, depth + 1);
		if (*tail == NULL)
			break;
		/* the items of a map have keys, those of a sequence none */
		if (((*tail)->key != NULL) != (n->kind == YMAP))
			r->bad = 1;
		tail = &(*tail)->next;
	}
	if (!r->bad && ((n->kind == YSCALAR) != (n->value != NULL)))
		r->bad = 1;
	return n;
}

static char *
cache_path(const char *path)
{
	uint64_t h = 0xcbf29ce484222325ULL;
	char name[40];

	for (const char *s = path; *s; s++)
		h = (h ^ (unsigned char)*s) * 0x100000001b3ULL;
	snprintf(name, sizeof(name), "yaml/%016llx", (unsigned long long)h);
	return rk_xdg_path("CACHE", name);
}

static void
stamp(struct cache_hdr *h, const char *path, const struct stat *st)
{
	memset(h, 0, sizeof(*h));
	memcpy(h->magic, "rkyaml1", 8);
	h->size = st->st_size;
	h->ino = st->st_ino;
	h->sec = st->st_mtim.tv_sec;
	h->nsec = st->st_mtim.tv_nsec;
	h->pathlen = strlen(path);
}

static struct ynode *
cache_get(const char *cpath, const char *path, const struct cache_hdr *want)
{
	struct ynode *root = NULL;
	struct cache_hdr got;
	struct reader r;
	char buf[65536], *text;
	size_t nodes;
	void *block;
	ssize_t n = -1;
	int fd;

	if ((fd = open(cpath, O_RDONLY)) != -1) {
		n = read(fd, buf, sizeof(buf));
		close(fd);
	}
	if (n < (ssize_t)sizeof(got) || n == (ssize_t)sizeof(buf))
		return NULL;
	memcpy(&got, buf, sizeof(got));
	if (memcmp(&got, want, sizeof(got)) != 0 ||
	    (size_t)n < sizeof(got) + got.pathlen ||
	    memcmp(buf + sizeof(got), path, got.pathlen) != 0)
		return NULL;
	/* a node takes 7 numbers and two string lengths at least */
	nodes = (size_t)n / (7 * sizeof(int32_t) + 2 * sizeof(uint32_t)) + 1;
	block = rk_xmalloc(nodes * sizeof(struct ynode) + n);
	text = (char *)block + nodes * sizeof(struct ynode);
	memcpy(text, buf, n);
	r.p = text + sizeof(got) + got.pathlen;
	r.end = text + n;
	r.bad = 0;
	r.node = block;
	r.last = r.node + nodes;
	root = get_tree(&r, 1);
	if (r.bad || r.p != r.end) {
		free(block);
		return NULL;
	}
	root->arena = block;
	return root;
}

/* Best effort: a cache that cannot be written is no error. */
static void
cache_put(const char *cpath, const char *path, const struct cache_hdr *hdr,
    const struct ynode *root)
{
	struct buf b = { NULL, 0, 0 };
	char *dir = rk_xstrdup(cpath), *tmp;
	int fd;

	put(&b, hdr, sizeof(*hdr));
	put(&b, path, hdr->pathlen);
	put_tree(&b, root);
	*strrchr(dir, '/') = '\0';
	rk_asprintf(&tmp, "%s.%ld", cpath, (long)getpid());
	if (rk_mkdirs(dir) == 0 &&
	    (fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0600)) != -1) {
		ssize_t w = write(fd, b.p, b.len);

		if (close(fd) == -1 || w != (ssize_t)b.len ||
		    rename(tmp, cpath) == -1)
			unlink(tmp);
	}
	free(tmp);
	free(dir);
	free(b.p);
}

struct ynode *
ydoc_load(const char *path, char **err)
{
	struct cache_hdr want;
	struct ynode *root;
	struct stat st;
	char *cpath;

	if (rk_getenv("RK_NO_YAML_CACHE") || stat(path, &st) == -1)
		return parse_yaml(path, err);
	stamp(&want, path, &st);
	cpath = cache_path(path);
	if ((root = cache_get(cpath, path, &want)) != NULL)
		*err = NULL;
	else if ((root = parse_yaml(path, err)) != NULL)
		cache_put(cpath, path, &want, root);
	free(cpath);
	return root;
}
