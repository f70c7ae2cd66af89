/*
 * store.c: rk-trace's store mode, the end of a think pipeline, and import:
 * records read, each stored and (but for import) written on
 */
#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/rk.h"
#include "think/think.h"
#include "store/store.h"
#include "trace/trace.h"

/* --- store mode ------------------------------------------------------ */

struct tee {
	struct rk_store	*st;
	FILE		*mem;		/* the record as rk_write() writes it */
	char		*buf;
	size_t		 len;
	int		 text;
	int		 out_ok;
	long		 n;
};

/*
 * raw: the line the record came from, when it is the record as it is; it
 * is stored and written on byte for byte.  Records that rk_read() made or
 * changed (a question, an added envelope, an error) are written anew.
 */
static void
tee_record(struct tee *t, json_t *rec, const char *raw, size_t rawlen)
{
	json_t *written = NULL;
	const char *out = raw;
	size_t outlen = rawlen;

	if (raw == NULL) {
		int rc;

		if (fseeko(t->mem, 0, SEEK_SET) == -1 ||
		    (rc = rk_write(t->mem, rec)) == -1)
			err(RK_EXIT_INTERNAL, "memory stream");
		out = t->buf;
		outlen = t->len - 1;
		if (rc == RK_EXIT_INPUT &&
		    (written = json_loadb(t->buf, t->len, 0, NULL)) != NULL) {
			rec = written;	/* rk_write() put an error record */
			rk_exit_status(RK_EXIT_INPUT);
		}
	}
	if (rk_has_error(rec))
		rk_exit_status(rk_error_status(rec));
	if (t->st != NULL && rk_store_put(t->st, rec, out, outlen) == -1)
		store_failed(t->st, RK_EXIT_IO);
	if (t->out_ok) {
		int rc;

		if (!t->text)
			rc = rk_write_line(stdout, out, outlen);
		else {
			if (t->n > 0)
				putchar('\n');
			rk_report(stdout, rec, &style);
			rc = fflush(stdout) == EOF ? -1 : 0;
		}
		if (rc == -1) {
			/* said once here; keep storing what comes */
			warn("stdout");
			rk_exit_status(RK_EXIT_IO);
			clearerr(stdout);
			t->out_ok = 0;
		}
	}
	t->n++;
	json_decref(written);
}

static void
tee_file(struct tee *t, int fd, const char *name)
{
	struct rk_reader *r = rk_reader_fd(fd, name);
	const char *line;
	json_t *rec;
	size_t len;
	int obj;

	while ((line = rk_read_raw(r, &len, &obj)) != NULL) {
		rec = rk_reader_record(r);
		tee_record(t, rec, obj && rk_reader_verbatim(r) ? line : NULL,
		    len);
		json_decref(rec);
	}
	rk_exit_status(rk_reader_status(r));
	rk_reader_free(r);
}

/* store mode, and import (quiet: store only, write nothing on) */
int
store_mode(int argc, char *argv[], int quiet, int nostore, long expect)
{
	struct tee t;
	int i, fd;

	/* a reader that goes away does not stop the storing */
	signal(SIGPIPE, SIG_IGN);
	memset(&t, 0, sizeof(t));
	t.text = text_output();
	t.out_ok = !quiet;
	if (!nostore)
		t.st = open_store(STORE_CREATE);
	if ((t.mem = open_memstream(&t.buf, &t.len)) == NULL)
		err(RK_EXIT_INTERNAL, "memory stream");
	if (argc == 0)
		tee_file(&t, STDIN_FILENO, "stdin");
	for (i = 0; i < argc; i++) {
		if (strcmp(argv[i], "-") == 0)
			tee_file(&t, STDIN_FILENO, "stdin");
		else if ((fd = open(argv[i], O_RDONLY)) == -1) {
			warn("%s", argv[i]);
			rk_exit_status(RK_EXIT_IO);
		} else {
			tee_file(&t, fd, argv[i]);
			close(fd);
		}
	}
	fclose(t.mem);
	free(t.buf);
	close_store(t.st);
	if (expect >= 0 && t.n < expect) {
		/* a stage before us died and took its records with it */
		warnx("expected %ld record%s, got %ld: an earlier stage failed",
		    expect, expect == 1 ? "" : "s", t.n);
		rk_exit_status(RK_EXIT_FAILED);
	}
	return rk_finish();
}
