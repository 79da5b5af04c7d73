/* kernel_lock.c -- locks the kernel keeps (record locks, flock) with waits bounded by a timeout.
 *
 * Without a timeout a wait is one blocking call (F_SETLKW, F_OFD_SETLKW, flock); with one it is
 * non-blocking tries with pauses that double, since the kernel has no timed form of them.
 * Ordering: the kernel's lock is a full barrier on both sides. Crashes: the kernel drops the
 * locks of a process that dies (classic) or of a description whose last descriptor closes (OFD,
 * flock).
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

static int busy(void)
{
	return errno == EAGAIN || errno == EACCES || errno == EWOULDBLOCK;
}

/*
 * The kernel has no timed F_SETLKW or flock, and a signal to interrupt one would belong to the
 * caller, so a bounded wait polls with pauses that double, up to POLL_MAX_NS.
 */
static int poll_lock(const struct mms_klock *k, int fd, int arg, int64_t timeout_ns)
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
		if (k->try_once(fd, arg) == 0)
			return 0;
		if (!busy())
			return MMS_ESYS;
		if (ns < POLL_MAX_NS)
			ns *= 2;
	}
}

int mms_klock_busy(struct mms_store *s, const struct mms_klock *k, int fd, int arg)
{
	if (!busy())
		return MMS_ESYS;
	s->stats->lock_contended++;
	if (s->timeout_ns >= 0)
		return poll_lock(k, fd, arg, s->timeout_ns);
	while (k->wait(fd, arg) < 0)
		if (errno != EINTR)
			return MMS_ESYS;
	return 0;
}

/* Record locks: arg is the lock type, with RECORD_OFD set for an OFD lock. */
#define RECORD_OFD 0x10000

static int record_try(int fd, int arg)
{
	return try_lock(fd, (short)(arg & 0xffff), arg & RECORD_OFD ? F_OFD_SETLK : F_SETLK);
}

static int record_wait(int fd, int arg)
{
	return try_lock(fd, (short)(arg & 0xffff), arg & RECORD_OFD ? F_OFD_SETLKW : F_SETLKW);
}

static const struct mms_klock record_klock = { .try_once = record_try, .wait = record_wait };

int mms_record_lock(struct mms_store *s, int fd, enum mms_lock_mode mode, int ofd)
{
	int type = mode == MMS_LOCK_SHARED ? F_RDLCK : F_WRLCK;

	if (try_lock(fd, (short)type, ofd ? F_OFD_SETLK : F_SETLK) == 0)
		return 0;
	return mms_klock_busy(s, &record_klock, fd, type | (ofd ? RECORD_OFD : 0));
}

int mms_record_unlock(int fd, int ofd)
{
	return try_lock(fd, F_UNLCK, ofd ? F_OFD_SETLK : F_SETLK) ? MMS_ESYS : 0;
}
