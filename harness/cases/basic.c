/* basic.c -- cases: set and get in one process, the empty value, the descriptor of an area. */
#include <stdio.h>

#include "cases.h"

#define LAST_SET_ROUNDS 64

/* Nothing set is MMS_EEMPTY; a value comes back whole; 0 and exactly size bytes are values. */
static int set_get(struct conform_ctx *c)
{
	char buf[32] = { 0 };
	size_t len = 99;
	struct mms *m;

	CHECK_OK(c, mms_new(&m, c->backend, 16));
	CHECK(c, mms_backend(m) && !strcmp(mms_backend(m), c->backend),
	      "mms_backend() is \"%s\"", mms_backend(m) ? mms_backend(m) : "(null)");
	CHECK(c, mms_size(m) == 16, "mms_size() is %zu, not 16", mms_size(m));
	CHECK_RC(c, mms_get(m, buf, sizeof(buf), &len), MMS_EEMPTY);
	CHECK_OK(c, mms_set(m, "hello", 5));
	CHECK_OK(c, mms_get(m, buf, sizeof(buf), &len));
	CHECK(c, len == 5 && !memcmp(buf, "hello", 5), "got %zu bytes \"%.*s\", not \"hello\"",
	      len, (int)(len < sizeof(buf) ? len : sizeof(buf)), buf);
	CHECK_OK(c, mms_set(m, "", 0));
	CHECK_OK(c, mms_get(m, buf, sizeof(buf), &len));
	CHECK(c, len == 0, "an empty value came back as %zu bytes", len);
	CHECK_OK(c, mms_set(m, "0123456789abcdef", 16));
	CHECK_OK(c, mms_get(m, buf, sizeof(buf), &len));
	CHECK(c, len == 16 && !memcmp(buf, "0123456789abcdef", 16),
	      "a value of exactly size came back as %zu bytes", len);
	mms_free(m);
	return CONFORM_PASS;
}

CONFORM_CASE(basic_set_get,
	.name = "basic.set_get",
	.summary = "EEMPTY before any set; a value, the empty value and one of exactly size come back",
	.run = set_get,
	.timeout_s = 10);

/* An empty value fits a NULL buffer of capacity 0, held or not. */
static int empty_into_null(struct conform_ctx *c)
{
	size_t len = 99;
	struct mms *m;

	CHECK_OK(c, mms_new(&m, c->backend, 16));
	CHECK_OK(c, mms_set(m, "", 0));
	CHECK_OK(c, mms_get(m, NULL, 0, &len));
	CHECK(c, len == 0, "len %zu after an empty get", len);
	CHECK_OK(c, mms_lock(m));
	len = 99;
	CHECK_OK(c, mms_get(m, NULL, 0, &len));
	CHECK(c, len == 0, "len %zu after an empty get under the lock", len);
	CHECK_OK(c, mms_unlock(m));
	mms_free(m);
	return CONFORM_PASS;
}

CONFORM_CASE(basic_empty_into_null,
	.name = "basic.empty_into_null",
	.summary = "an empty value is read into a NULL buffer of capacity 0, with and without the lock",
	.run = empty_into_null,
	.timeout_s = 10);

/* Every get returns the last value set, in one process, round after round. */
static int last_set_wins(struct conform_ctx *c)
{
	unsigned char val[200], buf[200];
	uint64_t id;
	size_t len, want;
	struct mms *m;

	CHECK_OK(c, mms_new(&m, c->backend, sizeof(val)));
	for (id = 1; id <= LAST_SET_ROUNDS; id++) {
		want = 8 + (id * 37) % (sizeof(val) - 8);
		case_value_fill(val, want, id);
		CHECK_OK(c, mms_set(m, val, want));
		CHECK_OK(c, mms_get(m, buf, sizeof(buf), &len));
		CHECK(c, len == want && !memcmp(buf, val, len),
		      "get after set %llu returned value %llu (%zu bytes): not the last set",
		      (unsigned long long)id, (unsigned long long)case_value_id(buf, len), len);
	}
	mms_free(m);
	return CONFORM_PASS;
}

CONFORM_CASE(basic_last_set_wins,
	.name = "basic.last_set_wins",
	.summary = "64 sets of varying length, each followed by a get that must return it",
	.run = last_set_wins,
	.timeout_s = 10);

/* mms_fd is a descriptor exactly where the backend says it exports one. */
static int fd_only_where_exported(struct conform_ctx *c)
{
	struct mms *m;
	int fd;

	CHECK_OK(c, mms_new(&m, c->backend, 8));
	fd = mms_fd(m);
	if (c->caps & MMS_CAP_EXPORT_FD)
		CHECK(c, fd >= 0, "MMS_CAP_EXPORT_FD, but mms_fd said %s", conform_code(fd));
	else
		CHECK_RC(c, mms_fd(m), MMS_EINVAL);
	mms_free(m);
	return CONFORM_PASS;
}

CONFORM_CASE(basic_fd_only_where_exported,
	.name = "basic.fd_only_where_exported",
	.summary = "mms_fd gives a descriptor with MMS_CAP_EXPORT_FD and MMS_EINVAL without it",
	.run = fd_only_where_exported,
	.timeout_s = 10);

/* A handle attached through mms_fd sees the creator's value, and the creator sees its set. */
static int attach_shares_value(struct conform_ctx *c)
{
	struct mms *m, *a;
	char buf[16];
	size_t len;

	CHECK_OK(c, mms_new(&m, c->backend, 16));
	CHECK_OK(c, mms_set(m, "creator", 7));
	CHECK(c, mms_fd(m) >= 0, "mms_fd said %s", conform_code(mms_fd(m)));
	CHECK_OK(c, mms_attach(&a, mms_fd(m)));
	CHECK_OK(c, mms_get(a, buf, sizeof(buf), &len));
	CHECK(c, len == 7 && !memcmp(buf, "creator", 7), "the attached handle read %zu bytes", len);
	CHECK_OK(c, mms_lock(a));
	CHECK_OK(c, mms_set(a, "attached", 8));
	CHECK_OK(c, mms_unlock(a));
	CHECK_OK(c, mms_get(m, buf, sizeof(buf), &len));
	CHECK(c, len == 8 && !memcmp(buf, "attached", 8), "the creator read %zu bytes", len);
	mms_free(a);
	mms_free(m);
	return CONFORM_PASS;
}

CONFORM_CASE(basic_attach_shares_value,
	.name = "basic.attach_shares_value",
	.summary = "mms_attach on mms_fd's descriptor shares the value both ways",
	.needs = MMS_CAP_EXPORT_FD,
	.run = attach_shares_value,
	.timeout_s = 10);
