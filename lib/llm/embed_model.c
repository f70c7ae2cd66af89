/*
 * The embedding model of a provider when none is named: rk-embed's, and
 * rk-search's for the first embed of an index (which has no HTTP in it).
 */
#include <stddef.h>
#include <string.h>

#include "core/rk.h"
#include "llm/llm.h"

static const struct {
	const char *provider, *model;
} default_models[] = {
	{ "openai", "text-embedding-3-small" },
	{ "ollama", "nomic-embed-text" },
	{ "mistral", "mistral-embed" },
	{ "mock", "hash" },
};

/* provider's default embedding model, NULL if it has none */
const char *
rk_embed_default_model(const char *provider)
{
	for (size_t i = 0; i < sizeof(default_models) /
	    sizeof(*default_models); i++)
		if (strcmp(default_models[i].provider, provider) == 0)
			return default_models[i].model;
	return NULL;
}
