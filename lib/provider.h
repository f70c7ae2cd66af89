/*
 * Model providers for rk-llm.  A provider turns one pending request into a
 * reply text and usage; rk-llm does everything else (parsing the reply,
 * appending the step, errors in the record).
 */
#ifndef RK_PROVIDER_H
#define RK_PROVIDER_H

#include <jansson.h>

struct rk_call {
	/* in */
	const json_t	*rec;		/* the record (borrowed) */
	const json_t	*req;		/* its request (borrowed) */
	/* out */
	char		*text;		/* the reply, malloc'd */
	char		*model;		/* the model that answered */
	long		 in, out;	/* tokens */
	int		 estimated;	/* usage counted by us, not the server */
	int		 cached;
	int		 truncated;
	char		*errcode;	/* set on failure, with errmsg */
	char		*errmsg;
};

struct rk_provider {
	const char	*name;
	int		(*call)(struct rk_call *);	/* 0 or -1 */
};

extern const struct rk_provider rk_mock_provider;

/* mock.c */
long	rk_estimate_tokens(const char *text);
long	rk_estimate_request_tokens(const json_t *req);
void	rk_call_fail(struct rk_call *, const char *code, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));
void	rk_call_clear(struct rk_call *);

#endif
