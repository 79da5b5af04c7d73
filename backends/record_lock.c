/* record_lock.c -- kernel record locks (classic POSIX or OFD) with waits bounded by a timeout.
 *
 * Without a timeout a wait is one F_SETLKW (F_OFD_SETLKW); with one it is F_SETLK tries with
 * pauses that double, since the kernel has no timed record lock. Ordering: the kernel's lock
 * is a full barrier on both sides. Crashes: the kernel drops the locks of a process that dies
 * (classic) or of a description whose last descriptor closes (OFD).
 */
#include <errno.h>
#include <fcntl.h>
#include <time.h>

#include "mmshare.h"
#include "backend.h"
#include "deadline.h"

#define POLL_FIRST_NS   20000L      /* first pause between tries when a timeout bounds the wait */
#define POLL_MAX_NS     2000000L    /* pauses double up to this */

static int try_lock(int fd, short type, int cmd)
{
	struct flock fl = { .l_type = type, .l_whence = SEEK_SET, .l_start = 0, .l_len = 1 };

	/* l_pid stays 0, which OFD locks require. */
	return fcntl(fd, cmd, &fl);
}

/*
 * The kernel has no timed F_SETLKW, and a signal to interrupt it would belong to the caller, so
 * a bounded wait polls with pauses that double, up to POLL_MAX_NS.
 */
static int poll_lock(int fd, short type, int cmd, int64_t timeout_ns)
{
	struct mms_deadline dl;
	struct timespec pause;
	long ns = POLL_FIRST_NS;

	mms_deadline_start(&dl, timeout_ns);
	for (;;) {
		if (mms_deadline_passed(&dl))
			return MMS_ETIMEDOUT;
		pause = (struct timespec){ .tv_sec = 0, .tv_nsec = ns };
		nanosleep(&pause, NULL);
		if (try_lock(fd, type, cmd) == 0)
			return 0;
		if (errno != EAGAIN && errno != EACCES)
			return MMS_ESYS;
		if (ns < POLL_MAX_NS)
			ns *= 2;
	}
}

int mms_record_lock(struct mms_store *s, int fd, enum mms_lock_mode mode, int ofd)
{
	short type = mode == MMS_LOCK_SHARED ? F_RDLCK : F_WRLCK;
	int setlk = ofd ? F_OFD_SETLK : F_SETLK, setlkw = ofd ? F_OFD_SETLKW : F_SETLKW;

	if (try_lock(fd, type, setlk) == 0)
		return 0;
	if (errno != EAGAIN && errno != EACCES)
		return MMS_ESYS;
	s->stats->lock_contended++;
	if (s->timeout_ns >= 0)
		return poll_lock(fd, type, setlk, s->timeout_ns);
	while (try_lock(fd, type, setlkw) < 0)
		if (errno != EINTR)
			return MMS_ESYS;
	return 0;
}

int mms_record_unlock(int fd, int ofd)
{
	return try_lock(fd, F_UNLCK, ofd ? F_OFD_SETLK : F_SETLK) ? MMS_ESYS : 0;
}
