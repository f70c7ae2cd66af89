/*
 * Prompt templates: compile, check and render any text (an empty template
 * compiles to NULL, which renders as "").  Text without a
 * tag renders as itself; a template that compiles renders whatever its
 * variables hold.
 */
#include <stdlib.h>
#include <string.h>

#include "core/rk.h"
#include "think/think.h"
#include "fuzz.h"

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	rk_init("fuzz-template", NULL);
	return 0;
}

static int
known(void *arg, const char *name)
{
	return name[0] != 'x';
}

/* unset, empty or set, by the name's length */
static const char *
lookup(void *arg, const char *name)
{
	static const char *v[] = { NULL, "", "value\n{{not a tag}}" };

	return v[strlen(name) % 3];
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *src = fuzz_strdup(data, size), *err = NULL, *out;
	struct tnode *t = tmpl_compile(src, 1, 1, &err);
	const char *bad;
	int line, col;

	if (t == NULL && err != NULL) {
		free(err);
		free(src);
		return 0;
	}
	FUZZ_CHECK(err == NULL, "a template and an error: %s", err);
	if (tmpl_check(t, known, NULL, &bad, &line, &col) == -1)
		FUZZ_CHECK(bad != NULL && bad[0] == 'x' && line >= 1 &&
		    col >= 1, "bad check result");
	out = tmpl_render(t, lookup, NULL);
	FUZZ_CHECK(out != NULL, "no rendering");
	if (strstr(src, "{{") == NULL)
		FUZZ_CHECK(strcmp(out, src) == 0, "plain text changed");
	free(out);
	tmpl_free(t);
	free(src);
	return 0;
}
