/* test_crash.c -- SIGKILL at random instants: inside set, inside get, between lock and unlock. */
#include <signal.h>
#include <stdlib.h>
#include <sys/mman.h>

#include "common.h"

#define CRASH_TRIALS 120
#define CRASH_SIZE 512

/* What the victim tells the parent, in memory shared with it (not in the area under test). */
struct victim_log {
	volatile uint64_t progress;     /* steps done, so the parent can kill at a varying instant */
	volatile uint64_t completed;    /* id of the last value whose mms_set returned 0 */
};

static void victim(struct mms *m, struct victim_log *log, uint64_t next_id)
{
	unsigned char buf[CRASH_SIZE];
	size_t len;

	for (;;) {
		value_fill(buf, CRASH_SIZE - (next_id % 64), next_id);
		if (mms_set(m, buf, CRASH_SIZE - (next_id % 64)) == 0)
			log->completed = next_id;
		next_id++;
		log->progress++;
		mms_get(m, buf, sizeof(buf), &len);
		log->progress++;
		if (mms_lock(m))
			continue;
		mms_get(m, buf, sizeof(buf), &len);
		value_fill(buf, CRASH_SIZE - (next_id % 64), next_id);
		log->progress++;
		if (mms_set(m, buf, CRASH_SIZE - (next_id % 64)) == 0)
			log->completed = next_id;
		next_id++;
		log->progress++;
		mms_unlock(m);
		log->progress++;
	}
}

/* The survivors' view after a death: a whole value no older than the last completed set. */
static void check_after_death(struct mms *m, struct victim_log *log, int trial)
{
	unsigned char buf[CRASH_SIZE];
	size_t len;
	uint64_t id;

	cr_assert_eq(mms_get(m, buf, sizeof(buf), &len), 0, "trial %d: get after a death", trial);
	id = value_id(buf, len);
	cr_assert_neq(id, 0, "trial %d: torn value after a death", trial);
	cr_assert_geq(id, log->completed, "trial %d: a completed set was lost", trial);
	cr_assert_leq(id, log->completed + 1, "trial %d: a value nobody set", trial);
	cr_assert_eq(mms_lock(m), 0, "trial %d: the lock is not stuck", trial);
	cr_assert_eq(mms_unlock(m), 0);
	log->completed = id;    /* a set cut short may have landed: the next victim follows it */
}

BACKEND_PARAMS(crash, sigkill_anywhere)
ParameterizedTest(int *i, crash, sigkill_anywhere, .timeout = 120)
{
	struct victim_log *log = mmap(NULL, sizeof(*log), PROT_READ | PROT_WRITE,
				      MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	unsigned char first[CRASH_SIZE];
	struct mms *m;
	uint64_t wait_for;
	int trial;
	pid_t pid;

	cr_assert_neq(log, MAP_FAILED);
	cr_assert_eq(mms_new(&m, backend_at(i), CRASH_SIZE), 0);
	value_fill(first, CRASH_SIZE, 1);
	cr_assert_eq(mms_set(m, first, CRASH_SIZE), 0);
	log->completed = 1;
	srand(12345 + *i);
	for (trial = 0; trial < CRASH_TRIALS; trial++) {
		log->progress = 0;
		wait_for = 1 + (uint64_t)rand() % 400;
		pid = fork();
		if (pid == 0)
			victim(m, log, log->completed + 1);
		while (log->progress < wait_for)
			;
		kill(pid, SIGKILL);
		cr_assert_eq(child_status(pid), 128 + SIGKILL);
		check_after_death(m, log, trial);
	}
	mms_free(m);
}
