/* bench.c -- `mmshare bench`: sweep the grid, print a row per point, write JSON and CSV. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mmshare.h"
#include "bench.h"
#include "commands.h"

static size_t grid_size(const struct bench_opts *o)
{
	return o->nbackends * o->nmodes * o->nsizes * o->nwrite * o->nprocs * o->repeat;
}

static int result_failed(const struct bench_result *r)
{
	return r->hung || r->torn || r->violations || r->lost_updates ||
	       (r->errors_total && !bench_declared_dead(r) && !bench_fault_excused(r));
}

static void say_failure(const struct bench_result *r)
{
	fprintf(stderr, "mmshare bench: %s%s procs=%u write=%u%% size=%zu repeat=%u:%s%s%s%s%s\n",
		r->pt.backend, r->unsafe ? " (negative control: caught)" : "", r->pt.procs,
		r->pt.write_ratio, r->pt.size, r->pt.repeat, r->hung ? " HUNG (watchdog)" : "",
		r->torn ? " torn values" : "", r->violations ? " not linearizable" : "",
		r->lost_updates ? " lost updates" : "", r->errors_total ? " errors" : "");
	if (r->violations)
		fprintf(stderr, "  first violation (%s): %s\n",
			hist_violation_name(r->first_violation.kind), r->first_violation.why);
}

/* Run one repeat of one point into r; say so when it failed. Returns 1 on a failure. */
static int run_once(const struct bench_opts *o, struct bench_point *pt, struct bench_result *r)
{
	int err = bench_run_point(o, pt, r);

	if (err) {
		fprintf(stderr, "mmshare bench: %s size %zu: cannot set up: %s\n", pt->backend,
			pt->size, mms_strerror(err));
		r->errors[BENCH_ERR_INDEX(err)]++;
		r->errors_total++;
	}
	if (r->truncated)
		fprintf(stderr, "mmshare bench: %s procs=%u size=%zu repeat=%u: history truncated "
			"(%llu worker(s) stopped: the run's history budget, half of MemAvailable, or "
			"a worker's share of the address space ran out): only the part before was "
			"checked, and %u of %u kills were made\n", pt->backend, pt->procs, pt->size,
			pt->repeat, (unsigned long long)r->truncated, r->kills, o->kill);
	if (bench_declared_dead(r))
		fprintf(stderr, "mmshare bench: %s procs=%u size=%zu repeat=%u: a kill left the lock "
			"held; %llu calls said MMS_EDEAD, as a backend that is not crash-safe must "
			"(no hang)\n", pt->backend, pt->procs, pt->size, pt->repeat,
			(unsigned long long)r->errors_total);
	if (!result_failed(r))
		return 0;
	say_failure(r);
	return 1;
}

static void print_row(const struct bench_opts *o, const struct bench_result *rs)
{
	if (o->quiet)
		return;
	if (isatty(2))
		fprintf(stderr, "\r\033[K");
	bench_table_row(stdout, rs, o->repeat);
	fflush(stdout);
}

/* The grid's points in table order; the bare loops move raw bytes only. */
static size_t list_points(const struct bench_opts *o, struct bench_point *pts)
{
	struct bench_point pt = { .rmw = o->rmw };
	size_t m, s, w, p, b, n = 0;

	for (m = 0; m < o->nmodes; m++)
		for (s = 0; s < o->nsizes; s++)
			for (w = 0; w < o->nwrite; w++)
				for (p = 0; p < o->nprocs; p++)
					for (b = 0; b < o->nbackends; b++) {
						pt.backend = o->backends[b];
						pt.mode = o->modes[m];
						pt.size = o->sizes[s];
						pt.write_ratio = o->write_ratio[w];
						pt.procs = o->procs[p];
						if (pt.mode == BENCH_TPL && !strncmp(pt.backend, "bare-", 5))
							continue;
						pts[n++] = pt;
					}
	return n;
}

/*
 * Every point once, then every point again, --repeat times: drift of the machine hits every
 * point alike. Results go to rs[point * repeat + k]; a point's row prints with its last repeat.
 */
static int sweep(const struct bench_opts *o, struct bench_result *rs, size_t *n)
{
	size_t npts, p;
	struct bench_point *pts = calloc(grid_size(o) / o->repeat + 1, sizeof(*pts));
	unsigned k, seq = 0;
	int failed = 0;

	if (!pts)
		return 1;
	npts = list_points(o, pts);
	for (k = 0; k < o->repeat; k++)
		for (p = 0; p < npts; p++) {
			pts[p].repeat = k;
			pts[p].seq = ++seq;
			pts[p].of = (unsigned)(npts * o->repeat);
			failed += run_once(o, &pts[p], &rs[p * o->repeat + k]);
			if (k == o->repeat - 1)
				print_row(o, &rs[p * o->repeat]);
		}
	*n = npts * o->repeat;
	free(pts);
	return failed;
}

static int write_outputs(const struct bench_opts *o, const struct bench_result *rs, size_t n)
{
	struct bench_machine mach;
	int bad = 0;

	bench_machine_read(&mach);
	if (o->json && bench_write_json(o->json, o, &mach, rs, n)) {
		perror(o->json);
		bad = 1;
	}
	if (o->csv && bench_write_csv(o->csv, rs, n)) {
		perror(o->csv);
		bad = 1;
	}
	return bad;
}

/* What the table's figures are: performance figures, or the pace of a checked run. */
static void footer(const struct bench_opts *o, const struct bench_result *rs, size_t n, int failed)
{
	double lo = INFINITY, hi = 0;
	size_t k;

	printf("%zu run(s), %d failed%s\n", n, failed,
	       o->check ? " (checked: torn values, linearizability, lost updates)" : "");
	if (o->check || o->kill) {
		printf("checked runs: ops/s is the pace of the checked loop, not a performance figure; "
		       "time the backends without --check and --kill\n");
		return;
	}
	for (k = 0; k < n; k++)
		if (isfinite(rs[k].harness_ns_per_op)) {
			lo = fmin(lo, rs[k].harness_ns_per_op);
			hi = fmax(hi, rs[k].harness_ns_per_op);
		}
	if (hi > 0)
		printf("harness: %.2f-%.2f ns per operation (its timing loop over a null target, "
		       "measured per point); \u00b195%%: the interval of ops/s; vs alone: ops/s over the "
		       "same get in a loop with no harness\n", lo, hi);
}

static int bench_main(int argc, char **argv)
{
	static struct bench_opts o;
	struct bench_result *rs;
	size_t n = 0;
	int r = bench_parse(&o, argc, argv), failed;

	if (r)
		return r > 0 ? MMS_EXIT_OK : MMS_EXIT_USAGE;
	rs = calloc(grid_size(&o), sizeof(*rs));
	if (!rs) {
		fprintf(stderr, "mmshare bench: out of memory for %zu results\n", grid_size(&o));
		return MMS_EXIT_FAIL;
	}
	if (!o.quiet)
		bench_table_header(stdout);
	failed = sweep(&o, rs, &n);
	if (write_outputs(&o, rs, n))
		failed++;
	if (!o.quiet)
		footer(&o, rs, n, failed);
	free(rs);
	return failed ? MMS_EXIT_FAIL : MMS_EXIT_OK;
}

const struct mms_command mms_cmd_bench = {
	.name = "bench",
	.summary = "fork contending workers and measure throughput, latency, fairness, correctness",
	.run = bench_main,
};
