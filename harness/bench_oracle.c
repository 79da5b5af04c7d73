/* bench_oracle.c -- after a run: is the register's history linearizable, did any RMW lose an update. */
#include <stdlib.h>
#include <string.h>

#include "bench_run.h"

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return (x > y) - (x < y);
}

/*
 * Lost updates: two completed lock/get/set/unlock operations that read the same value. Values are
 * unique, so under a working lock each value is read by at most one of them before being replaced.
 */
static uint64_t lost_updates(struct hist_op *const *bufs, const uint64_t *counts, unsigned nbufs)
{
	uint64_t total = 0, *reads, n = 0, lost = 0, k;
	unsigned b;

	for (b = 0; b < nbufs; b++)
		total += counts[b];
	reads = malloc(sizeof(*reads) * (total + 1));
	if (!reads)
		return 0;
	for (b = 0; b < nbufs; b++)
		for (k = 0; k + 1 < counts[b]; k++) {
			const struct hist_op *rd = &bufs[b][k], *wr = &bufs[b][k + 1];

			if (!(rd->worker & RMW_MARK) || rd->kind != HIST_READ || rd->cut ||
			    !(wr->worker & RMW_MARK) || wr->kind != HIST_WRITE || wr->cut ||
			    wr->resp == UINT64_MAX)
				continue;
			reads[n++] = rd->value;
		}
	qsort(reads, n, sizeof(*reads), cmp_u64);
	for (k = 1; k < n; k++)
		lost += reads[k] == reads[k - 1];
	free(reads);
	return lost;
}

/* Check everything the workers recorded; fills checked, violations, lost_updates, history_ops. */
int bench_oracle(struct bench_result *r, const struct hist_op *initial, struct hist_op *const *bufs,
		 const uint64_t *counts, unsigned nbufs)
{
	struct hist_result res;
	struct hist_op *all;
	uint64_t total = 1, at = 0;
	unsigned b;
	int verdict;

	for (b = 0; b < nbufs; b++)
		total += counts[b];
	all = malloc(sizeof(*all) * total);
	if (!all)
		return -1;
	all[at++] = *initial;
	for (b = 0; b < nbufs; b++) {
		memcpy(all + at, bufs[b], sizeof(*all) * counts[b]);
		at += counts[b];
	}
	for (at = 0; at < total; at++)
		all[at].worker &= ~RMW_MARK;
	verdict = hist_check(all, total, &res);
	r->checked = 1;
	r->history_ops = total;
	r->violations = verdict < 0 ? 1 : res.violations;
	if (res.violations || verdict < 0)
		r->first_violation = res.first[0];
	r->lost_updates = lost_updates(bufs, counts, nbufs);
	free(all);
	return 0;
}
