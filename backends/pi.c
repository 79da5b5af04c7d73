/* pi.c -- a robust, process-shared, priority-inheritance pthread mutex guards both value slots.
 *
 * Protocol: as mutex (mutex.c): get and set take the mutex, set writes the slot that is not
 * current and publishes it with one release store of the generation. The mutex is
 * PTHREAD_PRIO_INHERIT: its lock word holds the owner's thread id and a waiter sleeps in the
 * kernel (FUTEX_LOCK_PI2, CLOCK_MONOTONIC slices), which lends the owner the waiter's priority
 * while it waits, so a low-priority holder cannot be starved by middle-priority work.
 * Ordering: the mutex orders everything (the kernel's rt_mutex hands it over); the owner record
 * beside it is written after the lock's acquire and cleared before the unlock's release
 * (robust_mutex.c).
 * Crash story: as mutex. glibc keeps the mutex on the holder's robust list (or in list_op_pending
 * while it takes it); at the holder's death the kernel sets FUTEX_OWNER_DIED and clears the
 * owner's thread id, or hands the lock to the first waiter with FUTEX_OWNER_DIED set; the next
 * holder gets EOWNERDEAD and marks it consistent. A half-written slot was never published, so
 * nothing needs repair.
 *
 * What differs from mutex: the kernel looks up the thread a PI lock word names. When the word
 * names no thread (a scribble), glibc 2.36 asserts (`e != ESRCH || !robust`); when it names a
 * kernel thread, it aborts ("The futex facility returned an unexpected error code"). So a waiter
 * reads the word and hands it to glibc only when it is free (thread id 0: the kernel takes it
 * over, with a dead owner's FUTEX_OWNER_DIED) or when the owner record vouches for the thread it
 * names in our pid namespace and that thread is alive and no kernel thread. Any other word
 * (a holder between its lock and its record, a holder in another pid namespace, a scribble) is
 * waited on by reading it again after short naps, never by a kernel call, and judged as mutex
 * judges a holder (every MMS_OWNER_CHECK_NS: a word no live holder wrote is MMS_ECORRUPT after a
 * few looks). A holder in another pid namespace thus gets no priority boost, but is waited for.
 *
 * Limits: a peer that rewrites the lock word in the instant between a waiter's check and the
 * kernel's read of it can still make glibc abort that waiter; one that has made a waiter attach
 * to the wrong owner and then writes the real holder's id back can make glibc abort the holder's
 * unlock (the kernel refuses it with EINVAL). The robust-list pointers inside the mutex are the
 * same as mutex's. Like mutex, this backend is for processes that trust each other, not
 * MMS_CAP_HOSTILE_SAFE (README, "Threat model").
 */
#include <errno.h>
#include <pthread.h>
#include <time.h>
#include <unistd.h>

#include "mmshare.h"
#include "backend.h"
#include "deadline.h"
#include "process.h"

#define PF_KTHREAD      0x00200000  /* linux/sched.h: /proc/TID/stat flags of a kernel thread */
#define NAP_MIN_NS      20000L      /* first nap of a waiter that may not call the kernel */
#define NAP_MAX_NS      1000000L    /* its longest nap: what a holder in another namespace costs */

static int pi_open(struct mms_store *s)
{
	struct mms_area *a = mms_area_of(s);
	int err = mms_area_open(a, MMS_STORE_ANON);

	if (!err && (err = mms_rmutex_init_protocol(a, PTHREAD_PRIO_INHERIT)))
		mms_area_close(a);
	return err;
}

static int lock_word(struct mms_area *a)
{
	return __atomic_load_n(&a->hdr->mutex.__data.__lock, __ATOMIC_RELAXED);
}

/* A thread the kernel can make the owner of a PI futex: alive, not a zombie, not the kernel's. */
static int may_own_futex(pid_t tid)
{
	struct mms_thread_sched ts;

	if (mms_thread_sched(tid, &ts))
		return 0;
	return ts.state != 'Z' && ts.state != 'X' && !(ts.flags & PF_KTHREAD);
}

/*
 * Whether glibc may take the lock word to the kernel now: free, or a recorded holder of our pid
 * namespace that is a live user thread. The word is read again after the slow look at /proc, so
 * only a word that stayed the same throughout is trusted.
 */
static int kernel_may_see(struct mms_area *a)
{
	int word = lock_word(a);
	pid_t tid = word & MMS_FUTEX_TID_MASK;

	if (tid == 0)
		return 1;
	if (tid == gettid() || !mms_rmutex_recorded_here(a, word) || !may_own_futex(tid))
		return 0;
	return lock_word(a) == word;
}

/* Sleep for *nap_ns (doubling it up to NAP_MAX_NS), but not past the deadline. */
static void nap(const struct mms_deadline *dl, int64_t *nap_ns)
{
	struct timespec until = mms_deadline_slice(dl, *nap_ns);

	clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &until, NULL);
	if (*nap_ns < NAP_MAX_NS)
		*nap_ns *= 2;
}

/*
 * Wait for the mutex as s->timeout_ns allows: a look at the holder every MMS_OWNER_CHECK_NS
 * (robust_mutex.c judges it), and in between either glibc's wait in the kernel, up to the next
 * look, or naps while the word is not one the kernel may see.
 */
static int pi_wait(struct mms_area *a)
{
	struct mms_holder_seen seen = { 0 };
	struct mms_deadline dl;
	struct timespec until;
	int64_t next_look = 0, nap_ns = NAP_MIN_NS;
	int r;

	mms_deadline_start(&dl, a->store.timeout_ns);
	for (;;) {
		if (mms_now_ns() >= next_look) {
			r = mms_rmutex_holder_check(a, &seen);
			if (r)
				return r;
			next_look = mms_now_ns() + MMS_OWNER_CHECK_NS;
		}
		if (mms_deadline_passed(&dl))
			return ETIMEDOUT;
		if (!kernel_may_see(a)) {
			nap(&dl, &nap_ns);
			continue;
		}
		nap_ns = NAP_MIN_NS;
		until = mms_deadline_slice(&dl, next_look - mms_now_ns());
		r = pthread_mutex_clocklock(&a->hdr->mutex, CLOCK_MONOTONIC, &until);
		if (r != ETIMEDOUT)
			return r;
	}
}

/*
 * The uncontended path is glibc's trylock, a compare-and-swap from 0, taken only when the word
 * reads 0: on a word with FUTEX_OWNER_DIED trylock asks the kernel too (FUTEX_TRYLOCK_PI), so
 * such a word goes through pi_wait's checks like any other taken one.
 */
static int pi_lock(struct mms_store *s, enum mms_lock_mode mode)
{
	struct mms_area *a = mms_area_of(s);
	pthread_mutex_t *m = &a->hdr->mutex;
	uint64_t ns = mms_pid_namespace();
	int r = EBUSY;

	(void)mode;
	if (__atomic_load_n(&m->__data.__kind, __ATOMIC_RELAXED) != a->mutex_kind)
		return MMS_ECORRUPT;
	if (lock_word(a) == 0)
		r = pthread_mutex_trylock(m);
	if (r == EBUSY) {
		s->stats->lock_contended++;
		r = pi_wait(a);
	}
	return mms_rmutex_finish(s, r, ns);
}

const struct mms_backend mms_backend_pi = {
	.abi     = MMS_BACKEND_ABI,
	.state_size = sizeof(struct mms_area),
	.name    = "pi",
	.summary = "robust process-shared priority-inheritance mutex; dead owners repaired (EOWNERDEAD)",
	.caps    = MMS_CAP_CRASH_SAFE | MMS_CAP_MAPPING,
	.open    = pi_open,
	.close   = mms_area_close_method,
	.lock    = pi_lock,
	.unlock  = mms_rmutex_unlock,
	.get     = mms_area_get_locked,
	.set     = mms_area_set_locked,
	.mapping = mms_area_mapping,
};
