/* mms.c -- the public API over the backends: argument checks, dispatch, lock bookkeeping. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>

#include "mmshare.h"
#include "handle.h"

/*
 * Whether this process holds the lock through m. A forked child inherits holder from its parent
 * but has another pid, so it does not own the lock. getpid() is a system call, so it is only
 * asked when the handle says it is locked at all.
 */
static int lock_held(const struct mms *m)
{
	return m->holder != 0 && m->holder == getpid();
}

static struct mms *handle_alloc(void)
{
	struct mms *m = calloc(1, sizeof(*m));

	if (m) {
		m->area.stats = &m->stats;
		m->area.lock_fd = -1;
		m->area.timeout_ns = -1;
	}
	return m;
}

int mms_new(struct mms **out, const char *backend, size_t size)
{
	const struct mms_backend *be;
	struct mms *m;
	int err;

	if (!out || !backend || size == 0 || size > MMS_MAX_SIZE)
		return MMS_EINVAL;
	be = mms_backend_find(backend);
	if (!be)
		return MMS_ENOBACKEND;
	m = handle_alloc();
	if (!m)
		return MMS_ESYS;
	err = mms_area_create(&m->area, be, size);
	if (err) {
		free(m);
		return err;
	}
	*out = m;
	return 0;
}

int mms_attach(struct mms **out, int fd)
{
	struct mms *m;
	int err;

	if (!out || fd < 0)
		return MMS_EINVAL;
	m = handle_alloc();
	if (!m)
		return MMS_ESYS;
	err = mms_area_attach(&m->area, fd);
	if (err) {
		free(m);
		return err;
	}
	*out = m;
	return 0;
}

void mms_free(struct mms *m)
{
	if (!m)
		return;
	if (lock_held(m))
		mms_unlock(m);
	mms_area_destroy(&m->area);
	free(m);
}

int mms_set(struct mms *m, const void *data, size_t len)
{
	if (!m || !data)
		return MMS_EINVAL;
	if (len > m->area.size)
		return MMS_ETOOBIG;
	return m->area.be->set(&m->area, data, len, lock_held(m));
}

int mms_get(struct mms *m, void *buf, size_t cap, size_t *len)
{
	if (!m || !len || (!buf && cap))
		return MMS_EINVAL;
	return m->area.be->get(&m->area, buf, cap, len, lock_held(m));
}

int mms_lock(struct mms *m)
{
	int err;

	if (!m)
		return MMS_EINVAL;
	if (lock_held(m))
		return MMS_ELOCKED;
	err = m->area.be->lock(&m->area, MMS_LOCK_EXCL);
	if (err)
		return err;
	m->holder = getpid();
	return 0;
}

int mms_unlock(struct mms *m)
{
	if (!m)
		return MMS_EINVAL;
	if (!lock_held(m))
		return MMS_ELOCKED;
	m->holder = 0;
	return m->area.be->unlock(&m->area, MMS_LOCK_EXCL);
}

int mms_set_timeout(struct mms *m, long timeout_ms)
{
	if (!m)
		return MMS_EINVAL;
	m->area.timeout_ns = timeout_ms < 0 ? -1 : (int64_t)timeout_ms * 1000000;
	return 0;
}

size_t mms_size(const struct mms *m)
{
	return m ? m->area.size : 0;
}

const char *mms_backend(const struct mms *m)
{
	return m ? m->area.be->name : NULL;
}

int mms_fd(const struct mms *m)
{
	if (!m || !(m->area.be->caps & MMS_CAP_EXPORT_FD))
		return MMS_EINVAL;
	return m->area.fd;
}

int mms_stats(const struct mms *m, struct mms_stats *out)
{
	if (!m || !out)
		return MMS_EINVAL;
	out->lock_contended = m->stats.lock_contended;
	out->read_retries = m->stats.read_retries;
	out->owner_repairs = m->stats.owner_repairs;
	return 0;
}

void mms_stats_reset(struct mms *m)
{
	if (m)
		m->stats = (struct mms_counters){ 0 };
}
