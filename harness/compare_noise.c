/* compare_noise.c -- `mmshare compare`: the noise between two runs, the intervals on changes. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "compare.h"
#include "stats.h"

/* Means, spreads and counts of one metric of a scenario. */
static void describe(const struct samples *s, struct change *ch)
{
	int side;

	memset(ch, 0, sizeof(*ch));
	for (side = 0; side < 2; side++) {
		ch->n[side] = s[side].n;
		ch->mean[side] = samples_mean(&s[side]);
		ch->rsd[side] = samples_rsd(&s[side]);
	}
}

static int comparable(const struct change *ch)
{
	return ch->n[0] && ch->n[1] && ch->mean[0] > 0 && ch->mean[1] > 0;
}

/*
 * The variance of a scenario's log change seen by its own repeats (delta method: rsd^2 / n a
 * side) and its Welch-Satterthwaite degrees of freedom. A side with a single run is given the
 * other side's spread. 0 when neither side has two runs.
 */
static int within_run(const struct change *ch, double *var, double *df)
{
	double v0, v1, s2;
	int many = ch->n[1] >= 2;

	if (ch->n[0] >= 2 && ch->n[1] >= 2) {
		v0 = ch->rsd[0] * ch->rsd[0] / ch->n[0];
		v1 = ch->rsd[1] * ch->rsd[1] / ch->n[1];
		*var = v0 + v1;
		*df = *var > 0 ? *var * *var / (v0 * v0 / (ch->n[0] - 1) + v1 * v1 / (ch->n[1] - 1)) : 1e9;
		return 1;
	}
	if (ch->n[0] < 2 && ch->n[1] < 2)
		return 0;
	s2 = ch->rsd[many] * ch->rsd[many];
	*var = s2 / ch->n[many] + s2;
	*df = (double)ch->n[many] - 1;
	return 1;
}

static size_t backend_index(const struct cmp *c, const char *backend)
{
	size_t b;

	for (b = 0; b < c->nbackends && strcmp(c->backends[b], backend); b++)
		;
	return b;
}

/*
 * The intervals to come, for the Bonferroni split of the 1%: every scored scenario, a row for
 * each backend with CMP_MIN_GROUP of them, and one for all backends together.
 */
int compare_count_intervals(struct cmp *c)
{
	size_t *per = calloc(c->n + 1, sizeof(*per)), k, b;
	struct change ch;

	c->backends = calloc(c->n + 1, sizeof(*c->backends));
	if (!per || !c->backends) {
		free(per);
		return -1;
	}
	for (k = 0; k < c->n; k++) {
		b = backend_index(c, c->sc[k].backend);
		if (b == c->nbackends)
			c->backends[c->nbackends++] = c->sc[k].backend;
		describe(c->sc[k].s, &ch);
		if (comparable(&ch))
			per[b]++, c->nscored++;
	}
	for (b = 0; b < c->nbackends; b++)
		c->ngroups += per[b] >= CMP_MIN_GROUP;
	c->ngroups += c->nbackends > 1 && c->nscored >= CMP_MIN_GROUP;
	c->alpha = (1 - CMP_CONFIDENCE) / (c->ngroups ? 2 : 1) / (double)(c->nscored ? c->nscored : 1);
	c->group_alpha = (1 - CMP_CONFIDENCE) / 2 / (double)(c->ngroups ? c->ngroups : 1);
	free(per);
	return 0;
}

/* The median log change of a backend's scenarios (of all, for NULL); 0 with none. */
static double group_median(const struct cmp *c, const char *backend, double *scratch, size_t *n)
{
	struct change ch;
	size_t k;

	*n = 0;
	for (k = 0; k < c->n; k++) {
		if (backend && strcmp(c->sc[k].backend, backend))
			continue;
		describe(c->sc[k].s, &ch);
		if (comparable(&ch))
			scratch[(*n)++] = log(ch.mean[1] / ch.mean[0]);
	}
	return *n ? stats_median(scratch, *n) : 0;
}

/* The noise over the scenarios whose deviation is known (and of one stratum, unless all). */
static void pool_noise(const struct cmp *c, const double *dev, const double *wv, int all,
		       unsigned long long stratum, double *tmp, struct noise *out)
{
	size_t k, n = 0, nw = 0;
	double sd, wmed;

	memset(out, 0, sizeof(*out));
	for (k = 0; k < c->n; k++)
		if (!isnan(dev[k]) && (all || c->sc[k].stratum == stratum))
			tmp[n++] = dev[k];
	if (n < CMP_MIN_POOL)
		return;
	sd = 1.4826 * stats_median(tmp, n);
	for (k = 0; k < c->n; k++)
		if (!isnan(dev[k]) && !isnan(wv[k]) && (all || c->sc[k].stratum == stratum))
			tmp[nw++] = wv[k];
	wmed = nw ? stats_median(tmp, nw) : 0;
	out->have = 1;
	out->total = sd * sd;
	out->between = fmax(0, out->total - wmed);
	out->df = fmax(1, 0.37 * (double)(n - 1));     /* a MAD is 37% efficient */
}

/* Each scenario's log change less its backend's median, and its within-run variance (or NAN). */
static void deviations(const struct cmp *c, double *dev, double *wv, double *tmp)
{
	double all, *mid = tmp + c->n + 1, df;
	size_t k, b, n;
	struct change ch;

	all = group_median(c, NULL, tmp, &n);
	for (b = 0; b < c->nbackends; b++) {
		mid[b] = group_median(c, c->backends[b], tmp, &n);
		mid[b] = n >= CMP_MIN_GROUP ? mid[b] : all;
	}
	for (k = 0; k < c->n; k++) {
		describe(c->sc[k].s, &ch);
		dev[k] = wv[k] = NAN;
		if (!comparable(&ch))
			continue;
		dev[k] = fabs(log(ch.mean[1] / ch.mean[0]) - mid[backend_index(c, c->sc[k].backend)]);
		if (!within_run(&ch, &wv[k], &df))
			wv[k] = NAN;
	}
}

/*
 * The noise between the two runs. Repeats run back to back, so they do not see what changes from
 * one run to the next (other load, frequency, placement); the scenarios together do. With at least
 * CMP_MIN_POOL scenarios: the spread of their log changes about their backend's median (1.4826 x
 * MAD, which neither a few real regressions nor a change of a whole backend move), less the
 * typical within-run variance. Noise grows with the number of processes, so each scenario takes
 * the larger of the estimate over all scenarios and over those with its number of processes.
 */
void compare_estimate_between(struct cmp *c)
{
	double *dev = malloc(4 * (c->n + 1) * sizeof(*dev)), *wv = dev + c->n + 1, *tmp = wv + c->n + 1;
	struct noise own;
	size_t k;

	c->noise = calloc(c->n + 1, sizeof(*c->noise));
	if (!dev || !c->noise || c->nscored < CMP_MIN_POOL) {
		free(dev);
		return;
	}
	deviations(c, dev, wv, tmp);
	pool_noise(c, dev, wv, 1, 0, tmp, &c->all);
	for (k = 0; k < c->n; k++) {
		c->noise[k] = c->all;
		pool_noise(c, dev, wv, 0, c->sc[k].stratum, tmp, &own);
		if (own.have && own.total > c->noise[k].total)
			c->noise[k] = own;
		if (own.have && own.between > c->noise[k].between)
			c->noise[k].between = own.between;
	}
	free(dev);
}

/*
 * The variance of log(mean_new / mean_base): within-run plus between-run, Satterthwaite's degrees
 * of freedom. Repeats run back to back and share the state of the machine, so their mean is not
 * taken to move less from one run to the next than a single run does: the variance is at least
 * rsd_base^2 + rsd_new^2, which keeps scenarios noisier than the typical one from failing on the
 * typical noise. Two single runs have no spread of their own: they take the whole spread of the
 * log changes, or, with too few scenarios to pool, an assumed standard deviation of half the
 * threshold.
 */
static void log_variance(const struct cmp *c, const struct noise *nz, struct change *ch)
{
	double b = nz->have ? nz->between : 0, floor, tail_df;

	ch->bvar = b;
	ch->bdf = nz->have ? nz->df : 1e9;
	tail_df = fmin(ch->bdf, CMP_TAIL_DF);
	if (within_run(ch, &ch->wvar, &ch->wdf)) {
		ch->how = ch->n[0] < 2 || ch->n[1] < 2 ? "borrowed" : NULL;
		floor = ch->n[0] < 2 ? 2 * ch->rsd[1] * ch->rsd[1] : ch->n[1] < 2 ?
			2 * ch->rsd[0] * ch->rsd[0] : ch->rsd[0] * ch->rsd[0] + ch->rsd[1] * ch->rsd[1];
		ch->var = ch->wvar + b;
		ch->df = b > 0 ? ch->var * ch->var / ((ch->wvar > 0 ? ch->wvar * ch->wvar / ch->wdf : 0) +
						     b * b / tail_df) : ch->wdf;
		if (b > 0 && floor > ch->var) {
			ch->var = floor;
			ch->df = ch->wdf;
		}
	} else if (nz->have) {
		ch->var = ch->bvar = nz->total;
		ch->df = tail_df;
		ch->wvar = 0;
		ch->how = "pooled";
	} else {
		ch->var = c->threshold * c->threshold / 4;
		ch->df = 1e9;
		ch->how = "assumed";
	}
}

/* Worse and better in the metric's own direction: ops/s falls, time grows. */
static enum verdict judge(double c, double lo, double hi, double thr, int higher_better)
{
	double worst = higher_better ? hi : -lo, best = higher_better ? lo : -hi;
	double point = higher_better ? c : -c;

	if (worst < -thr)
		return V_REGRESSION;
	if (best > thr)
		return V_FASTER;
	return point < -thr ? V_NOISE : V_OK;
}

/* The interval from ch->l, ch->var and ch->df at level alpha, and the verdict on it. */
static void conclude(const struct cmp *c, double alpha, struct change *ch)
{
	double half = stats_t_critical(alpha, ch->df < 1 ? 1 : ch->df) * sqrt(ch->var);

	ch->c = expm1(ch->l);
	ch->lo = expm1(ch->l - half);
	ch->hi = expm1(ch->l + half);
	ch->scored = 1;
	ch->v = judge(ch->c, ch->lo, ch->hi, c->threshold, c->kind == KIND_BENCH);
}

void compare_metric(const struct cmp *c, size_t k, struct change *ch)
{
	const struct scenario *s = &c->sc[k];
	static const struct noise none;

	describe(s->s, ch);
	if (!ch->n[0] || !ch->n[1]) {
		ch->v = ch->n[0] ? V_MISSING_NEW : V_MISSING_BASE;
		return;
	}
	if (!comparable(ch)) {          /* a zero is not noise: judge the point */
		ch->c = ch->mean[0] > 0 ? -1 : ch->mean[1] > 0 ? INFINITY : 0;
		ch->lo = ch->hi = ch->c;
		ch->v = judge(ch->c, ch->c, ch->c, c->threshold, c->kind == KIND_BENCH);
		return;
	}
	ch->l = log(ch->mean[1] / ch->mean[0]);
	log_variance(c, c->noise ? &c->noise[k] : &none, ch);
	conclude(c, c->alpha, ch);
}

/*
 * A group of scenarios (a backend's, or all): the median of their log changes, whose variance is
 * pi/2 times the typical scenario's over their number. The within-run parts are independent from
 * scenario to scenario (n times the degrees of freedom), the between-run estimate is shared. A
 * change of a whole backend shows here long before any one scenario's interval clears the
 * threshold.
 */
int compare_group(const struct cmp *c, const struct change *chs, const char *backend,
		  struct change *g)
{
	double *v = malloc(5 * (c->n + 1) * sizeof(*v)), *w = v + c->n + 1, *wd = w + c->n + 1;
	double *b = wd + c->n + 1, *bd = b + c->n + 1, bvar, bdf, wvar, wdf;
	size_t k, n = 0;

	memset(g, 0, sizeof(*g));
	if (!v)
		return 0;
	for (k = 0; k < c->n; k++)
		if (chs[k].scored && (!backend || !strcmp(c->sc[k].backend, backend))) {
			v[n] = chs[k].l;
			w[n] = chs[k].var - chs[k].bvar;
			wd[n] = chs[k].wdf;
			b[n] = chs[k].bvar;
			bd[n++] = chs[k].bdf;
		}
	if (n >= CMP_MIN_GROUP) {
		g->n[0] = g->n[1] = n;
		g->l = stats_median(v, n);
		wvar = fmax(0, stats_median(w, n));
		wdf = stats_median(wd, n) * (double)n;
		bvar = stats_median(b, n);
		bdf = fmax(stats_median(bd, n), c->all.have ? c->all.df : 1);  /* strata estimate apart */
		g->var = (wvar + bvar) * M_PI / 2 / (double)n;
		g->df = wvar + bvar > 0 ? (wvar + bvar) * (wvar + bvar) /
			((wvar > 0 ? wvar * wvar / wdf : 0) + (bvar > 0 ? bvar * bvar / bdf : 0)) : 1e9;
		conclude(c, c->group_alpha, g);
	}
	free(v);
	return n >= CMP_MIN_GROUP;
}

/* insn_per_op is a count, not a measurement: no noise, the point decides. Lower is better. */
int compare_insn(const struct cmp *c, const struct scenario *s, struct change *ch)
{
	describe(s->insn, ch);
	if (!ch->n[0] || !ch->n[1])
		return 0;
	ch->c = ch->mean[0] > 0 ? ch->mean[1] / ch->mean[0] - 1 : ch->mean[1] > 0 ? INFINITY : 0;
	ch->lo = ch->hi = ch->c;
	ch->v = judge(ch->c, ch->c, ch->c, c->insn_threshold, 0);
	return 1;
}
