# corpus.awk -v docs=N: N documents of made-up words, as JSON lines
# {"_id":"dI","text":"..."}, the same on every machine and every awk: a
# Park-Miller generator (products below 2^53), words of two to four
# syllables over a vocabulary of 20,000 with a skewed (Zipf-like) choice,
# sentences of 6 to 20 words, some numbers and punctuation.
function rnd() { seed = (seed * 16807) % 2147483647; return seed / 2147483647 }
function word(k,   w, s) {
	w = ""
	do { w = w substr(C, k % 19 + 1, 1) substr(V, int(k / 19) % 5 + 1, 1)
	    k = int(k / 95) } while (k > 0)
	return w
}
BEGIN {
	seed = 42; C = "bcdfghjklmnprstvwxz"; V = "aeiou"
	for (d = 1; d <= docs; d++) {
		t = ""; n = 3 + int(rnd() * 10)
		for (s = 0; s < n; s++) {
			m = 6 + int(rnd() * 15)
			for (i = 0; i < m; i++) {
				u = rnd()
				w = u < 0.05 ? int(rnd() * 1000) : word(int(20000 * u * u * u))
				if (i == 0) w = toupper(substr(w, 1, 1)) substr(w, 2)
				t = t (i ? " " : "") w
			}
			t = t (rnd() < 0.2 ? "? " : ", and ") 
		}
		printf "{\"_id\":\"d%d\",\"text\":\"%s.\"}\n", d, t
	}
}
