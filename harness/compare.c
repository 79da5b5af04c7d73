/* compare.c -- `mmshare compare`: two benchmark files, a row per scenario, a regression gate. */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <json-c/json.h>

#include "commands.h"
#include "stats.h"

#define CMP_CONFIDENCE   0.99   /* of the interval on a change */
#define CMP_MAX_INPUT    (256u << 20)
#define CMP_MIN_POOL     8      /* scenarios needed to estimate the noise between runs */
#define CMP_MIN_GROUP    3      /* scenarios of a backend for a row of its own */
#define CMP_TAIL_DF      4      /* one scenario's change between runs: heavy tails, t with 4 df */

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
	"How it decides. change = new/base - 1 of the means. Its interval is Welch's t on the log\n"
	"of the ratio of the means (delta method), widened by the noise between the two runs, which\n"
	"back-to-back repeats do not see: the spread of all scenarios' log changes about their\n"
	"backend's median (1.4826 x MAD; the larger of that over all scenarios and over those with\n"
	"the same procs), never less than one run's own spread, and heavy-tailed (t, 4 df): one\n"
	"scenario can jump 3x between runs while its repeats agree. Each backend with 3+ scenarios,\n"
	"and all backends together, also get a row: the median change, which catches a slowdown of\n"
	"a whole backend that no single noisy scenario shows. Intervals are simultaneous at 99%\n"
	"(Bonferroni: 0.5% over the scenarios, 0.5% over the groups), since any one fails the gate;\n"
	"a row is a REGRESSION only when its whole interval is slower than the threshold.\n"
	"One run a side: the interval takes the pooled spread of 8+ scenarios, or, with fewer,\n"
	"a spread of half the threshold (a REGRESSION then needs over twice the threshold).\n"
	"insn_per_op is a count: it fails when it grows by more than --insn-threshold, no noise.\n"
	"A change of the whole machine between the runs looks like a change of every backend: run\n"
	"base and new back to back on a quiet machine, with --repeat 3 or more.\n"
	"Exit status: 0 no regression, 1 a regression, 2 bad usage or unusable input.\n";

enum cmp_kind { KIND_NONE, KIND_BENCH, KIND_HYPERFINE };

enum verdict { V_OK, V_FASTER, V_NOISE, V_REGRESSION, V_MISSING_BASE, V_MISSING_NEW };

static const char *const verdict_name[] = {
	"ok", "faster", "slower-within-noise", "REGRESSION", "missing-in-base", "missing-in-new",
};

/* A scenario and its samples: [0] from the base file, [1] from the new one. */
struct scenario {
	char *key;              /* identity, to match the two files */
	char *label;            /* for the table */
	char *backend;          /* for the final line */
	unsigned long long stratum;     /* scenarios alike in noise: the bench's procs */
	struct samples s[2];    /* the metric */
	struct samples insn[2]; /* instructions per operation, where reported */
};

/* The comparison of one metric of one scenario, or of a group of scenarios. */
struct change {
	double mean[2], rsd[2]; /* mean, relative sample standard deviation */
	size_t n[2];            /* runs a side; scenarios, for a group */
	double c, lo, hi;       /* new/base - 1 and its interval */
	double l, var, df;      /* log change, its variance and degrees of freedom, when scored */
	double wvar, wdf;       /* the part of var its own repeats see, and its degrees of freedom */
	double bvar, bdf;       /* the part they do not see, estimated over the scenarios */
	int scored;             /* has a log change with an interval */
	const char *how;        /* how the interval was had, when not from both sides' repeats */
	enum verdict v;
};

/* The noise of a log change between two runs, estimated over scenarios. */
struct noise {
	int have;               /* enough scenarios to say */
	double total;           /* variance of a log change */
	double between;         /* the part that the repeats of a run do not see */
	double df;
};

struct cmp {
	enum cmp_kind kind;
	double threshold, insn_threshold;       /* fractions */
	const char *markdown;
	int quiet;
	const char *path[2];
	struct scenario *sc;
	size_t n, cap;
	const char **backends;                  /* each once, in order of appearance */
	size_t nbackends, ngroups;              /* groups: backends with CMP_MIN_GROUP scored, and all */
	size_t nscored;                         /* scenarios with a log change */
	double alpha, group_alpha;              /* per interval: half of 1% over the scenarios, half
						   over the groups (Bonferroni) */
	struct noise all, *noise;               /* between runs: over all scenarios, for each */
	size_t counts[6];                       /* scenarios by the verdict of their main metric */
	size_t insn_regressions, group_regressions;
};

/* A line of the table: a scenario's metric or insn_per_op, or a group of scenarios. */
struct row {
	const char *label, *metric;
	const char *backend;    /* for the final line; NULL: all backends */
	char own[64];           /* the label of a group */
	char base[80], new[80], chg[24], ci[48];
	enum verdict v;
};

/* ---- scenarios ---- */

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
			samples_free(&c->sc[k].s[side]);
			samples_free(&c->sc[k].insn[side]);
		}
		free(c->sc[k].key), free(c->sc[k].label), free(c->sc[k].backend);
	}
	free(c->sc);
	free(c->backends);
	free(c->noise);
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
	k = len >= 3 && !memcmp(text, "\xef\xbb\xbf", 3) ? 3 : 0;   /* a UTF-8 byte order mark */
	for (; k < len && text[k] && strchr(" \t\r\n", text[k]); k++)
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
	k = len >= 3 && !memcmp(text, "\xef\xbb\xbf", 3) ? 3 : 0;
	root = json_tokener_parse_ex(tok, text + k, (int)(len - k));
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
static json_object *field(const char *path, size_t i, json_object *r, const char *name,
			  int optional)
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
	unsigned long long procs = 0, write = 0, size = 0, rmw = 0;
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
	if (s)
		s->stratum = procs;
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

/*
 * A hyperfine scenario is its parameters when it has some (so that builds at two paths still
 * match), else its command: "name=value ..." in hyperfine's order, or the command.
 */
static void hyperfine_key(json_object *r, const char *command, char *out, size_t cap)
{
	json_object *params;
	size_t used = 0;

	*out = 0;
	if (json_object_object_get_ex(r, "parameters", &params) &&
	    json_object_is_type(params, json_type_object)) {
		json_object_object_foreach(params, name, value)
			if (used < cap)
				used += (size_t)snprintf(out + used, cap - used, "%s%s=%s", used ? " " : "",
							 name, json_object_get_string(value));
	}
	if (!used)
		snprintf(out, cap, "%s", command);
}

static int add_times(struct cmp *c, int side, size_t i, struct scenario *s, json_object *times)
{
	const char *path = c->path[side];
	json_object *t;
	size_t k, n;

	if (!json_object_is_type(times, json_type_array) || !(n = json_object_array_length(times)))
		return bad_input(path, "results[%zu].times: expected a non-empty array of numbers", i);
	for (k = 0; k < n; k++) {
		t = json_object_array_get_idx(times, k);
		if (!is_number(t) || !isfinite(json_object_get_double(t)) || json_object_get_double(t) < 0)
			return bad_input(path, "results[%zu].times[%zu]: expected a number >= 0", i, k);
		if (samples_add(&s->s[side], json_object_get_double(t)))
			return bad_input(path, "out of memory");
	}
	return 0;
}

/* One result of hyperfine's export: its run times, or its mean when the times are missing. */
static int add_hyperfine_result(struct cmp *c, int side, size_t i, json_object *r)
{
	const char *path = c->path[side], *command;
	json_object *times = NULL;
	struct scenario *s;
	char backend[256], key[1024];
	double mean = 0;

	if (!json_object_is_type(r, json_type_object))
		return bad_input(path, "results[%zu]: expected an object, got %s", i,
				 json_type_to_name(json_object_get_type(r)));
	if (get_text(path, i, r, "command", &command))
		return -1;
	json_object_object_get_ex(r, "times", &times);
	if (!times && get_number(path, i, r, "mean", 0, &mean))
		return -1;
	hyperfine_backend(r, command, backend, sizeof(backend));
	hyperfine_key(r, command, key, sizeof(key));
	s = scenario_get(c, key, command, backend);
	if (!s)
		return bad_input(path, "out of memory");
	if (times)
		return add_times(c, side, i, s, times);
	return samples_add(&s->s[side], mean) ? bad_input(path, "out of memory") : 0;
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
static int count_intervals(struct cmp *c)
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
static void estimate_between(struct cmp *c)
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

static void compare_metric(const struct cmp *c, size_t k, struct change *ch)
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
static int compare_group(const struct cmp *c, const struct change *chs, const char *backend,
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
static int compare_insn(const struct cmp *c, const struct scenario *s, struct change *ch)
{
	describe(s->insn, ch);
	if (!ch->n[0] || !ch->n[1])
		return 0;
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
	if (!rows || !chs || count_intervals(c)) {
		free(rows), free(chs);
		return NULL;
	}
	estimate_between(c);
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

static int report(struct cmp *c)
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
