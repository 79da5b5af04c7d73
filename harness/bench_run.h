/* bench_run.h -- the memory a run's parent and workers share: the gate, one slot per worker. */
#ifndef MMS_BENCH_RUN_H
#define MMS_BENCH_RUN_H

#include <stdint.h>
#include <sys/types.h>

#include "bench.h"
#include "bench_target.h"
#include "history.h"
#include "latency.h"

enum run_phase { PHASE_WAIT, PHASE_WARMUP, PHASE_MEASURE, PHASE_STOP };
enum worker_where { WHERE_OUT, WHERE_GET, WHERE_SET, WHERE_LOCKED };

#define RMW_MARK 0x80000000u    /* in hist_op.worker: the op is half of a lock/get/set/unlock */

/* The gate and the clock of a run, on a line of their own that workers only read. */
struct run_shared {
	volatile int phase;             /* enum run_phase, set by the parent */
	uint64_t hist_left;             /* history records no worker has claimed yet (atomic) */
	uint8_t pad[48];
};

/* One worker's counters, on cache lines of their own: only that worker writes them. */
struct worker_slot {
	volatile uint64_t ops;          /* counted operations so far (the parent's progress view) */
	volatile int where;             /* enum worker_where, kept only when kills are planned */
	volatile int ready;             /* waiting at the gate */
	volatile int done;              /* finished and counters final */
	unsigned position;              /* which of the procs workers it is (replacements share it) */
	pid_t pid;
	int killed;                     /* the parent killed it */
	uint64_t gets, sets, rmws, torn, truncated;
	uint64_t errors[BENCH_NERR];
	uint64_t start_ns, stop_ns;     /* first and last counted operation */
	uint64_t lock_contended, retries, repairs;
	uint64_t hist_n;                /* history records written */
	uint64_t hist_claimed;          /* history records claimed from the run's budget */
	uint64_t timed;                 /* operations timed for the latency samples */
	struct latency_hist get_lat;
	struct latency_hist set_lat;
} __attribute__((aligned(64)));

/* What a worker needs to run. */
struct worker_ctx {
	const struct bench_opts *o;
	const struct bench_point *pt;
	struct bench_target *target;
	struct run_shared *shared;
	struct worker_slot *slot;
	struct hist_op *hist;           /* this worker's history buffer, or NULL without --check */
	uint64_t hist_cap;              /* records this worker's buffer holds */
	unsigned index;                 /* slot index: the high bits of every value id it writes */
	uint64_t ops_budget;            /* operations to count, or 0 to run until told to stop */
	uint64_t seed;
};

void bench_worker(struct worker_ctx *w) __attribute__((noreturn));
double bench_harness_cost(const struct bench_opts *o, const struct bench_point *pt);
int bench_vs_standalone(const struct bench_opts *o, const struct bench_point *pt,
			struct bench_target *target, uint64_t n, double *ratio, double *alone);
uint64_t bench_now_ns(void);
void bench_value_fill(unsigned char *buf, size_t len, uint64_t id, int full);
uint64_t bench_value_id(const unsigned char *buf, size_t len);

#endif
