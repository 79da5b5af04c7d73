/* claims.c -- claims around a lock that cannot tell its holders: a dead one is named, not waited on. */
#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#include "mmshare.h"
#include "backend.h"
#include "claims.h"
#include "deadline.h"
#include "process.h"

#define STAGE_SHIFT      30
#define STAGE_MASK       (3ULL << STAGE_SHIFT)
#define STAGE_WAITING    (1ULL << STAGE_SHIFT)
#define STAGE_HOLDING    (2ULL << STAGE_SHIFT)
#define STAGE_RELEASING  (3ULL << STAGE_SHIFT)

#define CLAIM_SLICE_NS        50000000L /* a waiter looks at the claims this often */
#define CLAIM_SUSPECT_SLICES  3         /* slices with the lock taken and unexplained */
#define CLAIM_FULL_PAUSE_NS   1000000L  /* a claim finding every slot taken waits this long */
#define CLAIM_NAP_NS          100000L   /* a waiter finding the lock's words mid-change naps */

static struct mms_claimed *claimed_of(struct mms_store *s)
{
	return (struct mms_claimed *)s;
}

static void *lock_of(struct mms_claimed *c)
{
	return mms_area_lock_line(&c->area);
}

int mms_claimed_open(struct mms_store *s, const struct mms_claimed_lock *ops)
{
	struct mms_claimed *c = claimed_of(s);
	void *page;
	int err;

	if (!mms_process_identity())
		return MMS_ESYS;        /* no /proc: a claim could not name us */
	err = mms_area_open(&c->area, MMS_STORE_ANON);
	if (err)
		return err;
	page = mmap(NULL, sizeof(struct mms_claims), PROT_READ | PROT_WRITE,
		    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (page == MAP_FAILED) {
		err = MMS_ESYS;
		goto close_area;
	}
	errno = ops->init(lock_of(c));
	if (errno) {
		err = MMS_ESYS;
		goto unmap_claims;
	}
	memcpy(c->fresh, lock_of(c), sizeof(c->fresh));
	c->claims = page;
	c->ops = ops;
	c->slot = -1;
	return 0;
unmap_claims:
	munmap(page, sizeof(struct mms_claims));
close_area:
	mms_area_close(&c->area);
	return err;
}

void mms_claimed_close(struct mms_store *s)
{
	struct mms_claimed *c = claimed_of(s);

	munmap(c->claims, sizeof(struct mms_claims));
	mms_area_close(&c->area);
}

static int claims_dead(const struct mms_claimed *c)
{
	return __atomic_load_n(&c->claims->dead, __ATOMIC_RELAXED) != 0;
}

/* HOLDING also counts one more acquisition in the slot, on the same line, for the judges. */
static void stage_set(struct mms_claimed *c, uint64_t stage)
{
	uint64_t *who = &c->claims->slot[c->slot].who;
	uint64_t was = __atomic_load_n(who, __ATOMIC_RELAXED);

	__atomic_store_n(who, (was & ~STAGE_MASK) | stage, __ATOMIC_RELAXED);
	if (stage == STAGE_HOLDING)
		__atomic_store_n(&c->claims->slot[c->slot].taken,
				 __atomic_load_n(&c->claims->slot[c->slot].taken, __ATOMIC_RELAXED) + 1,
				 __ATOMIC_RELAXED);
}

/* Take a free slot for a WAITING claim, from one our pid picks: 0, or -1 when all are taken. */
static int claim_take(struct mms_claimed *c, uint64_t me)
{
	unsigned home = (unsigned)((me >> 32) * 2654435761u) % MMS_CLAIM_SLOTS;
	unsigned k, i;
	uint64_t free_slot;

	for (k = 0; k < MMS_CLAIM_SLOTS; k++) {
		i = (home + k) % MMS_CLAIM_SLOTS;
		free_slot = 0;
		if (__atomic_compare_exchange_n(&c->claims->slot[i].who, &free_slot,
						me | STAGE_WAITING, 0, __ATOMIC_RELAXED,
						__ATOMIC_RELAXED)) {
			c->slot = (int)i;
			__atomic_store_n(&c->claims->slot[i].view, mms_proc_view(), __ATOMIC_RELEASE);
			return 0;
		}
	}
	return -1;
}

/*
 * The claims are stored relaxed: the lock's own acquire and release order what they guard, and
 * a claim is only ever read by a waiter judging, after a slice, a state that has stood for it.
 * The one fence: a claim's view is cleared before its who, and written after it, so a judge
 * that reads who and then a nonzero view reads that claimant's view.
 */
static void claim_drop(struct mms_claimed *c)
{
	__atomic_store_n(&c->claims->slot[c->slot].view, 0, __ATOMIC_RELAXED);
	__atomic_store_n(&c->claims->slot[c->slot].who, 0, __ATOMIC_RELEASE);
	c->slot = -1;
}

/* What the other claims say, each read once. */
struct claims_seen {
	uint64_t taken;         /* the sum of the slots' taken counts */
	int others;             /* claims but ours */
	int live_holding;       /* of which live and HOLDING */
	int dead_holding;       /* dead and HOLDING */
	int dead_unsure;        /* dead, WAITING or RELEASING */
};

static void claims_read(const struct mms_claimed *c, struct claims_seen *seen)
{
	uint64_t who, view, mine = mms_proc_view();
	int i, dead;

	*seen = (struct claims_seen){ 0 };
	for (i = 0; i < MMS_CLAIM_SLOTS; i++) {
		seen->taken += __atomic_load_n(&c->claims->slot[i].taken, __ATOMIC_RELAXED);
		if (i == c->slot)
			continue;
		who = __atomic_load_n(&c->claims->slot[i].who, __ATOMIC_ACQUIRE);
		if (!who)
			continue;
		view = __atomic_load_n(&c->claims->slot[i].view, __ATOMIC_ACQUIRE);
		seen->others++;
		/* numbered by another /proc, or not yet known: it cannot be judged, so it lives */
		dead = view == mine && mms_process_dead(who);
		if ((who & STAGE_MASK) == STAGE_HOLDING) {
			seen->dead_holding += dead;
			seen->live_holding += !dead;
		} else {
			seen->dead_unsure += dead;
		}
	}
}

/* What a waiter carries from one judgement to the next. */
struct judge_state {
	int suspect;            /* consecutive slices with no progress and no live holder */
	uint64_t taken;         /* the slots' taken counts at the last judgement */
};

/*
 * After a slice in which the lock stayed taken for us: 0 to wait on, or the verdict (claims.h).
 * Others taking the lock in the meantime (the taken counts moved) is a working lock that we
 * lost races for, whatever the claims look like at this instant. Live claims at other stages
 * may be a holder between its lock call and its HOLDING store, or waiters on a lock whose
 * words were written over: waited for, as long as the handle's timeout allows.
 */
static int judge(struct mms_claimed *c, struct judge_state *js)
{
	struct claims_seen seen;
	int moved;

	claims_read(c, &seen);
	moved = seen.taken != js->taken;
	js->taken = seen.taken;
	if (seen.dead_holding)
		return MMS_EDEAD;
	if (moved || seen.live_holding) {
		js->suspect = 0;
		return 0;
	}
	if (++js->suspect < CLAIM_SUSPECT_SLICES)
		return 0;
	if (seen.dead_unsure)
		return MMS_EDEAD;
	return seen.others ? 0 : MMS_ECORRUPT;
}

static int verdict_record(struct mms_claimed *c, int err)
{
	if (err == MMS_EDEAD)
		__atomic_store_n(&c->claims->dead, 1, __ATOMIC_RELAXED);
	return err;
}

static int from_errno(int r)
{
	if (r == EINVAL || r == EDEADLK || r == EOVERFLOW || r == EAGAIN)
		return MMS_ECORRUPT;    /* the lock's words say what no caller of ours made them say */
	errno = r;
	return MMS_ESYS;
}

/* Every slot taken: wait for one as for the lock, judging the claims that fill them. */
static int claim_wait(struct mms_claimed *c, uint64_t me, struct mms_deadline *dl)
{
	struct timespec pause = { 0, CLAIM_FULL_PAUSE_NS };
	int64_t next_judge = mms_now_ns() + CLAIM_SLICE_NS;
	struct judge_state js = { 0 };
	int err;

	while (claim_take(c, me)) {
		if (claims_dead(c))
			return MMS_EDEAD;
		if (mms_deadline_passed(dl))
			return MMS_ETIMEDOUT;
		if (mms_now_ns() >= next_judge) {
			err = judge(c, &js);
			if (err)
				return verdict_record(c, err);
			next_judge += CLAIM_SLICE_NS;
		}
		nanosleep(&pause, NULL);
	}
	return 0;
}

/*
 * The lock's words in a state its timed wait must not be entered in (wait_safe): live, that
 * passes within instructions, so nap briefly and look again; standing a whole slice, it counts
 * as a slice that the lock stayed taken.
 */
static int nap_while_unsafe(struct mms_claimed *c, const struct timespec *until)
{
	struct timespec nap = { 0, CLAIM_NAP_NS };
	int64_t end = (int64_t)until->tv_sec * 1000000000 + until->tv_nsec;

	while (!c->ops->wait_safe(lock_of(c))) {
		if (mms_now_ns() >= end)
			return ETIMEDOUT;
		nanosleep(&nap, NULL);
	}
	return 0;
}

static int wait_in_slices(struct mms_claimed *c, enum mms_lock_mode mode, struct mms_deadline *dl)
{
	struct judge_state js = { 0 };
	struct timespec until;
	int r, err;

	for (;;) {
		if (claims_dead(c))
			return MMS_EDEAD;
		if (mms_deadline_passed(dl))
			return MMS_ETIMEDOUT;
		if (!c->ops->intact(lock_of(c), c->fresh))
			return MMS_ECORRUPT;
		until = mms_deadline_slice(dl, CLAIM_SLICE_NS);
		r = nap_while_unsafe(c, &until);
		if (r == 0)
			r = c->ops->timed_lock(lock_of(c), mode, &until);
		if (r == 0)
			return 0;
		if (r != ETIMEDOUT)
			return from_errno(r);
		err = judge(c, &js);
		if (err)
			return verdict_record(c, err);
	}
}

int mms_claimed_lock(struct mms_store *s, enum mms_lock_mode mode)
{
	struct mms_claimed *c = claimed_of(s);
	uint64_t me = mms_process_identity();
	struct mms_deadline dl;
	int r, err;

	if (claims_dead(c))
		return MMS_EDEAD;
	if (!me)
		return MMS_ESYS;
	if (claim_take(c, me)) {
		mms_deadline_start(&dl, s->timeout_ns);
		err = claim_wait(c, me, &dl);
		if (err)
			return err;
	}
	if (!c->ops->intact(lock_of(c), c->fresh)) {
		err = MMS_ECORRUPT;
		goto drop_claim;
	}
	r = c->ops->try_lock(lock_of(c), mode);
	if (r == 0)
		goto holding;
	if (r != EBUSY) {
		err = from_errno(r);
		goto drop_claim;
	}
	s->stats->lock_contended++;
	mms_deadline_start(&dl, s->timeout_ns);
	err = wait_in_slices(c, mode, &dl);
	if (err)
		goto drop_claim;
holding:
	stage_set(c, STAGE_HOLDING);
	return 0;
drop_claim:
	claim_drop(c);
	return err;
}

int mms_claimed_unlock(struct mms_store *s, enum mms_lock_mode mode)
{
	struct mms_claimed *c = claimed_of(s);
	int r;

	if (!c->ops->intact(lock_of(c), c->fresh)) {
		claim_drop(c);  /* the lock stays taken: every caller stops at the same check */
		return MMS_ECORRUPT;
	}
	stage_set(c, STAGE_RELEASING);
	r = c->ops->unlock(lock_of(c), mode);
	claim_drop(c);
	return r ? MMS_ECORRUPT : 0;
}
