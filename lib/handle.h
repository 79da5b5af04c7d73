/* handle.h -- what a struct mms is: the area, this process's counters and lock bookkeeping. */
#ifndef MMS_HANDLE_H
#define MMS_HANDLE_H

#include <sys/types.h>
#include "backend.h"

struct mms {
	struct mms_area area;           /* the mapping and what this process knows of it */
	struct mms_counters stats;      /* this handle's counters (see mms_stats) */
	pid_t holder;                   /* process that took mms_lock through this handle, 0 if none */
};

#endif
