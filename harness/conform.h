/* conform.h -- the contract as cases: what a case is, what it found, the runner that forks it. */
#ifndef MMS_CONFORM_H
#define MMS_CONFORM_H

#include <stddef.h>

#include "mmshare.h"

#define CONFORM_EVIDENCE 480    /* bytes of evidence a result carries, NUL included */
#define CONFORM_MAX_CASES 64    /* cases in the table, at most */

enum conform_status {
	CONFORM_PASS = 0,
	CONFORM_FAIL = 1,
	CONFORM_SKIP = 2,
};

/* What a running case knows and what it found: the case's whole view of the world. */
struct conform_ctx {
	const char *backend;            /* passed to mms_new as is: a name, later perhaps a path */
	unsigned caps;                  /* the backend's MMS_CAP_* bits */
	char evidence[CONFORM_EVIDENCE];/* the first failure or skip reason, "" while none */
};

/* One case of the contract. Cases use only the public API and the ctx, never Criterion. */
struct conform_case {
	const char *name;               /* "group.case", as the table and --case show it */
	const char *summary;            /* what it checks, in one line */
	unsigned needs;                 /* MMS_CAP_* bits it needs; a backend without one skips it */
	int (*run)(struct conform_ctx *c);      /* CONFORM_PASS, CONFORM_FAIL or CONFORM_SKIP */
	unsigned timeout_s;             /* time limit of one run, seconds */
};

/* What one run of one case on one backend came to. */
struct conform_result {
	enum conform_status status;     /* pass, fail or skip */
	char evidence[CONFORM_EVIDENCE];/* FAIL: the first evidence; SKIP: why; PASS: a note or "" */
	double seconds;                 /* wall time of the run, fork to verdict */
};

/* The cases, NULL-terminated, in the order the table shows them (cases/table.c). */
extern const struct conform_case *const conform_cases[];

/* The case named name exactly, or NULL. */
const struct conform_case *conform_case_find(const char *name);

/*
 * Run one case on one backend whose capabilities are caps, in a forked child in a process group
 * of its own, under a time limit of timeout_s seconds (0: the case's own). A case that needs a
 * bit caps lacks is skipped without forking. A child that dies without a verdict fails with the
 * signal or status it died of; one that overruns fails as a hang and is SIGKILLed with its
 * process group, as is whatever the group still holds after any verdict. Never prints.
 */
void conform_run(const struct conform_case *cc, const char *backend, unsigned caps,
		 unsigned timeout_s, struct conform_result *res);

/* In a case: record the first evidence "what (file:line)"; returns CONFORM_FAIL. */
int conform_fail(struct conform_ctx *c, const char *file, int line, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* In a case: record why it cannot run here; returns CONFORM_SKIP. */
int conform_skip(struct conform_ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* In a case that passes: say what it saw that a reader should know (a declared MMS_EDEAD). */
void conform_note(struct conform_ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* "MMS_EEMPTY" for MMS_EEMPTY, "0" for 0, "code -99" for anything unknown (a static buffer). */
const char *conform_code(int err);

/* The names of the MMS_CAP_* bits in bits, separated by spaces, into out; "" when none. */
void conform_cap_names(unsigned bits, char *out, size_t cap);

/* Fail the case with the condition's evidence when cond is false. */
#define CHECK(c, cond, ...)                                                                   \
	do {                                                                                  \
		if (!(cond))                                                                  \
			return conform_fail((c), __FILE__, __LINE__, __VA_ARGS__);            \
	} while (0)

/* Fail the case unless the call returns want, naming the call and both codes. */
#define CHECK_RC(c, call, want)                                                               \
	do {                                                                                  \
		int rc_ = (call), want_ = (want);                                             \
		if (rc_ != want_)                                                             \
			return conform_fail((c), __FILE__, __LINE__, "%s said %s, want %s",   \
					    #call, conform_code(rc_), conform_code(want_));   \
	} while (0)

/* CHECK_RC for the common case: the call must succeed. */
#define CHECK_OK(c, call) CHECK_RC(c, call, 0)

#endif
