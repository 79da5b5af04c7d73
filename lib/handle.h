/* handle.h -- what a struct mms is: the area, this process's counters and lock bookkeeping. */
#ifndef MMS_HANDLE_H
#define MMS_HANDLE_H

#include <stdint.h>

#include "backend.h"

struct mms {
	struct mms_area area;           /* the mapping and what this process knows of it */
	struct mms_counters stats;      /* this handle's counters (see mms_stats) */
	uint64_t holder;                /* thread token (process.h) of the mms_lock holder, 0 if none */
};

#endif
