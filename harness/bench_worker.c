/* bench_worker.c -- one contending worker: its schedule of get, set and lock/get/set/unlock, run. */
#include <math.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "mmshare.h"
#include "bench_run.h"
#include "stamp.h"

#define SCHED_LEN 4096           /* operations in a schedule, a power of two; then it repeats */
#define BATCH_NS  100000         /* a batch's length, at most: the stop flag's and the clock's period */

struct worker_state {
	struct worker_ctx *w;
	unsigned char *wbuf, *rbuf;     /* the value to write, the value read */
	uint64_t rng, seq;              /* xorshift state; sequence of this worker's writes */
	uint8_t *sched;                 /* SCHED_LEN + max_batch operations (enum bench_op) */
	unsigned pos;                   /* next operation in sched */
	unsigned max_batch;             /* operations in a batch, at most (--sample-every) */
	unsigned countdown;             /* checked and kill runs: operations until the next timed one */
	uint64_t hist_claimed;          /* history records claimed from the run's budget so far */
	int measuring;
	int track_where;                /* kills are planned: keep slot->where up to date */
	unsigned first_batch;           /* operations in the first timed batch */
};

uint64_t bench_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static uint64_t mix(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdULL;
	x ^= x >> 33;
	return x;
}

/* A value is its id in the first word, then words derived from it: any mix of two shows. */
void bench_value_fill(unsigned char *buf, size_t len, uint64_t id, int full)
{
	uint64_t m = mix(id), word;
	size_t k;

	memcpy(buf, &id, len < 8 ? len : 8);
	for (k = 8; full && k < len; k += 8) {
		word = m + k;
		memcpy(buf + k, &word, len - k < 8 ? len - k : 8);
	}
}

/* The id of a whole value, or 0 when it is not one that bench_value_fill made. */
uint64_t bench_value_id(const unsigned char *buf, size_t len)
{
	uint64_t id, m, word;
	size_t k;

	if (len < 8)
		return 0;
	memcpy(&id, buf, 8);
	m = mix(id);
	for (k = 8; k < len; k += 8) {
		word = 0;
		memcpy(&word, buf + k, len - k < 8 ? len - k : 8);
		if (len - k < 8 ? word != ((m + k) & ((1ULL << (8 * (len - k))) - 1)) : word != m + k)
			return 0;
	}
	return id;
}

static uint64_t rng_next(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 0x2545f4914f6cdd1dULL;
}

static struct hist_op *record_begin(struct worker_ctx *w, int kind, uint64_t value, unsigned mark,
				    uint64_t inv)
{
	struct hist_op *rec;

	if (!w->hist)
		return NULL;
	rec = &w->hist[w->slot->hist_n];
	rec->inv = inv;
	rec->resp = UINT64_MAX;         /* stays so if the worker is killed inside the call */
	rec->value = value;
	rec->worker = w->index | mark;
	rec->kind = (uint8_t)kind;
	rec->cut = 0;
	__atomic_store_n(&w->slot->hist_n, w->slot->hist_n + 1, __ATOMIC_RELEASE);
	return rec;
}

/* The response time goes in last: a worker killed before it leaves the record cut short. */
static void record_end(struct hist_op *rec, uint64_t resp)
{
	if (rec)
		__atomic_store_n(&rec->resp, resp, __ATOMIC_RELEASE);
}

static void count_error(struct worker_slot *s, int err)
{
	s->errors[BENCH_ERR_INDEX(err)]++;
}

static uint64_t op_begin(const struct worker_ctx *w)
{
	return w->hist ? stamp_begin() : bench_now_ns();
}

static uint64_t op_end(const struct worker_ctx *w)
{
	return w->hist ? stamp_end() : bench_now_ns();
}

static int timed(struct worker_state *st)
{
	if (st->w->hist)
		return 1;
	if (!st->measuring || --st->countdown)
		return 0;
	st->countdown = st->w->o->sample_every;
	return 1;
}

static void do_get(struct worker_state *st, unsigned mark, int t)
{
	struct worker_ctx *w = st->w;
	int err;
	uint64_t t0 = t ? op_begin(w) : 0, t1, id;
	struct hist_op *rec = record_begin(w, HIST_READ, 0, mark, t0);
	size_t len = 0;

	if (st->track_where && !mark)
		w->slot->where = WHERE_GET;
	err = w->target->ops->get(w->target, st->rbuf, w->pt->size, &len);
	if (st->track_where && !mark)
		w->slot->where = WHERE_OUT;
	t1 = t ? op_end(w) : 0;
	if (err) {
		count_error(w->slot, err);
		if (rec)
			rec->cut = 1;
	} else if (rec) {
		id = len == w->pt->size ? bench_value_id(st->rbuf, len) : 0;
		rec->value = id;
		if (!id) {
			w->slot->torn++;
			rec->cut = 1;
		}
	}
	record_end(rec, t1);
	if (st->measuring && t)
		latency_record(&w->slot->get_lat, t1 - t0);
	w->slot->gets += st->measuring;
}

static void do_set(struct worker_state *st, unsigned mark, int t)
{
	struct worker_ctx *w = st->w;
	int err;
	uint64_t id = ((uint64_t)(w->index + 1) << 40) | ++st->seq, t0, t1;
	struct hist_op *rec;

	bench_value_fill(st->wbuf, w->pt->size, id, w->hist != NULL);
	t0 = t ? op_begin(w) : 0;
	rec = record_begin(w, HIST_WRITE, id, mark, t0);
	if (st->track_where && !mark)
		w->slot->where = WHERE_SET;
	err = w->target->ops->set(w->target, st->wbuf, w->pt->size);
	if (st->track_where && !mark)
		w->slot->where = WHERE_OUT;
	t1 = t ? op_end(w) : 0;
	if (err) {
		count_error(w->slot, err);
		if (rec)
			rec->cut = 1;   /* may or may not have taken effect, as far as the checker knows */
	}
	record_end(rec, t1);
	if (st->measuring && t)
		latency_record(&w->slot->set_lat, t1 - t0);
	w->slot->sets += st->measuring;
}

static void do_rmw(struct worker_state *st, int t)
{
	struct worker_ctx *w = st->w;
	int err;

	/* before the call: a worker killed inside lock may hold it (a kill in a call) */
	w->slot->where = WHERE_LOCKED;
	err = w->target->ops->lock(w->target);
	if (err) {
		w->slot->where = WHERE_OUT;
		count_error(w->slot, err);
		return;
	}
	do_get(st, RMW_MARK, t);
	do_set(st, RMW_MARK, t);
	err = w->target->ops->unlock(w->target);
	w->slot->where = WHERE_OUT;
	if (err)
		count_error(w->slot, err);
	w->slot->rmws += st->measuring;
}

static void begin_measure(struct worker_state *st)
{
	st->measuring = 1;
	st->w->target->ops->counters_reset(st->w->target);
	st->w->slot->start_ns = bench_now_ns();
}

static uint8_t next_op(struct worker_state *st)
{
	uint8_t op = st->sched[st->pos];

	st->pos = (st->pos + 1) & (SCHED_LEN - 1);
	return op;
}

#define HIST_CLAIM 4096          /* history records a worker claims from the run's budget at once */

/* More room in the history, from this worker's buffer and the run's memory budget; -1: none. */
static int claim_history(struct worker_state *st)
{
	struct worker_ctx *w = st->w;
	uint64_t want = w->hist_cap - st->hist_claimed, left;

	want = want < HIST_CLAIM ? want : HIST_CLAIM;
	left = __atomic_load_n(&w->shared->hist_left, __ATOMIC_RELAXED);
	do {
		if (want < 2 || left < want)
			return -1;
	} while (!__atomic_compare_exchange_n(&w->shared->hist_left, &left, left - want, 1,
					      __ATOMIC_RELAXED, __ATOMIC_RELAXED));
	st->hist_claimed += want;
	__atomic_store_n(&w->slot->hist_claimed, st->hist_claimed, __ATOMIC_RELEASE);
	return 0;
}

/*
 * Checked and kill runs: each operation on its own, recorded, stamped, tracked for the killer.
 * Their throughput is the checker's, not the backend's: they are never timing runs.
 */
static void run_checked(struct worker_state *st)
{
	struct worker_ctx *w = st->w;
	uint64_t counted = 0;
	uint8_t op;
	int phase, t;

	for (;;) {
		phase = w->shared->phase;
		if (phase == PHASE_STOP)
			break;
		if (!st->measuring && phase == PHASE_MEASURE)
			begin_measure(st);
		if (st->measuring && w->ops_budget && counted >= w->ops_budget)
			break;
		if (w->hist && w->slot->hist_n + 2 > st->hist_claimed && claim_history(st)) {
			w->slot->truncated = 1;
			break;
		}
		op = next_op(st);
		t = timed(st);
		switch (op) {
		case BENCH_OP_GET: do_get(st, 0, t); break;
		case BENCH_OP_SET: do_set(st, 0, t); break;
		default: do_rmw(st, t); break;
		}
		if (st->measuring)
			w->slot->ops = ++counted;
	}
}

/*
 * Operations in the next batch: about BATCH_NS at the pace of the last one, 1..max; the first,
 * first. first 0: every batch max (see state_init).
 */
static unsigned batch_length(uint64_t last_ns, unsigned last_n, unsigned max, unsigned first)
{
	uint64_t n;

	if (!first)
		return max;
	if (!last_ns)
		return first;
	n = (uint64_t)BATCH_NS * last_n / last_ns;
	return n < 1 ? 1 : n > max ? max : (unsigned)n;
}

static void timed_sample(struct worker_slot *s, uint8_t op, uint64_t ns)
{
	if (op == BENCH_OP_GET)
		latency_record(&s->get_lat, ns);
	else if (op == BENCH_OP_SET)
		latency_record(&s->set_lat, ns);
}

static void publish_tally(struct worker_slot *s, const struct bench_tally *c, uint64_t timed)
{
	unsigned e;

	s->gets = c->gets;
	s->sets = c->sets;
	s->rmws = c->rmws;
	s->timed = timed;
	for (e = 0; e < BENCH_NERR; e++)
		s->errors[e] = c->errors[e];
}

/*
 * Timing runs, in batches: the stop flag, the phase and the clock are looked at once a batch,
 * whose first operation is the timed sample; the rest run in the target's own tight loop.
 * Not inlined: `valgrind --toggle-collect=run_loop` counts the operations' instructions alone.
 */
static __attribute__((noinline)) void run_loop(struct worker_state *st)
{
	struct worker_ctx *w = st->w;
	struct bench_target *t = w->target;
	struct bench_tally c = { 0 };
	struct bench_batch b = { .rbuf = st->rbuf, .wbuf = st->wbuf, .size = w->pt->size,
				 .id_base = (uint64_t)(w->index + 1) << 40, .seq = &st->seq,
				 .reads_only = !w->pt->write_ratio && !w->pt->rmw };
	uint64_t counted = 0, timed = 0, t0, t1, last_t0 = 0;
	unsigned n = st->max_batch, last_n = 0;
	uint8_t op;
	int phase;

	for (;;) {
		phase = w->shared->phase;
		if (phase == PHASE_STOP)
			break;
		if (!st->measuring && phase == PHASE_MEASURE) {
			begin_measure(st);
			memset(&c, 0, sizeof(c));
		}
		if (st->measuring && w->ops_budget && counted >= w->ops_budget)
			break;
		t0 = bench_now_ns();
		n = batch_length(last_n ? t0 - last_t0 : 0, last_n, st->max_batch, st->first_batch);
		/* Vary full batches a little, so the timed first operation visits the whole schedule. */
		if (n > 64)
			n -= (unsigned)(rng_next(&st->rng) & 63);
		if (st->measuring && w->ops_budget && n > w->ops_budget - counted)
			n = (unsigned)(w->ops_budget - counted);
		last_t0 = t0;
		last_n = n;
		b.sched = st->sched + st->pos;
		b.n = 1;
		op = *b.sched;
		t->ops->batch(t, &b, &c);
		t1 = bench_now_ns();
		b.sched++;
		b.n = n - 1;
		if (b.n)
			t->ops->batch(t, &b, &c);
		st->pos = (st->pos + n) & (SCHED_LEN - 1);
		if (st->measuring) {
			timed_sample(w->slot, op, t1 - t0);
			timed++;
			counted += n;
			w->slot->ops = counted;
		}
	}
	publish_tally(w->slot, &c, timed);
}

/* Whether operation k is one of share% spread evenly over the schedule (Bresenham). */
static int evenly(unsigned k, unsigned share)
{
	return (k + 1) * share / 100 != k * share / 100;
}

/*
 * The worker's own order of operations, drawn up before the run: the point's exact shares, each
 * kind spread evenly (at 10% writes every tenth operation is a set), from a random starting
 * point per worker so workers do not write in step. Even spacing, not a random draw per
 * operation, keeps the harness's own branches predictable: a random mix made them miss once per
 * write, about 1.3 ns per operation at 10% writes and 2.3 ns at 50% on the null target.
 */
static uint8_t *schedule_draw(const struct bench_point *pt, uint64_t *rng, unsigned tail)
{
	uint8_t *s = malloc(SCHED_LEN + tail);
	unsigned start = (unsigned)(rng_next(rng) % SCHED_LEN), k, j, rest = 0;

	if (!s)
		return NULL;
	for (j = 0; j < SCHED_LEN; j++) {
		k = (start + j) & (SCHED_LEN - 1);
		if (evenly(j, pt->rmw))
			s[k] = BENCH_OP_RMW;
		else
			s[k] = evenly(rest++, pt->write_ratio) ? BENCH_OP_SET : BENCH_OP_GET;
	}
	memcpy(s + SCHED_LEN, s, tail);         /* a batch from any position reads on, unwrapped */
	return s;
}

static int state_init(struct worker_state *st, struct worker_ctx *w)
{
	memset(st, 0, sizeof(*st));
	st->w = w;
	st->rng = w->seed | 1;
	st->countdown = w->o->sample_every;
	st->track_where = w->o->kill > 0 || w->o->stall > 0;
	st->max_batch = w->o->sample_every < SCHED_LEN ? w->o->sample_every : SCHED_LEN;
	/*
	 * A timed run starts with one operation, to learn the pace: a backend at milliseconds an
	 * operation (a server that fsyncs each write) would spend a short run in its first batch
	 * and count nothing. An --ops run (the gate counts its instructions under callgrind) has
	 * whole batches throughout (0), so its count does not depend on the pace of the moment.
	 */
	st->first_batch = w->o->ops ? 0 : 1;
	st->sched = schedule_draw(w->pt, &st->rng, st->max_batch);
	st->wbuf = calloc(1, w->pt->size);
	st->rbuf = calloc(1, w->pt->size);
	return st->sched && st->wbuf && st->rbuf ? 0 : -1;
}

static void state_free(struct worker_state *st)
{
	free(st->sched);
	free(st->wbuf);
	free(st->rbuf);
}

static void run(struct worker_state *st)
{
	if (st->w->hist || st->track_where)
		run_checked(st);
	else
		run_loop(st);
}

static void pin_to_cpu(unsigned position)
{
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(position % (cpus > 0 ? (unsigned)cpus : 1), &set);
	sched_setaffinity(0, sizeof(set), &set);
}

void bench_worker(struct worker_ctx *w)
{
	struct worker_state st;
	uint64_t c, r, rep;

	if (w->o->pin)
		pin_to_cpu(w->slot->position);
	if (state_init(&st, w))
		_exit(3);
	w->slot->ready = 1;
	while (w->shared->phase == PHASE_WAIT)
		sched_yield();
	run(&st);
	w->slot->stop_ns = st.measuring ? bench_now_ns() : 0;
	w->target->ops->counters(w->target, &c, &r, &rep);
	w->slot->lock_contended = c;
	w->slot->retries = r;
	w->slot->repairs = rep;
	__atomic_store_n(&w->slot->done, 1, __ATOMIC_RELEASE);
	_exit(0);
}

/* A worker of this process over target, measuring at once, for budget operations. */
static int local_worker(struct worker_state *st, struct worker_ctx *w, struct worker_slot *slot,
			struct run_shared *shared, const struct bench_opts *o,
			const struct bench_point *pt, struct bench_target *target, uint64_t budget)
{
	memset(slot, 0, sizeof(*slot));
	shared->phase = PHASE_MEASURE;
	*w = (struct worker_ctx){ .o = o, .pt = pt, .target = target, .shared = shared, .slot = slot,
				  .seed = 1, .ops_budget = budget };
	return state_init(st, w);
}

/* Seconds the timing loop takes for budget operations over target, in this process. */
static double loop_seconds(const struct bench_opts *o, const struct bench_point *pt,
			   struct bench_target *target, uint64_t budget)
{
	static struct worker_slot slot;
	struct run_shared shared;
	struct worker_ctx w;
	struct worker_state st;
	uint64_t t0, t1;

	if (local_worker(&st, &w, &slot, &shared, o, pt, target, budget))
		return NAN;
	t0 = bench_now_ns();
	run_loop(&st);
	t1 = bench_now_ns();
	state_free(&st);
	return (double)(t1 - t0) / 1e9;
}

/*
 * The harness's own cost per operation for this point: the timing loop, in this process, over
 * the null target, with a schedule of the point's shares; the best of three runs.
 */
double bench_harness_cost(const struct bench_opts *o, const struct bench_point *pt)
{
	struct bench_target null;
	double best = INFINITY, secs;
	uint64_t n = 1u << 20;
	int k;

	bench_target_null(&null, pt->size);
	for (k = 0; k < 3; k++) {
		secs = loop_seconds(o, pt, &null, n);
		best = secs < best ? secs : best;
	}
	return best * 1e9 / (double)n;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/*
 * The timing loop against the same get with no harness, over target, in this process: SLICES
 * pairs of slices of n operations each, in alternating order so that drift of the machine hits
 * both alike. The median ratio (harness ops/s over standalone ops/s) and the median standalone
 * rate; 0, or -1 when a loop failed.
 */
#define SLICES 9
int bench_vs_standalone(const struct bench_opts *o, const struct bench_point *pt,
			struct bench_target *target, uint64_t n, double *ratio, double *alone)
{
	double r[SLICES], a[SLICES], h, s;
	uint64_t t0;
	int k;

	for (k = 0; k < SLICES; k++) {
		if (k & 1)
			h = loop_seconds(o, pt, target, n);
		t0 = bench_now_ns();
		if (target->ops->standalone(target, n))
			return -1;
		s = (double)(bench_now_ns() - t0) / 1e9;
		if (!(k & 1))
			h = loop_seconds(o, pt, target, n);
		if (!(h > 0) || !(s > 0))
			return -1;
		r[k] = s / h;
		a[k] = (double)n / s;
	}
	qsort(r, SLICES, sizeof(double), cmp_double);
	qsort(a, SLICES, sizeof(double), cmp_double);
	*ratio = r[SLICES / 2];
	*alone = a[SLICES / 2];
	return 0;
}
