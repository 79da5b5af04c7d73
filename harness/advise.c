/* advise.c -- `mmshare advise`: options, the eligible backends, and the command itself. */
#include <errno.h>
#include <getopt.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mmshare.h"
#include "advise.h"
#include "cli.h"
#include "commands.h"

#define ADVISE_MAX_PROCS 256

static const char advise_usage[] =
	"usage: mmshare advise --procs N --write-ratio PERCENT --size BYTES [--need LIST]\n"
	"                      [--backend PLUGIN.so,...] [--duration S] [--repeat N] [--json]\n"
	"Measures every eligible backend at your point, on this machine, in interleaved rounds, and\n"
	"recommends one with the figures behind it, the runner-up and why it lost.\n\n"
	"  --procs N             worker processes that share the value (1-256)\n"
	"  --write-ratio PERCENT percent of operations that are set (0-100)\n"
	"  --size BYTES          the largest value (1 B to 1 GiB, as mms_new)\n"
	"  --need LIST           capabilities every candidate must have, comma-separated:\n"
	"                        crash-safe, shared-read, read-nowait, export-fd, hostile-safe\n"
	"  --backend LIST        plug-ins to consider too, by path (every built-in is considered)\n"
	"  --duration S          seconds for all runs together, about (default 10, at least 0.05;\n"
	"                        each run is measured for at least 0.05 s)\n"
	"  --repeat N            rounds: each candidate runs once per round (default 6, 2-20)\n"
	"  --json                print the result as one JSON object (schema mmshare-advise/1)\n\n"
	"Candidates are compared round by round (the 95% t interval of their throughput ratio, and\n"
	"a sign test of the rounds won). When the leader's lead is within that noise, or under 5%,\n"
	"the tie is broken by crash safety, then the lower p99 (the slower of get's and set's). With\n"
	"more procs than CPUs, a candidate whose p99 is over 4x the lowest ranks last. Figures come\n"
	"from unchecked timing runs of `mmshare bench`; prove correctness with `mmshare conform`.\n\n"
	"Exit status: 0 a recommendation was made, 1 no backend is eligible or every run failed,\n"
	"2 bad usage.\n";

/* The capability names --need takes, as `mmshare list` prints them. */
static const struct {
	const char *name;
	unsigned bit;
} need_names[] = {
	{ "crash-safe", MMS_CAP_CRASH_SAFE }, { "shared-read", MMS_CAP_SHARED_READ },
	{ "read-nowait", MMS_CAP_READ_NOWAIT }, { "export-fd", MMS_CAP_EXPORT_FD },
	{ "hostile-safe", MMS_CAP_HOSTILE_SAFE },
};

#define NNEEDS (sizeof(need_names) / sizeof(need_names[0]))

static int bad(const char *opt, const char *value, const char *why)
{
	fprintf(stderr, "mmshare advise: --%s '%s': %s\nrun `mmshare advise --help` for the options\n",
		opt, value, why);
	return -1;
}

/* The capabilities named in caps, space-separated, as `mmshare list` names them. */
void advise_caps_text(unsigned caps, char *out, size_t cap)
{
	size_t k, used = 0;

	out[0] = 0;
	for (k = 0; k < NNEEDS && used < cap; k++)
		if (caps & need_names[k].bit)
			used += (size_t)snprintf(out + used, cap - used, "%s%s", used ? "," : "",
						 need_names[k].name);
}

/* --need's list into bits; -1 after a message naming the unknown item. */
int advise_need_parse(const char *list, unsigned *need)
{
	char copy[256], *save = NULL, *tok;
	size_t k;

	if (strlen(list) >= sizeof(copy))
		return bad("need", list, "list too long");
	strcpy(copy, list);
	*need = 0;
	for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		for (k = 0; k < NNEEDS && strcmp(tok, need_names[k].name); k++)
			;
		if (k == NNEEDS) {
			char why[160];

			snprintf(why, sizeof(why), "unknown capability '%s' (known: crash-safe, "
				 "shared-read, read-nowait, export-fd, hostile-safe)", tok);
			return bad("need", list, why);
		}
		*need |= need_names[k].bit;
	}
	return *need ? 0 : bad("need", list, "empty list");
}

static int parse_u64(const char *opt, const char *s, uint64_t lo, uint64_t hi, uint64_t *out)
{
	char why[96];

	return cli_parse_u64(s, lo, hi, out, why, sizeof(why)) ? bad(opt, s, why) : 0;
}

static int parse_duration(const char *s, double *out)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || *end || !*s || v != v || v < 0.05 || v > 3600)
		return bad("duration", s, "expected seconds between 0.05 and 3600 (fractions allowed)");
	*out = v;
	return 0;
}

/* --backend: plug-ins by path only; the built-ins are all considered already. */
static int parse_plugins(struct advise_opts *o, const char *list)
{
	char copy[1024], *save = NULL, *tok;
	const char *name;

	if (strlen(list) >= sizeof(copy))
		return bad("backend", list, "list too long");
	strcpy(copy, list);
	for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		if (!strchr(tok, '/'))
			return bad("backend", tok, "not a plug-in path (e.g. ./libmms-x.so); every "
				   "built-in backend is considered already");
		name = cli_backend("advise", tok);
		if (!name)
			return -1;
		if (o->nplugins == ADVISE_MAX / 2)
			return bad("backend", list, "too many plug-ins");
		o->plugins[o->nplugins++] = name;
	}
	return 0;
}

enum { O_PROCS = 256, O_WRITE, O_SIZE, O_NEED, O_BACKEND, O_DURATION, O_REPEAT, O_JSON, O_HELP };

static const struct option long_opts[] = {
	{ "procs", required_argument, 0, O_PROCS }, { "write-ratio", required_argument, 0, O_WRITE },
	{ "size", required_argument, 0, O_SIZE }, { "need", required_argument, 0, O_NEED },
	{ "backend", required_argument, 0, O_BACKEND },
	{ "duration", required_argument, 0, O_DURATION }, { "repeat", required_argument, 0, O_REPEAT },
	{ "json", no_argument, 0, O_JSON }, { "help", no_argument, 0, O_HELP },
	{ 0, 0, 0, 0 },
};

static int parse_one(struct advise_opts *o, int c, const char *arg, unsigned *seen)
{
	uint64_t v;
	int err;

	*seen |= 1u << (c - O_PROCS);
	switch (c) {
	case O_PROCS:
		err = parse_u64("procs", arg, 1, ADVISE_MAX_PROCS, &v);
		o->procs = (unsigned)v;
		return err;
	case O_WRITE:
		err = parse_u64("write-ratio", arg, 0, 100, &v);
		o->write_ratio = (unsigned)v;
		return err;
	case O_SIZE:
		err = parse_u64("size", arg, 1, MMS_MAX_SIZE, &v);
		o->size = (size_t)v;
		return err;
	case O_NEED: return advise_need_parse(arg, &o->need);
	case O_BACKEND: return parse_plugins(o, arg);
	case O_DURATION: return parse_duration(arg, &o->duration);
	case O_REPEAT:
		err = parse_u64("repeat", arg, 2, ADVISE_MAX_ROUNDS, &v);
		o->repeat = (unsigned)v;
		return err;
	case O_JSON: o->json = 1; return 0;
	default: return -1;
	}
}

/* The workload is the user's point: there is no honest default for it. */
static int check_required(unsigned seen)
{
	static const char *const names[] = { "procs", "write-ratio", "size" };
	unsigned k;

	for (k = 0; k < 3; k++)
		if (!(seen & (1u << k))) {
			fprintf(stderr, "mmshare advise: --%s is required (your workload's point)\n"
				"run `mmshare advise --help` for the options\n", names[k]);
			return -1;
		}
	return 0;
}

static long usable_cpus(void)
{
	cpu_set_t set;

	if (sched_getaffinity(0, sizeof(set), &set) == 0)
		return CPU_COUNT(&set);
	return sysconf(_SC_NPROCESSORS_ONLN);
}

/* Fill o from argv: 0 to run, 1 when help was printed, -1 after a message. */
int advise_parse(struct advise_opts *o, int argc, char **argv)
{
	unsigned seen = 0;
	int c;

	memset(o, 0, sizeof(*o));
	o->duration = 10;
	o->repeat = 6;
	o->cpus = usable_cpus();
	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, ":h", long_opts, NULL)) != -1) {
		if (c == O_HELP || c == 'h') {
			fputs(advise_usage, stdout);
			return 1;
		}
		if (c == '?' || c == ':') {
			fprintf(stderr, "mmshare advise: %s '%s'\nrun `mmshare advise --help` for the "
				"options\n", c == ':' ? "missing value for" : "unknown option",
				argv[optind - 1]);
			return -1;
		}
		if (parse_one(o, c, optarg, &seen))
			return -1;
	}
	if (optind < argc) {
		fprintf(stderr, "mmshare advise: unexpected argument '%s'\n", argv[optind]);
		return -1;
	}
	return check_required(seen);
}

/* Why a backend with these bits is not a candidate, in why; 0 when it is one. */
static int ineligible(unsigned caps, unsigned need, char *why, size_t cap)
{
	char missing[80];

	if (caps & MMS_CAP_UNSAFE) {
		snprintf(why, cap, "a negative control (UNSAFE)");
		return 1;
	}
	if ((caps & need) == need)
		return 0;
	advise_caps_text(need & ~caps, missing, sizeof(missing));
	snprintf(why, cap, "lacks %s", missing);
	return 1;
}

/* Consider the backend name (once), or say why it is not eligible. */
void advise_add(struct advise *a, const char *name)
{
	struct advise_cand *c;
	size_t k;

	for (k = 0; k < a->n; k++)
		if (!strcmp(a->c[k].backend, name))
			return;
	if (a->n == ADVISE_MAX)
		return;
	c = &a->c[a->n++];
	memset(c, 0, sizeof(*c));
	c->backend = name;
	mms_backend_caps(name, &c->caps);
	ineligible(c->caps, a->o.need, c->excluded, sizeof(c->excluded));
}

/* Every safe built-in from the library's table, then the plug-ins: never a list of names here. */
void advise_candidates(struct advise *a)
{
	const char *const *n;
	size_t k;

	a->n = 0;
	for (n = cli_backends_here("advise"); *n; n++)
		advise_add(a, *n);
	for (k = 0; k < a->o.nplugins; k++)
		advise_add(a, a->o.plugins[k]);
}

static size_t eligible(const struct advise *a)
{
	size_t k, n = 0;

	for (k = 0; k < a->n; k++)
		n += !a->c[k].excluded[0];
	return n;
}

static void say_none_eligible(const struct advise *a)
{
	size_t k;

	fprintf(stderr, "mmshare advise: no backend has every capability asked for:\n");
	for (k = 0; k < a->n; k++)
		fprintf(stderr, "  %-10s %s\n", a->c[k].backend, a->c[k].excluded);
}

/*
 * Measure, decide and print for the candidates in a (advise_candidates, or a test's own):
 * the command's exit status.
 */
int advise_execute(struct advise *a)
{
	a->pick.best = a->pick.second = -1;
	if (!eligible(a)) {
		say_none_eligible(a);
		return MMS_EXIT_FAIL;
	}
	if (advise_measure(a) || advise_decide(a)) {
		fprintf(stderr, "mmshare advise: every run failed; nothing to recommend\n");
		if (a->o.json)
			advise_print_json(a);
		return MMS_EXIT_FAIL;
	}
	if (a->o.json)
		return advise_print_json(a) ? MMS_EXIT_FAIL : MMS_EXIT_OK;
	advise_print_text(a);
	return MMS_EXIT_OK;
}

static int advise_main(int argc, char **argv)
{
	static struct advise a;
	int r = advise_parse(&a.o, argc, argv);

	if (r)
		return r > 0 ? MMS_EXIT_OK : MMS_EXIT_USAGE;
	advise_candidates(&a);
	return advise_execute(&a);
}

const struct mms_command mms_cmd_advise = {
	.name = "advise",
	.summary = "measure the eligible backends at your workload's point and recommend one",
	.run = advise_main,
};
