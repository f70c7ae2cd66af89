/*
 * The index loader: the input is an index database file (written to a
 * scratch file, as SQLite reads files); it is opened, its statistics read,
 * a few queries run and their hits' texts read.  A damaged index must be
 * an error, never a crash nor an allocation the file cannot account for.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/rk.h"
#include "search/search.h"
#include "fuzz.h"

static char *path, *journal, *wal, *shm;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	rk_init("fuzz-index", NULL);
	path = fuzz_path("index.db");
	rk_asprintf(&journal, "%s-journal", path);
	rk_asprintf(&wal, "%s-wal", path);
	rk_asprintf(&shm, "%s-shm", path);
	return 0;
}

static void
query(struct rk_index *ix, const char *q, int per_doc)
{
	struct rk_index_params p;
	struct rk_hit *hits = NULL;
	size_t n = 0;

	rk_index_params(ix, &p);
	if (rk_index_search(ix, q, &p, 10, per_doc, &hits, &n) == 0)
		for (size_t i = 0; i < n; i++) {
			char *doc = NULL, *text = NULL;
			long chunk;

			if (rk_index_hit(ix, hits[i].rowid, &doc, &chunk,
			    &text) == 0) {
				FUZZ_CHECK(doc != NULL && text != NULL,
				    "a hit without its text");
			}
			free(doc);
			free(text);
		}
	free(hits);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *queries[] = { "cats sleep", "coffee", "the",
	    "dog OR tea \"health\"", "caffeine diabetes hours" };
	struct rk_index *ix;

	unlink(journal);
	unlink(wal);
	unlink(shm);
	fuzz_write(path, data, size);
	ix = rk_index_open(path, 0, NULL);
	FUZZ_CHECK(ix != NULL, "rk_index_open");
	if (*rk_index_error(ix) == '\0') {
		free(rk_index_stats(ix));
		for (size_t i = 0; i < sizeof(queries) / sizeof(*queries); i++)
			query(ix, queries[i], i % 2);
	}
	rk_index_close(ix);
	return 0;
}
