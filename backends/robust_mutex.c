/* robust_mutex.c -- the robust, process-shared pthread mutex that mutex and seqlock share.
 *
 * A dead holder is the kernel's business: its robust list marks the lock word FUTEX_OWNER_DIED
 * and the next locker gets EOWNERDEAD. What the kernel never sees is a scribbled mutex, so a
 * waiter checks the holder in slices of OWNER_CHECK_NS:
 *   - a kind word other than the one glibc wrote: MMS_ECORRUPT at once;
 *   - each holder writes an owner record (pid namespace, tid, check) beside the mutex once it
 *     holds it, and clears it before it unlocks. A record from another namespace cannot be
 *     checked (kill(tid, 0) there names another process): that holder is waited for.
 *   - a lock word naming the caller's own thread (which this handle does not hold): MMS_ECORRUPT;
 *   - a word whose record names a thread that does not exist, or that has no record while the
 *     thread it names is asleep or running elsewhere, the same in SUSPECT_LOOKS consecutive
 *     checks, was not written by a live holder: MMS_ECORRUPT. A thread that is stopped, or
 *     runnable without getting the CPU, may be a holder caught between its lock and its record:
 *     it is waited for.
 *   - the handle's timeout (mms_set_timeout) bounds the whole wait: MMS_ETIMEDOUT.
 * Ordering: the record is written with relaxed stores after the lock's acquire and cleared before
 * the unlock's release, so the next holder's record always comes after ours.
 * Limit: glibc keeps the holder's robust-list pointers inside the shared mutex while it is held,
 * and unlock writes through them; a peer that can write the mapping can redirect those writes.
 * These backends are for processes that trust each other (README, "Threat model").
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <time.h>

#include "mmshare.h"
#include "backend.h"
#include "deadline.h"
#include "process.h"

#define FUTEX_TID_MASK  MMS_FUTEX_TID_MASK
#define OWNER_CHECK_NS  MMS_OWNER_CHECK_NS

static int attr_init(pthread_mutexattr_t *attr, int protocol)
{
	if (pthread_mutexattr_init(attr) ||
	    pthread_mutexattr_setpshared(attr, PTHREAD_PROCESS_SHARED) ||
	    pthread_mutexattr_setrobust(attr, PTHREAD_MUTEX_ROBUST) ||
	    pthread_mutexattr_setprotocol(attr, protocol))
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

	if (attr_init(&attr, PTHREAD_PRIO_NONE))
		return -1;
	pthread_mutex_init(&probe, &attr);
	kind = probe.__data.__kind;
	pthread_mutex_destroy(&probe);
	pthread_mutexattr_destroy(&attr);
	return kind;
}

/* protocol: PTHREAD_PRIO_NONE, or PTHREAD_PRIO_INHERIT for the pi backend. */
int mms_rmutex_init_protocol(struct mms_area *a, int protocol)
{
	pthread_mutexattr_t attr;
	int err = attr_init(&attr, protocol);

	if (err)
		return err;
	if (pthread_mutex_init(&a->hdr->mutex, &attr))
		err = MMS_ESYS;
	pthread_mutexattr_destroy(&attr);
	a->mutex_kind = a->hdr->mutex.__data.__kind;
	return err;
}

int mms_rmutex_init(struct mms_area *a)
{
	return mms_rmutex_init_protocol(a, PTHREAD_PRIO_NONE);
}

int mms_rmutex_open_method(struct mms_store *s)
{
	struct mms_area *a = mms_area_of(s);
	int err = mms_area_open(a, MMS_STORE_ANON);

	if (!err && (err = mms_rmutex_init(a)))
		mms_area_close(a);
	return err;
}

/* Not a secret: it only makes a random scribble pass for a record once in 2^32. */
static uint32_t owner_check(uint64_t ns, uint32_t tid)
{
	return (uint32_t)(ns ^ ns >> 32) ^ tid ^ 0x6d6d7321u;
}

/*
 * Called holding the mutex: glibc has just written our tid into the lock word. ns was read
 * before locking, so nothing slow (the first read is a stat) stands between lock and record.
 */
static void owner_record(struct mms_area *a, uint64_t ns)
{
	struct mms_header *h = a->hdr;
	uint32_t tid = (uint32_t)__atomic_load_n(&h->mutex.__data.__lock, __ATOMIC_RELAXED) &
		       FUTEX_TID_MASK;

	__atomic_store_n(&h->owner_ns, ns, __ATOMIC_RELAXED);
	__atomic_store_n(&h->owner_tid, tid, __ATOMIC_RELAXED);
	__atomic_store_n(&h->owner_check, owner_check(ns, tid), __ATOMIC_RELAXED);
}

/* What a waiter makes of the holder: each field read once from the area. */
enum holder_verdict { HOLDER_LIVE, HOLDER_SELF, HOLDER_SUSPECT };

#define SUSPECT_LOOKS 3          /* consecutive suspect looks at one word that make it corrupt */

/*
 * A thread named by a lock word without a record: a holder between its lock and its record
 * cannot be asleep there, so it is either a scribble or a holder that is stopped (SIGSTOP, a
 * debugger) or not being scheduled, whose CPU time stands still.
 */
static int may_be_stalled_holder(pid_t tid, struct mms_holder_seen *seen)
{
	struct mms_thread_sched ts;
	int was_known = seen->cpu_known;
	uint64_t before = seen->cpu_ticks;

	if (mms_thread_sched(tid, &ts))
		return 0;
	seen->cpu_known = 1;
	seen->cpu_ticks = ts.cpu_ticks;
	if (ts.state == 'T' || ts.state == 't')
		return 1;
	if (ts.state != 'R' && ts.state != 'D')
		return 0;
	return !was_known || ts.cpu_ticks == before;
}

/*
 * Whether the owner record names the holder in word, in our own pid namespace: the one case in
 * which the thread id in the word means a thread here.
 */
int mms_rmutex_recorded_here(struct mms_area *a, int word)
{
	struct mms_header *h = a->hdr;
	uint64_t ns = __atomic_load_n(&h->owner_ns, __ATOMIC_RELAXED);
	uint32_t rtid = __atomic_load_n(&h->owner_tid, __ATOMIC_RELAXED);
	uint32_t rcheck = __atomic_load_n(&h->owner_check, __ATOMIC_RELAXED);

	return rtid == ((uint32_t)word & FUTEX_TID_MASK) && rtid != 0 &&
	       rcheck == owner_check(ns, rtid) && ns != 0 && ns == mms_pid_namespace();
}

static enum holder_verdict holder_judge(struct mms_area *a, struct mms_holder_seen *seen)
{
	struct mms_header *h = a->hdr;
	int word = __atomic_load_n(&h->mutex.__data.__lock, __ATOMIC_RELAXED);
	uint64_t ns = __atomic_load_n(&h->owner_ns, __ATOMIC_RELAXED);
	uint32_t rtid = __atomic_load_n(&h->owner_tid, __ATOMIC_RELAXED);
	uint32_t rcheck = __atomic_load_n(&h->owner_check, __ATOMIC_RELAXED);
	pid_t tid = word & FUTEX_TID_MASK;
	int recorded = rtid == (uint32_t)tid && rcheck == owner_check(ns, rtid);

	if (word != seen->word)
		seen->cpu_known = 0;
	seen->word = word;
	if (tid == 0)
		return HOLDER_LIVE;     /* free, or the kernel is handing over a dead owner's lock */
	if (recorded && (ns == 0 || ns != mms_pid_namespace()))
		return HOLDER_LIVE;     /* another namespace: its tid means nothing here */
	if (tid == gettid())
		return HOLDER_SELF;
	if (recorded)
		return kill(tid, 0) < 0 && errno == ESRCH ? HOLDER_SUSPECT : HOLDER_LIVE;
	return may_be_stalled_holder(tid, seen) ? HOLDER_LIVE : HOLDER_SUSPECT;
}

/*
 * 0 while the holder may be alive; ENOTRECOVERABLE when the mutex names ourselves, or the same
 * lock word is suspect in SUSPECT_LOOKS consecutive checks, OWNER_CHECK_NS apart: a real holder
 * writes its record within nanoseconds of taking the lock, so one suspect look can be a race
 * with it, and several are a holder that stopped between two instructions for longer than a
 * loaded scheduler ever keeps a runnable process waiting.
 */
int mms_rmutex_holder_check(struct mms_area *a, struct mms_holder_seen *seen)
{
	int prev_word = seen->word;
	enum holder_verdict v = holder_judge(a, seen);

	if (v == HOLDER_SELF)
		return ENOTRECOVERABLE;
	if (v != HOLDER_SUSPECT)
		seen->suspect = 0;
	else if (seen->word != prev_word)
		seen->suspect = 1;
	else if (++seen->suspect >= SUSPECT_LOOKS)
		return ENOTRECOVERABLE;
	return 0;
}

static __attribute__((noinline)) int wait_for_holder(struct mms_area *a)
{
	pthread_mutex_t *m = &a->hdr->mutex;
	struct mms_holder_seen seen = { 0 };
	struct mms_deadline dl;
	struct timespec until;
	int r;

	mms_deadline_start(&dl, a->store.timeout_ns);
	for (;;) {
		r = mms_rmutex_holder_check(a, &seen);
		if (r)
			return r;
		if (mms_deadline_passed(&dl))
			return ETIMEDOUT;
		until = mms_deadline_slice(&dl, OWNER_CHECK_NS);
		r = pthread_mutex_clocklock(m, CLOCK_MONOTONIC, &until);
		if (r != ETIMEDOUT)
			return r;
	}
}

int mms_rmutex_lock(struct mms_store *s, enum mms_lock_mode mode)
{
	struct mms_area *a = mms_area_of(s);
	pthread_mutex_t *m = &a->hdr->mutex;
	uint64_t ns = mms_pid_namespace();
	int r;

	(void)mode;
	if (__atomic_load_n(&m->__data.__kind, __ATOMIC_RELAXED) != a->mutex_kind)
		return MMS_ECORRUPT;
	r = pthread_mutex_trylock(m);
	if (r == EBUSY) {
		s->stats->lock_contended++;
		r = wait_for_holder(a);
	}
	if (r == 0) {
		owner_record(a, ns);    /* the uncontended path, kept a direct one */
		return 0;
	}
	return mms_rmutex_finish(s, r, ns);
}

/*
 * What a lock attempt that ended with pthread result r comes to: the owner record written when
 * we hold the mutex (ns read before locking), a dead owner's lock marked consistent, and r as an
 * MMS_E* code.
 */
int mms_rmutex_finish(struct mms_store *s, int r, uint64_t ns)
{
	struct mms_area *a = mms_area_of(s);
	pthread_mutex_t *m = &a->hdr->mutex;

	if (r == EOWNERDEAD) {
		/* Writers never publish a half-written slot, so there is no state to repair. */
		s->stats->owner_repairs++;
		r = pthread_mutex_consistent(m);
	}
	if (r == 0) {
		owner_record(a, ns);
		return 0;
	}
	if (r == ETIMEDOUT)
		return MMS_ETIMEDOUT;
	if (r == ENOTRECOVERABLE || r == EINVAL || r == EDEADLK)
		return MMS_ECORRUPT;
	errno = r;
	return MMS_ESYS;
}

/*
 * We hold it by our own bookkeeping, so a refusal means the lock word was overwritten. glibc's
 * unlock asserts on a kind it does not know, so a scribbled kind is refused here first (and
 * the mutex left held: every locker then stops at the same kind check). The record is cleared
 * first, so a later word naming us has none and is not mistaken for our lock.
 */
int mms_rmutex_unlock(struct mms_store *s, enum mms_lock_mode mode)
{
	struct mms_area *a = mms_area_of(s);
	pthread_mutex_t *m = &a->hdr->mutex;

	(void)mode;
	if (__atomic_load_n(&m->__data.__kind, __ATOMIC_RELAXED) != a->mutex_kind)
		return MMS_ECORRUPT;
	__atomic_store_n(&a->hdr->owner_tid, 0, __ATOMIC_RELAXED);     /* no word names tid 0 */
	return pthread_mutex_unlock(m) ? MMS_ECORRUPT : 0;
}
