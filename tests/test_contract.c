/* test_contract.c -- the API's own promises that no backend decides: arguments, codes, the list.
 * The per-backend contract is the conformance cases (harness/cases/, tests/test_conform.c). */
#include "common.h"

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
