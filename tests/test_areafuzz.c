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
 * glibc's robust-list pointers in the mutex: see fuzz_fields_build.
 *
 * Hang guard: the parent watches the children's progress; a poll window of FUZZ_STALL_MS (250
 * times the timeout the workers asked for) in which no call returns is a hang: the children are
 * killed and the test fails naming the call each worker was in and what the lock word says.
 * The test's own .timeout only backs that up.
 *
 * Counts: MMS_FUZZ_SCRIBBLES=N scribbles per backend, split over the area sizes (default
 * FUZZ_SCRIBBLES, about a second a backend); `make fuzz` runs N = 1000000 (minutes).
 * MMS_FUZZ_SEED=S changes the scribbler's and the workers' choices.
 *
 * Here the tests and the parent; the workers, the scribbler and their rounds are in
 * test_areafuzz_procs.c, the fields and what is written into them in test_areafuzz_fields.c.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>

#include "areafuzz.h"

static const size_t fuzz_sizes[] = { 8, 64, 4096 };
#define FUZZ_NSIZES (sizeof(fuzz_sizes) / sizeof(fuzz_sizes[0]))

static const char *const code_names[FUZZ_CODES] = {
	"ok", "EINVAL", "ENOBACKEND", "ETOOBIG", "ESHORT", "EEMPTY",
	"ECORRUPT", "ELOCKED", "ESYS", "EFORMAT", "ETIMEDOUT", "ETHREAD", "EDEAD", "EFENCED",
};

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
		fuzz_worker_main(r->ctx.m, r->ctx.b, k, r->ctx.size, r->ctx.seed * 31 + (uint64_t)k + 7);
	fuzz_scribbler_main(&r->ctx);
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
	return fuzz_worker_ops(b) + __atomic_load_n(&b->scribbles, __ATOMIC_RELAXED);
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
	uint32_t word = *(uint32_t *)((char *)area_of(r->ctx.m)->hdr + r->ctx.lock_off);
	char who[48], *p = r->stall, *end = p + sizeof(r->stall);
	int k, call;

	p += snprintf(p, (size_t)(end - p), "no call returned for %d ms in round %u: lock word %#x "
		      "names %s; gen %#llx;", FUZZ_STALL_MS, b->round, word,
		      whose(b, (pid_t)(word & TID_MASK), who, sizeof(who)),
		      (unsigned long long)area_of(r->ctx.m)->hdr->gen);
	for (k = 0; k < FUZZ_WORKERS && p < end; k++) {
		call = __atomic_load_n(&b->w[k].call, __ATOMIC_RELAXED);
		p += snprintf(p, (size_t)(end - p), " worker %d %s after %llu calls;", k,
			      r->status[k] >= 0 ? "exited" :
			      call == CALL_NONE ? "between calls" : fuzz_call_names[call],
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
		fuzz_bump(&r->ctx.b->tick);
	} else {
		__atomic_store_n(&r->ctx.b->stop, 1, __ATOMIC_RELEASE);  /* even if it died early */
		fuzz_bump(&r->ctx.b->round);
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
	size_t len = fuzz_value_len(INITIAL_ID, size);
	unsigned char *v = malloc(len);

	cr_assert_not_null(v);
	case_value_fill(v, len, INITIAL_ID);
	cr_assert_eq(mms_set(m, v, len), 0);
	free(v);
}

/* One area under fire; judged (every failure reported) unless it is a negative control. */
static void fuzz_area(const char *backend, size_t size, uint64_t scribbles, uint64_t seed,
		      struct fuzz_tally *t, int judged)
{
	struct fuzz_run r = { .ctx = { .size = size, .seed = seed, .target = scribbles } };
	unsigned caps = 0;

	cr_assert_eq(mms_backend_caps(backend, &caps), 0);
	if (!(caps & MMS_CAP_MAPPING))
		cr_skip_test("%s keeps its value in no mapping of ours: nothing to scribble on", backend);
	r.ctx.b = mmap(NULL, sizeof(*r.ctx.b), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	cr_assert_neq(r.ctx.b, MAP_FAILED);
	cr_assert_eq(mms_new(&r.ctx.m, backend, size), 0);
	set_initial(r.ctx.m, size);
	r.ctx.kind = (uint32_t)area_of(r.ctx.m)->hdr->mutex.__data.__kind;
	fuzz_fields_build(&r.ctx, caps);
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
		p += snprintf(p, (size_t)(end - p), " %s:", fuzz_call_names[c]);
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
