/* demo.c -- `mmshare demo`: the contract in action on every backend, in a few lines of output. */
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "mmshare.h"
#include "cli.h"
#include "commands.h"

#define DEMO_WORKERS 4
#define DEMO_INCREMENTS 5000

static const char demo_usage[] =
	"usage: mmshare demo\n"
	"For each backend: 4 forked workers add 1 to a shared counter 5000 times each with\n"
	"lock/get/set/unlock while a fifth process dies holding the lock; the total must be exact.\n";

static int increment(struct mms *m)
{
	uint64_t v = 0;
	size_t len;
	int err = mms_lock(m);

	if (err)
		return err;
	err = mms_get(m, &v, sizeof(v), &len);
	if (!err)
		v++;
	if (!err)
		err = mms_set(m, &v, sizeof(v));
	mms_unlock(m);
	return err;
}

static void worker(struct mms *m)
{
	int i, err;

	for (i = 0; i < DEMO_INCREMENTS; i++) {
		err = increment(m);
		if (err) {
			fprintf(stderr, "worker %d: %s\n", (int)getpid(), mms_strerror(err));
			_exit(1);
		}
	}
	_exit(0);
}

/* A process that takes the lock and is killed before it unlocks. */
static int kill_a_holder(struct mms *m)
{
	int ready[2], status;
	char c;
	pid_t pid;

	if (pipe(ready) < 0)
		return -1;
	pid = fork();
	if (pid == 0) {
		mms_lock(m);
		(void)!write(ready[1], "x", 1);
		pause();
		_exit(0);
	}
	(void)!read(ready[0], &c, 1);
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	close(ready[0]);
	close(ready[1]);
	return 0;
}

static int demo_backend(const char *name)
{
	uint64_t zero = 0, total = 0;
	struct mms *m;
	size_t len;
	int i, failed = 0, status, err = mms_new(&m, name, sizeof(uint64_t));

	if (err) {
		printf("%-8s  cannot create: %s\n", name, mms_strerror(err));
		return 1;
	}
	mms_set(m, &zero, sizeof(zero));
	kill_a_holder(m);
	for (i = 0; i < DEMO_WORKERS; i++)
		if (fork() == 0)
			worker(m);
	for (i = 0; i < DEMO_WORKERS; i++)
		if (wait(&status) < 0 || !WIFEXITED(status) || WEXITSTATUS(status))
			failed++;
	err = mms_get(m, &total, sizeof(total), &len);
	printf("%-8s  counter %" PRIu64 " of %d, a holder killed with SIGKILL, %d worker(s) failed: %s\n",
	       name, total, DEMO_WORKERS * DEMO_INCREMENTS, failed,
	       !err && !failed && total == DEMO_WORKERS * DEMO_INCREMENTS ? "ok" : "WRONG");
	mms_free(m);
	return err || failed || total != DEMO_WORKERS * DEMO_INCREMENTS;
}

static int demo_run(int argc, char **argv)
{
	const char *const *name;
	int r = cli_no_options(argc, argv, demo_usage), bad = 0;

	if (r)
		return r > 0 ? MMS_EXIT_OK : MMS_EXIT_USAGE;
	for (name = cli_backends_here("demo"); *name; name++)
		bad += demo_backend(*name);
	return bad ? MMS_EXIT_FAIL : MMS_EXIT_OK;
}

const struct mms_command mms_cmd_demo = {
	.name = "demo",
	.summary = "show the contract: exact counters while a lock holder is killed",
	.run = demo_run,
};
