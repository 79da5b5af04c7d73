/* bench_target.c -- the targets a worker drives: mms_* raw, mms_*_tpl, and two bare reference loops. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <tpl.h>

#include "mmshare.h"
#include "bench_target.h"

typedef int (*get_fn)(struct bench_target *t, void *buf, size_t cap, size_t *len);
typedef int (*set_fn)(struct bench_target *t, const void *buf, size_t len);
typedef int (*lock_fn)(struct bench_target *t);

static __attribute__((noinline, cold)) void tally_error(struct bench_tally *c, int err)
{
	c->errors[BENCH_ERR_INDEX(err)]++;
}

/* The value a set writes: its id in the first bytes, so every set stores something new. */
static inline void stamp_id(unsigned char *buf, size_t size, uint64_t id)
{
	if (__builtin_expect(size >= 8, 1))
		memcpy(buf, &id, 8);            /* one store, not a call to memcpy */
	else
		memcpy(buf, &id, size);
}

static inline __attribute__((always_inline)) int rmw_op(struct bench_target *t,
							 const struct bench_batch *b, uint64_t id,
							 get_fn get, set_fn set, lock_fn lock,
							 lock_fn unlock)
{
	size_t len;
	int err = lock(t);

	if (err)
		return err;
	err = get(t, b->rbuf, b->size, &len);
	stamp_id(b->wbuf, b->size, id);
	if (!err)
		err = set(t, b->wbuf, b->size);
	return unlock(t) ?: err;
}

/*
 * The one loop every target's batch() expands: the operation functions are constants here, so
 * each target gets its own copy with direct (mostly inlined) calls, and the counters stay in
 * registers until the batch ends. This loop is the harness's whole per-operation cost.
 */
static inline __attribute__((always_inline)) void batch_loop(struct bench_target *t,
							      const struct bench_batch *b,
							      struct bench_tally *c, get_fn get,
							      set_fn set, lock_fn lock, lock_fn unlock)
{
	/* Private copies: the calls below may write anywhere as far as the compiler knows. */
	const uint8_t *sched = b->sched, *end = sched + b->n;
	unsigned char *rbuf = b->rbuf, *wbuf = b->wbuf;
	size_t size = b->size, len;
	uint64_t gets = 0, sets = 0, rmws = 0, seq = *b->seq, id_base = b->id_base;
	int err;

	if (b->reads_only) {                    /* no per-operation branch for writes that are off */
		for (; sched < end; sched++) {
			err = get(t, rbuf, size, &len);
			if (__builtin_expect(err != 0, 0))
				tally_error(c, err);
		}
		c->gets += b->n;
		return;
	}
	for (; sched < end; sched++) {
		if (__builtin_expect(*sched == BENCH_OP_GET, 1)) {
			err = get(t, rbuf, size, &len);
			gets++;
		} else if (*sched == BENCH_OP_SET) {
			stamp_id(wbuf, size, id_base | ++seq);
			err = set(t, wbuf, size);
			sets++;
		} else {
			err = rmw_op(t, b, id_base | ++seq, get, set, lock, unlock);
			rmws++;
		}
		if (__builtin_expect(err != 0, 0))
			tally_error(c, err);
	}
	*b->seq = seq;
	c->gets += gets;
	c->sets += sets;
	c->rmws += rmws;
}

/* A tight loop of n gets and nothing else: what the harness is measured against. */
static inline __attribute__((always_inline)) uint64_t standalone_loop(struct bench_target *t,
								       uint64_t n, get_fn get)
{
	unsigned char *buf = malloc(t->size ? t->size : 1);
	uint64_t k, errors = 0;
	size_t len;

	if (!buf)
		return n;
	for (k = 0; k < n; k++)
		errors += get(t, buf, t->size, &len) != 0;
	free(buf);
	return errors;
}

/* ---- library backends, raw bytes ---- */

static int lib_get(struct bench_target *t, void *buf, size_t cap, size_t *len)
{
	return mms_get(t->m, buf, cap, len);
}

static int lib_set(struct bench_target *t, const void *buf, size_t len)
{
	return mms_set(t->m, buf, len);
}

static int lib_lock(struct bench_target *t)
{
	return mms_lock(t->m);
}

static int lib_unlock(struct bench_target *t)
{
	return mms_unlock(t->m);
}

static void lib_counters(struct bench_target *t, uint64_t *contended, uint64_t *retries,
			 uint64_t *repairs)
{
	struct mms_stats s;

	mms_stats(t->m, &s);
	*contended = s.lock_contended;
	*retries = s.read_retries;
	*repairs = s.owner_repairs;
}

static void lib_counters_reset(struct bench_target *t)
{
	mms_stats_reset(t->m);
}

static void lib_close(struct bench_target *t)
{
	mms_free(t->m);
}

static void lib_batch(struct bench_target *t, const struct bench_batch *b, struct bench_tally *c)
{
	batch_loop(t, b, c, lib_get, lib_set, lib_lock, lib_unlock);
}

static uint64_t lib_standalone(struct bench_target *t, uint64_t n)
{
	return standalone_loop(t, n, lib_get);
}

static const struct bench_target_ops lib_raw_ops = {
	lib_get, lib_set, lib_lock, lib_unlock, lib_counters, lib_counters_reset, lib_close,
	lib_batch, lib_standalone,
};

/* ---- library backends, structured values: a tpl image "UB" of the value's id and bytes ---- */

#define TPL_OVERHEAD 64         /* preamble, format string, U, B's length, with room to spare */

static int tpl_set_value(struct bench_target *t, const void *buf, size_t len)
{
	uint64_t id = 0;
	tpl_bin bin = { (void *)buf, (uint32_t)len };
	tpl_node *tn;
	int err;

	if (len >= 8)
		memcpy(&id, buf, 8);
	tn = tpl_map("UB", &id, &bin);
	if (!tn)
		return MMS_EINVAL;
	tpl_pack(tn, 0);
	err = mms_set_tpl(t->m, tn);
	tpl_free(tn);
	return err;
}

static int tpl_get_value(struct bench_target *t, void *buf, size_t cap, size_t *len)
{
	uint64_t id;
	tpl_bin bin = { NULL, 0 };
	tpl_node *tn = tpl_map("UB", &id, &bin);
	int err;

	if (!tn)
		return MMS_EINVAL;
	err = mms_get_tpl(t->m, tn);
	if (!err && tpl_unpack(tn, 0) < 0)
		err = MMS_EFORMAT;
	tpl_free(tn);
	if (err)
		return err;
	*len = bin.sz;
	if (bin.sz <= cap)
		memcpy(buf, bin.addr, bin.sz);
	else
		err = MMS_ESHORT;
	free(bin.addr);
	return err;
}

static void tpl_batch(struct bench_target *t, const struct bench_batch *b, struct bench_tally *c)
{
	batch_loop(t, b, c, tpl_get_value, tpl_set_value, lib_lock, lib_unlock);
}

static const struct bench_target_ops lib_tpl_ops = {
	tpl_get_value, tpl_set_value, lib_lock, lib_unlock, lib_counters, lib_counters_reset, lib_close,
	tpl_batch, NULL,
};

/* ---- bare reference loops: the primitive alone, no header, no checksum, no bookkeeping ---- */

struct bare_area {
	pthread_mutex_t mutex;          /* robust, process-shared */
	uint64_t seq;                   /* bare-seqlock: odd while a writer copies */
	uint64_t len;                   /* value length */
	unsigned char data[];           /* the value */
};

static int bare_lock(struct bench_target *t)
{
	struct bare_area *b = t->bare;
	int r = pthread_mutex_trylock(&b->mutex);

	if (r == EBUSY) {
		t->contended++;
		r = pthread_mutex_lock(&b->mutex);
	}
	if (r == EOWNERDEAD)
		r = pthread_mutex_consistent(&b->mutex);
	t->held = r == 0;
	return r ? MMS_ESYS : 0;
}

static int bare_unlock(struct bench_target *t)
{
	t->held = 0;
	return pthread_mutex_unlock(&((struct bare_area *)t->bare)->mutex) ? MMS_ESYS : 0;
}

static int bare_mutex_get(struct bench_target *t, void *buf, size_t cap, size_t *len)
{
	struct bare_area *b = t->bare;
	int held = t->held, err = held ? 0 : bare_lock(t);

	if (err)
		return err;
	*len = b->len;
	if (b->len <= cap)
		memcpy(buf, b->data, b->len);
	if (!held)
		bare_unlock(t);
	return *len <= cap ? 0 : MMS_ESHORT;
}

static int bare_mutex_set(struct bench_target *t, const void *buf, size_t len)
{
	struct bare_area *b = t->bare;
	int held = t->held, err = held ? 0 : bare_lock(t);

	if (err)
		return err;
	b->len = len;
	memcpy(b->data, buf, len);
	if (!held)
		bare_unlock(t);
	return 0;
}

/*
 * The textbook seqlock read, as most code writes it: plain memcpy under a sequence check. (The
 * library's seqlock copies with relaxed atomics, as C11 requires; this is the floor to compare.)
 */
static int bare_seqlock_get(struct bench_target *t, void *buf, size_t cap, size_t *len)
{
	struct bare_area *b = t->bare;
	uint64_t s1, s2, n;

	for (;;) {
		s1 = __atomic_load_n(&b->seq, __ATOMIC_ACQUIRE);
		n = __atomic_load_n(&b->len, __ATOMIC_RELAXED);
		if (!(s1 & 1) && n <= cap && n <= t->size)
			memcpy(buf, b->data, n);
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		s2 = __atomic_load_n(&b->seq, __ATOMIC_RELAXED);
		if (s1 == s2 && !(s1 & 1))
			break;
		t->retries++;
	}
	*len = n;
	return n <= cap ? 0 : MMS_ESHORT;
}

static int bare_seqlock_set(struct bench_target *t, const void *buf, size_t len)
{
	struct bare_area *b = t->bare;
	int held = t->held, err = held ? 0 : bare_lock(t);
	uint64_t s;

	if (err)
		return err;
	s = b->seq;
	__atomic_store_n(&b->seq, s + 1, __ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_RELEASE);
	__atomic_store_n(&b->len, len, __ATOMIC_RELAXED);
	memcpy(b->data, buf, len);
	__atomic_store_n(&b->seq, s + 2, __ATOMIC_RELEASE);
	if (!held)
		bare_unlock(t);
	return 0;
}

static void bare_counters(struct bench_target *t, uint64_t *contended, uint64_t *retries,
			  uint64_t *repairs)
{
	*contended = t->contended;
	*retries = t->retries;
	*repairs = 0;
}

static void bare_counters_reset(struct bench_target *t)
{
	t->contended = t->retries = 0;
}

static void bare_close(struct bench_target *t)
{
	munmap(t->bare, t->bare_len);
}

static void bare_mutex_batch(struct bench_target *t, const struct bench_batch *b,
			     struct bench_tally *c)
{
	batch_loop(t, b, c, bare_mutex_get, bare_mutex_set, bare_lock, bare_unlock);
}

static uint64_t bare_mutex_standalone(struct bench_target *t, uint64_t n)
{
	return standalone_loop(t, n, bare_mutex_get);
}

static void bare_seqlock_batch(struct bench_target *t, const struct bench_batch *b,
			       struct bench_tally *c)
{
	batch_loop(t, b, c, bare_seqlock_get, bare_seqlock_set, bare_lock, bare_unlock);
}

static uint64_t bare_seqlock_standalone(struct bench_target *t, uint64_t n)
{
	return standalone_loop(t, n, bare_seqlock_get);
}

static const struct bench_target_ops bare_mutex_ops = {
	bare_mutex_get, bare_mutex_set, bare_lock, bare_unlock, bare_counters, bare_counters_reset,
	bare_close, bare_mutex_batch, bare_mutex_standalone,
};

static const struct bench_target_ops bare_seqlock_ops = {
	bare_seqlock_get, bare_seqlock_set, bare_lock, bare_unlock, bare_counters, bare_counters_reset,
	bare_close, bare_seqlock_batch, bare_seqlock_standalone,
};

/* ---- the null target: operations that do nothing the compiler may remove ---- */

static int null_get(struct bench_target *t, void *buf, size_t cap, size_t *len)
{
	(void)t;
	(void)cap;
	__asm__ volatile("" : : "r"(buf) : "memory");
	*len = 0;
	return 0;
}

static int null_set(struct bench_target *t, const void *buf, size_t len)
{
	(void)t;
	(void)len;
	__asm__ volatile("" : : "r"(buf) : "memory");
	return 0;
}

static int null_lock(struct bench_target *t)
{
	(void)t;
	return 0;
}

static void null_counters(struct bench_target *t, uint64_t *contended, uint64_t *retries,
			  uint64_t *repairs)
{
	(void)t;
	*contended = *retries = *repairs = 0;
}

static void null_void(struct bench_target *t)
{
	(void)t;
}

static void null_batch(struct bench_target *t, const struct bench_batch *b, struct bench_tally *c)
{
	batch_loop(t, b, c, null_get, null_set, null_lock, null_lock);
}

static const struct bench_target_ops null_ops = {
	null_get, null_set, null_lock, null_lock, null_counters, null_void, null_void,
	null_batch, NULL,
};

void bench_target_null(struct bench_target *t, size_t size)
{
	memset(t, 0, sizeof(*t));
	t->ops = &null_ops;
	t->size = size;
}

static int bare_open(struct bench_target *t, size_t size)
{
	pthread_mutexattr_t attr;
	struct bare_area *b;

	t->bare_len = sizeof(*b) + size;
	b = mmap(NULL, t->bare_len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (b == MAP_FAILED)
		return MMS_ESYS;
	pthread_mutexattr_init(&attr);
	pthread_mutexattr_setpshared(&attr, PTHREAD_PROCESS_SHARED);
	pthread_mutexattr_setrobust(&attr, PTHREAD_MUTEX_ROBUST);
	pthread_mutex_init(&b->mutex, &attr);
	pthread_mutexattr_destroy(&attr);
	t->bare = b;
	return 0;
}

int bench_target_is_baseline(const char *name)
{
	return !strncmp(name, "bare-", 5);
}

int bench_target_open(struct bench_target *t, const char *name, enum bench_mode mode, size_t size)
{
	memset(t, 0, sizeof(*t));
	t->size = size;
	if (bench_target_is_baseline(name)) {
		if (mode != BENCH_RAW)
			return MMS_EINVAL;
		t->ops = !strcmp(name, "bare-mutex") ? &bare_mutex_ops : &bare_seqlock_ops;
		return bare_open(t, size);
	}
	t->ops = mode == BENCH_TPL ? &lib_tpl_ops : &lib_raw_ops;
	return mms_new(&t->m, name, mode == BENCH_TPL ? size + TPL_OVERHEAD : size);
}
