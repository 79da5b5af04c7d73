/* no_lock.c -- a table without a lock method: refused, not called through NULL later. */
#include "stub.h"

const struct mms_backend mmshare_backend = { STUB_TABLE("nolock"), .lock = NULL };
