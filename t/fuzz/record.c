/*
 * The record reader: the same bytes through the stdio reader and the
 * descriptor reader must give the same lines and records, every record is
 * an object with an envelope, and what rk_write() makes of it is one line
 * of JSON.  The first byte chooses the record limit (10M, or 1K to 9K),
 * so that over-long lines and records are read and written too.
 */
#define _GNU_SOURCE		/* memfd_create */
#include <sys/mman.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/rk.h"
#include "fuzz.h"

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	rk_init("fuzz-record", NULL);
	return 0;
}

/* what rk_write() makes of rec: one line, an object again */
static void
check_written(json_t *rec)
{
	char *out = NULL;
	size_t len = 0;
	FILE *fp = open_memstream(&out, &len);
	json_t *again;
	int rc;

	FUZZ_CHECK(fp != NULL, "open_memstream");
	/* RK_EXIT_INPUT: replaced by an error record, over the limit */
	rc = rk_write(fp, rec);
	FUZZ_CHECK(rc == 0 || rc == RK_EXIT_INPUT, "rk_write failed");
	fclose(fp);
	FUZZ_CHECK(len > 0 && out[len - 1] == '\n' &&
	    memchr(out, '\n', len - 1) == NULL, "not one line: %s", out);
	again = json_loadb(out, len, JSON_REJECT_DUPLICATES, NULL);
	FUZZ_CHECK(json_is_object(again), "rk_write wrote bad JSON: %s", out);
	json_decref(again);
	free(out);
}

static void
check_record(json_t *rec)
{
	FUZZ_CHECK(json_is_object(rec), "a record that is not an object");
	FUZZ_CHECK(json_object_get(rec, "rk") != NULL &&
	    json_is_string(json_object_get(rec, "id")), "no envelope");
	check_written(rec);
}

/* a descriptor holding data, at its start */
static int
memfd(const uint8_t *data, size_t size)
{
	int fd = memfd_create("fuzz-record", 0);

	FUZZ_CHECK(fd != -1, "memfd_create");
	FUZZ_CHECK(size == 0 || write(fd, data, size) == (ssize_t)size,
	    "write");
	lseek(fd, 0, SEEK_SET);
	return fd;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rk_reader *a, *b;
	const char *la, *lb;
	size_t na, nb;
	int oa, ob, fd;
	FILE *fp;

	if (size < 1)
		return 0;
	rk_limits.record = data[0] < 128 ? 10u << 20 :
	    1024 + (data[0] - 128) * 64;
	data++, size--;
	/* glibc's fmemopen wants a buffer of one byte at least */
	if ((fp = fmemopen((void *)(size ? data : (const uint8_t *)"\n"),
	    size ? size : 1, "r")) == NULL)
		return 0;
	a = rk_reader_new(fp, "fuzz");
	b = rk_reader_fd(fd = memfd(data, size), "fuzz");
	for (;;) {
		json_t *ra, *rb;

		la = rk_read_raw(a, &na, &oa);
		lb = rk_read_raw(b, &nb, &ob);
		if (la == NULL || lb == NULL)
			break;
		FUZZ_CHECK(na == nb && memcmp(la, lb, na) == 0 && oa == ob,
		    "the stdio and fd readers read different lines");
		FUZZ_CHECK(na <= rk_limits.record, "a line over the limit");
		ra = rk_reader_record(a);
		rb = rk_reader_record(b);
		check_record(ra);
		FUZZ_CHECK(rk_reader_verbatim(a) == rk_reader_verbatim(b),
		    "verbatim differs");
		if (rk_reader_verbatim(a))
			FUZZ_CHECK(json_equal(ra, rb), "records differ");
		FUZZ_CHECK(rk_has_error(ra) == rk_has_error(rb),
		    "one reader saw an error");
		json_decref(ra);
		json_decref(rb);
	}
	FUZZ_CHECK(la == NULL && lb == NULL, "one reader ended early");
	FUZZ_CHECK(rk_reader_bad(a) == rk_reader_bad(b), "bad counts differ");
	rk_reader_free(a);
	rk_reader_free(b);
	fclose(fp);
	close(fd);
	rk_limits.record = 10u << 20;
	return 0;
}
