/*
 * Server-sent events and what the two API dialects make of them.  The
 * stream is parsed whole and again in pieces of 1 to 16 bytes (the first
 * byte seeds their sizes): the events must be the same, or both parses
 * must fail.  The events then go to each dialect's stream reader, and the
 * whole input to its reader of whole replies and of error bodies.
 */
#include <stdlib.h>
#include <string.h>

#include "core/rk.h"
#include "llm/llm.h"
#include "fuzz.h"

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	rk_init("fuzz-sse", NULL);
	return 0;
}

/* each event as "name\0data\0" */
static int
record(void *arg, const char *event, const char *data)
{
	struct rk_sbuf *b = arg;

	rk_sbuf_add(b, event, strlen(event) + 1);
	rk_sbuf_add(b, data, strlen(data) + 1);
	return 0;
}

static int
parse(const uint8_t *data, size_t size, size_t max, unsigned seed,
    struct rk_sbuf *out)
{
	struct rk_sse s;
	size_t i = 0, n;
	int rc = 0;

	rk_sse_init(&s, max, record, out);
	while (i < size && rc == 0) {
		n = seed ? 1 + (seed = seed * 1103515245 + 12345) % 16 : size;
		n = n < size - i ? n : size - i;
		rc = rk_sse_feed(&s, (const char *)data + i, n);
		i += n;
	}
	rk_sse_free(&s);
	return rc;
}

static void
dialect(const struct rk_dialect *d, const struct rk_sbuf *events,
    const uint8_t *data, size_t size)
{
	struct rk_call c;
	const char *p = events->s, *end = p ? p + events->len : NULL;
	char *msg;

	memset(&c, 0, sizeof(c));
	while (p != NULL && p < end) {
		const char *name = p, *ev = p + strlen(p) + 1;

		p = ev + strlen(ev) + 1;
		if (d->event(&c, name, ev) == -1) {
			FUZZ_CHECK(c.errcode != NULL && c.errmsg != NULL,
			    "%s: an event failed without an error", d->name);
			break;
		}
	}
	rk_call_clear(&c);
	/* a reply may have no text at all: rk-llm makes that "" */
	if (d->response(&c, (const char *)data, size) == -1)
		FUZZ_CHECK(c.errcode != NULL && c.errmsg != NULL,
		    "%s: a reply failed without an error", d->name);
	rk_call_clear(&c);
	free(msg = d->error_message((const char *)data, size));
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rk_sbuf whole = { NULL, 0, 0 }, pieces = { NULL, 0, 0 };
	size_t max;
	unsigned seed;
	int rw, rp;

	if (size < 1)
		return 0;
	seed = data[0] | 1;
	max = data[0] & 0x80 ? 64 : 1u << 20;
	data++, size--;
	rw = parse(data, size, max, 0, &whole);
	rp = parse(data, size, max, seed, &pieces);
	FUZZ_CHECK(rw == rp, "whole %d, in pieces %d", rw, rp);
	FUZZ_CHECK(whole.len == pieces.len && (whole.len == 0 ||
	    memcmp(whole.s, pieces.s, whole.len) == 0),
	    "other events in pieces");
	dialect(&rk_dialect_openai, &whole, data, size);
	dialect(&rk_dialect_anthropic, &whole, data, size);
	rk_sbuf_free(&whole);
	rk_sbuf_free(&pieces);
	return 0;
}
