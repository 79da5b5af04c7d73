/* compare.c -- `mmshare compare`: two benchmark files, a row per scenario, a regression gate. */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "commands.h"
#include "compare.h"

static const char compare_usage[] =
	"usage: mmshare compare [--threshold PERCENT] [--insn-threshold PERCENT] [--markdown FILE]\n"
	"                       [--quiet] BASE.json NEW.json\n"
	"Compares two runs of `mmshare bench --json` (schema mmshare-bench/1) or of\n"
	"`hyperfine --export-json`, scenario by scenario: ops/s over the repeats (higher is better)\n"
	"or time over the runs (lower is better), and insn_per_op where both files have it.\n\n"
	"  --threshold PERCENT       tolerated slowdown (default 10)\n"
	"  --insn-threshold PERCENT  tolerated growth of insn_per_op, a deterministic count (default 2)\n"
	"  --markdown FILE           also write the table as GitHub markdown with a verdict line\n"
	"  --quiet                   print only REGRESSION rows and the final line\n\n"
	"How it decides. change = new/base - 1 of the means. Its interval is Welch's t on the log\n"
	"of the ratio of the means (delta method), widened by the noise between the two runs, which\n"
	"back-to-back repeats do not see: the spread of all scenarios' log changes about their\n"
	"backend's median (1.4826 x MAD; the larger of that over all scenarios and over those with\n"
	"the same procs), never less than one run's own spread, and heavy-tailed (t, 4 df): one\n"
	"scenario can jump 3x between runs while its repeats agree. Each backend with 3+ scenarios,\n"
	"and all backends together, also get a row: the median change, which catches a slowdown of\n"
	"a whole backend that no single noisy scenario shows. Intervals are simultaneous at 99%\n"
	"(Bonferroni: 0.5% over the scenarios, 0.5% over the groups), since any one fails the gate;\n"
	"a row is a REGRESSION only when its whole interval is slower than the threshold.\n"
	"One run a side: the interval takes the pooled spread of 8+ scenarios, or, with fewer,\n"
	"a spread of half the threshold (a REGRESSION then needs over twice the threshold).\n"
	"insn_per_op is a count: it fails when it grows by more than --insn-threshold, no noise.\n"
	"A change of the whole machine between the runs looks like a change of every backend: run\n"
	"base and new back to back on a quiet machine, with --repeat 3 or more.\n"
	"Exit status: 0 no regression, 1 a regression, 2 bad usage or unusable input.\n";

static int parse_percent(const char *opt, const char *s, double *out)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (!*s || *end || errno || !isfinite(v) || v < 0 || v >= 100) {
		fprintf(stderr, "mmshare compare: --%s '%s': expected a percentage in [0, 100)\n", opt, s);
		return -1;
	}
	*out = v / 100;
	return 0;
}

enum { O_THRESHOLD = 256, O_INSN, O_MARKDOWN, O_QUIET, O_HELP };

static const struct option long_opts[] = {
	{ "threshold", required_argument, 0, O_THRESHOLD },
	{ "insn-threshold", required_argument, 0, O_INSN },
	{ "markdown", required_argument, 0, O_MARKDOWN },
	{ "quiet", no_argument, 0, O_QUIET },
	{ "help", no_argument, 0, O_HELP },
	{ 0, 0, 0, 0 },
};

/* 0 to go on, 1 after --help, -1 on a bad command line (said). */
static int parse_args(struct cmp *c, int argc, char **argv)
{
	int opt, err = 0;

	optind = 0;             /* glibc: start afresh, the tests call us more than once */
	while (!err && (opt = getopt_long(argc, argv, "h", long_opts, NULL)) != -1) {
		switch (opt) {
		case O_THRESHOLD: err = parse_percent("threshold", optarg, &c->threshold); break;
		case O_INSN: err = parse_percent("insn-threshold", optarg, &c->insn_threshold); break;
		case O_MARKDOWN: c->markdown = optarg; break;
		case O_QUIET: c->quiet = 1; break;
		case O_HELP: case 'h': fputs(compare_usage, stdout); return 1;
		default: err = -1; break;
		}
	}
	if (!err && argc - optind != 2) {
		fprintf(stderr, "mmshare compare: expected BASE.json NEW.json, got %d file(s)\n",
			argc - optind);
		err = -1;
	}
	if (err) {
		fprintf(stderr, "run `mmshare compare --help` for the options\n");
		return -1;
	}
	c->path[0] = argv[optind];
	c->path[1] = argv[optind + 1];
	return 0;
}

static int compare_main(int argc, char **argv)
{
	struct cmp c = { .threshold = 0.10, .insn_threshold = 0.02 };
	int r = parse_args(&c, argc, argv);

	if (r)
		return r > 0 ? MMS_EXIT_OK : MMS_EXIT_USAGE;
	r = compare_load_side(&c, 0) || compare_load_side(&c, 1) ? MMS_EXIT_USAGE : compare_report(&c);
	cmp_free(&c);
	return r;
}

const struct mms_command mms_cmd_compare = {
	.name = "compare",
	.summary = "compare two bench (or hyperfine) JSON files; exit 1 on a significant slowdown",
	.run = compare_main,
};
