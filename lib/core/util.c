/* small helpers every tool needs: errors, memory, time, ids, paths */
#include <sys/stat.h>

#include <err.h>
#include <errno.h>
#include <limits.h>
#include <pwd.h>
#include <math.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "core/rk.h"

const char *rk_progname = "rk";
static atomic_int exit_status;

/*
 * jansson's hash seed.  jansson would open /dev/urandom for it, and
 * arc4random() keys a cipher first: each costs a short-lived tool more
 * than its hashing does.  One getentropy() call is a system call.
 */
static uint32_t
hash_seed(void)
{
	uint32_t seed;

	if (getentropy(&seed, sizeof(seed)) == -1)
		seed = arc4random();
	return seed | 1;
}

/*
 * What every program does first.  Returns 0, or the status of a bad
 * setting in the environment (said in *e).
 */
int
rk_init(const char *progname, struct rk_error *e)
{
	const char *slash = strrchr(progname, '/');

	rk_progname = slash ? slash + 1 : progname;
	setprogname(rk_progname);
	json_object_seed(hash_seed());
	return rk_limits_load(e);
}

void
rk_exit_status(int status)
{
	int seen = atomic_load(&exit_status);

	while (status > seen &&
	    !atomic_compare_exchange_weak(&exit_status, &seen, status))
		;
}

int
rk_error_set(struct rk_error *e, int code, const char *fmt, ...)
{
	va_list ap;

	if (e != NULL) {
		e->code = code;
		va_start(ap, fmt);
		vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
		va_end(ap);
	}
	return code;
}

/*
 * The exit status: the highest of those main gave, what the records
 * written call for (rk_written_status), and a failure to write stdout.
 */
int
rk_finish(void)
{
	rk_exit_status(rk_written_status());
	if (fflush(stdout) == EOF) {
		warn("stdout");
		rk_exit_status(RK_EXIT_IO);
	} else if (ferror(stdout)) {
		warnx("stdout: write error");
		rk_exit_status(RK_EXIT_IO);
	}
	return atomic_load(&exit_status);
}

void
rk_version(void)
{
	printf("%s %s\n", rk_progname, RK_VERSION);
}

void *
rk_xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (p == NULL)
		err(RK_EXIT_INTERNAL, "malloc");
	return p;
}

void *
rk_xrealloc(void *p, size_t n)
{
	p = realloc(p, n ? n : 1);
	if (p == NULL)
		err(RK_EXIT_INTERNAL, "realloc");
	return p;
}

char *
rk_xstrdup(const char *s)
{
	char *p = strdup(s);

	if (p == NULL)
		err(RK_EXIT_INTERNAL, "strdup");
	return p;
}

char *
rk_xstrndup(const char *s, size_t n)
{
	char *p = strndup(s, n);

	if (p == NULL)
		err(RK_EXIT_INTERNAL, "strndup");
	return p;
}

void *
rk_xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);

	if (p == NULL)
		err(RK_EXIT_INTERNAL, "calloc");
	return p;
}

int
rk_vasprintf(char **out, const char *fmt, va_list ap)
{
	va_list copy;
	int n;

	va_copy(copy, ap);
	n = vsnprintf(NULL, 0, fmt, copy);
	va_end(copy);
	if (n < 0)
		err(RK_EXIT_INTERNAL, "vsnprintf");
	*out = rk_xmalloc(n + 1);
	vsnprintf(*out, n + 1, fmt, ap);
	return n;
}

int
rk_asprintf(char **out, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = rk_vasprintf(out, fmt, ap);
	va_end(ap);
	return n;
}

double
rk_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/*
 * v to digits (0 to 9) decimal places, halves away from zero, as
 * round(3) would, without libm: loading it costs each tool that needs
 * nothing else from it more than all its rounding.
 */
double
rk_round(double v, int digits)
{
	static const double scale[] = { 1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7,
	    1e8, 1e9 };
	/* 2^52: doubles past it are whole */
	const double whole = 4503599627370496.0;
	double m = scale[digits < 0 ? 0 : digits > 9 ? 9 : digits];
	double x = v * m, t;

	if (!(x > -whole && x < whole))
		return v;	/* whole already (x may be inf), or NaN */
	t = (double)(long long)x;	/* exact, and so is x - t */
	if (x - t >= 0.5)
		t += 1;
	else if (t - x >= 0.5)
		t -= 1;
	if (t == 0)
		t = 0 * x;	/* round(-0.3) is -0.0 */
	return t / m;
}

/*
 * 26 characters of Crockford base32: 48 bits of wall-clock milliseconds,
 * then 80 random bits, so ids sort by creation time.
 */
void
rk_ulid(char out[27])
{
	static const char b32[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
	unsigned char rnd[10];
	struct timespec ts;
	uint64_t ms;
	int i, bit;

	clock_gettime(CLOCK_REALTIME, &ts);
	ms = (uint64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
	for (i = 9; i >= 0; i--) {
		out[i] = b32[ms & 31];
		ms >>= 5;
	}
	arc4random_buf(rnd, sizeof(rnd));
	for (i = 0; i < 16; i++) {
		int v = 0, b;

		for (b = 0; b < 5; b++) {
			bit = i * 5 + b;
			v = v << 1 | ((rnd[bit / 8] >> (7 - bit % 8)) & 1);
		}
		out[10 + i] = b32[v];
	}
	out[26] = '\0';
}

/* "10M", "512k", "1048576": bytes, with binary suffixes */
int
rk_parse_size(const char *s, size_t *out)
{
	unsigned long long v;
	unsigned shift = 0;
	char *end;

	errno = 0;
	if (*s < '0' || *s > '9')
		return -1;
	v = strtoull(s, &end, 10);
	if (errno)
		return -1;
	switch (*end) {
	case 'k': case 'K': shift = 10; end++; break;
	case 'm': case 'M': shift = 20; end++; break;
	case 'g': case 'G': shift = 30; end++; break;
	}
	if (v > (SIZE_MAX / 2) >> shift)	/* not to wrap round */
		return -1;
	v <<= shift;
	if (*end == 'B' || *end == 'b')
		end++;
	if (*end != '\0' || v == 0 || v > SIZE_MAX / 2)
		return -1;
	*out = v;
	return 0;
}

int
rk_parse_uint(const char *s, long max, long *out)
{
	long v;
	char *end;

	errno = 0;
	if (*s < '0' || *s > '9')
		return -1;
	v = strtol(s, &end, 10);
	if (errno || *end != '\0' || v > max)
		return -1;
	*out = v;
	return 0;
}

/*
 * A finite number, the whole of s.  One that underflows (5e-324, 1e-400)
 * is a number still, its nearest double, as jansson reads it in JSON;
 * strtod's ERANGE says so, and an overflow's infinity is refused.
 */
int
rk_parse_double(const char *s, double *out)
{
	char *end;
	double v;

	v = strtod(s, &end);
	if (end == s || *end != '\0' || !isfinite(v))
		return -1;
	*out = v;
	return 0;
}

/* "1.5" (seconds), "250ms", "30s", "5m", "1h", "1d" -> milliseconds */
int
rk_parse_duration(const char *s, double *ms)
{
	char num[64];
	size_t n = strlen(s);
	double mul = 1000, v;

	if (n == 0 || n >= sizeof(num))
		return -1;
	strlcpy(num, s, sizeof(num));
	if (n > 2 && strcmp(s + n - 2, "ms") == 0) {
		mul = 1;
		num[n - 2] = '\0';
	} else
		switch (s[n - 1]) {
		case 's': mul = 1000; num[n - 1] = '\0'; break;
		case 'm': mul = 60000; num[n - 1] = '\0'; break;
		case 'h': mul = 3600000; num[n - 1] = '\0'; break;
		case 'd': mul = 86400000; num[n - 1] = '\0'; break;
		default: break;
		}
	if (rk_parse_double(num, &v) == -1 || v < 0 || v > 1e9)
		return -1;
	*ms = v * mul;
	return 0;
}

const char *
rk_getenv(const char *name)
{
	const char *v = getenv(name);

	return v && *v ? v : NULL;
}

/* variable name, or fallback when name is not set and fallback is given */
const char *
rk_getenv_or(const char *name, const char *fallback)
{
	const char *v = rk_getenv(name);

	return v != NULL || fallback == NULL ? v : rk_getenv(fallback);
}

/*
 * The length of the UTF-8 sequence s[0..n) starts with, 0 if it is not a
 * valid one (overlong, a surrogate, over U+10FFFF, cut short).
 */
size_t
rk_utf8_char(const char *str, size_t n)
{
	const unsigned char *s = (const unsigned char *)str;
	unsigned c = s[0], len, k;
	uint32_t cp;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		len = 2, cp = c & 0x1f;
	else if (c >= 0xe0 && c <= 0xef)
		len = 3, cp = c & 0x0f;
	else if (c >= 0xf0 && c <= 0xf4)
		len = 4, cp = c & 0x07;
	else
		return 0;
	if (n < len)
		return 0;
	for (k = 1; k < len; k++) {
		if ((s[k] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[k] & 0x3f);
	}
	if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
	    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
		return 0;
	return len;
}

/* Past the ASCII from s[i] on: 16 bytes at a time with SSE2, else 8. */
static size_t
ascii(const char *s, size_t i, size_t n)
{
	uint64_t w;

#ifdef __SSE2__
	for (; n - i >= 16; i += 16)
		if (_mm_movemask_epi8(_mm_loadu_si128((const __m128i *)(s +
		    i))) != 0)
			break;
#endif
	for (; n - i >= 8; i += 8) {
		memcpy(&w, s + i, 8);
		if ((w & 0x8080808080808080ULL) != 0)
			break;
	}
	while (i < n && (unsigned char)s[i] < 0x80)
		i++;
	return i;
}

/*
 * The length of the prefix of s[0..n) that a JSON string holds as it is:
 * no '"', no '\\' and no byte below 0x20, 16 bytes at a time with SSE2.
 */
size_t
rk_json_plain(const char *s, size_t n)
{
	size_t i = 0;

#ifdef __SSE2__
	const __m128i quote = _mm_set1_epi8('"'), bslash = _mm_set1_epi8('\\');
	const __m128i low = _mm_set1_epi8(0x1f);

	for (; n - i >= 16; i += 16) {
		__m128i c = _mm_loadu_si128((const __m128i *)(s + i));
		__m128i bad = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(c,
		    quote), _mm_cmpeq_epi8(c, bslash)), _mm_cmpeq_epi8(
		    _mm_max_epu8(c, low), low));

		if (_mm_movemask_epi8(bad) != 0)
			break;
	}
#endif
	while (i < n && (unsigned char)s[i] >= 0x20 && s[i] != '"' &&
	    s[i] != '\\')
		i++;
	return i;
}

/*
 * The length of the longest valid UTF-8 prefix of s[0..n): strict, so no
 * overlong forms, surrogates or code points above U+10FFFF.
 */
size_t
rk_utf8_prefix(const char *s, size_t n)
{
	size_t i = 0, len;

	while ((i = ascii(s, i, n)) < n) {
		if ((len = rk_utf8_char(s + i, n - i)) == 0)
			return i;
		i += len;
	}
	return n;
}

int
rk_utf8_valid(const char *s, size_t n)
{
	return rk_utf8_prefix(s, n) == n;
}

/*
 * The user's home directory: $HOME, or /etc/passwd's when HOME is unset;
 * "/nonexistent" when there is neither.  /etc/passwd is read directly, not
 * through getpwuid(3): most tools are linked statically, where glibc's
 * name service modules cannot be loaded.
 */
static const char *
home_dir(void)
{
	static char dir[PATH_MAX];
	const char *home = rk_getenv("HOME");
	const struct passwd *pw;
	uid_t uid = getuid();
	FILE *fp;

	if (home != NULL)
		return home;
	if (dir[0] == '\0' && (fp = fopen("/etc/passwd", "re")) != NULL) {
		while ((pw = fgetpwent(fp)) != NULL)
			if (pw->pw_uid == uid && pw->pw_dir[0] == '/') {
				strlcpy(dir, pw->pw_dir, sizeof(dir));
				break;
			}
		fclose(fp);
	}
	return dir[0] != '\0' ? dir : "/nonexistent";
}

/* Is path the home directory (trailing slashes aside)? */
static int
is_home(const char *path)
{
	const char *home = home_dir();
	size_t n = strlen(home);

	while (n > 1 && home[n - 1] == '/')
		n--;
	return strncmp(path, home, n) == 0 && path[n] == '\0';
}

/* mkdir -p; a missing home directory is never made (ENOENT). */
int
rk_mkdirs(const char *dir)
{
	char *p, *path = rk_xstrdup(dir);
	int rc = 0;

	for (p = path + 1; ; p++) {
		if (*p != '/' && *p != '\0')
			continue;
		char c = *p;
		*p = '\0';
		if (is_home(path) && access(path, F_OK) == -1) {
			errno = ENOENT;
			rc = -1;
			break;
		}
		if (mkdir(path, 0700) == -1 && errno != EEXIST) {
			rc = -1;
			break;
		}
		*p = c;
		if (c == '\0')
			break;
	}
	free(path);
	return rc;
}

/*
 * $XDG_<KIND>_HOME/reasonkit/<file>, kind "DATA", "CONFIG" or "CACHE",
 * falling back to the XDG defaults under the home directory.
 */
char *
rk_xdg_path(const char *kind, const char *file)
{
	char var[32], *path;
	const char *base, *home, *dflt;

	snprintf(var, sizeof(var), "XDG_%s_HOME", kind);
	/* a relative one is ignored, as the XDG Base Directory spec says:
	 * it would name another directory in each working directory */
	if ((base = rk_getenv(var)) != NULL && base[0] == '/') {
		rk_asprintf(&path, "%s/reasonkit/%s", base, file);
		return path;
	}
	home = home_dir();
	dflt = strcmp(kind, "DATA") == 0 ? ".local/share" :
	    strcmp(kind, "CONFIG") == 0 ? ".config" : ".cache";
	rk_asprintf(&path, "%s/%s/reasonkit/%s", home, dflt, file);
	return path;
}

char *
rk_exe_dir(void)
{
	char buf[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", buf, sizeof(buf) - 1);
	char *slash;

	if (n <= 0)
		return NULL;
	buf[n] = '\0';
	if ((slash = strrchr(buf, '/')) == NULL)
		return NULL;
	*slash = '\0';
	return rk_xstrdup(buf);
}

/* The words of a question given as arguments, joined by spaces. */
char *
rk_join_args(int argc, char *argv[])
{
	size_t len = 1;
	char *q;

	for (int i = 0; i < argc; i++)
		len += strlen(argv[i]) + 1;
	q = rk_xmalloc(len);
	*q = '\0';
	for (int i = 0; i < argc; i++) {
		if (i)
			strlcat(q, " ", len);
		strlcat(q, argv[i], len);
	}
	return q;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

void
rk_sort_doubles(double *v, size_t n)
{
	qsort(v, n, sizeof(*v), cmp_double);
}
