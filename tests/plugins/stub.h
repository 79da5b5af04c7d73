/* stub.h -- a backend table whose methods all fail, for plug-ins that must be refused at load. */
#ifndef MMS_TEST_PLUGIN_STUB_H
#define MMS_TEST_PLUGIN_STUB_H

#include "mmshare-backend.h"

static int stub_open(struct mms_store *s)
{
	(void)s;
	return MMS_ESYS;
}

static void stub_close(struct mms_store *s)
{
	(void)s;
}

static int stub_lock(struct mms_store *s, enum mms_lock_mode mode)
{
	(void)s, (void)mode;
	return MMS_ESYS;
}

static int stub_get(struct mms_store *s, void *buf, size_t cap, size_t *len, int held)
{
	(void)s, (void)buf, (void)cap, (void)len, (void)held;
	return MMS_ESYS;
}

static int stub_set(struct mms_store *s, const void *data, size_t len, int held)
{
	(void)s, (void)data, (void)len, (void)held;
	return MMS_ESYS;
}

/* A complete table but for what the including file changes after STUB_TABLE. */
#define STUB_TABLE(backend_name)                                                  \
	.abi = MMS_BACKEND_ABI, .state_size = sizeof(struct mms_store),           \
	.name = backend_name, .summary = "refused at load (tests/plugins)",       \
	.open = stub_open, .close = stub_close, .lock = stub_lock,                \
	.unlock = stub_lock, .get = stub_get, .set = stub_set

#endif
