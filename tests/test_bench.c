/* test_bench.c -- `mmshare bench`: bad options exit 2, the oracle catches the negative controls.
 * That every real backend survives kills with zero violations is the conformance case
 * oracle.kill_2 (and kill_4), run per backend by tests/test_conform.c. */
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "common.h"
#include "commands.h"
#include "stamp.h"

static int bench(const char **args)
{
	char *argv[64];
	int argc = 0;

	argv[argc++] = "bench";
	while (*args && argc < 63)
		argv[argc++] = (char *)*args++;
	argv[argc] = NULL;
	return mms_cmd_bench.run(argc, argv);
}

static void quiet_stderr(void)
{
	cr_assert_not_null(freopen("/dev/null", "w", stderr));
}

/* The sum of one integer field over every result in a bench JSON file. */
static int64_t json_sum(const char *path, const char *field)
{
	struct json_object *root = json_object_from_file(path), *results, *v;
	int64_t sum = 0;
	size_t k;

	cr_assert_not_null(root, "%s is not JSON", path);
	cr_assert(json_object_object_get_ex(root, "results", &results));
	for (k = 0; k < json_object_array_length(results); k++)
		if (json_object_object_get_ex(json_object_array_get_idx(results, k), field, &v))
			sum += json_object_get_int64(v);
	json_object_put(root);
	return sum;
}

Test(bench, bad_options_exit_2)
{
	const char *bad[][4] = {
		{ "--procs", "0" }, { "--procs", "-1" }, { "--procs", "2,x" }, { "--size", "0" },
		{ "--size", "99999999999999" }, { "--backend", "nope" }, { "--write-ratio", "101" },
		{ "--duration", "0" }, { "--duration", "-1" }, { "--repeat", "0" }, { "--kill", "x" },
		{ "--rmw", "200" }, { "--bogus" }, { "--mode", "json" }, { "--check", "--size", "8" },
		{ "--ops" }, { "stray" }, { "--duration", "1", "--max-duration", "0.5" }, { "--ci", "0" },
	};
	size_t k;

	quiet_stderr();
	for (k = 0; k < sizeof(bad) / sizeof(bad[0]); k++)
		cr_assert_eq(bench(bad[k]), MMS_EXIT_USAGE, "case %zu (%s %s) was accepted", k,
			     bad[k][0], bad[k][1] ? bad[k][1] : "");
}

/*
 * A control must be caught whatever the load: workers that each ran a fixed count of operations
 * could finish inside one time slice each, one after the other, and never overlap; a run of a
 * fixed time keeps both running together.
 */
static void run_control(const char *backend)
{
	char json[] = "/tmp/mms-bench-XXXXXX";
	int fd = mkstemp(json);
	const char *args[] = { "--backend", backend, "--procs", "2", "--write-ratio", "50",
			       "--size", "4096", "--rmw", "20", "--duration", "0.3", "--warmup", "0",
			       "--check", "--quiet", "--json", json, NULL };

	cr_assert_geq(fd, 0);
	close(fd);
	quiet_stderr();
	cr_assert_eq(bench(args), MMS_EXIT_FAIL, "%s was not caught", backend);
	cr_assert_eq(json_sum(json, "hung"), 0);
	cr_assert_gt(json_sum(json, "torn") + json_sum(json, "violations") +
		     json_sum(json, "lost_updates"), 0, "%s: nothing flagged", backend);
	unlink(json);
}

Test(bench, negative_control_none_is_caught, .timeout = 120)
{
	run_control("none");
}

Test(bench, negative_control_stale_is_caught, .timeout = 120)
{
	run_control("stale");
}

/* A checked run that reaches its history budget stops recording, says so, and still passes. */
Test(bench, history_budget_truncates, .timeout = 120)
{
	char json[] = "/tmp/mms-bench-XXXXXX";
	int fd = mkstemp(json);
	const char *args[] = { "--backend", "mutex", "--procs", "2", "--write-ratio", "50",
			       "--size", "64", "--ops", "400000", "--warmup", "0", "--check",
			       "--quiet", "--json", json, NULL };

	cr_assert_geq(fd, 0);
	close(fd);
	setenv("MMS_BENCH_HIST_RECORDS", "200000", 1);
	quiet_stderr();
	cr_assert_eq(bench(args), MMS_EXIT_OK);
	unsetenv("MMS_BENCH_HIST_RECORDS");
	cr_assert_gt(json_sum(json, "truncated"), 0, "the budget did not stop the history");
	cr_assert_leq(json_sum(json, "history_ops"), 200001);
	cr_assert_gt(json_sum(json, "history_ops"), 1000);
	unlink(json);
}

/* Timing runs say so and carry the harness's cost; checked runs say they are not timing runs. */
Test(bench, timing_and_checked_runs_are_marked, .timeout = 120)
{
	char t[] = "/tmp/mms-bench-XXXXXX", c[] = "/tmp/mms-bench-XXXXXX";
	int ft = mkstemp(t), fc = mkstemp(c);
	const char *timing[] = { "--backend", "seqlock", "--procs", "1", "--write-ratio", "0",
				 "--size", "64", "--duration", "0.05", "--max-duration", "0.2",
				 "--warmup", "0", "--quiet", "--json", t, NULL };
	const char *checked[] = { "--backend", "seqlock", "--procs", "1", "--write-ratio", "0",
				  "--size", "64", "--duration", "0.05", "--warmup", "0", "--check",
				  "--quiet", "--json", c, NULL };
	struct json_object *root, *results, *r, *v;

	cr_assert(ft >= 0 && fc >= 0);
	close(ft);
	close(fc);
	cr_assert_eq(bench(timing), MMS_EXIT_OK);
	cr_assert_eq(bench(checked), MMS_EXIT_OK);
	root = json_object_from_file(t);
	cr_assert(json_object_object_get_ex(root, "results", &results));
	r = json_object_array_get_idx(results, 0);
	cr_assert(json_object_object_get_ex(r, "timing", &v) && json_object_get_boolean(v));
	cr_assert(json_object_object_get_ex(r, "harness_ns_per_op", &v) &&
		  json_object_get_double(v) > 0, "no harness cost on a timing run");
	cr_assert(json_object_object_get_ex(r, "vs_standalone", &v) &&
		  json_object_get_double(v) > 0, "no standalone loop at 1 process, 0%% writes");
	cr_assert(json_object_object_get_ex(r, "ci95_low", &v) &&
		  json_object_get_type(v) == json_type_double, "no interval");
	json_object_put(root);
	root = json_object_from_file(c);
	cr_assert(json_object_object_get_ex(root, "results", &results));
	r = json_object_array_get_idx(results, 0);
	cr_assert(json_object_object_get_ex(r, "timing", &v) && !json_object_get_boolean(v));
	cr_assert(json_object_object_get_ex(r, "timing_note", &v) &&
		  strstr(json_object_get_string(v), "not a performance figure"));
	cr_assert(json_object_object_get_ex(r, "harness_ns_per_op", &v) && v == NULL);
	json_object_put(root);
	unlink(t);
	unlink(c);
}

/*
 * The history's stamps are CLOCK_MONOTONIC nanoseconds whatever their source, and never go back:
 * a stamp taken between two clock reads falls between them, give or take the calibration's error
 * (well under the 100 us allowed; a preemption widens the bracket, not the error).
 */
static uint64_t mono_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

Test(bench, stamps_follow_the_monotonic_clock)
{
	uint64_t before, after, prev = 0, s;
	int k;

	stamp_init();
	for (k = 0; k < 1000; k++) {
		s = k & 1 ? stamp_end() : stamp_begin();
		cr_assert_geq(s, prev, "%s stamp went back", stamp_source());
		prev = s;
	}
	before = mono_now();
	s = stamp_end();
	after = mono_now();
	cr_assert(s + 100000 >= before && s <= after + 100000,
		  "%s stamp %llu outside [%llu, %llu] by more than 100 us", stamp_source(),
		  (unsigned long long)s, (unsigned long long)before, (unsigned long long)after);
}

/*
 * The sequence-lock copies (16-byte chunks and a word tail at 40 B, rep movsb at 4 KiB) race
 * with writers by design: every value read must still be whole and the history linearizable.
 */
static void racing_copies(const char *backend, const char *size)
{
	char json[] = "/tmp/mms-bench-XXXXXX";
	int fd = mkstemp(json);
	const char *args[] = { "--backend", backend, "--procs", "2", "--write-ratio", "50",
			       "--size", size, "--duration", "0.3", "--warmup", "0", "--check",
			       "--quiet", "--json", json, NULL };

	cr_assert_geq(fd, 0);
	close(fd);
	cr_assert_eq(bench(args), MMS_EXIT_OK, "%s at %s B", backend, size);
	cr_assert_eq(json_sum(json, "torn"), 0);
	cr_assert_eq(json_sum(json, "violations"), 0);
	cr_assert_gt(json_sum(json, "history_ops"), 1000);
	cr_log_info("%s %s B: %lld reads retried", backend, size, (long long)json_sum(json, "retries"));
	unlink(json);
}

Test(bench, racing_copies_stay_whole, .timeout = 120)
{
	racing_copies("seqlock", "40");
	racing_copies("seqlock", "4096");
	racing_copies("memfd", "40");
	racing_copies("memfd", "4096");
}
