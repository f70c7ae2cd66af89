/*
 * A batch of questions as records: each line of a question file (a text
 * line, or a JSON object {"id":..,"question":"..", ...}) becomes a record
 * tagged with the batch and the question's item, the key by which a batch
 * run again knows what it has done.  rk-batch(1) is the tool around it.
 */
#include <stdio.h>
#include <string.h>

#include "core/rk.h"
#include "think/think.h"

const char *
rk_batch_item_text(const json_t *item, char *buf, size_t size)
{
	if (json_is_string(item))
		return json_string_value(item);
	snprintf(buf, size, "%" JSON_INTEGER_FORMAT, json_integer_value(item));
	return buf;
}

json_t *
rk_batch_tag(json_t *rec, const char *batch, json_t *item)
{
	if (batch != NULL)
		json_object_set_new(rec, "batch", json_string(batch));
	json_object_set(rec, "item", item);
	return rec;
}

/* The members of a record that a question object may not set. */
static const char *const owned[] = { "rk", "query", "profile", "protocol",
    "request", "steps", "skipped", "result", "answer", "conclusion", "error",
    "batch", "item", NULL };

/* one of the batch's own records, as rk-batch wrote it */
static int
ours(json_t *o, const char *batch)
{
	const char *b = rk_get_string(o, "batch");

	return json_object_get(o, "rk") != NULL && batch != NULL &&
	    json_object_get(o, "item") != NULL &&
	    strcmp(batch, b != NULL ? b : "") == 0;
}

/* the item of an object: its id, or the line number without one */
static int
object_item(json_t *o, size_t lineno, json_t **item, const char **code,
    struct rk_error *e)
{
	*item = json_object_get(o, "id");
	if (*item == NULL || json_is_null(*item))
		*item = json_integer(lineno);
	else if (json_is_string(*item) || json_is_integer(*item))
		json_incref(*item);
	else {
		*item = json_integer(lineno);
		*code = "bad-id";
		return rk_error_set(e, RK_EXIT_INPUT, "id is not a string or "
		    "integer");
	}
	return 0;
}

/*
 * The record of a question object, or NULL when the object will not do.
 * A record of this batch goes on as it is, so that a batch can be cut
 * into parts and each part fed again.
 */
static json_t *
object_record(json_t *o, const char *batch, size_t lineno, json_t **item,
    const char **code, struct rk_error *e)
{
	const json_t *q = json_object_get(o, "question");
	json_t *rec, *v;
	const char *k;

	if (ours(o, batch)) {
		*item = json_incref(json_object_get(o, "item"));
		return json_incref(o);
	}
	if (object_item(o, lineno, item, code, e) != 0)
		return NULL;
	for (int i = 0; owned[i] != NULL; i++)
		if (json_object_get(o, owned[i]) != NULL) {
			*code = "bad-field";
			rk_error_set(e, RK_EXIT_INPUT, "'%s' is a field of the "
			    "record's own", owned[i]);
			return NULL;
		}
	if (!json_is_string(q) || strspn(json_string_value(q), " \t\r\n") ==
	    json_string_length(q)) {
		*code = "no-question";
		rk_error_set(e, RK_EXIT_INPUT, "no question");
		return NULL;
	}
	rec = rk_batch_tag(rk_record_new(json_string_value(q)), batch, *item);
	json_object_foreach(o, k, v)
		if (strcmp(k, "id") != 0 && strcmp(k, "question") != 0)
			json_object_set(rec, k, v);
	return rec;
}

int
rk_batch_question(const char *batch, int jsonl, const char *line,
    size_t len, size_t lineno, json_t **rec, json_t **item,
    const char **code, struct rk_error *e)
{
	json_t *o;

	*item = json_integer(lineno);
	*rec = NULL;
	if (!jsonl) {
		*rec = rk_batch_tag(rk_record_new(line), batch, *item);
		return 0;
	}
	if ((o = json_loadb(line, len, JSON_REJECT_DUPLICATES, NULL)) ==
	    NULL || !json_is_object(o)) {
		json_decref(o);
		*code = "not-object";
		return rk_error_set(e, RK_EXIT_INPUT, "not a JSON object");
	}
	json_decref(*item);
	*rec = object_record(o, batch, lineno, item, code, e);
	json_decref(o);
	return *rec != NULL ? 0 : RK_EXIT_INPUT;
}
