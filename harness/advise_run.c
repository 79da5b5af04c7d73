/* advise_run.c -- `mmshare advise`: run every candidate once per round, in rotating order. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mmshare.h"
#include "advise.h"
#include "bench_run.h"
#include "stats.h"

/*
 * What a run costs beyond its measured time: fork, gate, the harness's own calibration and
 * teardown (0.1-0.18 s measured on the 2-CPU VM, so --duration is a target, not a promise).
 */
#define ADVISE_RUN_OVERHEAD_S 0.12
#define ADVISE_MIN_RUN_S      0.05
/*
 * On a loaded machine a short run can end before any worker was scheduled: that says nothing
 * about the backend, so such a run is made again, this many times at most.
 */
#define ADVISE_EMPTY_TRIES    3
/* A hung candidate costs this much beyond its plan, not bench's half-minute default. */
#define ADVISE_WATCHDOG_S     10

/* Bench's options for our point: its defaults, made unchecked timing runs. */
static int bench_options(struct bench_opts *bo)
{
	char *argv[] = { "bench", NULL };

	if (bench_parse(bo, 1, argv))
		return -1;
	bo->quiet = 1;
	bo->check = 0;
	bo->kill = 0;
	bo->timeout = ADVISE_WATCHDOG_S;
	return 0;
}

/*
 * The length of each run of the next round: the budget left over the runs left, less what a
 * run has cost so far beyond its measured time (a busy machine makes forks and gates slower,
 * so this is measured as we go). A round's runs are equally long, so its pairs compare alike.
 */
static double plan_round(const struct advise *a, struct bench_opts *bo, double elapsed_s,
			 double measured_s, unsigned done, unsigned left)
{
	double overhead = done ? (elapsed_s - measured_s) / done : ADVISE_RUN_OVERHEAD_S;
	double run_s = fmax((a->o.duration - elapsed_s) / left - overhead, ADVISE_MIN_RUN_S);

	/* A fifth of the run warms up (page faults, first contention), at most 50 ms. */
	bo->warmup = fmin(run_s / 5, 0.05);
	bo->duration = run_s - bo->warmup;
	return run_s;
}

/* Why a run's figures cannot be used, in c->failure; 0 when they can. */
static int run_failed(struct advise_cand *c, const struct bench_result *r, int err)
{
	if (err)
		snprintf(c->failure, sizeof(c->failure), "cannot set up: %s", mms_strerror(err));
	else if (r->hung)
		snprintf(c->failure, sizeof(c->failure), "hung (the watchdog ended the run)");
	else if (r->errors_total)
		snprintf(c->failure, sizeof(c->failure), "%llu operation(s) returned an error",
			 (unsigned long long)r->errors_total);
	else if (r->torn)
		snprintf(c->failure, sizeof(c->failure), "%llu torn value(s)",
			 (unsigned long long)r->torn);
	else if (!(r->ops_per_sec > 0))
		snprintf(c->failure, sizeof(c->failure), "no operation completed in %d tries: the "
			 "machine is too busy for runs this short (raise --duration)", ADVISE_EMPTY_TRIES);
	return c->failure[0] != 0;
}

static void progress(const struct advise *a, const struct advise_cand *c, unsigned seq,
		     unsigned of, unsigned round)
{
	if (isatty(2))
		fprintf(stderr, "\r\033[Kadvise: %u/%u %s (round %u/%u)", seq, of, c->backend,
			round + 1, a->o.repeat);
	else if (seq == of || seq % (of / a->o.repeat) == 0)
		fprintf(stderr, "advise: %u/%u runs done (round %u/%u)\n", seq, of, round + 1,
			a->o.repeat);
}

/* One run of one candidate into its round's figures. */
static void run_one(struct advise_cand *c, const struct bench_opts *bo,
		    struct bench_point *pt, struct bench_result *r)
{
	int err, tries = 0;

	pt->backend = c->backend;
	do
		err = bench_run_point(bo, pt, r);
	while (!err && !r->hung && !r->errors_total && !r->torn && !(r->ops_per_sec > 0) &&
	       ++tries < ADVISE_EMPTY_TRIES);
	if (run_failed(c, r, err))
		return;
	c->ops[c->rounds] = r->ops_per_sec;
	c->get99s[c->rounds] = r->get_lat.count ? r->get_lat.p99 : NAN;
	c->set99s[c->rounds] = r->set_lat.count ? r->set_lat.p99 : NAN;
	c->jain += r->fairness_jain;
	c->rounds++;
}

static int measurable(const struct advise_cand *c)
{
	return !c->excluded[0] && !c->failure[0];
}

/* The median of the rounds' figures that exist (NAN: that kind never ran), or NAN. */
static double median_finite(const double *v, unsigned n)
{
	double tmp[ADVISE_MAX_ROUNDS];
	unsigned k, m = 0;

	for (k = 0; k < n; k++)
		if (!isnan(v[k]))
			tmp[m++] = v[k];
	return m ? stats_median(tmp, m) : NAN;
}

/*
 * Rounds into one figure each: the mean throughput with its interval, and the median of the
 * tails (one descheduled round can multiply a p99; the median keeps it from deciding alone).
 */
static void summarize(struct advise_cand *c, unsigned write_ratio)
{
	struct samples s = { .v = c->ops, .n = c->rounds, .cap = c->rounds };

	if (!c->rounds)
		return;
	c->mean_ops = samples_mean(&s);
	c->ci_rel = stats_ci_rel_half(c->mean_ops, samples_sd(&s), s.n, 0.05);
	c->p99_get = median_finite(c->get99s, c->rounds);
	c->p99_set = median_finite(c->set99s, c->rounds);
	/* The slower kind's, among the kinds that are at least 1% of the mix. */
	c->p99 = NAN;
	if (write_ratio <= 99)
		c->p99 = c->p99_get;
	if (write_ratio >= 1)
		c->p99 = isnan(c->p99) ? c->p99_set : fmax(c->p99, c->p99_set);
	c->jain /= c->rounds;
}

/*
 * Every candidate once per round, the order rotated each round, so a drift of the machine (a
 * neighbour's job starting) hits every candidate alike and no one always runs first. A failed
 * candidate is dropped from the later rounds. -1 when no candidate has figures.
 */
int advise_measure(struct advise *a)
{
	struct bench_point pt = { .mode = BENCH_RAW, .procs = a->o.procs,
				  .write_ratio = a->o.write_ratio, .size = a->o.size };
	struct bench_result *r = calloc(1, sizeof(*r));
	static struct bench_opts bo;
	unsigned round, seq = 0, made = 0, of;
	size_t k, ncand = 0, ok = 0, idx[ADVISE_MAX];
	double t0 = (double)bench_now_ns(), measured_s = 0, run_s;

	for (k = 0; k < a->n; k++)
		if (measurable(&a->c[k]))
			idx[ncand++] = k;
	if (!r || !ncand || bench_options(&bo)) {
		free(r);
		return -1;
	}
	of = (unsigned)ncand * a->o.repeat;
	for (round = 0; round < a->o.repeat; round++) {
		run_s = plan_round(a, &bo, ((double)bench_now_ns() - t0) / 1e9, measured_s, made,
				   of - seq);
		for (k = 0; k < ncand; k++) {
			struct advise_cand *c = &a->c[idx[(k + round) % ncand]];

			pt.seq = ++seq;
			pt.of = of;
			pt.repeat = round;
			progress(a, c, seq, of, round);
			if (!measurable(c))
				continue;
			run_one(c, &bo, &pt, r);
			measured_s += run_s;
			made++;
		}
	}
	if (isatty(2))
		fprintf(stderr, "\r\033[K");
	a->wall_s = ((double)bench_now_ns() - t0) / 1e9;
	a->run_s = made ? measured_s / made : 0;
	free(r);
	for (k = 0; k < a->n; k++) {
		if (a->c[k].failure[0])
			a->c[k].rounds = 0;
		summarize(&a->c[k], a->o.write_ratio);
		ok += a->c[k].rounds > 0;
	}
	return ok ? 0 : -1;
}
