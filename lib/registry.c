/* registry.c -- finding backends by name or path; the public view: names, summaries, capabilities. */
#include <pthread.h>
#include <string.h>

#include "mmshare.h"
#include "backend.h"
#include "registry.h"

#define MAX_BACKENDS 32

static const char *safe_names[MAX_BACKENDS + 1];
static const char *all_names[MAX_BACKENDS + 1];
static pthread_once_t names_once = PTHREAD_ONCE_INIT;

static void names_fill(void)
{
	const struct mms_backend *const *b;
	size_t nsafe = 0, nall = 0;

	for (b = mms_backend_table; *b && nall < MAX_BACKENDS; b++) {
		all_names[nall++] = (*b)->name;
		if (!((*b)->caps & MMS_CAP_UNSAFE))
			safe_names[nsafe++] = (*b)->name;
	}
}

const char *const *mms_backends(void)
{
	pthread_once(&names_once, names_fill);
	return safe_names;
}

const char *const *mms_backends_all(void)
{
	pthread_once(&names_once, names_fill);
	return all_names;
}

const struct mms_backend *mms_backend_known(const char *name)
{
	const struct mms_backend *be = mms_builtin_find(name);

	return be ? be : mms_plugin_find(name);
}

const struct mms_backend *mms_backend_find(const char *name)
{
	if (strchr(name, '/'))
		return mms_backend_load(name, &name, NULL, 0) ? NULL : mms_plugin_find(name);
	return mms_backend_known(name);
}

const char *mms_backend_summary(const char *backend)
{
	const struct mms_backend *be = backend ? mms_backend_find(backend) : NULL;

	return be ? be->summary : NULL;
}

int mms_backend_caps(const char *backend, unsigned *caps)
{
	const struct mms_backend *be;

	if (!backend || !caps)
		return MMS_EINVAL;
	be = mms_backend_find(backend);
	if (!be)
		return MMS_ENOBACKEND;
	*caps = be->caps;
	return 0;
}
