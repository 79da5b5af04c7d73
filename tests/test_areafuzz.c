/* test_areafuzz.c -- a hostile peer scribbles the area while workers use it: fail or wait, never crash.
 *
 * The threat: any process that can write the mapping. It may make calls fail (MMS_ECORRUPT) or
 * wait (as long as mms_set_timeout allows), but must never make another process crash, read or
 * write outside the mapping or its own buffers, return a value nobody set, or wait without bound.
 *
 * Per backend and area size, FUZZ_WORKERS forked workers set a 20 ms timeout and make get, set,
 * and lock+get+set+unlock calls with self-checking values, recording every return code; a forked
 * scribbler writes bursts of 1..3 hostile values into named fields of the mapping (header, each
 * word of the mutex, gen word, slot gen/len/check, data) or at random offsets. They go in rounds:
 * the scribbler starts a round, writes its burst while the workers make FUZZ_QUOTA operations
 * each, waits for them, and undoes the burst where it is still in place. So every burst meets
 * calls in flight, a wedge costs one round, and the next burst meets a working area. Nothing
 * waits on a clock: the rounds are futex hand-offs. Counts travel back through a MAP_SHARED
 * board that is not the area under test.
 *
 * Every byte of the mapping is fair game, except, on a backend without MMS_CAP_HOSTILE_SAFE,
 * glibc's robust-list pointers in the mutex: see fields_build.
 *
 * Hang guard: the parent watches the children's progress; a poll window of FUZZ_STALL_MS (250
 * times the timeout the workers asked for) in which no call returns is a hang: the children are
 * killed and the test fails naming the call each worker was in and what the lock word says.
 * The test's own .timeout only backs that up.
 *
 * Counts: MMS_FUZZ_SCRIBBLES=N scribbles per backend, split over the area sizes (default
 * FUZZ_SCRIBBLES, about a second a backend); `make fuzz` runs N = 1000000 (minutes).
 * MMS_FUZZ_SEED=S changes the scribbler's and the workers' choices.
 */
#include <errno.h>
#include <limits.h>
#include <linux/futex.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>

#include "common.h"
#include "handle.h"

#define FUZZ_WORKERS        3
#define FUZZ_PROCS          (FUZZ_WORKERS + 1)     /* the workers, then the scribbler */
#define FUZZ_TIMEOUT_MS     20
#define FUZZ_SCRIBBLES      9000
#define FUZZ_CONTROL_SCRIBBLES 3000
#define FUZZ_BURST_MAX      3
#define FUZZ_QUOTA          2                       /* operations per worker per round */
#define FUZZ_TAIL_OPS       4
#define FUZZ_STALL_MS       5000
#define FUZZ_GUARD          16
#define FUZZ_WRITE_MAX      16
#define FUZZ_CODES          12                      /* 0 and MMS_EINVAL .. MMS_ETHREAD */
#define FUZZ_FIELDS_MAX     32
#define FUZZ_SEQ_BITS       40

#define TID_MASK            0x3fffffffu             /* linux/futex.h FUTEX_TID_MASK */
#define OWNER_NOTRECOVERABLE 0x7ffffffe             /* glibc's __owner after an unrepaired death */

static const size_t fuzz_sizes[] = { 8, 64, 4096 };
#define FUZZ_NSIZES (sizeof(fuzz_sizes) / sizeof(fuzz_sizes[0]))

enum fuzz_call { CALL_GET, CALL_SET, CALL_LOCK, CALL_UNLOCK, CALLS, CALL_NONE = CALLS };
static const char *const call_names[] = { "get", "set", "lock", "unlock", "no call" };
static const char *const code_names[FUZZ_CODES] = {
	"ok", "EINVAL", "ENOBACKEND", "ETOOBIG", "ESHORT", "EEMPTY",
	"ECORRUPT", "ELOCKED", "ESYS", "EFORMAT", "ETIMEDOUT", "ETHREAD",
};

/* How the scribbler picks a field's new bytes. */
enum fuzz_how { HOW_BYTES, HOW_NUMBER, HOW_LOCKWORD, HOW_KIND, HOW_OWNER, HOW_GEN, HOW_SLOT_GEN,
		HOW_SLOT_LEN, HOW_DATA };

struct fuzz_field {
	const char *name;
	size_t off, len;            /* where in the mapping */
	enum fuzz_how how;
};

/* What one worker reports; only it writes here, the parent and scribbler read. */
struct fuzz_worker {
	pid_t pid;
	int call;                   /* enum fuzz_call in progress, for a hang report */
	uint64_t ops;               /* calls returned: the progress the parent watches */
	uint64_t sets;              /* sequence number of the last value this worker began to set */
	uint64_t codes[CALLS][FUZZ_CODES];
	uint64_t bad;               /* calls that broke the contract */
	char first_bad[192];
};

/* Shared by the parent and its children, never by the area under test. */
struct fuzz_board {
	struct fuzz_worker w[FUZZ_WORKERS];
	pid_t parent, scribbler, dead;
	uint32_t round;             /* futex: the round the workers may run */
	uint32_t done;              /* workers through the current round */
	uint32_t gone;              /* workers reaped by the parent: no one waits for them */
	uint32_t tick;              /* futex: bumped whenever done or gone grows */
	int stop;                   /* the scribbler is done: workers run their tail and exit */
	uint64_t scribbles;         /* writes made */
	uint64_t rounds;
	uint64_t hits[FUZZ_FIELDS_MAX];
	char burst[160];            /* the burst in force, for a hang report */
};

/* What the scribbler knows, all set before it forks. */
struct fuzz_ctx {
	struct mms *m;
	struct fuzz_board *b;
	size_t size;
	uint64_t seed, target;      /* scribbles to make */
	struct fuzz_field fields[FUZZ_FIELDS_MAX];
	size_t nfields;
	size_t forbid_off, forbid_len;  /* bytes no write may touch */
	size_t lock_off;            /* the mutex's lock word */
	uint32_t kind;              /* the mutex's kind word as initialised */
};

/* One write of a burst, kept to undo it. */
struct fuzz_write {
	size_t off, len;
	int field;
	unsigned char old[FUZZ_WRITE_MAX], ours[FUZZ_WRITE_MAX];
};

/* xorshift64*: cheap, and the same seed gives the same scribbles. */
static uint64_t fuzz_rand(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 0x2545f4914f6cdd1dULL;
}

static uint64_t pick(uint64_t *s, uint64_t n)
{
	return fuzz_rand(s) % n;
}

static uint64_t env_count(const char *name, uint64_t dflt)
{
	const char *v = getenv(name);
	char *end;
	unsigned long long n;

	if (!v || !*v)
		return dflt;
	n = strtoull(v, &end, 0);
	return *end ? dflt : n;
}

/* ---- the values workers set: id = writer << 40 | sequence, length fixed by the id ---- */

#define INITIAL_ID 1            /* writer 0: the parent's value, set before anyone forks */

static size_t len_for(uint64_t id, size_t size)
{
	return 8 + (size_t)((id * 0x9e3779b97f4a7c15ULL) >> 33) % (size - 7);
}

/* Whether buf holds a value some process set: whole, of its own length, and already begun. */
static int value_known(struct fuzz_board *b, const unsigned char *buf, size_t len, size_t size)
{
	uint64_t id = value_id(buf, len), writer = id >> FUZZ_SEQ_BITS;
	uint64_t seq = id & ((1ULL << FUZZ_SEQ_BITS) - 1);

	if (!id || len != len_for(id, size))
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

static void bump(uint32_t *word)
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

static uint64_t worker_ops(struct fuzz_board *b)
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
		bad(w, "%s returned %d (%s)", call_names[call], err, mms_strerror(err));
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
		    len >= 8 ? (unsigned long long)value_id(buf, len) : 0ULL);
}

static void fuzz_set(struct fuzz_worker_ctx *w)
{
	uint64_t seq = w->fw->sets + 1;
	uint64_t id = (uint64_t)(w->index + 1) << FUZZ_SEQ_BITS | seq;
	size_t len = len_for(id, w->size);
	int err;

	value_fill(w->setbuf, len, id);
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
	uint64_t r = pick(&w->rng, 8);

	if (r < 3)
		fuzz_get(w, w->size);
	else if (r < 4)
		fuzz_get(w, 8 + (size_t)pick(&w->rng, w->size - 7));
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

static void __attribute__((noreturn)) worker_main(struct mms *m, struct fuzz_board *b, int index,
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
		bump(&b->tick);
	}
	for (k = 0; k < FUZZ_TAIL_OPS; k++)
		worker_op(&w);
	_exit(0);
}

/* ---- the scribbler ---- */

static void add_field(struct fuzz_ctx *c, const char *name, size_t off, size_t len, enum fuzz_how how)
{
	if (c->nfields < FUZZ_FIELDS_MAX)
		c->fields[c->nfields++] = (struct fuzz_field){ name, off, len, how };
}

#define MUTEX_AT(member) (offsetof(struct mms_header, mutex) + offsetof(pthread_mutex_t, __data.member))

static void add_slot_fields(struct fuzz_ctx *c, int k)
{
	static const char *const names[2][4] = {
		{ "slot0.gen", "slot0.len", "slot0.check", "slot0.data" },
		{ "slot1.gen", "slot1.len", "slot1.check", "slot1.data" },
	};
	size_t s = sizeof(struct mms_header) + (size_t)k * c->m->area.slot_stride;

	add_field(c, names[k][0], s + offsetof(struct mms_slot, gen), 8, HOW_SLOT_GEN);
	add_field(c, names[k][1], s + offsetof(struct mms_slot, len), 8, HOW_SLOT_LEN);
	add_field(c, names[k][2], s + offsetof(struct mms_slot, check), 8, HOW_BYTES);
	add_field(c, names[k][3], s + offsetof(struct mms_slot, data), c->size, HOW_DATA);
}

/*
 * Every field of the mapping, each picked as often as any other, and the whole mapping as one
 * more. A backend without MMS_CAP_HOSTILE_SAFE trusts the held mutex's kind word and glibc's
 * robust-list pointers (__data.__kind .. __data.__list): a write there while a process holds the
 * lock sends that process's unlock through the written pointers, or into glibc's assertions on
 * the kind. That is the known limit of those backends (README, "Threat model"), not something to
 * rediscover on every run, so for them those bytes are left alone.
 */
static void fields_build(struct fuzz_ctx *c, unsigned caps)
{
	c->lock_off = MUTEX_AT(__lock);
	add_field(c, "header.magic", offsetof(struct mms_header, magic), 8, HOW_BYTES);
	add_field(c, "header.version", offsetof(struct mms_header, version), 4, HOW_NUMBER);
	add_field(c, "header.header_size", offsetof(struct mms_header, header_size), 4, HOW_NUMBER);
	add_field(c, "header.size", offsetof(struct mms_header, size), 8, HOW_NUMBER);
	add_field(c, "header.map_len", offsetof(struct mms_header, map_len), 8, HOW_NUMBER);
	add_field(c, "header.backend", offsetof(struct mms_header, backend), 16, HOW_BYTES);
	add_field(c, "header.check", offsetof(struct mms_header, check), 8, HOW_BYTES);
	add_field(c, "mutex.lock", c->lock_off, 4, HOW_LOCKWORD);
	add_field(c, "mutex.count", MUTEX_AT(__count), 4, HOW_NUMBER);
	add_field(c, "mutex.owner", MUTEX_AT(__owner), 4, HOW_OWNER);
	add_field(c, "mutex.nusers", MUTEX_AT(__nusers), 4, HOW_NUMBER);
	if (caps & MMS_CAP_HOSTILE_SAFE) {
		add_field(c, "mutex.kind", MUTEX_AT(__kind), 4, HOW_KIND);
		add_field(c, "mutex.spins+elision", MUTEX_AT(__spins), 4, HOW_BYTES);
		add_field(c, "mutex.list", MUTEX_AT(__list), 16, HOW_BYTES);
	} else {
		c->forbid_off = MUTEX_AT(__kind);
		c->forbid_len = MUTEX_AT(__list) + sizeof(c->m->area.hdr->mutex.__data.__list) -
				MUTEX_AT(__kind);
	}
	add_field(c, "owner.ns", offsetof(struct mms_header, owner_ns), 8, HOW_NUMBER);
	add_field(c, "owner.tid", offsetof(struct mms_header, owner_tid), 4, HOW_OWNER);
	add_field(c, "owner.check", offsetof(struct mms_header, owner_check), 4, HOW_BYTES);
	add_field(c, "gen", offsetof(struct mms_header, gen), 8, HOW_GEN);
	add_slot_fields(c, 0);
	add_slot_fields(c, 1);
	add_field(c, "anywhere", 0, c->m->area.map_len, HOW_DATA);
}

static int overlaps(size_t a, size_t alen, size_t b, size_t blen)
{
	return a < b + blen && b < a + alen;
}

static pid_t some_pid(struct fuzz_ctx *c, uint64_t *rng)
{
	switch (pick(rng, 5)) {
	case 0:
		return c->b->parent;
	case 1:
		return getpid();
	case 2:
		return c->b->dead;
	default:
		return c->b->w[pick(rng, FUZZ_WORKERS)].pid;
	}
}

/* A lock word: free, naming a live worker (the waiter's own tid or another's), us, the parent, a
 * dead process or any tid, with the waiters and owner-died bits now and then. */
static uint32_t lock_word(struct fuzz_ctx *c, uint64_t *rng)
{
	uint32_t w;

	switch (pick(rng, 6)) {
	case 0:
		w = 0;
		break;
	case 1:
		w = (uint32_t)fuzz_rand(rng);
		return w;
	case 2:
		w = (uint32_t)fuzz_rand(rng) & TID_MASK;
		break;
	default:
		w = (uint32_t)some_pid(c, rng);
		break;
	}
	if (!pick(rng, 4))
		w |= FUTEX_WAITERS;
	if (!pick(rng, 8))
		w |= FUTEX_OWNER_DIED;
	return w;
}

/* Kinds near the real one (another type, not robust, not shared, PI, PP) or any bits at all. */
static uint32_t kind_word(struct fuzz_ctx *c, uint64_t *rng)
{
	switch (pick(rng, 4)) {
	case 0:
		return c->kind ^ (1u << pick(rng, 8));
	case 1:
		return (c->kind & ~3u) | (uint32_t)pick(rng, 4);
	case 2:
		return 0;
	default:
		return (uint32_t)fuzz_rand(rng);
	}
}

static uint32_t owner_word(struct fuzz_ctx *c, uint64_t *rng)
{
	switch (pick(rng, 4)) {
	case 0:
		return 0;
	case 1:
		return OWNER_NOTRECOVERABLE + (uint32_t)pick(rng, 2);  /* or INCONSISTENT */
	case 2:
		return (uint32_t)some_pid(c, rng);
	default:
		return (uint32_t)fuzz_rand(rng);
	}
}

/* A generation near the current one either way it is read (seqlock keeps 2g), or a wild one. */
static uint64_t gen_value(uint64_t cur, uint64_t *rng)
{
	static const int64_t near[] = { -3, -2, -1, 1, 2, 3 };

	switch (pick(rng, 8)) {
	case 0:
		return pick(rng, MMS_GEN_EMPTY + 2);            /* below, at or just past empty */
	case 1:
		return 2 * (uint64_t)MMS_GEN_EMPTY + pick(rng, 3);
	case 2:
		return UINT64_MAX - pick(rng, 3);
	case 3:
		return (1ULL << 63) + pick(rng, 2);
	case 4:
		return cur / 2 + (uint64_t)near[pick(rng, 6)];
	case 5:
		return fuzz_rand(rng);
	default:
		return cur + (uint64_t)near[pick(rng, 6)];
	}
}

static uint64_t len_value(struct fuzz_ctx *c, uint64_t *rng)
{
	static const uint64_t fixed[] = { 0, 1, 7, 8, UINT64_MAX, 1ULL << 63, 1ULL << 32 };

	switch (pick(rng, 4)) {
	case 0:
		return fixed[pick(rng, sizeof(fixed) / sizeof(fixed[0]))];
	case 1:
		return c->size + pick(rng, 16) - 8;
	case 2:
		return (uint64_t)0 - c->size;
	default:
		return fuzz_rand(rng);
	}
}

static uint64_t number_value(struct fuzz_ctx *c, uint64_t *rng)
{
	switch (pick(rng, 4)) {
	case 0:
		return pick(rng, 2) ? 0 : UINT64_MAX;
	case 1:
		return c->size + pick(rng, 3) - 1;
	case 2:
		return c->m->area.map_len * (1 + pick(rng, 2));
	default:
		return fuzz_rand(rng);
	}
}

/* The typed value for the field, as its len bytes. */
static void typed_value(struct fuzz_ctx *c, const struct fuzz_field *f, uint64_t *rng,
			unsigned char *out)
{
	uint64_t v;

	switch (f->how) {
	case HOW_LOCKWORD:
		v = lock_word(c, rng);
		break;
	case HOW_KIND:
		v = kind_word(c, rng);
		break;
	case HOW_OWNER:
		v = owner_word(c, rng);
		break;
	case HOW_GEN:
	case HOW_SLOT_GEN:
		v = gen_value(__atomic_load_n(&c->m->area.hdr->gen, __ATOMIC_RELAXED), rng);
		break;
	case HOW_SLOT_LEN:
		v = len_value(c, rng);
		break;
	default:
		v = number_value(c, rng);
		break;
	}
	memcpy(out, &v, f->len);        /* little-endian: the low bytes for a 4-byte word */
}

/* Choose where and what: a typed value over the whole field, random bytes over part of it, or
 * one byte flipped. */
static void choose_write(struct fuzz_ctx *c, uint64_t *rng, struct fuzz_write *w)
{
	const struct fuzz_field *f = &c->fields[w->field];
	unsigned char *base = (unsigned char *)c->m->area.hdr;
	size_t k, span = f->how == HOW_DATA ? 8 : f->len;
	uint64_t how = pick(rng, 4);

	do {
		w->off = f->off + (size_t)pick(rng, f->len);
		w->len = 1 + (size_t)pick(rng, span);
		if (w->off + w->len > f->off + f->len)
			w->len = f->off + f->len - w->off;
	} while (overlaps(w->off, w->len, c->forbid_off, c->forbid_len));
	if (how == 0) {
		w->len = 1;
		w->ours[0] = base[w->off] ^ (unsigned char)(1 + pick(rng, 255));
	} else if (how == 1 || f->how == HOW_BYTES || f->how == HOW_DATA) {
		for (k = 0; k < w->len; k++)
			w->ours[k] = (unsigned char)fuzz_rand(rng);
	} else {
		w->off = f->off;
		w->len = f->len;
		typed_value(c, f, rng, w->ours);
	}
}

static void apply(struct fuzz_ctx *c, struct fuzz_write *w)
{
	unsigned char *at = (unsigned char *)c->m->area.hdr + w->off;

	memcpy(w->old, at, w->len);
	memcpy(at, w->ours, w->len);
}

/* Put back the bytes that still hold what we wrote; the library has rewritten the others. */
static void undo(struct fuzz_ctx *c, const struct fuzz_write *w)
{
	unsigned char *at = (unsigned char *)c->m->area.hdr + w->off;
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
	uint32_t *word = (uint32_t *)((char *)c->m->area.hdr + c->lock_off);
	int k;

	for (k = 0; k < n; k++)
		if (overlaps(ws[k].off, ws[k].len, c->lock_off, sizeof(pthread_mutex_t)))
			break;
	if (k == n || !__atomic_load_n(word, __ATOMIC_RELAXED))
		return;
	__atomic_store_n(word, 0, __ATOMIC_RELEASE);
	syscall(SYS_futex, word, FUTEX_WAKE, INT_MAX, NULL, NULL, 0);
}

/* Start a round and return once the workers have made a few of its calls (none, at times). */
static void start_round(struct fuzz_board *b, uint64_t *rng)
{
	uint64_t until = worker_ops(b) + pick(rng, FUZZ_WORKERS * FUZZ_QUOTA);

	__atomic_store_n(&b->done, 0, __ATOMIC_RELAXED);
	bump(&b->round);
	while (worker_ops(b) < until &&
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

static void __attribute__((noreturn)) scribbler_main(struct fuzz_ctx *c)
{
	struct fuzz_write ws[FUZZ_BURST_MAX];
	uint64_t rng = c->seed | 1;
	int n, k;

	child_setup(c->b->parent);
	while (c->b->scribbles < c->target) {
		n = 1 + (int)pick(&rng, FUZZ_BURST_MAX);
		if ((uint64_t)n > c->target - c->b->scribbles)
			n = (int)(c->target - c->b->scribbles);
		__atomic_store_n(&c->b->rounds, c->b->rounds + 1, __ATOMIC_RELAXED);
		start_round(c->b, &rng);
		for (k = 0; k < n; k++) {
			ws[k].field = (int)pick(&rng, c->nfields);
			choose_write(c, &rng, &ws[k]);
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
	bump(&c->b->round);
	_exit(0);
}

/* ---- the parent: fork, watch for progress, reap, judge ---- */

struct fuzz_run {
	struct fuzz_ctx ctx;
	pid_t pids[FUZZ_PROCS];
	int status[FUZZ_PROCS];     /* child_status, or -1 while it runs */
	int lifeline[FUZZ_PROCS];   /* read ends: a child's end closes when it exits */
	char stall[768];            /* why the parent killed the children, or empty */
	char crash_burst[160];      /* the burst in force when the first child died badly */
};

static pid_t dead_pid(void)
{
	pid_t pid = fork();

	if (pid == 0)
		_exit(0);
	child_status(pid);
	return pid;
}

/* Fork child k with only its own end of its lifeline open. */
static pid_t spawn(struct fuzz_run *r, int k, int (*ends)[2])
{
	pid_t pid = fork();
	int j;

	if (pid != 0)
		return pid;
	for (j = 0; j < FUZZ_PROCS; j++) {
		close(ends[j][0]);
		if (j != k)
			close(ends[j][1]);
	}
	if (k < FUZZ_WORKERS)
		worker_main(r->ctx.m, r->ctx.b, k, r->ctx.size, r->ctx.seed * 31 + (uint64_t)k + 7);
	scribbler_main(&r->ctx);
}

static void spawn_all(struct fuzz_run *r)
{
	int ends[FUZZ_PROCS][2], k;

	for (k = 0; k < FUZZ_PROCS; k++) {
		cr_assert_eq(pipe(ends[k]), 0);
		r->status[k] = -1;
	}
	for (k = 0; k < FUZZ_PROCS; k++) {
		r->pids[k] = spawn(r, k, ends);
		cr_assert_gt(r->pids[k], 0);
		if (k < FUZZ_WORKERS)
			r->ctx.b->w[k].pid = r->pids[k];
		else
			r->ctx.b->scribbler = r->pids[k];
	}
	for (k = 0; k < FUZZ_PROCS; k++) {
		close(ends[k][1]);
		r->lifeline[k] = ends[k][0];
	}
}

static uint64_t progress(struct fuzz_board *b)
{
	return worker_ops(b) + __atomic_load_n(&b->scribbles, __ATOMIC_RELAXED);
}

static const char *whose(struct fuzz_board *b, pid_t tid, char *buf, size_t n)
{
	int k;

	if (tid == 0)
		return "no one";
	for (k = 0; k < FUZZ_WORKERS; k++)
		if (tid == b->w[k].pid) {
			snprintf(buf, n, "worker %d", k);
			return buf;
		}
	if (tid == b->scribbler)
		return "the scribbler";
	if (tid == b->parent)
		return "the parent";
	snprintf(buf, n, "pid %d (%s)", (int)tid, kill(tid, 0) == 0 || errno != ESRCH ? "alive" : "gone");
	return buf;
}

/* What a hang looks like from outside: who is in which call, what the lock word says. */
static void describe_stall(struct fuzz_run *r)
{
	struct fuzz_board *b = r->ctx.b;
	uint32_t word = *(uint32_t *)((char *)r->ctx.m->area.hdr + r->ctx.lock_off);
	char who[48], *p = r->stall, *end = p + sizeof(r->stall);
	int k, call;

	p += snprintf(p, (size_t)(end - p), "no call returned for %d ms in round %u: lock word %#x "
		      "names %s; gen %#llx;", FUZZ_STALL_MS, b->round, word,
		      whose(b, (pid_t)(word & TID_MASK), who, sizeof(who)),
		      (unsigned long long)r->ctx.m->area.hdr->gen);
	for (k = 0; k < FUZZ_WORKERS && p < end; k++) {
		call = __atomic_load_n(&b->w[k].call, __ATOMIC_RELAXED);
		p += snprintf(p, (size_t)(end - p), " worker %d %s after %llu calls;", k,
			      r->status[k] >= 0 ? "exited" :
			      call == CALL_NONE ? "between calls" : call_names[call],
			      (unsigned long long)b->w[k].ops);
	}
	if (p < end)
		snprintf(p, (size_t)(end - p), " burst in force: %s", b->burst[0] ? b->burst : "none");
}

static void kill_all(struct fuzz_run *r)
{
	int k;

	for (k = 0; k < FUZZ_PROCS; k++)
		if (r->status[k] < 0) {
			kill(r->pids[k], SIGKILL);
			r->status[k] = child_status(r->pids[k]);
			close(r->lifeline[k]);
		}
}

static void reap(struct fuzz_run *r, int k)
{
	r->status[k] = child_status(r->pids[k]);
	close(r->lifeline[k]);
	if (r->status[k] && !r->crash_burst[0])
		snprintf(r->crash_burst, sizeof(r->crash_burst), "%s", r->ctx.b->burst);
	if (k < FUZZ_WORKERS) {
		__atomic_fetch_add(&r->ctx.b->gone, 1, __ATOMIC_RELEASE);
		bump(&r->ctx.b->tick);
	} else {
		__atomic_store_n(&r->ctx.b->stop, 1, __ATOMIC_RELEASE);  /* even if it died early */
		bump(&r->ctx.b->round);
	}
}

/* Reap children as they exit; FUZZ_STALL_MS in which nothing at all progresses is a hang. */
static void watch(struct fuzz_run *r)
{
	struct pollfd fds[FUZZ_PROCS];
	uint64_t seen = progress(r->ctx.b);
	int live = FUZZ_PROCS, k, n;

	for (k = 0; k < FUZZ_PROCS; k++)
		fds[k] = (struct pollfd){ .fd = r->lifeline[k], .events = POLLIN };
	while (live > 0) {
		n = poll(fds, FUZZ_PROCS, FUZZ_STALL_MS);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			snprintf(r->stall, sizeof(r->stall), "poll: %s", strerror(errno));
		else if (n == 0 && progress(r->ctx.b) == seen)
			describe_stall(r);
		if (r->stall[0]) {
			kill_all(r);
			return;
		}
		seen = progress(r->ctx.b);
		for (k = 0; k < FUZZ_PROCS; k++)
			if (fds[k].fd >= 0 && fds[k].revents) {
				reap(r, k);
				fds[k].fd = -1;
				live--;
			}
	}
}

/* What one backend's areas add up to, for the log line. */
struct fuzz_tally {
	uint64_t scribbles, rounds, calls, bad, codes[CALLS][FUZZ_CODES];
	uint64_t hits[FUZZ_FIELDS_MAX];
	size_t nfields;
	int crashes, stalls;
};

/* A child that did not exit 0, unless the hang guard killed it. */
static int crashed(const struct fuzz_run *r, int k)
{
	return r->status[k] != 0 && !(r->stall[0] && r->status[k] == 128 + SIGKILL);
}

static void tally_add(struct fuzz_tally *t, const struct fuzz_run *r)
{
	const struct fuzz_board *b = r->ctx.b;
	size_t f;
	int k, c, e;

	t->scribbles += b->scribbles;
	t->rounds += b->rounds;
	for (k = 0; k < FUZZ_WORKERS; k++) {
		t->calls += b->w[k].ops;
		t->bad += b->w[k].bad;
		for (c = 0; c < CALLS; c++)
			for (e = 0; e < FUZZ_CODES; e++)
				t->codes[c][e] += b->w[k].codes[c][e];
	}
	t->nfields = r->ctx.nfields;        /* the same fields at every size */
	for (f = 0; f < r->ctx.nfields; f++)
		t->hits[f] += b->hits[f];
	for (k = 0; k < FUZZ_PROCS; k++)
		t->crashes += crashed(r, k);
	t->stalls += r->stall[0] != '\0';
}

static void judge(const struct fuzz_run *r, const char *backend)
{
	const struct fuzz_board *b = r->ctx.b;
	int k, st;

	cr_expect(r->stall[0] == '\0', "%s, %zu B: hang: %s", backend, r->ctx.size, r->stall);
	for (k = 0; k < FUZZ_PROCS; k++) {
		st = r->status[k];
		cr_expect(!crashed(r, k), "%s, %zu B: %s %s %d%s%s (burst in force: %s)", backend,
			  r->ctx.size, k < FUZZ_WORKERS ? "a worker" : "the scribbler",
			  st > 128 ? "died of signal" : "exited with", st > 128 ? st - 128 : st,
			  st > 128 ? " " : "", st > 128 ? strsignal(st - 128) : "", r->crash_burst);
	}
	for (k = 0; k < FUZZ_WORKERS; k++)
		cr_expect_eq(b->w[k].bad, 0, "%s, %zu B: worker %d broke the contract %llu times; first: %s",
			     backend, r->ctx.size, k, (unsigned long long)b->w[k].bad, b->w[k].first_bad);
}

static void set_initial(struct mms *m, size_t size)
{
	size_t len = len_for(INITIAL_ID, size);
	unsigned char *v = malloc(len);

	cr_assert_not_null(v);
	value_fill(v, len, INITIAL_ID);
	cr_assert_eq(mms_set(m, v, len), 0);
	free(v);
}

/* One area under fire; judged (every failure reported) unless it is a negative control. */
static void fuzz_area(const char *backend, size_t size, uint64_t scribbles, uint64_t seed,
		      struct fuzz_tally *t, int judged)
{
	struct fuzz_run r = { .ctx = { .size = size, .seed = seed, .target = scribbles } };
	unsigned caps = 0;

	r.ctx.b = mmap(NULL, sizeof(*r.ctx.b), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	cr_assert_neq(r.ctx.b, MAP_FAILED);
	cr_assert_eq(mms_backend_caps(backend, &caps), 0);
	cr_assert_eq(mms_new(&r.ctx.m, backend, size), 0);
	set_initial(r.ctx.m, size);
	r.ctx.kind = (uint32_t)r.ctx.m->area.hdr->mutex.__data.__kind;
	fields_build(&r.ctx, caps);
	r.ctx.b->parent = getpid();
	r.ctx.b->dead = dead_pid();
	spawn_all(&r);
	watch(&r);
	tally_add(t, &r);
	if (judged)
		judge(&r, backend);
	mms_free(r.ctx.m);
	munmap(r.ctx.b, sizeof(*r.ctx.b));
}

/* Every area size gets its share of the scribbles, and the shares add up to the count. */
static void fuzz_backend(const char *backend, uint64_t scribbles, uint64_t seed, struct fuzz_tally *t,
			 int judged)
{
	size_t k;

	for (k = 0; k < FUZZ_NSIZES; k++)
		fuzz_area(backend, fuzz_sizes[k], scribbles / FUZZ_NSIZES + (k < scribbles % FUZZ_NSIZES),
			  seed + k, t, judged);
}

static void log_tally(const char *backend, const struct fuzz_tally *t)
{
	char codes[640], *p = codes, *end = codes + sizeof(codes);
	uint64_t lo = UINT64_MAX, hi = 0;
	size_t f;
	int c, e;

	for (f = 0; f < t->nfields; f++) {
		lo = t->hits[f] < lo ? t->hits[f] : lo;
		hi = t->hits[f] > hi ? t->hits[f] : hi;
	}
	*p = '\0';
	for (c = 0; c < CALLS && p < end; c++) {
		p += snprintf(p, (size_t)(end - p), " %s:", call_names[c]);
		for (e = 0; e < FUZZ_CODES && p < end; e++)
			if (t->codes[c][e])
				p += snprintf(p, (size_t)(end - p), " %s %llu", code_names[e],
					      (unsigned long long)t->codes[c][e]);
	}
	cr_log_info("areafuzz %s: %llu scribbles in %llu bursts (%zu fields, each hit %llu..%llu times), "
		    "%llu calls;%s; crashes %d, hangs %d, contract breaks %llu\n", backend,
		    (unsigned long long)t->scribbles, (unsigned long long)t->rounds, t->nfields,
		    (unsigned long long)lo, (unsigned long long)hi, (unsigned long long)t->calls, codes,
		    t->crashes, t->stalls, (unsigned long long)t->bad);
}

static uint64_t fuzz_seed(void)
{
	return env_count("MMS_FUZZ_SEED", 1) * 1000003;
}

BACKEND_PARAMS(areafuzz, hostile_peer)
ParameterizedTest(int *i, areafuzz, hostile_peer, .timeout = 3600)
{
	struct fuzz_tally t = { 0 };

	fuzz_backend(backend_at(i), env_count("MMS_FUZZ_SCRIBBLES", FUZZ_SCRIBBLES),
		     fuzz_seed() + (uint64_t)*i * 101, &t, 1);
	log_tally(backend_at(i), &t);
}

/*
 * The oracle can fail: the none backend hands out slot bytes without checking them, so some
 * scribbled bytes must come back from a get as a value nobody set.
 */
Test(areafuzz, negative_control_none_is_caught, .timeout = 600)
{
	struct fuzz_tally t = { 0 };

	fuzz_backend("none", FUZZ_CONTROL_SCRIBBLES, fuzz_seed(), &t, 0);
	log_tally("none", &t);
	cr_expect_gt(t.bad, 0, "the scribbles on none went unnoticed");
	cr_expect_eq(t.crashes + t.stalls, 0, "none has no lock to wedge and copies in bounds");
}
