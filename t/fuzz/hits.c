/*
 * A hit as rk-search writes it, and lists of scores as rk-fuse fuses
 * them.  The input is a flag byte, a score (8 bytes, any double), then
 * qid, document name and text separated by NUL bytes: the line written
 * must be one JSON object that jansson writes again byte for byte, whose
 * strings are the hit's; every fused score must be finite, whatever the
 * scores (the rest of the input, 8 bytes each) and weights.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/rk.h"
#include "search/search.h"
#include "fuzz.h"

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	rk_init("fuzz-hits", NULL);
	return 0;
}

/* the next NUL-terminated piece of p[0..*n), copied */
static char *
piece(const uint8_t **p, size_t *n)
{
	const uint8_t *end = memchr(*p, '\0', *n);
	size_t len = end ? (size_t)(end - *p) : *n;
	char *s = fuzz_strdup(*p, len);

	*p += len + (end != NULL);
	*n -= len + (end != NULL);
	return s;
}

static void
check_string(const json_t *o, const char *key, const char *want)
{
	const char *got = json_string_value(json_object_get(o, key));

	FUZZ_CHECK(got != NULL && strcmp(got, want) == 0, "%s differs", key);
}

/* each line: JSON that jansson writes the same, holding the hit's strings */
static void
check_lines(char *out, size_t len, const char *qid, const struct rk_result *h)
{
	for (char *line = out, *nl; line < out + len; line = nl + 1) {
		json_t *o;
		char *again;

		nl = memchr(line, '\n', out + len - line);
		FUZZ_CHECK(nl != NULL, "a line without its newline");
		o = json_loadb(line, nl - line, JSON_REJECT_DUPLICATES, NULL);
		FUZZ_CHECK(json_is_object(o), "not JSON: %.*s",
		    (int)(nl - line), line);
		again = json_dumps(o, JSON_COMPACT | JSON_REAL_PRECISION(15));
		FUZZ_CHECK(strlen(again) == (size_t)(nl - line) &&
		    memcmp(again, line, nl - line) == 0, "not jansson's: %s",
		    again);
		if (!rk_has_error(o)) {
			check_string(o, "doc", h->doc);
			check_string(o, "text", h->text);
			if (qid != NULL)
				check_string(o, "qid", qid);
		}
		free(again);
		json_decref(o);
	}
}

static void
check_fuse(const uint8_t *p, size_t n, unsigned flags, size_t size)
{
	static const char *const docs[] = { "a", "b", "c", "d" };
	struct rk_fuse_hit hits[64];
	struct rk_fuse_list lists[2];
	struct rk_fuse_opts o = { 0 };
	struct rk_fused *f;
	size_t m = 0, k;

	for (; n >= 8 && m < 64; p += 8, n -= 8, m++) {
		memcpy(&hits[m].score, p, 8);
		if (!isfinite(hits[m].score))
			hits[m].score = 0;	/* no reader lets one in */
		hits[m].doc = docs[m % 4];
		hits[m].chunk = m % 3;
		hits[m].text = NULL;
	}
	lists[0] = (struct rk_fuse_list){ hits, m / 2, flags & 8 ? 1e308 : 1 };
	lists[1] = (struct rk_fuse_list){ hits + m / 2, m - m / 2,
	    flags & 16 ? 1.7976931348623157e308 : 0.5 };
	o.method = (flags >> 5) & 3;
	o.norm = size % 3;
	o.k = 60;
	o.rho = 0.8;
	o.by_doc = flags & 4;
	k = rk_fuse(&o, lists, 2, &f);
	for (size_t i = 0; i < k; i++)
		FUZZ_CHECK(isfinite(f[i].score), "fused score %g", f[i].score);
	free(f);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rk_hits_out out = { RK_HITS_JSON, "fuzz", NULL, 1 };
	struct rk_result h;
	const uint8_t *p = data + 9;
	size_t n = size - 9, len = 0;
	char *qid, *buf = NULL;
	FILE *fp;

	if (size < 9)
		return 0;
	memcpy(&h.score, data + 1, 8);
	/* BM25's and a cosine's are far from DBL_MAX, whose 15 digits are no
	 * number; NaN and infinities go to the slow writer */
	if (fabs(h.score) > 1e300)
		h.score = data[0] & 64 ? NAN : 0;
	check_fuse(data + 1, size - 1, data[0], size);
	qid = piece(&p, &n);
	/* the query readers let in no qid that is not UTF-8 */
	if (!(data[0] & 1) || !rk_utf8_valid(qid, strlen(qid))) {
		free(qid);
		qid = NULL;
	}
	h.doc = piece(&p, &n);
	h.text = piece(&p, &n);
	h.chunk = data[0] & 2 ? -1 : (long)size;
	fp = open_memstream(&buf, &len);
	FUZZ_CHECK(fp != NULL, "open_memstream");
	FUZZ_CHECK(rk_results_print(fp, &out, qid, "q", &h, 1) == 0,
	    "rk_results_print failed");
	fclose(fp);
	check_lines(buf, len, qid, &h);
	free(buf);
	free(qid);
	free(h.doc);
	free(h.text);
	return 0;
}
