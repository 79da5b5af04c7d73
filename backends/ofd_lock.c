/* ofd_lock.c -- OFD locks through an open file description that belongs to one process only.
 *
 * OFD locks belong to the open file description, and fork shares descriptions: a child that
 * used its parent's would hold the parent's lock, and would keep a dead parent's lock alive for
 * as long as the child keeps the descriptor open. So each area keeps a->lock_fd, a description
 * of its own opened through /proc/self/fd, and every forked child replaces it with a fresh one
 * before fork returns there (pthread_atfork), for every area the process has open. A description
 * is opened and closed only under areas_lock, which fork also takes: a fork can never catch one
 * that is open but not yet in the list, or listed but already closed.
 * Ordering and crashes: the kernel orders lock and unlock; it drops a process's OFD locks when
 * the last descriptor of the description closes, so a dead holder's lock goes with it.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <unistd.h>

#include "mmshare.h"
#include "backend.h"

static pthread_mutex_t areas_lock = PTHREAD_MUTEX_INITIALIZER;
static struct mms_area *areas;          /* every area with a lock_fd, in this process */
static pthread_once_t atfork_once = PTHREAD_ONCE_INIT;
static int atfork_err;

/* "/proc/self/fd/N" without stdio, which is not async-signal-safe (atfork child handlers run
 * where only such functions may be called). */
static void fd_path(char *buf, int fd)
{
	static const char prefix[] = "/proc/self/fd/";
	char digits[12];
	int n = 0, k;

	do
		digits[n++] = (char)('0' + fd % 10);
	while ((fd /= 10) > 0);
	for (k = 0; prefix[k]; k++)
		buf[k] = prefix[k];
	while (n > 0)
		buf[k++] = digits[--n];
	buf[k] = '\0';
}

static int open_own_description(int fd)
{
	char path[32];

	fd_path(path, fd);
	return open(path, O_RDWR | O_CLOEXEC);
}

static void areas_freeze(void)
{
	pthread_mutex_lock(&areas_lock);
}

static void areas_thaw(void)
{
	pthread_mutex_unlock(&areas_lock);
}

/*
 * In the child: give each area a description of its own, under the same descriptor number.
 * When that fails the inherited one is closed all the same (lock_fd -1: lock reports MMS_ESYS),
 * since keeping it would share the parent's locks.
 */
static void areas_renew_in_child(void)
{
	struct mms_area *a;
	int fresh;

	for (a = areas; a; a = a->ofd_next) {
		fresh = open_own_description(a->fd);
		if (fresh >= 0 && dup3(fresh, a->lock_fd, O_CLOEXEC) >= 0) {
			close(fresh);
			continue;
		}
		if (fresh >= 0)
			close(fresh);
		close(a->lock_fd);
		a->lock_fd = -1;
	}
	pthread_mutex_unlock(&areas_lock);
}

static void atfork_register(void)
{
	atfork_err = pthread_atfork(areas_freeze, areas_thaw, areas_renew_in_child);
}

int mms_ofd_open(struct mms_area *a)
{
	pthread_once(&atfork_once, atfork_register);
	if (atfork_err) {
		errno = atfork_err;
		return MMS_ESYS;
	}
	pthread_mutex_lock(&areas_lock);
	a->lock_fd = open_own_description(a->fd);
	if (a->lock_fd < 0) {
		pthread_mutex_unlock(&areas_lock);
		return MMS_ESYS;
	}
	a->ofd_prev = NULL;
	a->ofd_next = areas;
	if (areas)
		areas->ofd_prev = a;
	areas = a;
	pthread_mutex_unlock(&areas_lock);
	return 0;
}

int mms_ofd_open_method(struct mms_store *s)
{
	struct mms_area *a = mms_area_of(s);
	int err = mms_area_open(a, MMS_STORE_MEMFD);

	if (err)
		return err;
	err = mms_ofd_open(a);
	if (err)
		mms_area_close(a);
	return err;
}

/* Forget a; harmless on an area that never had a description of its own. */
void mms_ofd_close(struct mms_area *a)
{
	pthread_mutex_lock(&areas_lock);
	if (a->ofd_prev || areas == a) {
		if (a->ofd_prev)
			a->ofd_prev->ofd_next = a->ofd_next;
		else
			areas = a->ofd_next;
		if (a->ofd_next)
			a->ofd_next->ofd_prev = a->ofd_prev;
		a->ofd_prev = a->ofd_next = NULL;
	}
	if (a->lock_fd >= 0)
		close(a->lock_fd);
	a->lock_fd = -1;
	pthread_mutex_unlock(&areas_lock);
}

int mms_ofd_lock(struct mms_store *s, enum mms_lock_mode mode)
{
	struct mms_area *a = mms_area_of(s);

	if (a->lock_fd < 0) {
		errno = EBADF;
		return MMS_ESYS;
	}
	return mms_record_lock(s, a->lock_fd, mode, 1);
}

int mms_ofd_unlock(struct mms_store *s, enum mms_lock_mode mode)
{
	(void)mode;
	return mms_record_unlock(mms_area_of(s)->lock_fd, 1);
}
