/* flock.c -- flock(2) on a sealed memfd, through a description per process; readers share.
 *
 * Protocol: area.c's lock-based value protocol; get takes LOCK_SH, set and mms_lock take LOCK_EX,
 * on the area's memfd through a description each process opens for itself (ofd_lock.c). A flock
 * lock belongs to the open file description, like an OFD lock: a child that used the description
 * it inherited would share its parent's lock and exclude nobody from it -- the defect the seed's
 * own flock variant has (field notes). Every forked child opens its own before fork returns there.
 * Ordering: the kernel's lock hand-off orders the slot copies.
 * Crash story: the kernel drops the lock when the last descriptor of the holder's description
 * closes, which a dying process does; a half-written slot was never published, so the current
 * value is whole. The mapping holds no pointers: a peer that writes it can only make calls fail.
 */
#include <errno.h>
#include <sys/file.h>

#include "mmshare.h"
#include "backend.h"

static int flock_try(int fd, int op)
{
	return flock(fd, op | LOCK_NB);
}

static int flock_wait(int fd, int op)
{
	return flock(fd, op);
}

static const struct mms_klock flock_klock = { .try_once = flock_try, .wait = flock_wait };

static int flock_lock(struct mms_store *s, enum mms_lock_mode mode)
{
	struct mms_area *a = mms_area_of(s);
	int op;

	if (a->lock_fd < 0) {
		errno = EBADF;
		return MMS_ESYS;        /* a fork could not give this process a description */
	}
	op = mode == MMS_LOCK_SHARED ? LOCK_SH : LOCK_EX;
	if (flock(a->lock_fd, op | LOCK_NB) == 0)
		return 0;
	return mms_klock_busy(s, &flock_klock, a->lock_fd, op);
}

static int flock_unlock(struct mms_store *s, enum mms_lock_mode mode)
{
	(void)mode;
	return flock(mms_area_of(s)->lock_fd, LOCK_UN) ? MMS_ESYS : 0;
}

const struct mms_backend mms_backend_flock = {
	.abi     = MMS_BACKEND_ABI,
	.state_size = sizeof(struct mms_area),
	.name    = "flock",
	.summary = "flock(2) on a sealed memfd, a description per process; readers share",
	.caps    = MMS_CAP_CRASH_SAFE | MMS_CAP_SHARED_READ | MMS_CAP_HOSTILE_SAFE | MMS_CAP_MAPPING,
	.open    = mms_ofd_open_method,
	.close   = mms_area_close_method,
	.lock    = flock_lock,
	.unlock  = flock_unlock,
	.get     = mms_area_get_locked,
	.set     = mms_area_set_locked,
	.mapping = mms_area_mapping,
};
