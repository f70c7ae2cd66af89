/* rk-parse: load, check and print protocol and profile definitions */
#include <err.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "core/rk.h"
#include "think/think.h"

static int cflag, lflag, Pflag, qflag;
static const char *pflag;

enum { O_STEPS = RK_OPT_OWN };

static const struct rk_optdef opts[] = {
	{ 'l', NULL, no_argument, NULL, "list names and descriptions" },
	{ 'p', NULL, required_argument, "profile",
	    "with --steps: a profile's steps" },
	{ 'q', NULL, no_argument, NULL,
	    "quiet: check only, print nothing but errors" },
	{ O_STEPS, "steps", no_argument, NULL,
	    "print the most steps a protocol or profile runs" },
	RK_OPTS_PERF,
	RK_OPTS_HELP,
	RK_OPTS_END
};

static struct rk_cli cli = { .defs = opts, .usage =
	"usage: rk-parse [-lq] [name | file ...]\n"
	"       rk-parse --steps [--performance-mode] protocol\n"
	"       rk-parse --steps [--performance-mode] -p profile\n" };

/* Report e; returns its exit status. */
static int
failed(const struct rk_error *e)
{
	warnx("%s", e->msg);
	return e->code;
}

static void
print_json(json_t *j)
{
	json_dumpf(j, stdout, JSON_COMPACT | JSON_REAL_PRECISION(15));
	putchar('\n');
	json_decref(j);
}

static void
list(const struct rk_catalog *c)
{
	for (size_t i = 0; i < c->nprotocols; i++)
		printf("%-14s protocol  %s\n", c->protocols[i]->id,
		    c->protocols[i]->description);
	for (size_t i = 0; i < c->nprofiles; i++) {
		const struct rk_profile *p = c->profiles[i];

		printf("%-14s profile   %s (", p->id, p->description);
		for (size_t j = 0; j < p->nchain; j++)
			printf("%s%s", j ? " > " : "", p->chain[j].protocol);
		printf(")\n");
	}
}

static int
cmp_protocol(const void *a, const void *b)
{
	return strcmp((*(struct rk_protocol *const *)a)->id,
	    (*(struct rk_protocol *const *)b)->id);
}

/* Everything on the search path: protocols, then profiles, all checked. */
static int
all(struct rk_catalog *c)
{
	struct rk_error e;

	if (rk_catalog_load_all(c, &e) == -1)
		return failed(&e);
	for (size_t i = 0; i < c->nprofiles; i++)
		if (rk_catalog_check_profile(c, c->profiles[i], &e) == -1)
			return failed(&e);
	qsort(c->protocols, c->nprotocols, sizeof(*c->protocols),
	    cmp_protocol);
	if (lflag)
		list(c);
	else if (!qflag) {
		for (size_t i = 0; i < c->nprotocols; i++)
			print_json(rk_protocol_json(c->protocols[i]));
		for (size_t i = 0; i < c->nprofiles; i++)
			print_json(rk_profile_json(c->profiles[i]));
	}
	return RK_EXIT_OK;
}

/* One file: whatever it defines, checked against the search path. */
static int
one_file(struct rk_catalog *c, const char *path)
{
	size_t np = c->nprotocols, nf = c->nprofiles;
	struct rk_error e;

	if (rk_catalog_load_file(c, path, &e) == -1)
		return failed(&e);
	for (size_t i = nf; i < c->nprofiles; i++)
		if (rk_catalog_check_profile(c, c->profiles[i], &e) == -1)
			return failed(&e);
	for (size_t i = np; i < c->nprotocols && !qflag; i++)
		print_json(rk_protocol_json(c->protocols[i]));
	for (size_t i = nf; i < c->nprofiles && !qflag; i++)
		print_json(rk_profile_json(c->profiles[i]));
	return RK_EXIT_OK;
}

/* The most steps a protocol or profile can run: a pipeline's length. */
static int
count(struct rk_catalog *c, const char *protocol)
{
	struct rk_error e;
	long n = rk_catalog_steps(c, pflag ? pflag : protocol, pflag ?
	    RK_KIND_PROFILE : RK_KIND_PROTOCOL, Pflag, &e);

	if (n < 0)
		return failed(&e);
	printf("%ld\n", n);
	return RK_EXIT_OK;
}

/* A name: a protocol if there is one, else a profile. */
static int
one_name(struct rk_catalog *c, const char *name)
{
	struct rk_protocol *p;
	struct rk_profile *f;
	struct rk_error e;

	switch (rk_catalog_kind(c, name, &e)) {
	case RK_KIND_PROTOCOL:
		if ((p = rk_catalog_protocol(c, name, &e)) == NULL)
			return failed(&e);
		if (!qflag)
			print_json(rk_protocol_json(p));
		return RK_EXIT_OK;
	case RK_KIND_PROFILE:
		if ((f = rk_catalog_profile(c, name, &e)) == NULL)
			return failed(&e);
		if (!qflag)
			print_json(rk_profile_json(f));
		return RK_EXIT_OK;
	case RK_KIND_NONE:
		if (!rk_valid_name(name))
			rk_catalog_protocol(c, name, &e);	/* says why */
		else
			rk_error_set(&e, RK_EXIT_CONFIG, "%s: no such "
			    "protocol or profile", name);
		return failed(&e);
	default:
		return failed(&e);
	}
}

int
main(int argc, char *argv[])
{
	struct rk_catalog *c;
	struct rk_error e;
	int ch, act, status = RK_EXIT_OK;

	if (rk_init(argv[0], &e) != 0)
		errx(e.code, "%s", e.msg);
	while ((ch = rk_getopt(&cli, argc, argv)) != -1)
		switch (ch) {
		case O_STEPS: cflag = 1; break;
		case 'l': lflag = 1; break;
		case 'q': qflag = 1; break;
		default:
			if ((act = rk_opt(&cli, ch, optarg)) != RK_OPT_NEXT)
				return rk_opt_done(&cli, act);
		}
	Pflag = cli.perf;
	pflag = cli.profile;
	argc -= optind;
	argv += optind;
	if ((cflag && (argc != !pflag || lflag || qflag)) ||
	    (pflag && !cflag) || (lflag && argc > 0))
		return rk_opt_done(&cli, RK_OPT_USAGE);
	c = rk_catalog_new();
	if (cflag)
		status = count(c, argv[0]), argc = 0;
	else if (argc == 0)
		status = all(c);
	for (int i = 0; i < argc; i++) {
		int rc = strchr(argv[i], '/') || strstr(argv[i], ".y") ?
		    one_file(c, argv[i]) : one_name(c, argv[i]);

		if (rc > status)
			status = rc;
	}
	rk_catalog_free(c);
	rk_exit_status(status);
	return rk_finish();
}
