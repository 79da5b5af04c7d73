/* cli.c -- option helpers shared by the tool's commands. */
#include <string.h>

#include "cli.h"

int cli_no_options(int argc, char **argv, const char *usage)
{
	if (argc < 2)
		return 0;
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		fputs(usage, stdout);
		return 1;
	}
	fprintf(stderr, "mmshare %s: unexpected argument '%s'\n%s", argv[0], argv[1], usage);
	return -1;
}
