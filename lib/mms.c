/* mms.c -- the public API over the backends: argument checks, dispatch, lock bookkeeping. */
#include <errno.h>
#include <stdint.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mmshare.h"
#include "area.h"
#include "handle.h"
#include "process.h"
#include "registry.h"

/* Who holds the lock taken through a handle, as this thread sees it. */
enum holding { HELD_BY_NONE, HELD_BY_ME, HELD_BY_OTHER_THREAD };

/*
 * A forked child inherits the holder's token but has its own, one fork deeper, so it holds
 * nothing, whatever its pid; another thread of the holder's process has the same depth and
 * another serial. Out of line, so that the common case (not locked) costs one load and no
 * register saves.
 */
static __attribute__((noinline)) enum holding holding_of(uint64_t holder)
{
	uint64_t me = mms_thread_token();

	if (holder == me)
		return HELD_BY_ME;
	return mms_token_process(holder) == mms_token_process(me) ? HELD_BY_OTHER_THREAD
								  : HELD_BY_NONE;
}

static inline enum holding holding(const struct mms *m)
{
	uint64_t holder = __atomic_load_n(&m->holder, __ATOMIC_RELAXED);

	return __builtin_expect(holder == 0, 1) ? HELD_BY_NONE : holding_of(holder);
}

/* A zeroed handle with room for be's state, whose common part is filled in. */
static struct mms *handle_alloc(const struct mms_backend *be, size_t size)
{
	struct mms_store *s;
	struct mms *m;

	if (mms_process_init())
		return NULL;
	if (posix_memalign((void **)&m, _Alignof(struct mms), sizeof(*m) + be->state_size))
		return NULL;
	memset(m, 0, sizeof(*m) + be->state_size);
	s = mms_store_of(m);
	s->be = be;
	s->size = size;
	s->timeout_ns = -1;
	s->stats = &m->stats;
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
	m = handle_alloc(be, size);
	if (!m)
		return MMS_ESYS;
	err = be->open(mms_store_of(m));
	if (err) {
		free(m);
		return err;
	}
	*out = m;
	return 0;
}

/*
 * The backend is the one the area's header names, which must be built in or loaded already
 * (mms_backend_load) and must export its areas. The name comes from memory a peer may have
 * written, so it is only ever looked up, never loaded: a path there is no backend.
 */
int mms_attach(struct mms **out, int fd)
{
	char name[MMS_BACKEND_NAME_MAX + 1];
	const struct mms_backend *be;
	struct mms *m;
	int err;

	if (!out || fd < 0)
		return MMS_EINVAL;
	err = mms_area_peek_backend(fd, name);
	if (err)
		return err;
	be = mms_backend_name_valid(name) ? mms_backend_known(name) : NULL;
	if (!be || !(be->caps & MMS_CAP_EXPORT_FD))
		return MMS_EINVAL;
	m = handle_alloc(be, 0);
	if (!m)
		return MMS_ESYS;
	err = be->attach(mms_store_of(m), fd);
	if (!err && (mms_store_of(m)->size == 0 || mms_store_of(m)->size > MMS_MAX_SIZE)) {
		be->close(mms_store_of(m));
		err = MMS_ECORRUPT;
	}
	if (err) {
		free(m);
		return err;
	}
	*out = m;
	return 0;
}

void mms_free(struct mms *m)
{
	struct mms_store *s;

	if (!m)
		return;
	if (holding(m) == HELD_BY_ME)
		mms_unlock(m);
	s = mms_store_of(m);
	s->be->close(s);
	free(m);
}

int mms_set(struct mms *m, const void *data, size_t len)
{
	struct mms_store *s;
	enum holding h;

	if (!m || !data)
		return MMS_EINVAL;
	s = mms_store_of(m);
	if (len > s->size)
		return MMS_ETOOBIG;
	h = holding(m);
	if (h == HELD_BY_OTHER_THREAD)
		return MMS_ETHREAD;
	return s->be->set(s, data, len, h == HELD_BY_ME);
}

int mms_get(struct mms *m, void *buf, size_t cap, size_t *len)
{
	enum holding h;

	if (!m || !len || (!buf && cap))
		return MMS_EINVAL;
	h = holding(m);
	if (h == HELD_BY_OTHER_THREAD)
		return MMS_ETHREAD;
	return mms_store_of(m)->be->get(mms_store_of(m), buf, cap, len, h == HELD_BY_ME);
}

int mms_lock(struct mms *m)
{
	int err;

	if (!m)
		return MMS_EINVAL;
	switch (holding(m)) {
	case HELD_BY_ME:
		return MMS_ELOCKED;
	case HELD_BY_OTHER_THREAD:
		return MMS_ETHREAD;
	case HELD_BY_NONE:
		break;
	}
	err = mms_store_of(m)->be->lock(mms_store_of(m), MMS_LOCK_EXCL);
	if (err)
		return err;
	__atomic_store_n(&m->holder, mms_thread_token(), __ATOMIC_RELAXED);
	return 0;
}

/*
 * The handle stops holding even when the backend refuses (a lock word scribbled while held):
 * the lock is then no longer ours to keep, and calls that go through it report the scribble.
 */
int mms_unlock(struct mms *m)
{
	int err;

	if (!m)
		return MMS_EINVAL;
	switch (holding(m)) {
	case HELD_BY_NONE:
		return MMS_ELOCKED;
	case HELD_BY_OTHER_THREAD:
		return MMS_ETHREAD;
	case HELD_BY_ME:
		break;
	}
	err = mms_store_of(m)->be->unlock(mms_store_of(m), MMS_LOCK_EXCL);
	__atomic_store_n(&m->holder, 0, __ATOMIC_RELAXED);
	return err;
}

int mms_set_timeout(struct mms *m, long timeout_ms)
{
	if (!m)
		return MMS_EINVAL;
	if (timeout_ms < 0 || timeout_ms > INT64_MAX / 1000000)
		mms_store_of(m)->timeout_ns = -1;  /* past 292 years, "for ever" is the same promise */
	else
		mms_store_of(m)->timeout_ns = (int64_t)timeout_ms * 1000000;
	return 0;
}

size_t mms_size(const struct mms *m)
{
	return m ? mms_store_of(m)->size : 0;
}

const char *mms_backend(const struct mms *m)
{
	return m ? mms_store_of(m)->be->name : NULL;
}

int mms_fd(const struct mms *m)
{
	if (!m || !(mms_store_of(m)->be->caps & MMS_CAP_EXPORT_FD))
		return MMS_EINVAL;
	return mms_store_of(m)->be->fd(mms_store_of(m));
}

int mms_mapping(struct mms *m, void **base, size_t *len)
{
	if (!m || !base || !len || !(mms_store_of(m)->be->caps & MMS_CAP_MAPPING))
		return MMS_EINVAL;
	return mms_store_of(m)->be->mapping(mms_store_of(m), base, len);
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
		m->stats = (struct mms_stats){ 0 };
}
