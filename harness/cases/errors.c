/* errors.c -- cases: refused input changes nothing: too big, bad arguments, a short buffer. */
#include "cases.h"

/* The stored value is "keep"; anything else is evidence. */
static int still_keeps(struct conform_ctx *c, struct mms *m, const char *after)
{
	char buf[64];
	size_t len = 0;

	CHECK_OK(c, mms_get(m, buf, sizeof(buf), &len));
	CHECK(c, len == 4 && !memcmp(buf, "keep", 4), "after %s the value is %zu bytes \"%.*s\", "
	      "not \"keep\"", after, len, (int)(len < sizeof(buf) ? len : sizeof(buf)), buf);
	return CONFORM_PASS;
}

/* A value longer than size is MMS_ETOOBIG and the old value stays, with and without the lock. */
static int oversize_keeps_old(struct conform_ctx *c)
{
	char big[64] = "0123456789abcdefX";
	struct mms *m;

	CHECK_OK(c, mms_new(&m, c->backend, 16));
	CHECK_OK(c, mms_set(m, "keep", 4));
	CHECK_RC(c, mms_set(m, big, 17), MMS_ETOOBIG);
	if (still_keeps(c, m, "a set of size + 1"))
		return CONFORM_FAIL;
	CHECK_RC(c, mms_set(m, big, sizeof(big)), MMS_ETOOBIG);
	if (still_keeps(c, m, "a set of 4 x size"))
		return CONFORM_FAIL;
	CHECK_OK(c, mms_lock(m));
	CHECK_RC(c, mms_set(m, big, 17), MMS_ETOOBIG);
	if (still_keeps(c, m, "a set of size + 1 under the lock"))
		return CONFORM_FAIL;
	CHECK_OK(c, mms_unlock(m));
	if (still_keeps(c, m, "the unlock"))
		return CONFORM_FAIL;
	mms_free(m);
	return CONFORM_PASS;
}

CONFORM_CASE(errors_oversize_keeps_old,
	.name = "errors.oversize_keeps_old",
	.summary = "a set longer than size is MMS_ETOOBIG and the stored value stays (held or not)",
	.run = oversize_keeps_old,
	.timeout_s = 10);

/* NULL handles, data and lengths are MMS_EINVAL and change nothing. */
static int bad_arguments(struct conform_ctx *c)
{
	char buf[64];
	size_t len = 0;
	struct mms *m;

	CHECK_OK(c, mms_new(&m, c->backend, 16));
	CHECK_OK(c, mms_set(m, "keep", 4));
	CHECK_RC(c, mms_set(m, NULL, 0), MMS_EINVAL);
	CHECK_RC(c, mms_set(m, NULL, 4), MMS_EINVAL);
	CHECK_RC(c, mms_set(NULL, "x", 1), MMS_EINVAL);
	CHECK_RC(c, mms_get(m, buf, sizeof(buf), NULL), MMS_EINVAL);
	CHECK_RC(c, mms_get(m, NULL, 8, &len), MMS_EINVAL);
	CHECK_RC(c, mms_get(NULL, buf, sizeof(buf), &len), MMS_EINVAL);
	CHECK_RC(c, mms_lock(NULL), MMS_EINVAL);
	CHECK_RC(c, mms_unlock(NULL), MMS_EINVAL);
	if (still_keeps(c, m, "calls with bad arguments"))
		return CONFORM_FAIL;
	mms_free(m);
	return CONFORM_PASS;
}

CONFORM_CASE(errors_bad_arguments,
	.name = "errors.bad_arguments",
	.summary = "NULL handle, data or length pointer is MMS_EINVAL and the value stays",
	.run = bad_arguments,
	.timeout_s = 10);

/* A short buffer is MMS_ESHORT with the length needed, and consumes nothing. */
static int short_buffer(struct conform_ctx *c)
{
	char buf[64];
	size_t len = 0;
	struct mms *m;

	CHECK_OK(c, mms_new(&m, c->backend, 16));
	CHECK_OK(c, mms_set(m, "keep", 4));
	CHECK_RC(c, mms_get(m, buf, 3, &len), MMS_ESHORT);
	CHECK(c, len == 4, "MMS_ESHORT said %zu bytes are needed, not 4", len);
	len = 0;
	CHECK_RC(c, mms_get(m, NULL, 0, &len), MMS_ESHORT);
	CHECK(c, len == 4, "a length query said %zu bytes, not 4", len);
	if (still_keeps(c, m, "two short gets"))
		return CONFORM_FAIL;
	mms_free(m);
	return CONFORM_PASS;
}

CONFORM_CASE(errors_short_buffer,
	.name = "errors.short_buffer",
	.summary = "a short buffer is MMS_ESHORT with the length needed; nothing is consumed",
	.run = short_buffer,
	.timeout_s = 10);
