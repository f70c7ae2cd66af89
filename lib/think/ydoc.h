/*
 * A YAML document as a small tree that remembers where each node came
 * from, so that validation can say file:line:col.  Only what protocol
 * files need: mappings, sequences and scalars; no anchors or tags.
 */
#ifndef RK_YDOC_H
#define RK_YDOC_H

#include <stddef.h>

/* Mappings and sequences nest at most this deep (the root is level 1). */
#define YDOC_MAX_DEPTH	64

enum ynode_kind { YSCALAR, YMAP, YSEQ };

struct ynode {
	enum ynode_kind	 kind;
	int		 line, col;	/* 1-based */
	int		 block;		/* scalar written as | or > */
	char		*value;		/* scalar text, or key for map items */
	struct ynode	*child;		/* first item (map: value nodes) */
	struct ynode	*next;		/* next sibling */
	char		*key;		/* when the parent is a map */
	int		 key_line, key_col;
	void		*arena;		/* a cached tree's root: the one
					   allocation the tree lives in */
};

/* Parse a file; NULL with *err set ("file:line:col: message") on error. */
struct ynode	*ydoc_load(const char *path, char **err);
void		 ydoc_free(struct ynode *);
struct ynode	*ymap_get(const struct ynode *map, const char *key);

#endif
