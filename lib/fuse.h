/*
 * Rank fusion: several ranked lists of hits in, one list out.
 */
#ifndef RK_FUSE_H
#define RK_FUSE_H

#include <stddef.h>

enum rk_fuse_method { RK_FUSE_RRF, RK_FUSE_COMBSUM, RK_FUSE_COMBMNZ,
	RK_FUSE_RBF };
enum rk_fuse_norm { RK_NORM_NONE, RK_NORM_MINMAX, RK_NORM_ZSCORE };

struct rk_fuse_hit {
	const char *doc;
	long	 chunk;		/* -1: none */
	double	 score;
	const char *text;	/* may be NULL */
};

struct rk_fuse_list {
	const struct rk_fuse_hit *hits;	/* best first */
	size_t	 n;
	double	 weight;
};

struct rk_fuse_opts {
	enum rk_fuse_method method;
	enum rk_fuse_norm norm;
	double	 k;		/* RRF constant */
	double	 rho;		/* RBF persistence */
	int	 by_doc;	/* key on the document alone */
};

struct rk_fused {
	const struct rk_fuse_hit *hit;	/* the best-ranked instance */
	double	 score;
	size_t	 best;		/* best 1-based rank in any list */
	size_t	 lists;		/* lists it appears in */
};

size_t	 rk_fuse(const struct rk_fuse_opts *, const struct rk_fuse_list *,
	    size_t nlists, struct rk_fused **out);
int	 rk_fuse_method(const char *, enum rk_fuse_method *);
int	 rk_fuse_norm(const char *, enum rk_fuse_norm *);

#endif
