/* robust_mutex.c -- the robust, process-shared pthread mutex that mutex, memfd and seqlock share.
 *
 * A scribbled mutex is caught two ways: its kind word is compared with the one glibc wrote, and a
 * waiter that finds the lock word naming a thread that no longer exists reports MMS_ECORRUPT. One
 * case is beyond any check: bytes written over the mutex *while* a process holds it can send that
 * process's unlock (glibc's robust-list bookkeeping) through garbage pointers.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <time.h>

#include "mmshare.h"
#include "backend.h"

#define FUTEX_TID_MASK  0x3fffffff  /* linux/futex.h: the owner's thread id in a robust lock word */
#define OWNER_CHECK_NS  200000000L  /* how long a waiter sleeps before it checks the owner is alive */

static int attr_init(pthread_mutexattr_t *attr)
{
	if (pthread_mutexattr_init(attr) ||
	    pthread_mutexattr_setpshared(attr, PTHREAD_PROCESS_SHARED) ||
	    pthread_mutexattr_setrobust(attr, PTHREAD_MUTEX_ROBUST))
		return MMS_ESYS;
	return 0;
}

/*
 * The kind word glibc stores for a robust, process-shared mutex. Each handle compares the word in
 * the area with it before locking, so a scribbled mutex is reported instead of trusted.
 */
int mms_rmutex_kind_expected(void)
{
	pthread_mutexattr_t attr;
	pthread_mutex_t probe;
	int kind;

	if (attr_init(&attr))
		return -1;
	pthread_mutex_init(&probe, &attr);
	kind = probe.__data.__kind;
	pthread_mutex_destroy(&probe);
	pthread_mutexattr_destroy(&attr);
	return kind;
}

int mms_rmutex_init(struct mms_area *a)
{
	pthread_mutexattr_t attr;
	int err = attr_init(&attr);

	if (err)
		return err;
	if (pthread_mutex_init(&a->hdr->mutex, &attr))
		err = MMS_ESYS;
	pthread_mutexattr_destroy(&attr);
	a->mutex_kind = a->hdr->mutex.__data.__kind;
	return err;
}

/*
 * The kernel repairs the lock word of an owner that dies, so a word that still names a thread
 * that does not exist was never registered with it: the mutex was scribbled over.
 */
static int owner_is_gone(pthread_mutex_t *m)
{
	int word = __atomic_load_n(&m->__data.__lock, __ATOMIC_RELAXED);
	pid_t tid = word & FUTEX_TID_MASK;

	return tid != 0 && kill(tid, 0) < 0 && errno == ESRCH;
}

static int wait_for_owner(pthread_mutex_t *m)
{
	struct timespec deadline;
	int r;

	for (;;) {
		clock_gettime(CLOCK_MONOTONIC, &deadline);
		deadline.tv_nsec += OWNER_CHECK_NS;
		if (deadline.tv_nsec >= 1000000000L) {
			deadline.tv_sec++;
			deadline.tv_nsec -= 1000000000L;
		}
		r = pthread_mutex_clocklock(m, CLOCK_MONOTONIC, &deadline);
		if (r != ETIMEDOUT)
			return r;
		if (owner_is_gone(m))
			return ENOTRECOVERABLE;
	}
}

int mms_rmutex_lock(struct mms_area *a, enum mms_lock_mode mode)
{
	pthread_mutex_t *m = &a->hdr->mutex;
	int r;

	(void)mode;
	if (__atomic_load_n(&m->__data.__kind, __ATOMIC_RELAXED) != a->mutex_kind)
		return MMS_ECORRUPT;
	r = pthread_mutex_trylock(m);
	if (r == EBUSY) {
		a->stats->lock_contended++;
		r = wait_for_owner(m);
	}
	if (r == EOWNERDEAD) {
		/* Writers never publish a half-written slot, so there is no state to repair. */
		a->stats->owner_repairs++;
		r = pthread_mutex_consistent(m);
	}
	if (r == 0)
		return 0;
	if (r == ENOTRECOVERABLE || r == EINVAL)
		return MMS_ECORRUPT;
	errno = r;
	return MMS_ESYS;
}

int mms_rmutex_unlock(struct mms_area *a, enum mms_lock_mode mode)
{
	(void)mode;
	/* We hold it by our own bookkeeping, so a refusal means the lock word was overwritten. */
	return pthread_mutex_unlock(&a->hdr->mutex) ? MMS_ECORRUPT : 0;
}
