/*
 * A term's postings read straight from the FTS5 index's segments (table
 * fts_data), without going through FTS5's query machinery, which costs
 * far more per posting than the decoding itself.  Only what BM25 needs is
 * read: each rowid and the number of positions of the term in it.
 *
 * The format is FTS5's (SQLite's ext/fts5/fts5_index.c describes it):
 *
 *   structure record (id 10): 4-byte cookie, then varints: levels,
 *     segments, write counter, and per level: segments in an ongoing
 *     merge, segments, and per segment, oldest first: id, first and last
 *     leaf page;
 *   averages record (id 1): varints: rows, tokens per column;
 *   leaf page (id segid << 37 | pgno): two 16-bit big-endian offsets (the
 *     first rowid on the page, if before the first term, else 0; the end
 *     of the data, where the page's term offsets start), terms and
 *     doclists, then the term offsets, delta-coded;
 *   doclist: rowid varint (absolute at the start of a doclist or of a
 *     page, else a delta), then the position list: a varint of its size
 *     in bytes times 2, plus 1 for "delete", and one varint per position
 *     (the table has one column, so no column markers);
 *   table fts_idx(segid, term, pgno): the first term of each leaf page
 *     but a segment's first, with pgno << 1 | has-doclist-index.
 *
 * Terms in the index carry a leading '0' (the main index, not a prefix
 * index).  Varints are SQLite's: big-endian groups of 7 bits, at most 9
 * bytes.  A list may run over several pages, but no varint is split.
 *
 * Anything the reader does not expect (a newer structure format, a
 * config version other than 4, an offset out of bounds) makes it return
 * -1, and the caller asks FTS5 instead.  The structure is read again only
 * when the database has changed (rk_seg_refresh()).
 */
#include <stdlib.h>
#include <string.h>

#include "core/rk.h"
#include "search/search.h"

#define STRUCTURE_ID	10
#define AVERAGES_ID	1
#define PAGE_PAD	32		/* zero bytes after a page: varints */
#define KEY_MAX		(RK_TOKEN_MAX + 2)	/* '0', a term, spare */
#define PAGE_ID(seg, pg) (((int64_t)(seg) << 37) + (pg))

struct segment {
	int	id, first, last;
};

/* a record of fts_data, PAGE_PAD zeros after it; a leaf's szleaf */
struct leaf {
	sqlite3_blob *blob;
	unsigned char *page;
	int	 pagecap, nn, szleaf;
};

struct rk_seg {
	sqlite3	*db;
	sqlite3_stmt *idx;
	struct segment *seg;	/* newest first */
	size_t	 nseg;
	int64_t	 nrows, ntokens;
	struct leaf l;		/* the current leaf */
};

static int
getvarint(const unsigned char *p, uint64_t *v)
{
	uint64_t x = 0;
	int i;

	for (i = 0; i < 8; i++) {
		x = x << 7 | (p[i] & 0x7f);
		if ((p[i] & 0x80) == 0) {
			*v = x;
			return i + 1;
		}
	}
	*v = x << 8 | p[8];
	return 9;
}

/* most varints in a doclist are one byte */
static inline int
varint(const unsigned char *p, uint64_t *v)
{
	if (*p < 0x80) {
		*v = *p;
		return 1;
	}
	return getvarint(p, v);
}

/* record id of table fts_data of db into l */
static int
load(sqlite3 *db, struct leaf *l, int64_t id)
{
	int n, rc;

	rc = l->blob ? sqlite3_blob_reopen(l->blob, id) :
	    sqlite3_blob_open(db, "main", "fts_data", "block", id, 0,
	    &l->blob);
	if (rc != SQLITE_OK) {
		sqlite3_blob_close(l->blob);
		l->blob = NULL;
		return -1;
	}
	n = sqlite3_blob_bytes(l->blob);
	if (n + PAGE_PAD > l->pagecap) {
		l->pagecap = n + PAGE_PAD;
		l->page = rk_xrealloc(l->page, l->pagecap);
	}
	if (sqlite3_blob_read(l->blob, l->page, n, 0) != SQLITE_OK)
		return -1;
	memset(l->page + n, 0, PAGE_PAD);
	l->nn = n;
	return 0;
}

static int
load_leaf(sqlite3 *db, struct leaf *l, const struct segment *sg, int pgno)
{
	if (load(db, l, PAGE_ID(sg->id, pgno)) == -1 || l->nn < 4)
		return -1;
	l->szleaf = l->page[2] << 8 | l->page[3];
	return l->szleaf < 4 || l->szleaf > l->nn ? -1 : 0;
}

static int
config_version(sqlite3 *db)
{
	sqlite3_stmt *st;
	int v = -1;

	if (sqlite3_prepare_v2(db, "SELECT v FROM fts_config WHERE "
	    "k = 'version'", -1, &st, NULL) != SQLITE_OK)
		return -1;
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return v;
}

/* the next varint of a record, or -1 past its end */
static int
field(const unsigned char **p, const unsigned char *end, uint64_t *v)
{
	if (*p >= end)
		return -1;
	*p += getvarint(*p, v);
	return *p > end ? -1 : 0;
}

/* the segments, newest first: level 0 first, a level's last first */
static int
read_structure(struct rk_seg *s)
{
	const unsigned char *p, *end;
	uint64_t nlevel, nseg, v, inlevel, id, first, last;
	size_t n = 0;

	if (load(s->db, &s->l, STRUCTURE_ID) == -1 || s->l.nn < 7)
		return -1;
	p = s->l.page + 4;	/* after the cookie */
	end = s->l.page + s->l.nn;
	if (s->l.nn >= 8 && memcmp(p, "\xff\x00\x00\x01", 4) == 0)
		return -1;	/* V2: contentless_delete, not ours */
	if (field(&p, end, &nlevel) == -1 || field(&p, end, &nseg) == -1 ||
	    field(&p, end, &v) == -1 || nseg > 65536 || nlevel > 64)
		return -1;
	s->seg = rk_xmalloc((nseg ? nseg : 1) * sizeof(*s->seg));
	for (uint64_t i = 0; i < nlevel; i++) {
		if (field(&p, end, &v) == -1 ||
		    field(&p, end, &inlevel) == -1 || inlevel > nseg - n)
			return -1;
		for (uint64_t j = 0; j < inlevel; j++) {
			struct segment *sg = &s->seg[n + inlevel - 1 - j];

			if (field(&p, end, &id) == -1 ||
			    field(&p, end, &first) == -1 ||
			    field(&p, end, &last) == -1 || id == 0 ||
			    id > 65535 || first == 0 || first > last ||
			    last >= 0x7fffffff)	/* last + 1 is an int */
				return -1;
			sg->id = id;
			sg->first = first;
			sg->last = last;
		}
		n += inlevel;
	}
	s->nseg = n;
	return n == nseg ? 0 : -1;
}

static int
read_averages(struct rk_seg *s)
{
	const unsigned char *p, *end;
	uint64_t rows, tokens;

	s->nrows = s->ntokens = 0;
	if (load(s->db, &s->l, AVERAGES_ID) == -1)
		return -1;
	if (s->l.nn == 0)
		return 0;	/* an empty index */
	p = s->l.page;
	end = p + s->l.nn;
	if (field(&p, end, &rows) == -1 || field(&p, end, &tokens) == -1)
		return -1;
	s->nrows = rows;
	s->ntokens = tokens;
	return 0;
}

/* a reader of the FTS5 table fts of db; rk_seg_refresh() before use */
struct rk_seg *
rk_seg_open(sqlite3 *db)
{
	struct rk_seg *s = rk_xmalloc(sizeof(*s));

	memset(s, 0, sizeof(*s));
	s->db = db;
	if (sqlite3_prepare_v3(db, "SELECT pgno FROM fts_idx WHERE "
	    "segid = ?1 AND term <= ?2 ORDER BY term DESC LIMIT 1", -1,
	    SQLITE_PREPARE_PERSISTENT, &s->idx, NULL) != SQLITE_OK) {
		rk_seg_close(s);
		return NULL;
	}
	return s;
}

/*
 * Read the index's segments and totals again, inside a read transaction:
 * 0, or -1 if its format is not one we read (use FTS5's API then).
 */
int
rk_seg_refresh(struct rk_seg *s)
{
	int rc;

	free(s->seg);
	s->seg = NULL;
	s->nseg = 0;
	rc = config_version(s->db) != 4 || read_structure(s) == -1 ||
	    read_averages(s) == -1 ? -1 : 0;
	rk_seg_release(s);
	return rc;
}

/* let go of the table: before the read transaction ends */
void
rk_seg_release(struct rk_seg *s)
{
	sqlite3_blob_close(s->l.blob);
	s->l.blob = NULL;
}

void
rk_seg_close(struct rk_seg *s)
{
	if (s == NULL)
		return;
	rk_seg_release(s);
	sqlite3_finalize(s->idx);
	free(s->seg);
	free(s->l.page);
	free(s);
}

void
rk_seg_stats(const struct rk_seg *s, int64_t *nrows, int64_t *ntokens,
    size_t *nseg)
{
	*nrows = s->nrows;
	*ntokens = s->ntokens;
	*nseg = s->nseg;
}

/* the leaf page of segment sg on which key may start (past the last: none) */
static int
find_page(struct rk_seg *s, const struct segment *sg,
    const unsigned char *key, int klen)
{
	int64_t pg = sg->first;

	sqlite3_bind_int(s->idx, 1, sg->id);
	sqlite3_bind_blob(s->idx, 2, key, klen, SQLITE_STATIC);
	if (sqlite3_step(s->idx) == SQLITE_ROW)
		pg = sqlite3_column_int64(s->idx, 0) >> 1;	/* dlidx bit */
	sqlite3_reset(s->idx);
	return pg < sg->first ? sg->first : pg > sg->last ? sg->last + 1 : pg;
}

/*
 * Find key among the terms of the loaded leaf: 1 and the offset of its
 * doclist in *start and of the next term in *next (0: the last term on
 * the page), 0 if absent, -1 if the page is not as expected.  The terms
 * are sorted and prefix-coded: a term that keeps fewer bytes of the one
 * before than key matched is past key; one that keeps more is before it.
 */
static int
find_term(const struct leaf *l, const unsigned char *key, int klen,
    int *start, int *next)
{
	const unsigned char *a = l->page;
	int pgidx = l->szleaf, off, termoff, first = 1;
	uint64_t v, keep = 0, nnew, matched = 0, i;

	if (pgidx >= l->nn)
		return 0;	/* no term starts on this page */
	pgidx += getvarint(a + pgidx, &v);
	termoff = v;
	for (;;) {
		if (termoff < 4 || termoff >= l->szleaf)
			return -1;
		off = termoff;
		if (!first)
			off += getvarint(a + off, &keep);
		off += getvarint(a + off, &nnew);
		if (off + nnew > (uint64_t)l->szleaf || (first && nnew == 0))
			return -1;
		if (pgidx < l->nn) {
			pgidx += getvarint(a + pgidx, &v);
			if (v == 0 || v >= (uint64_t)(l->szleaf - termoff))
				return -1;
			*next = termoff + v;
		} else
			*next = 0;
		if (keep < matched)
			return 0;
		if (keep == matched) {
			for (i = 0; i < nnew && matched + i < (uint64_t)klen &&
			    a[off + i] == key[matched + i]; i++)
				;
			matched += i;
			if (matched == (uint64_t)klen) {
				if (i < nnew)
					return 0;
				*start = off + nnew;
				return 1;
			}
			if (i < nnew && a[off + i] > key[matched])
				return 0;
		}
		if (*next == 0)
			return 0;
		termoff = *next;
		first = 0;
	}
}

/* the number of varints in n bytes: each ends with a byte under 0x80 */
static int
count_positions(const unsigned char *p, int n)
{
	int c = 0;

	for (int i = 0; i < n; i++)
		c += p[i] < 0x80;
	return c;
}

/* room for n more postings */
static void
reserve(struct rk_postings *out, size_t n)
{
	if (out->cap - out->n >= n)
		return;
	while (out->cap - out->n < n)
		out->cap = out->cap ? out->cap * 2 : 1024;
	out->v = rk_xrealloc(out->v, out->cap * sizeof(*out->v));
}

void
rk_postings_add(struct rk_postings *out, int64_t rowid, int tf)
{
	reserve(out, 1);
	out->v[out->n].rowid = rowid;
	out->v[out->n].tf = tf;
	out->n++;
}

/*
 * Sort v[0..n) by rowid, equal rowids kept in their order (the newest
 * segment's entry first); tmp holds n.  Each segment's list is sorted,
 * so most merges find their halves already in order.
 */
static void
sort_postings(struct rk_posting *v, struct rk_posting *tmp, size_t n)
{
	size_t h = n / 2, i = 0, j = h, o = 0;

	if (n < 2)
		return;
	sort_postings(v, tmp, h);
	sort_postings(v + h, tmp, n - h);
	if (v[h - 1].rowid <= v[h].rowid)
		return;
	memcpy(tmp, v, n * sizeof(*v));
	while (i < h && j < n)
		v[o++] = tmp[j].rowid < tmp[i].rowid ? tmp[j++] : tmp[i++];
	while (i < h)
		v[o++] = tmp[i++];
	while (j < n)
		v[o++] = tmp[j++];
}

/*
 * Put the postings of a term, from p->v[start] on, in rowid order;
 * current: read from several segments newest first, keep a rowid's
 * first entry, and that only if it is not a delete.
 */
void
rk_postings_order(struct rk_postings *p, size_t start, int current)
{
	struct rk_posting *v, *tmp;
	size_t n = p->n - start, m = 0, i;

	if (n == 0)
		return;
	v = p->v + start;
	for (i = 1; i < n && v[i - 1].rowid <= v[i].rowid; i++)
		;
	if (i < n) {
		tmp = rk_xmalloc(n * sizeof(*tmp));
		sort_postings(v, tmp, n);
		free(tmp);
	}
	if (!current)
		return;
	for (i = 0; i < n; i++)
		if ((i == 0 || v[i].rowid != v[i - 1].rowid) && v[i].tf > 0)
			v[m++] = v[i];
	p->n = start + m;
}

/* count the positions of *left bytes of list there are on the page */
static int
take_positions(const unsigned char *a, int *off, int lim, uint64_t *left)
{
	uint64_t room = lim - *off, take = *left < room ? *left : room;
	int n = take == 1 ? 1 : count_positions(a + *off, take);

	*off += take;
	*left -= take;
	return n;
}

/*
 * Walk a doclist from offset off of the loaded leaf pgno of sg, which
 * ends at offset next of this page or, if next is 0, runs on over the
 * following pages up to the first term of one of them.  Each rowid goes
 * to out with its position count; "delete" entries, count 0, only when
 * there are older segments for them to hide entries of.
 */
static int
walk(struct rk_seg *s, const struct segment *sg, int pgno, int off,
    int next, struct rk_postings *out)
{
	const unsigned char *a = s->l.page;
	int lim = next ? next : s->l.szleaf, more = next == 0, tf = 0, first;
	uint64_t v, left = 0;
	int64_t rowid = 0;	/* the first rowid of a page is absolute */
	int deletes = s->nseg > 1;	/* hide older segments' entries */

	if (off > lim)
		return -1;
	for (;;) {
		/* an entry takes 2 bytes at least */
		reserve(out, (lim - off) / 2 + 1);
		while (off < lim && left == 0) {
			off += varint(a + off, &v);
			rowid += v;
			off += varint(a + off, &v);
			left = v >> 1;
			if (off > lim)
				return -1;
			tf = take_positions(a, &off, lim, &left);
			if (left == 0) {
				out->v[out->n].rowid = rowid;
				out->v[out->n].tf = tf;
				out->n += tf > 0 || deletes;
			}
		}
		if (off > lim)
			return -1;
		if (!more || ++pgno > sg->last)
			return left ? -1 : 0;
		if (load_leaf(s->db, &s->l, sg, pgno) == -1)
			return -1;
		a = s->l.page;
		first = a[0] << 8 | a[1];
		more = s->l.nn == s->l.szleaf;
		lim = s->l.szleaf;
		if (!more)
			getvarint(a + s->l.szleaf, &v), lim = v;
		if (lim < 4 || lim > s->l.szleaf)
			return -1;
		off = 4;
		if (left > 0) {
			tf += take_positions(a, &off, lim, &left);
			if (left > 0)
				continue;	/* on over the whole page */
			rk_postings_add(out, rowid, tf);
		}
		if (first == 0)
			return 0;	/* the doclist ended on the last page */
		if (first != off || first >= lim)
			return -1;
		rowid = 0;
	}
}

/*
 * Append the postings of term (as indexed, without the '0') in every
 * segment to out, newest segment first: a rowid's first entry is its
 * current state (with one segment, there are no "delete" entries in
 * out).  0, or -1 if the index is not as expected.
 */
int
rk_seg_term(struct rk_seg *s, const char *term, size_t len,
    struct rk_postings *out)
{
	unsigned char key[KEY_MAX];
	int klen, start, next, pg, rc;

	if (len == 0 || len + 1 > KEY_MAX)
		return -1;
	key[0] = '0';
	memcpy(key + 1, term, len);
	klen = len + 1;
	for (size_t i = 0; i < s->nseg; i++) {
		const struct segment *sg = &s->seg[i];

		if ((pg = find_page(s, sg, key, klen)) > sg->last)
			continue;
		if (load_leaf(s->db, &s->l, sg, pg) == -1 ||
		    (rc = find_term(&s->l, key, klen, &start, &next)) == -1)
			return -1;
		if (rc == 1 && walk(s, sg, pg, start, next, out) == -1)
			return -1;
	}
	return 0;
}

/*
 * The terms of one segment in order, read from the term offsets at the
 * foot of each leaf page (doclists are not decoded, but for a look at
 * each term's first entries), each with page_live() of its doclist.
 */
struct cursor {
	const struct segment *sg;
	struct leaf l;
	int	 pgno;
	int	 pgidx;		/* the next term offset in the page's foot */
	int	 termoff;	/* the term's offset; 0: none yet on the page */
	unsigned char key[KEY_MAX];
	int	 klen;
	int	 live;
};

/*
 * Whether the doclist at off, which ends by lim, has an entry that holds
 * the term (not a "delete") on this page: 1, 0, or -1 if it runs on.
 */
static int
page_live(const struct leaf *l, int off, int lim)
{
	uint64_t v;

	while (off < lim) {
		off += getvarint(l->page + off, &v);	/* rowid */
		if (off >= lim)
			return -1;
		off += getvarint(l->page + off, &v);	/* size * 2 + delete */
		if (v >> 1 > 0)
			return off > lim ? -1 : 1;
		if (off > lim)
			return -1;
	}
	return lim == l->szleaf ? -1 : 0;
}

/* the term at the cursor's next offset on its page: 0, or -1 if damaged */
static int
cursor_term(struct cursor *c)
{
	const unsigned char *a = c->l.page;
	int szleaf = c->l.szleaf, first = c->termoff == 0, off, lim;
	uint64_t v, keep = 0, nnew;

	c->pgidx += getvarint(a + c->pgidx, &v);
	if ((!first && v == 0) || v >= (uint64_t)(szleaf - c->termoff))
		return -1;
	c->termoff += v;
	if (c->termoff < 4)
		return -1;
	off = c->termoff;
	if (!first)
		off += getvarint(a + off, &keep);
	off += getvarint(a + off, &nnew);
	if (keep > (uint64_t)c->klen || nnew > KEY_MAX - keep ||
	    off + nnew > (uint64_t)szleaf || keep + nnew == 0)
		return -1;
	memcpy(c->key + keep, a + off, nnew);
	c->klen = keep + nnew;
	lim = szleaf;
	if (c->pgidx < c->l.nn) {
		getvarint(a + c->pgidx, &v);
		if (v < (uint64_t)(szleaf - c->termoff))
			lim = c->termoff + (int)v;
	}
	c->live = page_live(&c->l, off + nnew, lim);
	return 0;
}

/* the next term: 1, 0 past the segment's last, -1 if damaged */
static int
cursor_next(sqlite3 *db, struct cursor *c)
{
	while (c->pgidx >= c->l.nn) {
		if (++c->pgno > c->sg->last)
			return 0;
		if (load_leaf(db, &c->l, c->sg, c->pgno) == -1)
			return -1;
		c->pgidx = c->l.szleaf;
		c->termoff = 0;
	}
	return cursor_term(c) == 0 ? 1 : -1;
}

/* the cursors' terms in FTS5's order: bytewise, a prefix first */
static int
keycmp(const struct cursor *a, const struct cursor *b)
{
	int c = memcmp(a->key, b->key, a->klen < b->klen ? a->klen : b->klen);

	return c != 0 ? c : (a->klen > b->klen) - (a->klen < b->klen);
}

/*
 * Whether some row holds key, by its entries in every segment: a row's
 * entry in the newest segment that has one is its state.  1, 0, or -1.
 */
static int
key_live(struct rk_seg *s, const unsigned char *key, int klen)
{
	struct rk_postings p = { NULL, 0, 0 };
	int rc = -1;

	if (key[0] == '0' && rk_seg_term(s, (const char *)key + 1, klen - 1,
	    &p) == 0) {
		rk_postings_order(&p, 0, s->nseg > 1);
		rc = p.n > 0;
	}
	free(p.v);
	return rc;
}

/*
 * The number of distinct terms that some row holds, as FTS5's vocabulary
 * table counts them, in *n: the segments' term lists merged, a term
 * counted if its newest segment's doclist holds it on the page where it
 * starts (else by its entries in every segment).  0, or -1 if the index
 * is not as expected (ask FTS5).
 */
int
rk_seg_count_terms(struct rk_seg *s, int64_t *n)
{
	struct cursor *c = rk_xcalloc(s->nseg ? s->nseg : 1, sizeof(*c));
	int *at = rk_xcalloc(s->nseg ? s->nseg : 1, sizeof(*at)), rc = 0;
	size_t i, best;

	*n = 0;
	for (i = 0; i < s->nseg && rc == 0; i++) {
		c[i].sg = &s->seg[i];
		c[i].pgno = c[i].sg->first - 1;
		rc = (at[i] = cursor_next(s->db, &c[i])) == -1 ? -1 : 0;
	}
	while (rc == 0) {
		for (best = i = 0; i < s->nseg; i++)
			if (at[i] == 1 && (at[best] != 1 ||
			    keycmp(&c[i], &c[best]) < 0))
				best = i;
		if (s->nseg == 0 || at[best] != 1)
			break;
		/* best is the newest segment that holds the least term */
		if ((rc = c[best].live) == -1 || (rc == 0 && s->nseg > 1))
			rc = key_live(s, c[best].key, c[best].klen);
		if (rc == -1)
			break;
		*n += rc;
		rc = 0;
		for (i = s->nseg; i-- > best; )
			if (at[i] == 1 && keycmp(&c[i], &c[best]) == 0 &&
			    (at[i] = cursor_next(s->db, &c[i])) == -1)
				rc = -1;
	}
	for (i = 0; i < s->nseg; i++) {
		sqlite3_blob_close(c[i].l.blob);
		free(c[i].l.page);
	}
	free(c);
	free(at);
	rk_seg_release(s);
	return rc;
}
