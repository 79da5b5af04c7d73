/* cases.h -- what the contract's cases share: values that check themselves, child processes. */
#ifndef MMS_CONFORM_CASES_H
#define MMS_CONFORM_CASES_H

#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "conform.h"

/* Define a case: the table in cases/table.c lists it as conform_case_<id>. */
#define CONFORM_CASE(id, ...) const struct conform_case conform_case_##id = { __VA_ARGS__ }

/* A value that carries its id and a pattern derived from it, so any mix of two shows. */
static inline void case_value_fill(unsigned char *buf, size_t len, uint64_t id)
{
	size_t k;

	for (k = 0; k < len; k++)
		buf[k] = (unsigned char)((id * 131 + k * 7 + (k >> 8)) & 0xff);
	if (len >= 8)
		memcpy(buf, &id, 8);
}

/* The id of a whole value, or 0 when buf is not exactly case_value_fill(len, id) for any id. */
static inline uint64_t case_value_id(const unsigned char *buf, size_t len)
{
	uint64_t id = 0;
	size_t k;

	if (len < 8)
		return 0;
	memcpy(&id, buf, 8);
	for (k = 8; k < len; k++)
		if (buf[k] != (unsigned char)((id * 131 + k * 7 + (k >> 8)) & 0xff))
			return 0;
	return id;
}

/* Wait for a child: its exit status, 128 + the signal that ended it, or -1. */
static inline int case_wait(pid_t pid)
{
	int st;

	if (waitpid(pid, &st, 0) < 0)
		return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* Whether a child has ended, without reaping it. */
static inline int case_child_gone(pid_t pid)
{
	siginfo_t si = { 0 };

	return waitid(P_PID, (id_t)pid, &si, WEXITED | WNOHANG | WNOWAIT) == 0 && si.si_pid == pid;
}

/*
 * Processes order themselves and report through pipes: n ints in one write, which a pipe keeps
 * whole. case_recv is 0 when all n arrived, -1 when every writer is gone (one crashed, say).
 */
static inline int case_send(int fd, const int *v, size_t n)
{
	return write(fd, v, n * sizeof(*v)) == (ssize_t)(n * sizeof(*v)) ? 0 : -1;
}

static inline int case_recv(int fd, int *v, size_t n)
{
	return read(fd, v, n * sizeof(*v)) == (ssize_t)(n * sizeof(*v)) ? 0 : -1;
}

/*
 * A start gate, so that workers forked one by one begin together and contend: each worker calls
 * case_gate_wait(g) (a read that returns once the parent closes the write end), the parent calls
 * case_gate_open(g) when all are forked.
 */
static inline void case_gate_wait(int g[2])
{
	char c;

	close(g[1]);
	while (read(g[0], &c, 1) < 0)
		;
}

static inline void case_gate_open(int g[2])
{
	close(g[1]);
	close(g[0]);
}

/* Zeroed memory shared with every process forked after this, outside the area under test. */
static inline void *case_shared(size_t len)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	return p == MAP_FAILED ? NULL : p;
}

#endif
