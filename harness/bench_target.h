/* bench_target.h -- what a bench worker operates on: a library backend (raw or tpl) or a bare loop. */
#ifndef MMS_BENCH_TARGET_H
#define MMS_BENCH_TARGET_H

#include <stddef.h>
#include <stdint.h>

#include "bench.h"

struct bench_target;

/* What one scheduled operation is. */
enum bench_op { BENCH_OP_GET, BENCH_OP_SET, BENCH_OP_RMW };

/* A run of untimed, unrecorded operations, as drawn up in the worker's schedule. */
struct bench_batch {
	const uint8_t *sched;           /* enum bench_op, one byte each */
	unsigned n;                     /* operations */
	int reads_only;                 /* the schedule holds gets alone */
	unsigned char *rbuf, *wbuf;     /* the value read; the value written */
	size_t size;                    /* value bytes */
	uint64_t id_base;               /* ids written are id_base | ++*seq */
	uint64_t *seq;
};

/* What a batch did, added to by batch(). */
struct bench_tally {
	uint64_t gets, sets, rmws;
	uint64_t errors[BENCH_NERR];    /* by -code, as in struct bench_result */
};

/* How one kind of target does each operation; the harness never looks behind this. */
struct bench_target_ops {
	int  (*get)(struct bench_target *t, void *buf, size_t cap, size_t *len);
	int  (*set)(struct bench_target *t, const void *buf, size_t len);
	int  (*lock)(struct bench_target *t);
	int  (*unlock)(struct bench_target *t);
	void (*counters)(struct bench_target *t, uint64_t *contended, uint64_t *retries,
			 uint64_t *repairs);
	void (*counters_reset)(struct bench_target *t);
	void (*close)(struct bench_target *t);
	/* The batch's operations in one tight loop: the calls are direct, the counters local. */
	void (*batch)(struct bench_target *t, const struct bench_batch *b, struct bench_tally *c);
	/*
	 * n gets of the whole value in a loop with no harness at all, for the standalone figure;
	 * NULL where there is no such loop (structured values, the null target). Returns errors.
	 */
	uint64_t (*standalone)(struct bench_target *t, uint64_t n);
};

struct bench_target {
	const struct bench_target_ops *ops;
	struct mms *m;          /* library backends */
	void *bare;             /* bare loops: their shared state */
	size_t bare_len;        /* bytes mapped at bare */
	size_t size;            /* largest value, bytes */
	int held;               /* bare loops: this process holds the lock */
	uint64_t contended, retries;    /* bare loops' own counters */
};

/* Open the named target over a fresh area for values of up to size bytes; 0 or an MMS_E* code. */
int bench_target_open(struct bench_target *t, const char *name, enum bench_mode mode, size_t size);
int bench_target_is_baseline(const char *name);
/* A target whose operations do nothing: the harness's own cost per operation is measured on it. */
void bench_target_null(struct bench_target *t, size_t size);

#endif
