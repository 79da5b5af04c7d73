/* seqlock.c -- a two-slot sequence lock: readers never block and never write to shared memory.
 *
 * Protocol: seqcount.c's (readers copy without a lock and retry only when two writes overtake
 * them); writers exclude each other with the robust mutex (robust_mutex.c).
 * Ordering: seqcount.c's fences and atomics; the mutex orders writers among themselves.
 * Crash story: a writer that dies leaves the sequence odd; readers read the other slot. The next
 * writer gets EOWNERDEAD, finds the sequence odd, and rewrites the same slot. A dead mms_lock
 * holder is repaired the same way.
 */
#include "mmshare.h"
#include "backend.h"

#ifdef MMS_PLANTED_SLOWDOWN
/*
 * Built only with -DMMS_PLANTED_SLOWDOWN, to prove the regression gate catches a real slowdown
 * (README, "Quality of the gate"): burns about a quarter of a get's time.
 */
static void planted_slowdown(size_t len)
{
	volatile size_t i;

	for (i = 0; i < len / 12 + 16; i++)
		;
}
#else
static inline void planted_slowdown(size_t len)
{
	(void)len;
}
#endif

static int seqlock_open(struct mms_store *s)
{
	struct mms_area *a = mms_area_of(s);
	int err = mms_area_open(a, MMS_STORE_ANON);

	if (err)
		return err;
	mms_seq_init(a);
	err = mms_rmutex_init(a);
	if (err)
		mms_area_close(a);
	return err;
}

static int seqlock_get(struct mms_store *s, void *buf, size_t cap, size_t *len, int held)
{
	planted_slowdown(s->size);
	return mms_seq_get(s, buf, cap, len, held);
}

const struct mms_backend mms_backend_seqlock = {
	.abi     = MMS_BACKEND_ABI,
	.state_size = sizeof(struct mms_area),
	.name    = "seqlock",
	.summary = "two-slot sequence lock: readers never block or write; writers take a robust mutex",
	.caps    = MMS_CAP_CRASH_SAFE | MMS_CAP_SHARED_READ | MMS_CAP_READ_NOWAIT | MMS_CAP_MAPPING,
	.open    = seqlock_open,
	.close   = mms_area_close_method,
	.lock    = mms_rmutex_lock,
	.unlock  = mms_rmutex_unlock,
	.get     = seqlock_get,
	.set     = mms_seq_set,
	.mapping = mms_area_mapping,
};
