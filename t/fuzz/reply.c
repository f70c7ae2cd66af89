/*
 * A model's reply as each kind of output: the result is an object of its
 * type that turns into text again, and the confidence read is in [0, 1].
 * Replies come out of JSON strings: valid UTF-8, no NUL.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/rk.h"
#include "think/think.h"
#include "fuzz.h"

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	rk_init("fuzz-reply", NULL);
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const enum out_kind kinds[] = { OUT_TEXT, OUT_LIST,
	    OUT_VERDICT };
	char *text;
	double conf;
	int found;

	if (memchr(data, '\0', size) != NULL ||
	    !rk_utf8_valid((const char *)data, size))
		return 0;
	text = fuzz_strdup(data, size);
	conf = rk_reply_confidence(text, &found);
	FUZZ_CHECK(conf >= 0 && conf <= 1 && (found || conf == 0),
	    "confidence %g", conf);
	for (size_t k = 0; k < sizeof(kinds) / sizeof(*kinds); k++) {
		json_t *out = rk_reply_parse(text, kinds[k]);
		char *s;

		FUZZ_CHECK(json_is_object(out), "no output of kind %s",
		    rk_out_kind_name(kinds[k]));
		FUZZ_CHECK(strcmp(rk_get_string(out, "type"),
		    rk_out_kind_name(kinds[k])) == 0, "wrong type");
		s = rk_output_text(out);
		FUZZ_CHECK(s != NULL && rk_utf8_valid(s, strlen(s)),
		    "output text");
		free(s);
		json_decref(out);
	}
	free(text);
	return 0;
}
