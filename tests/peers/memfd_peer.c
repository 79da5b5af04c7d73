/* memfd_peer.c -- a process that shares no memory with the test: it gets the area over a socket. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <stdint.h>

#include "mmshare.h"

/* Receive one descriptor sent with SCM_RIGHTS over sock, or -1. */
static int receive_fd(int sock)
{
	char byte, ctl[CMSG_SPACE(sizeof(int))];
	struct iovec iov = { .iov_base = &byte, .iov_len = 1 };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1,
			      .msg_control = ctl, .msg_controllen = sizeof(ctl) };
	struct cmsghdr *c;
	int fd;

	if (recvmsg(sock, &msg, 0) != 1)
		return -1;
	c = CMSG_FIRSTHDR(&msg);
	if (!c || c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
		return -1;
	memcpy(&fd, CMSG_DATA(c), sizeof(fd));
	return fd;
}

/* usage: memfd_peer SOCKET_FD INCREMENTS -- check the greeting, then add INCREMENTS to the counter. */
int main(int argc, char **argv)
{
	struct { char hello[8]; uint64_t count; } v;
	struct mms *m;
	size_t len;
	int fd, k, n, err;

	if (argc != 3)
		return 10;
	fd = receive_fd(atoi(argv[1]));
	n = atoi(argv[2]);
	if (fd < 0)
		return 11;
	err = mms_attach(&m, fd);
	if (err) {
		fprintf(stderr, "memfd_peer: attach: %s\n", mms_strerror(err));
		return 12;
	}
	if (mms_get(m, &v, sizeof(v), &len) || len != sizeof(v) || memcmp(v.hello, "parent", 7))
		return 13;
	for (k = 0; k < n; k++) {
		if (mms_lock(m) || mms_get(m, &v, sizeof(v), &len))
			return 14;
		v.count++;
		if (mms_set(m, &v, sizeof(v)) || mms_unlock(m))
			return 15;
	}
	mms_free(m);
	return 0;
}
