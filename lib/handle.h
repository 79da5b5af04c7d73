/* handle.h -- what a struct mms is: lock bookkeeping and counters, then the backend's state. */
#ifndef MMS_HANDLE_H
#define MMS_HANDLE_H

#include <stdint.h>

#include "mmshare-backend.h"

/*
 * One allocation: this struct, then the backend's state (be->state_size bytes, starting with
 * struct mms_store) at a fixed offset, so reaching the state costs no load.
 */
struct mms {
	uint64_t holder;                /* thread token (process.h) of the mms_lock holder, 0 if none */
	struct mms_stats stats;         /* this handle's counters (see mms_stats) */
} __attribute__((aligned(64)));

static inline struct mms_store *mms_store_of(const struct mms *m)
{
	return (struct mms_store *)(m + 1);
}

#endif
