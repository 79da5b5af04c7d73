/* process.c -- fork depth, thread tokens and the pid namespace, reset in every forked child. */
#include <pthread.h>
#include <sys/stat.h>

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

	if (stat("/proc/self/ns/pid", &st) < 0)
		return 0;
	__atomic_store_n(&mms_pid_ns_cache, (uint64_t)st.st_ino, __ATOMIC_RELAXED);
	return (uint64_t)st.st_ino;
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
	atfork_err = pthread_atfork(NULL, NULL, child_after_fork) ? MMS_ESYS : 0;
}

int mms_process_init(void)
{
	pthread_once(&atfork_once, atfork_register);
	return atfork_err;
}
