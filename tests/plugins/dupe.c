/* dupe.c -- the smallest working plug-in: the area helpers and the robust mutex, named "dupe". */
#include "mmshare-backend.h"

const struct mms_backend mmshare_backend = {
	.abi        = MMS_BACKEND_ABI,
	.state_size = sizeof(struct mms_area),
	.name       = "dupe",
	.summary    = "test plug-in: the built-in mutex's protocol, from outside",
	.caps       = MMS_CAP_CRASH_SAFE | MMS_CAP_MAPPING,
	.open       = mms_rmutex_open_method,
	.close      = mms_area_close_method,
	.lock       = mms_rmutex_lock,
	.unlock     = mms_rmutex_unlock,
	.get        = mms_area_get_locked,
	.set        = mms_area_set_locked,
	.mapping    = mms_area_mapping,
};
