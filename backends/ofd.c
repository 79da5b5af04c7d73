/* ofd.c -- open-file-description locks on a sealed memfd: readers share, writers exclude.
 *
 * Protocol: area.c's lock-based value protocol; get takes F_OFD_SETLKW F_RDLCK on byte 0, set and
 * mms_lock take F_WRLCK, through a description each process opens for itself (ofd_lock.c): an
 * OFD lock belongs to the description, and a description inherited across fork is shared, so two
 * processes using one would never exclude each other. Every forked child opens its own before
 * fork returns there.
 * Ordering: the kernel's lock hand-off orders the slot copies.
 * Crash story: the kernel drops the lock when the last descriptor of the holder's description
 * closes, which a dying process does; a half-written slot was never published, so the current
 * value is whole. The mapping holds no pointers: a peer that writes it can only make calls fail.
 */
#include "mmshare.h"
#include "backend.h"

const struct mms_backend mms_backend_ofd = {
	.abi     = MMS_BACKEND_ABI,
	.state_size = sizeof(struct mms_area),
	.name    = "ofd",
	.summary = "OFD record locks on a sealed memfd, a description per process; readers share",
	.caps    = MMS_CAP_CRASH_SAFE | MMS_CAP_SHARED_READ | MMS_CAP_HOSTILE_SAFE | MMS_CAP_MAPPING,
	.open    = mms_ofd_open_method,
	.close   = mms_area_close_method,
	.lock    = mms_ofd_lock,
	.unlock  = mms_ofd_unlock,
	.get     = mms_area_get_locked,
	.set     = mms_area_set_locked,
	.mapping = mms_area_mapping,
};
