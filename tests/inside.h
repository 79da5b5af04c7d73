/* inside.h -- for tests that reach into a handle's mapping: the robust mutex's owner word. */
#ifndef MMS_TEST_INSIDE_H
#define MMS_TEST_INSIDE_H

#include <linux/futex.h>

#include "common.h"
#include "area_of.h"

/* The word glibc's robust mutex keeps its owner's thread id in (FUTEX_TID_MASK bits). */
static inline int *lock_word(struct mms *m)
{
	return &area_of(m)->hdr->mutex.__data.__lock;
}

enum word_role {
	WORD_UNUSED,            /* the lock line is not the lock (the kernel keeps it) */
	WORD_IS_LOCK,           /* the word names the holder, as a robust mutex's does */
	WORD_IN_LOCK,           /* the word is part of another lock's state (rwlock, semaphore) */
	WORD_HALF_NAME,         /* the word is half of a wider name (spin: tid, then start time),
				 * so a bare tid there names a thread that is gone: taken over */
};

/*
 * What the word is to the backend: lock a fresh area and see if the word names us, or if the
 * lock line holds anything at all. Where it is unused, a scribbled word is no lock, and a call
 * that ignores it and succeeds is right.
 */
static inline enum word_role lock_word_is_lock(const char *backend)
{
	unsigned char line[64] = { 0 }, zero[64] = { 0 };
	struct mms *m;
	int named_us, robust, next;

	if (!(backend_caps(backend) & MMS_CAP_MAPPING))
		cr_skip_test("%s keeps no lock word in a mapping of ours", backend);
	cr_assert_eq(mms_new(&m, backend, 8), 0);
	cr_assert_eq(mms_lock(m), 0);
	named_us = (*lock_word(m) & FUTEX_TID_MASK) == gettid();
	robust = area_of(m)->mutex_kind != 0;
	memcpy(line, lock_word(m), sizeof(line));
	cr_assert_eq(mms_unlock(m), 0);
	mms_free(m);
	memcpy(&next, line + sizeof(int), sizeof(next));
	if (named_us && !robust && next != 0)
		return WORD_HALF_NAME;
	if (named_us)
		return WORD_IS_LOCK;
	return memcmp(line, zero, sizeof(line)) ? WORD_IN_LOCK : WORD_UNUSED;
}

/*
 * A call facing a scribbled lock word must return want where the word is the lock; where it is
 * not, 0 is right too, and so is MMS_ECORRUPT where the word is part of another lock's state
 * (a rwlock's reader count, a semaphore's value) that the backend found written over.
 */
static inline void expect_err(enum word_role role, int err, int want, const char *call)
{
	if (role == WORD_IS_LOCK)
		cr_assert_eq(err, want, "%s said \"%s\", not \"%s\"", call, mms_strerror(err),
			     mms_strerror(want));
	else
		cr_assert(err == 0 || err == want || (role == WORD_IN_LOCK && err == MMS_ECORRUPT),
			  "%s said \"%s\"", call, mms_strerror(err));
}

#endif
