/* process.h -- who is calling: fork depth, a thread token that no other thread or process reuses,
 * and the pid namespace, all forgotten in a forked child before fork() returns in it. */
#ifndef MMS_PROCESS_H
#define MMS_PROCESS_H

#include <stdint.h>
#include <sys/types.h>

/* Bits of a thread token below the fork depth: each process numbers its threads from 1. */
#define MMS_TOKEN_SERIAL_BITS 40

extern __thread uint64_t mms_thread_token_cache;

uint64_t mms_thread_token_new(void);

/*
 * A token naming the calling thread in the calling process, never 0. It is (fork depth, serial):
 * a forked child is one level deeper than its parent, so no token written in one process can
 * equal a token of any process that inherits its memory, even one that gets the writer's pid
 * after it died; serials are never reused within a process, even when thread ids are.
 */
static inline uint64_t mms_thread_token(void)
{
	uint64_t t = mms_thread_token_cache;

	return t ? t : mms_thread_token_new();
}

/* The fork depth part of a token: tokens of threads of one process share it. */
static inline uint64_t mms_token_process(uint64_t token)
{
	return token >> MMS_TOKEN_SERIAL_BITS;
}

/*
 * This process's pid namespace (the inode of /proc/self/ns/pid), or 0 when it cannot be told.
 * Thread ids are only meaningful inside one namespace: kill(tid, 0) from another names another
 * process, or none.
 */
uint64_t mms_pid_namespace_read(void);
extern uint64_t mms_pid_ns_cache;

#define MMS_PID_NS_UNKNOWN UINT64_MAX   /* cached: /proc/self/ns/pid could not be read */

static inline uint64_t mms_pid_namespace(void)
{
	uint64_t ns = __atomic_load_n(&mms_pid_ns_cache, __ATOMIC_RELAXED);

	if (ns == MMS_PID_NS_UNKNOWN)
		return 0;
	return ns ? ns : mms_pid_namespace_read();
}

/* What the scheduler says of one thread of this pid namespace (/proc/TID/stat). */
struct mms_thread_sched {
	char state;                     /* 'R' running, 'S' asleep, 'T' stopped, ... */
	unsigned flags;                 /* PF_* bits: PF_KTHREAD marks a kernel thread */
	uint64_t cpu_ticks;             /* user + system time, in clock ticks */
	uint64_t start_ticks;           /* when it started, in clock ticks since boot */
};

/* 0, or -1 when the thread does not exist or /proc cannot tell. */
int mms_thread_sched(pid_t tid, struct mms_thread_sched *out);

/*
 * This process as a 64-bit identity that a later process given the same pid does not share:
 * pid (as the /proc this process sees numbers it) << 32 | the low 30 bits of its start time in
 * clock ticks (/proc/self/stat), leaving bits 30 and 31 to whoever stores it. 0 when /proc
 * cannot tell. Read once per process; a forked
 * child reads its own.
 */
#define MMS_IDENTITY_START_MASK 0x3fffffffULL
uint64_t mms_process_identity(void);

/*
 * Which /proc identities are numbered by: one value per procfs mount (its device), never 0; 0
 * when /proc cannot be read. Two processes with the same view can judge each other's
 * identities, whatever pid namespaces they are in.
 */
uint64_t mms_proc_view(void);

/*
 * Whether the process an identity names is gone: no such pid, a zombie, or another process with
 * its pid (bits 30 and 31 of identity are ignored). /proc/PID/stat speaks for the main thread: a
 * process whose main thread called pthread_exit reads as a zombie while others run, and one of
 * another user hidden by hidepid reads as gone; both are taken for dead (the backends document
 * it: forked peers of one user, main threads that live as long as their process). 0 while it
 * lives or when /proc cannot tell: a holder is never judged dead on a guess.
 */
int mms_process_dead(uint64_t identity);

/* Arrange for the fork bookkeeping above to run in every child from now on (idempotent). */
int mms_process_init(void);

#endif
