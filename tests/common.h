/* common.h -- what the test files share: the backend parameter, values that check themselves. */
#ifndef MMS_TEST_COMMON_H
#define MMS_TEST_COMMON_H

#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <stdint.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "mmshare.h"
#include "cases/cases.h"

#define MAX_TEST_BACKENDS 32

/*
 * Tests run once per name in mms_backends(): the parameter is an index (Criterion may run the
 * test in a re-executed process, so only plain values are passed, never pointers).
 */
#define BACKEND_PARAMS(suite, test)                                                   \
	ParameterizedTestParameters(suite, test)                                      \
	{                                                                             \
		static int idx[MAX_TEST_BACKENDS];                                    \
		size_t n = 0;                                                         \
		while (mms_backends()[n] && n < MAX_TEST_BACKENDS) {                  \
			idx[n] = (int)n;                                              \
			n++;                                                          \
		}                                                                     \
		return cr_make_param_array(int, idx, n);                              \
	}

static inline const char *backend_at(const int *i)
{
	return mms_backends()[*i];
}

/* The backend's MMS_CAP_* bits. */
static inline unsigned backend_caps(const char *backend)
{
	unsigned caps = 0;

	cr_assert_eq(mms_backend_caps(backend, &caps), 0);
	return caps;
}

/* Values that carry their id (case_value_fill, case_value_id) are the conformance cases'. */

/*
 * A backstop for a test that would wait for ever on a regression. Criterion 2.4.1 now and then
 * loses a running test's .timeout while others start and end beside it (seen with --jobs 2), and
 * the run hangs; SIGALRM's default action ends the test process instead, which Criterion reports
 * as a crash. Armed a little after .timeout, so that .timeout reports first when it works.
 */
static inline void hang_guard(unsigned timeout_s)
{
	alarm(timeout_s + 2);
}

/*
 * Processes order themselves and report through pipes: n ints in one write, which a pipe keeps
 * whole. recv_ints is 0 when all n arrived, -1 when every writer is gone (one crashed, say).
 */
static inline int send_ints(int fd, const int *v, size_t n)
{
	return write(fd, v, n * sizeof(*v)) == (ssize_t)(n * sizeof(*v)) ? 0 : -1;
}

static inline int recv_ints(int fd, int *v, size_t n)
{
	return read(fd, v, n * sizeof(*v)) == (ssize_t)(n * sizeof(*v)) ? 0 : -1;
}

/*
 * Fork a child that runs fn(m, out) and exits with what it returns; out is the write end of a
 * pipe whose read end *report gets, so the parent reads the child's report and sees EOF if it
 * (and every process it forked) died without one.
 */
static inline pid_t fork_reporter(struct mms *m, int (*fn)(struct mms *m, int out), int *report)
{
	int p[2];
	pid_t pid;

	cr_assert_eq(pipe(p), 0);
	pid = fork();
	cr_assert_neq(pid, -1);
	if (pid == 0) {
		close(p[0]);
		_exit(fn(m, p[1]));
	}
	close(p[1]);
	*report = p[0];
	return pid;
}

/* A fresh area of the backend holding value. */
static inline struct mms *area_with(const char *backend, const char *value)
{
	struct mms *m;

	cr_assert_eq(mms_new(&m, backend, 16), 0);
	cr_assert_eq(mms_set(m, value, strlen(value)), 0);
	return m;
}

/* Wait for a child and return its exit status, or 128 + signal. */
static inline int child_status(pid_t pid)
{
	int st;

	if (waitpid(pid, &st, 0) < 0)
		return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

#endif
