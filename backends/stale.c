/* stale.c -- NEGATIVE CONTROL: whole values, but every 8th get returns the previous one.
 *
 * Protocol: the mutex protocol (area.c), except that get sometimes copies the slot that is not
 * current. Each value is whole and passes its checksum, so only a linearizability check can
 * catch it. Never use it. Ordering and crash story: as mutex.c.
 */
#include <string.h>

#include "mmshare.h"
#include "backend.h"

#define STALE_EVERY 8

/* Copy the value before the current one; 0 when there is none yet. */
static int copy_previous(struct mms_area *a, void *buf, size_t cap, size_t *len)
{
	uint64_t g = a->hdr->gen;
	struct mms_slot *s = mms_slot_at(a, g - 1);
	size_t n = s->len;

	if (g <= MMS_GEN_EMPTY + 1 || n > cap || n > a->store.size)
		return 0;
	*len = n;
	if (n)
		memcpy(buf, s->data, n);
	return 1;
}

static int stale_get(struct mms_store *s, void *buf, size_t cap, size_t *len, int held)
{
	static unsigned calls;
	int err, stale;

	if (++calls % STALE_EVERY)
		return mms_area_get_locked(s, buf, cap, len, held);
	err = held ? 0 : mms_rmutex_lock(s, MMS_LOCK_SHARED);
	if (err)
		return err;
	stale = copy_previous(mms_area_of(s), buf, cap, len);
	if (!held)
		mms_rmutex_unlock(s, MMS_LOCK_SHARED);
	return stale ? 0 : mms_area_get_locked(s, buf, cap, len, held);
}

const struct mms_backend mms_backend_stale = {
	.abi     = MMS_BACKEND_ABI,
	.state_size = sizeof(struct mms_area),
	.name    = "stale",
	.summary = "UNSAFE negative control: whole values, but some gets return the previous one",
	.caps    = MMS_CAP_UNSAFE | MMS_CAP_MAPPING,
	.open    = mms_rmutex_open_method,
	.close   = mms_area_close_method,
	.lock    = mms_rmutex_lock,
	.unlock  = mms_rmutex_unlock,
	.get     = stale_get,
	.set     = mms_area_set_locked,
	.mapping = mms_area_mapping,
};
