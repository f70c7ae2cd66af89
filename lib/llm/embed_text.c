/*
 * Vectors as text, and made from text: the offline model (a hashed bag of
 * words, which the fake server answers with too) and the JSON numbers
 * rk-embed writes.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/rk.h"
#include "llm/llm.h"

static uint64_t
fnv1a(const char *s, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	for (size_t i = 0; i < n; i++)
		h = (h ^ (unsigned char)s[i]) * 0x100000001b3ULL;
	return h;
}

/*
 * The offline model: each word (a run of ASCII letters and digits and of
 * bytes over 127, ASCII lowercased) counts 1 in the dimension its FNV-1a
 * hash picks of dim; the counts are scaled to length 1.  Texts that share
 * words are near.  A text without words is one empty word.
 */
void
rk_embed_hash(const char *text, size_t dim, float *out)
{
	char w[256];
	size_t n = 0;
	double sum = 0;

	memset(out, 0, dim * sizeof(*out));
	for (const char *p = text;; p++) {
		unsigned char ch = (unsigned char)*p;

		if ((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
		    ch >= 128 || (ch >= 'A' && ch <= 'Z')) {
			if (n < sizeof(w))
				w[n++] = ch >= 'A' && ch <= 'Z' ?
				    (char)(ch - 'A' + 'a') : (char)ch;
			continue;
		}
		if (n > 0 || (ch == '\0' && sum == 0)) {
			uint64_t h = fnv1a(w, n);

			out[h % dim] += 1.0f;
			sum = 1;
			n = 0;
		}
		if (ch == '\0')
			break;
	}
	sum = 0;
	for (size_t i = 0; i < dim; i++)
		sum += (double)out[i] * out[i];
	for (size_t i = 0; sum > 0 && i < dim; i++)
		out[i] = (float)(out[i] / sqrt(sum));
}

static const double pow10[] = { 1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7,
    1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19,
    1e20, 1e21, 1e22 };

/* d * 10^e, correctly rounded where 10^e is exact: 0, or -1 */
static int
scale10(double d, int e, double *out)
{
	if (e > 22 || e < -22)
		return -1;
	*out = e >= 0 ? d * pow10[e] : d / pow10[-e];
	return 0;
}

/*
 * The decimal c * 10^e (c > 0, no trailing zeros) as JSON, the shorter
 * of plain and exponent notation: its length.
 */
static size_t
decimal_text(uint32_t c, int e, char *buf)
{
	char dig[24], *p = buf;
	int n = 0, x, plain, expo;

	for (uint32_t k = c; k > 0; k /= 10)
		n++;
	for (int i = n - 1; i >= 0; i--, c /= 10)
		dig[i] = (char)('0' + c % 10);
	dig[n] = '\0';
	x = e + n - 1;
	plain = e >= 0 ? n + e : n + e > 0 ? n + 1 : 2 - e;
	expo = n + (n > 1) + 1 + (x < 0) + (abs(x) >= 10) + 1;

	if (plain > expo)
		return (size_t)snprintf(buf, 32, "%c%s%.*se%d", dig[0],
		    n > 1 ? "." : "", n - 1, dig + 1, x);
	if (n + e <= 0) {		/* 0.00ddd */
		*p++ = '0';
		*p++ = '.';
		for (int i = 0; i < -(n + e); i++)
			*p++ = '0';
		memcpy(p, dig, (size_t)n);
		p += n;
	} else if (e < 0) {		/* dd.ddd */
		memcpy(p, dig, (size_t)(n + e));
		p += n + e;
		*p++ = '.';
		memcpy(p, dig + n + e, (size_t)-e);
		p += -e;
	} else {			/* ddd00 */
		memcpy(p, dig, (size_t)n);
		p += n;
		for (int i = 0; i < e; i++)
			*p++ = '0';
	}
	*p = '\0';
	return (size_t)(p - buf);
}

/*
 * f as the shortest decimal that reads back as f (through a double, as
 * JSON readers do, then to a float), into buf of 32 bytes: its length.
 * Many times cheaper than trying printf's precisions one by one, which is
 * left for where the powers of ten are not exact (below about 1e-15 or
 * above 1e22).
 */
static size_t
float_text(float f, char *buf)
{
	double d = fabs((double)f), v;
	int e10, neg = signbit(f) != 0;

	if (d == 0)
		return (size_t)snprintf(buf, 32, "0");
	/* the power of ten of the first digit, from the power of two */
	e10 = (int)floor(ilogb(d) * 0.30102999566398119521);
	if (scale10(d, -(e10 + 1), &v) == 0 && v >= 1)
		e10++;
	/*
	 * From 6 digits: a float needs 6 to 9, and one that needs fewer is
	 * also the 6-digit decimal nearest to it (6 digits are 1e-6 apart,
	 * a float's neighbours under 1.2e-7), found with trailing zeros.
	 */
	for (int p = 6; p <= 9; p++) {
		int e = e10 - p + 1;
		uint32_t c;

		if (scale10(d, -e, &v) == -1 || v >= 4e9)
			break;
		c = (uint32_t)(v + 0.5);
		if (c == 0 || scale10((double)c, e, &v) == -1 ||
		    (float)v != (float)d)
			continue;
		while (c % 10 == 0) {
			c /= 10;
			e++;
		}
		if (neg)
			*buf = '-';
		return decimal_text(c, e, buf + neg) + (size_t)neg;
	}
	for (int p = 1;; p++) {
		int n = snprintf(buf, 32, "%.*g", p, (double)f);

		if (p == 9 || (float)strtod(buf, NULL) == f)
			return (size_t)n;
	}
}

/*
 * v as the JSON text of an array of numbers, each the shortest decimal
 * that reads back as the same float32, appended to b.
 */
void
rk_embed_text(const float *v, size_t dim, struct rk_sbuf *b)
{
	char num[33];

	rk_sbuf_add(b, "[", 1);
	for (size_t i = 0; i < dim; i++) {
		num[0] = ',';
		rk_sbuf_add(b, num + (i == 0), float_text(v[i], num + 1) +
		    (i > 0));
	}
	rk_sbuf_add(b, "]", 1);
}
