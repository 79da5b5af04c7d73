/* fork.c -- cases: a child forked while its parent holds the lock does not own it. */
#include "cases.h"

/* What the child reports, in order. */
enum { R_UNLOCK, R_LOCK, R_GET, R_SAW_AFTER, R_UNLOCK2, R_INTS };

/*
 * The child: its unlock must be refused; then, told to go, it locks (waiting for the parent),
 * reads and unlocks, and reports all of it.
 */
static void __attribute__((noreturn)) not_owner_child(struct mms *m, int tried, int go, int out)
{
	int r[R_INTS] = { 0 }, g;
	char buf[16];
	size_t len = 0;

	r[R_UNLOCK] = mms_unlock(m);
	if (case_send(tried, r, 1) || case_recv(go, &g, 1))
		_exit(2);
	r[R_LOCK] = mms_lock(m);
	if (!r[R_LOCK]) {
		r[R_GET] = mms_get(m, buf, sizeof(buf), &len);
		r[R_SAW_AFTER] = !r[R_GET] && len == 5 && !memcmp(buf, "after", 5);
		r[R_UNLOCK2] = mms_unlock(m);
	}
	_exit(case_send(out, r, R_INTS) ? 3 : 0);
}

static int child_not_owner(struct conform_ctx *c)
{
	int tried[2], go[2], out[2], r[R_INTS], g = 1;
	struct mms *m;
	pid_t pid;

	CHECK_OK(c, mms_new(&m, c->backend, 16));
	CHECK_OK(c, mms_set(m, "before", 6));
	CHECK_OK(c, mms_lock(m));
	CHECK(c, !pipe(tried) && !pipe(go) && !pipe(out), "pipe failed");
	pid = fork();
	CHECK(c, pid >= 0, "fork failed");
	if (pid == 0)
		not_owner_child(m, tried[1], go[0], out[1]);
	close(out[1]);
	CHECK(c, !case_recv(tried[0], r, 1), "the child died before it tried its unlock");
	CHECK(c, r[0] == MMS_ELOCKED, "a child's unlock of its parent's lock said %s, "
	      "want MMS_ELOCKED", conform_code(r[0]));
	CHECK(c, !case_send(go[1], &g, 1), "the child is gone");
	CHECK_OK(c, mms_set(m, "after", 5));
	CHECK_OK(c, mms_unlock(m));
	CHECK(c, !case_recv(out[0], r, R_INTS), "the child died without reporting (status %d)",
	      case_wait(pid));
	CHECK(c, case_wait(pid) == 0, "the child failed");
	CHECK(c, r[R_LOCK] == 0, "the child's lock said %s", conform_code(r[R_LOCK]));
	CHECK(c, r[R_GET] == 0, "the child's get said %s", conform_code(r[R_GET]));
	CHECK(c, r[R_SAW_AFTER], "the child's lock did not wait for the parent's unlock: it "
	      "did not read the parent's last set");
	CHECK(c, r[R_UNLOCK2] == 0, "the child's unlock said %s", conform_code(r[R_UNLOCK2]));
	mms_free(m);
	return CONFORM_PASS;
}

CONFORM_CASE(fork_child_not_owner,
	.name = "fork.child_not_owner",
	.summary = "a child forked under the parent's lock: its unlock is MMS_ELOCKED, its lock waits",
	.run = child_not_owner,
	.timeout_s = 30);
