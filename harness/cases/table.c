/* table.c -- the contract's cases in the order they run: a new case is one line here. */
#include <string.h>

#include "conform.h"

/* One line per case: X(id) names the conform_case_<id> a file in cases/ defines. */
#define CONFORM_CASES(X)                \
	X(basic_set_get)                \
	X(basic_empty_into_null)        \
	X(basic_last_set_wins)          \
	X(basic_fd_only_where_exported) \
	X(basic_attach_shares_value)    \
	X(errors_oversize_keeps_old)    \
	X(errors_bad_arguments)         \
	X(errors_short_buffer)          \
	X(lock_misuse)                  \
	X(fork_child_not_owner)         \
	X(rmw_counter_exact)            \
	X(torn_no_torn_values)          \
	X(crash_killed_holder)          \
	X(crash_killed_writer_readers)  \
	X(crash_sigkill_anywhere)       \
	X(lease_stalled_holder)         \
	X(tpl_round_trip)               \
	X(tpl_empty_and_other_format)   \
	X(tpl_malformed_images)         \
	X(tpl_oversize_keeps_old)       \
	X(scribble_any_bytes)           \
	X(oracle_check_2)               \
	X(oracle_check_4)               \
	X(oracle_rmw_2)                 \
	X(oracle_rmw_4)                 \
	X(oracle_kill_2)                \
	X(oracle_kill_4)

#define DECLARE(id) extern const struct conform_case conform_case_##id;
#define ENTRY(id)   &conform_case_##id,

CONFORM_CASES(DECLARE)

const struct conform_case *const conform_cases[] = { CONFORM_CASES(ENTRY) NULL };

_Static_assert(sizeof(conform_cases) / sizeof(conform_cases[0]) <= CONFORM_MAX_CASES + 1,
	       "raise CONFORM_MAX_CASES");

const struct conform_case *conform_case_find(const char *name)
{
	const struct conform_case *const *cc;

	for (cc = conform_cases; *cc; cc++)
		if (!strcmp((*cc)->name, name))
			return *cc;
	return NULL;
}
