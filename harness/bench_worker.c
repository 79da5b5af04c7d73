/* bench_worker.c -- one contending worker: a tight loop of get, set and lock/get/set/unlock. */
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "mmshare.h"
#include "bench_run.h"

enum op_kind { OP_GET, OP_SET, OP_RMW };

struct worker_state {
	struct worker_ctx *w;
	unsigned char *wbuf, *rbuf;     /* the value to write, the value read */
	uint64_t rng, seq;              /* xorshift state; sequence of this worker's writes */
	unsigned countdown;             /* operations until the next timed one */
	int measuring;
	int track_where;                /* kills are planned: keep slot->where up to date */
};

/*
 * A timestamp for the history: the fence keeps the operation's memory accesses from moving across
 * the clock read, so [inv, resp] really contains the operation (x86 reads the TSC out of order).
 */
static uint64_t stamp(void)
{
	uint64_t t;

	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	t = bench_now_ns();
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	return t;
}

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

static uint64_t op_time(const struct worker_ctx *w)
{
	return w->hist ? stamp() : bench_now_ns();
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
	uint64_t t0 = t ? op_time(w) : 0, t1, id;
	struct hist_op *rec = record_begin(w, HIST_READ, 0, mark, t0);
	size_t len = 0;

	if (st->track_where && !mark)
		w->slot->where = WHERE_GET;
	err = w->target->ops->get(w->target, st->rbuf, w->pt->size, &len);
	if (st->track_where && !mark)
		w->slot->where = WHERE_OUT;
	t1 = t ? op_time(w) : 0;
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
	t0 = t ? op_time(w) : 0;
	rec = record_begin(w, HIST_WRITE, id, mark, t0);
	if (st->track_where && !mark)
		w->slot->where = WHERE_SET;
	err = w->target->ops->set(w->target, st->wbuf, w->pt->size);
	if (st->track_where && !mark)
		w->slot->where = WHERE_OUT;
	t1 = t ? op_time(w) : 0;
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
	int err = w->target->ops->lock(w->target);

	if (err) {
		count_error(w->slot, err);
		return;
	}
	w->slot->where = WHERE_LOCKED;
	do_get(st, RMW_MARK, t);
	do_set(st, RMW_MARK, t);
	err = w->target->ops->unlock(w->target);
	w->slot->where = WHERE_OUT;
	if (err)
		count_error(w->slot, err);
	w->slot->rmws += st->measuring;
}

/*
 * The plain path, for operations that are neither timed nor recorded: nothing but the call and
 * its counters, so the harness stays a small part of even a 30 ns operation.
 */
static inline void quick_op(struct worker_state *st, enum op_kind op)
{
	struct worker_ctx *w = st->w;
	struct bench_target *t = w->target;
	size_t len;
	uint64_t id;
	int err;

	if (op == OP_GET) {
		err = t->ops->get(t, st->rbuf, w->pt->size, &len);
		w->slot->gets += st->measuring;
	} else {
		id = ((uint64_t)(w->index + 1) << 40) | ++st->seq;
		memcpy(st->wbuf, &id, w->pt->size < 8 ? w->pt->size : 8);
		err = t->ops->set(t, st->wbuf, w->pt->size);
		w->slot->sets += st->measuring;
	}
	if (__builtin_expect(err != 0, 0))
		count_error(w->slot, err);
}

static void begin_measure(struct worker_state *st)
{
	st->measuring = 1;
	st->w->target->ops->counters_reset(st->w->target);
	st->w->slot->start_ns = bench_now_ns();
}

static enum op_kind pick(struct worker_state *st)
{
	uint64_t r = rng_next(&st->rng);

	if (r % 100 < st->w->pt->rmw)
		return OP_RMW;
	return (r >> 32) % 100 < st->w->pt->write_ratio ? OP_SET : OP_GET;
}

/* Not inlined: `valgrind --toggle-collect=run_loop` counts the operations' instructions alone. */
static __attribute__((noinline)) void run_loop(struct worker_state *st)
{
	struct worker_ctx *w = st->w;
	int lean = !w->hist && !st->track_where;
	uint64_t counted = 0;
	enum op_kind op;
	int phase, t;

	for (;;) {
		phase = w->shared->phase;
		if (phase == PHASE_STOP)
			break;
		if (!st->measuring && phase == PHASE_MEASURE)
			begin_measure(st);
		if (st->measuring && w->o->ops && counted >= w->o->ops)
			break;
		if (w->hist && w->slot->hist_n + 2 > w->hist_cap) {
			w->slot->truncated = 1;
			break;
		}
		op = pick(st);
		t = timed(st);
		if (lean && !t && op != OP_RMW) {
			quick_op(st, op);
		} else {
			switch (op) {
			case OP_GET: do_get(st, 0, t); break;
			case OP_SET: do_set(st, 0, t); break;
			case OP_RMW: do_rmw(st, t); break;
			}
		}
		if (st->measuring)
			w->slot->ops = ++counted;
	}
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
	struct worker_state st = { .w = w, .rng = w->seed | 1, .countdown = w->o->sample_every,
				   .track_where = w->o->kill > 0 };
	uint64_t c, r, rep;

	if (w->o->pin)
		pin_to_cpu(w->slot->position);
	st.wbuf = calloc(1, w->pt->size);
	st.rbuf = calloc(1, w->pt->size);
	if (!st.wbuf || !st.rbuf)
		_exit(3);
	w->slot->ready = 1;
	while (w->shared->phase == PHASE_WAIT)
		sched_yield();
	run_loop(&st);
	w->slot->stop_ns = st.measuring ? bench_now_ns() : 0;
	w->target->ops->counters(w->target, &c, &r, &rep);
	w->slot->lock_contended = c;
	w->slot->retries = r;
	w->slot->repairs = rep;
	__atomic_store_n(&w->slot->done, 1, __ATOMIC_RELEASE);
	_exit(0);
}
