/* mmshare.h -- share one value among forked processes: set, get, lock, unlock. */
#ifndef MMSHARE_H
#define MMSHARE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct mms;                     /* opaque handle: used by one thread at a time (see mms_lock) */
struct tpl_node;
typedef struct tpl_node tpl_node;

/* Every call that acts returns 0 or one of these negative codes. */
#define MMS_EINVAL     (-1)     /* bad argument */
#define MMS_ENOBACKEND (-2)     /* no backend of that name */
#define MMS_ETOOBIG    (-3)     /* value longer than the area's size; the stored value stays */
#define MMS_ESHORT     (-4)     /* caller's buffer too short; *len tells the length needed */
#define MMS_EEMPTY     (-5)     /* nothing has been set yet */
#define MMS_ECORRUPT   (-6)     /* the area or the value failed its integrity check */
#define MMS_ELOCKED    (-7)     /* lock misuse: lock while held, unlock while not held */
#define MMS_ESYS       (-8)     /* a system call failed; errno is kept */
#define MMS_EFORMAT    (-9)     /* tpl: the stored value is not an image of the caller's format */
#define MMS_ETIMEDOUT  (-10)    /* the handle's timeout passed while waiting for the lock; nothing changed */
#define MMS_ETHREAD    (-11)    /* the handle is locked by another thread of this process; nothing changed */
#define MMS_EDEAD      (-12)    /* a holder died and this strategy cannot recover: the area is unusable
				 * (only backends without MMS_CAP_CRASH_SAFE); nothing changed */
#define MMS_EFENCED    (-13)    /* the lock's lease ran out and another process may hold it: the call
				 * made under the lock was refused and changed nothing (MMS_CAP_LEASE) */

/* Backend capabilities, as bits (see mms_backend_caps). */
#define MMS_CAP_SHARED_READ  (1u << 0)  /* readers run in parallel with each other */
#define MMS_CAP_READ_NOWAIT  (1u << 1)  /* readers never wait for a writer */
#define MMS_CAP_EXPORT_FD    (1u << 2)  /* mms_fd/mms_attach: a non-descendant can map the area */
#define MMS_CAP_UNSAFE       (1u << 3)  /* deliberately broken negative control: never in mms_backends() */
#define MMS_CAP_HOSTILE_SAFE (1u << 4)  /* no pointers in shared memory: a peer that writes the area can
					 * make calls fail or wait, never crash or redirect this process */
#define MMS_CAP_MAPPING      (1u << 5)  /* the state is a mapping mms_mapping exposes, for tests that
					 * scribble on it (mmshare-backend.h) */
#define MMS_CAP_CRASH_SAFE   (1u << 6)  /* a holder killed while holding is replaced: the others go on
					 * with a whole value. Without it: MMS_EDEAD, never a hang */
#define MMS_CAP_LEASE        (1u << 7)  /* the lock is a lease: a holder that dies, or stalls past the
					 * lease, loses it when the lease ends, and its later calls under
					 * the lock are refused with MMS_EFENCED (fencing) */
#define MMS_CAP_SERVER       (1u << 8)  /* the value is kept by a server the backend's configuration
					 * names (redis: MMSHARE_REDIS); mms_new says MMS_ESYS where none
					 * answers, and the tool's "all" leaves the backend out there */

#define MMS_MAX_SIZE (1ULL << 30)        /* the largest size mms_new accepts: 1 GiB */

/*
 * Create an area holding values of up to size bytes (1 B .. 1 GiB), locked by the named backend.
 * Call it before fork: children of any depth share the area. The size is fixed for life.
 */
int  mms_new(struct mms **out, const char *backend, size_t size);
void mms_free(struct mms *m);

/* Store a copy of len bytes (0 is a valid empty value). NULL data is MMS_EINVAL. */
int  mms_set(struct mms *m, const void *data, size_t len);

/* Copy the last value set into buf; *len receives its length (or the length needed, on MMS_ESHORT). */
int  mms_get(struct mms *m, void *buf, size_t cap, size_t *len);

/*
 * Exclusive use until mms_unlock; set and get on this handle run under the held lock, so
 * lock/get/set/unlock is an atomic read-modify-write. The lock belongs to the thread that took
 * it, in the process that took it: a forked child does not own it (even one that gets a dead
 * holder's pid), and calls on the handle from another thread return MMS_ETHREAD until it is
 * unlocked.
 */
int  mms_lock(struct mms *m);
int  mms_unlock(struct mms *m);

/*
 * How long lock, get and set on this handle may wait for another holder: timeout_ms < 0 (the
 * default) waits as long as a live holder holds the lock; 0 never waits; otherwise the call
 * returns MMS_ETIMEDOUT after about timeout_ms milliseconds and changes nothing.
 */
int  mms_set_timeout(struct mms *m, long timeout_ms);

size_t      mms_size(const struct mms *m);
const char *mms_backend(const struct mms *m);
const char *const *mms_backends(void);          /* NULL-terminated: the safe built-in backends */
const char *mms_strerror(int err);

/* Every backend, negative controls included, with a one-line summary and its capability bits. */
const char *const *mms_backends_all(void);
const char *mms_backend_summary(const char *backend);   /* NULL when there is no such backend */
int  mms_backend_caps(const char *backend, unsigned *caps);

/* memfd backend: the area's descriptor, to hand to another process (others: MMS_EINVAL). */
int  mms_fd(const struct mms *m);
/*
 * Map an area created by the memfd backend; the handle has its own dup of fd. The dup is made only
 * after fd passed the checks (a sealed memfd with a valid header); if the area then changes under
 * the check, the dup is closed again, and closing any descriptor of a file drops the POSIX record
 * locks (F_SETLK) this process holds on it. OFD locks and flock are not affected.
 */
int  mms_attach(struct mms **out, int fd);

/* Structured values through tpl: the caller maps and packs tn before set, maps tn before get and
 * unpacks after; the loaded image is a private copy that tpl_free releases. */
int  mms_set_tpl(struct mms *m, tpl_node *tn);
int  mms_get_tpl(struct mms *m, tpl_node *tn);

/* What this handle's own calls met since it was made (or since reset); counters are per process. */
struct mms_stats {
	uint64_t lock_contended;    /* lock acquisitions that found the lock taken */
	uint64_t read_retries;      /* seqlock reads retried because a writer overtook them */
	uint64_t owner_repairs;     /* acquisitions that repaired after a dead owner */
};
int  mms_stats(const struct mms *m, struct mms_stats *out);
void mms_stats_reset(struct mms *m);

#ifdef __cplusplus
}
#endif
#endif
