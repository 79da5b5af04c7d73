/* scribble.c -- cases: whatever lands in the mapping, get is a value that was set or ECORRUPT. */
#include <stdlib.h>

#include "mmshare-backend.h"
#include "cases.h"

#define SCRIBBLE_SIZE 256
#define SCRIBBLE_ROUNDS 200
#define SCRIBBLE_HEAD 256       /* bytes counted as the head of a mapping (the built-in header) */

enum pattern { ZEROS, ONES, RANDOM_ALL, RANDOM_HEAD, RANDOM_TAIL, FLIP_BYTE, PATTERNS };

static const char *const pattern_name[] = {
	"zeros", "0xff bytes", "random bytes", "random head", "random tail", "one byte flipped",
};

static void scribble(unsigned char *base, size_t len, enum pattern p, unsigned *seed)
{
	size_t head = len < SCRIBBLE_HEAD ? len : SCRIBBLE_HEAD, k;

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
	case RANDOM_HEAD:
		for (k = 0; k < head; k++)
			base[k] = (unsigned char)rand_r(seed);
		break;
	case RANDOM_TAIL:
		for (k = head; k < len; k++)
			base[k] = (unsigned char)rand_r(seed);
		break;
	default:
		base[(size_t)rand_r(seed) % len] ^= (unsigned char)(1 + rand_r(seed) % 255);
		break;
	}
}

/* After a scribble: get is the value that was set, or MMS_ECORRUPT; lock and unlock return. */
static int survives(struct conform_ctx *c, struct mms *m, const unsigned char *was, int round,
		    enum pattern p)
{
	unsigned char buf[SCRIBBLE_SIZE];
	size_t len = 0;
	int err = mms_get(m, buf, sizeof(buf), &len);

	if (err == 0)
		CHECK(c, len == SCRIBBLE_SIZE && !memcmp(buf, was, len), "round %d (%s): get "
		      "returned %zu bytes that were never set", round, pattern_name[p], len);
	else
		CHECK(c, err == MMS_ECORRUPT, "round %d (%s): get said %s, want 0 or MMS_ECORRUPT",
		      round, pattern_name[p], conform_code(err));
	err = mms_lock(m);
	CHECK(c, err == 0 || err == MMS_ECORRUPT, "round %d (%s): lock said %s", round,
	      pattern_name[p], conform_code(err));
	if (err == 0)
		CHECK_OK(c, mms_unlock(m));
	return CONFORM_PASS;
}

static int any_bytes(struct conform_ctx *c)
{
	unsigned char was[SCRIBBLE_SIZE];
	unsigned seed = 7;
	struct mms *m;
	size_t len;
	void *base;
	int round, err;

	case_value_fill(was, sizeof(was), 77);
	for (round = 0; round < SCRIBBLE_ROUNDS; round++) {
		CHECK_OK(c, mms_new(&m, c->backend, SCRIBBLE_SIZE));
		CHECK_OK(c, mms_set(m, was, sizeof(was)));
		err = mms_mapping(m, &base, &len);
		CHECK(c, err == 0, "MMS_CAP_MAPPING is declared, but mms_mapping said %s",
		      conform_code(err));
		mms_set_timeout(m, 5000);       /* a bound, so a wait reads as evidence */
		scribble(base, len, (enum pattern)(round % PATTERNS), &seed);
		if (survives(c, m, was, round, (enum pattern)(round % PATTERNS)))
			return CONFORM_FAIL;
		mms_free(m);
	}
	return CONFORM_PASS;
}

CONFORM_CASE(scribble_any_bytes,
	.name = "scribble.any_bytes",
	.summary = "200 areas with zeros, ones, random or flipped bytes: the value set or MMS_ECORRUPT",
	.needs = MMS_CAP_MAPPING,
	.run = any_bytes,
	.timeout_s = 60);
