/*
 * SHA-256 (FIPS 180-4), for content keys such as rk-llm's response cache.
 *
 *	char hex[RK_SHA256_HEX];
 *
 *	rk_sha256_hex(data, len, hex);
 */
#ifndef RK_SHA256_H
#define RK_SHA256_H

#include <stddef.h>
#include <stdint.h>

#define RK_SHA256_LEN	32
#define RK_SHA256_HEX	65

struct rk_sha256 {
	uint32_t	h[8];
	uint64_t	len;		/* bytes hashed so far */
	unsigned char	buf[64];
	size_t		nbuf;
};

void	rk_sha256_init(struct rk_sha256 *);
void	rk_sha256_update(struct rk_sha256 *, const void *, size_t);
void	rk_sha256_final(struct rk_sha256 *, unsigned char out[RK_SHA256_LEN]);
void	rk_sha256_hex(const void *, size_t, char out[RK_SHA256_HEX]);

#endif
