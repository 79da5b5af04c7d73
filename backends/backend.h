/* backend.h -- the built-in backends' table, and the helpers only built-in backends share. */
#ifndef MMS_BACKEND_H
#define MMS_BACKEND_H

#include <stddef.h>
#include <stdint.h>

#include "mmshare-backend.h"
#include "area.h"

/* The built-in backends, NULL-terminated, in the order `mmshare list` shows them. */
extern const struct mms_backend *const mms_backend_table[];
const struct mms_backend *mms_builtin_find(const char *name);

/* The kind word glibc writes for the robust mutex, to spot a scribbled one (robust_mutex.c). */
int mms_rmutex_kind_expected(void);

/* ---- robust_mutex.c pieces the pi backend builds its wait on ---- */

#define MMS_FUTEX_TID_MASK  0x3fffffff  /* linux/futex.h: the owner's thread id in a lock word */
#define MMS_OWNER_CHECK_NS  200000000L  /* how long a waiter sleeps between checks of the holder */

/* What a waiter saw at its last check of the holder (zero it before the first). */
struct mms_holder_seen {
	int word;                   /* the lock word as read */
	int suspect;                /* consecutive looks that found this word suspect */
	uint64_t cpu_ticks;         /* CPU time of the thread the word names, at the last look */
	int cpu_known;              /* cpu_ticks was read for this word */
};

/* The mutex in the lock line with that protocol (PTHREAD_PRIO_NONE or PTHREAD_PRIO_INHERIT). */
int mms_rmutex_init_protocol(struct mms_area *a, int protocol);
/* One look at the holder: 0 while it may be alive, ENOTRECOVERABLE when the word is no holder's. */
int mms_rmutex_holder_check(struct mms_area *a, struct mms_holder_seen *seen);
/* Whether the owner record vouches for the thread id in word as a holder in our pid namespace. */
int mms_rmutex_recorded_here(struct mms_area *a, int word);
/* The end of a lock attempt with pthread result r: record, EOWNERDEAD repair, MMS_E* code. */
int mms_rmutex_finish(struct mms_store *s, int r, uint64_t ns);

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
