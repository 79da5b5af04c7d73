/* advise_pick.c -- `mmshare advise`: rank the measured candidates, break ties on principle. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mmshare.h"
#include "advise.h"
#include "stats.h"

/* Two-sided exact sign test: the chance of a split at least as uneven as wins of n by luck. */
static double sign_test_p(unsigned wins, unsigned n)
{
	unsigned k = wins > n - wins ? wins : n - wins, i;
	double tail = 0, c = 1;         /* c: C(n, i), built up from C(n, 0) */

	for (i = 0; i <= n; i++) {
		if (i >= k)
			tail += c;
		c = c * (double)(n - i) / (double)(i + 1);
	}
	return fmin(1, 2 * tail / pow(2, n));
}

/*
 * a against b, round by round: the rounds ran interleaved, so the ratio of the same round
 * cancels most of the machine's drift. The interval is the t interval of the mean log ratio.
 * A difference is real when that interval excludes 1, or when the sign test says a won (or
 * lost) too many rounds for luck: one round wrecked by a neighbour widens the t interval but
 * cannot flip the signs. Leads under ADVISE_MIN_LEAD count as noise either way.
 */
void advise_compare(const struct advise_cand *a, const struct advise_cand *b, struct advise_pair *p)
{
	unsigned n = a->rounds < b->rounds ? a->rounds : b->rounds, k, wins = 0;
	double logs[ADVISE_MAX_ROUNDS], half = INFINITY, m;
	struct samples s = { .v = logs, .n = n, .cap = n };

	for (k = 0; k < n; k++) {
		logs[k] = log(a->ops[k] / b->ops[k]);
		wins += logs[k] > 0;
	}
	m = n ? samples_mean(&s) : 0;
	if (n >= 2)
		half = stats_t_critical(0.05, (double)(n - 1)) * samples_sd(&s) / sqrt((double)n);
	p->ratio = exp(m);
	p->lo = exp(m - half);
	p->hi = exp(m + half);
	p->wins = wins;
	p->rounds = n;
	p->sign_p = n ? sign_test_p(wins, n) : 1;
	p->within_noise = (p->lo <= 1 && p->hi >= 1 && p->sign_p >= 0.05) ||
			  fabs(m) < log(1 + ADVISE_MIN_LEAD);
}

static const struct advise *sorting;    /* qsort has no context argument */

/* Throughput order; under oversubscription, the heavy-tailed after all the others. */
static int by_throughput(const void *x, const void *y)
{
	const struct advise_cand *a = &sorting->c[*(const size_t *)x];
	const struct advise_cand *b = &sorting->c[*(const size_t *)y];

	if (a->tail_heavy != b->tail_heavy)
		return a->tail_heavy - b->tail_heavy;
	return (a->mean_ops < b->mean_ops) - (a->mean_ops > b->mean_ops);
}

static int crash_safe(const struct advise_cand *c)
{
	return (c->caps & MMS_CAP_CRASH_SAFE) != 0;
}

/* The tie-breaker: crash-safe first (a dead holder costs the area), then the lower p99. */
static int by_tiebreak(const void *x, const void *y)
{
	const struct advise_cand *a = &sorting->c[*(const size_t *)x];
	const struct advise_cand *b = &sorting->c[*(const size_t *)y];

	if (crash_safe(a) != crash_safe(b))
		return crash_safe(b) - crash_safe(a);
	if (a->p99 != b->p99)
		return (a->p99 > b->p99) - (a->p99 < b->p99);
	return (a->mean_ops < b->mean_ops) - (a->mean_ops > b->mean_ops);
}

/* With more workers than CPUs, mark the candidates whose tail is far beyond the best one's. */
static void mark_tails(struct advise *a, const size_t *ok, size_t n)
{
	double best = INFINITY;
	size_t k;

	if (a->o.procs <= (unsigned)a->o.cpus)
		return;
	for (k = 0; k < n; k++)
		best = fmin(best, a->c[ok[k]].p99);
	for (k = 0; k < n; k++)
		a->c[ok[k]].tail_heavy = a->c[ok[k]].p99 > ADVISE_TAIL_FACTOR * best;
}

static const char *deciding_rule(const struct advise_cand *a, const struct advise_cand *b)
{
	if (crash_safe(a) != crash_safe(b))
		return "crash-safe";
	if (a->p99 != b->p99)
		return "p99";
	return "throughput";
}

static void why_tail(struct advise *a, const struct advise_cand *w, const struct advise_cand *l)
{
	char lp[24], wp[24];

	snprintf(a->pick.why_lost, sizeof(a->pick.why_lost), "%.3gM ops/s against %.3gM, and its "
		 "p99 (%s) is over %.0fx the lowest (%s's %s) with %u procs on %ld CPUs: a holder "
		 "preempted while others wait", l->mean_ops / 1e6, w->mean_ops / 1e6,
		 advise_fmt_ns(lp, sizeof(lp), l->p99), ADVISE_TAIL_FACTOR, w->backend,
		 advise_fmt_ns(wp, sizeof(wp), w->p99), a->o.procs, a->o.cpus);
}

/* The runner-up's story, in a->pick.why_lost. */
static void why_lost(struct advise *a)
{
	const struct advise_cand *w = &a->c[a->pick.best], *l = &a->c[a->pick.second];
	const struct advise_pair *p = &a->pick.pair;
	char *out = a->pick.why_lost;
	size_t cap = sizeof(a->pick.why_lost);

	if (l->tail_heavy && !w->tail_heavy)
		return why_tail(a, w, l);
	if (!p->within_noise) {
		snprintf(out, cap, "slower: %s has %.2fx its throughput (95%% interval %.2f-%.2f; won "
			 "%u of %u paired rounds)", w->backend, p->ratio, p->lo, p->hi, p->wins,
			 p->rounds);
		return;
	}
	if (!strcmp(a->pick.decided_by, "crash-safe"))
		snprintf(out, cap, "within noise (ratio %.2f, 95%% interval %.2f-%.2f), and not "
			 "crash-safe: a holder that dies leaves the area unusable (MMS_EDEAD)",
			 p->ratio, p->lo, p->hi);
	else if (!strcmp(a->pick.decided_by, "p99"))
		snprintf(out, cap, "within noise (ratio %.2f, 95%% interval %.2f-%.2f); tie broken "
			 "on p99: %.0f ns against %.0f ns", p->ratio, p->lo, p->hi, l->p99, w->p99);
	else
		snprintf(out, cap, "within noise (ratio %.2f, 95%% interval %.2f-%.2f) and equal on "
			 "crash safety and p99; %s had the higher mean", p->ratio, p->lo, p->hi,
			 w->backend);
}

/*
 * The leader by throughput, unless others are within noise of it: then the tie-breaker picks
 * among those. The runner-up is the next of the same order. -1 when nothing has figures.
 */
int advise_decide(struct advise *a)
{
	size_t ok[ADVISE_MAX], n = 0, group = 1, k;
	struct advise_pair p;

	for (k = 0; k < a->n; k++)
		if (a->c[k].rounds)
			ok[n++] = k;
	if (!n)
		return -1;
	mark_tails(a, ok, n);
	sorting = a;
	qsort(ok, n, sizeof(*ok), by_throughput);
	/* The throughput order is by mean, so a later candidate may still be within noise. */
	for (k = 1; k < n; k++) {
		size_t moved = ok[k];

		advise_compare(&a->c[ok[0]], &a->c[moved], &p);
		if (a->c[moved].tail_heavy != a->c[ok[0]].tail_heavy || !p.within_noise)
			continue;
		memmove(&ok[group + 1], &ok[group], (k - group) * sizeof(*ok));
		ok[group++] = moved;
	}
	qsort(ok, group, sizeof(*ok), by_tiebreak);
	a->pick.best = (int)ok[0];
	a->pick.second = n > 1 ? (int)ok[1] : -1;
	a->pick.decided_by = "throughput";
	if (n < 2)
		return 0;
	advise_compare(&a->c[ok[0]], &a->c[ok[1]], &a->pick.pair);
	if (group > 1)
		a->pick.decided_by = deciding_rule(&a->c[ok[0]], &a->c[ok[1]]);
	why_lost(a);
	return 0;
}
