/* bench_opts.c -- `mmshare bench` options: lists swept as a grid, every bad value named. */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mmshare.h"
#include "bench.h"
#include "cli.h"
#include "commands.h"

#define BENCH_MAX_PROCS 256

static const char *const baselines[] = { "bare-mutex", "bare-seqlock", NULL };

static int bad(const char *opt, const char *value, const char *why)
{
	fprintf(stderr, "mmshare bench: --%s '%s': %s\n", opt, value, why);
	return -MMS_EXIT_USAGE;
}

/* A whole number in [lo, hi]; 0 or a negative code after printing what is wrong. */
static int parse_u64(const char *opt, const char *s, uint64_t lo, uint64_t hi, uint64_t *out)
{
	char why[96];

	return cli_parse_u64(s, lo, hi, out, why, sizeof(why)) ? bad(opt, s, why) : 0;
}

static int parse_seconds(const char *opt, const char *s, double lo, double *out)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || *end || !*s || v != v || v < lo || v > 86400)
		return bad(opt, s, lo > 0 ? "expected seconds > 0 (fractions allowed)"
					  : "expected seconds >= 0 (fractions allowed)");
	*out = v;
	return 0;
}

/* Split a comma-separated list and parse each item with parse_u64. */
static int parse_list(const char *opt, const char *s, uint64_t lo, uint64_t hi,
		      uint64_t *vals, size_t *n)
{
	char copy[1024], *save = NULL, *tok;
	int err;

	if (strlen(s) >= sizeof(copy))
		return bad(opt, s, "list too long");
	strcpy(copy, s);
	*n = 0;
	for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		if (*n == BENCH_MAX_LIST)
			return bad(opt, s, "too many values");
		err = parse_u64(opt, tok, lo, hi, &vals[(*n)++]);
		if (err)
			return err;
	}
	return *n ? 0 : bad(opt, s, "empty list");
}

static int add_backend(struct bench_opts *o, const char *name, const char *list)
{
	size_t k;

	for (k = 0; k < o->nbackends; k++)
		if (!strcmp(o->backends[k], name))
			return 0;
	if (o->nbackends == BENCH_MAX_LIST)
		return bad("backend", list, "too many backends");
	o->backends[o->nbackends++] = name;
	return 0;
}

/* Names point into the library's and our static tables, so they outlive argv. */
static const char *known_name(const char *name)
{
	const char *const *n;

	for (n = mms_backends_all(); *n; n++)
		if (!strcmp(*n, name))
			return *n;
	for (n = baselines; *n; n++)
		if (!strcmp(*n, name))
			return *n;
	return NULL;
}

static int parse_backends(struct bench_opts *o, const char *s)
{
	char copy[1024], *save = NULL, *tok;
	const char *const *n;
	const char *name;
	int err = 0;

	if (strlen(s) >= sizeof(copy))
		return bad("backend", s, "list too long");
	strcpy(copy, s);
	o->nbackends = 0;
	for (tok = strtok_r(copy, ",", &save); tok && !err; tok = strtok_r(NULL, ",", &save)) {
		if (!strcmp(tok, "all")) {
			for (n = cli_backends_here("bench"); *n && !err; n++)
				err = add_backend(o, *n, s);
			continue;
		}
		name = known_name(tok);
		if (!name && !(name = cli_backend("bench", tok)))
			return -MMS_EXIT_USAGE;
		err = add_backend(o, name, s);
	}
	if (!err && !o->nbackends)
		return bad("backend", s, "empty list");
	return err;
}

static int parse_modes(struct bench_opts *o, const char *s)
{
	o->nmodes = 0;
	if (!strcmp(s, "raw") || !strcmp(s, "raw,tpl") || !strcmp(s, "tpl,raw") || !strcmp(s, "both"))
		o->modes[o->nmodes++] = BENCH_RAW;
	if (!strcmp(s, "tpl") || !strcmp(s, "raw,tpl") || !strcmp(s, "tpl,raw") || !strcmp(s, "both"))
		o->modes[o->nmodes++] = BENCH_TPL;
	return o->nmodes ? 0 : bad("mode", s, "expected raw, tpl or raw,tpl");
}

static void defaults(struct bench_opts *o)
{
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	const char *const *n;

	memset(o, 0, sizeof(*o));
	for (n = cli_backends_here("bench"); *n; n++)
		o->backends[o->nbackends++] = *n;
	o->procs[o->nprocs++] = 1;
	o->procs[o->nprocs++] = 2;
	o->procs[o->nprocs++] = 4;
	if (cpus > 2)
		o->procs[o->nprocs++] = (unsigned)(2 * cpus);
	o->write_ratio[0] = 0;
	o->write_ratio[1] = 10;
	o->write_ratio[2] = 50;
	o->write_ratio[3] = 100;
	o->nwrite = 4;
	o->sizes[0] = 64;
	o->sizes[1] = 4096;
	o->sizes[2] = 65536;
	o->nsizes = 3;
	o->modes[0] = BENCH_RAW;
	o->nmodes = 1;
	o->duration = 1.0;
	o->warmup = 0.1;
	o->repeat = 1;
	o->seed = 1;
	o->sample_every = 1024;
	o->ci_target = 0.02;
	o->timeout = 30;
	o->stall_s = 1.5;
}

static const char bench_usage[] =
	"usage: mmshare bench [OPTIONS]\n"
	"Forks contending workers over each backend and measures throughput, latency and fairness;\n"
	"with --check, proves every value whole and the history linearizable. Lists are swept as a grid.\n\n"
	"  --backend LIST|all    backends (default all; `mmshare list`); bare-mutex, bare-seqlock are\n"
	"                        reference loops; none, stale are negative controls\n"
	"  --baseline            add bare-mutex and bare-seqlock to the sweep\n"
	"  --procs LIST          worker processes (default 1,2,4 and 2 x CPUs)\n"
	"  --write-ratio LIST    percent of operations that are set (default 0,10,50,100)\n"
	"  --size LIST           value bytes (default 64,4096,65536)\n"
	"  --mode raw|tpl|raw,tpl  raw bytes, or structured values through tpl (default raw)\n"
	"  --rmw PERCENT         share of operations that are lock/get/set/unlock (default 0)\n"
	"  --duration SECONDS    measured time per run (default 1); with --max-duration, the least\n"
	"  --max-duration SECONDS  timing runs go on past --duration until the 95% interval of their\n"
	"                        throughput is within --ci, or this long (default: no adaptive runs)\n"
	"  --ci PERCENT          the half width that ends an adaptive run (default 2)\n"
	"  --ops N               operations per worker instead of --duration\n"
	"  --warmup SECONDS      uncounted time before measuring (default 0.1)\n"
	"  --repeat N            runs of every point (default 1)\n"
	"  --pin, --no-pin       pin worker i to CPU i mod CPUs (default no)\n"
	"  --seed N              random seed for operation mix and kills (default 1)\n"
	"  --check               record every operation and check values and linearizability\n"
	"  --kill N              SIGKILL N workers at random instants of each run, start replacements\n"
	"  --stall N             SIGSTOP N lock holders at random instants, SIGCONT after --stall-time\n"
	"  --stall-time SECONDS  how long a stalled holder stays stopped (default 1.5)\n"
	"  --fault CMD           run the shell command CMD halfway through each run (a server killed\n"
	"                        and restarted, say); MMS_ESYS, MMS_EFENCED and MMS_ETIMEDOUT are\n"
	"                        then its doing, not failures\n"
	"  --sample-every K      time one operation in K at most (default 1024), and one at least\n"
	"                        every 100 us (--check times all)\n"
	"  --timeout SECONDS     watchdog beyond the planned time of a run (default 30)\n"
	"  --json FILE, --csv FILE   write every run (schema mmshare-bench/1, see README)\n"
	"  --quiet               no table, no progress line\n\n"
	"Exit status: 0 all correct, 1 a run was torn, not linearizable, lost updates, failed or hung,\n"
	"2 bad options.\n";

enum { O_BACKEND = 256, O_BASELINE, O_PROCS, O_WRITE, O_SIZE, O_MODE, O_RMW, O_DURATION, O_OPS,
	O_WARMUP, O_REPEAT, O_PIN, O_NOPIN, O_SEED, O_CHECK, O_KILL, O_SAMPLE, O_TIMEOUT, O_JSON,
	O_CSV, O_QUIET, O_HELP, O_MAXDUR, O_CI, O_STALL, O_STALL_TIME, O_FAULT };

static const struct option long_opts[] = {
	{ "backend", required_argument, 0, O_BACKEND }, { "baseline", no_argument, 0, O_BASELINE },
	{ "procs", required_argument, 0, O_PROCS }, { "write-ratio", required_argument, 0, O_WRITE },
	{ "size", required_argument, 0, O_SIZE }, { "mode", required_argument, 0, O_MODE },
	{ "rmw", required_argument, 0, O_RMW }, { "duration", required_argument, 0, O_DURATION },
	{ "ops", required_argument, 0, O_OPS }, { "warmup", required_argument, 0, O_WARMUP },
	{ "repeat", required_argument, 0, O_REPEAT }, { "pin", no_argument, 0, O_PIN },
	{ "no-pin", no_argument, 0, O_NOPIN }, { "seed", required_argument, 0, O_SEED },
	{ "check", no_argument, 0, O_CHECK }, { "kill", required_argument, 0, O_KILL },
	{ "sample-every", required_argument, 0, O_SAMPLE }, { "timeout", required_argument, 0, O_TIMEOUT },
	{ "json", required_argument, 0, O_JSON }, { "csv", required_argument, 0, O_CSV },
	{ "quiet", no_argument, 0, O_QUIET }, { "help", no_argument, 0, O_HELP },
	{ "max-duration", required_argument, 0, O_MAXDUR }, { "ci", required_argument, 0, O_CI },
	{ "stall", required_argument, 0, O_STALL }, { "stall-time", required_argument, 0, O_STALL_TIME },
	{ "fault", required_argument, 0, O_FAULT },
	{ 0, 0, 0, 0 },
};

static uint64_t size_limit(void)
{
	uint64_t mem = (uint64_t)sysconf(_SC_PHYS_PAGES) * (uint64_t)sysconf(_SC_PAGESIZE);

	return mem / 8 < (1ULL << 30) ? mem / 8 : (1ULL << 30);
}

static int copy_list(unsigned *dst, size_t *n, const uint64_t *v, size_t count)
{
	size_t k;

	for (k = 0; k < count; k++)
		dst[k] = (unsigned)v[k];
	*n = count;
	return 0;
}

static int parse_one(struct bench_opts *o, int c, const char *arg)
{
	uint64_t v[BENCH_MAX_LIST], one;
	size_t n, k;
	int err = 0;

	switch (c) {
	case O_BACKEND: return parse_backends(o, arg);
	case O_BASELINE: o->baseline = 1; return 0;
	case O_PROCS:
		err = parse_list("procs", arg, 1, BENCH_MAX_PROCS, v, &n);
		return err ? err : copy_list(o->procs, &o->nprocs, v, n);
	case O_WRITE:
		err = parse_list("write-ratio", arg, 0, 100, v, &n);
		return err ? err : copy_list(o->write_ratio, &o->nwrite, v, n);
	case O_SIZE:
		err = parse_list("size", arg, 1, size_limit(), v, &n);
		for (k = 0; !err && k < n; k++)
			o->sizes[k] = v[k];
		o->nsizes = err ? o->nsizes : n;
		return err;
	case O_MODE: return parse_modes(o, arg);
	case O_RMW:
		err = parse_u64("rmw", arg, 0, 100, &one);
		o->rmw = (unsigned)one;
		return err;
	case O_DURATION: o->ops = 0; return parse_seconds("duration", arg, 1e-3, &o->duration);
	case O_OPS: return parse_u64("ops", arg, 1, 1ULL << 40, &o->ops);
	case O_WARMUP: return parse_seconds("warmup", arg, 0, &o->warmup);
	case O_REPEAT:
		err = parse_u64("repeat", arg, 1, 1000, &one);
		o->repeat = (unsigned)one;
		return err;
	case O_PIN: o->pin = 1; return 0;
	case O_NOPIN: o->pin = 0; return 0;
	case O_SEED: return parse_u64("seed", arg, 0, UINT64_MAX, &o->seed);
	case O_CHECK: o->check = 1; return 0;
	case O_KILL:
		err = parse_u64("kill", arg, 0, 10000, &one);
		o->kill = (unsigned)one;
		return err;
	case O_STALL:
		err = parse_u64("stall", arg, 0, 1000, &one);
		o->stall = (unsigned)one;
		return err;
	case O_STALL_TIME: return parse_seconds("stall-time", arg, 1e-3, &o->stall_s);
	case O_FAULT:
		if (!*arg) {
			fprintf(stderr, "mmshare bench: --fault: an empty command\n");
			return -MMS_EXIT_USAGE;
		}
		o->fault = arg;
		return 0;
	case O_SAMPLE:
		err = parse_u64("sample-every", arg, 1, 1u << 20, &one);
		o->sample_every = (unsigned)one;
		return err;
	case O_TIMEOUT: return parse_seconds("timeout", arg, 1e-3, &o->timeout);
	case O_JSON: o->json = arg; return 0;
	case O_CSV: o->csv = arg; return 0;
	case O_QUIET: o->quiet = 1; return 0;
	case O_MAXDUR: return parse_seconds("max-duration", arg, 1e-3, &o->max_duration);
	case O_CI:
		err = parse_u64("ci", arg, 1, 100, &one);
		o->ci_target = (double)one / 100;
		return err;
	default: return -MMS_EXIT_USAGE;
	}
}

static void record_command(struct bench_opts *o, int argc, char **argv)
{
	size_t used = (size_t)snprintf(o->command, sizeof(o->command), "mmshare");
	int k;

	for (k = 0; k < argc && used < sizeof(o->command); k++)
		used += (size_t)snprintf(o->command + used, sizeof(o->command) - used, " %s", argv[k]);
}

static int check_combination(struct bench_opts *o)
{
	size_t k;

	for (k = 0; o->check && k < o->nsizes; k++)
		if (o->sizes[k] < BENCH_MIN_CHECK_SIZE) {
			fprintf(stderr, "mmshare bench: --size %zu: --check needs values of at least %d bytes\n",
				o->sizes[k], BENCH_MIN_CHECK_SIZE);
			return -MMS_EXIT_USAGE;
		}
	if (o->max_duration && o->max_duration < o->duration) {
		fprintf(stderr, "mmshare bench: --max-duration %g is shorter than --duration %g\n",
			o->max_duration, o->duration);
		return -MMS_EXIT_USAGE;
	}
	if (o->baseline) {
		add_backend(o, baselines[0], "");
		add_backend(o, baselines[1], "");
	}
	return 0;
}

/* Fill o from argv; 0 to run, 1 when help was printed, or -MMS_EXIT_USAGE after a message. */
int bench_parse(struct bench_opts *o, int argc, char **argv)
{
	int c, err;

	defaults(o);
	record_command(o, argc, argv);
	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, ":h", long_opts, NULL)) != -1) {
		if (c == O_HELP || c == 'h') {
			fputs(bench_usage, stdout);
			return 1;
		}
		if (c == '?' || c == ':') {
			fprintf(stderr, "mmshare bench: %s '%s'\n%s", c == ':' ? "missing value for" :
				"unknown option", argv[optind - 1], "run `mmshare bench --help` for the options\n");
			return -MMS_EXIT_USAGE;
		}
		err = parse_one(o, c, optarg);
		if (err)
			return err;
	}
	if (optind < argc) {
		fprintf(stderr, "mmshare bench: unexpected argument '%s'\n", argv[optind]);
		return -MMS_EXIT_USAGE;
	}
	return check_combination(o);
}
