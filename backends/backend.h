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

#endif
