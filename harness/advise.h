/* advise.h -- `mmshare advise`: measure the eligible backends at one point, pick one, say why. */
#ifndef MMS_ADVISE_H
#define MMS_ADVISE_H

#include <stddef.h>

#include "bench.h"

#define ADVISE_MAX        32    /* backends considered: built-ins and plug-ins */
#define ADVISE_MAX_ROUNDS 20    /* --repeat at most */
/*
 * Under oversubscription a holder can be preempted while others wait or spin: a candidate
 * whose p99 is more than this many times the best candidate's ranks after every other.
 */
#define ADVISE_TAIL_FACTOR 4.0
/*
 * A lead smaller than this is no reason to give up the tie-breaker, even when the rounds agree:
 * the next invocation on a shared machine drifts by about as much.
 */
#define ADVISE_MIN_LEAD 0.05

/* The command line. */
struct advise_opts {
	unsigned procs, write_ratio;
	size_t size;
	unsigned need;                          /* MMS_CAP_* bits every candidate must have */
	const char *plugins[ADVISE_MAX];        /* loaded plug-ins' names, in the order given */
	size_t nplugins;
	double duration;                        /* seconds for every run together */
	unsigned repeat;                        /* rounds: every candidate once per round */
	int json;
	long cpus;                              /* CPUs this process may run on */
};

/* One backend: why it was left out, or what it measured. */
struct advise_cand {
	const char *backend;
	unsigned caps;
	char excluded[96];                      /* why it was not measured, or "" */
	char failure[160];                      /* why a run failed, or "" */
	double ops[ADVISE_MAX_ROUNDS];          /* ops/s of each round */
	double get99s[ADVISE_MAX_ROUNDS];       /* get's p99 of each round, ns, or NAN */
	double set99s[ADVISE_MAX_ROUNDS];       /* set's p99 of each round, ns, or NAN */
	unsigned rounds;                        /* rounds run */
	double mean_ops, ci_rel;                /* over the rounds: mean, 95% relative half width */
	double p99_get, p99_set, p99;           /* medians over the rounds, ns (p99: the slower kind) */
	double jain;                            /* mean Jain fairness over the rounds */
	int tail_heavy;                         /* p99 beyond ADVISE_TAIL_FACTOR x the best, oversubscribed */
};

/* The paired comparison of two candidates over the rounds they shared. */
struct advise_pair {
	double ratio, lo, hi;                   /* geometric mean of a/b per round and its 95% interval */
	unsigned wins, rounds;                  /* rounds a was faster in, of rounds paired */
	double sign_p;                          /* two-sided sign test of wins */
	int within_noise;                       /* neither test sees a difference, or it is under
						 * ADVISE_MIN_LEAD */
};

/* The decision and why. */
struct advise_pick {
	int best, second;                       /* candidate indexes, or -1 */
	struct advise_pair pair;                /* best against second */
	const char *decided_by;                 /* "throughput", "crash-safe", "p99", ... */
	char why_lost[256];                     /* the runner-up's story */
};

struct advise {
	struct advise_opts o;
	struct advise_cand c[ADVISE_MAX];
	size_t n;
	double run_s, wall_s;                   /* mean measured seconds a run; seconds in all */
	struct advise_pick pick;
};

int  advise_parse(struct advise_opts *o, int argc, char **argv);
void advise_candidates(struct advise *a);
void advise_add(struct advise *a, const char *name);
int  advise_execute(struct advise *a);
int  advise_measure(struct advise *a);
int  advise_decide(struct advise *a);
void advise_compare(const struct advise_cand *a, const struct advise_cand *b, struct advise_pair *p);
void advise_print_text(const struct advise *a);
int  advise_print_json(const struct advise *a);
const char *advise_fmt_ns(char *buf, size_t len, double ns);
void advise_caps_text(unsigned caps, char *out, size_t cap);
int  advise_need_parse(const char *list, unsigned *need);

#endif
