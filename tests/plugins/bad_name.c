/* bad_name.c -- a name the area's header cannot hold and `mmshare list` cannot print. */
#include "stub.h"

const struct mms_backend mmshare_backend = { STUB_TABLE("Not A Name!") };
