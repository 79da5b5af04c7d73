/* sysv.h -- the SysV semaphore sets the sysv backend leaves behind when their creator dies. */
#ifndef MMS_SYSV_H
#define MMS_SYSV_H

#include <stddef.h>
#include <sys/types.h>
#include <time.h>

/* Whether the process that made a set still exists. */
enum mms_sysv_creator {
	MMS_SYSV_LIVE,              /* it does (or its pid has been reused: then the set looks live) */
	MMS_SYSV_GONE,              /* no process has its pid in our pid namespace: the set is stale */
	MMS_SYSV_FOREIGN,           /* made in another (or an unknown) pid namespace: cannot be told */
};

/* One set tagged as the sysv backend's. */
struct mms_sysv_set {
	int id;                     /* the semaphore set's id, as `ipcs -s` shows it */
	pid_t creator;              /* the process that made it */
	time_t made;                /* when it was made (its sem_ctime) */
	enum mms_sysv_creator state;
};

/*
 * The sysv backend's sets in this IPC namespace that our effective uid made and owns. Up to cap go
 * to out; *n is how many there are (possibly more than cap). 0, or MMS_ESYS.
 */
int mms_sysv_sets(struct mms_sysv_set *out, size_t cap, size_t *n);

/*
 * Remove set id if it is (still) stale (MMS_SYSV_GONE): checked again just before IPC_RMID, so a
 * set listed a moment ago is removed only if it is still that dead creator's. 0; MMS_EINVAL when
 * id is not a stale set of ours; MMS_ESYS.
 */
int mms_sysv_remove_stale(int id);

#endif
