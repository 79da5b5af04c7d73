/* registry.h -- finding a backend: the built-in table, then the plug-ins this process loaded. */
#ifndef MMS_REGISTRY_H
#define MMS_REGISTRY_H

#include "mmshare-backend.h"

/* A backend by name, or by plug-in path (any string with a '/'), loading it; NULL if none. */
const struct mms_backend *mms_backend_find(const char *name);

/* A backend already known by name, built in or loaded: never loads anything. NULL if none. */
const struct mms_backend *mms_backend_known(const char *name);

/* Whether name may name a backend: 1..MMS_BACKEND_NAME_MAX of [a-z0-9_-], not bare-*. */
int mms_backend_name_valid(const char *name);

/* A plug-in this process loaded, by name; NULL if none. */
const struct mms_backend *mms_plugin_find(const char *name);

#endif
