/* areafuzz.h -- what the areafuzz pieces share: the board, the scribbler's context, the fields. */
#ifndef MMS_TEST_AREAFUZZ_H
#define MMS_TEST_AREAFUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "common.h"
#include "area_of.h"

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
#define FUZZ_CODES          14                      /* 0 and MMS_EINVAL .. MMS_EFENCED */
#define FUZZ_FIELDS_MAX     32
#define FUZZ_SEQ_BITS       40

#define TID_MASK            0x3fffffffu             /* linux/futex.h FUTEX_TID_MASK */
#define OWNER_NOTRECOVERABLE 0x7ffffffe             /* glibc's __owner after an unrepaired death */

enum fuzz_call { CALL_GET, CALL_SET, CALL_LOCK, CALL_UNLOCK, CALLS, CALL_NONE = CALLS };

/* The name of each enum fuzz_call, CALL_NONE included, for reports. */
extern const char *const fuzz_call_names[];

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
static inline uint64_t fuzz_rand(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 0x2545f4914f6cdd1dULL;
}

/* A number in 0 .. n - 1 from *s; n must not be 0. */
static inline uint64_t fuzz_pick(uint64_t *s, uint64_t n)
{
	return fuzz_rand(s) % n;
}

/* Whether the byte ranges [a, a + alen) and [b, b + blen) share a byte. */
static inline int fuzz_overlaps(size_t a, size_t alen, size_t b, size_t blen)
{
	return a < b + blen && b < a + alen;
}

/* ---- the values workers set: id = writer << 40 | sequence, length fixed by the id ---- */

#define INITIAL_ID 1            /* writer 0: the parent's value, set before anyone forks */

/* The length of value id in an area of size bytes (size >= 8): 8 .. size. */
static inline size_t fuzz_value_len(uint64_t id, size_t size)
{
	return 8 + (size_t)((id * 0x9e3779b97f4a7c15ULL) >> 33) % (size - 7);
}

/* ---- rounds (test_areafuzz_procs.c) ---- */

/* Add 1 to *word and wake everyone waiting on it. */
void fuzz_bump(uint32_t *word);

/* The calls all workers have returned from so far: the progress the parent and scribbler watch. */
uint64_t fuzz_worker_ops(struct fuzz_board *b);

/*
 * The children, forked by the parent with m and b mapped: they never return. Worker index
 * (0 .. FUZZ_WORKERS - 1) makes calls on m in the rounds the scribbler starts, with choices
 * from seed, and reports in b->w[index]; the scribbler makes c->target scribbles on c->m in
 * bursts, one round each, then sets b->stop. Both exit 0 unless setup fails.
 */
void __attribute__((noreturn)) fuzz_worker_main(struct mms *m, struct fuzz_board *b, int index,
						size_t size, uint64_t seed);
void __attribute__((noreturn)) fuzz_scribbler_main(struct fuzz_ctx *c);

/* ---- what to write where (test_areafuzz_fields.c) ---- */

/*
 * Fill c->fields (and c->lock_off, and c->forbid_off/len on a backend whose caps lack
 * MMS_CAP_HOSTILE_SAFE) from c->m's layout; c->m, c->size and c->kind must be set.
 */
void fuzz_fields_build(struct fuzz_ctx *c, unsigned caps);

/*
 * Choose a write into field w->field of c->fields: sets w->off, w->len (within the field, at
 * most FUZZ_WRITE_MAX, clear of the forbidden bytes) and w->ours, from rng. Writes nothing.
 */
void fuzz_choose_write(struct fuzz_ctx *c, uint64_t *rng, struct fuzz_write *w);

#endif
