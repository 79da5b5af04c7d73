/* bench_faults.c -- what a run does to the backend besides kills: stalls, an outside fault. */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>

#include "mmshare.h"
#include "bench.h"
#include "bench_run.h"
#include "history.h"

int bench_stop(pid_t pid)
{
	siginfo_t si;

	if (kill(pid, SIGSTOP))
		return -1;
	/* WNOWAIT: a worker that ended meanwhile stays for the runner to reap */
	memset(&si, 0, sizeof(si));
	if (waitid(P_PID, (id_t)pid, &si, WSTOPPED | WEXITED | WNOWAIT))
		return -1;
	return si.si_code == CLD_STOPPED ? 0 : -1;
}

void bench_resume(pid_t pid, double seconds)
{
	struct timespec ts = { (time_t)seconds, (long)((seconds - (double)(time_t)seconds) * 1e9) };

	while (nanosleep(&ts, &ts))
		;
	kill(pid, SIGCONT);
}

int bench_fault_run(const char *cmd, double *ms)
{
	uint64_t t0 = bench_now_ns();
	int st = system(cmd);

	*ms = (double)(bench_now_ns() - t0) / 1e6;
	if (st == -1 || !WIFEXITED(st))
		return -1;
	return WEXITSTATUS(st);
}

double bench_longest_gap_ms(const struct hist_op *ops, uint64_t n)
{
	uint64_t k, last = 0, gap = 0, resp;

	for (k = 0; k < n; k++) {
		resp = __atomic_load_n(&ops[k].resp, __ATOMIC_ACQUIRE);
		if (ops[k].cut || resp == UINT64_MAX || ops[k].inv == 0)
			continue;
		if (last && resp > last && resp - last > gap)
			gap = resp - last;
		last = resp;
	}
	return (double)gap / 1e6;
}

/* Errors other than the ones in allowed (a mask of 1 << -code). */
static uint64_t errors_besides(const struct bench_result *r, unsigned allowed)
{
	uint64_t other = 0;
	unsigned k;

	for (k = 0; k < BENCH_NERR; k++)
		if (!(allowed & (1u << k)))
			other += r->errors[k];
	return other;
}

int bench_fault_excused(const struct bench_result *r)
{
	unsigned fenced = 1u << -MMS_EFENCED;

	if (r->fault_status == 0 && r->ops_after_fault > 0 &&
	    !errors_besides(r, fenced | 1u << -MMS_ESYS | 1u << -MMS_ETIMEDOUT))
		return 1;
	return r->stalls_in_lock && (r->caps & MMS_CAP_LEASE) && !errors_besides(r, fenced);
}
