/* torn.c -- cases: concurrent writers and readers: every value read is one that was set, whole. */
#include "cases.h"

#define TORN_SIZE 4096
#define TORN_OPS 4000
#define TORN_WRITERS 2
#define TORN_READERS 2

/* A worker's report: what went wrong first, if anything. */
struct torn_report {
	int writer;             /* 1 for a writer */
	int err;                /* the first call that failed, or 0 */
	uint64_t op;            /* at which operation */
	uint64_t torn;          /* gets that returned a value that is not whole */
	size_t torn_len;        /* the length of the first of them */
};

/* Writers store whole values of varying length; readers check every value they get is whole. */
static void __attribute__((noreturn)) torn_worker(struct mms *m, int writer, uint64_t base,
						  int gate[2], int out)
{
	struct torn_report rep = { .writer = writer };
	unsigned char buf[TORN_SIZE];
	size_t len;
	uint64_t k;
	int err;

	case_gate_wait(gate);
	for (k = 1; k <= TORN_OPS && !rep.err && !rep.torn; k++) {
		rep.op = k;
		if (writer) {
			len = 8 + (k * 97) % (TORN_SIZE - 8);
			case_value_fill(buf, len, base + k);
			rep.err = mms_set(m, buf, len);
			continue;
		}
		err = mms_get(m, buf, sizeof(buf), &len);
		if (err == MMS_EEMPTY)
			continue;
		rep.err = err;
		if (!err && !case_value_id(buf, len)) {
			rep.torn++;
			rep.torn_len = len;
		}
	}
	_exit(write(out, &rep, sizeof(rep)) == (ssize_t)sizeof(rep) ? 0 : 1);
}

static int no_torn_values(struct conform_ctx *c)
{
	pid_t pids[TORN_WRITERS + TORN_READERS];
	struct torn_report rep;
	struct mms *m;
	int p[2], gate[2], k;

	CHECK(c, !pipe(p) && !pipe(gate), "pipe failed");
	CHECK_OK(c, mms_new(&m, c->backend, TORN_SIZE));
	for (k = 0; k < TORN_WRITERS + TORN_READERS; k++) {
		pids[k] = fork();
		CHECK(c, pids[k] >= 0, "fork failed");
		if (pids[k] == 0)
			torn_worker(m, k < TORN_WRITERS, (uint64_t)(k + 1) << 32, gate, p[1]);
	}
	close(p[1]);
	case_gate_open(gate);
	for (k = 0; k < TORN_WRITERS + TORN_READERS; k++) {
		CHECK(c, read(p[0], &rep, sizeof(rep)) == (ssize_t)sizeof(rep),
		      "a worker died without reporting");
		CHECK(c, rep.err == 0, "a %s's %s said %s at operation %llu",
		      rep.writer ? "writer" : "reader", rep.writer ? "set" : "get",
		      conform_code(rep.err), (unsigned long long)rep.op);
		CHECK(c, rep.torn == 0, "a reader got a torn value of %zu bytes at operation %llu",
		      rep.torn_len, (unsigned long long)rep.op);
	}
	for (k = 0; k < TORN_WRITERS + TORN_READERS; k++)
		CHECK(c, case_wait(pids[k]) == 0, "a worker failed");
	mms_free(m);
	return CONFORM_PASS;
}

CONFORM_CASE(torn_no_torn_values,
	.name = "torn.no_torn_values",
	.summary = "2 writers of 8 B-4 KiB values and 2 readers, 4,000 ops each: every get whole",
	.run = no_torn_values,
	.timeout_s = 60);
