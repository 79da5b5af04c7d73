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

/*
 * Whether the backend's lock is that word: lock a fresh area and see if the word names us.
 * Where it does not (a lock kept by the kernel), a scribbled word is no lock, and a call that
 * ignores it and succeeds is right.
 */
static inline int lock_word_is_lock(const char *backend)
{
	struct mms *m;
	int named_us;

	cr_assert_eq(mms_new(&m, backend, 8), 0);
	cr_assert_eq(mms_lock(m), 0);
	named_us = (*lock_word(m) & FUTEX_TID_MASK) == gettid();
	cr_assert_eq(mms_unlock(m), 0);
	mms_free(m);
	return named_us;
}

/*
 * A call facing a scribbled lock word must return want where the word is the lock; where it is
 * not, 0 is right too.
 */
static inline void expect_err(int word_is_lock, int err, int want, const char *call)
{
	if (word_is_lock)
		cr_assert_eq(err, want, "%s said \"%s\", not \"%s\"", call, mms_strerror(err),
			     mms_strerror(want));
	else
		cr_assert(err == 0 || err == want, "%s said \"%s\"", call, mms_strerror(err));
}

#endif
