/* bare_name.c -- "bare-" names are the bench's baselines: a plug-in may not take one. */
#include "stub.h"

const struct mms_backend mmshare_backend = { STUB_TABLE("bare-mutex") };
