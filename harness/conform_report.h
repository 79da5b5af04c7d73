/* conform_report.h -- what `mmshare conform` found, as a table, as TAP and as JUnit XML. */
#ifndef MMS_CONFORM_REPORT_H
#define MMS_CONFORM_REPORT_H

#include <stdio.h>

#include "conform.h"

/* The runs of one backend, in case order. */
struct conform_suite {
	const char *backend;                    /* as given on the command line */
	unsigned caps;                          /* its MMS_CAP_* bits */
	const struct conform_case *const *cases;/* the selected cases, ncases of them */
	struct conform_result *results;         /* one per case, filled as they run */
	size_t ncases;
	size_t done;                            /* results filled so far */
};

/* Counts over suites: passed, failed and skipped runs, and their time. */
struct conform_tally {
	size_t pass, fail, skip;
	double seconds;
};

void conform_tally_add(struct conform_tally *t, const struct conform_suite *s);

/* The table: a header per backend, a row per case as it ends, a line per backend, the total. */
void conform_table_begin(FILE *out, const struct conform_suite *s);
void conform_table_row(FILE *out, const struct conform_suite *s, size_t k);
void conform_table_end(FILE *out, const struct conform_suite *s);
void conform_table_total(FILE *out, const struct conform_suite *suites, size_t n);

/* TAP version 13: the plan for total points first, then a point per run as it ends. */
void conform_tap_plan(FILE *out, size_t total);
void conform_tap_point(FILE *out, size_t number, const struct conform_suite *s, size_t k);

/* JUnit XML: a testsuite per backend, a testcase per case. 0, or -1 with errno on a write error. */
int conform_junit_write(FILE *out, const struct conform_suite *suites, size_t n);

#endif
