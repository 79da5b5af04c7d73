/* table.c -- the built-in backends. A new backend is one file and one line here. */
#include <string.h>

#include "mmshare.h"
#include "backend.h"

/* One line per backend file: X(name) names the table mms_backend_<name> that file exports. */
#define MMS_BACKENDS(X) \
	X(mutex)        \
	X(fcntl)        \
	X(seqlock)      \
	X(memfd)        \
	X(ofd)          \
	X(flock)        \
	X(pi)           \
	X(spin)         \
	X(sysv)         \
	X(rwlock)       \
	X(posixsem)     \
	X(redis)        \
	X(none)         \
	X(stale)

#define DECLARE(name) extern const struct mms_backend mms_backend_##name;
#define ENTRY(name)   &mms_backend_##name,

MMS_BACKENDS(DECLARE)

const struct mms_backend *const mms_backend_table[] = { MMS_BACKENDS(ENTRY) NULL };

const struct mms_backend *mms_builtin_find(const char *name)
{
	const struct mms_backend *const *b;

	for (b = mms_backend_table; *b; b++)
		if (strcmp((*b)->name, name) == 0)
			return *b;
	return NULL;
}
