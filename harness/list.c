/* list.c -- `mmshare list`: the backends, one a line, with what they offer. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "mmshare.h"
#include "cli.h"
#include "commands.h"
#include "sysv.h"

#define STALE_MAX 1024          /* sets listed or removed per run; run again for more */

static const char list_usage[] =
	"usage: mmshare list [PLUGIN.so ...]\n"
	"       mmshare list --stale [--remove]\n"
	"Prints every built-in backend, then each plug-in named (by path): name, capabilities, one-line\n"
	"description; a plug-in that cannot be loaded is an error saying why. Backends marked UNSAFE are\n"
	"negative controls for the benchmark's checker, never part of `all`. crash-safe backends replace\n"
	"a holder killed while holding; the others say MMS_EDEAD (the area is unusable), never hang.\n"
	"hostile-safe backends keep no pointers in shared memory: a peer that writes the area can make\n"
	"calls fail, never crash. lease backends hold the lock as a lease their process renews: a\n"
	"holder that dies or is stopped past it loses the lock, and its later calls under it say\n"
	"MMS_EFENCED. server backends keep the value in a server their configuration names; `all`\n"
	"leaves one out where its server does not answer.\n"
	"--stale lists the SysV semaphore sets the sysv backend leaked: sets of your uid, tagged by\n"
	"mmshare, whose creating process (of this pid namespace) is gone, as `ipcs -s` shows them; a\n"
	"creator frees its set with its handle, so only one that ended without mms_free leaves any.\n"
	"--remove removes them.\n";

static void caps_text(unsigned caps, char *out, size_t cap)
{
	const char *word;
	unsigned k, bit;
	size_t used = 0;

	out[0] = '\0';
	for (k = 0; (word = cli_cap_word(k, &bit)) && used < cap; k++)
		if (caps & bit)
			used += (size_t)snprintf(out + used, cap - used, "%s ", word);
}

static void list_one(const char *name)
{
	char caps_buf[96];
	unsigned caps = 0;

	mms_backend_caps(name, &caps);
	caps_text(caps, caps_buf, sizeof(caps_buf));
	printf("%-8s  %-66s  %s\n", name, caps_buf[0] ? caps_buf : "-", mms_backend_summary(name));
}

static void stale_line(const struct mms_sysv_set *set, const char *verdict)
{
	char made[32];
	struct tm tm;

	if (!localtime_r(&set->made, &tm) || !strftime(made, sizeof(made), "%Y-%m-%d %H:%M:%S", &tm))
		snprintf(made, sizeof(made), "?");
	printf("sysv set %d: made %s by pid %d, which is gone%s\n", set->id, made, (int)set->creator,
	       verdict);
}

/*
 * Remove one listed set: 1 when removed, 0 when it is no longer stale (removed meanwhile: said,
 * not an error), -1 on failure.
 */
static int stale_remove(const struct mms_sysv_set *set)
{
	int err = mms_sysv_remove_stale(set->id);

	if (err == 0) {
		stale_line(set, "; removed");
		return 1;
	}
	if (err == MMS_EINVAL) {
		stale_line(set, "; no longer stale, left alone");
		return 0;
	}
	fprintf(stderr, "mmshare list: cannot remove sysv set %d: %s (%s)\n", set->id,
		mms_strerror(err), strerror(errno));
	return -1;
}

static int stale_run(int remove)
{
	static struct mms_sysv_set sets[STALE_MAX];
	size_t n, k, stale = 0, removed = 0;
	int failed = 0, r;

	if (mms_sysv_sets(sets, STALE_MAX, &n)) {
		fprintf(stderr, "mmshare list: cannot list SysV semaphore sets: %s\n", strerror(errno));
		return MMS_EXIT_FAIL;
	}
	for (k = 0; k < n && k < STALE_MAX; k++) {
		if (sets[k].state != MMS_SYSV_GONE)
			continue;
		stale++;
		if (!remove) {
			stale_line(&sets[k], "");
			continue;
		}
		r = stale_remove(&sets[k]);
		failed |= r < 0;
		removed += r > 0;
	}
	if (n > STALE_MAX)
		printf("%zu more sets not looked at; run again after removing these\n", n - STALE_MAX);
	if (remove)
		printf("%zu stale sysv set(s), %zu removed\n", stale, removed);
	else
		printf("%zu stale sysv set(s)%s\n", stale,
		       stale ? "; `mmshare list --stale --remove` removes them" : "");
	return failed ? MMS_EXIT_FAIL : MMS_EXIT_OK;
}

static int list_run(int argc, char **argv)
{
	const char *const *name;
	const char *plugin;
	int k, err = 0;

	if (argc > 1 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
		fputs(list_usage, stdout);
		return MMS_EXIT_OK;
	}
	if (argc > 1 && !strcmp(argv[1], "--stale")) {
		if (argc == 2 || (argc == 3 && !strcmp(argv[2], "--remove")))
			return stale_run(argc == 3);
		fprintf(stderr, "mmshare list: --stale takes only --remove, not '%s'\n%s", argv[2],
			list_usage);
		return MMS_EXIT_USAGE;
	}
	for (k = 1; k < argc; k++)
		if (argv[k][0] == '-') {
			fprintf(stderr, "mmshare list: unknown option '%s'\n%s", argv[k], list_usage);
			return MMS_EXIT_USAGE;
		} else if (!strchr(argv[k], '/')) {
			fprintf(stderr, "mmshare list: '%s' is not a plug-in path (e.g. ./libmms-x.so)\n%s",
				argv[k], list_usage);
			return MMS_EXIT_USAGE;
		}
	for (name = mms_backends_all(); *name; name++)
		list_one(*name);
	for (k = 1; k < argc; k++) {
		plugin = cli_backend("list", argv[k]);
		if (plugin)
			list_one(plugin);
		err |= !plugin;
	}
	return err ? MMS_EXIT_USAGE : MMS_EXIT_OK;
}

const struct mms_command mms_cmd_list = {
	.name = "list",
	.summary = "list the backends with their capabilities",
	.run = list_run,
};
