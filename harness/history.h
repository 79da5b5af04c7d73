/* history.h -- linearizability check of one register's history whose writes write unique values. */
#ifndef MMS_HISTORY_H
#define MMS_HISTORY_H

#include <stddef.h>
#include <stdint.h>

enum hist_kind { HIST_READ = 1, HIST_WRITE = 2 };

/* One operation on the shared register, as a worker recorded it. */
struct hist_op {
	uint64_t inv;		/* invocation time, ns, CLOCK_MONOTONIC */
	uint64_t resp;		/* response time, ns; UINT64_MAX when the operation was cut short */
	uint64_t value;		/* unique id of the value written, or read; 0 = the initial state */
	uint32_t worker;	/* worker index (not used by the check, kept for reports) */
	uint8_t kind;		/* enum hist_kind */
	uint8_t cut;		/* 1: cut short; a write may or may not have taken effect, a read is ignored */
};

/* What a violation is; hist_violation_name() gives each a short name. */
enum hist_violation_kind {
	HIST_V_BAD_INPUT = 0,	/* the history is malformed (only with a negative hist_check) */
	HIST_V_INVENTED = 1,	/* a read returned a value that no write wrote (torn or garbage) */
	HIST_V_FUTURE = 2,	/* a read ended before the write of its value began */
	HIST_V_STALE = 3,	/* a read returned a value another whole write had overwritten */
	HIST_V_INITIAL = 4,	/* a read returned the initial state after some value was visible */
	HIST_V_ZONE = 5,	/* any other pair of values whose zones rule out every order */
};

#define HIST_NO_OP SIZE_MAX	/* an op_b with no operation behind it */
#define HIST_FIRST_MAX 8	/* violations described in struct hist_result */

/* One violation: the operations that witness it and a sentence that explains it. */
struct hist_violation {
	int kind;		/* enum hist_violation_kind */
	size_t op_a;		/* index into ops[]: the read that cannot be explained, or HIST_NO_OP */
	size_t op_b;		/* index into ops[]: the operation it conflicts with, or HIST_NO_OP */
	char why[160];		/* the witnesses with their times, relative to the first invocation */
};

/* The outcome of hist_check(). */
struct hist_result {
	size_t ops;		/* operations in the history */
	size_t reads;		/* of them reads, cut ones included */
	size_t writes;		/* of them writes, cut ones included */
	size_t cut;		/* of them cut short */
	size_t violations;	/* violations found (see hist_check for how they are counted) */
	struct hist_violation first[HIST_FIRST_MAX];	/* the first few, in the order found */
};

/*
 * Decide whether ops[0..n) is a linearizable history of one read/write register that starts
 * holding value 0 and whose writes each write a distinct nonzero value.  ops[] is not modified
 * and may be in any order; res may be NULL.  O(n log n) time, O(n) memory.
 *
 * Returns 0 when linearizable, 1 when violations were found (res->violations of them, the first
 * HIST_FIRST_MAX described), -EINVAL on malformed input (unknown kind, a value written twice, a
 * write of 0, a time of 2^63 or more, a completed op that responds before it is invoked: described
 * in res->first[0] with kind HIST_V_BAD_INPUT), -ENOMEM when memory runs out.
 *
 * Model.  An op is cut when cut != 0 or resp == UINT64_MAX.  Cut reads are dropped.  A cut write
 * responds at +infinity: it may take effect at any time after its invocation (if never read it
 * can go last, which is the same as dropping it).  Value 0 is written by a virtual write at
 * -infinity.  Op a precedes op b when a.resp < b.inv; equal times are concurrent.
 *
 * Clusters and zones.  The cluster of value v is its write and the reads that returned v.  In
 * any legal order of a register with unique values, the write of v is followed by exactly the
 * reads of v before the next write, so a linearization is a sequence of whole clusters, each led
 * by its write.  Let f(v) be the earliest response in cluster v and s(v) its latest invocation.
 * The zone of v is [f, s] (forward) when f < s, else [s, f] (backward).
 *
 * Conditions checked; together they are necessary and sufficient (Gibbons & Korach, "Testing
 * shared memories", SIAM J. Comput. 26(4), 1997, restated with strict precedence):
 *   1. every read's value has a write (else HIST_V_INVENTED);
 *   2. no read precedes its own write: r.resp < w.inv (else HIST_V_FUTURE);
 *   3. no two clusters a, b have f(a) < s(b) and f(b) < s(a).  Two backward zones never do, so
 *      (3) is exactly: no two forward zones overlap in more than an endpoint, and no backward
 *      zone lies strictly inside a forward zone.  The conflict is named HIST_V_INITIAL when one
 *      cluster is value 0; HIST_V_STALE when a whole write of one value (inv and resp) lies
 *      strictly between f and s of the other, whose read invoked at s is then the stale one;
 *      else HIST_V_ZONE.
 * Necessary: (1) and (2) are plain.  For (3), f(a) < s(b) means an op of a precedes an op of b,
 * so cluster a's block must come before b's; f(b) < s(a) demands the opposite.
 * Sufficient: put each forward cluster's write at f (its inv <= f <= resp by (2)), its reads at
 * max(f, inv) <= s; put each backward cluster at one point of [s, f] that is inside no forward
 * zone's open interior (one exists: those interiors are disjoint by (3), and by (3) [s, f] is
 * not inside any one of them, so it cannot be covered by them).  Every op then sits inside its
 * [inv, resp]; sorting by point (at a shared point: the forward cluster that ends there, the
 * backward ones, then the forward one that starts there, each led by its write) gives a legal
 * sequence that respects real-time precedence.  The value-0 cluster's forward zone starts at
 * -infinity, so it goes first.
 *
 * How: values are found in a hash table (one cluster per write), each cluster keeps its f and s
 * (and the ops at them), then one sort of the zones by start (f if forward, s if backward) and
 * one sweep that keeps the forward zone met so far with the largest s: zone z conflicts with an
 * earlier one exactly when f(z) is below that s.  Counting: one violation per invented or future
 * read (such reads are then left out of the zone check) and one per zone found in conflict with
 * an earlier one in that sweep, so 0 exactly when the history is linearizable.
 */
int hist_check(struct hist_op *ops, size_t n, struct hist_result *res);

/* A short constant name for a violation kind ("stale", ...); "unknown" for anything else. */
const char *hist_violation_name(int kind);

#endif
