/* test_sysv.c -- the sysv backend's cleanup story: who removes the set, and what a killed creator
 * leaves for `mmshare list --stale` to find and remove. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/sem.h>

#include "common.h"
#include "sysv.h"

#define SETS_MAX 4096

/* The sysv set that process creator made, if there is one: 1 and *out, else 0. */
static int set_of(pid_t creator, struct mms_sysv_set *out)
{
	static struct mms_sysv_set sets[SETS_MAX];
	size_t n, k;

	cr_assert_eq(mms_sysv_sets(sets, SETS_MAX, &n), 0, "cannot list: %s", strerror(errno));
	cr_assert_leq(n, SETS_MAX, "more sets than this test looks at");
	for (k = 0; k < n; k++)
		if (sets[k].creator == creator) {
			*out = sets[k];
			return 1;
		}
	return 0;
}

/* Whether set id exists at all (for anyone), whatever its tag says. */
static int set_exists(int id)
{
	struct semid_ds ds;

	if (semctl(id, 0, IPC_STAT, &ds) == 0)
		return 1;
	cr_assert(errno == EINVAL || errno == EIDRM, "IPC_STAT of %d: %s", id, strerror(errno));
	return 0;
}

/* What `mmshare list` with args printed; its exit status in *status. */
static void tool_list(const char *args, char *out, size_t cap, int *status)
{
	const char *build = getenv("MMS_BUILD");
	char cmd[512];
	size_t n;
	FILE *p;

	snprintf(cmd, sizeof(cmd), "%s/mmshare list %s 2>&1", build ? build : "build", args);
	p = popen(cmd, "r");
	cr_assert_not_null(p);
	n = fread(out, 1, cap - 1, p);
	out[n] = '\0';
	*status = pclose(p);
	cr_assert(WIFEXITED(*status), "%s: did not exit", cmd);
	*status = WEXITSTATUS(*status);
}

/* Whether the tool's output has the line of set id, with what follows "gone" in it. */
static int says(const char *out, int id, const char *verdict)
{
	char line[160];

	snprintf(line, sizeof(line), "sysv set %d: ", id);
	out = strstr(out, line);
	if (!out)
		return 0;
	return strstr(out, verdict) && strstr(out, verdict) < strchr(out, '\n');
}

/* A creator that reports its area made, then waits for its end on a pipe nobody writes. */
static pid_t creator_fork(int *hold)
{
	int ready[2], wait_end[2], err;
	struct mms *m;
	char c;
	pid_t pid;

	cr_assert_eq(pipe(ready), 0);
	cr_assert_eq(pipe(wait_end), 0);
	pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		close(ready[0]);
		close(wait_end[1]);
		err = mms_new(&m, "sysv", 64);
		send_ints(ready[1], &err, 1);
		while (read(wait_end[0], &c, 1) < 0 && errno == EINTR)
			;
		_exit(0);
	}
	close(ready[1]);
	close(wait_end[0]);
	cr_assert_eq(recv_ints(ready[0], &err, 1), 0, "the creator died before reporting");
	cr_assert_eq(err, 0, "mms_new in the creator: %s", mms_strerror(err));
	close(ready[0]);
	*hold = wait_end[1];
	return pid;
}

Test(sysv, killed_creator_leaves_a_stale_set, .timeout = 60)
{
	struct mms_sysv_set set;
	char out[16384];
	int hold, status;
	pid_t pid;

	hang_guard(60);
	pid = creator_fork(&hold);
	cr_assert(set_of(pid, &set), "no tagged set names creator %d", (int)pid);
	cr_assert_eq(set.state, MMS_SYSV_LIVE, "a live creator's set is listed as state %d", set.state);

	/* A live creator's set is never stale: neither listed nor removed. */
	tool_list("--stale --remove", out, sizeof(out), &status);
	cr_assert_eq(status, 0, "%s", out);
	cr_assert(!says(out, set.id, ""), "a live creator's set was listed:\n%s", out);
	cr_assert_eq(mms_sysv_remove_stale(set.id), MMS_EINVAL);
	cr_assert(set_exists(set.id), "a live creator's set was removed");

	cr_assert_eq(kill(pid, SIGKILL), 0);
	cr_assert_eq(child_status(pid), 128 + SIGKILL);
	close(hold);

	/* The kernel keeps the set: the leak is real, and now stale. */
	cr_assert(set_exists(set.id), "the set went with its creator: nothing to clean");
	cr_assert(set_of(pid, &set));
	cr_assert_eq(set.state, MMS_SYSV_GONE, "a dead creator's set is state %d", set.state);
	tool_list("--stale", out, sizeof(out), &status);
	cr_assert_eq(status, 0, "%s", out);
	cr_assert(says(out, set.id, "which is gone\n"), "--stale missed set %d:\n%s", set.id, out);
	cr_assert(set_exists(set.id), "--stale without --remove removed it");

	tool_list("--stale --remove", out, sizeof(out), &status);
	cr_assert_eq(status, 0, "%s", out);
	cr_assert(says(out, set.id, "; removed"), "--remove did not say it removed %d:\n%s", set.id,
		  out);
	cr_assert(!set_exists(set.id), "--remove left set %d", set.id);
	cr_assert(!set_of(pid, &set));
}

static int child_frees(struct mms *m, int out)
{
	(void)out;
	mms_free(m);
	return 0;
}

Test(sysv, only_the_creator_removes, .timeout = 60)
{
	struct mms_sysv_set set;
	char got[16];
	size_t len;
	struct mms *m;
	int report;

	hang_guard(60);
	m = area_with("sysv", "kept");
	cr_assert(set_of(getpid(), &set), "no tagged set names this process");
	cr_assert_eq(child_status(fork_reporter(m, child_frees, &report)), 0);
	close(report);

	cr_assert(set_exists(set.id), "a forked child's mms_free removed its parent's set");
	cr_assert_eq(mms_set(m, "still", 5), 0);
	cr_assert_eq(mms_get(m, got, sizeof(got), &len), 0);
	cr_assert_eq(len, 5);
	mms_free(m);
	cr_assert(!set_exists(set.id), "the creator's mms_free left its set");
}

/* The child waits until its parent has freed the area, then uses its own handle. */
static int child_after_removal(struct mms *m, int out)
{
	char got[16];
	size_t len;
	int err[2];

	(void)out;
	err[0] = mms_get(m, got, sizeof(got), &len);
	err[1] = errno;
	return err[0] == MMS_ESYS && err[1] == EIDRM ? 0 : 1;
}

Test(sysv, removed_set_is_eidrm, .timeout = 60)
{
	int go[2], status;
	struct mms *m;
	char c = 0;
	pid_t pid;

	hang_guard(60);
	m = area_with("sysv", "value");
	cr_assert_eq(pipe(go), 0);
	pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		close(go[1]);
		_exit(read(go[0], &c, 1) == 1 ? child_after_removal(m, -1) : 2);
	}
	close(go[0]);
	mms_free(m);
	cr_assert_eq(write(go[1], &c, 1), 1);
	close(go[1]);
	status = child_status(pid);
	cr_assert_eq(status, 0, "the child's get after removal was not MMS_ESYS/EIDRM (status %d)",
		     status);
}
