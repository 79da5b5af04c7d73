/* none.c -- NEGATIVE CONTROL: no lock and no check, so concurrent values tear. Never use it.
 *
 * Protocol: set copies into slot 0 in place and bumps the generation; get copies slot 0 out
 * without a lock and without verifying the checksum; lock and unlock do nothing, so
 * read-modify-writes lose updates. It exists to prove that `mmshare bench --check` catches torn
 * values and lost updates: a checker that passes it is broken.
 * Ordering: none. Crash story: none.
 */
#include <string.h>

#include "mmshare.h"
#include "backend.h"

static int none_open(struct mms_store *s)
{
	return mms_area_open(mms_area_of(s), MMS_STORE_ANON);
}

static int none_lock(struct mms_store *s, enum mms_lock_mode mode)
{
	(void)s;
	(void)mode;
	return 0;
}

static int none_get(struct mms_store *st, void *buf, size_t cap, size_t *len, int held)
{
	struct mms_area *a = mms_area_of(st);
	struct mms_slot *s = mms_slot_at(a, 0);
	volatile uint64_t *gen = &a->hdr->gen;
	size_t n = ((volatile struct mms_slot *)s)->len;

	(void)held;
	if (*gen == MMS_GEN_EMPTY)
		return MMS_EEMPTY;
	*len = n <= st->size ? n : st->size;
	if (*len > cap)
		return MMS_ESHORT;
	if (*len)
		memcpy(buf, s->data, *len);
	return 0;
}

static int none_set(struct mms_store *st, const void *data, size_t len, int held)
{
	struct mms_area *a = mms_area_of(st);
	struct mms_slot *s = mms_slot_at(a, 0);
	volatile uint64_t *gen = &a->hdr->gen;

	(void)held;
	s->len = len;
	if (len)
		memcpy(s->data, data, len);
	*gen = *gen + 2;
	return 0;
}

const struct mms_backend mms_backend_none = {
	.abi     = MMS_BACKEND_ABI,
	.state_size = sizeof(struct mms_area),
	.name    = "none",
	.summary = "UNSAFE negative control: no lock, no check; values tear",
	.caps    = MMS_CAP_UNSAFE | MMS_CAP_MAPPING,
	.open    = none_open,
	.close   = mms_area_close_method,
	.lock    = none_lock,
	.unlock  = none_lock,
	.get     = none_get,
	.set     = none_set,
	.mapping = mms_area_mapping,
};
