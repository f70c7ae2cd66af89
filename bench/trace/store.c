/*
 * trace-store: the in-process cost of storing one record, per call of
 * rk_store_put(), against serializing the same record with rk_write() (the
 * work rk-trace does anyway to pass it on), measured in the same run.
 *
 * The floor under a store that must survive a power loss is the disk's
 * fsync(2): one write of the record and an fsync of a file beside DB is
 * measured too.
 *
 * usage: trace-store RECORD_FILE DB N
 * Stores N copies of the record (each with its own id) into DB, which
 * should not exist, and prints the median and 90th percentile of each.
 */
#include <err.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/rk.h"
#include "store/store.h"

static void
print(const char *what, double *v, long n)
{
	rk_sort_doubles(v, n);
	printf("  %-30s median %8.4f ms  p90 %8.4f ms\n", what, v[n / 2],
	    v[n * 9 / 10]);
}

int
main(int argc, char *argv[])
{
	struct rk_reader *r;
	struct rk_store *st;
	struct rk_error e;
	json_t *rec;
	FILE *fp, *mem;
	char *buf = NULL, id[27];
	size_t len = 0;
	double *put, *ser, *syn, t0;
	char *side;
	long n, i;
	int fd;

	if (rk_init(argv[0], &e) != 0)
		errx(e.code, "%s", e.msg);
	if (argc != 4 || rk_parse_uint(argv[3], 10000000, &n) == -1 || n < 1)
		errx(RK_EXIT_USAGE, "usage: trace-store record-file db n");
	if ((fp = fopen(argv[1], "r")) == NULL)
		err(RK_EXIT_IO, "%s", argv[1]);
	r = rk_reader_new(fp, argv[1]);
	if ((rec = rk_read(r)) == NULL)
		errx(RK_EXIT_INPUT, "%s: no record", argv[1]);
	rk_reader_free(r);
	fclose(fp);
	if ((st = rk_store_open(argv[2], 1, &e)) == NULL)
		errx(e.code, "%s", e.msg);
	if ((mem = open_memstream(&buf, &len)) == NULL)
		err(RK_EXIT_INTERNAL, "memory stream");
	put = rk_xmalloc(n * sizeof(*put));
	ser = rk_xmalloc(n * sizeof(*ser));
	syn = rk_xmalloc(n * sizeof(*syn));
	rk_asprintf(&side, "%s.fsync", argv[2]);
	if ((fd = open(side, O_WRONLY | O_CREAT | O_TRUNC, 0600)) == -1)
		err(RK_EXIT_IO, "%s", side);
	for (i = 0; i < n; i++) {
		rk_ulid(id);
		json_object_set_new(rec, "id", json_string(id));
		t0 = rk_now_ms();
		if (fseeko(mem, 0, SEEK_SET) == -1 || rk_write(mem, rec) == -1)
			err(RK_EXIT_INTERNAL, "memory stream");
		ser[i] = rk_now_ms() - t0;
		t0 = rk_now_ms();
		if (rk_store_put(st, rec, buf, len - 1) == -1)
			errx(RK_EXIT_IO, "%s", rk_store_error(st));
		put[i] = rk_now_ms() - t0;
		t0 = rk_now_ms();
		if (pwrite(fd, buf, len, 0) != (ssize_t)len || fsync(fd) == -1)
			err(RK_EXIT_IO, "%s", side);
		syn[i] = rk_now_ms() - t0;
	}
	close(fd);
	unlink(side);
	free(side);
	printf("  %ld records of %zu bytes\n", n, len);
	print("serialize (rk_write)", ser, n);
	print("store (rk_store_put)", put, n);
	print("write + fsync beside it", syn, n);
	if (rk_store_close(st, &e) != 0)
		errx(e.code, "%s", e.msg);
	fclose(mem);
	free(buf);
	free(put);
	free(ser);
	free(syn);
	json_decref(rec);
	return rk_finish();
}
