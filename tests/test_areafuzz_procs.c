/* test_areafuzz_procs.c -- areafuzz's worker and scribbler processes and their futex rounds. */
#include <limits.h>
#include <linux/futex.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/syscall.h>

#include "areafuzz.h"

const char *const fuzz_call_names[] = { "get", "set", "lock", "unlock", "no call" };

/* ---- the values workers set (see areafuzz.h) ---- */

/* Whether buf holds a value some process set: whole, of its own length, and already begun. */
static int value_known(struct fuzz_board *b, const unsigned char *buf, size_t len, size_t size)
{
	uint64_t id = case_value_id(buf, len), writer = id >> FUZZ_SEQ_BITS;
	uint64_t seq = id & ((1ULL << FUZZ_SEQ_BITS) - 1);

	if (!id || len != fuzz_value_len(id, size))
		return 0;
	if (writer == 0)
		return id == INITIAL_ID;
	return writer <= FUZZ_WORKERS && seq >= 1 &&
	       seq <= __atomic_load_n(&b->w[writer - 1].sets, __ATOMIC_ACQUIRE);
}

/* ---- rounds: the scribbler and the workers hand off through futexes on the board ---- */

static void futex_wait(uint32_t *word, uint32_t seen)
{
	syscall(SYS_futex, word, FUTEX_WAIT, seen, NULL, NULL, 0);
}

void fuzz_bump(uint32_t *word)
{
	__atomic_fetch_add(word, 1, __ATOMIC_RELEASE);
	syscall(SYS_futex, word, FUTEX_WAKE, INT_MAX, NULL, NULL, 0);
}

/* Worker: return when round r has begun (1) or the scribbler is done (0). */
static int await_round(struct fuzz_board *b, uint32_t r)
{
	uint32_t now;

	for (;;) {
		now = __atomic_load_n(&b->round, __ATOMIC_ACQUIRE);
		if (__atomic_load_n(&b->stop, __ATOMIC_ACQUIRE))
			return 0;
		if (now >= r)
			return 1;
		futex_wait(&b->round, now);
	}
}

/* Scribbler: return when every worker still alive is through the round. */
static void await_workers(struct fuzz_board *b)
{
	uint32_t t;

	for (;;) {
		t = __atomic_load_n(&b->tick, __ATOMIC_ACQUIRE);
		if (__atomic_load_n(&b->done, __ATOMIC_ACQUIRE) + __atomic_load_n(&b->gone, __ATOMIC_ACQUIRE) >=
		    FUZZ_WORKERS)
			return;
		futex_wait(&b->tick, t);
	}
}

uint64_t fuzz_worker_ops(struct fuzz_board *b)
{
	uint64_t n = 0;
	int k;

	for (k = 0; k < FUZZ_WORKERS; k++)
		n += __atomic_load_n(&b->w[k].ops, __ATOMIC_RELAXED);
	return n;
}

/* ---- workers ---- */

struct fuzz_worker_ctx {
	struct mms *m;
	struct fuzz_board *b;
	struct fuzz_worker *fw;
	int index;
	size_t size;
	uint64_t rng;
	unsigned char *getbuf;      /* size bytes, then FUZZ_GUARD bytes that must stay 0xa5 */
	unsigned char *setbuf;
};

/* Keep the first contract break in words, with the burst that was in force. */
static void bad(struct fuzz_worker_ctx *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void bad(struct fuzz_worker_ctx *w, const char *fmt, ...)
{
	struct fuzz_worker *fw = w->fw;
	va_list ap;
	int n;

	if (fw->bad++)
		return;
	va_start(ap, fmt);
	n = vsnprintf(fw->first_bad, sizeof(fw->first_bad), fmt, ap);
	va_end(ap);
	if (n >= 0 && (size_t)n < sizeof(fw->first_bad))
		snprintf(fw->first_bad + n, sizeof(fw->first_bad) - (size_t)n, " (burst in force: %s)",
			 w->b->burst);
}

static void begin(struct fuzz_worker *fw, enum fuzz_call call)
{
	__atomic_store_n(&fw->call, call, __ATOMIC_RELAXED);
}

/* Count the code; anything outside the threat model's codes for this call is a contract break. */
static void record(struct fuzz_worker_ctx *w, enum fuzz_call call, int err, int allowed)
{
	int code = -err;

	__atomic_store_n(&w->fw->call, CALL_NONE, __ATOMIC_RELAXED);
	__atomic_fetch_add(&w->fw->ops, 1, __ATOMIC_RELAXED);
	if (code >= 0 && code < FUZZ_CODES)
		w->fw->codes[call][code]++;
	if (!allowed)
		bad(w, "%s returned %d (%s)", fuzz_call_names[call], err, mms_strerror(err));
}

static int waits_or_fails(int err)
{
	return err == 0 || err == MMS_ECORRUPT || err == MMS_ETIMEDOUT;
}

/* A get into a buffer of cap bytes that ends at the guard: what comes back is checked whole. */
static void fuzz_get(struct fuzz_worker_ctx *w, size_t cap)
{
	unsigned char *buf = w->getbuf + w->size - cap, *guard = w->getbuf + w->size;
	size_t len = 0, k;
	int err, ok;

	memset(guard, 0xa5, FUZZ_GUARD);
	begin(w->fw, CALL_GET);
	err = mms_get(w->m, buf, cap, &len);
	ok = waits_or_fails(err) || err == MMS_EEMPTY || err == MMS_ESHORT;
	record(w, CALL_GET, err, ok);
	for (k = 0; k < FUZZ_GUARD; k++)
		if (guard[k] != 0xa5) {
			bad(w, "get (cap %zu) wrote past the caller's buffer", cap);
			break;
		}
	if (err == MMS_ESHORT && (len <= cap || len > w->size))
		bad(w, "get (cap %zu) said ESHORT with length %zu", cap, len);
	if (err == 0 && (len > cap || !value_known(w->b, buf, len, w->size)))
		bad(w, "get returned %zu bytes (id %#llx) that nobody set", len,
		    len >= 8 ? (unsigned long long)case_value_id(buf, len) : 0ULL);
}

static void fuzz_set(struct fuzz_worker_ctx *w)
{
	uint64_t seq = w->fw->sets + 1;
	uint64_t id = (uint64_t)(w->index + 1) << FUZZ_SEQ_BITS | seq;
	size_t len = fuzz_value_len(id, w->size);
	int err;

	case_value_fill(w->setbuf, len, id);
	__atomic_store_n(&w->fw->sets, seq, __ATOMIC_RELEASE);     /* before any reader can see it */
	begin(w->fw, CALL_SET);
	err = mms_set(w->m, w->setbuf, len);
	record(w, CALL_SET, err, waits_or_fails(err));
}

/* lock, get, set, unlock; after a failed lock only the unlock, which must say MMS_ELOCKED. */
static void fuzz_rmw(struct fuzz_worker_ctx *w)
{
	int locked, unlocked;

	begin(w->fw, CALL_LOCK);
	locked = mms_lock(w->m);
	record(w, CALL_LOCK, locked, waits_or_fails(locked));
	if (!locked) {
		fuzz_get(w, w->size);
		fuzz_set(w);
	}
	begin(w->fw, CALL_UNLOCK);
	unlocked = mms_unlock(w->m);
	record(w, CALL_UNLOCK, unlocked, locked ? unlocked == MMS_ELOCKED :
		unlocked == 0 || unlocked == MMS_ECORRUPT);
}

static void worker_op(struct fuzz_worker_ctx *w)
{
	uint64_t r = fuzz_pick(&w->rng, 8);

	if (r < 3)
		fuzz_get(w, w->size);
	else if (r < 4)
		fuzz_get(w, 8 + (size_t)fuzz_pick(&w->rng, w->size - 7));
	else if (r < 6)
		fuzz_set(w);
	else
		fuzz_rmw(w);
}

/* A child dies with the test process, so a killed test leaves no worker spinning behind it. */
static void child_setup(pid_t parent)
{
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != parent)
		_exit(99);
}

void __attribute__((noreturn)) fuzz_worker_main(struct mms *m, struct fuzz_board *b, int index,
						size_t size, uint64_t seed)
{
	struct fuzz_worker_ctx w = { .m = m, .b = b, .fw = &b->w[index], .index = index,
				     .size = size, .rng = seed | 1 };
	uint32_t r;
	int k;

	child_setup(b->parent);
	w.getbuf = malloc(size + FUZZ_GUARD);
	w.setbuf = malloc(size);
	if (!w.getbuf || !w.setbuf || mms_set_timeout(m, FUZZ_TIMEOUT_MS))
		_exit(98);
	for (r = 1; await_round(b, r); r++) {
		for (k = 0; k < FUZZ_QUOTA; k++)
			worker_op(&w);
		__atomic_fetch_add(&b->done, 1, __ATOMIC_RELEASE);
		fuzz_bump(&b->tick);
	}
	for (k = 0; k < FUZZ_TAIL_OPS; k++)
		worker_op(&w);
	_exit(0);
}


/* ---- the scribbler ---- */

static void apply(struct fuzz_ctx *c, struct fuzz_write *w)
{
	unsigned char *at = (unsigned char *)area_of(c->m)->hdr + w->off;

	memcpy(w->old, at, w->len);
	memcpy(at, w->ours, w->len);
}

/* Put back the bytes that still hold what we wrote; the library has rewritten the others. */
static void undo(struct fuzz_ctx *c, const struct fuzz_write *w)
{
	unsigned char *at = (unsigned char *)area_of(c->m)->hdr + w->off;
	size_t k;

	for (k = 0; k < w->len; k++)
		if (at[k] == w->ours[k])
			at[k] = w->old[k];
}

/*
 * Between rounds no worker holds the lock, so a lock word that names anyone is what the burst
 * left: its own value, or a holder whose unlock it made fail (a scribbled kind or owner). Free
 * it, as an unlock would, so one burst costs one round and not every round after it.
 */
static void free_lock_word(struct fuzz_ctx *c, const struct fuzz_write *ws, int n)
{
	uint32_t *word = (uint32_t *)((char *)area_of(c->m)->hdr + c->lock_off);
	int k;

	for (k = 0; k < n; k++)
		if (fuzz_overlaps(ws[k].off, ws[k].len, c->lock_off, sizeof(pthread_mutex_t)))
			break;
	if (k == n || !__atomic_load_n(word, __ATOMIC_RELAXED))
		return;
	__atomic_store_n(word, 0, __ATOMIC_RELEASE);
	syscall(SYS_futex, word, FUTEX_WAKE, INT_MAX, NULL, NULL, 0);
}

/* Start a round and return once the workers have made a few of its calls (none, at times). */
static void start_round(struct fuzz_board *b, uint64_t *rng)
{
	uint64_t until = fuzz_worker_ops(b) + fuzz_pick(rng, FUZZ_WORKERS * FUZZ_QUOTA);

	__atomic_store_n(&b->done, 0, __ATOMIC_RELAXED);
	fuzz_bump(&b->round);
	while (fuzz_worker_ops(b) < until &&
	       __atomic_load_n(&b->done, __ATOMIC_ACQUIRE) + __atomic_load_n(&b->gone, __ATOMIC_ACQUIRE) <
	       FUZZ_WORKERS)
		sched_yield();
}

static void describe_burst(struct fuzz_ctx *c, const struct fuzz_write *ws, int n)
{
	char *p = c->b->burst, *end = p + sizeof(c->b->burst);
	int k;
	size_t j;

	*p = '\0';
	for (k = 0; k < n && p < end; k++) {
		p += snprintf(p, (size_t)(end - p), "%s%s+%zu :=", k ? "; " : "",
			      c->fields[ws[k].field].name, ws[k].off - c->fields[ws[k].field].off);
		for (j = ws[k].len; j-- > 0 && p < end;)         /* most significant byte first */
			p += snprintf(p, (size_t)(end - p), "%s%02x", j == ws[k].len - 1 ? " " : "",
				      ws[k].ours[j]);
	}
}

void __attribute__((noreturn)) fuzz_scribbler_main(struct fuzz_ctx *c)
{
	struct fuzz_write ws[FUZZ_BURST_MAX];
	uint64_t rng = c->seed | 1;
	int n, k;

	child_setup(c->b->parent);
	while (c->b->scribbles < c->target) {
		n = 1 + (int)fuzz_pick(&rng, FUZZ_BURST_MAX);
		if ((uint64_t)n > c->target - c->b->scribbles)
			n = (int)(c->target - c->b->scribbles);
		__atomic_store_n(&c->b->rounds, c->b->rounds + 1, __ATOMIC_RELAXED);
		start_round(c->b, &rng);
		for (k = 0; k < n; k++) {
			ws[k].field = (int)fuzz_pick(&rng, c->nfields);
			fuzz_choose_write(c, &rng, &ws[k]);
			apply(c, &ws[k]);
			c->b->hits[ws[k].field]++;
		}
		describe_burst(c, ws, n);
		__atomic_store_n(&c->b->scribbles, c->b->scribbles + (uint64_t)n, __ATOMIC_RELAXED);
		await_workers(c->b);
		for (k = n; k-- > 0;)
			undo(c, &ws[k]);
		free_lock_word(c, ws, n);
	}
	c->b->burst[0] = '\0';
	__atomic_store_n(&c->b->stop, 1, __ATOMIC_RELEASE);
	fuzz_bump(&c->b->round);
	_exit(0);
}
