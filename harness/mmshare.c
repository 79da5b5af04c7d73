/* mmshare.c -- the mmshare tool: finds the subcommand and runs it. */
#include <stdio.h>
#include <string.h>

#include "commands.h"

static const struct mms_command *const commands[] = {
	&mms_cmd_list,
	&mms_cmd_demo,
	&mms_cmd_bench,
	&mms_cmd_compare,
	&mms_cmd_speed,
	&mms_cmd_conform,
	&mms_cmd_advise,
	&mms_cmd_syscalls,
	NULL,
};

static void usage(FILE *out)
{
	const struct mms_command *const *c;

	fprintf(out, "usage: mmshare COMMAND [OPTIONS]\n\n"
		"Share one value among forked processes (set/get/lock), and measure how.\n\n"
		"commands:\n");
	for (c = commands; *c; c++)
		fprintf(out, "  %-10s %s\n", (*c)->name, (*c)->summary);
	fprintf(out, "\nRun `mmshare COMMAND --help` for a command's options.\n"
		"Exit status: 0 success, 1 a failure was found, 2 bad usage or input.\n");
}

int main(int argc, char **argv)
{
	const struct mms_command *const *c;

	if (argc < 2) {
		usage(stderr);
		return MMS_EXIT_USAGE;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
		usage(stdout);
		return MMS_EXIT_OK;
	}
	for (c = commands; *c; c++)
		if (!strcmp(argv[1], (*c)->name))
			return (*c)->run(argc - 1, argv + 1);
	fprintf(stderr, "mmshare: unknown command '%s' (see `mmshare --help`)\n", argv[1]);
	return MMS_EXIT_USAGE;
}
