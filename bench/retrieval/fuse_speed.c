/*
 * In-process cost of rk_fuse(): RRF (and the other methods) of two lists
 * of 100 hits that share half their documents, against the architecture's
 * budget of 20 us for an RRF of 100 items.
 *
 * usage: rk-fuse-speed [ROUNDS]
 */
#include <stdio.h>
#include <stdlib.h>

#include "core/rk.h"
#include "search/search.h"

int
main(int argc, char *argv[])
{
	static const char *names[] = { "rrf", "combsum", "combmnz", "rbf" };
	struct rk_fuse_hit a[100], b[100];
	struct rk_fuse_list lists[2] = { { a, 100, 1 }, { b, 100, 1 } };
	char ids[150][16];
	long rounds = argc > 1 ? atol(argv[1]) : 20000;
	double *t = rk_xmalloc(rounds * sizeof(*t));

	rk_init(argv[0], NULL);
	for (int i = 0; i < 150; i++)
		snprintf(ids[i], sizeof(ids[i]), "doc%d", (i * 7919) % 100003);
	for (int i = 0; i < 100; i++) {
		a[i] = (struct rk_fuse_hit){ ids[i], 0, 100.0 - i, NULL };
		b[i] = (struct rk_fuse_hit){ ids[149 - i], 0, 50.0 - i / 2.0,
		    NULL };
	}
	for (int m = 0; m < 4; m++) {
		struct rk_fuse_opts o = { m, RK_NORM_MINMAX, 60, 0.8, 0 };
		struct rk_fused *f;
		size_t n = 0;

		for (long r = 0; r < rounds; r++) {
			double t0 = rk_now_ms();

			n = rk_fuse(&o, lists, 2, &f);
			t[r] = (rk_now_ms() - t0) * 1000;
			free(f);
		}
		rk_sort_doubles(t, rounds);
		printf("%-8s 2 x 100 hits -> %zu: p50 %6.2f us  p99 %6.2f us\n",
		    names[m], n, t[rounds / 2], t[rounds * 99 / 100]);
	}
	free(t);
	return rk_finish();
}
