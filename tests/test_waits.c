/* test_waits.c -- how long lock, get and set wait: scribbled lock words, timeouts, namespaces. */
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>

#include "common.h"
#include "inside.h"

#define WAIT_MS 50              /* a bound on a wait, never asserted as a time */
#define NS_WAIT_MS 700          /* longer than the 200 ms after which a waiter checks its owner */
#define WAITS_TIMEOUT_S 10      /* each test's Criterion .timeout and hang_guard */

/* What a waiter does before it waits. */
enum waiter_first {
	WAITER_IDLE,            /* nothing */
	WAITER_HOLDS,           /* takes the lock, and unlocks when released */
	WAITER_HELD_ONCE,       /* a set: it took the lock and gave it back */
};

/*
 * A child that stays alive until the parent writes to or closes *release, having done first what
 * first says. A test killed by its timeout closes *release too, so no child outlives it.
 */
static pid_t spawn_waiter(struct mms *m, enum waiter_first first, int *release)
{
	int take_lock = first == WAITER_HOLDS;
	int ready[2], go[2], err;
	pid_t pid;

	cr_assert_eq(pipe(ready), 0);
	cr_assert_eq(pipe(go), 0);
	pid = fork();
	cr_assert_neq(pid, -1);
	if (pid == 0) {
		close(ready[0]);
		close(go[1]);
		err = take_lock ? mms_lock(m) : 0;
		if (first == WAITER_HELD_ONCE)
			err = mms_set(m, "held", 4);
		send_ints(ready[1], &err, 1);
		recv_ints(go[0], &err, 1);
		_exit(take_lock && mms_unlock(m) ? 1 : 0);
	}
	close(ready[1]);
	close(go[0]);
	cr_assert_eq(recv_ints(ready[0], &err, 1), 0, "the waiter died before it was ready");
	cr_assert_eq(err, 0, "the waiter's lock said \"%s\"", mms_strerror(err));
	close(ready[0]);
	*release = go[1];
	return pid;
}

static void release_waiter(pid_t pid, int release)
{
	close(release);
	cr_assert_eq(child_status(pid), 0, "the waiter could not unlock");
}

static void expect_value(struct mms *m, const char *want)
{
	char buf[16];
	size_t len;
	int err = mms_get(m, buf, sizeof(buf), &len);

	cr_assert_eq(err, 0, "get said \"%s\"", mms_strerror(err));
	cr_assert(len == strlen(want) && !memcmp(buf, want, len), "the value changed");
}

/*
 * A lock word naming the caller's own thread, while its handle does not hold the lock, is no
 * lock the caller took: lock, set and a get that locks report MMS_ECORRUPT at once instead of
 * waiting for the caller to release it. Before the fix they wait for ever.
 */
BACKEND_PARAMS(waits, own_tid_in_lock_word)
ParameterizedTest(int *i, waits, own_tid_in_lock_word, .timeout = WAITS_TIMEOUT_S)
{
	enum word_role is_lock = lock_word_is_lock(backend_at(i));
	struct mms *m;
	char buf[16];
	size_t len;
	int err;

	hang_guard(WAITS_TIMEOUT_S);
	m = area_with(backend_at(i), "before");
	*lock_word(m) = gettid();
	err = mms_lock(m);
	expect_err(is_lock, err, MMS_ECORRUPT, "lock");
	if (err == 0)
		cr_assert_eq(mms_unlock(m), 0);
	expect_err(is_lock, mms_set(m, "after", 5), MMS_ECORRUPT, "set");
	err = mms_get(m, buf, sizeof(buf), &len);
	if (backend_caps(backend_at(i)) & MMS_CAP_READ_NOWAIT)
		cr_assert_eq(err, 0, "a reader that never waits said \"%s\"", mms_strerror(err));
	else
		expect_err(is_lock, err, MMS_ECORRUPT, "get");
	mms_free(m);
}

/* Write holder's id into the lock word, then lock: want where the word is the lock. */
static void lock_named(struct mms *m, pid_t holder, enum word_role is_lock, int want)
{
	int err;

	*lock_word(m) = holder;
	err = mms_lock(m);
	expect_err(is_lock, err, want, "lock");
	if (err == 0)
		cr_assert_eq(mms_unlock(m), 0);
}

/*
 * A lock word naming another live process that never took the lock (a child blocked on a pipe):
 * with a timeout shorter than the first look at the holder, lock and set give up with
 * MMS_ETIMEDOUT and the value stays. Before the fix they wait for ever. (Without a timeout the
 * looks find no owner record and report MMS_ECORRUPT: former_holder_in_lock_word.)
 */
BACKEND_PARAMS(waits, live_pid_in_lock_word)
ParameterizedTest(int *i, waits, live_pid_in_lock_word, .timeout = WAITS_TIMEOUT_S)
{
	enum word_role is_lock = lock_word_is_lock(backend_at(i));
	unsigned char line[64];
	struct mms *m;
	int release, err;
	pid_t pid;

	hang_guard(WAITS_TIMEOUT_S);
	m = area_with(backend_at(i), "before");
	memcpy(line, lock_word(m), sizeof(line));
	pid = spawn_waiter(m, WAITER_IDLE, &release);
	cr_assert_eq(mms_set_timeout(m, WAIT_MS), 0);
	lock_named(m, pid, is_lock, MMS_ETIMEDOUT);
	err = mms_set(m, "after", 5);
	expect_err(is_lock, err, MMS_ETIMEDOUT, "set");
	/* The child never held the lock; undo the scribble (the whole lock line, which the
	 * waits may have touched) to read the value back. */
	memcpy(lock_word(m), line, sizeof(line));
	expect_value(m, err ? "before" : "after");
	release_waiter(pid, release);
	mms_free(m);
}

/*
 * A lock word naming a live process that held the lock earlier and gave it back is no lock
 * either: its owner record went with its unlock, so lock and set report MMS_ECORRUPT, with no
 * timeout set. Before the fix the record outlived the unlock and they wait for ever.
 */
BACKEND_PARAMS(waits, former_holder_in_lock_word)
ParameterizedTest(int *i, waits, former_holder_in_lock_word, .timeout = WAITS_TIMEOUT_S)
{
	enum word_role is_lock = lock_word_is_lock(backend_at(i));
	struct mms *m;
	int release;
	pid_t pid;

	hang_guard(WAITS_TIMEOUT_S);
	m = area_with(backend_at(i), "before");
	pid = spawn_waiter(m, WAITER_HELD_ONCE, &release);
	lock_named(m, pid, is_lock, MMS_ECORRUPT);
	expect_err(is_lock, mms_set(m, "after", 5), MMS_ECORRUPT, "set");
	release_waiter(pid, release);
	mms_free(m);
}

/*
 * A lock word naming a process that no longer exists, which the kernel never saw die holding it:
 * lock and set report MMS_ECORRUPT instead of waiting for ever. (From test_scribble.c, whose
 * other test is the conformance case scribble.any_bytes now.)
 */
BACKEND_PARAMS(waits, dead_pid_in_lock_word)
ParameterizedTest(int *i, waits, dead_pid_in_lock_word, .timeout = WAITS_TIMEOUT_S)
{
	enum word_role is_lock = lock_word_is_lock(backend_at(i));
	struct mms *m;
	pid_t gone = fork();
	int err;

	if (gone == 0)
		_exit(0);
	cr_assert_eq(child_status(gone), 0);
	hang_guard(WAITS_TIMEOUT_S);
	m = area_with(backend_at(i), "before");
	*lock_word(m) = gone;
	err = mms_lock(m);
	expect_err(is_lock, err, MMS_ECORRUPT, "lock");
	if (err == 0)
		cr_assert_eq(mms_unlock(m), 0);
	expect_err(is_lock, mms_set(m, "after", 5), MMS_ECORRUPT, "set");
	mms_free(m);
}

/*
 * A child that makes its lock word look as if it had just taken the lock and not yet written
 * its owner record, then stops (SIGSTOP) until the parent kills it.
 */
static pid_t spawn_stopped_locker(struct mms *m)
{
	pid_t pid = fork();

	cr_assert_neq(pid, -1);
	if (pid == 0) {
		*lock_word(m) = gettid();
		area_of(m)->hdr->owner_tid = 0;
		raise(SIGSTOP);
		_exit(0);
	}
	return pid;
}

/*
 * A holder stopped between its lock and its owner record (a debugger, SIGSTOP) is a live
 * holder, not a scribble: with a timeout longer than the owner checks, lock and set give up
 * with MMS_ETIMEDOUT. Before the fix they report MMS_ECORRUPT after three checks.
 */
BACKEND_PARAMS(waits, stopped_holder_before_its_record)
ParameterizedTest(int *i, waits, stopped_holder_before_its_record, .timeout = WAITS_TIMEOUT_S)
{
	enum word_role is_lock = lock_word_is_lock(backend_at(i));
	struct mms *m;
	int st, err;
	pid_t pid;

	hang_guard(WAITS_TIMEOUT_S);
	m = area_with(backend_at(i), "before");
	pid = spawn_stopped_locker(m);
	cr_assert_eq(waitpid(pid, &st, WUNTRACED), pid);
	cr_assert(WIFSTOPPED(st), "the locker did not stop");
	cr_assert_eq(mms_set_timeout(m, NS_WAIT_MS), 0);
	err = mms_lock(m);
	expect_err(is_lock, err, MMS_ETIMEDOUT, "lock");
	if (err == 0)
		cr_assert_eq(mms_unlock(m), 0);
	expect_err(is_lock, mms_set(m, "after", 5), MMS_ETIMEDOUT, "set");
	kill(pid, SIGKILL);
	child_status(pid);
	*lock_word(m) = 0;
	mms_free(m);
}

/*
 * While another process holds the lock, a handle with a timeout gives up with MMS_ETIMEDOUT and
 * changes nothing: timeout 0 does not wait at all, WAIT_MS bounds the wait. A reader that never
 * waits (MMS_CAP_READ_NOWAIT) still reads; other backends' get times out too. Before the fix
 * the timeout is ignored and lock waits for ever.
 */
BACKEND_PARAMS(waits, timeout_while_another_holds)
ParameterizedTest(int *i, waits, timeout_while_another_holds, .timeout = WAITS_TIMEOUT_S)
{
	static const long timeouts[] = { 0, WAIT_MS };
	int nowait = backend_caps(backend_at(i)) & MMS_CAP_READ_NOWAIT;
	struct mms *m;
	char buf[16];
	size_t k, len;
	int release, err;
	pid_t pid;

	hang_guard(WAITS_TIMEOUT_S);
	m = area_with(backend_at(i), "before");
	pid = spawn_waiter(m, WAITER_HOLDS, &release);
	for (k = 0; k < sizeof(timeouts) / sizeof(timeouts[0]); k++) {
		cr_assert_eq(mms_set_timeout(m, timeouts[k]), 0);
		err = mms_lock(m);
		cr_assert_eq(err, MMS_ETIMEDOUT, "timeout %ld: lock said \"%s\"", timeouts[k],
			     mms_strerror(err));
		err = mms_set(m, "after", 5);
		cr_assert_eq(err, MMS_ETIMEDOUT, "timeout %ld: set said \"%s\"", timeouts[k],
			     mms_strerror(err));
		err = mms_get(m, buf, sizeof(buf), &len);
		if (nowait)
			cr_assert(err == 0 && len == 6 && !memcmp(buf, "before", 6),
				  "timeout %ld: a reader that never waits said \"%s\"", timeouts[k],
				  mms_strerror(err));
		else
			cr_assert_eq(err, MMS_ETIMEDOUT, "timeout %ld: get said \"%s\"",
				     timeouts[k], mms_strerror(err));
	}
	release_waiter(pid, release);
	expect_value(m, "before");
	mms_free(m);
}

/*
 * The grandchild of a process that unshared its pid namespace: it is pid 1 there and cannot see
 * the holder's pid. It reports [unshare errno, its pid, lock, set] through out.
 */
static int waiter_in_new_pid_ns(struct mms *m, int out)
{
	int r[4] = { 0 };
	pid_t pid;

	if (unshare(CLONE_NEWPID)) {
		r[0] = errno;
		return send_ints(out, r, 4) ? 1 : 0;
	}
	pid = fork();
	if (pid == 0) {
		r[1] = getpid();
		mms_set_timeout(m, NS_WAIT_MS);
		r[2] = mms_lock(m);
		if (r[2] == 0)
			mms_unlock(m);
		r[3] = mms_set(m, "after", 5);
		_exit(send_ints(out, r, 4) ? 1 : 0);
	}
	return child_status(pid);
}

/*
 * A live holder outside the waiter's pid namespace keeps the lock: the waiter cannot see its pid,
 * but that makes it no dead owner, so lock and set time out (MMS_ETIMEDOUT), never report
 * MMS_ECORRUPT. The holder releases only after the waiter reported. Before the fix both say
 * MMS_ECORRUPT after 0.2 s (mutex, seqlock, memfd) or wait for ever (fcntl).
 */
BACKEND_PARAMS(waits, holder_outside_pid_namespace)
ParameterizedTest(int *i, waits, holder_outside_pid_namespace, .timeout = WAITS_TIMEOUT_S)
{
	struct mms *m;
	int res, r[4];
	char buf[16];
	size_t len;
	pid_t pid;

	hang_guard(WAITS_TIMEOUT_S);
	m = area_with(backend_at(i), "before");
	cr_assert_eq(mms_lock(m), 0);
	pid = fork_reporter(m, waiter_in_new_pid_ns, &res);
	cr_assert_eq(recv_ints(res, r, 4), 0, "the waiter died without reporting");
	if (r[0])
		cr_skip_test("unshare(CLONE_NEWPID): %s", strerror(r[0]));
	cr_assert_eq(r[1], 1, "the waiter is not in a new pid namespace (pid %d)", r[1]);
	cr_assert_eq(r[2], MMS_ETIMEDOUT, "lock in another pid namespace said \"%s\"",
		     mms_strerror(r[2]));
	cr_assert_eq(r[3], MMS_ETIMEDOUT, "set in another pid namespace said \"%s\"",
		     mms_strerror(r[3]));
	cr_assert_eq(mms_get(m, buf, sizeof(buf), &len), 0);
	cr_assert(len == 6 && !memcmp(buf, "before", 6), "the value changed under a held lock");
	cr_assert_eq(mms_unlock(m), 0);
	cr_assert_eq(child_status(pid), 0);
	mms_free(m);
}

static int ns_release_fd;       /* read end of the pipe that releases the holder below */
static int ns_release_wr;       /* its write end, which only the test keeps open */

/*
 * A process that unshares its pid namespace and there forks, as pid 1, a holder whose pid in
 * the new namespace is *tid_wanted (the parent's own thread id, through ns_last_pid). The holder
 * takes the lock and reports [errno of the set-up, its pid, lock] through out, then keeps the
 * lock until ns_release_fd closes.
 */
static int holder_with_tid_in_new_ns(struct mms *m, int out, pid_t tid_wanted)
{
	int r[3] = { 0 };
	pid_t init, holder;
	FILE *f;

	close(ns_release_wr);
	if (unshare(CLONE_NEWPID)) {
		r[0] = errno;
		return send_ints(out, r, 3) ? 1 : 0;
	}
	init = fork();
	if (init != 0)
		return child_status(init);
	f = fopen("/proc/sys/kernel/ns_last_pid", "w");
	if (!f || fprintf(f, "%d", (int)tid_wanted - 1) < 0 || fclose(f)) {
		r[0] = errno ? errno : EIO;
		_exit(send_ints(out, r, 3) ? 1 : 0);
	}
	holder = fork();
	if (holder == 0) {
		r[1] = getpid();
		r[2] = mms_lock(m);
		send_ints(out, r, 3);
		read(ns_release_fd, r, 1);
		_exit(r[2] == 0 && mms_unlock(m) ? 1 : 0);
	}
	_exit(child_status(holder));
}

static pid_t ns_tid_wanted;

static int holder_with_our_tid(struct mms *m, int out)
{
	return holder_with_tid_in_new_ns(m, out, ns_tid_wanted);
}

/*
 * A holder in another pid namespace whose thread id there is the waiter's own is a live holder,
 * not the waiter: lock times out (MMS_ETIMEDOUT), never reports MMS_ECORRUPT. Before the fix the
 * waiter took the word for its own before it looked at the record's namespace.
 */
BACKEND_PARAMS(waits, holder_elsewhere_with_our_tid)
ParameterizedTest(int *i, waits, holder_elsewhere_with_our_tid, .timeout = WAITS_TIMEOUT_S)
{
	struct mms *m;
	int res, release[2], r[3], err;
	pid_t pid;

	hang_guard(WAITS_TIMEOUT_S);
	m = area_with(backend_at(i), "before");
	cr_assert_eq(pipe(release), 0);
	ns_release_fd = release[0];
	ns_release_wr = release[1];
	ns_tid_wanted = gettid();
	pid = fork_reporter(m, holder_with_our_tid, &res);
	close(release[0]);
	cr_assert_eq(recv_ints(res, r, 3), 0, "the holder died without reporting");
	if (r[0])
		cr_skip_test("a pid namespace with a chosen pid: %s", strerror(r[0]));
	cr_assert_eq(r[1], ns_tid_wanted, "the holder got pid %d, not %d", r[1], ns_tid_wanted);
	cr_assert_eq(r[2], 0, "the holder's lock said \"%s\"", mms_strerror(r[2]));
	cr_assert_eq(mms_set_timeout(m, NS_WAIT_MS), 0);
	err = mms_lock(m);
	if (err == 0)
		mms_unlock(m);
	close(release[1]);
	cr_assert_eq(err, MMS_ETIMEDOUT, "lock said \"%s\"", mms_strerror(err));
	cr_assert_eq(child_status(pid), 0);
	mms_free(m);
}
