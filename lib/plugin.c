/* plugin.c -- loading backends from shared objects, checked before anything of theirs runs. */
#include <dlfcn.h>
#include <limits.h>
#include <stddef.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mmshare-backend.h"
#include "backend.h"
#include "registry.h"

/*
 * What compiled plug-ins depend on. A change that trips one of these breaks every plug-in
 * built before it: bump MMS_BACKEND_ABI with it (README, "The ABI version rule").
 */
_Static_assert(MMS_BACKEND_ABI == 1, "update the sizes below for the new ABI");
_Static_assert(sizeof(struct mms_store) == 32, "struct mms_store changed: bump MMS_BACKEND_ABI");
_Static_assert(sizeof(struct mms_backend) == 104, "struct mms_backend changed: bump MMS_BACKEND_ABI");
_Static_assert(sizeof(struct mms_area) == 88, "struct mms_area changed: bump MMS_BACKEND_ABI");
_Static_assert(sizeof(struct mms_stats) == 24, "struct mms_stats changed: bump MMS_BACKEND_ABI");
_Static_assert(offsetof(struct mms_area, store) == 0, "the helpers cast a store to its area");

#define MAX_PLUGINS     16
#define MAX_STATE_SIZE  (1u << 20)      /* a backend's per-handle state; more is a mistake */
#define KNOWN_CAPS      (MMS_CAP_SHARED_READ | MMS_CAP_READ_NOWAIT | MMS_CAP_EXPORT_FD | \
			 MMS_CAP_UNSAFE | MMS_CAP_HOSTILE_SAFE | MMS_CAP_MAPPING | MMS_CAP_CRASH_SAFE | \
			 MMS_CAP_LEASE | MMS_CAP_SERVER)

/* A loaded plug-in. Plug-ins stay loaded for the life of the process: handles point into them. */
struct plugin {
	const struct mms_backend *be;   /* its table, inside the loaded object */
	char path[PATH_MAX];            /* the file, as resolved when it was loaded */
};

static struct plugin plugins[MAX_PLUGINS];
static size_t nplugins;
static pthread_mutex_t plugins_lock = PTHREAD_MUTEX_INITIALIZER;

static int refuse(char *why, size_t why_len, const char *fmt, ...)
{
	va_list ap;

	if (why && why_len) {
		va_start(ap, fmt);
		vsnprintf(why, why_len, fmt, ap);
		va_end(ap);
	}
	return MMS_ENOBACKEND;
}

/* "bare-" names are the bench's baselines (bare loops around a lock), never a backend. */
int mms_backend_name_valid(const char *name)
{
	size_t n = strnlen(name, MMS_BACKEND_NAME_MAX + 1);

	if (n == 0 || n > MMS_BACKEND_NAME_MAX || !strncmp(name, "bare-", 5))
		return 0;
	return strspn(name, "abcdefghijklmnopqrstuvwxyz0123456789_-") == n;
}

/* The first method the table lacks that the contract or its capability bits require, or NULL. */
static const char *missing_method(const struct mms_backend *be)
{
	if (!be->open)
		return "open";
	if (!be->close)
		return "close";
	if (!be->lock)
		return "lock";
	if (!be->unlock)
		return "unlock";
	if (!be->get)
		return "get";
	if (!be->set)
		return "set";
	if ((be->caps & MMS_CAP_EXPORT_FD) && !be->attach)
		return "attach (MMS_CAP_EXPORT_FD)";
	if ((be->caps & MMS_CAP_EXPORT_FD) && !be->fd)
		return "fd (MMS_CAP_EXPORT_FD)";
	if ((be->caps & MMS_CAP_MAPPING) && !be->mapping)
		return "mapping (MMS_CAP_MAPPING)";
	return NULL;
}

/* Whether be is a table this libmmshare can use; the ABI is checked before any other field. */
static int table_valid(const struct mms_backend *be, char *why, size_t why_len)
{
	const char *missing;

	if (be->abi != MMS_BACKEND_ABI)
		return refuse(why, why_len, "it was built for backend ABI %u; this libmmshare speaks "
			      "ABI %u (rebuild it against this mmshare-backend.h)", be->abi,
			      MMS_BACKEND_ABI);
	if (!be->name || !mms_backend_name_valid(be->name))
		return refuse(why, why_len, "its name is not 1..%d characters of [a-z0-9_-] "
			      "(nor bare-*, the bench's baselines)", MMS_BACKEND_NAME_MAX);
	if (!be->summary)
		return refuse(why, why_len, "backend '%s' has no summary", be->name);
	if (be->state_size < sizeof(struct mms_store) || be->state_size > MAX_STATE_SIZE)
		return refuse(why, why_len, "backend '%s': state_size %u is not between %zu "
			      "(struct mms_store) and %u", be->name, be->state_size,
			      sizeof(struct mms_store), MAX_STATE_SIZE);
	if (be->caps & ~KNOWN_CAPS)
		return refuse(why, why_len, "backend '%s': unknown capability bits 0x%x", be->name,
			      be->caps & ~KNOWN_CAPS);
	missing = missing_method(be);
	if (missing)
		return refuse(why, why_len, "backend '%s' has no %s method", be->name, missing);
	return 0;
}

static const struct plugin *plugin_named(const char *name)
{
	size_t k;

	for (k = 0; k < nplugins; k++)
		if (!strcmp(plugins[k].be->name, name))
			return &plugins[k];
	return NULL;
}

/* Register be unless its name is taken (1: it is registered already); plugins_lock held. */
static int plugin_add(const struct mms_backend *be, const char *path, char *why, size_t why_len)
{
	const struct plugin *p = plugin_named(be->name);

	if (p && p->be == be)
		return 1;               /* the same object, loaded again */
	if (mms_builtin_find(be->name))
		return refuse(why, why_len, "its name '%s' is a built-in backend's", be->name);
	if (p)
		return refuse(why, why_len, "its name '%s' is taken by the plug-in loaded from %s",
			      be->name, p->path);
	if (nplugins == MAX_PLUGINS)
		return refuse(why, why_len, "%d plug-ins are loaded already", MAX_PLUGINS);
	plugins[nplugins].be = be;
	snprintf(plugins[nplugins].path, sizeof(plugins[nplugins].path), "%s", path);
	nplugins++;
	return 0;
}

/* Whether the table lies in the object at path, not in one of its dependencies. */
static int table_in(const struct mms_backend *be, const char *path)
{
	char real[PATH_MAX];
	Dl_info info;

	return dladdr(be, &info) && info.dli_fname && realpath(info.dli_fname, real) &&
	       !strcmp(real, path);
}

/*
 * Open the object and find its table; on failure nothing stays loaded. dlsym searches the
 * object's dependencies too, so the table found must be the object's own.
 */
static int object_open(const char *path, void **dl, const struct mms_backend **be, char *why,
		       size_t why_len)
{
	const char *err;

	*dl = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	if (!*dl) {
		err = dlerror();
		return refuse(why, why_len, "cannot load: %s", err ? err : "unknown error");
	}
	dlerror();
	*be = dlsym(*dl, MMS_BACKEND_SYMBOL);
	if (!*be || !table_in(*be, path)) {
		dlclose(*dl);
		return refuse(why, why_len, "it exports no symbol %s (see mmshare-backend.h)",
			      MMS_BACKEND_SYMBOL);
	}
	return 0;
}

int mms_backend_load(const char *path, const char **name, char *why, size_t why_len)
{
	char real[PATH_MAX];
	const struct mms_backend *be = NULL;
	void *dl = NULL;
	int err;

	if (!path || !*path) {
		refuse(why, why_len, "no path given");
		return MMS_EINVAL;
	}
	if (!realpath(path, real))
		return refuse(why, why_len, "cannot load: %s: %m", path);
	/* Outside the lock: a plug-in's constructor may itself look backends up. */
	err = object_open(real, &dl, &be, why, why_len);
	if (err)
		return err;
	err = table_valid(be, why, why_len);
	if (!err) {
		pthread_mutex_lock(&plugins_lock);
		err = plugin_add(be, real, why, why_len);
		pthread_mutex_unlock(&plugins_lock);
	}
	if (err) {
		dlclose(dl);            /* a refusal, or one reference too many to the same object */
		if (err < 0)
			return err;
	}
	if (name)
		*name = be->name;
	return 0;
}

const struct mms_backend *mms_plugin_find(const char *name)
{
	const struct plugin *p;

	pthread_mutex_lock(&plugins_lock);
	p = plugin_named(name);
	pthread_mutex_unlock(&plugins_lock);
	return p ? p->be : NULL;
}
