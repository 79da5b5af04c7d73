/* compare_render.c -- `mmshare compare`: the rows, the text table, the markdown and the verdict. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "compare.h"
#include "stats.h"

static const char *const verdict_name[] = {
	"ok", "faster", "slower-within-noise", "REGRESSION", "missing-in-base", "missing-in-new",
};

static void human(double x, int kind, char *out, size_t cap)
{
	static const char *const rate_unit[] = { "", "k", "M", "G", "T" };
	static const char *const time_unit[] = { "s", "ms", "us", "ns" };
	int u = 0;

	if (kind == KIND_BENCH) {
		while (x >= 1000 && u < 4)
			x /= 1000, u++;
		snprintf(out, cap, "%.3g%s", x, rate_unit[u]);
	} else if (kind == KIND_HYPERFINE) {
		while (x > 0 && x < 1 && u < 3)
			x *= 1000, u++;
		snprintf(out, cap, "%.3g %s", x, time_unit[u]);
	} else {
		snprintf(out, cap, "%.1f", x);
	}
}

static void side_text(const struct change *ch, int side, int kind, char *out, size_t cap)
{
	char num[32];

	human(ch->mean[side], kind, num, sizeof(num));
	if (ch->n[side] > 1)
		snprintf(out, cap, "%s ± %.1f%% (n=%zu)", num, 100 * ch->rsd[side], ch->n[side]);
	else
		snprintf(out, cap, "%s (n=1)", num);
}

static void pct(double x, char *out, size_t cap)
{
	if (x > 9.99)
		snprintf(out, cap, ">+999%%");
	else
		snprintf(out, cap, "%+.1f%%", 100 * x);
}

/* The change and interval cells. */
static void change_cells(struct row *r, const struct change *ch, int count)
{
	char lo[16], hi[16];

	pct(ch->c, r->chg, sizeof(r->chg));
	if (!ch->scored) {
		snprintf(r->ci, sizeof(r->ci), count ? "exact count" : "n/a (zero mean)");
		return;
	}
	pct(ch->lo, lo, sizeof(lo));
	pct(ch->hi, hi, sizeof(hi));
	snprintf(r->ci, sizeof(r->ci), "[%s, %s]%s", lo, hi, ch->how ? " *" : "");
}

static void fill_row(struct row *r, const struct scenario *s, const struct change *ch,
		     const char *metric, int kind)
{
	memset(r, 0, sizeof(*r));
	r->label = s->label;
	r->backend = s->backend;
	r->metric = metric;
	r->v = ch->v;
	snprintf(r->base, sizeof(r->base), "-");
	snprintf(r->new, sizeof(r->new), "-");
	snprintf(r->chg, sizeof(r->chg), "-");
	snprintf(r->ci, sizeof(r->ci), "-");
	if (ch->n[0])
		side_text(ch, 0, kind, r->base, sizeof(r->base));
	if (ch->n[1])
		side_text(ch, 1, kind, r->new, sizeof(r->new));
	if (ch->n[0] && ch->n[1])
		change_cells(r, ch, kind == KIND_NONE);
}

static void fill_group_row(struct row *r, const char *backend, const struct change *g,
			   const char *metric)
{
	memset(r, 0, sizeof(*r));
	snprintf(r->own, sizeof(r->own), "%s: median of %zu", backend ? backend : "all backends",
		 g->n[0]);
	r->label = r->own;
	r->backend = backend;
	r->metric = metric;
	r->v = g->v;
	snprintf(r->base, sizeof(r->base), "-");
	snprintf(r->new, sizeof(r->new), "-");
	change_cells(r, g, 0);
}

/* Columns as wide as their widest cell, counted in characters, not bytes. */
static size_t width(const char *s)
{
	size_t w = 0;

	for (; *s; s++)
		w += ((unsigned char)*s & 0xc0) != 0x80;
	return w;
}

static void pad(FILE *out, const char *s, size_t w, const char *sep)
{
	size_t k = width(s);

	fputs(s, out);
	for (; k < w; k++)
		fputc(' ', out);
	fputs(sep, out);
}

static const char *verdict_of(const struct row *r)
{
	return r->metric ? verdict_name[r->v] : "verdict";
}

static void text_row(FILE *out, const struct row *r, const size_t *w)
{
	pad(out, r->label, w[0], "  ");
	pad(out, r->metric ? r->metric : "metric", w[1], "  ");
	pad(out, r->base, w[2], "  ");
	pad(out, r->new, w[3], "  ");
	pad(out, r->chg, w[4], "  ");
	pad(out, r->ci, w[5], "  ");
	fprintf(out, "%s\n", verdict_of(r));
}

static void md_cell(FILE *out, const char *s)
{
	fputs("| ", out);
	for (; *s; s++) {
		if (*s == '|' || *s == '*' || *s == '_' || *s == '`')
			fputc('\\', out);
		fputc(*s, out);
	}
	fputc(' ', out);
}

static void md_row(FILE *out, const struct row *r)
{
	const char *b = r->v == V_REGRESSION ? "**" : "";

	md_cell(out, r->label);
	md_cell(out, r->metric);
	md_cell(out, r->base);
	md_cell(out, r->new);
	md_cell(out, r->chg);
	md_cell(out, r->ci);
	fprintf(out, "| %s%s%s |\n", b, verdict_name[r->v], b);
}

static const struct row header = {
	.label = "scenario", .base = "base (mean ± rsd)", .new = "new (mean ± rsd)", .chg = "change",
	.ci = "99% interval",
};

/* A scenario's rows: its metric, then its insn_per_op where both files have it. */
static void scenario_rows(struct cmp *c, size_t k, const struct change *ch, struct row *rows,
			  size_t *n)
{
	struct change insn;

	c->counts[ch->v]++;
	fill_row(&rows[(*n)++], &c->sc[k], ch, c->kind == KIND_BENCH ? "ops/s" : "time", c->kind);
	if (compare_insn(c, &c->sc[k], &insn)) {
		c->insn_regressions += insn.v == V_REGRESSION;
		fill_row(&rows[(*n)++], &c->sc[k], &insn, "insn/op", KIND_NONE);
	}
}

/* The group rows: each backend with enough scenarios, then all of them. */
static void group_rows(struct cmp *c, const struct change *chs, struct row *rows, size_t *n)
{
	const char *metric = c->kind == KIND_BENCH ? "ops/s" : "time";
	struct change g;
	size_t b;

	for (b = 0; b <= c->nbackends; b++) {
		if (b == c->nbackends && c->nbackends < 2)
			break;
		if (!compare_group(c, chs, b < c->nbackends ? c->backends[b] : NULL, &g))
			continue;
		c->group_regressions += g.v == V_REGRESSION;
		fill_group_row(&rows[(*n)++], b < c->nbackends ? c->backends[b] : NULL, &g, metric);
	}
}

static struct row *build_rows(struct cmp *c, size_t *nrows)
{
	struct row *rows = calloc(3 * c->n + 2, sizeof(*rows));
	struct change *chs = calloc(c->n + 1, sizeof(*chs));
	size_t k;

	*nrows = 0;
	if (!rows || !chs || compare_count_intervals(c)) {
		free(rows), free(chs);
		return NULL;
	}
	compare_estimate_between(c);
	for (k = 0; k < c->n; k++) {
		compare_metric(c, k, &chs[k]);
		scenario_rows(c, k, &chs[k], rows, nrows);
	}
	group_rows(c, chs, rows, nrows);
	free(chs);
	return rows;
}

static size_t wider(size_t w, const char *s)
{
	return width(s) > w ? width(s) : w;
}

/* In quiet mode only the REGRESSION rows, and the header only above some. */
static void print_table(FILE *out, const struct row *rows, size_t n, int quiet)
{
	size_t w[6] = { 0, 6 }, k, shown = 0;

	for (k = 0; k <= n; k++) {
		const struct row *r = k < n ? &rows[k] : &header;

		w[0] = wider(w[0], r->label);
		w[1] = wider(w[1], r->metric ? r->metric : "");
		w[2] = wider(w[2], r->base);
		w[3] = wider(w[3], r->new);
		w[4] = wider(w[4], r->chg);
		w[5] = wider(w[5], r->ci);
	}
	for (k = 0; k < n; k++) {
		if (quiet && rows[k].v != V_REGRESSION)
			continue;
		if (!shown++)
			text_row(out, &header, w);
		text_row(out, &rows[k], w);
	}
}

/* Is name already one of the comma-separated names in list? */
static int listed(const char *list, const char *name)
{
	size_t n = strlen(name);
	const char *p;

	for (p = list; (p = strstr(p, name)); p += n)
		if ((p == list || p[-1] == ' ') && (p[n] == ',' || !p[n]))
			return 1;
	return 0;
}

/* The backends with a regression, each once, in order of appearance. */
static void regressed_backends(const struct row *rows, size_t n, char *out, size_t cap)
{
	size_t k, used = 0;
	const char *name;

	*out = 0;
	for (k = 0; k < n && used < cap; k++) {
		name = rows[k].backend ? rows[k].backend : "all backends";
		if (rows[k].v != V_REGRESSION || listed(out, name))
			continue;
		used += (size_t)snprintf(out + used, cap - used, "%s%s", used ? ", " : "", name);
	}
}

static size_t regressions(const struct cmp *c)
{
	return c->counts[V_REGRESSION] + c->insn_regressions + c->group_regressions;
}

static void verdict_line(FILE *out, const struct cmp *c, const char *backends, int md)
{
	const char *b = md ? "**" : "";

	if (regressions(c))
		fprintf(out, "%sREGRESSION%s in %s: %zu scenario(s) and %zu group(s) slower than %g%% "
			"beyond noise, %zu insn/op up more than %g%%", b, b, backends,
			c->counts[V_REGRESSION], c->group_regressions, 100 * c->threshold,
			c->insn_regressions, 100 * c->insn_threshold);
	else
		fprintf(out, "%sno regression%s (threshold %g%%, insn %g%%)", b, b, 100 * c->threshold,
			100 * c->insn_threshold);
	fprintf(out, "; %zu scenarios: %zu ok, %zu faster, %zu slower-within-noise, %zu missing-in-base,"
		" %zu missing-in-new\n", c->n, c->counts[V_OK], c->counts[V_FASTER], c->counts[V_NOISE],
		c->counts[V_MISSING_BASE], c->counts[V_MISSING_NEW]);
}

/* How the intervals were had, and the smallest slowdown this pair of runs can call a regression. */
static void noise_note(FILE *out, const struct cmp *c)
{
	double sd = sqrt(c->all.total), t, least;

	fprintf(out, "change = new/base - 1. Intervals: Welch's t on the log ratio of the means plus "
		"the noise between runs; groups: the median scenario; simultaneous 99%% over %zu "
		"scenarios and %zu groups (Bonferroni). REGRESSION only when the whole interval is "
		"slower than the threshold. * one run on a side: spread borrowed, pooled or assumed.\n",
		c->nscored, c->ngroups);
	if (!c->all.have)
		return;
	t = stats_t_critical(c->alpha, fmin(c->all.df, CMP_TAIL_DF));
	least = c->kind == KIND_BENCH ? 1 - (1 - c->threshold) * exp(-t * sd) :
		(1 + c->threshold) * exp(t * sd) - 1;
	fprintf(out, "Noise between the runs: %.1f%% (1 sd of a log change over %zu scenarios; %.1f%% "
		"of it unseen by the repeats); one scenario alone fails beyond about a %.0f%% "
		"slowdown%s.\n", 100 * sd, c->nscored, 100 * sqrt(c->all.between), 100 * least,
		least > 3 * c->threshold ? " -- too noisy to gate single scenarios on this threshold" : "");
}

static int write_markdown(const struct cmp *c, const struct row *rows, size_t n,
			  const char *backends)
{
	FILE *out = fopen(c->markdown, "w");
	size_t k;

	if (!out) {
		fprintf(stderr, "mmshare compare: %s: cannot write: %s\n", c->markdown, strerror(errno));
		return -1;
	}
	fprintf(out, "### mmshare compare: `%s` → `%s`\n\n", c->path[0], c->path[1]);
	verdict_line(out, c, backends, 1);
	fputs("\n| scenario | metric | base (mean ± rsd) | new (mean ± rsd) | change | 99% interval "
	      "| verdict |\n|---|---|--:|--:|--:|--:|---|\n", out);
	for (k = 0; k < n; k++)
		md_row(out, &rows[k]);
	fputc('\n', out);
	noise_note(out, c);
	if (fclose(out)) {
		fprintf(stderr, "mmshare compare: %s: cannot write: %s\n", c->markdown, strerror(errno));
		return -1;
	}
	return 0;
}

int compare_report(struct cmp *c)
{
	struct row *rows;
	size_t n;
	char backends[1024];
	int err = 0;

	rows = build_rows(c, &n);
	if (!rows) {
		fprintf(stderr, "mmshare compare: out of memory\n");
		return MMS_EXIT_USAGE;
	}
	regressed_backends(rows, n, backends, sizeof(backends));
	print_table(stdout, rows, n, c->quiet);
	if (!c->quiet)
		noise_note(stdout, c);
	verdict_line(stdout, c, backends, 0);
	fflush(stdout);
	if (c->markdown)
		err = write_markdown(c, rows, n, backends);
	free(rows);
	if (err)
		return MMS_EXIT_USAGE;
	return regressions(c) ? MMS_EXIT_FAIL : MMS_EXIT_OK;
}
