/* rmw.c -- cases: lock/get/set/unlock from several processes is an exact read-modify-write. */
#include <sched.h>

#include "cases.h"

#define COUNTER_PROCS 4
#define COUNTER_INCREMENTS 3000

/*
 * One increment under the lock: 0, or the first code that went wrong. Every 16th yields the CPU
 * between its get and its set, so a lock that excludes nobody loses updates even where the
 * workers would otherwise run one after another (2 CPUs, 4 workers, short time slices).
 */
static int increment(struct mms *m, int k)
{
	uint64_t v = 0;
	size_t len;
	int err = mms_lock(m);

	if (!err)
		err = mms_get(m, &v, sizeof(v), &len);
	if (k % 16 == 0)
		sched_yield();
	v++;
	if (!err)
		err = mms_set(m, &v, sizeof(v));
	if (mms_unlock(m) && !err)
		err = MMS_ELOCKED;
	return err;
}

/* Increment COUNTER_INCREMENTS times; report [the first error, increments done]. */
static void __attribute__((noreturn)) counter_worker(struct mms *m, int gate[2], int out)
{
	int r[2] = { 0, 0 };

	case_gate_wait(gate);
	while (r[1] < COUNTER_INCREMENTS && !r[0])
		if (!(r[0] = increment(m, r[1])))
			r[1]++;
	_exit(case_send(out, r, 2) ? 1 : 0);
}

static int counter_exact(struct conform_ctx *c)
{
	pid_t pids[COUNTER_PROCS];
	int p[2], gate[2], r[2], k;
	uint64_t v = 0;
	struct mms *m;
	size_t len;

	CHECK(c, !pipe(p) && !pipe(gate), "pipe failed");
	CHECK_OK(c, mms_new(&m, c->backend, sizeof(v)));
	CHECK_OK(c, mms_set(m, &v, sizeof(v)));
	for (k = 0; k < COUNTER_PROCS; k++) {
		pids[k] = fork();
		CHECK(c, pids[k] >= 0, "fork failed");
		if (pids[k] == 0)
			counter_worker(m, gate, p[1]);
	}
	close(p[1]);
	case_gate_open(gate);
	for (k = 0; k < COUNTER_PROCS; k++) {
		CHECK(c, !case_recv(p[0], r, 2), "a worker died without reporting");
		CHECK(c, r[0] == 0, "a worker's increment said %s after %d increments",
		      conform_code(r[0]), r[1]);
	}
	for (k = 0; k < COUNTER_PROCS; k++)
		CHECK(c, case_wait(pids[k]) == 0, "a worker failed");
	CHECK_OK(c, mms_get(m, &v, sizeof(v), &len));
	CHECK(c, v == COUNTER_PROCS * COUNTER_INCREMENTS, "lost updates: the counter is %llu after "
	      "%d increments", (unsigned long long)v, COUNTER_PROCS * COUNTER_INCREMENTS);
	mms_free(m);
	return CONFORM_PASS;
}

CONFORM_CASE(rmw_counter_exact,
	.name = "rmw.counter_exact",
	.summary = "4 processes x 3,000 lock/get/increment/set/unlock: the counter ends exact",
	.run = counter_exact,
	.timeout_s = 60);
