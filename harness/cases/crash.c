/* crash.c -- cases: SIGKILL a holder, a writer under readers, a process anywhere in its calls. */
#include <signal.h>
#include <stdlib.h>

#include "cases.h"

#define HOLDER_TRIALS 8
#define HOLDER_SIZE 64
#define HOLDER_WAIT_MS 5000     /* a bound on the waiter's lock, never asserted as a time */
#define KW_SIZE 1024
#define KW_READERS 2
#define KW_TRIALS 30
#define ANY_TRIALS 120
#define ANY_SIZE 512
#define AREA_DEAD 3             /* not a verdict: the backend declared the area dead; trials end */

/* What a victim tells the parent, in memory shared with it (not in the area under test). */
struct victim_log {
	volatile uint64_t progress;     /* steps done, so the parent can kill at a varying instant */
	volatile uint64_t completed;    /* id of the last value whose mms_set returned 0 */
	volatile int stop;              /* readers: the trials are over */
};

/* Wait until the victim made want steps (or died), then SIGKILL it: 0, or its exit status. */
static int kill_after(pid_t pid, struct victim_log *log, uint64_t want)
{
	while (log->progress < want && !case_child_gone(pid))
		;
	kill(pid, SIGKILL);
	return case_wait(pid) == 128 + SIGKILL ? 0 : -1;
}

/*
 * A backend without MMS_CAP_CRASH_SAFE answers a holder's death with MMS_EDEAD, within the
 * handle's timeout (MMS_ETIMEDOUT there means it waited on the corpse), and from then on every
 * call on the area says so. err is what a call said after the death: AREA_DEAD when all of that
 * holds, the evidence otherwise. A crash-safe backend never gets here: it must go on.
 */
static int declared_dead(struct conform_ctx *c, struct mms *m, int err, int trial)
{
	unsigned char buf[16] = { 0 };
	size_t len;

	CHECK(c, err == MMS_EDEAD, "trial %d: after a holder's death a call said %s; a backend that "
	      "is not crash-safe gives the value or says MMS_EDEAD", trial, conform_code(err));
	err = mms_get(m, buf, sizeof(buf), &len);
	CHECK(c, err == MMS_EDEAD, "trial %d: a get on the dead area said %s", trial, conform_code(err));
	err = mms_set(m, buf, sizeof(buf));
	CHECK(c, err == MMS_EDEAD, "trial %d: a set on the dead area said %s", trial, conform_code(err));
	err = mms_lock(m);
	CHECK(c, err == MMS_EDEAD, "trial %d: a lock on the dead area said %s", trial, conform_code(err));
	conform_note(c, "not crash-safe: MMS_EDEAD after the death in trial %d, then from get, set "
		     "and lock too; no wait ran out", trial);
	return AREA_DEAD;
}

static int crash_safe(const struct conform_ctx *c)
{
	return (c->caps & MMS_CAP_CRASH_SAFE) != 0;
}

/*
 * The survivors' view after a death: a whole value no older than the last completed set, or, on
 * a backend that is not crash-safe, the area declared dead (AREA_DEAD).
 */
static int check_after_death(struct conform_ctx *c, struct mms *m, struct victim_log *log,
			     size_t size, int trial)
{
	unsigned char buf[KW_SIZE > ANY_SIZE ? KW_SIZE : ANY_SIZE];
	size_t len;
	uint64_t id;
	int err;

	CHECK_OK(c, mms_set_timeout(m, HOLDER_WAIT_MS));
	err = mms_get(m, buf, size, &len);
	if (err && !crash_safe(c))
		return declared_dead(c, m, err, trial);
	CHECK(c, err == 0, "trial %d: a get after the death said %s", trial, conform_code(err));
	id = case_value_id(buf, len);
	CHECK(c, id != 0, "trial %d: a torn value after a death", trial);
	CHECK(c, id >= log->completed, "trial %d: the completed set of value %llu was lost (read "
	      "%llu)", trial, (unsigned long long)log->completed, (unsigned long long)id);
	CHECK(c, id <= log->completed + 1, "trial %d: read value %llu that nobody set", trial,
	      (unsigned long long)id);
	err = mms_lock(m);
	if (err && !crash_safe(c))
		return declared_dead(c, m, err, trial);
	CHECK(c, err == 0, "trial %d: a lock after the death said %s", trial, conform_code(err));
	CHECK_OK(c, mms_unlock(m));
	log->completed = id;    /* a set cut short may have landed: the next victim follows it */
	return CONFORM_PASS;
}

/* ---- crash.killed_holder ---- */

static void __attribute__((noreturn)) holder(struct mms *m, int id, int ready)
{
	unsigned char buf[HOLDER_SIZE];
	int err = mms_lock(m);

	if (!err) {
		case_value_fill(buf, sizeof(buf), (uint64_t)id);
		err = mms_set(m, buf, sizeof(buf));
	}
	case_send(ready, &err, 1);
	for (;;)
		pause();
}

/* Says it is about to lock, locks, and reports [lock, get, id read] */
static void __attribute__((noreturn)) waiter(struct mms *m, int ready, int out)
{
	unsigned char buf[HOLDER_SIZE];
	int r[3] = { 0 };
	size_t len;

	mms_set_timeout(m, HOLDER_WAIT_MS);
	case_send(ready, r, 1);
	r[0] = mms_lock(m);
	if (!r[0]) {
		r[1] = mms_get(m, buf, sizeof(buf), &len);
		r[2] = (int)case_value_id(buf, r[1] ? 0 : len);
		mms_unlock(m);
	}
	_exit(case_send(out, r, 3) ? 1 : 0);
}

static int holder_trial(struct conform_ctx *c, struct mms *m, int id)
{
	int hp[2], wr[2], wo[2], r[3];
	pid_t h, w;

	CHECK(c, !pipe(hp) && !pipe(wr) && !pipe(wo), "pipe failed");
	h = fork();
	CHECK(c, h >= 0, "fork failed");
	if (h == 0)
		holder(m, id, hp[1]);
	CHECK(c, !case_recv(hp[0], r, 1), "the holder died before it locked");
	CHECK(c, r[0] == 0, "the holder's lock and set said %s", conform_code(r[0]));
	w = fork();
	CHECK(c, w >= 0, "fork failed");
	if (w == 0)
		waiter(m, wr[1], wo[1]);
	close(wo[1]);
	CHECK(c, !case_recv(wr[0], r, 1), "the waiter died before it locked");
	kill(h, SIGKILL);
	CHECK(c, case_wait(h) == 128 + SIGKILL, "the holder did not die of SIGKILL");
	CHECK(c, !case_recv(wo[0], r, 3), "the waiter died without reporting (status %d)",
	      case_wait(w));
	CHECK(c, case_wait(w) == 0, "the waiter failed");
	if (!crash_safe(c)) {
		CHECK(c, r[0] == MMS_EDEAD, "holder %d: a waiter's lock after its holder was killed "
		      "said %s; a backend that is not crash-safe says MMS_EDEAD", id,
		      conform_code(r[0]));
		return declared_dead(c, m, MMS_EDEAD, id);
	}
	CHECK(c, r[0] == 0, "holder %d: a waiter's lock after its holder was killed said %s", id,
	      conform_code(r[0]));
	CHECK(c, r[1] == 0, "holder %d: the waiter's get said %s", id, conform_code(r[1]));
	CHECK(c, r[2] == id, "holder %d: the waiter read value %d, not the dead holder's last set",
	      id, r[2]);
	close(hp[0]);
	close(hp[1]);
	close(wr[0]);
	close(wr[1]);
	close(wo[0]);
	return CONFORM_PASS;
}

static int killed_holder(struct conform_ctx *c)
{
	struct victim_log log = { .completed = 0 };
	unsigned char first[HOLDER_SIZE];
	struct mms *m;
	int id, err;

	CHECK_OK(c, mms_new(&m, c->backend, HOLDER_SIZE));
	case_value_fill(first, sizeof(first), 1);
	CHECK_OK(c, mms_set(m, first, sizeof(first)));
	for (id = 2; id < 2 + HOLDER_TRIALS; id++) {
		err = holder_trial(c, m, id);
		if (err == AREA_DEAD)
			break;
		if (err)
			return CONFORM_FAIL;
		log.completed = (uint64_t)id;
		if (check_after_death(c, m, &log, HOLDER_SIZE, id))
			return CONFORM_FAIL;
	}
	mms_free(m);
	return CONFORM_PASS;
}

CONFORM_CASE(crash_killed_holder,
	.name = "crash.killed_holder",
	.summary = "a holder SIGKILLed after its set: a waiter gets the lock and reads that set "
		   "(not crash-safe: MMS_EDEAD, never a hang)",
	.run = killed_holder,
	.timeout_s = 60);

/* ---- crash.killed_writer_readers ---- */

/* A reader's report: what it saw go wrong, if anything. */
struct kw_report {
	int err;                /* a get that failed, or 0 */
	uint64_t torn;          /* gets whose value was not whole */
	uint64_t back_from, back_to;    /* a get that returned an older value than the one before */
	uint64_t gets;          /* gets done */
};

static size_t kw_len(uint64_t id)
{
	return KW_SIZE - (size_t)(id % 97);
}

static void __attribute__((noreturn)) kw_writer(struct mms *m, struct victim_log *log, uint64_t id)
{
	unsigned char buf[KW_SIZE];

	for (;; id++) {
		case_value_fill(buf, kw_len(id), id);
		if (mms_set(m, buf, kw_len(id)) == 0)
			log->completed = id;
		log->progress++;
	}
}

/* Get until told to stop: every value whole, and never older than the one read before. */
static void __attribute__((noreturn)) kw_reader(struct mms *m, struct victim_log *log, int out)
{
	struct kw_report rep = { 0 };
	unsigned char buf[KW_SIZE];
	uint64_t id, last = 0;
	size_t len;

	while (!log->stop && !rep.err && !rep.torn && !rep.back_from) {
		rep.err = mms_get(m, buf, sizeof(buf), &len);
		id = rep.err ? 0 : case_value_id(buf, len);
		rep.torn += !rep.err && !id;
		if (id && id < last) {
			rep.back_from = last;
			rep.back_to = id;
		}
		last = id > last ? id : last;
		rep.gets++;
	}
	_exit(write(out, &rep, sizeof(rep)) == (ssize_t)sizeof(rep) ? 0 : 1);
}

static int kw_collect(struct conform_ctx *c, const pid_t *readers, int in)
{
	struct kw_report rep;
	int k;

	for (k = 0; k < KW_READERS; k++) {
		CHECK(c, read(in, &rep, sizeof(rep)) == (ssize_t)sizeof(rep),
		      "a reader died without reporting");
		CHECK(c, rep.err == 0 || (rep.err == MMS_EDEAD && !crash_safe(c)),
		      "a reader's get said %s", conform_code(rep.err));
		CHECK(c, rep.torn == 0, "a reader got a torn value");
		CHECK(c, rep.back_from == 0, "a reader got value %llu after value %llu: the writers "
		      "write increasing ids", (unsigned long long)rep.back_to,
		      (unsigned long long)rep.back_from);
	}
	for (k = 0; k < KW_READERS; k++)
		CHECK(c, case_wait(readers[k]) == 0, "a reader failed");
	return CONFORM_PASS;
}

static int killed_writer_readers(struct conform_ctx *c)
{
	struct victim_log *log = case_shared(sizeof(*log));
	unsigned char first[KW_SIZE];
	pid_t readers[KW_READERS], w;
	unsigned seed = 4242;
	int p[2], k, trial, err;
	struct mms *m;

	CHECK(c, log && !pipe(p), "no shared memory or pipe");
	CHECK_OK(c, mms_new(&m, c->backend, KW_SIZE));
	case_value_fill(first, kw_len(1), 1);
	CHECK_OK(c, mms_set(m, first, kw_len(1)));
	log->completed = 1;
	for (k = 0; k < KW_READERS; k++) {
		readers[k] = fork();
		CHECK(c, readers[k] >= 0, "fork failed");
		if (readers[k] == 0)
			kw_reader(m, log, p[1]);
	}
	close(p[1]);
	for (trial = 0; trial < KW_TRIALS; trial++) {
		log->progress = 0;
		w = fork();
		CHECK(c, w >= 0, "fork failed");
		if (w == 0)
			kw_writer(m, log, log->completed + 1);
		CHECK(c, !kill_after(w, log, 1 + (uint64_t)rand_r(&seed) % 200),
		      "trial %d: the writer died before it was killed", trial);
		err = check_after_death(c, m, log, KW_SIZE, trial);
		if (err == AREA_DEAD)
			break;
		if (err)
			return CONFORM_FAIL;
	}
	log->stop = 1;
	if (kw_collect(c, readers, p[0]))
		return CONFORM_FAIL;
	mms_free(m);
	return CONFORM_PASS;
}

CONFORM_CASE(crash_killed_writer_readers,
	.name = "crash.killed_writer_readers",
	.summary = "writers SIGKILLed mid-run while 2 readers read: every value whole, none older",
	.run = killed_writer_readers,
	.timeout_s = 60);

/* ---- crash.sigkill_anywhere ---- */

/* set, get, then lock/get/set/unlock, counting steps, until killed. */
static void __attribute__((noreturn)) any_victim(struct mms *m, struct victim_log *log, uint64_t id)
{
	unsigned char buf[ANY_SIZE];
	size_t len;

	for (;;) {
		case_value_fill(buf, ANY_SIZE - (id % 64), id);
		if (mms_set(m, buf, ANY_SIZE - (id % 64)) == 0)
			log->completed = id;
		id++;
		log->progress++;
		mms_get(m, buf, sizeof(buf), &len);
		log->progress++;
		if (mms_lock(m))
			continue;
		mms_get(m, buf, sizeof(buf), &len);
		case_value_fill(buf, ANY_SIZE - (id % 64), id);
		log->progress++;
		if (mms_set(m, buf, ANY_SIZE - (id % 64)) == 0)
			log->completed = id;
		id++;
		log->progress++;
		mms_unlock(m);
		log->progress++;
	}
}

static int sigkill_anywhere(struct conform_ctx *c)
{
	struct victim_log *log = case_shared(sizeof(*log));
	unsigned char first[ANY_SIZE];
	unsigned seed = 12345;
	struct mms *m;
	int trial, err;
	pid_t pid;

	CHECK(c, log, "no shared memory");
	CHECK_OK(c, mms_new(&m, c->backend, ANY_SIZE));
	case_value_fill(first, ANY_SIZE, 1);
	CHECK_OK(c, mms_set(m, first, ANY_SIZE));
	log->completed = 1;
	for (trial = 0; trial < ANY_TRIALS; trial++) {
		log->progress = 0;
		pid = fork();
		CHECK(c, pid >= 0, "fork failed");
		if (pid == 0)
			any_victim(m, log, log->completed + 1);
		CHECK(c, !kill_after(pid, log, 1 + (uint64_t)rand_r(&seed) % 400),
		      "trial %d: the victim died before it was killed", trial);
		err = check_after_death(c, m, log, ANY_SIZE, trial);
		if (err == AREA_DEAD)
			break;
		if (err)
			return CONFORM_FAIL;
	}
	mms_free(m);
	return CONFORM_PASS;
}

CONFORM_CASE(crash_sigkill_anywhere,
	.name = "crash.sigkill_anywhere",
	.summary = "120 processes SIGKILLed inside set, get or the lock: whole values, no lost set",
	.run = sigkill_anywhere,
	.timeout_s = 120);      /* 120 forks, and a server backend's takeover: 15 s under ASan alone */
