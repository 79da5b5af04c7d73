/* stats.c -- Student's t, sample means and spreads, medians: one home for both commands. */
#include <math.h>
#include <stdlib.h>

#include "stats.h"

int samples_add(struct samples *s, double x)
{
	if (s->n == s->cap) {
		size_t cap = s->cap ? 2 * s->cap : 8;
		double *v = realloc(s->v, cap * sizeof(*v));

		if (!v)
			return -1;
		s->v = v;
		s->cap = cap;
	}
	s->v[s->n++] = x;
	return 0;
}

void samples_free(struct samples *s)
{
	free(s->v);
	s->v = NULL;
	s->n = s->cap = 0;
}

double samples_mean(const struct samples *s)
{
	double sum = 0;
	size_t k;

	for (k = 0; k < s->n; k++)
		sum += s->v[k];
	return s->n ? sum / s->n : 0;
}

double samples_sd(const struct samples *s)
{
	double m = samples_mean(s), ss = 0;
	size_t k;

	if (s->n < 2)
		return 0;
	for (k = 0; k < s->n; k++)
		ss += (s->v[k] - m) * (s->v[k] - m);
	return sqrt(ss / (s->n - 1));
}

double samples_rsd(const struct samples *s)
{
	double m = samples_mean(s);

	return m > 0 ? samples_sd(s) / m : 0;
}

/* The continued fraction of the incomplete beta function (modified Lentz). */
static double beta_cf(double a, double b, double x)
{
	double c = 1, d = 1 - (a + b) * x / (a + 1), h, aa, del = 0;
	int m;

	d = 1 / (fabs(d) < 1e-300 ? 1e-300 : d);
	h = d;
	for (m = 1; m <= 500 && fabs(del - 1) > 1e-13; m++) {
		aa = m * (b - m) * x / ((a - 1 + 2 * m) * (a + 2 * m));
		d = 1 + aa * d;
		c = 1 + aa / c;
		d = 1 / (fabs(d) < 1e-300 ? 1e-300 : d);
		h *= d * (fabs(c) < 1e-300 ? 1e-300 : c);
		aa = -(a + m) * (a + b + m) * x / ((a + 2 * m) * (a + 1 + 2 * m));
		d = 1 + aa * d;
		c = 1 + aa / c;
		d = 1 / (fabs(d) < 1e-300 ? 1e-300 : d);
		del = d * (fabs(c) < 1e-300 ? 1e-300 : c);
		h *= del;
	}
	return h;
}

/* The regularized incomplete beta function I_x(a, b). */
static double beta_inc(double a, double b, double x)
{
	double front;

	if (x <= 0)
		return 0;
	if (x >= 1)
		return 1;
	front = exp(lgamma(a + b) - lgamma(a) - lgamma(b) + a * log(x) + b * log1p(-x));
	if (x < (a + 1) / (a + b + 2))
		return front * beta_cf(a, b, x) / a;
	return 1 - front * beta_cf(b, a, 1 - x) / b;
}

double stats_t_critical(double alpha, double df)
{
	double lo = 0, hi = 1e6, mid;
	int k;

	for (k = 0; k < 200; k++) {
		mid = (lo + hi) / 2;
		if (beta_inc(df / 2, 0.5, df / (df + mid * mid)) > alpha)
			lo = mid;
		else
			hi = mid;
	}
	return (lo + hi) / 2;
}

double stats_ci_rel_half(double m, double sd, size_t n, double alpha)
{
	if (n < 2 || m <= 0)
		return INFINITY;
	return stats_t_critical(alpha, (double)(n - 1)) * sd / sqrt((double)n) / m;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

double stats_median(double *v, size_t n)
{
	qsort(v, n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}
