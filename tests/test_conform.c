/* test_conform.c -- every contract case on every safe backend, through the command's runner. */
#include <signal.h>
#include <stdlib.h>

#include "common.h"
#include "conform.h"

#define PAIR_BACKENDS MAX_TEST_BACKENDS  /* a pair is case * PAIR_BACKENDS + backend */
#define CASE_GUARD_S 150                 /* above every case's limit: the runner ends it first */

/* Every (case, backend in mms_backends()) pair, as plain ints: Criterion may re-exec. */
ParameterizedTestParameters(conform, contract)
{
	static int pairs[CONFORM_MAX_CASES * PAIR_BACKENDS];
	size_t n = 0, c, b;

	for (c = 0; conform_cases[c]; c++)
		for (b = 0; mms_backends()[b] && b < PAIR_BACKENDS; b++)
			pairs[n++] = (int)(c * PAIR_BACKENDS + b);
	return cr_make_param_array(int, pairs, n);
}

ParameterizedTest(int *p, conform, contract, .timeout = CASE_GUARD_S)
{
	const struct conform_case *cc = conform_cases[*p / PAIR_BACKENDS];
	const char *backend = mms_backends()[*p % PAIR_BACKENDS];
	struct conform_result res;

	hang_guard(CASE_GUARD_S);
	conform_run(cc, backend, backend_caps(backend), 0, &res);
	if (res.status == CONFORM_SKIP)
		cr_skip_test("%s on %s: %s", cc->name, backend, res.evidence);
	cr_assert_eq(res.status, CONFORM_PASS, "%s on %s: %s", cc->name, backend, res.evidence);
}

/* ---- the runner itself: a case that crashes, exits, hangs, or leaves workers behind ---- */

/* SIGABRT, since ASan turns a SIGSEGV into exit status 1 (then: "exited ... without a verdict"). */
static int crashes(struct conform_ctx *c)
{
	(void)c;
	raise(SIGABRT);
	return CONFORM_PASS;
}

static int exits(struct conform_ctx *c)
{
	(void)c;
	_exit(3);
}

static int leftover[2];         /* a pipe whose write end the runner's stray workers hold */

/* Fork a worker that outlives the case, holding leftover's write end; then hang or pass. */
static int leave_worker(int hang)
{
	if (fork() == 0)
		for (;;)
			pause();
	if (hang)
		for (;;)
			pause();
	return CONFORM_PASS;
}

static int hangs(struct conform_ctx *c)
{
	(void)c;
	return leave_worker(1);
}

static int passes_with_worker(struct conform_ctx *c)
{
	(void)c;
	return leave_worker(0);
}

static int fails_with_evidence(struct conform_ctx *c)
{
	CHECK(c, 0, "first %s", "evidence");
	return CONFORM_PASS;
}

static int skips(struct conform_ctx *c)
{
	return conform_skip(c, "because");
}

static void run_fake(int (*fn)(struct conform_ctx *), unsigned needs, unsigned caps,
		     struct conform_result *res)
{
	const struct conform_case cc = { .name = "fake.case", .summary = "a test of the runner",
					 .needs = needs, .run = fn, .timeout_s = 1 };

	conform_run(&cc, "mutex", caps, 0, res);
}

Test(conform, runner_reports_crash_exit_skip_and_fail)
{
	struct conform_result res;

	run_fake(crashes, 0, 0, &res);
	cr_assert_eq(res.status, CONFORM_FAIL);
	cr_assert(strstr(res.evidence, "killed by signal 6"), "evidence: %s", res.evidence);
	run_fake(exits, 0, 0, &res);
	cr_assert_eq(res.status, CONFORM_FAIL);
	cr_assert(strstr(res.evidence, "exited with status 3 without a verdict"), "evidence: %s",
		  res.evidence);
	run_fake(fails_with_evidence, 0, 0, &res);
	cr_assert_eq(res.status, CONFORM_FAIL);
	cr_assert(!strncmp(res.evidence, "first evidence (test_conform.c:", 31), "evidence: %s",
		  res.evidence);
	run_fake(skips, 0, 0, &res);
	cr_assert_eq(res.status, CONFORM_SKIP);
	cr_assert_str_eq(res.evidence, "because");
	run_fake(crashes, MMS_CAP_EXPORT_FD | MMS_CAP_READ_NOWAIT, MMS_CAP_READ_NOWAIT, &res);
	cr_assert_eq(res.status, CONFORM_SKIP, "a case that needs a missing bit does not run");
	cr_assert_str_eq(res.evidence, "needs MMS_CAP_EXPORT_FD");
}

/* Whatever a case leaves in its process group is killed: EOF once every writer is gone. */
static void expect_workers_gone(void)
{
	char c;

	close(leftover[1]);
	cr_assert_eq(read(leftover[0], &c, 1), 0, "a worker of the case is still alive");
	close(leftover[0]);
}

Test(conform, runner_ends_a_hang_and_its_workers, .timeout = 30)
{
	struct conform_result res;

	hang_guard(30);
	cr_assert_eq(pipe(leftover), 0);
	run_fake(hangs, 0, 0, &res);
	cr_assert_eq(res.status, CONFORM_FAIL);
	cr_assert_str_eq(res.evidence, "no result after 1 s (hang)");
	expect_workers_gone();
	cr_assert_eq(pipe(leftover), 0);
	run_fake(passes_with_worker, 0, 0, &res);
	cr_assert_eq(res.status, CONFORM_PASS, "evidence: %s", res.evidence);
	expect_workers_gone();
}
