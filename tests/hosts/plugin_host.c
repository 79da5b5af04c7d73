/* plugin_host.c -- an application built against the installed libmmshare.so with pkg-config that
 * loads a plug-in by path: argv[1] is the plug-in. Exit 0 when set, get and a locked counter
 * across forked processes all work through it; otherwise the step that failed. */
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <mmshare.h>

#define PROCS 3
#define INCREMENTS 500

static int count_up(struct mms *m)
{
	unsigned long v;
	size_t len;
	int k;

	for (k = 0; k < INCREMENTS; k++) {
		if (mms_lock(m) || mms_get(m, &v, sizeof(v), &len))
			return 1;
		v++;
		if (mms_set(m, &v, sizeof(v)) || mms_unlock(m))
			return 1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	unsigned long v = 0;
	struct mms *m;
	size_t len;
	int p, st, failed = 0;

	if (argc != 2 || mms_new(&m, argv[1], sizeof(v))) {
		fprintf(stderr, "plugin_host: cannot open a handle on %s\n", argc > 1 ? argv[1] : "?");
		return 2;
	}
	if (mms_set(m, &v, sizeof(v)))
		return 3;
	for (p = 0; p < PROCS; p++)
		if (fork() == 0)
			_exit(count_up(m));
	for (p = 0; p < PROCS; p++)
		failed |= wait(&st) < 0 || !WIFEXITED(st) || WEXITSTATUS(st);
	if (failed)
		return 4;
	if (mms_get(m, &v, sizeof(v), &len) || v != PROCS * INCREMENTS)
		return 5;
	printf("%s: counter %lu of %d\n", mms_backend(m), v, PROCS * INCREMENTS);
	mms_free(m);
	return 0;
}
