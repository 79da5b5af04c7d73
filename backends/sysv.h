/* sysv.h -- the SysV semaphore sets the sysv backend leaves behind when their creator dies. */
#ifndef MMS_SYSV_H
#define MMS_SYSV_H

#include <stddef.h>
#include <sys/types.h>
#include <time.h>

/* One set tagged as the sysv backend's, whose creator is dead. */
struct mms_sysv_set {
	int id;                     /* the semaphore set's id, as `ipcs -s` shows it */
	pid_t creator;              /* the process that made it (dead) */
	time_t made;                /* when it was made (its sem_ctime) */
};

/*
 * The stale sets of this IPC namespace: owned by our effective uid, tagged as ours, made by a
 * process of our pid namespace that no longer exists. Up to cap go to out; *n is how many there
 * are (possibly more than cap). 0, or MMS_ESYS.
 */
int mms_sysv_stale(struct mms_sysv_set *out, size_t cap, size_t *n);

/*
 * Remove set id if it is (still) a stale set: checked again just before IPC_RMID, so a set
 * whose id was listed a moment ago is never removed unless it is still that dead creator's.
 * 0; MMS_EINVAL when id is not a stale set of ours; MMS_ESYS.
 */
int mms_sysv_remove_stale(int id);

#endif
