/* posixsem.c -- an unnamed process-shared POSIX semaphore as a lock, with claims to name a dead holder.
 *
 * Protocol: a semaphore of value 1 in the lock line; get, set and mms_lock all take it (sem_wait),
 * so readers exclude each other; set writes the slot that is not current and publishes it by
 * storing the new generation (area.c).
 * Ordering: sem_wait acquires, sem_post releases; the claims around them are relaxed stores on
 * the caller's own cache line (claims.c).
 * Crash story: NOT crash-safe. A holder that dies never posts: the semaphore stays at 0 for good.
 * Waiters wait in slices (sem_clockwait) and read the claims (claims.h): a dead holder's claim
 * makes them return MMS_EDEAD, and every later call on the area says it at once, instead of
 * waiting on a corpse. The value is whole (a half-written slot is never published), but the area
 * is unusable: make a new one.
 * Limits: all users see one /proc (pid namespaces under it are fine); up to 63 processes in
 * the lock or waiting for it at once (more wait for a claim slot).
 */
#include <errno.h>
#include <semaphore.h>
#include <stdint.h>

#include "mmshare.h"
#include "backend.h"
#include "claims.h"

_Static_assert(sizeof(sem_t) <= MMS_AREA_LOCK_BYTES, "the semaphore fits the lock line");

static int sem_make(void *lock)
{
	return sem_init(lock, 1, 1) ? errno : 0;
}

/*
 * A holder of a binary semaphore leaves it at 0. More means its count was written over: the
 * unit just taken is given back and the lock refused, so lock and unlock stay paired.
 */
static int taken_whole(sem_t *sem)
{
	int value;

	if (sem_getvalue(sem, &value) == 0 && value == 0)
		return 0;
	sem_post(sem);
	return EINVAL;
}

static int sem_try(void *lock, enum mms_lock_mode mode)
{
	(void)mode;
	if (sem_trywait(lock) == 0)
		return taken_whole(lock);
	return errno == EAGAIN ? EBUSY : errno;
}

static int sem_timed(void *lock, enum mms_lock_mode mode, const struct timespec *until)
{
	(void)mode;
	while (sem_clockwait(lock, CLOCK_MONOTONIC, until))
		if (errno != EINTR)
			return errno;
	return taken_whole(lock);
}

static int sem_release(void *lock, enum mms_lock_mode mode)
{
	(void)mode;
	return sem_post(lock) ? errno : 0;
}

/*
 * glibc's sem_t on 64-bit Linux: the value and waiter count in one 64-bit word, then the futex's
 * private flag, which init writes and every wait and post hands to the kernel.
 */
struct sem_words {
	uint64_t data;
	int private_flag;
};
_Static_assert(sizeof(struct sem_words) <= sizeof(sem_t), "glibc's sem_t layout");

static int sem_intact(const void *lock, const void *fresh)
{
	const struct sem_words *w = lock, *f = fresh;

	return __atomic_load_n(&w->private_flag, __ATOMIC_RELAXED) == f->private_flag;
}

/* sem_clockwait returns at its time whatever the count says. */
static int sem_wait_safe(const void *lock)
{
	(void)lock;
	return 1;
}

static const struct mms_claimed_lock posixsem_ops = {
	.try_lock   = sem_try,
	.timed_lock = sem_timed,
	.unlock     = sem_release,
	.init       = sem_make,
	.intact     = sem_intact,
	.wait_safe  = sem_wait_safe,
};

static int posixsem_open(struct mms_store *s)
{
	return mms_claimed_open(s, &posixsem_ops);
}

const struct mms_backend mms_backend_posixsem = {
	.abi     = MMS_BACKEND_ABI,
	.state_size = sizeof(struct mms_claimed),
	.name    = "posixsem",
	.summary = "unnamed process-shared POSIX semaphore (sem_wait/sem_post); a dead holder: MMS_EDEAD",
	.caps    = MMS_CAP_MAPPING,
	.open    = posixsem_open,
	.close   = mms_claimed_close,
	.lock    = mms_claimed_lock,
	.unlock  = mms_claimed_unlock,
	.get     = mms_area_get_locked,
	.set     = mms_area_set_locked,
	.mapping = mms_area_mapping,
};
