/* compare.c -- `mmshare compare`: two benchmark files, one row per scenario, a gate on regressions. */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <json-c/json.h>

#include "commands.h"

#define CMP_CONFIDENCE   0.99   /* of the interval on a change */
#define CMP_MAX_INPUT    (256u << 20)

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
	"The change is new/base - 1 with a 99% interval: Welch's t on the log of the ratio of the\n"
	"means (delta method). A scenario is a REGRESSION only when the whole interval is slower\n"
	"than the threshold, so noisy scenarios cannot fail the gate and precise ones catch a real\n"
	"slowdown. With one run on one side, that side is given the other side's run-to-run spread;\n"
	"with one run on both, the spread is the median absolute log change of all such scenarios,\n"
	"floored at a third of the threshold (see the README). insn_per_op is gated on the point.\n"
	"Exit status: 0 no regression, 1 a regression, 2 bad usage or unusable input.\n";

enum cmp_kind { KIND_NONE, KIND_BENCH, KIND_HYPERFINE };

enum verdict { V_OK, V_FASTER, V_NOISE, V_REGRESSION, V_MISSING_BASE, V_MISSING_NEW };

static const char *const verdict_name[] = {
	"ok", "faster", "slower-within-noise", "REGRESSION", "missing-in-base", "missing-in-new",
};

struct samples {
	double *v;
	size_t n, cap;
};

/* A scenario and its samples: [0] from the base file, [1] from the new one. */
struct scenario {
	char *key;              /* identity, to match the two files */
	char *label;            /* for the table */
	char *backend;          /* for the final line */
	struct samples s[2];    /* the metric */
	struct samples insn[2]; /* instructions per operation, where reported */
};

/* The comparison of one metric of one scenario. */
struct change {
	double mean[2], rsd[2]; /* mean, relative sample standard deviation */
	size_t n[2];
	double c, lo, hi;       /* new/base - 1 and its interval */
	int interval;           /* 0: no interval (a zero mean, or a deterministic count) */
	const char *how;        /* how the interval was had, when not from both sides' repeats */
	enum verdict v;
};

struct cmp {
	enum cmp_kind kind;
	double threshold, insn_threshold;       /* fractions */
	const char *markdown;
	int quiet;
	const char *path[2];
	struct scenario *sc;
	size_t n, cap;
	double pooled_sd;                       /* log-change spread of single-run scenarios, or NAN */
	size_t counts[6];                       /* scenarios by verdict of their main metric */
	size_t insn_regressions;
};

struct row {
	const struct scenario *s;
	const char *label, *metric;
	char base[80], new[80], chg[24], ci[48];
	const char *verdict;
};

/* ---- Student's t ---- */

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

/* The t with P(|T| > t) = alpha for Student's t with df degrees of freedom (df >= 1). */
static double t_critical(double alpha, double df)
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

/* ---- samples and scenarios ---- */

static int samples_add(struct samples *s, double x)
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

static double samples_mean(const struct samples *s)
{
	double sum = 0;
	size_t k;

	for (k = 0; k < s->n; k++)
		sum += s->v[k];
	return s->n ? sum / s->n : 0;
}

/* Sample standard deviation over the mean; 0 for fewer than two samples or a zero mean. */
static double samples_rsd(const struct samples *s)
{
	double m = samples_mean(s), ss = 0;
	size_t k;

	if (s->n < 2 || m <= 0)
		return 0;
	for (k = 0; k < s->n; k++)
		ss += (s->v[k] - m) * (s->v[k] - m);
	return sqrt(ss / (s->n - 1)) / m;
}

static struct scenario *scenario_find(struct cmp *c, const char *key)
{
	size_t k;

	for (k = 0; k < c->n; k++)
		if (!strcmp(c->sc[k].key, key))
			return &c->sc[k];
	return NULL;
}

static struct scenario *scenario_get(struct cmp *c, const char *key, const char *label,
				     const char *backend)
{
	struct scenario *s = scenario_find(c, key);

	if (s)
		return s;
	if (c->n == c->cap) {
		size_t cap = c->cap ? 2 * c->cap : 64;
		struct scenario *sc = realloc(c->sc, cap * sizeof(*sc));

		if (!sc)
			return NULL;
		c->sc = sc;
		c->cap = cap;
	}
	s = &c->sc[c->n];
	memset(s, 0, sizeof(*s));
	s->key = strdup(key);
	s->label = strdup(label);
	s->backend = strdup(backend);
	if (!s->key || !s->label || !s->backend) {
		free(s->key), free(s->label), free(s->backend);
		return NULL;
	}
	c->n++;
	return s;
}

static void cmp_free(struct cmp *c)
{
	size_t k;
	int side;

	for (k = 0; k < c->n; k++) {
		for (side = 0; side < 2; side++) {
			free(c->sc[k].s[side].v);
			free(c->sc[k].insn[side].v);
		}
		free(c->sc[k].key), free(c->sc[k].label), free(c->sc[k].backend);
	}
	free(c->sc);
}

/* ---- reading a file ---- */

/* Say what is wrong with a file in one line; always returns -1. */
__attribute__((format(printf, 2, 3)))
static int bad_input(const char *path, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "mmshare compare: %s: ", path);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return -1;
}

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL, *nbuf;
	size_t cap = 0, got;

	*len = 0;
	if (!f) {
		bad_input(path, "cannot read: %s", strerror(errno));
		return NULL;
	}
	do {
		if (cap - *len < 65536) {
			cap = cap ? 2 * cap : 65536;
			nbuf = cap > CMP_MAX_INPUT ? NULL : realloc(buf, cap + 1);
			if (!nbuf) {
				bad_input(path, "too large or out of memory");
				free(buf), fclose(f);
				return NULL;
			}
			buf = nbuf;
		}
		got = fread(buf + *len, 1, cap - *len, f);
		*len += got;
	} while (got);
	if (ferror(f)) {
		bad_input(path, "cannot read: %s", strerror(errno));
		free(buf), fclose(f);
		return NULL;
	}
	fclose(f);
	buf[*len] = 0;
	return buf;
}

static json_object *load_json(const char *path)
{
	struct json_tokener *tok;
	json_object *root;
	size_t len, k;
	char *text = slurp(path, &len);

	if (!text)
		return NULL;
	for (k = 0; k < len && strchr(" \t\r\n", text[k]); k++)
		;
	if (k == len) {
		free(text);
		bad_input(path, "not JSON: the file is empty");
		return NULL;
	}
	tok = json_tokener_new();
	if (!tok) {
		free(text);
		bad_input(path, "out of memory");
		return NULL;
	}
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
	root = json_tokener_parse_ex(tok, text, (int)len);
	if (!root || json_tokener_get_error(tok) != json_tokener_success) {
		enum json_tokener_error e = json_tokener_get_error(tok);

		bad_input(path, "not JSON: %s at byte %zu", e == json_tokener_continue ?
			  "unexpected end of file" : json_tokener_error_desc(e), json_tokener_get_parse_end(tok));
		json_object_put(root);
		root = NULL;
	}
	json_tokener_free(tok);
	free(text);
	return root;
}

static int is_number(json_object *o)
{
	return json_object_is_type(o, json_type_int) || json_object_is_type(o, json_type_double);
}

/* What kind of file: mmshare-bench/1, hyperfine's export, or neither (said). */
static enum cmp_kind detect(const char *path, json_object *root)
{
	json_object *schema, *results, *first;

	if (!json_object_is_type(root, json_type_object)) {
		bad_input(path, "expected a JSON object at the top, not a %s",
			  json_type_to_name(json_object_get_type(root)));
		return KIND_NONE;
	}
	if (json_object_object_get_ex(root, "schema", &schema)) {
		if (json_object_is_type(schema, json_type_string) &&
		    !strcmp(json_object_get_string(schema), "mmshare-bench/1"))
			return KIND_BENCH;
		bad_input(path, "unknown schema %s (expected \"mmshare-bench/1\" or hyperfine's export)",
			  json_object_to_json_string(schema));
		return KIND_NONE;
	}
	if (json_object_object_get_ex(root, "results", &results) &&
	    json_object_is_type(results, json_type_array)) {
		first = json_object_array_length(results) ? json_object_array_get_idx(results, 0) : NULL;
		if (!first || (json_object_is_type(first, json_type_object) &&
			       json_object_object_get_ex(first, "command", NULL)))
			return KIND_HYPERFINE;
	}
	bad_input(path, "unknown schema: no \"schema\" key and not hyperfine's --export-json");
	return KIND_NONE;
}

/* A field of results[i]: present and of the right sort, or said. */
static json_object *field(const char *path, size_t i, json_object *r, const char *name, int optional)
{
	json_object *v = NULL;

	if (!json_object_object_get_ex(r, name, &v) && !optional)
		bad_input(path, "results[%zu]: no \"%s\"", i, name);
	return v;
}

static int get_text(const char *path, size_t i, json_object *r, const char *name, const char **out)
{
	json_object *v = field(path, i, r, name, 0);

	if (!v && json_object_object_get_ex(r, name, NULL))
		return bad_input(path, "results[%zu].%s: expected a string, got null", i, name);
	if (!v)
		return -1;
	if (!json_object_is_type(v, json_type_string))
		return bad_input(path, "results[%zu].%s: expected a string, got %s", i, name,
				 json_type_to_name(json_object_get_type(v)));
	*out = json_object_get_string(v);
	return 0;
}

/* A finite number >= 0; a missing optional one (or null) leaves *out alone and returns 1. */
static int get_number(const char *path, size_t i, json_object *r, const char *name, int optional,
		      double *out)
{
	json_object *v = field(path, i, r, name, optional);
	int present = json_object_object_get_ex(r, name, NULL);

	if (!v && (optional || present))
		return optional ? 1 : bad_input(path, "results[%zu].%s: expected a number, got null",
						i, name);
	if (!v)
		return -1;
	if (!is_number(v))
		return bad_input(path, "results[%zu].%s: expected a number, got %s", i, name,
				 json_type_to_name(json_object_get_type(v)));
	*out = json_object_get_double(v);
	if (!isfinite(*out) || *out < 0)
		return bad_input(path, "results[%zu].%s: %g is not a finite number >= 0", i, name, *out);
	return 0;
}

static int get_count(const char *path, size_t i, json_object *r, const char *name, int optional,
		     unsigned long long *out)
{
	double d = 0;
	int err = get_number(path, i, r, name, optional, &d);

	if (err < 0)
		return err;
	if (d != floor(d) || d > 1e18)
		return bad_input(path, "results[%zu].%s: expected a whole number, got %g", i, name, d);
	*out = err ? 0 : (unsigned long long)d;
	return 0;
}

static void size_text(unsigned long long size, char *out, size_t cap)
{
	if (size >= 1024 * 1024 && !(size % (1024 * 1024)))
		snprintf(out, cap, "%lluMiB", size >> 20);
	else if (size >= 1024 && !(size % 1024))
		snprintf(out, cap, "%lluKiB", size >> 10);
	else
		snprintf(out, cap, "%lluB", size);
}

/* One result of an mmshare-bench/1 file into its scenario. */
static int add_bench_result(struct cmp *c, int side, size_t i, json_object *r)
{
	const char *path = c->path[side], *backend, *mode;
	unsigned long long procs, write, size, rmw;
	double ops, insn = 0;
	char key[512], label[512], sz[32], rmw_text[32] = "";
	struct scenario *s;
	int no_insn;

	if (!json_object_is_type(r, json_type_object))
		return bad_input(path, "results[%zu]: expected an object, got %s", i,
				 json_type_to_name(json_object_get_type(r)));
	if (get_text(path, i, r, "backend", &backend) || get_text(path, i, r, "mode", &mode) ||
	    get_count(path, i, r, "procs", 0, &procs) || get_count(path, i, r, "write_ratio", 0, &write) ||
	    get_count(path, i, r, "size", 0, &size) || get_count(path, i, r, "rmw", 1, &rmw) ||
	    get_number(path, i, r, "ops_per_sec", 0, &ops) < 0)
		return -1;
	no_insn = get_number(path, i, r, "insn_per_op", 1, &insn);
	if (no_insn < 0)
		return -1;
	size_text(size, sz, sizeof(sz));
	if (rmw)
		snprintf(rmw_text, sizeof(rmw_text), " rmw=%llu%%", rmw);
	snprintf(key, sizeof(key), "%s\037%s\037%llu\037%llu\037%llu\037%llu", backend, mode, procs,
		 write, size, rmw);
	snprintf(label, sizeof(label), "%s %s p=%llu w=%llu%% %s%s", backend, mode, procs, write, sz,
		 rmw_text);
	s = scenario_get(c, key, label, backend);
	if (!s || samples_add(&s->s[side], ops) || (!no_insn && samples_add(&s->insn[side], insn)))
		return bad_input(path, "out of memory");
	return 0;
}

/* hyperfine names no backend: take its "backend" parameter, or the word after --backend. */
static void hyperfine_backend(json_object *r, const char *command, char *out, size_t cap)
{
	json_object *params, *b;
	const char *p = strstr(command, "--backend");
	size_t n;

	if (json_object_object_get_ex(r, "parameters", &params) &&
	    json_object_is_type(params, json_type_object) &&
	    json_object_object_get_ex(params, "backend", &b) && json_object_is_type(b, json_type_string)) {
		snprintf(out, cap, "%s", json_object_get_string(b));
		return;
	}
	if (p) {
		p += strlen("--backend");
		p += strspn(p, "= ");
		n = strcspn(p, " \t,");
		if (n) {
			snprintf(out, cap, "%.*s", (int)n, p);
			return;
		}
	}
	snprintf(out, cap, "%s", command);
}

/* One result of hyperfine's export: its run times, or its mean when the times are missing. */
static int add_hyperfine_result(struct cmp *c, int side, size_t i, json_object *r)
{
	const char *path = c->path[side], *command;
	json_object *times, *t;
	struct scenario *s;
	char backend[256];
	double mean = 0;
	size_t k, n = 0;

	if (!json_object_is_type(r, json_type_object))
		return bad_input(path, "results[%zu]: expected an object, got %s", i,
				 json_type_to_name(json_object_get_type(r)));
	if (get_text(path, i, r, "command", &command))
		return -1;
	hyperfine_backend(r, command, backend, sizeof(backend));
	if (!json_object_object_get_ex(r, "times", &times) || !times) {
		if (get_number(path, i, r, "mean", 0, &mean))
			return -1;
		s = scenario_get(c, command, command, backend);
		return !s || samples_add(&s->s[side], mean) ? bad_input(path, "out of memory") : 0;
	}
	if (!json_object_is_type(times, json_type_array) || !(n = json_object_array_length(times)))
		return bad_input(path, "results[%zu].times: expected a non-empty array of numbers", i);
	s = scenario_get(c, command, command, backend);
	if (!s)
		return bad_input(path, "out of memory");
	for (k = 0; k < n; k++) {
		t = json_object_array_get_idx(times, k);
		if (!is_number(t) || !isfinite(json_object_get_double(t)) || json_object_get_double(t) < 0)
			return bad_input(path, "results[%zu].times[%zu]: expected a number >= 0", i, k);
		if (samples_add(&s->s[side], json_object_get_double(t)))
			return bad_input(path, "out of memory");
	}
	return 0;
}

static int load_side(struct cmp *c, int side)
{
	const char *path = c->path[side];
	json_object *root = load_json(path), *results;
	enum cmp_kind kind;
	size_t k, n = 0;
	int err = 0;

	if (!root)
		return -1;
	kind = detect(path, root);
	if (kind == KIND_NONE)
		err = -1;
	else if (!json_object_object_get_ex(root, "results", &results) ||
		 !json_object_is_type(results, json_type_array))
		err = bad_input(path, "\"results\" is missing or not an array");
	else if (!(n = json_object_array_length(results)))
		err = bad_input(path, "no results");
	else if (side && kind != c->kind)
		err = bad_input(path, "mixed schemas: %s is %s but this file is %s", c->path[0],
				c->kind == KIND_BENCH ? "mmshare-bench/1" : "hyperfine's export",
				kind == KIND_BENCH ? "mmshare-bench/1" : "hyperfine's export");
	for (k = 0; !err && k < n; k++)
		err = kind == KIND_BENCH ?
			add_bench_result(c, side, k, json_object_array_get_idx(results, k)) :
			add_hyperfine_result(c, side, k, json_object_array_get_idx(results, k));
	c->kind = kind;
	json_object_put(root);
	return err;
}

/* ---- the statistic ---- */

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/*
 * Scenarios with a single run on each side carry no noise estimate of their own. Their spread is
 * taken from all of them together: 1.4826 x the median absolute log change is the standard
 * deviation of a log change if most scenarios did not change, and a change of the whole run
 * shifts it up, which is the safe side. Fewer than 8 such scenarios: no estimate (NAN).
 */
static void pool_single_runs(struct cmp *c)
{
	double *d = malloc((c->n + 1) * sizeof(*d));
	size_t k, n = 0;

	c->pooled_sd = NAN;
	if (!d)
		return;
	for (k = 0; k < c->n; k++) {
		const struct scenario *s = &c->sc[k];

		if (s->s[0].n == 1 && s->s[1].n == 1 && s->s[0].v[0] > 0 && s->s[1].v[0] > 0)
			d[n++] = fabs(log(s->s[1].v[0] / s->s[0].v[0]));
	}
	if (n >= 8) {
		qsort(d, n, sizeof(*d), cmp_double);
		c->pooled_sd = 1.4826 * (n % 2 ? d[n / 2] : (d[n / 2 - 1] + d[n / 2]) / 2);
	}
	free(d);
}

/*
 * The interval on log(mean_new / mean_base): variance of each log mean by the delta method,
 * rsd^2 / n, and Welch-Satterthwaite degrees of freedom. A side with one run borrows the other
 * side's spread; two single runs use the pooled spread, never less than a third of the
 * threshold (the fallback documented in the usage).
 */
static void log_interval(const struct cmp *c, struct change *ch, double *half)
{
	double v0, v1, df, sd;

	if (ch->n[0] >= 2 && ch->n[1] >= 2) {
		v0 = ch->rsd[0] * ch->rsd[0] / ch->n[0];
		v1 = ch->rsd[1] * ch->rsd[1] / ch->n[1];
		df = v0 + v1 > 0 ? (v0 + v1) * (v0 + v1) /
			(v0 * v0 / (ch->n[0] - 1) + v1 * v1 / (ch->n[1] - 1)) : 1e9;
	} else if (ch->n[0] >= 2 || ch->n[1] >= 2) {
		int many = ch->n[1] >= 2;

		sd = ch->rsd[many];
		v0 = sd * sd / ch->n[many];
		v1 = sd * sd;
		df = (double)ch->n[many] - 1;
		ch->how = "one run: the other side's spread";
	} else {
		sd = isnan(c->pooled_sd) ? 0 : c->pooled_sd;
		sd = fmax(sd, c->threshold / 3) / sqrt(2);
		v0 = v1 = sd * sd;
		df = 1e9;
		ch->how = "one run a side: pooled spread";
	}
	*half = t_critical(1 - CMP_CONFIDENCE, df < 1 ? 1 : df) * sqrt(v0 + v1);
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

static void compare_metric(const struct cmp *c, const struct scenario *s, struct change *ch)
{
	int side, higher_better = c->kind == KIND_BENCH;
	double half, l;

	memset(ch, 0, sizeof(*ch));
	for (side = 0; side < 2; side++) {
		ch->n[side] = s->s[side].n;
		ch->mean[side] = samples_mean(&s->s[side]);
		ch->rsd[side] = samples_rsd(&s->s[side]);
	}
	if (!ch->n[0] || !ch->n[1]) {
		ch->v = ch->n[0] ? V_MISSING_NEW : V_MISSING_BASE;
		return;
	}
	if (ch->mean[0] <= 0 || ch->mean[1] <= 0) {     /* a zero is not noise: judge the point */
		ch->c = ch->mean[0] > 0 ? -1 : ch->mean[1] > 0 ? INFINITY : 0;
		ch->lo = ch->hi = ch->c;
		ch->v = judge(ch->c, ch->c, ch->c, c->threshold, higher_better);
		return;
	}
	l = log(ch->mean[1] / ch->mean[0]);
	log_interval(c, ch, &half);
	ch->c = expm1(l);
	ch->lo = expm1(l - half);
	ch->hi = expm1(l + half);
	ch->interval = 1;
	ch->v = judge(ch->c, ch->lo, ch->hi, c->threshold, higher_better);
}

/* insn_per_op is a count, not a measurement: no noise, the point decides. Lower is better. */
static int compare_insn(const struct cmp *c, const struct scenario *s, struct change *ch)
{
	int side;

	memset(ch, 0, sizeof(*ch));
	if (!s->insn[0].n || !s->insn[1].n)
		return 0;
	for (side = 0; side < 2; side++) {
		ch->n[side] = s->insn[side].n;
		ch->mean[side] = samples_mean(&s->insn[side]);
		ch->rsd[side] = samples_rsd(&s->insn[side]);
	}
	ch->c = ch->mean[0] > 0 ? ch->mean[1] / ch->mean[0] - 1 : ch->mean[1] > 0 ? INFINITY : 0;
	ch->lo = ch->hi = ch->c;
	ch->v = judge(ch->c, ch->c, ch->c, c->insn_threshold, 0);
	return 1;
}

/* ---- output ---- */

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
	if (isinf(x))
		snprintf(out, cap, "%sinf", x > 0 ? "+" : "-");
	else
		snprintf(out, cap, "%+.1f%%", 100 * x);
}

static void fill_row(struct row *r, const struct scenario *s, const struct change *ch,
		     const char *metric, int kind)
{
	char lo[16], hi[16];

	memset(r, 0, sizeof(*r));
	r->s = s;
	r->label = s->label;
	r->metric = metric;
	r->verdict = verdict_name[ch->v];
	snprintf(r->base, sizeof(r->base), "-");
	snprintf(r->new, sizeof(r->new), "-");
	snprintf(r->chg, sizeof(r->chg), "-");
	snprintf(r->ci, sizeof(r->ci), "-");
	if (ch->n[0])
		side_text(ch, 0, kind, r->base, sizeof(r->base));
	if (ch->n[1])
		side_text(ch, 1, kind, r->new, sizeof(r->new));
	if (!ch->n[0] || !ch->n[1])
		return;
	pct(ch->c, r->chg, sizeof(r->chg));
	if (!ch->interval) {
		snprintf(r->ci, sizeof(r->ci), kind == KIND_NONE ? "exact count" : "n/a (zero mean)");
		return;
	}
	pct(ch->lo, lo, sizeof(lo));
	pct(ch->hi, hi, sizeof(hi));
	snprintf(r->ci, sizeof(r->ci), "[%s, %s]%s", lo, hi, ch->how ? " *" : "");
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

static void text_row(FILE *out, const struct row *r, const size_t *w)
{
	pad(out, r->label, w[0], "  ");
	pad(out, r->metric, w[1], "  ");
	pad(out, r->base, w[2], "  ");
	pad(out, r->new, w[3], "  ");
	pad(out, r->chg, w[4], "  ");
	pad(out, r->ci, w[5], "  ");
	fprintf(out, "%s\n", r->verdict);
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
	md_cell(out, r->label);
	md_cell(out, r->metric);
	md_cell(out, r->base);
	md_cell(out, r->new);
	md_cell(out, r->chg);
	md_cell(out, r->ci);
	fprintf(out, "| %s%s%s |\n", r->verdict[0] == 'R' ? "**" : "", r->verdict,
		r->verdict[0] == 'R' ? "**" : "");
}

static const struct row header = {
	.label = "scenario", .metric = "metric", .base = "base (mean ± rsd)", .new = "new (mean ± rsd)",
	.chg = "change", .ci = "99% interval", .verdict = "verdict",
};

/* Every row in order: the metric of each scenario, then its insn_per_op where both have it. */
static struct row *build_rows(struct cmp *c, size_t *nrows)
{
	struct row *rows = calloc(2 * c->n + 1, sizeof(*rows));
	const char *metric = c->kind == KIND_BENCH ? "ops/s" : "time";
	struct change ch;
	size_t k;

	*nrows = 0;
	if (!rows)
		return NULL;
	for (k = 0; k < c->n; k++) {
		compare_metric(c, &c->sc[k], &ch);
		c->counts[ch.v]++;
		fill_row(&rows[(*nrows)++], &c->sc[k], &ch, metric, c->kind);
		if (compare_insn(c, &c->sc[k], &ch)) {
			c->insn_regressions += ch.v == V_REGRESSION;
			fill_row(&rows[(*nrows)++], &c->sc[k], &ch, "insn/op", KIND_NONE);
		}
	}
	return rows;
}

static size_t wider(size_t w, const char *s)
{
	return width(s) > w ? width(s) : w;
}

/* In quiet mode only the REGRESSION rows, and the header only above some. */
static void print_table(FILE *out, const struct row *rows, size_t n, int quiet)
{
	size_t w[6] = { 0 }, k, shown = 0;

	for (k = 0; k <= n; k++) {
		const struct row *r = k < n ? &rows[k] : &header;

		w[0] = wider(w[0], r->label);
		w[1] = wider(w[1], r->metric);
		w[2] = wider(w[2], r->base);
		w[3] = wider(w[3], r->new);
		w[4] = wider(w[4], r->chg);
		w[5] = wider(w[5], r->ci);
	}
	for (k = 0; k < n; k++) {
		if (quiet && rows[k].verdict != verdict_name[V_REGRESSION])
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

	*out = 0;
	for (k = 0; k < n && used < cap; k++) {
		if (rows[k].verdict != verdict_name[V_REGRESSION] || listed(out, rows[k].s->backend))
			continue;
		used += (size_t)snprintf(out + used, cap - used, "%s%s", used ? ", " : "",
					 rows[k].s->backend);
	}
}

static size_t regressions(const struct cmp *c)
{
	return c->counts[V_REGRESSION] + c->insn_regressions;
}

static void verdict_line(FILE *out, const struct cmp *c, const char *backends, int md)
{
	const char *b = md ? "**" : "";

	if (regressions(c))
		fprintf(out, "%sREGRESSION%s in %s: %zu slower than %g%% beyond noise, %zu insn/op up more "
			"than %g%%", b, b, backends, c->counts[V_REGRESSION], 100 * c->threshold,
			c->insn_regressions, 100 * c->insn_threshold);
	else
		fprintf(out, "%sno regression%s (threshold %g%%, insn %g%%)", b, b, 100 * c->threshold,
			100 * c->insn_threshold);
	fprintf(out, "; %zu scenarios: %zu ok, %zu faster, %zu slower-within-noise, %zu missing-in-base,"
		" %zu missing-in-new\n", c->n, c->counts[V_OK], c->counts[V_FASTER], c->counts[V_NOISE],
		c->counts[V_MISSING_BASE], c->counts[V_MISSING_NEW]);
}

static const char footnote[] =
	"change = new/base - 1; 99%% interval: Welch's t on the log ratio of the means%s; REGRESSION only "
	"when the whole interval is slower than the threshold.\n";

static int write_markdown(const struct cmp *c, const struct row *rows, size_t n, const char *backends)
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
	fprintf(out, footnote, " (\\* one run on a side: borrowed or pooled spread)");
	if (fclose(out)) {
		fprintf(stderr, "mmshare compare: %s: cannot write: %s\n", c->markdown, strerror(errno));
		return -1;
	}
	return 0;
}

static int report(struct cmp *c)
{
	struct row *rows;
	size_t n;
	char backends[1024];
	int err = 0;

	pool_single_runs(c);
	rows = build_rows(c, &n);
	if (!rows) {
		fprintf(stderr, "mmshare compare: out of memory\n");
		return MMS_EXIT_USAGE;
	}
	regressed_backends(rows, n, backends, sizeof(backends));
	print_table(stdout, rows, n, c->quiet);
	if (!c->quiet)
		printf(footnote, " (* one run on a side: borrowed or pooled spread)");
	verdict_line(stdout, c, backends, 0);
	fflush(stdout);
	if (c->markdown)
		err = write_markdown(c, rows, n, backends);
	free(rows);
	if (err)
		return MMS_EXIT_USAGE;
	return regressions(c) ? MMS_EXIT_FAIL : MMS_EXIT_OK;
}

/* ---- options ---- */

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
	r = load_side(&c, 0) || load_side(&c, 1) ? MMS_EXIT_USAGE : report(&c);
	cmp_free(&c);
	return r;
}

const struct mms_command mms_cmd_compare = {
	.name = "compare",
	.summary = "compare two bench (or hyperfine) JSON files; exit 1 on a significant slowdown",
	.run = compare_main,
};
