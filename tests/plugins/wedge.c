/* wedge.c -- a negative control: a lock that says it is not crash-safe, then waits on a dead holder.
 *
 * A backend without MMS_CAP_CRASH_SAFE promises MMS_EDEAD, never a wait on a corpse. This one
 * keeps that promise's first half only: a word in the lock line, 0 or 1, taken by CAS, waited
 * for in 1 ms naps until the handle's timeout, never judged. `mmshare conform` must fail it
 * (crash.killed_holder: the waiter's lock says MMS_ETIMEDOUT, not MMS_EDEAD).
 */
#include <time.h>

#include "mmshare-backend.h"

struct wedge {
	struct mms_area area;   /* first: value and lock word in our layout */
	int *word;              /* in the area's lock line: 1 while held */
};

static int wedge_open(struct mms_store *s)
{
	struct wedge *w = (struct wedge *)s;
	int err = mms_area_open(&w->area, MMS_STORE_ANON);

	if (!err)
		w->word = mms_area_lock_line(&w->area);
	return err;
}

static int take(int *word)
{
	int free_word = 0;

	return __atomic_compare_exchange_n(word, &free_word, 1, 0, __ATOMIC_ACQUIRE,
					   __ATOMIC_RELAXED);
}

static int wedge_lock(struct mms_store *s, enum mms_lock_mode mode)
{
	struct wedge *w = (struct wedge *)s;
	struct timespec nap = { 0, 1000000 };
	int64_t waited = 0;

	(void)mode;
	while (!take(w->word)) {
		if (s->timeout_ns >= 0 && waited >= s->timeout_ns)
			return MMS_ETIMEDOUT;
		nanosleep(&nap, NULL);
		waited += nap.tv_nsec;
	}
	return 0;
}

static int wedge_unlock(struct mms_store *s, enum mms_lock_mode mode)
{
	(void)mode;
	__atomic_store_n(((struct wedge *)s)->word, 0, __ATOMIC_RELEASE);
	return 0;
}

const struct mms_backend mmshare_backend = {
	.abi        = MMS_BACKEND_ABI,
	.state_size = sizeof(struct wedge),
	.name       = "wedge",
	.summary    = "negative control (tests/plugins): not crash-safe, but waits on a dead holder",
	.caps       = MMS_CAP_MAPPING,
	.open       = wedge_open,
	.close      = mms_area_close_method,
	.lock       = wedge_lock,
	.unlock     = wedge_unlock,
	.get        = mms_area_get_locked,
	.set        = mms_area_set_locked,
	.mapping    = mms_area_mapping,
};
