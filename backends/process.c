/* process.c -- fork depth, thread tokens and the pid namespace, reset in every forked child. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mmshare.h"
#include "process.h"

__thread uint64_t mms_thread_token_cache;

static uint64_t fork_depth;             /* forks between the first process and this one */
static uint64_t thread_serial;          /* the last serial handed to a thread of this process */
uint64_t mms_pid_ns_cache;              /* mms_pid_namespace(), 0 when not yet read */
static pthread_once_t atfork_once = PTHREAD_ONCE_INIT;

uint64_t mms_thread_token_new(void)
{
	uint64_t serial = __atomic_add_fetch(&thread_serial, 1, __ATOMIC_RELAXED);

	serial &= (1ULL << MMS_TOKEN_SERIAL_BITS) - 1;
	mms_thread_token_cache = fork_depth << MMS_TOKEN_SERIAL_BITS | (serial ? serial : 1);
	return mms_thread_token_cache;
}

uint64_t mms_pid_namespace_read(void)
{
	struct stat st;

	if (stat("/proc/self/ns/pid", &st) < 0 || (uint64_t)st.st_ino == MMS_PID_NS_UNKNOWN) {
		__atomic_store_n(&mms_pid_ns_cache, MMS_PID_NS_UNKNOWN, __ATOMIC_RELAXED);
		return 0;
	}
	__atomic_store_n(&mms_pid_ns_cache, (uint64_t)st.st_ino, __ATOMIC_RELAXED);
	return (uint64_t)st.st_ino;
}

/*
 * /proc/TID/stat is "pid (comm) state ..." with utime and stime the 14th and 15th fields; comm
 * may hold spaces and parentheses, so the fields are counted from the last ')'.
 */
int mms_thread_sched(pid_t tid, struct mms_thread_sched *out)
{
	char path[40], buf[512], *p;
	unsigned long long utime, stime, start;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)tid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	p = strrchr(buf, ')');
	if (!p || sscanf(p + 1, " %c %*s %*s %*s %*s %*s %u %*s %*s %*s %*s %llu %llu"
			 " %*s %*s %*s %*s %*s %*s %llu", &out->state, &out->flags, &utime, &stime,
			 &start) != 5)
		return -1;
	out->cpu_ticks = (uint64_t)utime + (uint64_t)stime;
	out->start_ticks = (uint64_t)start;
	return 0;
}

static uint64_t identity_cache;         /* mms_process_identity(), 0 when not yet read */
static uint64_t proc_view_cache;        /* mms_proc_view(), 0 when not yet read */

uint64_t mms_proc_view(void)
{
	uint64_t v = __atomic_load_n(&proc_view_cache, __ATOMIC_RELAXED);
	struct stat st;

	if (v)
		return v;
	if (stat("/proc/self", &st) < 0)
		return 0;
	v = (uint64_t)st.st_dev + 1;    /* never 0 */
	__atomic_store_n(&proc_view_cache, v, __ATOMIC_RELAXED);
	return v;
}

static uint64_t identity_of(pid_t pid, uint64_t start_ticks)
{
	return (uint64_t)(uint32_t)pid << 32 | (start_ticks & MMS_IDENTITY_START_MASK);
}

/*
 * Our pid as /proc numbers it, which is what mms_process_dead looks up: in a pid namespace of
 * our own under the parent's /proc, getpid() would name someone else there.
 */
static pid_t proc_pid(void)
{
	char buf[24];
	ssize_t n = readlink("/proc/self", buf, sizeof(buf) - 1);

	if (n <= 0)
		return 0;
	buf[n] = '\0';
	return (pid_t)atoi(buf);
}

uint64_t mms_process_identity(void)
{
	uint64_t id = __atomic_load_n(&identity_cache, __ATOMIC_RELAXED);
	struct mms_thread_sched ts;
	pid_t pid;

	if (id)
		return id;
	pid = proc_pid();
	if (pid <= 0 || mms_thread_sched(pid, &ts))
		return 0;
	id = identity_of(pid, ts.start_ticks);
	__atomic_store_n(&identity_cache, id, __ATOMIC_RELAXED);
	return id;
}

int mms_process_dead(uint64_t identity)
{
	pid_t pid = (pid_t)(identity >> 32);
	struct mms_thread_sched ts;

	if (pid <= 0)
		return 1;               /* no process has it: a record no live holder wrote */
	errno = 0;
	if (mms_thread_sched(pid, &ts))
		return errno == ENOENT || errno == ESRCH;
	return ts.state == 'Z' || ts.state == 'X' ||
	       identity_of(pid, ts.start_ticks) != (identity & ~(3ULL << 30));
}

/*
 * The child has one thread, the one that forked: everything cached about the process is
 * forgotten before any code in the child can use it.
 */
static void child_after_fork(void)
{
	fork_depth++;
	thread_serial = 0;
	mms_thread_token_cache = 0;
	mms_pid_ns_cache = 0;
	identity_cache = 0;
	proc_view_cache = 0;
}

static int atfork_err;

static void atfork_register(void)
{
	atfork_err = pthread_atfork(NULL, NULL, child_after_fork);
}

/* 0, or MMS_ESYS with errno set when the fork handler cannot be registered. */
int mms_process_init(void)
{
	pthread_once(&atfork_once, atfork_register);
	if (!atfork_err)
		return 0;
	errno = atfork_err;
	return MMS_ESYS;
}
