/* oracle.c -- cases: short `mmshare bench --check` runs: whole, linearizable, no lost update. */
#include <stdio.h>

#include "bench.h"
#include "cases.h"

#define ORACLE_SECONDS 0.2      /* measured time: kills land at fractions of it, whatever the pace;
				 * 0.1 s gave ofd 980 checked operations on a loaded 2-CPU machine */
#define ORACLE_SECONDS_MAX 10.0 /* a slow backend (a server away) runs again, this long at most */
#define ORACLE_MIN_OPS 1000     /* a history shorter than this checked too little to pass */

/* One oracle case: the bench options that differ between them. */
struct oracle_run {
	unsigned procs;         /* worker processes */
	const char *rmw;        /* --rmw: percent of lock/get/set/unlock operations */
	const char *kill;       /* --kill: workers SIGKILLed during the run */
};

/* The first thing wrong with a checked run, as evidence; 0 when nothing is. */
static int judge(struct conform_ctx *c, const struct bench_result *r, unsigned kills)
{
	size_t k;

	CHECK(c, !r->hung, "the run hung: the bench watchdog ended it after %.1f s", r->duration_s);
	CHECK(c, r->torn == 0, "%llu torn values in %llu checked operations",
	      (unsigned long long)r->torn, (unsigned long long)r->history_ops);
	CHECK(c, r->violations == 0, "not linearizable, %llu violations; first (%s): %s",
	      (unsigned long long)r->violations, hist_violation_name(r->first_violation.kind),
	      r->first_violation.why);
	CHECK(c, r->lost_updates == 0, "%llu lost updates in %llu lock/get/set/unlock operations",
	      (unsigned long long)r->lost_updates, (unsigned long long)r->rmws);
	for (k = 0; k < BENCH_NERR; k++)
		CHECK(c, r->errors[k] == 0 || (bench_declared_dead(r) && k == -MMS_EDEAD),
		      "%llu calls said %s", (unsigned long long)r->errors[k],
		      k ? conform_code(-(int)k) : "an unknown code");
	if (bench_declared_dead(r)) {
		/* the kill that killed the area left nothing more to check */
		conform_note(c, "not crash-safe: %llu calls said MMS_EDEAD after %u kill(s) inside a "
			     "call; no hang", (unsigned long long)r->errors[-MMS_EDEAD], r->kills);
		return CONFORM_PASS;
	}
	CHECK(c, r->kills == kills, "%u of %u kills were made", r->kills, kills);
	return CONFORM_PASS;
}

/* Run one point of `mmshare bench --check` for seconds on the ctx's backend and judge it. */
static int oracle_for(struct conform_ctx *c, const struct oracle_run *run, double seconds,
		      struct bench_result *out)
{
	static struct bench_opts o;
	static struct bench_result r;
	char procs[16], secs[32];
	char *argv[] = { "conform", "--procs", procs, "--write-ratio", "50", "--size", "256",
			 "--duration", secs, "--warmup", "0", "--check", "--quiet",
			 "--rmw", (char *)run->rmw, "--kill", (char *)run->kill, NULL };
	struct bench_point pt = { .backend = c->backend, .mode = BENCH_RAW, .write_ratio = 50,
				  .size = 256, .seq = 1, .of = 1 };
	int err;

	snprintf(procs, sizeof(procs), "%u", run->procs);
	snprintf(secs, sizeof(secs), "%.2f", seconds);
	err = bench_parse(&o, (int)(sizeof(argv) / sizeof(argv[0])) - 1, argv);
	CHECK(c, err == 0, "the bench refused its options (%d)", err);
	pt.procs = o.procs[0];
	pt.rmw = o.rmw;
	err = bench_run_point(&o, &pt, &r);
	CHECK(c, err == 0, "the run could not be set up: %s", conform_code(err));
	*out = r;
	return judge(c, &r, o.kill);
}

/*
 * A verdict needs ORACLE_MIN_OPS checked operations. A backend too slow for them in the short
 * run (a server on the other end of a socket) runs once more, long enough at the pace it showed.
 */
static int oracle(struct conform_ctx *c, const struct oracle_run *run)
{
	static struct bench_result r;
	double seconds = ORACLE_SECONDS;
	int verdict = oracle_for(c, run, seconds, &r);

	if (verdict != CONFORM_PASS || bench_declared_dead(&r))
		return verdict;
	while (r.history_ops < ORACLE_MIN_OPS && seconds < ORACLE_SECONDS_MAX) {
		seconds *= 3.0 * ORACLE_MIN_OPS / (r.history_ops ? (double)r.history_ops : 1.0);
		seconds = seconds < ORACLE_SECONDS_MAX ? seconds : ORACLE_SECONDS_MAX;
		verdict = oracle_for(c, run, seconds, &r);
		if (verdict != CONFORM_PASS)
			return verdict;
	}
	CHECK(c, r.history_ops >= ORACLE_MIN_OPS, "only %llu operations were checked",
	      (unsigned long long)r.history_ops);
	return CONFORM_PASS;
}

static int check_2(struct conform_ctx *c)
{
	return oracle(c, &(struct oracle_run){ 2, "0", "0" });
}

static int check_4(struct conform_ctx *c)
{
	return oracle(c, &(struct oracle_run){ 4, "0", "0" });
}

static int rmw_2(struct conform_ctx *c)
{
	return oracle(c, &(struct oracle_run){ 2, "20", "0" });
}

static int rmw_4(struct conform_ctx *c)
{
	return oracle(c, &(struct oracle_run){ 4, "20", "0" });
}

static int kill_2(struct conform_ctx *c)
{
	return oracle(c, &(struct oracle_run){ 2, "20", "3" });
}

static int kill_4(struct conform_ctx *c)
{
	return oracle(c, &(struct oracle_run){ 4, "20", "3" });
}

CONFORM_CASE(oracle_check_2,
	.name = "oracle.check_2",
	.summary = "bench --check, 2 processes, 50% writes: values whole, history linearizable",
	.run = check_2,
	.timeout_s = 60);

CONFORM_CASE(oracle_check_4,
	.name = "oracle.check_4",
	.summary = "bench --check, 4 processes, 50% writes: values whole, history linearizable",
	.run = check_4,
	.timeout_s = 60);

CONFORM_CASE(oracle_rmw_2,
	.name = "oracle.rmw_2",
	.summary = "bench --check --rmw 20, 2 processes: also no lost update",
	.run = rmw_2,
	.timeout_s = 60);

CONFORM_CASE(oracle_rmw_4,
	.name = "oracle.rmw_4",
	.summary = "bench --check --rmw 20, 4 processes: also no lost update",
	.run = rmw_4,
	.timeout_s = 60);

CONFORM_CASE(oracle_kill_2,
	.name = "oracle.kill_2",
	.summary = "bench --check --rmw 20 --kill 3, 2 processes: all of it with workers SIGKILLed",
	.run = kill_2,
	.timeout_s = 60);

CONFORM_CASE(oracle_kill_4,
	.name = "oracle.kill_4",
	.summary = "bench --check --rmw 20 --kill 3, 4 processes: all of it with workers SIGKILLed",
	.run = kill_4,
	.timeout_s = 60);
