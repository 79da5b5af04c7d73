/* bench_run.c -- run one point: fork workers behind a gate, kill some, watch the clock, collect. */
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "mmshare.h"
#include "bench_run.h"
#include "stamp.h"
#include "stats.h"

#define HIST_MIN_PER_WORKER (8ULL << 20)     /* records; touched pages only are used */
#define HIST_ADDRESS_SPACE  (32ULL << 40)    /* bytes of address space all histories may take */
#define RECOVERY_GIVE_UP_NS 5000000000ULL
#define INTERVAL_NS 20000000ULL                /* throughput is sampled this often */
#define MIN_INTERVALS 5                         /* before an adaptive run may stop */

/* Everything the parent holds for one run. */
struct run {
	const struct bench_opts *o;
	const struct bench_point *pt;
	struct bench_result *r;
	struct bench_target target;
	struct run_shared *shared;
	struct worker_slot *slots;
	unsigned nslots, used;          /* slots mapped; slots started so far */
	struct hist_op *hist;           /* nslots + 1 buffers (the last: the parent's initial set) */
	uint64_t seed;
	uint64_t deadline_ns;           /* the watchdog */
	double recovery_sum_ms;
	uint64_t *kill_at;              /* when each kill happened */
	unsigned *kill_victim;          /* and whom it hit */
	struct samples rates;           /* throughput of each INTERVAL_NS, timing runs */
	uint64_t hist_budget;           /* history records all workers may write */
	uint64_t hist_stride;           /* records reserved (not touched) for each worker's buffer */
};

static void *map_shared(size_t len)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
		       MAP_SHARED | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

	return p == MAP_FAILED ? NULL : p;
}

static void nap_us(long us)
{
	struct timespec ts = { us / 1000000, (us % 1000000) * 1000 };

	nanosleep(&ts, NULL);
}

static uint64_t splitmix(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static int start_worker(struct run *run, unsigned position)
{
	unsigned index = run->used++;
	struct worker_slot *s = &run->slots[index];
	struct worker_ctx w = {
		.o = run->o, .pt = run->pt, .target = &run->target, .shared = run->shared,
		.slot = s, .index = index, .seed = splitmix(&run->seed),
		.hist = run->hist ? run->hist + (size_t)index * run->hist_stride : NULL,
		.hist_cap = run->hist_stride, .ops_budget = run->o->ops,
	};
	pid_t pid;

	s->position = position;
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0)
		bench_worker(&w);
	s->pid = pid;
	return 0;
}

static int all_ready(struct run *run)
{
	unsigned k;

	for (k = 0; k < run->used; k++)
		if (!run->slots[k].ready)
			return 0;
	return 1;
}

static uint64_t live_ops(struct run *run, unsigned except)
{
	uint64_t sum = 0;
	unsigned k;

	for (k = 0; k < run->used; k++)
		if (k != except && !run->slots[k].killed)
			sum += run->slots[k].ops;
	return sum;
}

/* Pick a live victim; for some kills, wait briefly for it to be inside set or holding the lock. */
static unsigned choose_victim(struct run *run, int *where)
{
	unsigned k, live = 0, pick, index = 0;
	uint64_t r = splitmix(&run->seed), until;
	int want = r & 1 ? WHERE_LOCKED : WHERE_SET;

	for (k = 0; k < run->used; k++)
		live += !run->slots[k].killed && !run->slots[k].done;
	pick = live ? (unsigned)((r >> 8) % live) : 0;
	for (k = 0; k < run->used; k++)
		if (!run->slots[k].killed && !run->slots[k].done && pick-- == 0)
			index = k;
	until = bench_now_ns() + 2000000;
	while ((r & 2) && run->slots[index].where != want && bench_now_ns() < until)
		;
	*where = run->slots[index].where;
	return index;
}

static void measure_recovery(struct run *run, unsigned victim, uint64_t killed_at)
{
	uint64_t before = live_ops(run, victim), now;
	double ms;

	do {
		nap_us(20);
		now = bench_now_ns();
	} while (live_ops(run, victim) == before && now - killed_at < RECOVERY_GIVE_UP_NS &&
		 run->shared->phase != PHASE_STOP);
	ms = (double)(now - killed_at) / 1e6;
	run->recovery_sum_ms += ms;
	if (ms > run->r->recovery_ms_max)
		run->r->recovery_ms_max = ms;
}

static void kill_one(struct run *run)
{
	int where;
	unsigned victim = choose_victim(run, &where);
	struct worker_slot *s = &run->slots[victim];
	uint64_t at;

	if (s->done || s->killed)
		return;
	kill(s->pid, SIGKILL);
	at = bench_now_ns();
	run->kill_at[run->r->kills] = at;
	run->kill_victim[run->r->kills] = victim;
	waitpid(s->pid, NULL, 0);
	s->killed = 1;
	/* What it claimed and never wrote goes back to the run's budget. */
	__atomic_fetch_add(&run->shared->hist_left, s->hist_claimed - s->hist_n, __ATOMIC_RELAXED);
	s->stop_ns = s->start_ns ? at : 0;
	run->r->kills++;
	run->r->kills_in_lock += where == WHERE_LOCKED;
	run->r->kills_in_set += where == WHERE_SET;
	run->r->kills_in_call += where != WHERE_OUT;
	if (run->used < run->nslots)
		start_worker(run, s->position);
	measure_recovery(run, victim, at);
}

/* Operations every worker of the run counted so far, killed ones too. */
static uint64_t all_ops(struct run *run)
{
	uint64_t sum = 0;
	unsigned k;

	for (k = 0; k < run->used; k++)
		sum += run->slots[k].ops;
	return sum;
}

/* A worker that holds the lock now, waiting up to 200 ms for one; the first live one otherwise. */
static unsigned choose_holder(struct run *run)
{
	uint64_t until = bench_now_ns() + 200000000ULL;
	unsigned k, first = run->used;

	do {
		for (k = 0; k < run->used; k++) {
			if (run->slots[k].killed || run->slots[k].done)
				continue;
			first = first < run->used ? first : k;
			if (run->slots[k].where == WHERE_LOCKED)
				return k;
		}
	} while (bench_now_ns() < until && run->shared->phase != PHASE_STOP);
	return first;
}

static void stall_one(struct run *run)
{
	unsigned victim = choose_holder(run);

	if (victim >= run->used)
		return;
	if (bench_stop(run->slots[victim].pid))
		return;
	run->r->stalls_in_lock += run->slots[victim].where == WHERE_LOCKED;
	run->r->stalls++;
	bench_resume(run->slots[victim].pid, run->o->stall_s);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static int all_done(struct run *run)
{
	unsigned k;

	for (k = 0; k < run->used; k++)
		if (!run->slots[k].killed && !run->slots[k].done)
			return 0;
	return 1;
}

static void live_line(struct run *run, uint64_t started, uint64_t now)
{
	static uint64_t last;
	double secs = (double)(now - started) / 1e9;

	if (run->o->quiet || !isatty(2) || now - last < 250000000ULL || secs <= 0)
		return;
	last = now;
	fprintf(stderr, "\r\033[K[%u/%u] %s %s procs=%u write=%u%% size=%zu: %.3g Mops/s",
		run->pt->seq, run->pt->of, run->pt->backend, run->pt->mode == BENCH_TPL ? "tpl" : "raw",
		run->pt->procs, run->pt->write_ratio, run->pt->size,
		(double)live_ops(run, UINT32_MAX) / secs / 1e6);
}

/* How far the measured part has come, 0..1: by the clock, or by operations done with --ops. */
static double progress(struct run *run, uint64_t started, uint64_t now)
{
	if (!run->o->ops)
		return (double)(now - started) / (run->o->duration * 1e9);
	return (double)live_ops(run, UINT32_MAX) / ((double)run->o->ops * run->pt->procs);
}

/* Throughput over the interval just ended, for the run's confidence interval. */
static void sample_rate(struct run *run, uint64_t *at, uint64_t *ops, uint64_t now)
{
	uint64_t n = live_ops(run, UINT32_MAX);

	if (*at && n > *ops)
		samples_add(&run->rates, (double)(n - *ops) * 1e9 / (double)(now - *at));
	*at = now;
	*ops = n;
}

/* An adaptive timing run may end once its interval is narrow enough, and must at its cap. */
static int steady_enough(struct run *run, double secs)
{
	const struct samples *r = &run->rates;
	double half;

	if (secs >= run->o->max_duration)
		return 1;
	if (r->n < MIN_INTERVALS)
		return 0;
	half = stats_ci_rel_half(samples_mean(r), samples_sd(r), r->n, 0.05);
	return half <= run->o->ci_target;
}

/* The measured part: kills at random fractions of it, the watchdog, the progress line. */
static int drive(struct run *run)
{
	double when[run->o->kill + 1], stall_when[run->o->stall + 1];
	uint64_t started = bench_now_ns(), now, at = 0, ops = 0;
	unsigned k, next = 0, next_stall = 0;
	uint64_t fault_mark = 0;
	int timing = run->r->timing && !run->o->ops, faulted = !run->o->fault;

	for (k = 0; k < run->o->kill; k++)
		when[k] = 0.05 + 0.9 * (double)(splitmix(&run->seed) >> 11) / (double)(1ULL << 53);
	qsort(when, run->o->kill, sizeof(double), cmp_double);
	for (k = 0; k < run->o->stall; k++)
		stall_when[k] = 0.05 + 0.8 * (double)(splitmix(&run->seed) >> 11) / (double)(1ULL << 53);
	qsort(stall_when, run->o->stall, sizeof(double), cmp_double);
	for (;;) {
		now = bench_now_ns();
		/* Kills come first: every one is due before the end (when[] < 0.95). */
		while (next < run->o->kill && progress(run, started, now) >= when[next]) {
			kill_one(run);
			next++;
		}
		while (next_stall < run->o->stall && progress(run, started, now) >= stall_when[next_stall]) {
			stall_one(run);
			next_stall++;
		}
		if (!faulted && progress(run, started, now) >= 0.5) {
			run->r->fault_status = bench_fault_run(run->o->fault, &run->r->fault_ms);
			fault_mark = all_ops(run);
			faulted = 1;
			/* the second half runs whole after the fault, however long it took */
			started += (uint64_t)(run->r->fault_ms * 1e6);
			run->deadline_ns += (uint64_t)(run->r->fault_ms * 1e6);
			now = bench_now_ns();   /* the fault took time: started may be past the old now */
		}
		if (run->o->fault && faulted)
			run->r->ops_after_fault = all_ops(run) - fault_mark;
		if (timing && now - at >= INTERVAL_NS)
			sample_rate(run, &at, &ops, now);
		if (!run->o->ops && progress(run, started, now) >= 1 &&
		    (!timing || !run->o->max_duration ||
		     steady_enough(run, (double)(now - started) / 1e9)))
			return 0;
		if (run->o->ops && all_done(run))
			return 0;
		if (now > run->deadline_ns)
			return -1;
		live_line(run, started, now);
		nap_us(timing ? 1000 : 500);
	}
}

static int wait_workers(struct run *run)
{
	unsigned k, left;

	do {
		left = 0;
		for (k = 0; k < run->used; k++) {
			struct worker_slot *s = &run->slots[k];

			if (s->killed || s->pid == 0)
				continue;
			if (waitpid(s->pid, NULL, WNOHANG) == s->pid)
				s->pid = 0;
			else
				left++;
		}
		if (left && bench_now_ns() > run->deadline_ns)
			return -1;
		if (left)
			nap_us(200);
	} while (left);
	return 0;
}

static void kill_all(struct run *run)
{
	unsigned k;

	for (k = 0; k < run->used; k++)
		if (!run->slots[k].killed && run->slots[k].pid > 0) {
			kill(run->slots[k].pid, SIGKILL);
			waitpid(run->slots[k].pid, NULL, 0);
			run->slots[k].pid = 0;
		}
}

static int gate_and_run(struct run *run)
{
	unsigned k;
	double planned = run->o->warmup + (run->o->ops ? 0 : fmax(run->o->duration,
								       run->o->max_duration));

	planned += run->o->stall * run->o->stall_s;
	run->deadline_ns = bench_now_ns() + (uint64_t)((planned + run->o->timeout) * 1e9);
	for (k = 0; k < run->pt->procs; k++)
		if (start_worker(run, k))
			return -1;
	while (!all_ready(run))
		if (bench_now_ns() > run->deadline_ns)
			return -1;
		else
			nap_us(100);
	if (run->o->warmup > 0) {
		run->shared->phase = PHASE_WARMUP;
		nap_us((long)(run->o->warmup * 1e6));
	}
	/* Without warmup, workers go straight to measuring: --ops runs are then exactly repeatable. */
	run->shared->phase = PHASE_MEASURE;
	if (drive(run))
		return -1;
	run->shared->phase = PHASE_STOP;
	return wait_workers(run);
}

/* Time during which every one of the procs positions had a worker running, over the window. */
static double overlap_fraction(struct run *run, uint64_t first, uint64_t last)
{
	unsigned n = 0, k, j, active = 0;
	uint64_t edge[2 * run->used], covered = 0, prev = first;
	int delta[2 * run->used];

	for (k = 0; k < run->used; k++) {
		if (!run->slots[k].start_ns || run->slots[k].stop_ns < run->slots[k].start_ns)
			continue;
		edge[n] = run->slots[k].start_ns, delta[n++] = 1;
		edge[n] = run->slots[k].stop_ns, delta[n++] = -1;
	}
	for (k = 1; k < n; k++)         /* insertion sort: a few dozen edges */
		for (j = k; j > 0 && edge[j - 1] > edge[j]; j--) {
			uint64_t e = edge[j];
			int d = delta[j];

			edge[j] = edge[j - 1], delta[j] = delta[j - 1];
			edge[j - 1] = e, delta[j - 1] = d;
		}
	for (k = 0; k < n; k++) {
		if (active >= run->pt->procs)
			covered += edge[k] - prev;
		active += delta[k];
		prev = edge[k];
	}
	return last > first ? (double)covered / (double)(last - first) : 0;
}

static void fairness(struct bench_result *r)
{
	double sum = 0, sq = 0, lo = INFINITY, hi = 0, x;
	unsigned k;

	for (k = 0; k < r->nworkers; k++) {
		x = r->per_worker_rate[k];
		sum += x;
		sq += x * x;
		lo = x < lo ? x : lo;
		hi = x > hi ? x : hi;
	}
	r->fairness_jain = sq > 0 ? sum * sum / (r->nworkers * sq) : 0;
	r->fairness_minmax = hi > 0 ? lo / hi : 0;
}

static void add_slot(struct bench_result *r, const struct worker_slot *s, struct latency_hist *get,
		     struct latency_hist *set, double *active)
{
	unsigned e;

	r->ops += s->ops;
	r->gets += s->gets;
	r->sets += s->sets;
	r->rmws += s->rmws;
	r->torn += s->torn;
	r->truncated += s->truncated;
	r->lock_contended += s->lock_contended;
	r->retries += s->retries;
	r->repairs += s->repairs;
	for (e = 0; e < BENCH_NERR; e++) {
		r->errors[e] += s->errors[e];
		r->errors_total += s->errors[e];
	}
	latency_merge(get, &s->get_lat);
	latency_merge(set, &s->set_lat);
	r->per_worker_ops[s->position] += s->ops;
	if (s->start_ns && s->stop_ns > s->start_ns)
		active[s->position] += (double)(s->stop_ns - s->start_ns) / 1e9;
}

/* The 95% interval of the throughput, from its intervals; none for checked runs. */
static void interval_of(struct run *run)
{
	struct bench_result *r = run->r;
	const struct samples *s = &run->rates;
	double half = stats_ci_rel_half(samples_mean(s), samples_sd(s), s->n, 0.05);

	r->intervals = (unsigned)s->n;
	r->ci95_low = r->ci95_high = NAN;
	if (!r->timing || !isfinite(half))
		return;
	r->ci95_low = r->ops_per_sec * (half < 1 ? 1 - half : 0);     /* a rate is never below 0 */
	r->ci95_high = r->ops_per_sec * (1 + half);
	r->steady = half <= run->o->ci_target;
}

static void collect(struct run *run, double stamp_cost)
{
	static struct latency_hist get, set;
	struct bench_result *r = run->r;
	double active[BENCH_MAX_LIST * 8] = { 0 };
	uint64_t first = UINT64_MAX, last = 0, timed = 0;
	unsigned k;

	memset(&get, 0, sizeof(get));
	memset(&set, 0, sizeof(set));
	r->nworkers = run->pt->procs;
	for (k = 0; k < run->used; k++) {
		const struct worker_slot *s = &run->slots[k];

		add_slot(r, s, &get, &set, active);
		timed += s->timed;
		if (s->start_ns && s->start_ns < first)
			first = s->start_ns;
		if (s->stop_ns > last)
			last = s->stop_ns;
	}
	for (k = 0; k < r->nworkers; k++)
		r->per_worker_rate[k] = active[k] > 0 ? (double)r->per_worker_ops[k] / active[k] : 0;
	r->duration_s = last > first ? (double)(last - first) / 1e9 : 0;
	r->ops_per_sec = r->duration_s > 0 ? (double)r->ops / r->duration_s : 0;
	fairness(r);
	latency_summarize(&get, &r->get_lat);
	latency_summarize(&set, &r->set_lat);
	r->overlap = r->nworkers > 1 ? overlap_fraction(run, first, last) : 1;
	r->contended = r->nworkers > 1 && r->overlap >= 0.5 && r->lock_contended + r->retries > 0;
	r->timestamp_overhead_ns = run->hist ? 2 * stamp_cost : r->ops ? 2 * stamp_cost * timed / r->ops : 0;
	interval_of(run);
	r->recovery_ms_mean = r->kills ? run->recovery_sum_ms / r->kills : 0;
}

/* What one timestamp costs here: the mean of the history's two fenced ones when checked. */
static double stamp_cost_ns(int checked)
{
	uint64_t t0 = bench_now_ns(), sink = 0;
	int k;

	for (k = 0; k < 50000; k++)
		sink += checked ? stamp_begin() + stamp_end() : bench_now_ns() + bench_now_ns();
	__asm__ volatile("" : : "r"(sink));
	return (double)(bench_now_ns() - t0) / 100000;
}

/* The first response after t in one worker's history (its responses only grow), or UINT64_MAX. */
static uint64_t first_resp_after(const struct hist_op *ops, uint64_t n, uint64_t t)
{
	uint64_t lo = 0, hi = n;

	while (lo < hi) {
		uint64_t mid = lo + (hi - lo) / 2;

		if (ops[mid].resp > t)
			hi = mid;
		else
			lo = mid + 1;
	}
	return lo < n ? ops[lo].resp : UINT64_MAX;
}

/*
 * With a history, recovery is measured on the workers' own clocks: from each kill to the first
 * operation a survivor completed after it. (The parent's polling view adds its own scheduling delay.)
 */
static void recovery_from_history(struct run *run)
{
	unsigned k, w;
	uint64_t best, t;
	double ms;

	run->r->recovery_ms_max = 0;
	run->recovery_sum_ms = 0;
	for (k = 0; k < run->r->kills; k++) {
		best = UINT64_MAX;
		for (w = 0; w < run->used; w++) {
			const struct worker_slot *s = &run->slots[w];

			if (w == run->kill_victim[k] || !s->start_ns || s->start_ns > run->kill_at[k])
				continue;
			t = first_resp_after(run->hist + (size_t)w * run->hist_stride, s->hist_n,
					     run->kill_at[k]);
			best = t < best ? t : best;
		}
		ms = best == UINT64_MAX ? 0 : (double)(best - run->kill_at[k]) / 1e6;
		run->recovery_sum_ms += ms;
		run->r->recovery_ms_max = ms > run->r->recovery_ms_max ? ms : run->r->recovery_ms_max;
	}
}

static int run_oracle(struct run *run, const struct hist_op *initial)
{
	struct hist_op *bufs[run->used];
	uint64_t counts[run->used];
	unsigned k;

	for (k = 0; k < run->used; k++) {
		bufs[k] = run->hist + (size_t)k * run->hist_stride;
		counts[k] = run->slots[k].hist_n;
	}
	return bench_oracle(run->r, initial, bufs, counts, run->used);
}

/*
 * History records a checked run may write in all: half of the memory available now, at
 * HIST_BYTES_PER_OP for each record (its 32 bytes, and what the oracle allocates to check it).
 * A run that reaches it stops recording, and says so (truncated).
 */
#define HIST_BYTES_PER_OP 96
static uint64_t history_budget(void)
{
	const char *forced = getenv("MMS_BENCH_HIST_RECORDS");        /* for the tests */
	FILE *f;
	unsigned long long kb = 0;
	char line[128];

	if (forced && *forced)
		return strtoull(forced, NULL, 10);
	f = fopen("/proc/meminfo", "r");

	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "MemAvailable: %llu kB", &kb) == 1)
			break;
	if (f)
		fclose(f);
	if (!kb)                        /* no /proc: assume 1 GiB */
		kb = 1ULL << 20;
	return kb * 1024 / 2 / HIST_BYTES_PER_OP;
}

/*
 * Each worker's share of the address space: its part of the budget if the procs workers split
 * it evenly, at least HIST_MIN_PER_WORKER, at most what keeps every slot's buffer (replacements
 * included) within HIST_ADDRESS_SPACE. Pages are touched only as records are written.
 */
static uint64_t history_stride(uint64_t budget, unsigned procs, unsigned nslots)
{
	uint64_t share = budget / (procs ? procs : 1);
	uint64_t most = HIST_ADDRESS_SPACE / sizeof(struct hist_op) / (nslots ? nslots : 1);

	share = share > HIST_MIN_PER_WORKER ? share : HIST_MIN_PER_WORKER;
	return share < most ? share : most;
}

static int setup(struct run *run, struct hist_op *initial)
{
	unsigned char *first = calloc(1, run->pt->size);
	int err;

	if (!first)
		return MMS_ESYS;
	run->nslots = run->pt->procs + run->o->kill;
	run->kill_at = calloc(run->o->kill + 1, sizeof(*run->kill_at));
	run->kill_victim = calloc(run->o->kill + 1, sizeof(*run->kill_victim));
	if (!run->kill_at || !run->kill_victim) {
		free(first);
		return MMS_ESYS;
	}
	run->shared = map_shared(sizeof(*run->shared));
	run->slots = map_shared(sizeof(*run->slots) * run->nslots);
	run->hist_budget = history_budget();
	run->hist_stride = history_stride(run->hist_budget, run->pt->procs, run->nslots);
	if (run->o->check)
		run->hist = map_shared(sizeof(struct hist_op) * run->hist_stride * run->nslots);
	if (run->shared)
		run->shared->hist_left = run->hist_budget;
	err = !run->shared || !run->slots || (run->o->check && !run->hist) ? MMS_ESYS : 0;
	if (!err)
		err = bench_target_open(&run->target, run->pt->backend, run->pt->mode, run->pt->size);
	/* The parent's initial value, so no worker ever reads an empty area. */
	initial->value = ((uint64_t)(run->nslots + 1) << 40) | 1;
	bench_value_fill(first, run->pt->size, initial->value, 1);
	initial->inv = stamp_begin();
	if (!err)
		err = run->target.ops->set(&run->target, first, run->pt->size);
	initial->resp = stamp_end();
	initial->kind = HIST_WRITE;
	initial->worker = run->nslots;
	free(first);
	return err;
}

static void teardown(struct run *run)
{
	free(run->kill_at);
	free(run->kill_victim);
	if (run->target.ops)
		run->target.ops->close(&run->target);
	if (run->shared)
		munmap(run->shared, sizeof(*run->shared));
	if (run->slots)
		munmap(run->slots, sizeof(*run->slots) * run->nslots);
	if (run->hist)
		munmap(run->hist, sizeof(struct hist_op) * run->hist_stride * run->nslots);
	samples_free(&run->rates);
}

/*
 * The timing loop against the same get in a loop with no harness, over the run's target, in this
 * process, in alternating slices of about 10 ms each: one process, reads only, raw values.
 */
static void against_standalone(struct run *run)
{
	const struct bench_point *pt = run->pt;
	struct bench_result *r = run->r;
	double n = r->ops_per_sec * 0.01;

	if (!r->timing || pt->procs != 1 || pt->write_ratio || pt->rmw ||
	    !run->target.ops->standalone || !(n >= 1))
		return;
	if (bench_vs_standalone(run->o, pt, &run->target, n < 100 ? 100 : (uint64_t)n,
				&r->vs_standalone, &r->standalone_ops_per_sec)) {
		r->vs_standalone = NAN;
		r->standalone_ops_per_sec = NAN;
	}
}

static const char *why_not_timing(const struct bench_opts *o)
{
	if (o->check)
		return "checked run (--check): every operation is stamped and recorded, so its "
		       "throughput is the checker's, not a performance figure";
	if (o->kill)
		return "crash run (--kill): workers are killed and replaced, so its throughput is "
		       "not a performance figure";
	if (o->stall || o->fault)
		return "fault run (--stall, --fault): workers are stopped or what the backend stands "
		       "on is broken, so its throughput is not a performance figure";
	return NULL;
}

/* The longest gap between two completed calls of any worker (a worker killed: up to its death). */
static void gaps_from_history(struct run *run)
{
	unsigned w;
	double g;

	run->r->gap_ms_max = 0;
	for (w = 0; w < run->used; w++) {
		g = bench_longest_gap_ms(run->hist + (size_t)w * run->hist_stride, run->slots[w].hist_n);
		run->r->gap_ms_max = g > run->r->gap_ms_max ? g : run->r->gap_ms_max;
	}
}

int bench_declared_dead(const struct bench_result *r)
{
	return !(r->caps & MMS_CAP_CRASH_SAFE) && r->kills_in_call > 0 &&
	       r->errors[-MMS_EDEAD] > 0 && r->errors_total == r->errors[-MMS_EDEAD];
}

/* Run one point once. 0, or a negative MMS_E* code when the run could not be set up. */
int bench_run_point(const struct bench_opts *o, const struct bench_point *pt, struct bench_result *r)
{
	struct run run = { .o = o, .pt = pt, .r = r, .seed = o->seed * 1000003 + pt->seq };
	struct hist_op initial = { 0 };
	unsigned caps = 0;
	double stamp;
	int err;

	memset(r, 0, sizeof(*r));
	r->pt = *pt;
	r->fault_status = -1;
	stamp_init();
	stamp = stamp_cost_ns(o->check);
	r->baseline = bench_target_is_baseline(pt->backend);
	r->unsafe = !r->baseline && !mms_backend_caps(pt->backend, &caps) && (caps & MMS_CAP_UNSAFE);
	r->caps = r->baseline ? 0 : caps;
	r->timing_note = why_not_timing(o);
	r->timing = !r->timing_note;
	r->harness_ns_per_op = r->timing ? bench_harness_cost(o, pt) : NAN;
	r->standalone_ops_per_sec = r->vs_standalone = NAN;
	err = setup(&run, &initial);
	if (!err) {
		r->hung = gate_and_run(&run) != 0;
		if (r->hung)
			kill_all(&run);
		if (o->check) {
			recovery_from_history(&run);
			gaps_from_history(&run);
			run_oracle(&run, &initial);
		}
		collect(&run, stamp);
		if (!r->hung)
			against_standalone(&run);
	}
	teardown(&run);
	return err;
}
