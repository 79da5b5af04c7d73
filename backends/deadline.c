/* deadline.c -- bounded waits: deadlines from a handle's timeout, and slices of them. */
#include <stdint.h>
#include <time.h>

#include "deadline.h"

int64_t mms_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

void mms_deadline_start(struct mms_deadline *d, int64_t timeout_ns)
{
	int64_t now = timeout_ns < 0 ? 0 : mms_now_ns();

	d->end_ns = timeout_ns < 0 || timeout_ns > INT64_MAX - now ? INT64_MAX : now + timeout_ns;
}

int mms_deadline_passed(const struct mms_deadline *d)
{
	return d->end_ns != INT64_MAX && mms_now_ns() >= d->end_ns;
}

struct timespec mms_deadline_slice(const struct mms_deadline *d, int64_t slice_ns)
{
	int64_t end = mms_now_ns() + slice_ns;

	if (end > d->end_ns)
		end = d->end_ns;
	return (struct timespec){ .tv_sec = end / 1000000000, .tv_nsec = end % 1000000000 };
}
