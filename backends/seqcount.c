/* seqcount.c -- the two-slot sequence-lock value protocol that seqlock and memfd share.
 *
 * Protocol: the header's gen word is a sequence s; s/2 is the generation g of the current value,
 * which lives in slot g&1, and s is odd while the writer of generation g+1 fills the other slot.
 * Writers exclude each other with the backend's lock. A reader loads s1, copies slot (s1/2)&1,
 * and re-loads s2: the copy is whole unless a writer began overwriting that slot, which first
 * sets s to 2g+3, so the reader retries only when s2 > 2*(s1/2)+2. One write in flight never
 * makes a reader retry (the Linux seqcount_latch idea, with a sequence check).
 * Ordering (C11, after Boehm 2012): the writer stores s odd with release, issues a release fence,
 * then stores the slot with relaxed atomic stores and publishes s+1 with a seq_cst store (release
 * would do for readers; seq_cst also drains the store buffer, so a get that starts after set
 * returned sees the value -- the register is linearizable in real time, not just ordered). The
 * reader loads s1 with acquire, copies with relaxed atomic loads, issues an acquire fence, then
 * loads s2. If the reader saw any store of a later overwrite, the fence pair makes that writer's
 * odd store visible to the s2 load, so the copy is discarded. The odd store is a release store
 * too, so a reader that reads an odd s1 still sees the slot published before it.
 * Crash story: a writer that dies leaves s odd; readers do not care (they read the other slot).
 * The next writer finds s odd and rewrites the same slot without re-bumping s, so s only grows
 * and no reader can be fooled by it going back. The value checksum catches whatever the sequence
 * cannot (scribbles). Readers only read shared memory, each field once, and bound every offset
 * by the handle's private copies, so a peer that writes the area can at worst make them retry
 * (bounded by the handle's timeout) or report MMS_ECORRUPT.
 */
#include <string.h>

#include "mmshare.h"
#include "backend.h"
#include "deadline.h"

void mms_seq_init(struct mms_area *a)
{
	a->hdr->gen = 2 * (uint64_t)MMS_GEN_EMPTY;
}

#define BULK_MIN 512             /* below this, the word loop beats rep movsb's start-up */

#if defined(__x86_64__)
/*
 * The bulk copy for values of BULK_MIN bytes and more: one rep movsb, which the CPU runs at memcpy
 * speed (ERMS). Why it is safe where a plain memcpy is not: the accesses happen inside one asm
 * statement, so the compiler sees no C accesses to race on and cannot split, repeat or move them
 * (the "memory" clobber keeps it between the fences around it, as the relaxed loop is); and on
 * x86 the bytes a string instruction moves are ordered, as a whole, like ordinary loads and
 * stores: a reader's later load of the sequence happens after every load of the copy, and a
 * writer's copy becomes visible after the odd sequence store and before the even one (Intel SDM
 * vol. 3, 8.2.4: only the stores within one string operation may be reordered among themselves;
 * AMD APM vol. 1, 3.9.1: writes to write-back memory commit in program order). A copy torn by a racing writer is therefore discarded by the
 * sequence check, as before; the oracle and bench.racing_copies_stay_whole run both copies under
 * writers. ASan cannot see inside asm, so the bounds are the C code's: len is checked against the
 * handle's private size and the caller's capacity before any copy, and each slot holds size bytes.
 */
static inline void bulk_copy(void *dst, const void *src, size_t len)
{
	__asm__ volatile("rep movsb" : "+D"(dst), "+S"(src), "+c"(len) : : "memory");
}

/* Small values, by the same argument: 16-byte SSE2 moves inside one asm loop; returns bytes moved. */
static inline size_t chunk_copy(void *dst, const void *src, size_t len)
{
	size_t chunks = len / 16, moved = chunks * 16;

	if (chunks)
		__asm__ volatile("1:\n\t"
				 "movdqu (%1), %%xmm0\n\t"
				 "movdqu %%xmm0, (%0)\n\t"
				 "add $16, %0\n\t"
				 "add $16, %1\n\t"
				 "dec %2\n\t"
				 "jnz 1b"
				 : "+r"(dst), "+r"(src), "+r"(chunks) : : "xmm0", "memory", "cc");
	return moved;
}
static const int have_bulk_copy = 1;
#else
static inline void bulk_copy(void *dst, const void *src, size_t len)
{
	(void)dst, (void)src, (void)len;
}

static inline size_t chunk_copy(void *dst, const void *src, size_t len)
{
	(void)dst, (void)src, (void)len;
	return 0;
}
static const int have_bulk_copy = 0;
#endif

/* Elsewhere, and for what the chunks leave: C11 relaxed atomic loads, word by word. */
static void load_relaxed(void *dst, const uint64_t *src, size_t len)
{
	unsigned char *d = dst;
	size_t i, words, moved;
	uint64_t w;

	if (have_bulk_copy && len >= BULK_MIN) {
		bulk_copy(dst, src, len);
		return;
	}
	moved = chunk_copy(dst, src, len);
	d += moved;
	src += moved / 8;
	len -= moved;
	words = len / 8;
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

	if (have_bulk_copy && len >= BULK_MIN) {
		bulk_copy(dst, src, len);
		return;
	}
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
	if (sgen == g && slen <= a->store.size && slen <= cap)
		load_relaxed(buf, slot->data, slen);
	__atomic_thread_fence(__ATOMIC_ACQUIRE);
	s2 = __atomic_load_n(&a->hdr->gen, __ATOMIC_RELAXED);
	if (s2 - (s1 & ~1ULL) > 2)     /* s2 > 2g+2, without overflow on a scribbled s */
		return 1;
	*len = slen;
	if (sgen != g || slen > a->store.size)
		*err = MMS_ECORRUPT;
	else if (slen > cap)
		*err = MMS_ESHORT;
	else if (mms_value_check(mms_value_hash(buf, slen), g) != check)
		*err = MMS_ECORRUPT;
	else
		*err = 0;
	return 0;
}

/*
 * Copy the current value out without a lock. Retries happen only when two writes overtake the
 * copy; the handle's timeout bounds them, counted from the first retry, so the common path
 * never reads the clock.
 */
int mms_seq_get(struct mms_store *s, void *buf, size_t cap, size_t *len, int held)
{
	struct mms_area *a = mms_area_of(s);
	struct mms_deadline dl;
	int err, timing = 0;

	(void)held;
	while (read_once(a, buf, cap, len, &err)) {
		s->stats->read_retries++;
		if (s->timeout_ns < 0)
			continue;
		if (!timing) {
			mms_deadline_start(&dl, s->timeout_ns);
			timing = 1;
		} else if (mms_deadline_passed(&dl)) {
			return MMS_ETIMEDOUT;
		}
	}
	return err;
}

/* Write the next generation; the caller holds the backend's writer lock. */
static void seq_write(struct mms_area *a, const void *data, size_t len, uint64_t hash)
{
	uint64_t s = __atomic_load_n(&a->hdr->gen, __ATOMIC_RELAXED);
	uint64_t g;
	struct mms_slot *slot;

	if (s / 2 < MMS_GEN_EMPTY || s >= UINT64_MAX - 3)     /* scribbled: start over */
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

/* set for a seqlock-protocol backend: its writer lock around mms_seq_write. */
int mms_seq_set(struct mms_store *s, const void *data, size_t len, int held)
{
	return mms_area_write_locked(s, seq_write, data, len, held);
}
