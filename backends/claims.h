/* claims.h -- a lock the kernel does not track, made to tell its dead holders from live ones.
 *
 * A process-shared rwlock or semaphore says nothing about who holds it, and nothing undoes a
 * holder that dies. So every acquisition is announced in a claims page mapped beside the area:
 * a claim names the process (pid and start time) and its stage, WAITING before it calls the
 * lock, HOLDING once it has it, RELEASING just before it lets go, and is cleared after. A waiter
 * waits in slices; after each it reads the claims:
 *   - a dead process's HOLDING claim: the lock is lost for good: MMS_EDEAD;
 *   - a dead WAITING or RELEASING claim, and no process took the lock (the slots' taken counts
 *     stood still) for CLAIM_SUSPECT_SLICES slices in a row with no live HOLDING claim to explain
 *     it: it died inside the lock's own bookkeeping: MMS_EDEAD;
 *   - the lock taken that long with no other claim at all: no process is inside it, so its
 *     words were written over: MMS_ECORRUPT.
 * MMS_EDEAD is then written in the page, and every later call on the area says it at once.
 * The claims page is not part of the area's mapping, so a peer scribbling on the area cannot
 * forge or erase a claim. The lock's own words are in the area: the ones glibc never changes are
 * compared with the handle's private copy before every call, so a lock written over before the
 * call is MMS_ECORRUPT; one written over during the call is beyond that (not hostile-safe).
 */
#ifndef MMS_CLAIMS_H
#define MMS_CLAIMS_H

#include <stdint.h>
#include <time.h>

#include "mmshare-backend.h"

#define MMS_CLAIM_SLOTS 63          /* claims in the page; one more line holds the verdict */

/* One page, shared by the creator's descendants; a claim per cache line, so they never contend. */
struct mms_claims {
	uint64_t dead;              /* nonzero once a waiter found the lock lost: every call fails */
	uint8_t  pad0[56];
	struct {
		uint64_t who;       /* identity | stage << 30 (claims.c), or 0 when free */
		uint64_t view;      /* the /proc that numbers who (mms_proc_view), 0 until known */
		uint64_t taken;     /* times a claim in this slot reached HOLDING: the lock's progress */
		uint8_t  pad[40];
	} slot[MMS_CLAIM_SLOTS];
};

/* The lock itself, as the backend keeps it in the area's lock line. */
struct mms_claimed_lock {
	/* 0 or EBUSY; anything else is an errno from a lock whose words were overwritten. */
	int (*try_lock)(void *lock, enum mms_lock_mode mode);
	/* 0, ETIMEDOUT once until (CLOCK_MONOTONIC) passes, or an errno as above. */
	int (*timed_lock)(void *lock, enum mms_lock_mode mode, const struct timespec *until);
	/* 0, or an errno: the lock refused an unlock its words say we cannot make. */
	int (*unlock)(void *lock, enum mms_lock_mode mode);
	/* Make a fresh lock at lock (in the area, before any fork): 0 or an errno. */
	int (*init)(void *lock);
	/*
	 * Whether the words of lock that glibc never changes after init still equal fresh's (the
	 * lock as init made it, in the handle's private memory). glibc trusts them (the futex
	 * flags above all) and aborts the process on what the kernel makes of written-over ones.
	 */
	int (*intact)(const void *lock, const void *fresh);
	/*
	 * Whether timed_lock may be called on the words as they are now: some states, passing in
	 * a live lock, make glibc spin without end if its wait times out in them; when one stands,
	 * the waiter sleeps its slice instead of calling.
	 */
	int (*wait_safe)(const void *lock);
};

/* The state of a backend built on claims: the area, the claims page, this handle's claim. */
struct mms_claimed {
	struct mms_area area;               /* first: value and lock in our layout */
	struct mms_claims *claims;          /* the claims page, mapped before any fork */
	const struct mms_claimed_lock *ops; /* the lock the backend keeps in the lock line */
	int slot;                           /* this handle's claim while it is in the lock */
	_Alignas(64) unsigned char fresh[MMS_AREA_LOCK_BYTES]; /* the lock as init made it, private */
};

/* open: the area (anonymous shared memory), a fresh lock in its lock line, the claims page. */
int  mms_claimed_open(struct mms_store *s, const struct mms_claimed_lock *ops);
void mms_claimed_close(struct mms_store *s);

/*
 * lock and unlock with the claims around them: 0, MMS_ETIMEDOUT (the handle's timeout), MMS_EDEAD,
 * MMS_ECORRUPT, or MMS_ESYS (/proc cannot name this process, or an unexpected errno).
 */
int  mms_claimed_lock(struct mms_store *s, enum mms_lock_mode mode);
int  mms_claimed_unlock(struct mms_store *s, enum mms_lock_mode mode);

#endif
