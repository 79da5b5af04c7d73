/* stamp.c -- fenced timestamps for the checker: rdtsc scaled to ns, or clock_gettime. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "stamp.h"

#define CALIBRATE_NS 25000000ULL

/* The TSC and CLOCK_MONOTONIC at one instant, and ns per tick in 32.32 fixed point. */
static struct {
	int inited, tsc;
	uint64_t base_tsc, base_ns, mult;
} clk;

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

#if defined(__x86_64__) || defined(__i386__)
#include <x86intrin.h>
/* lfence on both sides: rdtsc neither starts before earlier instructions end nor lets later ones start first. */
static inline uint64_t read_tsc(void)
{
	uint64_t t;

	_mm_lfence();
	t = __rdtsc();
	_mm_lfence();
	return t;
}
static const int have_tsc_instruction = 1;
#else
static inline uint64_t read_tsc(void)
{
	return 0;
}
static const int have_tsc_instruction = 0;
#endif

/* Whether the kernel would use the TSC as a clock: it checked that the CPUs agree. */
static int kernel_trusts_tsc(void)
{
	FILE *f = fopen("/sys/devices/system/clocksource/clocksource0/available_clocksource", "r");
	char line[256] = "";

	if (f) {
		if (!fgets(line, sizeof(line), f))
			line[0] = 0;
		fclose(f);
	}
	return strstr(line, "tsc") != NULL;
}

/*
 * Whether the TSC can stamp a history that workers on different CPUs write: it must tick at one
 * rate in every state (constant_tsc, nonstop_tsc), and the CPUs' counters must agree, which
 * constant_tsc alone does not promise: the hypervisor says so (tsc_reliable), or the kernel
 * offers the TSC as a clocksource, which it does only after its own synchronization check.
 */
static int tsc_trusted(void)
{
	FILE *f = fopen("/proc/cpuinfo", "r");
	char line[4096];
	int constant = 0, nonstop = 0, reliable = 0;

	while (f && fgets(line, sizeof(line), f))
		if (!strncmp(line, "flags", 5)) {
			constant = strstr(line, " constant_tsc") != NULL;
			nonstop = strstr(line, " nonstop_tsc") != NULL;
			reliable = strstr(line, " tsc_reliable") != NULL;
			break;
		}
	if (f)
		fclose(f);
	return constant && nonstop && (reliable || kernel_trusts_tsc());
}

/*
 * One (CLOCK_MONOTONIC, TSC) pair: the TSC read between two clock reads, from the try whose
 * clock reads were closest, so a preemption in the middle cannot skew the pair.
 */
static void pair(uint64_t *ns, uint64_t *tsc)
{
	uint64_t best = UINT64_MAX, m0, m1, t;
	int k;

	for (k = 0; k < 64; k++) {
		m0 = mono_ns();
		t = read_tsc();
		m1 = mono_ns();
		if (m1 - m0 < best) {
			best = m1 - m0;
			*ns = m0 + (m1 - m0) / 2;
			*tsc = t;
		}
	}
}

static void calibrate(void)
{
	uint64_t n0, t0, n1, t1;

	pair(&n0, &t0);
	do
		pair(&n1, &t1);
	while (n1 - n0 < CALIBRATE_NS);
	if (t1 <= t0)
		return;
	clk.mult = (uint64_t)(((unsigned __int128)(n1 - n0) << 32) / (t1 - t0));
	clk.base_tsc = t1;
	clk.base_ns = n1;
	clk.tsc = clk.mult > 0;
}

void stamp_init(void)
{
	const char *force = getenv("MMS_BENCH_CLOCK");

	if (clk.inited)
		return;
	clk.inited = 1;
	if (have_tsc_instruction && tsc_trusted() && !(force && !strcmp(force, "clock")))
		calibrate();
}

static inline uint64_t tsc_to_ns(uint64_t tsc)
{
	return clk.base_ns + (uint64_t)(((unsigned __int128)(tsc - clk.base_tsc) * clk.mult) >> 32);
}

/*
 * The TSC: the lfences around rdtsc keep later loads from starting early; before the end stamp,
 * a full fence first drains the store buffer, so the operation's stores are visible. clock_gettime
 * reads memory itself, so it gets a full fence on each side.
 */
uint64_t stamp_begin(void)
{
	uint64_t t;

	if (clk.tsc)
		return tsc_to_ns(read_tsc());
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	t = mono_ns();
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	return t;
}

uint64_t stamp_end(void)
{
	uint64_t t;

	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (clk.tsc)
		return tsc_to_ns(read_tsc());
	t = mono_ns();
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	return t;
}

const char *stamp_source(void)
{
	return clk.tsc ? "tsc" : "clock_gettime";
}
