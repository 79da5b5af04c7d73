/* test_attach.c -- what mms_attach refuses, and what a refusal does to the caller's other handles. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <xxhash.h>

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

/*
 * The backend name in an exported area's header is a peer's to write, and its checksum is no
 * secret: a name that is a path to a shared object must never be loaded by mms_attach (it would
 * run the object's code in the attaching process).
 */
Test(attach, header_naming_a_path_loads_nothing, .timeout = ATTACH_TIMEOUT_S)
{
	const char *build = getenv("MMS_BUILD");
	char target[512], link[16];
	struct mms_header *h;
	struct mms *m, *m2 = NULL;
	unsigned caps;

	char *cwd = getcwd(NULL, 0);

	snprintf(target, sizeof(target), "%s/%s/tests/plugins/dupe.so", cwd, build ? build : "build");
	free(cwd);
	snprintf(link, sizeof(link), "/tmp/m%d.so", (int)getpid() % 100000);
	unlink(link);
	cr_assert_eq(symlink(target, link), 0);
	cr_assert_eq(mms_new(&m, "memfd", 16), 0);
	h = area_of(m)->hdr;
	memset(h->backend, 0, sizeof(h->backend));
	memcpy(h->backend, link, strlen(link));
	h->check = XXH3_64bits(h, offsetof(struct mms_header, check));
	cr_assert_eq(mms_attach(&m2, mms_fd(m)), MMS_EINVAL);
	cr_assert_null(m2);
	cr_assert_eq(mms_backend_caps("dupe", &caps), MMS_ENOBACKEND, "the plug-in was loaded");
	cr_assert_eq(mms_backend_caps(link, &caps), 0, "the link does name a loadable plug-in");
	unlink(link);
	mms_free(m);
}
