/*
 * Provider presets and the rule for API keys.
 *
 * A key named after a vendor (OPENAI_API_KEY, ANTHROPIC_API_KEY, ...) is
 * sent only to that vendor's own host: with --base-url pointing anywhere
 * else it is withheld.  RK_API_KEY (or the first line of RK_API_KEY_FILE)
 * is the user's key for the endpoint they chose, and is sent to the base
 * URL in effect, preset or explicit.  Redirects are never followed, so a
 * key cannot travel further.  Keys are never copied into messages.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/rk.h"
#include "llm/llm.h"

static const struct preset {
	const char	*name;
	const struct rk_dialect *dialect;
	const char	*base;
	const char	*key_env;	/* NULL: a local server */
	const char	*model;		/* NULL: -m needed */
} presets[] = {
	{ "openai", &rk_dialect_openai, "https://api.openai.com/v1",
	    "OPENAI_API_KEY", "gpt-4o-mini" },
	{ "anthropic", &rk_dialect_anthropic, "https://api.anthropic.com/v1",
	    "ANTHROPIC_API_KEY", "claude-3-5-haiku-latest" },
	{ "openrouter", &rk_dialect_openai, "https://openrouter.ai/api/v1",
	    "OPENROUTER_API_KEY", "openai/gpt-4o-mini" },
	{ "groq", &rk_dialect_openai, "https://api.groq.com/openai/v1",
	    "GROQ_API_KEY", "llama-3.1-8b-instant" },
	{ "together", &rk_dialect_openai, "https://api.together.xyz/v1",
	    "TOGETHER_API_KEY", NULL },
	{ "mistral", &rk_dialect_openai, "https://api.mistral.ai/v1",
	    "MISTRAL_API_KEY", "mistral-small-latest" },
	{ "deepseek", &rk_dialect_openai, "https://api.deepseek.com/v1",
	    "DEEPSEEK_API_KEY", "deepseek-chat" },
	{ "gemini", &rk_dialect_openai,
	    "https://generativelanguage.googleapis.com/v1beta/openai",
	    "GEMINI_API_KEY", "gemini-2.0-flash" },
	{ "ollama", &rk_dialect_openai, "http://localhost:11434/v1", NULL,
	    NULL },
	{ "vllm", &rk_dialect_openai, "http://localhost:8000/v1", NULL, NULL },
	{ "llamacpp", &rk_dialect_openai, "http://localhost:8080/v1", NULL,
	    "default" },
	{ "lmstudio", &rk_dialect_openai, "http://localhost:1234/v1", NULL,
	    NULL },
	/* any other server of either dialect: --base-url needed */
	{ "openai-compatible", &rk_dialect_openai, NULL, NULL, NULL },
	{ "anthropic-compatible", &rk_dialect_anthropic, NULL, NULL, NULL },
};

#define NPRESETS (sizeof(presets) / sizeof(presets[0]))

/* "scheme://host:port" of a URL, lowercased, into out; -1 if not a URL */
static int
origin(const char *url, char *out, size_t size)
{
	const char *p = strstr(url, "://"), *e;
	size_t n;

	if (p == NULL)
		return -1;
	if ((e = strpbrk(p + 3, "/?#")) == NULL)
		e = url + strlen(url);
	n = (size_t)(e - url);
	if (n + 1 > size || memchr(p + 3, '@', (size_t)(e - p - 3)))
		return -1;	/* user:password@ in a base URL: refused */
	for (size_t i = 0; i < n; i++)
		out[i] = tolower((unsigned char)url[i]);
	out[n] = '\0';
	return 0;
}

static char *
key_file(const char *path, char *err, size_t errsize)
{
	char buf[4096], *k = NULL;
	FILE *fp;
	size_t n;

	if ((fp = fopen(path, "r")) == NULL) {
		snprintf(err, errsize, "RK_API_KEY_FILE: %s: cannot read it",
		    path);
		return NULL;
	}
	n = fread(buf, 1, sizeof(buf) - 1, fp);
	fclose(fp);
	buf[n] = '\0';
	buf[strcspn(buf, "\r\n")] = '\0';
	if (buf[0] == '\0')
		snprintf(err, errsize, "RK_API_KEY_FILE: %s: no key on its "
		    "first line", path);
	else
		k = rk_xstrdup(buf);
	explicit_bzero(buf, sizeof(buf));
	return k;
}

static const struct preset *
find(const char *provider)
{
	for (size_t i = 0; i < NPRESETS; i++)
		if (strcmp(presets[i].name, provider) == 0)
			return &presets[i];
	return NULL;
}

/* the preset named provider: NULL, with the known ones in err, if none */
static const struct preset *
preset(const char *provider, char *err, size_t errsize)
{
	const struct preset *p = find(provider);
	size_t k;

	if (p != NULL)
		return p;
	k = (size_t)snprintf(err, errsize, "unknown provider '%s' (known: "
	    "mock", provider);
	for (size_t i = 0; i < NPRESETS && k < errsize; i++)
		k += (size_t)snprintf(err + k, errsize - k, ", %s",
		    presets[i].name);
	if (k < errsize)
		snprintf(err + k, errsize - k, ")");
	return NULL;
}

/* 0 if provider is mock or a preset, else -1 with the known ones in err */
int
rk_provider_known(const char *provider, char *err, size_t errsize)
{
	return strcmp(provider, "mock") == 0 ||
	    preset(provider, err, errsize) != NULL ? 0 : -1;
}

/* the dialect of a preset's API; NULL for mock or an unknown provider */
const struct rk_dialect *
rk_provider_dialect(const char *provider)
{
	const struct preset *p = find(provider);

	return p != NULL ? p->dialect : NULL;
}

int
rk_endpoint_setup(struct rk_endpoint *e, const char *provider,
    const char *base_url, const char *model, char *err, size_t errsize)
{
	const struct preset *p;
	char o1[512], o2[512];
	const char *v;
	size_t n;

	memset(e, 0, sizeof(*e));
	if ((p = preset(provider, err, errsize)) == NULL)
		return -1;
	e->provider = p->name;
	e->dialect = p->dialect;
	e->local = p->key_env == NULL && p->base != NULL;
	if (base_url == NULL && (base_url = p->base) == NULL) {
		snprintf(err, errsize, "%s: no base URL: use --base-url or "
		    "RK_BASE_URL", provider);
		return -1;
	}
	if (strncmp(base_url, "http://", 7) != 0 &&
	    strncmp(base_url, "https://", 8) != 0) {
		snprintf(err, errsize, "base URL '%s': not http:// or https://",
		    base_url);
		return -1;
	}
	if (origin(base_url, o1, sizeof(o1)) == -1) {
		snprintf(err, errsize, "base URL: not a plain URL (no "
		    "user:password@ part, at most 500 bytes)");
		return -1;
	}
	e->base_url = rk_xstrdup(base_url);
	n = strlen(e->base_url);
	while (n > 0 && e->base_url[n - 1] == '/')
		e->base_url[--n] = '\0';
	if (model == NULL && (model = p->model) == NULL) {
		snprintf(err, errsize, "%s: no model: use -m or RK_MODEL",
		    provider);
		return -1;
	}
	e->model = rk_xstrdup(model);

	if ((v = rk_getenv("RK_API_KEY_FILE")) != NULL) {
		if ((e->key = key_file(v, err, errsize)) == NULL)
			return -1;
		e->key_from = "RK_API_KEY_FILE";
	} else if ((v = rk_getenv("RK_API_KEY")) != NULL) {
		e->key = rk_xstrdup(v);
		e->key_from = "RK_API_KEY";
	} else if (p->key_env != NULL && (v = rk_getenv(p->key_env)) != NULL) {
		if (origin(p->base, o2, sizeof(o2)) == 0 &&
		    strcmp(o1, o2) == 0) {
			e->key = rk_xstrdup(v);
			e->key_from = p->key_env;
		} else
			e->withheld = p->key_env;
	}
	if (e->key == NULL && p->key_env != NULL && e->withheld == NULL &&
	    origin(p->base, o2, sizeof(o2)) == 0 && strcmp(o1, o2) == 0) {
		snprintf(err, errsize, "%s: no API key: set %s (or RK_API_KEY "
		    "or RK_API_KEY_FILE)", provider, p->key_env);
		return -1;
	}
	return 0;
}

void
rk_endpoint_free(struct rk_endpoint *e)
{
	if (e->key != NULL)
		explicit_bzero(e->key, strlen(e->key));
	free(e->key);
	free(e->base_url);
	free(e->model);
	memset(e, 0, sizeof(*e));
}
