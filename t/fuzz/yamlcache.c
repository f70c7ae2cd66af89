/*
 * The YAML cache reader: a cache file whose header matches the protocol
 * file (so it is believed) and whose tree is the input; the tree then
 * goes through every check of a protocol, as a tree parsed from YAML
 * would.  A damaged tree must be refused (the file is parsed instead) or
 * checked, never trusted.
 */
#define _GNU_SOURCE		/* memmem */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/rk.h"
#include "think/think.h"
#include "think/ydoc.h"
#include "fuzz.h"

static char *file, *cache;	/* the protocol file, its cache file */
static char *head;		/* the cache's header and path */
static size_t headlen;

static const char protocol[] =
    "id: fz\n"
    "description: the protocol the fuzzed cache stands for\n"
    "version: 1\n"
    "steps:\n"
    "  - id: one\n"
    "    action: generate\n"
    "    prompt: \"Q: {{query}}\"\n";

/* the one file in the cache directory, read whole */
static void
find_cache(const char *dir)
{
	DIR *dp = opendir(dir);
	struct dirent *de;
	FILE *fp;
	char *buf;
	long n;

	FUZZ_CHECK(dp != NULL, "no cache directory %s", dir);
	while ((de = readdir(dp)) != NULL && de->d_name[0] == '.')
		;
	FUZZ_CHECK(de != NULL, "no cache file");
	rk_asprintf(&cache, "%s/%s", dir, de->d_name);
	closedir(dp);
	FUZZ_CHECK((fp = fopen(cache, "r")) != NULL, "%s", cache);
	fseek(fp, 0, SEEK_END);
	n = ftell(fp);
	rewind(fp);
	buf = rk_xmalloc(n);
	FUZZ_CHECK(fread(buf, 1, n, fp) == (size_t)n, "read %s", cache);
	fclose(fp);
	head = memmem(buf, n, file, strlen(file));
	FUZZ_CHECK(head != NULL, "the path is not in the cache file");
	headlen = head - buf + strlen(file);
	head = buf;
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char *dir, *err;
	struct ynode *root;

	rk_init("fuzz-yamlcache", NULL);
	unsetenv("RK_NO_YAML_CACHE");
	setenv("XDG_CACHE_HOME", fuzz_dir(), 1);
	dir = fuzz_path("p");
	mkdir(dir, 0700);
	rk_asprintf(&file, "%s/fz.yaml", dir);
	fuzz_write(file, protocol, sizeof(protocol) - 1);
	root = ydoc_load(file, &err);
	FUZZ_CHECK(root != NULL, "%s", err);
	ydoc_free(root);
	free(dir);
	dir = fuzz_path("reasonkit/yaml");
	find_cache(dir);
	free(dir);
	return 0;
}

static const char *
lookup(void *arg, const char *name)
{
	return name;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rk_catalog *c = rk_catalog_new();
	char *buf = rk_xmalloc(headlen + size);
	struct rk_error err = { 0, "" };
	int rc;

	memcpy(buf, head, headlen);
	memcpy(buf + headlen, data, size);
	fuzz_write(cache, buf, headlen + size);
	free(buf);
	rc = rk_catalog_load_file(c, file, &err);
	FUZZ_CHECK((rc == 0) == (err.code == 0), "rc %d, err %s", rc, err.msg);
	for (size_t i = 0; i < c->nprotocols; i++) {
		const struct rk_protocol *p = c->protocols[i];
		json_t *j = rk_protocol_json(p);

		free(json_dumps(j, 0));
		json_decref(j);
		for (size_t s = 0; s < p->nsteps; s++)
			free(tmpl_render(p->steps[s].prompt, lookup, NULL));
	}
	rk_catalog_free(c);
	return 0;
}
