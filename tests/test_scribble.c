/* test_scribble.c -- whatever bytes land in the mapping: a value that was set, or MMS_ECORRUPT. */
#include <signal.h>
#include <stdlib.h>

#include "common.h"
#include "inside.h"

#define SCRIBBLE_SIZE 256
#define SCRIBBLE_ROUNDS 200

enum pattern { ZEROS, ONES, RANDOM_ALL, RANDOM_HEADER, RANDOM_SLOTS, FLIP_BYTE, PATTERNS };

static void scribble(struct mms *m, enum pattern p, unsigned *seed)
{
	unsigned char *base = (unsigned char *)area_of(m)->hdr;
	size_t len = area_of(m)->map_len, hdr = sizeof(struct mms_header), k;

	switch (p) {
	case ZEROS:
		memset(base, 0, len);
		break;
	case ONES:
		memset(base, 0xff, len);
		break;
	case RANDOM_ALL:
		for (k = 0; k < len; k++)
			base[k] = (unsigned char)rand_r(seed);
		break;
	case RANDOM_HEADER:
		for (k = 0; k < hdr; k++)
			base[k] = (unsigned char)rand_r(seed);
		break;
	case RANDOM_SLOTS:
		for (k = hdr; k < len; k++)
			base[k] = (unsigned char)rand_r(seed);
		break;
	default:
		base[(size_t)rand_r(seed) % len] ^= (unsigned char)(1 + rand_r(seed) % 255);
		break;
	}
}

/* After a scribble: get is the value that was set, or MMS_ECORRUPT; lock returns, and so does set. */
static void check_survives(struct mms *m, const unsigned char *was, int round)
{
	unsigned char buf[SCRIBBLE_SIZE];
	size_t len;
	int err = mms_get(m, buf, sizeof(buf), &len);

	if (err == 0)
		cr_assert(len == SCRIBBLE_SIZE && !memcmp(buf, was, len),
			  "round %d: get returned a value that was never set", round);
	else
		cr_assert_eq(err, MMS_ECORRUPT, "round %d: get said %s", round, mms_strerror(err));
	err = mms_lock(m);
	cr_assert(err == 0 || err == MMS_ECORRUPT, "round %d: lock said %s", round, mms_strerror(err));
	if (err == 0)
		cr_assert_eq(mms_unlock(m), 0);
}

BACKEND_PARAMS(scribble, any_bytes)
ParameterizedTest(int *i, scribble, any_bytes, .timeout = 120)
{
	unsigned char was[SCRIBBLE_SIZE];
	unsigned seed = 7;
	struct mms *m;
	int round;

	value_fill(was, sizeof(was), 77);
	for (round = 0; round < SCRIBBLE_ROUNDS; round++) {
		cr_assert_eq(mms_new(&m, backend_at(i), SCRIBBLE_SIZE), 0);
		cr_assert_eq(mms_set(m, was, sizeof(was)), 0);
		scribble(m, (enum pattern)(round % PATTERNS), &seed);
		check_survives(m, was, round);
		mms_free(m);
	}
}

/*
 * A lock word naming a process that no longer exists, which the kernel never saw die holding it:
 * a waiter must notice and report MMS_ECORRUPT instead of waiting for ever. Where the word is not
 * the lock (a lock kept by the kernel), lock and set succeed.
 */
BACKEND_PARAMS(scribble, dead_recorded_owner)
ParameterizedTest(int *i, scribble, dead_recorded_owner, .timeout = 30)
{
	int is_lock = lock_word_is_lock(backend_at(i));
	struct mms *m;
	pid_t gone = fork();
	int err;

	if (gone == 0)
		_exit(0);
	cr_assert_eq(child_status(gone), 0);
	hang_guard(30);
	cr_assert_eq(mms_new(&m, backend_at(i), 16), 0);
	cr_assert_eq(mms_set(m, "v", 1), 0);
	*lock_word(m) = gone;
	err = mms_lock(m);
	expect_err(is_lock, err, MMS_ECORRUPT, "lock");
	if (err == 0)
		mms_unlock(m);
	expect_err(is_lock, mms_set(m, "w", 1), MMS_ECORRUPT, "set");
	mms_free(m);
}
