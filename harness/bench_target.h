/* bench_target.h -- what a bench worker operates on: a library backend (raw or tpl) or a bare loop. */
#ifndef MMS_BENCH_TARGET_H
#define MMS_BENCH_TARGET_H

#include <stddef.h>
#include <stdint.h>

#include "bench.h"

struct bench_target;

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

#endif
