/*
 * rk-llm's response cache: replies by the SHA-256 of the canonical request
 * (provider, base URL, model, messages, parameters, sample index; never
 * the key), in SQLite with WAL and a busy timeout so that many rk-llm
 * processes can share one file.
 */
#ifndef RK_CACHE_H
#define RK_CACHE_H

#include <jansson.h>

#include "sha256.h"

struct rk_cache;

struct rk_cache *rk_cache_open(const char *path, double ttl_s, char *err,
	    size_t errsize);
void	 rk_cache_close(struct rk_cache *);
/* a new reference to the stored reply, or NULL */
json_t	*rk_cache_get(struct rk_cache *, const char *key);
int	 rk_cache_put(struct rk_cache *, const char *key, const json_t *val);
/* the key of a canonical JSON object (sorted keys, compact) */
void	 rk_cache_key(const json_t *canon, char out[RK_SHA256_HEX]);

#endif
