/* bench.h -- `mmshare bench`: options, the grid's points, and what a run of one point measured. */
#ifndef MMS_BENCH_H
#define MMS_BENCH_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <stdio.h>

#include "history.h"
#include "latency.h"

#define BENCH_MAX_LIST   32     /* values in one comma-separated option */
#define BENCH_NERR       16     /* error codes counted, by -code */
#define BENCH_MIN_CHECK_SIZE 16
#define BENCH_ERR_INDEX(err) ((err) < 0 && -(err) < BENCH_NERR ? -(err) : 0) /* --check values carry an 8-byte id and an 8-byte check */

enum bench_mode { BENCH_RAW, BENCH_TPL };

/* The command line, with every list expanded. */
struct bench_opts {
	const char *backends[BENCH_MAX_LIST];   /* library backends, then baselines */
	size_t nbackends;
	unsigned procs[BENCH_MAX_LIST];
	size_t nprocs;
	unsigned write_ratio[BENCH_MAX_LIST];   /* percent of operations that are set */
	size_t nwrite;
	size_t sizes[BENCH_MAX_LIST];           /* value bytes */
	size_t nsizes;
	enum bench_mode modes[2];
	size_t nmodes;
	unsigned rmw;                           /* percent of operations that are lock/get/set/unlock */
	double duration;                        /* seconds per point, when ops == 0 */
	double max_duration;                    /* adaptive timing runs: seconds at most, or 0 */
	double ci_target;                       /* adaptive runs end at this relative half width */
	uint64_t ops;                           /* operations per worker, or 0 for --duration */
	double warmup;                          /* seconds before counting starts */
	unsigned repeat;                        /* runs of every point */
	int pin;                                /* pin worker i to CPU i % ncpu */
	uint64_t seed;
	int check;                              /* record every operation and check the history */
	unsigned kill;                          /* workers to SIGKILL during each run */
	unsigned stall;                         /* holders to SIGSTOP, then SIGCONT, during each run */
	double stall_s;                         /* how long each stays stopped */
	const char *fault;                      /* a shell command run halfway through each run */
	unsigned sample_every;                  /* time one operation in this many (no --check) */
	double timeout;                         /* watchdog: seconds a run may take beyond its plan */
	int baseline;                           /* add the bare reference loops */
	const char *json;
	const char *csv;
	int quiet;
	char command[1024];                     /* the command line, for the report */
};

/* One point of the grid. */
struct bench_point {
	const char *backend;    /* a library backend, or a bare-* baseline */
	enum bench_mode mode;
	unsigned procs;
	unsigned write_ratio;
	unsigned rmw;
	size_t size;
	unsigned repeat;        /* which repeat of the point this is */
	unsigned seq, of;       /* run seq of `of` in the sweep, for the progress line */
};

/* What one run of one point measured. */
struct bench_result {
	struct bench_point pt;
	int baseline;                   /* a bare reference loop, not a library backend */
	int unsafe;                     /* a negative control */
	unsigned caps;                  /* the backend's MMS_CAP_* bits (0 for a bare loop) */
	int hung;                       /* the watchdog ended the run */
	double duration_s;              /* measured window: first start to last stop */
	uint64_t ops, gets, sets, rmws;
	double ops_per_sec;
	uint64_t per_worker_ops[BENCH_MAX_LIST * 8];    /* by worker position (replacements add up) */
	double per_worker_rate[BENCH_MAX_LIST * 8];
	unsigned nworkers;
	double fairness_jain, fairness_minmax;
	struct latency_summary get_lat, set_lat;
	double overlap;                 /* fraction of the window with every worker running */
	uint64_t lock_contended, retries, repairs;
	int contended;                  /* overlap and real evidence of contention */
	uint64_t errors[BENCH_NERR];    /* by -code; index 0 counts codes outside 1..BENCH_NERR-1 */
	uint64_t errors_total;
	int checked;
	uint64_t torn, violations, lost_updates, history_ops, truncated;
	struct hist_violation first_violation;
	unsigned kills, kills_in_lock, kills_in_set;
	unsigned kills_in_call;         /* kills of a worker inside get, set or a lock: a holder, maybe */
	unsigned stalls, stalls_in_lock;/* workers stopped for --stall-time, and of them lock holders */
	int fault_status;               /* --fault: the command's exit status (-1 not run) */
	double fault_ms;                /* how long the command ran */
	uint64_t ops_after_fault;       /* operations the workers completed after it */
	double gap_ms_max;              /* checked runs: the longest a worker went between two
					 * completed calls (an outage's stall, a recovery) */
	double recovery_ms_max, recovery_ms_mean;
	double timestamp_overhead_ns;   /* per operation, amortised over the sampling */
	int timing;                     /* an unchecked run: its figures measure the backend */
	const char *timing_note;        /* why a run is not a timing run, or NULL */
	double ci95_low, ci95_high;     /* 95% interval of ops_per_sec, from its intervals */
	unsigned intervals;             /* throughput samples the interval rests on */
	int steady;                     /* the interval reached --ci (adaptive runs) */
	double harness_ns_per_op;       /* the timing loop's own cost, on the null target */
	double standalone_ops_per_sec;  /* the same get in a loop with no harness (1 proc, 0% writes) */
	double vs_standalone;           /* the timing loop over that loop, alternating, in one process */
};

/* Machine facts for the report. */
struct bench_machine {
	long cpus;
	char kernel[128], compiler[128], cpu_model[128], date[32];
};

int  bench_parse(struct bench_opts *o, int argc, char **argv);
int  bench_oracle(struct bench_result *r, const struct hist_op *initial, struct hist_op *const *bufs,
		  const uint64_t *counts, unsigned nbufs);
int  bench_run_point(const struct bench_opts *o, const struct bench_point *pt, struct bench_result *r);

/*
 * Whether a run's only errors are MMS_EDEAD after a kill inside a call (where a worker may hold
 * the lock) on a backend without MMS_CAP_CRASH_SAFE: its declared answer to a holder killed
 * while holding, not a failure. A kill between calls never excuses one.
 */
int  bench_declared_dead(const struct bench_result *r);

/*
 * Whether a run's errors are all the declared answers to what the run did to it: MMS_EFENCED
 * after --stall stopped a lock holder on a backend with MMS_CAP_LEASE (its lease ran out), and
 * MMS_ESYS, MMS_EFENCED or MMS_ETIMEDOUT after a --fault whose command succeeded, when calls
 * completed again after it (the backend came back). Torn values, violations and lost updates
 * are never excused.
 */
int  bench_fault_excused(const struct bench_result *r);
/* The longest time between two completed operations of one worker's history, ms. */
double bench_longest_gap_ms(const struct hist_op *ops, uint64_t n);
/* SIGSTOP pid and wait until it is stopped: 0, or -1 when it ended first. */
int  bench_stop(pid_t pid);
/* After seconds, SIGCONT pid. */
void bench_resume(pid_t pid, double seconds);
/* Run cmd with sh -c; its exit status (-1 when it could not run) and its wall time in *ms. */
int  bench_fault_run(const char *cmd, double *ms);
void bench_machine_read(struct bench_machine *m);
void bench_table_header(FILE *out);
void bench_table_row(FILE *out, const struct bench_result *rs, size_t n);
int  bench_write_json(const char *path, const struct bench_opts *o, const struct bench_machine *mach,
		      const struct bench_result *rs, size_t n);
int  bench_write_csv(const char *path, const struct bench_result *rs, size_t n);

#endif
