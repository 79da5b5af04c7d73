/* seqlock.c -- a two-slot sequence lock: readers never block and never write to shared memory.
 *
 * Protocol: the header's gen word is a sequence s; s/2 is the generation g of the current value,
 * which lives in slot g&1, and s is odd while the writer of generation g+1 fills the other slot.
 * Writers exclude each other with the robust mutex (robust_mutex.c). A reader loads s1, copies
 * slot (s1/2)&1, and re-loads s2: the copy is whole unless a writer began overwriting that slot,
 * which first sets s to 2g+3, so the reader retries only when s2 > 2*(s1/2)+2. One write in
 * flight never makes a reader retry (the Linux seqcount_latch idea, with a sequence check).
 * Ordering (C11, after Boehm 2012): the writer stores s odd with release, issues a release fence,
 * then stores the slot with relaxed atomic stores and publishes s+1 with a seq_cst store (release
 * would do for readers; seq_cst also drains the store buffer, so a get that starts after set
 * returned sees the value -- the register is linearizable in real time, not just ordered). The reader
 * loads s1 with acquire, copies with relaxed atomic loads, issues an acquire fence, then loads s2.
 * If the reader saw any store of a later overwrite, the fence pair makes that writer's odd store
 * visible to the s2 load, so the copy is discarded. The odd store is a release store too, so a
 * reader that reads an odd s1 still sees the slot published before it (through the mutex).
 * Crash story: a writer that dies leaves s odd; readers do not care (they read the other slot).
 * The next writer gets EOWNERDEAD, finds s odd, and rewrites the same slot without re-bumping s,
 * so s only grows and no reader can be fooled by it going back. A dead mms_lock holder is
 * repaired the same way. The value checksum catches whatever the sequence cannot (scribbles).
 */
#include <string.h>

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

static int seqlock_init(struct mms_area *a)
{
	a->hdr->gen = 2 * (uint64_t)MMS_GEN_EMPTY;
	return mms_rmutex_init(a);
}

static void load_relaxed(void *dst, const uint64_t *src, size_t len)
{
	unsigned char *d = dst;
	size_t i, words = len / 8;
	uint64_t w;

	for (i = 0; i < words; i++) {
		w = __atomic_load_n(&src[i], __ATOMIC_RELAXED);
		memcpy(d + 8 * i, &w, 8);
	}
	if (len % 8) {
		w = __atomic_load_n(&src[words], __ATOMIC_RELAXED);
		memcpy(d + 8 * words, &w, len % 8);
	}
}

static void store_relaxed(uint64_t *dst, const void *src, size_t len)
{
	const unsigned char *s = src;
	size_t i, words = len / 8;
	uint64_t w = 0;

	for (i = 0; i < words; i++) {
		memcpy(&w, s + 8 * i, 8);
		__atomic_store_n(&dst[i], w, __ATOMIC_RELAXED);
	}
	if (len % 8) {
		w = 0;
		memcpy(&w, s + 8 * words, len % 8);
		__atomic_store_n(&dst[words], w, __ATOMIC_RELAXED);
	}
}

/* One attempt: 1 when a writer overtook the copy and it must be retried. */
static int read_once(struct mms_area *a, void *buf, size_t cap, size_t *len, int *err)
{
	uint64_t s1, s2, g, sgen, slen, check;
	struct mms_slot *slot;

	s1 = __atomic_load_n(&a->hdr->gen, __ATOMIC_ACQUIRE);
	g = s1 / 2;
	if (g <= MMS_GEN_EMPTY) {
		*err = g == MMS_GEN_EMPTY ? MMS_EEMPTY : MMS_ECORRUPT;
		return 0;
	}
	slot = mms_slot_at(a, g);
	sgen = __atomic_load_n(&slot->gen, __ATOMIC_RELAXED);
	slen = __atomic_load_n(&slot->len, __ATOMIC_RELAXED);
	check = __atomic_load_n(&slot->check, __ATOMIC_RELAXED);
	if (sgen == g && slen <= a->size && slen <= cap)
		load_relaxed(buf, slot->data, slen);
	__atomic_thread_fence(__ATOMIC_ACQUIRE);
	s2 = __atomic_load_n(&a->hdr->gen, __ATOMIC_RELAXED);
	if (s2 - (s1 & ~1ULL) > 2)     /* s2 > 2g+2, without overflow on a scribbled s */
		return 1;
	*len = slen;
	if (sgen != g || slen > a->size)
		*err = MMS_ECORRUPT;
	else if (slen > cap)
		*err = MMS_ESHORT;
	else if (mms_value_check(mms_value_hash(buf, slen), g) != check)
		*err = MMS_ECORRUPT;
	else
		*err = 0;
	return 0;
}

static int seqlock_get(struct mms_area *a, void *buf, size_t cap, size_t *len, int held)
{
	int err;

	(void)held;
	planted_slowdown(a->size);
	while (read_once(a, buf, cap, len, &err))
		a->stats->read_retries++;
	return err;
}

static void write_slot(struct mms_area *a, const void *data, size_t len, uint64_t hash)
{
	uint64_t s = __atomic_load_n(&a->hdr->gen, __ATOMIC_RELAXED);
	uint64_t g;
	struct mms_slot *slot;

	if (s / 2 < MMS_GEN_EMPTY)
		s = 2 * (uint64_t)MMS_GEN_EMPTY;
	if (!(s & 1))
		__atomic_store_n(&a->hdr->gen, s + 1, __ATOMIC_RELEASE);
	/* else a writer died mid-write: its slot was never published, so write it again. */
	__atomic_thread_fence(__ATOMIC_RELEASE);
	g = s / 2 + 1;
	slot = mms_slot_at(a, g);
	__atomic_store_n(&slot->gen, g, __ATOMIC_RELAXED);
	__atomic_store_n(&slot->len, len, __ATOMIC_RELAXED);
	store_relaxed(slot->data, data, len);
	__atomic_store_n(&slot->check, mms_value_check(hash, g), __ATOMIC_RELAXED);
	/* seq_cst, not just release: the value is visible everywhere before set returns. */
	__atomic_store_n(&a->hdr->gen, 2 * g, __ATOMIC_SEQ_CST);
}

static int seqlock_set(struct mms_area *a, const void *data, size_t len, int held)
{
	uint64_t hash = mms_value_hash(data, len);
	int err;

	if (!held) {
		err = mms_rmutex_lock(a, MMS_LOCK_EXCL);
		if (err)
			return err;
	}
	write_slot(a, data, len, hash);
	if (!held)
		mms_rmutex_unlock(a, MMS_LOCK_EXCL);
	return 0;
}

const struct mms_backend mms_backend_seqlock = {
	.name    = "seqlock",
	.summary = "two-slot sequence lock: readers never block or write; writers take a robust mutex",
	.caps    = MMS_CAP_SHARED_READ | MMS_CAP_READ_NOWAIT,
	.storage = MMS_STORE_ANON,
	.init    = seqlock_init,
	.lock    = mms_rmutex_lock,
	.unlock  = mms_rmutex_unlock,
	.get     = seqlock_get,
	.set     = seqlock_set,
};
