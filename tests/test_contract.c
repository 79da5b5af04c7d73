/* test_contract.c -- the set/get/lock contract, once per backend, in one process. */
#include <errno.h>
#include <stdlib.h>

#include "common.h"

BACKEND_PARAMS(contract, empty_set_get)
ParameterizedTest(int *i, contract, empty_set_get)
{
	struct mms *m;
	char buf[32] = { 0 };
	size_t len = 99;

	cr_assert_eq(mms_new(&m, backend_at(i), 16), 0);
	cr_assert_str_eq(mms_backend(m), backend_at(i));
	cr_assert_eq(mms_size(m), 16);
	cr_assert_eq(mms_get(m, buf, sizeof(buf), &len), MMS_EEMPTY);
	cr_assert_eq(mms_set(m, "hello", 5), 0);
	cr_assert_eq(mms_get(m, buf, sizeof(buf), &len), 0);
	cr_assert_eq(len, 5);
	cr_assert_arr_eq(buf, "hello", 5);
	cr_assert_eq(mms_set(m, "", 0), 0, "an empty value is a value");
	cr_assert_eq(mms_get(m, buf, sizeof(buf), &len), 0);
	cr_assert_eq(len, 0);
	cr_assert_eq(mms_set(m, "0123456789abcdef", 16), 0, "exactly size fits");
	cr_assert_eq(mms_get(m, buf, sizeof(buf), &len), 0);
	cr_assert_eq(len, 16);
	mms_free(m);
}

/*
 * An empty value fits a NULL buffer of capacity 0 (README: buf may be NULL when cap is 0), held
 * or not. Before the fix the backends copy 0 bytes to NULL with memcpy, which UBSan reports.
 */
BACKEND_PARAMS(contract, empty_value_into_null_buffer)
ParameterizedTest(int *i, contract, empty_value_into_null_buffer)
{
	struct mms *m;
	size_t len = 99;

	cr_assert_eq(mms_new(&m, backend_at(i), 16), 0);
	cr_assert_eq(mms_set(m, "", 0), 0);
	cr_assert_eq(mms_get(m, NULL, 0, &len), 0);
	cr_assert_eq(len, 0);
	cr_assert_eq(mms_lock(m), 0);
	len = 99;
	cr_assert_eq(mms_get(m, NULL, 0, &len), 0, "under the held lock");
	cr_assert_eq(len, 0);
	cr_assert_eq(mms_unlock(m), 0);
	mms_free(m);
}

BACKEND_PARAMS(contract, bad_input_loses_nothing)
ParameterizedTest(int *i, contract, bad_input_loses_nothing)
{
	struct mms *m;
	char buf[64], big[17] = "0123456789abcdefX";
	size_t len = 0;

	cr_assert_eq(mms_new(&m, backend_at(i), 16), 0);
	cr_assert_eq(mms_set(m, "keep", 4), 0);
	cr_assert_eq(mms_set(m, big, sizeof(big)), MMS_ETOOBIG);
	cr_assert_eq(mms_set(m, NULL, 0), MMS_EINVAL);
	cr_assert_eq(mms_set(NULL, "x", 1), MMS_EINVAL);
	cr_assert_eq(mms_get(m, buf, sizeof(buf), NULL), MMS_EINVAL);
	cr_assert_eq(mms_get(m, NULL, 8, &len), MMS_EINVAL);
	cr_assert_eq(mms_get(m, buf, 3, &len), MMS_ESHORT);
	cr_assert_eq(len, 4, "ESHORT tells the length needed");
	cr_assert_eq(mms_get(m, NULL, 0, &len), MMS_ESHORT, "a length query");
	cr_assert_eq(mms_get(m, buf, sizeof(buf), &len), 0, "ESHORT consumed nothing");
	cr_assert_eq(len, 4);
	cr_assert_arr_eq(buf, "keep", 4);
	mms_free(m);
}

Test(contract, new_rejects_bad_arguments)
{
	struct mms *m = NULL;

	cr_assert_eq(mms_new(&m, "no-such-backend", 16), MMS_ENOBACKEND);
	cr_assert_eq(mms_new(&m, NULL, 16), MMS_EINVAL);
	cr_assert_eq(mms_new(NULL, "mutex", 16), MMS_EINVAL);
	cr_assert_eq(mms_new(&m, "mutex", 0), MMS_EINVAL);
	cr_assert_eq(mms_new(&m, "mutex", (size_t)1 << 40), MMS_EINVAL);
	cr_assert_null(m, "nothing is handed out on failure");
	mms_free(NULL);
}

Test(contract, strerror_names_every_code)
{
	int codes[] = { MMS_EINVAL, MMS_ENOBACKEND, MMS_ETOOBIG, MMS_ESHORT, MMS_EEMPTY,
			MMS_ECORRUPT, MMS_ELOCKED, MMS_ESYS, MMS_EFORMAT };
	size_t k;

	for (k = 0; k < sizeof(codes) / sizeof(codes[0]); k++)
		cr_assert_str_neq(mms_strerror(codes[k]), mms_strerror(-1000));
	cr_assert_str_eq(mms_strerror(0), "success");
}

Test(contract, backends_lists_safe_ones_only)
{
	const char *const *n;
	unsigned caps;
	int seen_none = 0;

	for (n = mms_backends(); *n; n++) {
		cr_assert_eq(mms_backend_caps(*n, &caps), 0);
		cr_assert_not(caps & MMS_CAP_UNSAFE, "%s is unsafe but listed", *n);
	}
	for (n = mms_backends_all(); *n; n++)
		seen_none |= !strcmp(*n, "none");
	cr_assert(seen_none, "the negative control is in mms_backends_all()");
	cr_assert_eq(mms_backend_caps("nope", &caps), MMS_ENOBACKEND);
}

BACKEND_PARAMS(contract, lock_misuse)
ParameterizedTest(int *i, contract, lock_misuse)
{
	struct mms *m;
	uint64_t v = 41;
	size_t len;

	cr_assert_eq(mms_new(&m, backend_at(i), 8), 0);
	cr_assert_eq(mms_unlock(m), MMS_ELOCKED, "unlock while not held");
	cr_assert_eq(mms_set(m, &v, 8), 0);
	cr_assert_eq(mms_lock(m), 0);
	cr_assert_eq(mms_lock(m), MMS_ELOCKED, "lock while held");
	cr_assert_eq(mms_get(m, &v, 8, &len), 0, "get under the held lock does not deadlock");
	v++;
	cr_assert_eq(mms_set(m, &v, 8), 0, "set under the held lock does not deadlock");
	cr_assert_eq(mms_unlock(m), 0);
	cr_assert_eq(mms_unlock(m), MMS_ELOCKED);
	cr_assert_eq(mms_get(m, &v, 8, &len), 0);
	cr_assert_eq(v, 42);
	cr_assert_eq(mms_lock(m), 0, "the lock is free again");
	cr_assert_eq(mms_unlock(m), 0);
	mms_free(m);
}

BACKEND_PARAMS(contract, fd_only_where_exported)
ParameterizedTest(int *i, contract, fd_only_where_exported)
{
	struct mms *m;
	unsigned caps;

	cr_assert_eq(mms_new(&m, backend_at(i), 8), 0);
	mms_backend_caps(backend_at(i), &caps);
	if (caps & MMS_CAP_EXPORT_FD)
		cr_assert_geq(mms_fd(m), 0);
	else
		cr_assert_eq(mms_fd(m), MMS_EINVAL);
	mms_free(m);
}
