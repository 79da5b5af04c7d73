/* conform.c -- `mmshare conform`: every case of the contract on every backend asked for. */
#include <errno.h>
#include <fnmatch.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "mmshare.h"
#include "cli.h"
#include "commands.h"
#include "conform.h"
#include "conform_report.h"

#define CONFORM_MAX_BACKENDS 32
#define CONFORM_MAX_TIMEOUT 3600

/* The command line. */
struct conform_opts {
	const char *backends[CONFORM_MAX_BACKENDS];     /* as resolved, in the order given */
	unsigned caps[CONFORM_MAX_BACKENDS];            /* each one's MMS_CAP_* bits */
	size_t nbackends;
	const struct conform_case *cases[CONFORM_MAX_CASES + 1];  /* selected, in table order */
	size_t ncases;
	unsigned timeout_s;     /* every case's time limit, or 0 for each case's own */
	int list;               /* print the cases and stop */
	int tap;                /* TAP instead of the table */
	const char *junit;      /* JUnit XML file, or NULL */
	char *names;            /* the copy of --backend's list that backends[] point into */
};

static const char conform_usage[] =
	"usage: mmshare conform [--backend LIST|all] [--case PATTERN] [--list] [--timeout S]\n"
	"                       [--tap] [--junit FILE]\n"
	"Runs every case of the contract on each backend, each case in a process of its own with a\n"
	"time limit: a case that crashes or hangs fails, and the run goes on.\n\n"
	"  --backend LIST|all  backends, comma-separated (default all: the safe built-ins of\n"
	"                      `mmshare list`); the negative controls none and stale by name\n"
	"  --case PATTERN      cases whose name matches one of the comma-separated globs, or a\n"
	"                      group: `oracle` is oracle.* (default every case)\n"
	"  --list              print the cases (name, capability needed, what it checks) and stop\n"
	"  --timeout S         the time limit of every case, seconds (default: each case's own)\n"
	"  --tap               TAP version 13 on stdout instead of the table\n"
	"  --junit FILE        also write JUnit XML: a testsuite per backend, a testcase per case\n\n"
	"Exit status: 0 every case passed or was skipped, 1 a case failed, 2 bad usage.\n";

static int usage_error(const char *fmt, const char *arg)
{
	fputs("mmshare conform: ", stderr);
	fprintf(stderr, fmt, arg);
	fputs("\nrun `mmshare conform --help` for the options\n", stderr);
	return -1;
}

/*
 * What a --backend item names: 0 with *name (to pass to mms_new) and *caps set, or -1 after
 * saying on stderr why it names no backend. Negative controls are accepted by name.
 */
static int conform_resolve_backend(const char *arg, const char **name, unsigned *caps)
{
	*name = cli_backend("conform", arg);
	if (!*name)
		return -1;
	return mms_backend_caps(*name, caps) ? -1 : 0;
}

static int add_backend(struct conform_opts *o, const char *arg)
{
	const char *name;
	unsigned caps;
	size_t k;

	if (conform_resolve_backend(arg, &name, &caps))
		return -1;
	for (k = 0; k < o->nbackends; k++)
		if (!strcmp(o->backends[k], name))
			return 0;
	if (o->nbackends == CONFORM_MAX_BACKENDS)
		return usage_error("--backend: more than %s backends", "32");
	o->caps[o->nbackends] = caps;
	o->backends[o->nbackends++] = name;
	return 0;
}

static int parse_backends(struct conform_opts *o, const char *list)
{
	const char *const *n;
	char *save = NULL, *tok;

	free(o->names);
	o->names = strdup(list);
	if (!o->names)
		return usage_error("--backend '%s': out of memory", list);
	o->nbackends = 0;
	for (tok = strtok_r(o->names, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		if (!strcmp(tok, "all")) {
			for (n = cli_backends_here("conform"); *n; n++)
				if (add_backend(o, *n))
					return -1;
		} else if (add_backend(o, tok)) {
			return -1;
		}
	}
	return o->nbackends ? 0 : usage_error("--backend '%s': no backend named", list);
}

/* Whether a case name matches a pattern: a glob, or a group name before the dot. */
static int case_matches(const char *name, const char *pat)
{
	size_t n = strlen(pat);

	return !fnmatch(pat, name, 0) || (!strncmp(name, pat, n) && name[n] == '.');
}

static int parse_cases(struct conform_opts *o, const char *list)
{
	char *copy = strdup(list), *save = NULL, *tok;
	int chosen[CONFORM_MAX_CASES] = { 0 }, hit, bad = 0;
	size_t k;

	if (!copy)
		return usage_error("--case '%s': out of memory", list);
	for (tok = strtok_r(copy, ",", &save); tok && !bad; tok = strtok_r(NULL, ",", &save)) {
		for (hit = 0, k = 0; conform_cases[k]; k++)
			if (case_matches(conform_cases[k]->name, tok))
				chosen[k] = hit = 1;
		if (!hit)
			bad = usage_error("--case: no case matches '%s' (see `mmshare conform "
					  "--list`)", tok);
	}
	free(copy);
	o->ncases = 0;
	for (k = 0; conform_cases[k]; k++)
		if (chosen[k])
			o->cases[o->ncases++] = conform_cases[k];
	return bad ? -1 : o->ncases ? 0 : usage_error("--case '%s': no case named", list);
}

static int parse_timeout(struct conform_opts *o, const char *s)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || !*s || *end || v < 1 || v > CONFORM_MAX_TIMEOUT)
		return usage_error("--timeout '%s': expected whole seconds from 1 to 3600", s);
	o->timeout_s = (unsigned)v;
	return 0;
}

enum { O_BACKEND = 256, O_CASE, O_LIST, O_TIMEOUT, O_TAP, O_JUNIT, O_HELP };

static const struct option long_opts[] = {
	{ "backend", required_argument, 0, O_BACKEND }, { "case", required_argument, 0, O_CASE },
	{ "list", no_argument, 0, O_LIST }, { "timeout", required_argument, 0, O_TIMEOUT },
	{ "tap", no_argument, 0, O_TAP }, { "junit", required_argument, 0, O_JUNIT },
	{ "help", no_argument, 0, O_HELP }, { 0, 0, 0, 0 },
};

static int parse_one(struct conform_opts *o, int c, const char *arg)
{
	switch (c) {
	case O_BACKEND: return parse_backends(o, arg);
	case O_CASE: return parse_cases(o, arg);
	case O_LIST: o->list = 1; return 0;
	case O_TIMEOUT: return parse_timeout(o, arg);
	case O_TAP: o->tap = 1; return 0;
	case O_JUNIT: o->junit = arg; return 0;
	default: return -1;
	}
}

/* Fill o from argv: 0 to run, 1 when help was printed, -1 after a message on stderr. */
static int conform_parse(struct conform_opts *o, int argc, char **argv)
{
	int c;

	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, ":h", long_opts, NULL)) != -1) {
		if (c == O_HELP || c == 'h') {
			fputs(conform_usage, stdout);
			return 1;
		}
		if (c == '?' || c == ':')
			return usage_error(c == ':' ? "missing value for '%s'" : "unknown option '%s'",
					   argv[optind - 1]);
		if (parse_one(o, c, optarg))
			return -1;
	}
	if (optind < argc)
		return usage_error("unexpected argument '%s'", argv[optind]);
	if (!o->nbackends && parse_backends(o, "all"))
		return -1;
	return o->ncases ? 0 : parse_cases(o, "*");
}

static int list_cases(const struct conform_opts *o)
{
	char needs[160];
	size_t k;

	for (k = 0; k < o->ncases; k++) {
		conform_cap_names(o->cases[k]->needs, needs, sizeof(needs));
		printf("%-30s %-20s %s\n", o->cases[k]->name, needs[0] ? needs : "-",
		       o->cases[k]->summary);
	}
	return MMS_EXIT_OK;
}

/* Run every selected case on every backend, reporting each run as it ends. */
static void run_all(const struct conform_opts *o, struct conform_suite *suites)
{
	size_t b, k, point = 0;

	if (o->tap)
		conform_tap_plan(stdout, o->nbackends * o->ncases);
	for (b = 0; b < o->nbackends; b++) {
		struct conform_suite *s = &suites[b];

		if (!o->tap)
			conform_table_begin(stdout, s);
		for (k = 0; k < s->ncases; k++) {
			conform_run(s->cases[k], s->backend, s->caps, o->timeout_s, &s->results[k]);
			s->done = k + 1;
			if (o->tap)
				conform_tap_point(stdout, ++point, s, k);
			else
				conform_table_row(stdout, s, k);
		}
		if (!o->tap)
			conform_table_end(stdout, s);
	}
	if (!o->tap)
		conform_table_total(stdout, suites, o->nbackends);
}

static int write_junit(const char *path, FILE *f, const struct conform_suite *suites, size_t n)
{
	int err = conform_junit_write(f, suites, n);

	if (fclose(f) || err) {
		fprintf(stderr, "mmshare conform: --junit %s: %s\n", path, strerror(errno));
		return -1;
	}
	return 0;
}

/* The suites, the runs, the reports; the exit status. */
static int conform_go(const struct conform_opts *o)
{
	struct conform_suite suites[CONFORM_MAX_BACKENDS];
	struct conform_tally t = { 0 };
	FILE *junit = NULL;
	size_t b;
	int bad = 0;

	if (o->junit && !(junit = fopen(o->junit, "w"))) {
		fprintf(stderr, "mmshare conform: --junit %s: %s\n", o->junit, strerror(errno));
		return MMS_EXIT_USAGE;
	}
	for (b = 0; b < o->nbackends; b++) {
		suites[b] = (struct conform_suite){ .backend = o->backends[b], .caps = o->caps[b],
						    .cases = o->cases, .ncases = o->ncases };
		suites[b].results = calloc(o->ncases, sizeof(*suites[b].results));
		bad |= !suites[b].results;
	}
	if (!bad)
		run_all(o, suites);
	else
		fprintf(stderr, "mmshare conform: out of memory\n");
	if (junit && write_junit(o->junit, junit, suites, o->nbackends))
		bad = 1;
	for (b = 0; b < o->nbackends; b++) {
		conform_tally_add(&t, &suites[b]);
		free(suites[b].results);
	}
	return bad || t.fail ? MMS_EXIT_FAIL : MMS_EXIT_OK;
}

static int conform_main(int argc, char **argv)
{
	static struct conform_opts o;
	int r, status;

	memset(&o, 0, sizeof(o));
	r = conform_parse(&o, argc, argv);
	if (r)
		status = r > 0 ? MMS_EXIT_OK : MMS_EXIT_USAGE;
	else if (o.list)
		status = list_cases(&o);
	else
		status = conform_go(&o);
	free(o.names);
	o.names = NULL;
	return status;
}

const struct mms_command mms_cmd_conform = {
	.name = "conform",
	.summary = "run every case of the contract on each backend; a table, TAP or JUnit XML",
	.run = conform_main,
};
