/* bad_abi.c -- a plug-in built for another ABI: refused before any other field is read. */
#include "stub.h"

const struct mms_backend mmshare_backend = { STUB_TABLE("badabi"), .abi = MMS_BACKEND_ABI + 1 };
