/* test_stats.c -- the shared statistics against published values of Student's t. */
#include <criterion/criterion.h>
#include <math.h>

#include "stats.h"

/* Two-sided critical values from any t table. */
Test(stats, t_critical_matches_the_tables)
{
	static const struct { double alpha, df, t; } table[] = {
		{ 0.05, 1, 12.706 }, { 0.05, 10, 2.228 }, { 0.05, 30, 2.042 },
		{ 0.01, 4, 4.604 }, { 0.01, 30, 2.750 }, { 0.10, 1000, 1.646 },
	};
	size_t k;

	for (k = 0; k < sizeof(table) / sizeof(table[0]); k++) {
		double t = stats_t_critical(table[k].alpha, table[k].df);

		cr_expect(fabs(t - table[k].t) < 0.001, "t(%g, %g) = %.4f, tables say %.3f",
			  table[k].alpha, table[k].df, t, table[k].t);
	}
}

Test(stats, samples_and_median)
{
	struct samples s = { 0 };
	double v[] = { 5, 1, 4, 2, 3 }, w[] = { 4, 1, 3, 2 };
	int k;

	for (k = 1; k <= 5; k++)
		cr_assert_eq(samples_add(&s, k), 0);
	cr_expect(fabs(samples_mean(&s) - 3) < 1e-12);
	cr_expect(fabs(samples_sd(&s) - sqrt(2.5)) < 1e-12);
	cr_expect(fabs(samples_rsd(&s) - sqrt(2.5) / 3) < 1e-12);
	cr_expect_eq(stats_median(v, 5), 3);
	cr_expect_eq(stats_median(w, 4), 2.5);
	samples_free(&s);
	cr_expect_eq(s.n, 0);
}

/* Ten observations, mean 100, sd 10: the 95% half width is t(0.05, 9) * 10 / sqrt(10). */
Test(stats, relative_half_width)
{
	double h = stats_ci_rel_half(100, 10, 10, 0.05);

	cr_expect(fabs(h - 2.262 * 10 / sqrt(10) / 100) < 1e-4, "half width %.5f", h);
	cr_expect(isinf(stats_ci_rel_half(100, 10, 1, 0.05)), "one observation has no interval");
	cr_expect(isinf(stats_ci_rel_half(0, 10, 10, 0.05)), "nor a zero mean");
}
