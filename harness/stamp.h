/* stamp.h -- the history's timestamps: the TSC where it is invariant, else CLOCK_MONOTONIC. */
#ifndef MMS_STAMP_H
#define MMS_STAMP_H

#include <stdint.h>

/*
 * Choose the source once, in the parent before any worker forks: the TSC when /proc/cpuinfo
 * says constant_tsc and nonstop_tsc and the CPUs' counters are known to agree (tsc_reliable,
 * or the kernel lists tsc as a clocksource), calibrated against CLOCK_MONOTONIC over ~25 ms;
 * else clock_gettime. MMS_BENCH_CLOCK=clock forces clock_gettime. Idempotent.
 */
void stamp_init(void);

/*
 * Fenced timestamps in CLOCK_MONOTONIC nanoseconds, so that [inv, resp] really contains the
 * operation: stamp_begin is read before any memory access of the operation starts (they wait
 * for it), stamp_end after every one of them, stores included, is visible to other CPUs.
 */
uint64_t stamp_begin(void);
uint64_t stamp_end(void);

/* "tsc" or "clock_gettime": what stamp_ns reads. */
const char *stamp_source(void);

#endif
