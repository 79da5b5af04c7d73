/* deadline.h -- the end of a wait bounded by a handle's timeout, in CLOCK_MONOTONIC. */
#ifndef MMS_DEADLINE_H
#define MMS_DEADLINE_H

#include <stdint.h>
#include <time.h>

struct mms_deadline {
	int64_t end_ns;             /* when the wait must give up, or INT64_MAX for never */
};

/* A deadline timeout_ns from now; timeout_ns < 0 is never. */
void mms_deadline_start(struct mms_deadline *d, int64_t timeout_ns);
int  mms_deadline_passed(const struct mms_deadline *d);
/* The earlier of now + slice_ns and the deadline, as a timespec for the *clock* wait calls. */
struct timespec mms_deadline_slice(const struct mms_deadline *d, int64_t slice_ns);
int64_t mms_now_ns(void);

#endif
