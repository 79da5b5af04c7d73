/* fcntl.c -- POSIX record locks on the area's own memfd: shared for get, exclusive for set/lock.
 *
 * Protocol: the area lives in a memfd that no other file name reaches, so no one else can open
 * it and drop our locks by closing a descriptor. get takes F_RDLCK on byte 0, so readers run in
 * parallel; set and mms_lock take F_WRLCK. Classic process-owned locks, not OFD locks: a forked
 * child shares the open file description but owns none of its parent's locks, which is what the
 * contract asks (OFD locks would be shared with the child).
 * Ordering: the kernel's lock hand-off orders the slot copies; the value protocol is area.c's.
 * Crash story: the kernel drops the locks of a process that dies; a half-written slot was never
 * published, so the current value is whole. Nothing in shared memory can wedge the lock, and the
 * mapping holds no pointers: a descendant that scribbles it can only make calls fail.
 */
#include "mmshare.h"
#include "backend.h"

static int fcntl_open(struct mms_store *s)
{
	return mms_area_open(mms_area_of(s), MMS_STORE_MEMFD);
}

static int fcntl_lock(struct mms_store *s, enum mms_lock_mode mode)
{
	return mms_record_lock(s, mms_area_of(s)->fd, mode, 0);
}

static int fcntl_unlock(struct mms_store *s, enum mms_lock_mode mode)
{
	(void)mode;
	return mms_record_unlock(mms_area_of(s)->fd, 0);
}

const struct mms_backend mms_backend_fcntl = {
	.abi     = MMS_BACKEND_ABI,
	.state_size = sizeof(struct mms_area),
	.name    = "fcntl",
	.summary = "POSIX record locks on a private memfd; readers share, the kernel frees a dead holder's lock",
	.caps    = MMS_CAP_CRASH_SAFE | MMS_CAP_SHARED_READ | MMS_CAP_HOSTILE_SAFE | MMS_CAP_MAPPING,
	.open    = fcntl_open,
	.close   = mms_area_close_method,
	.lock    = fcntl_lock,
	.unlock  = fcntl_unlock,
	.get     = mms_area_get_locked,
	.set     = mms_area_set_locked,
	.mapping = mms_area_mapping,
};
