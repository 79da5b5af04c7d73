/* test_compare.c -- `mmshare compare` on hand-made pairs of bench and hyperfine files. */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "commands.h"

#define MAX_FILES 64
#define MAX_REPS  8

/* One scenario of a hand-made bench file: its repeats' ops/s and, if > 0, insn_per_op. */
struct pt {
	const char *backend;
	unsigned procs, write, size;
	double ops[MAX_REPS];
	int n;
	double insn;
};

/* What a run of the command left: its status, stdout and stderr. */
struct outcome {
	int rc;
	char out[1 << 16];
	char err[4096];
};

static char dir[64];
static char *files[MAX_FILES];
static int nfiles;

static void setup(void)
{
	snprintf(dir, sizeof(dir), "/tmp/mms_compare_XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
	nfiles = 0;
}

static void teardown(void)
{
	while (nfiles > 0) {
		unlink(files[--nfiles]);
		free(files[nfiles]);
	}
	rmdir(dir);
}

TestSuite(compare, .init = setup, .fini = teardown);

/* A file in the test's directory, removed at the end; returns its path. */
static const char *put(const char *name, const char *text)
{
	char *path = NULL;
	FILE *f;

	cr_assert(asprintf(&path, "%s/%s", dir, name) > 0);
	cr_assert_lt(nfiles, MAX_FILES);
	files[nfiles++] = path;
	f = fopen(path, "w");
	cr_assert_not_null(f);
	fputs(text, f);
	fclose(f);
	return path;
}

/* Text of a growing buffer, for building JSON. */
struct buf {
	char *s;
	size_t len, cap;
};

__attribute__((format(printf, 2, 3)))
static void add(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(b->s + b->len, b->cap - b->len, fmt, ap);
		va_end(ap);
		if ((size_t)n < b->cap - b->len)
			break;
		b->cap = 2 * (b->cap + n);
		b->s = realloc(b->s, b->cap);
		cr_assert_not_null(b->s);
	}
	b->len += n;
}

/* An mmshare-bench/1 file with one result per repeat of each scenario. */
static const char *bench_file(const char *name, const struct pt *pts, size_t n)
{
	struct buf b = { 0 };
	const char *path;
	size_t k;
	int r, first = 1;

	add(&b, "{\"schema\":\"mmshare-bench/1\",\"command\":\"mmshare bench --json x\",\"machine\":"
	    "{\"cpus\":2,\"kernel\":\"6.1\",\"compiler\":\"gcc\",\"cpu_model\":\"x\",\"date\":"
	    "\"2024-01-01T00:00:00Z\"},\"results\":[");
	for (k = 0; k < n; k++)
		for (r = 0; r < pts[k].n; r++) {
			add(&b, "%s{\"backend\":\"%s\",\"mode\":\"raw\",\"procs\":%u,\"write_ratio\":%u,"
			    "\"size\":%u,\"rmw\":0,\"repeat\":%d,\"duration_s\":1.0,\"ops_per_sec\":%.17g,"
			    "\"fairness_jain\":0.99,\"torn\":0,\"insn_per_op\":", first ? "" : ",",
			    pts[k].backend, pts[k].procs, pts[k].write, pts[k].size, r, pts[k].ops[r]);
			if (pts[k].insn > 0)
				add(&b, "%.17g}", pts[k].insn);
			else
				add(&b, "null}");
			first = 0;
		}
	add(&b, "]}\n");
	path = put(name, b.s);
	free(b.s);
	return path;
}

/* A hyperfine export: one command per entry, its run times in seconds. */
static const char *hyperfine_file(const char *name, const char *const *cmds,
				  const double times[][6], size_t n)
{
	struct buf b = { 0 };
	const char *path;
	size_t k, r;

	add(&b, "{\"results\":[");
	for (k = 0; k < n; k++) {
		add(&b, "%s{\"command\":\"%s\",\"mean\":%g,\"stddev\":null,\"median\":%g,\"min\":%g,"
		    "\"max\":%g,\"times\":[", k ? "," : "", cmds[k], times[k][0], times[k][0],
		    times[k][0], times[k][0]);
		for (r = 0; r < 6; r++)
			add(&b, "%s%.17g", r ? "," : "", times[k][r]);
		add(&b, "],\"exit_codes\":[0,0,0,0,0,0],\"parameters\":{}}");
	}
	add(&b, "]}\n");
	path = put(name, b.s);
	free(b.s);
	return path;
}

/* Read what a descriptor's file holds into out. */
static void slurp_fd(int fd, char *out, size_t cap)
{
	ssize_t got;
	size_t len = 0;

	lseek(fd, 0, SEEK_SET);
	while (len + 1 < cap && (got = read(fd, out + len, cap - 1 - len)) > 0)
		len += (size_t)got;
	out[len] = 0;
}

/* Run the command with stdout and stderr caught; args end with NULL. */
static void run(struct outcome *o, ...)
{
	char *argv[16] = { "compare" }, path_out[96], path_err[96];
	int argc = 1, save_out, save_err, fd_out, fd_err;
	va_list ap;

	va_start(ap, o);
	while (argc < 15 && (argv[argc] = va_arg(ap, char *)))
		argc++;
	va_end(ap);
	argv[argc] = NULL;
	snprintf(path_out, sizeof(path_out), "%s/stdout", dir);
	snprintf(path_err, sizeof(path_err), "%s/stderr", dir);
	fflush(stdout), fflush(stderr);
	fd_out = open(path_out, O_RDWR | O_CREAT | O_TRUNC, 0600);
	fd_err = open(path_err, O_RDWR | O_CREAT | O_TRUNC, 0600);
	cr_assert(fd_out >= 0 && fd_err >= 0);
	save_out = dup(1), save_err = dup(2);
	dup2(fd_out, 1), dup2(fd_err, 2);
	o->rc = mms_cmd_compare.run(argc, argv);
	fflush(stdout), fflush(stderr);
	dup2(save_out, 1), dup2(save_err, 2);
	close(save_out), close(save_err);
	slurp_fd(fd_out, o->out, sizeof(o->out));
	slurp_fd(fd_err, o->err, sizeof(o->err));
	close(fd_out), close(fd_err);
	unlink(path_out), unlink(path_err);
}

/* The last line of the output. */
static const char *last_line(const struct outcome *o)
{
	size_t len = strlen(o->out);
	const char *p;

	while (len && o->out[len - 1] == '\n')
		len--;
	for (p = o->out + len; p > o->out && p[-1] != '\n'; p--)
		;
	return p;
}

/* The row of the table that starts with this label. */
static const char *row(const struct outcome *o, const char *label)
{
	const char *p = o->out;
	size_t n = strlen(label);

	for (; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
		if (!strncmp(p, label, n) && p[n] == ' ')
			return p;
	return NULL;
}

static int row_says(const struct outcome *o, const char *label, const char *verdict)
{
	const char *r = row(o, label), *end;
	size_t n = strlen(verdict);

	if (!r)
		return 0;
	end = strchr(r, '\n');
	end = end ? end : r + strlen(r);
	return end - r > (long)n && !strncmp(end - n, verdict, n) && end[-(long)n - 1] == ' ';
}

/* Scenarios with a small spread around 1 M ops/s, scaled on request. */
static void steady(struct pt *pts, size_t n, double scale)
{
	static const char *const names[] = { "mutex", "fcntl", "seqlock", "memfd" };
	static const double wobble[] = { 1.00, 1.01, 0.99, 1.005, 0.995 };
	size_t k;
	int r;

	for (k = 0; k < n; k++) {
		pts[k] = (struct pt){ .backend = names[k % 4], .procs = 2 + (unsigned)(k / 4) * 2,
				      .write = 10, .size = 64, .n = 5 };
		for (r = 0; r < 5; r++)
			pts[k].ops[r] = 1e6 * (1 + 0.1 * k) * wobble[(r + k) % 5] * scale;
	}
}

Test(compare, no_change_passes)
{
	struct pt pts[4];
	struct outcome o;
	const char *a, *b;

	steady(pts, 4, 1);
	a = bench_file("a.json", pts, 4);
	b = bench_file("b.json", pts, 4);
	run(&o, a, b, NULL);
	cr_assert_eq(o.rc, 0, "%s%s", o.out, o.err);
	cr_assert(row_says(&o, "mutex raw p=2 w=10% 64B", "ok"), "%s", o.out);
	cr_assert_not_null(strstr(last_line(&o), "no regression"), "%s", o.out);
	cr_assert_not_null(strstr(last_line(&o), "4 scenarios: 4 ok"), "%s", o.out);
}

Test(compare, real_regression_fails_and_names_the_backend)
{
	struct pt base[4], new[4];
	struct outcome o;
	const char *a, *b;
	int r;

	steady(base, 4, 1);
	steady(new, 4, 1);
	for (r = 0; r < 5; r++)
		new[2].ops[r] *= 0.75;          /* seqlock p=2: 25% slower, 1% noise */
	a = bench_file("a.json", base, 4);
	b = bench_file("b.json", new, 4);
	run(&o, a, b, NULL);
	cr_assert_eq(o.rc, 1, "%s%s", o.out, o.err);
	cr_assert(row_says(&o, "seqlock raw p=2 w=10% 64B", "REGRESSION"), "%s", o.out);
	cr_assert(row_says(&o, "mutex raw p=2 w=10% 64B", "ok"), "%s", o.out);
	cr_assert_not_null(strstr(row(&o, "seqlock raw p=2 w=10% 64B"), "-25.0%"), "%s", o.out);
	cr_assert_not_null(strstr(last_line(&o), "REGRESSION in seqlock:"), "%s", o.out);
	cr_assert_null(strstr(last_line(&o), "mutex"), "%s", o.out);
}

Test(compare, slowdown_within_noise_passes)
{
	struct pt base[1] = { { "mutex", 2, 10, 64, { 1.0e6, 1.5e6, 0.6e6, 1.2e6, 0.8e6 }, 5, 0 } };
	struct pt new[1] = { { "mutex", 2, 10, 64, { 0.6e6, 1.1e6, 0.5e6, 1.0e6, 0.7e6 }, 5, 0 } };
	struct outcome o;

	run(&o, bench_file("a.json", base, 1), bench_file("b.json", new, 1), NULL);
	cr_assert_eq(o.rc, 0, "%s%s", o.out, o.err);
	cr_assert(row_says(&o, "mutex raw p=2 w=10% 64B", "slower-within-noise"), "%s", o.out);
}

Test(compare, faster_passes)
{
	struct pt base[4], new[4];
	struct outcome o;

	steady(base, 4, 1);
	steady(new, 4, 1.5);
	run(&o, bench_file("a.json", base, 4), bench_file("b.json", new, 4), NULL);
	cr_assert_eq(o.rc, 0, "%s%s", o.out, o.err);
	cr_assert(row_says(&o, "fcntl raw p=2 w=10% 64B", "faster"), "%s", o.out);
	cr_assert_not_null(strstr(row(&o, "fcntl raw p=2 w=10% 64B"), "+50.0%"), "%s", o.out);
}

Test(compare, small_slowdown_is_ok_and_threshold_moves_the_gate)
{
	struct pt base[4], new[4];
	struct outcome o;
	const char *a, *b;

	steady(base, 4, 1);
	steady(new, 4, 0.85);           /* 15% slower, 1% noise */
	a = bench_file("a.json", base, 4);
	b = bench_file("b.json", new, 4);
	run(&o, a, b, NULL);
	cr_assert_eq(o.rc, 1, "15%% beyond a 10%% threshold: %s", o.out);
	run(&o, "--threshold", "20", a, b, NULL);
	cr_assert_eq(o.rc, 0, "15%% within a 20%% threshold: %s", o.out);
	cr_assert(row_says(&o, "mutex raw p=2 w=10% 64B", "ok"), "%s", o.out);
}

Test(compare, missing_scenarios_are_reported_not_failed)
{
	struct pt base[3], new[3];
	struct outcome o;

	steady(base, 3, 1);
	steady(new, 3, 1);
	base[2].size = 4096;            /* seqlock 4KiB only in base, seqlock 64B only in new */
	run(&o, bench_file("a.json", base, 3), bench_file("b.json", new, 3), NULL);
	cr_assert_eq(o.rc, 0, "%s%s", o.out, o.err);
	cr_assert(row_says(&o, "seqlock raw p=2 w=10% 4KiB", "missing-in-new"), "%s", o.out);
	cr_assert(row_says(&o, "seqlock raw p=2 w=10% 64B", "missing-in-base"), "%s", o.out);
	cr_assert_not_null(strstr(last_line(&o), "1 missing-in-base, 1 missing-in-new"), "%s", o.out);
}

Test(compare, zero_throughput_is_a_regression)
{
	struct pt base[1] = { { "fcntl", 2, 10, 64, { 1e6, 1.1e6 }, 2, 0 } };
	struct pt new[1] = { { "fcntl", 2, 10, 64, { 0, 0 }, 2, 0 } };
	struct outcome o;

	run(&o, bench_file("a.json", base, 1), bench_file("b.json", new, 1), NULL);
	cr_assert_eq(o.rc, 1, "%s%s", o.out, o.err);
	cr_assert_not_null(strstr(last_line(&o), "REGRESSION in fcntl"), "%s", o.out);
}

Test(compare, single_runs_fall_back_to_an_assumed_spread)
{
	struct pt base[2] = { { "mutex", 2, 10, 64, { 1e6 }, 1, 0 },
			      { "fcntl", 2, 10, 64, { 1e6 }, 1, 0 } };
	struct pt new[2] = { { "mutex", 2, 10, 64, { 0.70e6 }, 1, 0 },
			     { "fcntl", 2, 10, 64, { 0.85e6 }, 1, 0 } };
	struct outcome o;

	run(&o, bench_file("a.json", base, 2), bench_file("b.json", new, 2), NULL);
	cr_assert_eq(o.rc, 1, "%s%s", o.out, o.err);
	cr_assert(row_says(&o, "mutex raw p=2 w=10% 64B", "REGRESSION"), "30%% slower: %s", o.out);
	cr_assert(row_says(&o, "fcntl raw p=2 w=10% 64B", "slower-within-noise"), "15%%: %s", o.out);
	cr_assert_not_null(strstr(row(&o, "mutex raw p=2 w=10% 64B"), "] *"), "marked: %s", o.out);
}

Test(compare, single_runs_pool_their_spread)
{
	struct pt base[16], new[16];
	struct outcome o;
	size_t k;

	for (k = 0; k < 16; k++) {
		base[k] = (struct pt){ "mutex", 2, 10, 64, { 1e6 }, 1, 0 };
		base[k].backend = k == 9 ? "memfd" : k % 2 ? "fcntl" : "seqlock";
		base[k].procs = 1 + (unsigned)k;
		new[k] = base[k];
		new[k].ops[0] = 1e6 * (1 + 0.03 * ((double)(k % 5) - 2) / 2);  /* +-3% */
	}
	new[9].ops[0] = 0.6e6;
	run(&o, bench_file("a.json", base, 16), bench_file("b.json", new, 16), NULL);
	cr_assert_eq(o.rc, 1, "%s%s", o.out, o.err);
	cr_assert_not_null(strstr(last_line(&o), "REGRESSION in memfd:"), "%s", o.out);
	cr_assert_not_null(strstr(o.out, "Noise between the runs"), "%s", o.out);
}

/* A reproducible normal deviate. */
static double gauss(unsigned long long *state)
{
	double u1, u2;

	*state = *state * 6364136223846793005ULL + 1442695040888963407ULL;
	u1 = ((*state >> 11) + 1.0) / 9007199254740994.0;
	*state = *state * 6364136223846793005ULL + 1442695040888963407ULL;
	u2 = (*state >> 11) / 9007199254740992.0;
	return sqrt(-2 * log(u1)) * cos(2 * M_PI * u2);
}

/*
 * 48 scenarios, 3 repeats: 5% noise within a run, 4% between runs that the repeats do not see.
 * A/A must pass 20 times out of 20, and a 25% slowdown of everything must fail 20 times out of 20.
 */
static void noisy_run(struct pt *pts, unsigned long long *state, double scale)
{
	static const char *const names[] = { "mutex", "fcntl", "seqlock", "memfd" };
	double shift;
	size_t k;
	int r;

	for (k = 0; k < 48; k++) {
		pts[k] = (struct pt){ .backend = names[k % 4], .procs = 1 + (unsigned)(k / 4) % 4,
				      .write = (unsigned)(k / 16) * 40 + 10, .size = k / 32 ? 4096 : 64,
				      .n = 3 };
		shift = exp(0.04 * gauss(state));
		for (r = 0; r < 3; r++)
			pts[k].ops[r] = 1e6 * scale * shift * exp(0.05 * gauss(state));
	}
}

Test(compare, noisy_aa_passes_and_planted_slowdown_fails)
{
	struct pt base[48], new[48];
	unsigned long long state = 42;
	struct outcome o;
	const char *a, *b, *c;
	int k, aa_pass = 0, planted_fail = 0;

	for (k = 0; k < 20; k++) {
		noisy_run(base, &state, 1);
		noisy_run(new, &state, 1);
		a = bench_file(k ? "a2.json" : "a.json", base, 48);
		b = bench_file(k ? "b2.json" : "b.json", new, 48);
		noisy_run(new, &state, 0.75);
		c = bench_file(k ? "c2.json" : "c.json", new, 48);
		run(&o, a, b, NULL);
		aa_pass += o.rc == 0;
		run(&o, a, c, NULL);
		planted_fail += o.rc == 1;
		if (k) {
			nfiles -= 3;
			free(files[nfiles]), free(files[nfiles + 1]), free(files[nfiles + 2]);
		}
	}
	cr_assert_eq(aa_pass, 20, "A/A passed %d of 20", aa_pass);
	cr_assert_eq(planted_fail, 20, "a 25%% slowdown was caught %d of 20", planted_fail);
}

Test(compare, insn_per_op_is_gated_on_the_point)
{
	struct pt base[4], new[4];
	struct outcome o;
	const char *a, *b, *c;

	steady(base, 4, 1);
	steady(new, 4, 1);
	base[0].insn = 1000, new[0].insn = 1030;        /* mutex: 3% more instructions */
	base[1].insn = 500, new[1].insn = 505;          /* fcntl: 1% more */
	a = bench_file("a.json", base, 4);
	b = bench_file("b.json", new, 4);
	run(&o, a, b, NULL);
	cr_assert_eq(o.rc, 1, "%s%s", o.out, o.err);
	cr_assert_not_null(strstr(o.out, "insn/op"), "%s", o.out);
	cr_assert_not_null(strstr(last_line(&o), "REGRESSION in mutex:"), "%s", o.out);
	cr_assert_null(strstr(last_line(&o), "fcntl"), "%s", o.out);
	run(&o, "--insn-threshold", "5", a, b, NULL);
	cr_assert_eq(o.rc, 0, "3%% within 5%%: %s", o.out);
	new[0].insn = 950;
	c = bench_file("c.json", new, 4);
	run(&o, a, c, NULL);
	cr_assert_eq(o.rc, 0, "fewer instructions: %s", o.out);
}

Test(compare, hyperfine_slower_fails_faster_passes)
{
	static const char *const cmds[] = { "mmshare bench --backend mutex --ops 1000",
					     "mmshare bench --backend=fcntl --ops 1000" };
	static const double base[2][6] = { { 0.100, 0.101, 0.099, 0.100, 0.102, 0.098 },
					   { 0.200, 0.202, 0.198, 0.201, 0.199, 0.200 } };
	static const double slow[2][6] = { { 0.100, 0.101, 0.099, 0.100, 0.102, 0.098 },
					   { 0.260, 0.262, 0.258, 0.261, 0.259, 0.260 } };
	static const double fast[2][6] = { { 0.070, 0.071, 0.069, 0.070, 0.072, 0.068 },
					   { 0.200, 0.202, 0.198, 0.201, 0.199, 0.200 } };
	struct outcome o;
	const char *a, *b, *c;

	a = hyperfine_file("a.json", cmds, base, 2);
	b = hyperfine_file("b.json", cmds, slow, 2);
	c = hyperfine_file("c.json", cmds, fast, 2);
	run(&o, a, b, NULL);
	cr_assert_eq(o.rc, 1, "30%% more time: %s%s", o.out, o.err);
	cr_assert(row_says(&o, cmds[1], "REGRESSION"), "%s", o.out);
	cr_assert(row_says(&o, cmds[0], "ok"), "%s", o.out);
	cr_assert_not_null(strstr(last_line(&o), "REGRESSION in fcntl:"), "%s", o.out);
	run(&o, a, c, NULL);
	cr_assert_eq(o.rc, 0, "%s%s", o.out, o.err);
	cr_assert(row_says(&o, cmds[0], "faster"), "%s", o.out);
}

Test(compare, markdown_table_and_verdict)
{
	struct pt base[4], new[4];
	struct outcome o;
	char md[128], text[8192] = "";
	FILE *f;

	steady(base, 4, 1);
	steady(new, 4, 1);
	new[3].ops[0] = new[3].ops[1] = new[3].ops[2] = new[3].ops[3] = new[3].ops[4] = 0.5e6;
	snprintf(md, sizeof(md), "%s/out.md", dir);
	files[nfiles++] = strdup(md);
	run(&o, "--markdown", md, "--quiet", bench_file("a.json", base, 4),
	    bench_file("b.json", new, 4), NULL);
	cr_assert_eq(o.rc, 1, "%s%s", o.out, o.err);
	cr_assert_null(row(&o, "mutex raw p=2 w=10% 64B"), "quiet shows regressions only: %s", o.out);
	cr_assert_not_null(row(&o, "memfd raw p=2 w=10% 64B"), "%s", o.out);
	f = fopen(md, "r");
	cr_assert_not_null(f);
	text[fread(text, 1, sizeof(text) - 1, f)] = 0;
	fclose(f);
	cr_assert_not_null(strstr(text, "**REGRESSION** in memfd"), "%s", text);
	cr_assert_not_null(strstr(text, "| scenario | metric |"), "%s", text);
	cr_assert_not_null(strstr(text, "| mutex raw p=2 w=10% 64B | ops/s |"), "%s", text);
	cr_assert_not_null(strstr(text, "| **REGRESSION** |"), "%s", text);
}

/* Exit 2, one line on stderr that names the file and says what. */
static void expect_unusable(const char *base, const char *new, const char *who, const char *what)
{
	struct outcome o;

	run(&o, base, new, NULL);
	cr_assert_eq(o.rc, 2, "rc %d: %s%s", o.rc, o.out, o.err);
	cr_assert_not_null(strstr(o.err, who), "names %s: %s", who, o.err);
	cr_assert_not_null(strstr(o.err, what), "says %s: %s", what, o.err);
	cr_assert_eq(strchr(o.err, '\n'), o.err + strlen(o.err) - 1, "one line: %s", o.err);
	cr_assert_eq(o.out[0], 0, "no table: %s", o.out);
}

Test(compare, unusable_input_exits_2)
{
	struct pt pts[2];
	const char *good, *hf, *missing;
	static const char *const cmds[] = { "true" };
	static const double t[1][6] = { { 0.001, 0.001, 0.001, 0.001, 0.001, 0.001 } };

	steady(pts, 2, 1);
	good = bench_file("good.json", pts, 2);
	hf = hyperfine_file("hf.json", cmds, t, 1);
	missing = put("gone.json", "");
	unlink(missing);
	expect_unusable(good, missing, "gone.json", "cannot read");
	expect_unusable(put("text.json", "ops: 12\n"), good, "text.json", "not JSON");
	expect_unusable(good, put("cut.json", "{\"schema\":\"mmshare-bench/1\",\"results\":["),
			"cut.json", "not JSON");
	expect_unusable(good, put("empty.json", ""), "empty.json", "empty");
	expect_unusable(good, put("two.json", "{}{}"), "two.json", "not JSON");
	expect_unusable(put("v2.json", "{\"schema\":\"mmshare-bench/2\",\"results\":[]}"), good,
			"v2.json", "unknown schema");
	expect_unusable(good, put("arr.json", "[1,2]"), "arr.json", "object");
	expect_unusable(good, put("other.json", "{\"rows\":[]}"), "other.json", "unknown schema");
	expect_unusable(good, hf, "hf.json", "mixed schemas");
	expect_unusable(hf, good, "good.json", "mixed schemas");
	expect_unusable(good, put("none.json", "{\"schema\":\"mmshare-bench/1\",\"results\":[]}"),
			"none.json", "no results");
	expect_unusable(good, put("nores.json", "{\"schema\":\"mmshare-bench/1\"}"), "nores.json",
			"results");
	expect_unusable(good, put("hnone.json", "{\"results\":[]}"), "hnone.json", "no results");
	expect_unusable(good, put("type.json", "{\"schema\":\"mmshare-bench/1\",\"results\":[{\"backend\":"
				  "\"mutex\",\"mode\":\"raw\",\"procs\":\"two\",\"write_ratio\":10,\"size\":64,"
				  "\"ops_per_sec\":1}]}"), "type.json", "results[0].procs");
	expect_unusable(good, put("ops.json", "{\"schema\":\"mmshare-bench/1\",\"results\":[{\"backend\":"
				  "\"mutex\",\"mode\":\"raw\",\"procs\":2,\"write_ratio\":10,\"size\":64,"
				  "\"ops_per_sec\":null}]}"), "ops.json", "ops_per_sec");
	expect_unusable(good, put("neg.json", "{\"schema\":\"mmshare-bench/1\",\"results\":[{\"backend\":"
				  "\"mutex\",\"mode\":\"raw\",\"procs\":2,\"write_ratio\":10,\"size\":64,"
				  "\"ops_per_sec\":-5}]}"), "neg.json", "ops_per_sec");
	expect_unusable(good, put("insn.json", "{\"schema\":\"mmshare-bench/1\",\"results\":[{\"backend\":"
				  "\"mutex\",\"mode\":\"raw\",\"procs\":2,\"write_ratio\":10,\"size\":64,"
				  "\"ops_per_sec\":1,\"insn_per_op\":\"many\"}]}"), "insn.json", "insn_per_op");
	expect_unusable(good, put("elem.json", "{\"schema\":\"mmshare-bench/1\",\"results\":[7]}"),
			"elem.json", "results[0]");
	expect_unusable(hf, put("htimes.json", "{\"results\":[{\"command\":\"true\",\"times\":"
				"[0.1,\"x\"]}]}"), "htimes.json", "times[1]");
}

Test(compare, bad_command_lines_exit_2)
{
	struct pt pts[1];
	struct outcome o;
	const char *a;

	steady(pts, 1, 1);
	a = bench_file("a.json", pts, 1);
	run(&o, a, NULL);
	cr_assert_eq(o.rc, 2);
	cr_assert_not_null(strstr(o.err, "expected BASE.json NEW.json"), "%s", o.err);
	run(&o, "--threshold", "ten", a, a, NULL);
	cr_assert_eq(o.rc, 2);
	cr_assert_not_null(strstr(o.err, "--threshold 'ten'"), "%s", o.err);
	run(&o, "--insn-threshold", "-1", a, a, NULL);
	cr_assert_eq(o.rc, 2);
	run(&o, "--frobnicate", a, a, NULL);
	cr_assert_eq(o.rc, 2);
	run(&o, "--markdown", "/nonexistent-dir/x.md", a, a, NULL);
	cr_assert_eq(o.rc, 2);
	cr_assert_not_null(strstr(o.err, "/nonexistent-dir/x.md"), "%s", o.err);
	run(&o, "--help", NULL);
	cr_assert_eq(o.rc, 0);
	cr_assert_not_null(strstr(o.out, "usage: mmshare compare"), "%s", o.out);
}
