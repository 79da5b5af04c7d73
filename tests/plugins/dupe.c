/* dupe.c -- the smallest working plug-in: the area helpers and the robust mutex, named "dupe". */
#include "mmshare-backend.h"

static int dupe_open(struct mms_store *s)
{
	struct mms_area *a = mms_area_of(s);
	int err = mms_area_open(a, MMS_STORE_ANON);

	if (!err && (err = mms_rmutex_init(a)))
		mms_area_close(a);
	return err;
}

static void dupe_close(struct mms_store *s)
{
	mms_area_close(mms_area_of(s));
}

const struct mms_backend mmshare_backend = {
	.abi        = MMS_BACKEND_ABI,
	.state_size = sizeof(struct mms_area),
	.name       = "dupe",
	.summary    = "test plug-in: the built-in mutex's protocol, from outside",
	.caps       = MMS_CAP_MAPPING,
	.open       = dupe_open,
	.close      = dupe_close,
	.lock       = mms_rmutex_lock,
	.unlock     = mms_rmutex_unlock,
	.get        = mms_area_get_locked,
	.set        = mms_area_set_locked,
	.mapping    = mms_area_mapping,
};
