/* lease.c -- cases: a holder stopped past its lease loses the lock, and fencing refuses its calls. */
#include <signal.h>
#include <stdio.h>
#include <time.h>

#include "bench.h"
#include "cases.h"

#define LEASE_WAIT_MS 60000     /* a bound on the successor's lock: the lease must end before it */

/* What the stopped holder reports after it is let go on, in order. */
enum { R_SET, R_GET, R_UNLOCK, R_RELOCK, R_UNLOCK2, R_INTS };

static void __attribute__((noreturn)) stalled_holder(struct mms *m, int ready, int go, int out)
{
	int r[R_INTS] = { 0 }, g;
	char buf[16];
	size_t len;

	r[0] = mms_lock(m);
	if (!r[0])
		r[0] = mms_set(m, "holder", 6);
	if (case_send(ready, r, 1) || r[0] || case_recv(go, &g, 1))
		_exit(2);
	r[R_SET] = mms_set(m, "stale", 5);
	r[R_GET] = mms_get(m, buf, sizeof(buf), &len);
	r[R_UNLOCK] = mms_unlock(m);
	r[R_RELOCK] = mms_lock(m);
	r[R_UNLOCK2] = r[R_RELOCK] ? r[R_RELOCK] : mms_unlock(m);
	_exit(case_send(out, r, R_INTS) ? 3 : 0);
}

static double seconds_since(const struct timespec *t0)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)(t.tv_sec - t0->tv_sec) + (double)(t.tv_nsec - t0->tv_nsec) / 1e9;
}

/*
 * The holder is stopped (SIGSTOP) while it holds the lock; the parent's lock must then succeed
 * once the lease ends, and its set stand. Let go on (SIGCONT), the holder's set, get and unlock
 * under its lost lock must say MMS_EFENCED and change nothing; its next lock works again.
 * *waited: how long the parent's lock waited, s (what the lease had left), for the run below.
 */
static int fenced_after_stop(struct conform_ctx *c, struct mms *m, double *waited)
{
	int ready[2], go[2], out[2], r[R_INTS], g = 1, st;
	struct timespec t0;
	char buf[16];
	size_t len;
	pid_t pid;

	CHECK(c, !pipe(ready) && !pipe(go) && !pipe(out), "pipe failed");
	pid = fork();
	CHECK(c, pid >= 0, "fork failed");
	if (pid == 0)
		stalled_holder(m, ready[1], go[0], out[1]);
	close(out[1]);
	CHECK(c, !case_recv(ready[0], r, 1) && r[0] == 0, "the holder's lock and set said %s",
	      conform_code(r[0]));
	CHECK(c, kill(pid, SIGSTOP) == 0 && waitpid(pid, &st, WUNTRACED) == pid && WIFSTOPPED(st),
	      "the holder could not be stopped");
	clock_gettime(CLOCK_MONOTONIC, &t0);
	CHECK_OK(c, mms_set_timeout(m, LEASE_WAIT_MS));
	CHECK_OK(c, mms_lock(m));
	*waited = seconds_since(&t0);
	CHECK_OK(c, mms_set(m, "successor", 9));
	CHECK_OK(c, mms_unlock(m));
	kill(pid, SIGCONT);
	CHECK(c, !case_send(go[1], &g, 1), "the holder is gone");
	CHECK(c, !case_recv(out[0], r, R_INTS), "the holder died without reporting (status %d)",
	      case_wait(pid));
	CHECK(c, case_wait(pid) == 0, "the holder failed");
	CHECK(c, r[R_SET] == MMS_EFENCED, "the stopped holder's set after its lease said %s, want "
	      "MMS_EFENCED", conform_code(r[R_SET]));
	CHECK(c, r[R_GET] == MMS_EFENCED, "its get under the lost lock said %s, want MMS_EFENCED",
	      conform_code(r[R_GET]));
	CHECK(c, r[R_UNLOCK] == MMS_EFENCED, "its unlock of the lost lock said %s, want "
	      "MMS_EFENCED", conform_code(r[R_UNLOCK]));
	CHECK(c, r[R_RELOCK] == 0 && r[R_UNLOCK2] == 0, "its next lock and unlock said %s, %s",
	      conform_code(r[R_RELOCK]), conform_code(r[R_UNLOCK2]));
	CHECK_OK(c, mms_get(m, buf, sizeof(buf), &len));
	CHECK(c, len == 9 && !memcmp(buf, "successor", 9), "the successor's set was overwritten "
	      "by the stopped holder (fencing failed)");
	return CONFORM_PASS;
}

/*
 * A checked bench run in which one lock holder is stopped for three times what the lease had
 * left above (and at least 1.5 s): every completed read-modify-write must still have its own
 * value (no lost update), the history must be linearizable, and MMS_EFENCED is the only error.
 */
static int stalled_run(struct conform_ctx *c, double waited)
{
	static struct bench_opts o;
	static struct bench_result r;
	char stall[32], duration[32];
	double t = waited * 3 > 1.5 ? waited * 3 : 1.5;
	char *argv[] = { "conform", "--procs", "3", "--write-ratio", "50", "--size", "64",
			 "--rmw", "60", "--duration", duration, "--warmup", "0", "--check", "--quiet",
			 "--stall", "1", "--stall-time", stall, NULL };
	struct bench_point pt = { .backend = c->backend, .mode = BENCH_RAW, .procs = 3,
				  .write_ratio = 50, .rmw = 60, .size = 64, .seq = 1, .of = 1 };

	snprintf(stall, sizeof(stall), "%.2f", t);
	snprintf(duration, sizeof(duration), "%.2f", t + 1);
	CHECK(c, bench_parse(&o, (int)(sizeof(argv) / sizeof(argv[0])) - 1, argv) == 0,
	      "the bench refused its options");
	CHECK(c, bench_run_point(&o, &pt, &r) == 0, "the run could not be set up");
	CHECK(c, !r.hung, "the run hung");
	CHECK(c, r.stalls == 1 && r.stalls_in_lock == 1, "%u stalls were made, %u of a holder",
	      r.stalls, r.stalls_in_lock);
	CHECK(c, r.torn == 0 && r.violations == 0, "%llu torn, %llu violations; first: %s",
	      (unsigned long long)r.torn, (unsigned long long)r.violations, r.first_violation.why);
	CHECK(c, r.lost_updates == 0, "%llu lost updates: a stopped holder's write landed after "
	      "its lease", (unsigned long long)r.lost_updates);
	CHECK(c, r.errors_total == r.errors[-MMS_EFENCED], "%llu errors besides MMS_EFENCED",
	      (unsigned long long)(r.errors_total - r.errors[-MMS_EFENCED]));
	conform_note(c, "holder stopped %.1f s holding the lock: %llu calls said MMS_EFENCED; %llu "
		     "operations checked", t,
		     (unsigned long long)r.errors[-MMS_EFENCED], (unsigned long long)r.history_ops);
	return CONFORM_PASS;
}

static int stalled_holder_case(struct conform_ctx *c)
{
	struct mms *m;
	double waited = 0;
	int verdict;

	CHECK_OK(c, mms_new(&m, c->backend, 16));
	verdict = fenced_after_stop(c, m, &waited);
	mms_free(m);
	return verdict == CONFORM_PASS ? stalled_run(c, waited) : verdict;
}

CONFORM_CASE(lease_stalled_holder,
	.name = "lease.stalled_holder",
	.summary = "a holder stopped past its lease: the lock passes on, its later calls MMS_EFENCED",
	.needs = MMS_CAP_LEASE,
	.run = stalled_holder_case,
	.timeout_s = 120);
