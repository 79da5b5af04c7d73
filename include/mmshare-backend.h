/* mmshare-backend.h -- the plug-in ABI: what a backend implements, and the helpers it may use. */
#ifndef MMSHARE_BACKEND_H
#define MMSHARE_BACKEND_H

#include <stddef.h>
#include <stdint.h>

#include "mmshare.h"

#ifdef __cplusplus
extern "C" {
#endif

/*
 * The ABI version. A plug-in stores the value it was compiled with in its table's abi field;
 * libmmshare loads it only when that equals its own. Any change to a struct or a function of
 * this header that would break a compiled plug-in bumps it (README, "The ABI version rule").
 */
#define MMS_BACKEND_ABI 1

/* The symbol a plug-in exports: its struct mms_backend, and nothing else is looked up. */
#define MMS_BACKEND_SYMBOL "mmshare_backend"

#define MMS_BACKEND_NAME_MAX 15         /* longest backend name, bytes (it is kept in the area) */

enum mms_lock_mode { MMS_LOCK_SHARED, MMS_LOCK_EXCL };

/*
 * What every backend's state begins with, as SQLite's sqlite3_file does: a backend defines its
 * own struct with this as the first member and says its size in state_size; libmmshare
 * allocates it zeroed and aligned to 64 bytes (a state that needs more alignment is not
 * supported), fills these fields and hands it to every method.
 */
struct mms_store {
	const struct mms_backend *be;   /* the methods (set before open or attach) */
	size_t size;                    /* largest value, bytes (set before open; attach sets it) */
	int64_t timeout_ns;             /* how long a lock may wait (mms_set_timeout); < 0: for ever */
	struct mms_stats *stats;        /* the handle's counters, for the backend to bump */
};

/*
 * One lock strategy, built in or loaded from a plug-in. Methods return 0 or a negative MMS_E*
 * code, never print and never exit. get and set take held != 0 when the calling handle already
 * holds the exclusive lock (mms_lock): they must then neither take nor release it. A method a
 * capability bit governs is called only when the bit is set. open and attach that fail must
 * undo their own work: close is called only on a state whose open or attach succeeded, and in
 * every process that frees its handle. libmmshare keeps the lock bookkeeping: lock(EXCL) is
 * never called while the calling handle holds the lock, unlock(EXCL) only when it does, and a
 * forked child never holds its parent's lock. A forked child inherits the state as it is; a
 * backend that needs a per-process resource renews it with pthread_atfork (as the ofd helpers
 * do). The state arrives zeroed but for struct mms_store; the lock line is 64-byte aligned.
 */
struct mms_backend {
	uint32_t abi;               /* MMS_BACKEND_ABI, as the plug-in was compiled */
	uint32_t state_size;        /* sizeof the backend's state, which starts with struct mms_store */
	const char *name;           /* what mms_new is asked for: [a-z0-9_-], 1..MMS_BACKEND_NAME_MAX */
	const char *summary;        /* one line for `mmshare list` */
	unsigned caps;              /* MMS_CAP_* bits */
	int  (*open)(struct mms_store *s);                  /* fresh state for s->size, before fork */
	int  (*attach)(struct mms_store *s, int fd);        /* MMS_CAP_EXPORT_FD: map another's area */
	void (*close)(struct mms_store *s);                 /* release what open or attach took */
	int  (*lock)(struct mms_store *s, enum mms_lock_mode mode);
	int  (*unlock)(struct mms_store *s, enum mms_lock_mode mode);
	int  (*get)(struct mms_store *s, void *buf, size_t cap, size_t *len, int held);
	int  (*set)(struct mms_store *s, const void *data, size_t len, int held);
	int  (*fd)(const struct mms_store *s);              /* MMS_CAP_EXPORT_FD: the descriptor */
	int  (*mapping)(const struct mms_store *s, void **base, size_t *len);
							    /* MMS_CAP_MAPPING: the shared bytes */
};

/*
 * Load a plug-in: a shared object exporting MMS_BACKEND_SYMBOL. Afterwards its name (in *name)
 * is a backend name like the built-in ones; mms_new, mms_backend_caps and mms_backend_summary
 * also accept the path itself (any backend string with a '/' in it) and load it on first use.
 * Loading the same file again is a no-op. MMS_ENOBACKEND when the file cannot be loaded, has no
 * such symbol, speaks another ABI, has an invalid table or a name another backend has; why (if
 * not NULL) receives a message naming what is wrong.
 */
int mms_backend_load(const char *path, const char **name, char *why, size_t why_len);

/* The raw shared bytes of a handle's backend (MMS_CAP_MAPPING), for conformance and fuzz tests. */
int mms_mapping(struct mms *m, void **base, size_t *len);

/* ---- helpers for backends whose state is our shared mapping (area.c) ---- */

struct mms_header;

enum mms_storage {
	MMS_STORE_ANON,             /* anonymous shared memory: the creator's descendants */
	MMS_STORE_MEMFD,            /* a sealed memfd, which mms_fd can hand out */
};

/*
 * The state of a backend that keeps the value in our layout (magic and version, a lock line,
 * two checksummed slots). Such a backend's state starts with this struct; the fields belong
 * to the helpers below, read none of them but the ones marked.
 */
struct mms_area {
	struct mms_store store;     /* first: the common part */
	struct mms_header *hdr;     /* start of the mapping */
	size_t map_len;             /* bytes mapped */
	size_t slot_stride;         /* bytes from one slot to the next */
	int    fd;                  /* backing memfd, or -1 (a backend may read it) */
	int    lock_fd;             /* ofd helpers: this process's own open file description */
	int    mutex_kind;          /* rmutex helpers: the mutex's kind word as initialised */
	struct mms_area *ofd_prev;  /* ofd helpers: the areas whose descriptions a fork renews */
	struct mms_area *ofd_next;
};

static inline struct mms_area *mms_area_of(struct mms_store *s)
{
	return (struct mms_area *)s;
}

/* Map a fresh area for a->store.size bytes: header written, no value yet (MMS_EEMPTY). */
int  mms_area_open(struct mms_area *a, enum mms_storage storage);
/* Map the area in fd after checking seals, size, magic, version, checksum and backend name. */
int  mms_area_attach(struct mms_area *a, int fd);
void mms_area_close(struct mms_area *a);
/* The close method of a backend whose state is an area: mms_area_close. */
void mms_area_close_method(struct mms_store *s);
/* The area's lock line: MMS_AREA_LOCK_BYTES bytes, zeroed, for a backend's own lock word. */
#define MMS_AREA_LOCK_BYTES 64
void *mms_area_lock_line(struct mms_area *a);
int  mms_area_fd(const struct mms_store *s);
int  mms_area_mapping(const struct mms_store *s, void **base, size_t *len);

/*
 * The lock-based value protocol: get copies the current slot under s->be->lock(SHARED) and
 * checks it outside; set hashes outside, writes the other slot under lock(EXCL) and publishes
 * it with one release store. A writer killed anywhere leaves the last value whole.
 */
int  mms_area_get_locked(struct mms_store *s, void *buf, size_t cap, size_t *len, int held);
int  mms_area_set_locked(struct mms_store *s, const void *data, size_t len, int held);

/* The sequence-lock value protocol: get never locks or writes; set runs under lock(EXCL). */
void mms_seq_init(struct mms_area *a);
int  mms_seq_get(struct mms_store *s, void *buf, size_t cap, size_t *len, int held);
int  mms_seq_set(struct mms_store *s, const void *data, size_t len, int held);

/* The robust process-shared mutex in the lock line (init after mms_area_open). */
int  mms_rmutex_init(struct mms_area *a);
/* The open method of a backend that is an anonymous area locked by the robust mutex. */
int  mms_rmutex_open_method(struct mms_store *s);
int  mms_rmutex_lock(struct mms_store *s, enum mms_lock_mode mode);
int  mms_rmutex_unlock(struct mms_store *s, enum mms_lock_mode mode);

/* OFD write locks on a memfd area through a description of this process's own, renewed at fork. */
int  mms_ofd_open(struct mms_area *a);
/* The open method of a backend that is a memfd area locked through such a description. */
int  mms_ofd_open_method(struct mms_store *s);
void mms_ofd_close(struct mms_area *a);
int  mms_ofd_lock(struct mms_store *s, enum mms_lock_mode mode);
int  mms_ofd_unlock(struct mms_store *s, enum mms_lock_mode mode);

/* XXH3 of a value, and the check a slot stores: the hash bound to the value's generation. */
uint64_t mms_value_hash(const void *data, size_t len);
uint64_t mms_value_check(uint64_t hash, uint64_t gen);

#ifdef __cplusplus
}
#endif
#endif
