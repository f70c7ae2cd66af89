/*
 * The Porter stemmer (M. F. Porter, "An algorithm for suffix stripping",
 * Program 14(3), 1980), in the variant of his reference implementation
 * that Lucene's PorterStemFilter also follows ("bli" -> "ble", "logi" ->
 * "log").  Works in place on a lowercase ASCII word.
 */
#include <string.h>

#include "search/search.h"

struct stem {
	char	*b;
	int	 k;	/* index of the last letter */
	int	 j;	/* end of the stem while testing a suffix */
};

static int
cons(const struct stem *z, int i)
{
	switch (z->b[i]) {
	case 'a': case 'e': case 'i': case 'o': case 'u':
		return 0;
	case 'y':
		return i == 0 ? 1 : !cons(z, i - 1);
	default:
		return 1;
	}
}

/* from i, the first letter up to j that is (c 1) or is not a consonant */
static int
skip_to(const struct stem *z, int i, int c)
{
	while (i <= z->j && cons(z, i) != c)
		i++;
	return i;
}

/* the number of VC sequences in b[0..j] */
static int
measure(const struct stem *z)
{
	int n = 0, i = skip_to(z, 0, 0);

	for (;;) {
		if (i > z->j)
			return n;
		if ((i = skip_to(z, i + 1, 1)) > z->j)
			return n;
		n++;
		i = skip_to(z, i + 1, 0);
	}
}

static int
vowel_in_stem(const struct stem *z)
{
	for (int i = 0; i <= z->j; i++)
		if (!cons(z, i))
			return 1;
	return 0;
}

static int
double_cons(const struct stem *z, int i)
{
	return i >= 1 && z->b[i] == z->b[i - 1] && cons(z, i);
}

/* consonant-vowel-consonant ending at i, the last not w, x or y */
static int
cvc(const struct stem *z, int i)
{
	if (i < 2 || !cons(z, i) || cons(z, i - 1) || !cons(z, i - 2))
		return 0;
	return z->b[i] != 'w' && z->b[i] != 'x' && z->b[i] != 'y';
}

/* does b[0..k] end in s (of length len)?  Then j ends the stem */
static int
ends_n(struct stem *z, const char *s, int len)
{
	if (len > z->k + 1 || z->b[z->k] != s[len - 1] ||
	    memcmp(z->b + z->k - len + 1, s, len) != 0)
		return 0;
	z->j = z->k - len;
	return 1;
}

static void
set_to_n(struct stem *z, const char *s, int len)
{
	memcpy(z->b + z->j + 1, s, len);
	z->k = z->j + len;
}

/* for string literals only */
#define ends(z, s)	ends_n(z, s, sizeof(s) - 1)
#define set_to(z, s)	set_to_n(z, s, sizeof(s) - 1)

/* plurals and -ed, -ing */
static void
step1ab(struct stem *z)
{
	if (z->b[z->k] == 's') {
		if (ends(z, "sses"))
			z->k -= 2;
		else if (ends(z, "ies"))
			set_to(z, "i");
		else if (z->b[z->k - 1] != 's')
			z->k--;
	}
	if (ends(z, "eed")) {
		if (measure(z) > 0)
			z->k--;
	} else if ((ends(z, "ed") || ends(z, "ing")) && vowel_in_stem(z)) {
		z->k = z->j;
		if (ends(z, "at"))
			set_to(z, "ate");
		else if (ends(z, "bl"))
			set_to(z, "ble");
		else if (ends(z, "iz"))
			set_to(z, "ize");
		else if (double_cons(z, z->k)) {
			char c = z->b[z->k];

			if (c != 'l' && c != 's' && c != 'z')
				z->k--;
		} else if (z->j = z->k, measure(z) == 1 && cvc(z, z->k)) {
			z->j = z->k;
			set_to(z, "e");
		}
	}
}

static void
step1c(struct stem *z)
{
	if (ends(z, "y") && vowel_in_stem(z))
		z->b[z->k] = 'i';
}

struct rule {
	const char *from;
	int	 flen;
	const char *to;
	int	 tlen;
};

#define R(from, to)	{ from, sizeof(from) - 1, to, sizeof(to) - 1 }

/* the first rule whose suffix matches decides, even if m() is too small */
static int
rules(struct stem *z, const struct rule *r)
{
	for (; r->from != NULL; r++)
		if (ends_n(z, r->from, r->flen)) {
			if (measure(z) > 0)
				set_to_n(z, r->to, r->tlen);
			return 1;
		}
	return 0;
}

static void
step2(struct stem *z)
{
	static const struct rule r[] = {
		R("ational", "ate"), R("tional", "tion"), R("enci", "ence"),
		R("anci", "ance"), R("izer", "ize"), R("bli", "ble"),
		R("alli", "al"), R("entli", "ent"), R("eli", "e"),
		R("ousli", "ous"), R("ization", "ize"), R("ation", "ate"),
		R("ator", "ate"), R("alism", "al"), R("iveness", "ive"),
		R("fulness", "ful"), R("ousness", "ous"), R("aliti", "al"),
		R("iviti", "ive"), R("biliti", "ble"), R("logi", "log"),
		{ NULL, 0, NULL, 0 }
	};

	if (z->k >= 1)
		rules(z, r);
}

static void
step3(struct stem *z)
{
	static const struct rule r[] = {
		R("icate", "ic"), R("ative", ""), R("alize", "al"),
		R("iciti", "ic"), R("ical", "ic"), R("ful", ""),
		R("ness", ""), { NULL, 0, NULL, 0 }
	};

	rules(z, r);
}

static void
step4(struct stem *z)
{
	static const struct rule sfx[] = {
		R("al", ""), R("ance", ""), R("ence", ""), R("er", ""),
		R("ic", ""), R("able", ""), R("ible", ""), R("ant", ""),
		R("ement", ""), R("ment", ""), R("ent", ""), R("ion", ""),
		R("ou", ""), R("ism", ""), R("ate", ""), R("iti", ""),
		R("ous", ""), R("ive", ""), R("ize", ""), { NULL, 0, NULL, 0 }
	};
	int i;

	for (i = 0; sfx[i].from != NULL; i++) {
		if (!ends_n(z, sfx[i].from, sfx[i].flen))
			continue;
		if (sfx[i].from[0] == 'i' && sfx[i].flen == 3 &&
		    sfx[i].from[1] == 'o' && (z->j < 0 ||
		    (z->b[z->j] != 's' && z->b[z->j] != 't')))
			continue;	/* -ion only after s or t */
		break;
	}
	if (sfx[i].from != NULL && measure(z) > 1)
		z->k = z->j;
}

static void
step5(struct stem *z)
{
	z->j = z->k;
	if (z->b[z->k] == 'e') {
		int a = measure(z);

		if (a > 1 || (a == 1 && !cvc(z, z->k - 1)))
			z->k--;
	}
	if (z->b[z->k] == 'l' && double_cons(z, z->k) && measure(z) > 1)
		z->k--;
}

size_t
rk_porter(char *word, size_t len)
{
	struct stem z = { word, (int)len - 1, 0 };

	if (len <= 2)
		return len;
	step1ab(&z);
	if (z.k > 0) {
		step1c(&z);
		step2(&z);
		step3(&z);
		step4(&z);
		step5(&z);
	}
	return z.k + 1;
}
