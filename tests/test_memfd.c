/* test_memfd.c -- handing an area to a process that did not inherit it, and refusing impostors. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/socket.h>

#include "common.h"

#define PEER_INCREMENTS 2000

struct peer_value {
	char hello[8];
	uint64_t count;
};

static void send_fd(int sock, int fd)
{
	char ctl[CMSG_SPACE(sizeof(int))] = { 0 };
	struct iovec iov = { .iov_base = "f", .iov_len = 1 };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1,
			      .msg_control = ctl, .msg_controllen = sizeof(ctl) };
	struct cmsghdr *c = CMSG_FIRSTHDR(&msg);

	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &fd, sizeof(fd));
	cr_assert_eq(sendmsg(sock, &msg, 0), 1);
}

static pid_t spawn_peer(int sock)
{
	const char *build = getenv("MMS_BUILD");
	char path[512], fdarg[16], narg[16];
	pid_t pid = fork();

	if (pid == 0) {
		snprintf(path, sizeof(path), "%s/tests/memfd_peer", build ? build : "build");
		snprintf(fdarg, sizeof(fdarg), "%d", sock);
		snprintf(narg, sizeof(narg), "%d", PEER_INCREMENTS);
		execl(path, path, fdarg, narg, (char *)NULL);
		_exit(127);
	}
	return pid;
}

BACKEND_PARAMS(memfd, non_descendant_attaches)
ParameterizedTest(int *i, memfd, non_descendant_attaches, .timeout = 60)
{
	struct peer_value v = { "parent", 0 };
	unsigned caps;
	struct mms *m;
	int sv[2], k;
	size_t len;
	pid_t pid;

	mms_backend_caps(backend_at(i), &caps);
	if (!(caps & MMS_CAP_EXPORT_FD))
		cr_skip_test("%s keeps its area in anonymous memory: nothing to export", backend_at(i));
	cr_assert_eq(mms_new(&m, backend_at(i), sizeof(v)), 0);
	cr_assert_eq(mms_set(m, &v, sizeof(v)), 0);
	cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	pid = spawn_peer(sv[1]);
	send_fd(sv[0], mms_fd(m));
	for (k = 0; k < PEER_INCREMENTS; k++) {
		cr_assert_eq(mms_lock(m), 0);
		cr_assert_eq(mms_get(m, &v, sizeof(v), &len), 0);
		v.count++;
		cr_assert_eq(mms_set(m, &v, sizeof(v)), 0);
		cr_assert_eq(mms_unlock(m), 0);
	}
	cr_assert_eq(child_status(pid), 0, "peer failed (127: not built; 12: attach; 13: greeting)");
	cr_assert_eq(mms_get(m, &v, sizeof(v), &len), 0);
	cr_assert_eq(v.count, 2 * PEER_INCREMENTS, "the peer's and the parent's increments all count");
	mms_free(m);
}

/* A sealed memfd holding a copy of a real area's bytes, optionally altered at one offset. */
static int impostor(struct mms *real, int seal, size_t flip_at)
{
	int fd = memfd_create("impostor", MFD_ALLOW_SEALING);
	off_t len = lseek(mms_fd(real), 0, SEEK_END);
	unsigned char *src = mmap(NULL, (size_t)len, PROT_READ, MAP_SHARED, mms_fd(real), 0);
	unsigned char *copy = malloc((size_t)len);

	cr_assert(fd >= 0 && src != MAP_FAILED && copy);
	memcpy(copy, src, (size_t)len);
	if (flip_at < (size_t)len)
		copy[flip_at] ^= 0x5a;
	cr_assert_eq(write(fd, copy, (size_t)len), len);
	if (seal)
		fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL);
	munmap(src, (size_t)len);
	free(copy);
	return fd;
}

Test(memfd, attach_refuses_what_is_not_an_area)
{
	struct mms *real, *m = NULL;
	int pipefd[2], fd, devnull = open("/dev/null", O_RDWR);
	size_t off;

	cr_assert_eq(mms_new(&real, "memfd", 64), 0);
	cr_assert_eq(mms_attach(&m, -1), MMS_EINVAL);
	cr_assert_eq(pipe(pipefd), 0);
	cr_assert_eq(mms_attach(&m, pipefd[0]), MMS_EINVAL, "a pipe");
	cr_assert_eq(mms_attach(&m, devnull), MMS_EINVAL, "/dev/null");
	fd = impostor(real, 0, (size_t)-1);
	cr_assert_eq(mms_attach(&m, fd), MMS_EINVAL, "an unsealed copy could be shrunk under us");
	close(fd);
	fd = impostor(real, 1, (size_t)-1);
	cr_assert_eq(mms_attach(&m, fd), 0, "a sealed exact copy is an area");
	mms_free(m);
	m = NULL;
	close(fd);
	for (off = 0; off < 56; off++) {
		fd = impostor(real, 1, off);
		cr_assert_eq(mms_attach(&m, fd), MMS_EINVAL, "header byte %zu altered", off);
		close(fd);
	}
	cr_assert_null(m);
	mms_free(real);
}
