/* compare.h -- `mmshare compare`: scenarios, changes, noise, rows; how its four files meet. */
#ifndef MMS_COMPARE_H
#define MMS_COMPARE_H

#include <stddef.h>

#include "stats.h"

#define CMP_CONFIDENCE   0.99   /* of the interval on a change */
#define CMP_MAX_INPUT    (256u << 20)   /* bytes of one result file */
#define CMP_MIN_POOL     8      /* scenarios needed to estimate the noise between runs */
#define CMP_MIN_GROUP    3      /* scenarios of a backend for a row of its own */
#define CMP_TAIL_DF      4      /* one scenario's change between runs: heavy tails, t with 4 df */

enum cmp_kind { KIND_NONE, KIND_BENCH, KIND_HYPERFINE };

enum verdict { V_OK, V_FASTER, V_NOISE, V_REGRESSION, V_MISSING_BASE, V_MISSING_NEW };

/* A scenario and its samples: [0] from the base file, [1] from the new one. */
struct scenario {
	char *key;              /* identity, to match the two files */
	char *label;            /* for the table */
	char *backend;          /* for the final line */
	unsigned long long stratum;     /* scenarios alike in noise: the bench's procs */
	struct samples s[2];    /* the metric */
	struct samples insn[2]; /* instructions per operation, where reported */
};

/* The comparison of one metric of one scenario, or of a group of scenarios. */
struct change {
	double mean[2], rsd[2]; /* mean, relative sample standard deviation */
	size_t n[2];            /* runs a side; scenarios, for a group */
	double c, lo, hi;       /* new/base - 1 and its interval */
	double l, var, df;      /* log change, its variance and degrees of freedom, when scored */
	double wvar, wdf;       /* the part of var its own repeats see, and its degrees of freedom */
	double bvar, bdf;       /* the part they do not see, estimated over the scenarios */
	int scored;             /* has a log change with an interval */
	const char *how;        /* how the interval was had, when not from both sides' repeats */
	enum verdict v;         /* what the interval (or the point) says */
};

/* The noise of a log change between two runs, estimated over scenarios. */
struct noise {
	int have;               /* enough scenarios to say */
	double total;           /* variance of a log change */
	double between;         /* the part that the repeats of a run do not see */
	double df;              /* degrees of freedom of the estimate */
};

/* A whole comparison: the options, both files' scenarios, and the tallies of the verdicts. */
struct cmp {
	enum cmp_kind kind;                     /* of both files */
	double threshold, insn_threshold;       /* fractions */
	const char *markdown;                   /* --markdown FILE, or NULL */
	int quiet;                              /* --quiet */
	const char *path[2];                    /* the base and the new file */
	struct scenario *sc;                    /* in order of appearance, base file first */
	size_t n, cap;                          /* scenarios; room for how many */
	const char **backends;                  /* each once, in order of appearance */
	size_t nbackends, ngroups;              /* groups: backends with CMP_MIN_GROUP scored, and all */
	size_t nscored;                         /* scenarios with a log change */
	double alpha, group_alpha;              /* per interval: half of 1% over the scenarios, half
						   over the groups (Bonferroni) */
	struct noise all, *noise;               /* between runs: over all scenarios, for each */
	size_t counts[6];                       /* scenarios by the verdict of their main metric */
	size_t insn_regressions, group_regressions;     /* rows beyond the scenarios' main metric */
};

/* A line of the table: a scenario's metric or insn_per_op, or a group of scenarios. */
struct row {
	const char *label;      /* the scenario's, own for a group, or the header's */
	const char *metric;     /* "ops/s", "time" or "insn/op"; NULL: the header */
	const char *backend;    /* for the final line; NULL: all backends */
	char own[64];           /* the label of a group */
	char base[80], new[80]; /* each side's mean and spread */
	char chg[24], ci[48];   /* the change and its interval */
	enum verdict v;
};

/* compare_load.c: reading the two files. */
int compare_load_side(struct cmp *c, int side);         /* 0, or -1 with the reason said */
void cmp_free(struct cmp *c);

/* compare_noise.c: the noise between the runs and the intervals on the changes. */
int compare_count_intervals(struct cmp *c);             /* 0, or -1 out of memory */
void compare_estimate_between(struct cmp *c);
void compare_metric(const struct cmp *c, size_t k, struct change *ch);
/* 1 when the backend (all, for NULL) has CMP_MIN_GROUP scored scenarios, a row of its own */
int compare_group(const struct cmp *c, const struct change *chs, const char *backend,
		  struct change *g);
/* 1 where both files have insn_per_op */
int compare_insn(const struct cmp *c, const struct scenario *s, struct change *ch);

/* compare_render.c: the table, the markdown file and the verdict; returns the exit status. */
int compare_report(struct cmp *c);

#endif
