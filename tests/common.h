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

/* A value that carries its id and a pattern derived from it, so any mix of two shows. */
static inline void value_fill(unsigned char *buf, size_t len, uint64_t id)
{
	size_t k;

	for (k = 0; k < len; k++)
		buf[k] = (unsigned char)((id * 131 + k * 7 + (k >> 8)) & 0xff);
	if (len >= 8)
		memcpy(buf, &id, 8);
}

/* The id of a whole value, or 0 when buf is not exactly value_fill(len, id) for any id. */
static inline uint64_t value_id(const unsigned char *buf, size_t len)
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

/* Wait for a child and return its exit status, or 128 + signal. */
static inline int child_status(pid_t pid)
{
	int st;

	if (waitpid(pid, &st, 0) < 0)
		return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

#endif
