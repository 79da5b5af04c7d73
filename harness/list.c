/* list.c -- `mmshare list`: the backends, one a line, with what they offer. */
#include <stdio.h>
#include <string.h>

#include "mmshare.h"
#include "cli.h"
#include "commands.h"

static const char list_usage[] =
	"usage: mmshare list [PLUGIN.so ...]\n"
	"Prints every built-in backend, then each plug-in named (by path): name, capabilities, one-line\n"
	"description; a plug-in that cannot be loaded is an error saying why. Backends marked UNSAFE are\n"
	"negative controls for the benchmark's checker, never part of `all`. crash-safe backends replace\n"
	"a holder killed while holding; the others say MMS_EDEAD (the area is unusable), never hang.\n"
	"hostile-safe backends keep no pointers in shared memory: a peer that writes the area can make\n"
	"calls fail, never crash.\n";

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
	printf("%-8s  %-55s  %s\n", name, caps_buf[0] ? caps_buf : "-", mms_backend_summary(name));
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
	for (k = 1; k < argc; k++)
		if (!strchr(argv[k], '/')) {
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
