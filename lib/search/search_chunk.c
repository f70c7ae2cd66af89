/*
 * Chunking: cut a document into pieces of at most `size` bytes that end
 * at a paragraph break if one lies in the second half of the window, else
 * at a sentence end, else at a space, else at a character boundary.  The
 * next piece starts up to `overlap` bytes earlier, at a sentence start or
 * a word start, so context carries over without cutting words.
 */
#include <string.h>

#include "search/search.h"

static int
space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' ||
	    c == '\f' || c == '\v';
}

static int
sentence_end(const char *t, size_t i, size_t len)
{
	/* t[i] is the first byte after the end: ". X" */
	return i >= 1 && i < len && space(t[i]) &&
	    (t[i - 1] == '.' || t[i - 1] == '?' || t[i - 1] == '!');
}

/* the best place in (lo, hi] to end a chunk that starts before lo */
static size_t
cut_point(const char *t, size_t lo, size_t hi, size_t len)
{
	size_t i;

	for (i = hi; i > lo; i--)
		if (i + 1 < len && t[i] == '\n' && t[i + 1] == '\n')
			return i;
	for (i = hi; i > lo; i--)
		if (sentence_end(t, i, len))
			return i;
	for (i = hi; i > lo; i--)
		if (space(t[i]))
			return i;
	for (i = hi; i > lo; i--)
		if (((unsigned char)t[i] & 0xc0) != 0x80)
			return i;
	return hi;
}

/*
 * Where the chunk after one ending at `end` starts: the first sentence
 * (or paragraph) start in [from, end), else the first word start.
 */
static size_t
next_start(const char *t, size_t from, size_t end, size_t len)
{
	size_t i;

	for (i = from; i < end; i++)
		if (i >= 2 && !space(t[i]) && space(t[i - 1]) &&
		    (sentence_end(t, i - 1, len) || (t[i - 1] == '\n' &&
		    t[i - 2] == '\n')))
			return i;
	for (i = from; i < end; i++)
		if (i >= 1 && !space(t[i]) && space(t[i - 1]))
			return i;
	return end;
}

static size_t
skip_space(const char *t, size_t i, size_t len)
{
	while (i < len && space(t[i]))
		i++;
	return i;
}

static size_t
trim_end(const char *t, size_t start, size_t end)
{
	while (end > start && space(t[end - 1]))
		end--;
	return end;
}

/*
 * Calls fn for each chunk with its byte range; returns the number of
 * chunks.  size 0 means the whole document is one chunk.  A document of
 * only white space has no chunks.
 */
size_t
rk_chunk(const char *t, size_t len, size_t size, size_t overlap,
    rk_chunk_fn *fn, void *arg)
{
	size_t pos = skip_space(t, 0, len), n = 0;

	len = trim_end(t, pos, len);
	if (pos >= len)
		return 0;
	if (size == 0 || len - pos <= size) {
		fn(arg, pos, len);
		return 1;
	}
	if (overlap >= size / 2)
		overlap = size / 2;
	while (pos < len) {
		size_t end, next;

		if (len - pos <= size) {
			fn(arg, pos, len);
			return n + 1;
		}
		end = cut_point(t, pos + size / 2, pos + size, len);
		fn(arg, pos, trim_end(t, pos, end));
		n++;
		next = end > overlap ? end - overlap : 0;
		if (next <= pos)
			next = pos + 1;
		next = skip_space(t, next_start(t, next, end, len), len);
		if (next <= pos)
			next = skip_space(t, end, len);
		pos = next;
	}
	return n;
}
