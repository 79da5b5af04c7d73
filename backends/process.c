/* process.c -- fork depth, thread tokens and the pid namespace, reset in every forked child. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
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
	unsigned long long utime, stime;
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
	if (!p || sscanf(p + 1, " %c %*s %*s %*s %*s %*s %u %*s %*s %*s %*s %llu %llu",
			 &out->state, &out->flags, &utime, &stime) != 4)
		return -1;
	out->cpu_ticks = (uint64_t)utime + (uint64_t)stime;
	return 0;
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
