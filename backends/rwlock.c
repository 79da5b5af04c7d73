/* rwlock.c -- a process-shared pthread rwlock, writer-preferring, with claims to name a dead holder.
 *
 * Protocol: get takes the rwlock shared, set and mms_lock exclusive; set writes the slot that is
 * not current and publishes it by storing the new generation (area.c). glibc's writer-preferring
 * kind (PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP) keeps a stream of readers from starving
 * writers: once a writer waits, new readers queue behind it.
 * Ordering: the rwlock orders everything (acquire on lock, release on unlock); the claims around
 * it are relaxed stores on the caller's own cache line (claims.c).
 * Crash story: NOT crash-safe. Nothing undoes a holder that dies: its read or write share, or a
 * waiting writer's mark, stays in the rwlock for good. Waiters wait in slices and read the
 * claims (claims.h): a dead holder's claim makes them return MMS_EDEAD, and every later call on
 * the area says it at once, instead of waiting on a corpse. The value is whole (a half-written
 * slot is never published), but the area is unusable: make a new one.
 * Limits: all users see one /proc (pid namespaces under it are fine); up to 63 processes in
 * the lock or waiting for it at once (more wait for a claim slot).
 */
#include <errno.h>
#include <pthread.h>
#include <time.h>
#include <unistd.h>

#include "mmshare.h"
#include "backend.h"
#include "claims.h"

_Static_assert(sizeof(pthread_rwlock_t) <= MMS_AREA_LOCK_BYTES, "the rwlock fits the lock line");

static int rw_init(void *lock)
{
	pthread_rwlockattr_t attr;
	int r;

	r = pthread_rwlockattr_init(&attr);
	if (r)
		return r;
	r = pthread_rwlockattr_setpshared(&attr, PTHREAD_PROCESS_SHARED);
	if (!r)
		r = pthread_rwlockattr_setkind_np(&attr, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
	if (!r)
		r = pthread_rwlock_init(lock, &attr);
	pthread_rwlockattr_destroy(&attr);
	return r;
}

static int rw_try(void *lock, enum mms_lock_mode mode)
{
	return mode == MMS_LOCK_SHARED ? pthread_rwlock_tryrdlock(lock) : pthread_rwlock_trywrlock(lock);
}

/*
 * glibc refuses a lock whose writer field names the calling thread (EDEADLK), which here is a
 * dead writer whose thread id we were given, or a writer in another pid namespace with our id:
 * the slice is waited out instead, and the claims judge who holds it.
 */
static int rw_timed(void *lock, enum mms_lock_mode mode, const struct timespec *until)
{
	const pthread_rwlock_t *rw = lock;

	if (__atomic_load_n(&rw->__data.__cur_writer, __ATOMIC_RELAXED) == gettid()) {
		clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, until, NULL);
		return ETIMEDOUT;
	}
	if (mode == MMS_LOCK_SHARED)
		return pthread_rwlock_clockrdlock(lock, CLOCK_MONOTONIC, until);
	return pthread_rwlock_clockwrlock(lock, CLOCK_MONOTONIC, until);
}

static int rw_unlock(void *lock, enum mms_lock_mode mode)
{
	(void)mode;
	return pthread_rwlock_unlock(lock);
}

/* __shared and __flags: written by init, read by every call (the futex flag, the kind). */
static int rw_intact(const void *lock, const void *fresh)
{
	const pthread_rwlock_t *rw = lock, *f = fresh;

	return __atomic_load_n(&rw->__data.__shared, __ATOMIC_RELAXED) == f->__data.__shared &&
	       __atomic_load_n(&rw->__data.__flags, __ATOMIC_RELAXED) == f->__data.__flags;
}

#define RW_WRPHASE  1u           /* glibc's PTHREAD_RWLOCK_WRPHASE bit of __readers */
#define RW_WRLOCKED 2u           /* glibc's PTHREAD_RWLOCK_WRLOCKED bit of __readers */

/*
 * glibc's rwlock keeps two pairs of words that change one after the other: the write-phase bit
 * of __readers and bit 0 of __wrphase_futex, the write-locked bit and bit 0 of
 * __writers_futex. A waiter that finds a pair disagreeing spins until it agrees
 * (pthread_rwlock_common.c: the primary writer's loop, and the waits that time out, "we must
 * not use futex_wait anymore"). Live, a pair disagrees for a few instructions; written over,
 * or left by a holder killed between the two stores, for ever. So a waiter calls the timed
 * lock only while both pairs agree.
 */
static int rw_wait_safe(const void *lock)
{
	const pthread_rwlock_t *rw = lock;
	unsigned r = __atomic_load_n(&rw->__data.__readers, __ATOMIC_RELAXED);
	unsigned wpf = __atomic_load_n(&rw->__data.__wrphase_futex, __ATOMIC_RELAXED);
	unsigned wf = __atomic_load_n(&rw->__data.__writers_futex, __ATOMIC_RELAXED);

	return !(r & RW_WRPHASE) == !(wpf & 1) && !(r & RW_WRLOCKED) == !(wf & 1);
}

static const struct mms_claimed_lock rwlock_ops = {
	.try_lock   = rw_try,
	.timed_lock = rw_timed,
	.unlock     = rw_unlock,
	.init       = rw_init,
	.intact     = rw_intact,
	.wait_safe  = rw_wait_safe,
};

static int rwlock_open(struct mms_store *s)
{
	return mms_claimed_open(s, &rwlock_ops);
}

const struct mms_backend mms_backend_rwlock = {
	.abi     = MMS_BACKEND_ABI,
	.state_size = sizeof(struct mms_claimed),
	.name    = "rwlock",
	.summary = "process-shared pthread rwlock, writer-preferring; readers share; a dead holder: MMS_EDEAD",
	.caps    = MMS_CAP_SHARED_READ | MMS_CAP_MAPPING,
	.open    = rwlock_open,
	.close   = mms_claimed_close,
	.lock    = mms_claimed_lock,
	.unlock  = mms_claimed_unlock,
	.get     = mms_area_get_locked,
	.set     = mms_area_set_locked,
	.mapping = mms_area_mapping,
};
