/* twin.c -- a plug-in named "dupe" like dupe.c: the second of the two to load is refused. */
#include "stub.h"

const struct mms_backend mmshare_backend = { STUB_TABLE("dupe") };
