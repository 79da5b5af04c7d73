/* backend.h -- the built-in backends' table, and the helpers only built-in backends share. */
#ifndef MMS_BACKEND_H
#define MMS_BACKEND_H

#include <stddef.h>

#include "mmshare-backend.h"
#include "area.h"

/* The built-in backends, NULL-terminated, in the order `mmshare list` shows them. */
extern const struct mms_backend *const mms_backend_table[];
const struct mms_backend *mms_builtin_find(const char *name);

/* The kind word glibc writes for the robust mutex, to spot a scribbled one (robust_mutex.c). */
int mms_rmutex_kind_expected(void);

/*
 * Kernel record locks on byte 0 of fd (kernel_lock.c): classic POSIX locks (owned by the process)
 * or OFD locks (owned by the open file description), waiting as s->timeout_ns allows.
 */
int mms_record_lock(struct mms_store *s, int fd, enum mms_lock_mode mode, int ofd);
int mms_record_unlock(int fd, int ofd);

/*
 * A lock the kernel keeps, as two calls: try_once never blocks (-1 with EAGAIN, EACCES or
 * EWOULDBLOCK when another holds it), wait blocks (-1 with EINTR: call again). The caller tries
 * once itself (the uncontended path stays a direct call); when that failed, mms_klock_busy
 * judges its errno and, if the lock is held, waits as s->timeout_ns allows and counts it.
 */
struct mms_klock {
	int (*try_once)(int fd, int arg);
	int (*wait)(int fd, int arg);
};
int mms_klock_busy(struct mms_store *s, const struct mms_klock *k, int fd, int arg);

#endif
