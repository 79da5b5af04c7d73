/* backend.h -- the table every lock strategy fills in, and the table of them. */
#ifndef MMS_BACKEND_H
#define MMS_BACKEND_H

#include <stddef.h>
#include "area.h"

enum mms_lock_mode { MMS_LOCK_SHARED, MMS_LOCK_EXCL };
enum mms_storage { MMS_STORE_ANON, MMS_STORE_MEMFD };

/*
 * One lock strategy. Methods return 0 or a negative MMS_E* code and never print or exit.
 * get/set take held != 0 when the calling handle already holds the exclusive lock.
 */
struct mms_backend {
	const char *name;           /* what mms_new is asked for */
	const char *summary;        /* one line for `mmshare list` */
	unsigned caps;              /* MMS_CAP_* bits */
	enum mms_storage storage;   /* anonymous shared memory, or a sealed memfd */
	int (*init)(struct mms_area *a);            /* set up lock state in a fresh area */
	int (*attach)(struct mms_area *a);          /* MMS_CAP_EXPORT_FD: this process's side of
						     * an area another process made */
	int (*lock)(struct mms_area *a, enum mms_lock_mode mode);
	int (*unlock)(struct mms_area *a, enum mms_lock_mode mode);
	int (*get)(struct mms_area *a, void *buf, size_t cap, size_t *len, int held);
	int (*set)(struct mms_area *a, const void *data, size_t len, int held);
};

/* The built-in backends, NULL-terminated, in the order `mmshare list` shows them. */
extern const struct mms_backend *const mms_backend_table[];
const struct mms_backend *mms_backend_find(const char *name);

/*
 * The robust, process-shared mutex in the header's lock line (robust_mutex.c), shared by the
 * backends that lock in memory. The mode is ignored: it always excludes.
 */
int mms_rmutex_init(struct mms_area *a);
int mms_rmutex_lock(struct mms_area *a, enum mms_lock_mode mode);
int mms_rmutex_unlock(struct mms_area *a, enum mms_lock_mode mode);
int mms_rmutex_kind_expected(void);

/* The two-slot sequence-lock value protocol (seqcount.c): lock-free get, set under be->lock. */
void mms_seq_init(struct mms_area *a);
int  mms_seq_get(struct mms_area *a, void *buf, size_t cap, size_t *len);
void mms_seq_write(struct mms_area *a, const void *data, size_t len, uint64_t hash);
int  mms_seq_set(struct mms_area *a, const void *data, size_t len, int held);

/*
 * Kernel record locks on byte 0 of fd (record_lock.c): classic POSIX locks (owned by the process)
 * or OFD locks (owned by the open file description), waiting as the handle's timeout allows.
 */
int mms_record_lock(struct mms_area *a, int fd, enum mms_lock_mode mode, int ofd);
int mms_record_unlock(int fd, int ofd);

/*
 * OFD locks on the area's memfd through a description of this process's own (ofd_lock.c): opened
 * at create and attach, opened anew in every forked child before fork returns there, so no two
 * processes ever share one, and a dead holder's lock goes with it.
 */
int  mms_ofd_open(struct mms_area *a);
void mms_ofd_close(struct mms_area *a);
int  mms_ofd_lock(struct mms_area *a, enum mms_lock_mode mode);
int  mms_ofd_unlock(struct mms_area *a, enum mms_lock_mode mode);

#endif
