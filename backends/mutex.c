/* mutex.c -- one robust, process-shared pthread mutex guards both value slots.
 *
 * Protocol: get and set take the mutex (readers exclude each other too); set writes the slot that
 * is not current and publishes it by storing the new generation (area.c).
 * Ordering: the mutex orders everything; the generation store is a release store so that a
 * writer killed mid-set never has the store reordered before the copy.
 * Crash story: a holder that dies leaves the mutex to the kernel's robust list; the next locker
 * gets EOWNERDEAD and marks it consistent. Nothing needs repair: a half-written slot was never
 * published, so the current value is whole and every completed set is kept.
 */
#include "mmshare.h"
#include "backend.h"

const struct mms_backend mms_backend_mutex = {
	.abi     = MMS_BACKEND_ABI,
	.state_size = sizeof(struct mms_area),
	.name    = "mutex",
	.summary = "robust process-shared pthread mutex; dead owners repaired (EOWNERDEAD)",
	.caps    = MMS_CAP_CRASH_SAFE | MMS_CAP_MAPPING,
	.open    = mms_rmutex_open_method,
	.close   = mms_area_close_method,
	.lock    = mms_rmutex_lock,
	.unlock  = mms_rmutex_unlock,
	.get     = mms_area_get_locked,
	.set     = mms_area_set_locked,
	.mapping = mms_area_mapping,
};
