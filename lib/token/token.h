/*
 * Byte-pair encoding as OpenAI's tiktoken does it, for cl100k_base and
 * o200k_base: the same pre-tokenizer (hand-written, see bpe.c), the same
 * ranks, so the same token ids.
 *
 *	const struct rk_bpe *bpe = rk_bpe_get("gpt-4o");
 *
 *	if (bpe == NULL)
 *		errx(RK_EXIT_CONFIG, "%s", rk_bpe_error());
 *	n = rk_bpe_count(bpe, text, strlen(text), 0);
 *
 * The rank tables are built from data/tokenizer/NAME.tiktoken by the build
 * and mapped read-only from <exe dir>/../share/reasonkit/tokenizer/ (or
 * $RK_TOKENIZER_DIR), so opening costs one mmap and no parsing.  A handle
 * is not written to after it is opened: one handle may serve many threads.
 */
#ifndef RK_TOKEN_H
#define RK_TOKEN_H

#include <stddef.h>
#include <stdint.h>

struct rk_bpe;

/* flags of rk_bpe_encode() and rk_bpe_count() */
#define RK_BPE_SPECIAL	0x1	/* "<|endoftext|>" and the like are special
				   tokens; without it they are plain text */

/* a growing array of token ids; start from {0} and free(ids.v) at the end */
struct rk_bpe_ids {
	uint32_t	*v;
	size_t		 n, cap;
};

/*
 * An encoding by its name (cl100k_base, o200k_base) or by the name of a
 * model (gpt-4o, gpt-4, o3-mini, ...).  NULL, with rk_bpe_error() saying
 * why, if the name is unknown or the table cannot be mapped.  rk_bpe_get()
 * keeps what it opens until exit and returns the same handle for the same
 * encoding (call it once before starting threads: its cache has no lock);
 * rk_bpe_open() handles are for rk_bpe_close().
 */
const struct rk_bpe *rk_bpe_get(const char *name);
struct rk_bpe	*rk_bpe_open(const char *name);
void		 rk_bpe_close(struct rk_bpe *);
const char	*rk_bpe_error(void);
const char	*rk_bpe_name(const struct rk_bpe *);
/* the encoding a model or encoding name maps to, or NULL */
const char	*rk_bpe_encoding_for(const char *name);

/*
 * The tokens of text[0..len).  Text that is not valid UTF-8 is split as
 * valid text up to the first bad byte, and everything from there on is
 * merged with the last piece before it, as tiktoken's _encode_bytes() does.
 * RK_BPE_FAILED, with rk_bpe_error() saying why, if a piece (a run of text
 * the pre-tokenizer does not split) is 4 GB or more; text shorter than
 * that never fails.  rk_bpe_error() is the calling thread's.
 */
#define RK_BPE_FAILED	((size_t)-1)
size_t		 rk_bpe_count(const struct rk_bpe *, const char *text,
		    size_t len, int flags);
/* appends to *ids and returns the number of ids appended */
size_t		 rk_bpe_encode(const struct rk_bpe *, const char *text,
		    size_t len, int flags, struct rk_bpe_ids *ids);
/* the bytes of one token (special tokens too), or NULL for an unknown id */
const char	*rk_bpe_token(const struct rk_bpe *, uint32_t id, size_t *len);
/* the bytes of ids[0..n), malloc'd and NUL-terminated, their number in
   *len; NULL with rk_bpe_error() set if an id is not a token */
char		*rk_bpe_decode(const struct rk_bpe *, const uint32_t *ids,
		    size_t n, size_t *len);

/*
 * For the build: turn a .tiktoken rank file (base64 token, space, rank, one
 * a line, ranks 0..n-1 in order) into the table rk_bpe_open() maps.
 * Returns -1 with rk_bpe_error() set on failure.
 */
int		 rk_bpe_compile(const char *tiktoken, const char *out);

#endif
