/* test_processes.c -- the contract between real processes: exclusion, atomic RMW, no torn reads. */
#include <stdlib.h>

#include "common.h"

#define COUNTER_PROCS 4
#define COUNTER_INCREMENTS 3000

static int increment(struct mms *m)
{
	uint64_t v = 0;
	size_t len;
	int err = mms_lock(m);

	if (!err)
		err = mms_get(m, &v, sizeof(v), &len);
	v++;
	if (!err)
		err = mms_set(m, &v, sizeof(v));
	if (mms_unlock(m) && !err)
		err = MMS_ELOCKED;
	return err;
}

BACKEND_PARAMS(processes, counter_is_exact)
ParameterizedTest(int *i, processes, counter_is_exact, .timeout = 60)
{
	struct mms *m;
	uint64_t v = 0;
	pid_t pids[COUNTER_PROCS];
	size_t len;
	int p, k;

	cr_assert_eq(mms_new(&m, backend_at(i), sizeof(v)), 0);
	cr_assert_eq(mms_set(m, &v, sizeof(v)), 0);
	for (p = 0; p < COUNTER_PROCS; p++) {
		pids[p] = fork();
		if (pids[p] == 0) {
			for (k = 0; k < COUNTER_INCREMENTS; k++)
				if (increment(m))
					_exit(1);
			_exit(0);
		}
	}
	for (p = 0; p < COUNTER_PROCS; p++)
		cr_assert_eq(child_status(pids[p]), 0);
	cr_assert_eq(mms_get(m, &v, sizeof(v), &len), 0);
	cr_assert_eq(v, COUNTER_PROCS * COUNTER_INCREMENTS, "lost updates: %llu", (unsigned long long)v);
	mms_free(m);
}

#define TORN_SIZE 4096
#define TORN_OPS 4000

/* Writers store whole values of varying length; readers check every value they get is whole. */
static int torn_worker(struct mms *m, int writer, uint64_t base)
{
	unsigned char buf[TORN_SIZE];
	size_t len;
	uint64_t k;
	int err;

	for (k = 1; k <= TORN_OPS; k++) {
		if (writer) {
			len = 8 + (k * 97) % (TORN_SIZE - 8);
			value_fill(buf, len, base + k);
			if (mms_set(m, buf, len))
				return 1;
			continue;
		}
		err = mms_get(m, buf, sizeof(buf), &len);
		if (err == MMS_EEMPTY)
			continue;
		if (err || value_id(buf, len) == 0)
			return 2;
	}
	return 0;
}

BACKEND_PARAMS(processes, no_torn_values)
ParameterizedTest(int *i, processes, no_torn_values, .timeout = 60)
{
	struct mms *m;
	pid_t pids[4];
	int p;

	cr_assert_eq(mms_new(&m, backend_at(i), TORN_SIZE), 0);
	for (p = 0; p < 4; p++) {
		pids[p] = fork();
		if (pids[p] == 0)
			_exit(torn_worker(m, p < 2, (uint64_t)(p + 1) << 32));
	}
	for (p = 0; p < 4; p++)
		cr_assert_eq(child_status(pids[p]), 0, "worker %d: 1 = set failed, 2 = torn or failed get", p);
	mms_free(m);
}

/*
 * A child forked while its parent holds the lock does not own it: its unlock is refused, and
 * when it locks, it waits for the parent, so it sees the parent's last set.
 */
BACKEND_PARAMS(processes, child_does_not_inherit_the_lock)
ParameterizedTest(int *i, processes, child_does_not_inherit_the_lock, .timeout = 30)
{
	struct mms *m;
	char buf[16];
	size_t len;
	int tried[2], go[2];
	pid_t pid;

	cr_assert_eq(mms_new(&m, backend_at(i), 16), 0);
	cr_assert_eq(mms_set(m, "before", 6), 0);
	cr_assert_eq(mms_lock(m), 0);
	cr_assert_eq(pipe(tried), 0);
	cr_assert_eq(pipe(go), 0);
	pid = fork();
	if (pid == 0) {
		char c;

		if (mms_unlock(m) != MMS_ELOCKED)
			_exit(1);
		if (write(tried[1], "u", 1) != 1 || read(go[0], &c, 1) != 1)
			_exit(2);
		if (mms_lock(m) || mms_get(m, buf, sizeof(buf), &len) || mms_unlock(m))
			_exit(3);
		_exit(len == 5 && !memcmp(buf, "after", 5) ? 0 : 4);
	}
	cr_assert_eq(read(tried[0], buf, 1), 1, "child tried its unlock");
	cr_assert_eq(write(go[1], "g", 1), 1);
	cr_assert_eq(mms_set(m, "after", 5), 0, "the parent still holds the lock");
	cr_assert_eq(mms_unlock(m), 0, "the parent's lock was not released by the child");
	cr_assert_eq(child_status(pid), 0, "1: unlock not refused, 3: lock/get failed, 4: saw the old value");
	mms_free(m);
}
