/* builtin_name.c -- a plug-in that calls itself "mutex": a built-in's name is never taken over. */
#include "stub.h"

const struct mms_backend mmshare_backend = { STUB_TABLE("mutex") };
