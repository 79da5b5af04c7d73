/* test_attach.c -- what mms_attach does to the caller's other handles when it refuses an fd. */
#include <fcntl.h>

#include "common.h"
#include "inside.h"

#define ATTACH_TIMEOUT_S 10     /* the Criterion .timeout and hang_guard */

/* From a forked child: is a write lock on fd's file held, by the parent? F_GETLK does not wait. */
static int parent_holds_record_lock(int fd)
{
	pid_t pid = fork();

	if (pid == 0) {
		struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 0 };

		if (fcntl(fd, F_GETLK, &fl) < 0)
			_exit(3);
		if (fl.l_type == F_UNLCK)
			_exit(1);
		_exit(fl.l_type == F_WRLCK && fl.l_pid == getppid() ? 0 : 2);
	}
	return child_status(pid);
}

/*
 * The fcntl backend's lock is a POSIX record lock, which the kernel drops when its process
 * closes any descriptor of the file. Handed that backend's private fd while this process holds
 * the lock, mms_attach must refuse it (the fcntl area is not exported) and leave the lock held.
 * Before the fix it closes its dup of the fd on the way out, and the lock is gone.
 */
Test(attach, refusal_keeps_the_record_lock, .timeout = ATTACH_TIMEOUT_S)
{
	struct mms *m, *m2 = NULL;
	int held;

	hang_guard(ATTACH_TIMEOUT_S);
	cr_assert_eq(mms_new(&m, "fcntl", 16), 0);
	cr_assert_eq(parent_holds_record_lock(area_of(m)->fd), 1, "no lock is held before mms_lock");
	cr_assert_eq(mms_lock(m), 0);
	cr_assert_eq(parent_holds_record_lock(area_of(m)->fd), 0, "mms_lock holds a record lock");
	cr_assert_eq(mms_attach(&m2, area_of(m)->fd), MMS_EINVAL, "the fcntl area is not exported");
	cr_assert_null(m2);
	held = parent_holds_record_lock(area_of(m)->fd);
	cr_assert_eq(held, 0, "after the refused attach the lock is %s", held == 1 ? "gone" : "not ours");
	cr_assert_eq(mms_unlock(m), 0);
	mms_free(m);
}
