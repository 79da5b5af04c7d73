/* no_symbol.c -- a table under the wrong symbol: the loader finds no mmshare_backend. */
#include "stub.h"

const struct mms_backend mms_backend_nosym = { STUB_TABLE("nosym") };
