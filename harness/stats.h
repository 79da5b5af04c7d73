/* stats.h -- the statistics `mmshare bench` and `mmshare compare` share: samples, t, intervals. */
#ifndef MMS_STATS_H
#define MMS_STATS_H

#include <stddef.h>

/* A growing list of observations. */
struct samples {
	double *v;              /* the observations, in the order added */
	size_t n, cap;          /* how many; room for how many */
};

int    samples_add(struct samples *s, double x);       /* 0, or -1 out of memory */
void   samples_free(struct samples *s);
double samples_mean(const struct samples *s);
double samples_sd(const struct samples *s);             /* sample sd; 0 under two samples */
double samples_rsd(const struct samples *s);            /* sd over the mean; 0 for a mean <= 0 */

/* The t with P(|T| > t) = alpha for Student's t with df >= 1 degrees of freedom. */
double stats_t_critical(double alpha, double df);

/*
 * Half the width of the two-sided (1 - alpha) confidence interval of the mean of n observations
 * with mean m and sample sd sd, relative to m; INFINITY under two observations or m <= 0.
 */
double stats_ci_rel_half(double m, double sd, size_t n, double alpha);

/* The median of v[0..n) (n >= 1); sorts v. */
double stats_median(double *v, size_t n);

#endif
