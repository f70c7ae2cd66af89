/*
 * In-process timing of lib/token/bpe.c, the same measure bench.js takes of the
 * JavaScript tokenizers: texts loaded first, then passes over all of them;
 * the fastest pass is reported (the machine is shared: slower passes are
 * other people's work).
 *
 *	tokens-bench ENCODING DOCS.ndjson PASSES IDS-OUT
 *
 * DOCS.ndjson has one {"query": text} a line.  Prints one line:
 *	ours-ids ENC docs bytes tokens best_s MB/s Mtok/s
 * and the same for the count-only path (ours-count); writes each text's
 * ids, space-separated, one text a line, to IDS-OUT.
 */
#include <err.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "token/token.h"
#include "core/rk.h"

int
main(int argc, char *argv[])
{
	const struct rk_bpe *bpe;
	struct rk_bpe_ids ids = { 0 };
	char **text = NULL, *line = NULL;
	size_t *len = NULL, ntext = 0, cap = 0, lcap = 0, bytes = 0, tokens = 0;
	double best;
	long passes;
	FILE *fp;
	ssize_t n;

	rk_init(argv[0], NULL);
	if (argc != 5 || rk_parse_uint(argv[3], 64, &passes) == -1 ||
	    passes < 1)
		errx(2, "usage: tokens-bench encoding docs.ndjson passes "
		    "ids-out");
	{
		static const char q[] = "Should a ten-person team split its "
		    "monolith into microservices?";
		double open_ms = 1e300, count_ms = 1e300;

		/* the best of 10: a shared machine adds its own delays */
		for (int k = 0; k < 10; k++) {
			double t0 = rk_now_ms(), t1, t2;
			struct rk_bpe *b = rk_bpe_open(argv[1]);

			if (b == NULL)
				errx(5, "%s", rk_bpe_error());
			t1 = rk_now_ms();
			rk_bpe_count(b, q, sizeof(q) - 1, 0);
			t2 = rk_now_ms();
			if (t1 - t0 < open_ms)
				open_ms = t1 - t0;
			if (t2 - t1 < count_ms)
				count_ms = t2 - t1;
			rk_bpe_close(b);
		}
		printf("# %s: open %.3f ms, then a count of a %zu-byte "
		    "question %.3f ms (best of 10)\n", argv[1], open_ms,
		    sizeof(q) - 1, count_ms);
		if ((bpe = rk_bpe_get(argv[1])) == NULL)
			errx(5, "%s", rk_bpe_error());
	}
	if ((fp = fopen(argv[2], "r")) == NULL)
		err(5, "%s", argv[2]);
	while ((n = getline(&line, &lcap, fp)) != -1) {
		json_t *doc = json_loadb(line, n, 0, NULL);
		const char *q = rk_get_string(doc, "query");

		if (q == NULL)
			errx(3, "%s: a line without a query", argv[2]);
		if (ntext == cap) {
			cap = cap ? cap * 2 : 1024;
			text = rk_xrealloc(text, cap * sizeof(*text));
			len = rk_xrealloc(len, cap * sizeof(*len));
		}
		len[ntext] = json_string_length(json_object_get(doc, "query"));
		text[ntext] = rk_xmalloc(len[ntext]);
		memcpy(text[ntext], q, len[ntext]);
		bytes += len[ntext++];
		json_decref(doc);
	}
	fclose(fp);

	for (int mode = 0; mode < 2; mode++) {
		best = 1e300;
		for (long p = 0; p <= passes; p++) {	/* pass 0 warms up */
			double t0 = rk_now_ms(), t;

			tokens = 0;
			for (size_t i = 0; i < ntext; i++) {
				if (mode == 0) {
					ids.n = 0;
					tokens += rk_bpe_encode(bpe, text[i],
					    len[i], 0, &ids);
				} else
					tokens += rk_bpe_count(bpe, text[i],
					    len[i], 0);
			}
			t = (rk_now_ms() - t0) / 1e3;
			if (p > 0 && t < best)
				best = t;
		}
		printf("%s %s %zu %zu %zu %.4f %.2f %.3f\n",
		    mode ? "ours-count" : "ours-ids", argv[1], ntext, bytes,
		    tokens, best, bytes / 1e6 / best, tokens / 1e6 / best);
	}

	if ((fp = fopen(argv[4], "w")) == NULL)
		err(5, "%s", argv[4]);
	for (size_t i = 0; i < ntext; i++) {
		ids.n = 0;
		rk_bpe_encode(bpe, text[i], len[i], 0, &ids);
		for (size_t j = 0; j < ids.n; j++)
			fprintf(fp, j ? " %u" : "%u", ids.v[j]);
		fputc('\n', fp);
		free(text[i]);
	}
	if (fclose(fp) == EOF)
		err(5, "%s", argv[4]);
	free(text);
	free(len);
	free(line);
	free(ids.v);
	return rk_finish();
}
