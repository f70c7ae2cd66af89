/*
 * Protocol and profile files: the input is written as a YAML file and
 * loaded into a catalog (the YAML loader, then every check); what loads
 * is rendered and turned into JSON as rk-parse -l would.  The file is
 * named after the input's "id:" line, so that a protocol may load.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/rk.h"
#include "think/think.h"
#include "fuzz.h"

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	rk_init("fuzz-yaml", NULL);
	setenv("RK_NO_YAML_CACHE", "1", 1);
	setenv("RK_PROTOCOL_PATH", fuzz_dir(), 1);
	return 0;
}

/* "NAME.yaml" for the first "id: NAME" line, else "fuzz.yaml" */
static void
file_name(const char *s, char *buf, size_t size)
{
	const char *p = strncmp(s, "id:", 3) == 0 ? s : strstr(s, "\nid:");
	size_t n = 0;

	snprintf(buf, size, "fuzz.yaml");
	if (p == NULL)
		return;
	p += *p == '\n' ? 4 : 3;
	while (*p == ' ')
		p++;
	while (n < 64 && (isalnum((unsigned char)p[n]) || p[n] == '_' ||
	    p[n] == '-'))
		n++;
	if (n > 0)
		snprintf(buf, size, "%.*s.yaml", (int)n, p);
}

static const char *
lookup(void *arg, const char *name)
{
	return strlen(name) % 3 == 0 ? "" : name;
}

static void
use_protocol(const struct rk_protocol *p)
{
	json_t *j = rk_protocol_json(p);
	char *s;

	FUZZ_CHECK(j != NULL, "rk_protocol_json");
	free(json_dumps(j, 0));
	json_decref(j);
	if (p->system != NULL)
		free(tmpl_render(p->system, lookup, NULL));
	for (size_t i = 0; i < p->nsteps; i++) {
		s = tmpl_render(p->steps[i].prompt, lookup, NULL);
		free(s);
		FUZZ_CHECK(rk_protocol_step(p, p->steps[i].id) != NULL,
		    "step %s not found", p->steps[i].id);
	}
}

static void
use_profile(struct rk_catalog *c, struct rk_profile *p)
{
	json_t *j = rk_profile_json(p);
	struct rk_error err = { 0, "" };

	FUZZ_CHECK(j != NULL, "rk_profile_json");
	free(json_dumps(j, 0));
	json_decref(j);
	if (rk_catalog_check_profile(c, p, &err) != 0)
		FUZZ_CHECK(err.code != 0 && err.msg[0] != '\0',
		    "a failed check without a message");
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *src = fuzz_strdup(data, size), name[80], *path;
	struct rk_error err = { 0, "" };
	struct rk_catalog *c;
	int rc;

	file_name(src, name, sizeof(name));
	path = fuzz_path(name);
	fuzz_write(path, data, size);
	c = rk_catalog_new();
	rc = rk_catalog_load_file(c, path, &err);
	FUZZ_CHECK((rc == 0) == (err.code == 0), "rc %d, err %s", rc, err.msg);
	for (size_t i = 0; i < c->nprotocols; i++)
		use_protocol(c->protocols[i]);
	for (size_t i = 0; i < c->nprofiles; i++)
		use_profile(c, c->profiles[i]);
	rk_catalog_free(c);
	unlink(path);
	free(path);
	free(src);
	return 0;
}
