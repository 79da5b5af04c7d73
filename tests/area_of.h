/* area_of.h -- for tests that reach into a built-in backend's state: the handle's area. */
#ifndef MMS_TEST_AREA_OF_H
#define MMS_TEST_AREA_OF_H

#include "area.h"
#include "handle.h"

/* The area of a handle whose backend keeps its state in our layout (every built-in one). */
static inline struct mms_area *area_of(const struct mms *m)
{
	return mms_area_of(mms_store_of(m));
}

#endif
