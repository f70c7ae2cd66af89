/*
 * A flat store of unit vectors for top-k cosine search.
 *
 * Each vector is kept twice: as float32, normalised at insert, and as
 * int8 with a per-vector scale (q_i = round(x_i / s), s = max |x_i| / 127,
 * so every q_i lies in [-127, 127]).  A search either scans the float32
 * vectors (exact), or scans the int8 copy, a quarter of the bytes, keeps
 * the best `rerank` candidates by the approximate score s_q s_v (q . v),
 * and ranks those again by their exact float32 score.  Binary codes were
 * measured too and lose too much recall (bench/vector/RESULTS).
 *
 * The dot products come in four versions, chosen once at run time:
 * AVX-512 VNNI (int8; its float32 one is AVX2's), AVX2 with FMA, SSE2,
 * plain C.  The int8 ones are exact integer sums, so every version gives
 * the same candidates; the float32 ones differ only in the order of the
 * additions.  Ties rank the lower position first.
 *
 * Blobs, all little-endian (the byte order of every host we build on):
 *
 *   a chunk's vector   dim float32                       RK_VEC_FSIZE(dim)
 *   its quantised copy float32 scale, dim int8           RK_VEC_QSIZE(dim)
 *   a whole store      the 32-byte header below, then count int64 ids,
 *                      count float32 scales, count * dim int8, each part
 *                      padded with zeros to a multiple of 32 bytes, then
 *                      count * dim float32: one piece that can be read
 *                      or mapped as it is.
 *
 *   header: "RKVEC01\n", uint32 dim, uint32 0, uint64 count, uint64 0
 *
 * Everything read from a blob is checked before it is used: its length
 * against the sizes it declares (no allocation larger than the blob), the
 * floats finite, the vectors of unit length, the scales positive, no int8
 * of -128.
 *
 * A store may hold its int8 copies only (rk_vec_lazy()): a scan or a
 * graph walk needs nothing else, and the float32 vector of each
 * candidate re-ranked is fetched through the caller's function, and
 * checked, when it is needed.  rk_vec_fill() makes them all resident.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/rk.h"
#include "search/search.h"

#define STORE_MAGIC	"RKVEC01\n"
#define HEADER_SIZE	32
#define PAD(n)		(((n) + 31) & ~(size_t)31)
#define NORM_TOLERANCE	1e-3f

#if __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "vector blobs are little-endian: add byte swapping for this host"
#endif

#if defined(__x86_64__) || defined(__i386__)
#define RK_X86 1
#include <cpuid.h>
#include <immintrin.h>
#endif

struct rk_vec {
	size_t	 dim, n, cap;
	int64_t	*id;
	float	*scale;
	int8_t	*q;
	float	*f;		/* NULL: fetched on demand */
	int	 view;		/* the arrays point into a caller's blob */
	rk_vec_fetch_fn *fetch;
	void	(*release)(void *);
	void	*arg;
};

typedef float fdot_fn(const float *, const float *, size_t);
typedef int32_t qdot_fn(const int8_t *, const int8_t *, size_t);
/* the int32 dot products of q with the n vectors of dim bytes at x[] */
typedef void qdots_fn(const int8_t *q, const int8_t *const *x, size_t dim,
    size_t n, int32_t *out);

static float
fdot_c(const float *a, const float *b, size_t n)
{
	float s0 = 0, s1 = 0, s2 = 0, s3 = 0;
	size_t i;

	for (i = 0; i + 4 <= n; i += 4) {
		s0 += a[i] * b[i];
		s1 += a[i + 1] * b[i + 1];
		s2 += a[i + 2] * b[i + 2];
		s3 += a[i + 3] * b[i + 3];
	}
	for (; i < n; i++)
		s0 += a[i] * b[i];
	return (s0 + s1) + (s2 + s3);
}

static int32_t
qdot_c(const int8_t *a, const int8_t *b, size_t n)
{
	int32_t s = 0;

	for (size_t i = 0; i < n; i++)
		s += (int32_t)a[i] * b[i];
	return s;
}

#ifdef RK_X86
static float
hsum128(__m128 v)
{
	__m128 hi = _mm_movehl_ps(v, v);

	v = _mm_add_ps(v, hi);
	hi = _mm_shuffle_ps(v, v, 1);
	return _mm_cvtss_f32(_mm_add_ss(v, hi));
}

static int32_t
hsum128i(__m128i v)
{
	v = _mm_add_epi32(v, _mm_shuffle_epi32(v, _MM_SHUFFLE(1, 0, 3, 2)));
	v = _mm_add_epi32(v, _mm_shuffle_epi32(v, _MM_SHUFFLE(2, 3, 0, 1)));
	return _mm_cvtsi128_si32(v);
}

__attribute__((target("sse2")))
static float
fdot_sse2(const float *a, const float *b, size_t n)
{
	__m128 s0 = _mm_setzero_ps(), s1 = _mm_setzero_ps();
	__m128 s2 = _mm_setzero_ps(), s3 = _mm_setzero_ps();
	size_t i;
	float t = 0;

	for (i = 0; i + 16 <= n; i += 16) {
		s0 = _mm_add_ps(s0, _mm_mul_ps(_mm_loadu_ps(a + i),
		    _mm_loadu_ps(b + i)));
		s1 = _mm_add_ps(s1, _mm_mul_ps(_mm_loadu_ps(a + i + 4),
		    _mm_loadu_ps(b + i + 4)));
		s2 = _mm_add_ps(s2, _mm_mul_ps(_mm_loadu_ps(a + i + 8),
		    _mm_loadu_ps(b + i + 8)));
		s3 = _mm_add_ps(s3, _mm_mul_ps(_mm_loadu_ps(a + i + 12),
		    _mm_loadu_ps(b + i + 12)));
	}
	for (; i < n; i++)
		t += a[i] * b[i];
	return hsum128(_mm_add_ps(_mm_add_ps(s0, s1), _mm_add_ps(s2, s3))) + t;
}

/* sign-extend the bytes to 16 bits, multiply and add pairs into 32 bits */
__attribute__((target("sse2")))
static int32_t
qdot_sse2(const int8_t *a, const int8_t *b, size_t n)
{
	__m128i acc = _mm_setzero_si128();
	size_t i;
	int32_t t = 0;

	for (i = 0; i + 16 <= n; i += 16) {
		__m128i x = _mm_loadu_si128((const __m128i *)(a + i));
		__m128i y = _mm_loadu_si128((const __m128i *)(b + i));
		__m128i xl = _mm_srai_epi16(_mm_unpacklo_epi8(x, x), 8);
		__m128i xh = _mm_srai_epi16(_mm_unpackhi_epi8(x, x), 8);
		__m128i yl = _mm_srai_epi16(_mm_unpacklo_epi8(y, y), 8);
		__m128i yh = _mm_srai_epi16(_mm_unpackhi_epi8(y, y), 8);

		acc = _mm_add_epi32(acc, _mm_madd_epi16(xl, yl));
		acc = _mm_add_epi32(acc, _mm_madd_epi16(xh, yh));
	}
	for (; i < n; i++)
		t += (int32_t)a[i] * b[i];
	return hsum128i(acc) + t;
}

__attribute__((target("avx2,fma")))
static float
fdot_avx2(const float *a, const float *b, size_t n)
{
	__m256 s0 = _mm256_setzero_ps(), s1 = _mm256_setzero_ps();
	__m256 s2 = _mm256_setzero_ps(), s3 = _mm256_setzero_ps();
	size_t i;
	float t = 0;

	for (i = 0; i + 32 <= n; i += 32) {
		s0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i),
		    _mm256_loadu_ps(b + i), s0);
		s1 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 8),
		    _mm256_loadu_ps(b + i + 8), s1);
		s2 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 16),
		    _mm256_loadu_ps(b + i + 16), s2);
		s3 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 24),
		    _mm256_loadu_ps(b + i + 24), s3);
	}
	for (; i < n; i++)
		t += a[i] * b[i];
	s0 = _mm256_add_ps(_mm256_add_ps(s0, s1), _mm256_add_ps(s2, s3));
	return hsum128(_mm_add_ps(_mm256_castps256_ps128(s0),
	    _mm256_extractf128_ps(s0, 1))) + t;
}

__attribute__((target("avx2")))
static int32_t
hsum256i(__m256i v)
{
	return hsum128i(_mm_add_epi32(_mm256_castsi256_si128(v),
	    _mm256_extracti128_si256(v, 1)));
}

/*
 * maddubs multiplies unsigned by signed bytes: |q| times x with q's sign.
 * With both in [-127, 127] a pair sums to at most 2 * 127 * 127, within
 * int16, which is why -128 is never stored.  acc plus the products of the
 * 32 bytes of q (absq = |q|) and of x, eight sums of four.
 */
__attribute__((target("avx2")))
static __m256i
qstep_avx2(__m256i acc, __m256i absq, __m256i q, const int8_t *x)
{
	__m256i p = _mm256_maddubs_epi16(absq,
	    _mm256_sign_epi8(_mm256_loadu_si256((const void *)x), q));

	return _mm256_add_epi32(acc, _mm256_madd_epi16(p,
	    _mm256_set1_epi16(1)));
}

__attribute__((target("avx2")))
static int32_t
qdot_avx2(const int8_t *a, const int8_t *b, size_t n)
{
	__m256i acc = _mm256_setzero_si256();
	size_t i;
	int32_t t = 0;

	for (i = 0; i + 32 <= n; i += 32) {
		__m256i v = _mm256_loadu_si256((const __m256i *)(a + i));

		acc = qstep_avx2(acc, _mm256_abs_epi8(v), v, b + i);
	}
	for (; i < n; i++)
		t += (int32_t)a[i] * b[i];
	return hsum256i(acc) + t;
}

/*
 * A scan's kernel, four vectors a pass: each 32 bytes of q, and |q|,
 * are loaded and taken once for the four (qstep_avx2), and the four sums
 * come out of one pair of hadds.  Each pass also prefetches the line
 * SCAN_AHEAD bytes past the one it reads on each of its four vectors, as
 * a scan reads a vector's successor next (the hardware's own prefetchers
 * stop at each 4 KB page); a prefetch never faults, even past the end of
 * the store.  On Zen 3, 100,000 vectors: a fifth less time than
 * qdot_avx2 on each, and a tenth less again with the prefetch
 * (bench/vector/RESULTS).
 */
#define SCAN_AHEAD	1024

static void
prefetch_ahead(const int8_t *x)
{
	__builtin_prefetch((const void *)((uintptr_t)x + SCAN_AHEAD));
}

__attribute__((target("avx2")))
static void
qdot4_avx2(const int8_t *q, const int8_t *const *x, size_t n, int32_t *out)
{
	const int8_t *x0 = x[0], *x1 = x[1], *x2 = x[2], *x3 = x[3];
	__m256i a0 = _mm256_setzero_si256(), a1 = a0, a2 = a0, a3 = a0;
	__m128i s;
	size_t j;

	for (j = 0; j + 32 <= n; j += 32) {
		__m256i v = _mm256_loadu_si256((const void *)(q + j));
		__m256i u = _mm256_abs_epi8(v);

		if (j % 64 == 0) {
			prefetch_ahead(x0 + j);
			prefetch_ahead(x1 + j);
			prefetch_ahead(x2 + j);
			prefetch_ahead(x3 + j);
		}
		a0 = qstep_avx2(a0, u, v, x0 + j);
		a1 = qstep_avx2(a1, u, v, x1 + j);
		a2 = qstep_avx2(a2, u, v, x2 + j);
		a3 = qstep_avx2(a3, u, v, x3 + j);
	}
	a0 = _mm256_hadd_epi32(_mm256_hadd_epi32(a0, a1),
	    _mm256_hadd_epi32(a2, a3));
	s = _mm_add_epi32(_mm256_castsi256_si128(a0),
	    _mm256_extracti128_si256(a0, 1));
	_mm_storeu_si128((void *)out, s);
	for (; j < n; j++)
		for (int k = 0; k < 4; k++)
			out[k] += (int32_t)q[j] * x[k][j];
}

/* four at a time, the last one to three one by one */
__attribute__((target("avx2")))
static void
qdots_avx2(const int8_t *q, const int8_t *const *x, size_t dim, size_t n,
    int32_t *out)
{
	size_t i;

	for (i = 0; i + 4 <= n; i += 4)
		qdot4_avx2(q, x + i, dim, out + i);
	for (; i < n; i++)
		out[i] = qdot_avx2(q, x[i], dim);
}

/*
 * AVX-512 VNNI: vpdpbusd multiplies unsigned by signed bytes and adds
 * each four products into 32 bits, without the int16 step of maddubs.
 * x with its top bit flipped is x + 128, unsigned, so it sums
 * (x_i + 128) q_i: the dot product plus 128 times the sum of q's bytes,
 * taken off at the end.  The last bytes past a multiple of 32 are loaded
 * masked: zeros in q add nothing, and no byte past the end is read.
 * 256 bits at a time (AVX-512VL): a vector's 64-byte loads would each
 * straddle two cache lines unless the store were aligned to 64 bytes,
 * and measured slower than AVX2.
 */
#define VNNI	"avx2,avx512f,avx512bw,avx512vl,avx512vnni"

static __mmask32
first_bytes(size_t n)
{
	return n >= 32 ? ~(__mmask32)0 : ((__mmask32)1 << n) - 1;
}

/* acc + the products of the bytes of x + 128 and of q, four a lane */
__attribute__((target(VNNI)))
static __m256i
qstep_vnni(__m256i acc, __m256i q, __m256i x)
{
	return _mm256_dpbusd_epi32(acc,
	    _mm256_xor_si256(x, _mm256_set1_epi8(-128)), q);
}

/* the dot product plus 128 times the sum of q's bytes */
__attribute__((target(VNNI)))
static int32_t
qdot_biased_vnni(const int8_t *q, const int8_t *x, size_t n)
{
	__m256i acc = _mm256_setzero_si256();
	__mmask32 m = first_bytes(n % 32);
	size_t j;

	for (j = 0; j + 32 <= n; j += 32)
		acc = qstep_vnni(acc, _mm256_loadu_si256((const void *)(q + j)),
		    _mm256_loadu_si256((const void *)(x + j)));
	if (j < n)
		acc = qstep_vnni(acc, _mm256_maskz_loadu_epi8(m, q + j),
		    _mm256_maskz_loadu_epi8(m, x + j));
	return hsum256i(acc);
}

/* 128 times the sum of q's bytes */
__attribute__((target(VNNI)))
static int32_t
qbias_vnni(const int8_t *q, size_t n)
{
	__m256i acc = _mm256_setzero_si256();

	for (size_t j = 0; j < n; j += 32)
		acc = _mm256_dpbusd_epi32(acc, _mm256_set1_epi8(1),
		    _mm256_maskz_loadu_epi8(first_bytes(n - j), q + j));
	return 128 * hsum256i(acc);
}

/* one vector: q's bias summed in the same pass (the graph walk's case) */
__attribute__((target(VNNI)))
static int32_t
qdot_vnni(const int8_t *q, const int8_t *x, size_t n)
{
	__m256i acc = _mm256_setzero_si256(), sum = acc;

	for (size_t j = 0; j < n; j += 32) {
		__mmask32 m = first_bytes(n - j);
		__m256i v = _mm256_maskz_loadu_epi8(m, q + j);

		acc = qstep_vnni(acc, v, _mm256_maskz_loadu_epi8(m, x + j));
		sum = _mm256_dpbusd_epi32(sum, _mm256_set1_epi8(1), v);
	}
	return hsum256i(_mm256_sub_epi32(acc, _mm256_slli_epi32(sum, 7)));
}

/* q's bias summed once for all n */
__attribute__((target(VNNI)))
static void
qdots_vnni(const int8_t *q, const int8_t *const *x, size_t dim, size_t n,
    int32_t *out)
{
	int32_t bias = qbias_vnni(q, dim);

	for (size_t i = 0; i < n; i++)
		out[i] = qdot_biased_vnni(q, x[i], dim) - bias;
}
#endif

static const struct kernels {
	const char *name;
	fdot_fn	*fdot;
	qdot_fn	*qdot;
	qdots_fn *qdots;	/* NULL: qdot on each */
} kernels[] = {
#ifdef RK_X86
	{ "avx512vnni", fdot_avx2, qdot_vnni, qdots_vnni },
	{ "avx2", fdot_avx2, qdot_avx2, qdots_avx2 },
	{ "sse2", fdot_sse2, qdot_sse2, NULL },
#endif
	{ "c", fdot_c, qdot_c, NULL },
};

static const struct kernels *kern;

#ifdef RK_X86
/* XCR0: the system saves the SSE and AVX registers; and AVX-512's too */
#define XCR0_AVX	0x06
#define XCR0_AVX512	0xe6

/*
 * cpuid's leaf 7 (ebx and ecx) if the processor has AVX and FMA and the
 * system saves the registers of xcr0_bits.  Asked of cpuid here, when a
 * kernel is first wanted: __builtin_cpu_supports() would link libgcc's
 * start-up detection into every process of rk-search.
 */
static int
leaf7(unsigned xcr0_bits, unsigned *ebx, unsigned *ecx)
{
	unsigned a, b, c, d, xcr0, xcr0_hi;

	if (!__get_cpuid(1, &a, &b, &c, &d) || !(c & bit_FMA) ||
	    !(c & bit_AVX) || !(c & bit_OSXSAVE))
		return 0;
	__asm__("xgetbv" : "=a"(xcr0), "=d"(xcr0_hi) : "c"(0));
	if ((xcr0 & xcr0_bits) != xcr0_bits || __get_cpuid_max(0, NULL) < 7)
		return 0;
	__cpuid_count(7, 0, a, *ebx, *ecx, d);
	return 1;
}

static int
has_avx2_fma(void)
{
	unsigned b, c;

	return leaf7(XCR0_AVX, &b, &c) && (b & bit_AVX2);
}

/* and AVX2 with FMA, whose float32 kernel it uses */
static int
has_avx512_vnni(void)
{
	unsigned b, c;

	return leaf7(XCR0_AVX512, &b, &c) && (b & bit_AVX2) &&
	    (b & bit_AVX512F) && (b & bit_AVX512BW) && (b & bit_AVX512VL) &&
	    (c & bit_AVX512VNNI);
}
#endif

static int
supported(const struct kernels *k)
{
#ifdef RK_X86
	unsigned a, b, c, d;

	if (strcmp(k->name, "avx512vnni") == 0)
		return has_avx512_vnni();
	if (strcmp(k->name, "avx2") == 0)
		return has_avx2_fma();
	if (strcmp(k->name, "sse2") == 0)
		return __get_cpuid(1, &a, &b, &c, &d) && (d & bit_SSE2);
#endif
	return 1;
}

static const struct kernels *
kernels_get(void)
{
	if (kern == NULL)
		rk_vec_simd(NULL);
	return kern;
}

int
rk_vec_simd(const char *name)
{
	for (size_t i = 0; i < sizeof(kernels) / sizeof(kernels[0]); i++) {
		if (name != NULL && strcmp(name, kernels[i].name) != 0)
			continue;
		if (!supported(&kernels[i]))
			continue;
		kern = &kernels[i];
		return 0;
	}
	return -1;
}

const char *
rk_vec_simd_name(void)
{
	return kernels_get()->name;
}

/* the best k hits seen so far: a min-heap on (score, -position) */

struct topk {
	struct rk_hit *h;
	size_t	 n, k;
};

static int
worse(const struct rk_hit *a, const struct rk_hit *b)
{
	return a->score < b->score ||
	    (a->score == b->score && a->rowid > b->rowid);
}

static void
sift_down(struct topk *t, size_t i)
{
	for (;;) {
		size_t l = 2 * i + 1, m = i;

		if (l < t->n && worse(&t->h[l], &t->h[m]))
			m = l;
		if (l + 1 < t->n && worse(&t->h[l + 1], &t->h[m]))
			m = l + 1;
		if (m == i)
			return;
		struct rk_hit x = t->h[i];
		t->h[i] = t->h[m];
		t->h[m] = x;
		i = m;
	}
}

static void
topk_push(struct topk *t, int64_t pos, double score)
{
	struct rk_hit x = { pos, score };
	size_t i;

	if (t->n == t->k) {
		if (!worse(&t->h[0], &x))
			return;
		t->h[0] = x;
		sift_down(t, 0);
		return;
	}
	for (i = t->n++; i > 0 && worse(&x, &t->h[(i - 1) / 2]);
	    i = (i - 1) / 2)
		t->h[i] = t->h[(i - 1) / 2];
	t->h[i] = x;
}

static int
cmp_hit(const void *pa, const void *pb)
{
	const struct rk_hit *a = pa, *b = pb;

	return worse(b, a) ? -1 : worse(a, b);
}

/* normalisation and quantisation */

static int
unit(const float *v, size_t dim, float *out, struct rk_error *e)
{
	double ss = 0;

	for (size_t i = 0; i < dim; i++) {
		if (!isfinite(v[i]))
			return rk_error_set(e, RK_EXIT_INPUT,
			    "vector: element %zu is not a finite number", i);
		ss += (double)v[i] * v[i];
	}
	if (ss == 0 || !isfinite(ss))
		return rk_error_set(e, RK_EXIT_INPUT,
		    "vector: %s length", ss == 0 ? "zero" : "infinite");
	for (size_t i = 0; i < dim; i++)
		out[i] = (float)(v[i] / sqrt(ss));
	return 0;
}

static float
quantise(const float *v, size_t dim, int8_t *q)
{
	float max = 0, s;

	for (size_t i = 0; i < dim; i++)
		if (fabsf(v[i]) > max)
			max = fabsf(v[i]);
	s = max / 127;
	for (size_t i = 0; i < dim; i++)
		q[i] = (int8_t)lrintf(v[i] / s);
	return s;
}

int
rk_vec_encode(const float *v, size_t dim, float *f, void *qblob,
    struct rk_error *e)
{
	unsigned char *p = qblob;
	float s;
	int rc;

	if (dim == 0 || dim > RK_VEC_DIM_MAX)
		return rk_error_set(e, RK_EXIT_INPUT,
		    "vector: %zu dimensions, not 1 to %d", dim, RK_VEC_DIM_MAX);
	if ((rc = unit(v, dim, f, e)) != 0)
		return rc;
	s = quantise(f, dim, (int8_t *)(p + 4));
	memcpy(p, &s, 4);
	return 0;
}

/* checks on data read back: the writer above never fails them */

int
rk_vec_check_f32(const float *f, size_t dim, struct rk_error *e)
{
	double ss = 0;

	for (size_t i = 0; i < dim; i++) {
		if (!isfinite(f[i]))
			return rk_error_set(e, RK_EXIT_INPUT,
			    "vector: damaged: a float is not finite");
		ss += (double)f[i] * f[i];
	}
	if (fabs(ss - 1) > NORM_TOLERANCE)
		return rk_error_set(e, RK_EXIT_INPUT,
		    "vector: damaged: not of unit length");
	return 0;
}

/*
 * Whether any of n bytes is -128, eight at a time: a byte of w ^ 0x80..80
 * is zero where q's is 0x80, and (x - 0x01..01) & ~x & 0x80..80 is not
 * zero exactly when some byte of x is.  Loading runs this over every
 * int8 copy, so it is most of a one-query process without it.
 */
static int
has_min8(const int8_t *q, size_t n)
{
	const uint64_t ones = 0x0101010101010101ULL, high = ones << 7;
	uint64_t w, hit = 0;
	size_t i;

	for (i = 0; i + 8 <= n; i += 8) {
		memcpy(&w, q + i, 8);
		w ^= high;
		hit |= (w - ones) & ~w & high;
	}
	for (; i < n; i++)
		hit |= q[i] == -128;
	return hit != 0;
}

static int
check_q8(float scale, const int8_t *q, size_t dim, struct rk_error *e)
{
	if (!isfinite(scale) || scale <= 0)
		return rk_error_set(e, RK_EXIT_INPUT,
		    "vector: damaged: bad scale");
	if (has_min8(q, dim))
		return rk_error_set(e, RK_EXIT_INPUT,
		    "vector: damaged: int8 out of range");
	return 0;
}

/* the store */

struct rk_vec *
rk_vec_new(size_t dim)
{
	struct rk_vec *s;

	if (dim == 0 || dim > RK_VEC_DIM_MAX)
		return NULL;
	s = rk_xmalloc(sizeof(*s));
	memset(s, 0, sizeof(*s));
	s->dim = dim;
	return s;
}

void
rk_vec_free(struct rk_vec *s)
{
	if (s == NULL)
		return;
	if (s->release != NULL)
		s->release(s->arg);
	if (s->view) {
		free(s);
		return;
	}
	free(s->id);
	free(s->scale);
	free(s->q);
	free(s->f);
	free(s);
}

size_t
rk_vec_dim(const struct rk_vec *s)
{
	return s->dim;
}

size_t
rk_vec_count(const struct rk_vec *s)
{
	return s->n;
}

int
rk_vec_reserve(struct rk_vec *s, size_t n, struct rk_error *e)
{
	if (s->view)
		return rk_error_set(e, RK_EXIT_INTERNAL,
		    "vector: a view cannot grow");
	if (n <= s->cap)
		return 0;
	if (n > UINT32_MAX || n > SIZE_MAX / sizeof(float) / s->dim)
		return rk_error_set(e, RK_EXIT_INPUT,
		    "vector: %zu vectors are too many", n);
	s->id = rk_xrealloc(s->id, n * sizeof(*s->id));
	s->scale = rk_xrealloc(s->scale, n * sizeof(*s->scale));
	s->q = rk_xrealloc(s->q, n * s->dim);
	if (s->f != NULL || s->fetch == NULL)
		s->f = rk_xrealloc(s->f, n * s->dim * sizeof(float));
	s->cap = n;
	return 0;
}

static int
grow(struct rk_vec *s, struct rk_error *e)
{
	if (s->n < s->cap)
		return 0;
	return rk_vec_reserve(s, s->cap < 64 ? 64 : s->cap + s->cap / 2, e);
}

static int
resident(const struct rk_vec *s, struct rk_error *e)
{
	if (s->f == NULL)
		return rk_error_set(e, RK_EXIT_INTERNAL,
		    "vector: a store of int8 copies only");
	return 0;
}

int
rk_vec_add(struct rk_vec *s, int64_t id, const float *v, struct rk_error *e)
{
	unsigned char *qb;
	int rc;

	if ((rc = grow(s, e)) != 0 || (rc = resident(s, e)) != 0)
		return rc;
	qb = rk_xmalloc(RK_VEC_QSIZE(s->dim));
	rc = rk_vec_encode(v, s->dim, s->f + s->n * s->dim, qb, e);
	if (rc == 0) {
		memcpy(&s->scale[s->n], qb, 4);
		memcpy(s->q + s->n * s->dim, qb + 4, s->dim);
		s->id[s->n++] = id;
	}
	free(qb);
	return rc;
}

/* the int8 blob qblob as the copy of the vector at position s->n */
static int
put_q8(struct rk_vec *s, const void *qblob, struct rk_error *e)
{
	int8_t *q = s->q + s->n * s->dim;

	memcpy(&s->scale[s->n], qblob, 4);
	memcpy(q, (const unsigned char *)qblob + 4, s->dim);
	return check_q8(s->scale[s->n], q, s->dim, e);
}

int
rk_vec_add_blobs(struct rk_vec *s, int64_t id, const void *fblob,
    size_t flen, const void *qblob, size_t qlen, struct rk_error *e)
{
	float *f;
	int rc;

	if (flen != RK_VEC_FSIZE(s->dim) || qlen != RK_VEC_QSIZE(s->dim))
		return rk_error_set(e, RK_EXIT_INPUT,
		    "vector: damaged: blobs of %zu and %zu bytes, not %zu "
		    "and %zu", flen, qlen, (size_t)RK_VEC_FSIZE(s->dim),
		    (size_t)RK_VEC_QSIZE(s->dim));
	if ((rc = grow(s, e)) != 0 || (rc = resident(s, e)) != 0)
		return rc;
	f = s->f + s->n * s->dim;
	memcpy(f, fblob, flen);
	if ((rc = rk_vec_check_f32(f, s->dim, e)) != 0 ||
	    (rc = put_q8(s, qblob, e)) != 0)
		return rc;
	s->id[s->n++] = id;
	return 0;
}

/*
 * A store of int8 copies: the float32 vector of the one of id, when a
 * re-rank needs it, is fetch(arg, id, &blob, &len, e); release(arg) when
 * the store is freed.  NULL: dim out of range.
 */
struct rk_vec *
rk_vec_lazy(size_t dim, rk_vec_fetch_fn *fetch, void (*release)(void *),
    void *arg)
{
	struct rk_vec *s;

	if ((s = rk_vec_new(dim)) == NULL)
		return NULL;
	s->fetch = fetch;
	s->release = release;
	s->arg = arg;
	return s;
}

int
rk_vec_add_q8(struct rk_vec *s, int64_t id, const void *qblob, size_t qlen,
    struct rk_error *e)
{
	int rc;

	if (s->fetch == NULL || s->f != NULL)
		return rk_error_set(e, RK_EXIT_INTERNAL,
		    "vector: not a store of int8 copies");
	if (qlen != RK_VEC_QSIZE(s->dim))
		return rk_error_set(e, RK_EXIT_INPUT,
		    "vector: damaged: an int8 blob of %zu bytes, not %zu",
		    qlen, (size_t)RK_VEC_QSIZE(s->dim));
	if ((rc = grow(s, e)) != 0 || (rc = put_q8(s, qblob, e)) != 0)
		return rc;
	s->id[s->n++] = id;
	return 0;
}

/* the float32 vector at pos: in place, or fetched (and checked) into buf */
static int
vector_at(const struct rk_vec *s, size_t pos, float *buf, const float **f,
    struct rk_error *e)
{
	int rc;

	if (s->f != NULL) {
		*f = s->f + pos * s->dim;
		return 0;
	}
	if ((rc = s->fetch(s->arg, s->id[pos], buf, RK_VEC_FSIZE(s->dim),
	    e)) != 0)
		return rc;
	*f = buf;
	return 0;
}

/* whether every float32 vector is in memory */
int
rk_vec_resident(const struct rk_vec *s)
{
	return s->f != NULL;
}

/*
 * Every float32 vector of a store of int8 copies, made resident: next()
 * gives them in the order of the store, each checked; on failure the
 * store stays as it was.
 */
int
rk_vec_fill(struct rk_vec *s, rk_vec_next_fn *next, void *arg,
    struct rk_error *e)
{
	size_t len = RK_VEC_FSIZE(s->dim), i;
	int64_t id;
	float *f;
	int rc = 0;

	if (s->f != NULL)
		return 0;
	f = rk_xmalloc((s->n ? s->n : 1) * len);
	for (i = 0; rc == 0; i++) {
		float *v = f + (i < s->n ? i : 0) * s->dim;

		if ((rc = next(arg, &id, v, len, e)) != 0)
			break;
		if (i >= s->n || id != s->id[i])
			rc = rk_error_set(e, RK_EXIT_INPUT, "vector: damaged: "
			    "the float32 vectors are not those of the int8 "
			    "copies");
		else
			rc = rk_vec_check_f32(v, s->dim, e);
	}
	if (rc == RK_VEC_END)
		rc = i == s->n ? 0 : rk_error_set(e, RK_EXIT_INPUT,
		    "vector: damaged: %zu float32 vectors for %zu int8 "
		    "copies", i, s->n);
	if (rc != 0) {
		free(f);
		return rc;
	}
	s->f = f;
	s->cap = s->n;
	return 0;
}

void
rk_vec_get(const struct rk_vec *s, size_t i, int64_t *id, const float **f,
    const void **q8, float *scale)
{
	*id = s->id[i];
	*f = s->f != NULL ? s->f + i * s->dim : NULL;
	*q8 = s->q + i * s->dim;
	*scale = s->scale[i];
}

/* search */

static void
scan_f32(const struct rk_vec *s, const float *q, struct topk *t)
{
	fdot_fn *dot = kernels_get()->fdot;

	for (size_t i = 0; i < s->n; i++)
		topk_push(t, (int64_t)i, dot(q, s->f + i * s->dim, s->dim));
}

/*
 * The int8 dot products of q with the n vectors of dim bytes at x[]: the
 * kernel's own loop where it has one (and more than one vector).
 */
void
rk_vec_qdots(const int8_t *q, const int8_t *const *x, size_t dim, size_t n,
    int32_t *out)
{
	const struct kernels *k = kernels_get();

	if (k->qdots != NULL && n > 1) {
		k->qdots(q, x, dim, n, out);
		return;
	}
	for (size_t i = 0; i < n; i++)
		out[i] = k->qdot(q, x[i], dim);
}

/*
 * The int8 scan reads the store as SCAN_STREAMS streams, as many equal
 * parts of it, a vector of each in turn: the processor fetches ahead on
 * every stream, and the scan takes two thirds of the time it takes over
 * one (8 streams: more than over one; bench/vector/RESULTS).  The kernel
 * is called once per SCAN_BLOCK vectors.  The heap breaks ties by
 * position, so the order of the pushes does not change the best k.
 */
#define SCAN_STREAMS	4
#define SCAN_BLOCK	64

static void
scan_q8(const struct rk_vec *s, const int8_t *q, struct topk *t)
{
	size_t part = (s->n + SCAN_STREAMS - 1) / SCAN_STREAMS, next = 0;
	const int8_t *x[SCAN_BLOCK];
	size_t pos[SCAN_BLOCK];
	int32_t d[SCAN_BLOCK];

	while (next < part) {
		size_t m = 0;

		for (; m + SCAN_STREAMS <= SCAN_BLOCK && next < part; next++)
			for (size_t k = 0; k < SCAN_STREAMS; k++)
				if (k * part + next < s->n)
					pos[m++] = k * part + next;
		for (size_t j = 0; j < m; j++)
			x[j] = s->q + pos[j] * s->dim;
		rk_vec_qdots(q, x, s->dim, m, d);
		for (size_t j = 0; j < m; j++)
			topk_push(t, (int64_t)pos[j],
			    (double)s->scale[pos[j]] * d[j]);
	}
}

/* the best hits, ranked best first, their positions made ids */
static size_t
topk_done(const struct rk_vec *s, struct topk *t)
{
	qsort(t->h, t->n, sizeof(*t->h), cmp_hit);
	for (size_t i = 0; i < t->n; i++)
		t->h[i].rowid = s->id[t->h[i].rowid];
	return t->n;
}

/*
 * The best k of the vectors at positions pos[0..npos-1] by their exact
 * float32 cosine to the unit vector q, in out, best first, *nout of them.
 */
int
rk_vec_rerank(const struct rk_vec *s, const float *q, const uint32_t *pos,
    size_t npos, size_t k, struct rk_hit *out, size_t *nout,
    struct rk_error *e)
{
	fdot_fn *dot = kernels_get()->fdot;
	struct topk t = { out, 0, k };
	float *buf = s->f == NULL ? rk_xmalloc(s->dim * sizeof(*buf)) : NULL;
	const float *f;
	int rc = 0;

	for (size_t i = 0; i < npos && k > 0 && rc == 0; i++)
		if ((rc = vector_at(s, pos[i], buf, &f, e)) == 0)
			topk_push(&t, pos[i], dot(q, f, s->dim));
	free(buf);
	*nout = rc == 0 ? topk_done(s, &t) : 0;
	return rc;
}

/*
 * A query made ready for either scan: its unit vector (dim floats) and
 * int8 copy (dim bytes) with its scale.
 */
int
rk_vec_query(const struct rk_vec *s, const float *query, float *unitq,
    int8_t *q8, float *scale, struct rk_error *e)
{
	int rc;

	if ((rc = unit(query, s->dim, unitq, e)) != 0)
		return rc;
	*scale = quantise(unitq, s->dim, q8);
	return 0;
}

/* the approximate cosine of the vector at pos to an int8 vector */
float
rk_vec_qsim(const struct rk_vec *s, size_t pos, const int8_t *q8, float scale)
{
	return scale * s->scale[pos] * (float)kernels_get()->qdot(q8,
	    s->q + pos * s->dim, s->dim);
}

/* the best k by an exact scan: of the float32 vectors, or re-ranking all */
static int
exact(const struct rk_vec *s, const float *q, size_t k, struct rk_hit *out,
    size_t *nout, struct rk_error *e)
{
	struct topk t = { out, 0, k };
	uint32_t *pos;
	int rc;

	if (s->f != NULL) {
		scan_f32(s, q, &t);
		*nout = topk_done(s, &t);
		return 0;
	}
	pos = rk_xmalloc((s->n ? s->n : 1) * sizeof(*pos));
	for (size_t i = 0; i < s->n; i++)
		pos[i] = (uint32_t)i;
	rc = rk_vec_rerank(s, q, pos, s->n, k, out, nout, e);
	free(pos);
	return rc;
}

static int
quantised(const struct rk_vec *s, const float *q, const int8_t *q8,
    size_t k, size_t nrerank, struct rk_hit *out, size_t *nout,
    struct rk_error *e)
{
	struct topk cand = { NULL, 0, nrerank < k ? k : nrerank };
	uint32_t *pos;
	int rc;

	cand.h = rk_xmalloc(cand.k * sizeof(*cand.h));
	scan_q8(s, q8, &cand);
	pos = rk_xmalloc((cand.n ? cand.n : 1) * sizeof(*pos));
	for (size_t i = 0; i < cand.n; i++)
		pos[i] = (uint32_t)cand.h[i].rowid;
	rc = rk_vec_rerank(s, q, pos, cand.n, k, out, nout, e);
	free(pos);
	free(cand.h);
	return rc;
}

int
rk_vec_search(const struct rk_vec *s, const float *query, size_t k,
    size_t nrerank, struct rk_hit *out, size_t *nout, struct rk_error *e)
{
	float *q, qscale;
	int8_t *q8;
	int rc;

	*nout = 0;
	if (k == 0)
		return 0;
	q = rk_xmalloc(s->dim * sizeof(*q));
	q8 = rk_xmalloc(s->dim);
	if ((rc = rk_vec_query(s, query, q, q8, &qscale, e)) == 0)
		rc = nrerank == 0 || nrerank >= s->n ?
		    exact(s, q, k, out, nout, e) :
		    quantised(s, q, q8, k, nrerank, out, nout, e);
	free(q8);
	free(q);
	return rc;
}

/* a whole store as one blob */

static void
put32(unsigned char *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

static void
put64(unsigned char *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

static uint64_t
get64(const unsigned char *p)
{
	uint64_t v = 0;

	for (int i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

struct layout {
	size_t	 ids, scales, q, f, end;
};

/* offsets of the parts for count vectors, 0 on overflow */
static int
layout(size_t dim, uint64_t count, struct layout *l)
{
	size_t per = 8 + 4 + dim + 4 * dim;

	if (count > (SIZE_MAX - 4 * 32 - HEADER_SIZE) / per)
		return -1;
	l->ids = HEADER_SIZE;
	l->scales = l->ids + PAD(count * 8);
	l->q = l->scales + PAD(count * 4);
	l->f = l->q + PAD(count * dim);
	l->end = l->f + count * dim * 4;
	return 0;
}

size_t
rk_vec_blob_size(const struct rk_vec *s)
{
	struct layout l;

	return layout(s->dim, s->n, &l) == -1 ? 0 : l.end;
}

void
rk_vec_blob(const struct rk_vec *s, void *out)
{
	unsigned char *p = out;
	struct layout l;

	layout(s->dim, s->n, &l);
	memset(p, 0, l.end);
	memcpy(p, STORE_MAGIC, 8);
	put32(p + 8, (uint32_t)s->dim);
	put64(p + 16, s->n);
	for (size_t i = 0; i < s->n; i++)
		put64(p + l.ids + 8 * i, (uint64_t)s->id[i]);
	memcpy(p + l.scales, s->scale, s->n * 4);
	memcpy(p + l.q, s->q, s->n * s->dim);
	memcpy(p + l.f, s->f, s->n * s->dim * 4);
}

static int
header(const unsigned char *p, size_t len, struct layout *l, size_t *dim,
    size_t *count, struct rk_error *e)
{
	uint64_t d, n;

	if (len < HEADER_SIZE || memcmp(p, STORE_MAGIC, 8) != 0)
		return rk_error_set(e, RK_EXIT_INPUT,
		    "vector: not a vector store");
	d = get64(p + 8);	/* dim with the zero word after it */
	n = get64(p + 16);
	if (d == 0 || d > RK_VEC_DIM_MAX || get64(p + 24) != 0 ||
	    n > SIZE_MAX || layout(d, n, l) == -1 || l->end != len)
		return rk_error_set(e, RK_EXIT_INPUT,
		    "vector: damaged: sizes do not match the store's length");
	*dim = d;
	*count = n;
	return 0;
}

static struct rk_vec *
checked(struct rk_vec *s, size_t count, struct rk_error *e)
{
	for (size_t i = 0; i < count; i++) {
		size_t off = i * s->dim;

		if (rk_vec_check_f32(s->f + off, s->dim, e) != 0 ||
		    check_q8(s->scale[i], s->q + off, s->dim, e) != 0) {
			rk_vec_free(s);
			return NULL;
		}
	}
	s->n = count;
	return s;
}

struct rk_vec *
rk_vec_load(const void *blob, size_t len, struct rk_error *e)
{
	const unsigned char *p = blob;
	struct rk_vec *s;
	struct layout l;
	size_t dim, count;

	if (header(p, len, &l, &dim, &count, e) != 0)
		return NULL;
	s = rk_vec_new(dim);
	if (count > 0)
		rk_vec_reserve(s, count, NULL);
	for (size_t i = 0; i < count; i++)
		s->id[i] = (int64_t)get64(p + l.ids + 8 * i);
	memcpy(s->scale, p + l.scales, count * 4);
	memcpy(s->q, p + l.q, count * dim);
	memcpy(s->f, p + l.f, count * dim * 4);
	return checked(s, count, e);
}

/*
 * The store read in place (a mapped file, a BLOB held by the caller, which
 * must outlive it): nothing is copied, nothing can be added.
 */
struct rk_vec *
rk_vec_view(const void *blob, size_t len, struct rk_error *e)
{
	const unsigned char *p = blob;
	struct rk_vec *s;
	struct layout l;
	size_t dim, count;

	if ((uintptr_t)blob % 8 != 0) {
		rk_error_set(e, RK_EXIT_INTERNAL, "vector: unaligned store");
		return NULL;
	}
	if (header(p, len, &l, &dim, &count, e) != 0)
		return NULL;
	s = rk_vec_new(dim);
	s->view = 1;
	s->cap = count;
	s->id = (int64_t *)(uintptr_t)(p + l.ids);
	s->scale = (float *)(uintptr_t)(p + l.scales);
	s->q = (int8_t *)(uintptr_t)(p + l.q);
	s->f = (float *)(uintptr_t)(p + l.f);
	return checked(s, count, e);
}
