/* lock.c -- cases: the lock misused in one process: refused, and never a self-deadlock. */
#include "cases.h"

/* Unlock while free and lock while held are MMS_ELOCKED; get and set under the lock work. */
static int misuse(struct conform_ctx *c)
{
	uint64_t v = 41;
	size_t len;
	struct mms *m;

	CHECK_OK(c, mms_new(&m, c->backend, 8));
	CHECK_RC(c, mms_unlock(m), MMS_ELOCKED);
	CHECK_OK(c, mms_set(m, &v, 8));
	CHECK_OK(c, mms_lock(m));
	CHECK_RC(c, mms_lock(m), MMS_ELOCKED);
	CHECK_OK(c, mms_get(m, &v, 8, &len));
	v++;
	CHECK_OK(c, mms_set(m, &v, 8));
	CHECK_OK(c, mms_unlock(m));
	CHECK_RC(c, mms_unlock(m), MMS_ELOCKED);
	v = 0;
	CHECK_OK(c, mms_get(m, &v, 8, &len));
	CHECK(c, v == 42, "the set under the lock did not stay: %llu, not 42", (unsigned long long)v);
	CHECK_OK(c, mms_lock(m));
	CHECK_OK(c, mms_unlock(m));
	mms_free(m);
	return CONFORM_PASS;
}

CONFORM_CASE(lock_misuse,
	.name = "lock.misuse",
	.summary = "unlock while free and lock while held are MMS_ELOCKED; get/set under the lock work",
	.run = misuse,
	.timeout_s = 10);
