/* bench_output.c -- `mmshare bench` reports: machine facts, the table, JSON and CSV. */
#include <errno.h>
#include <json-c/json.h>
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"
#include "cli.h"
#include "stamp.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#if defined(__GNUC__) && !defined(__clang__)
#define BENCH_COMPILER "gcc " __VERSION__
#else
#define BENCH_COMPILER __VERSION__
#endif

/* ---- machine facts ---- */

static void read_cpu_model(char *buf, size_t len)
{
	FILE *f = fopen("/proc/cpuinfo", "r");
	char line[512], *p;

	snprintf(buf, len, "unknown");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		p = strchr(line, ':');
		if (strncmp(line, "model name", 10) || !p)
			continue;
		p += 1 + strspn(p + 1, " \t");
		p[strcspn(p, "\r\n")] = '\0';
		if (*p)
			snprintf(buf, len, "%s", p);
		break;
	}
	fclose(f);
}

void bench_machine_read(struct bench_machine *m)
{
	struct utsname u;
	struct tm tm;
	time_t now = time(NULL);

	memset(m, 0, sizeof(*m));
	m->cpus = sysconf(_SC_NPROCESSORS_ONLN);
	if (uname(&u))
		snprintf(m->kernel, sizeof(m->kernel), "unknown");
	else
		snprintf(m->kernel, sizeof(m->kernel), "%.60s %.60s", u.sysname, u.release);
	snprintf(m->compiler, sizeof(m->compiler), "%s", BENCH_COMPILER);
	read_cpu_model(m->cpu_model, sizeof(m->cpu_model));
	if (gmtime_r(&now, &tm))
		strftime(m->date, sizeof(m->date), "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* ---- the table: one row per point, aggregated over its repeats ---- */

enum {
	C_BACKEND, C_MODE, C_PROCS, C_WRITE, C_RMW, C_SIZE, C_OPS, C_SD, C_ALONE, C_GET50, C_GET99, C_SET99,
	C_JAIN, C_OVERLAP, C_CONTENDED, C_TORN, C_VIOL, C_LOST, C_ERRORS, C_KILLS, C_RECOV, C_N
};

struct table_col {
	const char *name;
	int width;		/* display columns; negative: left-aligned */
};

static const struct table_col table_cols[C_N] = {
	[C_BACKEND] = { "backend", -14 },   [C_MODE] = { "mode", -4 },
	[C_PROCS] = { "procs", 5 },         [C_WRITE] = { "write%", 6 },
	[C_RMW] = { "rmw%", 4 },            [C_SIZE] = { "size B", 7 },
	[C_OPS] = { "ops/s", 6 },           [C_SD] = { "\u00b195%", -6 },
	[C_ALONE] = { "vs alone", 8 },
	[C_GET50] = { "get p50 ns", 10 },   [C_GET99] = { "get p99 ns", 10 },
	[C_SET99] = { "set p99 ns", 10 },   [C_JAIN] = { "jain", 5 },
	[C_OVERLAP] = { "overlap%", 8 },    [C_CONTENDED] = { "contended", -9 },
	[C_TORN] = { "torn", 5 },           [C_VIOL] = { "viol", 5 },
	[C_LOST] = { "lost", 5 },           [C_ERRORS] = { "errors", 6 },
	[C_KILLS] = { "kills", 5 },         [C_RECOV] = { "recov ms", 8 },
};

typedef char table_cell[40];

/* Columns a UTF-8 string takes: its bytes that do not continue a character. */
static int display_width(const char *s)
{
	int w = 0;

	for (; *s; s++)
		w += ((unsigned char)*s & 0xc0) != 0x80;
	return w;
}

static void put_cells(FILE *out, const char *const *cells)
{
	int c, pad, width;

	for (c = 0; c < C_N; c++) {
		width = table_cols[c].width;
		pad = abs(width) - display_width(cells[c]);
		if (c)
			fputc(' ', out);
		if (width > 0)
			fprintf(out, "%*s", pad > 0 ? pad : 0, "");
		fputs(cells[c], out);
		if (width < 0 && c < C_N - 1)
			fprintf(out, "%*s", pad > 0 ? pad : 0, "");
	}
	fputc('\n', out);
}

void bench_table_header(FILE *out)
{
	const char *names[C_N];
	int c;

	for (c = 0; c < C_N; c++)
		names[c] = table_cols[c].name;
	put_cells(out, names);
}

/* v with a k/M/G/... suffix and three significant digits ("12.3M"); "-" when not finite. */
static void fmt_si(char *buf, size_t len, double v)
{
	static const char suffix[] = " kMGTPE";
	unsigned k = 0;

	if (!isfinite(v)) {
		snprintf(buf, len, "-");
		return;
	}
	while (fabs(v) >= 999.5 && k < sizeof(suffix) - 2) {
		v /= 1000;
		k++;
	}
	if (!k)
		snprintf(buf, len, "%.0f", v);
	else
		snprintf(buf, len, "%.*f%c", fabs(v) < 9.995 ? 2 : fabs(v) < 99.95 ? 1 : 0, v,
			 suffix[k]);
}

static void fmt_num(char *buf, size_t len, const char *fmt, double v)
{
	if (isfinite(v))
		snprintf(buf, len, fmt, v);
	else
		snprintf(buf, len, "-");
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* A latency percentile (off into struct latency_summary) of one run; NAN with no samples. */
static double lat_field(const struct bench_result *r, int set, size_t off)
{
	const struct latency_summary *l = set ? &r->set_lat : &r->get_lat;

	return l->count ? *(const double *)((const char *)l + off) : NAN;
}

/* The median of a latency percentile over the repeats that have samples; NAN if none has. */
static double lat_median(const struct bench_result *rs, size_t n, int set, size_t off)
{
	double *v = malloc(n * sizeof(*v)), x, med = NAN;
	size_t k, m = 0;

	if (!v)
		return NAN;
	for (k = 0; k < n; k++) {
		x = lat_field(&rs[k], set, off);
		if (!isnan(x))
			v[m++] = x;
	}
	if (m) {
		qsort(v, m, sizeof(*v), cmp_double);
		med = (v[(m - 1) / 2] + v[m / 2]) / 2;
	}
	free(v);
	return med;
}

/* Mean of ops/s over the repeats, and its sample standard deviation relative to the mean. */
/*
 * The mean throughput of the repeats and the half width of their 95% intervals taken together
 * (lowest low to highest high), relative to the mean; NAN for checked runs.
 */
static void ops_stats(const struct bench_result *rs, size_t n, double *mean, double *half)
{
	double sum = 0, lo = INFINITY, hi = -INFINITY;
	size_t k;

	for (k = 0; k < n; k++) {
		sum += rs[k].ops_per_sec;
		lo = fmin(lo, rs[k].ci95_low);
		hi = fmax(hi, rs[k].ci95_high);
	}
	*mean = sum / (double)n;
	*half = *mean > 0 && isfinite(lo) && isfinite(hi) ? (hi - lo) / 2 / *mean : NAN;
}

/* The median of the repeats' harness-over-standalone ratios: 1.00x is a harness that costs nothing. */
static double standalone_ratio(const struct bench_result *rs, size_t n)
{
	double v[n];
	size_t k, m = 0;

	for (k = 0; k < n; k++)
		if (isfinite(rs[k].vs_standalone))
			v[m++] = rs[k].vs_standalone;
	qsort(v, m, sizeof(double), cmp_double);
	return m ? (m % 2 ? v[m / 2] : (v[m / 2 - 1] + v[m / 2]) / 2) : NAN;
}

static void point_cells(table_cell *cell, const struct bench_result *r)
{
	const struct bench_point *pt = &r->pt;

	snprintf(cell[C_BACKEND], sizeof(*cell), "%.30s%s", pt->backend ? pt->backend : "?",
		 r->unsafe ? "!" : "");
	snprintf(cell[C_MODE], sizeof(*cell), "%s", pt->mode == BENCH_TPL ? "tpl" : "raw");
	snprintf(cell[C_PROCS], sizeof(*cell), "%u", pt->procs);
	snprintf(cell[C_WRITE], sizeof(*cell), "%u", pt->write_ratio);
	snprintf(cell[C_RMW], sizeof(*cell), "%u", pt->rmw);
	snprintf(cell[C_SIZE], sizeof(*cell), "%zu", pt->size);
}

static void perf_cells(table_cell *cell, const struct bench_result *rs, size_t n)
{
	double mean, half, jain = INFINITY, overlap = INFINITY;
	int contended = 1;
	size_t k;

	ops_stats(rs, n, &mean, &half);
	for (k = 0; k < n; k++) {
		jain = fmin(jain, rs[k].fairness_jain);
		overlap = fmin(overlap, rs[k].overlap);
		contended &= !!rs[k].contended;
	}
	fmt_si(cell[C_OPS], sizeof(*cell), mean);
	fmt_num(cell[C_SD], sizeof(*cell), half < 0.1 ? "%.1f%%" : "%.0f%%", half * 100);
	fmt_num(cell[C_ALONE], sizeof(*cell), "%.2fx", standalone_ratio(rs, n));
	fmt_num(cell[C_GET50], sizeof(*cell), "%.0f",
		lat_median(rs, n, 0, offsetof(struct latency_summary, p50)));
	fmt_num(cell[C_GET99], sizeof(*cell), "%.0f",
		lat_median(rs, n, 0, offsetof(struct latency_summary, p99)));
	fmt_num(cell[C_SET99], sizeof(*cell), "%.0f",
		lat_median(rs, n, 1, offsetof(struct latency_summary, p99)));
	fmt_num(cell[C_JAIN], sizeof(*cell), "%.3f", jain);
	fmt_num(cell[C_OVERLAP], sizeof(*cell), "%.0f", overlap * 100);
	snprintf(cell[C_CONTENDED], sizeof(*cell), "%s", contended ? "yes" : "no");
}

/* A count summed over the repeats, or "-" when it does not apply. */
static void count_cell(char *cell, int applies, uint64_t sum)
{
	if (applies)
		snprintf(cell, sizeof(table_cell), "%llu", (unsigned long long)sum);
	else
		snprintf(cell, sizeof(table_cell), "-");
}

static void check_cells(table_cell *cell, const struct bench_result *rs, size_t n)
{
	uint64_t torn = 0, viol = 0, lost = 0, errors = 0, kills = 0;
	double recov = 0;
	int checked = 0;
	size_t k;

	for (k = 0; k < n; k++) {
		checked |= rs[k].checked;
		torn += rs[k].torn;
		viol += rs[k].violations;
		lost += rs[k].lost_updates;
		errors += rs[k].errors_total;
		kills += rs[k].kills;
		recov = fmax(recov, rs[k].recovery_ms_max);
	}
	count_cell(cell[C_TORN], checked, torn);
	count_cell(cell[C_VIOL], checked, viol);
	count_cell(cell[C_LOST], checked, lost);
	count_cell(cell[C_ERRORS], 1, errors);
	count_cell(cell[C_KILLS], kills > 0, kills);
	if (kills)
		fmt_num(cell[C_RECOV], sizeof(*cell), "%.1f", recov);
	else
		snprintf(cell[C_RECOV], sizeof(*cell), "-");
}

void bench_table_row(FILE *out, const struct bench_result *rs, size_t n)
{
	table_cell cell[C_N];
	const char *cells[C_N];
	int c;

	if (!n)
		return;
	point_cells(cell, &rs[0]);
	perf_cells(cell, rs, n);
	check_cells(cell, rs, n);
	for (c = 0; c < C_N; c++)
		cells[c] = cell[c];
	put_cells(out, cells);
}

/* ---- the fields of one result, shared by JSON and CSV ---- */

enum field_type {
	F_STR,		/* const char * */
	F_MODE,		/* enum bench_mode */
	F_UINT,		/* unsigned */
	F_INT,		/* int */
	F_SIZE,		/* size_t */
	F_U64,		/* uint64_t */
	F_DBL,		/* double; null when not finite */
	F_BOOL,		/* int */
	F_CAPS,		/* caps: `mmshare list`'s words; JSON null for a bare loop */
	F_WORKER_OPS,	/* per_worker_ops[nworkers] */
	F_WORKER_RATE,	/* per_worker_rate[nworkers] */
	F_LATENCY,	/* get_lat and set_lat */
	F_ERRORS,	/* errors[] by name (JSON only) */
	F_VIOLATION,	/* first_violation (JSON only) */
	F_NULL,		/* filled in by another tool */
};

struct field {
	const char *name;
	enum field_type type;
	size_t off;
};

#define FIELD(name, type, member) { name, type, offsetof(struct bench_result, member) }
#define SPECIAL(name, type) { name, type, 0 }

static const struct field fields[] = {
	FIELD("backend", F_STR, pt.backend),
	FIELD("mode", F_MODE, pt.mode),
	FIELD("procs", F_UINT, pt.procs),
	FIELD("write_ratio", F_UINT, pt.write_ratio),
	FIELD("rmw", F_UINT, pt.rmw),
	FIELD("size", F_SIZE, pt.size),
	FIELD("repeat", F_UINT, pt.repeat),
	FIELD("baseline", F_BOOL, baseline),
	FIELD("unsafe", F_BOOL, unsafe),
	FIELD("caps", F_CAPS, caps),
	FIELD("hung", F_BOOL, hung),
	FIELD("duration_s", F_DBL, duration_s),
	FIELD("ops", F_U64, ops),
	FIELD("gets", F_U64, gets),
	FIELD("sets", F_U64, sets),
	FIELD("rmws", F_U64, rmws),
	FIELD("ops_per_sec", F_DBL, ops_per_sec),
	FIELD("per_worker_ops", F_WORKER_OPS, per_worker_ops),
	FIELD("per_worker_rate", F_WORKER_RATE, per_worker_rate),
	FIELD("fairness_jain", F_DBL, fairness_jain),
	FIELD("fairness_minmax", F_DBL, fairness_minmax),
	SPECIAL("latency_ns", F_LATENCY),
	FIELD("overlap", F_DBL, overlap),
	FIELD("contended", F_BOOL, contended),
	FIELD("lock_contended", F_U64, lock_contended),
	FIELD("retries", F_U64, retries),
	FIELD("repairs", F_U64, repairs),
	SPECIAL("errors", F_ERRORS),
	FIELD("errors_total", F_U64, errors_total),
	FIELD("checked", F_BOOL, checked),
	FIELD("torn", F_U64, torn),
	FIELD("violations", F_U64, violations),
	FIELD("lost_updates", F_U64, lost_updates),
	FIELD("history_ops", F_U64, history_ops),
	FIELD("truncated", F_U64, truncated),
	SPECIAL("first_violation", F_VIOLATION),
	FIELD("kills", F_UINT, kills),
	FIELD("kills_in_lock", F_UINT, kills_in_lock),
	FIELD("kills_in_set", F_UINT, kills_in_set),
	FIELD("stalls", F_UINT, stalls),
	FIELD("stalls_in_lock", F_UINT, stalls_in_lock),
	FIELD("fault_status", F_INT, fault_status),
	FIELD("fault_ms", F_DBL, fault_ms),
	FIELD("ops_after_fault", F_U64, ops_after_fault),
	FIELD("gap_ms_max", F_DBL, gap_ms_max),
	FIELD("recovery_ms_max", F_DBL, recovery_ms_max),
	FIELD("recovery_ms_mean", F_DBL, recovery_ms_mean),
	FIELD("timestamp_overhead_ns", F_DBL, timestamp_overhead_ns),
	FIELD("timing", F_BOOL, timing),
	FIELD("timing_note", F_STR, timing_note),
	FIELD("ci95_low", F_DBL, ci95_low),
	FIELD("ci95_high", F_DBL, ci95_high),
	FIELD("intervals", F_UINT, intervals),
	FIELD("steady", F_BOOL, steady),
	FIELD("harness_ns_per_op", F_DBL, harness_ns_per_op),
	FIELD("standalone_ops_per_sec", F_DBL, standalone_ops_per_sec),
	FIELD("vs_standalone", F_DBL, vs_standalone),
	SPECIAL("insn_per_op", F_NULL),
};

struct lat_part {
	const char *name;
	size_t off;
};

static const struct lat_part lat_parts[] = {
	{ "p50", offsetof(struct latency_summary, p50) },
	{ "p90", offsetof(struct latency_summary, p90) },
	{ "p99", offsetof(struct latency_summary, p99) },
	{ "p999", offsetof(struct latency_summary, p999) },
	{ "max", offsetof(struct latency_summary, max) },
};

#define FIELD_AT(r, f, type) (*(const type *)((const char *)(r) + (f)->off))

static unsigned nworkers(const struct bench_result *r)
{
	return r->nworkers < BENCH_MAX_LIST * 8 ? r->nworkers : BENCH_MAX_LIST * 8;
}

static const char *mode_name(enum bench_mode m)
{
	return m == BENCH_TPL ? "tpl" : "raw";
}

/* The short name of error counter idx (code -idx); counter 0 holds codes out of range. */
static const char *error_name(unsigned idx, char *buf, size_t len)
{
	static const char *const names[] = {
		"EOTHER", "EINVAL", "ENOBACKEND", "ETOOBIG", "ESHORT", "EEMPTY", "ECORRUPT",
		"ELOCKED", "ESYS", "EFORMAT", "ETIMEDOUT", "ETHREAD", "EDEAD", "EFENCED",
	};

	if (idx < ARRAY_SIZE(names))
		return names[idx];
	snprintf(buf, len, "E-%u", idx);
	return buf;
}

/* ---- output files ---- */

static FILE *out_open(const char *path)
{
	return strcmp(path, "-") ? fopen(path, "w") : stdout;
}

/* Close (stdout: flush) f; -1 with errno set if any write to it failed. */
static int out_close(FILE *f)
{
	int bad = ferror(f), saved = errno;

	if (f == stdout ? fflush(f) : fclose(f)) {
		bad = 1;
		saved = errno;
	}
	if (!bad)
		return 0;
	errno = saved ? saved : EIO;
	return -1;
}

/* ---- JSON ---- */

static struct json_object *json_double(double d)
{
	char buf[32];

	if (!isfinite(d))
		return NULL;
	snprintf(buf, sizeof(buf), "%.15g", d);
	return json_object_new_double_s(d, buf);
}

static struct json_object *json_latency(const struct latency_summary *l)
{
	struct json_object *j = json_object_new_object();
	size_t k;

	for (k = 0; k < ARRAY_SIZE(lat_parts); k++)
		json_object_object_add(j, lat_parts[k].name,
				       l->count ? json_double(FIELD_AT(l, &lat_parts[k], double)) : NULL);
	json_object_object_add(j, "count", json_object_new_uint64(l->count));
	return j;
}

static struct json_object *json_errors(const struct bench_result *r)
{
	struct json_object *j = json_object_new_object();
	char buf[16];
	unsigned k;

	for (k = 0; k < BENCH_NERR; k++)
		if (r->errors[k])
			json_object_object_add(j, error_name(k, buf, sizeof(buf)),
					       json_object_new_uint64(r->errors[k]));
	return j;
}

static struct json_object *json_workers(const struct bench_result *r, int rate)
{
	struct json_object *a = json_object_new_array();
	unsigned k;

	for (k = 0; k < nworkers(r); k++)
		json_object_array_add(a, rate ? json_double(r->per_worker_rate[k]) :
					  json_object_new_uint64(r->per_worker_ops[k]));
	return a;
}

/* The backend's capability words, so a report never has to know backends by name. */
static struct json_object *json_caps(const struct bench_result *r)
{
	struct json_object *a;
	const char *word;
	unsigned k, bit;

	if (r->baseline)
		return NULL;
	a = json_object_new_array();
	for (k = 0; (word = cli_cap_word(k, &bit)); k++)
		if (r->caps & bit)
			json_object_array_add(a, json_object_new_string(word));
	return a;
}

static struct json_object *json_composite(const struct bench_result *r, const struct field *f)
{
	struct json_object *j;

	switch (f->type) {
	case F_CAPS:
		return json_caps(r);
	case F_WORKER_OPS:
	case F_WORKER_RATE:
		return json_workers(r, f->type == F_WORKER_RATE);
	case F_LATENCY:
		j = json_object_new_object();
		json_object_object_add(j, "get", json_latency(&r->get_lat));
		json_object_object_add(j, "set", json_latency(&r->set_lat));
		return j;
	case F_ERRORS:
		return json_errors(r);
	case F_VIOLATION:
		if (!r->violations)
			return NULL;
		j = json_object_new_object();
		json_object_object_add(j, "kind", json_object_new_string(
					       hist_violation_name(r->first_violation.kind)));
		json_object_object_add(j, "why", json_object_new_string(r->first_violation.why));
		return j;
	default:
		return NULL;
	}
}

static struct json_object *json_field(const struct bench_result *r, const struct field *f)
{
	const char *s;

	switch (f->type) {
	case F_STR:
		s = FIELD_AT(r, f, const char *);
		return s ? json_object_new_string(s) : NULL;
	case F_MODE:
		return json_object_new_string(mode_name(FIELD_AT(r, f, enum bench_mode)));
	case F_UINT:
		return json_object_new_uint64(FIELD_AT(r, f, unsigned));
	case F_INT:
		return json_object_new_int(FIELD_AT(r, f, int));
	case F_SIZE:
		return json_object_new_uint64(FIELD_AT(r, f, size_t));
	case F_U64:
		return json_object_new_uint64(FIELD_AT(r, f, uint64_t));
	case F_DBL:
		return json_double(FIELD_AT(r, f, double));
	case F_BOOL:
		return json_object_new_boolean(FIELD_AT(r, f, int) != 0);
	default:
		return json_composite(r, f);
	}
}

static struct json_object *json_result(const struct bench_result *r)
{
	struct json_object *j = json_object_new_object();
	size_t k;

	for (k = 0; k < ARRAY_SIZE(fields); k++)
		json_object_object_add(j, fields[k].name, json_field(r, &fields[k]));
	return j;
}

static struct json_object *json_machine(const struct bench_machine *m)
{
	struct json_object *j = json_object_new_object();

	json_object_object_add(j, "cpus", json_object_new_int64(m->cpus));
	json_object_object_add(j, "kernel", json_object_new_string(m->kernel));
	json_object_object_add(j, "compiler", json_object_new_string(m->compiler));
	json_object_object_add(j, "cpu_model", json_object_new_string(m->cpu_model));
	json_object_object_add(j, "date", json_object_new_string(m->date));
	return j;
}

static struct json_object *json_options(const struct bench_opts *o)
{
	struct json_object *j = json_object_new_object();

	json_object_object_add(j, "duration_s", o->ops ? NULL : json_double(o->duration));
	json_object_object_add(j, "max_duration_s", o->max_duration ? json_double(o->max_duration) : NULL);
	json_object_object_add(j, "ci_target", json_double(o->ci_target));
	json_object_object_add(j, "ops_per_worker", o->ops ? json_object_new_uint64(o->ops) : NULL);
	json_object_object_add(j, "warmup_s", json_double(o->warmup));
	json_object_object_add(j, "timeout_s", json_double(o->timeout));
	json_object_object_add(j, "repeat", json_object_new_uint64(o->repeat));
	json_object_object_add(j, "seed", json_object_new_uint64(o->seed));
	json_object_object_add(j, "check", json_object_new_boolean(o->check != 0));
	json_object_object_add(j, "kill", json_object_new_uint64(o->kill));
	json_object_object_add(j, "sample_every", json_object_new_uint64(o->sample_every));
	json_object_object_add(j, "history_clock", json_object_new_string(stamp_source()));
	json_object_object_add(j, "pin", json_object_new_boolean(o->pin != 0));
	return j;
}

static struct json_object *json_report(const struct bench_opts *o, const struct bench_machine *m,
				       const struct bench_result *rs, size_t n)
{
	struct json_object *root = json_object_new_object(), *results = json_object_new_array();
	size_t k;

	for (k = 0; k < n; k++)
		json_object_array_add(results, json_result(&rs[k]));
	json_object_object_add(root, "schema", json_object_new_string("mmshare-bench/1"));
	json_object_object_add(root, "command", json_object_new_string(o->command));
	json_object_object_add(root, "machine", json_machine(m));
	json_object_object_add(root, "options", json_options(o));
	json_object_object_add(root, "results", results);
	return root;
}

int bench_write_json(const char *path, const struct bench_opts *o, const struct bench_machine *mach,
		     const struct bench_result *rs, size_t n)
{
	struct json_object *root = json_report(o, mach, rs, n);
	const char *text = json_object_to_json_string_ext(root, JSON_C_TO_STRING_PRETTY |
							  JSON_C_TO_STRING_NOSLASHESCAPE);
	FILE *f;
	int r = -1;

	if (!text) {
		errno = ENOMEM;
	} else if ((f = out_open(path))) {
		errno = 0;
		fputs(text, f);
		fputc('\n', f);
		r = out_close(f);
	}
	json_object_put(root);
	return r;
}

/* ---- CSV ---- */

static int csv_skipped(const struct field *fl)
{
	return fl->type == F_ERRORS || fl->type == F_VIOLATION;
}

static void csv_str(FILE *f, const char *s)
{
	if (!s)
		return;
	if (!s[strcspn(s, ",\"\r\n")]) {
		fputs(s, f);
		return;
	}
	fputc('"', f);
	for (; *s; s++) {
		if (*s == '"')
			fputc('"', f);
		fputc(*s, f);
	}
	fputc('"', f);
}

static void csv_double(FILE *f, double d)
{
	if (isfinite(d))
		fprintf(f, "%.15g", d);
}

static void csv_workers(FILE *f, const struct bench_result *r, int rate)
{
	unsigned k;

	for (k = 0; k < nworkers(r); k++) {
		if (k)
			fputc(';', f);
		if (rate)
			csv_double(f, r->per_worker_rate[k]);
		else
			fprintf(f, "%llu", (unsigned long long)r->per_worker_ops[k]);
	}
}

/* One latency summary as p50,p90,p99,p999,max,count (percentiles empty without samples). */
static void csv_latency(FILE *f, const struct latency_summary *l)
{
	size_t k;

	for (k = 0; k < ARRAY_SIZE(lat_parts); k++) {
		if (l->count)
			csv_double(f, FIELD_AT(l, &lat_parts[k], double));
		fputc(',', f);
	}
	fprintf(f, "%llu", (unsigned long long)l->count);
}

/* The names of one field's columns: latency_ns becomes get_p50,...,get_count,set_p50,... */
static void csv_names(FILE *f, const struct field *fl)
{
	static const char *const ops[] = { "get", "set" };
	size_t o, p;

	if (fl->type != F_LATENCY) {
		fputs(fl->name, f);
		return;
	}
	for (o = 0; o < ARRAY_SIZE(ops); o++) {
		for (p = 0; p < ARRAY_SIZE(lat_parts); p++)
			fprintf(f, "%s_%s,", ops[o], lat_parts[p].name);
		fprintf(f, "%s_count%s", ops[o], o + 1 < ARRAY_SIZE(ops) ? "," : "");
	}
}

static void csv_value(FILE *f, const struct bench_result *r, const struct field *fl)
{
	switch (fl->type) {
	case F_STR:
		csv_str(f, FIELD_AT(r, fl, const char *));
		break;
	case F_MODE:
		fputs(mode_name(FIELD_AT(r, fl, enum bench_mode)), f);
		break;
	case F_UINT:
		fprintf(f, "%u", FIELD_AT(r, fl, unsigned));
		break;
	case F_INT:
		fprintf(f, "%d", FIELD_AT(r, fl, int));
		break;
	case F_SIZE:
		fprintf(f, "%zu", FIELD_AT(r, fl, size_t));
		break;
	case F_U64:
		fprintf(f, "%llu", (unsigned long long)FIELD_AT(r, fl, uint64_t));
		break;
	case F_DBL:
		csv_double(f, FIELD_AT(r, fl, double));
		break;
	case F_BOOL:
		fputs(FIELD_AT(r, fl, int) ? "true" : "false", f);
		break;
	default:
		break;
	}
}

/* The capability words joined with ';' (empty for a bare loop), as per_worker_ops are. */
static void csv_caps(FILE *f, const struct bench_result *r)
{
	const char *word, *sep = "";
	unsigned k, bit;

	for (k = 0; !r->baseline && (word = cli_cap_word(k, &bit)); k++)
		if (r->caps & bit) {
			fprintf(f, "%s%s", sep, word);
			sep = ";";
		}
}

static void csv_field(FILE *f, const struct bench_result *r, const struct field *fl)
{
	switch (fl->type) {
	case F_CAPS:
		csv_caps(f, r);
		break;
	case F_WORKER_OPS:
	case F_WORKER_RATE:
		csv_workers(f, r, fl->type == F_WORKER_RATE);
		break;
	case F_LATENCY:
		csv_latency(f, &r->get_lat);
		fputc(',', f);
		csv_latency(f, &r->set_lat);
		break;
	default:
		csv_value(f, r, fl);
		break;
	}
}

/* One line: the header when r is NULL, else r's values. */
static void csv_line(FILE *f, const struct bench_result *r)
{
	const char *sep = "";
	size_t k;

	for (k = 0; k < ARRAY_SIZE(fields); k++) {
		if (csv_skipped(&fields[k]))
			continue;
		fputs(sep, f);
		sep = ",";
		if (r)
			csv_field(f, r, &fields[k]);
		else
			csv_names(f, &fields[k]);
	}
	fputc('\n', f);
}

int bench_write_csv(const char *path, const struct bench_result *rs, size_t n)
{
	FILE *f = out_open(path);
	size_t k;

	if (!f)
		return -1;
	errno = 0;
	csv_line(f, NULL);
	for (k = 0; k < n; k++)
		csv_line(f, &rs[k]);
	return out_close(f);
}
