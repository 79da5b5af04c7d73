/* registry.h -- finding a backend: the built-in table, then the plug-ins this process loaded. */
#ifndef MMS_REGISTRY_H
#define MMS_REGISTRY_H

#include "mmshare-backend.h"

/* A backend by name, or by plug-in path (any string with a '/'), loading it; NULL if none. */
const struct mms_backend *mms_backend_find(const char *name);

/* A plug-in this process loaded, by name; NULL if none. */
const struct mms_backend *mms_plugin_find(const char *name);

#endif
