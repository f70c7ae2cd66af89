/*
 * Scanning JSON text for the spans of members and elements, and records
 * handled "lightly": only the members a stage needs are parsed, the rest
 * of the line is copied through as it came.  See jscan.c.
 */
#ifndef RK_JSCAN_H
#define RK_JSCAN_H

#include <stdio.h>

#include <jansson.h>

struct rk_jspan {
	const char	*key;		/* between the quotes, still escaped */
	size_t		 keylen;
	size_t		 start;		/* the member's first byte (its key) */
	size_t		 vstart, vend;	/* its value: [vstart, vend) */
};

#define RK_JSCAN_MAX	128	/* members of a record we will scan */

int	 rk_jscan_object(const char *, size_t, struct rk_jspan *, size_t max,
	    size_t *n);
int	 rk_jscan_array(const char *, size_t start, size_t end,
	    struct rk_jspan *, size_t max, size_t *n);
size_t	 rk_jscan_array_end(const char *, size_t start, size_t end,
	    int *empty);
const struct rk_jspan *rk_jscan_get(const struct rk_jspan *, size_t n,
	    const char *key);
json_t	*rk_jscan_parse(const char *, const struct rk_jspan *);

struct rk_light {
	const char	*line;
	size_t		 len;
	struct rk_jspan	 m[RK_JSCAN_MAX];
	size_t		 n;
	json_t		*rec;		/* the parsed members */
	json_t		*before;	/* their values as they came */
	json_t		*more_steps;	/* to append to "steps", or NULL */
};

int	 rk_light_open(struct rk_light *, const char *line, size_t len,
	    const char **step_keys);
int	 rk_light_write(FILE *, struct rk_light *);
int	 rk_light_finish(FILE *, struct rk_light *, int pass);
void	 rk_light_close(struct rk_light *);

#endif
