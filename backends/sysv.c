/* sysv.c -- a SysV semaphore set with SEM_UNDO as a reader/writer lock (IPC::ShareLite's choice).
 *
 * Protocol: area.c's lock-based value protocol in an anonymous area, locked by a private set
 * (IPC_PRIVATE, mode 0600): a writer waits for WRITER and READERS to be 0 and raises WRITER, a
 * reader waits for WRITER to be 0 and raises READERS, each in one semop (all or nothing). The last
 * reader's release completes a waiting writer's semop in the kernel, before new readers get in.
 * The set's id stays in the handle, which descendants inherit; it never crosses the mapping, so
 * nothing there is trusted (the lock line is unused).
 * Ordering: semop takes the set's kernel lock, a full barrier around every lock and unlock.
 * Crash story: lock operations are SEM_UNDO, so the kernel reverts a dead holder's raises; a
 * half-written slot was never published. A forked child has no undo entries: it never holds, or
 * releases, its parent's lock. Waits are one semtimedop for what the timeout leaves, retried on
 * EINTR: the kernel wakes a waiter on every release, undo and removal, so no slices are needed.
 * A set removed under a handle (the creator freed it first) is MMS_ESYS with errno EIDRM.
 * Cleanup story: the process that made the set removes it (IPC_RMID) when it frees that handle;
 * forked children's frees leave it. A creator that ends without mms_free (killed, or _exit with
 * the handle open) leaks the set, visible in `ipcs -s`: SysV sets outlive every process. So the
 * spare semaphores carry a tag (a magic value, the creator's pid and pid namespace), and
 * `mmshare list --stale [--remove]` finds our uid's sets whose creator is gone (sysv.h).
 */
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <sys/sem.h>
#include <time.h>
#include <unistd.h>

#include "mmshare.h"
#include "backend.h"
#include "deadline.h"
#include "process.h"
#include "sysv.h"

enum sysv_sem {
	SEM_WRITER,                 /* 1 while a writer holds the lock */
	SEM_READERS,                /* readers holding it */
	SEM_MAGIC,                  /* SYSV_MAGIC: the set is one of ours */
	SEM_PID_LO,                 /* the creator's pid, 15 bits per semaphore (SEMVMX is 32767) */
	SEM_PID_HI,
	SEM_NS_0,                   /* the creator's pid namespace inode, 45 bits; 0 unknown */
	SEM_NS_1,
	SEM_NS_2,
	SYSV_NSEMS
};

#define SYSV_MAGIC      0x4d53      /* "MS" */
#define TAG_BITS        15
#define TAG_MASK        ((1u << TAG_BITS) - 1)

/* glibc leaves this to the caller (semctl(2)). */
union semun {
	int val;
	struct semid_ds *buf;
	unsigned short *array;
	struct seminfo *__buf;
};

struct sysv {
	struct mms_area area;       /* first: the value lives in our area */
	int semid;                  /* the set, private to this handle and its inheritors */
	pid_t creator_pid;          /* the process that made the set ... */
	uint64_t creator_depth;     /* ... and its fork depth, so a child reusing that pid is no creator */
};

static struct sysv *sysv_of(struct mms_store *s)
{
	return (struct sysv *)s;
}

/* What a set's tag says: who made it, in which pid namespace. */
struct sysv_tag {
	pid_t pid;
	uint64_t ns;
};

static void tag_encode(unsigned short vals[SYSV_NSEMS], const struct sysv_tag *t)
{
	uint64_t ns = t->ns >> (3 * TAG_BITS) ? 0 : t->ns;     /* wider than the tag: unknown */

	vals[SEM_WRITER] = 0;
	vals[SEM_READERS] = 0;
	vals[SEM_MAGIC] = SYSV_MAGIC;
	vals[SEM_PID_LO] = (unsigned short)((uint32_t)t->pid & TAG_MASK);
	vals[SEM_PID_HI] = (unsigned short)((uint32_t)t->pid >> TAG_BITS & TAG_MASK);
	vals[SEM_NS_0] = (unsigned short)(ns & TAG_MASK);
	vals[SEM_NS_1] = (unsigned short)(ns >> TAG_BITS & TAG_MASK);
	vals[SEM_NS_2] = (unsigned short)(ns >> 2 * TAG_BITS & TAG_MASK);
}

/* 0 when vals carry our tag, else -1 (another program's set, or ours not yet tagged). */
static int tag_decode(const unsigned short vals[SYSV_NSEMS], struct sysv_tag *t)
{
	if (vals[SEM_MAGIC] != SYSV_MAGIC)
		return -1;
	t->pid = (pid_t)(vals[SEM_PID_LO] | (uint32_t)vals[SEM_PID_HI] << TAG_BITS);
	t->ns = vals[SEM_NS_0] | (uint64_t)vals[SEM_NS_1] << TAG_BITS |
		(uint64_t)vals[SEM_NS_2] << 2 * TAG_BITS;
	return 0;
}

/* A set of our own, tagged with this process; until SETALL it is all zeros, which no one lists. */
static int set_create(struct sysv *sv)
{
	struct sysv_tag tag = { .pid = getpid(), .ns = mms_pid_namespace() };
	unsigned short vals[SYSV_NSEMS];
	int saved;

	sv->semid = semget(IPC_PRIVATE, SYSV_NSEMS, IPC_CREAT | 0600);
	if (sv->semid < 0)
		return MMS_ESYS;
	tag_encode(vals, &tag);
	if (semctl(sv->semid, 0, SETALL, (union semun){ .array = vals }) < 0)
		goto remove_set;
	sv->creator_pid = tag.pid;
	sv->creator_depth = mms_token_process(mms_thread_token());
	return 0;
remove_set:
	saved = errno;
	semctl(sv->semid, 0, IPC_RMID);
	errno = saved;
	return MMS_ESYS;
}

static int sysv_open(struct mms_store *s)
{
	struct sysv *sv = sysv_of(s);
	int err = mms_area_open(&sv->area, MMS_STORE_ANON);

	if (err)
		return err;
	err = set_create(sv);
	if (err)
		goto close_area;
	return 0;
close_area:
	mms_area_close(&sv->area);
	return err;
}

static int is_creator(const struct sysv *sv)
{
	return getpid() == sv->creator_pid &&
	       mms_token_process(mms_thread_token()) == sv->creator_depth;
}

static void sysv_close(struct mms_store *s)
{
	struct sysv *sv = sysv_of(s);

	if (is_creator(sv))
		semctl(sv->semid, 0, IPC_RMID);
	mms_area_close(&sv->area);
}

/* The operations that take the lock in mode; flags is IPC_NOWAIT for a try, else 0. */
static unsigned lock_ops(struct sembuf ops[3], enum mms_lock_mode mode, short flags)
{
	ops[0] = (struct sembuf){ .sem_num = SEM_WRITER, .sem_op = 0, .sem_flg = flags };
	if (mode == MMS_LOCK_SHARED) {
		ops[1] = (struct sembuf){ .sem_num = SEM_READERS, .sem_op = 1, .sem_flg = (short)(SEM_UNDO | flags) };
		return 2;
	}
	ops[1] = (struct sembuf){ .sem_num = SEM_READERS, .sem_op = 0, .sem_flg = flags };
	ops[2] = (struct sembuf){ .sem_num = SEM_WRITER, .sem_op = 1, .sem_flg = (short)(SEM_UNDO | flags) };
	return 3;
}

/* A failed semop: a set that is gone says so (EIDRM), whichever of the two errnos the kernel chose. */
static int sem_failed(void)
{
	if (errno == EINVAL)
		errno = EIDRM;
	return MMS_ESYS;
}

/* Wait until the lock is ours, or the handle's timeout has passed (EAGAIN from semtimedop). */
static int lock_wait(struct sysv *sv, struct sembuf *ops, unsigned n)
{
	int64_t timeout = sv->area.store.timeout_ns, left;
	struct mms_deadline dl;
	struct timespec ts;

	mms_deadline_start(&dl, timeout);
	for (;;) {
		if (timeout < 0) {
			if (semop(sv->semid, ops, n) == 0)
				return 0;
		} else {
			left = dl.end_ns - mms_now_ns();
			if (left <= 0)
				return MMS_ETIMEDOUT;
			ts = (struct timespec){ .tv_sec = left / 1000000000, .tv_nsec = left % 1000000000 };
			if (semtimedop(sv->semid, ops, n, &ts) == 0)
				return 0;
		}
		if (errno != EINTR && errno != EAGAIN)
			return sem_failed();
	}
}

static int sysv_lock(struct mms_store *s, enum mms_lock_mode mode)
{
	struct sysv *sv = sysv_of(s);
	struct sembuf ops[3];
	unsigned n = lock_ops(ops, mode, IPC_NOWAIT);

	if (semop(sv->semid, ops, n) == 0)
		return 0;
	if (errno != EAGAIN)
		return sem_failed();
	s->stats->lock_contended++;
	if (s->timeout_ns == 0)
		return MMS_ETIMEDOUT;
	n = lock_ops(ops, mode, 0);
	return lock_wait(sv, ops, n);
}

/*
 * Never waits: a release that would have to wait finds the semaphore at 0 although this handle
 * holds the lock, which only a process that rewrote the set (semctl SETVAL) can cause.
 */
static int sysv_unlock(struct mms_store *s, enum mms_lock_mode mode)
{
	struct sembuf op = {
		.sem_num = mode == MMS_LOCK_SHARED ? SEM_READERS : SEM_WRITER,
		.sem_op = -1,
		.sem_flg = SEM_UNDO | IPC_NOWAIT,
	};

	if (semop(sysv_of(s)->semid, &op, 1) == 0)
		return 0;
	return errno == EAGAIN ? MMS_ECORRUPT : sem_failed();
}

/* ---- leaked sets: tagged as ours, their creator gone ---- */

/*
 * A creator of another pid namespace cannot be looked up from here (its pid names another
 * process, or none), so it is FOREIGN, never GONE. A zombie creator counts as live until reaped.
 */
static enum mms_sysv_creator creator_state(const struct sysv_tag *t)
{
	uint64_t ns = mms_pid_namespace();

	if (ns == 0 || t->ns != ns || t->pid <= 0)
		return MMS_SYSV_FOREIGN;
	return kill(t->pid, 0) < 0 && errno == ESRCH ? MMS_SYSV_GONE : MMS_SYSV_LIVE;
}

/*
 * 0 when set id (whose IPC_STAT is ds) is one of ours: our uid made and owns it, and it has our
 * shape and tag; out says who made it and whether that process still exists.
 */
static int set_read(int id, const struct semid_ds *ds, struct mms_sysv_set *out)
{
	unsigned short vals[SYSV_NSEMS];
	struct sysv_tag tag;

	if (ds->sem_perm.uid != geteuid() || ds->sem_perm.cuid != geteuid() ||
	    ds->sem_nsems != SYSV_NSEMS)
		return -1;
	if (semctl(id, 0, GETALL, (union semun){ .array = vals }) < 0 || tag_decode(vals, &tag))
		return -1;
	*out = (struct mms_sysv_set){
		.id = id, .creator = tag.pid, .made = ds->sem_ctime, .state = creator_state(&tag),
	};
	return 0;
}

int mms_sysv_sets(struct mms_sysv_set *out, size_t cap, size_t *n)
{
	struct mms_sysv_set set;
	struct seminfo info;
	struct semid_ds ds;
	int top, idx, id;

	*n = 0;
	/* SEM_INFO returns the highest index in use; SEM_STAT turns an index into an id. */
	top = semctl(0, 0, SEM_INFO, (union semun){ .__buf = &info });
	if (top < 0)
		return MMS_ESYS;
	for (idx = 0; idx <= top; idx++) {
		id = semctl(idx, 0, SEM_STAT, (union semun){ .buf = &ds });
		if (id < 0 || set_read(id, &ds, &set))
			continue;
		if (*n < cap)
			out[*n] = set;
		(*n)++;
	}
	return 0;
}

int mms_sysv_remove_stale(int id)
{
	struct mms_sysv_set set;
	struct semid_ds ds;

	if (id < 0)
		return MMS_EINVAL;
	if (semctl(id, 0, IPC_STAT, (union semun){ .buf = &ds }) < 0)
		return errno == EINVAL || errno == EIDRM || errno == EACCES ? MMS_EINVAL : MMS_ESYS;
	if (set_read(id, &ds, &set) || set.state != MMS_SYSV_GONE)
		return MMS_EINVAL;
	if (semctl(id, 0, IPC_RMID) < 0)
		return errno == EINVAL || errno == EIDRM ? MMS_EINVAL : MMS_ESYS;
	return 0;
}

const struct mms_backend mms_backend_sysv = {
	.abi     = MMS_BACKEND_ABI,
	.state_size = sizeof(struct sysv),
	.name    = "sysv",
	.summary = "SysV semaphore set with SEM_UNDO (as IPC::ShareLite); readers share; creator removes it",
	.caps    = MMS_CAP_CRASH_SAFE | MMS_CAP_SHARED_READ | MMS_CAP_HOSTILE_SAFE | MMS_CAP_MAPPING,
	.open    = sysv_open,
	.close   = sysv_close,
	.lock    = sysv_lock,
	.unlock  = sysv_unlock,
	.get     = mms_area_get_locked,
	.set     = mms_area_set_locked,
	.mapping = mms_area_mapping,
};
