/*
 * The light scanner: the validator takes exactly what jansson takes
 * (NUL bytes aside, which jansson skips in places); a line taken lightly
 * is one jansson takes (an object, no duplicate keys, valid UTF-8); what
 * rk_light_write() writes of it, after a change, a new member and new
 * steps, must be JSON with the line's members as they were, the changes,
 * and the steps.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/rk.h"
#include "fuzz.h"

static const char *step_keys[] = { "id", "output", "text", NULL };

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	rk_init("fuzz-light", NULL);
	return 0;
}

/* the members of full are in out: changed as l->rec says, steps added */
static void
check_members(const json_t *full, const json_t *out, const struct rk_light *l)
{
	const char *key;
	json_t *v;

	json_object_foreach((json_t *)full, key, v) {
		const json_t *o = json_object_get(out, key);

		if (strcmp(key, "steps") == 0 || strcmp(key, "query") == 0)
			continue;
		FUZZ_CHECK(json_equal(v, o), "member %s changed", key);
	}
	FUZZ_CHECK(json_equal(json_object_get(out, "query"),
	    json_object_get(l->rec, "query")), "query not as set");
	FUZZ_CHECK(json_integer_value(json_object_get(out, "fuzz")) == 7,
	    "the new member is missing");
}

static void
check_steps(const json_t *full, const json_t *out)
{
	const json_t *was = json_object_get(full, "steps");
	const json_t *now = json_object_get(out, "steps");
	size_t n = json_is_array(was) ? json_array_size(was) : 0;

	FUZZ_CHECK(json_is_array(now) && json_array_size(now) == n + 1,
	    "steps not appended");
	for (size_t i = 0; i < n; i++)
		FUZZ_CHECK(json_equal(json_array_get(was, i),
		    json_array_get(now, i)), "step %zu changed", i);
}

static void
write_changed(struct rk_light *l, const json_t *full, int with_steps)
{
	char *out = NULL;
	size_t len = 0;
	FILE *fp;
	json_t *got;
	json_error_t je;
	int rc;

	json_object_set_new(l->rec, "query", json_string("changed"));
	json_object_set_new(l->rec, "fuzz", json_integer(7));
	if (with_steps)
		l->more_steps = json_pack("[{s:s}]", "id", "fuzz");
	fp = open_memstream(&out, &len);
	rc = rk_light_write(fp, l);
	fclose(fp);
	if (rc == 0) {
		got = json_loadb(out, len, JSON_REJECT_DUPLICATES, &je);
		FUZZ_CHECK(json_is_object(got), "wrote bad JSON (%s): %s",
		    je.text, out);
		check_members(full, got, l);
		if (with_steps)
			check_steps(full, got);
		json_decref(got);
	}
	free(out);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *line = (const char *)data;
	json_t *full = json_loadb(line, size, JSON_REJECT_DUPLICATES, NULL);
	struct rk_light l;

	FUZZ_CHECK(rk_json_valid(line, size) == (full != NULL &&
	    memchr(line, '\0', size) == NULL), "rk_json_valid and jansson "
	    "disagree: %.*s", (int)size, line);
	/* steps read or not (rk-llm reads them only for a budget), new
	   steps or none */
	for (int mode = 0; mode < 4; mode++) {
		if (rk_light_open(&l, line, size, mode & 1 ? step_keys :
		    NULL) == -1)
			continue;
		FUZZ_CHECK(json_is_object(full), "took a line jansson "
		    "refuses: %.*s", (int)size, line);
		write_changed(&l, full, mode & 2);
		rk_light_close(&l);
	}
	json_decref(full);
	return 0;
}
