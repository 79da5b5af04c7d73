/* test_ownership.c -- a lock is owned by the thread and process that took it, not by a pid. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>

#include "common.h"

#define OWNERSHIP_TIMEOUT_S 15  /* each test's Criterion .timeout and hang_guard */

/* What the pid-reuse processes report: how far they got, errno there, and X's lock and unlock. */
enum reuse_stage { REUSED, NO_PID_NS, NO_LAST_PID, NOT_REUSED, HOLDER_FAILED };
enum { R_STAGE, R_ERR, R_LOCK, R_UNLOCK, R_INTS };

static void reuse_report(int out, int stage, int err, int lock, int unlock)
{
	int r[R_INTS] = { [R_STAGE] = stage, [R_ERR] = err, [R_LOCK] = lock, [R_UNLOCK] = unlock };

	send_ints(out, r, R_INTS);
}

/* The next pid this pid namespace hands out will be pid. */
static int next_pid_is(pid_t pid)
{
	char num[16];
	int fd = open("/proc/sys/kernel/ns_last_pid", O_WRONLY);
	int n = snprintf(num, sizeof(num), "%d", pid - 1);
	int ok = fd >= 0 && write(fd, num, (size_t)n) == n;

	if (fd >= 0)
		close(fd);
	return ok ? 0 : -1;
}

/* F: once told the holder's pid (it is reaped by then), fork X with that pid; X locks. */
static void reuse_holders_pid(struct mms *m, int reaped, int out)
{
	int hpid, err;
	pid_t x;

	if (recv_ints(reaped, &hpid, 1))
		_exit(1);
	if (next_pid_is(hpid)) {
		reuse_report(out, NO_LAST_PID, errno, 0, 0);
		_exit(0);
	}
	x = fork();
	if (x == 0) {
		if (getpid() != hpid) {
			reuse_report(out, NOT_REUSED, getpid(), 0, 0);
			_exit(0);
		}
		err = mms_lock(m);
		reuse_report(out, REUSED, 0, err, err ? 0 : mms_unlock(m));
		_exit(0);
	}
	_exit(child_status(x));
}

/* H: take the lock, fork F (which inherits the handle), die holding it. */
static void hold_and_die(struct mms *m, int reaped, int out)
{
	int err = mms_lock(m);

	if (err) {
		reuse_report(out, HOLDER_FAILED, 0, err, 0);
		_exit(0);
	}
	if (fork() == 0)
		reuse_holders_pid(m, reaped, out);
	_exit(0);
}

/* The namespace's init (pid 1): reap H, tell F H's pid, then reap F, which it inherited. */
static int reuse_init(struct mms *m, int out)
{
	int reaped[2], hpid;

	if (pipe(reaped))
		return 1;
	hpid = fork();
	if (hpid == 0) {
		close(reaped[1]);
		hold_and_die(m, reaped[0], out);
	}
	close(reaped[0]);
	child_status(hpid);
	send_ints(reaped[1], &hpid, 1);
	close(reaped[1]);
	while (wait(NULL) > 0)
		;
	return 0;
}

static int pid_reuse_in_new_ns(struct mms *m, int out)
{
	pid_t init;

	if (unshare(CLONE_NEWPID)) {
		reuse_report(out, NO_PID_NS, errno, 0, 0);
		return 0;
	}
	init = fork();
	if (init == 0)
		_exit(reuse_init(m, out));
	return child_status(init);
}

/*
 * Ownership is the process, not its pid number. In a fresh pid namespace, where pids are
 * predictable and ns_last_pid can be set: H takes the lock and forks F, which inherits the
 * handle; H dies holding the lock; F forks X with H's pid. X does not own the lock: its
 * mms_lock repairs the dead owner and succeeds, and its unlock succeeds. Before the fix X
 * believes it holds the lock and its mms_lock says MMS_ELOCKED.
 */
BACKEND_PARAMS(ownership, reused_pid_does_not_own)
ParameterizedTest(int *i, ownership, reused_pid_does_not_own, .timeout = OWNERSHIP_TIMEOUT_S)
{
	struct mms *m;
	int res, r[R_INTS];
	pid_t pid;

	hang_guard(OWNERSHIP_TIMEOUT_S);
	cr_assert_eq(mms_new(&m, backend_at(i), 16), 0);
	pid = fork_reporter(m, pid_reuse_in_new_ns, &res);
	cr_assert_eq(recv_ints(res, r, R_INTS), 0, "the pid-reuse processes died without reporting");
	cr_assert_eq(child_status(pid), 0);
	if (r[R_STAGE] == NO_PID_NS)
		cr_skip_test("unshare(CLONE_NEWPID): %s", strerror(r[R_ERR]));
	if (r[R_STAGE] == NO_LAST_PID)
		cr_skip_test("cannot write /proc/sys/kernel/ns_last_pid: %s", strerror(r[R_ERR]));
	if (r[R_STAGE] == NOT_REUSED)
		cr_skip_test("ns_last_pid did not give the dead holder's pid (got %d)", r[R_ERR]);
	cr_assert_eq(r[R_STAGE], REUSED, "the holder's lock said \"%s\"", mms_strerror(r[R_LOCK]));
	if (!(backend_caps(backend_at(i)) & MMS_CAP_CRASH_SAFE)) {
		/* not ELOCKED: X does not take itself for the holder; the dead one wedged the lock */
		cr_assert_eq(r[R_LOCK], MMS_EDEAD, "lock by a process given a dead holder's pid, on "
			     "a backend that is not crash-safe, said \"%s\"", mms_strerror(r[R_LOCK]));
		mms_free(m);
		return;
	}
	cr_assert_eq(r[R_LOCK], 0, "lock by a process given a dead holder's pid said \"%s\"",
		     mms_strerror(r[R_LOCK]));
	cr_assert_eq(r[R_UNLOCK], 0, "its unlock said \"%s\"", mms_strerror(r[R_UNLOCK]));
	cr_assert_eq(mms_set_timeout(m, 1000), 0);
	cr_assert_eq(mms_lock(m), 0, "the lock is free once X released it");
	cr_assert_eq(mms_unlock(m), 0);
	mms_free(m);
}

/* Calls a second thread makes on a handle the first thread has locked, in this order. */
enum { T_UNLOCK, T_LOCK, T_GET, T_SET, T_CALLS };
static const char *const thread_call[T_CALLS] = { "unlock", "lock", "get", "set" };

struct intruder {
	struct mms *m;
	int err[T_CALLS];
	int made;                   /* how many calls it made */
};

/*
 * Stop at the first call that is not refused: it may have released or taken the lock, and the
 * next one could then wait for the first thread, which is waiting in pthread_join.
 */
static void *intrude(void *arg)
{
	struct intruder *t = arg;
	char buf[16];
	size_t len;

	for (t->made = 0; t->made < T_CALLS; t->made++) {
		int *err = &t->err[t->made];

		switch (t->made) {
		case T_UNLOCK:
			*err = mms_unlock(t->m);
			break;
		case T_LOCK:
			*err = mms_lock(t->m);
			break;
		case T_GET:
			*err = mms_get(t->m, buf, sizeof(buf), &len);
			break;
		default:
			*err = mms_set(t->m, "thread", 6);
			break;
		}
		if (*err != MMS_ETHREAD) {
			t->made++;
			break;
		}
	}
	return NULL;
}

/*
 * The lock belongs to the thread that took it: while thread 1 holds it, thread 2's unlock,
 * lock, get and set on the handle return MMS_ETHREAD and change nothing; thread 1 then unlocks,
 * and another process can take the lock. Before the fix thread 2's unlock is let through
 * (MMS_ECORRUPT for the mutex backends, 0 for fcntl, which drops the lock).
 */
BACKEND_PARAMS(ownership, other_thread_is_refused)
ParameterizedTest(int *i, ownership, other_thread_is_refused, .timeout = OWNERSHIP_TIMEOUT_S)
{
	struct intruder t = { 0 };
	pthread_t th;
	char buf[16];
	size_t len;
	int k, err;
	pid_t pid;

	hang_guard(OWNERSHIP_TIMEOUT_S);
	t.m = area_with(backend_at(i), "before");
	cr_assert_eq(mms_lock(t.m), 0);
	cr_assert_eq(pthread_create(&th, NULL, intrude, &t), 0);
	cr_assert_eq(pthread_join(th, NULL), 0);
	for (k = 0; k < t.made; k++)
		cr_assert_eq(t.err[k], MMS_ETHREAD, "thread 2's %s said \"%s\"", thread_call[k],
			     mms_strerror(t.err[k]));
	cr_assert_eq(mms_get(t.m, buf, sizeof(buf), &len), 0);
	cr_assert(len == 6 && !memcmp(buf, "before", 6), "thread 2 changed the value");
	cr_assert_eq(mms_unlock(t.m), 0, "thread 1's unlock");
	pid = fork();
	if (pid == 0) {
		mms_set_timeout(t.m, 1000);
		err = mms_lock(t.m);
		_exit(err ? -err : mms_unlock(t.m) ? 100 : 0);
	}
	err = child_status(pid);
	cr_assert_eq(err, 0, "another process could not take the lock (status %d: -MMS_E*, or "
		     "100: its unlock failed)", err);
	mms_free(t.m);
}
